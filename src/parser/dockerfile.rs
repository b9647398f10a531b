//! Dockerfiles as conftest reads them: moby/buildkit's line parser (directives, comments,
//! continuations, flags, JSON and shell forms, ONBUILD sub-commands, heredocs), then
//! conftest's flattening into `{"Cmd","SubCmd","JSON","Flags","Value","Stage"}` records.
//! The file yields a one-element array wrapping the instruction list.

use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};

/// buildkit's `bufio.Scanner` limit.
const MAX_LINE: usize = 64 * 1024 - 1;

/// One parsed instruction (buildkit's `Node` with its `Next` chain flattened).
struct Node {
    cmd: String,
    flags: Option<Vec<String>>,
    /// `None` when the node has no `Next` (Go nil slice → `null`).
    values: Option<Vec<String>>,
    json: bool,
    /// ONBUILD's wrapped instruction.
    sub: Option<Box<Node>>,
    comments: Vec<String>,
    line: usize,
}

struct Directives {
    escape: char,
    done: bool,
    seen: Vec<String>,
}

/// Parses a Dockerfile into `[[instruction, …]]`.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = String::from_utf8_lossy(bytes);
    let nodes = parse_nodes(&text).map_err(|e| anyhow!("parse dockerfile: {e}"))?;
    let mut commands = Vec::new();
    let mut stages: usize = 0;
    for node in nodes {
        validate(&node).map_err(|e| anyhow!("process dockerfile instructions: {e}"))?;
        if node.cmd == "from" {
            stages += 1;
        }
        let stage = stages.saturating_sub(1);
        for c in &node.comments {
            commands.push(json!({"Cmd": "comment", "SubCmd": "", "JSON": false,
                "Flags": null, "Value": [c], "Stage": stage}));
        }
        let (sub_cmd, inner) = match &node.sub {
            Some(s) => (s.cmd.clone(), s.as_ref()),
            None => (String::new(), &node),
        };
        commands.push(json!({
            "Cmd": node.cmd,
            "SubCmd": sub_cmd,
            "JSON": inner.json,
            "Flags": node.flags,
            "Value": inner.values,
            "Stage": stage,
        }));
    }
    Ok(Value::Array(vec![Value::Array(commands)]))
}

