//! The rule dependency graph, for the compile-time checks OPA makes and regorus does
//! not: recursion (`rego_recursion_error`), several `default` rules for one name, and
//! which rules could conflict at evaluation time.
//!
//! References are read from each rule's tokens: `data.<path>`, import aliases and bare
//! names of rules of the same package. A name declared in the rule (`:=`, `some`,
//! `every`, function arguments) is a local and refers to no rule; a `with` target is not
//! evaluated. Like OPA, a reference to a prefix (`data.main`, `data.lib[x]`) depends on
//! every rule below it.

use regorus::unstable::{Expr, Module, Ref, Rule, RuleHead, TokenKind};
use std::collections::{BTreeMap, BTreeSet};

/// One rule name of one package, with every definition's place.
#[derive(Debug, Clone)]
struct Group {
    /// `data.main.p`.
    path: String,
    /// Each definition: (file, line, kind).
    defs: Vec<(String, u32, Kind)>,
    /// Each complete or function definition's value when it is a scalar literal
    /// (`true` for `p if ...`), `None` when computed.
    values: Vec<Option<String>>,
    /// Indices of the groups this one refers to.
    edges: BTreeSet<usize>,
    /// Whether a complete or function definition with a computed value has a body that
    /// iterates ([`may_iterate`]): it may give several values for one document.
    iterates: bool,
    /// A function's number of parameters (its first definition's).
    arity: Option<usize>,
    /// Each partial object definition (`p[k] := v`): its key and value when they are
    /// scalar literals, `None` when computed.
    objects: Vec<(Option<String>, Option<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// `p := v`, `p = v`, `p if ...`.
    Complete,
    /// `p contains x`, `p[x]`, `p[k] := v`, ref heads with variables.
    Partial,
    /// `f(x) := v`.
    Function,
    /// `default p := v`.
    Default,
}

/// The analysed policy.
#[derive(Debug, Default)]
pub struct Graph {
    groups: Vec<Group>,
    /// Rule heads the bytecode VM evaluates wrongly, as `file:line`.
    vm_unsafe: Vec<String>,
    /// Differences from OPA that no rewrite removes, one message each.
    notes: Vec<String>,
    /// Calls of names that are no rule, import or `data` reference (built-ins, or
    /// unknown): name, `file:line`, the number of arguments, whether the call is a
    /// value (an operand or argument, where an output argument is not possible) and what
    /// the type checker can tell of each argument from its text.
    calls: Vec<(String, String, usize, bool, Vec<ArgType>)>,
    /// OPA's type errors for calls of the policy's own functions: undefined, or with a
    /// number of arguments that is neither the arity nor one more (an output).
    call_errors: Vec<String>,
}

use super::types::{argument_types, ArgType, Tok};

/// The tokens of a rule's text, as far as they lex: regorus's rule spans can end inside
/// a final string literal.
fn tokens(file: &str, text: &str, first_line: u32) -> Vec<Tok> {
    crate::rego::compat::lex_prefix(file, text)
        .0
        .into_iter()
        .map(|t| (t.kind, t.text, t.line + first_line - 1))
        .collect()
}

/// Static path of a reference expression (`data.a.b`, `a["b"]`), if it has one.
fn static_path(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Var { span, .. } => Some(vec![span.text().to_string()]),
        Expr::RefDot { refr, field, .. } => {
            let mut p = static_path(refr)?;
            p.push(field.0.text().to_string());
            Some(p)
        }
        Expr::RefBrack { refr, index, .. } => {
            let mut p = static_path(refr)?;
            match index.as_ref() {
                Expr::String { value, .. } => p.push(value.as_string().ok()?.to_string()),
                _ => return None,
            }
            Some(p)
        }
        _ => None,
    }
}

/// The head reference of a rule and its kind.
fn head_of(rule: &Rule) -> (&Ref<Expr>, Kind) {
    match rule {
        Rule::Default { refr, .. } => (refr, Kind::Default),
        Rule::Spec { head, .. } => match head {
            RuleHead::Func { refr, .. } => (refr, Kind::Function),
            RuleHead::Set { refr, .. } => (refr, Kind::Partial),
            RuleHead::Compr { refr, .. } => {
                let kind = match refr.as_ref() {
                    Expr::Var { .. } => Kind::Complete,
                    // `p.q := 1` is complete, `p[x] := 1` partial.
                    other if static_path(other).is_some() => Kind::Complete,
                    _ => Kind::Partial,
                };
                (refr, kind)
            }
        },
    }
}

/// Whether regorus 0.14's bytecode VM gives the interpreter's value for this head. It
/// does not for `default` functions (it never applies the default) nor for reference
/// heads of more than one component (`r.a[x] := 1`, `r[x].y := 1`, `r.s[x] contains 1`,
/// `r[x] contains 1`): it drops the outer levels.
fn vm_safe_head(rule: &Rule) -> bool {
    let single = |e: &Expr| matches!(e, Expr::Var { .. });
    match rule {
        Rule::Default { refr, args, .. } => args.is_empty() && single(refr),
        Rule::Spec { head, .. } => match head {
            RuleHead::Func { refr, .. } | RuleHead::Set { refr, .. } => single(refr),
            RuleHead::Compr { refr, .. } => match refr.as_ref() {
                Expr::RefBrack { refr, .. } => single(refr),
                other => single(other),
            },
        },
    }
}

/// The line of a `x := value` in a body whose `x` is not used after it in its block.
/// regorus 0.14's bytecode VM drops such an assignment, so an undefined value does not
/// fail the body (`p if { k := input.missing }` is true there, undefined in OPA).
fn unused_assignment(toks: &[Tok], from: usize) -> Option<u32> {
    let assigns = |i: usize| toks.get(i + 1).is_some_and(|t| t.1 == ":=");
    let has_else = toks
        .iter()
        .any(|t| t.0 == TokenKind::Ident && t.1 == "else");
    for i in from..toks.len() {
        let (kind, name, line) = &toks[i];
        if *kind != TokenKind::Ident || name == "_" || name == "else" || !assigns(i) {
            continue;
        }
        if i > 0 && matches!(toks[i - 1].1.as_str(), "." | ",") {
            continue;
        }
        let use_at = |j: usize, t: &Tok| {
            j != i && t.0 == TokenKind::Ident && t.1 == *name && !(j > 0 && toks[j - 1].1 == ".")
        };
        // Used anywhere else in the rule (the head included: `contains result if`); in
        // a rule with `else`, used later in the body (the VM does not fall through to
        // `else` when the body leaves a head variable undefined).
        let later_else = toks[i..]
            .iter()
            .any(|t| t.0 == TokenKind::Ident && t.1 == "else");
        let used = if has_else && later_else {
            toks.iter()
                .enumerate()
                .skip(i + 1)
                .any(|(j, t)| use_at(j, t))
                || guarded(toks, i)
        } else {
            toks.iter().enumerate().any(|(j, t)| use_at(j, t))
        };
        if !used {
            return Some(*line);
        }
    }
    None
}

