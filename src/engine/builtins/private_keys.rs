//! OPA's `crypto.parse_private_keys` (each key as Go's key struct marshals to JSON),
//! `crypto.x509.parse_rsa_private_key` (the first key as a JWK) and
//! `crypto.x509.parse_keypair` (Go's `tls.Certificate`), from PEM blocks of type
//! `RSA PRIVATE KEY` (PKCS #1), `PRIVATE KEY` (PKCS #8) and `EC PRIVATE KEY` (SEC 1),
//! read with RustCrypto's `rsa`, `p256`/`p384`/`p521` and `ed25519-dalek`.

use super::x509::{big, ec_public, object, rsa_public};
use super::{string_arg, Fault};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use regorus::Value;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};

/// A built-in's body.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Name, arity and body of each built-in of this namespace.
pub const ALL: &[(&str, u8, Body)] = &[
    ("crypto.parse_private_keys", 1, parse_private_keys),
    (
        "crypto.x509.parse_rsa_private_key",
        1,
        parse_rsa_private_key,
    ),
    ("crypto.x509.parse_keypair", 2, parse_keypair),
];

/// `crypto.x509.parse_keypair`: Go's `tls.X509KeyPair` as JSON.
fn parse_keypair(args: &[Value]) -> Result<Value, Fault> {
    // Either is PEM, or base64 of PEM or of DER (a certificate, a PKCS #8 key).
    let certs = super::pem_or_base64(string_arg(args, 1)?, "-----BEGIN ")?;
    let key_text = super::pem_or_base64(string_arg(args, 2)?, "-----BEGIN ")?;
    let ders: Vec<Vec<u8>> = if certs.starts_with(b"-----BEGIN") {
        x509_parser::pem::Pem::iter_from_buffer(&certs)
            .map_while(Result::ok)
            .filter(|p| p.label == "CERTIFICATE")
            .map(|p| p.contents)
            .collect()
    } else {
        vec![certs]
    };
    let Some(first) = ders.first() else {
        return Err(Fault::Opa(
            "tls: failed to find any PEM data in certificate input".into(),
        ));
    };
    let mut leaf = super::x509::certificate(first)?;
    if let Ok(fields) = leaf.as_object_mut() {
        fields.remove(&Value::from("URIStrings"));
    }
    let key = if key_text.starts_with(b"-----BEGIN") {
        keys(&key_text)?.into_iter().next()
    } else {
        block_key("PRIVATE KEY", &key_text)?
    }
    .ok_or_else(|| Fault::Opa("tls: failed to find any PEM data in key input".into()))?;
    let (algorithm, public) = match &key {
        Key::Rsa(k) => {
            let [n, e, ..] = rsa_parts(k);
            (1, rsa_public(&n, &e))
        }
        Key::Ec { x, y, .. } => (3, ec_public(x, y)),
        Key::Ed25519(b) => (4, Value::from(STANDARD.encode(&b[32..]))),
    };
    if leaf[&Value::from("PublicKeyAlgorithm")] != Value::from(algorithm) {
        return Err(Fault::Opa(
            "tls: private key type does not match public key type".into(),
        ));
    }
    if leaf[&Value::from("PublicKey")] != public {
        return Err(Fault::Opa(
            "tls: private key does not match public key".into(),
        ));
    }
    Ok(object(vec![
        (
            "Certificate",
            Value::from(
                ders.iter()
                    .map(|d| Value::from(STANDARD.encode(d)))
                    .collect::<Vec<_>>(),
            ),
        ),
        ("Leaf", leaf),
        ("OCSPStaple", Value::Null),
        ("PrivateKey", go_value(&key)),
        ("SignedCertificateTimestamps", Value::Null),
        ("SupportedSignatureAlgorithms", Value::Null),
    ]))
}

/// A private key as Go parses it.
enum Key {
    Rsa(Box<rsa::PrivateKey>),
    /// The curve's name for JWK, the scalar, and the public point's coordinates.
    Ec {
        crv: &'static str,
        d: Vec<u8>,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// Seed and public key.
    Ed25519(Vec<u8>),
}

fn parse_private_keys(args: &[Value]) -> Result<Value, Fault> {
    let text = string_arg(args, 1)?;
    if text.is_empty() {
        return Ok(Value::Null);
    }
    // Base64 of PEM is read as the PEM it encodes.
    let decoded = STANDARD.decode(text).ok();
    let pem = decoded.as_deref().unwrap_or(text.as_bytes());
    let keys = keys(pem)?;
    Ok(Value::from(keys.iter().map(go_value).collect::<Vec<_>>()))
}

fn parse_rsa_private_key(args: &[Value]) -> Result<Value, Fault> {
    let text = string_arg(args, 1)?;
    if text.is_empty() {
        return Err(Fault::Opa("input PEM data was empty".into()));
    }
    let pem = super::pem_or_base64(text, "-----BEGIN")?;
    Ok(keys(&pem)?.first().map_or(Value::Null, jwk))
}

/// The private keys of the PEM blocks in `pem` (blocks of other types are skipped).
fn keys(pem: &[u8]) -> Result<Vec<Key>, Fault> {
    let mut out = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(pem) {
        let Ok(block) = block else { break };
        out.extend(block_key(&block.label, &block.contents)?);
    }
    Ok(out)
}

/// The key of one PEM block's DER, by its label (`None` for other labels).
fn block_key(label: &str, der: &[u8]) -> Result<Option<Key>, Fault> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let bad = |what: &str| Fault::Opa(format!("x509: failed to parse {what}"));
    Ok(Some(match label {
        "RSA PRIVATE KEY" => Key::Rsa(Box::new(
            rsa::PrivateKey::from_pkcs1_der(der).map_err(|_| bad("private key"))?,
        )),
        "EC PRIVATE KEY" => ec_key(der, true).ok_or_else(|| bad("EC private key"))?,
        "PRIVATE KEY" => {
            if let Ok(k) = rsa::PrivateKey::from_pkcs8_der(der) {
                Key::Rsa(Box::new(k))
            } else if let Some(k) = ec_key(der, false) {
                k
            } else if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
                Key::Ed25519(k.to_keypair_bytes().to_vec())
            } else {
                return Err(bad("private key"));
            }
        }
        _ => return Ok(None),
    }))
}

