//! A Go `text/template` subset for OPA's `strings.render_template`, executed as OPA 1.20
//! does (Go's default `missingkey`, then every `<no value>` of the output becomes
//! `<undefined>`) over JSON data (numbers are `json.Number`, as `ast.As` gives them):
//! text, `{{- -}}` trimming, comments, fields (`.a.b`, `$x.a`), variables (`:=`, `=`),
//! pipelines with `|` and parentheses, `if`/`else if`/`else`, `range` (with `$i, $v :=`
//! and `else`), `with`, and the functions `and`, `or`, `not`, `len`, `index`, `eq`, `ne`,
//! `lt`, `le`, `gt`, `ge`, `print`, `printf`, `println`. Anything else (`define`,
//! `template`, `block`, `break`, `continue`, other functions) is an error naming it, never
//! a different text.

use crate::base::gofmt::{self, Arg};

/// A template value as Go holds it: numbers of the data are `json.Number` (their JSON
/// text, a string kind), numbers written in the template are `int` or `float64`.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    JsonNumber(String),
    Int(i64),
    Float(f64),
    String(String),
    Array(Vec<Value>),
    Object(std::collections::BTreeMap<String, Value>),
    /// Go's zero `reflect.Value`: a missing map key, or a nil a pipeline gave.
    Missing,
}

impl Value {
    /// Nil for Go's comparisons and printing: a nil in the data, or no value at all.
    fn is_nil(&self) -> bool {
        matches!(self, Value::Null | Value::Missing)
    }
}

impl Value {
    fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::JsonNumber(crate::base::gojson::number(n)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::Array(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Renders `template` with `data`, or Go's error text (or regorun's for what it lacks).
pub fn render(template: &str, data: &serde_json::Value) -> Result<String, String> {
    let tokens = lex(template)?;
    let mut pos = 0;
    let nodes = parse(&tokens, &mut pos, &[])?;
    if pos < tokens.len() {
        return Err(format!(
            "template: template: unexpected {}",
            describe(&tokens[pos])
        ));
    }
    let data = Value::from_json(data);
    let mut out = String::new();
    let mut vars = vec![("$".to_string(), data.clone())];
    exec(&nodes, &data, &mut vars, &mut out)?;
    Ok(out.replace("<no value>", "<undefined>"))
}

#[derive(Debug, Clone)]
enum Tok {
    Text(String),
    Action(String),
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Text(_) => "text".into(),
        Tok::Action(a) => format!("{{{{{a}}}}}"),
    }
}

/// Text and action tokens, with `{{-`/`-}}` trimming applied and comments dropped.
fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut rest = src;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut text = &rest[..open];
        if trim_next {
            text = text.trim_start();
        }
        let after = &rest[open + 2..];
        let trim_left =
            after.starts_with("- ") || after.starts_with("-\t") || after.starts_with("-\n");
        if trim_left {
            text = text.trim_end();
        }
        if !text.is_empty() {
            out.push(Tok::Text(text.to_string()));
        }
        let body_start = if trim_left { 1 } else { 0 };
        let close = find_close(&after[body_start..])
            .ok_or_else(|| "template: template:1: unclosed action".to_string())?;
        let mut body = &after[body_start..body_start + close];
        trim_next = false;
        if body.ends_with(" -") || body.ends_with("\t-") || body.ends_with("\n-") {
            body = &body[..body.len() - 1];
            trim_next = true;
        }
        let body = body.trim();
        if !(body.starts_with("/*") && body.ends_with("*/")) {
            out.push(Tok::Action(body.to_string()));
        }
        rest = &after[body_start + close + 2..];
    }
    let text = if trim_next { rest.trim_start() } else { rest };
    if !text.is_empty() {
        out.push(Tok::Text(text.to_string()));
    }
    Ok(out)
}

/// The offset of the `}}` closing an action, skipping quoted strings.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'"' | b'`' | b'\'') => quote = Some(b[i]),
            (None, b'}') if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Print(Pipeline),
    If(Vec<(Pipeline, Vec<Node>)>, Vec<Node>),
    Range(Pipeline, Vec<String>, Vec<Node>, Vec<Node>),
    With(Pipeline, Vec<Node>, Vec<Node>),
}

/// `$a, $b :=` declarations (or `=` assignments) and commands joined by `|`.
#[derive(Debug, Clone)]
struct Pipeline {
    decl: Vec<String>,
    assign: bool,
    cmds: Vec<Vec<Term>>,
}

#[derive(Debug, Clone)]
enum Term {
    Dot(Vec<String>),
    Var(String, Vec<String>),
    Func(String),
    Lit(Value),
    Sub(Box<Pipeline>, Vec<String>),
}

