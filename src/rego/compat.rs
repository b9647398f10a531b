//! Load-time source rewrites for Rego that OPA loads and regorus 0.14 rejects or reads
//! differently. Each keeps every line where it was (text moves or is inserted only
//! within lines), so errors, `print()` output and coverage still name the user's lines.
//!
//! - `import` after rules (OPA accepts imports anywhere at the top level): hoisted onto
//!   the `package` line, which regorus accepts, leaving its own line blank.
//! - v0 rules with several bodies (`deny[m] { a } { b }`): regorus reads the extra
//!   bodies as `else` branches; OPA makes each body its own rule, so the head is
//!   repeated before each extra body.
//! - Rules without a body that regorus reads differently or rejects get an always-true
//!   body (` if true`, or ` { true }` under v0): v0 `wl["p"]` (a set element in OPA, a
//!   `true` map entry in regorus), a function head alone (`f("x", _)`, `true` in OPA, a
//!   parse error in regorus); a head value with an index (`volumes contains
//!   pod.spec.volumes[_]`: undefined in OPA when `pod` is not a collection, an error that
//!   stops the run in regorus) is computed in a body instead.
//! - A local declared with `some` that has the name of a rule of the package: OPA's
//!   local shadows the rule, regorus reads the rule (`some resource_type` beside a
//!   `resource_type` rule matches nothing). The local is renamed within its rule.
//! - A rule with `else` whose first value indexes with a variable its body assigns
//!   (`v := m[k] if { k := "b" } else := 0`): regorus iterates the index and reports a
//!   false conflict; the value is computed at the end of the body instead (only for a
//!   value on one line, so no line moves).
//! - A built-in called with an output argument (`net.cidr_merge(xs, out)`, a statement
//!   of its own): regorus rejects the whole module ("var out is unsafe"); it becomes
//!   `out = net.cidr_merge(xs)`, so a missing built-in only affects the rules calling it.
//! - `not f(x.y)`: OPA evaluates a reference argument before the negation, so an
//!   undefined `x.y` fails the expression; regorus negates the undefined call (true).
//!   Each such argument is checked first: `_ = x.y; not f(x.y)`.
//! - A comprehension that reads an outer variable and then declares its own of the same
//!   name (`[name | x.n == name; name := x.m]`, conftest's combine example): OPA reads
//!   the outer one before the declaration and the comprehension's own after it (and in
//!   the head); regorus rejects the use "before definition". The comprehension's own
//!   variable is renamed from its declaration on.
//! - `[path, value] = walk(x)` (or `:=`): `walk` is a relation, and OPA gives every
//!   pair in this form too; regorus only in the output-argument form `walk(x, [path,
//!   value])`, which it becomes.
//! - An import alias (`import data.fugue` then `fugue.resources(x)`): regorus evaluates
//!   every rule of every package below `data.fugue` to resolve it (OPA only the rule
//!   named), which can reach the test being run ("recursion detected"); each use
//!   becomes the full reference `data.fugue.resources(x)`.
//! - Template strings (`$"hello {input.name}"`), see [`crate::rego::template`].
//! - `default p.q.f(x) := 1` alone: OPA's package document holds `{"p": {"q": {}}}`,
//!   regorus's nothing; a twin that never holds is appended ([`default_ref_functions`]).
//! - A line starting with `(` inside a body: OPA reads a new expression, regorus a call
//!   of the previous line's last term (`x` then `(a - b) >= 1` is `x(a - b) >= 1`), so a
//!   `;` ends the previous line.

use regorus::unstable::TokenKind;

/// A token: kind, text, line and byte range in the source.
pub(crate) struct Tok {
    pub kind: TokenKind,
    pub text: String,
    pub line: u32,
    pub start: usize,
    pub end: usize,
}

/// The tokens of `source`, or `None` when it does not lex (loading reports that).
pub(crate) fn lex(file: &str, source: &str) -> Option<Vec<Tok>> {
    let (toks, complete) = lex_prefix(file, source);
    complete.then_some(toks)
}

/// The tokens of `source` up to the first that does not lex, and whether it all did.
pub(crate) fn lex_prefix(file: &str, source: &str) -> (Vec<Tok>, bool) {
    let Ok(src) = crate::rego::limits::source(file, source) else {
        return (Vec::new(), false);
    };
    let mut lexer = crate::rego::limits::lexer(&src);
    let mut toks = Vec::new();
    loop {
        let Ok(regorus::unstable::Token(kind, span)) = lexer.next_token() else {
            return (toks, false);
        };
        if kind == TokenKind::Eof {
            break;
        }
        // A string's span leaves out its quotes; the byte range here covers them.
        let (start, end) = match kind {
            TokenKind::String | TokenKind::RawString => {
                (span.start as usize - 1, span.end as usize + 1)
            }
            _ => (span.start as usize, span.end as usize),
        };
        let text = span.text();
        // The lexer reads `set(` (of `set()`) as one token; the passes count brackets.
        if text == "set(" {
            toks.push(Tok {
                kind: TokenKind::Ident,
                text: "set".to_string(),
                line: span.line,
                start,
                end: end - 1,
            });
            toks.push(Tok {
                kind: TokenKind::Symbol,
                text: "(".to_string(),
                line: span.line,
                start: end - 1,
                end,
            });
            continue;
        }
        toks.push(Tok {
            kind,
            text: text.to_string(),
            line: span.line,
            start,
            end,
        });
    }
    (toks, true)
}

/// An edit: replace `start..end` of the source with `text`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

fn apply(source: &str, mut edits: Vec<Edit>) -> String {
    // From the end, so that earlier offsets stay valid.
    edits.sort_by_key(|e| std::cmp::Reverse((e.start, e.end)));
    let mut out = source.to_string();
    for e in edits {
        out.replace_range(e.start..e.end, &e.text);
    }
    out
}

/// The functions the policies define, by package and name: their arity (a call with
/// one argument more has an output argument), the files defining them and whether one
/// of the definitions is a `default`.
#[derive(Debug, Default)]
pub struct Functions(std::collections::BTreeMap<(Vec<String>, String), Definition>);

/// Where and how one function is defined.
#[derive(Debug)]
pub struct Definition {
    /// Number of arguments.
    pub arity: usize,
    /// Indices of the files with a clause, in load order.
    pub files: Vec<usize>,
    /// Whether there is a `default` definition.
    pub default: bool,
}

impl Functions {
    /// Every function defined in `sources` (those that do not lex are skipped).
    pub fn of(sources: &[(&str, &str)]) -> Functions {
        let mut out: std::collections::BTreeMap<_, Definition> = std::collections::BTreeMap::new();
        for (k, (file, source)) in sources.iter().enumerate() {
            let templated = crate::rego::template::rewrite(source);
            let Some(toks) = lex(file, templated.as_deref().unwrap_or(source)) else {
                continue;
            };
            let stmts = statements(&toks);
            let Some((package, _)) = scope(&toks, &stmts) else {
                continue;
            };
            for &(s, e) in &stmts {
                let default = toks[s].text == "default";
                let at = s + usize::from(default);
                let named = toks.get(at).is_some_and(|t| t.kind == TokenKind::Ident)
                    && toks.get(at + 1).is_some_and(|t| t.text == "(")
                    && at < e;
                if !named || matches!(toks[at].text.as_str(), "package" | "import") {
                    continue;
                }
                let Some((args, _)) = call_args(&toks, at + 1) else {
                    continue;
                };
                let def = out
                    .entry((package.clone(), toks[at].text.clone()))
                    .or_insert(Definition {
                        arity: args.len(),
                        files: Vec::new(),
                        default: false,
                    });
                def.default |= default;
                if def.files.last() != Some(&k) {
                    def.files.push(k);
                }
            }
        }
        Functions(out)
    }

    /// The arity of the function at `path` (`lib.f`, without `data.`).
    pub(crate) fn arity(&self, path: &str) -> Option<usize> {
        let (package, name) = path.rsplit_once('.')?;
        let package: Vec<String> = package.split('.').map(str::to_string).collect();
        self.0.get(&(package, name.to_string())).map(|d| d.arity)
    }

    /// Every function with its name and definition.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Definition)> {
        self.0.iter().map(|((_, name), d)| (name.as_str(), d))
    }
}

/// A file's package path (without `data.`) and import aliases (alias → path).
pub(crate) type Scope = (Vec<String>, std::collections::BTreeMap<String, Vec<String>>);

pub(crate) fn scope(toks: &[Tok], stmts: &[(usize, usize)]) -> Option<Scope> {
    let path = |ts: &[Tok]| -> Vec<String> {
        let parts: Vec<String> = ts
            .iter()
            .filter(|t| matches!(t.kind, TokenKind::Ident | TokenKind::String))
            .map(|t| t.text.clone())
            .collect();
        match parts.first().map(String::as_str) {
            Some("data") => parts[1..].to_vec(),
            _ => parts,
        }
    };
    let &(s, e) = stmts.first()?;
    if toks[s].text != "package" {
        return None;
    }
    // Imports hoisted onto the package line share its statement.
    let package_end = (s + 1..=e)
        .find(|&j| toks[j].text == "import")
        .map_or(e, |j| j - 1);
    let package = path(&toks[s + 1..=package_end]);
    let mut aliases = std::collections::BTreeMap::new();
    let imports = toks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == TokenKind::Ident && t.text == "import")
        .map(|(j, _)| j);
    for j in imports {
        let end = line_end(toks, j);
        let mut k = j + 1;
        while k <= end && toks[k].text != "import" && toks[k].text != "as" {
            k += 1;
        }
        let target = &toks[j + 1..k];
        if target.first().is_none_or(|t| t.text != "data") {
            continue;
        }
        let full = path(target);
        let alias = if toks.get(k).is_some_and(|t| t.text == "as") {
            toks.get(k + 1).map(|t| t.text.clone())
        } else {
            full.last().cloned()
        };
        if let Some(alias) = alias {
            aliases.insert(alias, full);
        }
    }
    Some((package, aliases))
}

/// `source` with every rewrite applied, or `None` when none applies (or it does not lex).
pub fn rewrite(file: &str, source: &str, v0: bool) -> Option<String> {
    rewrite_with(file, source, v0, &Functions::default())
}

/// [`rewrite`], knowing the functions of every loaded policy (for their output
/// arguments).
pub fn rewrite_with(file: &str, source: &str, v0: bool, functions: &Functions) -> Option<String> {
    // Template strings first: the lexer cannot read them.
    let templated = crate::rego::template::rewrite(source);
    let source = templated.as_deref().unwrap_or(source);
    let Some(toks) = lex(file, source) else {
        return templated;
    };
    let mut edits = late_imports(source, &toks);
    if v0 {
        edits.extend(extra_bodies(source, &toks));
    }
    edits.extend(paren_lines(&toks));
    let stmts = statements(&toks);
    edits.extend(bodiless(&toks, &stmts, v0));
    let scope = scope(&toks, &stmts);
    let aliases: std::collections::BTreeSet<&str> = scope
        .as_ref()
        .map(|(_, a)| a.keys().map(String::as_str).collect())
        .unwrap_or_default();
    edits.extend(shadowing_locals(&toks, &stmts, &aliases));
    if let Some((package, paths)) = &scope {
        edits.extend(expand_aliases(&toks, &stmts, paths));
        edits.extend(with_rule_targets(&toks, &stmts, package));
    }
    edits.extend(else_values(source, &toks, &stmts));
    let arity = |name: &str| -> Option<usize> {
        builtin_arity(name).or_else(|| {
            let (package, aliases) = scope.as_ref()?;
            let parts: Vec<&str> = name.split('.').collect();
            let full = match parts[0] {
                "data" => parts[1..].join("."),
                first => match aliases.get(first) {
                    Some(path) => {
                        let rest = parts[1..].iter().map(|p| p.to_string());
                        path.iter()
                            .cloned()
                            .chain(rest)
                            .collect::<Vec<_>>()
                            .join(".")
                    }
                    None if parts.len() == 1 => format!("{}.{name}", package.join(".")),
                    None => return None,
                },
            };
            functions.arity(&full)
        })
    };
    edits.extend(out_params(source, &toks, &arity));
    edits.extend(negated_call_refs(source, &toks));
    edits.extend(rebound_in_comprehensions(&toks));
    edits.extend(walk_assignments(source, &toks));
    edits.extend(sprintf_missing(source, &toks));
    let v1 = helpers_take_if(source, v0);
    edits.extend(routed_calls(source, &toks, &aliases, v1));
    edits.extend(builtin_mock_values(source, &toks, &aliases, v1));
    let literals = deep_literals(source, &toks, &edits);
    edits.extend(literals);
    let escapes = html_safe_marshal(&toks, &edits);
    edits.extend(escapes);
    let strings = sprintf_string_values(source, &toks, &edits, v1);
    edits.extend(strings);
    edits.extend(default_ref_functions(source, &toks, &stmts, v1));
    added_calls_in_set_heads(source, &toks, &stmts, v0, &mut edits);
    if edits.is_empty() {
        return templated;
    }
    Some(apply(source, edits))
}

