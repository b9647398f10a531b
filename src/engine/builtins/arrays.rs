//! OPA's `array.*` built-ins that regorus lacks.

use super::{operand, Fault};
use regorus::Value;

/// A built-in's body.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Name, arity and body of each built-in of this namespace.
pub const ALL: &[(&str, u8, Body)] = &[("array.flatten", 1, flatten)];

/// One level: array elements are spliced in, everything else kept (OPA 1.20).
fn flatten(args: &[Value]) -> Result<Value, Fault> {
    let Value::Array(items) = &args[0] else {
        return Err(Fault::Opa(operand(1, "array[any]", &args[0])));
    };
    let mut out = Vec::new();
    for v in items.iter() {
        match v {
            Value::Array(inner) => out.extend(inner.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    Ok(Value::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_one_level_as_opa() {
        // OPA 1.20: array.flatten([1, [2, [3, [4]]], [], "x"]) == [1, 2, [3, [4]], "x"]
        let v = Value::from_json_str(r#"[1, [2, [3, [4]]], [], "x"]"#).unwrap();
        let want = Value::from_json_str(r#"[1, 2, [3, [4]], "x"]"#).unwrap();
        assert_eq!(flatten(&[v]), Ok(want));
        assert!(flatten(&[Value::from("x")]).is_err());
    }
}
