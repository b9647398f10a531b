//! Fixes as data attached to findings: a result object may carry `fix`, an RFC 6902 JSON
//! Patch against the input document the rule saw, and a one-line `fix_title`. This module
//! applies such patches to an input's text so that everything the patch does not touch
//! keeps its bytes, and renders the change as a unified diff. Bytes in, bytes out: no file
//! system and no terminal here, so that the same code can run wherever the engine runs.

pub mod hcl_text;
pub mod json_text;
pub mod position;
pub mod yaml_text;

use anyhow::{anyhow, bail, Context, Result};
use json_patch::{Patch, PatchOperation};
use serde_json::{Map, Value};

use json_text::{Kind, Node, Style};

/// One finding's fix.
#[derive(Debug, Clone)]
pub struct Fix {
    /// The `fix_title`, when the policy gave one.
    pub title: Option<String>,
    /// The operations, applied together or not at all.
    pub patch: Patch,
}

/// The fix a result carries in its metadata: None without a `fix` key, an error when
/// `fix` is not a JSON Patch.
pub fn fix_of(metadata: &Map<String, Value>) -> Option<Result<Fix>> {
    let raw = metadata.get("fix")?;
    let title = metadata
        .get("fix_title")
        .and_then(Value::as_str)
        .map(str::to_string);
    Some(
        serde_json::from_value::<Patch>(raw.clone())
            .map(|patch| Fix { title, patch })
            .map_err(|e| anyhow!("its fix is not a JSON Patch: {e}")),
    )
}

/// The result of applying fixes to one file's text.
#[derive(Debug, Default)]
pub struct Applied {
    /// The corrected text (the original when nothing applied).
    pub text: String,
    /// Indexes of the fixes applied, in order.
    pub applied: Vec<usize>,
    /// Indexes of the fixes skipped, with why: a patch that fails on the document as the
    /// fixes before it left it, or that cannot be written in the file's form.
    pub skipped: Vec<(usize, String)>,
}

/// A reader of a file's text as the document the rules saw (the runner's parser).
pub type Reader<'a> = &'a dyn Fn(&str) -> Result<Value>;

/// The kind of file fixes are written into.
#[derive(Clone, Copy)]
pub enum Form<'a> {
    /// One JSON document.
    Json,
    /// One YAML document (a CloudFormation template), read back with the reader.
    Yaml(Reader<'a>),
    /// Terraform: a path through a block to a heredoc attribute that holds JSON.
    Hcl(Reader<'a>),
}

impl Form<'_> {
    fn read(&self, text: &str) -> Result<Value> {
        match self {
            Form::Json => serde_json::from_str(text).context("the file is not one JSON document"),
            Form::Yaml(read) | Form::Hcl(read) => read(text),
        }
    }
}

/// Applies `fixes` in order to a JSON document's `text`. Each fix is applied whole or
/// skipped; only the values a patch changes are rewritten.
pub fn apply_json(text: &str, fixes: &[Fix]) -> Result<Applied> {
    apply(text, fixes, Form::Json)
}

/// Applies `fixes` in order to `text`, a file of `form`: each fix whole or skipped, and
/// only the values a patch changes rewritten. The result must read back as the patched
/// document.
pub fn apply(text: &str, fixes: &[Fix], form: Form) -> Result<Applied> {
    let mut doc: Value = form.read(text)?;
    let style = Style::of(text);
    let mut out = Applied {
        text: text.to_string(),
        ..Default::default()
    };
    for (n, fix) in fixes.iter().enumerate() {
        let paths: Vec<Vec<String>> = fix.patch.iter().map(tokens).collect();
        let mut wanted = decoded_along(doc.clone(), &paths);
        if let Err(e) = json_patch::patch(&mut wanted, &fix.patch) {
            out.skipped.push((n, e.to_string()));
            continue;
        }
        let written = expand(&fix.patch, decoded_along(doc.clone(), &paths))
            .and_then(|ops| {
                ops.iter().try_fold(out.text.clone(), |t, op| match form {
                    Form::Json => apply_op(&t, op, &style),
                    Form::Yaml(_) => yaml_text::apply_op(&t, op),
                    Form::Hcl(_) => hcl_text::apply_op(&t, op),
                })
            })
            .and_then(|t| {
                // The text must read back as exactly the patched document.
                let back: Value = form.read(&t)?;
                if decoded_along(back.clone(), &paths) != wanted {
                    bail!("the corrected text does not read back as the patched document");
                }
                Ok((t, back))
            });
        match written {
            Ok((t, back)) => {
                out.text = t;
                doc = back;
                out.applied.push(n);
            }
            Err(e) => out.skipped.push((n, e.to_string())),
        }
    }
    Ok(out)
}

