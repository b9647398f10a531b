//! `-o table`: the box-drawn table conftest renders with olekukonko/tablewriter v1's
//! default style (conftest `output/table.go`).
//!
//! Written by hand: no Rust table crate reproduces tablewriter's exact choices (header
//! centring with the odd space on the right, whole-cell trimming, blank continuation
//! lines dropped, tab expansion by a detected tab width).

use super::{Formatter, OutputOptions, Sink};
use crate::base::result::{CheckResult, Totals};
use regex::Regex;
use std::io::{self, Write};
use std::sync::OnceLock;
use unicode_width::UnicodeWidthStr;

/// RESULT / FILE / NAMESPACE / MESSAGE rows; nothing at all when there are no rows.
pub struct Table;

const HEADERS: [&str; 4] = ["RESULT", "FILE", "NAMESPACE", "MESSAGE"];

impl Formatter for Table {
    fn sink(&self, _opts: &OutputOptions) -> Box<dyn Sink> {
        Box::new(TableSink(Vec::new()))
    }
}

/// Column widths depend on every row: the records are kept and drawn at the end.
struct TableSink(Vec<CheckResult>);

impl Sink for TableSink {
    fn record(&mut self, r: &CheckResult, _out: &mut dyn Write) -> io::Result<()> {
        self.0.push(r.clone());
        Ok(())
    }

    fn finish(&mut self, _totals: &Totals, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(draw(&self.0).as_bytes())
    }
}

