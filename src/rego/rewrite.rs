//! Line-preserving source rewrites that make regorus give OPA's answers where its
//! interpreter differs.
//!
//! `some x in c` where `c` is not a collection (a string, a number) is undefined in OPA
//! and on regorus's bytecode VM, but stops regorus's interpreter with an error. Every
//! `some .. in` collection is wrapped in [`WRAPPER`], a function of the [`HELPER_MODULE`]
//! that passes collections through and turns anything else into `[]` (no iteration, so the
//! literal is undefined). Only text on the same line is inserted: line numbers in errors,
//! coverage and traces stay the user's.
//!
//! Arithmetic on a value that is not a number (`input.port * 2` with `"80"`, `7.5 % 2`) is
//! a built-in error in OPA, so the expression is undefined unless built-in errors are
//! strict; the bytecode VM agrees, but regorus's interpreter stops with an error. Without
//! strict built-in errors [`arithmetic`] turns each `a op b` into a call of a helper
//! function that computes it only for numbers (and sets, for `-`).

use crate::rego::compat::{lex, Tok};
use regorus::unstable::TokenKind;
use regorus::unstable::{
    ArithOp, Expr, Literal, Module, Parser, Query, Ref, Rule, RuleHead, Source,
};

/// The helper module's path (internal: never listed, traced or queried).
pub const HELPER_PATH: &str = "<regorun:rewrite>";

/// The helper module, valid under `--rego-version v0` and v1.
pub const HELPER_MODULE: &str = concat!(
    "package __regorun\n\nimport rego.v1\n\niter(x) := x if {\n\tis_array(x)\n} else := x if {\n",
    "\tis_set(x)\n} else := x if {\n\tis_object(x)\n} else := []\n\n",
    "plus(a, b) := a + b if { is_number(a); is_number(b) }\n",
    "minus(a, b) := a - b if { is_number(a); is_number(b) } ",
    "else := a - b if { is_set(a); is_set(b) }\n",
    "mul(a, b) := a * b if { is_number(a); is_number(b) }\n",
    "div(a, b) := a / b if { is_number(a); is_number(b) }\n",
    // OPA's `%` takes integers only.
    "rem(a, b) := a % b if { is_number(a); is_number(b); floor(a) == a; floor(b) == b }\n",
);

/// What goes before a wrapped collection (and `)` after it).
pub const WRAPPER: &str = "data.__regorun.iter(";

/// `source` with the interpreter's rewrites: the built-ins' own calls in place of routed
/// ones, arithmetic calls when `arith` (built-in errors are not strict) and wrapped
/// `some .. in` collections; `None` when none applies.
pub fn for_interpreter(file: &str, source: &str, v0: bool, arith: bool) -> Option<String> {
    let routed = unrouted(source);
    let text = routed.as_deref().unwrap_or(source);
    let calls = if arith {
        arithmetic(file, text, v0).or(routed)
    } else {
        routed
    };
    let text = calls.as_deref().unwrap_or(source);
    some_in(file, text).or(calls)
}

/// Whether [`for_interpreter`] may change `source`, from its tokens alone (the arithmetic
/// rewrite parses the whole file, about 10 ms for the built-in pack's library): a routed
/// call, a `some`, an arithmetic operator when `arith`. Never false where it would.
pub fn may_rewrite_for_interpreter(file: &str, source: &str, arith: bool) -> bool {
    if crate::rego::compat::ROUTED
        .iter()
        .any(|r| source.contains(&format!("{}(", r.helper())))
    {
        return true;
    }
    let Some(toks) = lex(file, source) else {
        return false;
    };
    toks.iter().any(|t| match t.kind {
        TokenKind::Ident => t.text == "some",
        // `a -1` lexes as a name and a negative number.
        TokenKind::Number => arith && t.text.starts_with('-'),
        TokenKind::Symbol => arith && matches!(t.text.as_str(), "+" | "-" | "*" | "/" | "%"),
        _ => false,
    })
}

/// The routed calls ([`crate::rego::compat::ROUTED`]) are the built-ins' again and their
/// appended functions go: the interpreter's replacements give OPA's values and errors
/// themselves, so the check is not made twice, and with strict built-in errors an error
/// names the call's line rather than the appended one.
fn unrouted(source: &str) -> Option<String> {
    use crate::rego::compat::{routed_definition, ROUTED};
    let mut out: Option<String> = None;
    for route in ROUTED {
        let text = out.as_deref().unwrap_or(source);
        let call = format!("{}(", route.helper());
        // Only the first file of a package holds the definition; the others call it.
        let definition = [" if", ""]
            .iter()
            .filter_map(|kw| routed_definition(route.name, kw))
            .find(|d| text.contains(d.as_str()));
        if definition.is_none() && !text.contains(&call) {
            continue;
        }
        let text = match definition {
            Some(d) => text.replace(&d, ""),
            None => text.to_string(),
        };
        out = Some(text.replace(&call, &format!("{}(", route.name)));
    }
    out
}