/// `default p.q.f(x) := 1`: OPA's package document holds the function's prefix
/// (`{"p": {"q": {}}}`, as for any function under a reference head), regorus's only when
/// a rule other than the default defines the function. A twin that never holds,
/// `p.q.f(__regorun_a0) := 1 if { false }`, is appended after the last line.
fn default_ref_functions(
    source: &str,
    toks: &[Tok],
    stmts: &[(usize, usize)],
    v1: bool,
) -> Option<Edit> {
    let is = |k: usize, kind: TokenKind, text: &str| {
        toks.get(k)
            .is_some_and(|t| t.kind == kind && t.text == text)
    };
    let mut text = String::new();
    for &(s, e) in stmts {
        if !is(s, TokenKind::Ident, "default") {
            continue;
        }
        let mut parts = Vec::new();
        let mut k = s + 1;
        while let Some(t) = toks.get(k).filter(|t| t.kind == TokenKind::Ident) {
            parts.push(t.text.as_str());
            if !is(k + 1, TokenKind::Symbol, ".") {
                break;
            }
            k += 2;
        }
        if parts.len() < 2 || !is(k + 1, TokenKind::Symbol, "(") {
            continue;
        }
        let Some((args, close)) = call_args(toks, k + 1) else {
            continue;
        };
        let op = &toks[(close + 1).min(e)];
        if close + 1 >= e || op.kind != TokenKind::Symbol || !matches!(op.text.as_str(), ":=" | "=")
        {
            continue;
        }
        let value = &source[toks[close + 2].start..toks[e].end];
        let body = if v1 { "if { false }" } else { "{ false }" };
        text.push_str(&format!(
            "{}({}) {} {value} {body}\n",
            parts.join("."),
            helper_params(args.len()),
            op.text
        ));
    }
    after_last_line(source, text)
}

/// The nesting from which a literal is read as JSON text ([`deep_literals`]).
const DEEP_LITERAL: usize = 8;