/// Nodes until one of `stops` (`end`, `else ...`); `pos` is left on the stop.
fn parse(tokens: &[Tok], pos: &mut usize, stops: &[&str]) -> Result<Vec<Node>, String> {
    let mut nodes = Vec::new();
    while *pos < tokens.len() {
        let action = match &tokens[*pos] {
            Tok::Text(t) => {
                nodes.push(Node::Text(t.clone()));
                *pos += 1;
                continue;
            }
            Tok::Action(a) => a.clone(),
        };
        let word = action.split_whitespace().next().unwrap_or("");
        if stops.contains(&word) {
            return Ok(nodes);
        }
        *pos += 1;
        match word {
            "if" => {
                let mut branches = vec![(pipeline(&action[2..])?, Vec::new())];
                let mut otherwise = Vec::new();
                loop {
                    let body = parse(tokens, pos, &["else", "end"])?;
                    if let Some(b) = branches.last_mut() {
                        b.1 = body;
                    }
                    let Some(Tok::Action(stop)) = tokens.get(*pos) else {
                        return Err("template: template: unexpected EOF".into());
                    };
                    *pos += 1;
                    if stop == "end" {
                        break;
                    }
                    let rest = stop["else".len()..].trim();
                    if let Some(cond) = rest.strip_prefix("if ") {
                        branches.push((pipeline(cond)?, Vec::new()));
                        continue;
                    }
                    otherwise = parse(tokens, pos, &["end"])?;
                    *pos += 1;
                    break;
                }
                nodes.push(Node::If(branches, otherwise));
            }
            "range" | "with" => {
                let p = pipeline(&action[word.len()..])?;
                let body = parse(tokens, pos, &["else", "end"])?;
                let Some(Tok::Action(stop)) = tokens.get(*pos) else {
                    return Err("template: template: unexpected EOF".into());
                };
                *pos += 1;
                let otherwise = if stop == "else" {
                    let o = parse(tokens, pos, &["end"])?;
                    *pos += 1;
                    o
                } else {
                    Vec::new()
                };
                if word == "range" {
                    let decl = p.decl.clone();
                    nodes.push(Node::Range(
                        Pipeline {
                            decl: Vec::new(),
                            ..p
                        },
                        decl,
                        body,
                        otherwise,
                    ));
                } else {
                    nodes.push(Node::With(p, body, otherwise));
                }
            }
            "end" | "else" => return Err(format!("template: template: unexpected {{{{{word}}}}}")),
            "define" | "template" | "block" | "break" | "continue" => {
                return Err(format!(
                    "template: {{{{{word}}}}} is not supported by regorun's strings.render_template"
                ))
            }
            _ => nodes.push(Node::Print(pipeline(&action)?)),
        }
    }
    if stops.is_empty() {
        Ok(nodes)
    } else {
        Err("template: template: unexpected EOF".into())
    }
}

/// Splits an action into words: strings, parenthesized groups, `|`, and the rest.
fn words(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        match c {
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            '`' => {
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    i += 1;
                }
                i += 1;
            }
            '(' => {
                let mut depth = 0;
                while i < chars.len() {
                    match chars[i] {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
                // A field chain may follow the group: `(index .a 0).b`.
                while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '|' {
                    i += 1;
                }
            }
            '|' => i += 1,
            _ => {
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && chars[i] != '|'
                    && chars[i] != '('
                {
                    i += 1;
                }
            }
        }
        if i > chars.len() {
            return Err("template: template: unterminated quoted string".into());
        }
        out.push(chars[start..i].iter().collect());
    }
    Ok(out)
}

fn pipeline(s: &str) -> Result<Pipeline, String> {
    let mut w = words(s)?;
    let mut decl = Vec::new();
    let mut assign = false;
    if let Some(op) = w.iter().position(|x| x == ":=" || x == "=") {
        if w[..op]
            .iter()
            .all(|v| v.trim_end_matches(',').starts_with('$'))
        {
            assign = w[op] == "=";
            decl = w[..op]
                .iter()
                .map(|v| v.trim_end_matches(',').to_string())
                .collect();
            w.drain(..=op);
        }
    }
    let mut cmds = vec![Vec::new()];
    for word in w {
        if word == "|" {
            cmds.push(Vec::new());
            continue;
        }
        let t = term(&word)?;
        if let Some(c) = cmds.last_mut() {
            c.push(t);
        }
    }
    if cmds.iter().any(Vec::is_empty) {
        return Err("template: template: missing value for command".into());
    }
    Ok(Pipeline { decl, assign, cmds })
}

