//! VCL as conftest reads it: go-vcl v0.4.0 (`vcl.Decode` into a `map[string]any`), then a
//! JSON round trip. go-vcl is not a VCL parser so much as a Pratt parser written for a toy
//! language, so this module mirrors its byte-level lexer, its parser (including how it
//! recovers from what it does not understand) and its decoder, not VCL itself:
//!
//! * Top level: `name = literal;` gives `"name": value`; each block keyword (`acl`, `backend`,
//!   `director`, `sub`, `table`) gives `{"<keyword>": {"<first label>": …}}`, a later block with
//!   the same first label replacing an earlier one. A block with attributes or nested blocks
//!   becomes an object (its further labels wrap it, last label outermost); any other block
//!   becomes the array of its bare literals (`acl` entries, but also strings and numbers
//!   stranded in a `sub` body by the parser's error recovery, and `{…}` bodies, which are
//!   marshalled as go-vcl's own `Block` struct: `{"Type","Labels","Body":{"Attributes",
//!   "Blocks","Flats","Comments"}}`).
//! * Inside a block: `name = literal` (`set x = y` too) gives `name` with its dots trimmed;
//!   `name = {…}` (a probe) gives a nested object under the untrimmed name; several nested
//!   blocks of one type become an array of label-wrapped objects.
//! * Literals: strings have no escapes and end at the next `"` not followed by `/`, or at `;`
//!   (which is swallowed); a string containing `/` gets a leading `"` (go-vcl's CIDR hack);
//!   integers are decimal, or octal with a leading `0`; `5s` is `5` followed by an ignored
//!   identifier; `50%` is the string `"50%"`.
//! * go-vcl returns no errors to conftest: every input gives a document, a Go panic (conftest
//!   crashes) or, for a block header that runs to the end of the file, an endless loop. Those
//!   inputs are errors here, naming the panic.

use anyhow::{anyhow, Result};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Deepest expression nesting accepted; go-vcl has no limit short of Go's 1 GB stack.
const MAX_NESTING: usize = 1_000;

type Lit<'a> = Cow<'a, [u8]>;

/// Inputs with at least this many bytes that can open a nesting level are parsed on a
/// thread with a large stack (a level costs about 1.2 KiB of stack in release builds, far
/// more in debug and sanitizer builds).
const DEEP_INPUT: usize = 64;

/// Parses a VCL file into conftest's document.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    // Each level of recursion in go-vcl's parser starts at one of these bytes.
    let openers = bytes
        .iter()
        .filter(|b| matches!(b, b'{' | b'(' | b'!' | b'+' | b'~'))
        .count();
    if openers < DEEP_INPUT {
        return parse_here(bytes);
    }
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn_scoped(s, || parse_here(bytes))
            .map_err(|e| anyhow!("decode vcl: start parser: {e}"))?
            .join()
            .map_err(|_| anyhow!("decode vcl: internal parser error"))?
    })
}

fn parse_here(bytes: &[u8]) -> Result<Value> {
    let mut p = Parser::new(bytes)?;
    let program = p.parse_program()?;
    let body = convert_body(bytes, program)?;
    decode_program(bytes, body)
}

