//! YAML as conftest reads it: documents split on the exact bytes `\n---\n`, each decoded
//! with go-yaml v2's YAML 1.1 rules (`yes`/`on` are booleans, `0755` is octal, unknown tags
//! are dropped, merge keys work) and converted to JSON as sigs.k8s.io/yaml does.
//!
//! # Unknown tags (CloudFormation short forms and friends)
//!
//! Our reading of go-yaml v2 (`decode.go` / `resolve.go`), which sigs.k8s.io/yaml uses:
//!
//! * The decoder calls `resolve(tag, value)` for every scalar. `resolve` only knows the
//!   core tags (`!!str`, `!!int`, `!!bool`, `!!float`, `!!null`, `!!binary`, `!!timestamp`,
//!   `!!merge`) and the empty/`!` tags. For any other tag — a local tag such as `!Ref`,
//!   `!Sub`, `!GetAtt`, `!If`, or a foreign global tag — it returns the tag unchanged with
//!   the scalar's *raw text* as a string, and decoding into `interface{}` keeps that string.
//!   It is never an error. So a tagged scalar is always a string, even when it looks like a
//!   number or bool: `!Ref 8080` → `"8080"`, `!Ref true` → `"true"`, `!Ref ~` → `"~"`.
//! * For sequences and mappings the tag is not consulted at all when the target is
//!   `interface{}`: `!GetAtt [Role, Arn]` → `["Role","Arn"]`, `!If [c, {a: 1}, x]` →
//!   `["c",{"a":1},"x"]`, `!Transform {Name: X}` → `{"Name":"X"}`. Their children resolve
//!   normally (untagged `yes` inside is still `true`).
//! * The tag name itself is lost: policies cannot tell `!Ref X` from `X`, and there is no
//!   `{"Ref": …}` / `{"Fn::GetAtt": …}` long-form rewriting.
//! * Core tags still coerce: `!!str 123` → `"123"`; `!!int "12"` resolves the text as a plain
//!   scalar would (`12`).

use super::{utf8, MAX_DEPTH};
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser as EventParser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// How sigs.k8s.io/yaml (conftest's YAML front end) wraps every error of a document.
const CONVERTING: &str = "error converting YAML to JSON";

/// Parses a YAML file; several documents give an array of documents.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    parse_into::<Value>(bytes)
}

/// [`parse`] building the regorus value directly: a file's JSON tree and its regorus
/// tree are never in memory together (a YAML batch's peak memory halves).
pub fn parse_rego(bytes: &[u8]) -> Result<regorus::Value> {
    parse_into::<regorus::Value>(bytes)
}

fn parse_into<T: Tree>(bytes: &[u8]) -> Result<T> {
    let text = utf8(bytes).map_err(|e| anyhow!("unmarshal yaml: {CONVERTING}: {e}"))?;
    // go-yaml's reader refuses control characters anywhere in the stream (yaml-rust2 would
    // end the document at a NUL and pass what came before).
    if text.chars().any(|c| !allowed_char(c)) {
        bail!("unmarshal yaml: {CONVERTING}: yaml: control characters are not allowed");
    }
    let sep = if text.contains("\r\n") {
        "\r\n---\r\n"
    } else {
        "\n---\n"
    };
    // Borrowed pieces: a copy of a large file would double its footprint.
    let mut pieces: Vec<std::borrow::Cow<str>> = text.split(sep).map(Into::into).collect();
    // A leading directive (`%YAML 1.1`) belongs to the first document.
    if text.starts_with('%') && pieces.len() > 1 {
        let second = pieces.remove(1);
        pieces[0] = format!("{}{}{}", pieces[0], sep, second).into();
    }
    if pieces.len() == 1 {
        return parse_document(&pieces[0])
            .map_err(|e| anyhow!("unmarshal yaml: {CONVERTING}: {e}"));
    }
    let docs = pieces
        .iter()
        .map(|p| parse_document(p))
        .collect::<Result<Vec<T>>>()
        .map_err(|e| {
            anyhow!("unmarshal multiple documents: unmarshal subdocument yaml: {CONVERTING}: {e}")
        })?;
    Ok(T::array(docs))
}

/// The first document of a YAML text, as OPA's `yaml.unmarshal` reads it (go-yaml v2 through
/// sigs.k8s.io/yaml, conftest's front end too): later documents are ignored.
pub fn first_document(text: &str) -> Result<regorus::Value> {
    if text.chars().any(|c| !allowed_char(c)) {
        bail!("yaml: control characters are not allowed");
    }
    parse_document::<regorus::Value>(text)
}

