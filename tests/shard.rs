//! `--shard K/N` (issue 28): the N shards split the inputs with no overlap and no input
//! left out, and each shard's records are the unsharded run's records for its inputs.

mod common;

fn records(args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["test", "--no-color", "-o", "json"];
    all.extend(args);
    let run = common::run_in(".", &all);
    assert!(run.code <= 1, "{}", run.stderr);
    serde_json::from_str::<serde_json::Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn shards_partition_the_inputs() {
    let inputs = ["fixtures/kms/raw", "fixtures/kms/cloudformation"];
    let whole = records(&inputs);
    let mut seen = Vec::new();
    for k in 1..=4 {
        let shard = format!("{k}/4");
        let mut args = vec!["--shard", shard.as_str()];
        args.extend(inputs);
        let part = records(&args);
        assert!(!part.is_empty(), "shard {k} is empty");
        // The shard's records appear in the whole run, in the same order.
        let mut at = 0;
        for r in &part {
            let found = whole[at..].iter().position(|w| w == r);
            assert!(found.is_some(), "shard {k}: {r} differs from the whole run");
            at += found.unwrap() + 1;
        }
        seen.extend(part);
    }
    assert_eq!(seen.len(), whole.len());
    let name = |r: &serde_json::Value| r["filename"].as_str().unwrap().to_string();
    let mut a: Vec<String> = seen.iter().map(name).collect();
    let mut b: Vec<String> = whole.iter().map(name).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn a_bad_shard_is_an_error() {
    for bad in ["0/4", "5/4", "x", "1/0", "1"] {
        let run = common::run_in(".", &["test", "--shard", bad, "fixtures/kms/raw"]);
        assert_eq!(run.code, 1);
        assert_eq!(
            run.stderr,
            format!("Error: invalid argument \"{bad}\" for \"--shard\" flag: want K/N with 1 <= K <= N\n")
        );
    }
}

/// `merge` of four shards' JSON reports prints, in every format, the bytes and exit code of
/// one unsharded run.
#[test]
fn merged_shards_equal_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut reports = Vec::new();
    for k in 1..=4 {
        let report = dir.path().join(format!("shard-{k}.json"));
        let target = format!("json={}", report.display());
        let shard = format!("{k}/4");
        let run = common::run_in(
            ".",
            &[
                "test",
                "--no-color",
                "--shard",
                &shard,
                "-o",
                &target,
                "fixtures/kms",
            ],
        );
        assert!(run.code <= 1, "{}", run.stderr);
        reports.push(report.display().to_string());
    }
    for format in regorun::output::FORMATS {
        let whole = common::run_in(".", &["test", "--no-color", "-o", format, "fixtures/kms"]);
        let mut args = vec!["merge", "--no-color", "-o", format];
        args.extend(reports.iter().map(String::as_str));
        let merged = common::run_in(".", &args);
        assert_eq!(merged.code, whole.code, "{format}: {}", merged.stderr);
        assert_eq!(merged.stdout, whole.stdout, "{format}");
    }
    let run = common::run_in(".", &["merge", "README.md"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("Error: merge: README.md is not a JSON report: "),
        "{}",
        run.stderr
    );
}