fn fields(s: &str) -> Vec<String> {
    s.split('.')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

fn term(w: &str) -> Result<Term, String> {
    if let Some(inner) = w.strip_prefix('(') {
        let close = inner
            .rfind(')')
            .ok_or("template: template: unclosed left paren")?;
        return Ok(Term::Sub(
            Box::new(pipeline(&inner[..close])?),
            fields(&inner[close + 1..]),
        ));
    }
    if w.starts_with('.') {
        return Ok(Term::Dot(fields(w)));
    }
    if let Some(v) = w.strip_prefix('$') {
        let (name, rest) = v.split_once('.').unwrap_or((v, ""));
        return Ok(Term::Var(format!("${name}"), fields(rest)));
    }
    if w.starts_with('"') {
        return serde_json::from_str::<String>(w)
            .map(|s| Term::Lit(Value::String(s)))
            .map_err(|_| format!("template: template: bad string {w}"));
    }
    if let Ok(i) = w.parse::<i64>() {
        return Ok(Term::Lit(Value::Int(i)));
    }
    if let Some(raw) = w.strip_prefix('`') {
        return Ok(Term::Lit(Value::String(
            raw.trim_end_matches('`').to_string(),
        )));
    }
    match w {
        "true" => return Ok(Term::Lit(Value::Bool(true))),
        "false" => return Ok(Term::Lit(Value::Bool(false))),
        "nil" => return Ok(Term::Lit(Value::Null)),
        _ => {}
    }
    if let Ok(n) = w.parse::<f64>() {
        return Ok(Term::Lit(Value::Float(n)));
    }
    Ok(Term::Func(w.to_string()))
}

type Vars = Vec<(String, Value)>;

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null | Value::Missing => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::JsonNumber(s) | Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn exec(nodes: &[Node], dot: &Value, vars: &mut Vars, out: &mut String) -> Result<(), String> {
    for node in nodes {
        let mark = vars.len();
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Print(p) => {
                let v = run(p, dot, vars)?;
                if p.decl.is_empty() {
                    if v.is_nil() {
                        out.push_str("<no value>");
                    } else {
                        out.push_str(&text(&v));
                    }
                }
                // Declarations stay for the rest of the enclosing block.
                continue;
            }
            Node::If(branches, otherwise) => {
                let mut done = false;
                for (cond, body) in branches {
                    if truthy(&run(cond, dot, vars)?) {
                        exec(body, dot, vars, out)?;
                        done = true;
                        break;
                    }
                }
                if !done {
                    exec(otherwise, dot, vars, out)?;
                }
            }
            Node::With(p, body, otherwise) => {
                let v = run(p, dot, vars)?;
                if truthy(&v) {
                    exec(body, &v, vars, out)?;
                } else {
                    exec(otherwise, dot, vars, out)?;
                }
            }
            Node::Range(p, decl, body, otherwise) => {
                let v = run(p, dot, vars)?;
                let items: Vec<(Value, Value)> = match &v {
                    Value::Array(a) => a
                        .iter()
                        .enumerate()
                        .map(|(i, x)| (Value::Int(i as i64), x.clone()))
                        .collect(),
                    Value::Object(o) => o
                        .iter()
                        .map(|(k, v)| (Value::String(k.clone()), v.clone()))
                        .collect(),
                    Value::Null | Value::Missing => Vec::new(),
                    other => {
                        return Err(format!(
                            "template: template: range can't iterate over {}",
                            text(other)
                        ))
                    }
                };
                if items.is_empty() {
                    exec(otherwise, dot, vars, out)?;
                }
                for (k, item) in items {
                    let inner = vars.len();
                    match decl.as_slice() {
                        [v] => vars.push((v.clone(), item.clone())),
                        [key, v] => {
                            vars.push((key.clone(), k));
                            vars.push((v.clone(), item.clone()));
                        }
                        _ => {}
                    }
                    exec(body, &item, vars, out)?;
                    vars.truncate(inner);
                }
            }
        }
        vars.truncate(mark);
    }
    Ok(())
}

fn run(p: &Pipeline, dot: &Value, vars: &mut Vars) -> Result<Value, String> {
    let mut last: Option<Value> = None;
    for cmd in &p.cmds {
        // Go takes a nil interface a command gives as no value at all.
        last = Some(match command(cmd, dot, vars, last)? {
            Value::Null => Value::Missing,
            v => v,
        });
    }
    let v = last.unwrap_or(Value::Missing);
    for name in &p.decl {
        if p.assign {
            if let Some(slot) = vars.iter_mut().rev().find(|(n, _)| n == name) {
                slot.1 = v.clone();
            }
        } else {
            vars.push((name.clone(), v.clone()));
        }
    }
    Ok(v)
}

