//! SPDX tag-value as conftest reads it: tools-golang v0.5.7 `tagvalue.Read` (SPDX-2.1, 2.2
//! or 2.3 reader, then conversion to the 2.3 model) marshalled with `encoding/json`.
//!
//! Only the document-level sections are modelled (header, creation info, relationships,
//! annotations); a document with package, file, snippet, other-license or review sections
//! is rejected with an error naming the section rather than given a partial document.

use super::hocon::{go_string, trim_space};
use anyhow::{anyhow, Result};
use serde_json::{json, Map, Value};

/// Parses an SPDX tag-value document.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let parsing = |e: String| anyhow!("error while parsing {}: {e}", go_bytes(bytes));
    let pairs = read_tag_values(bytes).map_err(parsing)?;
    if pairs.is_empty() {
        return Err(parsing("no tag values found".into()));
    }
    let version = pairs
        .iter()
        .find(|(t, _)| t == b"SPDXVersion")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let minor = match version.as_slice() {
        b"SPDX-2.1" => 1,
        b"SPDX-2.2" => 2,
        b"SPDX-2.3" => 3,
        _ => {
            return Err(parsing(format!(
                "unsupported SPDX version: '{}'",
                go_string(&version)
            )))
        }
    };
    let mut p = TvParser {
        minor,
        doc: Doc::default(),
        st: State::Start,
    };
    for (tag, value) in &pairs {
        p.pair(tag, value).map_err(parsing)?;
    }
    p.doc
        .to_json(minor)
        .map_err(|e| anyhow!("error while marshaling {}: {e}", go_bytes(bytes)))
}

/// Go's `%v` of a `[]byte`: `[83 80 68 ...]`.
fn go_bytes(b: &[u8]) -> String {
    let parts: Vec<String> = b.iter().map(u8::to_string).collect();
    format!("[{}]", parts.join(" "))
}

type Pair = (Vec<u8>, Vec<u8>);

