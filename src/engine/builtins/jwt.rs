//! OPA's `io.jwt.*` built-ins: decoding, verifying with a secret, a PEM certificate or public
//! key, or a JWK set, full decoding with constraints, and signing; with OPA's error texts.
//! Base64url as OPA reads it: missing padding is added, then Go's padded URL decoding.

use super::keys::{self, Entry};
use super::{base64url, operand, string_arg, Fault};
use regorus::Value;

/// A built-in's body.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Name, arity and body of each built-in of this namespace.
pub const ALL: &[(&str, u8, Body)] = &[
    ("io.jwt.decode", 1, decode),
    ("io.jwt.verify_hs256", 2, |a| verify_secret(a, "HS256")),
    ("io.jwt.verify_hs384", 2, |a| verify_secret(a, "HS384")),
    ("io.jwt.verify_hs512", 2, |a| verify_secret(a, "HS512")),
    ("io.jwt.verify_rs256", 2, |a| verify_key(a, "RS256")),
    ("io.jwt.verify_rs384", 2, |a| verify_key(a, "RS384")),
    ("io.jwt.verify_rs512", 2, |a| verify_key(a, "RS512")),
    ("io.jwt.verify_ps256", 2, |a| verify_key(a, "PS256")),
    ("io.jwt.verify_ps384", 2, |a| verify_key(a, "PS384")),
    ("io.jwt.verify_ps512", 2, |a| verify_key(a, "PS512")),
    ("io.jwt.verify_es256", 2, |a| verify_key(a, "ES256")),
    ("io.jwt.verify_es384", 2, |a| verify_key(a, "ES384")),
    ("io.jwt.verify_es512", 2, |a| verify_key(a, "ES512")),
    ("io.jwt.verify_eddsa", 2, |a| verify_key(a, "EdDSA")),
    ("io.jwt.decode_verify", 2, decode_verify),
    ("io.jwt.encode_sign", 3, encode_sign),
    ("io.jwt.encode_sign_raw", 3, encode_sign_raw),
];

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
        Err(e) => Err(Fault::Opa(format!("{prefix}invalid JSON: {e}"))),
    }
}

/// A token's header, checked as OPA checks it: a JSON object, and no JWE.
fn header(section: &str) -> Result<Value, Fault> {
    let bytes = base64url(section)
        .map_err(|e| Fault::Opa(format!("JWT header had invalid encoding: {e}")))?;
    let header = json_object(&bytes, "bad JWT header: ")?;
    if header[&Value::from("enc")] != Value::Undefined {
        return Err(Fault::Opa(
            "JWT is a JWE object, which is not supported".into(),
        ));
    }
    Ok(header)
}

fn signature(section: &str) -> Result<Vec<u8>, Fault> {
    base64url(section).map_err(|e| Fault::Opa(format!("JWT signature had invalid encoding: {e}")))
}

fn decode(args: &[Value]) -> Result<Value, Fault> {
    let mut jwt = string_arg(args, 1)?.to_string();
    loop {
        let [h, p, s] = sections(&jwt)?;
        let header = header(h)?;
        let payload = base64url(p)
            .map_err(|e| Fault::Opa(format!("JWT payload had invalid encoding: {e}")))?;
        // A nested token (`"cty": "JWT"`, exactly) is decoded in turn, without the quotes
        // some issuers put around it.
        if header[&Value::from("cty")] == Value::from("JWT") {
            jwt = String::from_utf8_lossy(&payload)
                .trim_matches(['"', '\''])
                .to_string();
            continue;
        }
        let payload = json_object(&payload, "")?;
        let signature = signature(s)?;
        return Ok(Value::from(vec![
            header,
            payload,
            Value::from(hex::encode(signature)),
        ]));
    }
}

/// The header fields OPA reads, with its type checks.
#[derive(Default)]
struct Header {
    alg: String,
    kid: String,
    cty: String,
    crit: Vec<String>,
    unknown: Vec<String>,
}

