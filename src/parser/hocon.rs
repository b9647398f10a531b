//! HOCON as conftest reads it: go-akka/configuration (a002c03) parses the text into its own
//! tree of values, then conftest walks every object below the top-level keys and turns each
//! leaf into the string go-akka renders for it (`HoconValue.String()`), converted number →
//! bool → string like ini.
//!
//! go-akka is not a conforming HOCON parser, so this module models its data structures
//! (values with an `oldValue` chain, shared objects, lazily resolved substitutions) and its
//! byte-level tokenizer rather than HOCON itself: that is what decides the document. Where
//! go-akka or conftest panics (and conftest crashes), this returns an error instead; where
//! go-akka never terminates, this errors too.

use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

const NOT_IN_UNQUOTED_KEY: &[u8] = b"$\"{}[]:=+,#`^?!@*&\\.";
const NOT_IN_UNQUOTED_TEXT: &[u8] = b"$\"{}[]:=+,#`^?!@*&\\";
/// Deepest recursion (parser and evaluator calls) before giving up; Go would go on to a
/// 1 GB stack or forever (substitution cycles the library does not detect).
const MAX_CALL_DEPTH: usize = 5_000;
/// Evaluation steps before giving up: chains of substitutions cost go-akka exponential time.
const MAX_STEPS: u64 = 20_000_000;

/// Parses a HOCON file into conftest's document.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = bytes.to_vec();
    // Both go-akka's parser and its evaluator recurse deeply; give them room.
    let worker = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || parse_on_this_thread(&text))
        .map_err(|e| anyhow!("hocon: start parser: {e}"))?;
    worker
        .join()
        .map_err(|_| anyhow!("hocon: internal parser error"))?
}

fn parse_on_this_thread(text: &[u8]) -> Result<Value> {
    let mut p = Parser {
        tok: Tok { t: text, i: 0 },
        m: Model::default(),
    };
    let root = p.m.new_val();
    p.tok.pull_ws_and_comments();
    p.parse_object(root, true, b"", 0)
        .map_err(|e| anyhow!("{e}"))?;
    p.m.resolve(root)?;
    let tree = conftest_walk(&p.m, root)?;
    to_json(tree)
}

// ---------------------------------------------------------------------------------------
// go-akka's tokenizer, byte for byte (including its quirks: `MatchesMore` never matches at
// the last byte, `isWhitespace` tests single bytes, so 0xA0 inside UTF-8 is whitespace).

struct Tok<'a> {
    t: &'a [u8],
    i: usize,
}

enum Token {
    Dot,
    ObjectStart,
    ObjectEnd,
    Assign,
    PlusAssign,
    Include(Vec<u8>),
    Key(Vec<u8>),
    ArrayStart,
    ArrayEnd,
    Eof,
    Literal(Vec<u8>),
    Substitute(Vec<u8>, bool),
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | 0x0D | 0xA0)
}

