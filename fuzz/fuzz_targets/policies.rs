//! Fuzz target: random policies, built from a small Rego grammar (rules, functions,
//! built-in calls, comprehensions, `some .. in`, `every`), evaluated on random inputs
//! through the engine `regorun test` uses, on the bytecode path and on the interpreter.
//! No panic may escape: every engine fault must come back as an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regorun::engine::eval::{EngineOptions, PolicyEngine};
use regorun::rego::policy::PolicyFile;

/// Reads choices from the fuzzer's bytes; zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[usize::from(self.byte()) % items.len()]
    }
}

const STRINGS: &[&str] = &[
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"11111\"",
    "\"1h2\u{e9}\"",
    "\"\u{e9}\"",
    "\"*\"",
    "\"**.x\"",
    "\"1m\"",
    "\"2006-01-02\"",
    "\"a,b\"",
    "\"[\"",
    "\"10Ki\"",
];
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "3",
    "1.5",
    "9223372036854775807",
    "-9223372036854775808",
    "1e300",
    "100000",
];
const INPUT_REFS: &[&str] = &[
    "input",
    "input.a",
    "input.b",
    "input.s",
    "input.n",
    "input.xs",
    "input.o",
    "input.xs[0]",
    "input.o.k",
];
/// Built-ins with their arity.
const CALLS: &[(&str, usize)] = &[
    ("strings.count", 2),
    ("numbers.range", 2),
    ("numbers.range_step", 3),
    ("object.subset", 2),
    ("time.parse_duration_ns", 1),
    ("time.parse_ns", 2),
    ("glob.match", 3),
    ("concat", 2),
    ("split", 2),
    ("substring", 3),
    ("indexof", 2),
    ("trim", 2),
    ("replace", 3),
    ("upper", 1),
    ("sprintf", 2),
    ("count", 1),
    ("sum", 1),
    ("max", 1),
    ("sort", 1),
    ("to_number", 1),
    ("format_int", 2),
    ("array.slice", 3),
    ("array.concat", 2),
    ("object.get", 3),
    ("object.keys", 1),
    ("object.union", 2),
    ("object.remove", 2),
    ("union", 1),
    ("json.marshal", 1),
    ("json.unmarshal", 1),
    ("base64.decode", 1),
    ("regex.match", 2),
    ("units.parse_bytes", 1),
    ("is_string", 1),
    ("type_name", 1),
    ("startswith", 2),
    ("abs", 1),
    ("round", 1),
    ("time.add_date", 4),
    ("time.date", 1),
    ("net.cidr_contains", 2),
    ("semver.compare", 2),
];

fn expr(b: &mut Bytes, depth: u8) -> String {
    let choice = if depth >= 4 {
        b.byte() % 3
    } else {
        b.byte() % 12
    };
    match choice {
        0 => b.pick(STRINGS).to_string(),
        1 => b.pick(NUMBERS).to_string(),
        2 => b.pick(INPUT_REFS).to_string(),
        3 => {
            let (name, arity) = CALLS[usize::from(b.byte()) % CALLS.len()];
            let args: Vec<String> = (0..arity).map(|_| expr(b, depth + 1)).collect();
            format!("{name}({})", args.join(", "))
        }
        4 => format!("[{}, {}]", expr(b, depth + 1), expr(b, depth + 1)),
        5 => format!(
            "{{\"k\": {}, \"j\": {}}}",
            expr(b, depth + 1),
            expr(b, depth + 1)
        ),
        6 => format!("{{{}}}", expr(b, depth + 1)),
        7 => format!("[x | some x in {}]", expr(b, depth + 1)),
        8 => format!("{{k: v | some k, v in {}}}", expr(b, depth + 1)),
        9 => format!(
            "({} {} {})",
            expr(b, depth + 1),
            b.pick(&["+", "-", "*", "/", "%", "|", "&"]),
            expr(b, depth + 1)
        ),
        10 => format!("f({})", expr(b, depth + 1)),
        _ => b
            .pick(&[
                "p",
                "q",
                "data.main.p",
                "data.lib.r",
                "o",
                "r",
                "r.a",
                "f(1)",
            ])
            .to_string(),
    }
}

fn statement(b: &mut Bytes) -> String {
    match b.byte() % 6 {
        0 => format!("x := {}", expr(b, 1)),
        1 => format!("some y in {}", expr(b, 1)),
        2 => format!(
            "{} {} {}",
            expr(b, 1),
            b.pick(&["==", "!=", "<", ">="]),
            expr(b, 1)
        ),
        3 => format!("not {}", expr(b, 1)),
        4 => format!("every z in {} {{ z != {} }}", expr(b, 1), expr(b, 2)),
        _ => expr(b, 1),
    }
}

fn body(b: &mut Bytes) -> String {
    let n = 1 + b.byte() % 4;
    (0..n)
        .map(|_| format!("\t{}\n", statement(b)))
        .collect::<String>()
}