/// The line of a `x := value` whose `x` is read only under `not` later in its rule
/// (`a := st.Action; not a in s`): regorus 0.14's bytecode VM carries on past an
/// undefined value there, so the negation holds where OPA's body fails.
fn assignment_read_only_negated(toks: &[Tok], from: usize) -> Option<u32> {
    // Expressions end at `;` or a new line.
    let negated = |j: usize| {
        let mut k = j;
        while k > 0 && toks[k - 1].1 != ";" && toks[k - 1].2 == toks[j].2 {
            k -= 1;
            if toks[k].0 == TokenKind::Ident && toks[k].1 == "not" {
                return true;
            }
        }
        false
    };
    (from..toks.len()).find_map(|i| {
        let (kind, name, line) = &toks[i];
        // `else := value` is no assignment.
        if *kind != TokenKind::Ident
            || name == "_"
            || name == "else"
            || toks.get(i + 1).is_none_or(|t| t.1 != ":=")
        {
            return None;
        }
        // Any read that is not negated (a comprehension's head included) fails on undefined.
        let uses: Vec<usize> = (from..toks.len())
            .filter(|&j| {
                j != i
                    && toks[j].0 == TokenKind::Ident
                    && toks[j].1 == *name
                    && toks[j - 1].1 != "."
            })
            .collect();
        (!uses.is_empty() && uses.iter().all(|&j| negated(j))).then_some(*line)
    })
}

/// The line of a comprehension without its own `some` inside another comprehension's
/// body (`[x | some x in xs; count([1 | x > 5]) == 0]`): regorus 0.14's bytecode VM
/// drops the outer element when such an inner comprehension is empty.
fn nested_bare_comprehension(toks: &[Tok]) -> Option<u32> {
    let comprehensions = comprehension_spans(toks);
    comprehensions.iter().find_map(|&(open, bar, close)| {
        let inside_body = comprehensions
            .iter()
            .any(|&(_, obar, oclose)| obar < open && close < oclose);
        let iterates = toks[bar..close]
            .iter()
            .any(|t| t.0 == TokenKind::Ident && t.1 == "some");
        (inside_body && !iterates).then_some(toks[open].2)
    })
}