/// regorus 0.14's parser reads the first element of every array, set and object literal
/// twice (as a comprehension's term, then as an element), so its time doubles with each
/// level of nesting: `[{"a": [{"a": ...}]}]` ten levels deep took seconds, fifteen more than
/// a minute, where OPA reads it at once. A ground literal nested [`DEEP_LITERAL`] levels or
/// more that is JSON text becomes `json.unmarshal(`...`)` of that text, the same value,
/// lines kept (a raw string holds the newlines). Literals another rewrite touches, or that
/// hold a backtick, are left alone.
fn deep_literals(source: &str, toks: &[Tok], edits: &[Edit]) -> Vec<Edit> {
    let sym = |t: &Tok, s: &[&str]| t.kind == TokenKind::Symbol && s.contains(&t.text.as_str());
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if !sym(&toks[i], &["[", "{"]) {
            i += 1;
            continue;
        }
        // The matching close and the deepest nesting inside.
        let (mut depth, mut deepest, mut close) = (0usize, 0usize, None);
        for (j, t) in toks.iter().enumerate().skip(i) {
            if sym(t, &["[", "{", "("]) {
                depth += 1;
                deepest = deepest.max(depth);
            } else if sym(t, &["]", "}", ")"]) {
                depth -= 1;
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
        }
        let Some(close) = close else {
            break;
        };
        let (start, end) = (toks[i].start, toks[close].end);
        let text = &source[start..end];
        let json = deepest >= DEEP_LITERAL
            && !text.contains('`')
            && serde_json::from_str::<serde_json::Value>(text).is_ok()
            && !touched(edits, start, end);
        if json {
            out.push(Edit {
                start,
                end,
                text: format!("json.unmarshal(`{text}`)"),
            });
            i = close + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Whether another rewrite changes the text from `start` to `end`, or inserts at either
/// end (its insertion would interleave with one made there): wrapping that text would
/// garble both.
fn touched(edits: &[Edit], start: usize, end: usize) -> bool {
    edits.iter().any(|e| {
        (e.start < e.end && e.start < end && start < e.end) || e.start == start || e.start == end
    })
}

/// Go's `encoding/json`, which OPA's `json.marshal` and `json.marshal_with_options` use,
/// writes `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`, `\u003e`, `\u0026`, `\u2028`,
/// `\u2029`; regorus writes them as they are. Each call's result goes through `replace`
/// with those escapes (in JSON text the characters occur only inside strings), on the
/// call's own lines, so the bytecode VM still runs it. Calls another rewrite touches are
/// left alone.
fn html_safe_marshal(toks: &[Tok], edits: &[Edit]) -> Vec<Edit> {
    const ESCAPES: [(&str, &str); 5] = [
        ("<", "\\\\u003c"),
        (">", "\\\\u003e"),
        ("&", "\\\\u0026"),
        ("\\u2028", "\\\\u2028"),
        ("\\u2029", "\\\\u2029"),
    ];
    let mut out = Vec::new();
    for i in 0..toks.len() {
        if i > 0 && toks[i - 1].text == "." {
            continue;
        }
        let Some(open) = dotted_call(toks, i) else {
            continue;
        };
        let name: String = toks[i..open].iter().map(|t| t.text.as_str()).collect();
        let arity = match name.as_str() {
            "json.marshal" => 1,
            "json.marshal_with_options" => 2,
            _ => continue,
        };
        let Some((args, close)) = call_args(toks, open) else {
            continue;
        };
        let (start, end) = (toks[i].start, toks[close].end);
        if args.len() != arity || touched(edits, start, end) {
            continue;
        }
        // Go writes the prefix and indent as they are: options must be a literal without
        // those characters.
        if arity == 2 {
            let (a, b) = args[1];
            let literal = toks[a].text == "{"
                && toks[a..=b].iter().all(|t| {
                    t.kind != TokenKind::Ident || matches!(t.text.as_str(), "true" | "false")
                })
                && !toks[a..=b].iter().any(|t| t.text.contains(['<', '>', '&']));
            if !literal {
                continue;
            }
        }
        out.push(Edit {
            start,
            end: start,
            text: "replace(".repeat(ESCAPES.len()),
        });
        let tail: String = ESCAPES
            .iter()
            .map(|(from, to)| format!(", \"{from}\", \"{to}\")"))
            .collect();
        out.push(Edit {
            start: end,
            end,
            text: tail,
        });
    }
    out
}

/// Whether token `i` is the first on its line.
fn line_start(toks: &[Tok], i: usize) -> bool {
    i == 0 || toks[i - 1].line != toks[i].line
}

/// The index of the last token on token `i`'s line.
fn line_end(toks: &[Tok], i: usize) -> usize {
    let mut j = i;
    while j + 1 < toks.len() && toks[j + 1].line == toks[i].line {
        j += 1;
    }
    j
}

/// `import` statements after the first rule, moved to the end of the `package` line.
fn late_imports(source: &str, toks: &[Tok]) -> Vec<Edit> {
    let Some(package) = toks
        .iter()
        .position(|t| t.kind == TokenKind::Ident && t.text == "package")
    else {
        return Vec::new();
    };
    let package_end = line_end(toks, package);
    let mut in_header = true;
    let mut moved = String::new();
    let mut edits = Vec::new();
    let mut depth = 0usize;
    let mut i = package_end + 1;
    while i < toks.len() {
        let t = &toks[i];
        if depth == 0 && line_start(toks, i) && t.kind == TokenKind::Ident {
            if t.text == "import" {
                let last = line_end(toks, i);
                if !in_header {
                    moved.push(' ');
                    moved.push_str(&source[t.start..toks[last].end]);
                    edits.push(Edit {
                        start: t.start,
                        end: toks[last].end,
                        text: String::new(),
                    });
                }
                i = last + 1;
                continue;
            }
            in_header = false;
        }
        match t.text.as_str() {
            "(" | "[" | "{" if t.kind == TokenKind::Symbol => depth += 1,
            ")" | "]" | "}" if t.kind == TokenKind::Symbol => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    if !moved.is_empty() {
        let at = toks[package_end].end;
        edits.push(Edit {
            start: at,
            end: at,
            text: moved,
        });
    }
    edits
}

/// Tokens after which `{` opens a value (object, set, comprehension), not a rule body.
fn opens_value(prev: &Tok) -> bool {
    match prev.kind {
        TokenKind::Symbol => !matches!(prev.text.as_str(), ")" | "]" | "}"),
        TokenKind::Ident => matches!(prev.text.as_str(), "in" | "contains" | "with" | "as"),
        _ => false,
    }
}

/// v0 rules with several bodies: the head, repeated before each extra body.
fn extra_bodies(source: &str, toks: &[Tok]) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut depth = 0usize;
    // Where the current top-level statement starts, and where its head ends (the token
    // before its first body).
    let mut stmt: Option<usize> = None;
    let mut head_end: Option<usize> = None;
    // Whether the last `}` that brought the depth back to 0 closed a rule body.
    let mut body_open = false;
    let mut last_closed_body = false;
    for (i, t) in toks.iter().enumerate() {
        if depth == 0 && line_start(toks, i) && !(t.kind == TokenKind::Symbol && t.text == "{") {
            if t.kind == TokenKind::Ident && !matches!(t.text.as_str(), "else") {
                stmt = Some(i);
                head_end = None;
            }
            last_closed_body = false;
        }
        if t.kind == TokenKind::Symbol {
            match t.text.as_str() {
                "{" if depth == 0 => {
                    let is_body = i > 0 && !opens_value(&toks[i - 1]);
                    if is_body {
                        if let (true, Some(s), Some(h)) = (last_closed_body, stmt, head_end) {
                            let head =
                                source[toks[s].start..toks[h].end].replace(['\n', '\r'], " ");
                            edits.push(Edit {
                                start: t.start,
                                end: t.start,
                                text: format!("{head} "),
                            });
                        } else if head_end.is_none() && stmt.is_some() {
                            head_end = Some(i - 1);
                        }
                    }
                    body_open = is_body;
                    last_closed_body = false;
                    depth += 1;
                }
                "(" | "[" | "{" => {
                    depth += 1;
                    last_closed_body = false;
                }
                ")" | "]" | "}" => {
                    depth = depth.saturating_sub(1);
                    last_closed_body = depth == 0 && t.text == "}" && body_open;
                    if depth == 0 {
                        body_open = false;
                    }
                }
                _ => last_closed_body = false,
            }
        } else {
            if t.kind == TokenKind::Ident && t.text == "else" && depth == 0 {
                // `else` bodies belong to the same rule; a body after them is not extra.
                head_end = head_end.or(Some(i.saturating_sub(1)));
            }
            last_closed_body = false;
        }
    }
    edits
}

/// Whether a token can end an expression (and so be called by a following `(`).
fn ends_term(t: &Tok) -> bool {
    match t.kind {
        TokenKind::Number | TokenKind::String | TokenKind::RawString => true,
        TokenKind::Symbol => matches!(t.text.as_str(), ")" | "]" | "}"),
        TokenKind::Ident => !matches!(
            t.text.as_str(),
            "if" | "else"
                | "not"
                | "some"
                | "every"
                | "in"
                | "with"
                | "as"
                | "contains"
                | "default"
                | "import"
                | "package"
        ),
        _ => false,
    }
}

/// `;` at the end of a line inside braces when the next line starts with `(`.
fn paren_lines(toks: &[Tok]) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut open: Vec<&str> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if i > 0
            && t.kind == TokenKind::Symbol
            && t.text == "("
            && line_start(toks, i)
            && open.last() == Some(&"{")
            && ends_term(&toks[i - 1])
        {
            edits.push(Edit {
                start: toks[i - 1].end,
                end: toks[i - 1].end,
                text: ";".to_string(),
            });
        }
        if t.kind == TokenKind::Symbol {
            match t.text.as_str() {
                "(" => open.push("("),
                "[" => open.push("["),
                "{" => open.push("{"),
                ")" | "]" | "}" => {
                    open.pop();
                }
                _ => {}
            }
        }
    }
    edits
}

/// The top-level statements: (first, last) token indices of each rule.
pub(crate) fn statements(toks: &[Tok]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start: Option<usize> = None;
    for (i, t) in toks.iter().enumerate() {
        if depth == 0 && line_start(toks, i) && !(t.kind == TokenKind::Symbol && t.text == "{") {
            let continues = t.kind == TokenKind::Ident && t.text == "else"
                || i > 0
                    && toks[i - 1].kind == TokenKind::Symbol
                    && !matches!(toks[i - 1].text.as_str(), ")" | "]" | "}");
            if !continues {
                if let Some(s) = start.take() {
                    out.push((s, i - 1));
                }
                start = Some(i);
            }
        }
        if t.kind == TokenKind::Symbol {
            match t.text.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    if let Some(s) = start {
        out.push((s, toks.len() - 1));
    }
    out
}

/// What a local that shadows a rule is renamed to: this prefix and its name.
const LOCAL_PREFIX: &str = "__regorun_local_";

/// Locals declared with `some` (`some x`, `some k, v in xs`) that have the name of a
/// rule of the package, renamed throughout the rule that declares them.
fn shadowing_locals(
    toks: &[Tok],
    stmts: &[(usize, usize)],
    aliases: &std::collections::BTreeSet<&str>,
) -> Vec<Edit> {
    let rule_name = |(s, _): (usize, usize)| {
        let first = &toks[s];
        match first.text.as_str() {
            "package" | "import" => None,
            "default" => toks.get(s + 1).map(|t| t.text.as_str()),
            _ => Some(first.text.as_str()),
        }
    };
    let mut names: std::collections::BTreeSet<&str> =
        stmts.iter().filter_map(|&st| rule_name(st)).collect();
    names.extend(aliases.iter().copied());
    let mut edits = Vec::new();
    for &(s, e) in stmts {
        if rule_name((s, e)).is_none() {
            continue;
        }
        // Each shadowing local and where it is declared: the comprehension around its
        // `some`, or else the whole rule.
        let mut shadowing: Vec<(&str, usize, usize)> = Vec::new();
        for i in s..=e {
            if toks[i].kind != TokenKind::Ident || toks[i].text != "some" {
                continue;
            }
            let mut depth = 0usize;
            let mut scope = (s + 1, e);
            for o in (s..i).rev() {
                match toks[o].text.as_str() {
                    ")" | "]" | "}" if toks[o].kind == TokenKind::Symbol => depth += 1,
                    "(" | "[" | "{" if toks[o].kind == TokenKind::Symbol && depth > 0 => depth -= 1,
                    "[" | "{" if toks[o].kind == TokenKind::Symbol => {
                        let value = toks[o].text == "[" || o > 0 && opens_value(&toks[o - 1]);
                        if value {
                            if let Some(c) = closing(toks, o) {
                                scope = (o + 1, c);
                            }
                        }
                        break;
                    }
                    _ => {}
                }
            }
            let mut j = i + 1;
            while j <= e && toks[j].kind == TokenKind::Ident && toks[j].line == toks[i].line {
                if toks[j].text == "in" {
                    break;
                }
                if names.contains(toks[j].text.as_str()) {
                    shadowing.push((toks[j].text.as_str(), scope.0, scope.1));
                }
                if toks.get(j + 1).is_some_and(|t| t.text == ",") {
                    j += 2;
                } else {
                    break;
                }
            }
        }
        let mut renamed = std::collections::BTreeSet::new();
        for (name, from, to) in shadowing {
            for i in from..=to.min(e) {
                let t = &toks[i];
                if t.kind == TokenKind::Ident
                    && t.text == name
                    && toks[i - 1].text != "."
                    && renamed.insert(i)
                {
                    edits.push(Edit {
                        start: t.start,
                        end: t.start,
                        text: LOCAL_PREFIX.to_string(),
                    });
                }
            }
        }
    }
    edits
}

/// A `sprintf` call with a literal format and a literal array of values: where the
/// format's text starts, its verbs (offset in that text, length, verb) and the first and
/// last token of each value.
struct SprintfCall {
    raw_start: usize,
    verbs: Vec<(usize, usize, char)>,
    values: Vec<(usize, usize)>,
}

/// The `sprintf` call whose name is token `i`, when its format and values are literals.
fn sprintf_call(source: &str, toks: &[Tok], i: usize) -> Option<SprintfCall> {
    let t = &toks[i];
    if t.kind != TokenKind::Ident || t.text != "sprintf" || i > 0 && toks[i - 1].text == "." {
        return None;
    }
    let (open, format, comma, bracket) = (
        toks.get(i + 1)?,
        toks.get(i + 2)?,
        toks.get(i + 3)?,
        toks.get(i + 4)?,
    );
    let literal = matches!(format.kind, TokenKind::String | TokenKind::RawString);
    if open.text != "(" || !literal || comma.text != "," || bracket.text != "[" {
        return None;
    }
    let close = closing(toks, i + 4)?;
    // `)` after the array, or after a trailing comma.
    let after = |k: usize| toks.get(k).map(|t| t.text.as_str());
    let ends = after(close + 1) == Some(")")
        || after(close + 1) == Some(",") && after(close + 2) == Some(")");
    if !ends {
        return None;
    }
    // Values: split at the array's top-level commas; a trailing comma ends none.
    let mut values = Vec::new();
    let (mut depth, mut first) = (0usize, i + 5);
    for (k, t) in toks.iter().enumerate().take(close).skip(i + 5) {
        match (t.kind == TokenKind::Symbol, t.text.as_str()) {
            (true, "(" | "[" | "{") => depth += 1,
            (true, ")" | "]" | "}") => depth = depth.saturating_sub(1),
            (true, ",") if depth == 0 => {
                values.push((first, k - 1));
                first = k + 1;
            }
            _ => {}
        }
    }
    if first < close {
        values.push((first, close - 1));
    }
    let raw_start = format.start + 1;
    let verbs = format_verbs(&source[raw_start..format.end - 1])?;
    Some(SprintfCall {
        raw_start,
        verbs,
        values,
    })
}

/// `sprintf` with a literal format and a literal array of fewer values than verbs: OPA
/// prints `%!v(MISSING)` for each verb without a value, regorus gives no value (so a deny
/// message vanished). Those verbs become that text, escaped (`%%!v(MISSING)`).
fn sprintf_missing(source: &str, toks: &[Tok]) -> Vec<Edit> {
    let mut edits = Vec::new();
    for i in 0..toks.len() {
        let Some(call) = sprintf_call(source, toks, i) else {
            continue;
        };
        for &(at, len, verb) in call.verbs.iter().skip(call.values.len()) {
            edits.push(Edit {
                start: call.raw_start + at,
                end: call.raw_start + at + len,
                text: format!("%%!{verb}(MISSING)"),
            });
        }
    }
    edits
}

/// Go's `fmt` prints a value of the wrong type for its verb as `%!s(int64=80)` or
/// `%!d(string=a)`, and OPA with it; regorus prints the number for `%s`, nothing for `%d` of
/// a string, and fails on `%d` of a fraction. Each value of a plain `%s` (but a string
/// literal) goes through a function appended after the file's last line that gives OPA's
/// text for a number and the value itself otherwise; each plain `%d` becomes `%v` of a
/// function that gives the number's digits (regorus's own `%d` printed -4 as `--4`) or
/// OPA's text for anything else. Each value of a plain `%v` (and the others, for what they
/// print as text) goes through one that prints an empty set as OPA does, `set()` (regorus
/// `{}`, the empty object's text): at the top, or nested where the value's JSON text has
/// no `{}` (no empty object, no `{}` in a string), so that every `{}` is an empty set. The
/// bytecode VM runs them all (it has no `walk` loops). A number that is no integer prints
/// as Go's `%v` does, with an exponent below 1e-4 and from 1e6 on (`2.5e-06`; regorus
/// writes every digit). Values another rewrite touches are left alone.
fn sprintf_string_values(source: &str, toks: &[Tok], edits: &[Edit], v1: bool) -> Vec<Edit> {
    let mut out = Vec::new();
    let mut used = [false; 3];
    for i in 0..toks.len() {
        let Some(call) = sprintf_call(source, toks, i) else {
            continue;
        };
        let raw_start = call.raw_start;
        for ((at, len, verb), &(a, b)) in call.verbs.iter().zip(&call.values) {
            let (start, end) = (toks[a].start, toks[b].end);
            let literal =
                a == b && matches!(toks[a].kind, TokenKind::String | TokenKind::RawString);
            // A fraction may need Go's exponent form (`%v` of 0.00001 is `1e-05`).
            let scalar = literal
                || a == b
                    && (toks[a].kind == TokenKind::Number
                        && !toks[a].text.contains(['.', 'e', 'E'])
                        || matches!(toks[a].text.as_str(), "true" | "false" | "null"));
            let k = match verb {
                's' if !literal => 0,
                'd' => 1,
                'v' if !scalar => 2,
                _ => continue,
            };
            if *len != 2 || touched(edits, start, end) {
                continue;
            }
            used[k] = true;
            if k == 1 {
                out.push(Edit {
                    start: raw_start + at,
                    end: raw_start + at + len,
                    text: "%v".into(),
                });
            }
            out.push(Edit {
                start,
                end: start,
                text: format!("__regorun_fmt_{verb}("),
            });
            out.push(Edit {
                start: end,
                end,
                text: ")".into(),
            });
        }
    }
    let kw = if v1 { " if" } else { "" };
    let mut helpers = String::new();
    if used[0] {
        helpers.push_str(&format!(
            "__regorun_fmt_s(x) := x{kw} {{ is_string(x) }} \
             else := sprintf(\"%%!s(int64=%v)\", [x]){kw} {{ is_number(x); x == floor(x); abs(x) < 9223372036854775808 }} \
             else := sprintf(\"%%!s(float64=%v)\", [__regorun_fmt_v(x)]){kw} {{ is_number(x) }} else := __regorun_fmt_v(x){kw} {{ true }}\n"
        ));
    }
    if used[1] {
        helpers.push_str(&format!(
            "__regorun_fmt_d(x) := sprintf(\"%v\", [x]){kw} {{ is_number(x); x == floor(x) }} \
             else := sprintf(\"%%!d(float64=%v)\", [__regorun_fmt_v(x)]){kw} {{ is_number(x) }} \
             else := sprintf(\"%%!d(string=%v)\", [__regorun_fmt_v(x)]){kw} {{ true }}\n"
        ));
    }
    if used.iter().any(|&u| u) {
        // Go's `%v` of a fraction below 1e-4 or from 1e6 on is its shortest digits with an
        // exponent (`2.5e-06`), made from regorus's decimal text.
        helpers.push_str(&format!(
            "__regorun_fmt_v(x) := __regorun_fmt_e(sprintf(\"%v\", [x])){kw} {{ is_number(x); x != floor(x); abs(x) < 0.0001 }} \
             else := __regorun_fmt_e(sprintf(\"%v\", [x])){kw} {{ is_number(x); x != floor(x); abs(x) >= 1000000 }} \
             else := \"set()\"{kw} {{ x == set() }} \
             else := replace(t, \"{{}}\", \"set()\"){kw} {{ not is_string(x); not is_number(x); t := sprintf(\"%v\", [x]); contains(t, \"{{}}\"); not contains(json.marshal(x), \"{{}}\") }} \
             else := x{kw} {{ true }}\n"
        ));
        helpers.push_str(&format!(
            "__regorun_fmt_e(t) := concat(\"\", [s, substring(d, 0, 1), m, \"e\", es, p]){kw} {{ \
             s := {{true: \"-\", false: \"\"}}[startswith(t, \"-\")]; q := split(trim_prefix(t, \"-\"), \".\"); \
             z := {{true: (count(q[1]) - count(trim_left(q[1], \"0\"))) + 1, false: 1 - count(q[0])}}[q[0] == \"0\"]; \
             d := trim_right(trim_left(concat(\"\", q), \"0\"), \"0\"); n := abs(z); \
             es := {{true: \"-\", false: \"+\"}}[z > 0]; m := {{true: concat(\"\", [\".\", substring(d, 1, -1)]), false: \"\"}}[count(d) > 1]; \
             p := concat(\"\", [{{true: \"0\", false: \"\"}}[n < 10], format_int(n, 10)]) }}\n"
        ));
    }
    out.extend(after_last_line(source, helpers));
    out
}

/// Whether rules regorun appends to `source` are written with `if`: v1, or a v0 file that
/// imports `rego.v1` (where `if` is required). Other v0 files take the v0 form, which v0
/// always reads, with or without `future.keywords`.
pub(crate) fn helpers_take_if(source: &str, rego_v0: bool) -> bool {
    !rego_v0 || source.contains("rego.v1")
}

/// The parameter list of an appended helper of `n` arguments: `__regorun_a0, ...`.
pub(crate) fn helper_params(n: usize) -> String {
    (0..n)
        .map(|i| format!("__regorun_a{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Helper rules appended after the file's last line, so no line of the user's moves.
fn after_last_line(source: &str, mut text: String) -> Option<Edit> {
    if text.is_empty() {
        return None;
    }
    if !source.ends_with('\n') {
        text.insert(0, '\n');
    }
    Some(Edit {
        start: source.len(),
        end: source.len(),
        text,
    })
}

/// One built-in routed through an appended Rego function ([`ROUTED`]).
pub(crate) struct Route {
    /// The built-in's name.
    pub name: &'static str,
    /// The function's parameters.
    params: &'static str,
    /// The function's definition after `:=`, `IF` standing for Rego v1's `if`.
    definition: &'static str,
    /// The [`ROUTE_SUPPORT`] functions it calls.
    support: Option<&'static str>,
}

/// Built-ins whose calls go through a Rego function appended after the file's last line
/// (lines kept), which the bytecode VM runs, unlike an extension: each a [`Route`]. The
/// interpreter's own version of each is a replacement with OPA's values and errors, which
/// it calls directly ([`crate::rego::rewrite::for_interpreter`]).
/// - `object.subset` of two values of other kinds than two objects, sets or arrays, or an
///   array and a set, is OPA's type error (no value); regorus's is false.
/// - `json.is_valid(x)`, `yaml.is_valid(x)`, `net.cidr_is_valid(x)` and
///   `base64.is_valid(x)` are false in OPA when `x` is not a string, where regorus's give
///   no value on both evaluation paths.
/// - OPA's `floor` and `ceil` of a number between -1 and 0 are 0 and 1 (they truncate,
///   then adjust by the sign of the truncated value, which is 0); regorus gives -1 and 0.
/// - `json.filter` and `json.remove` read a string path as a JSON pointer in OPA (leading
///   `/`s dropped, `~1` and `~0` unescaped); regorus splits it as written.
/// - OPA's `format_int` of a number between -1 and 0 is `"0"`; regorus's `"-0"`.
/// - OPA orders objects before sets, regorus sets first: `sort`, `max` and `min` of a
///   collection holding both take the sets apart (only the top level: a set and an object
///   nested at the same place in two elements still compare as in regorus).
/// - `to_number` reads a string with Go's `ParseFloat` (`+1`, `.5`, `007`, `1_000`; no
///   spaces); regorus reads JSON text (spaces around it allowed): a JSON number stays
///   regorus's, another decimal is made JSON text first, anything else is no value (a
///   hexadecimal float too, which only the interpreter's own version reads).
/// - Guards: `time.parse_rfc3339_ns`, `urlquery.decode`/`decode_object` and
///   `indexof`/`indexof_n` fail in OPA on texts regorus's versions read (a space for the
///   `T`, a malformed `%` escape, an empty search string): those get no value.
/// - Mends: `base64.decode` and `base64.is_valid` read text as Go's standard decoding:
///   line breaks skipped (regorus refused a trailing newline), nothing after the padding
///   (regorus read on), the last character's unused bits may be set (regorus refused them).
pub(crate) const ROUTED: &[Route] = &[
    Route {
        name: "json.is_valid",
        params: "x",
        definition: "json.is_valid(x)IF { is_string(x) } else := falseIF { true }",
        support: None,
    },
    Route {
        name: "yaml.is_valid",
        params: "x",
        definition: "yaml.is_valid(x)IF { is_string(x) } else := falseIF { true }",
        support: None,
    },
    Route {
        name: "object.subset",
        params: "a, b",
        definition: concat!(
            "object.subset(a, b)IF { {\"object object\": true, \"set set\": true, ",
            "\"array array\": true, \"array set\": true}[concat(\" \", [type_name(a), type_name(b)])] }",
        ),
        support: None,
    },
    Route {
        name: "net.cidr_is_valid",
        params: "x",
        definition: "net.cidr_is_valid(x)IF { is_string(x) } else := falseIF { true }",
        support: None,
    },
    Route {
        name: "floor",
        params: "x",
        definition: "0IF { x > -1; x < 0 } else := floor(x)IF { true }",
        support: None,
    },
    Route {
        name: "ceil",
        params: "x",
        definition: "1IF { x > -1; x < 0 } else := ceil(x)IF { true }",
        support: None,
    },
    Route {
        name: "time.parse_rfc3339_ns",
        params: "x",
        definition: RFC3339_GUARDED,
        support: None,
    },
    Route {
        name: "urlquery.decode",
        params: "x",
        definition: "urlquery.decode(x)IF { not regex.match(`%([^0-9A-Fa-f]|[0-9A-Fa-f]([^0-9A-Fa-f]|$)|$)`, x) }",
        support: None,
    },
    Route {
        name: "urlquery.decode_object",
        params: "x",
        definition: "urlquery.decode_object(x)IF { not regex.match(`%([^0-9A-Fa-f]|[0-9A-Fa-f]([^0-9A-Fa-f]|$)|$)|;`, x) }",
        support: None,
    },
    Route {
        name: "indexof",
        params: "s, t",
        definition: "indexof(s, t)IF { t != \"\" }",
        support: None,
    },
    Route {
        name: "indexof_n",
        params: "s, t",
        definition: "indexof_n(s, t)IF { t != \"\" }",
        support: None,
    },
    Route {
        name: "format_int",
        params: "x, b",
        definition: "\"0\"IF { x > -1; x < 0 } else := format_int(x, b)IF { true }",
        support: None,
    },
    Route {
        name: "sort",
        params: "x",
        definition: concat!(
            "array.concat(sort([__regorun_v | __regorun_v := x[_]; is_set(__regorun_v) == false]), ",
            "sort([__regorun_v | __regorun_v := x[_]; is_set(__regorun_v)]))",
            "IF { {\"array\": true, \"set\": true}[type_name(x)] } else := sort(x)IF { true }",
        ),
        support: None,
    },
    Route {
        name: "max",
        params: "x",
        definition: concat!(
            "max(__regorun_s)IF { {\"array\": true, \"set\": true}[type_name(x)]; ",
            "__regorun_s := [__regorun_v | __regorun_v := x[_]; is_set(__regorun_v)]; count(__regorun_s) > 0 } ",
            "else := max(x)IF { true }",
        ),
        support: None,
    },
    Route {
        name: "min",
        params: "x",
        definition: concat!(
            "min(__regorun_n)IF { {\"array\": true, \"set\": true}[type_name(x)]; ",
            "__regorun_n := [__regorun_v | __regorun_v := x[_]; is_set(__regorun_v) == false]; count(__regorun_n) > 0 } ",
            "else := min(x)IF { true }",
        ),
        support: None,
    },
    Route {
        name: "to_number",
        params: "x",
        definition: concat!(
            "to_number(x)IF { not is_string(x) } ",
            "else := to_number(x)IF { regex.match(`^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]+)?$`, x) } ",
            "else := to_number(__regorun_go_decimal(x))IF { ",
            "regex.match(`^[+-]?([0-9](_?[0-9])*([.]([0-9](_?[0-9])*)?)?|[.][0-9](_?[0-9])*)([eE][+-]?[0-9](_?[0-9])*)?$`, x) }",
        ),
        support: Some("go_decimal"),
    },
    Route {
        name: "base64.decode",
        params: "x",
        definition: "base64.decode(__regorun_base64(x))IF { true }",
        support: Some("base64"),
    },
    Route {
        name: "base64.is_valid",
        params: "x",
        definition: "base64.is_valid(__regorun_base64(x))IF { is_string(__regorun_base64(x)) } else := falseIF { true }",
        support: Some("base64"),
    },
    Route {
        name: "json.filter",
        params: "x, p",
        definition: "json.filter(x, __regorun_json_paths(p))IF { true }",
        support: Some("json_paths"),
    },
    Route {
        name: "json.remove",
        params: "x, p",
        definition: "json.remove(x, __regorun_json_paths(p))IF { true }",
        support: Some("json_paths"),
    },
];

impl Route {
    /// The name of its appended function: `__regorun_json_is_valid`.
    pub(crate) fn helper(&self) -> String {
        format!("__regorun_{}", self.name.replace('.', "_"))
    }
}

/// The [`ROUTED`] built-in whose calls became calls of the appended function `helper`.
pub(crate) fn routed_builtin(helper: &str) -> Option<&'static str> {
    ROUTED.iter().find(|r| r.helper() == helper).map(|r| r.name)
}

/// A [`ROUTED`] built-in's appended definition, as the rewrite writes it (`kw`: `" if"`
/// or `""`).
pub(crate) fn routed_definition(name: &str, kw: &str) -> Option<String> {
    let route = ROUTED.iter().find(|r| r.name == name)?;
    Some(format!(
        "{}({}) := {}\n",
        route.helper(),
        route.params,
        route.definition.replace("IF", kw)
    ))
}

/// `time.parse_rfc3339_ns` on the bytecode VM: regorus's version reads a space or `t`
/// for the `T`, a lowercase `z` and a 60th second, where Go's fails; only a text in the
/// form both read alike reaches it (else no value, OPA's answer without strict built-in
/// errors). With them the interpreter calls its own Go parser directly
/// ([`crate::rego::rewrite::for_interpreter`]).
pub(crate) const RFC3339_GUARDED: &str = "time.parse_rfc3339_ns(x)IF { regex.match(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`, x) }";

/// Functions shared by [`ROUTED`] definitions, appended once. A collection's string paths
/// become arrays of segments; anything else is left for the built-in's own error.
const ROUTE_SUPPORT: &[(&str, &str)] = &[
    (
        "json_paths",
        concat!(
            "__regorun_json_paths(ps) := [__regorun_json_path(p) | p := ps[_]]IF { is_array(ps) } ",
            "else := [__regorun_json_path(p) | p := ps[_]]IF { is_set(ps) } else := psIF { true }\n",
            "__regorun_json_path(p) := [replace(replace(s, \"~1\", \"/\"), \"~0\", \"~\") | ",
            "s := split(trim_left(p, \"/\"), \"/\")[_]]IF { is_string(p); p != \"\" } ",
            "else := pIF { true }\n",
        ),
    ),
    // Text as Go's standard base64 decoder reads it, for regorus's: line breaks out, no
    // data after the padding (else no text), the last character's unused bits cleared.
    (
        "base64",
        concat!(
            "__regorun_base64(x) := __regorun_base64_bits(c)IF { ",
            "c := replace(replace(x, \"\\n\", \"\"), \"\\r\", \"\"); not regex.match(`=[^=]`, c) }\n",
            "__regorun_base64_bits(c) := concat(\"\", [substring(c, 0, n - 3), object.get({\"B\": \"A\", \"C\": \"A\", \"D\": \"A\", \"E\": \"A\", \"F\": \"A\", \"G\": \"A\", \"H\": \"A\", \"I\": \"A\", \"J\": \"A\", \"K\": \"A\", \"L\": \"A\", \"M\": \"A\", \"N\": \"A\", \"O\": \"A\", \"P\": \"A\", \"R\": \"Q\", \"S\": \"Q\", \"T\": \"Q\", \"U\": \"Q\", \"V\": \"Q\", \"W\": \"Q\", \"X\": \"Q\", \"Y\": \"Q\", \"Z\": \"Q\", \"a\": \"Q\", \"b\": \"Q\", \"c\": \"Q\", \"d\": \"Q\", \"e\": \"Q\", \"f\": \"Q\", \"h\": \"g\", \"i\": \"g\", \"j\": \"g\", \"k\": \"g\", \"l\": \"g\", \"m\": \"g\", \"n\": \"g\", \"o\": \"g\", \"p\": \"g\", \"q\": \"g\", \"r\": \"g\", \"s\": \"g\", \"t\": \"g\", \"u\": \"g\", \"v\": \"g\", \"x\": \"w\", \"y\": \"w\", \"z\": \"w\", \"0\": \"w\", \"1\": \"w\", \"2\": \"w\", \"3\": \"w\", \"4\": \"w\", \"5\": \"w\", \"6\": \"w\", \"7\": \"w\", \"8\": \"w\", \"9\": \"w\", \"+\": \"w\", \"/\": \"w\"}, substring(c, n - 3, 1), substring(c, n - 3, 1)), \"==\"])IF { ",
            "endswith(c, \"==\"); n := count(c); n > 2 } ",
            "else := concat(\"\", [substring(c, 0, n - 2), object.get({\"B\": \"A\", \"C\": \"A\", \"D\": \"A\", \"F\": \"E\", \"G\": \"E\", \"H\": \"E\", \"J\": \"I\", \"K\": \"I\", \"L\": \"I\", \"N\": \"M\", \"O\": \"M\", \"P\": \"M\", \"R\": \"Q\", \"S\": \"Q\", \"T\": \"Q\", \"V\": \"U\", \"W\": \"U\", \"X\": \"U\", \"Z\": \"Y\", \"a\": \"Y\", \"b\": \"Y\", \"d\": \"c\", \"e\": \"c\", \"f\": \"c\", \"h\": \"g\", \"i\": \"g\", \"j\": \"g\", \"l\": \"k\", \"m\": \"k\", \"n\": \"k\", \"p\": \"o\", \"q\": \"o\", \"r\": \"o\", \"t\": \"s\", \"u\": \"s\", \"v\": \"s\", \"x\": \"w\", \"y\": \"w\", \"z\": \"w\", \"1\": \"0\", \"2\": \"0\", \"3\": \"0\", \"5\": \"4\", \"6\": \"4\", \"7\": \"4\", \"9\": \"8\", \"+\": \"8\", \"/\": \"8\"}, substring(c, n - 2, 1), substring(c, n - 2, 1)), \"=\"])IF { ",
            "endswith(c, \"=\"); n := count(c); n > 1 } ",
            "else := cIF { true }\n",
        ),
    ),
    // A decimal in Go's syntax (`+.5_0e+1`) as JSON text (`0.50e1`).
    (
        "go_decimal",
        concat!(
            "__regorun_go_decimal(x) := concat(\"\", [s, __regorun_int_digits(p[0]), __regorun_fraction(p), e])IF { ",
            "t := lower(replace(replace(x, \"_\", \"\"), \"+\", \"\")); u := trim_prefix(t, \"-\"); ",
            "s := substring(t, 0, count(t) - count(u)); m := split(u, \"e\")[0]; ",
            "e := substring(u, count(m), -1); p := split(trim_left(m, \"0\"), \".\") }\n",
            "__regorun_int_digits(i) := \"0\"IF { i == \"\" } else := iIF { true }\n",
            "__regorun_fraction(p) := concat(\"\", [\".\", p[1]])IF { count(p) == 2; p[1] != \"\" } else := \"\"IF { true }\n",
        ),
    ),
];

/// Calls of the [`ROUTED`] built-ins renamed to their appended functions. A call through
/// a longer reference (`data.x.json.is_valid(...)`) or an import alias is not the built-in.
fn routed_calls(
    source: &str,
    toks: &[Tok],
    aliases: &std::collections::BTreeSet<&str>,
    v1: bool,
) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut used = [false; ROUTED.len()];
    for i in 0..toks.len() {
        if i > 0 && toks[i - 1].text == "." || aliases.contains(toks[i].text.as_str()) {
            continue;
        }
        let Some(open) = dotted_call(toks, i) else {
            continue;
        };
        let name: String = toks[i..open].iter().map(|t| t.text.as_str()).collect();
        let Some(k) = ROUTED.iter().position(|r| r.name == name) else {
            continue;
        };
        used[k] = true;
        edits.push(Edit {
            start: toks[i].start,
            end: toks[open - 1].end,
            text: ROUTED[k].helper(),
        });
    }
    let kw = if v1 { " if" } else { "" };
    let mut helpers = String::new();
    let mut support = std::collections::BTreeSet::new();
    for (route, _) in ROUTED.iter().zip(used).filter(|(_, u)| *u) {
        // One definition with `else`: two could conflict for all the VM knows.
        helpers.push_str(&routed_definition(route.name, kw).unwrap_or_default());
        support.extend(route.support);
    }
    for (key, text) in ROUTE_SUPPORT {
        if support.contains(key) {
            helpers.push_str(&text.replace("IF", kw));
        }
    }
    edits.extend(after_last_line(source, helpers));
    edits
}

/// `with f as count`: regorus reads a built-in's name as a mock only as a variable (S10:
/// "use of undefined variable `count` is unsafe"). The name becomes a function appended
/// after the file's last line that calls the built-in (a rule for arity 0). Mocks of the
/// built-ins regorun adds are the mock rewrite's.
fn builtin_mock_values(
    source: &str,
    toks: &[Tok],
    aliases: &std::collections::BTreeSet<&str>,
    v1: bool,
) -> Vec<Edit> {
    let sym = |t: &Tok, s: &str| t.kind == TokenKind::Symbol && t.text == s;
    let mut edits = Vec::new();
    let mut helpers = std::collections::BTreeMap::new();
    for i in 0..toks.len() {
        if !(toks[i].kind == TokenKind::Ident && toks[i].text == "with") {
            continue;
        }
        // The target: a dotted name up to `as`.
        let Some(as_at) = (i + 1..toks.len().min(i + 40))
            .find(|&k| toks[k].kind == TokenKind::Ident && toks[k].text == "as")
        else {
            continue;
        };
        let target: String = toks[i + 1..as_at].iter().map(|t| t.text.as_str()).collect();
        if MISSING_ARITY.iter().any(|(n, _)| *n == target) {
            continue;
        }
        // The value: a dotted name that the expression ends with.
        let start = as_at + 1;
        let mut end = start;
        while end + 2 < toks.len()
            && sym(&toks[end + 1], ".")
            && toks[end + 2].kind == TokenKind::Ident
        {
            end += 2;
        }
        let Some(first) = toks.get(start) else {
            continue;
        };
        let next = toks.get(end + 1);
        let ends = next.is_none_or(|t| {
            t.line != toks[end].line
                || sym(t, ";")
                || sym(t, "}")
                || (t.kind == TokenKind::Ident && t.text == "with")
        });
        if first.kind != TokenKind::Ident || !ends || aliases.contains(first.text.as_str()) {
            continue;
        }
        let name: String = toks[start..=end].iter().map(|t| t.text.as_str()).collect();
        if MISSING_ARITY.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let Some(arity) = regorus::unstable::BUILTINS.get(name.as_str()).map(|b| b.1) else {
            continue;
        };
        let helper = format!("__regorun_builtin_{}", name.replace('.', "_"));
        edits.push(Edit {
            start: first.start,
            end: toks[end].end,
            text: helper.clone(),
        });
        helpers.insert(helper, (name, usize::from(arity)));
    }
    let kw = if v1 { " if" } else { "" };
    let mut text = String::new();
    for (helper, (name, arity)) in helpers {
        let params = helper_params(arity);
        if arity == 0 {
            text.push_str(&format!("{helper} := {name}(){kw} {{ true }}\n"));
        } else {
            text.push_str(&format!(
                "{helper}({params}) := {name}({params}){kw} {{ true }}\n"
            ));
        }
    }
    edits.extend(after_last_line(source, text));
    edits
}

/// The verbs of a Go format string: (offset, length, verb), or `None` when one takes its
/// width or index from the arguments (`*`, `[n]`) or the string ends inside one.
fn format_verbs(format: &str) -> Option<Vec<(usize, usize, char)>> {
    let mut out = Vec::new();
    let mut chars = format.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c != '%' {
            continue;
        }
        if chars.peek().is_some_and(|&(_, n)| n == '%') {
            chars.next();
            continue;
        }
        loop {
            let (i, n) = chars.next()?;
            match n {
                '+' | '-' | '#' | ' ' | '0'..='9' | '.' => continue,
                '*' | '[' => return None,
                verb => {
                    out.push((at, i + verb.len_utf8() - at, verb));
                    break;
                }
            }
        }
    }
    Some(out)
}

/// `with x as v` where `x` is a rule of the file's package: OPA replaces the rule, regorus
/// reports an undefined rule. The target becomes `data.<package>.x`, which regorus honours.
fn with_rule_targets(toks: &[Tok], stmts: &[(usize, usize)], package: &[String]) -> Vec<Edit> {
    // Rules that are not functions (a function replaced this way gives wrong values).
    let name_at = |s: usize| match toks[s].text.as_str() {
        "package" | "import" => None,
        "default" => Some(s + 1),
        _ => Some(s),
    };
    let functions: std::collections::BTreeSet<&str> = stmts
        .iter()
        .filter_map(|&(s, _)| name_at(s))
        .filter(|&n| toks.get(n + 1).is_some_and(|t| t.text == "("))
        .map(|n| toks[n].text.as_str())
        .collect();
    let names: std::collections::BTreeSet<&str> = stmts
        .iter()
        .filter_map(|&(s, _)| name_at(s).and_then(|n| toks.get(n)))
        .map(|t| t.text.as_str())
        .filter(|n| !functions.contains(n))
        .collect();
    let mut edits = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.kind != TokenKind::Ident || t.text != "with" {
            continue;
        }
        let Some(target) = toks.get(i + 1) else {
            continue;
        };
        // A whole rule only: regorus cannot replace part of one (`with obj.a as 3`).
        let whole = toks.get(i + 2).is_some_and(|n| n.text == "as");
        if target.kind == TokenKind::Ident
            && !matches!(target.text.as_str(), "input" | "data")
            && names.contains(target.text.as_str())
            && whole
        {
            edits.push(Edit {
                start: target.start,
                end: target.start,
                text: format!("{}.", data_ref(package)),
            });
        }
    }
    edits
}

/// `data.a.b` for the path `["a", "b"]` (components that are not identifiers as
/// `["x-y"]`).
pub(crate) fn data_ref<S: AsRef<str>>(path: &[S]) -> String {
    let mut out = String::from("data");
    for c in path {
        let c = c.as_ref();
        let ident = c
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && c.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ident {
            out.push('.');
            out.push_str(c);
        } else {
            out.push_str(&format!(
                "[{}]",
                serde_json::to_string(c).unwrap_or_default()
            ));
        }
    }
    out
}

/// Uses of `data` import aliases, replaced by the full reference, except in rules that
/// declare a local of the same name.
fn expand_aliases(
    toks: &[Tok],
    stmts: &[(usize, usize)],
    paths: &std::collections::BTreeMap<String, Vec<String>>,
) -> Vec<Edit> {
    let mut edits = Vec::new();
    for &(s, e) in stmts {
        if matches!(toks[s].text.as_str(), "package" | "import") {
            continue;
        }
        // Locals: `some x`, `x :=`, `every x`, function arguments, comprehension heads…
        // any name declared or bound in the rule keeps the rule as it is.
        let declared = |name: &str| {
            (s..=e).any(|i| {
                toks[i].text == name
                    && toks[i].kind == TokenKind::Ident
                    && (toks
                        .get(i + 1)
                        .is_some_and(|n| matches!(n.text.as_str(), ":=" | "," | ")" | "in"))
                        || i > s
                            && matches!(toks[i - 1].text.as_str(), "some" | "every" | "," | "("))
            })
        };
        for (alias, path) in paths {
            if path.is_empty() || declared(alias) {
                continue;
            }
            let full = data_ref(path);
            for i in s..=e {
                let t = &toks[i];
                let is_use = t.kind == TokenKind::Ident
                    && t.text == *alias
                    && (i == 0 || toks[i - 1].text != ".")
                    && toks.get(i + 1).is_none_or(|n| n.text != ":");
                if is_use {
                    edits.push(Edit {
                        start: t.start,
                        end: t.end,
                        text: full.clone(),
                    });
                }
            }
        }
    }
    edits
}

/// OPA's arity of built-ins regorus 0.14 lacks, for their output-argument form.
pub(crate) const MISSING_ARITY: &[(&str, usize)] = &[
    ("net.cidr_merge", 1),
    ("net.cidr_intersects", 2),
    ("net.cidr_contains_matches", 2),
    ("net.lookup_ip_addr", 1),
    ("regex.globs_match", 2),
    ("strings.render_template", 2),
    ("strings.split_n", 3),
    ("graphql.is_valid", 2),
    ("graphql.parse", 2),
    ("graphql.parse_and_verify", 2),
    ("graphql.parse_query", 1),
    ("graphql.parse_schema", 1),
    ("graphql.schema_is_valid", 1),
    ("io.jwt.decode", 1),
    ("io.jwt.decode_verify", 2),
    ("io.jwt.verify_hs256", 2),
    ("io.jwt.verify_hs384", 2),
    ("io.jwt.verify_hs512", 2),
    ("io.jwt.verify_rs256", 2),
    ("io.jwt.verify_rs384", 2),
    ("io.jwt.verify_rs512", 2),
    ("io.jwt.verify_ps256", 2),
    ("io.jwt.verify_ps384", 2),
    ("io.jwt.verify_ps512", 2),
    ("io.jwt.verify_es256", 2),
    ("io.jwt.verify_es384", 2),
    ("io.jwt.verify_es512", 2),
    ("io.jwt.verify_eddsa", 2),
    ("io.jwt.encode_sign", 3),
    ("io.jwt.encode_sign_raw", 3),
    ("crypto.x509.parse_certificates", 1),
    ("crypto.x509.parse_and_verify_certificates", 1),
    ("crypto.x509.parse_certificate_request", 1),
    ("crypto.x509.parse_rsa_private_key", 1),
    ("crypto.parse_private_keys", 1),
    ("crypto.x509.parse_keypair", 2),
    ("crypto.x509.parse_and_verify_certificates_with_options", 2),
    ("crypto.sha256", 1),
    ("crypto.md5", 1),
    ("crypto.sha1", 1),
    ("crypto.hmac.md5", 2),
    ("crypto.hmac.sha1", 2),
    ("crypto.hmac.sha256", 2),
    ("crypto.hmac.sha512", 2),
    ("crypto.hmac.equal", 2),
    ("array.flatten", 1),
    ("providers.aws.sign_req", 3),
    ("rego.parse_module", 2),
];

/// The arity of a built-in, as OPA has it.
fn builtin_arity(name: &str) -> Option<usize> {
    regorus::unstable::BUILTINS
        .get(name)
        .map(|b| usize::from(b.1))
        .or_else(|| {
            MISSING_ARITY
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, a)| *a)
        })
}

/// Built-in calls with one argument more than their arity, alone in their statement:
/// `f(a, out)` becomes `out = f(a)`.
fn out_params(source: &str, toks: &[Tok], arity: &dyn Fn(&str) -> Option<usize>) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        // A statement start inside a body: after `{`, `;`, a line break, or the `if` of a
        // body of one expression without braces.
        let starts =
            i > 0 && (matches!(toks[i - 1].text.as_str(), "{" | ";" | "if") || line_start(toks, i));
        let Some(open) = starts.then(|| dotted_call(toks, i)).flatten() else {
            i += 1;
            continue;
        };
        let name = toks[i..open]
            .iter()
            .map(|t| t.text.as_str())
            .collect::<String>();
        // `walk` is a relation: its output form yields every pair, `= walk(x)` would not.
        let Some(arity) = (name != "walk").then(|| arity(&name)).flatten() else {
            i += 1;
            continue;
        };
        let Some((args, close)) = call_args(toks, open) else {
            break;
        };
        let ends = toks.get(close + 1).is_none_or(|t| {
            matches!(t.text.as_str(), ";" | "}" | "with") || t.line != toks[close].line
        });
        let (a, b) = args.get(arity).copied().unwrap_or((0, 0));
        if args.len() == arity + 1 && ends && toks[a].line == toks[b].line {
            let out = &source[toks[a].start..toks[b].end];
            edits.push(Edit {
                start: toks[i].start,
                end: toks[i].start,
                text: format!("{out} = "),
            });
            // The output with the comma before it (alone for a call of no arguments); the
            // line breaks between them stay, so a call over several lines keeps its lines.
            let from = if arity == 0 { a } else { a - 1 };
            let breaks: String = source[toks[from].start..toks[b].end]
                .chars()
                .filter(|&c| c == '\n')
                .collect();
            edits.push(Edit {
                start: toks[from].start,
                end: toks[b].end,
                text: breaks,
            });
        }
        i = close + 1;
    }
    edits
}

