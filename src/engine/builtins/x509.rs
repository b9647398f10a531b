//! OPA's `crypto.x509.parse_certificates` and `parse_and_verify_certificates[_with_options]`:
//! each certificate as Go's `x509.Certificate` marshals to JSON (Go's field names, enum
//! numbers, base64 bytes, big integers, `null` for absent lists) plus OPA's `URIStrings`,
//! parsed with the x509-parser crate; chains verified as Go's `Certificate.Verify` does
//! (signatures, validity times, CA constraints and path lengths, extended key usages,
//! DNS names), except that name constraints are not checked.

use super::{string_arg, Fault};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use regorus::Value;
use std::collections::BTreeMap;
use x509_parser::der_parser::oid::Oid;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::num_bigint::BigUint;
use x509_parser::prelude::*;

/// A built-in's body.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Name, arity and body of each built-in of this namespace.
pub const ALL: &[(&str, u8, Body)] = &[
    ("crypto.x509.parse_certificates", 1, parse_certificates),
    (
        "crypto.x509.parse_certificate_request",
        1,
        parse_certificate_request,
    ),
    ("crypto.x509.parse_and_verify_certificates", 1, |a| {
        let text = string_arg(a, 1)?;
        Ok(verified(text, &Options::default()))
    }),
    (
        "crypto.x509.parse_and_verify_certificates_with_options",
        2,
        |a| {
            let text = string_arg(a, 1)?;
            let options = Options::read(&a[1])?;
            // OPA returns Go's certificates here, without its own `URIStrings`.
            Ok(without_uri_strings(verified(text, &options)))
        },
    ),
];

fn parse_certificates(args: &[Value]) -> Result<Value, Fault> {
    let text = string_arg(args, 1)?;
    let ders = certificate_ders(text)?;
    let mut out = Vec::new();
    for der in ders {
        out.push(certificate(&der)?);
    }
    Ok(Value::from(out))
}

/// The DER bytes of the certificates in PEM text, or in base64 of PEM or of DER, as OPA reads
/// them (several DER certificates may be concatenated).
fn certificate_ders(text: &str) -> Result<Vec<Vec<u8>>, Fault> {
    let bytes = super::pem_or_base64(text, "-----BEGIN")?;
    let mut der = Vec::new();
    if bytes.starts_with(b"-----BEGIN") {
        for pem in Pem::iter_from_buffer(&bytes) {
            let Ok(pem) = pem else { break };
            if pem.label != "CERTIFICATE" {
                return Err(Fault::Opa(format!(
                    "PEM block type is '{}', expected CERTIFICATE",
                    pem.label
                )));
            }
            der.extend(pem.contents);
        }
    } else {
        der = bytes;
    }
    let mut out = Vec::new();
    let mut rest: &[u8] = &der;
    while !rest.is_empty() {
        // Go's words; x509-parser's detail is not Go's.
        let (next, _) = parse_x509_certificate(rest)
            .map_err(|_| Fault::Opa("x509: malformed certificate".into()))?;
        out.push(rest[..rest.len() - next.len()].to_vec());
        rest = next;
    }
    Ok(out)
}

/// A JSON object from string keys.
pub(super) fn object(fields: Vec<(&str, Value)>) -> Value {
    let map: BTreeMap<Value, Value> = fields
        .into_iter()
        .map(|(k, v)| (Value::from(k), v))
        .collect();
    Value::from(map)
}

/// Go's `[]byte`: base64, `null` when nil.
fn bytes(b: Option<&[u8]>) -> Value {
    b.map_or(Value::Null, |b| Value::from(STANDARD.encode(b)))
}

/// Go's nil-or-not string slice.
fn strings(items: Vec<String>) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        Value::from(items.into_iter().map(Value::from).collect::<Vec<_>>())
    }
}

/// An `asn1.ObjectIdentifier`: its arcs as numbers.
fn oid_arcs(oid: &Oid) -> Value {
    let arcs = oid.iter().map(|i| i.map(Value::from).collect::<Vec<_>>());
    Value::from(arcs.unwrap_or_default())
}

/// A big-endian unsigned integer, exactly (regorus keeps big integers).
pub(super) fn big(bytes: &[u8]) -> Value {
    Value::from_numeric_string(&BigUint::from_bytes_be(bytes).to_string()).unwrap_or(Value::Null)
}

/// Go's `*rsa.PublicKey` as JSON.
pub(super) fn rsa_public(n: &[u8], e: &[u8]) -> Value {
    object(vec![("E", big(e)), ("N", big(n))])
}

/// Go's `*ecdsa.PublicKey` as JSON (its curve has no exported fields).
pub(super) fn ec_public(x: &[u8], y: &[u8]) -> Value {
    object(vec![
        ("Curve", Value::new_object()),
        ("X", big(x)),
        ("Y", big(y)),
    ])
}