impl Header {
    fn read(header: &Value) -> Result<Header, Fault> {
        let mut out = Header::default();
        let Value::Object(fields) = header else {
            return Ok(out);
        };
        for (k, v) in fields.iter() {
            let name = k.as_string().map(|s| s.to_string()).unwrap_or_default();
            let text = |v: &Value| match v {
                Value::String(s) => Ok(s.to_string()),
                _ => Err(Fault::Opa(format!("{name}: must be a string"))),
            };
            match name.as_str() {
                "alg" => out.alg = text(v)?,
                "kid" => out.kid = text(v)?,
                "cty" => out.cty = text(v)?,
                "typ" => {
                    text(v)?;
                }
                "crit" => {
                    let Value::Array(items) = v else {
                        return Err(Fault::Opa("crit: must be a list".into()));
                    };
                    out.crit = items
                        .iter()
                        .filter_map(|i| i.as_string().ok().map(|s| s.to_string()))
                        .collect();
                    if out.crit.is_empty() {
                        return Err(Fault::Opa("crit: must be a nonempty list".into()));
                    }
                }
                _ => out.unknown.push(name),
            }
        }
        Ok(out)
    }

    /// RFC 7515: `alg` is present, and every critical parameter is understood.
    fn valid(&self) -> bool {
        !self.alg.is_empty() && !self.unknown.iter().any(|u| self.crit.contains(u))
    }
}

/// Whether one of `keys` verifies the token: the key whose `kid` the header names, else
/// any key whose `alg` is unset or the header's.
fn verified_by(
    keys: &[Entry],
    kid: &str,
    header_alg: &str,
    alg: &str,
    input: &[u8],
    sig: &[u8],
) -> bool {
    if !kid.is_empty() {
        if let Some(k) = keys.iter().find(|k| k.kid == kid) {
            return keys::verify(&k.key, alg, input, sig);
        }
    }
    keys.iter()
        .filter(|k| k.alg.is_empty() || k.alg == header_alg)
        .any(|k| keys::verify(&k.key, alg, input, sig))
}

/// `io.jwt.verify_<alg>` with a PEM certificate or public key, or a JWK (set).
fn verify_key(args: &[Value], alg: &str) -> Result<Value, Fault> {
    let jwt = string_arg(args, 1)?;
    let [h, p, s] = sections(jwt)?;
    let keys = keys::verification_keys(string_arg(args, 2)?)?;
    let sig = signature(s)?;
    let header = Header::read(&header(h)?)?;
    let input = format!("{h}.{p}");
    Ok(Value::from(verified_by(
        &keys,
        &header.kid,
        &header.alg,
        alg,
        input.as_bytes(),
        &sig,
    )))
}

/// The checks `io.jwt.decode_verify` makes besides the signature.
#[derive(Default)]
struct Constraints {
    secret: String,
    keys: Option<Vec<Entry>>,
    alg: String,
    iss: String,
    aud: String,
    /// Nanoseconds since the epoch.
    time: f64,
}

impl Constraints {
    fn read(v: &Value) -> Result<Constraints, Fault> {
        let Value::Object(fields) = v else {
            return Err(Fault::Opa(operand(2, "object", v)));
        };
        let mut out = Constraints::default();
        let mut time = None;
        for (k, v) in fields.iter() {
            let name = k.as_string().map(|s| s.to_string()).unwrap_or_default();
            let text = || match v {
                Value::String(s) => Ok(s.to_string()),
                _ => Err(Fault::Opa(format!("{name} constraint: must be a string"))),
            };
            match name.as_str() {
                "cert" => out.keys = Some(keys::verification_keys(&text()?)?),
                "secret" => out.secret = text()?,
                "alg" => out.alg = text()?,
                "iss" => out.iss = text()?,
                "aud" => out.aud = text()?,
                "time" => time = Some(time_value(v)?),
                _ => {
                    return Err(Fault::Opa(format!(
                        "unknown token validation constraint: {name}"
                    )))
                }
            }
        }
        // OPA takes the evaluation's clock; regorun's is the call's.
        out.time = match time {
            Some(t) => t,
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as f64)
                .unwrap_or(0.0),
        };
        match (out.keys.is_some(), !out.secret.is_empty()) {
            (true, true) => Err(Fault::Opa("duplicate key constraints".into())),
            (false, false) => Err(Fault::Opa("no key constraint".into())),
            _ => Ok(out),
        }
    }

    fn verify(&self, header: &Header, input: &[u8], sig: &[u8]) -> bool {
        match &self.keys {
            Some(keys) => verified_by(keys, &header.kid, &header.alg, &header.alg, input, sig),
            None => {
                header.alg.starts_with("HS")
                    && keys::hmac_ok(&header.alg, self.secret.as_bytes(), input, sig)
            }
        }
    }

    fn audience(&self, aud: &Value) -> bool {
        match aud {
            Value::String(s) => **s == *self.aud,
            Value::Array(items) => items
                .iter()
                .any(|i| matches!(i, Value::String(s) if **s == *self.aud)),
            _ => false,
        }
    }
}

