//! JSON text with the byte span of every value, so that a patch can change one value and
//! leave every other byte of the file as it was (indentation, key order, line breaks).

use anyhow::{anyhow, Result};
use jsonc_parser::{ast, common::Ranged};
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

/// Parses `text` (one strict JSON document) into spans, with the `jsonc-parser` crate and
/// every extension it offers turned off.
pub fn parse(text: &str) -> Result<Node> {
    let strict = jsonc_parser::ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &strict)
        .map_err(|e| anyhow!("{e}"))?;
    parsed
        .value
        .as_ref()
        .map(node)
        .ok_or_else(|| anyhow!("the text holds no JSON value"))
}

fn node(value: &ast::Value) -> Node {
    let range = value.range();
    let kind = match value {
        ast::Value::Object(o) => Kind::Object(
            o.properties
                .iter()
                .map(|p| (p.name.as_str().to_string(), p.range.start, node(&p.value)))
                .collect(),
        ),
        ast::Value::Array(a) => Kind::Array(a.elements.iter().map(node).collect()),
        _ => Kind::Scalar,
    };
    Node {
        start: range.start,
        end: range.end,
        kind,
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
    /// What separates a key from its value: `": "`, `":"`, or `" : "` (the policy text
    /// `aws kms get-key-policy` returns).
    pub colon: String,
}

impl Style {
    /// The style of `text`: how much deeper its first indented line is than its first
    /// line (JSON inside an indented heredoc starts indented).
    pub fn of(text: &str) -> Style {
        let indent = |l: &'_ str| l.len() - l.trim_start_matches([' ', '\t']).len();
        let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
        let first = lines.next().unwrap_or("");
        let base = &first[..indent(first)];
        let unit = lines
            .map(|l| &l[..indent(l)])
            .find(|w| w.len() > base.len() && w.starts_with(base))
            .map(|w| w[base.len()..].to_string());
        let spaced = text.contains("\": ") || !text.contains("\":");
        let colon = if text.contains("\" : ") {
            " : "
        } else if spaced {
            ": "
        } else {
            ":"
        };
        Style {
            unit,
            spaced,
            colon: colon.to_string(),
        }
    }
}

/// `value` as JSON text placed at an indentation of `indent`: pretty when `multiline`
/// and the file has an indentation unit, else on one line.
pub fn render(value: &Value, style: &Style, indent: &str, multiline: bool) -> String {
    match (&style.unit, multiline) {
        (Some(unit), true) => pretty(value, unit, indent, &style.colon),
        _ => one_line(value, style.spaced, &style.colon),
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

/// Members of a new value, in [`KEY_ORDER`].
pub fn ordered(members: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut out: Vec<(&String, &Value)> = members.iter().collect();
    out.sort_by_key(|(k, _)| {
        KEY_ORDER
            .iter()
            .position(|o| o == k)
            .unwrap_or(KEY_ORDER.len())
    });
    out
}

fn pretty(value: &Value, unit: &str, indent: &str, colon: &str) -> String {
    let inner = format!("{indent}{unit}");
    match value {
        Value::Array(items) if !items.is_empty() => format!(
            "[\n{}\n{indent}]",
            items
                .iter()
                .map(|v| format!("{inner}{}", pretty(v, unit, &inner, colon)))
                .collect::<Vec<_>>()
                .join(",\n")
        ),
        Value::Object(members) if !members.is_empty() => format!(
            "{{\n{}\n{indent}}}",
            ordered(members)
                .into_iter()
                .map(|(k, v)| format!(
                    "{inner}{}{colon}{}",
                    Value::from(k.as_str()),
                    pretty(v, unit, &inner, colon)
                ))
                .collect::<Vec<_>>()
                .join(",\n")
        ),
        other => other.to_string(),
    }
}

/// One line: `{"a": 1, "b": [2, 3]}` when `spaced`, else `{"a":1,"b":[2,3]}`.
fn one_line(value: &Value, spaced: bool, colon: &str) -> String {
    let comma = if spaced { ", " } else { "," };
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| one_line(v, spaced, colon))
                .collect::<Vec<_>>()
                .join(comma)
        ),
        Value::Object(members) => format!(
            "{{{}}}",
            ordered(members)
                .into_iter()
                .map(|(k, v)| {
                    format!(
                        "{}{colon}{}",
                        Value::from(k.as_str()),
                        one_line(v, spaced, colon)
                    )
                })
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
        // The policy text of `aws kms get-key-policy` puts a space before the colon.
        let aws = Style::of("{\n  \"Version\" : \"2012-10-17\"\n}");
        assert_eq!(render(&v, &aws, "", false), "{\"k\" : [1, 2]}");
        // JSON inside an indented heredoc: the unit is the step, not the first indent.
        let heredoc = Style::of("    {\n      \"a\": 1\n    }\n");
        assert_eq!(heredoc.unit.as_deref(), Some("  "));
    }
}
