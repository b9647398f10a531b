//! Input discovery: turning the positional paths of `test` into the list of files to
//! evaluate, as conftest's runner does (spec section 3).

use crate::base::fs::io_reason;
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
    Discovery::new(args, ignore, keep_going).collect()
}

/// [`discover`] one file at a time: the walk goes only as far as the files taken, and
/// holds the sorted names of the directories on its current path (a directory's names
/// are read whole to sort them), not the list of every file. The last item is an error
/// when the walk fails, or `no files found` when it found nothing.
pub struct Discovery<'a> {
    args: std::slice::Iter<'a, String>,
    ignore: Option<&'a str>,
    ignore_re: Option<regex::Regex>,
    keep_going: bool,
    /// Names given out, to give each once. With several arguments every name is kept.
    /// A single directory's walk cannot meet one of its own names twice: only names
    /// reached through symlinks are kept then (so memory does not grow with the files),
    /// and a symlink to a file the walk already passed is recognised by its position.
    seen: HashSet<String>,
    keep_all_names: bool,
    /// The single directory argument as its names begin (`dir/`).
    root: Option<String>,
    /// Real directories entered under the current argument (symlink loop guard).
    visited: HashSet<PathBuf>,
    stack: Vec<Frame>,
    found: bool,
    done: bool,
}

/// A directory being walked: its sorted entries and where the walk is in them.
struct Frame {
    dir: PathBuf,
    shown: String,
    /// Entered through a symlink: its names are kept in `seen`.
    linked: bool,
    names: Names,
    /// Byte offset of the next entry in `names.coded`.
    at: usize,
    /// The previous entry's name (the next one is coded against it).
    prev: Vec<u8>,
}

/// A directory's entry names sorted by bytes (as Go sorts them), front-coded: each entry
/// is the length it shares with the name before it, the rest of its name and its kind.
/// Exported files are named alike (`kms-000001.json`, `kms-000002.json`), so a
/// directory of a million of them takes a few bytes per name.
struct Names {
    coded: Vec<u8>,
}

/// An entry's type as the directory listing gives it.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Dir,
    Symlink,
    Other,
    /// The type could not be read: looked up again to report why.
    Unknown,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Dir, Kind::Symlink, Kind::Other, Kind::Unknown];
}

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn get_len(coded: &[u8], at: &mut usize) -> usize {
    let (mut n, mut shift) = (0usize, 0);
    while let Some(&b) = coded.get(*at) {
        *at += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    n
}

impl Names {
    fn read(dir: &Path) -> std::io::Result<Names> {
        use std::os::unix::ffi::OsStrExt;
        let mut bytes = Vec::new();
        // Eight bytes an entry while sorting: a listing of a million names stays small.
        let mut entries: Vec<(u32, u16, Kind)> = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = match entry.file_type() {
                Ok(t) if t.is_dir() => Kind::Dir,
                Ok(t) if t.is_symlink() => Kind::Symlink,
                Ok(_) => Kind::Other,
                Err(_) => Kind::Unknown,
            };
            let name = entry.file_name();
            let too_long = || std::io::Error::other("directory listing too long");
            entries.push((
                u32::try_from(bytes.len()).map_err(|_| too_long())?,
                u16::try_from(name.as_bytes().len()).map_err(|_| too_long())?,
                kind,
            ));
            bytes.extend_from_slice(name.as_bytes());
        }
        let name = |&(start, len, _): &(u32, u16, Kind)| {
            &bytes[start as usize..start as usize + usize::from(len)]
        };
        entries.sort_by(|a, b| name(a).cmp(name(b)));
        let mut coded = Vec::new();
        let mut prev: &[u8] = &[];
        for e in &entries {
            let this = name(e);
            let shared = prev.iter().zip(this).take_while(|(a, b)| a == b).count();
            put_len(&mut coded, shared);
            put_len(&mut coded, this.len() - shared);
            coded.extend_from_slice(&this[shared..]);
            coded.push(e.2 as u8);
            prev = this;
        }
        coded.shrink_to_fit();
        Ok(Names { coded })
    }
}

impl Frame {
    /// The next entry's name and kind, or `None` at the end of the directory.
    fn next_entry(&mut self) -> Option<(std::ffi::OsString, Kind)> {
        use std::os::unix::ffi::OsStrExt;
        let coded = &self.names.coded;
        if self.at >= coded.len() {
            return None;
        }
        let shared = get_len(coded, &mut self.at);
        let rest = get_len(coded, &mut self.at);
        let end = (self.at + rest).min(coded.len());
        self.prev.truncate(shared);
        self.prev.extend_from_slice(&coded[self.at..end]);
        let kind = coded.get(end).map_or(Kind::Unknown, |&k| {
            Kind::ALL
                .get(usize::from(k))
                .copied()
                .unwrap_or(Kind::Unknown)
        });
        self.at = end + 1;
        Some((std::ffi::OsStr::from_bytes(&self.prev).to_os_string(), kind))
    }
}

