//! Where a result's `metadata.path` (a JSON pointer into the input document) is in the
//! input's text, as a line and column, for JSON (also a Terraform plan or a CloudFormation
//! template), YAML and Terraform files. A pointer that goes on into a string holding JSON
//! (the `Policy` of `aws kms get-key-policy` output, a plan's `policy`) stops at that
//! string; one that names no value stops at the deepest value it reaches. Text in, numbers
//! out: no file system here.

use super::json_text::{self, Kind, Node};
use crate::base::result::Position;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::Body;
use hcl_edit::Span;

/// The syntax of an input file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Syntax {
    /// One JSON document.
    Json,
    /// One YAML document.
    Yaml,
    /// Terraform (HCL2).
    Hcl,
}

/// The decoded tokens of a JSON pointer (`/a~1b/0` -> `["a/b", "0"]`); `None` when it is not
/// a pointer.
pub fn tokens(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

/// The line and column of `pointer` in `text`, or `None` when the text does not parse or
/// the pointer is not one.
pub fn position(text: &str, syntax: Syntax, pointer: &str) -> Option<Position> {
    let path = tokens(pointer)?;
    let offset = match syntax {
        Syntax::Json => walk(&json_text::parse(text).ok()?, text, &path),
        Syntax::Yaml => walk(&super::yaml_text::parse(text).ok()?, text, &path),
        Syntax::Hcl => hcl(text, &path)?,
    };
    Some(line_column(text, offset))
}

/// The offset of the deepest value `path` reaches: a member's key, an element's start.
fn walk(root: &Node, text: &str, path: &[String]) -> usize {
    let mut node = root;
    let mut at = root.start;
    for token in path {
        let next = match &node.kind {
            Kind::Object(members) => members
                .iter()
                .rev()
                .find(|(k, _, _)| k == token)
                .map(|(_, key, v)| (*key, v)),
            Kind::Array(items) => token
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|v| (v.start, v)),
            // A string holding JSON, or a value the pointer cannot go into.
            Kind::Scalar => None,
        };
        match next {
            Some((start, v)) => {
                at = start;
                node = v;
            }
            None => break,
        }
    }
    at.min(text.len())
}

/// The offset of `path` in a Terraform file: blocks by type, labels and index, then an
/// attribute, then into a heredoc's JSON or an HCL value (`jsonencode({...})`).
fn hcl(text: &str, path: &[String]) -> Option<usize> {
    let body = hcl_edit::parser::parse_body(text).ok()?;
    let (mut at, rest, value) = block_path(&body, path, 0)?;
    let Some(mut expr) = value else {
        return Some(at);
    };
    let mut rest = rest;
    loop {
        let Some((token, tail)) = rest.split_first() else {
            return Some(at);
        };
        expr = match expr {
            Expression::FuncCall(call) if call.name.name.as_str() == "jsonencode" => {
                match call.args.get(0) {
                    Some(arg) => arg,
                    None => return Some(at),
                }
            }
            Expression::Parenthesis(p) => p.inner(),
            Expression::HeredocTemplate(h) => {
                let span = h.span()?;
                let raw = &text[span.clone()];
                let open = raw.find('\n')? + 1;
                let close = raw.trim_end().rfind('\n').unwrap_or(open).max(open);
                let inner = &text[span.start + open..span.start + close];
                return Some(match json_text::parse(inner) {
                    Ok(root) => span.start + open + walk(&root, inner, rest),
                    Err(_) => at,
                });
            }
            Expression::Object(object) => {
                let found = object.iter().find(|(k, _)| match k {
                    ObjectKey::Ident(id) => id.as_str() == token,
                    ObjectKey::Expression(Expression::String(s)) => s.as_str() == token,
                    ObjectKey::Expression(_) => false,
                });
                let Some((key, value)) = found else {
                    return Some(at);
                };
                at = key.span().map_or(at, |s| s.start);
                rest = tail;
                value.expr()
            }
            Expression::Array(array) => {
                let Some(item) = token.parse::<usize>().ok().and_then(|i| array.get(i)) else {
                    return Some(at);
                };
                at = item.span().map_or(at, |s| s.start);
                rest = tail;
                item
            }
            _ => return Some(at),
        };
    }
}

