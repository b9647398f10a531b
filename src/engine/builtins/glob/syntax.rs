//! gobwas/glob's pattern syntax (the library OPA's `glob.match` uses): its lexer's rules
//! and its parser's tree, errors included, so that a pattern OPA refuses is refused here.

/// A node of a parsed pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A sequence of nodes.
    Pattern(Vec<Node>),
    /// `{a,b}`: its alternatives (patterns, or nothing once common parts are taken out).
    AnyOf(Vec<Node>),
    /// The empty string.
    Nothing,
    /// Literal text.
    Text(String),
    /// `*`: any run of characters without a delimiter.
    Any,
    /// `**`: any run of characters.
    Super,
    /// `?`: one character that is no delimiter.
    Single,
    /// `[abc]`, `[!abc]`.
    List { chars: String, not: bool },
    /// `[a-z]`, `[!a-z]`.
    Range { lo: char, hi: char, not: bool },
}

#[derive(Debug, PartialEq)]
enum Token {
    Text(String),
    Any,
    Super,
    Single,
    RangeClose,
    Not,
    RangeLo(char),
    RangeHi(char),
    RangeOpen,
    TermsOpen,
    Separator,
    TermsClose,
}

/// Characters that end a text outside `{...}`; inside, `}` and `,` end it too.
const TEXT_BREAKERS: &[char] = &['?', '*', '[', '{'];
const TERMS_BREAKERS: &[char] = &['?', '*', '[', '{', '}', ','];

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    tokens: Vec<Token>,
    terms: usize,
}

impl Lexer {
    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        self.pos += usize::from(c.is_some());
        c
    }

    fn peek_is(&self, c: char) -> bool {
        self.chars.get(self.pos) == Some(&c)
    }

    fn run(mut self) -> Result<Vec<Token>, String> {
        while let Some(c) = self.read() {
            match c {
                '{' => {
                    self.terms += 1;
                    self.tokens.push(Token::TermsOpen);
                }
                ',' if self.terms > 0 => self.tokens.push(Token::Separator),
                '}' if self.terms > 0 => {
                    self.tokens.push(Token::TermsClose);
                    self.terms -= 1;
                }
                '[' => {
                    self.tokens.push(Token::RangeOpen);
                    self.range()?;
                }
                '?' => self.tokens.push(Token::Single),
                '*' if self.peek_is('*') => {
                    self.pos += 1;
                    self.tokens.push(Token::Super);
                }
                '*' => self.tokens.push(Token::Any),
                _ => {
                    self.pos -= 1;
                    let breakers = if self.terms > 0 {
                        TERMS_BREAKERS
                    } else {
                        TEXT_BREAKERS
                    };
                    self.text(breakers);
                }
            }
        }
        Ok(self.tokens)
    }

    /// After `[`: `!`, then `lo-hi` or a list of characters, then `]`.
    fn range(&mut self) -> Result<(), String> {
        let end = || "unexpected end of input".to_string();
        let mut seen_not = false;
        loop {
            let c = self.read().ok_or_else(end)?;
            if !seen_not && c == '!' {
                self.tokens.push(Token::Not);
                seen_not = true;
                continue;
            }
            if self.peek_is('-') {
                self.pos += 1;
                self.tokens.push(Token::RangeLo(c));
                let hi = self.read().ok_or_else(end)?;
                self.tokens.push(Token::RangeHi(hi));
            } else {
                self.pos -= 1;
                self.text(&[']']);
            }
            return match self.read() {
                None => Err(end()),
                Some(']') => {
                    self.tokens.push(Token::RangeClose);
                    Ok(())
                }
                Some(_) => Err("expected close range character".to_string()),
            };
        }
    }

    /// Text up to a breaker (left unread); `\` takes the next character as it is, and a
    /// `\` at the end is dropped.
    fn text(&mut self, breakers: &[char]) {
        let mut data = String::new();
        let mut escaped = false;
        while let Some(c) = self.read() {
            if !escaped {
                if c == '\\' {
                    escaped = true;
                    continue;
                }
                if breakers.contains(&c) {
                    self.pos -= 1;
                    break;
                }
            }
            escaped = false;
            data.push(c);
        }
        if !data.is_empty() {
            self.tokens.push(Token::Text(data));
        }
    }
}

/// Parses `pattern` as gobwas/glob does: an unclosed `{` closes at the end, a range
/// must be one `lo-hi` or one list of characters.
pub fn parse(pattern: &str) -> Result<Node, String> {
    let tokens = Lexer {
        chars: pattern.chars().collect(),
        pos: 0,
        tokens: Vec::new(),
        terms: 0,
    }
    .run()?;
    // The open patterns, innermost last: each `{` opens an alternative list.
    let mut stack: Vec<Vec<Node>> = vec![Vec::new()];
    let mut alternatives: Vec<Vec<Node>> = Vec::new();
    let mut tokens = tokens.into_iter();
    while let Some(token) = tokens.next() {
        let node = match token {
            Token::Text(t) => Node::Text(t),
            Token::Any => Node::Any,
            Token::Super => Node::Super,
            Token::Single => Node::Single,
            Token::RangeOpen => range(&mut tokens)?,
            Token::TermsOpen => {
                alternatives.push(Vec::new());
                stack.push(Vec::new());
                continue;
            }
            Token::Separator => {
                let done = stack.pop().unwrap_or_default();
                if let Some(list) = alternatives.last_mut() {
                    list.push(Node::Pattern(done));
                }
                stack.push(Vec::new());
                continue;
            }
            Token::TermsClose => {
                close_terms(&mut stack, &mut alternatives);
                continue;
            }
            other => return Err(format!("unexpected token: {other:?}")),
        };
        if let Some(open) = stack.last_mut() {
            open.push(node);
        }
    }
    // An unclosed `{` still holds its alternatives.
    while !alternatives.is_empty() {
        close_terms(&mut stack, &mut alternatives);
    }
    Ok(Node::Pattern(stack.pop().unwrap_or_default()))
}

fn close_terms(stack: &mut Vec<Vec<Node>>, alternatives: &mut Vec<Vec<Node>>) {
    let done = stack.pop().unwrap_or_default();
    let mut list = alternatives.pop().unwrap_or_default();
    list.push(Node::Pattern(done));
    if let Some(open) = stack.last_mut() {
        open.push(Node::AnyOf(list));
    }
}

/// The tokens of a range after `[`, through `]`.
fn range(tokens: &mut impl Iterator<Item = Token>) -> Result<Node, String> {
    let (mut not, mut lo, mut hi, mut chars) = (false, '\0', '\0', String::new());
    for token in tokens.by_ref() {
        match token {
            Token::Not => not = true,
            Token::RangeLo(c) => lo = c,
            Token::RangeHi(c) => {
                hi = c;
                if hi < lo {
                    return Err(format!(
                        "hi character '{hi}' should be greater than lo '{lo}'"
                    ));
                }
            }
            Token::Text(t) => chars = t,
            Token::RangeClose => {
                let is_range = lo != '\0' && hi != '\0';
                if is_range != chars.is_empty() {
                    return Err("could not parse range".to_string());
                }
                return Ok(if is_range {
                    Node::Range { lo, hi, not }
                } else {
                    Node::List { chars, not }
                });
            }
            _ => {}
        }
    }
    Err("unexpected end".to_string())
}