fn num(n: i64) -> Value {
    Value::from(n)
}

/// Go's `time.Time` JSON: RFC 3339 in UTC.
fn time(t: &ASN1Time) -> Value {
    chrono::DateTime::from_timestamp(t.timestamp(), 0).map_or(Value::Null, |d| {
        Value::from(d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    })
}

/// Go's `pkix.Name`.
fn name(n: &X509Name) -> Value {
    let mut lists: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let (mut common, mut serial) = (String::new(), String::new());
    let mut names = Vec::new();
    for attr in n.iter_attributes() {
        let value = attr.as_str().ok().map(str::to_string);
        let text = value.clone().unwrap_or_default();
        let field = match attr.attr_type().to_id_string().as_str() {
            "2.5.4.6" => Some("Country"),
            "2.5.4.10" => Some("Organization"),
            "2.5.4.11" => Some("OrganizationalUnit"),
            "2.5.4.7" => Some("Locality"),
            "2.5.4.8" => Some("Province"),
            "2.5.4.9" => Some("StreetAddress"),
            "2.5.4.17" => Some("PostalCode"),
            "2.5.4.3" => {
                common = text.clone();
                None
            }
            "2.5.4.5" => {
                serial = text.clone();
                None
            }
            _ => None,
        };
        if let (Some(f), Some(v)) = (field, &value) {
            lists.entry(f).or_default().push(v.clone());
        }
        names.push(object(vec![
            ("Type", oid_arcs(attr.attr_type())),
            ("Value", value.map_or(Value::Null, Value::from)),
        ]));
    }
    let list = |f: &str| strings(lists.get(f).cloned().unwrap_or_default());
    object(vec![
        ("CommonName", Value::from(common)),
        ("Country", list("Country")),
        ("ExtraNames", Value::Null),
        ("Locality", list("Locality")),
        ("Names", Value::from(names)),
        ("Organization", list("Organization")),
        ("OrganizationalUnit", list("OrganizationalUnit")),
        ("PostalCode", list("PostalCode")),
        ("Province", list("Province")),
        ("SerialNumber", Value::from(serial)),
        ("StreetAddress", list("StreetAddress")),
    ])
}

/// Go's `x509.SignatureAlgorithm` number.
fn signature_algorithm(alg: &AlgorithmIdentifier) -> i64 {
    match alg.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.2" => 1,
        "1.2.840.113549.1.1.4" => 2,
        "1.2.840.113549.1.1.5" => 3,
        "1.2.840.113549.1.1.11" => 4,
        "1.2.840.113549.1.1.12" => 5,
        "1.2.840.113549.1.1.13" => 6,
        "1.2.840.10040.4.3" => 7,
        "2.16.840.1.101.3.4.3.2" => 8,
        "1.2.840.10045.4.1" => 9,
        "1.2.840.10045.4.3.2" => 10,
        "1.2.840.10045.4.3.3" => 11,
        "1.2.840.10045.4.3.4" => 12,
        "1.2.840.113549.1.1.10" => {
            // RSA-PSS: the hash named in the parameters.
            let params = alg.parameters.as_ref().map(|p| p.as_bytes()).unwrap_or(&[]);
            let has = |arc: &[u8]| params.windows(arc.len()).any(|w| w == arc);
            if has(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02]) {
                14
            } else if has(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03]) {
                15
            } else {
                13
            }
        }
        "1.3.101.112" => 16,
        _ => 0,
    }
}

/// Go's `PublicKeyAlgorithm` number and `PublicKey` value.
fn public_key(spki: &SubjectPublicKeyInfo) -> (i64, Value) {
    match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(k)) => (1, rsa_public(k.modulus, k.exponent)),
        Ok(x509_parser::public_key::PublicKey::EC(point)) => {
            let data = point.data();
            let half = data.len().saturating_sub(1) / 2;
            if data.first() != Some(&4) || half == 0 {
                return (3, Value::Null);
            }
            (3, ec_public(&data[1..1 + half], &data[1 + half..]))
        }
        Ok(x509_parser::public_key::PublicKey::DSA(_)) => (2, Value::Null),
        _ if spki.algorithm.algorithm.to_id_string() == "1.3.101.112" => {
            (4, bytes(Some(&spki.subject_public_key.data)))
        }
        _ => (0, Value::Null),
    }
}

