//! OPA's run-time operand checks, for `--show-builtin-errors`: a call whose operand is of
//! a kind OPA's built-in refuses stops with OPA's `eval_type_error` text
//! (`operand 1 must be string but got number`), where regorus words its own
//! (`` `upper` expects string argument ``). The table is OPA's ([`OPERANDS`]).
//!
//! Without strict built-in errors both make the call undefined, so the checks are only
//! registered with them: regorus's built-ins in the table are then wrapped, and regorun's
//! own replacements check first ([`super::add`]).

use super::operand_types::OPERANDS;
use super::type_name;
use regorus::unstable::{Expr, ExprRef, Parser, Span};
use regorus::{Source, Value};

/// OPA's message for the first operand of `args` that built-in `name` refuses, without the
/// `name: ` prefix; `None` when OPA's checks pass (or OPA has none for `name`).
pub fn operand_error(name: &str, args: &[Value]) -> Option<String> {
    let first = OPERANDS.partition_point(|row| row.0 < name);
    OPERANDS[first..]
        .iter()
        .take_while(|row| row.0 == name)
        .find_map(|&(_, pos, want, refused, float, array, set)| {
            let v = args.get(usize::from(pos) - 1)?;
            let kind = type_name(v);
            let bit = crate::rego::types::KINDS
                .iter()
                .position(|k| *k == kind)
                .map_or(0, |i| 1u8 << i);
            if refused & bit != 0 {
                return Some(format!("operand {pos} must be {want} but got {kind}"));
            }
            if let Value::Number(n) = v {
                if !float.is_empty() && !n.is_integer() {
                    return Some(format!(
                        "operand {pos} must be {float} but got floating-point number"
                    ));
                }
            }
            let (of, elements): (&str, Vec<&Value>) = match v {
                Value::Array(a) => (array, a.iter().collect()),
                Value::Set(s) => (set, s.iter().collect()),
                _ => return None,
            };
            let element_kind = match of.rsplit(" of ").next()? {
                "strings" => "string",
                "numbers" => "number",
                "objects" => "object",
                _ => return None,
            };
            let odd = elements
                .into_iter()
                .find(|e| type_name(e) != element_kind)?;
            Some(format!(
                "operand {pos} must be {of} but got {kind} containing {}",
                type_name(odd)
            ))
        })
}

/// The names of regorus's built-ins that OPA checks operands of, to wrap under
/// `--show-builtin-errors` (those regorun replaces check in [`super::add`]).
pub fn checked_natives() -> impl Iterator<Item = &'static str> {
    let mut last = "";
    OPERANDS.iter().filter_map(move |row| {
        let new = row.0 != last;
        last = row.0;
        (new && regorus::unstable::BUILTINS.contains_key(row.0)).then_some(row.0)
    })
}

thread_local! {
    /// A parsed call of four operands, whose span and operand expressions stand in for the
    /// policy's when regorus's own built-in is called from a wrapper: regorus uses them only
    /// to place its error messages, which the wrapper reduces to their text.
    static CALL: Option<(Span, Vec<ExprRef>)> = stand_in_call();
}

fn stand_in_call() -> Option<(Span, Vec<ExprRef>)> {
    let source = Source::from_contents("call.rego".into(), "f(a, b, c, d)".into()).ok()?;
    let mut parser = Parser::new(&source).ok()?;
    match &parser.parse_expr().ok()? {
        Expr::Call { span, params, .. } => Some((span.clone(), params.clone())),
        _ => None,
    }
}

/// regorus's own built-in `name` on `args`, with strict errors; `Err` is the message alone.
pub fn call_native(name: &str, args: &[Value]) -> Result<Value, String> {
    let Some(&(f, _)) = regorus::unstable::BUILTINS.get(name) else {
        return Err(format!("unknown built-in {name}"));
    };
    CALL.with(|call| {
        let (span, params) = call
            .as_ref()
            .ok_or_else(|| "internal: no stand-in call".to_string())?;
        let params = params.get(..args.len()).unwrap_or(params);
        crate::engine::guard::catch(|| {
            f(span, params, args, true)
                .map_err(|e| opa_text(name, args, &super::first_line(&e.to_string())))
        })
        .unwrap_or_else(Err)
    })
}

/// OPA's text for an error regorus's built-in `name` gave on `args` in its own words, where
/// the two fail on the same values; `message` itself otherwise.
fn opa_text(name: &str, args: &[Value], message: &str) -> String {
    let text = |i: usize| match args.get(i) {
        Some(Value::String(s)) => Some(s.as_ref()),
        _ => None,
    };
    if message.contains("could not convert numeric value of `ns` to int64") {
        return "timestamp too big".into();
    }
    if message.starts_with("marshaling option must be one of") {
        if let Some(Value::Object(options)) = args.get(1) {
            let known = ["indent", "prefix", "pretty"];
            if let Some(key) = options.keys().find(|k| match k {
                Value::String(k) => !known.contains(&k.as_ref()),
                _ => true,
            }) {
                return format!("operand 2 object contained unknown key {key}");
            }
        }
    }
    // OPA names the first operand whichever of the two is no string.
    if name == "net.cidr_contains" && message.contains("expects string argument") {
        if let Some(odd) = args.iter().find(|a| !matches!(a, Value::String(_))) {
            return format!("operand 1 must be string but got {}", type_name(odd));
        }
    }
    if message.starts_with("Error parsing ") {
        let first = text(0).unwrap_or_default();
        let in_first = message.starts_with(&format!("Error parsing {first}: "));
        match name {
            "net.cidr_expand" => return format!("invalid CIDR address: {first}"),
            "net.cidr_contains" if in_first => return format!("invalid CIDR address: {first}"),
            "net.cidr_contains" => {
                return format!(
                    "not a valid textual representation of an IP address or CIDR: {}",
                    text(1).unwrap_or_default()
                )
            }
            _ => {}
        }
    }
    if let ("hex.decode", Some(s)) = (name, text(0)) {
        if let Some(e) = go_hex_error(s.as_bytes()) {
            return e;
        }
    }
    message.to_string()
}