/// The value tree a document is decoded into: serde_json's (for `parse`, `--combine` and
/// the other front ends) or regorus's (for evaluation).
pub trait Tree: Sized + Clone {
    /// A mapping under construction.
    type Map: Default;
    /// A resolved scalar (never an array or object).
    fn scalar(v: Value) -> Self;
    /// A sequence.
    fn array(items: Vec<Self>) -> Self;
    /// A finished mapping.
    fn object(map: Self::Map) -> Self;
    /// Sets `key` (last one wins, as sigs.k8s.io/yaml).
    fn insert(map: &mut Self::Map, key: String, value: Self);
    /// go-yaml v2 merge (`<<`): a mapping, or a list of mappings where earlier ones win.
    fn merge(map: &mut Self::Map, value: Self) -> std::result::Result<(), String>;
    /// The string a mapping key becomes.
    fn key(&self) -> std::result::Result<String, String>;
}

const MERGE_ERROR: &str = "map merge requires map or sequence of maps as the value";

impl Tree for Value {
    type Map = Map<String, Value>;
    fn scalar(v: Value) -> Self {
        v
    }
    fn array(items: Vec<Self>) -> Self {
        Value::Array(items)
    }
    fn object(map: Self::Map) -> Self {
        Value::Object(map)
    }
    fn insert(map: &mut Self::Map, key: String, value: Self) {
        map.insert(key, value);
    }
    fn merge(map: &mut Self::Map, value: Self) -> std::result::Result<(), String> {
        match value {
            Value::Object(m) => {
                map.extend(m);
                Ok(())
            }
            Value::Array(items) => {
                for item in items.into_iter().rev() {
                    match item {
                        Value::Object(m) => map.extend(m),
                        _ => return Err(MERGE_ERROR.into()),
                    }
                }
                Ok(())
            }
            _ => Err(MERGE_ERROR.into()),
        }
    }
    fn key(&self) -> std::result::Result<String, String> {
        key_string(self)
    }
}

impl Tree for regorus::Value {
    type Map = std::collections::BTreeMap<regorus::Value, regorus::Value>;
    fn scalar(v: Value) -> Self {
        match v {
            Value::Null => regorus::Value::Null,
            Value::Bool(b) => regorus::Value::from(b),
            Value::String(s) => regorus::Value::from(s),
            // The resolver only makes finite f64 numbers.
            Value::Number(n) => regorus::Value::from(n.as_f64().unwrap_or_default()),
            other => crate::base::value::to_rego(other).unwrap_or(regorus::Value::Null),
        }
    }
    fn array(items: Vec<Self>) -> Self {
        regorus::Value::from(items)
    }
    fn object(map: Self::Map) -> Self {
        regorus::Value::from(map)
    }
    fn insert(map: &mut Self::Map, key: String, value: Self) {
        map.insert(regorus::Value::from(key), value);
    }
    fn merge(map: &mut Self::Map, value: Self) -> std::result::Result<(), String> {
        let one = |map: &mut Self::Map, v: &regorus::Value| match v {
            regorus::Value::Object(m) => {
                map.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
                Ok(())
            }
            _ => Err(MERGE_ERROR.to_string()),
        };
        match &value {
            regorus::Value::Array(items) => items.iter().rev().try_for_each(|i| one(map, i)),
            other => one(map, other),
        }
    }
    fn key(&self) -> std::result::Result<String, String> {
        match self {
            regorus::Value::String(s) => Ok(s.to_string()),
            regorus::Value::Bool(b) => Ok(b.to_string()),
            regorus::Value::Null => key_string(&Value::Null),
            regorus::Value::Array(_) => key_string(&Value::Array(Vec::new())),
            regorus::Value::Object(_) | regorus::Value::Set(_) => {
                key_string(&Value::Object(Map::new()))
            }
            // Numbers (only from an aliased key) go through the JSON form.
            other => {
                let v = serde_json::to_value(other).map_err(|e| e.to_string())?;
                key_string(&v)
            }
        }
    }
}

/// The characters go-yaml's reader accepts: tab, line breaks, printable ASCII, NEL and
/// the BMP and supplementary planes without surrogates and non-characters U+FFFE/U+FFFF.
pub fn allowed_char(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}'
        | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// Decodes the first YAML document of `text` (go-yaml ignores any later ones). A leading
