//! Fixes written into Terraform: a patch path as the hcl2 parser's document spells it
//! (`/resource/aws_kms_key/NAME/0/policy/Statement/-`) goes through blocks to an attribute
//! whose heredoc holds JSON; the JSON inside the heredoc is edited as JSON text and the
//! rest of the file keeps its bytes. The caller reads the result back and compares.

use anyhow::{anyhow, bail, Result};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Body};
use hcl_edit::Span;
use json_patch::PatchOperation;

use super::json_text::Style;

/// One JSON Patch operation on a `.tf` file's text.
pub fn apply_op(text: &str, op: &PatchOperation) -> Result<String> {
    let path = &super::tokens(op);
    let body =
        hcl_edit::parser::parse_body(text).map_err(|e| anyhow!("the file is not HCL: {e}"))?;
    let (attr, at) = attribute(&body, path)?;
    let Expression::HeredocTemplate(heredoc) = &attr.value else {
        bail!(
            "the attribute {} is not a heredoc, the one form of Terraform policy fixes write",
            attr.key.as_str()
        );
    };
    let span = heredoc
        .span()
        .ok_or_else(|| anyhow!("the heredoc has no position"))?;
    let raw = &text[span.clone()];
    // The JSON is between the `<<EOF` line and the line of the closing delimiter.
    let open = raw
        .find('\n')
        .ok_or_else(|| anyhow!("the heredoc has no body"))?;
    let close = raw.trim_end().rfind('\n').unwrap_or(open);
    let (from, to) = (span.start + open + 1, span.start + close + 1);
    if to <= from || path.len() == at {
        bail!("only values inside the heredoc's JSON are written");
    }
    let content = &text[from..to];
    let inner = super::with_path(op, &path[at..])?;
    let edited = super::apply_op(content, &inner, &Style::of(content))?;
    Ok(format!("{}{}{}", &text[..from], edited, &text[to..]))
}

/// The attribute a path names, and where the rest of the path starts: block type, its
/// labels, the block's index among blocks with those labels, then attribute or block.
fn attribute<'a>(body: &'a Body, path: &[String]) -> Result<(&'a Attribute, usize)> {
    let missing = || anyhow!("no Terraform attribute at /{}", path.join("/"));
    let (ident, rest) = path.split_first().ok_or_else(missing)?;
    if let Some(attr) = body.get_attribute(ident) {
        return Ok((attr, 1));
    }
    let blocks: Vec<_> = body.blocks().filter(|b| b.has_ident(ident)).collect();
    let labels = blocks.first().ok_or_else(missing)?.labels.len();
    if rest.len() < labels + 1 {
        return Err(missing());
    }
    let matching: Vec<_> = blocks
        .iter()
        .filter(|b| {
            b.labels.len() == labels
                && b.labels
                    .iter()
                    .zip(&rest[..labels])
                    .all(|(l, t)| l.as_str() == t)
        })
        .collect();
    let index: usize = rest[labels].parse().map_err(|_| missing())?;
    let block = matching.get(index).ok_or_else(missing)?;
    let (attr, at) = attribute(&block.body, &rest[labels + 1..])?;
    Ok((attr, at + labels + 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TF: &str = "# the key\nresource \"aws_kms_key\" \"k\" {\n  description = \"k\"\n  policy      = <<-POLICY\n    {\n      \"Statement\": [\n        {\"Sid\": \"A\", \"Principal\": \"*\"}\n      ]\n    }\n  POLICY\n}\n";

    fn op(v: serde_json::Value) -> PatchOperation {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_heredoc_json_is_edited_in_place() {
        let o = op(
            json!({"op": "add", "path": "/resource/aws_kms_key/k/0/policy/Statement/-", "value": {"Sid": "B"}}),
        );
        let out = apply_op(TF, &o).unwrap();
        assert_eq!(
            out,
            TF.replace(
                "\"Principal\": \"*\"}\n",
                "\"Principal\": \"*\"},\n        {\n          \"Sid\": \"B\"\n        }\n"
            )
        );
    }

    #[test]
    fn paths_that_miss_or_end_at_the_heredoc_are_refused() {
        for path in [
            "/resource/aws_kms_key/other/0/policy/Statement/-",
            "/resource/aws_kms_key/k/1/policy/Statement/-",
            "/resource/aws_kms_key/k/0/description/x",
            "/resource/aws_kms_key/k/0/policy",
        ] {
            let o = op(json!({"op": "add", "path": path, "value": 1}));
            assert!(apply_op(TF, &o).is_err(), "{path}");
        }
    }
}
