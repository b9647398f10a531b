//! Input discovery: turning the positional paths of `test` into the list of files to
//! evaluate, as conftest's runner does (spec section 3).

use crate::base::fs::{io_reason, sorted_entries};
use crate::parser::Parser;
use anyhow::{anyhow, bail, Result};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// One input to evaluate: a path as conftest names it, or stdin (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The name printed in results (a name that is not UTF-8 is shown lossily).
    pub name: String,
    /// The path to read, exactly as found.
    pub path: PathBuf,
    /// Why the walk could not use this entry (a broken or looping symlink): with
    /// `--keep-going` it becomes the entry's record instead of stopping the run.
    pub problem: Option<String>,
}

impl InputFile {
    /// True for the stdin pseudo-file.
    pub fn is_stdin(&self) -> bool {
        self.name == "-"
    }
}

/// Expands positional arguments into files: explicit files as given, directories walked
/// recursively in lexical order keeping only files a parser is known for. A symlink the
/// walk cannot resolve stops it with conftest's error, or with `keep_going` becomes an
/// entry carrying its problem.
pub fn discover(args: &[String], ignore: Option<&str>, keep_going: bool) -> Result<Vec<InputFile>> {
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    let mut ignore_re: Option<regex::Regex> = None;
    for arg in args {
        if arg.is_empty() {
            continue;
        }
        if arg == "-" {
            push(&mut files, &mut seen, arg.clone(), PathBuf::from(arg));
            continue;
        }
        let meta = std::fs::metadata(arg)
            .map_err(|e| anyhow!("get file info: stat {arg}: {}", io_reason(&e)))?;
        if !meta.is_dir() {
            push(&mut files, &mut seen, arg.clone(), PathBuf::from(arg));
            continue;
        }
        // The ignore regex only matters (and is only validated) when walking.
        if ignore_re.is_none() {
            if let Some(pattern) = ignore.filter(|p| !p.is_empty()) {
                ignore_re = Some(regex::Regex::new(pattern).map_err(|e| {
                    anyhow!("get files from directory: given regexp couldn't be parsed :{e}")
                })?);
            }
        }
        let mut visited = HashSet::new();
        // Go's Walk does not follow a symlinked root; conftest resolves it and reports the
        // files under the real path.
        let is_link = std::fs::symlink_metadata(arg).is_ok_and(|m| m.file_type().is_symlink());
        let shown = match (is_link, std::fs::canonicalize(arg)) {
            (true, Ok(real)) => real.to_string_lossy().into_owned(),
            _ => clean(arg),
        };
        let mut walk = Walk {
            ignore: ignore_re.as_ref(),
            keep_going,
            visited: &mut visited,
            files: &mut files,
            seen: &mut seen,
        };
        walk.dir(Path::new(arg), &shown)
            .map_err(|e| anyhow!("get files from directory: {e}"))?;
    }
    if files.is_empty() {
        bail!("no files found");
    }
    Ok(files)
}

fn push(files: &mut Vec<InputFile>, seen: &mut HashSet<String>, name: String, path: PathBuf) {
    if seen.insert(name.clone()) {
        files.push(InputFile {
            name,
            path,
            problem: None,
        });
    }
}

/// One directory walk's state.
struct Walk<'a> {
    ignore: Option<&'a regex::Regex>,
    keep_going: bool,
    visited: &'a mut HashSet<PathBuf>,
    files: &'a mut Vec<InputFile>,
    seen: &'a mut HashSet<String>,
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path, shown: &str) -> Result<()> {
        // Loop guard for symlinked directories.
        if let Ok(real) = std::fs::canonicalize(dir) {
            if !self.visited.insert(real) {
                return Ok(());
            }
        }
        let entries =
            sorted_entries(dir).map_err(|e| anyhow!("walk {shown}: {}", io_reason(&e)))?;
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let shown_path = join(shown, &name);
            let file_type = match entry.file_type() {
                Ok(t) => t,
                Err(e) => {
                    self.problem(
                        shown_path,
                        entry.path(),
                        format!("lstat: {}", io_reason(&e)),
                    )?;
                    continue;
                }
            };
            if file_type.is_dir() {
                self.dir(&entry.path(), &shown_path)?;
                continue;
            }
            if self.ignore.is_some_and(|re| re.is_match(&shown_path)) {
                continue;
            }
            if file_type.is_symlink() {
                // Symlinks are reported under their resolved real path, as conftest does.
                let real = match std::fs::canonicalize(entry.path()) {
                    Ok(real) => real,
                    Err(e) => {
                        let why = symlink_error(&entry.path(), shown, &e);
                        self.problem(shown_path, entry.path(), why)?;
                        continue;
                    }
                };
                let real_name = real.to_string_lossy().into_owned();
                if real.is_dir() {
                    self.dir(&real, &real_name)?;
                } else if Parser::for_path(&real_name).is_ok() {
                    push(self.files, self.seen, real_name, real);
                }
                continue;
            }
            if Parser::for_path(&shown_path).is_ok() {
                push(self.files, self.seen, shown_path, entry.path());
            }
        }
        Ok(())
    }

    /// An entry the walk cannot use: the walk's error, or with `--keep-going` an entry
    /// that reports it.
    fn problem(&mut self, name: String, path: PathBuf, why: String) -> Result<()> {
        if !self.keep_going {
            bail!("{why}");
        }
        if self.seen.insert(name.clone()) {
            self.files.push(InputFile {
                name,
                path,
                problem: Some(format!("parse files: get files from directory: {why}")),
            });
        }
        Ok(())
    }
}

/// Go's `filepath.EvalSymlinks` error for a link that does not resolve: the missing path
/// at the end of the chain (`lstat dir/missing.yaml: no such file or directory`), or
/// `EvalSymlinks: too many links` for a loop.
fn symlink_error(link: &Path, shown_dir: &str, e: &std::io::Error) -> String {
    // ELOOP: the kernel's name for a symlink loop.
    if e.raw_os_error() == Some(40) {
        return "EvalSymlinks: too many links".to_string();
    }
    let mut at = link.to_path_buf();
    let mut shown = shown_dir.to_string();
    for _ in 0..255 {
        let Ok(target) = std::fs::read_link(&at) else {
            break;
        };
        let target_text = target.to_string_lossy().into_owned();
        shown = if target.is_absolute() {
            clean(&target_text)
        } else {
            clean(&join(&shown, &target_text))
        };
        at = at.parent().map(|p| p.join(&target)).unwrap_or(target);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                shown = shown
                    .rsplit_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_else(|| ".".to_string());
            }
            Ok(_) => break,
            Err(e) => return format!("lstat {shown}: {}", io_reason(&e)),
        }
    }
    format!("stat {shown}: {}", io_reason(e))
}

/// Go `filepath.Clean` for the simple relative forms users type (`./dir/` → `dir`).
fn clean(p: &str) -> String {
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir == "." {
        name.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_go() {
        assert_eq!(clean("./dir/"), "dir");
        assert_eq!(clean("a/../b"), "b");
        assert_eq!(clean("."), ".");
        assert_eq!(clean("/x/./y"), "/x/y");
        assert_eq!(join(".", "a.yaml"), "a.yaml");
    }
}