/// byte-order mark is dropped, as go-yaml's reader does.
fn parse_document<T: Tree>(text: &str) -> Result<T> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut builder = Builder::<T>::new();
    let mut parser = EventParser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, false) {
        bail!(
            "yaml: line {}: {}",
            e.marker().line(),
            e.info().trim_start_matches("while parsing ")
        );
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.root.unwrap_or_else(|| T::scalar(Value::Null)))
}

/// A node being built: a sequence, or a mapping with a pending key.
enum Frame<T: Tree> {
    Seq {
        anchor: usize,
        items: Vec<T>,
        nodes: u64,
    },
    Map {
        anchor: usize,
        map: T::Map,
        key: Option<Key>,
        nodes: u64,
    },
}

impl<T: Tree> Frame<T> {
    fn nodes(&mut self) -> &mut u64 {
        match self {
            Frame::Seq { nodes, .. } | Frame::Map { nodes, .. } => nodes,
        }
    }
}

/// A mapping key before stringification; `Merge` is the `<<` key.
enum Key {
    Plain(String),
    Merge,
}

struct Builder<T: Tree> {
    stack: Vec<Frame<T>>,
    /// Each anchor's value and how many nodes it has.
    anchors: HashMap<usize, (T, u64)>,
    /// Nodes decoded so far, and how many of them came from alias expansion (go-yaml's
    /// `decodeCount` and `aliasCount`).
    decoded: u64,
    aliased: u64,
    root: Option<T>,
    error: Option<anyhow::Error>,
    done: bool,
}

impl<T: Tree> Builder<T> {
    fn new() -> Self {
        Builder {
            stack: Vec::new(),
            anchors: HashMap::new(),
            decoded: 0,
            aliased: 0,
            root: None,
            error: None,
            done: false,
        }
    }

    /// A go-yaml decoding error, which names the line.
    fn fail(&mut self, mark: Marker, msg: String) {
        if self.error.is_none() {
            self.error = Some(anyhow!("yaml: line {}: {}", mark.line(), msg));
        }
    }

    /// An error of sigs.k8s.io/yaml's conversion of the decoded value to JSON (a map key
    /// JSON cannot have, a float it cannot hold): it comes after decoding, with no line.
    fn fail_conversion(&mut self, msg: String) {
        if self.error.is_none() {
            self.error = Some(anyhow!("{msg}"));
        }
    }

    /// Places a finished node of `nodes` nodes into its parent (or as the document root).
    fn push_value(&mut self, value: T, nodes: u64, is_merge_key: bool, mark: Marker) {
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(value);
            return;
        };
        *top.nodes() = top.nodes().saturating_add(nodes);
        match top {
            Frame::Seq { items, .. } => items.push(value),
            Frame::Map { map, key, .. } => match key.take() {
                None if is_merge_key => *key = Some(Key::Merge),
                None => match value.key() {
                    Ok(k) => *key = Some(Key::Plain(k)),
                    Err(msg) => self.fail_conversion(msg),
                },
                Some(Key::Plain(k)) => T::insert(map, k, value),
                Some(Key::Merge) => {
                    if let Err(msg) = T::merge(map, value) {
                        self.fail(mark, msg);
                    }
                }
            },
        }
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }
}

