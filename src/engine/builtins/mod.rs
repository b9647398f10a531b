//! Built-ins registered as regorus extensions: conftest's own (`parse_config*`), OPA's
//! that regorus lacks, and replacements for regorus 0.14 built-ins that panic on input values or differ from OPA.
//! One file per OPA namespace.
//!
//! A replacement follows OPA's non-strict rule: a built-in error makes the call undefined,
//! unless `--show-builtin-errors` asks for the error. The bytecode VM cannot see
//! extensions, so a policy that calls a replaced built-in is evaluated by the interpreter
//! ([`calls_replaced`]) when regorus's version gives wrong values; when it only panics,
//! a panic on the VM sends the document to the interpreter.

mod added;
mod arrays;
mod conftest;
mod crypto;
mod glob;
mod graphql;
mod guarded;
mod http;
mod jwt;
mod keys;
mod native;
mod net;
mod numbers;
mod objects;
mod operand_types;
mod operands;
mod order;
mod private_keys;
mod providers;
mod regex;
mod rego_ast;
mod runtime;
mod schema;
mod schema_check;
mod semver;
mod signatures;
mod strings;
mod time;
mod units;
mod uuid;
mod x509;
mod yaml;

use crate::rego::policy::PolicyFile;
use anyhow::{anyhow, Result};
use regorus::{Engine, Value};

/// Why a replacement gives no value.
#[derive(Debug, PartialEq)]
pub enum Fault {
    /// OPA's built-in error, with OPA's text: undefined unless `--show-builtin-errors`.
    Opa(String),
    /// A limit of regorun's where OPA would run out of memory or time: always an error.
    Limit(String),
}

impl From<String> for Fault {
    fn from(e: String) -> Self {
        Fault::Opa(e)
    }
}