/// The operations written to the text: `move` as `remove` then `add`, `copy` as `add`, each
/// with the value `from` holds at that point of the patch (`state` is the document the
/// patch starts from).
fn expand(patch: &Patch, mut state: Value) -> Result<Vec<PatchOperation>> {
    let mut out = Vec::new();
    for op in patch.iter() {
        if let PatchOperation::Move(_) | PatchOperation::Copy(_) = op {
            let raw = serde_json::to_value(op)?;
            let (from, path) = (raw["from"].as_str(), raw["path"].as_str());
            let (Some(from), Some(path)) = (from, path) else {
                bail!("a move or copy without from and path");
            };
            let value = state
                .pointer(from)
                .cloned()
                .ok_or_else(|| anyhow!("nothing at {from}"))?;
            if let PatchOperation::Move(_) = op {
                out.push(serde_json::from_value(
                    serde_json::json!({"op": "remove", "path": from}),
                )?);
            }
            out.push(serde_json::from_value(
                serde_json::json!({"op": "add", "path": path, "value": value}),
            )?);
        } else {
            out.push(op.clone());
        }
        json_patch::patch(&mut state, std::slice::from_ref(op))?;
    }
    Ok(out)
}

/// A patch path may go on into a string that holds JSON (`/Policy/Statement/-` in `aws kms
/// get-key-policy` output): the document as such a patch sees it, with the strings along
/// `paths` decoded. The text is edited decoded and written back as a string (apply_op).
fn decoded_along(mut doc: Value, paths: &[Vec<String>]) -> Value {
    for path in paths {
        let mut at = &mut doc;
        for token in path {
            if let Some(inner) = at
                .as_str()
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
            {
                *at = inner;
            }
            let next = match at {
                Value::Object(m) => m.get_mut(token.as_str()),
                Value::Array(a) => token.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
                _ => None,
            };
            match next {
                Some(v) => at = v,
                None => break,
            }
        }
    }
    doc
}

/// The string on `path` that the rest of the path goes into, and where the rest starts.
fn string_on_path<'a>(root: &'a Node, text: &str, path: &[String]) -> Option<(&'a Node, usize)> {
    let mut node = root;
    for (i, token) in path.iter().enumerate() {
        if matches!(node.kind, Kind::Scalar) {
            return text[node.start..].starts_with('"').then_some((node, i));
        }
        node = json_text::locate(node, std::slice::from_ref(token)).ok()?;
    }
    None
}

fn tokens(op: &PatchOperation) -> Vec<String> {
    op.path()
        .tokens()
        .map(|t| t.decoded().into_owned())
        .collect()
}

/// `op` with its path replaced by `path` (decoded tokens).
fn with_path(op: &PatchOperation, path: &[String]) -> Result<PatchOperation> {
    let pointer: String = path
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect();
    let mut moved = serde_json::to_value(op)?;
    moved["path"] = Value::from(pointer);
    Ok(serde_json::from_value(moved)?)
}

/// One operation on JSON text; the document was checked to accept it.
fn apply_op(text: &str, op: &PatchOperation, style: &Style) -> Result<String> {
    let root = json_text::parse(text)?;
    let path = tokens(op);
    // Into a string that holds JSON: edit the decoded text, then write it back encoded.
    if let Some((node, at)) = string_on_path(&root, text, &path) {
        let inner: String = serde_json::from_str(&text[node.start..node.end])?;
        let inner_op = with_path(op, &path[at..])?;
        let edited = apply_op(&inner, &inner_op, &Style::of(&inner))?;
        return Ok(splice(
            text,
            node.start,
            node.end,
            &Value::from(edited).to_string(),
        ));
    }
    match op {
        PatchOperation::Test(_) => Ok(text.to_string()),
        PatchOperation::Replace(r) => {
            replace(text, json_text::locate(&root, &path)?, &r.value, style)
        }
        PatchOperation::Remove(_) => {
            let (parent, last) = split_parent(&root, &path)?;
            remove(text, parent, last)
        }
        PatchOperation::Add(a) => {
            if path.is_empty() {
                return replace(text, &root, &a.value, style);
            }
            let (parent, last) = split_parent(&root, &path)?;
            add(text, parent, last, &a.value, style)
        }
        PatchOperation::Move(_) | PatchOperation::Copy(_) => {
            bail!("move and copy operations are written as remove and add (expand)")
        }
    }
}

