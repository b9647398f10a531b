//! `-o github`: GitHub Actions workflow commands (conftest `output/github.go`, HEAD).

use super::{summary_line, Formatter, OutputOptions, Sink};
use crate::base::result::{CheckResult, Location, Message, Totals};
use std::io::{self, Write};

/// One `::group::` per record with `::error`/`::warning`/`::notice` annotations, then
/// the plain summary line (never with a `, N skipped` suffix).
pub struct GitHub;

/// A location as conftest's GitHub writer sees it: the line is text (`""` when the
/// policy's `_loc` had no line, which our model stores as 0).
struct Loc {
    file: String,
    line: String,
    /// A column, from a result's `metadata.path` (conftest's `_loc` has none).
    col: Option<usize>,
}

impl Loc {
    fn from_model(l: &Location) -> Loc {
        Loc {
            file: l.file.clone(),
            line: if l.line == 0 {
                String::new()
            } else {
                l.line.to_string()
            },
            col: None,
        }
    }
}

impl Formatter for GitHub {
    fn sink(&self, opts: &OutputOptions) -> Box<dyn Sink> {
        Box::new(GitHubSink {
            hide_passed: opts.github_hide_passed,
        })
    }
}

/// A group per record as it comes; the summary at the end.
struct GitHubSink {
    hide_passed: bool,
}

impl Sink for GitHubSink {
    fn record(&mut self, r: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
        if self.hide_passed
            && r.failures.is_empty()
            && r.warnings.is_empty()
            && r.exceptions.is_empty()
            && r.skipped.is_empty()
        {
            return Ok(());
        }
        let file_loc = Loc {
            file: r.filename.clone(),
            line: "1".to_string(),
            col: None,
        };
        let mut text = format!(
            "::group::Testing {} against {} policies in namespace {}\n",
            crate::base::gostr::quote(&r.filename),
            r.tests(),
            crate::base::gostr::quote(&r.namespace)
        );
        for m in &r.failures {
            write_locs(&mut text, "error", &file_loc, m, &m.msg, &[]);
        }
        for m in &r.warnings {
            write_locs(&mut text, "warning", &file_loc, m, &m.msg, &[]);
        }
        for m in &r.exceptions {
            write_locs(&mut text, "notice", &file_loc, m, &m.msg, &[]);
        }
        for m in &r.skipped {
            write_locs(
                &mut text,
                "notice",
                &file_loc,
                m,
                "Test was skipped: %s",
                &[&m.msg],
            );
        }
        write_loc(
            &mut text,
            "notice",
            &file_loc,
            &format!("Number of successful checks: {}", r.successes),
            &[],
        );
        text.push_str("::endgroup::\n");
        out.write_all(text.as_bytes())
    }

    fn finish(&mut self, totals: &Totals, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(format!("{}\n", summary_line(totals)).as_bytes())
    }
}

fn write_loc(out: &mut String, level: &str, loc: &Loc, msg: &str, args: &[&str]) {
    let msg = go_sprintf(msg, args);
    let col = loc.col.map(|c| format!(",col={c}")).unwrap_or_default();
    out.push_str(&format!(
        "::{level} file={},line={}{col}::{msg}\n",
        escape_property(&loc.file),
        loc.line
    ));
}

fn write_locs(
    out: &mut String,
    level: &str,
    file_loc: &Loc,
    m: &Message,
    msg: &str,
    args: &[&str],
) {
    let Some(og) = super::location(m) else {
        // regorun: the line and column `metadata.path` names in the input.
        match m.pos {
            Some(p) => {
                let at = Loc {
                    file: file_loc.file.clone(),
                    line: p.line.to_string(),
                    col: Some(p.column),
                };
                write_loc(out, level, &at, msg, args);
            }
            None => write_loc(out, level, file_loc, msg, args),
        }
        return;
    };
    let og = Loc::from_model(og);
    if og.file == file_loc.file {
        write_loc(out, level, &og, msg, args);
        return;
    }
    let og = Loc {
        file: rel_path(&og.file),
        line: og.line,
        col: None,
    };
    write_loc(out, level, &og, msg, args);
    let prefixed = format!("(ORIGINATING FROM {} L{}) {msg}", og.file, og.line);
    write_loc(out, level, file_loc, &prefixed, args);
}