/// The line-level checks of buildkit's `instructions.ParseInstruction` that reject files.
fn validate(node: &Node) -> std::result::Result<(), String> {
    const KNOWN: &[&str] = &[
        "add",
        "arg",
        "cmd",
        "copy",
        "entrypoint",
        "env",
        "expose",
        "from",
        "healthcheck",
        "label",
        "maintainer",
        "onbuild",
        "run",
        "shell",
        "stopsignal",
        "user",
        "volume",
        "workdir",
    ];
    if !KNOWN.contains(&node.cmd.as_str()) {
        return Err(format!("unknown instruction: {}", node.cmd));
    }
    let n = node.values.as_ref().map_or(0, Vec::len);
    let upper = node.cmd.to_uppercase();
    match node.cmd.as_str() {
        "from" => {
            if n != 1 && n != 3 {
                return Err("FROM requires either one or three arguments".into());
            }
            if n == 3 {
                let v = node.values.as_deref().unwrap_or_default();
                if !v[1].eq_ignore_ascii_case("as") {
                    return Err(
                        "Syntax error - FROM with 3 arguments requires the second to be \"AS\""
                            .into(),
                    );
                }
            }
        }
        "add" | "copy" if n < 2 => return Err(format!("{upper} requires at least two arguments")),
        "env" | "label" | "expose" | "volume" | "onbuild" | "arg"
            if n == 0 && node.sub.is_none() =>
        {
            return Err(format!("{upper} requires at least one argument"))
        }
        "user" | "workdir" | "stopsignal" | "maintainer" if n != 1 => {
            return Err(format!("{upper} requires exactly one argument"))
        }
        "onbuild" => {
            if let Some(sub) = &node.sub {
                if matches!(sub.cmd.as_str(), "onbuild" | "from" | "maintainer") {
                    return Err(format!(
                        "{} isn't allowed as an ONBUILD trigger",
                        sub.cmd.to_uppercase()
                    ));
                }
                validate(sub)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn is_space(c: char) -> bool {
    c.is_whitespace()
}

fn is_comment(line: &str) -> bool {
    line.trim_start_matches(is_space).starts_with('#')
}

/// buildkit's `reDirectives`: `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`.
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let name_len = rest
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_alphabetic() || (*i > 0 && c.is_ascii_digit())))
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let (name, rest) = rest.split_at(name_len);
    let value = rest.trim_start().strip_prefix('=')?.trim();
    if value.is_empty() {
        return None;
    }
    Some((name.to_ascii_lowercase(), value.to_string()))
}

impl Directives {
    /// Returns `Ok(true)` when the line was a parser directive.
    fn possible(&mut self, line: &str) -> std::result::Result<bool, String> {
        if self.done {
            return Ok(false);
        }
        let Some((k, v)) = directive(line) else {
            self.done = true;
            return Ok(false);
        };
        if !matches!(k.as_str(), "escape" | "syntax" | "check") {
            self.done = true;
            return Ok(false);
        }
        if self.seen.contains(&k) {
            return Err(format!("only one {k} parser directive can be used"));
        }
        self.seen.push(k.clone());
        if k == "escape" {
            match v.as_str() {
                "`" => self.escape = '`',
                "\\" => self.escape = '\\',
                _ => return Err(format!("invalid escape token '{v}' does not match ` or \\")),
            }
        }
        Ok(true)
    }

    /// Strips a trailing escape token (plus spaces/tabs); true when the line continues.
    fn trim_continuation(&self, line: &str) -> (String, bool) {
        let t = line.trim_end_matches([' ', '\t']);
        match t.strip_suffix(self.escape) {
            Some(s) => (s.to_string(), false),
            None => (line.to_string(), true),
        }
    }
}

fn parse_nodes(text: &str) -> std::result::Result<Vec<Node>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') || text.is_empty() {
        lines.pop();
    }
    let lines: Vec<&str> = lines
        .into_iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if let Some(i) = lines.iter().position(|l| l.len() > MAX_LINE) {
        return Err(format!(
            "dockerfile line greater than max allowed size of {MAX_LINE} (line {})",
            i + 1
        ));
    }
    let mut d = Directives {
        escape: '\\',
        done: false,
        seen: Vec::new(),
    };
    let mut comments: Vec<String> = Vec::new();
    let mut nodes = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        i += 1;
        let line_no = i;
        let stripped = raw.trim_start_matches(is_space);
        let is_directive = d
            .possible(stripped)
            .map_err(|e| format!("{e} (line {line_no})"))?;
        if is_comment(raw) && !is_directive {
            // buildkit drops the first byte (normally the `#`), then trims.
            let c = raw.get(1..).unwrap_or("").trim().to_string();
            if c.is_empty() {
                comments.clear();
            } else {
                comments.push(c);
            }
        }
        let processed = if stripped.starts_with('#') {
            ""
        } else {
            stripped
        };
        let (mut line, mut end) = d.trim_continuation(processed);
        if end && line.is_empty() {
            continue;
        }
        while !end && i < lines.len() {
            let next = lines[i];
            i += 1;
            if is_comment(next) {
                continue;
            }
            if next.trim_start_matches(is_space).is_empty() {
                continue;
            }
            let (cont, e) = d.trim_continuation(next);
            line.push_str(&cont);
            end = e;
        }
        let mut node = node_from_line(&line, &d).map_err(|e| format!("{e} (line {line_no})"))?;
        node.line = line_no;
        node.comments = std::mem::take(&mut comments);
        // Heredocs (`RUN <<EOF`): their bodies are not instructions.
        let target = node.sub.as_deref().unwrap_or(&node);
        if matches!(target.cmd.as_str(), "run" | "copy" | "add") && !target.json {
            for word in heredoc_words(&line) {
                while i < lines.len() {
                    let body = lines[i];
                    i += 1;
                    if body == word.0 || (word.1 && body.trim_start_matches('\t') == word.0) {
                        break;
                    }
                }
            }
        }
        nodes.push(node);
    }
    if nodes.is_empty() {
        return Err("file with no instructions".into());
    }
    Ok(nodes)
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"` markers on an instruction line: (word, strip-tabs).
fn heredoc_words(line: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(pos) = rest.find("<<") {
        let mut after = &rest[pos + 2..];
        let dash = after.starts_with('-');
        if dash {
            after = &after[1..];
        }
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
        if let Some(q) = quote {
            after = &after[1..];
            let end = after.find(q).unwrap_or(after.len());
            let word = &after[..end];
            if !word.is_empty() {
                out.push((word.to_string(), dash));
            }
            rest = &after[end..];
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let word = &after[..end];
            if !word.is_empty() {
                out.push((word.to_string(), dash));
            }
            rest = &after[end..];
        }
    }
    out
}