fn split_parent<'a>(root: &'a Node, path: &'a [String]) -> Result<(&'a Node, &'a str)> {
    let (last, parent) = path
        .split_last()
        .ok_or_else(|| anyhow!("the whole document cannot be removed"))?;
    Ok((json_text::locate(root, parent)?, last))
}

fn splice(text: &str, from: usize, to: usize, with: &str) -> String {
    format!("{}{}{}", &text[..from], with, &text[to..])
}

fn replace(text: &str, node: &Node, value: &Value, style: &Style) -> Result<String> {
    // Pretty where the value was, or where it ends its own line in an indented file
    // (`"Action": "kms:*",` becoming a list).
    let rest_of_line = text[node.end..].split('\n').next().unwrap_or("");
    let own_line = matches!(rest_of_line.trim(), "" | ",")
        && !json_text::line_indent(text, node.start).is_empty();
    let container = matches!(value, Value::Array(a) if !a.is_empty())
        || matches!(value, Value::Object(o) if !o.is_empty());
    let multiline = text[node.start..node.end].contains('\n') || (own_line && container);
    let rendered = json_text::render(
        value,
        style,
        json_text::line_indent(text, node.start),
        multiline,
    );
    Ok(splice(text, node.start, node.end, &rendered))
}

/// Start of each member (its key) or element, and its end.
fn children(parent: &Node) -> Vec<(usize, usize)> {
    match &parent.kind {
        Kind::Object(members) => members.iter().map(|(_, k, v)| (*k, v.end)).collect(),
        Kind::Array(items) => items.iter().map(|v| (v.start, v.end)).collect(),
        Kind::Scalar => Vec::new(),
    }
}

fn child_index(parent: &Node, last: &str) -> Option<usize> {
    match &parent.kind {
        Kind::Object(members) => members.iter().rposition(|(k, _, _)| k == last),
        Kind::Array(items) => last.parse::<usize>().ok().filter(|&i| i < items.len()),
        Kind::Scalar => None,
    }
}

fn remove(text: &str, parent: &Node, last: &str) -> Result<String> {
    let spans = children(parent);
    let i = child_index(parent, last).ok_or_else(|| anyhow!("nothing to remove at {last}"))?;
    Ok(match spans.len() {
        1 => splice(text, parent.start + 1, parent.end - 1, ""),
        _ if i > 0 => splice(text, spans[i - 1].1, spans[i].1, ""),
        _ => splice(text, spans[0].0, spans[1].0, ""),
    })
}

/// The separator the container puts between its children: `,` plus the whitespace
/// before its last child (a new line and indentation, a space, or nothing).
fn separator(text: &str, parent: &Node, spans: &[(usize, usize)], style: &Style) -> String {
    let ws = match spans.len() {
        // One child shows no separator: a space in a spaced file, as between its keys.
        0 | 1 if !text[parent.start..parent.end].contains('\n') && style.spaced => " ",
        0 => "",
        1 => &text[parent.start + 1..spans[0].0],
        n => &text[spans[n - 2].1..spans[n - 1].0],
    };
    let ws = ws.trim_start_matches(',');
    format!(",{ws}")
}