/// Go's `*url.URL`, as `url.Parse` splits a URI (enough for certificate URIs).
fn url(uri: &str) -> Value {
    let (mut scheme, mut rest) = ("", uri);
    if let Some((s, r)) = uri.split_once(':') {
        let valid = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if valid {
            scheme = s;
            rest = r;
        }
    }
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (mut host, mut path, mut opaque, mut user) = ("", rest, "", Value::Null);
    if let Some(authority_path) = rest.strip_prefix("//") {
        let end = authority_path.find('/').unwrap_or(authority_path.len());
        let authority = &authority_path[..end];
        path = &authority_path[end..];
        host = authority;
        if let Some((u, h)) = authority.rsplit_once('@') {
            host = h;
            let (name, password) = u.split_once(':').unwrap_or((u, ""));
            user = object(vec![
                ("username", Value::from(name)),
                ("password", Value::from(password)),
                ("passwordSet", Value::from(u.contains(':'))),
            ]);
        }
    } else if !scheme.is_empty() && !rest.starts_with('/') {
        opaque = rest;
        path = "";
    }
    object(vec![
        ("ForceQuery", Value::from(false)),
        ("Fragment", Value::from(fragment)),
        ("Host", Value::from(host)),
        ("OmitHost", Value::from(false)),
        ("Opaque", Value::from(opaque)),
        ("Path", Value::from(path)),
        ("RawFragment", Value::from("")),
        ("RawPath", Value::from("")),
        ("RawQuery", Value::from(query)),
        ("Scheme", Value::from(scheme)),
        ("User", user),
    ])
}

/// Go's `net.IP` text.
fn ip(b: &[u8]) -> Option<String> {
    match b.len() {
        4 => Some(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()),
        16 => <[u8; 16]>::try_from(b)
            .ok()
            .map(|a| std::net::Ipv6Addr::from(a).to_string()),
        _ => None,
    }
}

/// Go's `*net.IPNet` of a name constraint (address then mask).
fn ip_net(b: &[u8]) -> Option<Value> {
    let half = b.len() / 2;
    Some(object(vec![
        ("IP", Value::from(ip(&b[..half])?)),
        ("Mask", bytes(Some(&b[half..]))),
    ]))
}

/// Extended key usages Go knows, by OID, with its numbers.
const EXT_KEY_USAGES: &[(&str, i64)] = &[
    ("2.5.29.37.0", 0),
    ("1.3.6.1.5.5.7.3.1", 1),
    ("1.3.6.1.5.5.7.3.2", 2),
    ("1.3.6.1.5.5.7.3.3", 3),
    ("1.3.6.1.5.5.7.3.4", 4),
    ("1.3.6.1.5.5.7.3.5", 5),
    ("1.3.6.1.5.5.7.3.6", 6),
    ("1.3.6.1.5.5.7.3.7", 7),
    ("1.3.6.1.5.5.7.3.8", 8),
    ("1.3.6.1.5.5.7.3.9", 9),
    ("1.3.6.1.4.1.311.10.3.3", 10),
    ("2.16.840.1.113730.4.1", 11),
    ("1.3.6.1.4.1.311.2.1.22", 12),
    ("1.3.6.1.4.1.311.61.1.1", 13),
];

/// Extensions Go's parser understands; other critical ones are "unhandled".
const HANDLED: &[&str] = &[
    "2.5.29.14",
    "2.5.29.15",
    "2.5.29.17",
    "2.5.29.19",
    "2.5.29.30",
    "2.5.29.31",
    "2.5.29.32",
    "2.5.29.33",
    "2.5.29.35",
    "2.5.29.36",
    "2.5.29.37",
    "2.5.29.54",
    "1.3.6.1.5.5.7.1.1",
];

