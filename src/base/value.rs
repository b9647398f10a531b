//! Conversions between JSON documents and regorus values.

use anyhow::{anyhow, Result};
use regorus::Value;

/// A regorus value as JSON (sets become arrays; undefined becomes null).
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Undefined => serde_json::Value::Null,
        other => serde_json::to_value(other).unwrap_or(serde_json::Value::Null),
    }
}

/// A JSON document as a regorus value. The document is consumed as it is converted, so
/// that both copies are never whole in memory at once.
pub fn to_rego(v: serde_json::Value) -> Result<Value> {
    use serde::Deserialize;
    Value::deserialize(v).map_err(|e| anyhow!("converting input: {e}"))
}