impl Tok<'_> {
    fn eof(&self) -> bool {
        self.i >= self.t.len()
    }
    fn matches(&self, p: &[u8]) -> bool {
        self.t.get(self.i..self.i + p.len()) == Some(p)
    }
    fn matches_more(&self, ps: &[&[u8]]) -> bool {
        ps.iter()
            .any(|p| self.i + p.len() < self.t.len() && self.matches(p))
    }
    fn take(&mut self, n: usize) -> &[u8] {
        if self.i + n > self.t.len() {
            return b"";
        }
        self.i += n;
        &self.t[self.i - n..self.i]
    }
    fn peek(&self) -> u8 {
        self.t.get(self.i).copied().unwrap_or(0)
    }
    fn take_one(&mut self) -> u8 {
        let c = self.peek();
        if !self.eof() {
            self.i += 1;
        }
        c
    }
    fn is_whitespace(&self) -> bool {
        is_ws(self.peek())
    }
    fn is_comment(&self) -> bool {
        self.matches_more(&[b"#", b"//"])
    }
    fn pull_ws_and_comments(&mut self) {
        loop {
            while !self.eof() && self.is_whitespace() {
                self.i += 1;
            }
            while self.is_comment() {
                while !self.eof() && self.take_one() != b'\n' {}
            }
            if !self.is_whitespace() {
                break;
            }
        }
    }
    fn is_unquoted_text(&self) -> bool {
        !self.eof()
            && !self.is_whitespace()
            && !self.is_comment()
            && !NOT_IN_UNQUOTED_TEXT.contains(&self.peek())
    }
    fn is_unquoted_key(&self) -> bool {
        !self.eof() && !self.is_comment() && !NOT_IN_UNQUOTED_KEY.contains(&self.peek())
    }
    fn is_space_or_tab(&self) -> bool {
        self.matches_more(&[b" ", b"\t"])
    }
    fn is_substitution_start(&self) -> bool {
        self.matches_more(&[b"${", b"${?"])
    }
    fn is_value(&self) -> bool {
        self.matches(b"[")
            || self.matches(b"{")
            || self.matches(b"\"\"\"")
            || self.is_substitution_start()
            || self.matches(b"\"")
            || self.is_unquoted_text()
    }

    fn pull_next(&mut self) -> Result<Token, String> {
        self.pull_ws_and_comments();
        let simple = |tok: &mut Self, n: usize, t: Token| {
            tok.take(n);
            Ok(t)
        };
        if self.matches(b".") {
            simple(self, 1, Token::Dot)
        } else if self.matches(b"{") {
            simple(self, 1, Token::ObjectStart)
        } else if self.matches(b"}") {
            simple(self, 1, Token::ObjectEnd)
        } else if self.matches_more(&[b"=", b":"]) {
            simple(self, 1, Token::Assign)
        } else if self.matches(b"+=") {
            simple(self, 2, Token::PlusAssign)
        } else if self.is_include() {
            self.take(7);
            self.pull_ws_and_comments();
            Ok(Token::Include(self.pull_quoted()?))
        } else if self.matches(b"\"") {
            Ok(Token::Key(self.pull_quoted()?))
        } else if !self.eof() && !self.is_whitespace() && self.is_unquoted_key() {
            let mut buf = Vec::new();
            while self.is_unquoted_key() {
                buf.push(self.take_one());
            }
            Ok(Token::Key(trim_space(&buf).to_vec()))
        } else if self.matches(b"[") {
            simple(self, 1, Token::ArrayStart)
        } else if self.matches(b"]") {
            simple(self, 1, Token::ArrayEnd)
        } else if self.eof() {
            Ok(Token::Eof)
        } else {
            Err(format!("unknown token, offset: {}", self.i))
        }
    }

    /// `include` + whitespace or comment + a well-formed quoted string; never moves.
    fn is_include(&mut self) -> bool {
        if !self.matches(b"include") {
            return false;
        }
        let start = self.i;
        self.take(7);
        let mut yes = false;
        if self.is_whitespace() || self.is_comment() {
            self.pull_ws_and_comments();
            yes = self.matches(b"\"") && self.pull_quoted().is_ok();
        }
        self.i = start;
        yes
    }

    fn pull_quoted(&mut self) -> Result<Vec<u8>, String> {
        let mut buf = Vec::new();
        self.take_one();
        while !self.eof() && !self.matches(b"\"") {
            if self.matches(b"\\") {
                self.pull_escape(&mut buf)?;
            } else {
                buf.push(self.take_one());
            }
        }
        self.take_one();
        Ok(buf)
    }

    fn pull_escape(&mut self, buf: &mut Vec<u8>) -> Result<(), String> {
        self.take_one();
        let c = self.take_one();
        match c {
            b'"' | b'\\' | b'/' => buf.push(c),
            b'b' => buf.push(0x08),
            b'f' => buf.push(0x0C),
            b'n' => buf.push(b'\n'),
            b'r' => buf.push(b'\r'),
            b't' => buf.push(b'\t'),
            b'u' => {
                // go-akka does not decode `\uXXXX`: it keeps the text `\u` plus the next
                // four bytes lower-cased, cut at the first space (an `Sscanf("%s")`).
                let at = self.i;
                let hex = self.take(4).to_vec();
                if !hex.is_ascii() {
                    return Err(format!(
                        "non-ASCII bytes after \\u at offset {at} are not supported"
                    ));
                }
                buf.extend_from_slice(b"\\u");
                buf.extend(
                    hex.iter()
                        .take_while(|b| !b.is_ascii_whitespace() && **b != 0x0B)
                        .map(u8::to_ascii_lowercase),
                );
            }
            _ => return Err(format!("Unknown escape code: {c}")),
        }
        Ok(())
    }

    fn pull_value(&mut self) -> Result<Token, String> {
        if self.matches(b"{") {
            self.take(1);
            return Ok(Token::ObjectStart);
        }
        if self.matches(b"\"\"\"") {
            self.take(3);
            let mut buf = Vec::new();
            while !self.eof() && !self.matches(b"\"\"\"") {
                buf.push(self.take_one());
            }
            self.take(3);
            return Ok(Token::Literal(buf));
        }
        if self.matches(b"\"") {
            return Ok(Token::Literal(self.pull_quoted()?));
        }
        if self.is_unquoted_text() {
            let mut buf = Vec::new();
            while self.is_unquoted_text() {
                buf.push(self.take_one());
            }
            return Ok(Token::Literal(buf));
        }
        if self.matches(b"[") {
            self.take(1);
            return Ok(Token::ArrayStart);
        }
        if self.is_substitution_start() {
            self.take(2);
            let optional = self.peek() == b'?';
            if optional {
                self.take_one();
            }
            let mut buf = Vec::new();
            while self.is_unquoted_text() {
                buf.push(self.take_one());
            }
            self.take_one();
            return Ok(Token::Substitute(buf, optional));
        }
        Err("Expected value".into())
    }
}

