//! `object.*` replacements.

use super::Fault;
use regorus::Value;

/// `object.subset(super, sub)`, as OPA: objects recursively, sets by inclusion, arrays as
/// a contiguous run (the empty array is in every array), a set within an array. regorus
/// 0.14 panics on an empty sub-array.
pub fn subset(args: &[Value]) -> Result<Value, Fault> {
    match (&args[0], &args[1]) {
        (Value::Object(_), Value::Object(_))
        | (Value::Set(_), Value::Set(_))
        | (Value::Array(_), Value::Array(_))
        | (Value::Array(_), Value::Set(_)) => Ok(Value::Bool(is_subset(&args[0], &args[1]))),
        _ => Err(Fault::Opa(
            "both arguments object.subset must be of the same type or array and set".to_string(),
        )),
    }
}

fn is_subset(sup: &Value, sub: &Value) -> bool {
    match (sup, sub) {
        (Value::Object(sup), Value::Object(sub)) => sub
            .iter()
            .all(|(k, v)| sup.get(k).is_some_and(|s| is_subset(s, v))),
        (Value::Set(sup), Value::Set(sub)) => sub.is_subset(sup),
        (Value::Array(sup), Value::Array(sub)) => {
            sub.is_empty()
                || sup
                    .as_slice()
                    .windows(sub.len())
                    .any(|w| w == sub.as_slice())
        }
        (Value::Array(sup), Value::Set(sub)) => sub.iter().all(|v| sup.contains(v)),
        (sup, sub) => sup == sub,
    }
}

/// OPA's `json.filter(object, paths)`: a string path is a JSON pointer (leading `/`s
/// dropped, `~1` and `~0` unescaped), where regorus split it as written.
pub fn json_filter(args: &[Value]) -> Result<Value, Fault> {
    with_pointer_paths("json.filter", args)
}

/// OPA's `json.remove(object, paths)`, string paths read as [`json_filter`] reads them.
pub fn json_remove(args: &[Value]) -> Result<Value, Fault> {
    with_pointer_paths("json.remove", args)
}

fn with_pointer_paths(name: &str, args: &[Value]) -> Result<Value, Fault> {
    let pointer = |p: &Value| match p {
        Value::String(s) if !s.is_empty() => Value::from(
            s.trim_start_matches('/')
                .split('/')
                .map(|seg| Value::from(seg.replace("~1", "/").replace("~0", "~")))
                .collect::<Vec<_>>(),
        ),
        other => other.clone(),
    };
    let elements: Vec<&Value> = match &args[1] {
        Value::Array(a) => a.iter().collect(),
        Value::Set(s) => s.iter().collect(),
        _ => Vec::new(),
    };
    if let Some(odd) = elements
        .iter()
        .find(|p| !matches!(p, Value::String(_) | Value::Array(_)))
    {
        return Err(Fault::Opa(format!(
            "operand 2 must be one of {{set, array}} containing string paths or array of path segments but got {}",
            super::type_name(odd)
        )));
    }
    let paths = match &args[1] {
        Value::Array(a) => Value::from(a.iter().map(pointer).collect::<Vec<_>>()),
        Value::Set(s) => Value::from(s.iter().map(pointer).collect::<Vec<_>>()),
        other => other.clone(),
    };
    super::native(name, &[args[0].clone(), paths]).map_err(Fault::Opa)
}

/// OPA's `json.is_valid`: false for anything but a string (regorus gave no value).
pub fn json_is_valid(args: &[Value]) -> Result<Value, Fault> {
    match &args[0] {
        Value::String(_) => super::native("json.is_valid", args).map_err(Fault::Opa),
        _ => Ok(Value::from(false)),
    }
}

#[cfg(test)]
mod tests {
    use super::{Fault, *};

    fn v(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    fn sub(a: &str, b: &str) -> Result<Value, Fault> {
        subset(&[v(a), v(b)])
    }

    #[test]
    fn subsets_like_opa() {
        assert_eq!(sub("[1]", "[]"), Ok(Value::Bool(true)));
        assert_eq!(sub("[1, 2, 3]", "[2, 3]"), Ok(Value::Bool(true)));
        assert_eq!(sub("[1, 2, 3]", "[1, 3]"), Ok(Value::Bool(false)));
        assert_eq!(
            sub(r#"{"a": {"b": 1, "c": 2}, "d": 3}"#, r#"{"a": {"b": 1}}"#),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            sub(r#"{"a": [1, 2]}"#, r#"{"a": []}"#),
            Ok(Value::Bool(true))
        );
        assert!(sub(r#"{"a": 1}"#, "[1]").is_err());
    }

    #[test]
    fn paths_must_be_strings_or_arrays() {
        assert_eq!(
            json_remove(&[v(r#"{"a": 1}"#), v(r#"["a", {"b": 1}]"#)]),
            Err(Fault::Opa("operand 2 must be one of {set, array} containing string paths or array of path segments but got object".into()))
        );
        assert_eq!(
            json_filter(&[v(r#"{"a": 1}"#), v(r#"[["a"]]"#)]),
            Ok(v(r#"{"a": 1}"#))
        );
    }
}