fn line(input: &[u8], off: usize) -> usize {
    input[..off.min(input.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// An input go-vcl panics on (conftest then crashes).
fn crash(what: String, panic: &str) -> anyhow::Error {
    anyhow!("decode vcl: {what}: conftest crashes here (go-vcl panics: {panic})")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    Illegal,
    Eof,
    Ident,
    Int,
    Percentage,
    Str,
    Cidr,
    True,
    False,
    Assign,
    Match,
    Plus,
    Bang,
    Equal,
    And,
    Or,
    Comma,
    Semicolon,
    Colon,
    Hash,
    CommentLine,
    LMulti,
    RMulti,
    LParen,
    RParen,
    LBrace,
    RBrace,
    If,
    Else,
    Return,
    Import,
    Table,
    Acl,
    Backend,
    Sub,
    Call,
    Director,
    /// go-vcl's zero token (type `""`): a lone `/`, `*`, `|` or `&`.
    Empty,
}

#[derive(Clone, Debug)]
struct Token<'a> {
    ty: Ty,
    lit: Lit<'a>,
    off: usize,
    /// An EOF at the real end of the input (a NUL byte also lexes as EOF, mid-file).
    end: bool,
}

/// go-vcl's lexer, byte for byte: `ch == 0` is both a NUL byte and the end of input, and
/// positions run past the end just as Go's do.
struct Lexer<'a> {
    input: &'a [u8],
    pos: usize,
    read_pos: usize,
    ch: u8,
}

fn is_letter(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'.'
}

impl<'a> Lexer<'a> {
    fn new(input: &'a [u8]) -> Self {
        let mut l = Lexer {
            input,
            pos: 0,
            read_pos: 0,
            ch: 0,
        };
        l.read_char();
        l
    }

    fn read_char(&mut self) {
        self.ch = self.input.get(self.read_pos).copied().unwrap_or(0);
        self.pos = self.read_pos;
        self.read_pos += 1;
    }

    fn peek_char(&self) -> u8 {
        self.input.get(self.read_pos).copied().unwrap_or(0)
    }

    /// `input[lo:hi]` with Go's bounds checks and panic text.
    fn slice(&self, lo: usize, hi: usize) -> std::result::Result<&'a [u8], String> {
        let len = self.input.len();
        if hi > len {
            return Err(format!(
                "runtime error: slice bounds out of range [:{hi}] with length {len}"
            ));
        }
        if lo > hi {
            return Err(format!(
                "runtime error: slice bounds out of range [{lo}:{hi}]"
            ));
        }
        Ok(&self.input[lo..hi])
    }

    /// The rest of a `#` or `//` line. go-vcl skips one byte unconditionally (meant to be the
    /// space after the marker), so a marker right before a newline or the end panics.
    fn read_comment_line(&mut self, start: usize, marker: &str) -> Result<&'a [u8]> {
        self.read_char();
        let lo = self.pos + 1;
        while self.ch != b'\n' {
            self.read_char();
            if self.ch == 0 {
                break;
            }
        }
        self.slice(lo, self.pos).map_err(|p| {
            crash(
                format!("line {}: empty `{marker}` comment", line(self.input, start)),
                &p,
            )
        })
    }

    /// No escapes: ends at a `"` not followed by `/`, at `;`, or at NUL/end.
    fn read_string(&mut self) -> &'a [u8] {
        let lo = self.pos + 1;
        while self.ch != 0 && self.ch != b';' {
            self.read_char();
            if self.ch == b'"' && self.peek_char() != b'/' {
                break;
            }
        }
        self.input.get(lo..self.pos).unwrap_or_default()
    }

    fn read_while(&mut self, f: fn(u8) -> bool) -> &'a [u8] {
        let lo = self.pos;
        while f(self.ch) {
            self.read_char();
        }
        self.input.get(lo..self.pos).unwrap_or_default()
    }

    fn next_token(&mut self) -> Result<Token<'a>> {
        while matches!(self.ch, b' ' | b'\t' | b'\n' | b'\r') {
            self.read_char();
        }
        let off = self.pos;
        let tok = |ty: Ty, lit: &'static [u8]| Token {
            ty,
            lit: Cow::Borrowed(lit),
            off,
            end: false,
        };
        let t = match self.ch {
            b'=' if self.peek_char() == b'=' => {
                self.read_char();
                tok(Ty::Equal, b"==")
            }
            b'=' => tok(Ty::Assign, b"="),
            b':' => tok(Ty::Colon, b":"),
            b'~' => tok(Ty::Match, b"~"),
            b',' => tok(Ty::Comma, b","),
            b';' => tok(Ty::Semicolon, b";"),
            b'(' => tok(Ty::LParen, b"("),
            b')' => tok(Ty::RParen, b")"),
            b'{' => tok(Ty::LBrace, b"{"),
            b'}' => tok(Ty::RBrace, b"}"),
            b'!' => tok(Ty::Bang, b"!"),
            b'+' => tok(Ty::Plus, b"+"),
            b'#' => {
                let lit = self.read_comment_line(off, "#")?;
                Token {
                    ty: Ty::Hash,
                    lit: Cow::Borrowed(lit),
                    off,
                    end: false,
                }
            }
            b'/' if self.peek_char() == b'/' => {
                self.read_char();
                let lit = self.read_comment_line(off, "//")?;
                Token {
                    ty: Ty::CommentLine,
                    lit: Cow::Borrowed(lit),
                    off,
                    end: false,
                }
            }
            b'/' if self.peek_char() == b'*' => {
                self.read_char();
                tok(Ty::LMulti, b"/*")
            }
            b'*' if self.peek_char() == b'/' => {
                self.read_char();
                tok(Ty::RMulti, b"*/")
            }
            b'|' if self.peek_char() == b'|' => {
                self.read_char();
                tok(Ty::Or, b"||")
            }
            b'&' if self.peek_char() == b'&' => {
                self.read_char();
                tok(Ty::And, b"&&")
            }
            b'/' | b'*' | b'|' | b'&' => tok(Ty::Empty, b""),
            b'"' => {
                let s = self.read_string();
                let (ty, lit) = if s.contains(&b'/') {
                    // go-vcl's CIDR form `"10.0.0.0"/8`: it re-adds the opening quote.
                    let mut v = Vec::with_capacity(s.len() + 1);
                    v.push(b'"');
                    v.extend_from_slice(s);
                    (Ty::Cidr, Cow::Owned(v))
                } else {
                    (Ty::Str, Cow::Borrowed(s))
                };
                Token {
                    ty,
                    lit,
                    off,
                    end: false,
                }
            }
            0 => Token {
                ty: Ty::Eof,
                lit: Cow::Borrowed(b""),
                off,
                end: self.pos >= self.input.len(),
            },
            c if is_letter(c) => {
                let lit = self.read_while(|c| is_letter(c) || c.is_ascii_digit());
                let ty = match lit {
                    b"sub" => Ty::Sub,
                    b"call" => Ty::Call,
                    b"true" => Ty::True,
                    b"false" => Ty::False,
                    b"if" => Ty::If,
                    b"else" => Ty::Else,
                    b"return" => Ty::Return,
                    b"table" => Ty::Table,
                    b"import" => Ty::Import,
                    b"acl" => Ty::Acl,
                    b"backend" => Ty::Backend,
                    b"director" => Ty::Director,
                    _ => Ty::Ident,
                };
                // Early return, as go-vcl: the byte after an identifier is not consumed.
                return Ok(Token {
                    ty,
                    lit: Cow::Borrowed(lit),
                    off,
                    end: false,
                });
            }
            c if c.is_ascii_digit() => {
                let digits = self.read_while(|c| c.is_ascii_digit());
                if self.ch == b'%' {
                    self.read_char();
                    let mut v = digits.to_vec();
                    v.push(b'%');
                    return Ok(Token {
                        ty: Ty::Percentage,
                        lit: Cow::Owned(v),
                        off,
                        end: false,
                    });
                }
                return Ok(Token {
                    ty: Ty::Int,
                    lit: Cow::Borrowed(digits),
                    off,
                    end: false,
                });
            }
            c => {
                // Go's `string(byte)` makes a rune: byte 0xC3 becomes "Ã" (U+00C3).
                let mut buf = [0u8; 4];
                let s = char::from(c).encode_utf8(&mut buf);
                Token {
                    ty: Ty::Illegal,
                    lit: Cow::Owned(s.as_bytes().to_vec()),
                    off,
                    end: false,
                }
            }
        };
        self.read_char();
        Ok(t)
    }
}

