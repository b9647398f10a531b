//! The compiled-program cache never changes a verdict: an entry is only used when it
//! proves it is the program for exactly these sources (key and SHA-256 seal), a cache
//! directory anyone else could write to is not used at all, a relative `XDG_CACHE_HOME`
//! is ignored, and the cache stays within its size bound.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// A scratch directory with a failing policy `a`, a passing policy `b` and an input.
struct Scratch {
    dir: tempfile::TempDir,
}

const A_FAILS: &str = "FAIL - in.json - main - A denies\n\n\
1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n";
const B_PASSES: &str = "\n1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions\n";

fn policy(denied: u32, msg: &str) -> String {
    format!(
        "package main\n\ndeny contains msg if {{\n  input.x == {denied}\n  msg := \"{msg}\"\n}}\n"
    )
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, denied, msg) in [("a", 1, "A denies"), ("b", 2, "B denies")] {
            std::fs::create_dir(dir.path().join(name)).expect("mkdir");
            std::fs::write(dir.path().join(name).join("p.rego"), policy(denied, msg))
                .expect("write policy");
        }
        std::fs::write(dir.path().join("in.json"), r#"{"x": 1}"#).expect("write input");
        Scratch { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `regorun test --no-color -p <policy> in.json` with exactly `env` for the cache.
    fn run(&self, policy: &str, env: &[(&str, &Path)]) -> Run {
        self.run_str(
            policy,
            &env.iter()
                .map(|(k, v)| (*k, v.as_os_str()))
                .collect::<Vec<_>>(),
        )
    }

    fn run_str(&self, policy: &str, env: &[(&str, &std::ffi::OsStr)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_regorun"));
        cmd.args(["test", "--no-color", "-p", policy, "in.json"])
            .current_dir(self.path())
            .env_remove("XDG_CACHE_HOME")
            .env_remove("REGORUN_RVM")
            .env_remove("REGORUN_RVM_CACHE");
        for (k, _) in std::env::vars() {
            if k.starts_with("CONFTEST_") {
                cmd.env_remove(k);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run regorun");
        Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code(),
        }
    }

    /// A run with the cache under `cache` (as `XDG_CACHE_HOME`, with `HOME` beside it).
    fn cached(&self, policy: &str, cache: &Path) -> Run {
        let home = self.path().join("home");
        self.run(policy, &[("XDG_CACHE_HOME", cache), ("HOME", &home)])
    }

    /// The run without any cache.
    fn uncached(&self, policy: &str) -> Run {
        let home = self.path().join("home");
        self.run_str(
            policy,
            &[
                ("HOME", home.as_os_str()),
                ("REGORUN_RVM_CACHE", "0".as_ref()),
            ],
        )
    }
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(list) => list.map(|e| e.expect("entry").path()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn assert_fails(run: &Run, label: &str) {
    assert_eq!(run.code, Some(1), "{label}: {}", run.stderr);
    assert_eq!(run.stdout, A_FAILS, "{label}");
    assert_eq!(run.stderr, "", "{label}");
}

/// Another policy's entry copied under this policy's file name is not its program: the
/// run still fails exactly as without a cache, and the entry is replaced.
#[test]
fn swapped_entry_is_not_used() {
    let s = Scratch::new();
    let cache = s.path().join("cache");
    let rvm = cache.join("regorun/rvm");
    assert_fails(&s.cached("a", &cache), "first run of a");
    let a_entry = entries(&rvm);
    assert_eq!(a_entry.len(), 1, "{a_entry:?}");
    let b = s.cached("b", &cache);
    assert_eq!(
        (b.code, b.stdout.as_str()),
        (Some(0), B_PASSES),
        "{}",
        b.stderr
    );
    let both = entries(&rvm);
    assert_eq!(both.len(), 2, "{both:?}");
    let b_entry = both.iter().find(|p| **p != a_entry[0]).expect("b's entry");
    assert_fails(&s.cached("a", &cache), "hit for a");
    std::fs::copy(b_entry, &a_entry[0]).expect("copy b's entry over a's");
    assert_fails(&s.cached("a", &cache), "a with b's entry");
    assert_ne!(
        std::fs::read(&a_entry[0]).expect("a's entry"),
        std::fs::read(b_entry).expect("b's entry"),
        "the swapped entry is replaced"
    );
    assert_fails(&s.cached("a", &cache), "a after the rebuild");
}

/// Every single-bit flip, anywhere in an entry (magic, key, seal, metadata, program), is
/// a miss: the verdict and output are those of an uncached run, and the entry rebuilt.
#[test]
fn flipped_bits_never_change_the_verdict() {
    let s = Scratch::new();
    let cache = s.path().join("cache");
    let reference = s.uncached("a");
    assert_fails(&reference, "uncached");
    assert_fails(&s.cached("a", &cache), "first run");
    let files = entries(&cache.join("regorun/rvm"));
    assert_eq!(files.len(), 1, "{files:?}");
    let entry = &files[0];
    let good = std::fs::read(entry).expect("read entry");
    // The header (magic, key, seal, length) byte by byte, then 40 bytes spread over the rest.
    let header = 20 + 64 + 32 + 8;
    assert!(good.len() > header + 100, "entry of {} bytes", good.len());
    let mut positions: Vec<usize> = (0..header).step_by(5).collect();
    positions.extend((0..40).map(|i| header + i * (good.len() - header - 1) / 39));
    assert!(positions.len() >= 60);
    for (n, &pos) in positions.iter().enumerate() {
        let mut bad = good.clone();
        bad[pos] ^= 1 << (n % 8);
        std::fs::write(entry, &bad).expect("write flipped entry");
        let run = s.cached("a", &cache);
        let label = format!("bit {} of byte {pos}", n % 8);
        assert_eq!(run.code, reference.code, "{label}: {}", run.stderr);
        assert_eq!(run.stdout, reference.stdout, "{label}");
        assert_eq!(run.stderr, reference.stderr, "{label}");
        assert_ne!(
            std::fs::read(entry).expect("entry"),
            bad,
            "{label}: not replaced"
        );
    }
    // A truncated entry is a miss as well.
    for len in [0, 19, 100, good.len() - 1] {
        std::fs::write(entry, &good[..len]).expect("truncate");
        assert_fails(&s.cached("a", &cache), &format!("truncated to {len}"));
    }
}

/// Sets `path`'s modification time to an hour ago: a cache hit would make it current.
fn age(path: &Path) -> std::time::SystemTime {
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let f = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open");
    f.set_modified(old).expect("set mtime");
    std::fs::metadata(path)
        .expect("stat")
        .modified()
        .expect("mtime")
}

/// A cache directory others could write to is not used: nothing is written there and
/// an entry in it is not read (a hit would refresh its modification time).
#[test]
fn unsafe_cache_dirs_are_not_used() {
    let s = Scratch::new();
    let cache = s.path().join("cache");
    let rvm = cache.join("regorun/rvm");
    assert_fails(&s.cached("a", &cache), "warm");
    let entry = entries(&rvm).pop().expect("an entry");
    let mtime = age(&entry);
    assert_fails(&s.cached("a", &cache), "hit");
    assert_ne!(
        std::fs::metadata(&entry).unwrap().modified().unwrap(),
        mtime,
        "a hit refreshes"
    );

    for (label, dir, mode) in [
        ("group-writable rvm", &rvm, 0o770),
        ("other-writable rvm", &rvm, 0o702),
        ("group-writable regorun", &cache.join("regorun"), 0o720),
    ] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let mtime = age(&entry);
        assert_fails(&s.cached("a", &cache), label);
        let after = std::fs::metadata(&entry).unwrap().modified().unwrap();
        assert_eq!(after, mtime, "{label}: planted entry read");
        std::fs::remove_file(&entry).expect("remove entry");
        assert_fails(&s.cached("a", &cache), label);
        assert_eq!(
            entries(&rvm),
            Vec::<PathBuf>::new(),
            "{label}: entry written"
        );
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        assert_fails(&s.cached("a", &cache), "rewarm");
        assert_eq!(entries(&rvm), vec![entry.clone()], "{label}: safe again");
    }

    // `rvm` a symlink to a directory of ours: neither read nor written.
    let real = s.path().join("real");
    std::fs::rename(&rvm, &real).expect("move rvm");
    std::os::unix::fs::symlink(&real, &rvm).expect("symlink");
    let planted = real.join(entry.file_name().unwrap());
    let mtime = age(&planted);
    assert_fails(&s.cached("a", &cache), "symlinked rvm");
    assert_eq!(
        std::fs::metadata(&planted).unwrap().modified().unwrap(),
        mtime,
        "symlink read"
    );
    std::fs::remove_file(&planted).expect("remove");
    assert_fails(&s.cached("a", &cache), "symlinked rvm");
    assert_eq!(
        entries(&real),
        Vec::<PathBuf>::new(),
        "written through the symlink"
    );

    // Owned by someone else (only possible to set up as root).
    std::fs::remove_file(&rvm).expect("remove symlink");
    assert_fails(&s.cached("a", &cache), "rewarm");
    if std::os::unix::fs::chown(&rvm, Some(65534), None).is_ok() {
        let mtime = age(&entry);
        assert_fails(&s.cached("a", &cache), "other-owned rvm");
        assert_eq!(
            std::fs::metadata(&entry).unwrap().modified().unwrap(),
            mtime,
            "read"
        );
        std::fs::remove_file(&entry).expect("remove");
        assert_fails(&s.cached("a", &cache), "other-owned rvm");
        assert_eq!(
            entries(&rvm),
            Vec::<PathBuf>::new(),
            "written to another's dir"
        );
        // And an entry owned by someone else in our own directory is not read.
        std::os::unix::fs::chown(&rvm, Some(0), None).expect("chown back");
        assert_fails(&s.cached("a", &cache), "rewarm");
        std::os::unix::fs::chown(&entry, Some(65534), None).expect("chown entry");
        assert_fails(&s.cached("a", &cache), "other-owned entry");
        // A hit would have kept it; a miss replaces it with an entry of ours.
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            std::fs::metadata(&entry).unwrap().uid(),
            0,
            "other-owned entry kept"
        );
    }
}

/// The cache directories are created for this user only.
#[test]
fn cache_dirs_are_private() {
    let s = Scratch::new();
    let cache = s.path().join("cache");
    assert_fails(&s.cached("a", &cache), "run");
    for dir in [
        cache.clone(),
        cache.join("regorun"),
        cache.join("regorun/rvm"),
    ] {
        let mode = std::fs::metadata(&dir).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
    }
    for entry in entries(&cache.join("regorun/rvm")) {
        let mode = std::fs::metadata(&entry)
            .expect("stat")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{}", entry.display());
    }
}

/// A relative `XDG_CACHE_HOME` is invalid (XDG spec): `$HOME/.cache` is used instead,
/// and with a relative `HOME` as well there is no cache; nothing is created in the cwd.
#[test]
fn relative_cache_homes_are_ignored() {
    let s = Scratch::new();
    let home = s.path().join("home");
    let before = entries(s.path());
    let run = s.run_str(
        "a",
        &[
            ("XDG_CACHE_HOME", "rel".as_ref()),
            ("HOME", home.as_os_str()),
        ],
    );
    assert_fails(&run, "relative XDG_CACHE_HOME");
    assert_eq!(entries(&home.join(".cache/regorun/rvm")).len(), 1);
    let run = s.run_str(
        "a",
        &[
            ("XDG_CACHE_HOME", "rel".as_ref()),
            ("HOME", "relhome".as_ref()),
        ],
    );
    assert_fails(&run, "relative HOME");
    let mut expected = before;
    expected.push(home);
    expected.sort();
    assert_eq!(entries(s.path()), expected, "created in the cwd");
}

/// Past 64 entries the oldest are evicted.
#[test]
fn cache_size_is_bounded() {
    let s = Scratch::new();
    let cache = s.path().join("cache");
    let rvm = cache.join("regorun/rvm");
    let mut order: Vec<PathBuf> = Vec::new();
    for i in 0..70 {
        let name = format!("p{i}");
        std::fs::create_dir(s.path().join(&name)).expect("mkdir");
        let msg = format!("policy {i} denies");
        std::fs::write(s.path().join(&name).join("p.rego"), policy(1, &msg)).expect("write");
        let run = s.cached(&name, &cache);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert!(run.stdout.contains(&msg), "{}", run.stdout);
        let new: Vec<PathBuf> = entries(&rvm)
            .into_iter()
            .filter(|p| !order.contains(p))
            .collect();
        assert_eq!(new.len(), 1, "run {i}: {new:?}");
        order.extend(new);
    }
    let mut kept = order[6..].to_vec();
    kept.sort();
    assert_eq!(entries(&rvm), kept);
    let total: u64 = kept
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(total <= 64 << 20, "{total} bytes");
}
