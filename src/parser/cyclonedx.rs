//! CycloneDX BOMs as conftest reads them with cyclonedx-go: bytes that are valid JSON are a
//! JSON BOM and reach policies unchanged (conftest decodes them only to validate); anything
//! else is an XML BOM, unmarshalled into the Go model and marshalled to JSON.
//!
//! The XML mapping covers the common elements: the `bom` attributes, `metadata`
//! (timestamp, tools, authors, component, supplier, manufacturer, licenses, properties),
//! `components` (nested), `externalReferences`, `properties` and `dependencies`. Other
//! elements (services, vulnerabilities, compositions, …) are dropped.

use anyhow::{anyhow, bail, Result};
use roxmltree::Node;
use serde_json::{json, Map, Value};

/// Parses a JSON or XML BOM.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        let value =
            super::json::parse(bytes).map_err(|e| anyhow!("decode CycloneDX BOM: {e:#}"))?;
        if !value.is_object() && !value.is_null() {
            bail!(
                "decode CycloneDX BOM: json: cannot unmarshal {} into Go value of type cyclonedx.BOM",
                go_kind(&value)
            );
        }
        return Ok(value);
    }
    let text = super::utf8(bytes).map_err(|e| anyhow!("decode CycloneDX BOM: {e}"))?;
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        // Worded like Go's encoding/xml where the causes coincide.
        let (line, cause) = match e {
            roxmltree::Error::UnclosedRootNode | roxmltree::Error::UnexpectedEndOfStream => {
                (text.matches('\n').count() + 1, "unexpected EOF".to_string())
            }
            ref other => (other.pos().row as usize, other.to_string()),
        };
        anyhow!("decode CycloneDX BOM: XML syntax error on line {line}: {cause}")
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "bom" {
        bail!(
            "decode CycloneDX BOM: expected element type <bom> but have <{}>",
            root.tag_name().name()
        );
    }
    if component_nesting(root) >= super::MAX_DEPTH {
        // Go's encoding/xml limit (maxUnmarshalDepth); the mapping below recurses.
        bail!("decode CycloneDX BOM: exceeded max depth");
    }
    Ok(bom(root))
}

/// The deepest nesting of `<component>` elements under `n`, counted without recursion:
/// document order visits a parent before its children.
fn component_nesting(n: Node) -> usize {
    let mut level: std::collections::HashMap<roxmltree::NodeId, usize> = Default::default();
    let mut max = 0;
    for c in n.descendants().filter(|c| c.is_element()) {
        let up = c.parent().and_then(|p| level.get(&p.id())).copied();
        let here = up.unwrap_or(0) + usize::from(c.tag_name().name() == "component");
        max = max.max(here);
        level.insert(c.id(), here);
    }
    max
}

fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        _ => "object",
    }
}

/// The Go model marshalled after `xml.Unmarshal`: the JSON-only fields keep their zero
/// values (`bomFormat` is empty, `specVersion` prints as `SpecVersion(0)`).
fn bom(n: Node) -> Value {
    let mut m = Map::new();
    m.insert("bomFormat".into(), json!(""));
    m.insert("specVersion".into(), json!("SpecVersion(0)"));
    put_attr(&mut m, n, "serialNumber", "serialNumber");
    m.insert(
        "version".into(),
        json!(n
            .attribute("version")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(0)),
    );
    if let Some(md) = child(n, "metadata") {
        m.insert("metadata".into(), metadata(md));
    }
    put_list(&mut m, n, "components", "component", component);
    put_list(&mut m, n, "externalReferences", "reference", external_ref);
    put_list(&mut m, n, "dependencies", "dependency", dependency);
    put_list(&mut m, n, "properties", "property", property);
    Value::Object(m)
}