/// Escapes a workflow-command property value (`%`, CR, LF, `:`, `,`).
fn escape_property(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '%' => s.push_str("%25"),
            '\r' => s.push_str("%0D"),
            '\n' => s.push_str("%0A"),
            ':' => s.push_str("%3A"),
            ',' => s.push_str("%2C"),
            c => s.push(c),
        }
    }
    s
}

/// Go `filepath.Rel(cwd, path)` for absolute paths; relative paths are kept as given.
fn rel_path(path: &str) -> String {
    if !path.starts_with('/') {
        return path.to_string();
    }
    let Ok(cwd) = std::env::current_dir() else {
        return path.to_string();
    };
    let Some(cwd) = cwd.to_str() else {
        return path.to_string();
    };
    rel(&clean(cwd), &clean(path))
}

/// Lexical path cleaning like Go's `filepath.Clean` for absolute paths.
fn clean(p: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts
}

fn rel(base: &[&str], target: &[&str]) -> String {
    let common = base.iter().zip(target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; base.len() - common];
    parts.extend(&target[common..]);
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Go's `fmt.Sprintf(format, args...)` for string arguments, including its error
/// notations (`%!s(MISSING)`, `%!(NOVERB)`, `%!(EXTRA string=…)`, `%!d(string=…)`,
/// `%!v(BADINDEX)`, `%!(BADWIDTH)`, `%!(BADPREC)`). Supported verbs for strings:
/// `v`, `s`, `q`, `x`, `X` with flags `-`, `0`, width and precision.
pub(crate) fn go_sprintf(format: &str, args: &[&str]) -> String {
    let b = format.as_bytes();
    let end = b.len();
    let mut out = String::with_capacity(format.len());
    let mut arg_num = 0usize;
    let mut reordered = false;
    let mut i = 0usize;
    while i < end {
        let lasti = i;
        while i < end && b[i] != b'%' {
            i += 1;
        }
        out.push_str(&format[lasti..i]);
        if i >= end {
            break;
        }
        i += 1; // skip '%'
        let (mut minus, mut zero, mut sharp) = (false, false, false);
        while i < end {
            match b[i] {
                b'#' => sharp = true,
                b'0' => zero = true,
                b'+' | b' ' => {}
                b'-' => minus = true,
                _ => break,
            }
            i += 1;
        }
        let _ = sharp;
        let mut good_arg_num = true;
        // Argument index.
        let mut after_index;
        (arg_num, i, after_index) =
            arg_number(arg_num, b, i, args.len(), &mut good_arg_num, &mut reordered);
        // Width.
        let mut wid: Option<usize> = None;
        if i < end && b[i] == b'*' {
            i += 1;
            if arg_num < args.len() {
                arg_num += 1; // a string is never an int width
            }
            out.push_str("%!(BADWIDTH)");
            after_index = false;
        } else {
            let (n, present, ni) = parse_num(b, i, end);
            i = ni;
            if present {
                wid = Some(n);
                if after_index {
                    good_arg_num = false;
                }
            }
        }
        // Precision.
        let mut prec: Option<usize> = None;
        if i + 1 < end && b[i] == b'.' {
            i += 1;
            if after_index {
                good_arg_num = false;
            }
            (arg_num, i, after_index) =
                arg_number(arg_num, b, i, args.len(), &mut good_arg_num, &mut reordered);
            if i < end && b[i] == b'*' {
                i += 1;
                if arg_num < args.len() {
                    arg_num += 1;
                }
                out.push_str("%!(BADPREC)");
                after_index = false;
            } else {
                let (n, _, ni) = parse_num(b, i, end);
                i = ni;
                prec = Some(n);
            }
        }
        if !after_index {
            (arg_num, i, _) =
                arg_number(arg_num, b, i, args.len(), &mut good_arg_num, &mut reordered);
        }
        if i >= end {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = format[i..].chars().next().unwrap_or('?');
        i += verb.len_utf8();
        if verb == '%' {
            out.push('%');
        } else if !good_arg_num {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
        } else if arg_num >= args.len() {
            out.push_str(&format!("%!{verb}(MISSING)"));
        } else {
            let a = args[arg_num];
            arg_num += 1;
            let body = match verb {
                'v' | 's' => Some(match prec {
                    Some(p) => a.chars().take(p).collect::<String>(),
                    None => a.to_string(),
                }),
                'q' => Some(crate::base::gostr::quote(a)),
                'x' => Some(a.bytes().map(|c| format!("{c:02x}")).collect()),
                'X' => Some(a.bytes().map(|c| format!("{c:02X}")).collect()),
                _ => None,
            };
            match body {
                Some(s) => {
                    let n = s.chars().count();
                    let pad = wid.unwrap_or(0).saturating_sub(n);
                    if minus {
                        out.push_str(&s);
                        out.push_str(&" ".repeat(pad));
                    } else {
                        out.push_str(&(if zero { "0" } else { " " }).repeat(pad));
                        out.push_str(&s);
                    }
                }
                None => out.push_str(&format!("%!{verb}(string={a})")),
            }
        }
    }
    if !reordered && arg_num < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[arg_num..]
            .iter()
            .map(|a| format!("string={a}"))
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

/// Go fmt's `parsenum`: digits at `start`, (value, present, new index).
fn parse_num(b: &[u8], start: usize, end: usize) -> (usize, bool, usize) {
    let mut n = 0usize;
    let mut i = start;
    let mut present = false;
    while i < end && b[i].is_ascii_digit() {
        if n > 1_000_000 {
            return (0, false, end);
        }
        n = n * 10 + (b[i] - b'0') as usize;
        present = true;
        i += 1;
    }
    (n, present, i)
}

/// Go fmt's `argNumber`: an explicit `[n]` index at `i`.
fn arg_number(
    arg_num: usize,
    b: &[u8],
    i: usize,
    num_args: usize,
    good: &mut bool,
    reordered: &mut bool,
) -> (usize, usize, bool) {
    if i >= b.len() || b[i] != b'[' {
        return (arg_num, i, false);
    }
    *reordered = true;
    let rest = &b[i..];
    // parseArgNumber
    let (index, wid, ok) = 'p: {
        if rest.len() < 3 {
            break 'p (0usize, 1usize, false);
        }
        for j in 1..rest.len() {
            if rest[j] == b']' {
                let (n, present, ni) = parse_num(rest, 1, j);
                if !present || ni != j {
                    break 'p (0, j + 1, false);
                }
                break 'p (n.wrapping_sub(1), j + 1, true);
            }
        }
        (0, 1, false)
    };
    if ok && index < num_args {
        return (index, i + wid, true);
    }
    *good = false;
    (arg_num, i + wid, ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::result::Message;

    #[test]
    fn sprintf_mangles_like_go() {
        assert_eq!(go_sprintf("100%%", &[]), "100%");
        assert_eq!(go_sprintf("a %s b", &[]), "a %!s(MISSING) b");
        assert_eq!(go_sprintf("50% off", &[]), "50%!o(MISSING)ff");
        assert_eq!(go_sprintf("trailing %", &[]), "trailing %!(NOVERB)");
        assert_eq!(go_sprintf("%d%%", &[]), "%!d(MISSING)%");
        assert_eq!(go_sprintf("%[2]s", &[]), "%!s(BADINDEX)");
        assert_eq!(go_sprintf("%-5.1f", &[]), "%!f(MISSING)");
        assert_eq!(go_sprintf("%*d", &[]), "%!(BADWIDTH)%!d(MISSING)");
        assert_eq!(go_sprintf("%é", &[]), "%!é(MISSING)");
        assert_eq!(go_sprintf("skipped: %s", &["a%b"]), "skipped: a%b");
        assert_eq!(go_sprintf("%s %d", &["x", "y"]), "x %!d(string=y)");
        assert_eq!(go_sprintf("x", &["y"]), "x%!(EXTRA string=y)");
        assert_eq!(
            go_sprintf("%5s|%-3s|%.2s", &["ab", "c", "xyz"]),
            "   ab|c  |xy"
        );
    }

    #[test]
    fn rel_paths() {
        assert_eq!(rel(&["a", "b"], &["a", "b", "c.yaml"]), "c.yaml");
        assert_eq!(rel(&["a", "b"], &["a", "x.yaml"]), "../x.yaml");
        assert_eq!(rel(&["a"], &["a"]), ".");
        assert_eq!(rel_path("../x.json"), "../x.json");
    }

    #[test]
    fn verify_records() {
        let [failed, skipped, passed] = super::super::verify_sample("data.main.todo_test_%s");
        let all = [failed, skipped, passed];
        let out = GitHub.format(&all, &OutputOptions::default());
        assert_eq!(
            out,
            "::group::Testing \"policy/a_test.rego\" against 1 policies in namespace \"\"\n\
             ::error file=policy/a_test.rego,line=1::data.main.test_deny\n\
             ::notice file=policy/a_test.rego,line=1::Number of successful checks: 0\n\
             ::endgroup::\n\
             ::group::Testing \"policy/a_test.rego\" against 1 policies in namespace \"\"\n\
             ::notice file=policy/a_test.rego,line=1::Test was skipped: data.main.todo_test_%s\n\
             ::notice file=policy/a_test.rego,line=1::Number of successful checks: 0\n\
             ::endgroup::\n\
             ::group::Testing \"policy/a_test.rego\" against 1 policies in namespace \"\"\n\
             ::notice file=policy/a_test.rego,line=1::Number of successful checks: 1\n\
             ::endgroup::\n\
             3 tests, 1 passed, 0 warnings, 1 failure, 0 exceptions\n"
        );
        let hidden = GitHub.format(
            &all,
            &OutputOptions {
                github_hide_passed: true,
                ..Default::default()
            },
        );
        assert!(!hidden.contains("successful checks: 1"));
        assert!(hidden.contains("Test was skipped"));
    }

    #[test]
    fn locations() {
        let mut r = CheckResult::new("foo.json", "main");
        let mut same = Message::plain("same");
        same.loc = Some(Location {
            file: "foo.json".into(),
            line: 10,
        });
        let mut other = Message::plain("other 5%");
        other.loc = Some(Location {
            file: "../other_file.json".into(),
            line: 3,
        });
        let mut no_line = Message::plain("noline");
        no_line.loc = Some(Location {
            file: "foo.json".into(),
            line: 0,
        });
        r.failures = vec![same, other, no_line];
        let out = GitHub.format(&[r], &OutputOptions::default());
        assert_eq!(
            out,
            "::group::Testing \"foo.json\" against 3 policies in namespace \"main\"\n\
             ::error file=foo.json,line=10::same\n\
             ::error file=../other_file.json,line=3::other 5%!(NOVERB)\n\
             ::error file=foo.json,line=1::(ORIGINATING FROM ../other_file.json L3) other 5%!(NOVERB)\n\
             ::error file=foo.json,line=::noline\n\
             ::notice file=foo.json,line=1::Number of successful checks: 0\n\
             ::endgroup::\n\
             3 tests, 0 passed, 0 warnings, 3 failures, 0 exceptions\n"
        );
    }

    #[test]
    fn escapes_file_property() {
        let mut r = CheckResult::new("a,b:c%.yaml", "ns");
        r.failures.push(Message::plain("f"));
        let out = GitHub.format(&[r], &OutputOptions::default());
        assert!(out.contains("::error file=a%2Cb%3Ac%25.yaml,line=1::f\n"));
        assert!(out.starts_with("::group::Testing \"a,b:c%.yaml\""));
    }
}