/// A replacement's body: arguments in, OPA's value or a fault out.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Which calls of a replaced built-in the bytecode VM may still make with regorus's own
/// version: a panic there sends the document to the interpreter, but a wrong value or an
/// allocation that aborts the process would not be caught.
#[derive(Clone, Copy)]
enum Vm {
    /// Every call: regorus's version only panics.
    Any,
    /// Calls whose argument texts pass the check; any other call needs the interpreter.
    Only(fn(&[&str]) -> bool),
    /// Calls whose text after the opening parenthesis passes the check.
    Text(fn(&str) -> bool),
    /// Calls whose argument texts pass the check, which may read the literal of a constant
    /// named inside an argument.
    Resolved(fn(&[&str], &Resolve<'_>) -> bool),
    /// Every call, for a run and a document where no string (in the document, the data or
    /// the policies) is one the check picks out ([`vm_string_checks`]): regorus's version
    /// differs from OPA's only on such strings.
    Strings(fn(&str) -> bool),
    /// Calls whose argument texts pass `call` (as [`Vm::Only`]), for documents and data
    /// holding no string `document` picks out and policies whose text `source` does not
    /// pick out (as [`Vm::Strings`], with a narrower test for the policies, whose own
    /// regular expressions and messages are no patterns).
    Guarded {
        call: fn(&[&str]) -> bool,
        document: fn(&str) -> bool,
        source: fn(&str) -> bool,
    },
}

/// A replaced built-in's test of the strings that need the interpreter
/// ([`vm_string_checks`]): one for policy texts, one for each string of a document or the
/// data.
#[derive(Clone, Copy)]
pub struct StringCheck {
    /// Picks out a policy text.
    pub source: fn(&str) -> bool,
    /// Picks out a string of a document or of the data.
    pub document: fn(&str) -> bool,
}

/// A constant's literal text by (dotted) name, when the policy defines it as one.
pub type Resolve<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// The replaced built-ins: name, arity, body, which calls the VM may keep.
const REPLACED: &[(&str, u8, Body, Vm)] = &[
    // regorus's globset differs on `**`, `?`, ranges, alternatives, escapes and some
    // delimiters; plain `*` patterns keep the VM.
    (
        "glob.match",
        3,
        glob::matches,
        Vm::Guarded {
            call: glob::vm_call,
            document: glob::vm_pattern,
            source: glob::vm_source,
        },
    ),
    // regorus allocates the whole range first: a huge one aborts the process.
    (
        "numbers.range",
        2,
        numbers::range,
        Vm::Only(numbers::small_literal),
    ),
    (
        "numbers.range_step",
        3,
        numbers::range_step,
        Vm::Only(numbers::small_literal),
    ),
    ("object.subset", 2, objects::subset, Vm::Any),
    // regorus counts overlapping matches, which only a one-character literal cannot have.
    (
        "strings.count",
        2,
        strings::count,
        Vm::Only(strings::one_char_literal),
    ),
    (
        "time.parse_duration_ns",
        1,
        time::parse_duration_ns,
        Vm::Any,
    ),
    (
        "time.parse_ns",
        2,
        time::parse_ns,
        Vm::Strings(time::zone_layout),
    ),
    // OPA's values, which the VM gets through routed Rego functions (compat.rs).
    ("floor", 1, numbers::floor, Vm::Any),
    ("ceil", 1, numbers::ceil, Vm::Any),
    ("format_int", 2, numbers::format_int, Vm::Any),
    // Go's simple case mappings; regorus's full ones differ only on some characters.
    (
        "upper",
        1,
        strings::upper,
        Vm::Strings(strings::case_mappings_differ),
    ),
    (
        "lower",
        1,
        strings::lower,
        Vm::Strings(strings::case_mappings_differ),
    ),
    ("sort", 1, order::sort, Vm::Any),
    ("max", 1, order::max, Vm::Any),
    ("min", 1, order::min, Vm::Any),
    ("json.filter", 2, objects::json_filter, Vm::Any),
    ("json.remove", 2, objects::json_remove, Vm::Any),
    ("json.is_valid", 1, objects::json_is_valid, Vm::Any),
    ("net.cidr_is_valid", 1, net::cidr_is_valid, Vm::Any),
    // Go's ParseFloat; on the VM a routed Rego function gives regorus's JSON text.
    ("to_number", 1, numbers::to_number, Vm::Any),
    // Go's Replacer makes every replacement at once; regorus one key after the other.
    (
        "strings.replace_n",
        2,
        strings::replace_n,
        Vm::Resolved(strings::replace_n_vm_safe),
    ),
    // These are guarded on the VM by routed Rego functions (compat.rs).
    ("urlquery.decode", 1, guarded::urlquery_decode, Vm::Any),
    (
        "urlquery.decode_object",
        1,
        guarded::urlquery_decode_object,
        Vm::Any,
    ),
    ("indexof", 2, guarded::indexof, Vm::Any),
    ("base64.decode", 1, guarded::base64_decode, Vm::Any),
    ("base64.is_valid", 1, guarded::base64_is_valid, Vm::Any),
    ("indexof_n", 2, guarded::indexof_n, Vm::Any),
    // The VM's calls are guarded by a routed Rego function (compat.rs), so regorus's own
    // version there only sees texts it reads as Go does.
    ("time.parse_rfc3339_ns", 1, time::parse_rfc3339_ns, Vm::Any),
    // regorus has no zone abbreviations (`MST`) and misreads some layouts.
    (
        "time.format",
        1,
        time::format,
        Vm::Only(time::format_vm_safe),
    ),
    // Go's verbs, flags, widths and precisions; plain `%s`/`%v`/`%d` formats stay regorus's.
    (
        "sprintf",
        2,
        strings::sprintf,
        Vm::Text(strings::plain_literal_format),
    ),
    // regorus gives `[false, "<message>"]`; OPA a list of gojsonschema error objects.
    (
        "json.match_schema",
        2,
        schema::match_schema,
        Vm::Only(|_| false),
    ),
    // regorus's fails on a schema it rejects, where OPA answers `[false, message]`.
    (
        "json.verify_schema",
        1,
        schema::verify_schema,
        Vm::Only(|_| false),
    ),
    // regorus's is always undefined.
    ("http.send", 1, http::send, Vm::Only(|_| false)),
    // regorus's refused `v1.0.0` and `01.0.0`, which OPA reads.
    ("semver.is_valid", 1, semver::is_valid, Vm::Only(|_| false)),
    ("semver.compare", 2, semver::compare, Vm::Only(|_| false)),
    // regorus's escaped `*` alone.
    ("glob.quote_meta", 1, glob::quote_meta, Vm::Only(|_| false)),
    // regorus's named variant `0xx` "NCS", Go's uuid package "Reserved".
    ("uuid.parse", 1, uuid::parse, Vm::Only(|_| false)),
    // regorus reads YAML 1.2; OPA go-yaml v2's YAML 1.1 (`yes` is true).
    ("yaml.unmarshal", 1, yaml::unmarshal, Vm::Only(|_| false)),
    ("yaml.marshal", 1, yaml::marshal, Vm::Only(|_| false)),
    ("yaml.is_valid", 1, yaml::is_valid, Vm::Only(|_| false)),
    // regorus's has no `env` and names regorus's version.
    ("opa.runtime", 0, runtime::runtime, Vm::Only(|_| false)),
    // regorus reads patterns with the `regex` crate's meanings (Unicode `\d`, `\w`...):
    // the VM keeps literal patterns that mean the same to both.
    (
        "regex.match",
        2,
        regex::is_match,
        Vm::Only(regex::plain_first),
    ),
    (
        "regex.is_valid",
        1,
        regex::is_valid,
        Vm::Only(regex::plain_first),
    ),
    (
        "regex.find_n",
        3,
        regex::find_n,
        Vm::Only(regex::plain_first),
    ),
    (
        "regex.find_all_string_submatch_n",
        3,
        regex::find_all_string_submatch_n,
        Vm::Only(regex::plain_first),
    ),
    (
        "regex.replace",
        3,
        regex::replace,
        Vm::Only(regex::plain_second),
    ),
    // regorus keeps the empty pieces Go drops.
    ("regex.split", 2, regex::split, Vm::Only(|_| false)),
    // regorus clamps an overflowing day where Go carries it into the next month.
    ("time.add_date", 4, time::add_date, Vm::Only(|_| false)),
    // regorus's version does not panic but can run for minutes: only literals it
    // handles quickly stay on the VM.
    (
        "units.parse",
        1,
        units::parse,
        Vm::Only(units::short_literal),
    ),
    (
        "units.parse_bytes",
        1,
        units::parse_bytes,
        Vm::Only(units::short_literal),
    ),
];

/// Registers conftest's built-ins, OPA's that regorus lacks and the replacements. `strict` is
/// `--show-builtin-errors`.
pub fn register(
    engine: &mut Engine,
    files: &[PolicyFile],
    strict: bool,
    rego_v0: bool,
) -> Result<()> {
    conftest::register(engine, files)?;
    for (name, arity, body) in added::all(rego_v0) {
        add(
            engine,
            name,
            arity,
            move |args: &[Value]| body(args),
            strict,
        )?;
    }
    for &(name, arity, body) in tables(rego_v0) {
        add(engine, name, arity, body, strict)?;
    }
    for &(name, arity, body, _) in REPLACED {
        add(engine, name, arity, body, strict)?;
    }
    if strict {
        // regorus's own built-ins, behind OPA's operand checks (errors in OPA's words).
        for name in operands::checked_natives() {
            // regorun's own versions check in `add`.
            if registered_by_regorun(name, rego_v0) {
                continue;
            }
            let Some(&(_, n)) = regorus::unstable::BUILTINS.get(name) else {
                continue;
            };
            add(
                engine,
                name,
                n,
                move |args: &[Value]| operands::call_native(name, args).map_err(Fault::Opa),
                strict,
            )?;
        }
    }
    Ok(())
}

/// Whether regorun registers its own `name` (added or replacing regorus's).
fn registered_by_regorun(name: &str, rego_v0: bool) -> bool {
    tables(rego_v0).any(|t| t.0 == name)
        || REPLACED.iter().any(|r| r.0 == name)
        || added::all(rego_v0).iter().any(|a| a.0 == name)
}

/// The built-ins regorun adds from tables (OPA's that regorus lacks).
fn tables(rego_v0: bool) -> impl Iterator<Item = &'static (&'static str, u8, Body)> {
    let v0_only: &[_] = if rego_v0 { net::V0 } else { &[] };
    let v0_regex: &[_] = if rego_v0 { regex::V0 } else { &[] };
    crypto::ALL
        .iter()
        .chain(arrays::ALL)
        .chain(net::ALL)
        .chain(jwt::ALL)
        .chain(regex::ALL)
        .chain(x509::ALL)
        .chain(private_keys::ALL)
        .chain(strings::ALL)
        .chain(providers::ALL)
        .chain(graphql::ALL)
        .chain(rego_ast::ALL)
        .chain(v0_only)
        .chain(v0_regex)
}

/// OPA built-ins that neither regorus nor regorun provides: a call loads (OPA knows the
/// name) and stops the run with "could not find function" when it is evaluated.
const OPA_ONLY: &[&str] = &["uri.is_valid", "uri.parse"];

/// The literal kinds each parameter of built-in `name` accepts and OPA's `want:` text
/// of its type errors ([`signatures::SIGNATURES`], read from OPA's type checker).
pub fn signature(name: &str) -> Option<(&'static [u8], &'static str)> {
    let table = signatures::SIGNATURES;
    table
        .binary_search_by(|(n, _, _)| n.cmp(&name))
        .ok()
        .map(|i| (table[i].1, table[i].2))
}

/// Whether a policy may call `name` as a built-in, and its arity when it is fixed:
/// regorus's own, conftest's, those regorun adds or replaces, OPA's that it lacks
/// ([`OPA_ONLY`]), `print`, and regorun's internal helpers (`__regorun_…`). `None` for a
/// name that is no built-in.
pub fn arity(name: &str, rego_v0: bool) -> Option<Option<u8>> {
    if let Ok(i) = native::NAMES.binary_search_by(|(n, _)| n.cmp(&name)) {
        return Some(Some(native::NAMES[i].1));
    }
    let fixed = match name {
        "parse_config" => Some(2),
        "parse_config_file" | "parse_combined_config_files" => Some(1),
        _ => tables(rego_v0)
            .map(|t| (t.0, t.1))
            .chain(REPLACED.iter().map(|r| (r.0, r.1)))
            .chain(added::all(rego_v0).iter().map(|a| (a.0, a.1)))
            .find(|(n, _)| *n == name)
            .map(|(_, a)| a),
    };
    if fixed.is_some() {
        return Some(fixed);
    }
    let variadic = name == "print" || name.starts_with("__regorun") || OPA_ONLY.contains(&name);
    variadic.then_some(None)
}

/// Registers `body` as the built-in `name`, with OPA's non-strict rule for its faults.
fn add<B>(engine: &mut Engine, name: &'static str, arity: u8, body: B, strict: bool) -> Result<()>
where
    B: Fn(&[Value]) -> Result<Value, Fault> + Clone + Send + Sync + 'static,
{
    engine
        .add_extension(
            name.to_string(),
            arity,
            Box::new(
                move |args: Vec<Value>| match checked(name, &args, strict, &body) {
                    Ok(v) => Ok(v),
                    // regorus names the call site; the text is OPA's, with OPA's error code.
                    Err(Fault::Opa(e)) if strict => {
                        let code = if (e.starts_with("operand ") && e.contains(" must be "))
                            || e.starts_with("operand 2 object contained unknown key")
                            || e.starts_with("both arguments object.subset must be")
                        {
                            "eval_type_error"
                        } else {
                            "eval_builtin_error"
                        };
                        Err(anyhow!("{code}: {name}: {e}"))
                    }
                    Err(Fault::Opa(_)) => Ok(Value::Undefined),
                    Err(Fault::Limit(e)) => Err(anyhow!("{name}: {e}")),
                },
            ),
        )
        .map_err(|e| anyhow!("registering {name}: {e}"))
}

/// `body` on `args`, after OPA's operand checks when built-in errors are strict (they only
/// change the error's text, which non-strict runs do not show).
fn checked<B>(name: &str, args: &[Value], strict: bool, body: &B) -> Result<Value, Fault>
where
    B: Fn(&[Value]) -> Result<Value, Fault>,
{
    if strict {
        if let Some(e) = operands::operand_error(name, args) {
            return Err(Fault::Opa(e));
        }
    }
    body(args)
}

/// Whether any of `files` may make a call of a replaced built-in that the bytecode VM must
/// not make with regorus's version ([`Vm`]), so that only the interpreter may evaluate them.
/// A textual scan: a match inside a comment or string only costs the fast path. An
/// argument naming a constant (`pattern := "..."` at the start of a line, in any file) is
/// read as that constant's literal.
pub fn calls_replaced(files: &[PolicyFile]) -> bool {
    let constants = literal_constants(files);
    files.iter().any(|f| {
        REPLACED.iter().any(|&(name, _, _, vm)| {
            if matches!(vm, Vm::Any | Vm::Strings(_)) {
                return false;
            }
            calls_of(&f.source, name).any(|rest| !match vm {
                Vm::Only(safe) | Vm::Guarded { call: safe, .. } => call_args(&rest[1..])
                    .is_some_and(|args| {
                        let args: Vec<&str> = args
                            .into_iter()
                            .map(|a| constant_value(&constants, a).unwrap_or(a))
                            .collect();
                        safe(&args)
                    }),
                Vm::Text(safe) => safe(&rest[1..]),
                Vm::Resolved(safe) => call_args(&rest[1..]).is_some_and(|args| {
                    safe(&args, &|name| {
                        constant_value(&constants, name).map(str::to_string)
                    })
                }),
                Vm::Any | Vm::Strings(_) => true,
            })
        })
    })
}

/// The text after each call of `name` in `source` (from its `(`): a textual scan.
fn calls_of<'a>(source: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    source.match_indices(name).filter_map(move |(i, _)| {
        let before = source[..i].chars().next_back();
        let rest = source[i + name.len()..].trim_start();
        let is_call = !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && rest.starts_with('(');
        is_call.then_some(rest)
    })
}

