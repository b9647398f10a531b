//! OPA's GraphQL syntax trees. `graphql.parse_query` and `graphql.parse_schema` return the
//! Go structures of OPA's GraphQL parser (gqlparser) as JSON, pruned as OPA prunes them:
//! no positions, no null members, no empty lists or objects. apollo-compiler's tree has
//! another shape, so the text is read here: a lexer and a recursive-descent parser that
//! give gqlparser's members, its placement of `#` comments, its error texts and positions.

use crate::base::gostr::quote;
use serde_json::{json, Map, Value as Json};
use std::fmt;

/// A syntax error, printed as OPA prints it.
#[derive(Debug, PartialEq)]
pub struct SyntaxError {
    message: String,
    line: i64,
    column: i64,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in GraphQL string at location {}:{}",
            self.message, self.line, self.column
        )
    }
}

type Parsed<T> = Result<T, SyntaxError>;

/// A query document (operations and fragments), pruned.
pub fn parse_query(text: &str) -> Parsed<Json> {
    let mut p = Parser::new(text);
    p.query_document().map(prune)
}

/// A schema document (type system definitions and extensions), pruned.
pub fn parse_schema(text: &str) -> Parsed<Json> {
    let mut p = Parser::new(text);
    p.schema_document().map(prune)
}

/// OPA's pruning of a GraphQL tree: `Position` members, nulls, and lists or objects left
/// empty once pruned are dropped.
pub fn prune(v: Json) -> Json {
    fn keep(v: Json) -> Option<Json> {
        match v {
            Json::Null => None,
            Json::Array(_) | Json::Object(_) => {
                let v = prune(v);
                let empty = match &v {
                    Json::Array(a) => a.is_empty(),
                    Json::Object(o) => o.is_empty(),
                    _ => false,
                };
                (!empty).then_some(v)
            }
            other => Some(other),
        }
    }
    match v {
        Json::Array(items) => Json::Array(items.into_iter().filter_map(keep).collect()),
        Json::Object(members) => Json::Object(
            members
                .into_iter()
                .filter(|(k, _)| k != "Position")
                .filter_map(|(k, v)| keep(v).map(|v| (k, v)))
                .collect::<Map<_, _>>(),
        ),
        other => other,
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Invalid,
    Eof,
    Bang,
    Dollar,
    Amp,
    ParenL,
    ParenR,
    Spread,
    Colon,
    Equals,
    At,
    BracketL,
    BracketR,
    BraceL,
    BraceR,
    Pipe,
    Name,
    Int,
    Float,
    Str,
    BlockStr,
    Comment,
}

impl Kind {
    /// gqlparser's name of a token kind in its messages.
    fn text(self) -> &'static str {
        match self {
            Kind::Invalid => "<Invalid>",
            Kind::Eof => "<EOF>",
            Kind::Bang => "!",
            Kind::Dollar => "$",
            Kind::Amp => "&",
            Kind::ParenL => "(",
            Kind::ParenR => ")",
            Kind::Spread => "...",
            Kind::Colon => ":",
            Kind::Equals => "=",
            Kind::At => "@",
            Kind::BracketL => "[",
            Kind::BracketR => "]",
            Kind::BraceL => "{",
            Kind::BraceR => "}",
            Kind::Pipe => "|",
            Kind::Name => "Name",
            Kind::Int => "Int",
            Kind::Float => "Float",
            Kind::Str => "String",
            Kind::BlockStr => "BlockString",
            Kind::Comment => "Comment",
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    value: String,
    line: i64,
    column: i64,
}

impl Token {
    /// The token in messages: its kind, and its quoted value when it has one.
    fn describe(&self) -> String {
        if self.value.is_empty() {
            self.kind.text().to_string()
        } else {
            format!("{} {}", self.kind.text(), quote(&self.value))
        }
    }
}

/// Columns count characters from 1, as gqlparser's do; a lexing error is a token of kind
/// `Invalid` at the offending character (gqlparser's parser reports that token, never the
/// lexer's own message).
struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    start_chars: i64,
    end: usize,
    end_chars: i64,
    line: i64,
    line_start_chars: i64,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            text,
            bytes: text.as_bytes(),
            start_chars: 0,
            end: 0,
            end_chars: 0,
            line: 1,
            line_start_chars: 0,
        }
    }

    fn token(&self, kind: Kind, value: String) -> Token {
        Token {
            kind,
            value,
            line: self.line,
            column: self.start_chars - self.line_start_chars + 1,
        }
    }

    fn invalid(&self) -> Token {
        Token {
            kind: Kind::Invalid,
            value: String::new(),
            line: self.line,
            column: self.end_chars - self.line_start_chars + 1,
        }
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.text.get(at..).and_then(|s| s.chars().next())
    }

    fn advance(&mut self, bytes: usize) {
        self.end += bytes;
        self.end_chars += 1;
    }

    fn newline(&mut self) {
        self.line += 1;
        self.line_start_chars = self.end_chars;
    }

    /// Skips blanks, commas, line ends and a byte order mark.
    fn skip_ignored(&mut self) {
        while let Some(&b) = self.bytes.get(self.end) {
            match b {
                b'\t' | b' ' | b',' => self.advance(1),
                b'\n' => {
                    self.advance(1);
                    self.newline();
                }
                b'\r' => {
                    self.advance(1);
                    self.newline();
                    if self.bytes.get(self.end) == Some(&b'\n') {
                        self.advance(1);
                    }
                }
                0xef if self.bytes[self.end..].starts_with(&[0xef, 0xbb, 0xbf]) => self.advance(3),
                _ => return,
            }
        }
    }

    fn read(&mut self) -> Token {
        self.skip_ignored();
        let start = self.end;
        self.start_chars = self.end_chars;
        let Some(&b) = self.bytes.get(start) else {
            return self.token(Kind::Eof, String::new());
        };
        let punctuator = match b {
            b'!' => Some(Kind::Bang),
            b'$' => Some(Kind::Dollar),
            b'&' => Some(Kind::Amp),
            b'(' => Some(Kind::ParenL),
            b')' => Some(Kind::ParenR),
            b':' => Some(Kind::Colon),
            b'=' => Some(Kind::Equals),
            b'@' => Some(Kind::At),
            b'[' => Some(Kind::BracketL),
            b']' => Some(Kind::BracketR),
            b'{' => Some(Kind::BraceL),
            b'}' => Some(Kind::BraceR),
            b'|' => Some(Kind::Pipe),
            _ => None,
        };
        if let Some(kind) = punctuator {
            self.advance(1);
            return self.token(kind, String::new());
        }
        match b {
            b'.' if self.bytes[start..].starts_with(b"...") => {
                self.end += 3;
                self.end_chars += 3;
                self.token(Kind::Spread, String::new())
            }
            b'#' => self.comment(start),
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                while matches!(
                    self.bytes.get(self.end),
                    Some(b'_' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
                ) {
                    self.advance(1);
                }
                self.token(Kind::Name, self.text[start..self.end].to_string())
            }
            b'-' | b'0'..=b'9' => self.number(start),
            b'"' if self.bytes[start..].starts_with(b"\"\"\"") => self.block_string(),
            b'"' => self.string(),
            _ => self.invalid(),
        }
    }

    fn comment(&mut self, start: usize) -> Token {
        while let Some(c) = self.char_at(self.end) {
            if c > '\u{1f}' || c == '\t' {
                self.advance(c.len_utf8());
            } else {
                break;
            }
        }
        self.token(Kind::Comment, self.text[start..self.end].to_string())
    }

    fn digits(&mut self) -> usize {
        let mut n = 0;
        while self.bytes.get(self.end).is_some_and(u8::is_ascii_digit) {
            self.advance(1);
            n += 1;
        }
        n
    }

    fn accept(&mut self, choices: &[u8]) -> bool {
        let hit = self
            .bytes
            .get(self.end)
            .is_some_and(|b| choices.contains(b));
        if hit {
            self.advance(1);
        }
        hit
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self, start: usize) -> Token {
        let mut float = false;
        self.accept(b"-");
        if self.accept(b"0") {
            let extra = self.digits();
            if extra != 0 {
                self.end -= extra;
                self.end_chars -= extra as i64;
                return self.invalid();
            }
        } else if self.digits() == 0 {
            return self.invalid();
        }
        if self.accept(b".") {
            float = true;
            if self.digits() == 0 {
                return self.invalid();
            }
        }
        if self.accept(b"eE") {
            float = true;
            self.accept(b"+-");
            if self.digits() == 0 {
                return self.invalid();
            }
        }
        let kind = if float { Kind::Float } else { Kind::Int };
        self.token(kind, self.text[start..self.end].to_string())
    }

    fn string(&mut self) -> Token {
        self.advance(1);
        self.start_chars += 1;
        let mut value = String::new();
        while let Some(c) = self.char_at(self.end) {
            match c {
                '\n' | '\r' => break,
                '"' => {
                    let token = self.token(Kind::Str, value);
                    self.advance(1);
                    return token;
                }
                '\\' => {
                    let escape = self.bytes.get(self.end + 1).copied();
                    let plain = match escape {
                        Some(b'"') => '"',
                        Some(b'/') => '/',
                        Some(b'\\') => '\\',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hex = self.text.get(self.end + 2..self.end + 6);
                            let code = hex
                                .filter(|_| self.end + 6 < self.bytes.len())
                                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                                .and_then(|h| u32::from_str_radix(h, 16).ok());
                            let Some(code) = code else {
                                self.advance(1);
                                return self.invalid();
                            };
                            // Go writes an unpaired surrogate as U+FFFD.
                            value.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                            self.end += 6;
                            self.end_chars += 6;
                            continue;
                        }
                        _ => {
                            self.advance(1);
                            return self.invalid();
                        }
                    };
                    value.push(plain);
                    self.end += 2;
                    self.end_chars += 2;
                }
                c if c < ' ' && c != '\t' => return self.invalid(),
                c => {
                    value.push(c);
                    self.advance(c.len_utf8());
                }
            }
        }
        self.invalid()
    }

    fn block_string(&mut self) -> Token {
        self.end += 3;
        self.end_chars += 3;
        self.start_chars += 3;
        let mut raw = String::new();
        while let Some(c) = self.char_at(self.end) {
            if c == '"' {
                let quotes = self.bytes[self.end..]
                    .iter()
                    .take_while(|&&b| b == b'"')
                    .count();
                if quotes >= 3 {
                    raw.extend(std::iter::repeat_n('"', quotes - 3));
                    let token = self.token(Kind::BlockStr, block_string_value(&raw));
                    self.end += quotes;
                    self.end_chars += quotes as i64;
                    return token;
                }
            }
            if c < ' ' && !matches!(c, '\t' | '\n' | '\r') {
                return self.invalid();
            }
            if self.bytes[self.end..].starts_with(b"\\\"\"\"") {
                raw.push_str("\"\"\"");
                self.end += 4;
                self.end_chars += 4;
            } else if c == '\r' {
                if self.bytes.get(self.end + 1) == Some(&b'\n') {
                    self.advance(1);
                }
                raw.push('\n');
                self.advance(1);
                self.newline();
            } else {
                raw.push(c);
                self.advance(c.len_utf8());
                if c == '\n' {
                    self.newline();
                }
            }
        }
        self.invalid()
    }
}

