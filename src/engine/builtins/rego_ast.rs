//! `rego.parse_module(filename, text)`: a module's syntax tree in OPA's JSON form (the
//! shapes of OPA's `ast.Module` marshalled as JSON), read by regorus's parser.

use super::{string_arg, Fault};
use regorus::unstable::{
    ArithOp, AssignOp, BinOp, BoolOp, Expr, Literal, LiteralStmt, Parser, Query, Rule, RuleHead,
    Span,
};
use regorus::Value;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

/// A built-in's body.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Name, arity and body of the built-ins of this file.
pub const ALL: &[(&str, u8, Body)] = &[("rego.parse_module", 2, parse_module)];

/// OPA's `rego.parse_module`: package, imports, rules and comments as OPA marshals them
/// (without locations, as OPA leaves them out; comments keep theirs).
fn parse_module(args: &[Value]) -> Result<Value, Fault> {
    let file = string_arg(args, 1)?;
    let text = string_arg(args, 2)?;
    let tree = module_json(file, text)?;
    crate::base::value::to_rego(tree).map_err(|e| Fault::Opa(e.to_string()))
}

/// The module's tree as JSON, or the parse error in OPA's form.
fn module_json(file: &str, text: &str) -> Result<Json, Fault> {
    let fail = |e: anyhow::Error| Fault::Opa(parse_error(file, &e.to_string()));
    // Template strings are read as the call the loader makes of them (lines kept).
    let parsed = crate::rego::template::rewrite(text);
    let parsed = parsed.as_deref().unwrap_or(text);
    let (wildcards, deepest) = scan(parsed);
    let most = crate::rego::limits::MAX_NESTING;
    if deepest > most {
        return Err(Fault::Limit(format!(
            "{file}: brackets nested {deepest} levels deep are over regorun's limit of {most} \
             (regorus's parser takes twice as long for each level)"
        )));
    }
    if let Some((_, line, chars)) = crate::rego::limits::overlong_line([(file, parsed)]) {
        return Err(Fault::Limit(format!(
            "{file}:{line}: a line of {chars} characters is over regorus's limit of {}",
            crate::rego::limits::MAX_LINE_CHARS
        )));
    }
    let src = crate::rego::limits::source(file, parsed).map_err(fail)?;
    let mut parser = Parser::new(&src).map_err(fail)?;
    parser.set_max_col(crate::rego::limits::lifted().max_col);
    parser.enable_rego_v1().map_err(fail)?;
    let module = parser.parse().map_err(fail)?;
    let mut tree = Tree { wildcards };
    let mut out = serde_json::Map::new();
    out.insert(
        "package".into(),
        json!({ "path": package_path(&tree.reference(&module.package.refr)) }),
    );
    let imports: Vec<Json> = module
        .imports
        .iter()
        .map(|i| {
            let mut o = serde_json::Map::new();
            if let Some(alias) = &i.r#as {
                o.insert("alias".into(), json!(alias.text()));
            }
            o.insert("path".into(), tree.term(&i.refr));
            Json::Object(o)
        })
        .collect();
    if !imports.is_empty() {
        out.insert("imports".into(), Json::Array(imports));
    }
    let rules: Vec<Json> = module.policy.iter().flat_map(|r| tree.rule(r)).collect();
    if !rules.is_empty() {
        out.insert("rules".into(), Json::Array(rules));
    }
    let comments = comments(file, text);
    if !comments.is_empty() {
        out.insert("comments".into(), Json::Array(comments));
    }
    Ok(Json::Object(out))
}

/// OPA's form of a parse error, `1 error occurred: file:line: rego_parse_error: message`
/// (without OPA's excerpt), from regorus's
/// (`--> file:line:col`, the excerpt, `error: message`); the message is regorus's.
fn parse_error(file: &str, raw: &str) -> String {
    let line = raw
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .and_then(|at| at.rsplit(':').nth(1))
        .unwrap_or("1");
    let message = raw
        .lines()
        .rev()
        .find_map(|l| l.trim_start().strip_prefix("error: "))
        .unwrap_or_else(|| raw.lines().next().unwrap_or(""));
    format!("1 error occurred: {file}:{line}: rego_parse_error: {message}")
}

