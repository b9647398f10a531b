//! SPDX tag-value as conftest reads it: tools-golang v0.5.7 `tagvalue.Read` (SPDX-2.1, 2.2
//! or 2.3 reader, then go-struct-converter v0.1.0 up to the 2.3 model) marshalled with
//! `encoding/json`.
//!
//! Every section is read with the Go reader's state machine and error texts. What reaches
//! the JSON follows the 2.3 model: snippets live only in a `json:"-"` map on their file
//! and reviews in a `json:"-"` list, so both are checked but never shown.

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
    let mut p = TvParser::new(minor);
    for (tag, value) in &pairs {
        p.pair(tag, value).map_err(parsing)?;
    }
    p.finish().map_err(parsing)?;
    p.to_json()
        .map_err(|e| anyhow!("error while marshaling {}: {e}", go_bytes(bytes)))
}

/// Go's `%v` of a `[]byte`: `[83 80 68 ...]`.
/// Go's `%v` of a byte slice, as tools-golang prints the whole input in its errors; cut
/// after 16 bytes so that an error stays one short line.
fn go_bytes(b: &[u8]) -> String {
    const SHOWN: usize = 16;
    let parts: Vec<String> = b.iter().take(SHOWN).map(u8::to_string).collect();
    let more = if b.len() > SHOWN { " ..." } else { "" };
    format!("[{}{more}]", parts.join(" "))
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

type Bytes = Vec<u8>;

#[derive(Default, Clone)]
struct DocElementId {
    doc: Bytes,
    elem: Bytes,
    special: Bytes,
}

/// `Type: name` pairs: creators, annotators, suppliers and originators.
#[derive(Default)]
struct Agent {
    kind: Bytes,
    name: Bytes,
}

#[derive(Default)]
struct CreationInfo {
    license_list_version: Bytes,
    creators: Vec<Agent>,
    created: Bytes,
    comment: Bytes,
}

impl CreationInfo {
    fn is_zero(&self) -> bool {
        self.license_list_version.is_empty()
            && self.creators.is_empty()
            && self.created.is_empty()
            && self.comment.is_empty()
    }
}

struct Checksum {
    alg: Bytes,
    value: Bytes,
}

struct ExtDocRef {
    id: Bytes,
    uri: Bytes,
    checksum: Checksum,
}

struct Relationship {
    a: DocElementId,
    b: DocElementId,
    kind: Bytes,
    comment: Bytes,
}

#[derive(Default)]
struct Annotation {
    annotator: Agent,
    date: Bytes,
    kind: Bytes,
    comment: Bytes,
}

struct VerificationCode {
    value: Bytes,
    excluded: Vec<Bytes>,
}

#[derive(Default)]
struct PkgExtRef {
    category: Bytes,
    kind: Bytes,
    locator: Bytes,
    comment: Bytes,
}

/// `v2_3.Package`; `files` index the parser's file arena because Go shares pointers.
#[derive(Default)]
struct Package {
    name: Bytes,
    id: Bytes,
    version: Bytes,
    file_name: Bytes,
    supplier: Option<Agent>,
    originator: Option<Agent>,
    download_location: Bytes,
    files_analyzed: bool,
    verification: Option<VerificationCode>,
    checksums: Vec<Checksum>,
    home_page: Bytes,
    source_info: Bytes,
    license_concluded: Bytes,
    license_info_from_files: Vec<Bytes>,
    license_declared: Bytes,
    license_comments: Bytes,
    copyright: Bytes,
    summary: Bytes,
    description: Bytes,
    comment: Bytes,
    ext_refs: Vec<PkgExtRef>,
    attribution_texts: Vec<Bytes>,
    purpose: Bytes,
    release_date: Bytes,
    built_date: Bytes,
    valid_until_date: Bytes,
    files: Vec<usize>,
}

#[derive(Default)]
struct ArtifactOfProject {
    name: Bytes,
    home_page: Bytes,
    uri: Bytes,
}

#[derive(Default)]
struct File {
    name: Bytes,
    id: Bytes,
    types: Vec<Bytes>,
    checksums: Vec<Checksum>,
    license_concluded: Bytes,
    license_info: Vec<Bytes>,
    license_comments: Bytes,
    copyright: Bytes,
    artifacts: Vec<ArtifactOfProject>,
    comment: Bytes,
    notice: Bytes,
    contributors: Vec<Bytes>,
    attribution_texts: Vec<Bytes>,
    dependencies: Vec<Bytes>,
}

#[derive(Default)]
struct OtherLicense {
    id: Bytes,
    text: Bytes,
    name: Bytes,
    cross_refs: Vec<Bytes>,
    comment: Bytes,
}

impl OtherLicense {
    fn is_zero(&self) -> bool {
        self.id.is_empty()
            && self.text.is_empty()
            && self.name.is_empty()
            && self.cross_refs.is_empty()
            && self.comment.is_empty()
    }
}

#[derive(Default)]
struct Doc {
    version: Bytes,
    data_license: Bytes,
    id: Bytes,
    name: Bytes,
    namespace: Bytes,
    ext_refs: Vec<ExtDocRef>,
    comment: Bytes,
    creation: Option<CreationInfo>,
    packages: Vec<usize>,
    files: Vec<usize>,
    other_licenses: Vec<OtherLicense>,
    relationships: Vec<Relationship>,
    annotations: Vec<Annotation>,
}

#[derive(PartialEq, Clone, Copy)]
enum State {
    Start,
    CreationInfo,
    Package,
    File,
    Snippet,
    OtherLicense,
    Review,
}

/// The most package and file entries a document may expand to.
const MAX_ENTRIES: usize = 1_000_000;

/// The Go `tvParser`. Packages and files live in arenas and are referred to by index, as
/// Go appends the same pointer to a list (again on a repeated `SPDXID`) and keeps filling it.
struct TvParser {
    minor: u8,
    doc: Doc,
    st: State,
    pkgs: Vec<Package>,
    files: Vec<File>,
    pkg: Option<usize>,
    file: Option<usize>,
    /// Go's `pkgExtRef`: the current package's last external ref can take a comment.
    ext_ref_open: bool,
    /// Go's `fileAOP`: the current file's last artifact-of-project takes home page and URI.
    aop_open: bool,
}

fn unknown(tag: &[u8], section: &str) -> String {
    format!(
        "received unknown tag {} in {section} section",
        go_string(tag)
    )
}

impl TvParser {
    fn new(minor: u8) -> Self {
        TvParser {
            minor,
            doc: Doc::default(),
            st: State::Start,
            pkgs: Vec::new(),
            files: Vec::new(),
            pkg: None,
            file: None,
            ext_ref_open: false,
            aop_open: false,
        }
    }

    fn pair(&mut self, tag: &[u8], value: &[u8]) -> Result<(), String> {
        match self.st {
            State::Start => self.in_start(tag, value),
            State::CreationInfo => self.in_creation_info(tag, value),
            State::Package => self.in_package(tag, value),
            State::File => self.in_file(tag, value),
            State::Snippet => self.in_snippet(tag, value),
            State::OtherLicense => self.in_other_license(tag, value),
            State::Review => self.in_review(tag, value),
        }
    }

    /// Switches to the section `st` starts and lets it read the pair that opened it.
    fn enter(&mut self, st: State, tag: &[u8], value: &[u8]) -> Result<(), String> {
        self.st = st;
        self.pair(tag, value)
    }

    /// The checks `ParseTagValues` makes after the last pair.
    fn finish(&self) -> Result<(), String> {
        self.check_file_id()?;
        if let Some(p) = self.pkg.and_then(|i| self.pkgs.get(i)) {
            if p.id.is_empty() {
                return Err(no_id("package", "PackageName", &p.name));
            }
        }
        Ok(())
    }

    /// A file section ends: the file must have had an `SPDXID`.
    fn check_file_id(&self) -> Result<(), String> {
        match self.file.and_then(|i| self.files.get(i)) {
            Some(f) if f.id.is_empty() => Err(no_id("file", "FileName", &f.name)),
            _ => Ok(()),
        }
    }

    fn cur_pkg(&mut self) -> Result<&mut Package, String> {
        // Unreachable: the package state is only entered through `PackageName`.
        self.pkg
            .and_then(|i| self.pkgs.get_mut(i))
            .ok_or_else(|| "no current package".to_string())
    }

    fn cur_file(&mut self) -> Result<&mut File, String> {
        // Unreachable: the file state is only entered through `FileName`.
        self.file
            .and_then(|i| self.files.get_mut(i))
            .ok_or_else(|| "no current file".to_string())
    }

    /// Relationship and annotation tags, accepted in every section after the header.
    /// `None` when `tag` is neither.
    fn rel_or_ann(&mut self, tag: &[u8], value: &[u8]) -> Option<Result<(), String>> {
        Some(match tag {
            b"Relationship" => self.relationship(value),
            b"RelationshipComment" => match self.doc.relationships.last_mut() {
                Some(r) => {
                    r.comment = value.to_vec();
                    Ok(())
                }
                None => Err("no relationship struct created in parser rln pointer".into()),
            },
            b"Annotator" => {
                self.doc.annotations.push(Annotation::default());
                self.annotation(tag, value)
            }
            b"AnnotationDate" | b"AnnotationType" | b"SPDXREF" | b"AnnotationComment" => {
                self.annotation(tag, value)
            }
            _ => return None,
        })
    }

    fn relationship(&mut self, value: &[u8]) -> Result<(), String> {
        let parts = fields(value);
        if parts.len() != 3 {
            return Err(format!(
                "invalid relationship format for {}",
                go_string(value)
            ));
        }
        let a = extract_doc_element_id(parts[0])?;
        // NONE and NOASSERTION on the right are SPDX 2.2 additions.
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
        Ok(())
    }

    fn annotation(&mut self, tag: &[u8], value: &[u8]) -> Result<(), String> {
        let Some(a) = self.doc.annotations.last_mut() else {
            return Err("no annotation struct created in parser ann pointer".into());
        };
        match tag {
            b"Annotator" => {
                let (kind, name) = extract_subs(value)?;
                if !matches!(kind.as_slice(), b"Person" | b"Organization" | b"Tool") {
                    return Err(format!("unrecognized Annotator type {}", go_string(&kind)));
                }
                a.annotator = Agent { kind, name };
            }
            b"AnnotationDate" => a.date = value.to_vec(),
            b"AnnotationType" => a.kind = value.to_vec(),
            // Checked, but `json:"-"` in the model.
            b"SPDXREF" => drop(extract_doc_element_id(value)?),
            _ => a.comment = value.to_vec(),
        }
        Ok(())
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
            _ => return self.enter(State::CreationInfo, tag, value),
        }
        Ok(())
    }

    fn in_creation_info(&mut self, tag: &[u8], value: &[u8]) -> Result<(), String> {
        let ci = self.doc.creation.get_or_insert_with(CreationInfo::default);
        match tag {
            b"LicenseListVersion" => ci.license_list_version = value.to_vec(),
            b"Creator" => {
                let (kind, name) = extract_subs(value)?;
                if !matches!(kind.as_slice(), b"Person" | b"Organization" | b"Tool") {
                    return Err(format!("unrecognized Creator type {}", go_string(&kind)));
                }
                ci.creators.push(Agent { kind, name });
            }
            b"Created" => ci.created = value.to_vec(),
            b"CreatorComment" => ci.comment = value.to_vec(),
            b"PackageName" => {
                self.check_file_id()?;
                self.st = State::Package;
                self.pkgs.push(Package {
                    files_analyzed: true,
                    ..Default::default()
                });
                self.pkg = Some(self.pkgs.len() - 1);
                return self.in_package(tag, value);
            }
            b"FileName" => {
                // No current package: the file goes to the document's own list.
                self.st = State::File;
                self.pkg = None;
                return self.in_file(tag, value);
            }
            b"LicenseID" => return self.enter(State::OtherLicense, tag, value),
            b"Reviewer" => return self.enter(State::Review, tag, value),
            // The 2.1 reader has no way back to the header.
            b"DocumentComment" if self.minor >= 2 => return self.enter(State::Start, tag, value),
            _ => {
                return self
                    .rel_or_ann(tag, value)
                    .unwrap_or_else(|| Err(unknown(tag, "CreationInfo")))
            }
        }
        Ok(())
    }

    fn in_package(&mut self, tag: &[u8], value: &[u8]) -> Result<(), String> {
        // A comment can only follow its external ref directly.
        let ext_ref_open = std::mem::take(&mut self.ext_ref_open);
        let minor = self.minor;
        match tag {
            b"PackageName" => {
                let cur = self.pkg.and_then(|i| self.pkgs.get(i));
                if cur.is_none_or(|p| !p.name.is_empty()) {
                    if let Some(p) = cur {
                        if p.id.is_empty() {
                            return Err(no_id("package", "PackageName", &p.name));
                        }
                    }
                    self.pkgs.push(Package {
                        files_analyzed: true,
                        ..Default::default()
                    });
                    self.pkg = Some(self.pkgs.len() - 1);
                }
                self.cur_pkg()?.name = value.to_vec();
            }
            b"FileName" => return self.enter(State::File, tag, value),
            b"LicenseID" => return self.enter(State::OtherLicense, tag, value),
            b"Reviewer" => return self.enter(State::Review, tag, value),
            b"SPDXID" => {
                let id = extract_element_id(value)?;
                self.cur_pkg()?.id = id;
                if let Some(i) = self.pkg {
                    self.doc.packages.push(i);
                }
            }
            b"ExternalRefComment" => {
                let p = self.cur_pkg()?;
                match p.ext_refs.last_mut() {
                    Some(r) if ext_ref_open => r.comment = value.to_vec(),
                    _ => return Err("no current ExternalRef found".into()),
                }
            }
            _ => {
                if let Some(r) = self.rel_or_ann(tag, value) {
                    return r;
                }
                // Field access, not `cur_pkg()`, so `ext_ref_open` stays assignable.
                let Some(p) = self.pkg.and_then(|i| self.pkgs.get_mut(i)) else {
                    return Err("no current package".into());
                };
                let v = value.to_vec();
                match tag {
                    b"PackageVersion" => p.version = v,
                    b"PackageFileName" => p.file_name = v,
                    b"PackageSupplier" => p.supplier = Some(supplier(value, "PackageSupplier")?),
                    b"PackageOriginator" => {
                        p.originator = Some(supplier(value, "PackageOriginator")?)
                    }
                    b"PackageDownloadLocation" => p.download_location = v,
                    b"FilesAnalyzed" => match value {
                        b"false" => p.files_analyzed = false,
                        b"true" => p.files_analyzed = true,
                        _ => {}
                    },
                    b"PackageVerificationCode" => p.verification = Some(verification_code(value)),
                    b"PackageChecksum" => p.checksums.push(checksum(minor, value)?),
                    b"PackageHomePage" => p.home_page = v,
                    b"PackageSourceInfo" => p.source_info = v,
                    b"PackageLicenseConcluded" => p.license_concluded = v,
                    b"PackageLicenseInfoFromFiles" => p.license_info_from_files.push(v),
                    b"PackageLicenseDeclared" => p.license_declared = v,
                    b"PackageLicenseComments" => p.license_comments = v,
                    b"PackageCopyrightText" => p.copyright = v,
                    b"PackageSummary" => p.summary = v,
                    b"PackageDescription" => p.description = v,
                    b"PackageComment" => p.comment = v,
                    b"PackageAttributionText" if minor >= 2 => p.attribution_texts.push(v),
                    b"PrimaryPackagePurpose" if minor >= 3 => p.purpose = v,
                    b"ReleaseDate" if minor >= 3 => p.release_date = v,
                    b"BuiltDate" if minor >= 3 => p.built_date = v,
                    b"ValidUntilDate" if minor >= 3 => p.valid_until_date = v,
                    b"ExternalRef" => {
                        // Go appends the ref before splitting the value.
                        p.ext_refs.push(PkgExtRef::default());
                        let parts = fields(value);
                        if parts.len() != 3 {
                            return Err(format!("expected 3 elements, got {}", parts.len()));
                        }
                        if let Some(r) = p.ext_refs.last_mut() {
                            r.category = parts[0].to_vec();
                            r.kind = parts[1].to_vec();
                            r.locator = parts[2].to_vec();
                        }
                        self.ext_ref_open = true;
                    }
                    _ => return Err(unknown(tag, "Package")),
                }
            }
        }
        Ok(())
    }

    fn in_file(&mut self, tag: &[u8], value: &[u8]) -> Result<(), String> {
        // Home page and URI belong to the artifact-of-project named just before.
        let aop_open = std::mem::take(&mut self.aop_open);
        let minor = self.minor;
        match tag {
            b"FileName" => {
                self.check_file_id()?;
                self.files.push(File {
                    name: value.to_vec(),
                    ..Default::default()
                });
                self.file = Some(self.files.len() - 1);
            }
            b"PackageName" => {
                self.st = State::Package;
                self.check_file_id()?;
                self.file = None;
                return self.in_package(tag, value);
            }
            b"SnippetSPDXID" => return self.enter(State::Snippet, tag, value),
            b"LicenseID" => return self.enter(State::OtherLicense, tag, value),
            b"Reviewer" => return self.enter(State::Review, tag, value),
            b"SPDXID" => {
                let id = extract_element_id(value)?;
                self.cur_file()?.id = id;
                let Some(f) = self.file else {
                    return Ok(());
                };
                match self.pkg.and_then(|i| self.pkgs.get_mut(i)) {
                    Some(p) => p.files.push(f),
                    None => self.doc.files.push(f),
                }
            }
            b"ArtifactOfProjectHomePage" | b"ArtifactOfProjectURI" => {
                self.aop_open = aop_open;
                let Some(f) = self.file.and_then(|i| self.files.get_mut(i)) else {
                    return Err("no current file".into());
                };
                match f.artifacts.last_mut() {
                    Some(a) if aop_open => {
                        if tag == b"ArtifactOfProjectURI" {
                            a.uri = value.to_vec();
                        } else {
                            a.home_page = value.to_vec();
                        }
                    }
                    _ => return Err("no current ArtifactOfProject found".into()),
                }
            }
            _ => {
                if let Some(r) = self.rel_or_ann(tag, value) {
                    return r;
                }
                let Some(f) = self.file.and_then(|i| self.files.get_mut(i)) else {
                    return Err("no current file".into());
                };
                let v = value.to_vec();
                match tag {
                    b"FileType" => f.types.push(v),
                    b"FileChecksum" => f.checksums.push(checksum(minor, value)?),
                    b"LicenseConcluded" => f.license_concluded = v,
                    b"LicenseInfoInFile" => f.license_info.push(v),
                    b"LicenseComments" => f.license_comments = v,
                    b"FileCopyrightText" => f.copyright = v,
                    b"ArtifactOfProjectName" => {
                        f.artifacts.push(ArtifactOfProject {
                            name: v,
                            ..Default::default()
                        });
                        self.aop_open = true;
                    }
                    b"FileComment" => f.comment = v,
                    b"FileNotice" => f.notice = v,
                    b"FileContributor" => f.contributors.push(v),
                    b"FileDependency" => f.dependencies.push(v),
                    b"FileAttributionText" if minor >= 2 => f.attribution_texts.push(v),
                    _ => return Err(unknown(tag, "File")),
                }
            }
        }
        Ok(())
    }

    /// Snippets are checked only: Go keeps them in the file's `json:"-"` map.
    fn in_snippet(&mut self, tag: &[u8], value: &[u8]) -> Result<(), String> {
        match tag {
            b"SnippetSPDXID" => {
                self.check_file_id()?;
                extract_element_id(value)?;
            }
            b"FileName" => return self.enter(State::File, tag, value),
            b"PackageName" => {
                self.st = State::Package;
                self.file = None;
                return self.in_package(tag, value);
            }
            b"LicenseID" => return self.enter(State::OtherLicense, tag, value),
            b"Reviewer" => return self.enter(State::Review, tag, value),
            b"SnippetFromFileSPDXID" => drop(extract_doc_element_id(value)?),
            b"SnippetByteRange" | b"SnippetLineRange" => {
                let (start, end) = extract_subs(value)?;
                atoi(&start)?;
                atoi(&end)?;
            }
            b"SnippetLicenseConcluded"
            | b"LicenseInfoInSnippet"
            | b"SnippetLicenseComments"
            | b"SnippetCopyrightText"
            | b"SnippetComment"
            | b"SnippetName" => {}
            b"SnippetAttributionText" if self.minor >= 2 => {}
            _ => {
                return self
                    .rel_or_ann(tag, value)
                    .unwrap_or_else(|| Err(unknown(tag, "Snippet")))
            }
        }
        Ok(())
    }

    fn in_other_license(&mut self, tag: &[u8], value: &[u8]) -> Result<(), String> {
        if tag == b"LicenseID" {
            self.doc.other_licenses.push(OtherLicense {
                id: value.to_vec(),
                ..Default::default()
            });
            return Ok(());
        }
        if tag == b"Reviewer" {
            return self.enter(State::Review, tag, value);
        }
        if let Some(r) = self.rel_or_ann(tag, value) {
            return r;
        }
        // Unreachable without a license: the state is entered through `LicenseID`.
        let Some(l) = self.doc.other_licenses.last_mut() else {
            return Err(unknown(tag, "OtherLicense"));
        };
        let v = value.to_vec();
        match tag {
            b"ExtractedText" => l.text = v,
            b"LicenseName" => l.name = v,
            b"LicenseCrossReference" => l.cross_refs.push(v),
            b"LicenseComment" => l.comment = v,
            _ => return Err(unknown(tag, "OtherLicense")),
        }
        Ok(())
    }

    /// Reviews are checked only: `Document.Reviews` is `json:"-"`.
    fn in_review(&mut self, tag: &[u8], value: &[u8]) -> Result<(), String> {
        match tag {
            b"Reviewer" => {
                let (kind, _) = extract_subs(value)?;
                if !matches!(kind.as_slice(), b"Person" | b"Organization" | b"Tool") {
                    return Err(format!("unrecognized Reviewer type {}", go_string(&kind)));
                }
            }
            b"ReviewDate" | b"ReviewComment" => {}
            _ => {
                return self
                    .rel_or_ann(tag, value)
                    .unwrap_or_else(|| Err(unknown(tag, "Review")))
            }
        }
        Ok(())
    }
}

