//! Rego sources: loading policy files and the built-in pack, diagnostics in OPA's words,
//! and the checks OPA's compiler makes that regorus does not (strict mode, recursion,
//! conflicts, length limits), and the source rewrites that fix regorus differences. Imports `base` only.

pub mod compat;
pub mod deps;
pub mod diagnostic;
pub mod limits;
pub mod metadata;
pub mod mocks;
pub mod narrow;
pub mod policy;
pub mod rewrite;
pub mod strict;
pub mod template;
pub mod types;
