//! nginx configuration shaped as conftest's gonginx-based parser emits it:
//! `{"directives":[{"name","parameters"?,"block"?:{"directives":[…]}}]}` — `parameters` is
//! omitted when empty, `block` for simple directives; comments are dropped; quoted
//! parameters keep their quotes (gonginx's token text).

use anyhow::{anyhow, Result};
use serde_json::{json, Map, Value};

#[derive(Debug, PartialEq)]
enum Tok {
    Word(String),
    Semi,
    Open,
    Close,
}

/// Parses an nginx configuration.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = String::from_utf8_lossy(bytes);
    let toks = lex(&text).map_err(|e| anyhow!("parse nginx: {e}"))?;
    let mut i = 0;
    let directives = block(&toks, &mut i, 0).map_err(|e| anyhow!("parse nginx: {e}"))?;
    if i < toks.len() {
        let line = toks[i].1;
        return Err(anyhow!("parse nginx: unexpected '}}' at line {line}"));
    }
    Ok(json!({ "directives": directives }))
}

fn lex(text: &str) -> std::result::Result<Vec<(Tok, usize)>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ';' => {
                out.push((Tok::Semi, line));
                i += 1;
            }
            '{' => {
                out.push((Tok::Open, line));
                i += 1;
            }
            '}' => {
                out.push((Tok::Close, line));
                i += 1;
            }
            '"' | '\'' => {
                let start_line = line;
                let mut s = String::from(c);
                i += 1;
                let mut closed = false;
                while i < chars.len() {
                    let d = chars[i];
                    s.push(d);
                    i += 1;
                    if d == '\n' {
                        line += 1;
                    }
                    if d == '\\' && i < chars.len() {
                        s.push(chars[i]);
                        i += 1;
                        continue;
                    }
                    if d == c {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(format!("unterminated quoted string at line {start_line}"));
                }
                out.push((Tok::Word(s), start_line));
            }
            _ => {
                let mut s = String::new();
                while i < chars.len() {
                    let d = chars[i];
                    if d.is_whitespace() || d == ';' || d == '{' || d == '}' {
                        break;
                    }
                    // `${var}` inside a word is not a block.
                    if d == '$' && chars.get(i + 1) == Some(&'{') {
                        while i < chars.len() && chars[i] != '}' {
                            s.push(chars[i]);
                            i += 1;
                        }
                    }
                    if i < chars.len() {
                        s.push(chars[i]);
                        i += 1;
                    }
                }
                out.push((Tok::Word(s), line));
            }
        }
    }
    Ok(out)
}

fn block(
    toks: &[(Tok, usize)],
    i: &mut usize,
    depth: usize,
) -> std::result::Result<Vec<Value>, String> {
    if depth > 200 {
        return Err("nesting too deep".into());
    }
    let mut out = Vec::new();
    while *i < toks.len() {
        let (name, line) = match &toks[*i] {
            (Tok::Close, _) => return Ok(out),
            (Tok::Word(w), l) => (w.clone(), *l),
            (Tok::Semi, l) => return Err(format!("unexpected ';' at line {l}")),
            (Tok::Open, l) => return Err(format!("unexpected '{{' at line {l}")),
        };
        *i += 1;
        let mut params = Vec::new();
        let mut d = Map::new();
        d.insert("name".into(), Value::String(name.clone()));
        loop {
            match toks.get(*i) {
                Some((Tok::Word(w), _)) => {
                    params.push(Value::String(w.clone()));
                    *i += 1;
                }
                Some((Tok::Semi, _)) => {
                    *i += 1;
                    break;
                }
                Some((Tok::Open, _)) => {
                    *i += 1;
                    let inner = block(toks, i, depth + 1)?;
                    match toks.get(*i) {
                        Some((Tok::Close, _)) => *i += 1,
                        _ => {
                            return Err(format!("unclosed block \"{name}\" opened at line {line}"))
                        }
                    }
                    d.insert("block".into(), json!({ "directives": inner }));
                    break;
                }
                Some((Tok::Close, l)) => {
                    return Err(format!(
                        "unexpected '}}' at line {l}, expecting ';' after \"{name}\""
                    ))
                }
                None => {
                    return Err(format!(
                    "unexpected end of file, expecting ';' or '{{' after \"{name}\" (line {line})"
                ))
                }
            }
        }
        if !params.is_empty() {
            d.insert("parameters".into(), Value::Array(params));
        }
        out.push(Value::Object(d));
    }
    if depth > 0 {
        return Err("unexpected end of file, expecting '}'".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives() {
        let v = parse(b"worker_processes 1; # c\nhttp {\n  server { listen 80; location / { return 200 'ok'; } }\n}\n").unwrap();
        assert_eq!(
            v,
            json!({"directives": [
                {"name": "worker_processes", "parameters": ["1"]},
                {"name": "http", "block": {"directives": [
                    {"name": "server", "block": {"directives": [
                        {"name": "listen", "parameters": ["80"]},
                        {"name": "location", "parameters": ["/"], "block": {"directives": [
                            {"name": "return", "parameters": ["200", "'ok'"]}]}}]}}]}}]})
        );
        assert!(parse(b"http {\n").is_err());
        assert!(parse(b"a 1\n").is_err());
    }
}
