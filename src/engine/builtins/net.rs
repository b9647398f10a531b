//! OPA's `net.cidr_*` built-ins that regorus lacks, and `net.lookup_ip_addr`, with the
//! `ipnet` crate. Addresses are compared as OPA's Go code compares them: IPv4 inside the
//! IPv4-mapped IPv6 range, so that one ordering covers both families.

use super::{operand, string_arg, Fault};
use ipnet::IpNet;
use regorus::Value;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A built-in's body.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Name, arity and body of each built-in of this namespace.
pub const ALL: &[(&str, u8, Body)] = &[
    ("net.cidr_intersects", 2, intersects),
    ("net.cidr_merge", 1, merge),
    ("net.cidr_contains_matches", 2, contains_matches),
    ("net.lookup_ip_addr", 1, lookup_ip_addr),
];

/// Deprecated, so only under `--rego-version v0` (OPA's v1 type checker rejects it).
pub const V0: &[(&str, u8, Body)] = &[("net.cidr_overlap", 2, overlap)];

/// Go's `net.ParseCIDR`: the network with its host bits cleared.
/// OPA's `net.cidr_is_valid`: false for anything but a string (regorus gave no value).
pub fn cidr_is_valid(args: &[Value]) -> Result<Value, Fault> {
    match &args[0] {
        Value::String(_) => super::native("net.cidr_is_valid", args).map_err(Fault::Opa),
        _ => Ok(Value::from(false)),
    }
}

fn parse_cidr(s: &str) -> Result<IpNet, Fault> {
    s.parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| Fault::Opa(format!("invalid CIDR address: {s}")))
}

fn intersects(args: &[Value]) -> Result<Value, Fault> {
    let a = parse_cidr(string_arg(args, 1)?)?;
    let b = parse_cidr(string_arg(args, 2)?)?;
    Ok(Value::from(
        a.contains(&b.network()) || b.contains(&a.network()),
    ))
}

/// `net.cidr_contains`, as OPA's `cidr_contains_matches` calls it: both operands are
/// reported as operand 1.
fn contains(a: &Value, b: &Value) -> Result<bool, Fault> {
    let text = |v: &Value| match v {
        Value::String(s) => Ok(s.to_string()),
        other => Err(Fault::Opa(operand(1, "string", other))),
    };
    let net = parse_cidr(&text(a)?)?;
    let b = text(b)?;
    if let Ok(ip) = b.parse::<IpAddr>() {
        return Ok(net.contains(&ip));
    }
    let inner = b.parse::<IpNet>().map(|n| n.trunc()).map_err(|_| {
        Fault::Opa(format!(
            "not a valid textual representation of an IP address or CIDR: {b}"
        ))
    })?;
    Ok(net.contains(&inner.network()) && net.contains(&inner.broadcast()))
}

fn overlap(args: &[Value]) -> Result<Value, Fault> {
    string_arg(args, 1)?;
    string_arg(args, 2)?;
    contains(&args[0], &args[1]).map(Value::from)
}

/// The (cidr, index) pairs of one operand of `cidr_contains_matches`: a string is its own
/// index, array elements are indexed by position, set elements by themselves, object
/// values by their keys; an array element stands for its first element.
fn match_operand(pos: usize, v: &Value) -> Result<Vec<(Value, Value)>, Fault> {
    let cidr = |e: &Value| match e {
        Value::String(_) => Ok(e.clone()),
        Value::Array(a) if !a.is_empty() => Ok(a[0].clone()),
        _ => Err(Fault::Opa(format!(
            "operand {pos}: element must be string or non-empty array"
        ))),
    };
    Ok(match v {
        Value::String(_) => vec![(v.clone(), v.clone())],
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, e)| Ok((cidr(e)?, Value::from(i as u64))))
            .collect::<Result<_, Fault>>()?,
        Value::Set(items) => items
            .iter()
            .map(|e| Ok((cidr(e)?, e.clone())))
            .collect::<Result<_, Fault>>()?,
        Value::Object(fields) => fields
            .iter()
            .map(|(k, e)| Ok((cidr(e)?, k.clone())))
            .collect::<Result<_, Fault>>()?,
        _ => Vec::new(),
    })
}