fn metadata(n: Node) -> Value {
    let mut m = Map::new();
    put_text(&mut m, n, "timestamp", "timestamp");
    if let Some(tools) = child(n, "tools") {
        let legacy: Vec<Value> = children(tools, "tool").map(tool).collect();
        if !legacy.is_empty() {
            m.insert("tools".into(), Value::Array(legacy));
        } else {
            let mut t = Map::new();
            put_list(&mut t, tools, "components", "component", component);
            if !t.is_empty() {
                m.insert("tools".into(), Value::Object(t));
            }
        }
    }
    put_list(&mut m, n, "authors", "author", contact);
    if let Some(c) = child(n, "component") {
        m.insert("component".into(), component(c));
    }
    for key in ["manufacture", "manufacturer", "supplier"] {
        if let Some(e) = child(n, key) {
            m.insert(key.into(), entity(e));
        }
    }
    if let Some(l) = child(n, "licenses") {
        m.insert("licenses".into(), licenses(l));
    }
    put_list(&mut m, n, "properties", "property", property);
    Value::Object(m)
}

fn tool(n: Node) -> Value {
    let mut m = Map::new();
    for key in ["vendor", "name", "version"] {
        put_text(&mut m, n, key, key);
    }
    put_list(&mut m, n, "hashes", "hash", hash);
    put_list(&mut m, n, "externalReferences", "reference", external_ref);
    Value::Object(m)
}

fn component(n: Node) -> Value {
    let mut m = Map::new();
    put_attr(&mut m, n, "bom-ref", "bom-ref");
    put_attr(&mut m, n, "mime-type", "mime-type");
    m.insert("type".into(), json!(n.attribute("type").unwrap_or("")));
    for key in ["supplier", "manufacturer"] {
        if let Some(e) = child(n, key) {
            m.insert(key.into(), entity(e));
        }
    }
    put_text(&mut m, n, "author", "author");
    put_list(&mut m, n, "authors", "author", contact);
    for key in ["publisher", "group"] {
        put_text(&mut m, n, key, key);
    }
    m.insert(
        "name".into(),
        json!(child(n, "name").map(text).unwrap_or_default()),
    );
    for key in ["version", "description", "scope"] {
        put_text(&mut m, n, key, key);
    }
    put_list(&mut m, n, "hashes", "hash", hash);
    if let Some(l) = child(n, "licenses") {
        m.insert("licenses".into(), licenses(l));
    }
    put_text(&mut m, n, "copyright", "copyright");
    put_text(&mut m, n, "cpe", "cpe");
    put_text(&mut m, n, "purl", "purl");
    if let Some(b) = child(n, "modified").and_then(|c| go_bool(&text(c))) {
        m.insert("modified".into(), json!(b));
    }
    put_list(&mut m, n, "externalReferences", "reference", external_ref);
    put_list(&mut m, n, "properties", "property", property);
    put_list(&mut m, n, "components", "component", component);
    let tags: Vec<Value> = child(n, "tags")
        .map(|t| children(t, "tag").map(|c| json!(text(c))).collect())
        .unwrap_or_default();
    if !tags.is_empty() {
        m.insert("tags".into(), Value::Array(tags));
    }
    Value::Object(m)
}

fn entity(n: Node) -> Value {
    let mut m = Map::new();
    put_attr(&mut m, n, "bom-ref", "bom-ref");
    put_text(&mut m, n, "name", "name");
    let urls: Vec<Value> = children(n, "url").map(|c| json!(text(c))).collect();
    if !urls.is_empty() {
        m.insert("url".into(), Value::Array(urls));
    }
    let contacts: Vec<Value> = children(n, "contact").map(contact).collect();
    if !contacts.is_empty() {
        m.insert("contact".into(), Value::Array(contacts));
    }
    Value::Object(m)
}

fn contact(n: Node) -> Value {
    let mut m = Map::new();
    put_attr(&mut m, n, "bom-ref", "bom-ref");
    for key in ["name", "email", "phone"] {
        put_text(&mut m, n, key, key);
    }
    Value::Object(m)
}

fn hash(n: Node) -> Value {
    json!({"alg": n.attribute("alg").unwrap_or(""), "content": text(n)})
}

