//! OPA's `providers.aws.sign_req`: an HTTP request object signed with AWS Signature
//! Version 4 as OPA's own signer does it (its canonical request, signed headers and
//! payload hash, `UNSIGNED-PAYLOAD` when asked), on the RustCrypto `sha2` and `hmac` crates.

use super::Fault;
use hmac::Mac;
use regorus::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A built-in's body.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Name, arity and body of each built-in of this namespace.
pub const ALL: &[(&str, u8, Body)] = &[("providers.aws.sign_req", 3, sign_req)];

/// Headers a proxy may change, left out of the signature as OPA (and the AWS SDK) do.
const IGNORED: &[&str] = &["authorization", "user-agent", "x-amzn-trace-id"];

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        _ => String::new(),
    }
}

fn hmac(key: &[u8], message: &str) -> Vec<u8> {
    super::crypto::keyed::<hmac::Hmac<Sha256>>(key, message.as_bytes())
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default()
}

fn sign_req(args: &[Value]) -> Result<Value, Fault> {
    let (Value::Object(_), Value::Object(_)) = (&args[0], &args[1]) else {
        let (pos, v) = if matches!(args[0], Value::Object(_)) {
            (2, &args[1])
        } else {
            (1, &args[0])
        };
        return Err(Fault::Opa(super::operand(pos, "object", v)));
    };
    let (request, config) = (&args[0], &args[1]);
    let get = |o: &Value, k: &str| match &o[&Value::from(k)] {
        Value::Undefined => None,
        v => Some(v.clone()),
    };
    let required = [
        "aws_access_key",
        "aws_region",
        "aws_secret_access_key",
        "aws_service",
    ];
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|k| get(config, k).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(Fault::Opa(format!(
            "operand 2 missing required AWS config parameters(s): {{{}}}",
            quoted(&missing)
        )));
    }
    let invalid: Vec<&str> = required
        .iter()
        .copied()
        .filter(|k| !matches!(get(config, k), Some(Value::String(_))))
        .collect();
    if !invalid.is_empty() {
        return Err(Fault::Opa(format!(
            "operand 2 invalid values for required AWS config parameters(s): {{{}}}",
            quoted(&invalid)
        )));
    }
    let field = |k: &str| get(config, k).map(|v| text(&v)).unwrap_or_default();
    let (access, secret, region, service) = (
        field("aws_access_key"),
        field("aws_secret_access_key"),
        field("aws_region"),
        field("aws_service"),
    );
    let token = field("aws_session_token");
    let unsigned = match get(config, "disable_payload_signing") {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(_) => {
            return Err(Fault::Opa(
                "operand 2 invalid value for 'disable_payload_signing' in AWS config".into(),
            ))
        }
    };
    let ns = crate::base::value::to_json(&args[2])
        .as_i64()
        .ok_or_else(|| {
            Fault::Opa("operand 3 could not convert time_ns value into a unix timestamp".into())
        })?;
    let (Some(Value::String(url)), Some(Value::String(method))) =
        (get(request, "url"), get(request, "method"))
    else {
        return Err(Fault::Opa(
            "operand 1 invalid values for required request parameters(s): {\"method\", \"url\"}"
                .into(),
        ));
    };
    let headers: BTreeMap<String, String> = match get(request, "headers") {
        None => BTreeMap::new(),
        Some(Value::Object(h)) => h.iter().map(|(k, v)| (text(k), text(v))).collect(),
        Some(other) => return Err(Fault::Opa(super::operand(0, "object", &other))),
    };
    let body: Vec<u8> = match (get(request, "raw_body"), get(request, "body")) {
        (Some(raw), _) => text(&raw).into_bytes(),
        (None, Some(b)) => crate::base::gojson::to_string(
            &crate::base::value::to_json(&b),
            crate::base::gojson::Indent::Compact,
        )
        .into_bytes(),
        (None, None) => Vec::new(),
    };
    let (host, path, query) = split_url(&url);
    let payload = if unsigned {
        "UNSIGNED-PAYLOAD".to_string()
    } else {
        hex::encode(Sha256::digest(&body))
    };
    let when = chrono::DateTime::from_timestamp(ns.div_euclid(1_000_000_000), 0)
        .ok_or_else(|| Fault::Opa("time out of range".into()))?;
    let date = when.format("%Y%m%d").to_string();
    let stamp = when.format("%Y%m%dT%H%M%SZ").to_string();

    let mut aws: BTreeMap<String, String> = BTreeMap::new();
    aws.insert("host".into(), host);
    aws.insert("x-amz-date".into(), stamp.clone());
    if service == "s3" || service == "glacier" {
        aws.insert("x-amz-content-sha256".into(), payload.clone());
    }
    if !token.is_empty() {
        aws.insert("x-amz-security-token".into(), token);
    }
    let mut signed: BTreeMap<String, String> = aws.clone();
    for (k, v) in &headers {
        let lower = k.to_lowercase();
        if !IGNORED.contains(&lower.as_str()) {
            signed.insert(lower, v.clone());
        }
    }
    let mut canonical = format!("{method}\n{}\n{query}\n", escaped_path(&path));
    for (k, v) in &signed {
        canonical.push_str(&format!("{k}:{v}\n"));
    }
    let list: Vec<&str> = signed.keys().map(String::as_str).collect();
    let list = list.join(";");
    canonical.push_str(&format!("\n{list}\n{payload}"));
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), &date);
    for part in [region.as_str(), service.as_str(), "aws4_request"] {
        key = hmac(&key, part);
    }
    let signature = hex::encode(hmac(&key, &to_sign));
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={access}/{scope},SignedHeaders={list},Signature={signature}"
    );

    let mut out_headers: BTreeMap<Value, Value> = headers
        .iter()
        .map(|(k, v)| (Value::from(k.as_str()), Value::from(v.as_str())))
        .collect();
    out_headers.insert(Value::from("Authorization"), Value::from(auth));
    for (k, v) in aws {
        out_headers.insert(Value::from(k), Value::from(v));
    }
    let mut out = request.clone();
    if let Ok(fields) = out.as_object_mut() {
        fields.insert(Value::from("headers"), Value::from(out_headers));
    }
    Ok(out)
}

/// `{"a", "b"}` items of an OPA set's text.
fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The host (with its port), raw path and raw query of a URL, as Go's `url.Parse` splits them.
fn split_url(url: &str) -> (String, String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    (host.to_string(), path.to_string(), query.to_string())
}

/// Whether Go leaves `c` as it is in a path.
fn path_safe(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&c)
}

/// Go's `URL.EscapedPath`: the path as written when that is a valid encoding, else the
/// decoded path escaped.
fn escaped_path(raw: &str) -> String {
    let valid = raw
        .bytes()
        .all(|c| path_safe(c) || b"%!'()*[]".contains(&c));
    if valid {
        return raw.to_string();
    }
    let mut decoded = Vec::new();
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&raw[i + 1..i + 3], 16) {
                decoded.push(v);
                i += 3;
                continue;
            }
        }
        decoded.push(b[i]);
        i += 1;
    }
    decoded
        .iter()
        .map(|&c| {
            if path_safe(c) {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_escape_as_go() {
        assert_eq!(escaped_path("/a/b c"), "/a/b%20c");
        assert_eq!(escaped_path("/a/b%20c"), "/a/b%20c");
        assert_eq!(escaped_path("/x(1)"), "/x(1)");
        assert_eq!(
            split_url("https://u@h:8443/p?q=1#f"),
            ("h:8443".into(), "/p".into(), "q=1".into())
        );
    }
}