/// The parts of go-vcl's AST its decoder looks at; everything else is `Other`.
enum Stmt<'a> {
    Assign {
        name: Lit<'a>,
        value: Option<Expr<'a>>,
        off: usize,
    },
    /// `"key": value` (table entries); only string values are kept.
    Field {
        name: Lit<'a>,
        value: Option<Expr<'a>>,
    },
    Comment(Lit<'a>),
    Expr(Option<Expr<'a>>),
    Other,
}

enum Expr<'a> {
    Ident(Lit<'a>),
    Int(i64),
    Pct(Lit<'a>),
    Str(Lit<'a>),
    Cidr(Lit<'a>),
    Bool(bool),
    Block(BlockExpr<'a>),
    /// Prefix, infix and `if` expressions: parsed, never decoded.
    Other,
}

struct BlockExpr<'a> {
    /// The keyword, or `{` for a bare `{…}` body.
    ty: Lit<'a>,
    labels: Vec<Lit<'a>>,
    /// `None` is go-vcl's nil body (`acl x;`), which its decoder dereferences.
    body: Option<Vec<Stmt<'a>>>,
    off: usize,
}

const LOWEST: u8 = 1;
const PREFIX: u8 = 6;

fn precedence(t: Ty) -> u8 {
    match t {
        Ty::Equal | Ty::Match | Ty::And | Ty::Or => 2,
        Ty::Plus => 4,
        _ => LOWEST,
    }
}

/// Go `strconv.ParseInt(s, 0, 64)` for the all-digit text the lexer gives: a leading `0`
/// means octal; bad digits and overflow are errors (go-vcl then has a nil expression).
fn go_parse_int(s: &[u8]) -> Option<i64> {
    let (digits, radix) = match s {
        [b'0', rest @ ..] if !rest.is_empty() => (rest, 8),
        _ => (s, 10),
    };
    let mut n: i64 = 0;
    for &c in digits {
        let d = i64::from(c.wrapping_sub(b'0'));
        if d >= radix {
            return None;
        }
        n = n.checked_mul(radix)?.checked_add(d)?;
    }
    Some(n)
}

/// go-vcl's Pratt parser. Its many error paths only record an error nobody reads and return
/// nil, so parsing always goes on; what matters is how many tokens each path consumes.
struct Parser<'a> {
    input: &'a [u8],
    lx: Lexer<'a>,
    cur: Token<'a>,
    peek: Token<'a>,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a [u8]) -> Result<Self> {
        let mut lx = Lexer::new(input);
        let cur = lx.next_token()?;
        let peek = lx.next_token()?;
        Ok(Parser {
            input,
            lx,
            cur,
            peek,
            depth: 0,
        })
    }

    fn next(&mut self) -> Result<()> {
        let t = self.lx.next_token()?;
        self.cur = std::mem::replace(&mut self.peek, t);
        Ok(())
    }

    fn expect_peek(&mut self, t: Ty) -> Result<bool> {
        if self.peek.ty == t {
            self.next()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn parse_program(&mut self) -> Result<Vec<Stmt<'a>>> {
        let mut stmts = Vec::new();
        while self.cur.ty != Ty::Eof {
            if let Some(s) = self.parse_statement()? {
                stmts.push(s);
            }
            self.next()?;
        }
        Ok(stmts)
    }

    fn parse_statement(&mut self) -> Result<Option<Stmt<'a>>> {
        match self.cur.ty {
            Ty::Ident if self.peek.ty == Ty::Assign => {
                let name = self.cur.lit.clone();
                let off = self.cur.off;
                self.next()?;
                self.next()?;
                let value = self.parse_expression(LOWEST)?;
                if self.peek.ty == Ty::Semicolon {
                    self.next()?;
                }
                Ok(Some(Stmt::Assign { name, value, off }))
            }
            Ty::LMulti => {
                // The comment's contents are lexed as ordinary tokens up to `*/`.
                self.next()?;
                while self.cur.ty != Ty::RMulti {
                    if self.cur.ty == Ty::Eof {
                        return Ok(None);
                    }
                    self.next()?;
                }
                Ok(Some(Stmt::Comment(Cow::Borrowed(b"/*"))))
            }
            Ty::Hash | Ty::CommentLine => Ok(Some(Stmt::Comment(self.cur.lit.clone()))),
            Ty::Return => {
                if !self.expect_peek(Ty::LParen)? {
                    return Ok(None);
                }
                self.next()?;
                self.parse_expression(LOWEST)?;
                if !self.expect_peek(Ty::RParen)? {
                    return Ok(None);
                }
                if self.peek.ty == Ty::Semicolon {
                    self.next()?;
                }
                Ok(Some(Stmt::Other))
            }
            Ty::Call => {
                self.next()?;
                self.parse_expression(LOWEST)?;
                if self.peek.ty == Ty::Semicolon {
                    self.next()?;
                }
                Ok(Some(Stmt::Other))
            }
            Ty::Str if self.peek.ty == Ty::Colon => {
                let name = self.cur.lit.clone();
                self.next()?;
                self.next()?;
                let value = self.parse_expression(LOWEST)?;
                if self.peek.ty == Ty::Comma {
                    self.next()?;
                }
                Ok(Some(Stmt::Field { name, value }))
            }
            _ => {
                let e = self.parse_expression(LOWEST)?;
                if self.peek.ty == Ty::Semicolon {
                    self.next()?;
                }
                Ok(Some(Stmt::Expr(e)))
            }
        }
    }

    fn parse_expression(&mut self, prec: u8) -> Result<Option<Expr<'a>>> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(anyhow!(
                "decode vcl: line {}: nesting deeper than {MAX_NESTING} levels (a regorun limit)",
                line(self.input, self.cur.off)
            ));
        }
        let r = self.parse_expression_inner(prec);
        self.depth -= 1;
        r
    }

    fn parse_expression_inner(&mut self, prec: u8) -> Result<Option<Expr<'a>>> {
        let mut left = match self.cur.ty {
            Ty::Ident => Some(Expr::Ident(self.cur.lit.clone())),
            Ty::Int => go_parse_int(&self.cur.lit).map(Expr::Int),
            Ty::Percentage => Some(Expr::Pct(self.cur.lit.clone())),
            Ty::Str => Some(Expr::Str(self.cur.lit.clone())),
            Ty::Cidr => Some(Expr::Cidr(self.cur.lit.clone())),
            Ty::True => Some(Expr::Bool(true)),
            Ty::False => Some(Expr::Bool(false)),
            Ty::Bang => {
                self.next()?;
                self.parse_expression(PREFIX)?;
                Some(Expr::Other)
            }
            Ty::LParen => {
                self.next()?;
                let e = self.parse_expression(LOWEST)?;
                if self.expect_peek(Ty::RParen)? {
                    e
                } else {
                    None
                }
            }
            Ty::If => self.parse_if()?,
            Ty::Sub | Ty::Acl | Ty::Backend | Ty::Director | Ty::Table => {
                Some(self.parse_block_expression()?)
            }
            Ty::LBrace => {
                let off = self.cur.off;
                let body = if self.peek.ty == Ty::Semicolon {
                    None
                } else {
                    Some(self.parse_block_statement()?)
                };
                Some(Expr::Block(BlockExpr {
                    ty: Cow::Borrowed(b"{"),
                    labels: Vec::new(),
                    body,
                    off,
                }))
            }
            _ => return Ok(None),
        };
        while self.peek.ty != Ty::Semicolon && prec < precedence(self.peek.ty) {
            // `==`, `&&` and `||` have a precedence but no infix function: stop there.
            if !matches!(self.peek.ty, Ty::Match | Ty::Plus) {
                return Ok(left);
            }
            self.next()?;
            let p = precedence(self.cur.ty);
            self.next()?;
            self.parse_expression(p)?;
            left = Some(Expr::Other);
        }
        Ok(left)
    }

    fn parse_if(&mut self) -> Result<Option<Expr<'a>>> {
        if !self.expect_peek(Ty::LParen)? {
            return Ok(None);
        }
        self.next()?;
        self.parse_expression(LOWEST)?;
        if !self.expect_peek(Ty::RParen)? || !self.expect_peek(Ty::LBrace)? {
            return Ok(None);
        }
        self.parse_block_statement()?;
        if self.peek.ty == Ty::Else {
            self.next()?;
            if !self.expect_peek(Ty::LBrace)? {
                return Ok(None);
            }
            self.parse_block_statement()?;
        }
        Ok(Some(Expr::Other))
    }

    fn parse_block_expression(&mut self) -> Result<Expr<'a>> {
        let ty = self.cur.lit.clone();
        let off = self.cur.off;
        let mut labels = Vec::new();
        // Every token up to `{` or `;` is a label, whatever it is.
        while self.peek.ty != Ty::LBrace && self.peek.ty != Ty::Semicolon {
            if self.peek.ty == Ty::Eof && self.peek.end {
                return Err(anyhow!(
                    "decode vcl: line {}: `{}` runs to the end of the file without `{{` or `;`: conftest never finishes (go-vcl collects empty labels until memory runs out)",
                    line(self.input, off),
                    go_string(&ty)
                ));
            }
            self.next()?;
            labels.push(self.cur.lit.clone());
        }
        let body = if self.peek.ty == Ty::Semicolon {
            None
        } else {
            self.next()?;
            Some(self.parse_block_statement()?)
        };
        Ok(Expr::Block(BlockExpr {
            ty,
            labels,
            body,
            off,
        }))
    }

    /// From `{` to the matching `}` or any EOF token (a NUL byte included).
    fn parse_block_statement(&mut self) -> Result<Vec<Stmt<'a>>> {
        let mut stmts = Vec::new();
        self.next()?;
        while self.cur.ty != Ty::RBrace && self.cur.ty != Ty::Eof {
            if let Some(s) = self.parse_statement()? {
                stmts.push(s);
            }
            self.next()?;
        }
        Ok(stmts)
    }
}

