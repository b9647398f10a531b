//! Fixes written into YAML (a CloudFormation template's `KeyPolicy`): the value a patch
//! names is found by the parser's positions and only its text is changed, so comments,
//! quoting, tags and layout elsewhere stay as they were. New values are written in block
//! style at the file's indentation. The caller reads the result back and compares.

use anyhow::{anyhow, bail, Result};
use json_patch::PatchOperation;
use serde_json::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::json_text::{self, Kind, Node};

/// How the file nests block values.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Spaces per nesting level of mappings.
    unit: usize,
    /// Whether a sequence under a key is indented (`key:\n  - a`) or not (`key:\n- a`).
    indented_sequences: bool,
}

/// One JSON Patch operation on YAML text; the document was checked to accept it.
pub fn apply_op(text: &str, op: &PatchOperation) -> Result<String> {
    let path = &super::tokens(op);
    let root = parse(text)?;
    let layout = layout(text, &root);
    match op {
        PatchOperation::Test(_) => Ok(text.to_string()),
        PatchOperation::Replace(r) => {
            replace(text, json_text::locate(&root, path)?, &r.value, layout)
        }
        PatchOperation::Add(a) => {
            let (last, parent) = path
                .split_last()
                .ok_or_else(|| anyhow!("the whole document is not replaced in YAML"))?;
            let parent = json_text::locate(&root, parent)?;
            add(text, parent, last, &a.value, layout)
        }
        PatchOperation::Remove(_) => {
            let (last, parent) = path
                .split_last()
                .ok_or_else(|| anyhow!("the whole document cannot be removed"))?;
            remove(text, json_text::locate(&root, parent)?, last)
        }
        PatchOperation::Move(_) | PatchOperation::Copy(_) => {
            bail!("move and copy operations are written as remove and add")
        }
    }
}

/// Builds the node tree of the first document from the parser's events.
#[derive(Default)]
struct Builder {
    /// Byte offset of each char index (the parser counts chars).
    bytes: Vec<usize>,
    /// Open collections: their node and, for a mapping, the key awaiting its value.
    stack: Vec<(Node, Option<(String, usize)>)>,
    root: Option<Node>,
    documents: usize,
    unsupported: Option<String>,
    scalars: Vec<(usize, TScalarStyle)>,
}

impl Builder {
    fn at(&self, m: &Marker) -> usize {
        self.bytes
            .get(m.index())
            .copied()
            .unwrap_or(*self.bytes.last().unwrap_or(&0))
    }

