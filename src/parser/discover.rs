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
    /// The name printed in results.
    pub name: String,
}

impl InputFile {
    /// True for the stdin pseudo-file.
    pub fn is_stdin(&self) -> bool {
        self.name == "-"
    }
}

/// Expands positional arguments into files: explicit files as given, directories walked
/// recursively in lexical order keeping only files a parser is known for.
pub fn discover(args: &[String], ignore: Option<&str>) -> Result<Vec<InputFile>> {
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    let mut ignore_re: Option<regex::Regex> = None;
    for arg in args {
        if arg.is_empty() {
            continue;
        }
        if arg == "-" {
            push(&mut files, &mut seen, arg.clone());
            continue;
        }
        let meta = std::fs::metadata(arg)
            .map_err(|e| anyhow!("get file info: stat {arg}: {}", io_reason(&e)))?;
        if !meta.is_dir() {
            push(&mut files, &mut seen, arg.clone());
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
        walk(
            Path::new(arg),
            &shown,
            ignore_re.as_ref(),
            &mut visited,
            &mut files,
            &mut seen,
        )?;
    }
    if files.is_empty() {
        bail!("no files found");
    }
    Ok(files)
}

fn push(files: &mut Vec<InputFile>, seen: &mut HashSet<String>, name: String) {
    if seen.insert(name.clone()) {
        files.push(InputFile { name });
    }
}

fn walk(
    dir: &Path,
    shown: &str,
    ignore: Option<&regex::Regex>,
    visited: &mut HashSet<PathBuf>,
    files: &mut Vec<InputFile>,
    seen: &mut HashSet<String>,
) -> Result<()> {
    // Loop guard for symlinked directories.
    if let Ok(real) = std::fs::canonicalize(dir) {
        if !visited.insert(real) {
            return Ok(());
        }
    }
    let entries = sorted_entries(dir).map_err(|e| anyhow!("walk {shown}: {}", io_reason(&e)))?;
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = join(shown, &name);
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(_) => continue,
        };
        if file_type.is_dir() {
            walk(&entry.path(), &path, ignore, visited, files, seen)?;
            continue;
        }
        if ignore.is_some_and(|re| re.is_match(&path)) {
            continue;
        }
        if file_type.is_symlink() {
            // Symlinks are reported under their resolved real path, as conftest does.
            let Ok(real) = std::fs::canonicalize(entry.path()) else {
                continue;
            };
            let real_name = real.to_string_lossy().into_owned();
            if real.is_dir() {
                walk(&real, &real_name, ignore, visited, files, seen)?;
            } else if Parser::for_path(&real_name).is_ok() {
                push(files, seen, real_name);
            }
            continue;
        }
        if Parser::for_path(&path).is_ok() {
            push(files, seen, path);
        }
    }
    Ok(())
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