/// The line of a branch body followed by `else` that iterates (`some x in xs`, `xs[_]`,
/// `xs[i]` with `i` bound nowhere else): regorus 0.14's bytecode VM gives no value there
/// instead of falling through to `else` when the body fails. Iteration inside a
/// comprehension is its own and does not count.
fn iterating_else_body(toks: &[Tok], locals: &BTreeSet<String>) -> Option<u32> {
    let mut depth = 0usize;
    let mut last_if = None;
    for (e, t) in toks.iter().enumerate() {
        let (symbol, ident) = (t.0 == TokenKind::Symbol, t.0 == TokenKind::Ident);
        match t.1.as_str() {
            "(" | "[" | "{" if symbol => depth += 1,
            ")" | "]" | "}" if symbol => depth = depth.saturating_sub(1),
            "if" if ident && depth == 0 => last_if = Some(e),
            "else" if ident && depth == 0 => {
                let Some(start) = last_if.take() else {
                    continue;
                };
                let body = &toks[start + 1..e];
                let skipped = comprehension_spans(body);
                let inside = |k: usize| skipped.iter().any(|&(o, _, c)| o < k && k < c);
                let iterates = (0..body.len()).filter(|&k| !inside(k)).find(|&k| {
                    let (kind, text, _) = &body[k];
                    let index_var = *kind == TokenKind::Ident
                        && k >= 2
                        && body[k - 1].1 == "["
                        && body.get(k + 1).is_some_and(|n| n.1 == "]")
                        && (body[k - 2].0 == TokenKind::Ident
                            || matches!(body[k - 2].1.as_str(), "]" | ")"))
                        && !locals.contains(text.as_str())
                        && !matches!(text.as_str(), "true" | "false" | "null");
                    (*kind == TokenKind::Ident && text == "some") || index_var
                });
                // It matters only when something can still fail after the iteration: a
                // later statement of the body, or a test in the iterating statement.
                if let Some(k) = iterates {
                    let line = body[k].2;
                    let own_end = (k..body.len())
                        .find(|&j| body[j].2 != line || body[j].1 == ";")
                        .unwrap_or(body.len());
                    let own_start = (0..k)
                        .rev()
                        .find(|&j| body[j].2 != line || body[j].1 == ";")
                        .map_or(0, |j| j + 1);
                    let later = body[own_end..]
                        .iter()
                        .any(|t| !(t.0 == TokenKind::Symbol && matches!(t.1.as_str(), "}" | ";")));
                    let tests = body[own_start..own_end].iter().any(|t| {
                        matches!(t.1.as_str(), "==" | "!=" | "<" | ">" | "<=" | ">=" | "in")
                    }) && body[k].1 != "some";
                    if later || tests {
                        return Some(body[k].2);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// Each comprehension of `toks`: where it opens, its own `|`, and where it closes.
fn comprehension_spans(toks: &[Tok]) -> Vec<(usize, usize, usize)> {
    // For every bracket: where it opens, and the position of its own `|` (if any).
    let mut stack: Vec<(usize, Option<usize>)> = Vec::new();
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.0 != TokenKind::Symbol {
            continue;
        }
        match t.1.as_str() {
            "[" | "{" | "(" => stack.push((i, None)),
            "|" => {
                if let Some(top) = stack.last_mut() {
                    if toks[top.0].1 != "(" && top.1.is_none() {
                        top.1 = Some(i);
                    }
                }
            }
            "]" | "}" | ")" => {
                if let Some((open, Some(bar))) = stack.pop() {
                    out.push((open, bar, i));
                }
            }
            _ => {}
        }
    }
    out
}

/// The line of a branch followed by `else` whose value reads a reference (`input.k`,
/// `st.Sid`) its body does not read: regorus 0.14's bytecode VM gives no value there
/// instead of falling through to `else` when the reference is undefined.
fn unchecked_else_value(toks: &[Tok]) -> Option<u32> {
    let text = |r: std::ops::Range<usize>| {
        toks[r]
            .iter()
            .map(|t| t.1.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut i = 0;
    while i < toks.len() {
        // A value: after `:=` at the rule's top level, up to `if`.
        if toks[i].1 != ":=" {
            i += 1;
            continue;
        }
        let Some(if_at) =
            (i + 1..toks.len()).find(|&j| toks[j].0 == TokenKind::Ident && toks[j].1 == "if")
        else {
            break;
        };
        // Its body: up to the next `else` (none: the last branch, nothing to fall to).
        let Some(else_at) =
            (if_at..toks.len()).find(|&j| toks[j].0 == TokenKind::Ident && toks[j].1 == "else")
        else {
            break;
        };
        let body = text(if_at + 1..else_at);
        let mut j = i + 1;
        let mut depth = 0usize;
        while j < if_at {
            // Only the value's own level: a reference inside a comprehension or call
            // argument is read there.
            match (toks[j].0 == TokenKind::Symbol, toks[j].1.as_str()) {
                (true, "(" | "[" | "{") => depth += 1,
                (true, ")" | "]" | "}") => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth == 0
                && toks[j].0 == TokenKind::Ident
                && toks[j + 1].1 == "."
                && !(j > 0 && toks[j - 1].1 == ".")
            {
                // The whole reference `a.b.c`.
                let mut end = j + 1;
                while end + 1 < if_at && toks[end].1 == "." && toks[end + 1].0 == TokenKind::Ident {
                    end += 2;
                }
                let r = text(j..end);
                // `strings.replace_n(...)` is a call, not a reference.
                let call = toks.get(end).is_some_and(|t| t.1 == "(");
                if !call && !body.contains(&r) {
                    return Some(toks[i].2);
                }
                j = end;
            } else {
                j += 1;
            }
        }
        i = else_at + 1;
    }
    None
}

/// Whether the value assigned at `i` (`x := f(y)`, to the end of its line) was checked
/// on an earlier line of the rule (`f(y)` alone), so it cannot be undefined.
fn guarded(toks: &[Tok], i: usize) -> bool {
    let line = toks[i].2;
    let rhs: Vec<&str> = toks[i + 2..]
        .iter()
        .take_while(|t| t.2 == line)
        .map(|t| t.1.as_str())
        .collect();
    let mut start = 0;
    while start < i {
        let l = toks[start].2;
        let end = toks[start..i].iter().take_while(|t| t.2 == l).count() + start;
        let texts: Vec<&str> = toks[start..end].iter().map(|t| t.1.as_str()).collect();
        if texts == rhs {
            return true;
        }
        start = end;
    }
    false
}

/// A partial object definition's key and value (`p[k] := v`), each when a scalar literal.
fn object_entry(rule: &Rule) -> Option<(Option<String>, Option<String>)> {
    let Rule::Spec {
        head:
            RuleHead::Compr {
                refr,
                assign: Some(assign),
                ..
            },
        ..
    } = rule
    else {
        return None;
    };
    let Expr::RefBrack { index, .. } = refr.as_ref() else {
        return None;
    };
    let scalar = |e: &Expr| match e {
        Expr::Bool { .. } | Expr::Null { .. } | Expr::Number { .. } | Expr::String { .. } => {
            Some(e.span().text().to_string())
        }
        _ => None,
    };
    Some((scalar(index), scalar(&assign.value)))
}

/// Whether a partial object definition's only iteration is over its key (`p[k] := v if
/// { some k, v in xs; ... }`): each key is then seen once, with one value.
fn keyed_iteration(rule: &Rule) -> bool {
    let Rule::Spec {
        head: RuleHead::Compr { refr, .. },
        bodies,
        ..
    } = rule
    else {
        return false;
    };
    let Expr::RefBrack { index, .. } = refr.as_ref() else {
        return false;
    };
    let Expr::Var { span, .. } = index.as_ref() else {
        return false;
    };
    let key = span.text();
    bodies.iter().all(|b| {
        let mut toks = tokens("", b.query.span.text(), 1);
        let is = |t: &Tok, s: &str| t.1 == s;
        let Some(at) = toks.windows(5).position(|w| {
            is(&w[0], "some")
                && is(&w[1], key)
                && is(&w[2], ",")
                && w[3].0 == TokenKind::Ident
                && is(&w[4], "in")
        }) else {
            return false;
        };
        let value = toks[at + 3].1.clone();
        toks.drain(at..at + 5);
        let bound = ["input", "data", key, value.as_str()]
            .map(String::from)
            .into();
        !iterates(&toks, bound)
    })
}

/// Whether two partial object definitions could give one key two values: their keys may
/// be equal and their values are not the same literal.
fn objects_may_conflict(objects: &[(Option<String>, Option<String>)]) -> bool {
    objects.iter().enumerate().any(|(i, (k1, v1))| {
        objects[i + 1..].iter().any(|(k2, v2)| {
            let same_key = match (k1, k2) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            same_key && (v1.is_none() || v1 != v2)
        })
    })
}

/// The value of a complete rule when it is a scalar literal, with each `else` branch's.
fn literal_value(rule: &Rule) -> Option<String> {
    let (assign, bodies) = match rule {
        Rule::Spec {
            head: RuleHead::Compr { assign, .. } | RuleHead::Func { assign, .. },
            bodies,
            ..
        } => (assign, bodies),
        Rule::Default { .. } => return None,
        Rule::Spec { .. } => return None,
    };
    // `else` branches may give other values.
    if bodies.len() > 1 {
        return None;
    }
    match assign {
        None => Some("true".to_string()),
        Some(a) => match a.value.as_ref() {
            Expr::Bool { .. } | Expr::Null { .. } | Expr::Number { .. } | Expr::String { .. } => {
                Some(a.value.span().text().to_string())
            }
            _ => None,
        },
    }
}

/// Whether a definition's body may bind its variables more than once (OPA then raises
/// `eval_conflict_error` when the values differ, where the bytecode VM keeps one): a
/// `some`, or a `_` or first-seen variable as an index, outside comprehensions.
/// Conservative: such a rule may well give one value.
fn may_iterate(rule: &Rule) -> bool {
    let Rule::Spec { head, bodies, .. } = rule else {
        return false;
    };
    let mut bound: BTreeSet<String> = ["input", "data"].map(String::from).into();
    if let RuleHead::Func { args, .. } = head {
        for a in args {
            for (k, t, _) in tokens("", a.span().text(), 1) {
                if k == TokenKind::Ident {
                    bound.insert(t);
                }
            }
        }
    }
    bodies
        .iter()
        .any(|b| iterates(&tokens("", b.query.span.text(), 1), bound.clone()))
}

/// [`may_iterate`] on a body's tokens, `bound` holding the names known before it.
fn iterates(toks: &[Tok], mut bound: BTreeSet<String>) -> bool {
    let sym = |i: usize, s: &str| {
        toks.get(i)
            .is_some_and(|t| t.0 == TokenKind::Symbol && t.1 == s)
    };
    let mut i = 0;
    while i < toks.len() {
        let (kind, text, _) = &toks[i];
        if *kind == TokenKind::Symbol && matches!(text.as_str(), "[" | "{") {
            // A comprehension binds its variables inside it only.
            let mut depth = 0usize;
            let mut bar = false;
            let mut close = None;
            for (j, t) in toks.iter().enumerate().skip(i) {
                if t.0 != TokenKind::Symbol {
                    continue;
                }
                match t.1.as_str() {
                    "[" | "{" | "(" => depth += 1,
                    "]" | "}" | ")" => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(j);
                            break;
                        }
                    }
                    "|" if depth == 1 => bar = true,
                    _ => {}
                }
            }
            if let (true, Some(c)) = (bar, close) {
                i = c + 1;
                continue;
            }
        }
        if *kind == TokenKind::Ident && text == "some" {
            return true;
        }
        // An index: `[` after a name, `]` or `)`, then one name and `]`.
        let indexing = i > 0
            && sym(i, "[")
            && (toks[i - 1].0 == TokenKind::Ident || sym(i - 1, "]") || sym(i - 1, ")"));
        if indexing && sym(i + 2, "]") && toks[i + 1].0 == TokenKind::Ident {
            let name = &toks[i + 1].1;
            if name == "_" || !bound.contains(name) {
                return true;
            }
        }
        if *kind == TokenKind::Ident {
            bound.insert(text.clone());
        }
        i += 1;
    }
    false
}

/// The first component of a head: the rule name within its package.
fn head_name(expr: &Expr) -> String {
    match expr {
        Expr::Var { span, .. } => span.text().to_string(),
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => head_name(refr),
        other => other.span().text().to_string(),
    }
}

/// Names a rule declares for itself: `x :=` targets (also inside `[a, b] :=`), `some` and
/// `every` variables, function arguments.
fn locals(toks: &[Tok], args: &[Ref<Expr>]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for a in args {
        for (k, t, _) in tokens("", a.span().text(), 1) {
            if k == TokenKind::Ident {
                out.insert(t);
            }
        }
    }
    for (i, (kind, text, _)) in toks.iter().enumerate() {
        if *kind == TokenKind::Symbol && text == ":=" && i > 0 {
            // Walk back over a destructuring pattern `[a, {"k": b}] :=`.
            let mut depth = 0i32;
            let mut j = i;
            while j > 0 {
                j -= 1;
                let (k, t, _) = &toks[j];
                match t.as_str() {
                    "]" | "}" | ")" => depth += 1,
                    "[" | "{" | "(" => {
                        depth -= 1;
                        if depth < 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                if *k == TokenKind::Ident {
                    out.insert(t.clone());
                }
                if depth <= 0 {
                    break;
                }
            }
        }
        if *kind == TokenKind::Ident && (text == "some" || text == "every") {
            let line = toks[i].2;
            for (k, t, l) in &toks[i + 1..] {
                if *l != line || t == "in" || t == ";" || t == "{" || t == "}" {
                    break;
                }
                if *k == TokenKind::Ident {
                    out.insert(t.clone());
                }
            }
        }
    }
    out
}

impl Graph {
    /// Builds the graph of every loaded module.
    pub fn build(modules: &[Ref<Module>]) -> Graph {
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut graph = Graph::default();
        // Pass 1: every rule group, so references can find rules of any module.
        let mut packages: Vec<Vec<String>> = Vec::new();
        for m in modules {
            let package = static_path(&m.package.refr).unwrap_or_default();
            let package: Vec<String> = match package.first().map(String::as_str) {
                Some("data") => package[1..].to_vec(),
                _ => package,
            };
            let file = m.package.span.source.get_path().clone();
            for rule in &m.policy {
                let (refr, kind) = head_of(rule);
                let path = format!("data.{}.{}", package.join("."), head_name(refr));
                let i = *index.entry(path.clone()).or_insert_with(|| {
                    graph.groups.push(Group {
                        path,
                        defs: Vec::new(),
                        values: Vec::new(),
                        edges: BTreeSet::new(),
                        iterates: false,
                        arity: None,
                        objects: Vec::new(),
                    });
                    graph.groups.len() - 1
                });
                graph.groups[i]
                    .defs
                    .push((file.clone(), rule.span().line, kind));
                if !vm_safe_head(rule) {
                    graph.vm_unsafe.push(format!("{file}:{}", rule.span().line));
                }
                if let Rule::Spec {
                    head: RuleHead::Func { args, .. },
                    ..
                } = rule.as_ref()
                {
                    graph.groups[i].arity.get_or_insert(args.len());
                }
                if matches!(kind, Kind::Complete | Kind::Function) {
                    let value = literal_value(rule);
                    if value.is_none() && may_iterate(rule) {
                        graph.groups[i].iterates = true;
                    }
                    graph.groups[i].values.push(value);
                } else if let Some((key, value)) = object_entry(rule) {
                    if value.is_none() && may_iterate(rule) && !keyed_iteration(rule) {
                        graph.groups[i].iterates = true;
                    }
                    graph.groups[i].objects.push((key, value));
                }
            }
            packages.push(package);
        }
        // Pass 2: references.
        for (m, package) in modules.iter().zip(&packages) {
            let file = m.package.span.source.get_path().clone();
            let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for imp in &m.imports {
                let Some(path) = static_path(&imp.refr) else {
                    continue;
                };
                if path.first().map(String::as_str) != Some("data") || path.len() < 2 {
                    continue;
                }
                let alias = imp
                    .r#as
                    .as_ref()
                    .map(|s| s.text().to_string())
                    .unwrap_or_else(|| path[path.len() - 1].clone());
                aliases.insert(alias, path[1..].to_vec());
            }
            for rule in &m.policy {
                let (refr, _) = head_of(rule);
                let from = index[&format!("data.{}.{}", package.join("."), head_name(refr))];
                let span = rule.span();
                let toks = tokens(&file, span.text(), span.line);
                let args: &[Ref<Expr>] = match rule.as_ref() {
                    Rule::Spec {
                        head: RuleHead::Func { args, .. },
                        ..
                    }
                    | Rule::Default { args, .. } => args,
                    _ => &[],
                };
                let locals = locals(&toks, args);
                let name_len = tokens(&file, refr.span().text(), 1).len();
                // The head's own name is not a reference; `default` comes before it.
                let skip = name_len + usize::from(matches!(rule.as_ref(), Rule::Default { .. }));
                if let Some(line) = unused_assignment(&toks, skip)
                    .or_else(|| unchecked_else_value(&toks))
                    .or_else(|| nested_bare_comprehension(&toks))
                    .or_else(|| assignment_read_only_negated(&toks, skip))
                    .or_else(|| iterating_else_body(&toks, &locals))
                {
                    graph.vm_unsafe.push(format!("{file}:{line}"));
                }
                let mut targets = Vec::new();
                let mut i = skip;
                while i < toks.len() {
                    let (kind, text, _) = &toks[i];
                    if *kind == TokenKind::Ident && text == "with" {
                        // The target is replaced, not evaluated.
                        while i < toks.len() && toks[i].1 != "as" {
                            i += 1;
                        }
                        continue;
                    }
                    let after_dot = i > 0 && toks[i - 1].1 == ".";
                    if *kind != TokenKind::Ident || after_dot || locals.contains(text) {
                        i += 1;
                        continue;
                    }
                    let (chain, end) = chain_to(&toks, i);
                    let called = toks.get(end).is_some_and(|t| t.1 == "(")
                        && !chain.iter().any(|c| c == ANY)
                        && (!KEYWORDS.contains(&text.as_str())
                            || text == "contains" && contains_call(&toks, i, skip));
                    let base: Option<Vec<String>> = if text == "data" {
                        Some(chain[1..].to_vec())
                    } else if let Some(p) = aliases.get(text) {
                        Some(p.iter().chain(&chain[1..]).cloned().collect())
                    } else {
                        let own = format!("data.{}.{}", package.join("."), text);
                        index.contains_key(&own).then(|| {
                            package
                                .iter()
                                .chain(chain.iter())
                                .cloned()
                                .collect::<Vec<_>>()
                        })
                    };
                    if let Some(path) = base {
                        // regorus skips the module being evaluated when it gathers
                        // `data.<prefix>[x]`, so this package's own rules go missing.
                        if let Some(k) = path.iter().position(|c| c == ANY) {
                            if package.len() > k && package[..k] == path[..k] {
                                let shown = format!("data.{}[…]", path[..k].join("."));
                                graph.notes.push(format!(
                                    "{file}:{}: {shown} is read from inside package {}: regorun's engine may leave this package's own rules out of it (OPA includes them); name them instead (data.{}.<rule>)",
                                    toks[i].2,
                                    package.join("."),
                                    package.join("."),
                                ));
                            }
                        }
                        // A call's arguments and whether it is a value, checked below.
                        let call = called.then(|| (argument_count(&toks, end), valued(&toks, i)));
                        // A built-in routed through an appended function is still OPA's
                        // built-in for the type checker.
                        let routed = call
                            .filter(|_| chain.len() == 1 && text.starts_with("__regorun_"))
                            .and_then(|c| Some((c, crate::rego::compat::routed_builtin(text)?)));
                        if let Some(((n, value), builtin)) = routed {
                            graph.calls.push((
                                builtin.to_string(),
                                format!("{file}:{}", toks[i].2),
                                n,
                                value,
                                argument_types(&toks, end),
                            ));
                        }
                        targets.push((path, toks[i].2, call));
                    } else if called {
                        graph.calls.push((
                            chain.join("."),
                            format!("{file}:{}", toks[i].2),
                            argument_count(&toks, end),
                            valued(&toks, i),
                            argument_types(&toks, end),
                        ));
                    }
                    // The rest of the chain: names after dots are skipped above, and a
                    // variable index may itself be a rule.
                    i += 1;
                }
                let mut edges = BTreeSet::new();
                for (target, line, call) in targets {
                    let mut whole_package = false;
                    // Some rule group is at the target's path or above it (a reference
                    // head's first name, `foo["bar"](x)`, is enough for a call).
                    let mut defined = false;
                    for (j, g) in graph.groups.iter().enumerate() {
                        let gp: Vec<&str> = g.path.split('.').skip(1).collect();
                        let n = gp.len().min(target.len());
                        if gp[..n]
                            .iter()
                            .zip(&target[..n])
                            .all(|(a, b)| b == ANY || a == b)
                        {
                            edges.insert(j);
                            whole_package |= gp.len() > target.len();
                            defined |= gp.len() <= target.len();
                        }
                    }
                    if let Some((n, value)) = call {
                        let name = format!("data.{}", target.join("."));
                        let arity = index.get(&name).and_then(|&g| graph.groups[g].arity);
                        if !defined {
                            graph.call_errors.push(format!(
                                "{file}:{line}: rego_type_error: undefined function {name}"
                            ));
                        } else if let Some(a) = arity.filter(|&a| !arity_fits(n, a, value)) {
                            graph.call_errors.push(format!(
                                "{file}:{line}: rego_type_error: function {name} has arity {a}, got {n} arguments"
                            ));
                        }
                    }
                    // A package read as a value: the VM keeps its undefined rules in
                    // the object (as undefined values that count and print).
                    if whole_package {
                        graph.vm_unsafe.push(format!("{file}:{line}"));
                    }
                }
                graph.groups[from].edges.extend(edges);
            }
        }
        graph
    }

    /// OPA's `rego_recursion_error`s, one per recursive rule in definition order:
    /// `file:line: rego_recursion_error: rule data.main.p is recursive: data.main.p -> data.main.q -> data.main.p`.
    pub fn recursion_errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (start, g) in self.groups.iter().enumerate() {
            if let Some(cycle) = self.cycle_from(start) {
                let chain: Vec<&str> = cycle
                    .iter()
                    .map(|&i| self.groups[i].path.as_str())
                    .collect();
                let (file, line, _) = &g.defs[0];
                out.push(format!(
                    "{file}:{line}: rego_recursion_error: rule {} is recursive: {}",
                    g.path,
                    chain.join(" -> ")
                ));
            }
        }
        out
    }

    /// The shortest path from `start` back to itself, both ends included.
    fn cycle_from(&self, start: usize) -> Option<Vec<usize>> {
        let mut prev: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::new();
        for &e in &self.groups[start].edges {
            if e == start {
                return Some(vec![start, start]);
            }
            if let std::collections::btree_map::Entry::Vacant(v) = prev.entry(e) {
                v.insert(start);
                queue.push_back(e);
            }
        }
        while let Some(n) = queue.pop_front() {
            for &e in &self.groups[n].edges {
                if e == start {
                    let mut path = vec![start];
                    let mut at = n;
                    while at != start {
                        path.push(at);
                        at = prev[&at];
                    }
                    path.push(start);
                    let last = path.len() - 1;
                    path[1..last].reverse();
                    return Some(path);
                }
                if let std::collections::btree_map::Entry::Vacant(v) = prev.entry(e) {
                    v.insert(n);
                    queue.push_back(e);
                }
            }
        }
        None
    }

    /// OPA's error for a rule whose path also holds a data document (`--data` with
    /// `{"main": {"deny": 1}}`): `file:line: rego_compile_error: conflicting rule for data
    /// path main/deny found`.
    pub fn data_conflicts(&self, data: &regorus::Value) -> Vec<String> {
        let mut out = Vec::new();
        for g in &self.groups {
            let parts: Vec<&str> = g.path.split('.').skip(1).collect();
            let mut at = data;
            let mut found = true;
            for p in &parts {
                match at {
                    regorus::Value::Object(o) => match o.get(&regorus::Value::from(*p)) {
                        Some(v) => at = v,
                        None => {
                            found = false;
                            break;
                        }
                    },
                    _ => {
                        found = false;
                        break;
                    }
                }
            }
            let empty = matches!(at, regorus::Value::Object(o) if o.is_empty());
            if found && !empty {
                let (file, line, _) = &g.defs[0];
                out.push(format!(
                    "{file}:{line}: rego_compile_error: conflicting rule for data path {} found",
                    parts.join("/")
                ));
            }
        }
        out
    }

    /// OPA's error for two `default` rules of one name:
    /// `file:line: rego_type_error: multiple default rules data.main.p found`.
    pub fn default_errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        for g in &self.groups {
            let defaults: Vec<_> = g.defs.iter().filter(|d| d.2 == Kind::Default).collect();
            if let Some((file, line, _)) = defaults.get(1) {
                out.push(format!(
                    "{file}:{line}: rego_type_error: multiple default rules {} found",
                    g.path
                ));
            }
        }
        out
    }

    /// Whether some complete rule or function has several definitions, so that two of
    /// them could give different values for one document, or a partial object rule could
    /// give one key two values: OPA's conflict error, which the bytecode VM does not raise
    /// (it keeps one value).
    ///
    /// Definitions that all give the same literal (`allow if a`, `allow if b`) can never
    /// conflict; nor can one definition with `else` branches.
    pub fn may_conflict(&self) -> bool {
        !self.conflict_candidates().is_empty()
    }

    /// Where the policy has a rule head the bytecode VM evaluates wrongly
    /// ([`vm_safe_head`]), as `file:line`: such a policy is only evaluated by the
    /// interpreter.
    pub fn vm_unsafe(&self) -> Option<&str> {
        self.vm_unsafe.first().map(String::as_str)
    }

    /// OPA's type errors for calls, one per call in file order: `undefined function
    /// <name>` for a function that is neither defined by a rule nor a built-in, and
    /// `<name>: arity mismatch` (without OPA's `have`/`want` type lines) or `function
    /// <path> has arity <a>, got <n> arguments` for a wrong number of arguments.
    /// `builtin(name)` is `None` for a name that is no built-in, else its arity if fixed.
    pub fn call_errors(
        &self,
        builtin: impl Fn(&str) -> Option<Option<u8>>,
        signature: impl Fn(&str) -> Option<(&'static [u8], &'static str)>,
    ) -> Vec<String> {
        let mut out: Vec<String> = self
            .calls
            .iter()
            .filter_map(|(name, at, n, value, _)| match builtin(name) {
                None => Some(format!("{at}: rego_type_error: undefined function {name}")),
                Some(Some(a)) if !arity_fits(*n, usize::from(a), *value) => {
                    Some(format!("{at}: rego_type_error: {name}: arity mismatch"))
                }
                Some(_) => None,
            })
            .chain(self.call_errors.iter().cloned())
            .chain(self.type_errors(signature))
            .collect();
        out.sort_by(|a, b| line_order(a).cmp(&line_order(b)));
        out
    }

    /// OPA's type errors for built-in calls with a literal argument of a kind the
    /// parameter refuses (`upper(1)`, `startswith(input.x, 1)`), in OPA's words: `have`
    /// lists what the text shows of each argument (`any` for an `input` reference, `???`
    /// for an output or what only OPA's inference knows), `want` the built-in's
    /// signature. `signature` gives the kinds each parameter accepts
    /// ([`super::types::KINDS`] bits) and
    /// OPA's `want` text of a built-in. Only literals are checked: OPA also infers the
    /// types of variables and rules.
    fn type_errors(
        &self,
        signature: impl Fn(&str) -> Option<(&'static [u8], &'static str)>,
    ) -> Vec<String> {
        self.calls
            .iter()
            .filter_map(|(name, at, n, value, args)| {
                let (accepts, want) = signature(name)?;
                if *n < accepts.len() || *n > accepts.len() + 1 {
                    return None;
                }
                let refused = args
                    .iter()
                    .zip(accepts)
                    .any(|(a, ok)| a.kind != 0 && a.kind & ok == 0);
                if !refused {
                    return None;
                }
                let mut have: Vec<&str> = args
                    .iter()
                    .map(|a| a.text.as_deref().unwrap_or("???"))
                    .collect();
                if *value {
                    have.push("???");
                }
                Some(format!(
                    "{at}: rego_type_error: {name}: invalid argument(s)\n\thave: ({})\n\twant: ({want})",
                    have.join(", ")
                ))
            })
            .collect()
    }

    /// Load-time messages for the differences from OPA that remain (`file:line: text`).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The rules [`Graph::may_conflict`] is about, as `data.` paths.
    pub fn conflict_candidates(&self) -> Vec<&str> {
        self.groups
            .iter()
            // regorun's own helpers (appended by the load-time rewrites) are the same
            // text in every file of a package, so they cannot disagree.
            .filter(|g| !g.path.contains(".__regorun_"))
            .filter(|g| {
                g.iterates
                    || objects_may_conflict(&g.objects)
                    // A partial object beside complete definitions (`q.b := 1`).
                    || (!g.objects.is_empty() && !g.values.is_empty())
                    || match g.values.as_slice() {
                        [] | [_] => false,
                        [Some(first), rest @ ..] => rest.iter().any(|v| v.as_ref() != Some(first)),
                        _ => true,
                    }
            })
            .map(|g| g.path.as_str())
            .collect()
    }
}

/// The components of the reference starting at token `i` (`a.b["c"]`): static ones, and
/// [`ANY`] for an index that is a variable or another single term (`data.rules[p].x`).
/// Also gives the index of the token after the reference.
fn chain_to(toks: &[Tok], i: usize) -> (Vec<String>, usize) {
    let mut out = vec![toks[i].1.clone()];
    let mut j = i + 1;
    loop {
        match toks.get(j).map(|t| t.1.as_str()) {
            Some(".") if toks.get(j + 1).is_some_and(|t| t.0 == TokenKind::Ident) => {
                out.push(toks[j + 1].1.clone());
                j += 2;
            }
            Some("[") if toks.get(j + 2).is_some_and(|t| t.1 == "]") => {
                match toks.get(j + 1) {
                    Some(t) if t.0 == TokenKind::String => {
                        out.push(t.1.trim_matches('"').to_string())
                    }
                    Some(t) if matches!(t.0, TokenKind::Ident | TokenKind::Number) => {
                        out.push(ANY.to_string())
                    }
                    _ => break,
                }
                j += 3;
            }
            _ => break,
        }
    }
    (out, j)
}

/// Whether the reference starting at token `i` is an operand, an argument or an element
/// (after `:=`, `==`, `(`, `,` and the like): a call there gives a value, so it cannot
/// take an output argument. After `|` it may start a comprehension's body: not counted.
fn valued(toks: &[Tok], i: usize) -> bool {
    i.checked_sub(1).is_some_and(|p| {
        (toks[p].0 == TokenKind::Symbol || toks[p].0 == TokenKind::Ident)
            && matches!(
                toks[p].1.as_str(),
                ":=" | "="
                    | "=="
                    | "!="
                    | "<"
                    | ">"
                    | "<="
                    | ">="
                    | "+"
                    | "-"
                    | "*"
                    | "/"
                    | "%"
                    | "("
                    | "["
                    | ","
                    | ":"
                    | "&"
                    | "in"
                    | "contains"
                    | "as"
            )
    })
}

/// Whether `n` arguments suit a function of arity `a`: one more is an output, unless the
/// call is a value.
fn arity_fits(n: usize, a: usize, value: bool) -> bool {
    n == a || (n == a + 1 && !value)
}

/// The number of arguments of the call whose `(` is at `open`.
fn argument_count(toks: &[Tok], open: usize) -> usize {
    let mut depth = 0usize;
    let mut commas = 0;
    for (k, t) in toks.iter().enumerate().skip(open) {
        if t.0 != TokenKind::Symbol {
            continue;
        }
        match t.1.as_str() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    // `f()` has none; otherwise one more than the commas, less a
                    // trailing one (`f(\n\ta,\n\tb,\n)`).
                    return if k == open + 1 {
                        0
                    } else if toks[k - 1].0 == TokenKind::Symbol && toks[k - 1].1 == "," {
                        commas
                    } else {
                        commas + 1
                    };
                }
            }
            "," if depth == 1 => commas += 1,
            _ => {}
        }
    }
    commas + 1
}

/// `file:line: ...` as (file, line), to put messages in file order.
fn line_order(message: &str) -> (&str, u32) {
    let mut parts = message.splitn(3, ':');
    let file = parts.next().unwrap_or("");
    let line = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
    (file, line)
}

/// Words of the language that a `(` may follow without a call.
const KEYWORDS: &[&str] = &[
    "not", "if", "else", "some", "every", "in", "with", "as", "contains", "default", "import",
    "package", "true", "false", "null", "set",
];

/// Whether the `contains` at token `i` (followed by `(`) is the built-in, not the keyword
/// of a rule head (`p contains x`): it starts an expression (a new line, or after `not`,
/// `if`, an operator or an opening bracket), not the rule's first token after its name.
fn contains_call(toks: &[Tok], i: usize, skip: usize) -> bool {
    let Some(prev) = i.checked_sub(1).map(|p| &toks[p]) else {
        return false;
    };
    i > skip
        && (prev.2 < toks[i].2
            || prev.0 == TokenKind::Symbol && !matches!(prev.1.as_str(), "]" | ")" | "}")
            || prev.0 == TokenKind::Ident && matches!(prev.1.as_str(), "not" | "if" | "else"))
}

/// A reference component that matches any rule name.
const ANY: &str = "*";

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(sources: &[(&str, &str)]) -> Graph {
        let mut engine = crate::rego::limits::engine();
        for (path, src) in sources {
            engine
                .add_policy(path.to_string(), src.to_string())
                .unwrap();
        }
        Graph::build(&crate::rego::policy::modules_by_path(&mut engine))
    }

    #[test]
    fn shipped_pack_has_no_possible_conflicts() {
        let files = crate::rego::policy::builtin_pack("kms").unwrap();
        let mut engine = crate::rego::limits::engine();
        for f in &files {
            engine.add_policy(f.path.clone(), f.source.clone()).unwrap();
        }
        let g = Graph::build(&crate::rego::policy::modules_by_path(&mut engine));
        assert_eq!(g.conflict_candidates(), Vec::<&str>::new());
        assert_eq!(g.recursion_errors(), Vec::<String>::new());
        assert_eq!(g.vm_unsafe(), None);
    }

    #[test]
    fn recursion_through_rules_functions_imports_and_prefixes() {
        let g = graph(&[("a.rego", "package main\n\np := q\nq := p\n")]);
        assert_eq!(
            g.recursion_errors(),
            [
                "a.rego:3: rego_recursion_error: rule data.main.p is recursive: data.main.p -> data.main.q -> data.main.p",
                "a.rego:4: rego_recursion_error: rule data.main.q is recursive: data.main.q -> data.main.p -> data.main.q",
            ]
        );
        let g = graph(&[("f.rego", "package main\n\nf(x) := f(x)\n")]);
        assert_eq!(
            g.recursion_errors(),
            ["f.rego:3: rego_recursion_error: rule data.main.f is recursive: data.main.f -> data.main.f"]
        );
        let g = graph(&[
            ("a.rego", "package a\n\nimport data.b\n\nx := b.y\n"),
            ("b.rego", "package b\n\ny := data.a\n"),
        ]);
        assert_eq!(g.recursion_errors().len(), 2, "{:?}", g.recursion_errors());
        // A variable index matches every name, and what follows it still counts: only
        // `resource_type` rules are read, so a rule beside them is no recursion (OPA).
        let sibling = "package rules.a\n\nresource_type := \"x\"\n\nreport := [p | data.rules[p].resource_type]\n";
        let g = graph(&[("a.rego", sibling)]);
        assert_eq!(g.recursion_errors(), Vec::<String>::new());
        // What regorus then reads differently is said at load time.
        assert_eq!(g.notes(), ["a.rego:5: data.rules[…] is read from inside package rules.a: regorun's engine may leave this package's own rules out of it (OPA includes them); name them instead (data.rules.a.<rule>)"]);
        let lib = "package lib\n\nreport := [p | data.rules[p].resource_type]\n";
        assert_eq!(graph(&[("a.rego", lib)]).notes(), Vec::<String>::new());
        let itself = "package rules.a\n\nreport := [p | data.rules[p].report]\n";
        assert_eq!(graph(&[("a.rego", itself)]).recursion_errors().len(), 1);
        // The index variable may itself be a rule.
        let index = "package main\n\nk := m[x] if x := \"a\"\n\nm := {\"a\": data.main[k]}\n";
        assert_eq!(graph(&[("a.rego", index)]).recursion_errors().len(), 2);
    }

    #[test]
    fn locals_and_with_targets_are_not_references() {
        let g = graph(&[(
            "a.rego",
            "package main\n\np := 1\n\nq if { p := 2; p == 2 }\n\nr if { some q in [1]; q == 1 }\n\nf(p) := p\n\ns if { q with p as 3 }\n\nt if { every r in [1] { r == 1 } }\n\nu := data.main.p\n",
        )]);
        assert_eq!(g.recursion_errors(), Vec::<String>::new());
    }

    #[test]
    fn only_differing_definitions_may_conflict() {
        let g = graph(&[("a.rego", "package main\n\nallow if input.a\nallow if input.b\nf(x) := 1 if x\nf(x) := 1 if not x\n")]);
        assert!(!g.may_conflict());
        let g = graph(&[(
            "a.rego",
            "package main\n\np := 1 if input.a\np := 2 if input.b\n",
        )]);
        assert_eq!(g.conflict_candidates(), ["data.main.p"]);
        let g = graph(&[("a.rego", "package main\n\nf(x) := x if x\nf(x) := 2 if x\n")]);
        assert_eq!(g.conflict_candidates(), ["data.main.f"]);
        let g = graph(&[("a.rego", "package main\n\nf(x) := 1 if x else := 2\n")]);
        assert!(!g.may_conflict());
    }

    #[test]
    fn partial_objects_that_may_give_a_key_two_values_may_conflict() {
        for src in [
            "q[y] := x if { some x in [1, 2]; y := 1 }",
            "q[k] := 1 if k := input.a\nq[k] := 2 if k := input.b",
            "q[\"a\"] := 1\nq[\"a\"] := 2",
            "q[k] := input.v if k := input.a\nq[\"b\"] := 1",
            "q[id] := s if { some id, r in input.Resources; some s in r.tags }",
            "q[id] := r if { some r in input.Resources; id := r.name }",
        ] {
            let g = graph(&[("a.rego", &format!("package main\n\n{src}\n"))]);
            assert_eq!(g.conflict_candidates(), ["data.main.q"], "{src}");
        }
        for src in [
            "q[k] := true if { some k in input.names }",
            "q[k] := v if { k := input.a; v := input.b }",
            "q[k] := 1 if k := input.a\nq[k] := 1 if k := input.b",
            "q[id] := r if { input.ok; some id, r in input.Resources; r.Type == \"k\" }",
        ] {
            let g = graph(&[("a.rego", &format!("package main\n\n{src}\n"))]);
            assert!(!g.may_conflict(), "{src}");
        }
    }

    #[test]
    fn helpers_in_several_files_of_a_package_do_not_conflict() {
        let file = "package main\n\nimport rego.v1\n\np if json.is_valid(input.a)\n";
        let a = crate::rego::compat::rewrite("a.rego", file, false).unwrap();
        let b =
            crate::rego::compat::rewrite("b.rego", &file.replace("p if", "q if"), false).unwrap();
        let g = graph(&[("a.rego", &a), ("b.rego", &b)]);
        assert!(!g.may_conflict(), "{a}");
    }

    #[test]
    fn one_definition_that_iterates_may_conflict() {
        for src in [
            "p := x if { some x in [1, 2] }",
            "p := {\"a\": [x, y]} if { xs = [1, 2]; x = xs[_]; y = xs[i] }",
            "p := v if { v := input.items[k] }",
            "f(xs) := v if { v := xs[i] }",
        ] {
            let g = graph(&[("a.rego", &format!("package main\n\n{src}\n"))]);
            assert!(g.may_conflict(), "{src}");
        }
        for src in [
            "p := x if { x := input.a }",
            "p if { some x in [1, 2]; x > 1 }",
            "p := count([x | some x in input.a])",
            "f(xs, i) := xs[i]",
            "p := v if { k := \"a\"; v := input.items[k] }",
            "p := n if { n := {k: v | some k, v in input} }",
        ] {
            let g = graph(&[("a.rego", &format!("package main\n\n{src}\n"))]);
            assert!(!g.may_conflict(), "{src}");
        }
    }

    #[test]
    fn heads_the_vm_gets_wrong() {
        for bad in [
            "default f(_) := 0\nf(x) := 1 if x\n",
            "r.a[x] := 1 if some x in input.xs\n",
            "r[x].y := 1 if some x in input.xs\n",
            "r[x] contains 1 if some x in input.xs\n",
            "r.s[x] contains 1 if some x in input.xs\n",
            "a.b := 1\n",
            "p if { k := input.k }\n",
            "v := 1 if { k := input.k } else := 0\n",
            "v := x if { x := input.k } else := 0\n",
            "v := input.k if { true } else := 0\n",
            "r := [x | some x in input.xs; count([1 | x > 5]) == 0]\n",
            "r := {x | some x in input.xs; count({1 | y := x; y > 5}) == 0}\n",
            "f(st) := 1 if { a := st.Action; not a in {null, \"\"} } else := 2\n",
            "g(xs) := true if { some a in xs; a == 9 } else := false\n",
            "r := true if { input.xs[_] == 9 } else := false\n",
            "r := true if { x := input.xs[i]; x == 9 } else := false\n",
            "r := 1 if { input.a } else := 2 if { some x in input.xs; x } else := 3\n",
        ] {
            let g = graph(&[("a.rego", &format!("package main\n\n{bad}"))]);
            assert_eq!(g.vm_unsafe(), Some("a.rego:3"), "{bad}");
        }
        for good in [
            "default p := 0\np := 1 if input.a\n",
            "r[x] := 1 if some x in input.xs\n",
            "r contains x if some x in input.xs\n",
            "f(x) := 1 if x\n",
            "p if { k := input.k; k }\n",
            "sid(st) := st.Sid if { is_string(st.Sid) } else := \"\"\n",
            "f(x) := y if { y := x.a }\n",
            "p := x if { [a, b] := input.k; x := a + b }\n",
            "r := [x | some x in input.xs; count([1 | some y in x; y > 5]) == 0]\n",
            "r := count([1 | input.a > 5])\n",
            "r := [[y | some y in x] | some x in input.xs]\n",
            "f(st) := 1 if { a := st.Action; a != null; not a in {\"\"} } else := 2\n",
            "r := true if { count([a | some a in input.xs; a == 9]) > 0 } else := false\n",
            "f(xs) := a if { count(xs) == 1\n some a in xs } else := \"\"\n",
            "f(xs) := true if { xs[_] } else := false\n",
            "f(xs, i) := true if { xs[i] == 9 } else := false\n",
            "r := true if { i := 0; input.xs[i] == 9 } else := false\n",
            "r contains x if { some x in input.xs }\n",
            // `else := value` after a negation on the same line is no assignment.
            "f(x) := 1 if { not x.a } else := x if { true }\n",
        ] {
            let g = graph(&[("a.rego", &format!("package main\n\n{good}"))]);
            assert_eq!(g.vm_unsafe(), None, "{good}");
        }
    }

    /// A package read whole goes to the interpreter: the VM's object keeps the package's
    /// undefined rules. Reading one rule of it stays on the VM.
    #[test]
    fn whole_package_reads_leave_the_vm() {
        let rules = ("r.rego", "package rules.a\n\nt := input.t\n");
        for bad in [
            "x := data.rules.a\n",
            "x := count(data.rules)\n",
            "x := [p | data.rules[p]]\n",
            "x := data\n",
            "x := y if y := data.main\n",
        ] {
            let g = graph(&[("a.rego", &format!("package main\n\n{bad}")), rules]);
            assert_eq!(g.vm_unsafe(), Some("a.rego:3"), "{bad}");
        }
        for good in [
            "x := data.rules.a.t\n",
            "x := [t | t := data.rules[_].t]\n",
            "x := [p | data.rules[p].t]\n",
            "import data.rules.a\nx := a.t\n",
        ] {
            let g = graph(&[("a.rego", &format!("package main\n\n{good}")), rules]);
            assert_eq!(g.vm_unsafe(), None, "{good}");
        }
    }

    #[test]
    fn two_defaults_are_an_error() {
        let g = graph(&[("a.rego", "package main\n\ndefault p := 1\ndefault p := 2\n")]);
        assert_eq!(
            g.default_errors(),
            ["a.rego:4: rego_type_error: multiple default rules data.main.p found"]
        );
    }
}