fn contains_matches(args: &[Value]) -> Result<Value, Fault> {
    let outer = match_operand(1, &args[0])?;
    let mut out = BTreeSet::new();
    // As OPA, the second operand is only read when the first has an element.
    let inner = if outer.is_empty() {
        Vec::new()
    } else {
        match_operand(2, &args[1])?
    };
    for (cidr1, index1) in &outer {
        for (cidr2, index2) in &inner {
            if contains(cidr1, cidr2)? {
                out.insert(Value::from(vec![index1.clone(), index2.clone()]));
            }
        }
    }
    Ok(Value::from(out))
}

/// Where IPv4 addresses start in the IPv4-mapped IPv6 range.
const V4_BASE: u128 = 0xffff_0000_0000;

fn mapped(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => V4_BASE | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// A range of addresses, and the network it came from while it is not merged.
struct Range {
    first: u128,
    last: u128,
    network: Option<String>,
}

/// One element of `cidr_merge`: an IPv4 address gets its classful default mask (Go's
/// `IP.DefaultMask`) and keeps its host bits in the text, as Go prints it.
fn merge_element(v: &Value) -> Result<Range, Fault> {
    let Value::String(s) = v else {
        return Err(Fault::Opa("element must be string".into()));
    };
    let (text, net) = match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            let bits = match ip.octets()[0] {
                0..=0x7f => 8,
                0x80..=0xbf => 16,
                _ => 24,
            };
            let net = IpNet::new(IpAddr::V4(ip), bits).map_err(|e| Fault::Opa(e.to_string()))?;
            (format!("{ip}/{bits}"), net.trunc())
        }
        Ok(IpAddr::V6(_)) => return Err(Fault::Opa("IPv6 invalid: needs prefix length".into())),
        Err(_) => {
            let net = parse_cidr(s)?;
            (net.to_string(), net)
        }
    };
    Ok(Range {
        first: mapped(net.network()),
        last: mapped(net.broadcast()),
        network: Some(text),
    })
}

fn merge(args: &[Value]) -> Result<Value, Fault> {
    let items: Vec<&Value> = match &args[0] {
        Value::Array(a) => a.iter().collect(),
        Value::Set(s) => s.iter().collect(),
        _ => return Err(Fault::Opa("operand must be an array".into())),
    };
    let mut ranges = items
        .into_iter()
        .map(merge_element)
        .collect::<Result<Vec<_>, _>>()?;
    ranges.sort_by_key(|r| (r.last, r.first));
    // From the end, a range that starts at most one address after the previous one ends
    // joins it (and is no longer one network).
    let mut i = ranges.len();
    while i > 1 {
        i -= 1;
        let first = ranges[i].first;
        let previous = if first == 0 || first == V4_BASE {
            first
        } else {
            first - 1
        };
        if previous <= ranges[i - 1].last {
            let joined = Range {
                first: ranges[i - 1].first.min(first),
                last: ranges[i].last,
                network: None,
            };
            ranges[i - 1] = joined;
            ranges.remove(i);
        }
    }
    let mut out = BTreeSet::new();
    for r in ranges {
        match r.network {
            Some(text) => {
                out.insert(Value::from(text));
            }
            None => out.extend(cover(r.first, r.last).into_iter().map(Value::from)),
        }
    }
    Ok(Value::from(out))
}

