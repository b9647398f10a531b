//! Rego source analysis done before evaluation: checks OPA's compiler makes and regorus
//! does not.

pub mod deps;
pub mod limits;
