//! JSON text with the byte span of every value, so that a patch can change one value and
//! leave every other byte of the file as it was (indentation, key order, line breaks).

use anyhow::{anyhow, bail, Result};
use serde_json::Value;

/// A value and where it is in the text.
#[derive(Debug)]
pub struct Node {
    /// First byte of the value.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// Its members, elements or nothing.
    pub kind: Kind,
}

/// What a [`Node`] holds.
#[derive(Debug)]
pub enum Kind {
    /// Members in text order: key, where the key's string starts, and the value.
    Object(Vec<(String, usize, Node)>),
    /// Elements in order.
    Array(Vec<Node>),
    /// A string, number, boolean or null.
    Scalar,
}

/// Parses `text` (one JSON document) into spans.
pub fn parse(text: &str) -> Result<Node> {
    let mut p = Parser {
        b: text.as_bytes(),
        i: 0,
    };
    p.ws();
    let node = p.value(0)?;
    p.ws();
    if p.i != p.b.len() {
        bail!("unexpected text after the document at byte {}", p.i);
    }
    Ok(node)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

/// Deeper documents are not edited (the reader caps nesting the same way).
const MAX_DEPTH: usize = 10_000;

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        if self.b.get(self.i) != Some(&c) {
            bail!("expected '{}' at byte {}", c as char, self.i);
        }
        self.i += 1;
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Node> {
        if depth > MAX_DEPTH {
            bail!("the document is nested too deeply to edit");
        }
        let start = self.i;
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        let key_at = self.i;
                        self.string()?;
                        let key: String = serde_json::from_slice(&self.b[key_at..self.i])?;
                        self.ws();
                        self.expect(b':')?;
                        self.ws();
                        let v = self.value(depth + 1)?;
                        members.push((key, key_at, v));
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => bail!("expected ',' or '}}' at byte {}", self.i),
                        }
                    }
                }
                Ok(Node {
                    start,
                    end: self.i,
                    kind: Kind::Object(members),
                })
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => bail!("expected ',' or ']' at byte {}", self.i),
                        }
                    }
                }
                Ok(Node {
                    start,
                    end: self.i,
                    kind: Kind::Array(items),
                })
            }
            Some(b'"') => {
                self.string()?;
                Ok(Node {
                    start,
                    end: self.i,
                    kind: Kind::Scalar,
                })
            }
            Some(_) => {
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    self.i += 1;
                }
                if self.i == start {
                    bail!("expected a value at byte {start}");
                }
                Ok(Node {
                    start,
                    end: self.i,
                    kind: Kind::Scalar,
                })
            }
            None => bail!("unexpected end of the document"),
        }
    }

    fn string(&mut self) -> Result<()> {
        self.expect(b'"')?;
        while let Some(&c) = self.b.get(self.i) {
            self.i += 1;
            match c {
                b'\\' => self.i += 1,
                b'"' => return Ok(()),
                _ => {}
            }
        }
        bail!("unterminated string")
    }
}

/// The node at `path` (decoded JSON Pointer tokens).
pub fn locate<'a>(root: &'a Node, path: &[String]) -> Result<&'a Node> {
    let mut node = root;
    for token in path {
        node = match &node.kind {
            Kind::Object(members) => members
                .iter()
                .rev()
                .find(|(k, _, _)| k == token)
                .map(|(_, _, v)| v),
            Kind::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            Kind::Scalar => None,
        }
        .ok_or_else(|| anyhow!("no value at /{}", path.join("/")))?;
    }
    Ok(node)
}

/// How the file lays out nested values: its indentation unit (None: all on one line) and
/// whether `:` and `,` are followed by a space on one line.
#[derive(Debug, Clone)]
pub struct Style {
    /// One level of indentation (`"  "`, `"    "`, `"\t"`), or None for one-line JSON.
    pub unit: Option<String>,
    /// `"a": 1, "b": 2` rather than `"a":1,"b":2`.
    pub spaced: bool,
}

