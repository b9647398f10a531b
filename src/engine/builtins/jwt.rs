//! OPA's `io.jwt.decode` and the HMAC `io.jwt.verify_hs*` built-ins, with OPA's error texts.
//! Base64url as OPA reads it: missing padding is added, then Go's padded URL decoding.

use super::{string_arg, Fault};
use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;
use hmac::{KeyInit, Mac};
use regorus::Value;

/// A built-in's body.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Name, arity and body of each built-in of this namespace.
pub const ALL: &[(&str, u8, Body)] = &[
    ("io.jwt.decode", 1, decode),
    ("io.jwt.verify_hs256", 2, |a| {
        verify::<hmac::Hmac<sha2::Sha256>>(a)
    }),
    ("io.jwt.verify_hs384", 2, |a| {
        verify::<hmac::Hmac<sha2::Sha384>>(a)
    }),
    ("io.jwt.verify_hs512", 2, |a| {
        verify::<hmac::Hmac<sha2::Sha512>>(a)
    }),
];

/// Go's `base64.URLEncoding` (lenient about trailing bits, as Go is).
const URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// OPA's `base64url.decode`: padding added where it is missing.
fn base64url(s: &str) -> Result<Vec<u8>, String> {
    let mut padded = s.to_string();
    if !s.ends_with('=') {
        match s.len() % 4 {
            2 => padded.push_str("=="),
            3 => padded.push('='),
            0 => {}
            _ => return Err(format!("illegal base64url string: {s}")),
        }
    }
    URL.decode(&padded).map_err(|e| {
        let at = match e {
            base64::DecodeError::InvalidByte(at, _)
            | base64::DecodeError::InvalidLastSymbol(at, _) => at,
            base64::DecodeError::InvalidLength(at) => at,
            base64::DecodeError::InvalidPadding => padded.len(),
        };
        format!("illegal base64 data at input byte {at}")
    })
}

/// The three sections of a compact JWS.
fn sections(jwt: &str) -> Result<[&str; 3], Fault> {
    if !jwt.contains('.') {
        return Err(Fault::Opa("encoded JWT had no period separators".into()));
    }
    let parts: Vec<&str> = jwt.split('.').collect();
    <[&str; 3]>::try_from(parts.as_slice()).map_err(|_| {
        Fault::Opa(format!(
            "encoded JWT must have 3 sections, found {}",
            parts.len()
        ))
    })
}

fn json_object(bytes: &[u8], prefix: &str) -> Result<Value, Fault> {
    let text = String::from_utf8_lossy(bytes);
    match Value::from_json_str(&text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(Fault::Opa(format!(
            "{prefix}decoded JSON type was not an Object"
        ))),
        Err(e) => Err(Fault::Opa(format!("{prefix}{e}"))),
    }
}

fn decode(args: &[Value]) -> Result<Value, Fault> {
    let mut jwt = string_arg(args, 1)?.to_string();
    loop {
        let [h, p, s] = sections(&jwt)?;
        let header_bytes = base64url(h)
            .map_err(|e| Fault::Opa(format!("JWT header had invalid encoding: {e}")))?;
        let header = json_object(&header_bytes, "bad JWT header: ")?;
        let payload = base64url(p)
            .map_err(|e| Fault::Opa(format!("JWT payload had invalid encoding: {e}")))?;
        // A nested token (`"cty": "JWT"`) is decoded in turn.
        if let Value::String(cty) = &header[&Value::from("cty")] {
            if cty.eq_ignore_ascii_case("JWT") {
                jwt = String::from_utf8_lossy(&payload).into_owned();
                continue;
            }
        }
        let payload = json_object(&payload, "")?;
        let signature = base64url(s)
            .map_err(|e| Fault::Opa(format!("JWT signature had invalid encoding: {e}")))?;
        return Ok(Value::from(vec![
            header,
            payload,
            Value::from(hex::encode(signature)),
        ]));
    }
}

fn verify<M: Mac + KeyInit>(args: &[Value]) -> Result<Value, Fault> {
    let jwt = string_arg(args, 1)?;
    let secret = string_arg(args, 2)?;
    let [h, p, s] = sections(jwt)?;
    let signature =
        base64url(s).map_err(|e| Fault::Opa(format!("JWT signature had invalid encoding: {e}")))?;
    let mac = super::crypto::keyed::<M>(secret, &format!("{h}.{p}"))?;
    Ok(Value::from(mac.verify_slice(&signature).is_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HS256: &str = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiYWxpY2UiLCAibiI6IDF9.d9eBOL9-mX2pRwKq7QOv41lsvBqXhIZsLKmjAQHQp-c";

    const HS512: &str = "eyJhbGciOiAiSFM1MTIifQ.eyJzdWIiOiAiYWxpY2UiLCAibiI6IDF9.SYdZbvzdHqHpbLiHLpbWPcKP1s8lv0xclmrjgByf2lUvFZ1mPmu3dxiG2giyxcuNFJGA2UcGVw1zbVujUbqN-w";

    fn call(name: &str, args: &[&str]) -> Result<Value, Fault> {
        let (_, _, body) = ALL.iter().find(|(n, _, _)| *n == name).expect(name);
        let args: Vec<Value> = args.iter().map(|a| Value::from(*a)).collect();
        body(&args)
    }

    /// Values and errors as OPA 1.20 gave them (the OPA peer).
    #[test]
    fn decodes_and_verifies_as_opa() {
        let want = Value::from_json_str(r#"[{"alg": "HS256", "typ": "JWT"}, {"n": 1, "sub": "alice"}, "77d78138bf7e997da94702aaed03afe3596cbc1a9784866c2ca9a30101d0a7e7"]"#).unwrap();
        assert_eq!(call("io.jwt.decode", &[HS256]), Ok(want));
        let empty = Value::from_json_str(r#"[{}, {}, ""]"#).unwrap();
        assert_eq!(call("io.jwt.decode", &["e30.e30."]), Ok(empty));
        let t = Value::from(true);
        let f = Value::from(false);
        assert_eq!(
            call("io.jwt.verify_hs256", &[HS256, "secret"]),
            Ok(t.clone())
        );
        assert_eq!(call("io.jwt.verify_hs256", &[HS256, "nope"]), Ok(f.clone()));
        assert_eq!(
            call("io.jwt.verify_hs384", &[HS256, "secret"]),
            Ok(f.clone())
        );
        assert_eq!(call("io.jwt.verify_hs512", &[HS512, "k"]), Ok(t));
        assert_eq!(call("io.jwt.verify_hs256", &[HS512, "k"]), Ok(f));
        for (jwt, err) in [
            ("a.b", "encoded JWT must have 3 sections, found 2"),
            ("abc", "encoded JWT had no period separators"),
            ("a.b.c.d.e", "encoded JWT must have 3 sections, found 5"),
            (
                "!!.e30.",
                "JWT header had invalid encoding: illegal base64 data at input byte 0",
            ),
            (
                "e30.!!.",
                "JWT payload had invalid encoding: illegal base64 data at input byte 0",
            ),
            (
                "e30.e30.!!",
                "JWT signature had invalid encoding: illegal base64 data at input byte 0",
            ),
            (
                "W10.e30.",
                "bad JWT header: decoded JSON type was not an Object",
            ),
            ("e30.W10.", "decoded JSON type was not an Object"),
        ] {
            assert_eq!(
                call("io.jwt.decode", &[jwt]),
                Err(Fault::Opa(err.into())),
                "{jwt}"
            );
        }
    }
}