/// Go's `hex.DecodeString` error for `src`: the first invalid byte of each pair in order,
/// then an odd length (after checking the last byte).
fn go_hex_error(src: &[u8]) -> Option<String> {
    let invalid = |b: u8| {
        // `%#U`: the character is shown only where Go's strconv.IsPrint holds.
        let printable = (0x20..0x7f).contains(&b) || (b >= 0xa1 && b != 0xad);
        Some(if printable {
            format!("encoding/hex: invalid byte: U+{b:04X} '{}'", char::from(b))
        } else {
            format!("encoding/hex: invalid byte: U+{b:04X}")
        })
    };
    if let Some(&b) = src.iter().find(|b| !b.is_ascii_hexdigit()) {
        return invalid(b);
    }
    (src.len() % 2 == 1).then(|| "encoding/hex: odd length hex string".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    #[test]
    fn kinds_floats_and_elements_are_opas() {
        let err = |name: &str, args: &[&str]| {
            operand_error(name, &args.iter().map(|a| v(a)).collect::<Vec<_>>())
        };
        assert_eq!(
            err("upper", &["1"]).as_deref(),
            Some("operand 1 must be string but got number")
        );
        assert_eq!(err("upper", &["\"a\""]), None);
        assert_eq!(
            err("object.remove", &["{}", "\"a\""]).as_deref(),
            Some("operand 2 must be one of {object, set, array} but got string")
        );
        assert_eq!(
            err("bits.and", &["7.2", "1"]).as_deref(),
            Some("operand 1 must be integer number but got floating-point number")
        );
        assert_eq!(
            err("concat", &["\",\"", "[\"a\", 1]"]).as_deref(),
            Some("operand 2 must be array of strings but got array containing number")
        );
        assert_eq!(err("concat", &["\",\"", "[\"a\"]"]), None);
        let mut set = Value::new_set();
        set.as_set_mut().unwrap().insert(v("1"));
        assert_eq!(operand_error("sum", &[set.clone()]), None);
        set.as_set_mut().unwrap().insert(v("\"a\""));
        assert_eq!(
            operand_error("sum", &[set]).as_deref(),
            Some("operand 1 must be set of numbers but got set containing string")
        );
        assert_eq!(err("no.such", &["1"]), None);
    }

    #[test]
    fn regorus_errors_in_opas_words() {
        let call = |name: &str, args: &[&str]| {
            call_native(name, &args.iter().map(|a| v(a)).collect::<Vec<_>>()).unwrap_err()
        };
        assert_eq!(
            call("hex.decode", &["\"abg1\""]),
            "encoding/hex: invalid byte: U+0067 'g'"
        );
        assert_eq!(
            call("hex.decode", &["\"abc\""]),
            "encoding/hex: odd length hex string"
        );
        assert_eq!(
            call("hex.decode", &["\"é\""]),
            "encoding/hex: invalid byte: U+00C3 'Ã'"
        );
        assert_eq!(
            call("net.cidr_expand", &["\"192.168.1.1/33\""]),
            "invalid CIDR address: 192.168.1.1/33"
        );
        assert_eq!(
            call("net.cidr_contains", &["\"x\"", "\"1.2.3.4\""]),
            "invalid CIDR address: x"
        );
        assert_eq!(
            call("net.cidr_contains", &["\"10.0.0.0/8\"", "\"x\""]),
            "not a valid textual representation of an IP address or CIDR: x"
        );
        assert_eq!(call("time.date", &["1e300"]), "timestamp too big");
        assert_eq!(
            call(
                "json.marshal_with_options",
                &["1", "{\"indent\": \"\", \"x\": 1}"]
            ),
            "operand 2 object contained unknown key \"x\""
        );
        assert_eq!(
            call("net.cidr_contains", &["\"10.0.0.0/8\"", "[]"]),
            "operand 1 must be string but got array"
        );
    }

    #[test]
    fn regorus_built_ins_are_called_through_the_stand_in() {
        assert_eq!(call_native("upper", &[v("\"ab\"")]), Ok(v("\"AB\"")));
        let e = call_native("hex.decode", &[v("\"abc\"")]).unwrap_err();
        assert!(!e.contains("call.rego"), "{e}");
        assert!(checked_natives().any(|n| n == "upper"));
        assert!(!checked_natives().any(|n| n == "no.such"));
    }
}