impl<T: Tree> MarkedEventReceiver for Builder<T> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.done || self.error.is_some() {
            return;
        }
        match ev {
            Event::DocumentEnd => self.done = true,
            Event::Scalar(text, style, anchor, tag) => {
                let is_merge = self.expecting_key()
                    && style == TScalarStyle::Plain
                    && tag.is_none()
                    && text == "<<";
                let value = match resolve_scalar(&text, style, tag.as_ref()) {
                    Ok(v) => T::scalar(v),
                    Err(msg) => return self.fail_conversion(msg),
                };
                self.decoded += 1;
                if anchor > 0 {
                    self.anchors.insert(anchor, (value.clone(), 1));
                }
                self.push_value(value, 1, is_merge, mark);
            }
            Event::Alias(id) => {
                let Some(nodes) = self.anchors.get(&id).map(|a| a.1) else {
                    return self.fail(mark, "unknown anchor referenced".into());
                };
                // Checked before the copy is made: a few hundred bytes of nested aliases
                // ("billion laughs") would expand past any memory.
                self.decoded = self.decoded.saturating_add(nodes.saturating_add(1));
                self.aliased = self.aliased.saturating_add(nodes);
                if excessive_aliasing(self.decoded, self.aliased) {
                    return self
                        .fail_conversion("yaml: document contains excessive aliasing".into());
                }
                if let Some((v, _)) = self.anchors.get(&id).cloned() {
                    self.push_value(v, nodes, false, mark);
                }
            }
            Event::SequenceStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return self.fail(mark, "exceeded max depth".into());
                }
                self.decoded += 1;
                self.stack.push(Frame::Seq {
                    anchor,
                    items: Vec::new(),
                    nodes: 1,
                })
            }
            Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return self.fail(mark, "exceeded max depth".into());
                }
                self.decoded += 1;
                self.stack.push(Frame::Map {
                    anchor,
                    map: T::Map::default(),
                    key: None,
                    nodes: 1,
                })
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (anchor, value, nodes) = match self.stack.pop() {
                    Some(Frame::Seq {
                        anchor,
                        items,
                        nodes,
                    }) => (anchor, T::array(items), nodes),
                    Some(Frame::Map {
                        anchor, map, nodes, ..
                    }) => (anchor, T::object(map), nodes),
                    None => return,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, (value.clone(), nodes));
                }
                self.push_value(value, nodes, false, mark);
            }
            _ => {}
        }
    }
}

/// go-yaml v2's limit on alias expansion: past 1,000 nodes with more than 100 from
/// aliases, at most 99% of the nodes may come from aliases, scaling down to 10% between
/// 400,000 and 4,000,000 nodes.
fn excessive_aliasing(decoded: u64, aliased: u64) -> bool {
    const LOW: f64 = 400_000.0;
    const HIGH: f64 = 4_000_000.0;
    if aliased <= 100 || decoded <= 1000 {
        return false;
    }
    let d = decoded as f64;
    let allowed = if d <= LOW {
        0.99
    } else if d >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((d - LOW) / (HIGH - LOW))
    };
    aliased as f64 / d > allowed
}

/// Mapping keys become strings the way sigs.k8s.io/yaml converts them.
fn key_string(v: &Value) -> std::result::Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(match n.as_f64() {
            Some(f) if n.is_f64() => format_float32(f),
            _ => n.to_string(),
        }),
        Value::Null => Err("unsupported map key of type: <nil>".into()),
        Value::Array(_) => Err("unsupported map key of type: []interface {}".into()),
        Value::Object(_) => {
            Err("unsupported map key of type: map[interface {}]interface {}".into())
        }
    }
}

/// Go `strconv.FormatFloat(f, 'g', -1, 32)`, used for float keys.
fn format_float32(f: f64) -> String {
    let f32v = f as f32;
    let plain = format!("{}", f32v);
    let exp = if f32v == 0.0 {
        0
    } else {
        f32v.abs().log10().floor() as i32
    };
    if !(-4..6).contains(&exp) {
        let s = format!("{:e}", f32v);
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match e.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', e),
        };
        format!("{m}e{sign}{digits:0>2}")
    } else {
        plain
    }
}

/// Resolves a scalar under go-yaml v2's rules.
fn resolve_scalar(
    text: &str,
    style: TScalarStyle,
    tag: Option<&Tag>,
) -> std::result::Result<Value, String> {
    if let Some(tag) = tag {
        let core = tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!";
        return match (core, tag.suffix.as_str()) {
            (true, "str") | (true, "binary") => Ok(Value::String(text.to_string())),
            (true, "null") | (true, "bool") | (true, "int") | (true, "float") => {
                Ok(resolve_plain(text)?)
            }
            // Unknown and local tags (CloudFormation `!Ref`, `!Sub`, …) keep the raw text.
            _ => Ok(Value::String(text.to_string())),
        };
    }
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    resolve_plain(text)
}

/// Whether go-yaml v2 reads the plain scalar `text` as a string (not a null, bool,
/// number or timestamp; `<<` is a string there too): `yaml.marshal` quotes the others.
pub fn plain_is_string(text: &str) -> bool {
    !go_timestamp(text) && matches!(resolve_plain(text), Ok(Value::String(_)))
}