/// The checks of the replaced built-ins that `files` call ([`Vm::Strings`],
/// [`Vm::Guarded`]): a string one picks out, in a document or in the data or policies,
/// needs the interpreter.
pub fn vm_string_checks(files: &[PolicyFile]) -> Vec<StringCheck> {
    REPLACED
        .iter()
        .filter_map(|&(name, _, _, vm)| {
            let check = match vm {
                Vm::Strings(check) => StringCheck {
                    source: check,
                    document: check,
                },
                Vm::Guarded {
                    document, source, ..
                } => StringCheck { source, document },
                _ => return None,
            };
            files
                .iter()
                .any(|f| calls_of(&f.source, name).next().is_some())
                .then_some(check)
        })
        .collect()
}

/// The literal of the constant a (dotted) name refers to, when every definition of that
/// name gives the same one.
fn constant_value<'a>(
    constants: &'a std::collections::HashMap<&str, Vec<String>>,
    arg: &str,
) -> Option<&'a str> {
    let is_ref = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    let values = constants.get(arg.rsplit('.').next()?).filter(|_| is_ref)?;
    let first = values.first()?;
    values.iter().all(|v| v == first).then_some(first.as_str())
}

/// The constants whose whole definition is one string literal on one line
/// (`name := "..."`, `` name = `...` ``), by name: every literal each name is given.
fn literal_constants(files: &[PolicyFile]) -> std::collections::HashMap<&str, Vec<String>> {
    let mut out: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for line in files.iter().flat_map(|f| f.source.lines()) {
        let Some((name, value)) = line.split_once(":=").or_else(|| line.split_once('=')) else {
            continue;
        };
        let name = name.trim_end();
        let value = value.trim();
        let is_name = name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        if is_name && literal_text(value).is_some() {
            out.entry(name).or_default().push(value.to_string());
        }
    }
    out
}