    fn push(&mut self, node: Node) {
        let Some((parent, pending)) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match &mut parent.kind {
            Kind::Array(items) => items.push(node),
            Kind::Object(members) => match pending.take() {
                Some((key, at)) => members.push((key, at, node)),
                None => self.unsupported = Some("a key that is not a scalar".into()),
            },
            Kind::Scalar => {}
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let at = self.at(&mark);
        match ev {
            Event::DocumentStart => self.documents += 1,
            _ if self.documents != 1 => {}
            Event::Alias(_) => self.unsupported = Some("an alias".into()),
            Event::Scalar(value, style, anchor, _) => {
                if anchor != 0 {
                    self.unsupported = Some("an anchor".into());
                }
                // A scalar in key position becomes the pending key.
                if let Some((
                    Node {
                        kind: Kind::Object(_),
                        ..
                    },
                    pending @ None,
                )) = self.stack.last_mut()
                {
                    *pending = Some((value, at));
                    return;
                }
                self.scalars.push((at, style));
                self.push(Node {
                    start: at,
                    end: at,
                    kind: Kind::Scalar,
                });
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                if anchor != 0 {
                    self.unsupported = Some("an anchor".into());
                }
                if matches!(
                    self.stack.last(),
                    Some((
                        Node {
                            kind: Kind::Object(_),
                            ..
                        },
                        None
                    ))
                ) {
                    self.unsupported = Some("a key that is not a scalar".into());
                }
                let kind = if matches!(ev, Event::MappingStart(..)) {
                    Kind::Object(Vec::new())
                } else {
                    Kind::Array(Vec::new())
                };
                self.stack.push((
                    Node {
                        start: at,
                        end: at,
                        kind,
                    },
                    None,
                ));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some((mut node, _)) = self.stack.pop() {
                    node.end = at;
                    self.push(node);
                }
            }
            _ => {}
        }
    }
}

/// The first document's nodes with their spans: scalars from their first byte (after a
/// tag) to their last, collections from their first child (or `{`/`[`) to the end of
/// their last child (or past `}`/`]`).
pub(crate) fn parse(text: &str) -> Result<Node> {
    let mut b = Builder {
        bytes: text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect(),
        ..Default::default()
    };
    Parser::new_from_str(text)
        .load(&mut b, true)
        .map_err(|e| anyhow!("the file is not YAML: {e}"))?;
    if b.documents != 1 {
        bail!("fixes are written to YAML files of one document");
    }
    if let Some(what) = b.unsupported {
        bail!("the YAML has {what}, which fixes do not edit");
    }
    let mut root = b
        .root
        .ok_or_else(|| anyhow!("the YAML document is empty"))?;
    let styles: std::collections::HashMap<usize, TScalarStyle> = b.scalars.into_iter().collect();
    spans(text, &mut root, &styles, false);
    Ok(root)
}

fn is_flow(text: &str, node: &Node) -> bool {
    !matches!(node.kind, Kind::Scalar)
        && matches!(text.as_bytes().get(node.start), Some(b'{' | b'['))
}

fn spans(
    text: &str,
    node: &mut Node,
    styles: &std::collections::HashMap<usize, TScalarStyle>,
    in_flow: bool,
) {
    let flow = is_flow(text, node);
    match &mut node.kind {
        Kind::Scalar => {
            let style = styles
                .get(&node.start)
                .copied()
                .unwrap_or(TScalarStyle::Plain);
            node.end = scalar_end(text, node.start, style, in_flow);
        }
        Kind::Object(members) => {
            for (_, _, v) in members.iter_mut() {
                spans(text, v, styles, flow || in_flow);
            }
            if !flow {
                node.start = members.first().map_or(node.start, |m| m.1);
                node.end = members.last().map_or(node.start, |m| m.2.end);
            }
        }
        Kind::Array(items) => {
            for v in items.iter_mut() {
                spans(text, v, styles, flow || in_flow);
            }
            if !flow {
                node.end = items.last().map_or(node.start, |v| v.end);
            }
        }
    }
    if flow {
        // The end event is at the closing bracket.
        node.end = (node.end + 1).min(text.len());
    }
}

/// One past a scalar's last byte.
fn scalar_end(text: &str, start: usize, style: TScalarStyle, in_flow: bool) -> usize {
    let rest = &text[start..];
    match style {
        TScalarStyle::SingleQuoted => {
            let mut i = 1;
            while let Some(p) = rest[i..].find('\'') {
                i += p + 1;
                if !rest[i..].starts_with('\'') {
                    return start + i;
                }
                i += 1;
            }
            text.len()
        }
        TScalarStyle::DoubleQuoted => {
            let mut escaped = false;
            for (i, c) in rest.char_indices().skip(1) {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => return start + i + 1,
                    _ => escaped = false,
                }
            }
            text.len()
        }
        TScalarStyle::Literal | TScalarStyle::Folded => {
            // Lines indented deeper than the line the indicator is on.
            let base = json_text::line_indent(text, start).len();
            let mut end = start + rest.find('\n').unwrap_or(rest.len());
            let mut pos = end;
            while pos < text.len() {
                let line_end = text[pos + 1..]
                    .find('\n')
                    .map_or(text.len(), |p| pos + 1 + p);
                let line = &text[pos + 1..line_end];
                if !line.trim().is_empty() {
                    if line.len() - line.trim_start().len() <= base {
                        break;
                    }
                    end = line_end;
                }
                pos = line_end;
            }
            end
        }
        _ => {
            // Plain: to the end of the line or a comment, or a flow indicator.
            let line = rest.split('\n').next().unwrap_or("");
            let mut end = line.len();
            if let Some(p) = line.find(" #") {
                end = p;
            }
            if let Some(p) = line.find([',', ']', '}']).filter(|_| in_flow) {
                end = end.min(p);
            }
            start + line[..end].trim_end().len()
        }
    }
}

/// The indentation unit and sequence style of the file, from its first nested mapping
/// and its first sequence under a key (2 and indented when it has neither).
fn layout(text: &str, root: &Node) -> Layout {
    let mut unit = None;
    let mut indented = None;
    visit(text, root, &mut unit, &mut indented);
    Layout {
        unit: unit.unwrap_or(2),
        indented_sequences: indented.unwrap_or(true),
    }
}