/// The fewest CIDRs that cover `first..=last` exactly, IPv4 when the range is in the
/// IPv4-mapped range.
fn cover(first: u128, last: u128) -> Vec<String> {
    let v4 = first >= V4_BASE && last <= V4_BASE | 0xffff_ffff;
    let (base, bits) = if v4 { (V4_BASE, 32u32) } else { (0, 128u32) };
    let (mut at, end) = (first - base, last - base);
    let mut out = Vec::new();
    loop {
        // The largest aligned block at `at` that does not pass `end`.
        let mut size = if at == 0 {
            bits
        } else {
            at.trailing_zeros().min(bits)
        };
        // The block's last address; a 128-bit block would overflow the shift.
        let block_end = |size: u32| {
            let span = if size >= 128 {
                u128::MAX
            } else {
                (1u128 << size) - 1
            };
            at.saturating_add(span)
        };
        while size > 0 && block_end(size) > end {
            size -= 1;
        }
        let ip = if v4 {
            IpAddr::V4(Ipv4Addr::from(at as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(at))
        };
        out.push(format!("{ip}/{}", bits - size));
        let Some(next) = (size < 128)
            .then(|| at.checked_add(1u128 << size))
            .flatten()
            .filter(|n| *n <= end && *n > at)
        else {
            break;
        };
        at = next;
    }
    out
}

fn lookup_ip_addr(args: &[Value]) -> Result<Value, Fault> {
    use std::net::ToSocketAddrs;
    let name = string_arg(args, 1)?;
    let addrs = (name, 0)
        .to_socket_addrs()
        .map_err(|e| Fault::Opa(format!("lookup {name}: {e}")))?;
    Ok(Value::from(
        addrs
            .map(|a| Value::from(a.ip().to_string()))
            .collect::<BTreeSet<_>>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &str) -> Result<Value, Fault> {
        let (_, _, body) = ALL
            .iter()
            .chain(V0)
            .find(|(n, _, _)| *n == name)
            .expect(name);
        let Value::Array(args) = Value::from_json_str(args).unwrap() else {
            panic!("args")
        };
        body(args.as_slice())
    }

    fn set(items: &[&str]) -> Value {
        Value::from(
            items
                .iter()
                .map(|s| Value::from(*s))
                .collect::<BTreeSet<_>>(),
        )
    }

    /// Each value as OPA 1.20 gave it (the OPA peer).
    #[test]
    fn merges_as_opa() {
        for (args, want) in [
            (
                r#"[["192.0.128.0/24", "192.0.129.0/24"]]"#,
                &["192.0.128.0/23"][..],
            ),
            (
                r#"[["192.0.2.1", "192.0.2.0", "10.0.0.0/8", "10.1.0.0/16"]]"#,
                &["10.0.0.0/8", "192.0.2.0/24"][..],
            ),
            (r#"[["192.0.2.1"]]"#, &["192.0.2.1/24"][..]),
            (
                r#"[["10.1.2.3", "172.16.5.4", "224.1.1.1"]]"#,
                &["10.1.2.3/8", "172.16.5.4/16", "224.1.1.1/24"][..],
            ),
            (
                r#"[["10.0.0.0/8", "10.0.0.0/8", "10.2.0.0/16"]]"#,
                &["10.0.0.0/8"][..],
            ),
            (
                r#"[["192.168.1.0/24", "192.168.2.0/24", "192.168.3.0/24", "192.168.4.0/23"]]"#,
                &["192.168.1.0/24", "192.168.2.0/23", "192.168.4.0/23"][..],
            ),
            (
                r#"[["10.0.0.1/24", "2001:db8::1/64"]]"#,
                &["10.0.0.0/24", "2001:db8::/64"][..],
            ),
            (r#"[["0.0.0.0/0", "10.0.0.0/8"]]"#, &["0.0.0.0/0"][..]),
            (r#"[["::/0", "2001:db8::/32"]]"#, &["::/0"][..]),
            (
                r#"[["10.0.0.0/31", "10.0.0.2/32"]]"#,
                &["10.0.0.0/31", "10.0.0.2/32"][..],
            ),
            (r#"[["192.0.2.1", "192.0.2.1"]]"#, &["192.0.2.0/24"][..]),
            (
                r#"[["10.0.0.0/24", "10.0.1.0/24", "10.0.3.0/24"]]"#,
                &["10.0.0.0/23", "10.0.3.0/24"][..],
            ),
            (
                r#"[["2001:db8::/33", "2001:db8:8000::/33", "10.0.0.0/24"]]"#,
                &["10.0.0.0/24", "2001:db8::/32"][..],
            ),
            ("[[]]", &[][..]),
            // A range starting at address 0 (the 128-bit block once overflowed to ::/0).
            (r#"[["::1/128", "::/128"]]"#, &["::/127"][..]),
            (r#"[["0.0.0.1/32", "0.0.0.0/32"]]"#, &["0.0.0.0/31"][..]),
        ] {
            assert_eq!(call("net.cidr_merge", args), Ok(set(want)), "{args}");
        }
        for (args, err) in [
            (r#"[["2001:db8::1"]]"#, "IPv6 invalid: needs prefix length"),
            (r#"[["bad"]]"#, "invalid CIDR address: bad"),
            (r#"[[1]]"#, "element must be string"),
            (r#"["x"]"#, "operand must be an array"),
        ] {
            assert_eq!(
                call("net.cidr_merge", args),
                Err(Fault::Opa(err.into())),
                "{args}"
            );
        }
    }

    #[test]
    fn intersects_and_matches_as_opa() {
        let t = Value::from(true);
        let f = Value::from(false);
        assert_eq!(
            call(
                "net.cidr_intersects",
                r#"["192.168.0.0/16", "192.168.1.0/24"]"#
            ),
            Ok(t.clone())
        );
        assert_eq!(
            call("net.cidr_intersects", r#"["10.0.0.0/8", "192.168.1.0/24"]"#),
            Ok(f.clone())
        );
        assert_eq!(
            call(
                "net.cidr_intersects",
                r#"["fd1e:5bfe:8af3:9ddc::/64", "fd1e:5bfe:8af3:9ddc:1::/80"]"#
            ),
            Ok(t.clone())
        );
        assert_eq!(
            call("net.cidr_intersects", r#"["10.0.0.0/8", "fd1e::/64"]"#),
            Ok(f)
        );
        assert_eq!(
            call("net.cidr_intersects", r#"["10.0.0.1/8", "10.9.9.9/32"]"#),
            Ok(t.clone())
        );
        assert_eq!(
            call("net.cidr_intersects", r#"["bad", "10.0.0.0/8"]"#),
            Err(Fault::Opa("invalid CIDR address: bad".into()))
        );
        let m = |args: &str, want: &str| {
            let Value::Array(pairs) = Value::from_json_str(want).unwrap() else {
                panic!("want")
            };
            let want = Value::from(pairs.iter().cloned().collect::<BTreeSet<_>>());
            assert_eq!(call("net.cidr_contains_matches", args), Ok(want), "{args}");
        };
        m(
            r#"["1.1.1.0/24", "1.1.1.128"]"#,
            r#"[["1.1.1.0/24", "1.1.1.128"]]"#,
        );
        m(
            r#"[["1.1.1.0/24", "1.1.2.0/24"], "1.1.1.128"]"#,
            r#"[[0, "1.1.1.128"]]"#,
        );
        m(
            r#"[[["1.1.0.0/16", "foo"], "1.1.2.0/24"], ["1.1.1.128", ["1.1.254.254", "bar"]]]"#,
            r#"[[0, 0], [0, 1]]"#,
        );
        m(
            r#"[{"x": "1.1.0.0/16"}, {"a": "1.1.1.1", "b": "2.2.2.2"}]"#,
            r#"[["x", "a"]]"#,
        );
        m(
            r#"["10.0.0.0/8", {"x": ["10.1.1.1", 1], "y": ["11.0.0.0/16"]}]"#,
            r#"[["10.0.0.0/8", "x"]]"#,
        );
        for (args, err) in [
            (
                r#"[["10.0.0.0/8", []], "1.1.1.1"]"#,
                "operand 1: element must be string or non-empty array",
            ),
            (
                r#"["10.0.0.0/8", "zz"]"#,
                "not a valid textual representation of an IP address or CIDR: zz",
            ),
            (
                r#"[[[5]], "1.1.1.1"]"#,
                "operand 1 must be string but got number",
            ),
        ] {
            assert_eq!(
                call("net.cidr_contains_matches", args),
                Err(Fault::Opa(err.into())),
                "{args}"
            );
        }
        assert_eq!(
            call("net.cidr_overlap", r#"["10.0.0.0/8", "10.1.2.3"]"#),
            Ok(t)
        );
    }

    #[test]
    fn lookups_use_the_system_resolver() {
        assert_eq!(
            call("net.lookup_ip_addr", r#"["127.0.0.1"]"#),
            Ok(set(&["127.0.0.1"]))
        );
        assert!(call("net.lookup_ip_addr", r#"[1]"#).is_err());
    }
}