/// A string literal's text: `"..."` with its escapes, or a raw `` `...` ``.
fn literal_text(text: &str) -> Option<String> {
    match text.strip_prefix('`') {
        Some(raw) => raw
            .strip_suffix('`')
            .filter(|r| !r.contains('`'))
            .map(str::to_string),
        None => serde_json::from_str(text).ok(),
    }
}

/// The item texts of a literal between `open` and `close` (`[t, "UTC"]`, `{"k": v}`), each
/// trimmed; `None` when the text is no such literal.
fn literal_items(text: &str, open: char, close: char) -> Option<Vec<String>> {
    let inner = text.strip_prefix(open)?.strip_suffix(close)?;
    let closed = format!("{inner})");
    let items = call_args(&closed)?;
    Some(items.into_iter().map(str::to_string).collect())
}

/// The argument texts of a call, up to its closing parenthesis (strings and brackets
/// skipped over), each trimmed; `None` if the call does not close.
fn call_args(text: &str) -> Option<Vec<&str>> {
    let mut args = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                chars.find(|&(_, c)| c == '`')?;
            }
            '(' | '[' | '{' => depth += 1,
            ')' if depth == 0 => {
                args.push(text[start..i].trim());
                return Some(args);
            }
            ')' | ']' | '}' => depth = depth.checked_sub(1)?,
            ',' if depth == 0 => {
                args.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    None
}