/// buildkit's `newNodeFromLine`: command, flags and the dispatch of its arguments.
fn node_from_line(line: &str, d: &Directives) -> std::result::Result<Node, String> {
    let trimmed = line.trim();
    let (cmd, rest) = match trimmed.find(['\t', '\u{b}', '\u{c}', '\r', ' ']) {
        Some(p) => (
            &trimmed[..p],
            Some(trimmed[p..].trim_start_matches(['\t', '\u{b}', '\u{c}', '\r', ' '])),
        ),
        None => (trimmed, None),
    };
    let cmd = cmd.to_lowercase();
    let (args, flags) = match rest {
        Some(r) => {
            let (a, f) = extract_flags(r);
            (a.trim().to_string(), Some(f))
        }
        None => (String::new(), None),
    };
    let mut node = Node {
        cmd: cmd.clone(),
        flags,
        values: None,
        json: false,
        sub: None,
        comments: Vec::new(),
        line: 0,
    };
    let args = args.as_str();
    match cmd.as_str() {
        "add" | "copy" | "volume" => match parse_json(args)? {
            Some(v) => {
                node.values = v;
                node.json = true;
            }
            None => node.values = whitespace_split(args),
        },
        "cmd" | "entrypoint" | "run" | "shell" => {
            (node.values, node.json) = maybe_json(args)?;
        }
        "arg" => {
            let w = parse_words(args, d.escape);
            node.values = (!w.is_empty()).then_some(w);
        }
        "env" => node.values = name_val(args, "ENV", d.escape)?,
        "label" => node.values = name_val(args, "LABEL", d.escape)?,
        "expose" | "from" => node.values = whitespace_split(args),
        "maintainer" | "stopsignal" | "user" | "workdir" => {
            node.values = (!args.is_empty()).then(|| vec![args.to_string()]);
        }
        "onbuild" => {
            if !args.is_empty() {
                let sub = node_from_line(args, d)?;
                node.sub = Some(Box::new(sub));
            }
        }
        "healthcheck" => {
            let sep = args.find(char::is_whitespace).unwrap_or(args.len());
            if sep > 0 {
                let typ = &args[..sep];
                let rest = args[sep..].trim_start();
                let (cmd_values, json) = maybe_json(rest)?;
                let mut v = vec![typ.to_string()];
                v.extend(cmd_values.unwrap_or_default());
                node.values = Some(v);
                node.json = json;
            }
        }
        _ => node.values = Some(vec![String::new()]),
    }
    Ok(node)
}

fn whitespace_split(args: &str) -> Option<Vec<String>> {
    if args.is_empty() {
        return None;
    }
    Some(args.split(['\t', '\u{b}', '\u{c}', '\r', ' ']).fold(
        Vec::new(),
        |mut acc: Vec<String>, w| {
            // Go's regexp split on `[\t\v\f\r ]+` never yields empty pieces inside.
            if !w.is_empty() || acc.is_empty() {
                acc.push(w.to_string());
            }
            acc
        },
    ))
}

/// `parseJSON`: `Ok(None)` when the text is not a JSON array at all.
fn parse_json(args: &str) -> std::result::Result<Option<Option<Vec<String>>>, String> {
    let t = args.trim_start();
    if !t.starts_with('[') {
        return Ok(None);
    }
    let Ok(items) = serde_json::from_str::<Vec<Value>>(t) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for it in items {
        match it {
            Value::String(s) => out.push(s),
            _ => {
                return Err(
                    "when using JSON array syntax, arrays must be comprised of strings only".into(),
                )
            }
        }
    }
    Ok(Some((!out.is_empty()).then_some(out)))
}

/// `parseMaybeJSON`: (values, is-JSON).
fn maybe_json(args: &str) -> std::result::Result<(Option<Vec<String>>, bool), String> {
    if args.is_empty() {
        return Ok((None, false));
    }
    match parse_json(args)? {
        Some(v) => Ok((v, true)),
        None => Ok((Some(vec![args.to_string()]), false)),
    }
}

/// `parseNameVal`: key, value, separator triples (`""` for the legacy `KEY value` form).
fn name_val(
    args: &str,
    key: &str,
    escape: char,
) -> std::result::Result<Option<Vec<String>>, String> {
    let words = parse_words(args, escape);
    if words.is_empty() {
        return Ok(None);
    }
    if !words[0].contains('=') {
        let Some(p) = args.find(['\t', '\u{b}', '\u{c}', '\r', ' ']) else {
            return Err(format!("{key} must have two arguments"));
        };
        let v = args[p..].trim_start_matches(['\t', '\u{b}', '\u{c}', '\r', ' ']);
        return Ok(Some(vec![
            args[..p].to_string(),
            v.to_string(),
            String::new(),
        ]));
    }
    let mut out = Vec::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                crate::base::gostr::quote(&w)
            ));
        };
        out.extend([k.to_string(), v.to_string(), "=".to_string()]);
    }
    Ok(Some(out))
}

