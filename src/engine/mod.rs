//! Evaluation: the regorus engine and bytecode fast path, conftest's built-ins, `--data`
//! documents, `--trace`, and panic containment. Imports `base`, `parser` and `rego`.

pub mod builtins;
pub mod data;
pub mod eval;
pub mod fast;
pub mod guard;
pub mod trace;