fn policy(b: &mut Bytes) -> (String, String) {
    let mut main = String::from("package main\n\nimport data.lib\n\n");
    main.push_str(&format!("p := {} if {{\n{}}}", expr(b, 1), body(b)));
    // The shapes the bytecode path has got wrong before: else chains, reference heads,
    // default functions, several function clauses, partial objects.
    if b.byte() % 2 == 0 {
        main.push_str(&format!(" else := {} if {{\n{}}}", expr(b, 1), body(b)));
    }
    if b.byte() % 2 == 0 {
        main.push_str(&format!(" else := {}", expr(b, 1)));
    }
    main.push_str("\n\n");
    if b.byte() % 2 == 0 {
        main.push_str(&format!("p := {} if {{\n{}}}\n\n", expr(b, 1), body(b)));
    }
    main.push_str(&format!(
        "q contains {} if {{\n{}}}\n\n",
        expr(b, 1),
        body(b)
    ));
    main.push_str(&format!(
        "f(a) := {} if {{\n\ta != null\n{}}}\n\n",
        expr(b, 1),
        body(b)
    ));
    match b.byte() % 4 {
        0 => main.push_str(&format!("f(1) := {}\n\n", expr(b, 1))),
        1 => main.push_str(&format!("default f(_) := {}\n\n", expr(b, 1))),
        _ => {}
    }
    match b.byte() % 5 {
        0 => main.push_str(&format!(
            "o[k] := {} if {{\n\tsome k in {}\n{}}}\n\n",
            expr(b, 1),
            expr(b, 1),
            body(b)
        )),
        1 => main.push_str(&format!(
            "r.a[k] := {} if {{\n\tsome k in {}\n{}}}\n\n",
            expr(b, 1),
            expr(b, 1),
            body(b)
        )),
        2 => main.push_str(&format!(
            "r.b contains {} if {{\n{}}}\n\n",
            expr(b, 1),
            body(b)
        )),
        _ => {}
    }
    if b.byte() % 3 == 0 {
        main.push_str(&format!("default p := {}\n\n", expr(b, 1)));
    }
    for rule in ["deny", "warn", "violation"] {
        main.push_str(&format!(
            "{rule} contains msg if {{\n{}\tmsg := sprintf(\"%v\", [{}])\n}}\n\n",
            body(b),
            expr(b, 1)
        ));
    }
    let lib = format!("package lib\n\nr := {} if {{\n{}}}\n", expr(b, 1), body(b));
    (main, lib)
}

fn input(b: &mut Bytes) -> regorus::Value {
    let mut json = String::from("{");
    for (i, key) in ["a", "b", "s", "n", "xs", "o"].iter().enumerate() {
        if i > 0 {
            json.push_str(", ");
        }
        let value = match b.byte() % 7 {
            0 => "null".to_string(),
            1 => "true".to_string(),
            2 => b.pick(NUMBERS).to_string(),
            3 => b.pick(STRINGS).to_string(),
            4 => format!("[{}, {}]", b.pick(NUMBERS), b.pick(STRINGS)),
            5 => format!("{{\"k\": {}}}", b.pick(STRINGS)),
            _ => "[]".to_string(),
        };
        json.push_str(&format!("\"{key}\": {value}"));
    }
    json.push('}');
    regorus::Value::from_json_str(&json).unwrap_or(regorus::Value::Null)
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let (main, lib) = policy(&mut b);
    let doc = input(&mut b);
    let files = [
        PolicyFile {
            path: "p/main.rego".into(),
            source: main,
        },
        PolicyFile {
            path: "p/lib.rego".into(),
            source: lib,
        },
    ];
    let mut results = Vec::new();
    for interpreter_only in [false, true] {
        let opts = EngineOptions {
            interpreter_only,
            timeout: Some(std::time::Duration::from_millis(200)),
            ..Default::default()
        };
        // Load errors are fine; a panic is not (it aborts the fuzzer).
        let Ok(mut engine) = PolicyEngine::new(&files, &[], &opts) else {
            return;
        };
        let Some(ns) = engine.catalog.by_namespace.get("main").cloned() else {
            return;
        };
        let fast = engine.uses_fast_path();
        let result = engine
            .check_document(&ns, doc.clone(), &regorus::Value::Null, "in.json")
            .map_err(|e| e.to_string());
        results.push((fast, result));
    }
    // Where the bytecode path is used it must give the interpreter's verdict (a
    // timeout may strike one path only).
    if let [(true, fast), (false, slow)] = &results[..] {
        let timed_out = |r: &Result<_, String>| r.as_ref().is_err_and(|e| e.contains("--timeout"));
        if !timed_out(fast) && !timed_out(slow) {
            assert_eq!(
                fast, slow,
                "paths differ on\n{}\n{}\ninput {doc}",
                files[0].source, files[1].source
            );
        }
    }
});