/// go-vcl's `schema.BodyContent`.
#[derive(Default)]
struct Body<'a> {
    /// A Go map: the last assignment of a name wins; the index orders assignments.
    attrs: BTreeMap<Lit<'a>, (usize, Option<Val<'a>>)>,
    blocks: Vec<Block<'a>>,
    flats: Vec<Flat<'a>>,
    comments: Vec<Lit<'a>>,
}

impl Body<'_> {
    fn has_content(&self) -> bool {
        !self.attrs.is_empty() || !self.blocks.is_empty()
    }
}

struct Block<'a> {
    ty: Lit<'a>,
    /// Go's nil slice when there are no labels.
    labels: Option<Vec<Lit<'a>>>,
    body: Body<'a>,
    off: usize,
}

enum Val<'a> {
    Str(Lit<'a>),
    Int(i64),
    Bool(bool),
}

enum Flat<'a> {
    Val(Val<'a>),
    Block(Block<'a>),
}

/// go-vcl's `traversal.convertBody`.
fn convert_body<'a>(input: &[u8], stmts: Vec<Stmt<'a>>) -> Result<Body<'a>> {
    let mut b = Body::default();
    let nil_body = |ty: &[u8], off: usize| {
        crash(
            format!(
                "line {}: `{}` without a body",
                line(input, off),
                go_string(ty)
            ),
            "runtime error: invalid memory address or nil pointer dereference",
        )
    };
    for (i, stmt) in stmts.into_iter().enumerate() {
        match stmt {
            Stmt::Assign { name, value, off } => {
                let v = match value {
                    Some(Expr::Str(s) | Expr::Cidr(s) | Expr::Pct(s) | Expr::Ident(s)) => {
                        Val::Str(s)
                    }
                    Some(Expr::Bool(v)) => Val::Bool(v),
                    Some(Expr::Int(v)) => Val::Int(v),
                    Some(Expr::Block(e)) => {
                        let stmts = e.body.ok_or_else(|| nil_body(&e.ty, e.off))?;
                        // Named after the attribute; the expression's own labels are lost.
                        b.blocks.push(Block {
                            ty: name,
                            labels: None,
                            body: convert_body(input, stmts)?,
                            off: e.off,
                        });
                        continue;
                    }
                    _ => {
                        return Err(crash(
                            format!(
                                "line {}: the value of `{}` is not a literal",
                                line(input, off),
                                go_string(&name)
                            ),
                            "cannot pass invalid argument which is no a literal",
                        ))
                    }
                };
                b.attrs.insert(name, (i, Some(v)));
            }
            Stmt::Field { name, value } => {
                let v = match value {
                    Some(Expr::Str(s)) => Some(Val::Str(s)),
                    _ => None,
                };
                b.attrs.insert(name, (i, v));
            }
            Stmt::Expr(Some(Expr::Block(e))) => {
                let stmts = e.body.ok_or_else(|| nil_body(&e.ty, e.off))?;
                let block = Block {
                    labels: (!e.labels.is_empty()).then_some(e.labels),
                    body: convert_body(input, stmts)?,
                    off: e.off,
                    ty: e.ty,
                };
                if *block.ty == *b"{" {
                    b.flats.push(Flat::Block(block));
                } else {
                    b.blocks.push(block);
                }
            }
            Stmt::Expr(Some(Expr::Str(s) | Expr::Cidr(s))) => b.flats.push(Flat::Val(Val::Str(s))),
            Stmt::Expr(Some(Expr::Bool(v))) => b.flats.push(Flat::Val(Val::Bool(v))),
            Stmt::Expr(Some(Expr::Int(v))) => b.flats.push(Flat::Val(Val::Int(v))),
            Stmt::Comment(c) => b.comments.push(c),
            _ => {}
        }
    }
    Ok(b)
}