/// The whole table for `results`.
fn draw(results: &[CheckResult]) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    for r in results {
        let row = |kind: &str, msg: &str| {
            [
                kind.to_string(),
                r.filename.clone(),
                r.namespace.clone(),
                msg.to_string(),
            ]
        };
        for _ in 0..r.successes {
            rows.push(row("success", "SUCCESS"));
        }
        for m in &r.exceptions {
            rows.push(row("exception", &m.msg));
        }
        for m in &r.warnings {
            rows.push(row("warning", &m.msg));
        }
        for m in &r.skipped {
            rows.push(row("skipped", &m.msg));
        }
        for m in &r.failures {
            rows.push(row("failure", &m.msg));
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    render(&rows, tab_width())
}

/// Display width as tablewriter measures it: ANSI CSI/OSC sequences count for nothing.
fn width(s: &str) -> usize {
    if !s.contains('\x1b') {
        return s.width();
    }
    static ANSI: OnceLock<Regex> = OnceLock::new();
    let re = ANSI.get_or_init(|| {
        Regex::new(r"(\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|\x1b\].*?(\x1b\\|\x07))")
            .expect("valid ANSI regex")
    });
    re.replace_all(s, "").width()
}

/// Splits each cell of a row into its visual lines (cell trimmed as a whole, tabs
/// expanded, `\n` separating lines).
fn cell_lines(row: &[String; 4], tab: usize) -> Vec<Vec<String>> {
    row.iter()
        .map(|c| {
            let c = c.trim().replace('\t', &" ".repeat(tab));
            c.split('\n').map(str::to_string).collect()
        })
        .collect()
}

fn render(rows: &[[String; 4]], tab: usize) -> String {
    let body: Vec<Vec<Vec<String>>> = rows.iter().map(|r| cell_lines(r, tab)).collect();
    let mut widths: Vec<usize> = HEADERS.iter().map(|h| width(h)).collect();
    for row in &body {
        for (i, cell) in row.iter().enumerate() {
            for line in cell {
                widths[i] = widths[i].max(width(line));
            }
        }
    }
    let border = |l: &str, m: &str, r: &str| {
        let segs: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
        format!("{l}{}{r}\n", segs.join(m))
    };
    let mut out = border("┌", "┬", "┐");
    out.push('│');
    for (h, w) in HEADERS.iter().zip(&widths) {
        let extra = w - width(h);
        let left = extra / 2;
        out.push_str(&format!(
            " {}{h}{} │",
            " ".repeat(left),
            " ".repeat(extra - left)
        ));
    }
    out.push('\n');
    out.push_str(&border("├", "┼", "┤"));
    for row in &body {
        let height = row.iter().map(Vec::len).max().unwrap_or(1);
        for j in 0..height {
            let line: Vec<&str> = row
                .iter()
                .map(|cell| cell.get(j).map(String::as_str).unwrap_or(""))
                .collect();
            // tablewriter drops continuation lines that are blank in every cell.
            if j > 0 && line.iter().all(|s| s.trim().is_empty()) {
                continue;
            }
            out.push('│');
            for (s, w) in line.iter().zip(&widths) {
                out.push_str(&format!(" {s}{} │", " ".repeat(w - width(s))));
            }
            out.push('\n');
        }
    }
    out.push_str(&border("└", "┴", "┘"));
    out
}

/// tablewriter's tab width for tabs inside cells: `TABWIDTH`, `TS` or `VIM_TABSTOP`
/// (1..=32), else 4 when the working directory looks like a code project, else 8.
/// (tablewriter also reads `.editorconfig` files and `TERM`; the former is not
/// reproduced, the latter only ever yields 8 or the rare 2 for vt52.)
fn tab_width() -> usize {
    for var in ["TABWIDTH", "TS", "VIM_TABSTOP"] {
        if let Some(w) = std::env::var(var)
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|w| *w > 0)
        {
            return w.clamp(1, 32) as usize;
        }
    }
    if let Ok(dir) = std::env::current_dir() {
        const INDICATORS: &[&str] = &[
            "go.mod",
            "go.sum",
            "package.json",
            "package-lock.json",
            "yarn.lock",
            "pnpm-lock.yaml",
            "setup.py",
            "pyproject.toml",
            "requirements.txt",
            "Pipfile",
            "pom.xml",
            "build.gradle",
            "build.gradle.kts",
            "Cargo.toml",
            "composer.json",
        ];
        if INDICATORS.iter().any(|f| dir.join(f).exists()) {
            return 4;
        }
        const EXTS: &[&str] = &["go", "py", "js", "ts", "java", "rs"];
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| EXTS.contains(&x))
                {
                    return 4;
                }
            }
        }
    }
    if std::env::var("TERM").is_ok_and(|t| t.to_lowercase().contains("vt52")) {
        return 2;
    }
    8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::result::Message;

    #[test]
    fn conftest_unit_example() {
        let mut r = CheckResult::new("examples/kubernetes/service.yaml", "namespace");
        r.warnings.push(Message::plain("first warning"));
        r.failures.push(Message::plain("first failure"));
        r.skipped.push(Message::plain("first skipped"));
        let expected = [
            "┌─────────┬──────────────────────────────────┬───────────┬───────────────┐",
            "│ RESULT  │               FILE               │ NAMESPACE │    MESSAGE    │",
            "├─────────┼──────────────────────────────────┼───────────┼───────────────┤",
            "│ warning │ examples/kubernetes/service.yaml │ namespace │ first warning │",
            "│ skipped │ examples/kubernetes/service.yaml │ namespace │ first skipped │",
            "│ failure │ examples/kubernetes/service.yaml │ namespace │ first failure │",
            "└─────────┴──────────────────────────────────┴───────────┴───────────────┘",
            "",
        ]
        .join("\n");
        assert_eq!(Table.format(&[r], &OutputOptions::default()), expected);
    }

    #[test]
    fn verify_rows_have_blank_namespace() {
        let mut r = CheckResult::new("p_test.rego", "");
        r.successes = 1;
        let out = Table.format(&[r], &OutputOptions::default());
        assert!(out.contains("│ success │ p_test.rego │           │ SUCCESS │\n"));
    }

    #[test]
    fn wide_chars_and_multiline() {
        let mut r = CheckResult::new("a.yaml", "main");
        r.failures.push(Message::plain("  日本語\n\n second  "));
        let out = render(
            &[[
                "failure".into(),
                "a.yaml".into(),
                "main".into(),
                r.failures[0].msg.clone(),
            ]],
            8,
        );
        let expected = [
            "┌─────────┬────────┬───────────┬─────────┐",
            "│ RESULT  │  FILE  │ NAMESPACE │ MESSAGE │",
            "├─────────┼────────┼───────────┼─────────┤",
            "│ failure │ a.yaml │ main      │ 日本語  │",
            "│         │        │           │  second │",
            "└─────────┴────────┴───────────┴─────────┘",
            "",
        ]
        .join("\n");
        assert_eq!(out, expected);
    }

    #[test]
    fn nothing_without_rows() {
        let r = CheckResult::new("a.yaml", "main");
        assert_eq!(Table.format(&[r], &OutputOptions::default()), "");
    }
}