/// The `(` of a call whose dotted name (`a.b.c(`) starts at token `i`.
fn dotted_call(toks: &[Tok], i: usize) -> Option<usize> {
    if toks.get(i)?.kind != TokenKind::Ident {
        return None;
    }
    let mut j = i;
    while j + 2 < toks.len() && toks[j + 1].text == "." && toks[j + 2].kind == TokenKind::Ident {
        j += 2;
    }
    let open = toks.get(j + 1)?;
    (open.kind == TokenKind::Symbol && open.text == "(").then_some(j + 1)
}

/// The top-level arguments (first and last token of each) of the call whose `(` is at
/// `open`, and the index of its `)`; `None` when the brackets do not balance.
pub(crate) fn call_args(toks: &[Tok], open: usize) -> Option<(Vec<(usize, usize)>, usize)> {
    let mut depth = 0usize;
    let mut args = Vec::new();
    let mut start = open + 1;
    for (k, t) in toks.iter().enumerate().skip(open + 1) {
        if t.kind != TokenKind::Symbol {
            continue;
        }
        match t.text.as_str() {
            "(" | "[" | "{" => depth += 1,
            ")" if depth == 0 => {
                if k > start {
                    args.push((start, k - 1));
                }
                return Some((args, k));
            }
            ")" | "]" | "}" => depth = depth.checked_sub(1)?,
            "," if depth == 0 => {
                args.push((start, k - 1));
                start = k + 1;
            }
            _ => {}
        }
    }
    None
}

