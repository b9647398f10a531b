//! Keys as OPA's token built-ins read them: a PEM certificate or public key, or a JWK or
//! JWK set, and the JWS signatures they make and check (RustCrypto crates; no cryptography
//! written here).

use super::base64url;
use rsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rsa::BoxedUint;
use serde_json::Value as Json;
use sha2::Digest;

/// The JWS algorithms OPA knows; a JWK naming another is skipped.
pub const ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256",
    "HS384", "HS512", "EdDSA",
];

/// A key that checks signatures.
pub enum Public {
    Rsa(rsa::PublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    /// A JWK `oct` key: an HMAC secret.
    Secret(Vec<u8>),
}

/// A key that makes signatures.
pub enum Private {
    Rsa(Box<rsa::PrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Secret(Vec<u8>),
}

/// A key to verify with, with the `alg` and `kid` its JWK names (empty when none).
pub struct Entry {
    pub key: Public,
    pub alg: String,
    pub kid: String,
}

/// The keys of `text`: a PEM `CERTIFICATE` or `PUBLIC KEY` block, else a JWK or JWK set.
pub fn verification_keys(text: &str) -> Result<Vec<Entry>, String> {
    if let Ok((rest, pem)) = x509_parser::pem::parse_x509_pem(text.as_bytes()) {
        if !rest.is_empty() {
            return Err("extra data after a PEM certificate block".into());
        }
        let key = match pem.label.as_str() {
            "CERTIFICATE" => {
                let (_, cert) = x509_parser::parse_x509_certificate(&pem.contents)
                    .map_err(|e| format!("failed to parse a PEM certificate: {e}"))?;
                spki(cert.tbs_certificate.subject_pki.raw)
                    .map_err(|e| format!("failed to parse a PEM certificate: {e}"))?
            }
            "PUBLIC KEY" => {
                spki(&pem.contents).map_err(|e| format!("failed to parse a PEM public key: {e}"))?
            }
            _ => return Err("failed to extract a Key from the PEM certificate".into()),
        };
        return Ok(vec![Entry {
            key,
            alg: String::new(),
            kid: String::new(),
        }]);
    }
    let mut out = Vec::new();
    for jwk in jwk_set(text)? {
        let alg = field(&jwk, "alg").unwrap_or_default();
        if !alg.is_empty() && !ALGORITHMS.contains(&alg.as_str()) {
            continue;
        }
        out.push(Entry {
            key: public_jwk(&jwk)?,
            alg,
            kid: field(&jwk, "kid").unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The first key of a JWK or JWK set, to sign with.
pub fn signing_key(text: &str) -> Result<Private, String> {
    let jwk = jwk_set(text)?
        .into_iter()
        .next()
        .ok_or("no keys found in JWK set")?;
    let need = |name: &str| -> Result<Vec<u8>, String> {
        let text = field(&jwk, name).ok_or(format!("failed to sign: missing \"{name}\""))?;
        base64url(&text).map_err(|e| format!("failed to decode \"{name}\": {e}"))
    };
    let curve = field(&jwk, "crv").unwrap_or_default();
    let bad = |e: String| format!("failed to sign: invalid key: {e}");
    match field(&jwk, "kty").as_deref() {
        Some("oct") => Ok(Private::Secret(need("k")?)),
        Some("RSA") => {
            let n = need("n")?;
            let bits = (n.len() * 8) as u32;
            let uint = |b: &[u8], bits: u32| {
                BoxedUint::from_be_slice(b, bits).map_err(|e| bad(format!("{e:?}")))
            };
            let e = need("e")?;
            let key = rsa::PrivateKey::from_components(
                uint(&n, bits)?,
                uint(&e, (e.len() * 8) as u32)?,
                uint(&need("d")?, bits)?,
                vec![uint(&need("p")?, bits)?, uint(&need("q")?, bits)?],
            )
            .map_err(|e| bad(e.to_string()))?;
            Ok(Private::Rsa(Box::new(key)))
        }
        Some("EC") => {
            let d = need("d")?;
            match curve.as_str() {
                "P-256" => p256::ecdsa::SigningKey::from_slice(&d).map(Private::P256),
                "P-384" => p384::ecdsa::SigningKey::from_slice(&d).map(Private::P384),
                "P-521" => p521::ecdsa::SigningKey::from_slice(&d).map(Private::P521),
                other => return Err(format!("unsupported curve {other:?}")),
            }
            .map_err(|e| bad(e.to_string()))
        }
        Some("OKP") if curve == "Ed25519" => {
            let d: [u8; 32] = need("d")?
                .try_into()
                .map_err(|_| bad("an Ed25519 key has 32 bytes".into()))?;
            Ok(Private::Ed25519(ed25519_dalek::SigningKey::from_bytes(&d)))
        }
        other => Err(format!("unsupported key type {other:?}")),
    }
}

/// The hash of a JWS algorithm, from its digits.
fn digest(alg: &str, input: &[u8]) -> Vec<u8> {
    if alg.ends_with("384") {
        sha2::Sha384::digest(input).to_vec()
    } else if alg.ends_with("512") {
        sha2::Sha512::digest(input).to_vec()
    } else {
        sha2::Sha256::digest(input).to_vec()
    }
}

/// Whether `sig` is `alg`'s signature of `input` under `key`. As Go's verifiers: an ECDSA
/// algorithm's hash is checked with whatever curve the key is on.
pub fn verify(key: &Public, alg: &str, input: &[u8], sig: &[u8]) -> bool {
    let hashed = digest(alg, input);
    // A token's header may name any `alg`: no prefix, no match.
    let family = alg.get(..2).unwrap_or_default();
    match (key, family) {
        (Public::Rsa(k), "RS") => {
            let scheme = match alg {
                "RS384" => rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha384>(),
                "RS512" => rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha512>(),
                _ => rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha256>(),
            };
            k.verify(scheme, &hashed, sig).is_ok()
        }
        (Public::Rsa(k), "PS") => {
            // Go's VerifyPSS with no options detects the salt length.
            let ok = match alg {
                "PS384" => k.verify(pss_auto::<sha2::Sha384>(), &hashed, sig),
                "PS512" => k.verify(pss_auto::<sha2::Sha512>(), &hashed, sig),
                _ => k.verify(pss_auto::<sha2::Sha256>(), &hashed, sig),
            };
            ok.is_ok()
        }
        (Public::P256(k), "ES") => p256::ecdsa::Signature::from_slice(sig)
            .is_ok_and(|s| k.verify_prehash(&hashed, &s).is_ok()),
        (Public::P384(k), "ES") => p384::ecdsa::Signature::from_slice(sig)
            .is_ok_and(|s| k.verify_prehash(&hashed, &s).is_ok()),
        (Public::P521(k), "ES") => p521::ecdsa::Signature::from_slice(sig)
            .is_ok_and(|s| k.verify_prehash(&hashed, &s).is_ok()),
        (Public::Ed25519(k), "Ed") => ed25519_dalek::Signature::from_slice(sig)
            .is_ok_and(|s| k.verify_strict(input, &s).is_ok()),
        (Public::Secret(secret), "HS") => hmac_ok(alg, secret, input, sig),
        _ => false,
    }
}

fn pss_auto<D: Digest>() -> rsa::Pss<D> {
    rsa::Pss {
        blinded: false,
        digest: D::new(),
        salt_len: None,
    }
}

/// The HMAC of `input` under `secret` for `HS256`, `HS384` or `HS512`.
fn hmac_of(alg: &str, secret: &[u8], input: &[u8]) -> Vec<u8> {
    fn mac<M: hmac::Mac + hmac::KeyInit>(secret: &[u8], input: &[u8]) -> Vec<u8> {
        super::crypto::keyed::<M>(secret, input)
            .map(|m| m.finalize().into_bytes().to_vec())
            .unwrap_or_default()
    }
    match alg {
        "HS384" => mac::<hmac::Hmac<sha2::Sha384>>(secret, input),
        "HS512" => mac::<hmac::Hmac<sha2::Sha512>>(secret, input),
        _ => mac::<hmac::Hmac<sha2::Sha256>>(secret, input),
    }
}

/// Whether `sig` is the HMAC of `input` under `secret`, compared in constant time.
pub fn hmac_ok(alg: &str, secret: &[u8], input: &[u8], sig: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(hmac_of(alg, secret, input).ct_eq(sig))
}

/// `alg`'s signature of `input` under `key`.
pub fn sign(key: &Private, alg: &str, input: &[u8]) -> Result<Vec<u8>, String> {
    let hashed = digest(alg, input);
    let failed = |e: String| format!("failed to sign payload: {e}");
    match (key, alg.get(..2).unwrap_or_default()) {
        (Private::Secret(secret), "HS") => Ok(hmac_of(alg, secret, input)),
        (Private::Rsa(k), "RS") => {
            let scheme = match alg {
                "RS384" => rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha384>(),
                "RS512" => rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha512>(),
                _ => rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha256>(),
            };
            k.sign(scheme, &hashed).map_err(|e| failed(e.to_string()))
        }
        (Private::Rsa(k), "PS") => match alg {
            "PS384" => k.sign(rsa::Pss::<sha2::Sha384>::new(), &hashed),
            "PS512" => k.sign(rsa::Pss::<sha2::Sha512>::new(), &hashed),
            _ => k.sign(rsa::Pss::<sha2::Sha256>::new(), &hashed),
        }
        .map_err(|e| failed(e.to_string())),
        (Private::P256(k), "ES") => {
            PrehashSigner::<p256::ecdsa::Signature>::sign_prehash(k, &hashed)
                .map(|s| s.to_bytes().to_vec())
                .map_err(|e| failed(e.to_string()))
        }
        (Private::P384(k), "ES") => {
            PrehashSigner::<p384::ecdsa::Signature>::sign_prehash(k, &hashed)
                .map(|s| s.to_bytes().to_vec())
                .map_err(|e| failed(e.to_string()))
        }
        (Private::P521(k), "ES") => {
            PrehashSigner::<p521::ecdsa::Signature>::sign_prehash(k, &hashed)
                .map(|s| s.to_bytes().to_vec())
                .map_err(|e| failed(e.to_string()))
        }
        (Private::Ed25519(k), "Ed") => {
            use ed25519_dalek::Signer;
            Ok(k.sign(input).to_bytes().to_vec())
        }
        _ => Err(format!("failed to sign payload: key does not fit {alg}")),
    }
}

/// Whether `sig` is a certificate signature of `tbs` under the DER `SubjectPublicKeyInfo`
/// `issuer`, for Go's `SignatureAlgorithm` number `alg`. Go refuses MD2, MD5 and SHA-1
/// signatures and DSA; so does this.
pub fn certificate_signature_ok(issuer: &[u8], alg: i64, tbs: &[u8], sig: &[u8]) -> bool {
    let Ok(key) = spki(issuer) else {
        return false;
    };
    let hash = match alg {
        4 | 10 | 13 => "256",
        5 | 11 | 14 => "384",
        6 | 12 | 15 => "512",
        16 => "",
        _ => return false,
    };
    let hashed = digest(hash, tbs);
    match (alg, &key) {
        (4..=6, Public::Rsa(_)) => verify(&key, &format!("RS{hash}"), tbs, sig),
        (13..=15, Public::Rsa(_)) => verify(&key, &format!("PS{hash}"), tbs, sig),
        (10..=12, Public::P256(k)) => p256::ecdsa::DerSignature::from_bytes(sig)
            .is_ok_and(|s| k.verify_prehash(&hashed, &s).is_ok()),
        (10..=12, Public::P384(k)) => p384::ecdsa::DerSignature::from_bytes(sig)
            .is_ok_and(|s| k.verify_prehash(&hashed, &s).is_ok()),
        (10..=12, Public::P521(k)) => p521::ecdsa::DerSignature::from_bytes(sig)
            .is_ok_and(|s| k.verify_prehash(&hashed, &s).is_ok()),
        (16, Public::Ed25519(_)) => verify(&key, "EdDSA", tbs, sig),
        _ => false,
    }
}

/// The public key of a DER `SubjectPublicKeyInfo`.
fn spki(der: &[u8]) -> Result<Public, String> {
    use rsa::pkcs8::DecodePublicKey as _;
    if let Ok(k) = rsa::PublicKey::from_public_key_der(der) {
        return Ok(Public::Rsa(k));
    }
    if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
        return Ok(Public::P256(k));
    }
    if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
        return Ok(Public::P384(k));
    }
    if let Ok(k) = p521::ecdsa::VerifyingKey::from_public_key_der(der) {
        return Ok(Public::P521(k));
    }
    ed25519_dalek::VerifyingKey::from_public_key_der(der)
        .map(Public::Ed25519)
        .map_err(|_| "x509: unknown public key algorithm".to_string())
}

/// The keys of a JWK (one) or a JWK set (its `keys`).
fn jwk_set(text: &str) -> Result<Vec<Json>, String> {
    let parsed: Json =
        serde_json::from_str(text).map_err(|e| format!("failed to parse a JWK key (set): {e}"))?;
    match parsed {
        Json::Object(mut o) if o.contains_key("keys") => match o.remove("keys") {
            Some(Json::Array(keys)) => Ok(keys),
            _ => Err("failed to parse a JWK key (set): \"keys\" must be an array".into()),
        },
        v @ Json::Object(_) => Ok(vec![v]),
        _ => Err("failed to parse a JWK key (set): not an object".into()),
    }
}

fn field(jwk: &Json, name: &str) -> Option<String> {
    jwk.get(name).and_then(Json::as_str).map(str::to_string)
}

/// The public key of a JWK.
fn public_jwk(jwk: &Json) -> Result<Public, String> {
    let need = |name: &str| -> Result<Vec<u8>, String> {
        let text = field(jwk, name).ok_or(format!(
            "failed to parse a JWK key (set): missing \"{name}\""
        ))?;
        base64url(&text).map_err(|e| format!("failed to parse a JWK key (set): {e}"))
    };
    let bad = |e: String| format!("failed to parse a JWK key (set): {e}");
    match field(jwk, "kty").as_deref() {
        Some("oct") => Ok(Public::Secret(need("k")?)),
        Some("RSA") => {
            let (n, e) = (need("n")?, need("e")?);
            let uint = |b: &[u8]| BoxedUint::from_be_slice_vartime(b);
            rsa::PublicKey::new(uint(&n), uint(&e))
                .map(Public::Rsa)
                .map_err(|e| bad(e.to_string()))
        }
        Some("EC") => {
            let mut point = vec![4u8];
            point.extend(need("x")?);
            point.extend(need("y")?);
            match field(jwk, "crv").as_deref() {
                Some("P-256") => {
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map(Public::P256)
                }
                Some("P-384") => {
                    p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).map(Public::P384)
                }
                Some("P-521") => {
                    p521::ecdsa::VerifyingKey::from_sec1_bytes(&point).map(Public::P521)
                }
                other => return Err(bad(format!("unsupported curve {other:?}"))),
            }
            .map_err(|e| bad(e.to_string()))
        }
        Some("OKP") => {
            let x: [u8; 32] = need("x")?
                .try_into()
                .map_err(|_| bad("an Ed25519 key has 32 bytes".into()))?;
            ed25519_dalek::VerifyingKey::from_bytes(&x)
                .map(Public::Ed25519)
                .map_err(|e| bad(e.to_string()))
        }
        other => Err(bad(format!("unsupported key type {other:?}"))),
    }
}