/// One certificate as OPA returns it.
pub(super) fn certificate(der: &[u8]) -> Result<Value, Fault> {
    let (_, cert) = parse_x509_certificate(der)
        .map_err(|_| Fault::Opa("x509: malformed certificate".into()))?;
    let tbs = &cert.tbs_certificate;
    let mut f: BTreeMap<&str, Value> = BTreeMap::new();
    for key in [
        "AuthorityKeyId",
        "CRLDistributionPoints",
        "DNSNames",
        "EmailAddresses",
        "ExcludedDNSDomains",
        "ExcludedEmailAddresses",
        "ExcludedIPRanges",
        "ExcludedURIDomains",
        "ExtKeyUsage",
        "ExtraExtensions",
        "IPAddresses",
        "IssuingCertificateURL",
        "OCSPServer",
        "PermittedDNSDomains",
        "PermittedEmailAddresses",
        "PermittedIPRanges",
        "PermittedURIDomains",
        "Policies",
        "PolicyIdentifiers",
        "PolicyMappings",
        "SubjectKeyId",
        "URIStrings",
        "URIs",
        "UnhandledCriticalExtensions",
        "UnknownExtKeyUsage",
    ] {
        f.insert(key, Value::Null);
    }
    for key in [
        "BasicConstraintsValid",
        "InhibitAnyPolicyZero",
        "InhibitPolicyMappingZero",
        "IsCA",
        "MaxPathLenZero",
        "PermittedDNSDomainsCritical",
        "RequireExplicitPolicyZero",
    ] {
        f.insert(key, Value::from(false));
    }
    for key in [
        "InhibitAnyPolicy",
        "InhibitPolicyMapping",
        "KeyUsage",
        "RequireExplicitPolicy",
    ] {
        f.insert(key, num(0));
    }
    f.insert("MaxPathLen", num(-1));
    let (pk_alg, pk) = public_key(&tbs.subject_pki);
    f.insert("PublicKeyAlgorithm", num(pk_alg));
    f.insert("PublicKey", pk);
    f.insert("Raw", bytes(Some(der)));
    f.insert("RawTBSCertificate", bytes(Some(tbs.as_ref())));
    f.insert("RawSubjectPublicKeyInfo", bytes(Some(tbs.subject_pki.raw)));
    f.insert("RawSubject", bytes(Some(tbs.subject.as_raw())));
    f.insert("RawIssuer", bytes(Some(tbs.issuer.as_raw())));
    f.insert("Signature", bytes(Some(&cert.signature_value.data)));
    f.insert(
        "SignatureAlgorithm",
        num(signature_algorithm(&cert.signature_algorithm)),
    );
    f.insert("Version", num(i64::from(tbs.version.0) + 1));
    f.insert("SerialNumber", big(&tbs.serial.to_bytes_be()));
    f.insert("Subject", name(&tbs.subject));
    f.insert("Issuer", name(&tbs.issuer));
    f.insert("NotBefore", time(&tbs.validity.not_before));
    f.insert("NotAfter", time(&tbs.validity.not_after));

    let mut extensions = Vec::new();
    let mut unhandled = Vec::new();
    let mut names = Sans::default();
    for ext in tbs.extensions() {
        extensions.push(extension(ext));
        let id = ext.oid.to_id_string();
        if ext.critical && !HANDLED.contains(&id.as_str()) {
            unhandled.push(oid_arcs(&ext.oid));
        }
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => {
                f.insert("SubjectKeyId", bytes(Some(k.0)));
            }
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                if let Some(k) = &a.key_identifier {
                    f.insert("AuthorityKeyId", bytes(Some(k.0)));
                }
            }
            ParsedExtension::BasicConstraints(b) => {
                f.insert("BasicConstraintsValid", Value::from(true));
                f.insert("IsCA", Value::from(b.ca));
                if let Some(n) = b.path_len_constraint {
                    f.insert("MaxPathLen", num(i64::from(n)));
                    f.insert("MaxPathLenZero", Value::from(n == 0));
                }
            }
            ParsedExtension::KeyUsage(k) => {
                f.insert("KeyUsage", num(i64::from(k.flags)));
            }
            ParsedExtension::ExtendedKeyUsage(_) => {
                let (known, unknown) = ext_key_usages(ext.value);
                f.insert(
                    "ExtKeyUsage",
                    if known.is_empty() {
                        Value::Null
                    } else {
                        Value::from(known)
                    },
                );
                f.insert(
                    "UnknownExtKeyUsage",
                    if unknown.is_empty() {
                        Value::Null
                    } else {
                        Value::from(unknown)
                    },
                );
            }
            ParsedExtension::SubjectAlternativeName(san) => names.add(&san.general_names),
            ParsedExtension::NameConstraints(nc) => {
                f.insert("PermittedDNSDomainsCritical", Value::from(ext.critical));
                for (subtrees, prefix) in [
                    (&nc.permitted_subtrees, "Permitted"),
                    (&nc.excluded_subtrees, "Excluded"),
                ] {
                    let (mut d, mut e, mut i, mut u) = (vec![], vec![], vec![], vec![]);
                    for s in subtrees.iter().flatten() {
                        match &s.base {
                            GeneralName::DNSName(x) => d.push(x.to_string()),
                            GeneralName::RFC822Name(x) => e.push(x.to_string()),
                            GeneralName::URI(x) => u.push(x.to_string()),
                            GeneralName::IPAddress(b) => i.extend(ip_net(b)),
                            _ => {}
                        }
                    }
                    let key = |k: &str| -> &'static str {
                        match (prefix, k) {
                            ("Permitted", "DNS") => "PermittedDNSDomains",
                            ("Permitted", "Email") => "PermittedEmailAddresses",
                            ("Permitted", "IP") => "PermittedIPRanges",
                            ("Permitted", _) => "PermittedURIDomains",
                            (_, "DNS") => "ExcludedDNSDomains",
                            (_, "Email") => "ExcludedEmailAddresses",
                            (_, "IP") => "ExcludedIPRanges",
                            _ => "ExcludedURIDomains",
                        }
                    };
                    f.insert(key("DNS"), strings(d));
                    f.insert(key("Email"), strings(e));
                    f.insert(key("URI"), strings(u));
                    f.insert(
                        key("IP"),
                        if i.is_empty() {
                            Value::Null
                        } else {
                            Value::from(i)
                        },
                    );
                }
            }
            ParsedExtension::CRLDistributionPoints(points) => {
                let mut urls = Vec::new();
                for p in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                        for n in names {
                            if let GeneralName::URI(u) = n {
                                urls.push(u.to_string());
                            }
                        }
                    }
                }
                f.insert("CRLDistributionPoints", strings(urls));
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                let (mut ocsp, mut issuers) = (vec![], vec![]);
                for d in &aia.accessdescs {
                    if let GeneralName::URI(u) = &d.access_location {
                        match d.access_method.to_id_string().as_str() {
                            "1.3.6.1.5.5.7.48.1" => ocsp.push(u.to_string()),
                            "1.3.6.1.5.5.7.48.2" => issuers.push(u.to_string()),
                            _ => {}
                        }
                    }
                }
                f.insert("OCSPServer", strings(ocsp));
                f.insert("IssuingCertificateURL", strings(issuers));
            }
            ParsedExtension::CertificatePolicies(policies) => {
                let ids: Vec<&Oid> = policies.iter().map(|p| &p.policy_id).collect();
                f.insert(
                    "PolicyIdentifiers",
                    Value::from(ids.iter().map(|o| oid_arcs(o)).collect::<Vec<_>>()),
                );
                f.insert(
                    "Policies",
                    strings(ids.iter().map(|o| o.to_id_string()).collect()),
                );
            }
            ParsedExtension::PolicyMappings(m) => {
                let maps = m
                    .mappings
                    .iter()
                    .map(|p| {
                        object(vec![
                            (
                                "IssuerDomainPolicy",
                                Value::from(p.issuer_domain_policy.to_id_string()),
                            ),
                            (
                                "SubjectDomainPolicy",
                                Value::from(p.subject_domain_policy.to_id_string()),
                            ),
                        ])
                    })
                    .collect::<Vec<_>>();
                f.insert("PolicyMappings", Value::from(maps));
            }
            ParsedExtension::InhibitAnyPolicy(i) => {
                f.insert("InhibitAnyPolicy", num(i64::from(i.skip_certs)));
                f.insert("InhibitAnyPolicyZero", Value::from(i.skip_certs == 0));
            }
            ParsedExtension::PolicyConstraints(p) => {
                if let Some(n) = p.require_explicit_policy {
                    f.insert("RequireExplicitPolicy", num(i64::from(n)));
                    f.insert("RequireExplicitPolicyZero", Value::from(n == 0));
                }
                if let Some(n) = p.inhibit_policy_mapping {
                    f.insert("InhibitPolicyMapping", num(i64::from(n)));
                    f.insert("InhibitPolicyMappingZero", Value::from(n == 0));
                }
            }
            _ => {}
        }
    }
    f.insert(
        "Extensions",
        if extensions.is_empty() {
            Value::Null
        } else {
            Value::from(extensions)
        },
    );
    if !unhandled.is_empty() {
        f.insert("UnhandledCriticalExtensions", Value::from(unhandled));
    }
    f.insert("DNSNames", strings(names.dns));
    f.insert("EmailAddresses", strings(names.emails));
    f.insert("IPAddresses", strings(names.ips));
    if !names.uris.is_empty() {
        f.insert(
            "URIs",
            Value::from(names.uris.iter().map(|u| url(u)).collect::<Vec<_>>()),
        );
        f.insert("URIStrings", strings(names.uris));
    }
    Ok(object(f.into_iter().collect()))
}