/// `source` with every `some .. in` collection wrapped, or `None` when there is none (or
/// the source does not lex: loading reports that).
pub fn some_in(file: &str, source: &str) -> Option<String> {
    let toks = lex(file, source)?;
    let mut inserts: Vec<(usize, &str)> = Vec::new();
    for i in 0..toks.len() {
        if toks[i].kind != TokenKind::Ident || toks[i].text != "some" {
            continue;
        }
        let Some(k) = in_keyword(&toks, i) else {
            continue;
        };
        let Some(end) = collection_end(&toks, k + 1) else {
            continue;
        };
        inserts.push((toks[k + 1].start, WRAPPER));
        inserts.push((toks[end].end, ")"));
    }
    if inserts.is_empty() {
        return None;
    }
    // From the end, so that earlier offsets stay valid.
    inserts.sort_by_key(|i| std::cmp::Reverse(i.0));
    let mut out = source.to_string();
    for (at, text) in inserts {
        out.insert_str(at, text);
    }
    Some(out)
}

/// `source` with every arithmetic expression a call of the [`HELPER_MODULE`]'s function for
/// its operator (`a * b` is `data.__regorun.mul(a, b)`), or `None` when there is none or the
/// source does not parse (loading reports that). Line breaks stay where they were.
pub fn arithmetic(file: &str, source: &str, v0: bool) -> Option<String> {
    let src = Source::from_contents(file.to_string(), source.to_string()).ok()?;
    let mut parser = Parser::new(&src).ok()?;
    if !v0 {
        parser.enable_rego_v1().ok()?;
    }
    let module = parser.parse().ok()?;
    let mut nodes = Vec::new();
    module_arith(&module, &mut nodes);
    if nodes.is_empty() {
        return None;
    }
    // Outer expressions first among those that start together.
    nodes.sort_by_key(|n| (n.start, std::cmp::Reverse(n.end)));
    let mut next = 0;
    Some(render(source, 0, source.len(), &nodes, &mut next))
}

/// One arithmetic expression: its byte range, operator, and where its operands end and start.
struct Arith {
    start: usize,
    end: usize,
    op: ArithOp,
    lhs_end: usize,
    rhs_start: usize,
}

/// `source[from..to]` with the expressions from `nodes[*next]` on that lie inside it
/// rendered as calls.
fn render(source: &str, from: usize, to: usize, nodes: &[Arith], next: &mut usize) -> String {
    let mut out = String::new();
    let mut at = from;
    while let Some(n) = nodes.get(*next) {
        if n.start >= to || n.end > to {
            break;
        }
        *next += 1;
        let Some(op_at) = operator_at(source, n.lhs_end, n.rhs_start) else {
            continue;
        };
        out.push_str(&source[at..n.start]);
        let name = match n.op {
            ArithOp::Add => "plus",
            ArithOp::Sub => "minus",
            ArithOp::Mul => "mul",
            ArithOp::Div => "div",
            ArithOp::Mod => "rem",
        };
        out.push_str(&format!("data.__regorun.{name}("));
        out.push_str(&render(source, n.start, op_at, nodes, next));
        out.push(',');
        out.push_str(&render(source, op_at + 1, n.end, nodes, next));
        out.push(')');
        at = n.end;
    }
    out.push_str(&source[at..to]);
    out
}

/// The operator's offset between the operands: past closing parentheses, blanks and
/// comments. `None` if something else is there (the expression is left as written).
fn operator_at(source: &str, from: usize, to: usize) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut i = from;
    while i < to.min(bytes.len()) {
        match bytes[i] {
            b')' | b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'%' => return Some(i),
            _ => return None,
        }
    }
    None
}

