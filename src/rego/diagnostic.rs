//! regorus diagnostics in conftest's and OPA's words.

/// The parts of a regorus diagnostic: `--> file:line:col`, a source excerpt, `error: msg`.
#[derive(Debug, PartialEq)]
pub struct RegoDiagnostic {
    /// File as loaded.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// The message after `error: `.
    pub message: String,
    /// The offending source line, if shown.
    pub source_line: Option<String>,
}

/// Picks a regorus diagnostic apart; `None` when it has no location.
pub fn parse_diagnostic(raw: &str) -> Option<RegoDiagnostic> {
    let lines: Vec<&str> = raw.lines().collect();
    let loc_idx = lines
        .iter()
        .position(|l| l.trim_start().starts_with("--> "))?;
    let loc = lines[loc_idx].trim_start().trim_start_matches("--> ");
    let mut parts = loc.rsplitn(3, ':');
    let col = parts.next()?.trim().parse().ok()?;
    let line = parts.next()?.trim().parse().ok()?;
    let file = parts.next()?.to_string();
    let message = lines
        .iter()
        .rev()
        .find_map(|l| l.trim_start().strip_prefix("error: "))
        .unwrap_or("")
        .to_string();
    let prefix = format!("{line} |");
    let source_line = lines
        .iter()
        .find_map(|l| l.trim_start().strip_prefix(&prefix))
        .map(|s| s.strip_prefix(' ').unwrap_or(s).to_string());
    Some(RegoDiagnostic {
        file,
        line,
        col,
        message,
        source_line,
    })
}

/// Turns a regorus parse error into conftest's `<file>:<row>: rego_parse_error: <msg>`
/// followed by the offending line and a caret, as OPA prints parse errors.
/// `original`: the user's text of the file when regorus read a rewritten one, so that the
/// quoted line is the user's (the rewrites keep lines, and mostly insert text: the caret
/// moves back over what was inserted before it).
pub fn format_rego_error(path: &str, raw: &str, original: Option<&str>) -> String {
    let Some(mut d) = parse_diagnostic(raw) else {
        let msg = raw
            .trim()
            .lines()
            .last()
            .unwrap_or("")
            .trim_start_matches("error: ");
        return format!("{path}: rego_parse_error: {msg}");
    };
    let message = if d.message.contains("cannot parse number: out of range") {
        // OPA keeps such literals as big numbers; regorus has only 64-bit floats.
        "number out of range: regorun holds numbers as 64-bit floats (at most about 1.8e308), \
         OPA as arbitrary-precision numbers; write a bound within that range"
            .to_string()
    } else {
        d.message
    };
    let user_line = original.and_then(|o| o.lines().nth((d.line as usize).checked_sub(1)?));
    if let (Some(user), Some(read)) = (user_line, d.source_line.as_deref()) {
        if user != read {
            d.col = user_column(user, read, d.col);
            d.source_line = Some(user.to_string());
        }
    }
    let mut out = format!("{}:{}: rego_parse_error: {message}", d.file, d.line);
    if let Some(src) = d.source_line {
        let stripped = src.trim_start_matches('\t');
        let removed = src.chars().count() - stripped.chars().count();
        let caret_pad = (d.col as usize).saturating_sub(1 + removed);
        out.push_str(&format!("\n\t{stripped}\n\t{}^", " ".repeat(caret_pad)));
    }
    out
}

/// The column in `user` of the character at (1-based) column `col` of `read`, a rewritten
/// form of that line: characters of `read` that do not match the next one of `user` count
/// as inserted.
fn user_column(user: &str, read: &str, col: u32) -> u32 {
    let mut next = user.chars().peekable();
    let mut at = 1;
    for c in read.chars().take((col as usize).saturating_sub(1)) {
        if next.peek() == Some(&c) {
            next.next();
            at += 1;
        }
    }
    at
}

/// One-line form of an evaluation error: `file:line: message`, conflicts in OPA's words.
pub fn format_eval_error(raw: &str) -> String {
    match parse_diagnostic(raw) {
        Some(d) => format!("{}:{}: {}", d.file, d.line, opa_wording(&d)),
        None => raw.trim().replace('\n', " "),
    }
}