/// `crypto.x509.parse_certificate_request`: Go's `x509.CertificateRequest` as JSON, from PEM
/// or base64 of PEM or DER.
fn parse_certificate_request(args: &[Value]) -> Result<Value, Fault> {
    let text = string_arg(args, 1)?;
    let mut der = super::pem_or_base64(text, "-----BEGIN CERTIFICATE REQUEST-----")?;
    if let Ok((_, pem)) = x509_parser::pem::parse_x509_pem(&der) {
        if pem.label != "CERTIFICATE REQUEST" {
            return Err(Fault::Opa(
                "invalid PEM-encoded certificate signing request".into(),
            ));
        }
        der = pem.contents;
    }
    let (_, csr) = X509CertificationRequest::from_der(&der)
        .map_err(|_| Fault::Opa("x509: malformed certificate request".into()))?;
    let info = &csr.certification_request_info;
    let (pk_alg, pk) = public_key(&info.subject_pki);
    let mut extensions = Vec::new();
    let mut attributes = Vec::new();
    let mut names = Sans::default();
    for attr in info.attributes() {
        let ParsedCriAttribute::ExtensionRequest(req) = attr.parsed_attribute() else {
            continue;
        };
        let mut values = Vec::new();
        for ext in &req.extensions {
            extensions.push(extension(ext));
            values.push(object(vec![
                ("Type", oid_arcs(&ext.oid)),
                ("Value", bytes(Some(ext.value))),
            ]));
            if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
                names.add(&san.general_names);
            }
        }
        attributes.push(object(vec![
            ("Type", oid_arcs(&attr.oid)),
            ("Value", Value::from(vec![Value::from(values)])),
        ]));
    }
    let list = |v: Vec<Value>| {
        if v.is_empty() {
            Value::Null
        } else {
            Value::from(v)
        }
    };
    Ok(object(vec![
        ("Attributes", list(attributes)),
        ("DNSNames", strings(names.dns)),
        ("EmailAddresses", strings(names.emails)),
        ("Extensions", list(extensions)),
        ("ExtraExtensions", Value::Null),
        ("IPAddresses", strings(names.ips)),
        ("PublicKey", pk),
        ("PublicKeyAlgorithm", num(pk_alg)),
        ("Raw", bytes(Some(csr.as_raw()))),
        ("RawSubject", bytes(Some(info.subject.as_raw()))),
        ("RawSubjectPublicKeyInfo", bytes(Some(info.subject_pki.raw))),
        ("RawTBSCertificateRequest", bytes(Some(info.raw))),
        ("Signature", bytes(Some(&csr.signature_value.data))),
        (
            "SignatureAlgorithm",
            num(signature_algorithm(&csr.signature_algorithm)),
        ),
        ("Subject", name(&info.subject)),
        ("URIs", list(names.uris.iter().map(|u| url(u)).collect())),
        ("Version", num(i64::from(info.version.0))),
    ]))
}