/// Blocks grouped by type, types in order of first appearance.
fn by_type<'a>(blocks: Vec<Block<'a>>) -> Vec<(Lit<'a>, Vec<Block<'a>>)> {
    let mut groups: Vec<(Lit<'a>, Vec<Block<'a>>)> = Vec::new();
    for b in blocks {
        match groups.iter_mut().find(|(t, _)| *t == b.ty) {
            Some((_, g)) => g.push(b),
            None => groups.push((b.ty.clone(), vec![b])),
        }
    }
    groups
}

/// go-vcl's `decodeProgramToMap`.
fn decode_program(input: &[u8], body: Body) -> Result<Value> {
    if !body.has_content() {
        return Err(crash(
            "no top-level attribute or block".into(),
            "reflect: call of reflect.Value.Set on zero Value",
        ));
    }
    // Go meets these in random type order; report the first in the file.
    if let Some(b) = body
        .blocks
        .iter()
        .find(|b| b.labels.is_none() && b.body.has_content())
    {
        return Err(crash(
            format!(
                "line {}: top-level `{}` block without a label",
                line(input, b.off),
                go_string(&b.ty)
            ),
            "runtime error: slice bounds out of range [1:0]",
        ));
    }
    let mut mv: BTreeMap<Vec<u8>, Value> = BTreeMap::new();
    // A nil value deletes its key (`SetMapIndex` with a zero Value).
    for (k, (_, v)) in body.attrs {
        if let Some(v) = v {
            mv.insert(k.into_owned(), val_json(v));
        }
    }
    for (ty, blocks) in by_type(body.blocks) {
        let mut mp: BTreeMap<Vec<u8>, Value> = BTreeMap::new();
        for b in blocks {
            let labels = b.labels.unwrap_or_default();
            let key = labels.first().map(|l| l.to_vec()).unwrap_or_default();
            let v = if b.body.has_content() {
                let mut v = decode_block(b.body);
                for l in labels.iter().skip(1) {
                    v = go_object(BTreeMap::from([(l.to_vec(), v)]));
                }
                v
            } else {
                Value::Array(b.body.flats.into_iter().map(flat_json).collect())
            };
            mp.insert(key, v);
        }
        mv.insert(ty.into_owned(), go_object(mp));
    }
    Ok(go_object(mv))
}

