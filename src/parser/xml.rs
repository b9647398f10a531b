//! XML as basgys/goxml2json v1.1.0 converts it (what conftest's `xml` parser hands over):
//! elements become objects keyed by local name, attributes become `"-name"` children,
//! repeated children become arrays, an element's text is its *last* character-data token
//! (trimmed), written as `"#content"` when the element also has children, and every
//! scalar is a string. Like goxml2json (which ignores `Token()` errors), malformed input
//! is not an error: conversion simply stops at the first bad token, so unclosed elements
//! are lost.

use anyhow::Result;
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};

#[derive(Default)]
struct Node {
    /// Children in insertion order of their first appearance (goxml2json uses a Go map;
    /// output objects are key-sorted anyway).
    children: Vec<(String, Vec<Node>)>,
    data: String,
}

impl Node {
    fn add(&mut self, label: String, n: Node) {
        match self.children.iter_mut().find(|(l, _)| *l == label) {
            Some((_, list)) => list.push(n),
            None => self.children.push((label, vec![n])),
        }
    }

    fn to_json(&self) -> Value {
        if self.children.is_empty() {
            return Value::String(self.data.clone());
        }
        let mut m = Map::new();
        if !self.data.is_empty() {
            m.insert("#content".into(), Value::String(self.data.clone()));
        }
        for (label, list) in &self.children {
            let v = if list.len() > 1 {
                Value::Array(list.iter().map(Node::to_json).collect())
            } else {
                list[0].to_json()
            };
            m.insert(label.clone(), v);
        }
        Value::Object(m)
    }
}

/// Parses an XML document.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = String::from_utf8_lossy(bytes);
    let mut reader = Reader::from_str(&text);
    let cfg = reader.config_mut();
    cfg.check_end_names = true;
    cfg.expand_empty_elements = true;
    cfg.trim_text_start = false;
    cfg.trim_text_end = false;
    // (label, node) stack; index 0 is the document root.
    let mut stack: Vec<(String, Node)> = vec![(String::new(), Node::default())];
    // Consecutive text and entity references form one Go CharData token.
    let mut chardata: Option<String> = None;
    while let Ok(ev) = reader.read_event() {
        let is_text = matches!(ev, Event::Text(_) | Event::GeneralRef(_));
        if !is_text {
            if let Some(cd) = chardata.take() {
                if let Some((_, top)) = stack.last_mut() {
                    top.data = trim_non_graphic(&cd);
                }
            }
        }
        match ev {
            Event::Start(e) => {
                if stack.len() > super::MAX_DEPTH {
                    break;
                }
                let label = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let mut node = Node::default();
                let mut ok = true;
                for a in e.attributes() {
                    let Ok(a) = a else {
                        ok = false;
                        break;
                    };
                    let name = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
                    let Some(value) = unescape(&String::from_utf8_lossy(&a.value)) else {
                        ok = false;
                        break;
                    };
                    node.add(
                        format!("-{name}"),
                        Node {
                            children: Vec::new(),
                            data: value,
                        },
                    );
                }
                if !ok {
                    break;
                }
                stack.push((label, node));
            }
            Event::End(_) => {
                if stack.len() < 2 {
                    break;
                }
                if let Some((label, node)) = stack.pop() {
                    if let Some((_, parent)) = stack.last_mut() {
                        parent.add(label, node);
                    }
                }
            }
            Event::Text(t) => {
                let Some(s) = unescape(&String::from_utf8_lossy(&t)) else {
                    break;
                };
                chardata.get_or_insert_with(String::new).push_str(&s);
            }
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let Some(s) = unescape(&format!("&{name};")) else {
                    break;
                };
                chardata.get_or_insert_with(String::new).push_str(&s);
            }
            Event::CData(c) => {
                if let Some((_, top)) = stack.last_mut() {
                    top.data = trim_non_graphic(&String::from_utf8_lossy(&c));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(stack.swap_remove(0).1.to_json())
}

/// Decodes the five predefined entities and character references; `None` for anything
/// Go's strict decoder rejects.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        let end = after.find(';')?;
        let name = &after[..end];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let n = if let Some(h) = name.strip_prefix("#x") {
                    u32::from_str_radix(h, 16).ok()?
                } else if let Some(d) = name.strip_prefix('#') {
                    d.parse().ok()?
                } else {
                    return None;
                };
                char::from_u32(n)?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// goxml2json's `trimNonGraphic`: strip leading/trailing spaces and non-graphic runes.
fn trim_non_graphic(s: &str) -> String {
    let keep = |c: char| !(c.is_whitespace() || c.is_control());
    let start = s.find(keep);
    let end = s.rfind(keep);
    match (start, end) {
        (Some(a), Some(b)) => {
            let len = s[b..].chars().next().map_or(0, char::len_utf8);
            s[a..b + len].to_string()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn goxml2json_shape() {
        let v = parse(b"<?xml version=\"1.0\"?>\n<cfg version=\"2\"><item id=\"a\">1</item><item>x &amp; y</item><empty/><port>8080</port></cfg>").unwrap();
        assert_eq!(
            v,
            json!({"cfg": {"-version": "2", "item": [{"-id": "a", "#content": "1"}, "x & y"],
                           "empty": "", "port": "8080"}})
        );
        // Unclosed elements are dropped, not an error.
        assert_eq!(parse(b"<a><b>x</b>").unwrap(), json!(""));
    }
}
