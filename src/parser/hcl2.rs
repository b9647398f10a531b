//! HCL2 (Terraform) shaped like tmccombs/hcl2json v0.6.7 without `Simplify`, which is what
//! conftest's `hcl2` parser hands to policies:
//!
//! * a block `type "l1" "l2" { … }` becomes `{"type": {"l1": {"l2": [ {body}, … ]}}}`, an
//!   unlabeled block `{"type": [ {body}, … ]}` (one array element per occurrence);
//! * literal numbers, bools, null, strings, tuples and objects are evaluated; `-1` / `!true`
//!   (a unary operator on a literal) too;
//! * string literals have `${` and `%{` escaped to `$${` and `%%{`;
//! * templates keep their interpolations as text (`"${var.x}-a"`); `%{if}`/`%{for}`
//!   directives (and conditionals interpolated inside a longer template) are rebuilt as
//!   `%{if cond}…%{else}…%{endif}` / `%{for k, v in coll}…%{endfor}`;
//! * every other expression becomes `"${<its source text>}"`.
//!
//! The file is parsed with `hcl-edit`, whose spans give the source text of each expression.

use anyhow::{anyhow, Result};
use hcl_edit::expr::{Expression, ObjectKey, UnaryOperator};
use hcl_edit::structure::{BlockLabel, Body, Structure};
use hcl_edit::template::{Directive, Element};
use hcl_edit::Span;
use serde_json::{Map, Number, Value};

/// Parses an HCL2 file into hcl2json's document.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = super::utf8(bytes).map_err(|e| anyhow!("convert to bytes: parse config: [{e}]"))?;
    let body = parse_body(text).map_err(|e| anyhow!("convert to bytes: {e}"))?;
    let conv = Converter { src: text };
    conv.body(&body)
        .map(Value::Object)
        .map_err(|e| anyhow!("convert to bytes: {e}"))
}

/// Parses HCL2 source into hcl-edit's body, wording errors as hcl's diagnostics
/// (`parse config: [:<line>,<col>-<col>: <message>]`).
pub(crate) fn parse_body(text: &str) -> std::result::Result<Body, String> {
    // hcl-edit recurses per nesting level; refuse absurd nesting before it can overflow.
    let mut depth = 0usize;
    let mut max = 0usize;
    for b in text.bytes() {
        match b {
            b'{' | b'[' | b'(' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if max > 256 {
        return Err("parse config: [: nesting too deep (more than 256 levels)]".to_string());
    }
    hcl_edit::parser::parse_body(text).map_err(|e| {
        let loc = e.location();
        format!(
            "parse config: [:{},{}-{}: {}]",
            loc.line(),
            loc.column(),
            loc.column() + 1,
            e.message()
        )
    })
}

struct Converter<'a> {
    src: &'a str,
}

impl Converter<'_> {
    fn body(&self, body: &Body) -> std::result::Result<Map<String, Value>, String> {
        let mut out = Map::new();
        for s in body.iter() {
            if let Structure::Attribute(a) = s {
                let key = a.key.value().as_str().to_string();
                if out.contains_key(&key) {
                    return Err(format!(
                        "parse config: [{}: Attribute redefined; The argument \"{key}\" was already set.]",
                        self.position(a.span())
                    ));
                }
                out.insert(key, self.expr(&a.value));
            }
        }
        for s in body.iter() {
            if let Structure::Block(b) = s {
                let labels: Vec<String> = b
                    .labels
                    .iter()
                    .map(|l| match l {
                        BlockLabel::Ident(i) => i.value().as_str().to_string(),
                        BlockLabel::String(s) => s.value().to_string(),
                    })
                    .collect();
                let value = Value::Object(self.body(&b.body)?);
                let name = || {
                    let mut parts = vec![b.ident.value().as_str().to_string()];
                    parts.extend(labels.iter().cloned());
                    format!("unable to convert Block to JSON: {}", parts.join("."))
                };
                let mut target = &mut out;
                let mut key = b.ident.value().as_str().to_string();
                for label in &labels {
                    let entry = target
                        .entry(key)
                        .or_insert_with(|| Value::Object(Map::new()));
                    target = match entry {
                        Value::Object(m) => m,
                        _ => return Err(name()),
                    };
                    key = label.clone();
                }
                match target
                    .entry(key)
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    Value::Array(list) => list.push(value),
                    _ => return Err(name()),
                }
            }
        }
        Ok(out)
    }

    /// `line,col` of a byte offset (1-based), for messages.
    fn position(&self, span: Option<std::ops::Range<usize>>) -> String {
        let Some(span) = span else {
            return String::new();
        };
        let before = &self.src[..span.start.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rfind('\n')
            .map_or(before.len(), |i| before.len() - i - 1)
            + 1;
        format!(":{line},{col}-{}", col + 1)
    }

    /// The source text of a node.
    fn source(&self, span: Option<std::ops::Range<usize>>) -> String {
        span.and_then(|r| self.src.get(r))
            .unwrap_or_default()
            .to_string()
    }

    fn wrap(&self, e: &Expression) -> String {
        format!("${{{}}}", self.source(e.span()))
    }

    fn expr(&self, e: &Expression) -> Value {
        match e {
            Expression::Null(_) => Value::Null,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(n) => number(n.value().as_f64()),
            Expression::String(s) => Value::String(escape(s.value())),
            Expression::Array(a) => Value::Array(a.iter().map(|x| self.expr(x)).collect()),
            Expression::Object(o) => {
                let mut m = Map::new();
                for (k, v) in o.iter() {
                    m.insert(self.key(k), self.expr(v.expr()));
                }
                Value::Object(m)
            }
            Expression::StringTemplate(t) => {
                // A template that is one interpolation and nothing else is the wrapped
                // expression itself (hclsyntax's TemplateWrapExpr).
                if let Some(Element::Interpolation(i)) = single(t.iter().collect()) {
                    return self.expr(&i.expr);
                }
                Value::String(self.template(t.iter()))
            }
            Expression::HeredocTemplate(h) => Value::String(self.template(h.template.iter())),
            Expression::UnaryOp(u) => match (u.operator.value(), &u.expr) {
                (UnaryOperator::Neg, Expression::Number(n)) => {
                    number(n.value().as_f64().map(|f| -f))
                }
                (UnaryOperator::Not, Expression::Bool(b)) => Value::Bool(!*b.value()),
                _ => Value::String(self.wrap(e)),
            },
            _ => Value::String(self.wrap(e)),
        }
    }

    fn key(&self, k: &ObjectKey) -> String {
        match k {
            ObjectKey::Ident(i) => i.value().as_str().to_string(),
            ObjectKey::Expression(e) => match e {
                Expression::Variable(v) => v.value().as_str().to_string(),
                Expression::String(s) => s.value().to_string(),
                Expression::Number(n) => n.value().to_string(),
                Expression::Bool(b) => b.value().to_string(),
                Expression::Null(_) => "null".to_string(),
                other => self.wrap(other),
            },
        }
    }

    fn template<'t>(&self, elements: impl Iterator<Item = &'t Element>) -> String {
        let mut out = String::new();
        for el in elements {
            match el {
                Element::Literal(l) => out.push_str(&escape(l.value())),
                Element::Interpolation(i) => out.push_str(&self.string_part(&i.expr)),
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(ifd) => {
                        let t = self.template(ifd.if_expr.template.iter());
                        let f = ifd
                            .else_expr
                            .as_ref()
                            .map(|e| self.template(e.template.iter()))
                            .unwrap_or_default();
                        out.push_str(&self.conditional(&ifd.if_expr.cond_expr, t, f));
                    }
                    Directive::For(ford) => {
                        let f = &ford.for_expr;
                        out.push_str("%{for ");
                        if let Some(k) = &f.key_var {
                            out.push_str(k.value().as_str());
                            out.push_str(", ");
                        }
                        out.push_str(f.value_var.value().as_str());
                        out.push_str(" in ");
                        out.push_str(&self.source(f.collection_expr.span()));
                        out.push('}');
                        out.push_str(&self.template(f.template.iter()));
                        out.push_str("%{endfor}");
                    }
                },
            }
        }
        out
    }

    fn conditional(&self, cond: &Expression, t: String, f: String) -> String {
        let mut out = format!("%{{if {}}}", self.source(cond.span()));
        out.push_str(&t);
        if !f.is_empty() {
            out.push_str("%{else}");
            out.push_str(&f);
        }
        out.push_str("%{endif}");
        out
    }

    /// hcl2json's `convertStringPart` for an interpolated expression inside a template.
    fn string_part(&self, e: &Expression) -> String {
        match e {
            Expression::Null(_) => String::new(),
            Expression::Bool(b) => b.value().to_string(),
            Expression::Number(n) => n.value().to_string(),
            Expression::String(s) => escape(s.value()),
            Expression::StringTemplate(t) => self.template(t.iter()),
            Expression::Conditional(c) => {
                let t = self.string_part(&c.true_expr);
                let f = self.string_part(&c.false_expr);
                self.conditional(&c.cond_expr, t, f)
            }
            other => self.wrap(other),
        }
    }
}