/// Go `strings.TrimSpace` on raw bytes (invalid UTF-8 is never space).
pub(super) fn trim_space(mut b: &[u8]) -> &[u8] {
    while let Some((c, w)) = first_char(b) {
        if !c.is_whitespace() {
            break;
        }
        b = &b[w..];
    }
    while let Some((c, w)) = last_char(b) {
        if !c.is_whitespace() {
            break;
        }
        b = &b[..b.len() - w];
    }
    b
}

fn first_char(b: &[u8]) -> Option<(char, usize)> {
    (1..=b.len().min(4)).find_map(|w| {
        std::str::from_utf8(&b[..w])
            .ok()
            .and_then(|s| s.chars().next().map(|c| (c, w)))
    })
}

fn last_char(b: &[u8]) -> Option<(char, usize)> {
    (1..=b.len().min(4)).find_map(|w| {
        std::str::from_utf8(&b[b.len() - w..])
            .ok()
            .and_then(|s| s.chars().next().map(|c| (c, w)))
    })
}

/// Go's `encoding/json` view of a byte string: each invalid byte becomes U+FFFD.
pub(super) fn go_string(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let w = match b[i] {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 0,
        };
        match b.get(i..i + w).and_then(|s| std::str::from_utf8(s).ok()) {
            Some(s) if w > 0 => {
                out.push_str(s);
                i += w;
            }
            _ => {
                out.push('\u{FFFD}');
                i += 1;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// go-akka's value model. Values, objects and substitutions live in arenas; indices stand
// for Go's shared pointers (objects are shared and mutated by merges, substitutions point
// at nodes of the tree).

#[derive(Clone)]
enum Elem {
    Lit(Vec<u8>),
    Obj(usize),
    Arr(Vec<usize>),
    Sub(usize),
}

#[derive(Default)]
struct Val {
    values: Vec<Elem>,
    old: Option<usize>,
}

#[derive(Default)]
struct Obj {
    items: HashMap<Vec<u8>, usize>,
    keys: Vec<Vec<u8>>,
}

struct Sub {
    path: Vec<u8>,
    optional: bool,
    resolved: Option<usize>,
}

/// What `topValueOfSub` hands back: an element of a value, or a whole (older) value.
#[derive(Clone)]
enum Node {
    E(Elem),
    V(usize),
}

#[derive(Default)]
struct Model {
    vals: Vec<Val>,
    objs: Vec<Obj>,
    subs: Vec<Sub>,
    steps: Cell<u64>,
}

type R<T> = std::result::Result<T, String>;

impl Model {
    fn new_val(&mut self) -> usize {
        self.vals.push(Val::default());
        self.vals.len() - 1
    }
    fn new_obj(&mut self) -> usize {
        self.objs.push(Obj::default());
        self.objs.len() - 1
    }
    fn new_sub(&mut self, path: Vec<u8>, optional: bool) -> usize {
        self.subs.push(Sub {
            path,
            optional,
            resolved: None,
        });
        self.subs.len() - 1
    }

    fn step(&self, d: usize) -> R<()> {
        let n = self.steps.get() + 1;
        self.steps.set(n);
        if n > MAX_STEPS {
            return Err("evaluating substitutions takes too long (go-akka's cost grows exponentially with chained substitutions)".into());
        }
        if d > MAX_CALL_DEPTH {
            return Err("values nest too deeply or substitutions form a cycle go-akka does not detect (conftest overflows its stack)".into());
        }
        Ok(())
    }

    /// `GetOrCreateKey`: a repeated key gets a fresh value whose `oldValue` is the previous.
    fn get_or_create_key(&mut self, obj: usize, key: &[u8]) -> usize {
        let child = self.new_val();
        match self.objs[obj].items.get(key).copied() {
            Some(prev) => self.vals[child].old = Some(prev),
            None => self.objs[obj].keys.push(key.to_vec()),
        }
        self.objs[obj].items.insert(key.to_vec(), child);
        child
    }

    fn top_of_sub(&self, owner: usize, e: &Elem) -> Node {
        if let Elem::Sub(s) = e {
            match self.subs[*s].resolved {
                Some(r) => {
                    if let Some(o) = self.vals[r].old {
                        return Node::V(o);
                    }
                }
                None => {
                    if let Some(o) = self.vals[owner].old {
                        return Node::V(o);
                    }
                }
            }
        }
        Node::E(e.clone())
    }

    fn check_cycle(&self, s: usize, d: usize) -> R<()> {
        let mut seen: HashMap<usize, usize> = HashMap::new();
        let mut level = 1;
        let mut cur = self.subs[s].resolved;
        while let Some(v) = cur {
            self.step(d)?;
            if seen.get(&v).is_some_and(|l| *l != level) {
                return Err(format!(
                    "cycle reference in path of {}",
                    go_string(&self.subs[s].path)
                ));
            }
            seen.insert(v, level);
            // Only the first resolved substitution of each value is followed, as go-akka.
            cur = self.vals[v].values.iter().find_map(|e| match e {
                Elem::Sub(t) => self.subs[*t].resolved,
                _ => None,
            });
            level += 1;
        }
        Ok(())
    }

    fn node_is_string(&self, n: &Node, d: usize) -> R<bool> {
        match n {
            Node::E(Elem::Lit(_)) => Ok(true),
            Node::E(Elem::Obj(_) | Elem::Arr(_)) => Ok(false),
            Node::E(Elem::Sub(s)) => match self.subs[*s].resolved {
                None => Ok(false),
                Some(r) => {
                    self.check_cycle(*s, d)?;
                    self.is_string(r, d + 1)
                }
            },
            Node::V(v) => self.is_string(*v, d + 1),
        }
    }

    fn node_get_string(&self, n: &Node, d: usize) -> R<Vec<u8>> {
        match n {
            Node::E(Elem::Lit(l)) => Ok(l.clone()),
            Node::E(Elem::Obj(_)) => Err("This element is an object and not a string.".into()),
            Node::E(Elem::Arr(_)) => Err("This element is an array and not a string.".into()),
            Node::E(Elem::Sub(s)) => match self.subs[*s].resolved {
                None => Ok(Vec::new()),
                Some(r) => {
                    self.check_cycle(*s, d)?;
                    self.get_string(r, d + 1)
                }
            },
            Node::V(v) => self.get_string(*v, d + 1),
        }
    }

    fn node_is_array(&self, n: &Node, d: usize) -> R<bool> {
        match n {
            Node::E(Elem::Arr(_)) => Ok(true),
            Node::E(Elem::Lit(_) | Elem::Obj(_)) => Ok(false),
            Node::E(Elem::Sub(s)) => match self.subs[*s].resolved {
                None => Ok(false),
                Some(r) => {
                    self.check_cycle(*s, d)?;
                    self.is_array(r, d + 1)
                }
            },
            Node::V(v) => self.is_array(*v, d + 1),
        }
    }

    fn node_get_array(&self, n: &Node, d: usize) -> R<Vec<usize>> {
        match n {
            Node::E(Elem::Arr(a)) => Ok(a.clone()),
            Node::E(Elem::Lit(_)) => {
                Err("This element is a string literal and not an array.".into())
            }
            Node::E(Elem::Obj(_)) => Err("This element is an object and not an array.".into()),
            Node::E(Elem::Sub(s)) => match self.subs[*s].resolved {
                None => Ok(Vec::new()),
                Some(r) => self.get_array(r, d + 1),
            },
            Node::V(v) => self.get_array(*v, d + 1),
        }
    }

    fn is_string(&self, v: usize, d: usize) -> R<bool> {
        self.step(d)?;
        let vals = &self.vals[v].values;
        let mut count = 0;
        for e in vals {
            if self.node_is_string(&self.top_of_sub(v, e), d + 1)? {
                count += 1;
            }
        }
        Ok(count > 0 && count == vals.len())
    }

    fn get_string(&self, v: usize, d: usize) -> R<Vec<u8>> {
        self.step(d)?;
        if !self.is_string(v, d + 1)? {
            return Ok(Vec::new());
        }
        let mut concat = Vec::new();
        for e in &self.vals[v].values {
            concat.extend(self.node_get_string(&self.top_of_sub(v, e), d + 1)?);
        }
        if concat == b"null" {
            concat.clear();
        }
        Ok(trim_space(&concat).to_vec())
    }

    fn get_array(&self, v: usize, d: usize) -> R<Vec<usize>> {
        self.step(d)?;
        let mut out = Vec::new();
        for e in &self.vals[v].values {
            let n = self.top_of_sub(v, e);
            if self.node_is_array(&n, d + 1)? {
                out.extend(self.node_get_array(&n, d + 1)?);
            }
        }
        Ok(out)
    }

    /// Go's `GetArray() != nil`: nil unless some element was appended.
    fn is_array(&self, v: usize, d: usize) -> R<bool> {
        Ok(!self.get_array(v, d)?.is_empty())
    }

    fn get_object(&self, v: usize, d: usize) -> R<Option<usize>> {
        self.step(d)?;
        let Some(first) = self.vals[v].values.first() else {
            return Ok(None);
        };
        if let Elem::Obj(o) = first {
            return Ok(Some(*o));
        }
        match self.top_of_sub(v, first) {
            Node::E(Elem::Sub(s)) => match self.subs[s].resolved {
                None => Ok(None),
                Some(r) => {
                    // `sub.IsObject()` then `sub.GetObject()`, each checking for cycles.
                    self.check_cycle(s, d)?;
                    if self.get_object(r, d + 1)?.is_none() {
                        return Ok(None);
                    }
                    self.check_cycle(s, d)?;
                    self.get_object(r, d + 1)
                }
            },
            Node::V(o) => {
                if self.get_object(o, d + 1)?.is_none() {
                    return Ok(None);
                }
                self.get_object(o, d + 1)
            }
            Node::E(_) => Ok(None),
        }
    }

    fn is_object(&self, v: usize, d: usize) -> R<bool> {
        Ok(self.get_object(v, d)?.is_some())
    }

    fn merge(&mut self, this: usize, other: usize, d: usize) -> R<()> {
        self.step(d)?;
        for k in self.objs[other].keys.clone() {
            let ov = self.objs[other].items[&k];
            match self.objs[this].items.get(&k).copied() {
                Some(tv) => {
                    if let Some(a) = self.get_object(tv, d + 1)? {
                        if let Some(b) = self.get_object(ov, d + 1)? {
                            self.merge(a, b, d + 1)?;
                        }
                    }
                }
                None => {
                    self.objs[this].items.insert(k.clone(), ov);
                    self.objs[this].keys.push(k);
                }
            }
        }
        Ok(())
    }

    /// `getNode`: walks a dotted path (quotes split it too, empty parts dropped).
    fn get_node(&self, root: usize, path: &[u8]) -> R<Option<usize>> {
        let mut cur = root;
        for part in path.split(|b| *b == b'"') {
            for key in part.split(|b| *b == b'.').filter(|k| !k.is_empty()) {
                let Some(o) = self.get_object(cur, 0)? else {
                    return Ok(None);
                };
                match self.objs[o].items.get(key) {
                    Some(v) => cur = *v,
                    None => return Ok(None),
                }
            }
        }
        Ok(Some(cur))
    }

    /// Resolves substitutions in creation order against the finished tree, then the
    /// environment (the path itself is the variable name).
    fn resolve(&mut self, root: usize) -> Result<()> {
        for s in 0..self.subs.len() {
            let path = self.subs[s].path.clone();
            let found = self
                .get_node(root, &path)
                .map_err(|e| anyhow!("hocon: {e}"))?;
            match found {
                Some(r) => self.subs[s].resolved = Some(r),
                None => match env_lookup(&path) {
                    Some(val) => {
                        let v = self.new_val();
                        self.vals[v].values.push(Elem::Lit(val));
                        self.subs[s].resolved = Some(v);
                    }
                    None if !self.subs[s].optional => {
                        bail!("hocon: Unresolved substitution:{}", go_string(&path))
                    }
                    None => {}
                },
            }
        }
        Ok(())
    }

    /// `HoconValue.ToString(indent)`.
    fn to_string(&self, v: usize, indent: usize, d: usize) -> R<Vec<u8>> {
        self.step(d)?;
        if self.is_string(v, d + 1)? {
            let s = self.get_string(v, d + 1)?;
            if s.is_empty() {
                return Ok(b"\"\"".to_vec());
            }
            return Ok(quote_if_needed(s));
        }
        if let Some(o) = self.get_object(v, d + 1)? {
            let mut out = b"{\r\n".to_vec();
            let pad = vec![b' '; (indent + 1) * 2];
            for k in &self.objs[o].keys {
                let key = quote_if_needed(k.clone());
                // go-akka looks the value up under the quoted key: nil for keys with spaces.
                let Some(item) = self.objs[o].items.get(&key) else {
                    return Err(format!(
                        "invalid memory address or nil pointer dereference (rendering key {:?})",
                        go_string(k)
                    ));
                };
                out.extend_from_slice(&pad);
                out.extend_from_slice(&key);
                out.extend_from_slice(b" : ");
                out.extend(self.to_string(*item, indent + 1, d + 1)?);
                out.extend_from_slice(b"\r\n");
            }
            out.extend(std::iter::repeat_n(b' ', indent * 2));
            out.push(b'}');
            return Ok(out);
        }
        let items = self.get_array(v, d + 1)?;
        if !items.is_empty() {
            let mut out = b"[".to_vec();
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                out.extend(self.to_string(*item, indent + 1, d + 1)?);
            }
            out.push(b']');
            return Ok(out);
        }
        Ok(b"<<unknown value>>".to_vec())
    }
}

fn quote_if_needed(s: Vec<u8>) -> Vec<u8> {
    if s.contains(&b' ') || s.contains(&b'\t') {
        let mut q = Vec::with_capacity(s.len() + 2);
        q.push(b'"');
        q.extend(s);
        q.push(b'"');
        return q;
    }
    s
}

#[cfg(unix)]
fn env_lookup(name: &[u8]) -> Option<Vec<u8>> {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    if name.is_empty() || name.contains(&b'=') || name.contains(&0) {
        return None;
    }
    std::env::var_os(std::ffi::OsStr::from_bytes(name)).map(|v| v.into_vec())
}

#[cfg(not(unix))]
fn env_lookup(name: &[u8]) -> Option<Vec<u8>> {
    let name = std::str::from_utf8(name).ok()?;
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return None;
    }
    std::env::var(name).ok().map(String::into_bytes)
}

// ---------------------------------------------------------------------------------------
// go-akka's parser.

struct Parser<'a> {
    tok: Tok<'a>,
    m: Model,
}

