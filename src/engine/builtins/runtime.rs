//! `opa.runtime()` as conftest gives it: the process environment under `env`, with OPA's
//! `version` and `commit` (regorus's own has no `env`, and names regorus's version).

use super::Fault;
use regorus::Value;
use std::collections::BTreeMap;

/// The OPA version conftest 0.69 is built with, which policies written for it see.
const OPA_VERSION: &str = "1.19.0";

/// `opa.runtime()`: `{"commit": "", "env": {NAME: value}, "version": "1.19.0"}`.
pub fn runtime(_: &[Value]) -> Result<Value, Fault> {
    let env: BTreeMap<Value, Value> = std::env::vars_os()
        .map(|(k, v)| {
            (
                Value::from(k.to_string_lossy().into_owned()),
                Value::from(v.to_string_lossy().into_owned()),
            )
        })
        .collect();
    let mut obj = BTreeMap::new();
    // A conftest build from source has no VCS commit: the empty string.
    obj.insert(Value::from("commit"), Value::from(""));
    obj.insert(Value::from("env"), Value::from(env));
    obj.insert(Value::from("version"), Value::from(OPA_VERSION));
    Ok(Value::from(obj))
}