fn single<T>(mut v: Vec<T>) -> Option<T> {
    if v.len() == 1 {
        v.pop()
    } else {
        None
    }
}

fn number(f: Option<f64>) -> Value {
    f.and_then(Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// hcl2json's `escapeTemplate`: literal `${` / `%{` written back in escaped form.
fn escape(s: &str) -> String {
    s.replace("${", "$${").replace("%{", "%%{")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Value {
        parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn blocks_are_arrays_under_labels() {
        assert_eq!(
            p("resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n  tags { a = 1 }\n}\nlocals { n = 2 }\n"),
            json!({"resource": {"aws_s3_bucket": {"b": [{"bucket": "x", "tags": [{"a": 1.0}]}]}},
                   "locals": [{"n": 2.0}]})
        );
    }

    #[test]
    fn expressions_keep_source_text() {
        assert_eq!(
            p("a = var.n\nb = x > 2 ? 1 : 0\nc = \"${var.x}-s\"\nd = \"$${lit}\"\ne = -1\nf = jsonencode({ a = 1 })\ng = \"${var.y}\"\nh = [1, local.z]\n"),
            json!({"a": "${var.n}", "b": "${x > 2 ? 1 : 0}", "c": "${var.x}-s", "d": "$${lit}",
                   "e": -1.0, "f": "${jsonencode({ a = 1 })}", "g": "${var.y}", "h": [1.0, "${local.z}"]})
        );
    }

    #[test]
    fn heredocs() {
        assert_eq!(
            p("a = <<EOT\nhello ${x}\nEOT\nb = <<-EOT\n    one\n      two\n    EOT\n"),
            json!({"a": "hello ${x}\n", "b": "one\n  two\n"})
        );
    }

    #[test]
    fn errors_have_positions() {
        let e = parse(b"a = \n").unwrap_err().to_string();
        assert!(e.starts_with("convert to bytes: parse config: [:"), "{e}");
    }
}