/// `package a.b` is `data.a.b`: the first name becomes a string after `data`.
fn package_path(refr: &[Json]) -> Json {
    let mut path = vec![json!({"type": "var", "value": "data"})];
    for (i, t) in refr.iter().enumerate() {
        match (i, t.get("value")) {
            (0, Some(name)) => path.push(json!({"type": "string", "value": name})),
            _ => path.push(t.clone()),
        }
    }
    Json::Array(path)
}

/// The start offsets of the `_` wildcards in source order, which OPA's parser numbers
/// `$0`, `$1`, ... as it meets them, and the deepest nesting of `[`, `{` and `(`.
fn scan(text: &str) -> (BTreeMap<u32, usize>, usize) {
    let mut out = BTreeMap::new();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let Ok(src) = crate::rego::limits::source("", text) else {
        return (out, 0);
    };
    let mut lexer = crate::rego::limits::lexer(&src);
    while let Ok(regorus::unstable::Token(kind, span)) = lexer.next_token() {
        match (kind, span.text()) {
            (regorus::unstable::TokenKind::Eof, _) => break,
            (regorus::unstable::TokenKind::Symbol, "[" | "{" | "(") => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (regorus::unstable::TokenKind::Symbol, "]" | "}" | ")") => {
                depth = depth.saturating_sub(1);
            }
            (_, "_") => {
                let n = out.len();
                out.insert(span.start, n);
            }
            _ => {}
        }
    }
    (out, deepest)
}

/// The `#` comments outside strings (a raw string may span lines): OPA gives each its
/// text (base64, without the `#`) and place.
fn comments(file: &str, text: &str) -> Vec<Json> {
    use crate::rego::template::{skip_comment, skip_string};
    use base64::Engine as _;
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut row, mut counted) = (1usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                let end = skip_comment(b, i);
                row += text[counted..i].matches('\n').count();
                counted = i;
                let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                let body = text[i + 1..end].trim_end_matches('\r');
                out.push(json!({
                    "Location": {"col": i - line_start + 1, "file": file, "row": row},
                    "Text": base64::engine::general_purpose::STANDARD.encode(body.as_bytes()),
                }));
                i = end;
            }
            // A string that does not end does not parse: the module was refused before.
            b'"' | b'`' => i = skip_string(b, i).unwrap_or(b.len()),
            _ => i += 1,
        }
    }
    out
}

/// What a rule head holds besides its reference and arguments.
struct HeadParts {
    /// The key of a `contains` rule.
    key: Option<Json>,
    /// The value, written out or `true`; none for a `contains` rule.
    value: Option<Json>,
    /// Whether the value follows `:=`.
    assign: bool,
    contains: bool,
    /// Whether the value is written out (`:=`, `=`) rather than `true`.
    explicit: bool,
}

/// The conversion's state: the numbers of the wildcards.
struct Tree {
    wildcards: BTreeMap<u32, usize>,
}

/// `{"type": "ref", "value": [{"type": "var", "value": name}]}`, an operator's reference.
fn op(name: &str) -> Json {
    let parts: Vec<Json> = name
        .split('.')
        .enumerate()
        .map(|(i, p)| {
            if i == 0 {
                json!({"type": "var", "value": p})
            } else {
                json!({"type": "string", "value": p})
            }
        })
        .collect();
    json!({"type": "ref", "value": parts})
}