fn module_arith(module: &Module, out: &mut Vec<Arith>) {
    for rule in &module.policy {
        match rule.as_ref() {
            Rule::Spec { head, bodies, .. } => {
                match head {
                    RuleHead::Compr { refr, assign, .. } => {
                        expr_arith(refr, out);
                        if let Some(a) = assign {
                            expr_arith(&a.value, out);
                        }
                    }
                    RuleHead::Set { refr, key, .. } => {
                        expr_arith(refr, out);
                        if let Some(k) = key {
                            expr_arith(k, out);
                        }
                    }
                    RuleHead::Func {
                        refr, args, assign, ..
                    } => {
                        expr_arith(refr, out);
                        args.iter().for_each(|a| expr_arith(a, out));
                        if let Some(a) = assign {
                            expr_arith(&a.value, out);
                        }
                    }
                }
                for body in bodies {
                    if let Some(a) = &body.assign {
                        expr_arith(&a.value, out);
                    }
                    query_arith(&body.query, out);
                }
            }
            Rule::Default {
                refr, args, value, ..
            } => {
                expr_arith(refr, out);
                args.iter().for_each(|a| expr_arith(a, out));
                expr_arith(value, out);
            }
        }
    }
}

fn query_arith(query: &Query, out: &mut Vec<Arith>) {
    for stmt in &query.stmts {
        match &stmt.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => membership_arith(key.as_ref(), value, collection, out),
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => expr_arith(expr, out),
            Literal::Every { domain, query, .. } => {
                expr_arith(domain, out);
                query_arith(query, out);
            }
        }
        for w in &stmt.with_mods {
            expr_arith(&w.refr, out);
            expr_arith(&w.r#as, out);
        }
    }
}

/// `key, value in collection`, as `some .. in` and as an expression.
fn membership_arith(
    key: Option<&Ref<Expr>>,
    value: &Expr,
    collection: &Expr,
    out: &mut Vec<Arith>,
) {
    if let Some(k) = key {
        expr_arith(k, out);
    }
    expr_arith(value, out);
    expr_arith(collection, out);
}

fn expr_arith(expr: &Expr, out: &mut Vec<Arith>) {
    match expr {
        Expr::ArithExpr {
            span, op, lhs, rhs, ..
        } => {
            out.push(Arith {
                start: span.start as usize,
                end: span.end as usize,
                op: op.clone(),
                lhs_end: lhs.span().end as usize,
                rhs_start: rhs.span().start as usize,
            });
            expr_arith(lhs, out);
            expr_arith(rhs, out);
        }
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            items.iter().for_each(|i| expr_arith(i, out));
        }
        Expr::Object { fields, .. } => {
            for (_, k, v) in fields {
                expr_arith(k, out);
                expr_arith(v, out);
            }
        }
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            expr_arith(term, out);
            query_arith(query, out);
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            expr_arith(key, out);
            expr_arith(value, out);
            query_arith(query, out);
        }
        Expr::Call { fcn, params, .. } => {
            expr_arith(fcn, out);
            params.iter().for_each(|p| expr_arith(p, out));
        }
        Expr::UnaryExpr { expr, .. } => expr_arith(expr, out),
        Expr::RefDot { refr, .. } => expr_arith(refr, out),
        Expr::RefBrack { refr, index, .. } => {
            expr_arith(refr, out);
            expr_arith(index, out);
        }
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            expr_arith(lhs, out);
            expr_arith(rhs, out);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => membership_arith(key.as_ref(), value, collection, out),
        _ => {}
    }
}

/// The `in` of the `some` at `i`, if this `some` iterates (`some x in c`,
/// `some k, v in c`) rather than declaring (`some x`).
fn in_keyword(toks: &[Tok], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    for j in i + 1..toks.len() {
        let t = &toks[j];
        // Brackets inside string literals are text, not structure.
        let symbol = t.kind == TokenKind::Symbol;
        match t.text.as_str() {
            "(" | "[" | "{" if symbol => depth += 1,
            ")" | "]" | "}" if symbol && depth == 0 => return None,
            ")" | "]" | "}" if symbol => depth -= 1,
            ";" | "|" if symbol && depth == 0 => return None,
            "in" if depth == 0 && t.kind == TokenKind::Ident => return Some(j),
            _ if depth == 0 && t.line != toks[j - 1].line => return None,
            _ => {}
        }
    }
    None
}