impl<'a> Discovery<'a> {
    /// A walk over `args` (see [`discover`]).
    pub fn new(args: &'a [String], ignore: Option<&'a str>, keep_going: bool) -> Self {
        let given = args.iter().filter(|a| !a.is_empty()).count();
        Discovery {
            args: args.iter(),
            ignore,
            ignore_re: None,
            keep_going,
            seen: HashSet::new(),
            keep_all_names: given > 1,
            root: None,
            visited: HashSet::new(),
            stack: Vec::new(),
            found: false,
            done: false,
        }
    }

    /// Gives `name` out unless it was given before; with `keep`, remembers it.
    fn push(&mut self, name: String, path: PathBuf, keep: bool) -> Option<InputFile> {
        let given = if keep || self.keep_all_names {
            !self.seen.insert(name.clone())
        } else {
            self.seen.contains(&name)
        };
        if given {
            return None;
        }
        self.found = true;
        Some(InputFile {
            name,
            path,
            problem: None,
        })
    }

    /// Whether the walk of the single directory argument already gave `real` (a symlink's
    /// target, met at `link`) under its own name: it is under the argument and comes
    /// before `link` in the walk's order, and was not skipped by `--ignore`.
    fn passed(&self, real: &str, link: &str) -> bool {
        let Some(root) = &self.root else {
            return false;
        };
        let (Some(real_rel), Some(link_rel)) = (real.strip_prefix(root), link.strip_prefix(root))
        else {
            return false;
        };
        let ignored = self.ignore_re.as_ref().is_some_and(|re| re.is_match(real));
        !ignored && real_rel.split('/').lt(link_rel.split('/'))
    }

    /// Starts walking `dir`, shown as `shown`, unless it was entered before.
    fn enter(&mut self, dir: &Path, shown: &str, linked: bool) -> Result<()> {
        if let Ok(real) = std::fs::canonicalize(dir) {
            if !self.visited.insert(real) {
                return Ok(());
            }
        }
        let names = Names::read(dir).map_err(|e| anyhow!("walk {shown}: {}", io_reason(&e)))?;
        self.stack.push(Frame {
            dir: dir.to_path_buf(),
            shown: shown.to_string(),
            linked,
            names,
            at: 0,
            prev: Vec::new(),
        });
        Ok(())
    }

    /// An entry the walk cannot use: the walk's error, or with `--keep-going` an entry
    /// that reports it.
    fn problem(&mut self, name: String, path: PathBuf, why: String) -> Result<Option<InputFile>> {
        if !self.keep_going {
            bail!("{why}");
        }
        if !self.seen.insert(name.clone()) {
            return Ok(None);
        }
        self.found = true;
        Ok(Some(InputFile {
            name,
            path,
            problem: Some(format!("parse files: get files from directory: {why}")),
        }))
    }