impl Tree {
    /// One rule: head, body, `default`, and the `else` chain; a v0 rule with several
    /// bodies is one rule for each.
    fn rule(&mut self, rule: &Rule) -> Vec<Json> {
        match rule {
            Rule::Default {
                refr,
                args,
                op,
                value,
                ..
            } => {
                let args: Vec<Json> = args.iter().map(|a| self.term(a)).collect();
                let value = self.term(value);
                let parts = HeadParts {
                    key: None,
                    value: Some(value),
                    assign: matches!(op, AssignOp::ColEq),
                    contains: false,
                    explicit: true,
                };
                let head = self.head(refr, Some(&args).filter(|a| !a.is_empty()), parts);
                vec![json!({"body": [true_expr()], "default": true, "head": head})]
            }
            Rule::Spec { head, bodies, .. } => {
                let (refr, args, key, value, contains) = match head {
                    RuleHead::Compr { refr, assign, .. } => (
                        refr,
                        None,
                        None,
                        assign
                            .as_ref()
                            .map(|a| (self.term(&a.value), matches!(a.op, AssignOp::ColEq))),
                        false,
                    ),
                    RuleHead::Set { refr, key, .. } => {
                        (refr, None, key.as_ref().map(|k| self.term(k)), None, true)
                    }
                    RuleHead::Func {
                        refr, args, assign, ..
                    } => (
                        refr,
                        Some(args.iter().map(|a| self.term(a)).collect::<Vec<_>>()),
                        None,
                        assign
                            .as_ref()
                            .map(|a| (self.term(&a.value), matches!(a.op, AssignOp::ColEq))),
                        false,
                    ),
                };
                let explicit = value.is_some();
                let (value, assign) = match value {
                    Some((v, colon)) => (Some(v), colon),
                    None if contains => (None, false),
                    None => (Some(json!({"type": "boolean", "value": true})), false),
                };
                let parts = HeadParts {
                    key,
                    value,
                    assign,
                    contains,
                    explicit,
                };
                let head_json = self.head(refr, args.as_ref(), parts);
                let mut rules: Vec<Json> = Vec::new();
                let mut chain: Vec<(Json, Json)> = Vec::new();
                for (i, body) in bodies.iter().enumerate() {
                    let b = self.body(&body.query);
                    if i == 0 || !body.is_else {
                        rules.push(json!({"body": b, "head": head_json.clone()}));
                        continue;
                    }
                    let (v, colon) = match &body.assign {
                        Some(a) => (Some(self.term(&a.value)), matches!(a.op, AssignOp::ColEq)),
                        None => (Some(json!({"type": "boolean", "value": true})), false),
                    };
                    let parts = HeadParts {
                        key: None,
                        value: v,
                        assign: colon,
                        contains: false,
                        explicit,
                    };
                    let h = self.head(refr, args.as_ref(), parts);
                    chain.push((h, b));
                }
                if rules.is_empty() {
                    rules.push(json!({"body": [true_expr()], "head": head_json}));
                }
                // The `else` bodies hang below the first rule, innermost last.
                let mut tail: Option<Json> = None;
                for (h, b) in chain.into_iter().rev() {
                    let mut o = json!({"body": b, "head": h});
                    if let Some(t) = tail.take() {
                        o["else"] = t;
                    }
                    tail = Some(o);
                }
                if let Some(t) = tail {
                    rules[0]["else"] = t;
                }
                rules
            }
        }
    }

    /// A rule's head: `name` and `key` as OPA derives them from the reference (a
    /// two-part reference with a value written out is a partial object rule, `p[k] := v`,
    /// named by its first part; without one, `p[x] if ...`, its key is the second part).
    fn head(&mut self, refr: &Expr, args: Option<&Vec<Json>>, parts: HeadParts) -> Json {
        let HeadParts {
            key,
            value,
            assign,
            contains,
            explicit,
        } = parts;
        let reference = self.reference(refr);
        let mut head = serde_json::Map::new();
        let plain = args.is_none() && !contains;
        if reference.len() == 1 || (reference.len() == 2 && plain && explicit) {
            if let Some(name) = reference[0].get("value") {
                head.insert("name".into(), name.clone());
            }
        }
        if let Some(args) = args {
            head.insert("args".into(), Json::Array(args.clone()));
        }
        match key {
            Some(k) => {
                head.insert("key".into(), k);
            }
            None if reference.len() == 2
                && plain
                && (explicit || reference[1].get("type") != Some(&json!("string"))) =>
            {
                head.insert("key".into(), reference[1].clone());
            }
            None => {}
        }
        if let Some(v) = value {
            head.insert("value".into(), v);
        }
        if assign {
            head.insert("assign".into(), json!(true));
        }
        head.insert("ref".into(), Json::Array(reference));
        Json::Object(head)
    }

    /// A query's expressions, numbered from 0; an empty one is `true`.
    fn body(&mut self, query: &Query) -> Json {
        if query.stmts.is_empty() {
            return json!([true_expr()]);
        }
        Json::Array(
            query
                .stmts
                .iter()
                .enumerate()
                .map(|(i, s)| self.statement(i, s))
                .collect(),
        )
    }

