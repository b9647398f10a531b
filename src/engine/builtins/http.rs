//! `http.send`, as OPA sends it: regorus 0.14's is always undefined, so every rule using
//! it silently passed. On the `ureq` crate (rustls, Mozilla's roots unless the request
//! names its own CA).
//!
//! Left out: OPA's response caches (`cache`, `force_cache`: each call is sent), Unix
//! sockets, and `allow_net`. Request keys, their errors, `raise_error`, redirects, timeouts,
//! retries, TLS options and the response object are OPA's.

use super::Fault;
use crate::base::gojson::{self, Indent};
use regorus::Value;
use serde_json::Value as Json;
use std::time::Duration;

/// The request keys OPA accepts.
const ALLOWED: &[&str] = &[
    "method",
    "url",
    "body",
    "enable_redirect",
    "force_json_decode",
    "force_yaml_decode",
    "headers",
    "raw_body",
    "tls_use_system_certs",
    "tls_ca_cert",
    "tls_ca_cert_file",
    "tls_ca_cert_env_variable",
    "tls_client_cert",
    "tls_client_cert_file",
    "tls_client_cert_env_variable",
    "tls_client_key",
    "tls_client_key_file",
    "tls_client_key_env_variable",
    "tls_insecure_skip_verify",
    "tls_server_name",
    "timeout",
    "cache",
    "force_cache",
    "force_cache_duration_seconds",
    "raise_error",
    "caching_mode",
    "max_retry_attempts",
    "cache_ignored_headers",
];

/// Keys whose value must be a string.
const STRINGS: &[&str] = &[
    "method",
    "url",
    "raw_body",
    "tls_ca_cert",
    "tls_ca_cert_file",
    "tls_ca_cert_env_variable",
    "tls_client_cert",
    "tls_client_cert_file",
    "tls_client_cert_env_variable",
    "tls_client_key",
    "tls_client_key_file",
    "tls_client_key_env_variable",
    "tls_server_name",
];

/// Go's `http.Client` default in OPA.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The most of a response body regorun reads (OPA has no limit; this keeps a hostile
/// server from exhausting memory).
const BODY_LIMIT: u64 = 256 * 1024 * 1024;

/// Why a request failed, as OPA classifies it for `raise_error: false`.
enum Failure {
    /// The request could not be made or answered (Go's `*url.Error`).
    Network(String),
    /// Anything else.
    Internal(String),
}

/// `http.send(request)`.
pub fn send(args: &[Value]) -> Result<Value, Fault> {
    let Value::Object(_) = &args[0] else {
        return Err(Fault::Opa(format!(
            "operand 1 must be object but got {}",
            super::type_name(&args[0])
        )));
    };
    let request = crate::base::value::to_json(&args[0]);
    let raise = match request.get("raise_error") {
        None => true,
        Some(Json::Bool(b)) => *b,
        Some(_) => return Err(Fault::Opa("invalid value for raise_error field".into())),
    };
    let outcome = validate(&request).and_then(|()| perform(&request));
    let failure = match outcome {
        Ok(response) => {
            return crate::base::value::to_rego(response).map_err(|e| Fault::Opa(e.to_string()))
        }
        Err(f) => f,
    };
    if raise {
        let (Failure::Network(text) | Failure::Internal(text)) = failure;
        return Err(Fault::Opa(text));
    }
    let (code, message) = match failure {
        Failure::Network(m) => ("eval_http_send_network_error", m),
        Failure::Internal(m) => ("eval_http_send_internal_error", m),
    };
    let result = serde_json::json!({
        "status_code": 0,
        "error": {"code": code, "message": message},
    });
    crate::base::value::to_rego(result).map_err(|e| Fault::Opa(e.to_string()))
}

/// A set of strings as OPA prints it: `{"a", "b"}`.
fn rego_set(items: &[&str]) -> String {
    let mut items = items.to_vec();
    items.sort();
    let quoted: Vec<String> = items.iter().map(|s| crate::base::gostr::quote(s)).collect();
    format!("{{{}}}", quoted.join(", "))
}

/// OPA's checks of the request's keys.
fn validate(request: &Json) -> Result<(), Failure> {
    let keys: Vec<&str> = request
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let invalid: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| !ALLOWED.contains(k))
        .collect();
    if !invalid.is_empty() {
        return Err(Failure::Internal(format!(
            "operand 1 invalid request parameters(s): {}",
            rego_set(&invalid)
        )));
    }
    let missing: Vec<&str> = ["method", "url"]
        .into_iter()
        .filter(|k| !keys.contains(k))
        .collect();
    if !missing.is_empty() {
        return Err(Failure::Internal(format!(
            "operand 1 missing required request parameters(s): {}",
            rego_set(&missing)
        )));
    }
    Ok(())
}

