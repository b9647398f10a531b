//! OPA's `crypto.*` digests and HMACs, on the RustCrypto crates: lower-case hex of the
//! digest of a string's UTF-8 bytes, as OPA's Go code gives.

use super::{string_arg, Fault};
use hmac::{KeyInit, Mac};
use regorus::Value;
use sha2::Digest;

/// A built-in's body.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Name, arity and body of each built-in of this namespace.
pub const ALL: &[(&str, u8, Body)] = &[
    ("crypto.md5", 1, |a| digest::<md5::Md5>(a)),
    ("crypto.sha1", 1, |a| digest::<sha1::Sha1>(a)),
    ("crypto.sha256", 1, |a| digest::<sha2::Sha256>(a)),
    ("crypto.hmac.md5", 2, |a| hmac::<hmac::Hmac<md5::Md5>>(a)),
    ("crypto.hmac.sha1", 2, |a| hmac::<hmac::Hmac<sha1::Sha1>>(a)),
    ("crypto.hmac.sha256", 2, |a| {
        hmac::<hmac::Hmac<sha2::Sha256>>(a)
    }),
    ("crypto.hmac.sha512", 2, |a| {
        hmac::<hmac::Hmac<sha2::Sha512>>(a)
    }),
    ("crypto.hmac.equal", 2, equal),
];

fn digest<D: Digest>(args: &[Value]) -> Result<Value, Fault> {
    let x = string_arg(args, 1)?;
    Ok(Value::from(hex::encode(D::digest(x.as_bytes()))))
}

fn hmac<M: Mac + KeyInit>(args: &[Value]) -> Result<Value, Fault> {
    let (x, key) = (string_arg(args, 1)?, string_arg(args, 2)?);
    let mac = keyed::<M>(key.as_bytes(), x.as_bytes())?;
    Ok(Value::from(hex::encode(mac.finalize().into_bytes())))
}

/// The MAC `M` keyed with `key` over `data` (every key length is valid for HMAC).
pub(super) fn keyed<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Result<M, Fault> {
    let mut mac = <M as KeyInit>::new_from_slice(key).map_err(|e| Fault::Opa(e.to_string()))?;
    mac.update(data);
    Ok(mac)
}

/// Compares two MACs in constant time (Go's `hmac.Equal`).
fn equal(args: &[Value]) -> Result<Value, Fault> {
    use subtle::ConstantTimeEq;
    let (a, b) = (string_arg(args, 1)?, string_arg(args, 2)?);
    Ok(Value::from(bool::from(a.as_bytes().ct_eq(b.as_bytes()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[&str]) -> Result<Value, Fault> {
        let (_, _, body) = ALL.iter().find(|(n, _, _)| *n == name).expect(name);
        let args: Vec<Value> = args.iter().map(|a| Value::from(*a)).collect();
        body(&args)
    }

    /// The values OPA 1.20 gives (from the OPA peer).
    #[test]
    fn digests_and_macs_match_opa() {
        for (name, args, want) in [
            ("crypto.md5", &["hello"][..], "5d41402abc4b2a76b9719d911017c592"),
            ("crypto.md5", &[""][..], "d41d8cd98f00b204e9800998ecf8427e"),
            ("crypto.sha1", &["hello"][..], "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
            ("crypto.sha256", &["hello"][..], "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
            ("crypto.sha256", &["é✓"][..], "1e77cb71920ad52885fab06465a5fcf2e5f98c0382aab36202689431b93b9fb3"),
            ("crypto.hmac.md5", &["hello", "key"][..], "04130747afca4d79e32e87cf2104f087"),
            ("crypto.hmac.sha1", &["hello", "key"][..], "b34ceac4516ff23a143e61d79d0fa7a4fbe5f266"),
            ("crypto.hmac.sha256", &["hello", "key"][..], "9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b"),
            ("crypto.hmac.sha512", &["hello", "key"][..], "ff06ab36757777815c008d32c8e14a705b4e7bf310351a06a23b612dc4c7433e7757d20525a5593b71020ea2ee162d2311b247e9855862b270122419652c0c92"),
        ] {
            assert_eq!(call(name, args), Ok(Value::from(want)), "{name}");
        }
        assert_eq!(
            call("crypto.hmac.equal", &["abc", "abc"]),
            Ok(Value::from(true))
        );
        assert_eq!(
            call("crypto.hmac.equal", &["abc", "abd"]),
            Ok(Value::from(false))
        );
        assert_eq!(
            call("crypto.hmac.equal", &["abc", "ab"]),
            Ok(Value::from(false))
        );
    }

    #[test]
    fn operands_must_be_strings() {
        let (_, _, body) = ALL[0];
        assert_eq!(
            body(&[Value::from(5)]),
            Err(Fault::Opa("operand 1 must be string but got number".into()))
        );
    }
}