/// An EC key from SEC 1 (`sec1`) or PKCS #8 DER, on any of the NIST curves.
fn ec_key(der: &[u8], sec1: bool) -> Option<Key> {
    macro_rules! try_curve {
        ($curve:ident, $name:expr) => {{
            use $curve::pkcs8::DecodePrivateKey;
            let key = if sec1 {
                $curve::SecretKey::from_sec1_der(der).ok()
            } else {
                $curve::SecretKey::from_pkcs8_der(der).ok()
            };
            if let Some(k) = key {
                let point = k.public_key().to_sec1_bytes();
                let half = (point.len() - 1) / 2;
                return Some(Key::Ec {
                    crv: $name,
                    d: k.to_bytes().to_vec(),
                    x: point[1..1 + half].to_vec(),
                    y: point[1 + half..].to_vec(),
                });
            }
        }};
    }
    try_curve!(p256, "P-256");
    try_curve!(p384, "P-384");
    try_curve!(p521, "P-521");
    None
}

fn uint_bytes(u: &rsa::BoxedUint) -> Vec<u8> {
    u.to_be_bytes().to_vec()
}

/// The RSA key's values, big-endian: n, e, d, primes, dp, dq, qinv.
fn rsa_parts(k: &rsa::PrivateKey) -> [Vec<u8>; 8] {
    let primes = k.primes();
    let p = primes.first().map(|p| uint_bytes(p)).unwrap_or_default();
    let q = primes.get(1).map(|q| uint_bytes(q)).unwrap_or_default();
    [
        uint_bytes(k.n()),
        uint_bytes(k.e()),
        uint_bytes(k.d()),
        p,
        q,
        k.dp().map(uint_bytes).unwrap_or_default(),
        k.dq().map(uint_bytes).unwrap_or_default(),
        k.crt_coefficient()
            .map(|c| uint_bytes(&c))
            .unwrap_or_default(),
    ]
}

/// The key as Go's `json.Marshal` writes `*rsa.PrivateKey`, `*ecdsa.PrivateKey` or
/// `ed25519.PrivateKey`.
fn go_value(key: &Key) -> Value {
    match key {
        Key::Rsa(k) => {
            let [n, e, d, p, q, dp, dq, qinv] = rsa_parts(k);
            object(vec![
                ("D", big(&d)),
                ("E", big(&e)),
                ("N", big(&n)),
                (
                    "Precomputed",
                    object(vec![
                        ("CRTValues", Value::from(Vec::<Value>::new())),
                        ("Dp", big(&dp)),
                        ("Dq", big(&dq)),
                        ("Qinv", big(&qinv)),
                    ]),
                ),
                ("Primes", Value::from(vec![big(&p), big(&q)])),
            ])
        }
        Key::Ec { d, x, y, .. } => {
            // Go's private key adds `D` to its public key's fields.
            let mut v = ec_public(x, y);
            if let Ok(fields) = v.as_object_mut() {
                fields.insert(Value::from("D"), big(d));
            }
            v
        }
        Key::Ed25519(b) => Value::from(STANDARD.encode(b)),
    }
}

/// Minimal big-endian bytes (JWK integers have no leading zeros).
fn trimmed(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|&x| x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    &b[start..]
}

/// The key as a JWK, with OPA's members.
fn jwk(key: &Key) -> Value {
    let enc = |b: &[u8]| Value::from(URL_SAFE_NO_PAD.encode(trimmed(b)));
    match key {
        Key::Rsa(k) => {
            let [n, e, d, p, q, dp, dq, qi] = rsa_parts(k);
            object(vec![
                ("d", enc(&d)),
                ("dp", enc(&dp)),
                ("dq", enc(&dq)),
                ("e", enc(&e)),
                ("kty", Value::from("RSA")),
                ("n", enc(&n)),
                ("p", enc(&p)),
                ("q", enc(&q)),
                ("qi", enc(&qi)),
            ])
        }
        Key::Ec { crv, d, x, y } => {
            // Coordinates keep the curve's full width, as JWK requires.
            let full = |b: &[u8]| Value::from(URL_SAFE_NO_PAD.encode(b));
            object(vec![
                ("crv", Value::from(*crv)),
                ("d", full(d)),
                ("kty", Value::from("EC")),
                ("x", full(x)),
                ("y", full(y)),
            ])
        }
        Key::Ed25519(b) => object(vec![
            ("crv", Value::from("Ed25519")),
            ("d", Value::from(URL_SAFE_NO_PAD.encode(&b[..32]))),
            ("kty", Value::from("OKP")),
            ("x", Value::from(URL_SAFE_NO_PAD.encode(&b[32..]))),
        ]),
    }
}