/// Go's decoding of an `alphabet`: padding required, the last character's unused bits may
/// be set.
const fn go_encoding(alphabet: &base64::alphabet::Alphabet) -> base64::engine::GeneralPurpose {
    base64::engine::GeneralPurpose::new(
        alphabet,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
    )
}

/// Go's `base64.URLEncoding`.
const URL: base64::engine::GeneralPurpose = go_encoding(&base64::alphabet::URL_SAFE);

/// OPA's `base64url.decode`: padding added where it is missing.
fn base64url(s: &str) -> Result<Vec<u8>, String> {
    let mut padded = s.to_string();
    if !s.ends_with('=') {
        match s.len() % 4 {
            2 => padded.push_str("=="),
            3 => padded.push('='),
            0 => {}
            _ => return Err(format!("illegal base64url string: {s}")),
        }
    }
    base64::Engine::decode(&URL, &padded).map_err(|e| base64_error(e, padded.len()))
}

/// A certificate or key operand as OPA reads it: its own bytes when it starts with
/// `prefix` (PEM), else its standard base64 decoded (which may be PEM or DER).
fn pem_or_base64(text: &str, prefix: &str) -> Result<Vec<u8>, Fault> {
    if text.starts_with(prefix) {
        return Ok(text.as_bytes().to_vec());
    }
    go_base64(text).map_err(Fault::Opa)
}