fn add(text: &str, parent: &Node, last: &str, value: &Value, style: &Style) -> Result<String> {
    let spans = children(parent);
    let sep = separator(text, parent, &spans, style);
    let multiline = sep.contains('\n');
    let indent = spans.first().map_or(String::new(), |s| {
        json_text::line_indent(text, s.0).to_string()
    });
    let member = |v: &str| match &parent.kind {
        Kind::Object(_) => format!("{}{}{v}", Value::from(last), style.colon),
        _ => v.to_string(),
    };
    let rendered = member(&json_text::render(value, style, &indent, multiline));
    let at = match &parent.kind {
        Kind::Object(members) => {
            if let Some((_, _, node)) = members.iter().rev().find(|(k, _, _)| k == last) {
                return replace(text, node, value, style);
            }
            spans.len()
        }
        Kind::Array(items) if last == "-" => items.len(),
        Kind::Array(items) => last
            .parse::<usize>()
            .ok()
            .filter(|&i| i <= items.len())
            .ok_or_else(|| anyhow!("no array position {last}"))?,
        Kind::Scalar => bail!("cannot add to a scalar"),
    };
    Ok(if spans.is_empty() {
        splice(text, parent.start + 1, parent.end - 1, &rendered)
    } else if at == spans.len() {
        let end = spans[spans.len() - 1].1;
        splice(text, end, end, &format!("{sep}{rendered}"))
    } else {
        let start = spans[at].0;
        splice(text, start, start, &format!("{rendered}{sep}"))
    })
}

/// A Terraform plan (`terraform show -json`) cannot be written back: where `new` (the plan
/// with fixes applied) changes a resource's policy, that resource's address and its
/// corrected policy, pretty-printed. None when `old` is not a plan.
pub fn plan_policies(old: &str, new: &str) -> Option<Vec<(String, String)>> {
    let old: Value = serde_json::from_str(old).ok()?;
    if old.get("terraform_version").is_none() || old.get("format_version").is_none() {
        return None;
    }
    let new: Value = serde_json::from_str(new).ok()?;
    let style = Style {
        unit: Some("  ".into()),
        spaced: true,
        colon: ": ".into(),
    };
    let changes = new["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for (k, rc) in changes.iter().enumerate() {
        let policy = &rc["change"]["after"]["policy"];
        if policy == &old["resource_changes"][k]["change"]["after"]["policy"] {
            continue;
        }
        let doc: Value = policy.as_str().and_then(|p| serde_json::from_str(p).ok())?;
        out.push((
            rc["address"].as_str().unwrap_or("").to_string(),
            json_text::render(&doc, &style, "", true) + "\n",
        ));
    }
    Some(out)
}

