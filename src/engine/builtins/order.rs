//! OPA's order of values for `sort`, `max` and `min`: objects before sets, where regorus's
//! `Value` puts sets first (`sort([{2}, {"a": 1}])` is `[{"a": 1}, [2]]` in OPA).

use super::{type_name, Fault};
use regorus::Value;
use std::cmp::Ordering;

/// A value's place among the types in OPA's order.
fn rank(v: &Value) -> u8 {
    match v {
        Value::Undefined => 0,
        Value::Null => 1,
        Value::Bool(_) => 2,
        Value::Number(_) => 3,
        Value::String(_) => 4,
        Value::Array(_) => 5,
        Value::Object(_) => 6,
        Value::Set(_) => 7,
    }
}

/// OPA's comparison (`ast.Compare`): by type first, then arrays, sets and objects
/// element by element (sets and object keys in OPA's order), the shorter first when one
/// is the start of the other.
pub(super) fn opa_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => seq_cmp(x.iter(), y.iter()),
        (Value::Set(x), Value::Set(y)) => {
            seq_cmp(sorted(x.iter()).into_iter(), sorted(y.iter()).into_iter())
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys = |o: &regorus::Value| -> Vec<(Value, Value)> {
                let Value::Object(o) = o else {
                    return Vec::new();
                };
                let mut kv: Vec<_> = o.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                kv.sort_by(|p, q| opa_cmp(&p.0, &q.0));
                kv
            };
            let (kx, ky) = (keys(a), keys(b));
            for ((ka, va), (kb, vb)) in kx.iter().zip(ky.iter()) {
                let c = opa_cmp(ka, kb).then_with(|| opa_cmp(va, vb));
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        _ if rank(a) != rank(b) => rank(a).cmp(&rank(b)),
        _ => a.cmp(b),
    }
}

/// Lexicographic comparison under [`opa_cmp`].
fn seq_cmp<'a>(
    mut x: impl Iterator<Item = &'a Value>,
    mut y: impl Iterator<Item = &'a Value>,
) -> Ordering {
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let c = opa_cmp(p, q);
                if c != Ordering::Equal {
                    return c;
                }
            }
        }
    }
}

/// The items in OPA's order.
pub(super) fn sorted<'a>(items: impl Iterator<Item = &'a Value>) -> Vec<&'a Value> {
    let mut v: Vec<&Value> = items.collect();
    v.sort_by(|p, q| opa_cmp(p, q));
    v
}

/// Whether the values hold both an object and a set somewhere, the only case where
/// regorus's order differs from OPA's (so the common case keeps regorus's comparison).
pub(super) fn holds_both(values: &[&Value]) -> bool {
    fn walk(v: &Value, seen: &mut (bool, bool)) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| walk(x, seen)),
            Value::Set(s) => {
                seen.1 = true;
                s.iter().for_each(|x| walk(x, seen));
            }
            Value::Object(o) => {
                seen.0 = true;
                o.iter().for_each(|(k, x)| {
                    walk(k, seen);
                    walk(x, seen);
                });
            }
            _ => {}
        }
    }
    let mut seen = (false, false);
    values.iter().for_each(|v| walk(v, &mut seen));
    seen.0 && seen.1
}

/// The items in OPA's order, keeping regorus's comparison where it is OPA's.
fn in_order(items: Vec<&Value>) -> Vec<&Value> {
    if holds_both(&items) {
        sorted(items.into_iter())
    } else {
        let mut items = items;
        items.sort();
        items
    }
}

/// The elements of `sort`/`max`/`min`'s collection, or OPA's operand error.
fn collection(v: &Value) -> Result<Vec<&Value>, Fault> {
    match v {
        Value::Array(a) => Ok(a.iter().collect()),
        Value::Set(s) => Ok(s.iter().collect()),
        other => Err(Fault::Opa(format!(
            "operand 1 must be one of {{set, array}} but got {}",
            type_name(other)
        ))),
    }
}

/// `sort(collection)`: the elements in OPA's order, as an array.
pub fn sort(args: &[Value]) -> Result<Value, Fault> {
    let items = collection(&args[0])?;
    Ok(Value::from(
        in_order(items).into_iter().cloned().collect::<Vec<_>>(),
    ))
}

/// `max(collection)`: the greatest element in OPA's order; undefined when empty.
pub fn max(args: &[Value]) -> Result<Value, Fault> {
    extreme(args, true)
}

/// `min(collection)`: the least element in OPA's order; undefined when empty.
pub fn min(args: &[Value]) -> Result<Value, Fault> {
    extreme(args, false)
}

/// The last (or first) element in OPA's order.
fn extreme(args: &[Value], last: bool) -> Result<Value, Fault> {
    let items = in_order(collection(&args[0])?);
    let end = if last { items.last() } else { items.first() };
    Ok(end.map(|v| (*v).clone()).unwrap_or(Value::Undefined))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    fn set(items: &[&str]) -> Value {
        Value::from(
            items
                .iter()
                .map(|i| v(i))
                .collect::<std::collections::BTreeSet<_>>(),
        )
    }

    #[test]
    fn objects_come_before_sets_at_any_depth() {
        // OPA 1.20: sort([{2}, {"a": 1}, [3], "s"]) == ["s", [3], {"a": 1}, {2}]
        let arr = Value::from(vec![set(&["2"]), v(r#"{"a": 1}"#), v("[3]"), v(r#""s""#)]);
        let want = Value::from(vec![v(r#""s""#), v("[3]"), v(r#"{"a": 1}"#), set(&["2"])]);
        assert_eq!(sort(&[arr]), Ok(want));
        // sort([[{1}], [{"a": 1}]]) == [[{"a": 1}], [{1}]]
        let nested = Value::from(vec![
            Value::from(vec![set(&["1"])]),
            Value::from(vec![v(r#"{"a": 1}"#)]),
        ]);
        let Ok(Value::Array(got)) = sort(&[nested]) else {
            panic!("not an array")
        };
        assert_eq!(got[0], Value::from(vec![v(r#"{"a": 1}"#)]));
    }

    #[test]
    fn max_and_min_follow_the_same_order() {
        let arr = Value::from(vec![v(r#"{"a": 1}"#), set(&["1"])]);
        assert_eq!(max(std::slice::from_ref(&arr)), Ok(set(&["1"])));
        assert_eq!(min(&[arr]), Ok(v(r#"{"a": 1}"#)));
        assert_eq!(max(&[v("[]")]), Ok(Value::Undefined));
    }

    #[test]
    fn a_non_collection_is_opas_operand_error() {
        assert_eq!(
            sort(&[v("{}")]),
            Err(Fault::Opa(
                "operand 1 must be one of {set, array} but got object".to_string()
            ))
        );
        assert!(max(&[v("1")]).is_err());
    }
}