/// go-vcl's `decodeBlockToMap`: flats and comments are dropped here.
fn decode_block(body: Body) -> Value {
    let mut mv: BTreeMap<Vec<u8>, Value> = BTreeMap::new();
    let mut attrs: Vec<_> = body.attrs.into_iter().collect();
    // Names that collide once dots are trimmed (`.a`, `a`) land in Go's map in random
    // order; the later assignment wins here.
    attrs.sort_by_key(|(_, (i, _))| *i);
    for (k, (_, v)) in attrs {
        let key = trim_dots(&k).to_vec();
        match v {
            Some(v) => mv.insert(key, val_json(v)),
            None => mv.remove(&key),
        };
    }
    for (ty, blocks) in by_type(body.blocks) {
        let v = if blocks.len() == 1 {
            // A lone nested block keeps no labels.
            blocks
                .into_iter()
                .next()
                .map_or(Value::Null, |b| decode_block(b.body))
        } else {
            Value::Array(
                blocks
                    .into_iter()
                    .map(|b| {
                        let mut v = decode_block(b.body);
                        for l in b.labels.unwrap_or_default() {
                            v = go_object(BTreeMap::from([(l.into_owned(), v)]));
                        }
                        v
                    })
                    .collect(),
            )
        };
        mv.insert(ty.into_owned(), v);
    }
    go_object(mv)
}

fn trim_dots(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| c != b'.').unwrap_or(s.len());
    let end = s.iter().rposition(|&c| c != b'.').map_or(start, |i| i + 1);
    &s[start..end]
}

fn val_json(v: Val) -> Value {
    match v {
        Val::Str(s) => Value::String(go_string(&s)),
        Val::Bool(b) => Value::Bool(b),
        // conftest's JSON round trip makes every number a float64.
        Val::Int(i) if i.unsigned_abs() <= 1 << 53 => Value::from(i),
        Val::Int(i) => Number::from_f64(i as f64).map_or(Value::Null, Value::Number),
    }
}

fn flat_json(f: Flat) -> Value {
    match f {
        Flat::Val(v) => val_json(v),
        Flat::Block(b) => block_json(b),
    }
}