/// The last token of the collection expression starting at `first`: it ends before a
/// statement separator, `with`, a closing bracket it did not open, or a new line.
fn collection_end(toks: &[Tok], first: usize) -> Option<usize> {
    toks.get(first)?;
    let mut depth = 0usize;
    let mut last = first;
    for j in first..toks.len() {
        let t = &toks[j];
        let symbol = t.kind == TokenKind::Symbol;
        if depth == 0 && j > first {
            let ends = (symbol && matches!(t.text.as_str(), ";" | "," | "|" | ")" | "]" | "}"))
                || (t.kind == TokenKind::Ident && t.text == "with")
                || t.line != toks[j - 1].line;
            if ends {
                break;
            }
        }
        match t.text.as_str() {
            "(" | "[" | "{" if symbol => depth += 1,
            ")" | "]" | "}" if symbol => depth = depth.checked_sub(1)?,
            _ => {}
        }
        last = j;
    }
    (depth == 0).then_some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(s: &str) -> String {
        some_in("p.rego", s).unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn wraps_every_iterating_some() {
        assert_eq!(
            rw("p if {\n\tsome c in input.name\n\tc == \"q\"\n}\n"),
            "p if {\n\tsome c in data.__regorun.iter(input.name)\n\tc == \"q\"\n}\n"
        );
        assert_eq!(
            rw("x := [v | some k, v in f(input)[\"a\"]; k > 1]"),
            "x := [v | some k, v in data.__regorun.iter(f(input)[\"a\"]); k > 1]"
        );
        assert_eq!(
            rw("p if some x in [y | some y in ys]"),
            "p if some x in data.__regorun.iter([y | some y in data.__regorun.iter(ys)])"
        );
        assert_eq!(
            rw("p if { some x in xs with input as 1 }"),
            "p if { some x in data.__regorun.iter(xs) with input as 1 }"
        );
        assert_eq!(
            rw("p if {\n\tsome x\n\tx in xs\n}\n"),
            "p if {\n\tsome x\n\tx in xs\n}\n"
        );
        assert_eq!(some_in("p.rego", "p if { some x; x := 1 }"), None);
        // A string literal is wrapped whole, quotes and brackets inside it included.
        assert_eq!(
            rw("p if { some c in \"a(b\"; c == \"a\" }"),
            "p if { some c in data.__regorun.iter(\"a(b\"); c == \"a\" }"
        );
    }

    #[test]
    fn arithmetic_becomes_calls() {
        let rw = |s: &str| {
            let src = format!("package x\n{s}");
            let out = arithmetic("p.rego", &src, false).unwrap_or(src);
            out["package x\n".len()..].to_string()
        };
        assert_eq!(
            rw("p := (1 + 2) * 3"),
            "p := data.__regorun.mul((data.__regorun.plus(1 , 2)) , 3)"
        );
        assert_eq!(
            rw("p := 1 + (2 * x) - -1"),
            "p := data.__regorun.minus(data.__regorun.plus(1 , (data.__regorun.mul(2 , x))) , -1)"
        );
        assert_eq!(
            rw("p := count(xs)-1"),
            "p := data.__regorun.minus(count(xs),1)"
        );
        // Line breaks stay where they were.
        assert_eq!(
            rw("p if {\n\ty := x # c\n\t% 2\n}"),
            "p if {\n\ty := data.__regorun.rem(x # c\n\t, 2)\n}"
        );
        assert_eq!(
            rw("p contains y if { some x in xs; y := [x * 2 | true] }"),
            "p contains y if { some x in xs; y := [data.__regorun.mul(x , 2) | true] }"
        );
        assert_eq!(
            arithmetic("p.rego", "package x\np := {1} | {2}", false),
            None
        );
        assert_eq!(arithmetic("p.rego", "package x\np := (", false), None);
    }

    #[test]
    fn the_cheap_check_sees_every_rewrite() {
        for src in [
            "package x\np := count(xs)-1",
            "package x\np := a * b",
            "package x\np if { some v in xs }",
            "package x\np := {1} - {2}",
            "package x\np := [1, 2]",
            "package x\np := \"a-b\"",
        ] {
            for arith in [true, false] {
                let rewrites = for_interpreter("p.rego", src, false, arith).is_some();
                let seen = may_rewrite_for_interpreter("p.rego", src, arith);
                assert!(seen || !rewrites, "{src} {arith}");
            }
        }
        assert!(!may_rewrite_for_interpreter(
            "p.rego",
            "package x\np := [1, 2]",
            true
        ));
        // A routed call is the built-in's own again, in both modes.
        let routed =
            crate::rego::compat::rewrite("p.rego", "package x\np := floor(input.x)\n", false)
                .unwrap();
        for arith in [true, false] {
            assert!(may_rewrite_for_interpreter("p.rego", &routed, arith));
            let out = for_interpreter("p.rego", &routed, false, arith).unwrap();
            assert_eq!(out, "package x\np := floor(input.x)\n", "{arith}");
        }
    }
}
