//! Evaluation-engine pieces shared by every command: panic containment and built-ins.

pub mod guard;