fn no_id(what: &str, tag: &str, name: &[u8]) -> String {
    format!(
        "{what} with {tag} {} does not have SPDX identifier",
        go_string(name)
    )
}

/// `strings.Split(value, " ")`, each part trimmed, empty ones dropped.
fn fields(value: &[u8]) -> Vec<&[u8]> {
    value
        .split(|b| *b == b' ')
        .map(trim_space)
        .filter(|s| !s.is_empty())
        .collect()
}

/// `PackageSupplier` / `PackageOriginator`: `NOASSERTION` or `Person:`/`Organization:`.
fn supplier(value: &[u8], tag: &str) -> Result<Agent, String> {
    if value == b"NOASSERTION" {
        return Ok(Agent {
            kind: Vec::new(),
            name: value.to_vec(),
        });
    }
    let (kind, name) = extract_subs(value)?;
    if !matches!(kind.as_slice(), b"Person" | b"Organization") {
        return Err(format!("unrecognized {tag} type {}", go_string(&kind)));
    }
    Ok(Agent { kind, name })
}

/// `extractCodeAndExcludes`: `<code> (excludes: <file>)`, one excluded file at most.
fn verification_code(value: &[u8]) -> VerificationCode {
    const SEP: &[u8] = b"(excludes:";
    let Some(p) = find(value, SEP) else {
        return VerificationCode {
            value: value.to_vec(),
            excluded: Vec::new(),
        };
    };
    let rest = &value[p + SEP.len()..];
    let name = match rest.iter().position(|b| *b == b')') {
        Some(e) => &rest[..e],
        None => rest,
    };
    VerificationCode {
        value: trim_space(&value[..p]).to_vec(),
        excluded: vec![trim_space(name).to_vec()],
    }
}