fn visit(text: &str, node: &Node, unit: &mut Option<usize>, indented: &mut Option<bool>) {
    if let Kind::Object(members) = &node.kind {
        for (_, key_at, v) in members {
            let key_col = column(text, *key_at);
            if is_flow(text, v) || matches!(v.kind, Kind::Scalar) {
                continue;
            }
            match &v.kind {
                Kind::Object(inner) if unit.is_none() => {
                    if let Some((_, at, _)) = inner.first() {
                        let d = column(text, *at).saturating_sub(key_col);
                        *unit = (d > 0).then_some(d);
                    }
                }
                Kind::Array(_) if indented.is_none() => {
                    *indented = Some(column(text, v.start) > key_col)
                }
                _ => {}
            }
        }
    }
    match &node.kind {
        Kind::Object(members) => members
            .iter()
            .for_each(|m| visit(text, &m.2, unit, indented)),
        Kind::Array(items) => items.iter().for_each(|v| visit(text, v, unit, indented)),
        Kind::Scalar => {}
    }
}

fn column(text: &str, at: usize) -> usize {
    text[..at].rsplit('\n').next().unwrap_or("").chars().count()
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |p| p + 1)
}

fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |p| at + p)
}

fn splice(text: &str, from: usize, to: usize, with: &str) -> String {
    format!("{}{}{}", &text[..from], with, &text[to..])
}

/// Where a value starts, counting its tag (`!Ref X`) if it has one.
fn with_tag(text: &str, start: usize) -> usize {
    let before = text[..start].trim_end_matches(' ');
    match before.rfind([' ', '\n', '-', ':', '[', '{', ',']) {
        Some(p) if before[p + 1..].starts_with('!') => p + 1,
        None if before.starts_with('!') => 0,
        _ => start,
    }
}

fn replace(text: &str, node: &Node, value: &Value, layout: Layout) -> Result<String> {
    let start = with_tag(text, node.start);
    if is_flow(text, node) {
        return Ok(splice(text, start, node.end, &flow(value)));
    }
    let block_value = is_block_container(value);
    let own_line = text[line_start(text, start)..start].trim().is_empty();
    if !block_value || own_line && !matches!(node.kind, Kind::Scalar) {
        // In place: a scalar anywhere, or a block collection where one was.
        let col = column(text, start);
        return Ok(splice(text, start, node.end, &block(value, col, layout)));
    }
    // A collection where a scalar was: after `key:` on the lines below, after `- ` inline.
    let before = text[line_start(text, start)..start].trim_end();
    if before.ends_with('-') {
        let col = column(text, start);
        return Ok(splice(text, start, node.end, &block(value, col, layout)));
    }
    if before.ends_with(':') {
        let key_col = json_text::line_indent(text, start).len()
            + before.trim_start().strip_prefix("- ").map_or(0, |_| 2);
        let col = key_col + nested_step(value, layout);
        let from = start - (text[..start].len() - text[..start].trim_end_matches(' ').len());
        return Ok(splice(
            text,
            from,
            node.end,
            &format!("\n{}{}", " ".repeat(col), block(value, col, layout)),
        ));
    }
    bail!("the YAML around the value is not one this fix can edit")
}

fn is_block_container(value: &Value) -> bool {
    matches!(value, Value::Array(a) if !a.is_empty())
        || matches!(value, Value::Object(o) if !o.is_empty())
}

/// How far a value under a key is indented.
fn nested_step(value: &Value, layout: Layout) -> usize {
    match value {
        Value::Array(_) if !layout.indented_sequences => 0,
        _ => layout.unit,
    }
}