    fn statement(&mut self, index: usize, stmt: &LiteralStmt) -> Json {
        let mut o = serde_json::Map::new();
        o.insert("index".into(), json!(index));
        let terms = match &stmt.literal {
            Literal::SomeVars { vars, .. } => {
                let symbols: Vec<Json> = vars.iter().map(|v| self.var(v)).collect();
                json!({ "symbols": symbols })
            }
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => {
                let call = self.membership(key.as_deref(), value, collection);
                json!({ "symbols": [{"type": "call", "value": call}] })
            }
            Literal::Expr { expr, .. } => self.expression(expr),
            Literal::NotExpr { expr, .. } => {
                o.insert("negated".into(), json!(true));
                self.expression(expr)
            }
            Literal::Every {
                key,
                value,
                domain,
                query,
                ..
            } => {
                let key = key.as_ref().map(|k| self.var(k)).unwrap_or(Json::Null);
                let value = self.var(value);
                let domain = self.term(domain);
                let body = self.body(query);
                json!({"body": body, "domain": domain, "key": key, "value": value})
            }
        };
        o.insert("terms".into(), terms);
        if !stmt.with_mods.is_empty() {
            let with: Vec<Json> = stmt
                .with_mods
                .iter()
                .map(|w| json!({"target": self.term(&w.refr), "value": self.term(&w.r#as)}))
                .collect();
            o.insert("with".into(), Json::Array(with));
        }
        Json::Object(o)
    }

    /// An expression of a body: a call's operator and operands as an array, else the term.
    fn expression(&mut self, expr: &Expr) -> Json {
        match self.call(expr) {
            Some(parts) => Json::Array(parts),
            None => self.term(expr),
        }
    }

    /// The operator and operands of a call or an operator expression.
    fn call(&mut self, expr: &Expr) -> Option<Vec<Json>> {
        let binary = |name: &str, this: &mut Self, lhs: &Expr, rhs: &Expr| {
            Some(vec![op(name), this.term(lhs), this.term(rhs)])
        };
        match expr {
            Expr::Call { fcn, params, .. } if matches!(fcn.as_ref(), Expr::Var { span, .. } if span.text() == crate::rego::template::TEMPLATE_FN) => {
                None
            }
            Expr::Call { fcn, params, .. } => {
                let mut parts = vec![json!({"type": "ref", "value": self.reference(fcn)})];
                parts.extend(params.iter().map(|p| self.term(p)));
                Some(parts)
            }
            Expr::BoolExpr {
                op: o, lhs, rhs, ..
            } => {
                let name = match o {
                    BoolOp::Lt => "lt",
                    BoolOp::Le => "lte",
                    BoolOp::Eq => "equal",
                    BoolOp::Ge => "gte",
                    BoolOp::Gt => "gt",
                    BoolOp::Ne => "neq",
                };
                binary(name, self, lhs, rhs)
            }
            Expr::ArithExpr {
                op: o, lhs, rhs, ..
            } => {
                let name = match o {
                    ArithOp::Add => "plus",
                    ArithOp::Sub => "minus",
                    ArithOp::Mul => "mul",
                    ArithOp::Div => "div",
                    ArithOp::Mod => "rem",
                };
                binary(name, self, lhs, rhs)
            }
            Expr::BinExpr {
                op: o, lhs, rhs, ..
            } => {
                let name = match o {
                    BinOp::Union => "or",
                    BinOp::Intersection => "and",
                };
                binary(name, self, lhs, rhs)
            }
            Expr::AssignExpr {
                op: o, lhs, rhs, ..
            } => {
                let name = match o {
                    AssignOp::Eq => "eq",
                    AssignOp::ColEq => "assign",
                };
                binary(name, self, lhs, rhs)
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => Some(self.membership(key.as_deref(), value, collection)),
            Expr::UnaryExpr { expr, .. } if !matches!(expr.as_ref(), Expr::Number { .. }) => {
                Some(vec![
                    op("minus"),
                    json!({"type": "number", "value": 0}),
                    self.term(expr),
                ])
            }
            _ => None,
        }
    }

    /// A template string, which the loader's rewrite made a call of an array of string
    /// parts and one-element comprehensions (`[__regorun_t | __regorun_t := (expr)]`).
    fn template(&mut self, params: &[regorus::unstable::Ref<Expr>]) -> Json {
        let Some(Expr::Array { items, .. }) = params.first().map(|p| p.as_ref()) else {
            return json!({"type": "null", "value": {}});
        };
        let mut multi_line = false;
        let mut parts = Vec::new();
        for item in items {
            match item.as_ref() {
                Expr::ArrayCompr { query, .. } => {
                    let inner = query.stmts.first().and_then(|s| match &s.literal {
                        Literal::Expr { expr, .. } => match expr.as_ref() {
                            Expr::AssignExpr { rhs, .. } => Some(rhs.clone()),
                            _ => None,
                        },
                        _ => None,
                    });
                    if let Some(rhs) = inner {
                        parts.push(json!({"index": 0, "terms": self.expression(&rhs)}));
                    }
                }
                other => {
                    multi_line |= matches!(other, Expr::RawString { .. });
                    parts.push(self.term(other));
                }
            }
        }
        json!({"type": "templatestring", "value": {"multi_line": multi_line, "parts": parts}})
    }

    fn membership(&mut self, key: Option<&Expr>, value: &Expr, collection: &Expr) -> Vec<Json> {
        let mut parts = vec![op(if key.is_some() {
            "internal.member_3"
        } else {
            "internal.member_2"
        })];
        if let Some(k) = key {
            parts.push(self.term(k));
        }
        parts.push(self.term(value));
        parts.push(self.term(collection));
        parts
    }

    /// A variable by its text: `_` gets its `$n`, `input` and `data` are references.
    fn var(&mut self, span: &Span) -> Json {
        let name = span.text();
        if name == "_" {
            let n = self.wildcards.get(&span.start).copied().unwrap_or(0);
            return json!({"type": "var", "value": format!("${n}")});
        }
        json!({"type": "var", "value": name})
    }

    /// A reference's parts: the head term, then each `.field` as a string and each
    /// `[index]` as its term.
    fn reference(&mut self, expr: &Expr) -> Vec<Json> {
        match expr {
            Expr::RefDot { refr, field, .. } => {
                let mut parts = self.reference(refr);
                parts.push(json!({"type": "string", "value": field.1.as_string().map(|s| s.to_string()).unwrap_or_default()}));
                parts
            }
            Expr::RefBrack { refr, index, .. } => {
                let mut parts = self.reference(refr);
                parts.push(self.term(index));
                parts
            }
            Expr::Var { span, .. } => vec![self.var(span)],
            other => vec![self.term(other)],
        }
    }

    /// One term.
    fn term(&mut self, expr: &Expr) -> Json {
        if let Some(parts) = self.call(expr) {
            return json!({"type": "call", "value": parts});
        }
        match expr {
            Expr::Call { params, .. } => self.template(params),
            Expr::String { value, .. } | Expr::RawString { value, .. } => {
                json!({"type": "string", "value": value.as_string().map(|s| s.to_string()).unwrap_or_default()})
            }
            Expr::Number { span, .. } => number(span.text(), false),
            Expr::UnaryExpr { expr, .. } => match expr.as_ref() {
                Expr::Number { span, .. } => number(span.text(), true),
                other => self.term(other),
            },
            Expr::Bool { value, .. } => {
                json!({"type": "boolean", "value": value.as_bool().copied().unwrap_or(false)})
            }
            Expr::Null { .. } => json!({"type": "null", "value": {}}),
            Expr::Var { span, .. } => {
                let v = self.var(span);
                if matches!(span.text(), "input" | "data") {
                    json!({"type": "ref", "value": [v]})
                } else {
                    v
                }
            }
            Expr::RefDot { .. } | Expr::RefBrack { .. } => {
                json!({"type": "ref", "value": self.reference(expr)})
            }
            Expr::Array { items, .. } => {
                let items: Vec<Json> = items.iter().map(|i| self.term(i)).collect();
                json!({"type": "array", "value": items})
            }
            Expr::Set { items, .. } => {
                let mut items: Vec<Json> = items.iter().map(|i| self.term(i)).collect();
                items.sort_by(term_order);
                items.dedup();
                json!({"type": "set", "value": items})
            }
            Expr::Object { fields, .. } => {
                let mut pairs: Vec<Json> = fields
                    .iter()
                    .map(|(_, k, v)| json!([self.term(k), self.term(v)]))
                    .collect();
                pairs.sort_by(|a, b| term_order(&a[0], &b[0]));
                json!({"type": "object", "value": pairs})
            }
            Expr::ArrayCompr { term, query, .. } => {
                let t = self.term(term);
                let body = self.body(query);
                json!({"type": "arraycomprehension", "value": {"body": body, "term": t}})
            }
            Expr::SetCompr { term, query, .. } => {
                let t = self.term(term);
                let body = self.body(query);
                json!({"type": "setcomprehension", "value": {"body": body, "term": t}})
            }
            Expr::ObjectCompr {
                key, value, query, ..
            } => {
                let k = self.term(key);
                let v = self.term(value);
                let body = self.body(query);
                json!({"type": "objectcomprehension", "value": {"body": body, "key": k, "value": v}})
            }
            // Calls and operators were handled above; anything else regorus may add.
            _ => json!({"type": "null", "value": {}}),
        }
    }
}

/// The expression `true`, a body with nothing else.
fn true_expr() -> Json {
    json!({"index": 0, "terms": {"type": "boolean", "value": true}})
}

/// A number literal's term.
fn number(text: &str, negative: bool) -> Json {
    let text = if negative {
        format!("-{text}")
    } else {
        text.to_string()
    };
    let n: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
    json!({"type": "number", "value": n})
}

/// OPA's order of terms (`ast.Compare`): by type (null, boolean, number, string, var,
/// ref, array, object, set, comprehensions, call), then by value: numbers by size, strings
/// and variables by their bytes, references, arrays and calls element by element (then
/// by length), objects pair by pair (keys already in this order), sets likewise,
/// comprehensions by their term.
fn term_order(a: &Json, b: &Json) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    const TYPES: &[&str] = &[
        "null",
        "boolean",
        "number",
        "string",
        "var",
        "ref",
        "array",
        "object",
        "set",
        "arraycomprehension",
        "objectcomprehension",
        "setcomprehension",
        "call",
    ];
    let ty = |t: &Json| {
        t.get("type")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    let rank = |t: &str| TYPES.iter().position(|x| *x == t).unwrap_or(TYPES.len());
    let (ta, tb) = (ty(a), ty(b));
    let by_rank = rank(&ta).cmp(&rank(&tb));
    if by_rank != Ordering::Equal {
        return by_rank;
    }
    let (va, vb) = (&a["value"], &b["value"]);
    let seq = |x: &Json, y: &Json, each: &dyn Fn(&Json, &Json) -> Ordering| {
        let (x, y) = (
            x.as_array().map(Vec::as_slice).unwrap_or(&[]),
            y.as_array().map(Vec::as_slice).unwrap_or(&[]),
        );
        x.iter()
            .zip(y)
            .map(|(p, q)| each(p, q))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or_else(|| x.len().cmp(&y.len()))
    };
    match ta.as_str() {
        "boolean" => va.as_bool().cmp(&vb.as_bool()),
        "number" => va
            .as_f64()
            .partial_cmp(&vb.as_f64())
            .unwrap_or(Ordering::Equal),
        "string" | "var" => va.as_str().cmp(&vb.as_str()),
        "ref" | "array" | "set" | "call" => seq(va, vb, &term_order),
        "object" => seq(va, vb, &|p, q| {
            term_order(&p[0], &q[0]).then_with(|| term_order(&p[1], &q[1]))
        }),
        "arraycomprehension" | "setcomprehension" => term_order(&va["term"], &vb["term"]),
        "objectcomprehension" => {
            term_order(&va["key"], &vb["key"]).then_with(|| term_order(&va["value"], &vb["value"]))
        }
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_and_long_lines_are_regoruns_limits() {
        let deep = format!("package a\np := {}{}\n", "[".repeat(21), "]".repeat(21));
        assert!(matches!(module_json("x.rego", &deep), Err(Fault::Limit(_))));
        let ok = format!("package a\np := {}{}\n", "[".repeat(8), "]".repeat(8));
        assert!(module_json("x.rego", &ok).is_ok());
        let long = format!("package a\np := \"{}\"\n", "a".repeat(70_000));
        assert!(matches!(module_json("x.rego", &long), Err(Fault::Limit(_))));
    }

    #[test]
    fn comments_outside_strings() {
        let places = |src: &str| -> Vec<(u64, u64)> {
            comments("x.rego", src)
                .iter()
                .map(|c| {
                    let at = &c["Location"];
                    (at["row"].as_u64().unwrap(), at["col"].as_u64().unwrap())
                })
                .collect()
        };
        assert_eq!(places(r##"p := "# no" # yes"##), [(1, 13)]);
        assert_eq!(places(r##"p := "\"#" "##), []);
        assert_eq!(places("p := `a\n# not\nb` # x\n# y"), [(3, 4), (4, 1)]);
        assert_eq!(
            parse_error(
                "x.rego",
                " --> x.rego:3:6\n  |\n3 | p :=\n  |     ^\nerror: expecting expression"
            ),
            "1 error occurred: x.rego:3: rego_parse_error: expecting expression"
        );
    }
}
