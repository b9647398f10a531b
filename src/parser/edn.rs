//! EDN as olympos.io/encoding/edn decodes it into `any`, then conftest's clean-up pass:
//! maps/vectors/lists become objects/arrays, strings stay strings, and every other scalar
//! (and every map key) is rendered with Go's `%v` — `:env`, `5432`, `1.5`, `1e+06`, `true`,
//! `<nil>`; characters are runes and print as their code point (`\a` → `97`). Sets decode to
//! a Go `map[any]bool`, which the clean-up pass does not recognise, so a set becomes the
//! string `map[k1:true k2:true]`.

use anyhow::{anyhow, Result};
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Char(char),
    Keyword(String),
    Symbol(String),
    List(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
    Set(Vec<Edn>),
    Inst(String),
}

/// Parses an EDN value.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = super::utf8(bytes).map_err(|e| anyhow!("unmarshal EDN: edn: {e}"))?;
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.value().map_err(|e| {
        let (line, col) = super::line_col(text, p.i);
        anyhow!("unmarshal EDN: edn: {e} (line {line}, column {col})")
    })?;
    let v = v.ok_or_else(|| anyhow!("unmarshal EDN: EOF"))?;
    Ok(cleanup(&v))
}

fn cleanup(v: &Edn) -> Value {
    match v {
        Edn::List(items) => Value::Array(items.iter().map(cleanup).collect()),
        Edn::Map(pairs) => {
            let mut m = Map::new();
            for (k, v) in pairs {
                m.insert(go_v(k), cleanup(v));
            }
            Value::Object(m)
        }
        Edn::Str(s) => Value::String(s.clone()),
        other => Value::String(go_v(other)),
    }
}

/// Go's `fmt.Sprintf("%v", x)` of the decoded value.
fn go_v(v: &Edn) -> String {
    match v {
        Edn::Nil => "<nil>".into(),
        Edn::Bool(b) => b.to_string(),
        Edn::Int(i) => i.to_string(),
        Edn::Float(f) => super::go_fmt_g(*f),
        Edn::Str(s) => s.clone(),
        Edn::Char(c) => (*c as u32).to_string(),
        Edn::Keyword(k) => format!(":{k}"),
        Edn::Symbol(s) => s.clone(),
        Edn::Inst(s) => s.clone(),
        Edn::List(items) => format!("[{}]", items.iter().map(go_v).collect::<Vec<_>>().join(" ")),
        Edn::Map(pairs) => {
            let mut parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}:{}", go_v(k), go_v(v)))
                .collect();
            parts.sort();
            format!("map[{}]", parts.join(" "))
        }
        Edn::Set(items) => {
            let mut parts: Vec<String> =
                items.iter().map(|k| format!("{}:true", go_v(k))).collect();
            parts.sort();
            format!("map[{}]", parts.join(" "))
        }
    }
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

fn is_delim(b: u8) -> bool {
    b.is_ascii_whitespace()
        || b == b','
        || matches!(b, b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';')
}

