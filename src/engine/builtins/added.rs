//! Built-ins OPA has and regorus 0.14 lacks: the operators called by name (`plus(1, 2)`,
//! `lt(a, b)`, valid in every Rego version) and, under `--rego-version v0`, the
//! deprecated built-ins v0 policies still call (`any`, `all`, `set_diff`,
//! `cast_*`). Each is OPA's operator or built-in evaluated by regorus itself.
//! It also renders template strings rewritten by [`crate::rego::template`].

use super::{eval_expr, operand, Fault};
use regorus::Value;

/// Name, arity and the expression over `input[0]`, `input[1]` that computes it.
const OPERATORS: &[(&str, u8, &str)] = &[
    ("plus", 2, "input[0] + input[1]"),
    ("minus", 2, "input[0] - input[1]"),
    ("mul", 2, "input[0] * input[1]"),
    ("div", 2, "input[0] / input[1]"),
    ("rem", 2, "input[0] % input[1]"),
    ("lt", 2, "input[0] < input[1]"),
    ("lte", 2, "input[0] <= input[1]"),
    ("gt", 2, "input[0] > input[1]"),
    ("gte", 2, "input[0] >= input[1]"),
    ("equal", 2, "input[0] == input[1]"),
    ("neq", 2, "input[0] != input[1]"),
    ("and", 2, "input[0] & input[1]"),
    ("or", 2, "input[0] | input[1]"),
];

/// The deprecated built-ins of Rego v0 that are expressions of current ones.
const DEPRECATED: &[(&str, u8, &str)] = &[
    ("set_diff", 2, "input[0] - input[1]"),
    ("any", 1, "count([1 | some e in input[0]; e == true]) > 0"),
    ("all", 1, "count([1 | some e in input[0]; e != true]) == 0"),
];

/// A built-in's body, shared by every clone of the engine.
pub type Body = std::sync::Arc<dyn Fn(&[Value]) -> Result<Value, Fault> + Send + Sync>;

/// Every built-in to add, as (name, arity, body): the operators always, the deprecated
/// ones under v0.
pub fn all(rego_v0: bool) -> Vec<(&'static str, u8, Body)> {
    let mut out: Vec<(&'static str, u8, Body)> = Vec::new();
    let exprs = OPERATORS
        .iter()
        .chain(if rego_v0 { DEPRECATED } else { &[] });
    for &(name, arity, expr) in exprs {
        let collection = matches!(name, "any" | "all");
        out.push((
            name,
            arity,
            std::sync::Arc::new(move |args: &[Value]| {
                // `some e in` a string is an error in regorus, a type error in OPA.
                if collection && !matches!(args[0], Value::Array(_) | Value::Set(_)) {
                    return Err(Fault::Opa(operand(
                        1,
                        "any<array[any], set[any]>",
                        &args[0],
                    )));
                }
                eval_expr(expr, args).map_err(Fault::Opa)
            }),
        ));
    }
    out.push((
        crate::rego::template::TEMPLATE_FN,
        1,
        std::sync::Arc::new(|args: &[Value]| Ok(template(&args[0]))),
    ));
    if rego_v0 {
        for &(name, want) in CASTS {
            out.push((
                name,
                1,
                std::sync::Arc::new(move |args: &[Value]| cast(name, want, &args[0])),
            ));
        }
    }
    out
}

/// The `cast_*` built-ins and the operand type each accepts.
const CASTS: &[(&str, &str)] = &[
    ("cast_array", "any<array[any], set[any]>"),
    ("cast_set", "any<array[any], set[any]>"),
    ("cast_string", "string"),
    ("cast_boolean", "boolean"),
    ("cast_null", "null"),
    ("cast_object", "object"),
];

fn cast(name: &str, want: &str, v: &Value) -> Result<Value, Fault> {
    let out = match (name, v) {
        ("cast_array", Value::Array(_)) => Some(v.clone()),
        ("cast_array", Value::Set(s)) => Some(Value::from(s.iter().cloned().collect::<Vec<_>>())),
        ("cast_set", Value::Set(_)) => Some(v.clone()),
        ("cast_set", Value::Array(a)) => Some(Value::from(
            a.iter().cloned().collect::<std::collections::BTreeSet<_>>(),
        )),
        ("cast_string", Value::String(_))
        | ("cast_boolean", Value::Bool(_))
        | ("cast_null", Value::Null)
        | ("cast_object", Value::Object(_)) => Some(v.clone()),
        _ => None,
    };
    out.ok_or_else(|| Fault::Opa(operand(1, want, v)))
}

/// A rewritten template string (see [`crate::rego::template`]): literal parts are
/// strings, each interpolated value an array of what its expression gave (none when
/// undefined).
fn template(parts: &Value) -> Value {
    let mut out = String::new();
    if let Value::Array(parts) = parts {
        for part in parts.iter() {
            match part {
                Value::String(s) => out.push_str(s),
                Value::Array(a) => match a.first() {
                    Some(v) => out.push_str(&crate::rego::template::render(v)),
                    None => out.push_str("<undefined>"),
                },
                _ => {}
            }
        }
    }
    Value::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, v0: bool, args: &[Value]) -> Result<Value, Fault> {
        let all = all(v0);
        let (_, _, body) = all.iter().find(|(n, _, _)| *n == name).expect(name);
        body(args)
    }

    #[test]
    fn operators_by_name() {
        let n = |x: i64| Value::from(x);
        assert_eq!(call("plus", false, &[n(1), n(2)]), Ok(n(3)));
        assert_eq!(call("rem", false, &[n(7), n(4)]), Ok(n(3)));
        assert_eq!(call("lt", false, &[n(1), n(2)]), Ok(Value::from(true)));
        assert_eq!(call("equal", false, &[n(1), n(2)]), Ok(Value::from(false)));
        assert!(all(false).iter().all(|(n, _, _)| *n != "any"));
    }

    #[test]
    fn deprecated_v0_builtins() {
        let arr = |v: Vec<Value>| Value::from(v);
        let t = Value::from(true);
        let f = Value::from(false);
        assert_eq!(
            call("any", true, &[arr(vec![f.clone(), t.clone()])]),
            Ok(t.clone())
        );
        assert_eq!(
            call("all", true, &[arr(vec![f.clone(), t.clone()])]),
            Ok(f.clone())
        );
        assert_eq!(call("all", true, &[arr(vec![])]), Ok(t.clone()));
        assert!(call("any", true, &[Value::from("x")]).is_err());
        assert_eq!(
            call("cast_set", true, &[arr(vec![t.clone(), t.clone()])]),
            Ok(Value::from(
                [t.clone()]
                    .into_iter()
                    .collect::<std::collections::BTreeSet<_>>()
            ))
        );
        assert!(call("cast_string", true, &[t]).is_err());
    }
}
