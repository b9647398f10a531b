//! HCL1 as hashicorp/hcl v1 `Unmarshal`s it into `interface{}`: the root is an object;
//! every block — and every object value below the root — becomes a *list* of objects, one
//! element per occurrence, with labels nesting as further single-key lists
//! (`provider "google" {…}` → `{"provider":[{"google":[{…}]}]}`). Numbers stay exact
//! (ints as ints, floats as floats); strings keep `${…}` interpolations verbatim.

use anyhow::{anyhow, Result};
use hcl_edit::expr::{Expression, ObjectKey, UnaryOperator};
use hcl_edit::structure::{BlockLabel, Body, Structure};
use hcl_edit::Span;
use serde_json::{Map, Number, Value};

/// Parses an HCL1 file.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = super::utf8(bytes).map_err(|e| anyhow!("unmarshal hcl: {e}"))?;
    let body = super::hcl2::parse_body(text).map_err(|e| {
        // `parse config: [:L,C-C: msg]` → hcl1's `At L:C: msg`.
        let inner = e
            .trim_start_matches("parse config: [:")
            .trim_end_matches(']');
        let (pos, msg) = inner.split_once(": ").unwrap_or(("1,1", inner));
        let (line, cols) = pos.split_once(',').unwrap_or(("1", "1"));
        let col = cols.split('-').next().unwrap_or("1");
        anyhow!("unmarshal hcl: At {line}:{col}: {msg}")
    })?;
    body_obj(text, &body)
        .map(Value::Object)
        .map_err(|e| anyhow!("unmarshal hcl: {e}"))
}

fn body_obj(src: &str, body: &Body) -> std::result::Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let v = expr(src, &a.value, false)?;
                out.insert(a.key.value().as_str().to_string(), v);
            }
            Structure::Block(b) => {
                let mut value = Value::Object(body_obj(src, &b.body)?);
                for l in b.labels.iter().rev() {
                    let key = match l {
                        BlockLabel::Ident(i) => i.value().as_str().to_string(),
                        BlockLabel::String(s) => s.value().to_string(),
                    };
                    let mut m = Map::new();
                    m.insert(key, Value::Array(vec![value]));
                    value = Value::Object(m);
                }
                let key = b.ident.value().as_str().to_string();
                match out.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
                    Value::Array(list) => list.push(value),
                    other => *other = Value::Array(vec![value]),
                }
            }
        }
    }
    Ok(out)
}

fn expr(src: &str, e: &Expression, in_list: bool) -> std::result::Result<Value, String> {
    let source = |e: &Expression| e.span().and_then(|r| src.get(r)).unwrap_or("").to_string();
    Ok(match e {
        Expression::Bool(b) => Value::Bool(*b.value()),
        Expression::Number(n) => number(&source(e), n.value().as_f64()),
        Expression::String(s) => Value::String(s.value().to_string()),
        Expression::StringTemplate(_) => {
            let raw = source(e);
            let inner = raw
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or(&raw);
            Value::String(unescape(inner))
        }
        Expression::HeredocTemplate(h) => {
            let raw = source(e);
            let mut s = String::new();
            for el in h.template.iter() {
                if let Some(l) = el.as_literal() {
                    s.push_str(l.value());
                } else {
                    // Interpolations are kept verbatim in HCL1 heredocs.
                    s = raw.clone();
                    break;
                }
            }
            Value::String(s)
        }
        Expression::Array(a) => Value::Array(
            a.iter()
                .map(|x| expr(src, x, true))
                .collect::<std::result::Result<_, _>>()?,
        ),
        Expression::Object(o) => {
            let mut m = Map::new();
            for (k, v) in o.iter() {
                let key = match k {
                    ObjectKey::Ident(i) => i.value().as_str().to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                    ObjectKey::Expression(Expression::Variable(v)) => {
                        v.value().as_str().to_string()
                    }
                    ObjectKey::Expression(other) => {
                        return Err(format!("Unknown token: {}", source(other)))
                    }
                };
                m.insert(key, expr(src, v.expr(), false)?);
            }
            if in_list {
                Value::Object(m)
            } else {
                Value::Array(vec![Value::Object(m)])
            }
        }
        Expression::UnaryOp(u) if *u.operator.value() == UnaryOperator::Neg => match &u.expr {
            Expression::Number(_) => number(&source(e), None),
            _ => return Err(format!("Unknown token: {}", source(e))),
        },
        other => return Err(format!("Unknown token: {}", source(other))),
    })
}

/// An HCL1 number: ints stay exact, everything else is a float.
fn number(text: &str, fallback: Option<f64>) -> Value {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Ok(i) = t.parse::<i64>() {
        return Value::Number(i.into());
    }
    t.parse::<f64>()
        .ok()
        .or(fallback)
        .and_then(Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hcl1_lists() {
        let v = parse(b"provider \"google\" {\n  project = \"x\"\n  region = \"${var.r}\"\n}\ncount = 3\nratio = 1.5\ntags = { a = 1 }\n").unwrap();
        assert_eq!(
            v,
            json!({"provider": [{"google": [{"project": "x", "region": "${var.r}"}]}],
                   "count": 3, "ratio": 1.5, "tags": [{"a": 1}]})
        );
    }
}