/// A boolean option (absent is false); OPA reads it with Go's `strconv.ParseBool` of its
/// Rego text.
fn flag(request: &Json, key: &str) -> Result<bool, Failure> {
    match request.get(key) {
        None => Ok(false),
        Some(Json::Bool(b)) => Ok(*b),
        Some(v) => {
            let text = match v {
                Json::String(s) => crate::base::gostr::quote(s),
                other => other.to_string(),
            };
            crate::base::gostr::parse_go_bool(&text).map_err(Failure::Internal)
        }
    }
}

/// OPA's `timeout`: nanoseconds as a number or a string, or a Go duration.
fn timeout(v: &Json) -> Result<Duration, Failure> {
    match v {
        Json::Number(n) => n
            .as_i64()
            .map(|ns| Duration::from_nanos(ns.max(0) as u64))
            .ok_or_else(|| {
                Failure::Internal(format!("invalid timeout number value {n}, must be int64"))
            }),
        Json::String(s) => {
            if let Ok(ns) = s.parse::<i64>() {
                return Ok(Duration::from_nanos(ns.max(0) as u64));
            }
            crate::base::godur::parse(s).map_err(|e| {
                Failure::Internal(format!(
                    "invalid timeout value {}: {e}",
                    crate::base::gostr::quote(s)
                ))
            })
        }
        other => Err(Failure::Internal(format!(
            "operand 1 'timeout' must be one of {{string, number}} but got {}",
            json_type(other)
        ))),
    }
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// A PEM text from the request: inline, from a file, or from an environment variable.
fn pem_source(request: &Json, key: &str) -> Result<Option<Vec<u8>>, Failure> {
    let text = |k: &str| {
        request
            .get(k)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(inline) = text(key) {
        // OPA turns escaped newlines back into newlines.
        return Ok(Some(inline.replace("\\n", "\n").into_bytes()));
    }
    if let Some(path) = text(&format!("{key}_file")) {
        return std::fs::read(path)
            .map(Some)
            .map_err(|e| Failure::Internal(format!("open {path}: {e}")));
    }
    if let Some(var) = text(&format!("{key}_env_variable")) {
        return Ok(Some(std::env::var(var).unwrap_or_default().into_bytes()));
    }
    Ok(None)
}

/// The TLS settings the request asks for.
fn tls(request: &Json) -> Result<ureq::tls::TlsConfig, Failure> {
    use ureq::tls::{parse_pem, ClientCert, PemItem, RootCerts, TlsConfig};
    let mut config = TlsConfig::builder();
    if flag(request, "tls_insecure_skip_verify")? {
        config = config.disable_verification(true);
    }
    if let Some(pem) = pem_source(request, "tls_ca_cert")? {
        let certs: Vec<_> = parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(Failure::Internal(
                "could not append certificates from PEM".into(),
            ));
        }
        config = config.root_certs(RootCerts::new_with_certs(&certs));
    }
    let cert = pem_source(request, "tls_client_cert")?;
    let key = pem_source(request, "tls_client_key")?;
    if let (Some(cert), Some(key)) = (cert, key) {
        let chain: Vec<_> = parse_pem(&cert)
            .filter_map(|item| match item {
                Ok(PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        let key = parse_pem(&key).find_map(|item| match item {
            Ok(PemItem::PrivateKey(k)) => Some(k),
            _ => None,
        });
        let (false, Some(key)) = (chain.is_empty(), key) else {
            return Err(Failure::Internal(
                "tls: failed to find any PEM data in certificate or key input".into(),
            ));
        };
        config = config.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
    }
    Ok(config.build())
}

/// Go's `http.CanonicalHeaderKey`.
fn canonical_header(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// Sends the request and shapes the response as OPA does.
fn perform(request: &Json) -> Result<Json, Failure> {
    for (key, value) in request.as_object().into_iter().flatten() {
        if STRINGS.contains(&key.as_str()) && !value.is_string() {
            return Err(Failure::Internal(format!("\"{key}\" must be a string")));
        }
    }
    let text = |k: &str| request.get(k).and_then(Json::as_str).unwrap_or_default();
    let method = text("method").to_uppercase();
    let url = text("url").to_string();
    let redirects = flag(request, "enable_redirect")?;
    let wait = match request.get("timeout") {
        Some(v) => timeout(v)?,
        None => DEFAULT_TIMEOUT,
    };
    let retries = match request.get("max_retry_attempts") {
        None => 0,
        Some(v) => v.as_u64().ok_or_else(|| {
            Failure::Internal(format!(
                "invalid value {v} for field \"max_retry_attempts\""
            ))
        })?,
    };
    let body: Vec<u8> = match (request.get("raw_body"), request.get("body")) {
        (Some(Json::String(raw)), _) => raw.clone().into_bytes(),
        (_, Some(b)) => gojson::to_string(b, Indent::Compact).into_bytes(),
        _ => Vec::new(),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(given) = request.get("headers") {
        let Json::Object(given) = given else {
            return Err(Failure::Internal("invalid type for headers key".into()));
        };
        for (name, value) in given {
            let Json::String(value) = value else {
                return Err(Failure::Internal(format!(
                    "invalid type for headers value {}",
                    crate::base::gostr::quote(&value.to_string())
                )));
            };
            headers.push((canonical_header(name), value.clone()));
        }
    }
    let build = || {
        let mut builder = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(url.as_str());
        for (name, value) in &headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder
            .body(body.clone())
            .map_err(|e| Failure::Internal(e.to_string()))
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(wait).filter(|d| !d.is_zero()))
        .http_status_as_error(false)
        .max_redirects(if redirects { 10 } else { 0 })
        .max_redirects_will_error(false)
        .tls_config(tls(request)?)
        .build()
        .into();
    // Go's url.Error text: `Get "http://...": reason`.
    let op = {
        let mut m = method.to_lowercase();
        if let Some(first) = m.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        m
    };
    let network = |e: &dyn std::fmt::Display| Failure::Network(format!("{op} \"{url}\": {e}"));
    let mut attempt = 0;
    let mut response = loop {
        match agent.run(build()?) {
            Ok(r) => break r,
            Err(e) if attempt >= retries => {
                return Err(match e {
                    ureq::Error::Timeout(_) => {
                        Failure::Network(format!("{op} {url}: request timed out"))
                    }
                    ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
                        Failure::Internal(e.to_string())
                    }
                    e => network(&e),
                });
            }
            Err(_) => {
                // OPA's backoff: 100 ms, doubling, at most a minute.
                let delay = 100u64.saturating_mul(1 << attempt.min(9)).min(60_000);
                std::thread::sleep(Duration::from_millis(delay));
                attempt += 1;
            }
        }
    };
    let raw = response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
        .map_err(|e| network(&e))?;
    let status = response.status();
    let mut received = serde_json::Map::new();
    for (name, value) in response.headers() {
        let entry = received
            .entry(name.as_str().to_lowercase())
            .or_insert_with(|| Json::Array(Vec::new()));
        if let Json::Array(values) = entry {
            values.push(Json::from(String::from_utf8_lossy(value.as_bytes())));
        }
    }
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let decoded = if flag(request, "force_json_decode")? || is_json(&content_type) {
        serde_json::from_slice::<Json>(&raw).unwrap_or(Json::Null)
    } else if flag(request, "force_yaml_decode")?
        || content_type.contains("application/yaml")
        || content_type.contains("application/x-yaml")
    {
        yaml(&raw)
    } else {
        Json::Null
    };
    Ok(serde_json::json!({
        "status": format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or_default()),
        "status_code": status.as_u16(),
        "body": decoded,
        "raw_body": String::from_utf8_lossy(&raw),
        "headers": received,
    }))
}

/// `application/json` or `application/*+json`, parameters ignored.
fn is_json(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media.split_once('/') {
        Some(("application", sub)) => sub == "json" || sub.ends_with("+json"),
        _ => false,
    }
}

/// A YAML body as a value (`null` when it does not parse, as OPA).
fn yaml(raw: &[u8]) -> Json {
    crate::parser::Parser::Yaml.parse(raw).unwrap_or(Json::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(request: &str) -> Result<Value, Fault> {
        send(&[Value::from_json_str(request).unwrap()])
    }

    #[test]
    fn request_keys_are_checked_as_opa() {
        assert_eq!(
            call(r#"{"method": "get", "url": "http://x", "bogus": 1, "abc": 2}"#),
            Err(Fault::Opa(
                "operand 1 invalid request parameters(s): {\"abc\", \"bogus\"}".into()
            ))
        );
        assert_eq!(
            call(r#"{"method": "get"}"#),
            Err(Fault::Opa(
                "operand 1 missing required request parameters(s): {\"url\"}".into()
            ))
        );
        assert_eq!(
            call(r#"{"method": "get", "url": "x", "raise_error": 1}"#),
            Err(Fault::Opa("invalid value for raise_error field".into()))
        );
        assert_eq!(
            send(&[Value::from("x")]),
            Err(Fault::Opa("operand 1 must be object but got string".into()))
        );
    }

    #[test]
    fn errors_become_objects_without_raise_error() {
        let v = call(r#"{"method": "get", "url": "http://x", "bogus": 1, "raise_error": false}"#)
            .unwrap();
        let json = crate::base::value::to_json(&v);
        assert_eq!(json["status_code"], 0);
        assert_eq!(json["error"]["code"], "eval_http_send_internal_error");
    }

    #[test]
    fn header_names_are_canonical() {
        assert_eq!(canonical_header("x-api-KEY"), "X-Api-Key");
        assert!(is_json("application/vnd.api+json; charset=utf-8"));
        assert!(!is_json("text/json"));
    }
}