/// What a reference argument of a negated call is checked with before the negation.
const DEFINED: &str = "_ =";

/// `not f(a.b, c)` alone in its statement: every argument that is a plain reference
/// (`a.b`, `a["k"]`, no variables inside brackets, no calls) must be defined first.
fn negated_call_refs(source: &str, toks: &[Tok]) -> Vec<Edit> {
    let sym = |t: &Tok, s: &str| t.kind == TokenKind::Symbol && t.text == s;
    let mut edits = Vec::new();
    for i in 1..toks.len() {
        let t = &toks[i];
        // `if not f(a.b)` (a one-expression body) gets braces to hold the checks.
        let after_if = toks[i - 1].kind == TokenKind::Ident && toks[i - 1].text == "if";
        let starts =
            matches!(toks[i - 1].text.as_str(), "{" | ";") || line_start(toks, i) || after_if;
        if !(t.kind == TokenKind::Ident && t.text == "not" && starts) {
            continue;
        }
        let Some(open) = dotted_call(toks, i + 1) else {
            continue;
        };
        let Some((args, close)) = call_args(toks, open) else {
            continue;
        };
        // The call must end the expression (no `with`, no comparison after it).
        let ends = toks.get(close + 1).is_none_or(|t| {
            sym(t, ";") || sym(t, "}") || sym(t, "]") || t.line != toks[close].line
        });
        if !ends || toks[i].line != toks[close].line {
            continue;
        }
        let last = toks
            .get(close + 1)
            .is_none_or(|t| t.line != toks[close].line);
        if after_if && !last {
            continue;
        }
        let mut hoisted = String::new();
        for &(a, b) in &args {
            if !plain_reference(&toks[a..=b]) {
                continue;
            }
            // `_ = ref` fails when the reference is undefined, on both evaluation paths
            // (an assignment to a variable does not, on the bytecode VM).
            hoisted.push_str(&format!(
                "{DEFINED} {}; ",
                &source[toks[a].start..toks[b].end]
            ));
        }
        if !hoisted.is_empty() {
            if after_if {
                hoisted.insert_str(0, "{ ");
                edits.push(Edit {
                    start: toks[close].end,
                    end: toks[close].end,
                    text: " }".to_string(),
                });
            }
            edits.push(Edit {
                start: t.start,
                end: t.start,
                text: hoisted,
            });
        }
    }
    edits
}