/// `PackageChecksum` / `FileChecksum`: `<algorithm>: <value>`, the algorithms the
/// version's reader knows.
fn checksum(minor: u8, value: &[u8]) -> Result<Checksum, String> {
    const V21: &[&[u8]] = &[b"SHA1", b"SHA256", b"MD5"];
    const V22: &[&[u8]] = &[b"SHA224", b"SHA384", b"SHA512", b"MD2", b"MD4", b"MD6"];
    const V23: &[&[u8]] = &[
        b"SHA3-256",
        b"SHA3-384",
        b"SHA3-512",
        b"BLAKE2b-256",
        b"BLAKE2b-384",
        b"BLAKE2b-512",
        b"BLAKE3",
        b"ADLER32",
    ];
    let (alg, value) = extract_subs(value)?;
    let a = alg.as_slice();
    let known =
        V21.contains(&a) || (minor >= 2 && V22.contains(&a)) || (minor >= 3 && V23.contains(&a));
    if !known {
        return Err(format!("got unknown checksum type {}", go_string(&alg)));
    }
    Ok(Checksum { alg, value })
}

/// Go's `strconv.Atoi` on a 64-bit platform, for its error text only.
fn atoi(s: &[u8]) -> Result<i64, String> {
    let err = |why: &str| {
        format!(
            "strconv.Atoi: parsing {}: {why}",
            crate::base::gostr::quote_bytes(s)
        )
    };
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(err("invalid syntax"));
    }
    let mut n: u64 = 0;
    for c in digits {
        if !c.is_ascii_digit() {
            return Err(err("invalid syntax"));
        }
        // ParseUint reports overflow as soon as it happens, before later bad digits.
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(c - b'0')))
        {
            Some(n) => n,
            None => return Err(err("value out of range")),
        };
    }
    if neg {
        if n > 1 << 63 {
            return Err(err("value out of range"));
        }
        Ok((n as i64).wrapping_neg())
    } else {
        i64::try_from(n).map_err(|_| err("value out of range"))
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

fn extract_external_ref(value: &[u8]) -> Result<ExtDocRef, String> {
    let parts = fields(value);
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
    Ok(ExtDocRef {
        id: id.to_vec(),
        uri: uri.to_vec(),
        checksum: Checksum {
            alg: alg.to_vec(),
            value: sum.to_vec(),
        },
    })
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

fn text(b: &[u8]) -> Value {
    Value::String(go_string(b))
}

/// A string field with `omitempty`.
fn put(m: &mut Map<String, Value>, key: &str, b: &[u8]) {
    if !b.is_empty() {
        m.insert(key.into(), text(b));
    }
}

/// A `[]string` field with `omitempty`.
fn put_list(m: &mut Map<String, Value>, key: &str, l: &[Bytes]) {
    if !l.is_empty() {
        m.insert(
            key.into(),
            Value::Array(l.iter().map(|b| text(b)).collect()),
        );
    }
}

fn checksum_json(c: &Checksum) -> Value {
    json!({"algorithm": go_string(&c.alg), "checksumValue": go_string(&c.value)})
}

fn checksums_json(l: &[Checksum]) -> Value {
    Value::Array(l.iter().map(checksum_json).collect())
}

/// `Creator`/`Annotator` `MarshalJSON`: `"<Type>: <name>"`, an error when the name is empty.
fn agent_json(kind: &str, a: &Agent) -> Result<Value, String> {
    if a.name.is_empty() {
        return Err(format!(
            "json: error calling MarshalJSON for type common.{kind}: unexpected end of JSON input"
        ));
    }
    Ok(json!(format!(
        "{}: {}",
        go_string(&a.kind),
        go_string(&a.name)
    )))
}

/// `Supplier`/`Originator` `MarshalJSON` (through the package's pointer field).
fn supplier_json(kind: &str, a: &Agent) -> Result<Value, String> {
    if a.name == b"NOASSERTION" {
        return Ok(text(&a.name));
    }
    if a.kind.is_empty() || a.name.is_empty() {
        return Err(format!(
            "json: error calling MarshalJSON for type *common.{kind}: failed to marshal invalid {kind}: {{{kind}:{} {kind}Type:{}}}",
            go_string(&a.name),
            go_string(&a.kind)
        ));
    }
    Ok(json!(format!(
        "{}: {}",
        go_string(&a.kind),
        go_string(&a.name)
    )))
}

impl TvParser {
    /// 2.1 and 2.2 documents go through go-struct-converter, which turns a pointer to an
    /// all-zero struct into nil and a package's verification-code struct into a pointer.
    fn converted(&self) -> bool {
        self.minor < 3
    }

    fn to_json(&self) -> Result<Value, String> {
        let d = &self.doc;
        // A repeated `SPDXID` lists a package (with all its files) again, so a small file
        // can expand to billions of entries; Go would exhaust memory, regorun refuses.
        let entries = d.packages.iter().fold(d.files.len(), |n, &i| {
            n.saturating_add(1 + self.pkgs.get(i).map_or(0, |p| p.files.len()))
        });
        if entries > MAX_ENTRIES {
            return Err(format!(
                "the document expands to {entries} package and file entries (repeated SPDXID lines list a package again); regorun stops at {MAX_ENTRIES}"
            ));
        }
        let mut m = Map::new();
        // The converter's `Document.ConvertFrom` sets the 2.3 version.
        let version = if self.converted() {
            "SPDX-2.3".into()
        } else {
            go_string(&d.version)
        };
        m.insert("spdxVersion".into(), json!(version));
        m.insert("dataLicense".into(), text(&d.data_license));
        m.insert("SPDXID".into(), json!(prefixed(b"SPDXRef-", &d.id)));
        m.insert("name".into(), text(&d.name));
        m.insert("documentNamespace".into(), text(&d.namespace));
        if !d.ext_refs.is_empty() {
            let refs = d
                .ext_refs
                .iter()
                .map(|r| {
                    json!({
                        "externalDocumentId": prefixed(b"DocumentRef-", &r.id),
                        "spdxDocument": go_string(&r.uri),
                        "checksum": checksum_json(&r.checksum),
                    })
                })
                .collect();
            m.insert("externalDocumentRefs".into(), Value::Array(refs));
        }
        put(&mut m, "comment", &d.comment);
        let ci = match &d.creation {
            Some(ci) if !(self.converted() && ci.is_zero()) => {
                let mut c = Map::new();
                put(&mut c, "licenseListVersion", &ci.license_list_version);
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
                c.insert("created".into(), text(&ci.created));
                put(&mut c, "comment", &ci.comment);
                Value::Object(c)
            }
            _ => Value::Null,
        };
        m.insert("creationInfo".into(), ci);
        if !d.packages.is_empty() {
            let pkgs = d
                .packages
                .iter()
                .map(|&i| self.package_json(i))
                .collect::<Result<_, _>>()?;
            m.insert("packages".into(), Value::Array(pkgs));
        }
        if !d.files.is_empty() {
            let files = d.files.iter().map(|&i| self.file_json(i)).collect();
            m.insert("files".into(), Value::Array(files));
        }
        if !d.other_licenses.is_empty() {
            let lics = d
                .other_licenses
                .iter()
                .map(|l| self.other_license_json(l))
                .collect();
            m.insert("hasExtractedLicensingInfos".into(), Value::Array(lics));
        }
        if !d.relationships.is_empty() {
            let rels = d
                .relationships
                .iter()
                .map(|r| {
                    let mut o = Map::new();
                    o.insert("spdxElementId".into(), doc_element_json(&r.a));
                    o.insert("relatedSpdxElement".into(), doc_element_json(&r.b));
                    o.insert("relationshipType".into(), text(&r.kind));
                    put(&mut o, "comment", &r.comment);
                    Value::Object(o)
                })
                .collect();
            m.insert("relationships".into(), Value::Array(rels));
        }
        if !d.annotations.is_empty() {
            let anns = d
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

    fn package_json(&self, i: usize) -> Result<Value, String> {
        let Some(p) = self.pkgs.get(i) else {
            return Ok(Value::Null);
        };
        let mut m = Map::new();
        m.insert("name".into(), text(&p.name));
        m.insert("SPDXID".into(), json!(prefixed(b"SPDXRef-", &p.id)));
        put(&mut m, "versionInfo", &p.version);
        put(&mut m, "packageFileName", &p.file_name);
        if let Some(s) = &p.supplier {
            m.insert("supplier".into(), supplier_json("Supplier", s)?);
        }
        if let Some(o) = &p.originator {
            m.insert("originator".into(), supplier_json("Originator", o)?);
        }
        m.insert("downloadLocation".into(), text(&p.download_location));
        m.insert("filesAnalyzed".into(), json!(p.files_analyzed));
        match &p.verification {
            Some(v) => {
                let mut c = Map::new();
                c.insert("packageVerificationCodeValue".into(), text(&v.value));
                put_list(&mut c, "packageVerificationCodeExcludedFiles", &v.excluded);
                m.insert("packageVerificationCode".into(), Value::Object(c));
            }
            // 2.1/2.2 hold the code by value; converted to a 2.3 pointer it is never nil.
            None if self.converted() => {
                m.insert(
                    "packageVerificationCode".into(),
                    json!({"packageVerificationCodeValue": ""}),
                );
            }
            None => {}
        }
        if !p.checksums.is_empty() {
            m.insert("checksums".into(), checksums_json(&p.checksums));
        }
        put(&mut m, "homepage", &p.home_page);
        put(&mut m, "sourceInfo", &p.source_info);
        put(&mut m, "licenseConcluded", &p.license_concluded);
        put_list(&mut m, "licenseInfoFromFiles", &p.license_info_from_files);
        put(&mut m, "licenseDeclared", &p.license_declared);
        put(&mut m, "licenseComments", &p.license_comments);
        put(&mut m, "copyrightText", &p.copyright);
        put(&mut m, "summary", &p.summary);
        put(&mut m, "description", &p.description);
        put(&mut m, "comment", &p.comment);
        if !p.ext_refs.is_empty() {
            let refs = p
                .ext_refs
                .iter()
                .map(|r| {
                    // Its `MarshalJSON` writes the category with '-' for '_'.
                    let category: Vec<u8> = r
                        .category
                        .iter()
                        .map(|&b| if b == b'_' { b'-' } else { b })
                        .collect();
                    let mut o = Map::new();
                    o.insert("referenceCategory".into(), text(&category));
                    o.insert("referenceType".into(), text(&r.kind));
                    o.insert("referenceLocator".into(), text(&r.locator));
                    put(&mut o, "comment", &r.comment);
                    Value::Object(o)
                })
                .collect();
            m.insert("externalRefs".into(), Value::Array(refs));
        }
        put_list(&mut m, "attributionTexts", &p.attribution_texts);
        put(&mut m, "primaryPackagePurpose", &p.purpose);
        put(&mut m, "releaseDate", &p.release_date);
        put(&mut m, "builtDate", &p.built_date);
        put(&mut m, "validUntilDate", &p.valid_until_date);
        if !p.files.is_empty() {
            let files = p.files.iter().map(|&i| self.file_json(i)).collect();
            m.insert("files".into(), Value::Array(files));
        }
        Ok(Value::Object(m))
    }

    fn file_json(&self, i: usize) -> Value {
        let Some(f) = self.files.get(i) else {
            return Value::Null;
        };
        let mut m = Map::new();
        m.insert("fileName".into(), text(&f.name));
        m.insert("SPDXID".into(), json!(prefixed(b"SPDXRef-", &f.id)));
        put_list(&mut m, "fileTypes", &f.types);
        // Not omitempty: a file without checksums has a nil slice.
        let sums = if f.checksums.is_empty() {
            Value::Null
        } else {
            checksums_json(&f.checksums)
        };
        m.insert("checksums".into(), sums);
        put(&mut m, "licenseConcluded", &f.license_concluded);
        put_list(&mut m, "licenseInfoInFiles", &f.license_info);
        put(&mut m, "licenseComments", &f.license_comments);
        m.insert("copyrightText".into(), text(&f.copyright));
        if !f.artifacts.is_empty() {
            let aops = f
                .artifacts
                .iter()
                .map(|a| {
                    let zero = a.name.is_empty() && a.home_page.is_empty() && a.uri.is_empty();
                    if zero && self.converted() {
                        Value::Null
                    } else {
                        json!({"name": go_string(&a.name), "homePage": go_string(&a.home_page), "URI": go_string(&a.uri)})
                    }
                })
                .collect();
            m.insert("artifactOfs".into(), Value::Array(aops));
        }
        put(&mut m, "comment", &f.comment);
        put(&mut m, "noticeText", &f.notice);
        put_list(&mut m, "fileContributors", &f.contributors);
        put_list(&mut m, "attributionTexts", &f.attribution_texts);
        put_list(&mut m, "fileDependencies", &f.dependencies);
        Value::Object(m)
    }

    fn other_license_json(&self, l: &OtherLicense) -> Value {
        if self.converted() && l.is_zero() {
            return Value::Null;
        }
        let mut m = Map::new();
        m.insert("licenseId".into(), text(&l.id));
        m.insert("extractedText".into(), text(&l.text));
        put(&mut m, "name", &l.name);
        put_list(&mut m, "seeAlsos", &l.cross_refs);
        put(&mut m, "comment", &l.comment);
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> Value {
        parse(src.as_bytes()).unwrap()
    }

    /// The cause after `error while parsing [..]: ` (or marshaling).
    fn err(src: &str) -> String {
        let e = parse(src.as_bytes()).unwrap_err().to_string();
        e.split_once("]: ").map(|(_, c)| c.to_string()).unwrap_or(e)
    }

    #[test]
    fn document_level_sections() {
        let v = ok("SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\nDocumentNamespace: https://e/x\nCreator: Tool: t\nCreated: 2021-08-26T01:46:00Z\nCreatorComment: <text>a\nb</text>\nRelationship: SPDXRef-DOCUMENT DESCRIBES NONE\n");
        assert_eq!(
            v,
            json!({"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
                   "name": "x", "documentNamespace": "https://e/x",
                   "creationInfo": {"creators": ["Tool: t"], "created": "2021-08-26T01:46:00Z", "comment": "a\nb"},
                   "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": "NONE", "relationshipType": "DESCRIBES"}]})
        );
        let e = parse(b"SPDXVersion: SPDX-9\n").unwrap_err().to_string();
        assert!(e.ends_with("]: unsupported SPDX version: 'SPDX-9'"), "{e}");
        assert!(parse(b"SPDXVersion: SPDX-2.3\nCreator: Tool:\n")
            .unwrap_err()
            .to_string()
            .starts_with("error while marshaling ["));
    }

    #[test]
    fn files_go_to_the_current_package_or_the_document() {
        let v = ok("SPDXVersion: SPDX-2.3\nFileName: loose\nSPDXID: SPDXRef-loose\nSnippetSPDXID: SPDXRef-s\nSnippetFromFileSPDXID: SPDXRef-loose\nSnippetLineRange: 1:2\nFileName: loose2\nSPDXID: SPDXRef-loose2\nPackageName: p\nSPDXID: SPDXRef-p\nFileName: inner\nSPDXID: SPDXRef-inner\n");
        let names = |l: &Value| -> Vec<String> {
            l.as_array()
                .unwrap()
                .iter()
                .map(|f| f["fileName"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names(&v["files"]), ["loose", "loose2"]);
        assert_eq!(names(&v["packages"][0]["files"]), ["inner"]);
        // Snippets sit in a `json:"-"` map; files without checksums have `null`.
        assert!(v.get("snippets").is_none());
        assert_eq!(v["files"][0]["checksums"], Value::Null);
        assert_eq!(v["files"][0]["copyrightText"], "");
    }

    #[test]
    fn repeated_ids_cannot_expand_without_bound() {
        // 1,000 listings of one package holding 1,001 files: 1,002,000 entries.
        let mut doc = String::from("SPDXVersion: SPDX-2.3\nPackageName: p\n");
        doc.push_str(&"SPDXID: SPDXRef-p\n".repeat(1000));
        for i in 0..1001 {
            doc.push_str(&format!("FileName: f{i}\nSPDXID: SPDXRef-f{i}\n"));
        }
        let err = parse(doc.as_bytes()).unwrap_err().to_string();
        assert!(
            err.ends_with("the document expands to 1002000 package and file entries (repeated SPDXID lines list a package again); regorun stops at 1000000"),
            "{}",
            &err[err.len().saturating_sub(200)..]
        );
        // Below the cap the listing is kept, as Go does.
        let small = doc.replacen(
            &"SPDXID: SPDXRef-p\n".repeat(1000),
            "SPDXID: SPDXRef-p\n",
            1,
        );
        let v = ok(&small);
        assert_eq!(v["packages"][0]["files"].as_array().unwrap().len(), 1001);
    }

    #[test]
    fn shared_pointers_are_listed_again_with_their_final_content() {
        // A second SPDXID appends the same package again; later tags still reach it.
        let v = ok("SPDXVersion: SPDX-2.3\nPackageName: p\nSPDXID: SPDXRef-a\nSPDXID: SPDXRef-b\nPackageVersion: 2\n");
        let p = json!({"name": "p", "SPDXID": "SPDXRef-b", "versionInfo": "2", "downloadLocation": "", "filesAnalyzed": true});
        assert_eq!(v["packages"], json!([p, p]));
        // A package with an empty name is renamed, not replaced, by the next PackageName.
        let v = ok("SPDXVersion: SPDX-2.3\nPackageName:\nFileName: f\nSPDXID: SPDXRef-f\nPackageName: q\nSPDXID: SPDXRef-q\n");
        assert_eq!(v["packages"][0]["name"], "q");
        assert_eq!(v["packages"][0]["files"][0]["fileName"], "f");
    }

    #[test]
    fn converter_differences_for_2_1_and_2_2() {
        let body = "PackageName: p\nSPDXID: SPDXRef-p\nFilesAnalyzed: False\nFileName: f\nSPDXID: SPDXRef-f\nArtifactOfProjectName:\nLicenseID:\n";
        let v3 = ok(&format!("SPDXVersion: SPDX-2.3\n{body}"));
        let v2 = ok(&format!("SPDXVersion: SPDX-2.2\n{body}"));
        // 2.3 is marshalled as read.
        assert_eq!(v3["creationInfo"], json!({"creators": null, "created": ""}));
        assert!(v3["packages"][0].get("packageVerificationCode").is_none());
        assert_eq!(v3["packages"][0]["filesAnalyzed"], true);
        assert_eq!(
            v3["packages"][0]["files"][0]["artifactOfs"],
            json!([{"name": "", "homePage": "", "URI": ""}])
        );
        assert_eq!(
            v3["hasExtractedLicensingInfos"],
            json!([{"licenseId": "", "extractedText": ""}])
        );
        // Converted: zero structs behind pointers become nil, the by-value code a pointer.
        assert_eq!(v2["spdxVersion"], "SPDX-2.3");
        assert_eq!(v2["creationInfo"], Value::Null);
        assert_eq!(
            v2["packages"][0]["packageVerificationCode"],
            json!({"packageVerificationCodeValue": ""})
        );
        assert_eq!(v2["packages"][0]["files"][0]["artifactOfs"], json!([null]));
        assert_eq!(v2["hasExtractedLicensingInfos"], json!([null]));
    }

    #[test]
    fn tags_each_version_knows() {
        let pkg = "PackageName: p\nSPDXID: SPDXRef-p\n";
        assert_eq!(
            err(&format!(
                "SPDXVersion: SPDX-2.2\n{pkg}PrimaryPackagePurpose: LIBRARY\n"
            )),
            "received unknown tag PrimaryPackagePurpose in Package section"
        );
        assert_eq!(
            ok(&format!(
                "SPDXVersion: SPDX-2.3\n{pkg}PrimaryPackagePurpose: LIBRARY\n"
            ))["packages"][0]["primaryPackagePurpose"],
            "LIBRARY"
        );
        assert_eq!(
            err(&format!(
                "SPDXVersion: SPDX-2.1\n{pkg}PackageAttributionText: x\n"
            )),
            "received unknown tag PackageAttributionText in Package section"
        );
        assert_eq!(
            err("SPDXVersion: SPDX-2.1\nCreated: x\nDocumentComment: c\n"),
            "received unknown tag DocumentComment in CreationInfo section"
        );
        assert_eq!(
            err(&format!(
                "SPDXVersion: SPDX-2.1\n{pkg}PackageChecksum: SHA512: 00\n"
            )),
            "got unknown checksum type SHA512"
        );
        assert_eq!(
            err("SPDXVersion: SPDX-2.1\nFileName: f\nSPDXID: SPDXRef-f\nSnippetSPDXID: SPDXRef-s\nSnippetAttributionText: a\n"),
            "received unknown tag SnippetAttributionText in Snippet section"
        );
    }

    #[test]
    fn package_value_formats() {
        let v = ok("SPDXVersion: SPDX-2.3\nPackageName: p\nSPDXID: SPDXRef-p\nPackageSupplier: Organization: NOASSERTION\nPackageOriginator: NOASSERTION\nPackageVerificationCode: abc(excludes:)\nExternalRef: PERSISTENT_ID  gitoid   gitoid:blob:sha1:00\n");
        let p = &v["packages"][0];
        assert_eq!(p["supplier"], "NOASSERTION");
        assert_eq!(p["originator"], "NOASSERTION");
        assert_eq!(
            p["packageVerificationCode"],
            json!({"packageVerificationCodeValue": "abc", "packageVerificationCodeExcludedFiles": [""]})
        );
        assert_eq!(p["externalRefs"][0]["referenceCategory"], "PERSISTENT-ID");
        assert_eq!(
            err("SPDXVersion: SPDX-2.3\nPackageName: p\nSPDXID: SPDXRef-p\nExternalRef: SECURITY cpe23Type\n"),
            "expected 3 elements, got 2"
        );
        assert_eq!(
            err("SPDXVersion: SPDX-2.3\nPackageName: p\nSPDXID: SPDXRef-p\nPackageSupplier: Tool: x\n"),
            "unrecognized PackageSupplier type Tool"
        );
        assert_eq!(
            err("SPDXVersion: SPDX-2.3\nPackageName: p\nSPDXID: SPDXRef-p\nPackageOriginator: Person:\n"),
            "json: error calling MarshalJSON for type *common.Originator: failed to marshal invalid Originator: {Originator: OriginatorType:Person}"
        );
        // Go marshals fields in order: the creator error comes first.
        assert_eq!(
            err("SPDXVersion: SPDX-2.3\nCreator: Person:\nPackageName: p\nSPDXID: SPDXRef-p\nPackageSupplier: Person:\n"),
            "json: error calling MarshalJSON for type common.Creator: unexpected end of JSON input"
        );
    }

    #[test]
    fn comments_only_follow_their_item() {
        let pkg = "SPDXVersion: SPDX-2.3\nPackageName: p\nSPDXID: SPDXRef-p\n";
        assert_eq!(
            err(&format!(
                "{pkg}ExternalRef: OTHER t l\nExternalRefComment: a\nExternalRefComment: b\n"
            )),
            "no current ExternalRef found"
        );
        assert_eq!(
            err(&format!(
                "{pkg}ExternalRef: OTHER t l\nPackageComment: c\nExternalRefComment: a\n"
            )),
            "no current ExternalRef found"
        );
        let file = "SPDXVersion: SPDX-2.3\nFileName: f\nSPDXID: SPDXRef-f\n";
        let v = ok(&format!("{file}ArtifactOfProjectName: n\nArtifactOfProjectURI: u\nArtifactOfProjectHomePage: h\n"));
        assert_eq!(
            v["files"][0]["artifactOfs"],
            json!([{"name": "n", "homePage": "h", "URI": "u"}])
        );
        assert_eq!(
            err(&format!(
                "{file}ArtifactOfProjectName: n\nFileComment: c\nArtifactOfProjectURI: u\n"
            )),
            "no current ArtifactOfProject found"
        );
        assert_eq!(
            err("SPDXVersion: SPDX-2.3\nRelationshipComment: c\n"),
            "no relationship struct created in parser rln pointer"
        );
        assert_eq!(
            err("SPDXVersion: SPDX-2.3\nAnnotationDate: d\n"),
            "no annotation struct created in parser ann pointer"
        );
    }

    #[test]
    fn reviews_are_checked_but_not_shown() {
        let v = ok("SPDXVersion: SPDX-2.2\nReviewer: Person: r\nReviewDate: d\nReviewComment: c\nRelationship: SPDXRef-a OTHER SPDXRef-b\n");
        assert!(v.get("reviews").is_none() && v.get("annotations").is_none());
        assert_eq!(v["relationships"][0]["relationshipType"], "OTHER");
        assert_eq!(
            err("SPDXVersion: SPDX-2.2\nReviewer: Bot: r\n"),
            "unrecognized Reviewer type Bot"
        );
        assert_eq!(
            err("SPDXVersion: SPDX-2.2\nReviewer: Person: r\nPackageName: p\n"),
            "received unknown tag PackageName in Review section"
        );
        assert_eq!(
            err("SPDXVersion: SPDX-2.2\nLicenseID: LicenseRef-x\nFileName: f\n"),
            "received unknown tag FileName in OtherLicense section"
        );
    }

    #[test]
    fn snippet_checks() {
        let base =
            "SPDXVersion: SPDX-2.3\nFileName: f\nSPDXID: SPDXRef-f\nSnippetSPDXID: SPDXRef-s\n";
        assert_eq!(
            err(&format!("{base}SnippetByteRange: 1-2\n")),
            "invalid subvalue format for 1-2 (no colon found)"
        );
        assert_eq!(
            err(&format!("{base}SnippetFromFileSPDXID: DocumentRef-d\n")),
            "no colon found although DocumentRef- prefix present"
        );
        assert_eq!(
            err("SPDXVersion: SPDX-2.3\nFileName: f\nSnippetSPDXID: SPDXRef-s\n"),
            "file with FileName f does not have SPDX identifier"
        );
        assert_eq!(
            err(&format!("{base}SnippetSPDXID: s2\n")),
            "missing SPDXRef- prefix for element identifier"
        );
    }

    #[test]
    fn atoi_matches_go() {
        assert_eq!(atoi(b"+5"), Ok(5));
        assert_eq!(atoi(b"-9223372036854775808"), Ok(i64::MIN));
        let e = |s: &[u8]| atoi(s).unwrap_err();
        assert_eq!(e(b""), r#"strconv.Atoi: parsing "": invalid syntax"#);
        assert_eq!(e(b"-"), r#"strconv.Atoi: parsing "-": invalid syntax"#);
        assert_eq!(
            e(b"1_000"),
            r#"strconv.Atoi: parsing "1_000": invalid syntax"#
        );
        assert_eq!(
            e(b"9223372036854775808"),
            r#"strconv.Atoi: parsing "9223372036854775808": value out of range"#
        );
        // Overflow is reported before a later bad character.
        assert_eq!(
            e(b"99999999999999999999x"),
            r#"strconv.Atoi: parsing "99999999999999999999x": value out of range"#
        );
        assert_eq!(
            e(b"1 \xff\t"),
            r#"strconv.Atoi: parsing "1 \xff\t": invalid syntax"#
        );
    }
}