/// A block string's value: the common indentation removed from every line but the first
/// (the first line counts when the indentation is measured, as in gqlparser), blank
/// leading and trailing lines dropped.
fn block_string_value(raw: &str) -> String {
    fn indent(line: &str) -> Option<usize> {
        line.find(|c| c != ' ' && c != '\t')
    }
    let mut lines: Vec<&str> = raw.split('\n').collect();
    let common = lines.iter().filter_map(|l| indent(l)).min();
    if let Some(common) = common {
        for line in lines.iter_mut().skip(1) {
            *line = line.get(common..).unwrap_or("");
        }
    }
    let first = lines.iter().position(|l| indent(l).is_some());
    let last = lines.iter().rposition(|l| indent(l).is_some());
    match (first, last) {
        (Some(a), Some(b)) => lines[a..=b].join("\n"),
        _ => String::new(),
    }
}

/// A description and the comments before it.
#[derive(Default)]
struct Description {
    text: String,
    comment: Json,
}

/// The parser keeps gqlparser's model of comments: peeking at a token collects the
/// comments just before it as the current group, which consuming the token clears.
struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token>,
    prev: Option<Token>,
    comment: Json,
}

const LOCATIONS: &[&str] = &[
    "QUERY",
    "MUTATION",
    "SUBSCRIPTION",
    "FIELD",
    "FRAGMENT_DEFINITION",
    "FRAGMENT_SPREAD",
    "INLINE_FRAGMENT",
    "VARIABLE_DEFINITION",
    "SCHEMA",
    "SCALAR",
    "OBJECT",
    "FIELD_DEFINITION",
    "ARGUMENT_DEFINITION",
    "INTERFACE",
    "UNION",
    "ENUM",
    "ENUM_VALUE",
    "INPUT_OBJECT",
    "INPUT_FIELD_DEFINITION",
];