/// `a.b.c` or `a["k"][0]`: an identifier, then at least one `.name` or `[literal]`.
fn plain_reference(toks: &[Tok]) -> bool {
    if toks.len() < 3 || toks[0].kind != TokenKind::Ident {
        return false;
    }
    let mut k = 1;
    while k < toks.len() {
        match (toks[k].kind == TokenKind::Symbol, toks[k].text.as_str()) {
            (true, ".") if toks.get(k + 1).is_some_and(|t| t.kind == TokenKind::Ident) => k += 2,
            (true, "[")
                if toks
                    .get(k + 1)
                    .is_some_and(|t| matches!(t.kind, TokenKind::String | TokenKind::Number))
                    && toks.get(k + 2).is_some_and(|t| t.text == "]") =>
            {
                k += 3
            }
            _ => return false,
        }
    }
    true
}

/// The variable a moved head value is computed into.
const ELSE_VAR: &str = "__regorun_else_v";

/// Rules with `else` whose first value uses names: the value moves to the end of the
/// first body.
fn else_values(source: &str, toks: &[Tok], stmts: &[(usize, usize)]) -> Vec<Edit> {
    let mut edits = Vec::new();
    for &(s, e) in stmts {
        let stmt = &toks[s..=e];
        let at_depth0 = |pred: &dyn Fn(&Tok) -> bool| {
            let mut depth = 0usize;
            for (j, t) in stmt.iter().enumerate() {
                if depth == 0 && pred(t) {
                    return Some(j);
                }
                if t.kind == TokenKind::Symbol {
                    match t.text.as_str() {
                        "(" | "[" | "{" => depth += 1,
                        ")" | "]" | "}" => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
            }
            None
        };
        let is =
            |kind: TokenKind, text: &'static str| move |t: &Tok| t.kind == kind && t.text == text;
        let Some(else_at) = at_depth0(&is(TokenKind::Ident, "else")) else {
            continue;
        };
        let Some(assign) = at_depth0(&|t: &Tok| {
            t.kind == TokenKind::Symbol && matches!(t.text.as_str(), ":=" | "=")
        }) else {
            continue;
        };
        let Some(if_at) = at_depth0(&is(TokenKind::Ident, "if")) else {
            continue;
        };
        if !(assign < if_at && if_at < else_at) || if_at == assign + 1 {
            continue;
        }
        let value = &stmt[assign + 1..if_at];
        // The case regorus gets wrong: the value indexes with a variable the first body
        // assigns (`m[k]` after `k := ...`); it then iterates the index itself.
        let body = &stmt[if_at..else_at];
        let assigned = |name: &str| {
            body.windows(2)
                .any(|w| w[0].kind == TokenKind::Ident && w[0].text == name && w[1].text == ":=")
        };
        // An index follows a term; `[w]` after `(` or `,` is an array.
        let uses_names = value.windows(4).any(|w| {
            ends_term(&w[0])
                && w[1].text == "["
                && w[2].kind == TokenKind::Ident
                && w[3].text == "]"
                && assigned(&w[2].text)
        });
        let one_line = value.iter().all(|t| t.line == value[0].line);
        // `if {` … `}` before the `else`.
        let braced = stmt[if_at + 1].kind == TokenKind::Symbol && stmt[if_at + 1].text == "{";
        let close = else_at - 1;
        if !uses_names || !one_line || !braced || stmt[close].text != "}" {
            continue;
        }
        let text = &source[value[0].start..value[value.len() - 1].end];
        edits.push(Edit {
            start: value[0].start,
            end: value[value.len() - 1].end,
            text: ELSE_VAR.to_string(),
        });
        edits.push(Edit {
            start: stmt[close].start,
            end: stmt[close].start,
            text: format!("; {ELSE_VAR} := {text} "),
        });
    }
    edits
}

/// `LHS = walk(X)` and `LHS := walk(X)` statements on one line: `walk(X, LHS)`.
fn walk_assignments(source: &str, toks: &[Tok]) -> Vec<Edit> {
    let mut edits = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let assigned = i > 1
            && t.kind == TokenKind::Ident
            && t.text == "walk"
            && toks.get(i + 1).is_some_and(|n| n.text == "(")
            && toks[i - 1].kind == TokenKind::Symbol
            && matches!(toks[i - 1].text.as_str(), "=" | ":=");
        if !assigned {
            continue;
        }
        let Some(close) = closing(toks, i + 1) else {
            continue;
        };
        // The statement ends after the call.
        let ends = toks.get(close + 1).is_none_or(|n| {
            n.line != toks[close].line || matches!(n.text.as_str(), ";" | "}" | "]")
        });
        // The left-hand side: back to the statement's start on this line.
        let eq = i - 1;
        let mut depth = 0usize;
        let mut start = eq;
        while start > 0 {
            let prev = &toks[start - 1];
            if prev.line != t.line {
                break;
            }
            if prev.kind == TokenKind::Symbol {
                match prev.text.as_str() {
                    ")" | "]" | "}" => depth += 1,
                    "(" | "[" | "{" if depth == 0 => break,
                    "(" | "[" | "{" => depth -= 1,
                    ";" | "|" if depth == 0 => break,
                    _ => {}
                }
            } else if depth == 0 && matches!(prev.text.as_str(), "if" | "not" | "some" | "else") {
                break;
            }
            start -= 1;
        }
        let one_line = toks[close].line == t.line;
        let plain = start < eq && !matches!(toks[start].text.as_str(), "not" | "some");
        if !(ends && one_line && plain) || close == i + 2 {
            continue;
        }
        let lhs = &source[toks[start].start..toks[eq - 1].end];
        let args = &source[toks[i + 2].start..toks[close - 1].end];
        edits.push(Edit {
            start: toks[start].start,
            end: toks[close].end,
            text: format!("walk({args}, {lhs})"),
        });
    }
    edits
}

/// What a comprehension's own variable that rebinds an outer one is renamed to.
const REBOUND_PREFIX: &str = "__regorun_inner_";

/// The index of the bracket closing the one at `open`, if any.
pub(crate) fn closing(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, t) in toks.iter().enumerate().skip(open) {
        if t.kind == TokenKind::Symbol {
            match t.text.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(j);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

/// Whether a line ending in `t` ends a statement (no operator or comma continues it).
fn ends_statement(t: &Tok) -> bool {
    t.kind != TokenKind::Symbol || matches!(t.text.as_str(), ")" | "]" | "}" | "|")
}

/// Comprehensions whose body uses a name and then declares it with `:=`: the
/// declaration, later uses and the head get the comprehension's own name.
fn rebound_in_comprehensions(toks: &[Tok]) -> Vec<Edit> {
    let mut edits = Vec::new();
    for (o, t) in toks.iter().enumerate() {
        let value = match t.text.as_str() {
            "[" => true,
            // Not a rule body.
            "{" => o > 0 && opens_value(&toks[o - 1]),
            _ => false,
        };
        if t.kind != TokenKind::Symbol || !value {
            continue;
        }
        let Some(c) = closing(toks, o) else { continue };
        // The `|` at the comprehension's own depth, and its statements.
        let mut depth = 0usize;
        let mut bar = None;
        let mut stmts: Vec<(usize, usize)> = Vec::new();
        for j in o + 1..c {
            let tj = &toks[j];
            if depth == 0 {
                match (bar, tj.text.as_str()) {
                    (None, "|") if tj.kind == TokenKind::Symbol => {
                        bar = Some(j);
                        stmts.push((j + 1, j + 1));
                    }
                    (Some(_), ";") if tj.kind == TokenKind::Symbol => stmts.push((j + 1, j + 1)),
                    (Some(_), _) if toks[j - 1].line != tj.line && ends_statement(&toks[j - 1]) => {
                        stmts.push((j, j))
                    }
                    _ => {}
                }
            }
            if let Some(last) = stmts.last_mut() {
                last.1 = j + 1;
            }
            if tj.kind == TokenKind::Symbol {
                match tj.text.as_str() {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
        let Some(bar) = bar else { continue };
        let is_var = |j: usize, name: &str| {
            toks[j].kind == TokenKind::Ident && toks[j].text == name && toks[j - 1].text != "."
        };
        for (k, &(s, _)) in stmts.iter().enumerate() {
            let declares = toks[s].kind == TokenKind::Ident
                && toks.get(s + 1).is_some_and(|n| n.text == ":=")
                && s + 1 < c;
            if !declares {
                continue;
            }
            let name = toks[s].text.as_str();
            let used_before = stmts[..k]
                .iter()
                .any(|&(a, b)| (a..b).any(|j| is_var(j, name)));
            if !used_before {
                continue;
            }
            for j in (o + 1..bar).chain(s..c) {
                if is_var(j, name) {
                    edits.push(Edit {
                        start: toks[j].start,
                        end: toks[j].start,
                        text: REBOUND_PREFIX.to_string(),
                    });
                }
            }
        }
    }
    edits
}

/// Built-ins that regorun provides as regorus extensions besides [`MISSING_ARITY`]'s:
/// replacements that can be undefined where regorus's own version was not.
pub(crate) const REPLACED_NAMES: &[&str] = &[
    "glob.match",
    "numbers.range",
    "numbers.range_step",
    "object.subset",
    "strings.count",
    "time.parse_duration_ns",
    "time.parse_ns",
    "time.parse_rfc3339_ns",
    "urlquery.decode",
    "urlquery.decode_object",
    "indexof",
    "indexof_n",
    "time.format",
    "time.add_date",
    "units.parse",
    "units.parse_bytes",
    "json.match_schema",
    "json.verify_schema",
    "http.send",
    "semver.is_valid",
    "semver.compare",
    "glob.quote_meta",
    "uuid.parse",
    "yaml.unmarshal",
    "yaml.is_valid",
    "yaml.marshal",
    "regex.match",
    "regex.is_valid",
    "regex.find_n",
    "regex.find_all_string_submatch_n",
    "regex.replace",
    "regex.split",
    "upper",
    "lower",
    "strings.replace_n",
    "to_number",
    "floor",
    "ceil",
    "format_int",
    "sort",
    "max",
    "min",
    "json.filter",
    "json.remove",
    "json.is_valid",
    "net.cidr_is_valid",
    "base64.decode",
    "base64.is_valid",
];

/// The variable a moved set-rule element is computed into.
const ELEMENT_VAR: &str = "__regorun_h";

/// A set rule whose element calls a built-in regorun adds (`deny contains crypto.md5(x) if
/// {...}`, v0 `deny[crypto.md5(x)] {...}`) computes the element at the end of its body
/// (`deny contains __regorun_h if { ...; __regorun_h := crypto.md5(x) }`): an extension's
/// undefined value in the head made regorus drop the rule's earlier elements and stop the
/// next one with "not an object"; in the body it only fails that element, as in OPA. The
/// head keeps the element's line breaks, so the lines below stay the user's. The other
/// rewrites' `edits` inside a moved element are made in its moved text instead.
fn added_calls_in_set_heads(
    source: &str,
    toks: &[Tok],
    stmts: &[(usize, usize)],
    v0: bool,
    edits: &mut Vec<Edit>,
) {
    let added = |name: &str| {
        MISSING_ARITY.iter().any(|(n, _)| *n == name) || REPLACED_NAMES.contains(&name)
    };
    let calls_added = |range: &[Tok]| {
        (0..range.len()).any(|i| {
            dotted_call(range, i).is_some_and(|open| {
                let name: String = range[i..open].iter().map(|t| t.text.as_str()).collect();
                added(&name)
            })
        })
    };
    for &(s, e) in stmts {
        if toks[s].kind != TokenKind::Ident || toks.get(s + 1).is_none() {
            continue;
        }
        // The element's tokens and the token that opens the body (`if` or `{`).
        let (first, last, body) = if toks[s + 1].text == "contains" {
            let found = first_at_depth(toks, s, e, 0, |t| t.text == "if");
            let Some(k) = found else { continue };
            (s + 2, k - 1, k)
        } else if v0 && toks[s + 1].text == "[" {
            // The `]` closing the `[` after the name.
            let found = first_at_depth(toks, s + 1, e, 1, |t| t.text == "]");
            let Some(m) = found else { continue };
            match toks.get(m + 1).map(|t| t.text.as_str()) {
                Some("{" | "if") => (s + 2, m - 1, m + 1),
                _ => continue,
            }
        } else {
            continue;
        };
        if first > last || !calls_added(&toks[first..=last]) {
            continue;
        }
        let (start, end) = (toks[first].start, toks[last].end);
        let element = &source[start..end];
        let breaks = "\n".repeat(element.matches('\n').count());
        let (inner, outer): (Vec<Edit>, Vec<Edit>) = std::mem::take(edits)
            .into_iter()
            .partition(|e| e.start >= start && e.end <= end);
        *edits = outer;
        let inner = inner.into_iter().map(|e| Edit {
            start: e.start - start,
            end: e.end - start,
            text: e.text,
        });
        let one_line = apply(element, inner.collect()).replace('\n', " ");
        edits.push(Edit {
            start: toks[first].start,
            end: toks[last].end,
            text: format!("{ELEMENT_VAR}{breaks}"),
        });
        let braced = toks[body].text == "{" || toks.get(body + 1).is_some_and(|t| t.text == "{");
        if braced {
            if toks[e].text != "}" {
                continue;
            }
            edits.push(Edit {
                start: toks[e].start,
                end: toks[e].start,
                text: format!("; {ELEMENT_VAR} := {one_line} "),
            });
        } else {
            // `if cond` gets braces around the condition and the element.
            edits.push(Edit {
                start: toks[body].end,
                end: toks[body].end,
                text: " {".into(),
            });
            edits.push(Edit {
                start: toks[e].end,
                end: toks[e].end,
                text: format!("; {ELEMENT_VAR} := {one_line} }}"),
            });
        }
    }
}

/// The first token in `from..=to` matching `pred` while the bracket depth counted from
/// `from` is `depth`, in one pass.
fn first_at_depth(
    toks: &[Tok],
    from: usize,
    to: usize,
    depth: usize,
    pred: impl Fn(&Tok) -> bool,
) -> Option<usize> {
    let mut d = 0usize;
    for (k, t) in toks.iter().enumerate().take(to + 1).skip(from) {
        if d == depth && pred(t) {
            return Some(k);
        }
        if t.kind == TokenKind::Symbol {
            match t.text.as_str() {
                "(" | "[" | "{" => d += 1,
                ")" | "]" | "}" => d = d.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

/// The variable a bodiless rule's indexed value is computed into.
const VALUE_VAR: &str = "__regorun_v";

/// An always-true body after rules without one that regorus gets wrong.
fn bodiless(toks: &[Tok], stmts: &[(usize, usize)], v0: bool) -> Vec<Edit> {
    let mut edits = Vec::new();
    for &(s, e) in stmts {
        let first = &toks[s];
        if first.kind != TokenKind::Ident
            || matches!(first.text.as_str(), "package" | "import" | "default")
        {
            continue;
        }
        let stmt = &toks[s..=e];
        // Depth-0 tokens: a body (`if`, `{` after a term) means there is nothing to do.
        let mut depth = 0usize;
        let mut has_body = false;
        let mut assign = None;
        for (j, t) in stmt.iter().enumerate() {
            match (&t.kind, t.text.as_str()) {
                (TokenKind::Ident, "if" | "else") if depth == 0 => has_body = true,
                (TokenKind::Symbol, "{") if depth == 0 && j > 0 && !opens_value(&stmt[j - 1]) => {
                    has_body = true
                }
                (TokenKind::Symbol, ":=" | "=") if depth == 0 && assign.is_none() => {
                    assign = Some(j)
                }
                (TokenKind::Ident, "contains") if depth == 0 && assign.is_none() => {
                    assign = Some(j)
                }
                _ => {}
            }
            if t.kind == TokenKind::Symbol {
                match t.text.as_str() {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
        if has_body {
            continue;
        }
        let needs = match assign {
            // A value with an index (`[` right after a term) is computed in a body:
            // `x := v if { v := <value> }` (regorus's interpreter errors even under
            // `if true` when the head indexes a non-collection).
            Some(a) if a < e - s => {
                // Only at the value's own level: inside a comprehension or call
                // regorus iterates as OPA does.
                let mut depth = 0usize;
                let mut indexed = false;
                for w in stmt[a + 1..].windows(2) {
                    if w[0].kind == TokenKind::Symbol {
                        match w[0].text.as_str() {
                            "(" | "[" | "{" => depth += 1,
                            ")" | "]" | "}" => depth = depth.saturating_sub(1),
                            _ => {}
                        }
                    }
                    if depth == 0
                        && w[1].kind == TokenKind::Symbol
                        && w[1].text == "["
                        && ends_term(&w[0])
                    {
                        indexed = true;
                    }
                }
                if indexed {
                    let open = if v0 { "{" } else { "if {" };
                    edits.push(Edit {
                        start: stmt[a + 1].start,
                        end: stmt[a + 1].start,
                        text: format!("{VALUE_VAR} {open} {VALUE_VAR} := "),
                    });
                    edits.push(Edit {
                        start: toks[e].end,
                        end: toks[e].end,
                        text: " }".to_string(),
                    });
                }
                false
            }
            Some(_) => false,
            // `f(args)` alone, or v0 `p[x]` alone.
            None => {
                let last = &stmt[stmt.len() - 1];
                last.kind == TokenKind::Symbol
                    && (last.text == ")" || (v0 && last.text == "]"))
                    && stmt.len() > 2
            }
        };
        if needs {
            let at = toks[e].end;
            edits.push(Edit {
                start: at,
                end: at,
                text: if v0 { " { true }" } else { " if true" }.to_string(),
            });
        }
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(s: &str, v0: bool) -> String {
        rewrite("p.rego", s, v0).unwrap_or_else(|| s.to_string())
    }

    /// Every source is left as it is.
    fn untouched(sources: &[&str], v0: bool) {
        for s in sources {
            assert_eq!(rewrite("p.rego", s, v0), None, "{s}");
        }
    }

    #[test]
    fn shipped_pack_keeps_its_lines() {
        // Only negated calls, import aliases and routed calls are rewritten in
        // the pack, every line stays where it was, and only helpers follow the last.
        for f in crate::rego::policy::builtin_pack("kms").unwrap() {
            if let Some(out) = rewrite(&f.path, &f.source, false) {
                let lines = f.source.lines().count();
                let added: Vec<&str> = out.lines().skip(lines).collect();
                assert!(
                    added.iter().all(|l| [
                        "__regorun_json_is_valid(x)",
                        "__regorun_fmt_",
                        "__regorun_format_int(",
                        "__regorun_sort(",
                        "__regorun_min(",
                    ]
                    .iter()
                    .any(|h| l.starts_with(h))),
                    "{}: {added:?}",
                    f.path
                );
                let unexpected: Vec<&str> = out
                    .lines()
                    .zip(f.source.lines())
                    .filter(|(a, b)| {
                        a != b
                            && !a.contains("_ = ")
                            && !a.contains("__regorun_fmt_")
                            && a.replace("%v", "%d") != b.replace("%v", "%d")
                            // The `)` closing a wrapped value that spans lines.
                            && a.replace(')', "") != b.replace(')', "")
                            && !a.contains("data.")
                            && !["json_is_valid", "format_int", "sort", "min"]
                                .iter()
                                .any(|h| a.contains(&format!("__regorun_{h}(")))
                            && !a.contains("replace(json.marshal(")
                    })
                    .map(|(a, _)| a)
                    .collect();
                assert!(unexpected.is_empty(), "{}: {unexpected:?}", f.path);
            }
        }
    }

    #[test]
    fn late_imports_join_the_package_line() {
        assert_eq!(
            rw(
                "package main # c\n\nimport rego.v1\n\np := x\n\nimport data.lib.x\n",
                false
            ),
            "package main import data.lib.x # c\n\nimport rego.v1\n\np := data.lib.x\n\n\n"
        );
        assert_eq!(
            rw(
                "package a.b\np := 1\nimport data.x as y # why\nq := y\n",
                false
            ),
            "package a.b import data.x as y\np := 1\n # why\nq := data.x\n"
        );
        // Imports in the header stay; an `import` inside a rule is not a statement.
        let s = "package main\n\nimport data.a\nimport data.b\n\np := 1\n";
        assert_eq!(rewrite("p.rego", s, false), None);
    }

    #[test]
    fn a_parenthesised_line_is_a_new_expression() {
        assert_eq!(
            rw(
                "package main\n\np if {\n\tinput.x\n\t(input.a - 1) >= 1\n}\n",
                false
            ),
            "package main\n\np if {\n\tinput.x;\n\t(input.a - 1) >= 1\n}\n"
        );
        // Arguments and array items continued on the next line are left alone.
        untouched(
            &[
                "package main\n\np if {\n\tf(\n\t(1), 2)\n}\n",
                "package main\n\nx := [\n\t1,\n\t(2)\n]\n",
                "package main\n\np if {\n\tx := 1 +\n\t(2)\n}\n",
            ],
            false,
        );
    }

    #[test]
    fn rules_without_a_body() {
        assert_eq!(
            rw("package main\n\nvolumes contains pod.spec.volumes[_] # c\n", false),
            "package main\n\nvolumes contains __regorun_v if { __regorun_v := pod.spec.volumes[_] } # c\n"
        );
        assert_eq!(
            rw("package main\n\nx := pod.spec.volumes[_]\nf(\"x\", _)\n", false),
            "package main\n\nx := __regorun_v if { __regorun_v := pod.spec.volumes[_] }\nf(\"x\", _) if true\n"
        );
        assert_eq!(
            rw("package main\n\nx = pod.spec[0]\n", true),
            "package main\n\nx = __regorun_v { __regorun_v := pod.spec[0] }\n"
        );
        assert_eq!(
            rw("package main\n\nwl[\"p\"]\ndefault x = 1\n", true),
            "package main\n\nwl[\"p\"] { true }\ndefault x = 1\n"
        );
        untouched(
            &[
                "package main\n\nx := [1, 2]\ny := {\"a\": [1]}\nz := input.a\n",
                "package main\n\nwl[\"p\"]\n",
                "package main\n\nx := input.a[0] if input.b\n",
                "package main\n\nf(x) := y if {\n\ty := x[0]\n}\n",
                "package main\n\nx := [\n\tinput.a[0],\n] if true\n",
                "package main\n\nf(c) := {v | some v in c} | {a |\n\ta := split(c, \":\")[4]\n}\n",
            ],
            false,
        );
    }

    #[test]
    fn locals_shadowing_rules_are_renamed() {
        assert_eq!(
            rw("package main\n\nresource_type = \"M\"\n\nr[x] {\n\tsome resource_type\n\ttypes[resource_type]\n\tx := {resource_type: input.resource_type}\n}\n", true),
            "package main\n\nresource_type = \"M\"\n\nr[x] {\n\tsome __regorun_local_resource_type\n\ttypes[__regorun_local_resource_type]\n\tx := {__regorun_local_resource_type: input.resource_type}\n}\n"
        );
        assert_eq!(
            rw("package main\n\nt := 1\n\nr contains t if some t in input.ts\n", false),
            "package main\n\nt := 1\n\nr contains __regorun_local_t if some __regorun_local_t in input.ts\n"
        );
        let s = "package main\n\nt := 1\n\nr contains x if some x in input.ts\n";
        assert_eq!(rewrite("p.rego", s, false), None);
        // An import alias shadowed inside a comprehension: renamed there only.
        assert_eq!(
            rw("package main\n\nimport data.lib.image\n\nr if {\n\ta := image.parse(input.x)\n\tb := [image | some image in input.refs; image.ref]\n}\n", false),
            "package main\n\nimport data.lib.image\n\nr if {\n\ta := image.parse(input.x)\n\tb := [__regorun_local_image | some __regorun_local_image in input.refs; __regorun_local_image.ref]\n}\n"
        );
    }

    #[test]
    fn else_rule_values_move_into_the_body() {
        assert_eq!(
            rw("package main\n\nv := m[k] if { k := \"b\" } else := 0\n", false),
            "package main\n\nv := __regorun_else_v if { k := \"b\" ; __regorun_else_v := m[k] } else := 0\n"
        );
        assert_eq!(
            rw("package main\n\nv := m[k] if {\n\tk := input.k\n} else := 0\n", false),
            "package main\n\nv := __regorun_else_v if {\n\tk := input.k\n; __regorun_else_v := m[k] } else := 0\n"
        );
        untouched(
            &[
                "package main\n\nv := 1 if { input.a } else := 0\n",
                "package main\n\nv := s[0] if { s := input.a } else := 0\n",
                "package main\n\nf(x) := x if { x > 1 } else := 0\n",
                "package main\n\nv := m[k] if { k := \"b\" }\n",
                "package main\n\nv := concat(\"\", [w]) if { w := \"b\" } else := \"\"\n",
            ],
            false,
        );
    }

    #[test]
    fn output_arguments_become_assignments() {
        assert_eq!(
            rw(
                "package main\n\np if {\n\tnet.cidr_merge(input.xs, out)\n\tcount(out) > 1\n}\n",
                false
            ),
            "package main\n\np if {\n\tout = net.cidr_merge(input.xs)\n\tcount(out) > 1\n}\n"
        );
        // A built-in of no arguments: its output alone.
        assert_eq!(
            rw(
                "package main\n\np if {\n\ttime.now_ns(t)\n\tt > 0\n}\n",
                false
            ),
            "package main\n\np if {\n\tt = time.now_ns()\n\tt > 0\n}\n"
        );
        assert_eq!(
            rw(
                "package main\n\np if { concat(\",\", [\"a\"], s); s == \"a\" }\n",
                false
            ),
            "package main\n\np if { s = concat(\",\", [\"a\"]); s == \"a\" }\n"
        );
        assert_eq!(
            rw(
                "package main\n\ndeny contains x if graphql.parse_query(q, x)\n",
                false
            ),
            "package main\n\ndeny contains x if x = graphql.parse_query(q)\n"
        );
        untouched(
            &[
                "package main\n\np if { x := concat(\",\", xs) }\n",
                "package main\n\np if { net.cidr_merge(xs) }\n",
                "package main\n\np if { myfn(a, b, c) }\n",
                "package main\n\np if {\n\twalk(input, [path, v])\n\tv == 1\n}\n",
            ],
            false,
        );
    }

    #[test]
    fn floor_and_ceil_take_opas_values_between_minus_one_and_zero() {
        assert_eq!(
            rw("package main\n\nx := floor(input.a) + ceil(1)\n", false),
            "package main\n\nx := __regorun_floor(input.a) + __regorun_ceil(1)\n\
             __regorun_floor(x) := 0 if { x > -1; x < 0 } else := floor(x) if { true }\n\
             __regorun_ceil(x) := 1 if { x > -1; x < 0 } else := ceil(x) if { true }\n"
        );
        untouched(
            &[
                "package main\n\nx := math.floor(1)\n",
                "package main\n\nx := floor\n",
            ],
            false,
        );
    }

    #[test]
    fn string_verbs_give_numbers_opas_text() {
        let out = rw(
            "package main\n\nm := sprintf(\"%s %s %d %5s\", [input.a, \"lit\", input.b, input.c,])\n",
            false,
        );
        let mut lines = out.lines();
        assert_eq!(lines.nth(2), Some("m := sprintf(\"%s %s %v %5s\", [__regorun_fmt_s(input.a), \"lit\", __regorun_fmt_d(input.b), input.c,])"));
        assert!(lines
            .next()
            .unwrap()
            .starts_with("__regorun_fmt_s(x) := x if { is_string(x) } else := sprintf("));
        let out = rw("package main\n\nm := sprintf(\"%v\", [input.a])\n", false);
        let mut lines = out.lines();
        assert_eq!(
            lines.nth(2),
            Some("m := sprintf(\"%v\", [__regorun_fmt_v(input.a)])")
        );
        assert!(lines.next().unwrap().starts_with(
            "__regorun_fmt_v(x) := __regorun_fmt_e(sprintf(\"%v\", [x])) if { is_number(x); x != floor(x); abs(x) < 0.0001 } else := "
        ));
        // A fraction may print with Go's exponent; an integer literal never does.
        assert_eq!(
            rw("package main\n\nm := sprintf(\"%v\", [0.00001])\n", false)
                .lines()
                .nth(2),
            Some("m := sprintf(\"%v\", [__regorun_fmt_v(0.00001)])")
        );
        untouched(
            &[
                "package main\n\nm := sprintf(\"%v %v %v\", [1, \"a\", null])\n",
                "package main\n\nm := sprintf(\"%s\", [\"a\"])\n",
                "package main\n\nm := sprintf(\"%s\", xs)\n",
            ],
            false,
        );
    }

    #[test]
    fn marshalled_json_escapes_as_go_does() {
        let tail = r#", "<", "\\u003c"), ">", "\\u003e"), "&", "\\u0026"), "\u2028", "\\u2028"), "\u2029", "\\u2029")"#;
        assert_eq!(
            rw("package main\n\nx := json.marshal({\"a\": \"<\"})\n", false),
            format!("package main\n\nx := replace(replace(replace(replace(replace(json.marshal({{\"a\": \"<\"}}){tail}\n")
        );
        untouched(
            &[
                "package main\n\np if { f(json.marshal) }\n",
                "package main\n\nx := my.json.marshal(1)\n",
                "package main\n\nx := json.marshal_with_options(1, {\"prefix\": \">\"})\n",
                "package main\n\nx := json.marshal_with_options(1, opts)\n",
            ],
            false,
        );
    }

    #[test]
    fn reference_arguments_leave_negations() {
        assert_eq!(
            rw("package main\n\np if {\n\tnot is_string(s.Sid)\n\tnot f(a, input.x[\"k\"], 1)\n}\n", false),
            "package main\n\np if {\n\t_ = s.Sid; not is_string(s.Sid)\n\t_ = input.x[\"k\"]; not f(a, input.x[\"k\"], 1)\n}\n"
        );
        untouched(
            &[
                "package main\n\np if { not f(a, b) }\n",
                "package main\n\np if { not f(input.x[i]) }\n",
                "package main\n\np if { not f(input.x) with input as {} }\n",
                "package main\n\np if { not f(input.x) == 1 }\n",
                "package main\n\np if { not input.x }\n",
            ],
            false,
        );
    }

    #[test]
    fn comprehension_variables_rebinding_outer_ones() {
        assert_eq!(
            rw(
                "package p\nr if {\n\tname := input[_].n\n\tx := [name | some i; input[i].n == name; name := input[i].m]\n}\n",
                false
            ),
            "package p\nr if {\n\tname := input[_].n\n\tx := [__regorun_inner_name | some i; input[i].n == name; __regorun_inner_name := input[i].m]\n}\n"
        );
        // Declared before any use, or used in another comprehension: nothing to do.
        untouched(
            &["package p\nr if {\n\tx := [n | n := input[_]; n > 1]\n\ty := {n | some n in input}\n}\n"],
            false,
        );
    }

    #[test]
    fn walk_assignments_become_output_arguments() {
        assert_eq!(
            rw(
                "package p\nr if {\n\t[k, v] = walk(input)\n\tx := [p | [p, _] := walk(input.a[0]); count(p) > 1]\n}\n",
                false
            ),
            "package p\nr if {\n\twalk(input, [k, v])\n\tx := [p | walk(input.a[0], [p, _]); count(p) > 1]\n}\n"
        );
        untouched(
            &["package p\nr if {\n\tx := count(walk(input))\n\ty = walk(input) + 1\n}\n"],
            false,
        );
    }

    #[test]
    fn empty_sets_open_a_bracket() {
        // `set(` is one token of the lexer: a statement after `set()` stays in its body.
        untouched(
            &["package main\n\ntest_a {\n  deny == set() with input as r[\"b\"]\n  deny with input as r[\"a\"]\n}\n"],
            true,
        );
    }

    #[test]
    fn extra_bodies_get_the_head() {
        assert_eq!(
            rw(
                "package main\n\ndeny[m] { input.a; m := \"a\" } { input.b; m := \"b\" }\n",
                true
            ),
            "package main\n\ndeny[m] { input.a; m := \"a\" } deny[m] { input.b; m := \"b\" }\n"
        );
        assert_eq!(
            rw(
                "package main\n\nq = 1 {\n\tinput.a\n}\n{\n\tinput.b\n}\n",
                true
            ),
            "package main\n\nq = 1 {\n\tinput.a\n}\nq = 1 {\n\tinput.b\n}\n"
        );
        // Values with braces in the head, `else` chains and v1 are left alone.
        untouched(
            &[
                "package main\n\np = {1} { true }\n",
                "package main\n\np = {\"a\": 1} { true }\n",
                "package main\n\np = 1 { input.a } else = 2 { input.b }\n",
                "package main\n\np { x := {y | y := 1} }\n",
            ],
            true,
        );
        let v1 = "package main\n\np if { input.a }\n";
        assert_eq!(rewrite("p.rego", v1, false), None);
    }

    #[test]
    fn deep_json_literals_are_read_as_json_text() {
        let deep = format!("{}1{}", "[{\"a\": ".repeat(4), "}]".repeat(4));
        let src = format!("package x\n\np := {deep}\n\nq := [[1]]\n");
        let out = rewrite("p.rego", &src, false).unwrap();
        assert_eq!(
            out,
            format!("package x\n\np := json.unmarshal(`{deep}`)\n\nq := [[1]]\n")
        );
        // Not JSON (a variable, a set, a raw string): left as written.
        for lit in [
            "[[[[[[[[y]]]]]]]]",
            "[[[[[[[[{1}]]]]]]]]",
            "[[[[[[[[`a`]]]]]]]]",
        ] {
            let src = format!("package x\n\np := {lit}\n");
            assert_eq!(rewrite("p.rego", &src, false), None, "{lit}");
        }
    }
}