/// A unified diff of `old` to `new` for `path` (`--- a/path`, `+++ b/path`), empty when
/// they are equal.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fix(ops: Value) -> Fix {
        Fix {
            title: None,
            patch: serde_json::from_value(ops).unwrap(),
        }
    }

    const POLICY: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"A\", \"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"kms:*\", \"Resource\": \"*\"},\n    {\n      \"Sid\": \"B\",\n      \"Effect\": \"Deny\"\n    }\n  ]\n}\n";

    #[test]
    fn a_replaced_value_leaves_every_other_byte() {
        let f = fix(
            json!([{"op": "replace", "path": "/Statement/0/Principal", "value": {"AWS": "arn:aws:iam::111122223333:root"}}]),
        );
        let out = apply_json(POLICY, &[f]).unwrap();
        assert_eq!(out.applied, [0]);
        assert_eq!(
            out.text,
            POLICY.replace(
                "\"Principal\": \"*\"",
                "\"Principal\": {\"AWS\": \"arn:aws:iam::111122223333:root\"}"
            )
        );
    }

    #[test]
    fn an_appended_statement_takes_the_file_indentation() {
        // A new value's keys: IAM policy keys in AWS's order (the result object's own
        // order does not reach regorun).
        let f = fix(
            json!([{"op": "add", "path": "/Statement/-", "value": {"Sid": "C", "Effect": "Allow"}}]),
        );
        let out = apply_json(POLICY, &[f]).unwrap();
        assert_eq!(
            out.text,
            POLICY.replace(
                "      \"Effect\": \"Deny\"\n    }\n  ]",
                "      \"Effect\": \"Deny\"\n    },\n    {\n      \"Sid\": \"C\",\n      \"Effect\": \"Allow\"\n    }\n  ]"
            )
        );
    }

    #[test]
    fn removals_and_inserts_keep_separators() {
        let f = fix(json!([{"op": "remove", "path": "/Statement/0"}]));
        let out = apply_json(POLICY, &[f]).unwrap();
        assert!(out.text.starts_with(
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"B\""
        ));
        let f = fix(
            json!([{"op": "add", "path": "/Statement/0/Condition", "value": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}]),
        );
        let out = apply_json(POLICY, &[f]).unwrap();
        assert!(out.text.contains("\"Resource\": \"*\", \"Condition\": {\"Bool\": {\"kms:GrantIsForAWSResource\": \"true\"}}},"));
        let f = fix(json!([{"op": "add", "path": "/0", "value": 1}]));
        let out = apply_json("[2,3]", &[f]).unwrap();
        assert_eq!(out.text, "[1,2,3]");
    }

    #[test]
    fn failing_and_conflicting_fixes_are_skipped_whole() {
        let first = fix(json!([{"op": "remove", "path": "/Statement/1"}]));
        let again = fix(json!([{"op": "replace", "path": "/Statement/1/Sid", "value": "X"}]));
        let bad = fix(
            json!([{"op": "replace", "path": "/Version", "value": "v"}, {"op": "test", "path": "/Version", "value": "w"}]),
        );
        let out = apply_json(POLICY, &[first, again, bad]).unwrap();
        assert_eq!(out.applied, [0]);
        assert_eq!(out.skipped.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2]);
        assert!(out.text.contains("\"Version\": \"2012-10-17\""));
        assert!(apply_json("not json", &[]).is_err());
    }

    #[test]
    fn an_embedded_policy_string_is_patched_decoded_and_written_back() {
        let policy = "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ ]\n}";
        let text = format!(
            "{{\n    \"Policy\": {},\n    \"PolicyName\": \"default\"\n}}\n",
            Value::from(policy)
        );
        let f = fix(json!([{"op": "add", "path": "/Policy/Statement/-", "value": {"Sid": "R"}}]));
        let out = apply_json(&text, &[f]).unwrap();
        assert_eq!(out.applied, [0], "{:?}", out.skipped);
        let back: Value = serde_json::from_str(&out.text).unwrap();
        let inner: Value = serde_json::from_str(back["Policy"].as_str().unwrap()).unwrap();
        assert_eq!(inner["Statement"], json!([{"Sid": "R"}]));
        assert!(out
            .text
            .ends_with(",\n    \"PolicyName\": \"default\"\n}\n"));
        // Any string on the path that holds JSON, at any depth.
        let nested = r#"{"a": [{"doc": "{\"x\": 1}"}]}"#;
        let f = fix(json!([{"op": "add", "path": "/a/0/doc/y", "value": 2}]));
        let out = apply_json(nested, &[f]).unwrap();
        assert_eq!(out.text, r#"{"a": [{"doc": "{\"x\": 1, \"y\": 2}"}]}"#);
    }

    #[test]
    fn move_and_copy_are_written_as_remove_and_add() {
        let f = fix(json!([
            {"op": "copy", "from": "/Statement/0/Sid", "path": "/Id"},
            {"op": "move", "from": "/Statement/1", "path": "/Statement/0"}
        ]));
        let out = apply_json(POLICY, &[f]).unwrap();
        assert_eq!(out.applied, [0], "{:?}", out.skipped);
        let back: Value = serde_json::from_str(&out.text).unwrap();
        assert_eq!(back["Id"], "A");
        assert_eq!(back["Statement"][0]["Sid"], "B");
        assert_eq!(back["Statement"][1]["Sid"], "A");
        let f = fix(json!([{"op": "move", "from": "/Nope", "path": "/X"}]));
        assert_eq!(apply_json(POLICY, &[f]).unwrap().skipped.len(), 1);
    }

    #[test]
    fn fixes_are_read_from_metadata() {
        let mut m = Map::new();
        assert!(fix_of(&m).is_none());
        m.insert("fix".into(), json!([{"op": "remove", "path": "/a"}]));
        m.insert("fix_title".into(), json!("drop a"));
        let f = fix_of(&m).unwrap().unwrap();
        assert_eq!(f.title.as_deref(), Some("drop a"));
        m.insert("fix".into(), json!({"op": "remove"}));
        assert!(fix_of(&m).unwrap().is_err());
    }

    #[test]
    fn diffs_name_both_sides() {
        assert_eq!(unified_diff("p.json", "a\n", "a\n"), "");
        assert_eq!(
            unified_diff("p.json", "a\nb\n", "a\nc\n"),
            "--- a/p.json\n+++ b/p.json\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
        );
    }
}