fn error_at(t: &Token, message: String) -> SyntaxError {
    SyntaxError {
        message,
        line: t.line,
        column: t.column,
    }
}

/// A value node: gqlparser's `Value`.
fn value_node(raw: String, children: Vec<Json>, kind: u8, comment: Json) -> Json {
    json!({
        "Raw": raw, "Children": children, "Kind": kind, "Comment": comment,
        "Definition": null, "VariableDefinition": null, "ExpectedType": null,
        "ExpectedTypeHasDefault": false,
    })
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            lexer: Lexer::new(text),
            peeked: None,
            prev: None,
            comment: Json::Null,
        }
    }

    fn peek(&mut self) -> &Token {
        if self.peeked.is_none() {
            let mut token = self.lexer.read();
            let mut comments = Vec::new();
            while token.kind == Kind::Comment {
                comments.push(json!({"Value": token.value, "Position": null}));
                // gqlparser consumes comments as tokens: the last is the previous token.
                self.prev = Some(token);
                token = self.lexer.read();
            }
            if !comments.is_empty() {
                self.comment = json!({ "List": comments });
            }
            self.peeked = Some(token);
        }
        self.peeked.as_ref().expect("peeked above")
    }

    fn peek_kind(&mut self) -> Kind {
        self.peek().kind
    }

    fn peek_is(&mut self, kind: Kind, value: &str) -> bool {
        let t = self.peek();
        t.kind == kind && t.value == value
    }

    fn peek_value_is(&mut self, value: &str) -> bool {
        self.peek().value == value
    }

    fn next(&mut self) -> Token {
        self.peek();
        let token = self.peeked.take().expect("peeked above");
        self.comment = Json::Null;
        self.prev = Some(token.clone());
        token
    }

    fn unexpected(&mut self) -> SyntaxError {
        let t = self.peek().clone();
        error_at(&t, format!("Unexpected {}", t.describe()))
    }

    fn expect(&mut self, kind: Kind) -> Parsed<(Token, Json)> {
        let t = self.peek().clone();
        let comment = self.comment.clone();
        if t.kind != kind {
            let msg = format!("Expected {}, found {}", kind.text(), t.kind.text());
            return Err(error_at(&t, msg));
        }
        Ok((self.next(), comment))
    }

    fn expect_keyword(&mut self, word: &str) -> Parsed<Json> {
        let t = self.peek().clone();
        let comment = self.comment.clone();
        if t.kind != Kind::Name || t.value != word {
            let msg = format!("Expected {}, found {}", quote(word), t.describe());
            return Err(error_at(&t, msg));
        }
        self.next();
        Ok(comment)
    }

    fn skip(&mut self, kind: Kind) -> bool {
        let hit = self.peek_kind() == kind;
        if hit {
            self.next();
        }
        hit
    }

    fn name(&mut self) -> Parsed<String> {
        Ok(self.expect(Kind::Name)?.0.value)
    }

    /// Zero or more items between `open` and `close`; nothing without `open`.
    fn many<F>(&mut self, open: Kind, close: Kind, mut item: F) -> Parsed<Vec<Json>>
    where
        F: FnMut(&mut Self) -> Parsed<Json>,
    {
        let mut items = Vec::new();
        if !self.skip(open) {
            return Ok(items);
        }
        while self.peek_kind() != close {
            items.push(item(self)?);
        }
        self.next();
        Ok(items)
    }

    /// One or more items between `open` and `close`, and the comments before `close`.
    fn some<F>(&mut self, open: Kind, close: Kind, mut item: F) -> Parsed<(Vec<Json>, Json)>
    where
        F: FnMut(&mut Self) -> Parsed<Json>,
    {
        let mut items = Vec::new();
        if !self.skip(open) {
            return Ok((items, Json::Null));
        }
        while self.peek_kind() != close {
            items.push(item(self)?);
        }
        if items.is_empty() {
            let t = self.peek().clone();
            let msg = format!("expected at least one definition, found {}", t.kind.text());
            return Err(error_at(&t, msg));
        }
        let comment = self.comment.clone();
        self.next();
        Ok((items, comment))
    }

    // Executable documents.

    fn query_document(&mut self) -> Parsed<Json> {
        let (mut operations, mut fragments) = (Vec::new(), Vec::new());
        loop {
            let t = self.peek().clone();
            match (t.kind, t.value.as_str()) {
                (Kind::Eof, _) => break,
                (Kind::Name, "query" | "mutation" | "subscription") | (Kind::BraceL, _) => {
                    operations.push(self.operation()?)
                }
                (Kind::Name, "fragment") => fragments.push(self.fragment_definition()?),
                _ => return Err(self.unexpected()),
            }
        }
        Ok(json!({"Operations": operations, "Fragments": fragments, "Comment": null}))
    }

    fn operation(&mut self) -> Parsed<Json> {
        let comment = self.comment.clone();
        if self.peek_kind() == Kind::BraceL {
            // gqlparser builds this node in one composite literal, where Go reads
            // `p.comment` after the calls: after the selection set, so the comment
            // before a `{ ... }` shorthand is not its own (OPA gives none).
            let selection_set = self.required_selection_set()?;
            return Ok(json!({
                "Operation": "query", "Name": "", "VariableDefinitions": null,
                "Directives": null, "SelectionSet": selection_set,
                "Comment": self.comment.clone(),
            }));
        }
        let operation = self.operation_type()?;
        let name = if self.peek_kind() == Kind::Name {
            self.next().value
        } else {
            String::new()
        };
        Ok(json!({
            "Operation": operation, "Name": name,
            "VariableDefinitions": self.variable_definitions()?,
            "Directives": self.directives(false)?,
            "SelectionSet": self.required_selection_set()?, "Comment": comment,
        }))
    }

    fn operation_type(&mut self) -> Parsed<String> {
        let t = self.next();
        match t.value.as_str() {
            "query" | "mutation" | "subscription" => Ok(t.value),
            _ => Err(error_at(&t, format!("Unexpected {}", t.describe()))),
        }
    }

    fn variable_definitions(&mut self) -> Parsed<Vec<Json>> {
        Ok(self
            .some(Kind::ParenL, Kind::ParenR, Self::variable_definition)?
            .0)
    }

    fn variable_definition(&mut self) -> Parsed<Json> {
        let comment = self.comment.clone();
        let variable = self.variable()?;
        let (typ, default) = self.typed_default()?;
        Ok(json!({
            "Variable": variable, "Type": typ, "DefaultValue": default,
            "Directives": self.directives(false)?, "Comment": comment,
            "Definition": null, "Used": false,
        }))
    }

    /// `: Type` and an optional `= value` (a constant): a variable's or an input value's.
    fn typed_default(&mut self) -> Parsed<(Json, Json)> {
        self.expect(Kind::Colon)?;
        let typ = self.type_reference()?;
        let default = if self.skip(Kind::Equals) {
            self.value_literal(true)?
        } else {
            Json::Null
        };
        Ok((typ, default))
    }

    fn variable(&mut self) -> Parsed<String> {
        self.expect(Kind::Dollar)?;
        self.name()
    }

    fn required_selection_set(&mut self) -> Parsed<Vec<Json>> {
        if self.peek_kind() != Kind::BraceL {
            let t = self.peek().clone();
            let msg = format!("Expected {{, found {}", t.kind.text());
            return Err(error_at(&t, msg));
        }
        self.selection_set()
    }

    fn selection_set(&mut self) -> Parsed<Vec<Json>> {
        Ok(self.some(Kind::BraceL, Kind::BraceR, Self::selection)?.0)
    }

    fn selection(&mut self) -> Parsed<Json> {
        if self.peek_kind() == Kind::Spread {
            return self.fragment();
        }
        let comment = self.comment.clone();
        let alias = self.name()?;
        let name = if self.skip(Kind::Colon) {
            self.name()?
        } else {
            alias.clone()
        };
        let arguments = self.arguments(false)?;
        let directives = self.directives(false)?;
        let selections = if self.peek_kind() == Kind::BraceL {
            Json::from(self.selection_set()?)
        } else {
            Json::Null
        };
        Ok(json!({
            "Alias": alias, "Name": name, "Arguments": arguments, "Directives": directives,
            "SelectionSet": selections, "Comment": comment, "Definition": null,
            "ObjectDefinition": null,
        }))
    }

    fn arguments(&mut self, constant: bool) -> Parsed<Vec<Json>> {
        let argument = |p: &mut Self| p.named_value(constant);
        Ok(self.some(Kind::ParenL, Kind::ParenR, argument)?.0)
    }

    /// `name: value`, an argument or an object field, with the comments before it.
    fn named_value(&mut self, constant: bool) -> Parsed<Json> {
        let comment = self.comment.clone();
        let name = self.name()?;
        self.expect(Kind::Colon)?;
        let value = self.value_literal(constant)?;
        Ok(json!({"Name": name, "Value": value, "Comment": comment}))
    }

    fn fragment(&mut self) -> Parsed<Json> {
        let (_, comment) = self.expect(Kind::Spread)?;
        let t = self.peek().clone();
        if t.kind == Kind::Name && t.value != "on" {
            return Ok(json!({
                "Name": self.fragment_name()?, "Directives": self.directives(false)?,
                "ObjectDefinition": null, "Definition": null, "Comment": comment,
            }));
        }
        // gqlparser compares the value only: any token spelled `on` starts the condition.
        let condition = if t.value == "on" {
            self.next();
            self.name()?
        } else {
            String::new()
        };
        Ok(json!({
            "TypeCondition": condition, "Directives": self.directives(false)?,
            "SelectionSet": self.required_selection_set()?, "ObjectDefinition": null,
            "Comment": comment,
        }))
    }

    fn fragment_definition(&mut self) -> Parsed<Json> {
        let comment = self.comment.clone();
        self.expect_keyword("fragment")?;
        let name = self.fragment_name()?;
        let variables = self.variable_definitions()?;
        self.expect_keyword("on")?;
        Ok(json!({
            "Name": name, "VariableDefinition": variables, "TypeCondition": self.name()?,
            "Directives": self.directives(false)?,
            "SelectionSet": self.required_selection_set()?, "Definition": null,
            "Comment": comment,
        }))
    }

    fn fragment_name(&mut self) -> Parsed<String> {
        if self.peek_value_is("on") {
            return Err(self.unexpected());
        }
        self.name()
    }

    /// A value; `constant` forbids variables (default values, type system directives).
    fn value_literal(&mut self, constant: bool) -> Parsed<Json> {
        let t = self.peek().clone();
        let kind = match t.kind {
            Kind::BracketL | Kind::BraceL => {
                let comment = self.comment.clone();
                let (children, kind) = if t.kind == Kind::BracketL {
                    let item = |p: &mut Self| {
                        let value = p.value_literal(constant)?;
                        Ok(json!({"Name": "", "Value": value, "Comment": null}))
                    };
                    (self.many(Kind::BracketL, Kind::BracketR, item)?, 8)
                } else {
                    let field = |p: &mut Self| p.named_value(constant);
                    (self.many(Kind::BraceL, Kind::BraceR, field)?, 9)
                };
                return Ok(value_node(String::new(), children, kind, comment));
            }
            Kind::Dollar if !constant => {
                let name = self.variable()?;
                return Ok(value_node(name, Vec::new(), 0, Json::Null));
            }
            Kind::Int => 1,
            Kind::Float => 2,
            Kind::Str => 3,
            Kind::BlockStr => 4,
            Kind::Name => match t.value.as_str() {
                "true" | "false" => 5,
                "null" => 6,
                _ => 7,
            },
            _ => return Err(self.unexpected()),
        };
        self.next();
        Ok(value_node(t.value, Vec::new(), kind, Json::Null))
    }

    fn directives(&mut self, constant: bool) -> Parsed<Vec<Json>> {
        let mut directives = Vec::new();
        while self.peek_kind() == Kind::At {
            self.next();
            let name = self.name()?;
            directives.push(json!({
                "Name": name, "Arguments": self.arguments(constant)?,
                "ParentDefinition": null, "Definition": null, "Location": "",
            }));
        }
        Ok(directives)
    }

    fn type_reference(&mut self) -> Parsed<Json> {
        let (named, elem) = if self.skip(Kind::BracketL) {
            let elem = self.type_reference()?;
            self.expect(Kind::BracketR)?;
            (String::new(), elem)
        } else {
            (self.name()?, Json::Null)
        };
        let non_null = self.skip(Kind::Bang);
        Ok(json!({"NamedType": named, "Elem": elem, "NonNull": non_null}))
    }

    // Schema documents.

    fn schema_document(&mut self) -> Parsed<Json> {
        let mut doc: Map<String, Json> = Map::new();
        let push = |doc: &mut Map<String, Json>, key: &str, v: Json| {
            let list = doc.entry(key).or_insert_with(|| Json::Array(Vec::new()));
            if let Json::Array(items) = list {
                items.push(v);
            }
        };
        while self.peek_kind() != Kind::Eof {
            let description = match self.peek_kind() {
                Kind::Str | Kind::BlockStr => self.description(),
                _ => Description::default(),
            };
            if self.peek_kind() != Kind::Name {
                return Err(self.unexpected());
            }
            let word = self.peek().value.clone();
            match word.as_str() {
                "scalar" | "type" | "interface" | "union" | "enum" | "input" => {
                    let d = self.type_definition(&word, description)?;
                    push(&mut doc, "Definitions", d);
                }
                "schema" => {
                    let d = self.schema_definition(description)?;
                    push(&mut doc, "Schema", d);
                }
                "directive" => {
                    let d = self.directive_definition(description)?;
                    push(&mut doc, "Directives", d);
                }
                "extend" => {
                    if !description.text.is_empty() {
                        let t = self.prev.clone().expect("the description was read");
                        return Err(error_at(&t, format!("Unexpected {}", t.describe())));
                    }
                    let comment = self.expect_keyword("extend")?;
                    let (key, d) = self.extension(comment)?;
                    push(&mut doc, key, d);
                }
                _ => return Err(self.unexpected()),
            }
        }
        // Comments at the end of the text belong to the document.
        doc.insert("Comment".into(), self.comment.clone());
        Ok(Json::Object(doc))
    }

    fn description(&mut self) -> Description {
        let comment = self.comment.clone();
        Description {
            text: self.next().value,
            comment,
        }
    }

    /// A member's description, kept only when it is not empty (gqlparser's rule), and
    /// the comments before its name.
    fn member_description(&mut self) -> (Description, Json) {
        let mut description = match self.peek_kind() {
            Kind::Str | Kind::BlockStr => self.description(),
            _ => Description::default(),
        };
        if description.text.is_empty() {
            description.comment = Json::Null;
        }
        self.peek();
        (description, self.comment.clone())
    }

    /// A type definition of kind `word` (`type`, `enum`...), or with `extension` the body
    /// of `extend <word>`.
    fn type_definition(&mut self, word: &str, description: Description) -> Parsed<Json> {
        let after = self.expect_keyword(word)?;
        self.type_body(word, description, after, false)
    }

    fn type_body(
        &mut self,
        word: &str,
        description: Description,
        after: Json,
        extension: bool,
    ) -> Parsed<Json> {
        let name = self.name()?;
        let interfaces = if matches!(word, "type") || (word == "interface" && !extension) {
            self.implements()?
        } else {
            Vec::new()
        };
        // gqlparser reads an input extension's directives as non-constant.
        let directives = self.directives(!(extension && word == "input"))?;
        let (mut fields, mut types, mut values, mut end) = (vec![], vec![], vec![], Json::Null);
        match word {
            "type" | "interface" => {
                (fields, end) = self.some(Kind::BraceL, Kind::BraceR, Self::field_definition)?
            }
            "input" => (fields, end) = self.some(Kind::BraceL, Kind::BraceR, Self::input_value)?,
            "enum" => (values, end) = self.some(Kind::BraceL, Kind::BraceR, Self::enum_value)?,
            "union" => types = self.union_members()?,
            _ => {}
        }
        if extension
            && directives.is_empty()
            && fields.is_empty()
            && types.is_empty()
            && values.is_empty()
            && interfaces.is_empty()
        {
            return Err(self.unexpected());
        }
        let kind = match word {
            "scalar" => "SCALAR",
            "type" => "OBJECT",
            "interface" => "INTERFACE",
            "union" => "UNION",
            "enum" => "ENUM",
            _ => "INPUT_OBJECT",
        };
        Ok(json!({
            "Kind": kind, "Description": description.text, "Name": name,
            "Directives": directives, "Interfaces": interfaces, "Fields": fields,
            "Types": types, "EnumValues": values, "BuiltIn": false,
            "BeforeDescriptionComment": description.comment,
            "AfterDescriptionComment": after, "EndOfDefinitionComment": end,
        }))
    }

    fn implements(&mut self) -> Parsed<Vec<Json>> {
        let mut names = Vec::new();
        if self.peek_value_is("implements") {
            self.next();
            self.skip(Kind::Amp);
            names.push(Json::from(self.name()?));
            while self.skip(Kind::Amp) {
                names.push(Json::from(self.name()?));
            }
        }
        Ok(names)
    }

    fn union_members(&mut self) -> Parsed<Vec<Json>> {
        let mut names = Vec::new();
        if self.skip(Kind::Equals) {
            self.skip(Kind::Pipe);
            names.push(Json::from(self.name()?));
            while self.skip(Kind::Pipe) {
                names.push(Json::from(self.name()?));
            }
        }
        Ok(names)
    }

    fn field_definition(&mut self) -> Parsed<Json> {
        let (description, after) = self.member_description();
        let name = self.name()?;
        let arguments = self.argument_definitions()?;
        self.expect(Kind::Colon)?;
        Ok(json!({
            "Description": description.text, "Name": name, "Arguments": arguments,
            "DefaultValue": null, "Type": self.type_reference()?,
            "Directives": self.directives(true)?,
            "BeforeDescriptionComment": description.comment,
            "AfterDescriptionComment": after,
        }))
    }

    fn argument_definitions(&mut self) -> Parsed<Vec<Json>> {
        let argument = |p: &mut Self| {
            let mut v = p.input_value()?;
            if let Json::Object(members) = &mut v {
                members.remove("Arguments");
            }
            Ok(v)
        };
        Ok(self.some(Kind::ParenL, Kind::ParenR, argument)?.0)
    }

    /// An input field (gqlparser's `FieldDefinition`) or, without `Arguments`, an argument
    /// definition.
    fn input_value(&mut self) -> Parsed<Json> {
        let (description, after) = self.member_description();
        let name = self.name()?;
        let (typ, default) = self.typed_default()?;
        Ok(json!({
            "Description": description.text, "Name": name, "Arguments": null,
            "DefaultValue": default, "Type": typ, "Directives": self.directives(true)?,
            "BeforeDescriptionComment": description.comment,
            "AfterDescriptionComment": after,
        }))
    }

    fn enum_value(&mut self) -> Parsed<Json> {
        let (description, after) = self.member_description();
        Ok(json!({
            "Description": description.text, "Name": self.name()?,
            "Directives": self.directives(true)?,
            "BeforeDescriptionComment": description.comment,
            "AfterDescriptionComment": after,
        }))
    }

    fn schema_definition(&mut self, description: Description) -> Parsed<Json> {
        let after = self.expect_keyword("schema")?;
        self.schema_body(description, after, false)
    }

    fn schema_body(
        &mut self,
        description: Description,
        after: Json,
        extension: bool,
    ) -> Parsed<Json> {
        let directives = self.directives(true)?;
        let operation_type = |p: &mut Self| {
            let comment = p.comment.clone();
            let operation = p.operation_type()?;
            p.expect(Kind::Colon)?;
            Ok(json!({"Operation": operation, "Type": p.name()?, "Comment": comment}))
        };
        let (operations, end) = self.some(Kind::BraceL, Kind::BraceR, operation_type)?;
        if extension && directives.is_empty() && operations.is_empty() {
            return Err(self.unexpected());
        }
        Ok(json!({
            "Description": description.text, "Directives": directives,
            "OperationTypes": operations,
            "BeforeDescriptionComment": description.comment,
            "AfterDescriptionComment": after, "EndOfDefinitionComment": end,
        }))
    }

    fn directive_definition(&mut self, description: Description) -> Parsed<Json> {
        let after = self.expect_keyword("directive")?;
        self.expect(Kind::At)?;
        let name = self.name()?;
        let arguments = self.argument_definitions()?;
        let repeatable = self.peek_is(Kind::Name, "repeatable");
        if repeatable {
            self.next();
        }
        self.expect_keyword("on")?;
        self.skip(Kind::Pipe);
        let mut locations = vec![self.directive_location()?];
        while self.skip(Kind::Pipe) {
            locations.push(self.directive_location()?);
        }
        Ok(json!({
            "Description": description.text, "Name": name, "Arguments": arguments,
            "Locations": locations, "IsRepeatable": repeatable,
            "BeforeDescriptionComment": description.comment,
            "AfterDescriptionComment": after,
        }))
    }

    fn directive_location(&mut self) -> Parsed<Json> {
        let (t, _) = self.expect(Kind::Name)?;
        if LOCATIONS.contains(&t.value.as_str()) {
            Ok(Json::from(t.value))
        } else {
            Err(error_at(&t, format!("Unexpected {}", t.describe())))
        }
    }

    /// `extend ...` after the keyword: the document member it adds to, and the node.
    fn extension(&mut self, after: Json) -> Parsed<(&'static str, Json)> {
        let word = self.peek().value.clone();
        match word.as_str() {
            "schema" => {
                self.expect_keyword("schema")?;
                let node = self.schema_body(Description::default(), after, true)?;
                Ok(("SchemaExtension", node))
            }
            "scalar" | "type" | "interface" | "union" | "enum" | "input" => {
                self.expect_keyword(&word)?;
                let node = self.type_body(&word, Description::default(), after, true)?;
                Ok(("Extensions", node))
            }
            _ => Err(self.unexpected()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_strings_lose_common_indentation_and_blank_edges() {
        assert_eq!(block_string_value("\n  a\n    b\n"), "a\n  b");
        // The first line takes part in the measure, as in gqlparser.
        assert_eq!(block_string_value("x\n   y"), "x\n   y");
        assert_eq!(block_string_value("  \n \t "), "");
    }

    /// The OPA peer reports this position (the multi-byte character counts once).
    #[test]
    fn positions_count_characters_from_one() {
        let err = parse_query("{ f(a: \"ਊ\", b: 01) }").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unexpected <Invalid> in GraphQL string at location 1:17"
        );
    }
}