/// `reader.ReadTagValues`: bufio.Scanner lines, `#` comments, `<text>…</text>` values.
fn read_tag_values(bytes: &[u8]) -> Result<Vec<Pair>, String> {
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        lines.pop();
    }
    let mut out = Vec::new();
    let mut mid: Option<(Vec<u8>, Vec<u8>)> = None;
    for line in lines {
        // bufio.Scanner's default limit: 64 KiB per line, newline included.
        if line.len() >= 64 * 1024 {
            return Err("bufio.Scanner: token too long".into());
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some((tag, mut value)) = mid.take() {
            match find(line, b"</text>") {
                None => {
                    value.extend_from_slice(line);
                    value.push(b'\n');
                    mid = Some((tag, value));
                }
                Some(p) => {
                    value.extend_from_slice(&line[..p]);
                    out.push((tag, value));
                }
            }
            continue;
        }
        let l2 = trim_left_space(line);
        if l2.is_empty() || l2.starts_with(b"#") {
            continue;
        }
        let Some(colon) = l2.iter().position(|b| *b == b':') else {
            return Err(format!("no colon found in '{}'", go_string(line)));
        };
        let tag = trim_space(&l2[..colon]).to_vec();
        let rest = &l2[colon + 1..];
        match find(rest, b"<text>") {
            None => out.push((tag, trim_space(rest).to_vec())),
            Some(s) => {
                let after = &rest[s + 6..];
                match find(after, b"</text>") {
                    Some(e) => out.push((tag, after[..e].to_vec())),
                    None => {
                        let mut v = after.to_vec();
                        v.push(b'\n');
                        mid = Some((tag, v));
                    }
                }
            }
        }
    }
    if mid.is_some() {
        return Err("finalize called while still midtext parsing a text tag".into());
    }
    Ok(out)
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fn trim_left_space(b: &[u8]) -> &[u8] {
    let t = trim_space(b);
    if t.is_empty() {
        return t;
    }
    // trim_space also trims the right; recover the left-trimmed slice.
    let start = t.as_ptr() as usize - b.as_ptr() as usize;
    &b[start..]
}

#[derive(Default, Clone)]
struct DocElementId {
    doc: Vec<u8>,
    elem: Vec<u8>,
    special: Vec<u8>,
}

#[derive(Default)]
struct CreationInfo {
    license_list_version: Vec<u8>,
    creators: Vec<(Vec<u8>, Vec<u8>)>,
    created: Vec<u8>,
    comment: Vec<u8>,
}

struct Relationship {
    a: DocElementId,
    b: DocElementId,
    kind: Vec<u8>,
    comment: Vec<u8>,
}

#[derive(Default)]
struct Annotation {
    annotator: (Vec<u8>, Vec<u8>),
    date: Vec<u8>,
    kind: Vec<u8>,
    comment: Vec<u8>,
}

#[derive(Default)]
struct Doc {
    version: Vec<u8>,
    data_license: Vec<u8>,
    id: Vec<u8>,
    name: Vec<u8>,
    namespace: Vec<u8>,
    ext_refs: Vec<ExtRef>,
    comment: Vec<u8>,
    creation: Option<CreationInfo>,
    relationships: Vec<Relationship>,
    annotations: Vec<Annotation>,
}

#[derive(PartialEq)]
enum State {
    Start,
    CreationInfo,
}

struct TvParser {
    minor: u8,
    doc: Doc,
    st: State,
}

impl TvParser {
    fn pair(&mut self, tag: &[u8], value: &[u8]) -> Result<(), String> {
        match self.st {
            State::Start => self.in_start(tag, value),
            State::CreationInfo => self.in_creation_info(tag, value),
        }
    }

    fn in_start(&mut self, tag: &[u8], value: &[u8]) -> Result<(), String> {
        let d = &mut self.doc;
        match tag {
            b"DocumentComment" => d.comment = value.to_vec(),
            b"SPDXVersion" => d.version = value.to_vec(),
            b"DataLicense" => d.data_license = value.to_vec(),
            b"SPDXID" => d.id = extract_element_id(value)?,
            b"DocumentName" => d.name = value.to_vec(),
            b"DocumentNamespace" => d.namespace = value.to_vec(),
            b"ExternalDocumentRef" => d.ext_refs.push(extract_external_ref(value)?),
            _ => {
                self.st = State::CreationInfo;
                return self.in_creation_info(tag, value);
            }
        }
        Ok(())
    }

    fn in_creation_info(&mut self, tag: &[u8], value: &[u8]) -> Result<(), String> {
        let ci = self.doc.creation.get_or_insert_with(CreationInfo::default);
        match tag {
            b"LicenseListVersion" => ci.license_list_version = value.to_vec(),
            b"Creator" => {
                let (k, v) = extract_subs(value)?;
                if !matches!(k.as_slice(), b"Person" | b"Organization" | b"Tool") {
                    return Err(format!("unrecognized Creator type {}", go_string(&k)));
                }
                ci.creators.push((k, v));
            }
            b"Created" => ci.created = value.to_vec(),
            b"CreatorComment" => ci.comment = value.to_vec(),
            b"PackageName" | b"FileName" | b"LicenseID" | b"Reviewer" => {
                let section = match tag {
                    b"PackageName" => "package",
                    b"FileName" => "file",
                    b"LicenseID" => "other-license",
                    _ => "review",
                };
                return Err(format!(
                    "regorun does not implement SPDX {section} sections (tag {}); only document-level sections are read",
                    go_string(tag)
                ));
            }
            b"Relationship" => {
                let parts: Vec<&[u8]> = value
                    .split(|b| *b == b' ')
                    .map(trim_space)
                    .filter(|s| !s.is_empty())
                    .collect();
                if parts.len() != 3 {
                    return Err(format!(
                        "invalid relationship format for {}",
                        go_string(value)
                    ));
                }
                let a = extract_doc_element_id(parts[0])?;
                let b = if self.minor >= 2 && matches!(parts[2], b"NONE" | b"NOASSERTION") {
                    DocElementId {
                        special: parts[2].to_vec(),
                        ..Default::default()
                    }
                } else {
                    extract_doc_element_id(parts[2])?
                };
                self.doc.relationships.push(Relationship {
                    a,
                    b,
                    kind: parts[1].to_vec(),
                    comment: Vec::new(),
                });
            }
            b"RelationshipComment" => match self.doc.relationships.last_mut() {
                Some(r) => r.comment = value.to_vec(),
                None => return Err("no relationship struct created in parser rln pointer".into()),
            },
            b"Annotator" => {
                self.doc.annotations.push(Annotation::default());
                let (k, v) = extract_subs(value)?;
                if !matches!(k.as_slice(), b"Person" | b"Organization" | b"Tool") {
                    return Err(format!("unrecognized Annotator type {}", go_string(&k)));
                }
                if let Some(a) = self.doc.annotations.last_mut() {
                    a.annotator = (k, v);
                }
            }
            b"AnnotationDate" | b"AnnotationType" | b"SPDXREF" | b"AnnotationComment" => {
                let Some(a) = self.doc.annotations.last_mut() else {
                    return Err("no annotation struct created in parser ann pointer".into());
                };
                match tag {
                    b"AnnotationDate" => a.date = value.to_vec(),
                    b"AnnotationType" => a.kind = value.to_vec(),
                    // Validated, but not part of the JSON (`json:"-"`).
                    b"SPDXREF" => drop(extract_doc_element_id(value)?),
                    _ => a.comment = value.to_vec(),
                }
            }
            b"DocumentComment" if self.minor >= 2 => {
                self.st = State::Start;
                return self.in_start(tag, value);
            }
            _ => {
                return Err(format!(
                    "received unknown tag {} in CreationInfo section",
                    go_string(tag)
                ))
            }
        }
        Ok(())
    }
}

fn extract_subs(value: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let Some(c) = value.iter().position(|b| *b == b':') else {
        return Err(format!(
            "invalid subvalue format for {} (no colon found)",
            go_string(value)
        ));
    };
    Ok((
        trim_space(&value[..c]).to_vec(),
        trim_space(&value[c + 1..]).to_vec(),
    ))
}

fn extract_element_id(value: &[u8]) -> Result<Vec<u8>, String> {
    let Some(id) = value.strip_prefix(b"SPDXRef-") else {
        return Err("missing SPDXRef- prefix for element identifier".into());
    };
    if value.contains(&b':') {
        return Err("invalid colon in element identifier".into());
    }
    if id.is_empty() {
        return Err("element identifier has nothing after prefix".into());
    }
    Ok(id.to_vec())
}

fn extract_doc_element_id(value: &[u8]) -> Result<DocElementId, String> {
    let mut doc = Vec::new();
    let mut id = value;
    if value.starts_with(b"DocumentRef-") {
        let parts: Vec<&[u8]> = value.split(|b| *b == b':').collect();
        if parts.len() < 2 {
            return Err("no colon found although DocumentRef- prefix present".into());
        }
        if parts.len() > 2 {
            return Err("more than one colon found".into());
        }
        doc = parts[0][b"DocumentRef-".len()..].to_vec();
        if doc.is_empty() {
            return Err("document identifier has nothing after prefix".into());
        }
        id = parts[1];
    }
    if !id.starts_with(b"SPDXRef-") {
        return Err("missing SPDXRef- prefix for element identifier".into());
    }
    if id.contains(&b':') {
        return Err("invalid colon in element identifier".into());
    }
    let elem = id[b"SPDXRef-".len()..].to_vec();
    if elem.is_empty() {
        return Err("element identifier has nothing after prefix".into());
    }
    Ok(DocElementId {
        doc,
        elem,
        special: Vec::new(),
    })
}

type ExtRef = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

fn extract_external_ref(value: &[u8]) -> Result<ExtRef, String> {
    let parts: Vec<&[u8]> = value
        .split(|b| *b == b' ')
        .map(trim_space)
        .filter(|s| !s.is_empty())
        .collect();
    let (id, uri, alg, sum) = match parts.len() {
        4 => {
            let Some(alg) = parts[2].strip_suffix(b":") else {
                return Err("algorithm does not end with colon".into());
            };
            (parts[0], parts[1], alg, parts[3])
        }
        3 => {
            let Some(c) = parts[2].iter().position(|b| *b == b':') else {
                return Err("missing colon separator between algorithm and checksum".into());
            };
            (parts[0], parts[1], &parts[2][..c], &parts[2][c + 1..])
        }
        n => return Err(format!("expected 4 elements, got {n}")),
    };
    let Some(id) = id.strip_prefix(b"DocumentRef-") else {
        return Err("expected first element to have DocumentRef- prefix".into());
    };
    if id.is_empty() {
        return Err("document identifier has nothing after prefix".into());
    }
    Ok((id.to_vec(), uri.to_vec(), alg.to_vec(), sum.to_vec()))
}

fn prefixed(prefix: &[u8], id: &[u8]) -> String {
    if id.starts_with(prefix) {
        go_string(id)
    } else {
        go_string(&[prefix, id].concat())
    }
}

fn doc_element_json(d: &DocElementId) -> Value {
    if !d.doc.is_empty() && !d.elem.is_empty() {
        json!(format!(
            "{}:{}",
            prefixed(b"DocumentRef-", &d.doc),
            prefixed(b"SPDXRef-", &d.elem)
        ))
    } else if !d.elem.is_empty() {
        json!(prefixed(b"SPDXRef-", &d.elem))
    } else {
        json!(go_string(&d.special))
    }
}

/// `Creator`/`Annotator` `MarshalJSON`: `"<Type>: <name>"`, an error when the name is empty.
fn agent_json(kind: &str, (t, name): &(Vec<u8>, Vec<u8>)) -> Result<Value, String> {
    if name.is_empty() {
        return Err(format!(
            "json: error calling MarshalJSON for type common.{kind}: unexpected end of JSON input"
        ));
    }
    Ok(json!(format!("{}: {}", go_string(t), go_string(name))))
}

impl Doc {
    fn to_json(&self, minor: u8) -> Result<Value, String> {
        let mut m = Map::new();
        // Documents read as 2.1/2.2 are converted, and the converter sets the 2.3 version.
        let version = if minor == 3 {
            go_string(&self.version)
        } else {
            "SPDX-2.3".into()
        };
        m.insert("spdxVersion".into(), json!(version));
        m.insert("dataLicense".into(), json!(go_string(&self.data_license)));
        m.insert("SPDXID".into(), json!(prefixed(b"SPDXRef-", &self.id)));
        m.insert("name".into(), json!(go_string(&self.name)));
        m.insert(
            "documentNamespace".into(),
            json!(go_string(&self.namespace)),
        );
        if !self.ext_refs.is_empty() {
            let refs: Vec<Value> = self
                .ext_refs
                .iter()
                .map(|(id, uri, alg, sum)| {
                    json!({
                        "externalDocumentId": prefixed(b"DocumentRef-", id),
                        "spdxDocument": go_string(uri),
                        "checksum": {"algorithm": go_string(alg), "checksumValue": go_string(sum)},
                    })
                })
                .collect();
            m.insert("externalDocumentRefs".into(), Value::Array(refs));
        }
        if !self.comment.is_empty() {
            m.insert("comment".into(), json!(go_string(&self.comment)));
        }
        let ci = match &self.creation {
            // The converter turns a pointer to an all-empty struct into nil.
            Some(ci)
                if minor == 3
                    || !(ci.license_list_version.is_empty()
                        && ci.creators.is_empty()
                        && ci.created.is_empty()
                        && ci.comment.is_empty()) =>
            {
                let mut c = Map::new();
                if !ci.license_list_version.is_empty() {
                    c.insert(
                        "licenseListVersion".into(),
                        json!(go_string(&ci.license_list_version)),
                    );
                }
                let creators = if ci.creators.is_empty() {
                    Value::Null
                } else {
                    Value::Array(
                        ci.creators
                            .iter()
                            .map(|c| agent_json("Creator", c))
                            .collect::<Result<_, _>>()?,
                    )
                };
                c.insert("creators".into(), creators);
                c.insert("created".into(), json!(go_string(&ci.created)));
                if !ci.comment.is_empty() {
                    c.insert("comment".into(), json!(go_string(&ci.comment)));
                }
                Value::Object(c)
            }
            _ => Value::Null,
        };
        m.insert("creationInfo".into(), ci);
        if !self.relationships.is_empty() {
            let rels = self
                .relationships
                .iter()
                .map(|r| {
                    let mut o = Map::new();
                    o.insert("spdxElementId".into(), doc_element_json(&r.a));
                    o.insert("relatedSpdxElement".into(), doc_element_json(&r.b));
                    o.insert("relationshipType".into(), json!(go_string(&r.kind)));
                    if !r.comment.is_empty() {
                        o.insert("comment".into(), json!(go_string(&r.comment)));
                    }
                    Value::Object(o)
                })
                .collect();
            m.insert("relationships".into(), Value::Array(rels));
        }
        if !self.annotations.is_empty() {
            let anns = self
                .annotations
                .iter()
                .map(|a| {
                    Ok(json!({
                        "annotator": agent_json("Annotator", &a.annotator)?,
                        "annotationDate": go_string(&a.date),
                        "annotationType": go_string(&a.kind),
                        "comment": go_string(&a.comment),
                    }))
                })
                .collect::<Result<_, String>>()?;
            m.insert("annotations".into(), Value::Array(anns));
        }
        Ok(Value::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_level_sections() {
        let v = parse(b"SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\nDocumentNamespace: https://e/x\nCreator: Tool: t\nCreated: 2021-08-26T01:46:00Z\nCreatorComment: <text>a\nb</text>\nRelationship: SPDXRef-DOCUMENT DESCRIBES NONE\n").unwrap();
        assert_eq!(
            v,
            json!({"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
                   "name": "x", "documentNamespace": "https://e/x",
                   "creationInfo": {"creators": ["Tool: t"], "created": "2021-08-26T01:46:00Z", "comment": "a\nb"},
                   "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": "NONE", "relationshipType": "DESCRIBES"}]})
        );
        let e = parse(b"SPDXVersion: SPDX-9\n").unwrap_err().to_string();
        assert!(e.ends_with("]: unsupported SPDX version: 'SPDX-9'"), "{e}");
        assert!(parse(b"SPDXVersion: SPDX-2.3\nPackageName: p\n").is_err());
        assert!(parse(b"SPDXVersion: SPDX-2.3\nCreator: Tool:\n")
            .unwrap_err()
            .to_string()
            .starts_with("error while marshaling ["));
    }
}