/// A `*schema.Block` as encoding/json marshals the struct.
fn block_json(b: Block) -> Value {
    let mut attrs = BTreeMap::new();
    for (k, (_, v)) in b.body.attrs {
        let mut a = Map::new();
        a.insert("Name".into(), Value::String(go_string(&k)));
        a.insert("Value".into(), v.map_or(Value::Null, val_json));
        attrs.insert(k.into_owned(), Value::Object(a));
    }
    let mut body = Map::new();
    body.insert("Attributes".into(), go_object(attrs));
    body.insert(
        "Blocks".into(),
        if b.body.blocks.is_empty() {
            Value::Null
        } else {
            Value::Array(b.body.blocks.into_iter().map(block_json).collect())
        },
    );
    body.insert(
        "Flats".into(),
        Value::Array(b.body.flats.into_iter().map(flat_json).collect()),
    );
    body.insert(
        "Comments".into(),
        Value::Array(
            b.body
                .comments
                .iter()
                .map(|c| Value::String(go_string(c)))
                .collect(),
        ),
    );
    let mut m = Map::new();
    m.insert("Type".into(), Value::String(go_string(&b.ty)));
    m.insert(
        "Labels".into(),
        b.labels.map_or(Value::Null, |ls| {
            ls.iter().map(|l| Value::String(go_string(l))).collect()
        }),
    );
    m.insert("Body".into(), Value::Object(body));
    Value::Object(m)
}

/// A Go `map[string]any` after the JSON round trip: keys are marshalled in byte order and
/// made valid UTF-8, so keys that become equal keep the value of the greater raw key.
fn go_object(m: BTreeMap<Vec<u8>, Value>) -> Value {
    let mut out = Map::new();
    for (k, v) in m {
        out.insert(go_string(&k), v);
    }
    Value::Object(out)
}