fn time_value(v: &Value) -> Result<f64, Fault> {
    if !matches!(v, Value::Number(_)) {
        return Err(Fault::Opa("token time constraint: must be a number".into()));
    }
    let t = float(v).ok_or_else(|| Fault::Opa("token time constraint: unvalid float64".into()))?;
    if t < 0.0 {
        return Err(Fault::Opa(
            "token time constraint: must not be negative".into(),
        ));
    }
    Ok(t)
}

/// A number as the nearest float64 (regorus gives none above 2^53).
fn float(v: &Value) -> Option<f64> {
    crate::base::value::to_json(v).as_f64()
}

/// `io.jwt.decode_verify`: `[valid, header, payload]`, `[false, {}, {}]` when the signature
/// or a constraint fails.
fn decode_verify(args: &[Value]) -> Result<Value, Fault> {
    let constraints = Constraints::read(&args[1])?;
    let unverified = Value::from(vec![
        Value::from(false),
        Value::new_object(),
        Value::new_object(),
    ]);
    let mut jwt = string_arg(args, 1)?.to_string();
    let (header, payload) = loop {
        let [h, p, s] = sections(&jwt)?;
        let decoded = header(h)?;
        let fields = Header::read(&decoded)?;
        if !fields.valid() || (!constraints.alg.is_empty() && constraints.alg != fields.alg) {
            return Ok(unverified);
        }
        let sig = signature(s)?;
        if !constraints.verify(&fields, format!("{h}.{p}").as_bytes(), &sig) {
            return Ok(unverified);
        }
        let payload = base64url(p)
            .map_err(|e| Fault::Opa(format!("JWT payload had invalid encoding: {e}")))?;
        if fields.cty.eq_ignore_ascii_case("JWT") {
            jwt = String::from_utf8_lossy(&payload).into_owned();
            continue;
        }
        break (decoded, json_object(&payload, "")?);
    };
    let claim = |name: &str| payload[&Value::from(name)].clone();
    if !constraints.iss.is_empty() && claim("iss") != Value::from(constraints.iss.as_str()) {
        return Ok(unverified);
    }
    match claim("aud") {
        Value::Undefined if constraints.aud.is_empty() => {}
        Value::Undefined => return Ok(unverified),
        aud if !constraints.audience(&aud) => return Ok(unverified),
        _ => {}
    }
    let now = constraints.time / 1e9;
    match claim("exp") {
        Value::Undefined => {}
        exp @ Value::Number(_) => {
            if float(&exp).is_some_and(|exp| now >= exp) {
                return Ok(unverified);
            }
        }
        _ => return Err(Fault::Opa("exp value must be a number".into())),
    }
    match claim("nbf") {
        Value::Undefined => {}
        nbf @ Value::Number(_) => {
            if float(&nbf).is_some_and(|nbf| now < nbf) {
                return Ok(unverified);
            }
        }
        _ => return Err(Fault::Opa("nbf value must be a number".into())),
    }
    Ok(Value::from(vec![Value::from(true), header, payload]))
}

/// Go's `json.Marshal` of a Rego value (keys sorted, HTML-safe escaping).
fn marshal(v: &Value) -> String {
    crate::base::gojson::to_string(
        &crate::base::value::to_json(v),
        crate::base::gojson::Indent::Compact,
    )
}

