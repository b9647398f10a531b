//! `--strict`: the OPA strict-mode checks that regorus does not perform itself — unused
//! local assignments and unused function arguments — reported as OPA words them.
//!
//! The check is lexical over each rule's tokens: a name assigned with `:=` (or a function
//! argument) that occurs only once in its rule is unused. Shadowing in nested scopes can hide
//! a finding, never invent one.

use regorus::unstable::{Expr, Rule, RuleHead, TokenKind};
use regorus::Engine;

/// One strict-mode finding, `file:line: rego_compile_error: message`.
#[derive(Debug, Clone, PartialEq)]
pub struct StrictError {
    /// Policy file as loaded.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// OPA's message, e.g. `assigned var x unused`.
    pub message: String,
}

impl std::fmt::Display for StrictError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: rego_compile_error: {}",
            self.file, self.line, self.message
        )
    }
}

/// Runs the checks over every loaded module, in file order.
pub fn check(engine: &mut Engine) -> Vec<StrictError> {
    let modules = crate::rego::policy::modules_by_path(engine);
    let mut errors = Vec::new();
    for m in &modules {
        let file = m.package.span.source.get_path().clone();
        for rule in &m.policy {
            check_rule(&file, rule, &mut errors);
        }
    }
    errors
}

fn check_rule(file: &str, rule: &Rule, errors: &mut Vec<StrictError>) {
    let span = rule.span();
    let Ok(source) = crate::rego::limits::source(file, span.text()) else {
        return;
    };
    let mut lexer = crate::rego::limits::lexer(&source);
    let mut tokens: Vec<(TokenKind, String, u32)> = Vec::new();
    while let Ok(tok) = lexer.next_token() {
        if tok.0 == TokenKind::Eof {
            break;
        }
        tokens.push((tok.0, tok.1.text().to_string(), tok.1.line + span.line - 1));
    }
    let uses = |name: &str| {
        tokens
            .iter()
            .filter(|(k, t, _)| *k == TokenKind::Ident && t == name)
            .count()
    };
    // The head's own name(s) come first; locals are assigned inside the bodies.
    let body_start = tokens
        .iter()
        .position(|(_, t, _)| t == "{")
        .unwrap_or(tokens.len());
    for i in body_start..tokens.len().saturating_sub(1) {
        let (kind, name, line) = &tokens[i];
        if *kind == TokenKind::Ident && tokens[i + 1].1 == ":=" && name != "_" && uses(name) == 1 {
            errors.push(StrictError {
                file: file.to_string(),
                line: *line,
                message: format!("assigned var {name} unused"),
            });
        }
    }
    if let Rule::Spec {
        head: RuleHead::Func { args, .. },
        ..
    } = rule
    {
        for arg in args {
            if let Expr::Var { span: a, .. } = arg.as_ref() {
                let name = a.text();
                if name != "_" && uses(name) == 1 {
                    errors.push(StrictError {
                        file: file.to_string(),
                        line: a.line,
                        message: format!("unused argument {name}"),
                    });
                }
            }
        }
    }
}