    /// The next entry of the innermost directory, if it gives a file; `Ok(None)` to go on.
    fn step(&mut self) -> Result<Option<InputFile>> {
        let Some(frame) = self.stack.last_mut() else {
            return Ok(None);
        };
        let Some((name, kind)) = frame.next_entry() else {
            self.stack.pop();
            return Ok(None);
        };
        let path = frame.dir.join(&name);
        let shown_path = join(&frame.shown, &name.to_string_lossy());
        let shown = frame.shown.clone();
        let linked = frame.linked;
        let kind = match kind {
            Kind::Unknown => match std::fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => Kind::Dir,
                Ok(m) if m.file_type().is_symlink() => Kind::Symlink,
                Ok(_) => Kind::Other,
                Err(e) => {
                    return self.problem(shown_path, path, format!("lstat: {}", io_reason(&e)))
                }
            },
            k => k,
        };
        if kind == Kind::Dir {
            self.enter(&path, &shown_path, linked)?;
            return Ok(None);
        }
        if self
            .ignore_re
            .as_ref()
            .is_some_and(|re| re.is_match(&shown_path))
        {
            return Ok(None);
        }
        if kind == Kind::Symlink {
            // Symlinks are reported under their resolved real path, as conftest does.
            let real = match std::fs::canonicalize(&path) {
                Ok(real) => real,
                Err(e) => {
                    let why = symlink_error(&path, &shown, &e);
                    return self.problem(shown_path, path, why);
                }
            };
            let real_name = real.to_string_lossy().into_owned();
            if real.is_dir() {
                self.enter(&real, &real_name, true)?;
                return Ok(None);
            }
            if Parser::for_path(&real_name).is_ok()
                && (linked || !self.passed(&real_name, &shown_path))
            {
                return Ok(self.push(real_name, real, true));
            }
            return Ok(None);
        }
        if Parser::for_path(&shown_path).is_ok() {
            return Ok(self.push(shown_path, path, linked));
        }
        Ok(None)
    }

    /// Starts the next argument; `Ok(None)` when it was a directory (walked next).
    fn argument(&mut self, arg: &str) -> Result<Option<InputFile>> {
        if arg == "-" {
            return Ok(self.push(arg.to_string(), PathBuf::from(arg), true));
        }
        let meta = std::fs::metadata(arg)
            .map_err(|e| anyhow!("get file info: stat {arg}: {}", io_reason(&e)))?;
        if !meta.is_dir() {
            return Ok(self.push(arg.to_string(), PathBuf::from(arg), true));
        }
        // The ignore regex only matters (and is only validated) when walking.
        if self.ignore_re.is_none() {
            if let Some(pattern) = self.ignore.filter(|p| !p.is_empty()) {
                self.ignore_re = Some(regex::Regex::new(pattern).map_err(|e| {
                    anyhow!("get files from directory: given regexp couldn't be parsed :{e}")
                })?);
            }
        }
        self.visited.clear();
        // Go's Walk does not follow a symlinked root; conftest resolves it and reports the
        // files under the real path.
        let is_link = std::fs::symlink_metadata(arg).is_ok_and(|m| m.file_type().is_symlink());
        let shown = match (is_link, std::fs::canonicalize(arg)) {
            (true, Ok(real)) => real.to_string_lossy().into_owned(),
            _ => clean(arg),
        };
        // Names from a relative argument are relative, a symlink's target is absolute:
        // they never meet.
        self.root = (!self.keep_all_names && shown.starts_with('/')).then(|| join(&shown, ""));
        self.enter(Path::new(arg), &shown, false)
            .map_err(|e| anyhow!("get files from directory: {e}"))?;
        Ok(None)
    }
}

impl Iterator for Discovery<'_> {
    type Item = Result<InputFile>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let step = if !self.stack.is_empty() {
                self.step()
                    .map_err(|e| anyhow!("get files from directory: {e}"))
            } else if let Some(arg) = self.args.next() {
                if arg.is_empty() {
                    continue;
                }
                self.argument(arg)
            } else {
                self.done = true;
                if self.found {
                    return None;
                }
                Err(anyhow!("no files found"))
            };
            match step {
                Ok(Some(file)) => return Some(Ok(file)),
                Ok(None) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
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

    #[test]
    fn walks_only_as_far_as_the_files_taken() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap().to_string();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::create_dir_all(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("a/1.json"), "{}").unwrap();
        let args = [root.clone()];
        let mut walk = Discovery::new(&args, None, false);
        let first = walk.next().unwrap().unwrap();
        assert_eq!(first.name, format!("{root}/a/1.json"));
        // `b` is read only when the walk gets there.
        std::fs::write(dir.path().join("b/2.json"), "{}").unwrap();
        let rest: Vec<String> = walk.map(|f| f.unwrap().name).collect();
        assert_eq!(rest, [format!("{root}/b/2.json")]);
        assert_eq!(
            discover(
                &[format!("{root}/b"), format!("{root}/b/2.json")],
                None,
                false
            )
            .unwrap()
            .len(),
            1
        );
    }

    #[test]
    fn a_symlink_to_a_walked_file_gives_it_once_at_its_first_place() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let root = root.to_str().unwrap().to_string();
        for f in ["b.json", "m.json", "z.json", "skip/s.json"] {
            std::fs::create_dir_all(dir.path().join("skip")).unwrap();
            std::fs::write(dir.path().join(f), "{}").unwrap();
        }
        let link = |name: &str, to: &str| {
            std::os::unix::fs::symlink(dir.path().join(to), dir.path().join(name)).unwrap()
        };
        link("a-link.json", "z.json"); // before its target: given here
        link("n-link.json", "b.json"); // after its target: already given
        link("o-link.json", "skip/s.json"); // the target is ignored by the walk
        let names = |args: &[String], ignore: Option<&str>| -> Vec<String> {
            discover(args, ignore, false)
                .unwrap()
                .into_iter()
                .map(|f| f.name.strip_prefix(&root).unwrap().to_string())
                .collect()
        };
        let single = [root.clone()];
        assert_eq!(
            names(&single, Some("skip/")),
            ["/z.json", "/b.json", "/m.json", "/skip/s.json"]
        );
        assert_eq!(
            names(&single, None),
            ["/z.json", "/b.json", "/m.json", "/skip/s.json"]
        );
        // Several arguments keep every name: the same files, each once.
        let two = [root.clone(), format!("{root}/m.json")];
        assert_eq!(
            names(&two, None),
            ["/z.json", "/b.json", "/m.json", "/skip/s.json"]
        );
    }
}