/// The names of subject-alternative-name extensions.
#[derive(Default)]
struct Sans {
    dns: Vec<String>,
    emails: Vec<String>,
    ips: Vec<String>,
    uris: Vec<String>,
}

impl Sans {
    fn add(&mut self, names: &[GeneralName]) {
        for n in names {
            match n {
                GeneralName::DNSName(s) => self.dns.push(s.to_string()),
                GeneralName::RFC822Name(s) => self.emails.push(s.to_string()),
                GeneralName::URI(s) => self.uris.push(s.to_string()),
                GeneralName::IPAddress(b) => self.ips.extend(ip(b)),
                _ => {}
            }
        }
    }
}

/// Go's `pkix.Extension`.
fn extension(ext: &X509Extension) -> Value {
    object(vec![
        ("Critical", Value::from(ext.critical)),
        ("Id", oid_arcs(&ext.oid)),
        ("Value", bytes(Some(ext.value))),
    ])
}

/// The extended key usages of the extension's DER value, in order: Go's numbers for those
/// it knows, the OIDs of the others.
fn ext_key_usages(der: &[u8]) -> (Vec<Value>, Vec<Value>) {
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    let Ok((_, seq)) = x509_parser::der_parser::der::parse_der_sequence(der) else {
        return (known, unknown);
    };
    for item in seq.as_sequence().map(|s| s.as_slice()).unwrap_or_default() {
        let Ok(oid) = item.as_oid() else { continue };
        match EXT_KEY_USAGES
            .iter()
            .find(|(id, _)| *id == oid.to_id_string())
        {
            Some((_, n)) => known.push(num(*n)),
            None => unknown.push(oid_arcs(oid)),
        }
    }
    (known, unknown)
}

/// The options of `parse_and_verify_certificates_with_options`.
#[derive(Default)]
struct Options {
    dns_name: String,
    /// Seconds since the epoch; now when unset.
    time: Option<i64>,
    /// Go's `ExtKeyUsage` numbers; server authentication when empty.
    key_usages: Vec<i64>,
}

/// OPA's names of the extended key usages an option may ask for.
const KEY_USAGE_NAMES: &[(&str, i64)] = &[
    ("KeyUsageAny", 0),
    ("KeyUsageServerAuth", 1),
    ("KeyUsageClientAuth", 2),
    ("KeyUsageCodeSigning", 3),
    ("KeyUsageEmailProtection", 4),
    ("KeyUsageIPSECEndSystem", 5),
    ("KeyUsageIPSECTunnel", 6),
    ("KeyUsageIPSECUser", 7),
    ("KeyUsageTimeStamping", 8),
    ("KeyUsageOCSPSigning", 9),
    ("KeyUsageMicrosoftServerGatedCrypto", 10),
    ("KeyUsageNetscapeServerGatedCrypto", 11),
    ("KeyUsageMicrosoftCommercialCodeSigning", 12),
    ("KeyUsageMicrosoftKernelCodeSigning", 13),
];