/// `<licenses>` holds `<license>` elements or one `<expression>`; JSON wraps each choice.
fn licenses(n: Node) -> Value {
    let mut out = Vec::new();
    for c in n.children().filter(Node::is_element) {
        match c.tag_name().name() {
            "license" => {
                let mut l = Map::new();
                put_attr(&mut l, c, "bom-ref", "bom-ref");
                put_text(&mut l, c, "id", "id");
                put_text(&mut l, c, "name", "name");
                put_attr(&mut l, c, "acknowledgement", "acknowledgement");
                if let Some(t) = child(c, "text") {
                    let mut at = Map::new();
                    put_attr(&mut at, t, "content-type", "contentType");
                    put_attr(&mut at, t, "encoding", "encoding");
                    at.insert("content".into(), json!(text(t)));
                    l.insert("text".into(), Value::Object(at));
                }
                put_text(&mut l, c, "url", "url");
                out.push(json!({ "license": l }));
            }
            "expression" => {
                let mut e = Map::new();
                e.insert("expression".into(), json!(text(c)));
                put_attr(&mut e, c, "acknowledgement", "acknowledgement");
                put_attr(&mut e, c, "bom-ref", "bom-ref");
                out.push(Value::Object(e));
            }
            _ => {}
        }
    }
    Value::Array(out)
}

fn external_ref(n: Node) -> Value {
    let mut m = Map::new();
    m.insert(
        "url".into(),
        json!(child(n, "url").map(text).unwrap_or_default()),
    );
    put_text(&mut m, n, "comment", "comment");
    put_list(&mut m, n, "hashes", "hash", hash);
    m.insert("type".into(), json!(n.attribute("type").unwrap_or("")));
    Value::Object(m)
}

fn property(n: Node) -> Value {
    json!({"name": n.attribute("name").unwrap_or(""), "value": text(n)})
}

/// `<dependency ref="a"><dependency ref="b"/></dependency>` → `{"ref":"a","dependsOn":["b"]}`.
fn dependency(n: Node) -> Value {
    let mut m = Map::new();
    m.insert("ref".into(), json!(n.attribute("ref").unwrap_or("")));
    let deps: Vec<Value> = children(n, "dependency")
        .map(|d| json!(d.attribute("ref").unwrap_or("")))
        .collect();
    if !deps.is_empty() {
        m.insert("dependsOn".into(), Value::Array(deps));
    }
    let provides: Vec<Value> = children(n, "provides")
        .map(|d| json!(d.attribute("ref").unwrap_or("")))
        .collect();
    if !provides.is_empty() {
        m.insert("provides".into(), Value::Array(provides));
    }
    Value::Object(m)
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// Character data directly inside the element (Go's `,chardata`).
fn text(n: Node) -> String {
    n.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

fn go_bool(s: &str) -> Option<bool> {
    crate::base::gostr::parse_go_bool(s.trim()).ok()
}

/// Sets `key` from a child element's text; empty text is omitted (`omitempty`).
fn put_text(m: &mut Map<String, Value>, n: Node, elem: &str, key: &str) {
    if let Some(t) = child(n, elem).map(text).filter(|t| !t.is_empty()) {
        m.insert(key.into(), json!(t));
    }
}

fn put_attr(m: &mut Map<String, Value>, n: Node, attr: &str, key: &str) {
    if let Some(v) = n.attribute(attr).filter(|v| !v.is_empty()) {
        m.insert(key.into(), json!(v));
    }
}

/// `<wrapper><item/>…</wrapper>` → `key: [..]`; a wrapper present but empty gives `[]`
/// only when Go would allocate the slice, which it does not: omitted.
fn put_list(m: &mut Map<String, Value>, n: Node, wrapper: &str, item: &str, f: fn(Node) -> Value) {
    if let Some(w) = child(n, wrapper) {
        let items: Vec<Value> = children(w, item).map(f).collect();
        if !items.is_empty() {
            m.insert(wrapper.into(), Value::Array(items));
        }
    }
}