impl P<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() {
            let b = self.s[self.i];
            if b.is_ascii_whitespace() || b == b',' {
                self.i += 1;
            } else if b == b';' {
                while self.i < self.s.len() && self.s[self.i] != b'\n' {
                    self.i += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Reads the next value; `Ok(None)` at end of input.
    fn value(&mut self) -> std::result::Result<Option<Edn>, String> {
        loop {
            self.skip_ws();
            if self.i >= self.s.len() {
                return Ok(None);
            }
            if self.s[self.i..].starts_with(b"#_") {
                self.i += 2;
                if self.nested(|p| p.value())?.is_none() {
                    return Err("unexpected EOF after #_".into());
                }
                continue;
            }
            break;
        }
        let b = self.s[self.i];
        Ok(Some(match b {
            b'(' | b'[' => {
                self.i += 1;
                Edn::List(self.nested(|p| p.seq(if b == b'(' { b')' } else { b']' }))?)
            }
            b'{' => {
                self.i += 1;
                let items = self.nested(|p| p.seq(b'}'))?;
                if items.len() % 2 != 0 {
                    return Err("map literal must contain an even number of forms".into());
                }
                let mut it = items.into_iter();
                let mut pairs = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                Edn::Map(pairs)
            }
            b'#' if self.s.get(self.i + 1) == Some(&b'{') => {
                self.i += 2;
                Edn::Set(self.nested(|p| p.seq(b'}'))?)
            }
            b'#' => {
                self.i += 1;
                let tag = self.token();
                if tag.is_empty() {
                    return Err("invalid tag".into());
                }
                let inner = self
                    .nested(|p| p.value())?
                    .ok_or("unexpected EOF after tag")?;
                match (tag.as_str(), inner) {
                    ("inst", Edn::Str(s)) => Edn::Inst(go_time(&s).ok_or("invalid #inst")?),
                    ("uuid", Edn::Str(s)) => Edn::Str(s),
                    (t, _) => return Err(format!("no tag function for #{t}")),
                }
            }
            b')' | b']' | b'}' => return Err(format!("unexpected '{}'", b as char)),
            b'"' => Edn::Str(self.string()?),
            b'\\' => {
                self.i += 1;
                let t = self.token_from_char();
                Edn::Char(match t.as_str() {
                    "newline" => '\n',
                    "space" => ' ',
                    "tab" => '\t',
                    "return" => '\r',
                    "formfeed" => '\u{c}',
                    "backspace" => '\u{8}',
                    s if s.chars().count() == 1 => s.chars().next().unwrap_or(' '),
                    s if s.starts_with('u') && s.len() == 5 => u32::from_str_radix(&s[1..], 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or("invalid character literal")?,
                    _ => return Err(format!("invalid character literal \\{t}")),
                })
            }
            b':' => {
                self.i += 1;
                let t = self.token();
                if t.is_empty() {
                    return Err("invalid keyword".into());
                }
                Edn::Keyword(t)
            }
            _ => {
                let t = self.token();
                if t.is_empty() {
                    return Err(format!("unexpected character '{}'", b as char));
                }
                atom(&t)?
            }
        }))
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> std::result::Result<T, String>,
    ) -> std::result::Result<T, String> {
        self.depth += 1;
        if self.depth > 1000 {
            return Err("nesting too deep".into());
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn seq(&mut self, close: u8) -> std::result::Result<Vec<Edn>, String> {
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            match self.s.get(self.i) {
                None => return Err("unexpected EOF".into()),
                Some(&c) if c == close => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(_) => match self.value()? {
                    Some(v) => out.push(v),
                    None => return Err("unexpected EOF".into()),
                },
            }
        }
    }

    fn token(&mut self) -> String {
        let st = self.i;
        while self.i < self.s.len() && !is_delim(self.s[self.i]) {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[st..self.i]).into_owned()
    }

    /// A character literal: at least one character, then up to the next delimiter.
    fn token_from_char(&mut self) -> String {
        let st = self.i;
        if let Some(c) = std::str::from_utf8(&self.s[st..])
            .ok()
            .and_then(|s| s.chars().next())
        {
            self.i += c.len_utf8();
        } else if self.i < self.s.len() {
            self.i += 1;
        }
        while self.i < self.s.len() && !is_delim(self.s[self.i]) {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[st..self.i]).into_owned()
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        self.i += 1;
        let mut out = Vec::new();
        while self.i < self.s.len() {
            let b = self.s[self.i];
            self.i += 1;
            match b {
                b'"' => return Ok(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("unexpected EOF in string")?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'u' => {
                            let hex = self.s.get(self.i..self.i + 4).ok_or("bad \\u escape")?;
                            let n = u32::from_str_radix(&String::from_utf8_lossy(hex), 16)
                                .map_err(|_| "bad \\u escape")?;
                            self.i += 4;
                            let c = char::from_u32(n).unwrap_or('\u{fffd}');
                            out.extend_from_slice(c.to_string().as_bytes());
                        }
                        other => return Err(format!("invalid escape \\{}", other as char)),
                    }
                }
                _ => out.push(b),
            }
        }
        Err("unexpected EOF in string".into())
    }
}

fn atom(t: &str) -> std::result::Result<Edn, String> {
    match t {
        "nil" => return Ok(Edn::Nil),
        "true" => return Ok(Edn::Bool(true)),
        "false" => return Ok(Edn::Bool(false)),
        _ => {}
    }
    let first = t.as_bytes()[0];
    let numeric = first.is_ascii_digit()
        || ((first == b'-' || first == b'+') && t.len() > 1 && t.as_bytes()[1].is_ascii_digit());
    if !numeric {
        return Ok(Edn::Symbol(t.to_string()));
    }
    let body = t.strip_suffix('N').unwrap_or(t);
    if let Ok(i) = body.parse::<i64>() {
        return Ok(Edn::Int(i));
    }
    let body = t.strip_suffix('M').unwrap_or(t);
    if let Some(f) = super::go_parse_float(body) {
        return Ok(Edn::Float(f));
    }
    Err(format!("invalid number {t}"))
}

/// An RFC 3339 `#inst` printed as Go's `time.Time.String()` (`2006-01-02 15:04:05 +0000 UTC`
/// for UTC instants, the numeric offset twice otherwise).
fn go_time(s: &str) -> Option<String> {
    if s.len() < 10 {
        return None;
    }
    let date = &s[..10];
    let rest = &s[10..];
    let (time, zone) = if rest.is_empty() {
        ("00:00:00".to_string(), "+0000 UTC".to_string())
    } else {
        let rest = rest.strip_prefix('T')?;
        let zpos = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
        let time = rest[..zpos].to_string();
        let z = &rest[zpos..];
        let zone = if z.is_empty() || z == "Z" {
            "+0000 UTC".to_string()
        } else {
            let off = z.replace(':', "");
            format!("{off} {off}")
        };
        (time, zone)
    };
    Some(format!("{date} {time} {zone}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn olympos_shapes() {
        let v = parse(
            b"{:env \"prod\" :port 5432 :ratio 1.5 :debug false :tags [:a \"b\"] :none nil 1 2}",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({":env": "prod", ":port": "5432", ":ratio": "1.5", ":debug": "false",
                   ":tags": [":a", "b"], ":none": "<nil>", "1": "2"})
        );
        assert!(parse(b"{:a").is_err());
    }
}
