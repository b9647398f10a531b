//! regorus's policy length limits (1,024 columns, 20,000 lines, 1 MiB by default) lifted
//! to what its u32 source offsets allow: OPA loads any policy, such as an allow-list of
//! 200 images on one line.

use regorus::unstable::{Lexer, Source};
use regorus::utils::limits::PolicyLengthConfig;
use regorus::Engine;
use std::num::{NonZeroU32, NonZeroUsize};

/// The largest source regorus can address (its offsets are u32).
const MAX_BYTES: usize = u32::MAX as usize;

/// Limits no policy OPA accepts runs into.
pub fn lifted() -> PolicyLengthConfig {
    PolicyLengthConfig {
        max_col: NonZeroU32::MAX,
        max_file_bytes: NonZeroUsize::new(MAX_BYTES).unwrap_or(NonZeroUsize::MIN),
        max_lines: NonZeroUsize::MAX,
    }
}

/// A new engine with the lifted limits.
pub fn engine() -> Engine {
    let mut engine = Engine::new();
    engine.set_policy_length_config(lifted());
    engine
}

/// A source for regorun's own token scans, under the same limits as loading.
pub fn source(file: &str, text: &str) -> anyhow::Result<Source> {
    let l = lifted();
    Source::from_contents_with_limits(
        file.to_string(),
        text.to_string(),
        l.max_file_bytes,
        l.max_lines,
    )
}

/// A lexer over `source` without the column limit.
pub fn lexer(source: &Source) -> Lexer<'_> {
    let mut lexer = Lexer::new(source);
    lexer.set_max_col(lifted().max_col);
    lexer
}

/// The longest line regorus 0.14 can always load: its parser formats some messages (even
/// for policies that load) with the column as a width, which panics past `u16::MAX`.
pub const MAX_LINE_CHARS: usize = u16::MAX as usize;

/// The first line longer than [`MAX_LINE_CHARS`] among `(path, source)` pairs: file,
/// 1-based line, length.
pub fn overlong_line<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<(String, usize, usize)> {
    files.into_iter().find_map(|(path, source)| {
        source.lines().enumerate().find_map(|(i, l)| {
            let chars = l.chars().count();
            (chars > MAX_LINE_CHARS).then(|| (path.to_string(), i + 1, chars))
        })
    })
}

/// The most binary operators one expression may chain: regorus 0.14 walks such a chain
/// recursively and overflows its stack somewhere past 200,000 (`1 + 1 + ...`).
pub const MAX_CHAIN: usize = 100_000;

/// The deepest nesting of brackets (`[`, `{`, `(`) regorun lets regorus 0.14 parse: its
/// parser reads the first element of each array, set and object twice, so its time doubles
/// with each level (20 levels took 0.7 s, 24 eleven seconds); OPA has no limit. Deep literals
/// that are JSON text are read as JSON instead (`compat::deep_literals`).
pub const MAX_NESTING: usize = 20;

/// The first place among `(path, source)` pairs where brackets nest more than
/// [`MAX_NESTING`] levels deep: file, 1-based line, depth there.
pub fn overdeep_nesting<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<(String, u32, usize)> {
    use regorus::unstable::{Token, TokenKind};
    files.into_iter().find_map(|(path, text)| {
        // Only a source with that many opening brackets can nest that deep.
        if text.bytes().filter(|b| b"[{(".contains(b)).count() <= MAX_NESTING {
            return None;
        }
        let src = source(path, text).ok()?;
        let mut lexer = lexer(&src);
        let mut depth = 0usize;
        while let Ok(Token(kind, span)) = lexer.next_token() {
            match (kind, span.text()) {
                (TokenKind::Eof, _) => break,
                (TokenKind::Symbol, "[" | "{" | "(") => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Some((path.to_string(), span.line, depth));
                    }
                }
                (TokenKind::Symbol, "]" | "}" | ")") => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        None
    })
}

/// The first expression among `(path, source)` pairs that chains more than
/// [`MAX_CHAIN`] binary operators: file, 1-based line where it starts, operator count.
pub fn overlong_chain<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<(String, u32, usize)> {
    use regorus::unstable::{Token, TokenKind};
    const OPERATORS: [&str; 15] = [
        "+", "-", "*", "/", "%", "&", "|", "==", "!=", "<", ">", "<=", ">=", "in", "=",
    ];
    const BREAKS: [&str; 9] = [";", "{", "}", "(", ")", "[", "]", ",", ":="];
    files.into_iter().find_map(|(path, text)| {
        // Only a source with that many operator characters can hold such a chain.
        if text.bytes().filter(|b| b"+-*/%&|=<>".contains(b)).count() <= MAX_CHAIN {
            return None;
        }
        let src = source(path, text).ok()?;
        let mut lexer = lexer(&src);
        let (mut count, mut start, mut last_line, mut after_operator) = (0usize, 0u32, 0u32, true);
        let mut after_term = false;
        while let Ok(Token(kind, span)) = lexer.next_token() {
            if kind == TokenKind::Eof {
                break;
            }
            let t = span.text();
            // `a -1` is a subtraction, on the next line too.
            let signed = kind == TokenKind::Number && t.starts_with('-') && after_term;
            // A new line ends an expression unless it follows an operator.
            let breaks = (kind == TokenKind::Symbol && BREAKS.contains(&t))
                || (span.line != last_line && !after_operator && !signed);
            if breaks {
                count = 0;
                start = span.line;
            }
            last_line = span.line;
            let operator = (kind != TokenKind::String && OPERATORS.contains(&t)) || signed;
            if operator {
                count += 1;
                if count > MAX_CHAIN {
                    return Some((path.to_string(), start, count));
                }
            }
            after_operator = operator && !signed;
            after_term = matches!(
                kind,
                TokenKind::Number | TokenKind::Ident | TokenKind::String
            ) || t == ")"
                || t == "]";
        }
        None
    })
}