impl Parser<'_> {
    fn fail(&self, e: String) -> String {
        let before = &self.tok.t[..self.tok.i.min(self.tok.t.len())];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
        let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
        format!("hocon: {e} (line {line}, column {col})")
    }

    fn guard(&self, d: usize) -> R<()> {
        self.m.step(d).map_err(|e| self.fail(e))
    }

    fn next(&mut self) -> R<Token> {
        self.tok.pull_next().map_err(|e| self.fail(e))
    }

    fn parse_object(&mut self, owner: usize, root: bool, path: &[u8], d: usize) -> R<()> {
        self.guard(d)?;
        if !self.m.is_object(owner, d)? {
            let o = self.m.new_obj();
            self.m.vals[owner].values = vec![Elem::Obj(o)];
        }
        // Fold the objects of earlier definitions of this key into the current one.
        let mut r = owner;
        while let Some(old) = self.m.vals[r].old {
            let (Some(oo), Some(o)) = (self.m.get_object(old, d)?, self.m.get_object(r, d)?) else {
                break;
            };
            self.m.merge(o, oo, d + 1)?;
            r = old;
        }
        let cur = self
            .m
            .get_object(owner, d)?
            .ok_or_else(|| self.fail("value is not an object".into()))?;
        while !self.tok.eof() {
            match self.next()? {
                Token::Include(name) => {
                    return Err(self.fail(format!(
                        "include \"{}\" is not supported (go-akka reads the file relative to the working directory)",
                        go_string(&name)
                    )));
                }
                Token::Key(k) => {
                    let value = self.m.get_or_create_key(cur, &k);
                    let mut next = path.to_vec();
                    if !next.is_empty() {
                        next.push(b'.');
                    }
                    next.extend_from_slice(&k);
                    self.parse_key_content(value, &next, d + 1)?;
                    if !root {
                        return Ok(());
                    }
                }
                Token::ObjectEnd => return Ok(()),
                _ => {}
            }
        }
        Ok(())
    }

    fn parse_key_content(&mut self, value: usize, path: &[u8], d: usize) -> R<()> {
        self.guard(d)?;
        while !self.tok.eof() {
            match self.next()? {
                Token::Dot => return self.parse_object(value, false, path, d + 1),
                t @ (Token::Assign | Token::PlusAssign) => {
                    if !self.m.is_object(value, d)? {
                        self.m.vals[value].values.clear();
                    }
                    return self.parse_value(value, matches!(t, Token::PlusAssign), path, d + 1);
                }
                Token::ObjectStart => return self.parse_object(value, true, path, d + 1),
                _ => {}
            }
        }
        Ok(())
    }

    fn parse_value(&mut self, owner: usize, plus: bool, path: &[u8], d: usize) -> R<()> {
        self.guard(d)?;
        if self.tok.eof() {
            return Err(self.fail("End of file reached while trying to read a value".into()));
        }
        self.tok.pull_ws_and_comments();
        while self.tok.is_value() {
            let t = self.tok.pull_value().map_err(|e| self.fail(e))?;
            if plus {
                let s = self.m.new_sub(path.to_vec(), false);
                self.m.vals[owner].values.push(Elem::Sub(s));
            }
            match t {
                Token::Literal(l) => {
                    if self.m.is_object(owner, d)? {
                        self.m.vals[owner].values.clear();
                    }
                    self.m.vals[owner].values.push(Elem::Lit(l));
                }
                Token::ObjectStart => self.parse_object(owner, true, path, d + 1)?,
                Token::ArrayStart => {
                    let a = self.parse_array(path, d + 1)?;
                    self.m.vals[owner].values.push(Elem::Arr(a));
                }
                Token::Substitute(p, optional) => {
                    let s = self.m.new_sub(p, optional);
                    self.m.vals[owner].values.push(Elem::Sub(s));
                }
                _ => {}
            }
            if self.tok.is_space_or_tab() {
                let mut ws = Vec::new();
                while self.tok.is_space_or_tab() {
                    ws.push(self.tok.take_one());
                }
                self.m.vals[owner].values.push(Elem::Lit(ws));
            }
        }
        if self.tok.matches(b",") {
            self.tok.take_one();
        }
        // go-akka tests for the two characters `\n`, not a newline.
        if self.tok.matches(b"\\n") {
            self.tok.take(2);
        }
        Ok(())
    }

    fn parse_array(&mut self, path: &[u8], d: usize) -> R<Vec<usize>> {
        let mut items = Vec::new();
        while !self.tok.eof() && !self.tok.matches(b"]") {
            let start = self.tok.i;
            let v = self.m.new_val();
            self.parse_value(v, false, path, d + 1)?;
            items.push(v);
            self.tok.pull_ws_and_comments();
            if self.tok.i == start {
                return Err(self.fail(format!(
                    "unexpected {:?} in an array (go-akka never returns on this input)",
                    self.tok.peek() as char
                )));
            }
        }
        self.tok.take_one();
        Ok(items)
    }
}