/// buildkit's `parseWords`: quotes and escapes are kept in the words.
fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut blank_ok = false;
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if let Some(q) = quote {
            if ch == q {
                quote = None;
            } else if ch == escape && q != '\'' {
                if i + 1 == chars.len() {
                    quote = None;
                    i += 1;
                    continue;
                }
                word.push(ch);
                i += 1;
            }
            word.push(chars[i]);
            i += 1;
            continue;
        }
        if !in_word {
            if ch.is_whitespace() {
                i += 1;
                continue;
            }
            in_word = true;
        }
        if ch.is_whitespace() {
            if blank_ok || !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            in_word = false;
            blank_ok = false;
            i += 1;
            continue;
        }
        if ch == '\'' || ch == '"' {
            quote = Some(ch);
            blank_ok = true;
        }
        if ch == escape {
            if i + 1 == chars.len() {
                i += 1;
                continue;
            }
            word.push(ch);
            i += 1;
        }
        word.push(chars[i]);
        i += 1;
    }
    if in_word && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

/// buildkit's `extractBuilderFlags`: leading `--flag` words and the rest of the line.
fn extract_flags(line: &str) -> (String, Vec<String>) {
    let b: Vec<char> = line.chars().collect();
    let byte_at = |idx: usize| -> usize { b[..idx].iter().map(|c| c.len_utf8()).sum() };
    let mut words = Vec::new();
    let mut word = String::new();
    let mut phase = 0; // 0 spaces, 1 word, 2 quote
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut pos = 0;
    while pos <= b.len() {
        let ch = b.get(pos).copied().unwrap_or('\0');
        if phase == 0 {
            if pos == b.len() {
                break;
            }
            if ch.is_whitespace() {
                pos += 1;
                continue;
            }
            if ch != '-' || pos + 1 == b.len() || b[pos + 1] != '-' {
                return (line[byte_at(pos)..].to_string(), words);
            }
            phase = 1;
        }
        if pos == b.len() {
            if word != "--" && (blank_ok || !word.is_empty()) {
                words.push(word);
            }
            return (String::new(), words);
        }
        if phase == 1 {
            if ch.is_whitespace() {
                phase = 0;
                if word == "--" {
                    return (line[byte_at(pos)..].to_string(), words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = 2;
                pos += 1;
                continue;
            }
            let mut c = ch;
            if ch == '\\' {
                if pos + 1 == b.len() {
                    pos += 1;
                    continue;
                }
                pos += 1;
                c = b[pos];
            }
            word.push(c);
            pos += 1;
            continue;
        }
        // in quote
        if ch == quote {
            phase = 1;
            pos += 1;
            continue;
        }
        let mut c = ch;
        if ch == '\\' {
            if pos + 1 == b.len() {
                phase = 1;
                pos += 1;
                continue;
            }
            pos += 1;
            c = b[pos];
        }
        word.push(c);
        pos += 1;
    }
    (String::new(), words)
}

/// Used by tests and error paths that need a flat instruction list.
#[allow(dead_code)]
fn instructions(bytes: &[u8]) -> Result<Vec<Value>> {
    match parse(bytes)? {
        Value::Array(mut outer) if outer.len() == 1 => match outer.pop() {
            Some(Value::Array(v)) => Ok(v),
            _ => bail!("unexpected shape"),
        },
        _ => bail!("unexpected shape"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_without_equals_quotes_the_word_like_go() {
        let err = instructions(b"FROM a\nENV A=1 b\x01c\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "Syntax error - can't find = in \"b\\x01c\". Must be of the form: name=value"
            ),
            "{err}"
        );
    }

    #[test]
    fn instructions_like_buildkit() {
        let v = instructions(
            b"# syntax=docker/dockerfile:1\n# base image\nFROM golang:1.22 AS build\nRUN --mount=type=cache,target=/root/.cache \\\n    go build ./...\nENV A=1 B=\"two words\"\nENV LEGACY some value\nCOPY --from=build /out /bin/\nCMD [\"/bin/app\", \"-v\"]\nONBUILD RUN echo hi\n",
        )
        .unwrap();
        assert_eq!(v[0]["Cmd"], "comment");
        assert_eq!(v[0]["Value"], json!(["base image"]));
        assert_eq!(v[1]["Value"], json!(["golang:1.22", "AS", "build"]));
        assert_eq!(
            v[2]["Flags"],
            json!(["--mount=type=cache,target=/root/.cache"])
        );
        assert_eq!(v[2]["Value"], json!(["go build ./..."]));
        assert_eq!(
            v[3]["Value"],
            json!(["A", "1", "=", "B", "\"two words\"", "="])
        );
        assert_eq!(v[4]["Value"], json!(["LEGACY", "some value", ""]));
        assert_eq!(v[6]["JSON"], true);
        assert_eq!(v[7]["SubCmd"], "run");
        assert_eq!(v[7]["Value"], json!(["echo hi"]));
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(parse(b"# only a comment\n").is_err());
    }
}