impl Options {
    fn read(v: &Value) -> Result<Options, Fault> {
        let Value::Object(fields) = v else {
            return Err(Fault::Opa(super::operand(2, "object", v)));
        };
        let mut out = Options::default();
        for (k, v) in fields.iter() {
            let Value::String(key) = k else { continue };
            match (key.as_ref(), v) {
                ("DNSName", Value::String(s)) => out.dns_name = s.trim_matches('"').to_string(),
                ("DNSName", _) => return Err(Fault::Opa("'DNSName' should be a string".into())),
                ("CurrentTime", Value::Number(_)) => {
                    let ns = crate::base::value::to_json(v).as_i64().ok_or_else(|| {
                        Fault::Opa("'CurrentTime' should be a valid int64 number".into())
                    })?;
                    out.time = Some(ns.div_euclid(1_000_000_000));
                }
                ("CurrentTime", _) => {
                    return Err(Fault::Opa("'CurrentTime' should be a number".into()))
                }
                ("MaxConstraintComparisons", Value::Number(_)) => {}
                ("MaxConstraintComparisons", _) => {
                    return Err(Fault::Opa(
                        "'MaxConstraintComparisons' should be a number".into(),
                    ))
                }
                ("KeyUsages", Value::Array(_) | Value::Set(_)) => {
                    let items: Vec<Value> = match v {
                        Value::Array(a) => a.iter().cloned().collect(),
                        Value::Set(s) => s.iter().cloned().collect(),
                        _ => Vec::new(),
                    };
                    let mut invalid = Vec::new();
                    for item in items {
                        let Value::String(name) = item else { continue };
                        let name = name.trim_matches('"');
                        match KEY_USAGE_NAMES.iter().find(|(n, _)| *n == name) {
                            Some((_, n)) => out.key_usages.push(*n),
                            None => invalid.push(name.to_string()),
                        }
                    }
                    if !invalid.is_empty() {
                        return Err(Fault::Opa(format!(
                            "invalid entries for 'KeyUsages' found: [{}]",
                            invalid.join(" ")
                        )));
                    }
                }
                ("KeyUsages", _) => {
                    return Err(Fault::Opa("'KeyUsages' should be an Array or Set".into()))
                }
                _ => return Err(Fault::Opa("invalid key option".into())),
            }
        }
        Ok(out)
    }
}

/// `[true, chain]` (leaf first, root last) when the certificates verify, else `[false, []]`.
fn verified(text: &str, options: &Options) -> Value {
    let unverified = Value::from(vec![Value::from(false), Value::from(Vec::<Value>::new())]);
    let Ok(ders) = certificate_ders(text) else {
        return unverified;
    };
    let mut certs = Vec::new();
    for der in &ders {
        let (Ok((_, parsed)), Ok(value)) = (parse_x509_certificate(der), certificate(der)) else {
            return unverified;
        };
        certs.push((parsed, value));
    }
    if certs.len() < 2 {
        return unverified;
    }
    let now = options
        .time
        .unwrap_or_else(|| chrono::Utc::now().timestamp());
    let leaf = certs.len() - 1;
    let Some(chain) = chain_from(&certs, vec![leaf], now) else {
        return unverified;
    };
    let leaf_value = &certs[leaf].1;
    if !options.dns_name.is_empty() && !host_matches(leaf_value, &options.dns_name) {
        return unverified;
    }
    let wanted = if options.key_usages.is_empty() {
        vec![1]
    } else {
        options.key_usages.clone()
    };
    if !usages_allowed(
        &chain.iter().map(|&i| &certs[i].1).collect::<Vec<_>>(),
        wanted,
    ) {
        return unverified;
    }
    let values: Vec<Value> = chain.iter().map(|&i| certs[i].1.clone()).collect();
    Value::from(vec![Value::from(true), Value::from(values)])
}

/// A verification result with `URIStrings` taken out of each certificate.
fn without_uri_strings(result: Value) -> Value {
    let Value::Array(parts) = &result else {
        return result;
    };
    let Some(Value::Array(chain)) = parts.get(1) else {
        return result;
    };
    let chain: Vec<Value> = chain
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if let Ok(fields) = c.as_object_mut() {
                fields.remove(&Value::from("URIStrings"));
            }
            c
        })
        .collect();
    Value::from(vec![parts[0].clone(), Value::from(chain)])
}

