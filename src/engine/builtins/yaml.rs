//! `yaml.unmarshal` and `yaml.is_valid` with OPA's YAML reading (go-yaml v2's YAML 1.1:
//! `yes`, `on` and `y` are booleans, `0755` is octal, unknown tags are dropped, only the
//! first document counts), the same reader regorun uses for YAML inputs. regorus reads
//! YAML 1.2, so `[x, y]` kept `"y"` where OPA gives `true`.

use super::{string_arg, Fault};
use regorus::Value;

/// `yaml.unmarshal(text)`.
pub fn unmarshal(args: &[Value]) -> Result<Value, Fault> {
    let text = string_arg(args, 1)?;
    crate::parser::yaml_first_document(text).map_err(|e| Fault::Opa(e.to_string()))
}

/// `yaml.is_valid(text)`: false for a value that is not a string.
pub fn is_valid(args: &[Value]) -> Result<Value, Fault> {
    let valid = match &args[0] {
        Value::String(s) => crate::parser::yaml_first_document(s).is_ok(),
        _ => false,
    };
    Ok(Value::from(valid))
}