/// Go's `base64.StdEncoding`.
const STD: base64::engine::GeneralPurpose = go_encoding(&base64::alphabet::STANDARD);

/// Go's `base64.StdEncoding.DecodeString`: line breaks (`\r`, `\n`) anywhere are skipped,
/// padding is required and ends the data, the last character's unused bits may be set.
fn go_base64(text: &str) -> Result<Vec<u8>, String> {
    let clean: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    base64::Engine::decode(&STD, &clean).map_err(|e| base64_error(e, clean.len()))
}

/// Go's text for a base64 decoding error of a `len`-byte input.
fn base64_error(e: base64::DecodeError, len: usize) -> String {
    let at = match e {
        // Go names what follows a quantum ended by padding.
        base64::DecodeError::InvalidByte(at, b'=') if at % 4 >= 2 => (at / 4 + 1) * 4,
        base64::DecodeError::InvalidByte(at, _) | base64::DecodeError::InvalidLastSymbol(at, _) => {
            at
        }
        // Go names the start of the incomplete last quantum.
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => {
            len - len % 4
        }
    };
    format!("illegal base64 data at input byte {at}")
}

/// regorus's own implementation of `name`, for inputs it handles correctly, evaluated in
/// a fresh engine under the panic guard: a panic becomes an error, never a crash.
fn native(name: &str, args: &[Value]) -> Result<Value, String> {
    let params: Vec<String> = (0..args.len()).map(|i| format!("input[{i}]")).collect();
    eval_expr(&format!("{name}({})", params.join(", ")), args)
}

/// The value of the Rego expression `expr` over `input` = `args`, as [`native`].
fn eval_expr(expr: &str, args: &[Value]) -> Result<Value, String> {
    let query = format!("__regorun_x := {expr}");
    crate::engine::guard::catch(|| {
        let mut engine = Engine::new();
        engine.set_strict_builtin_errors(true);
        engine.set_input(Value::from(args.to_vec()));
        let results = engine
            .eval_query(query, false)
            .map_err(|e| first_line(&e.to_string()))?;
        Ok(results
            .result
            .first()
            .and_then(|r| {
                r.bindings
                    .as_object()
                    .ok()?
                    .get(&Value::from("__regorun_x"))
                    .cloned()
            })
            .unwrap_or(Value::Undefined))
    })
    .unwrap_or_else(Err)
}