fn add(text: &str, parent: &Node, last: &str, value: &Value, layout: Layout) -> Result<String> {
    if let Kind::Object(members) = &parent.kind {
        if let Some((_, _, node)) = members.iter().rev().find(|(k, _, _)| k == last) {
            return replace(text, node, value, layout);
        }
    }
    if is_flow(text, parent) {
        let close = parent.end - 1;
        let empty = matches!(&parent.kind, Kind::Object(m) if m.is_empty())
            || matches!(&parent.kind, Kind::Array(a) if a.is_empty());
        let sep = if empty { "" } else { ", " };
        let item = match &parent.kind {
            Kind::Object(_) => format!("{}: {}", scalar(last, true), flow(value)),
            _ if last == "-" => flow(value),
            _ => bail!("only appending to a flow sequence is written"),
        };
        let at = text[..close].trim_end().len();
        return Ok(splice(text, at, at, &format!("{sep}{item}")));
    }
    match &parent.kind {
        Kind::Object(members) => {
            let (_, key_at, last_value) = members.last().ok_or_else(|| anyhow!("empty mapping"))?;
            let col = column(text, *key_at);
            let at = line_end(text, last_value.end);
            Ok(splice(
                text,
                at,
                at,
                &format!("\n{}{}", " ".repeat(col), member(last, value, col, layout)),
            ))
        }
        Kind::Array(items) => {
            let first = items.first().ok_or_else(|| anyhow!("empty sequence"))?;
            let dash = dash_column(text, first)?;
            let item = format!("- {}", block(value, dash + 2, layout));
            if last == "-" || last.parse::<usize>().ok() == Some(items.len()) {
                let at = line_end(text, items[items.len() - 1].end);
                return Ok(splice(
                    text,
                    at,
                    at,
                    &format!("\n{}{item}", " ".repeat(dash)),
                ));
            }
            let i: usize = last
                .parse()
                .map_err(|_| anyhow!("no sequence position {last}"))?;
            let node = items
                .get(i)
                .ok_or_else(|| anyhow!("no sequence position {last}"))?;
            dash_column(text, node)?;
            let at = line_start(text, node.start);
            Ok(splice(
                text,
                at,
                at,
                &format!("{}{item}\n", " ".repeat(dash)),
            ))
        }
        Kind::Scalar => bail!("cannot add to a scalar"),
    }
}

/// The column of the `- ` in front of a block sequence item, which must open its line.
fn dash_column(text: &str, item: &Node) -> Result<usize> {
    let start = with_tag(text, item.start);
    let from = line_start(text, start);
    let before = &text[from..start];
    let trimmed = before.trim_start();
    if trimmed.trim_end() != "-" {
        bail!("a sequence item that does not open its line is not edited");
    }
    Ok(before.len() - trimmed.len())
}

fn remove(text: &str, parent: &Node, last: &str) -> Result<String> {
    if is_flow(text, parent) {
        bail!("only whole lines of block YAML are removed");
    }
    let (start, end) = match &parent.kind {
        Kind::Object(members) => {
            let (_, key_at, v) = members
                .iter()
                .rev()
                .find(|(k, _, _)| k == last)
                .ok_or_else(|| anyhow!("nothing to remove at {last}"))?;
            if !text[line_start(text, *key_at)..*key_at].trim().is_empty() {
                bail!("only whole lines of block YAML are removed");
            }
            (*key_at, v.end)
        }
        Kind::Array(items) => {
            let v = last
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .ok_or_else(|| anyhow!("nothing to remove at {last}"))?;
            dash_column(text, v)?;
            (with_tag(text, v.start), v.end)
        }
        Kind::Scalar => bail!("cannot remove from a scalar"),
    };
    let from = line_start(text, start);
    let to = (line_end(text, end) + 1).min(text.len());
    Ok(splice(text, from, to, ""))
}

/// `key: value` at column `col` (the first line without its indentation).
fn member(key: &str, value: &Value, col: usize, layout: Layout) -> String {
    let key = scalar(key, false);
    if is_block_container(value) {
        let inner = col + nested_step(value, layout);
        format!(
            "{key}:\n{}{}",
            " ".repeat(inner),
            block(value, inner, layout)
        )
    } else {
        format!("{key}: {}", block(value, col, layout))
    }
}

/// A value in block style whose first line starts at column `col` (without indentation)
/// and whose other lines are indented to it.
fn block(value: &Value, col: usize, layout: Layout) -> String {
    let pad = " ".repeat(col);
    match value {
        Value::Object(members) if !members.is_empty() => json_text::ordered(members)
            .into_iter()
            .map(|(k, v)| member(k, v, col, layout))
            .collect::<Vec<_>>()
            .join(&format!("\n{pad}")),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| format!("- {}", block(v, col + 2, layout)))
            .collect::<Vec<_>>()
            .join(&format!("\n{pad}")),
        Value::String(s) => scalar(s, false),
        _ => flow(value),
    }
}

