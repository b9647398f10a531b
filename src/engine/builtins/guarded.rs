//! Built-ins whose regorus versions read text OPA's refuse (a malformed escape, an empty
//! search string, data after base64 padding) or refuse text OPA's read (base64 line
//! breaks). On the bytecode VM their calls go through Rego functions that check or clean
//! the argument first ([`crate::rego::compat`]'s routed calls), so regorus's version only
//! sees what it reads as OPA does; the interpreter uses these, with OPA's errors.

use super::{native, string_arg, Fault};
use regorus::Value;

/// Go's `url.QueryUnescape` error for the first malformed `%` escape, if any.
fn bad_escape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
    let at = (0..b.len()).find(|&i| b[i] == b'%' && !(hex(i + 1) && hex(i + 2)))?;
    let end = (at + 3).min(b.len());
    // Go quotes up to three bytes; a cut inside a character is printed as Go prints it.
    let text = String::from_utf8_lossy(&b[at..end]);
    Some(format!(
        "invalid URL escape {}",
        crate::base::godur::quote(&text)
    ))
}

/// `urlquery.decode`: Go's `url.QueryUnescape`, which refuses a malformed escape.
pub fn urlquery_decode(args: &[Value]) -> Result<Value, Fault> {
    let s = string_arg(args, 1)?;
    match bad_escape(s) {
        Some(e) => Err(Fault::Opa(e)),
        None => native("urlquery.decode", args).map_err(Fault::Opa),
    }
}

/// `urlquery.decode_object`: Go's `url.ParseQuery`, which also refuses a `;`.
pub fn urlquery_decode_object(args: &[Value]) -> Result<Value, Fault> {
    let s = string_arg(args, 1)?;
    for piece in s.split('&').filter(|p| !p.is_empty()) {
        if piece.contains(';') {
            return Err(Fault::Opa("invalid semicolon separator in query".into()));
        }
        if let Some(e) = bad_escape(piece) {
            return Err(Fault::Opa(e));
        }
    }
    native("urlquery.decode_object", args).map_err(Fault::Opa)
}

/// `indexof`: OPA refuses an empty search string.
pub fn indexof(args: &[Value]) -> Result<Value, Fault> {
    searched("indexof", args)
}

/// `indexof_n`: OPA refuses an empty search string.
pub fn indexof_n(args: &[Value]) -> Result<Value, Fault> {
    searched("indexof_n", args)
}

fn searched(name: &str, args: &[Value]) -> Result<Value, Fault> {
    string_arg(args, 1)?;
    if string_arg(args, 2)?.is_empty() {
        return Err(Fault::Opa("empty search character".into()));
    }
    native(name, args).map_err(Fault::Opa)
}

/// OPA's `base64.decode`: Go's standard decoding ([`super::go_base64`]), so a trailing
/// newline (a YAML block scalar's) is read, and data after the padding is an error;
/// regorus refused the first and read the second.
pub fn base64_decode(args: &[Value]) -> Result<Value, Fault> {
    let text = string_arg(args, 1)?;
    let bytes = super::go_base64(text).map_err(Fault::Opa)?;
    Ok(Value::from(String::from_utf8_lossy(&bytes).into_owned()))
}

/// OPA's `base64.is_valid`: whether [`base64_decode`] reads the text.
pub fn base64_is_valid(args: &[Value]) -> Result<Value, Fault> {
    match &args[0] {
        Value::String(text) => Ok(Value::from(super::go_base64(text).is_ok())),
        // OPA's is false for anything but a string.
        _ => Ok(Value::from(false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_escapes_are_gos_errors() {
        assert_eq!(bad_escape("a+b%20c"), None);
        assert_eq!(
            bad_escape("a%zzb").as_deref(),
            Some("invalid URL escape \"%zz\"")
        );
        assert_eq!(
            bad_escape("a%2").as_deref(),
            Some("invalid URL escape \"%2\"")
        );
        assert_eq!(
            bad_escape("a%").as_deref(),
            Some("invalid URL escape \"%\"")
        );
    }
}