impl Style {
    /// The style of `text`: the indentation of its first indented line.
    pub fn of(text: &str) -> Style {
        let unit = text
            .lines()
            .skip(1)
            .map(|l| &l[..l.len() - l.trim_start_matches([' ', '\t']).len()])
            .find(|w| !w.is_empty())
            .map(str::to_string);
        Style {
            unit,
            spaced: text.contains("\": ") || !text.contains("\":"),
        }
    }
}

/// `value` as JSON text placed at an indentation of `indent`: pretty when `multiline`
/// and the file has an indentation unit, else on one line.
pub fn render(value: &Value, style: &Style, indent: &str, multiline: bool) -> String {
    match (&style.unit, multiline) {
        (Some(unit), true) => pretty(value, unit, indent),
        _ => one_line(value, style.spaced),
    }
}

/// A result object reaches regorun with its keys sorted; new values list the keys of an
/// IAM policy in the order AWS writes them, then the rest in sorted order.
const KEY_ORDER: &[&str] = &[
    "Version",
    "Id",
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn ordered(members: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut out: Vec<(&String, &Value)> = members.iter().collect();
    out.sort_by_key(|(k, _)| {
        KEY_ORDER
            .iter()
            .position(|o| o == k)
            .unwrap_or(KEY_ORDER.len())
    });
    out
}

fn pretty(value: &Value, unit: &str, indent: &str) -> String {
    let inner = format!("{indent}{unit}");
    match value {
        Value::Array(items) if !items.is_empty() => format!(
            "[\n{}\n{indent}]",
            items
                .iter()
                .map(|v| format!("{inner}{}", pretty(v, unit, &inner)))
                .collect::<Vec<_>>()
                .join(",\n")
        ),
        Value::Object(members) if !members.is_empty() => format!(
            "{{\n{}\n{indent}}}",
            ordered(members)
                .into_iter()
                .map(|(k, v)| format!(
                    "{inner}{}: {}",
                    Value::from(k.as_str()),
                    pretty(v, unit, &inner)
                ))
                .collect::<Vec<_>>()
                .join(",\n")
        ),
        other => other.to_string(),
    }
}

/// One line: `{"a": 1, "b": [2, 3]}` when `spaced`, else `{"a":1,"b":[2,3]}`.
fn one_line(value: &Value, spaced: bool) -> String {
    let (colon, comma) = if spaced { (": ", ", ") } else { (":", ",") };
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| one_line(v, spaced))
                .collect::<Vec<_>>()
                .join(comma)
        ),
        Value::Object(members) => format!(
            "{{{}}}",
            ordered(members)
                .into_iter()
                .map(|(k, v)| format!("{}{colon}{}", Value::from(k.as_str()), one_line(v, spaced)))
                .collect::<Vec<_>>()
                .join(comma)
        ),
        other => other.to_string(),
    }
}

/// The whitespace that starts the line holding byte `at`.
pub fn line_indent(text: &str, at: usize) -> &str {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_each_value() {
        let text = "{\"a\": [1, {\"b\": \"x\\\"y\"}], \"c\": null}";
        let root = parse(text).unwrap();
        let b = locate(&root, &["a".into(), "1".into(), "b".into()]).unwrap();
        assert_eq!(&text[b.start..b.end], "\"x\\\"y\"");
        let c = locate(&root, &["c".into()]).unwrap();
        assert_eq!(&text[c.start..c.end], "null");
        assert!(locate(&root, &["a".into(), "5".into()]).is_err());
        assert!(parse("{\"a\": 1} x").is_err());
        assert!(parse("{\"a\" 1}").is_err());
    }

    #[test]
    fn style_follows_the_file() {
        let pretty = Style::of("{\n    \"a\": 1\n}\n");
        assert_eq!(pretty.unit.as_deref(), Some("    "));
        let v: Value = serde_json::json!({"k": [1, 2]});
        assert_eq!(
            render(&v, &pretty, "    ", true),
            "{\n        \"k\": [\n            1,\n            2\n        ]\n    }"
        );
        let compact = Style::of("{\"a\":1}");
        assert_eq!(compact.unit, None);
        assert_eq!(render(&v, &compact, "", true), "{\"k\":[1,2]}");
        let spaced = Style::of("{\"a\": 1}");
        assert_eq!(render(&v, &spaced, "", false), "{\"k\": [1, 2]}");
    }
}
