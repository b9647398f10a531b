//! Embeds the shipped Rego pack (`policy/**.rego`, tests excluded) into the binary.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.ends_with(".rego") && !name.ends_with("_test.rego") {
                out.push(path);
            }
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    let policy = root.join("policy");
    println!("cargo:rerun-if-changed=policy");
    let mut files = Vec::new();
    collect(&policy, &mut files);
    let mut code = String::from("/// The shipped policy files: (path under `policy/`, contents).\npub static EMBEDDED_POLICIES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&policy).expect("under policy/");
        let rel = rel.to_string_lossy().replace('\\', "/");
        let _ = writeln!(code, "    ({rel:?}, include_str!({:?})),", f.display().to_string());
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets this"));
    std::fs::write(out.join("embedded_policies.rs"), code).expect("write embedded list");
}