/// The message of a regorus error without its source excerpt.
fn first_line(raw: &str) -> String {
    raw.lines()
        .rev()
        .find_map(|l| l.trim_start().strip_prefix("error: "))
        .unwrap_or_else(|| raw.trim())
        .to_string()
}

/// OPA's operand type error.
fn operand(pos: usize, want: &str, got: &Value) -> String {
    format!("operand {pos} must be {want} but got {}", type_name(got))
}

/// OPA's name of a value's type.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
    }
}

/// A string operand.
fn string_arg(args: &[Value], pos: usize) -> Result<&str, String> {
    match &args[pos - 1] {
        Value::String(s) => Ok(s),
        other => Err(operand(pos, "string", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The load-time rewrites keep their own list of the replaced names (they sit below
    /// the engine): it must name every replacement but `sprintf` and `opa.runtime`, which
    /// are never undefined where regorus's gave a value.
    #[test]
    fn rewrites_know_every_replacement() {
        let mut here: Vec<&str> = REPLACED
            .iter()
            .map(|r| r.0)
            .filter(|n| !matches!(*n, "sprintf" | "opa.runtime"))
            .collect();
        let mut there = crate::rego::compat::REPLACED_NAMES.to_vec();
        here.sort();
        there.sort();
        assert_eq!(here, there);
    }

    /// Each name of the regorus table is a function regorus knows (an unknown one is
    /// "could not find function"); a made-up one is not known.
    #[test]
    fn regorus_names_are_regorus_builtins() {
        let mut sorted = native::NAMES.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, native::NAMES, "kept sorted for the binary search");
        let unknown: Vec<&str> = native::NAMES
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| {
                native(name, &[])
                    .err()
                    .is_some_and(|e| e.contains("could not find function"))
            })
            .collect();
        assert_eq!(unknown, Vec::<&str>::new());
        assert!(native("no.such.fn", &[])
            .unwrap_err()
            .contains("could not find function"));
        assert_eq!(arity("count", false), Some(Some(1)));
        assert_eq!(arity("io.jwt.decode", false), Some(Some(1)));
        assert_eq!(arity("print", false), Some(None));
        assert_eq!(arity("re_match", true), Some(Some(2)));
        assert_eq!(arity("re_match", false), None);
        assert_eq!(arity("io.jwt.decod", false), None);
    }

    fn file(source: &str) -> PolicyFile {
        PolicyFile {
            path: "p.rego".into(),
            source: source.into(),
        }
    }

    #[test]
    fn finds_calls_of_replaced_builtins() {
        assert!(calls_replaced(&[file("x := strings.count(a, b)")]));
        assert!(calls_replaced(&[file("x := strings.count (a, \"ab\")")]));
        assert!(calls_replaced(&[file("x := numbers.range(1, n)")]));
        assert!(calls_replaced(&[file(
            "x := numbers.range_step(0, 1e9, 1)"
        )]));
        // Calls regorus's version gets right.
        assert!(!calls_replaced(&[file("x := strings.count(b, \"=\")")]));
        assert!(!calls_replaced(&[file("x := numbers.range(1, 800)")]));
        assert!(!calls_replaced(&[file("x := glob.match(p, [], s)")]));
        // glob.match keeps the VM for plain `*` patterns and plain delimiters only.
        assert!(!calls_replaced(&[file(
            "x := glob.match(\"a.*\", [\".\", \"/\"], s)"
        )]));
        assert!(calls_replaced(&[file("x := glob.match(\"a.**\", [], s)")]));
        assert!(calls_replaced(&[file("x := glob.match(p, [\":\"], s)")]));
        assert!(calls_replaced(&[file("x := glob.match(p, d, s)")]));
        let checks = vm_string_checks(&[file("x := glob.match(p, null, s)")]);
        assert!(checks.len() == 1 && (checks[0].document)("a?") && !(checks[0].source)("a?"));
        assert!((checks[0].source)("gcr.io/**") && !(checks[0].document)("kms:*"));
        assert!(!calls_replaced(&[file("x := mystrings.count(a, b)")]));
        assert!(!calls_replaced(&[file("x := strings.counter(a)")]));
        assert!(!calls_replaced(&[file("x := strings.count")]));
        // upper/lower keep the VM; their string check applies to the documents instead.
        assert!(!calls_replaced(&[file("x := upper(s)")]));
        let checks = vm_string_checks(&[file("x := upper(s)\ny := lower (t)")]);
        assert!(
            checks.len() == 2
                && checks
                    .iter()
                    .all(|c| (c.document)("ß") && !(c.document)("ss") && (c.source)("ß"))
        );
        assert!(vm_string_checks(&[file("x := myupper(s)\ny := lower")]).is_empty());
    }

    /// The built-in pack keeps the bytecode VM: its `strings.replace_n` patterns cannot
    /// overlap, its other calls of replaced built-ins are regorus's or routed.
    #[test]
    fn shipped_pack_keeps_the_vm() {
        let files = crate::rego::policy::builtin_pack("kms").unwrap();
        assert!(!calls_replaced(&files));
        let swapped = "x := strings.replace_n({\"a\": \"b\", \"b\": \"a\"}, s)";
        assert!(calls_replaced(&[file(swapped)]));
    }

    /// `time.format` calls the VM may keep: a timestamp, or literal zones and layouts that
    /// regorus prints as Go does.
    #[test]
    fn keeps_time_format_calls_regorus_prints_alike() {
        assert!(!calls_replaced(&[file("x := time.format(time.now_ns())")]));
        assert!(!calls_replaced(&[file(
            "x := time.format([t, \"UTC\", \"2006-01-02\"])"
        )]));
        assert!(!calls_replaced(&[file(
            "x := time.format([t, \"Asia/Tokyo\", `15:04:05.000`])"
        )]));
        assert!(calls_replaced(&[file(
            "x := time.format([t, \"UTC\", \"RFC1123\"])"
        )]));
        assert!(calls_replaced(&[file(
            "x := time.format([t, \"UTC\", \"3:4:5\"])"
        )]));
        assert!(calls_replaced(&[file(
            "x := time.format([t, tz, \"2006\"])"
        )]));
    }

    /// The routed `time.parse_rfc3339_ns` keeps the VM: its guard's pattern reads alike.
    #[test]
    fn guarded_rfc3339_calls_keep_the_vm() {
        let src = "package main\n\nimport rego.v1\n\np if time.parse_rfc3339_ns(input.t) > 0\n";
        let rewritten = crate::rego::compat::rewrite("p.rego", src, false).unwrap();
        assert!(rewritten.contains("regex.match(`^[0-9]{4}-"), "{rewritten}");
        assert!(!calls_replaced(&[file(&rewritten)]));
    }

    /// Regex patterns the VM may keep: literals (or constants) that mean the same in Go
    /// and in the `regex` crate.
    #[test]
    fn keeps_regex_calls_whose_patterns_read_alike() {
        assert!(calls_replaced(&[file("x if regex.match(`^\\d+$`, s)")]));
        assert!(calls_replaced(&[file("x if regex.match(p, s)")]));
        assert!(calls_replaced(&[file("x := regex.split(`,`, s)")]));
        assert!(calls_replaced(&[file(
            "x := regex.replace(s, \"\\\\w\", \"\")"
        )]));
        assert!(!calls_replaced(&[file("x if regex.match(`^[0-9]+$`, s)")]));
        assert!(!calls_replaced(&[file(
            "x := regex.replace(f(a, [1]), `\\[[^\\]]*\\]`, \"\")"
        )]));
        // A constant is read as its literal; differing definitions of a name are not.
        let constant = "p := `^[a-z]+$`\nx if regex.match(data.q.p, s)";
        assert!(!calls_replaced(&[file(constant)]));
        let both = [file(constant), file("p := `\\w`")];
        assert!(calls_replaced(&both));
        assert!(calls_replaced(&[file(
            "p := `[a-z]` + s\nx if regex.match(p, s)"
        )]));
    }

    #[test]
    fn native_calls_survive_panics() {
        let r = native("strings.count", &[Value::from("abc"), Value::from("")]);
        assert!(r.is_err(), "{r:?}");
        let ok = native("upper", &[Value::from("abc")]);
        assert_eq!(ok, Ok(Value::from("ABC")));
    }
}