/// A chain from `path`'s last certificate up to the root (`certs[0]`), trying the root as
/// the parent first, then the intermediates in order, as Go's chain builder does.
fn chain_from(
    certs: &[(X509Certificate, Value)],
    path: Vec<usize>,
    now: i64,
) -> Option<Vec<usize>> {
    let child = *path.last()?;
    let (cert, value) = &certs[child];
    let kind = if child == certs.len() - 1 {
        Kind::Leaf
    } else if child == 0 {
        Kind::Root
    } else {
        Kind::Intermediate
    };
    if !valid(cert, value, kind, path.len() - 1, now) {
        return None;
    }
    if kind == Kind::Root {
        return Some(path);
    }
    // Go allows at most this many intermediates in one chain.
    if path.len() > certs.len() {
        return None;
    }
    for parent in 0..certs.len() - 1 {
        if path.contains(&parent) && parent != 0 {
            continue;
        }
        let p = &certs[parent].0;
        if p.subject().as_raw() != cert.issuer().as_raw() {
            continue;
        }
        let sig_ok = super::keys::certificate_signature_ok(
            p.public_key().raw,
            value_i64(value, "SignatureAlgorithm"),
            cert.tbs_certificate.as_ref(),
            &cert.signature_value.data,
        );
        if !sig_ok {
            continue;
        }
        let mut next = path.clone();
        next.push(parent);
        if let Some(chain) = chain_from(certs, next, now) {
            return Some(chain);
        }
    }
    None
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Leaf,
    Intermediate,
    Root,
}

fn value_i64(v: &Value, field: &str) -> i64 {
    crate::base::value::to_json(&v[&Value::from(field)])
        .as_i64()
        .unwrap_or(0)
}

fn value_bool(v: &Value, field: &str) -> bool {
    v[&Value::from(field)] == Value::from(true)
}

fn value_list(v: &Value, field: &str) -> Vec<Value> {
    match &v[&Value::from(field)] {
        Value::Array(a) => a.iter().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Go's per-certificate checks: critical extensions, validity at `now`, and for a CA on the
/// chain its basic constraints and path length (`below` certificates under it that are not
/// the leaf).
fn valid(cert: &X509Certificate, value: &Value, kind: Kind, below: usize, now: i64) -> bool {
    if value[&Value::from("UnhandledCriticalExtensions")] != Value::Null {
        return false;
    }
    let validity = cert.validity();
    if now < validity.not_before.timestamp() || now > validity.not_after.timestamp() {
        return false;
    }
    if kind == Kind::Leaf {
        return true;
    }
    if kind == Kind::Intermediate
        && (!value_bool(value, "BasicConstraintsValid") || !value_bool(value, "IsCA"))
    {
        return false;
    }
    let max = value_i64(value, "MaxPathLen");
    let intermediates_below = below.saturating_sub(1) as i64;
    if value_bool(value, "BasicConstraintsValid")
        && (max > 0 || max == 0 && value_bool(value, "MaxPathLenZero"))
        && intermediates_below > max
    {
        return false;
    }
    true
}

/// Go's `VerifyHostname` for a DNS name or IP address against the leaf's SANs.
fn host_matches(leaf: &Value, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.parse::<std::net::IpAddr>().is_ok() {
        let want = host.parse::<std::net::IpAddr>().ok();
        return value_list(leaf, "IPAddresses").iter().any(|ip| match ip {
            Value::String(s) => s.parse::<std::net::IpAddr>().ok() == want,
            _ => false,
        });
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    value_list(leaf, "DNSNames").iter().any(|n| {
        let Value::String(pattern) = n else {
            return false;
        };
        let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(rest) => host
                .split_once('.')
                .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
            None => pattern == host,
        }
    })
}

/// Go's `checkChainForKeyUsage`: every certificate from the root down that names extended
/// key usages must allow one of those asked for (`any` allows all; server authentication is
/// also met by the server-gated-crypto usages).
fn usages_allowed(chain: &[&Value], mut wanted: Vec<i64>) -> bool {
    if wanted.contains(&0) {
        return true;
    }
    for cert in chain.iter().rev() {
        let has: Vec<i64> = value_list(cert, "ExtKeyUsage")
            .iter()
            .filter_map(|v| crate::base::value::to_json(v).as_i64())
            .collect();
        if has.is_empty() && value_list(cert, "UnknownExtKeyUsage").is_empty() {
            continue;
        }
        if has.contains(&0) {
            continue;
        }
        wanted.retain(|w| has.contains(w) || *w == 1 && (has.contains(&10) || has.contains(&11)));
        if wanted.is_empty() {
            return false;
        }
    }
    true
}