/// go-yaml v2's timestamps: Go's `time.Parse` with `2006-1-2`, `2006-1-2 15:4:5.999999999`
/// or `2006-1-2T15:4:5.999999999Z07:00` (also with `t`).
fn go_timestamp(text: &str) -> bool {
    fn number(s: &str, max_digits: usize) -> Option<(u32, &str)> {
        let n = s
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count()
            .min(max_digits);
        if n == 0 {
            return None;
        }
        Some((s[..n].parse().ok()?, &s[n..]))
    }
    fn time(s: &str) -> Option<&str> {
        let (h, s) = number(s, 2)?;
        let (m, s) = number(s.strip_prefix(':')?, 2)?;
        let (sec, s) = number(s.strip_prefix(':')?, 2)?;
        if h > 23 || m > 59 || sec > 59 {
            return None;
        }
        Some(match s.strip_prefix('.') {
            Some(f) => f.trim_start_matches(|c: char| c.is_ascii_digit()),
            None => s,
        })
    }
    let Some((year, rest)) = number(text, 4).filter(|(_, r)| text.len() - r.len() == 4) else {
        return false;
    };
    let date = || {
        let (month, rest) = number(rest.strip_prefix('-')?, 2)?;
        let (day, rest) = number(rest.strip_prefix('-')?, 2)?;
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            1..=12 => 31,
            _ => return None,
        };
        (1..=days).contains(&day).then_some(rest)
    };
    let Some(rest) = date() else { return false };
    if rest.is_empty() {
        return true;
    }
    if let Some(t) = rest.strip_prefix(' ') {
        return time(t) == Some("");
    }
    let Some(t) = rest.strip_prefix(['T', 't']) else {
        return false;
    };
    match time(t) {
        Some("Z") => true,
        Some(zone) => {
            let b = zone.as_bytes();
            b.len() == 6
                && matches!(b[0], b'+' | b'-')
                && b[1..3].iter().all(u8::is_ascii_digit)
                && b[3] == b':'
                && b[4..6].iter().all(u8::is_ascii_digit)
        }
        None => false,
    }
}

fn resolve_plain(text: &str) -> std::result::Result<Value, String> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Value::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Value::Bool(false))
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            let f = match text.trim_start_matches('+') {
                t if t.starts_with('-') => f64::NEG_INFINITY,
                ".nan" | ".NaN" | ".NAN" => f64::NAN,
                _ => f64::INFINITY,
            };
            return Err(crate::base::gojson::unsupported_float(f));
        }
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return Ok(Value::String(text.to_string()));
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(i) = parse_go_int(&plain) {
        return Ok(Value::from(i as f64));
    }
    if let Some(f) = parse_go_float(&plain) {
        if let Some(n) = Number::from_f64(f) {
            return Ok(Value::Number(n));
        }
    }
    Ok(Value::String(text.to_string()))
}

/// Go `strconv.ParseInt(s, 0, 64)` (and `ParseUint` for large positives).
fn parse_go_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || digits.starts_with('+') || digits.starts_with('-') {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -v } else { v };
    let fits = if neg {
        v >= i64::MIN as i128
    } else {
        v <= u64::MAX as i128
    };
    fits.then_some(v)
}