fn field(v: &Value, path: &[String]) -> Result<Value, String> {
    let mut cur = v.clone();
    for f in path {
        cur = match &cur {
            Value::Object(o) => o.get(f).cloned().unwrap_or(Value::Missing),
            Value::Missing => Value::Missing,
            Value::Null => {
                return Err(format!(
                    "template: template: nil pointer evaluating interface {{}}.{f}"
                ))
            }
            _ => {
                return Err(format!(
                    "template: template: can't evaluate field {f} in type {}",
                    go_type(&cur)
                ))
            }
        };
    }
    Ok(cur)
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "interface {}",
        Value::Missing => "<nil>",
        Value::Bool(_) => "bool",
        Value::JsonNumber(_) => "json.Number",
        Value::Int(_) => "int",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn value(t: &Term, dot: &Value, vars: &mut Vars) -> Result<Value, String> {
    match t {
        Term::Dot(path) => field(dot, path),
        Term::Var(name, path) => {
            let v = vars
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("template: template: undefined variable \"{name}\""))?;
            field(&v, path)
        }
        Term::Lit(v) => Ok(v.clone()),
        Term::Sub(p, path) => field(&run(p, dot, vars)?, path),
        Term::Func(f) => call(f, &[], dot, vars),
    }
}

fn command(
    cmd: &[Term],
    dot: &Value,
    vars: &mut Vars,
    piped: Option<Value>,
) -> Result<Value, String> {
    match &cmd[0] {
        Term::Func(f) => {
            let mut args: Vec<Value> = Vec::new();
            for t in &cmd[1..] {
                args.push(value(t, dot, vars)?);
            }
            args.extend(piped);
            call(f, &args, dot, vars)
        }
        t if cmd.len() == 1 && piped.is_none() => value(t, dot, vars),
        _ => Err("template: template: can't give argument to non-function".into()),
    }
}

/// Go's comparison in templates: both strings (a `json.Number` is one), both integers or
/// both floats; mixed kinds are an error.
fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    let text = |v: &Value| match v {
        Value::String(s) | Value::JsonNumber(s) => Some(s.clone()),
        _ => None,
    };
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x
            .partial_cmp(y)
            .ok_or_else(|| "template: template: NaN".to_string()),
        _ => match (text(a), text(b)) {
            (Some(x), Some(y)) => Ok(x.cmp(&y)),
            _ => Err(format!(
                "template: template: error calling comparison: incompatible types for comparison: {} and {}",
                go_type(a),
                go_type(b)
            )),
        },
    }
}

/// Go's `eq` of two values: nil equals only nil, and is no error beside another kind.
fn equal(a: &Value, b: &Value) -> Result<bool, String> {
    if a.is_nil() || b.is_nil() {
        return Ok(a.is_nil() && b.is_nil());
    }
    compare(a, b).map(|o| o.is_eq())
}