// ---------------------------------------------------------------------------------------
// conftest's walk and JSON round-trip.

enum Tree {
    Leaf(Vec<u8>),
    Obj(BTreeMap<Vec<u8>, Tree>),
}

fn conftest_walk(m: &Model, root: usize) -> Result<BTreeMap<Vec<u8>, Tree>> {
    let e = |e: String| anyhow!("hocon: {e}");
    let mut out = BTreeMap::new();
    let Some(top) = m.get_object(root, 0).map_err(e)? else {
        return Ok(out);
    };
    for key in &m.objs[top].keys {
        let node = m.get_node(root, key).map_err(e)?;
        let tree = walk(m, root, node, key, 0).map_err(e)?;
        out.insert(key.clone(), Tree::Obj(tree));
    }
    Ok(out)
}

fn walk(
    m: &Model,
    root: usize,
    node: Option<usize>,
    path: &[u8],
    d: usize,
) -> R<BTreeMap<Vec<u8>, Tree>> {
    m.step(d)?;
    let obj = match node {
        Some(n) => m.get_object(n, d)?,
        None => None,
    };
    let Some(obj) = obj else {
        // conftest calls `GetKeys()` on a nil object here and crashes.
        return Err(format!(
            "{:?} is not an object (conftest crashes with a nil pointer dereference: every top-level key must hold an object and keys must not contain dots)",
            go_string(path)
        ));
    };
    let mut out = BTreeMap::new();
    for key in &m.objs[obj].keys {
        let mut sub = path.to_vec();
        sub.push(b'.');
        sub.extend_from_slice(key);
        let child = m.get_node(root, &sub)?;
        let tree = match child {
            Some(c) if m.is_object(c, d)? => Tree::Obj(walk(m, root, child, &sub, d + 1)?),
            Some(c) => Tree::Leaf(m.to_string(c, 0, d + 1)?),
            None => {
                return Err(format!(
                    "no value at path {:?} (conftest crashes with a nil pointer dereference: keys must not contain dots)",
                    go_string(&sub)
                ))
            }
        };
        out.insert(key.clone(), tree);
    }
    Ok(out)
}