/// Walks blocks and attributes of `body`: the offset reached, the rest of the path, and the
/// attribute's value when the path reached one.
fn block_path<'a>(
    body: &'a Body,
    path: &'a [String],
    at: usize,
) -> Option<(usize, &'a [String], Option<&'a Expression>)> {
    let Some((ident, rest)) = path.split_first() else {
        return Some((at, path, None));
    };
    if let Some(attr) = body.get_attribute(ident) {
        let start = attr.key.span().map_or(at, |s| s.start);
        return Some((start, rest, Some(&attr.value)));
    }
    let blocks: Vec<_> = body.blocks().filter(|b| b.has_ident(ident)).collect();
    let labels = blocks.first()?.labels.len();
    let given = rest.len().min(labels);
    let matching: Vec<_> = blocks
        .iter()
        .filter(|b| {
            b.labels
                .iter()
                .zip(&rest[..given])
                .all(|(l, t)| l.as_str() == t)
        })
        .collect();
    if rest.len() < labels + 1 {
        // The path ends at labels: the first block that has them.
        return Some((matching.first()?.span().map_or(at, |s| s.start), &[], None));
    }
    let index: usize = rest[labels].parse().ok()?;
    let block = matching.get(index)?;
    let start = block.span().map_or(at, |s| s.start);
    block_path(&block.body, &rest[labels + 1..], start)
}

/// The line and column (from 1, in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> Position {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, syntax: Syntax, pointer: &str) -> (usize, usize) {
        let p = position(text, syntax, pointer).expect("a position");
        (p.line, p.column)
    }

    const JSON: &str =
        "{\n  \"Statement\": [\n    {\"Sid\": \"a\"},\n    {\n      \"Principal\": \"*\"\n    }\n  ]\n}\n";

    #[test]
    fn json_pointers() {
        assert_eq!(at(JSON, Syntax::Json, ""), (1, 1));
        assert_eq!(at(JSON, Syntax::Json, "/Statement"), (2, 3));
        assert_eq!(at(JSON, Syntax::Json, "/Statement/0"), (3, 5));
        assert_eq!(at(JSON, Syntax::Json, "/Statement/1/Principal"), (5, 7));
        // Past the end: the deepest value reached.
        assert_eq!(at(JSON, Syntax::Json, "/Statement/7"), (2, 3));
        assert!(position(JSON, Syntax::Json, "Statement").is_none());
        assert!(position("{", Syntax::Json, "").is_none());
    }

    #[test]
    fn a_pointer_into_a_json_string_stops_at_the_string() {
        let dump = "{\n  \"Policy\": \"{\\\"Statement\\\": []}\",\n  \"x\": 1\n}";
        assert_eq!(at(dump, Syntax::Json, "/Policy/Statement/0"), (2, 3));
    }

    #[test]
    fn yaml_pointers() {
        let yaml = "Resources:\n  Key:\n    Properties:\n      KeyPolicy:\n        Statement:\n          - Sid: a\n          - Sid: b\n            Principal: '*'\n";
        assert_eq!(
            at(
                yaml,
                Syntax::Yaml,
                "/Resources/Key/Properties/KeyPolicy/Statement/1"
            ),
            (7, 13)
        );
        assert_eq!(
            at(
                yaml,
                Syntax::Yaml,
                "/Resources/Key/Properties/KeyPolicy/Statement/1/Principal"
            ),
            (8, 13)
        );
    }

    #[test]
    fn terraform_pointers() {
        let tf = "resource \"aws_kms_key\" \"a\" {\n  policy = <<EOF\n{\n  \"Statement\": [\n    {\"Sid\": \"x\"}\n  ]\n}\nEOF\n}\nresource \"aws_kms_key\" \"b\" {\n  policy = jsonencode({\n    Statement = [\n      { Sid = \"y\" },\n      { Sid = \"z\" },\n    ]\n  })\n}\n";
        assert_eq!(
            at(
                tf,
                Syntax::Hcl,
                "/resource/aws_kms_key/a/0/policy/Statement/0"
            ),
            (5, 5)
        );
        assert_eq!(
            at(
                tf,
                Syntax::Hcl,
                "/resource/aws_kms_key/b/0/policy/Statement/1"
            ),
            (14, 7)
        );
        assert_eq!(
            at(tf, Syntax::Hcl, "/resource/aws_kms_key/b/0/policy"),
            (11, 3)
        );
        assert_eq!(at(tf, Syntax::Hcl, "/resource/aws_kms_key/b"), (10, 1));
    }
}