/// A value on one line, in flow style.
fn flow(value: &Value) -> String {
    match value {
        Value::String(s) => scalar(s, true),
        Value::Object(members) => format!(
            "{{{}}}",
            json_text::ordered(members)
                .into_iter()
                .map(|(k, v)| format!("{}: {}", scalar(k, true), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// A string as a plain scalar where YAML reads that back as the same string, else quoted.
fn scalar(s: &str, in_flow: bool) -> String {
    let special = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ];
    // Spaces only inside, never before `#` or after `:`.
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '$' || c == '/')
        && !s.ends_with([':', ' '])
        && !s.contains(": ")
        && !s.contains(" #")
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || "_$/.:*@+=- ".contains(c) || (!in_flow && "{}".contains(c))
        })
        && !special.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_string()
    } else if s.chars().all(|c| !c.is_control()) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        Value::from(s).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(v: Value) -> PatchOperation {
        serde_json::from_value(v).unwrap()
    }

    const TEMPLATE: &str = "# keys\nResources:\n  Key:\n    Type: AWS::KMS::Key # the key\n    Properties:\n      KeyPolicy:\n        Statement:\n          - Sid: 'Anyone'\n            Principal: '*'   # check\n            Action: [kms:Decrypt]\n            Resource: !Ref Arn\n        # end of statements\n  Other: {A: 1}\n";

    #[test]
    fn a_scalar_becomes_a_block_mapping_and_the_comments_stay() {
        let o = op(
            json!({"op": "replace", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal", "value": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}}),
        );
        let out = apply_op(TEMPLATE, &o).unwrap();
        assert_eq!(
            out,
            TEMPLATE.replace(
                "Principal: '*'   # check",
                "Principal:\n              AWS:\n                Fn::Sub: arn:${AWS::Partition}:iam::${AWS::AccountId}:root   # check"
            )
        );
    }

    #[test]
    fn an_appended_item_follows_the_last_one() {
        let o = op(
            json!({"op": "add", "path": "/Resources/Key/Properties/KeyPolicy/Statement/-", "value": {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}}),
        );
        let out = apply_op(TEMPLATE, &o).unwrap();
        assert_eq!(
            out,
            TEMPLATE.replace(
                "Resource: !Ref Arn\n",
                "Resource: !Ref Arn\n          - Sid: Root\n            Effect: Allow\n            Principal:\n              AWS: '111122223333'\n            Action: kms:*\n            Resource: '*'\n"
            )
        );
    }

    #[test]
    fn flow_and_tagged_values_are_edited_in_place() {
        let o = op(
            json!({"op": "add", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/-", "value": "kms:Encrypt"}),
        );
        let out = apply_op(TEMPLATE, &o).unwrap();
        assert!(
            out.contains("Action: [kms:Decrypt, kms:Encrypt]\n"),
            "{out}"
        );
        let o = op(
            json!({"op": "replace", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Resource", "value": "*"}),
        );
        let out = apply_op(TEMPLATE, &o).unwrap();
        assert!(out.contains("Resource: '*'\n        # end"), "{out}");
        let o = op(json!({"op": "add", "path": "/Resources/Other/B", "value": true}));
        let out = apply_op(TEMPLATE, &o).unwrap();
        assert!(out.ends_with("Other: {A: 1, B: true}\n"), "{out}");
        let o = op(
            json!({"op": "add", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Condition", "value": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}),
        );
        let out = apply_op(TEMPLATE, &o).unwrap();
        assert!(out.contains("Resource: !Ref Arn\n            Condition:\n              Bool:\n                kms:GrantIsForAWSResource: 'true'\n        # end"), "{out}");
    }

    #[test]
    fn removals_take_whole_lines_and_unsupported_yaml_is_refused() {
        let o = op(
            json!({"op": "remove", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action"}),
        );
        let out = apply_op(TEMPLATE, &o).unwrap();
        assert!(!out.contains("Action"));
        assert!(out.contains("Principal: '*'   # check\n            Resource: !Ref Arn\n"));
        let o = op(json!({"op": "add", "path": "/a/-", "value": 1}));
        assert!(apply_op("a: &x [1]\nb: *x\n", &o).is_err());
        assert!(apply_op("a: [1]\n---\nb: 2\n", &o).is_err());
    }

    #[test]
    fn unsafe_strings_are_quoted() {
        assert_eq!(scalar("kms:Decrypt", false), "kms:Decrypt");
        assert_eq!(scalar("111122223333", false), "'111122223333'");
        assert_eq!(scalar("true", false), "'true'");
        assert_eq!(scalar("${AWS::AccountId}", false), "${AWS::AccountId}");
        assert_eq!(scalar("${AWS::AccountId}", true), "'${AWS::AccountId}'");
        assert_eq!(scalar("it's", false), "'it''s'");
        assert_eq!(
            scalar("Enable IAM User Permissions", false),
            "Enable IAM User Permissions"
        );
        assert_eq!(scalar("a: b", false), "'a: b'");
        assert_eq!(scalar("a\nb", false), "\"a\\nb\"");
    }
}