/// `json.Marshal` (sorted keys, first unsupported number wins) then `json.Unmarshal`.
fn to_json(tree: BTreeMap<Vec<u8>, Tree>) -> Result<Value> {
    fn conv(tree: BTreeMap<Vec<u8>, Tree>) -> std::result::Result<Map<String, Value>, String> {
        let mut out = Map::new();
        for (k, v) in tree {
            let v = match v {
                Tree::Leaf(s) => super::ini::convert(&go_string(&s))?,
                Tree::Obj(o) => Value::Object(conv(o)?),
            };
            out.insert(go_string(&k), v);
        }
        Ok(out)
    }
    conv(tree)
        .map(Value::Object)
        .map_err(|e| anyhow!("marshal hocon to json: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Value {
        parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn leaves_render_as_go_akka_strings() {
        assert_eq!(
            p("a { n = 1, b = true, s = hello, q = \"x y\", t = 75 seconds, e = \"\", z = null, l = [1, \"a b\", c], m = [] }"),
            json!({"a": {"n": 1.0, "b": true, "s": "hello", "q": "\"x y\"", "t": "\"75 seconds\"",
                          "e": "\"\"", "z": "\"\"", "l": "[1,\"a b\",c]", "m": "<<unknown value>>"}})
        );
    }

    #[test]
    fn repeated_keys_and_optional_substitutions_fall_back() {
        let v = p("x {\n port = 9001\n port = ${?REGORUN_TEST_UNSET_VAR}\n dir = ${?REGORUN_TEST_UNSET_VAR}\n}\nx.y.z = 1\nx { w = ${x.port} }\n");
        assert_eq!(
            v,
            json!({"x": {"port": 9001.0, "dir": "<<unknown value>>", "y": {"z": 1.0}, "w": 9001.0}})
        );
    }

    #[test]
    fn objects_inside_arrays_use_go_akka_layout() {
        assert_eq!(
            p("a { l = [{ k = v }] }"),
            json!({"a": {"l": "[{\r\n    k : v\r\n  }]"}})
        );
    }

    #[test]
    fn crashes_and_hangs_become_errors() {
        for bad in [
            "a = 1",
            "a { b = ${nope} }",
            "a { b = [=] }",
            "a { b = ${a.b} }",
            "include \"other.conf\"",
            "a { \"x.y\" = 1 }",
            "a { b = \"\\q\" }",
            "a =",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        let e = parse(b"a { b = inf }").unwrap_err().to_string();
        assert_eq!(e, "marshal hocon to json: json: unsupported value: +Inf");
    }
}