/// OPA's `eval_conflict_error` texts for regorus's conflict messages; a partial object
/// rule (`p[k] := v` with a variable key, the source line shows) gives one key two values.
pub(crate) fn opa_wording(d: &RegoDiagnostic) -> std::borrow::Cow<'_, str> {
    const COMPLETE: &str = "eval_conflict_error: complete rules must not produce multiple outputs";
    const FUNCTIONS: &str =
        "eval_conflict_error: functions must not produce multiple outputs for same inputs";
    const OBJECT: &str = "eval_conflict_error: object keys must be unique";
    let message = d.message.as_str();
    if message.starts_with("rule conflicts with rule at ")
        || message.starts_with("complete rules should not produce multiple outputs")
        || message.starts_with("rules should not produce multiple outputs")
        || message.starts_with("rules must not produce multiple outputs")
    {
        if d.source_line.as_deref().is_some_and(object_head) {
            OBJECT.into()
        } else {
            COMPLETE.into()
        }
    } else if message.starts_with("functions must not produce multiple outputs")
        || message.starts_with("function produced multiple outputs")
    {
        FUNCTIONS.into()
    } else if message.starts_with("value for key `") && message.contains("generated multiple times")
    {
        // An object comprehension giving one key two values.
        OBJECT.into()
    } else if message == "divide by zero" {
        "eval_builtin_error: div: divide by zero".into()
    } else if message == "modulo by zero" {
        "eval_builtin_error: rem: modulo by zero".into()
    } else if message == "modulo on floating-point number" {
        "eval_builtin_error: rem: modulo on floating-point number".into()
    } else if let Some(text) = arithmetic_operand_error(d) {
        text.into()
    } else {
        message.into()
    }
}

/// OPA's `eval_type_error` for regorus's "`mul` expects numeric argument. Got `v` instead":
/// OPA names the operation and the operand, which the error's column tells (it points at
/// the operand; one after an arithmetic operator is the second).
fn arithmetic_operand_error(d: &RegoDiagnostic) -> Option<String> {
    let rest = d.message.strip_prefix('`')?;
    let (op, rest) = rest.split_once("` expects numeric argument. Got `")?;
    let value = rest.strip_suffix("` instead")?;
    let (name, want) = match op {
        "add" => ("plus", "number"),
        "sub" => ("minus", "one of {number, set}"),
        "mul" => ("mul", "number"),
        "div" => ("div", "number"),
        "mod" => ("rem", "number"),
        _ => return None,
    };
    let line = d.source_line.as_deref()?;
    // regorus counts a tab as four columns; its column is where the operand's reference
    // ends (`input.s` at the last `.`), so the reference is skipped back over.
    let mut width = 1;
    let end = line
        .char_indices()
        .find(|&(_, c)| {
            width += if c == '\t' { 4 } else { 1 };
            width > d.col as usize
        })
        .map_or(line.len(), |(i, _)| i);
    let before = line[..end]
        .trim_end_matches(|c: char| c.is_alphanumeric() || "_.[]\"".contains(c))
        .trim_end();
    let pos = match before.chars().last() {
        Some('+' | '-' | '*' | '/' | '%') => 2,
        _ => 1,
    };
    let got = match value.chars().next()? {
        '"' => "string",
        '[' => "array",
        '{' if value.contains(':') || value == "{}" => "object",
        '{' => "set",
        't' | 'f' => "boolean",
        'n' => "null",
        _ => return None,
    };
    Some(format!(
        "eval_type_error: {name}: operand {pos} must be {want} but got {got}"
    ))
}

/// Whether a source line starts with a partial object head: `name[var] :=` or `name[var] =`.
fn object_head(line: &str) -> bool {
    let line = line.trim_start();
    let Some((name, rest)) = line.split_once('[') else {
        return false;
    };
    let Some((key, rest)) = rest.split_once(']') else {
        return false;
    };
    let word = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_alphanumeric() || c == '_');
    let starts_var = key
        .trim()
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    name.split('.').all(word)
        && word(key.trim())
        && starts_var
        && matches!(rest.trim_start().get(..1), Some(":" | "="))
}

/// The `hint:` line after load errors that Rego v0 syntax gives under v1 (a rule body
/// without `if`, a partial set rule without `contains`): conftest's errors alone do not
/// say why or what to do.
pub fn v0_hint(errors: &[String]) -> Option<String> {
    const V0_SIGNS: [&str; 2] = [
        "rego_parse_error: `if` keyword is required before rule body",
        "rego_parse_error: `contains` keyword is required for partial set rules",
    ];
    let first = errors
        .iter()
        .find(|e| V0_SIGNS.iter().any(|sign| e.contains(sign)))?;
    let file = first.split(':').next().unwrap_or_default();
    Some(format!(
        "hint: {file} looks like Rego v0: run with --rego-version v0, or convert it to Rego v1 (`if` before every rule body, `contains` in partial set rules)"
    ))
}