fn call(f: &str, args: &[Value], _dot: &Value, _vars: &mut Vars) -> Result<Value, String> {
    let need = |n: usize| -> Result<(), String> {
        if args.len() < n {
            Err(format!("template: template: wrong number of args for {f}"))
        } else {
            Ok(())
        }
    };
    let b = |x: bool| Ok(Value::Bool(x));
    match f {
        "and" => {
            need(1)?;
            Ok(args
                .iter()
                .find(|a| !truthy(a))
                .unwrap_or(&args[args.len() - 1])
                .clone())
        }
        "or" => {
            need(1)?;
            Ok(args
                .iter()
                .find(|a| truthy(a))
                .unwrap_or(&args[args.len() - 1])
                .clone())
        }
        "not" => {
            need(1)?;
            b(!truthy(&args[0]))
        }
        "len" => {
            need(1)?;
            let n = match &args[0] {
                Value::String(s) | Value::JsonNumber(s) => s.len(),
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                other => {
                    return Err(format!(
                        "template: template: len of type {}",
                        go_type(other)
                    ))
                }
            };
            Ok(Value::Int(n as i64))
        }
        "index" => {
            need(1)?;
            let mut cur = args[0].clone();
            for k in &args[1..] {
                cur = match (&cur, k) {
                    (Value::Array(a), Value::Int(i)) => usize::try_from(*i)
                        .ok()
                        .and_then(|i| a.get(i))
                        .cloned()
                        .ok_or_else(|| format!("template: template: index out of range: {i}"))?,
                    (Value::Object(o), Value::String(k)) => {
                        o.get(k).cloned().unwrap_or(Value::Null)
                    }
                    _ => return Err("template: template: can't index item".into()),
                };
            }
            Ok(cur)
        }
        "eq" => {
            need(2)?;
            let mut any = false;
            for x in &args[1..] {
                any |= equal(&args[0], x)?;
            }
            b(any)
        }
        "ne" => {
            need(2)?;
            b(!equal(&args[0], &args[1])?)
        }
        "lt" | "le" | "gt" | "ge" => {
            need(2)?;
            let o = compare(&args[0], &args[1])?;
            b(match f {
                "lt" => o.is_lt(),
                "le" => o.is_le(),
                "gt" => o.is_gt(),
                _ => o.is_ge(),
            })
        }
        "print" | "println" => {
            let mut s = String::new();
            for (i, a) in args.iter().enumerate() {
                // Go's Sprint adds spaces between operands when neither is a string.
                let is_str = |v: &Value| matches!(v, Value::String(_) | Value::JsonNumber(_));
                let strings = is_str(a) || i > 0 && is_str(&args[i - 1]);
                if i > 0 && (f == "println" || !strings) {
                    s.push(' ');
                }
                s.push_str(&text(a));
            }
            if f == "println" {
                s.push('\n');
            }
            Ok(Value::String(s))
        }
        "printf" => {
            need(1)?;
            let Value::String(format) = &args[0] else {
                return Err("template: template: printf format is not a string".into());
            };
            let rest: Vec<Arg> = args[1..]
                .iter()
                .map(|a| match a {
                    Value::String(s) => Arg::Str(s.clone()),
                    Value::Int(i) => Arg::Int(*i),
                    Value::Float(f) => Arg::Float(*f),
                    Value::JsonNumber(n) => Arg::Named("json.Number", n.clone()),
                    Value::Null | Value::Missing => Arg::Nil,
                    other => Arg::Str(text(other)),
                })
                .collect();
            Ok(Value::String(gofmt::sprintf(format, &rest)))
        }
        _ => Err(format!(
            "template: template: function \"{f}\" not defined (or not supported by regorun)"
        )),
    }
}

/// Go's `%v` of the data's values (`fmt.Fprint`).
fn text(v: &Value) -> String {
    match v {
        Value::Null | Value::Missing => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => gofmt::sprintf("%v", &[Arg::Float(*f)]),
        Value::JsonNumber(s) | Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(text).collect::<Vec<_>>().join(" ")),
        Value::Object(o) => format!(
            "map[{}]",
            o.iter()
                .map(|(k, v)| format!("{k}:{}", text(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_as_go() {
        let data = json!({"name": "x", "n": 1, "f": 1.5, "items": ["a", "b"], "m": {"b": 2, "a": 1}, "on": true, "none": null});
        let r = |t: &str| render(t, &data);
        assert_eq!(r("hi {{.name}} {{ .n }} {{.f}}").unwrap(), "hi x 1 1.5");
        assert_eq!(
            r("{{range $i, $v := .items}}{{$i}}={{$v}};{{end}}").unwrap(),
            "0=a;1=b;"
        );
        assert_eq!(r("{{if .on}}yes{{else}}no{{end}}").unwrap(), "yes");
        assert_eq!(
            r("{{.items}} {{.m}} {{.none}}").unwrap(),
            "[a b] map[a:1 b:2] <undefined>"
        );
        assert_eq!(r("a  {{- .name -}}  b").unwrap(), "axb");
        assert_eq!(
            r("{{printf \"%05.1f|%v\" .f .f}}|{{len .items}}|{{index .items 1}}").unwrap(),
            "%!f(json.Number=00001)|1.5|2|b"
        );
        assert!(r("{{eq .n 1}}")
            .unwrap_err()
            .contains("incompatible types for comparison"));
        assert_eq!(r("{{with .m}}{{.a}}{{end}}").unwrap(), "1");
        assert_eq!(
            r("{{.missing}} {{.missing.deeper}} {{if .missing}}y{{else}}n{{end}}").unwrap(),
            "<undefined> <undefined> n"
        );
        assert_eq!(
            r("{{eq .missing .none}} {{eq .missing \"x\"}} {{printf \"%v|%q\" .missing .none}}")
                .unwrap(),
            "true false <nil>|%!q(<nil>)"
        );
        assert!(r("{{.none.b}}")
            .unwrap_err()
            .contains("nil pointer evaluating interface {}.b"));
        assert!(r("{{template \"x\"}}").is_err());
    }
}