/// Go `strconv.ParseFloat` for the decimal forms YAML plain scalars use.
fn parse_go_float(s: &str) -> Option<f64> {
    let body = s.trim_start_matches(['+', '-']);
    let valid = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && body.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Value {
        parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn regorus_tree_equals_the_converted_json_tree() {
        for doc in [
            "a: yes\nb: 0755\nc: 1.5\nd: ~\ne: [1, {f: g}]\n",
            "base: &b {x: 1, z: 2}\nd:\n  <<: *b\n  z: 3\nl: &l [1, 2]\nm: *l\n",
            "a: &a {x: 1}\nb: &b {x: 2, w: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n---\nq: !Ref 8080\n---\n",
            "k: &k 7\n*k : seven\non: a\n1.5: f\n",
            "",
        ] {
            let direct = parse_rego(doc.as_bytes()).unwrap();
            let converted = crate::base::value::to_rego(p(doc)).unwrap();
            assert_eq!(direct, converted, "{doc}");
        }
        for bad in ["a: [1, 2\n", "<<: 5\n", "? [a]\n: 1\n", "a: .nan\n"] {
            assert_eq!(
                parse_rego(bad.as_bytes()).unwrap_err().to_string(),
                parse(bad.as_bytes()).unwrap_err().to_string(),
                "{bad}"
            );
        }
    }

    #[test]
    fn yaml_1_1_scalars() {
        assert_eq!(
            p("a: yes\nb: off\nc: 0755\nd: '0755'\ne: 0x10\nf: 1_000\ng: 089\nh: ~\ni: 1.5\nj: 2024-01-01\n"),
            json!({"a": true, "b": false, "c": 493.0, "d": "0755", "e": 16.0, "f": 1000.0,
                   "g": 89.0, "h": null, "i": 1.5, "j": "2024-01-01"})
        );
    }

    #[test]
    fn keys_are_stringified() {
        assert_eq!(
            p("on: push\n1: x\n0755: v\ny: w\n"),
            json!({"true": "w", "1": "x", "493": "v"})
        );
    }

    #[test]
    fn tags_are_dropped() {
        assert_eq!(
            p("a: !Ref MyBucket\nb: !Ref 8080\nc: !GetAtt [Role, Arn]\nd: !Sub 'k-${AWS::Region}'\n"),
            json!({"a": "MyBucket", "b": "8080", "c": ["Role", "Arn"], "d": "k-${AWS::Region}"})
        );
    }

    #[test]
    fn anchors_and_merge_keys() {
        assert_eq!(
            p("base: &b {x: 1, z: 2}\nd:\n  <<: *b\n  z: 3\n"),
            json!({"base": {"x": 1.0, "z": 2.0}, "d": {"x": 1.0, "z": 3.0}})
        );
    }

    #[test]
    fn splits_documents_like_conftest() {
        assert_eq!(p("a: 1\n---\nb: 2\n"), json!([{"a": 1.0}, {"b": 2.0}]));
        assert_eq!(p("a: 1\n---\n"), json!([{"a": 1.0}, null]));
        assert_eq!(p("---\na: 1\n"), json!({"a": 1.0}));
        // `--- # c` is not the separator: go-yaml reads the first document only.
        assert_eq!(p("a: 1\n--- # c\nb: 2\n"), json!({"a": 1.0}));
        assert_eq!(p(""), Value::Null);
    }

    #[test]
    fn cloudformation_short_forms() {
        assert_eq!(
            p("a: !Ref true\nb: !If [IsProd, {x: yes}, !Ref \"AWS::NoValue\"]\nc: !Transform\n  Name: Inc\nd: !Join [\",\", [a, b]]\ne: !GetAtt Role.Arn\nf: !Ref ~\n"),
            json!({"a": "true", "b": ["IsProd", {"x": true}, "AWS::NoValue"],
                   "c": {"Name": "Inc"}, "d": [",", ["a", "b"]], "e": "Role.Arn", "f": "~"})
        );
    }

    #[test]
    fn github_workflow_on_key() {
        assert_eq!(
            p("on:\n  push:\n    branches: [main]\n  pull_request:\n"),
            json!({"true": {"push": {"branches": ["main"]}, "pull_request": null}})
        );
        // Duplicate keys after stringification: last wins.
        assert_eq!(p("on: a\nyes: b\n"), json!({"true": "b"}));
    }

    #[test]
    fn merge_key_lists_and_crlf_documents() {
        assert_eq!(
            p("a: &a {x: 1}\nb: &b {x: 2, w: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n"),
            json!({"a": {"x": 1.0}, "b": {"x": 2.0, "w": 2.0}, "c": {"x": 1.0, "w": 2.0, "z": 3.0}})
        );
        assert_eq!(
            p("a: 1\r\n---\r\nb: 2\r\n"),
            json!([{"a": 1.0}, {"b": 2.0}])
        );
        assert_eq!(p("%YAML 1.1\n---\na: 1\n"), json!({"a": 1.0}));
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse(b"a: [1, 2\nb: 3\n").unwrap_err().to_string();
        assert!(
            err.starts_with("unmarshal yaml: error converting YAML to JSON: yaml: line "),
            "{err}"
        );
        let err = |t: &[u8]| parse(t).unwrap_err().to_string();
        assert_eq!(
            err(b"a: .nan\n"),
            "unmarshal yaml: error converting YAML to JSON: json: unsupported value: NaN"
        );
        assert!(err(b"a: +.inf\n").ends_with("json: unsupported value: +Inf"));
        assert!(err(b"a: [-.Inf]\n").ends_with("json: unsupported value: -Inf"));
        assert_eq!(
            err(b"a: 1\n---\nb: .inf\n"),
            "unmarshal multiple documents: unmarshal subdocument yaml: error converting YAML to JSON: json: unsupported value: +Inf"
        );
    }
}