fn encode_sign(args: &[Value]) -> Result<Value, Fault> {
    sign_compact(&marshal(&args[0]), &marshal(&args[1]), &marshal(&args[2]))
}

fn encode_sign_raw(args: &[Value]) -> Result<Value, Fault> {
    let key = string_arg(args, 3)?;
    sign_compact(string_arg(args, 1)?, string_arg(args, 2)?, key)
}

/// The compact JWS of `payload` under the protected `headers`, signed with the first key of
/// the JWK (set) `jwk` by the headers' `alg`.
fn sign_compact(headers: &str, payload: &str, jwk: &str) -> Result<Value, Fault> {
    let key = keys::signing_key(jwk)?;
    // OPA's texts: its JSON reader's (fastjson) for an empty text, a JSON error after
    // its `cannot parse JSON: ` prefix, jwsbb's for a missing or non-string `alg`.
    let bad_alg = |why: String| Fault::Opa(format!("missing or invalid 'alg' header: {why}"));
    let parsed: serde_json::Value = match serde_json::from_str(headers) {
        Ok(v) => v,
        Err(_) if headers.trim().is_empty() => {
            return Err(bad_alg(
                "cannot parse JSON: cannot parse empty string; unparsed tail: \"\"".into(),
            ))
        }
        Err(e) => return Err(bad_alg(format!("cannot parse JSON: {e}"))),
    };
    let alg = match parsed.get("alg") {
        None => return Err(bad_alg("jwsbb: header \"alg\" not found".into())),
        Some(serde_json::Value::String(alg)) => alg.as_str(),
        Some(other) => {
            let kind = match other {
                serde_json::Value::Null => "null",
                serde_json::Value::Bool(true) => "true",
                serde_json::Value::Bool(false) => "false",
                serde_json::Value::Number(_) => "number",
                serde_json::Value::Array(_) => "array",
                _ => "object",
            };
            return Err(bad_alg(format!(
                "value doesn't contain string; it contains {kind}"
            )));
        }
    };
    if !keys::ALGORITHMS.contains(&alg) {
        return Err(Fault::Opa(format!("unknown JWS algorithm: {alg}")));
    }
    let typ = parsed.get("typ").and_then(serde_json::Value::as_str);
    if typ.is_none_or(|t| t == "JWT")
        && serde_json::from_str::<serde::de::IgnoredAny>(payload).is_err()
    {
        return Err(Fault::Opa("type is JWT but payload is not JSON".into()));
    }
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(headers),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = keys::sign(&key, alg, input.as_bytes())?;
    Ok(Value::from(format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(sig)
    )))
}

/// `io.jwt.verify_hs*`: the token's HMAC under the secret, compared in constant time.
fn verify_secret(args: &[Value], alg: &str) -> Result<Value, Fault> {
    let jwt = string_arg(args, 1)?;
    let secret = string_arg(args, 2)?;
    let [h, p, s] = sections(jwt)?;
    let signature = signature(s)?;
    let input = format!("{h}.{p}");
    Ok(Value::from(keys::hmac_ok(
        alg,
        secret.as_bytes(),
        input.as_bytes(),
        &signature,
    )))
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

    /// A header may name any `alg`: short or non-ASCII names verify nothing (OPA: the
    /// signature is not verified), never a slice out of bounds.
    #[test]
    fn odd_algorithms_are_unverified() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        let unverified = Value::from_json_str(r#"[false, {}, {}]"#).unwrap();
        for alg in ["a", "é", ""] {
            let header = URL_SAFE_NO_PAD.encode(format!("{{\"alg\":\"{alg}\"}}"));
            let token = format!("{header}.e30.c2ln");
            for constraints in [
                r#"{"secret": "s"}"#,
                r#"{"cert": "{\"keys\": [{\"kty\": \"oct\", \"k\": \"cw\"}]}"}"#,
            ] {
                let constraints = Value::from_json_str(constraints).unwrap();
                let got = decode_verify(&[Value::from(token.as_str()), constraints]);
                assert_eq!(got, Ok(unverified.clone()), "{alg}");
            }
        }
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