/// Bytes as encoding/json writes them: each byte that is not part of valid UTF-8 becomes
/// U+FFFD on its own (Rust's lossy conversion would merge some runs).
fn go_string(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    let mut rest = b;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                out.push('\u{FFFD}');
                rest = bad.get(1..).unwrap_or_default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tokens(s: &str) -> Vec<(Ty, String)> {
        let mut l = Lexer::new(s.as_bytes());
        let mut out = Vec::new();
        loop {
            let t = l.next_token().expect("token");
            if t.ty == Ty::Eof && t.end {
                return out;
            }
            out.push((t.ty, String::from_utf8_lossy(&t.lit).into_owned()));
        }
    }

    fn err(s: &str) -> String {
        parse(s.as_bytes()).expect_err("should fail").to_string()
    }

    #[test]
    fn numbers_durations_and_identifiers() {
        assert_eq!(
            tokens("4.0 5s 50% req.http.X-Y"),
            [
                (Ty::Int, "4".into()),
                (Ty::Ident, ".0".into()),
                (Ty::Int, "5".into()),
                (Ty::Ident, "s".into()),
                (Ty::Percentage, "50%".into()),
                (Ty::Ident, "req.http.X".into()),
                (Ty::Illegal, "-".into()),
                (Ty::Ident, "Y".into()),
            ]
        );
        assert_eq!(go_parse_int(b"0"), Some(0));
        assert_eq!(go_parse_int(b"0755"), Some(493));
        assert_eq!(go_parse_int(b"08"), None);
        assert_eq!(go_parse_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(go_parse_int(b"9223372036854775808"), None);
    }

    #[test]
    fn strings_have_no_escapes_and_swallow_semicolons() {
        // The `;` ends the string and is consumed with it; a lone `"` is an empty string.
        assert_eq!(
            tokens(r#""x;y""#),
            [
                (Ty::Str, "x".into()),
                (Ty::Ident, "y".into()),
                (Ty::Str, "".into()),
            ]
        );
        assert_eq!(
            tokens(r#""a\"b""#),
            [
                (Ty::Str, "a\\".into()),
                (Ty::Ident, "b".into()),
                (Ty::Str, "".into()),
            ]
        );
        // A `"` followed by `/` does not end a string; any `/` makes it a "CIDR".
        assert_eq!(
            tokens(r#""" "10.0.0.0"/8; "/p""#),
            [
                (Ty::Str, "".into()),
                (Ty::Cidr, "\"10.0.0.0\"/8".into()),
                (Ty::Cidr, "\"/p".into()),
            ]
        );
        // Long strings are a `{` then an ordinary string.
        assert_eq!(
            tokens(r#"{"<b>"}"#),
            [
                (Ty::LBrace, "{".into()),
                (Ty::Str, "<b>".into()),
                (Ty::RBrace, "}".into()),
            ]
        );
    }

    #[test]
    fn comments_skip_one_byte_after_the_marker() {
        assert_eq!(
            tokens("# one\n//two\n/* x */ a|b"),
            [
                (Ty::Hash, "one".into()),
                (Ty::CommentLine, "wo".into()),
                (Ty::LMulti, "/*".into()),
                (Ty::Ident, "x".into()),
                (Ty::RMulti, "*/".into()),
                (Ty::Ident, "a".into()),
                (Ty::Empty, "".into()),
                (Ty::Ident, "b".into()),
            ]
        );
        assert_eq!(
            err("#\nacl a { \"x\"; }"),
            "decode vcl: line 1: empty `#` comment: conftest crashes here (go-vcl panics: runtime error: slice bounds out of range [2:1])"
        );
        assert_eq!(
            err("acl a { \"x\"; } //"),
            "decode vcl: line 1: empty `//` comment: conftest crashes here (go-vcl panics: runtime error: slice bounds out of range [:18] with length 17)"
        );
    }

    #[test]
    fn nul_is_an_eof_token_but_lexing_goes_on() {
        let mut l = Lexer::new(b"a\0b");
        let t = |l: &mut Lexer| {
            let t = l.next_token().expect("token");
            (t.ty, t.end)
        };
        assert_eq!(t(&mut l), (Ty::Ident, false));
        assert_eq!(t(&mut l), (Ty::Eof, false));
        assert_eq!(t(&mut l), (Ty::Ident, false));
        assert_eq!(t(&mut l), (Ty::Eof, true));
        // The program stops at the NUL.
        assert_eq!(parse(b"x = 1;\0y = 2;").expect("doc"), json!({"x": 1}));
    }

    #[test]
    fn illegal_bytes_become_runes() {
        assert_eq!(
            tokens("\u{e9}"),
            [
                (Ty::Illegal, "\u{c3}".into()),
                (Ty::Illegal, "\u{a9}".into())
            ]
        );
        assert_eq!(
            parse("acl caf\u{e9} { \"x\"; }".as_bytes()).expect("doc"),
            json!({"acl": {"caf": ["x"]}})
        );
        assert_eq!(go_string(b"a\xe2\x82z\xff"), "a\u{fffd}\u{fffd}z\u{fffd}");
        // Keys that become equal keep the value of the greater raw key (marshalled last).
        assert_eq!(
            parse(b"backend b { \"k\xff\": \"1\"; \"k\xfe\": \"2\"; }").expect("doc"),
            json!({"backend": {"b": {"k\u{fffd}": "1"}}})
        );
    }

    #[test]
    fn nul_inside_a_block_ends_the_block_only() {
        assert_eq!(
            parse(b"x = 1; acl a {\0 \"b\"; } c = 2;").expect("doc"),
            json!({"x": 1, "acl": {"a": []}, "c": 2})
        );
        // Labels are read past a NUL: it is just an empty label.
        assert_eq!(
            parse(b"acl\0 a { \"x\"; } y = 1;").expect("doc"),
            json!({"acl": {"": ["x"]}, "y": 1})
        );
    }

    #[test]
    fn documents() {
        let doc = |s: &str| parse(s.as_bytes()).expect("doc");
        assert_eq!(
            doc("backend b { .port = \"80\"; .probe = { .url = \"/\"; .window = 010; } }"),
            json!({"backend": {"b": {"port": "80", ".probe": {"url": "\"/", "window": 8}}}})
        );
        assert_eq!(
            doc("director d random { .quorum = 50%; }"),
            json!({"director": {"d": {"random": {"quorum": "50%"}}}})
        );
        assert_eq!(doc("\"a\": 1;"), json!({}));
        assert_eq!(
            doc("table t { \"k\": \"v\", \"n\": 1, }"),
            json!({"table": {"t": {"k": "v"}}})
        );
        assert_eq!(
            doc("sub s { if (a == \"b\") { x = 1; } }")["sub"]["s"][0],
            json!("b")
        );
        assert_eq!(
            doc("x = 9007199254740993;"),
            json!({"x": 9007199254740992.0})
        );
    }

    #[test]
    fn inputs_go_vcl_panics_on() {
        assert_eq!(
            err("vcl 4.0;"),
            "decode vcl: no top-level attribute or block: conftest crashes here (go-vcl panics: reflect: call of reflect.Value.Set on zero Value)"
        );
        assert_eq!(
            err("backend b {\n .port = \"a\" + \"b\";\n}"),
            "decode vcl: line 2: the value of `.port` is not a literal: conftest crashes here (go-vcl panics: cannot pass invalid argument which is no a literal)"
        );
        assert_eq!(
            err("x = 1; acl a;"),
            "decode vcl: line 1: `acl` without a body: conftest crashes here (go-vcl panics: runtime error: invalid memory address or nil pointer dereference)"
        );
        assert_eq!(
            err("sub { x = 1; }"),
            "decode vcl: line 1: top-level `sub` block without a label: conftest crashes here (go-vcl panics: runtime error: slice bounds out of range [1:0])"
        );
        assert_eq!(
            err("x = 1;\nacl a"),
            "decode vcl: line 2: `acl` runs to the end of the file without `{` or `;`: conftest never finishes (go-vcl collects empty labels until memory runs out)"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let ok = format!("x = {}1{};", "(".repeat(900), ")".repeat(900));
        assert_eq!(parse(ok.as_bytes()).expect("doc"), json!({"x": 1}));
        let deep = format!("a = {};", "{".repeat(100_000));
        assert!(err(&deep).contains("nesting deeper than 1000 levels"));
        let bangs = format!("a = {}1;", "!".repeat(100_000));
        assert!(err(&bangs).contains("nesting deeper"));
    }
}
