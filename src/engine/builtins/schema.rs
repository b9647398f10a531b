//! `json.match_schema` with OPA's result shape: `[true, []]`, or `[false, errors]` where
//! each error is gojsonschema's `{"desc", "error", "field", "type"}` object (regorus 0.14
//! gives `[false, "<one message>"]` and `[true, null]`, so a policy iterating the errors
//! saw none). Validation is the `jsonschema` crate's; the texts, types and field names
//! are gojsonschema's, which OPA uses.

use super::Fault;
use crate::base::gojson::{self, Indent};
use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
use jsonschema::ValidationError;
use regorus::Value;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// `json.verify_schema(schema)`: `[true, null]`, or `[false, "jsonschema: <message>"]` with
/// OPA's message for the first fault OPA finds in the schema.
pub fn verify_schema(args: &[Value]) -> Result<Value, Fault> {
    let fault = match operand(&args[0]) {
        Ok(schema) => super::schema_check::fault(&schema),
        Err(Fault::Opa(message)) => Some(message),
        Err(limit) => return Err(limit),
    };
    let result = match fault {
        None => serde_json::json!([true, null]),
        Some(message) => serde_json::json!([false, format!("jsonschema: {message}")]),
    };
    crate::base::value::to_rego(result).map_err(|e| Fault::Opa(e.to_string()))
}

/// `json.match_schema(document, schema)`.
pub fn match_schema(args: &[Value]) -> Result<Value, Fault> {
    let document = operand(&args[0])?;
    let schema = operand(&args[1])?;
    if let Some(message) = super::schema_check::fault(&schema) {
        return Err(Fault::Opa(message));
    }
    let validator = compiled(&schema)?;
    let mut found = Vec::new();
    for e in validator.iter_errors(&document) {
        let from = found.len();
        collect(&e, &schema, &mut found);
        combinators(&e, &mut found, from);
    }
    // Parents before children, then gojsonschema's order of checks at one place.
    found.sort_by(|a, b| (a.depth, &a.path, a.rank, a.seq).cmp(&(b.depth, &b.path, b.rank, b.seq)));
    // A combinator's own error once, however many of its errors were found.
    let mut seen = std::collections::HashSet::new();
    found.retain(|f| seen.insert(f.value.to_string()));
    let errors: Vec<Json> = found.into_iter().map(|e| e.value).collect();
    let result = serde_json::json!([errors.is_empty(), errors]);
    crate::base::value::to_rego(result).map_err(|e| Fault::Opa(e.to_string()))
}

/// Compiled schemas by their JSON text, at most [`CACHE_MAX`]: a batch checks every
/// document against the same schema (OPA keeps compiled schemas too).
static COMPILED: std::sync::LazyLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> =
    std::sync::LazyLock::new(Default::default);

const CACHE_MAX: usize = 64;

/// The validator of `schema`, compiled once per distinct schema.
fn compiled(schema: &Json) -> Result<Arc<jsonschema::Validator>, Fault> {
    let key = schema.to_string();
    if let Some(v) = COMPILED.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(v);
    }
    let mut options = jsonschema::options().should_validate_formats(true);
    // gojsonschema reads schemas without `$schema` with every draft's keywords; draft 7
    // is the closest single draft.
    if schema.get("$schema").is_none() {
        options = options.with_draft(jsonschema::Draft::Draft7);
    }
    let validator = Arc::new(options.build(schema).map_err(|e| e.to_string())?);
    if let Ok(mut cache) = COMPILED.lock() {
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, validator.clone());
    }
    Ok(validator)
}

/// A document or schema: an object or array as it is, a string as JSON text.
fn operand(v: &Value) -> Result<Json, Fault> {
    match v {
        Value::String(s) => {
            serde_json::from_str(s).map_err(|_| Fault::Opa("invalid JSON string".to_string()))
        }
        Value::Object(_) | Value::Array(_) => Ok(crate::base::value::to_json(v)),
        _ => Err(Fault::Opa(
            "wrong type, expected string or object".to_string(),
        )),
    }
}

/// One error as OPA reports it, with where it sorts.
struct Found {
    depth: usize,
    path: Vec<String>,
    rank: u8,
    /// Order among errors of one rank at one place: gojsonschema's order of emission.
    seq: usize,
    value: Json,
}

/// gojsonschema's context name: `(Root)`, or the path's segments joined by dots.
fn field(path: &[String]) -> String {
    if path.is_empty() {
        "(Root)".to_string()
    } else {
        path.join(".")
    }
}

fn push(out: &mut Vec<Found>, path: Vec<String>, rank: u8, kind: &str, desc: String) {
    push_owned(out, path, rank, kind.to_string(), desc);
}

fn push_owned(out: &mut Vec<Found>, path: Vec<String>, rank: u8, kind: String, desc: String) {
    let field = field(&path);
    let value = serde_json::json!({
        "desc": desc,
        "error": format!("{field}: {desc}"),
        "field": field,
        "type": kind,
    });
    let seq = out.len() + 1;
    out.push(Found {
        depth: path.len(),
        path,
        rank,
        seq,
        value,
    });
}

/// Go's `json.Marshal` of a value (compact, keys sorted, HTML-safe).
fn marshal(v: &Json) -> String {
    gojson::to_string(v, Indent::Compact)
}

/// A number as Go's `big.Float` prints with `%v`.
fn number(v: &Json) -> String {
    match v.as_f64() {
        Some(f) => crate::base::gofmt::sprintf("%v", &[crate::base::gofmt::Arg::Float(f)]),
        None => v.to_string(),
    }
}

/// gojsonschema's name for the type of `v` (`integer` for a whole number).
fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 => "integer",
            _ => "number",
        },
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Keywords of a schema path that step into a member of the instance.
const DESCENTS: &[&str] = &[
    "properties",
    "patternProperties",
    "additionalProperties",
    "items",
    "prefixItems",
    "additionalItems",
];

/// The instance path of `e`, as segments.
fn instance_path(e: &ValidationError) -> Vec<String> {
    e.instance_path()
        .as_str()
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// gojsonschema's extra errors for an error found under `allOf` (after the merged
/// errors) or under `then`/`else` (before them), at the instance the keyword applies to;
/// the errors from `from` on, found under it at that place, take its rank.
fn combinators(e: &ValidationError, out: &mut Vec<Found>, from: usize) {
    let schema_path: Vec<&str> = e.schema_path().as_str().split('/').skip(1).collect();
    let path = instance_path(e);
    for (k, seg) in schema_path.iter().enumerate() {
        let (rank, kind, desc) = match *seg {
            "allOf" => (3, "number_all_of", "Must validate all the schemas (allOf)"),
            "then" => (
                0,
                "condition_then",
                "Must validate \"then\" as \"if\" was valid",
            ),
            "else" => (
                0,
                "condition_else",
                "Must validate \"else\" as \"if\" was not valid",
            ),
            _ => continue,
        };
        // Keywords named as properties (`properties/allOf`) are not combinators.
        if k > 0 && matches!(schema_path[k - 1], "properties" | "patternProperties") {
            continue;
        }
        let descents = schema_path[k + 1..]
            .iter()
            .filter(|s| DESCENTS.contains(s))
            .count();
        let Some(at) = path.len().checked_sub(descents) else {
            continue;
        };
        let place = path[..at].to_vec();
        for f in &mut out[from..] {
            if f.path == place {
                f.rank = rank;
            }
        }
        push(out, place, rank, kind, desc.to_string());
        let marker = out.len() - 1;
        // `then`/`else` come before their errors, `allOf` after.
        out[marker].seq = if kind == "number_all_of" {
            usize::MAX
        } else {
            0
        };
    }
}

/// The errors of the sub-schema result with the fewest errors (the first of equals), as
/// gojsonschema merges its closest match.
fn closest(context: &[Vec<ValidationError>], schema: &Json, out: &mut Vec<Found>) {
    if let Some(best) = context.iter().min_by_key(|errors| errors.len()) {
        let rank = out.last().map_or(0, |f| f.rank);
        for e in best {
            let from = out.len();
            collect(e, schema, out);
            combinators(e, out, from);
            for f in &mut out[from..] {
                f.rank = f.rank.max(rank);
            }
        }
    }
}

/// The schema node the error's keyword belongs to, when its path leads there plainly.
fn keyword_value<'s>(schema: &'s Json, e: &ValidationError) -> Option<&'s Json> {
    schema.pointer(e.schema_path().as_str())
}

/// The errors of `e` (one crate error can be several of gojsonschema's).
fn collect(e: &ValidationError, schema: &Json, out: &mut Vec<Found>) {
    let path = instance_path(e);
    let at = field(&path);
    let in_dependencies = e
        .schema_path()
        .as_str()
        .split('/')
        .any(|s| s == "dependencies" || s == "dependentRequired");
    let instance = e.instance();
    let (rank, kind, desc) = match e.kind() {
        Kind::Type { kind } => {
            let expected = match keyword_value(schema, e) {
                Some(Json::Array(types)) => format!(
                    "[{}]",
                    types
                        .iter()
                        .filter_map(Json::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                Some(Json::String(t)) => t.clone(),
                _ => match kind {
                    TypeKind::Single(t) => t.to_string(),
                    TypeKind::Multiple(set) => format!(
                        "[{}]",
                        set.iter()
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                },
            };
            let given = type_name(instance);
            (
                0,
                "invalid_type",
                format!("Invalid type. Expected: {expected}, given: {given}"),
            )
        }
        Kind::AnyOf { context } => {
            let desc = "Must validate at least one schema (anyOf)";
            push(out, path.clone(), 1, "number_any_of", desc.into());
            closest(context, schema, out);
            return;
        }
        Kind::OneOfNotValid { context } => {
            let desc = "Must validate one and only one schema (oneOf)";
            push(out, path.clone(), 2, "number_one_of", desc.into());
            closest(context, schema, out);
            return;
        }
        Kind::OneOfMultipleValid { .. } => (
            2,
            "number_one_of",
            "Must validate one and only one schema (oneOf)".into(),
        ),
        Kind::Not { .. } => (3, "number_not", "Must not validate the schema (not)".into()),
        Kind::MinProperties { limit } => (
            4,
            "array_min_properties",
            format!("Must have at least {limit} properties"),
        ),
        Kind::MaxProperties { limit } => (
            4,
            "array_max_properties",
            format!("Must have at most {limit} properties"),
        ),
        Kind::Required { property } => {
            let name = property
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| property.to_string());
            if in_dependencies {
                (
                    3,
                    "missing_dependency",
                    format!("Has a dependency on {name}"),
                )
            } else {
                (5, "required", format!("{name} is required"))
            }
        }
        Kind::AdditionalProperties { unexpected } => {
            let mut names = unexpected.clone();
            names.sort();
            for name in names {
                push(
                    out,
                    path.clone(),
                    6,
                    "additional_property_not_allowed",
                    format!("Additional property {name} is not allowed"),
                );
            }
            return;
        }
        Kind::PropertyNames { error } => {
            // The name's own error follows, at the object.
            let name = error.instance().as_str().unwrap_or_default().to_string();
            let desc = format!("Property name of \"{name}\" does not match");
            push(out, path.clone(), 7, "invalid_property_name", desc);
            let mut inner = Vec::new();
            collect(error, schema, &mut inner);
            for f in inner {
                let text = |k: &str| f.value[k].as_str().unwrap_or_default().to_string();
                let kind = text("type");
                push_owned(out, path.clone(), 7, kind, text("desc"));
            }
            return;
        }
        Kind::AdditionalItems { .. } => (
            4,
            "array_no_additional_items",
            "No additional items allowed on array".into(),
        ),
        Kind::MinItems { limit } => (
            4,
            "array_min_items",
            format!("Array must have at least {limit} items"),
        ),
        Kind::MaxItems { limit } => (
            4,
            "array_max_items",
            format!("Array must have at most {limit} items"),
        ),
        Kind::UniqueItems => {
            // One error per item equal to an earlier one, naming the first occurrence.
            let items = instance.as_array().cloned().unwrap_or_default();
            let texts: Vec<String> = items.iter().map(marshal).collect();
            for (j, t) in texts.iter().enumerate() {
                // OPA names the latest earlier occurrence.
                if let Some(i) = texts[..j].iter().rposition(|s| s == t) {
                    push(
                        out,
                        path.clone(),
                        5,
                        "unique",
                        format!("array items[{i},{j}] must be unique"),
                    );
                }
            }
            return;
        }
        Kind::Contains => {
            let desc = "At least one of the items must match";
            push(out, path.clone(), 6, "contains", desc.into());
            // gojsonschema adds the errors of the item that came closest.
            let sub = keyword_value(schema, e)
                .cloned()
                .unwrap_or(Json::Bool(true));
            let items = instance.as_array().cloned().unwrap_or_default();
            let Ok(v) = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft7)
                .build(&sub)
            else {
                return;
            };
            let mut best: Option<Vec<Found>> = None;
            for (i, item) in items.iter().enumerate() {
                let mut errs = Vec::new();
                for inner in v.iter_errors(item) {
                    collect(&inner, &sub, &mut errs);
                }
                for f in &mut errs {
                    f.path
                        .splice(0..0, path.iter().cloned().chain([i.to_string()]));
                    f.depth = f.path.len();
                    let field = field(&f.path);
                    let desc = f.value["desc"].as_str().unwrap_or_default().to_string();
                    f.value["field"] = Json::from(field.clone());
                    f.value["error"] = Json::from(format!("{field}: {desc}"));
                }
                if best.as_ref().is_none_or(|b| errs.len() < b.len()) {
                    best = Some(errs);
                }
            }
            out.extend(best.unwrap_or_default());
            return;
        }
        Kind::Constant { expected_value } => (
            8,
            "const",
            format!("{at} does not match: {}", marshal(expected_value)),
        ),
        Kind::Enum { options } => {
            let allowed: Vec<String> = options
                .as_array()
                .map(|o| o.iter().map(marshal).collect())
                .unwrap_or_default();
            (
                9,
                "enum",
                format!("{at} must be one of the following: {}", allowed.join(", ")),
            )
        }
        Kind::Format { format } => (10, "format", format!("Does not match format '{format}'")),
        Kind::MultipleOf { multiple_of } => (
            4,
            "multiple_of",
            format!(
                "Must be a multiple of {}",
                number(&serde_json::json!(multiple_of))
            ),
        ),
        Kind::Maximum { limit } => (
            5,
            "number_lte",
            format!("Must be less than or equal to {}", number(limit)),
        ),
        Kind::ExclusiveMaximum { limit } => (
            5,
            "number_lt",
            format!("Must be less than {}", number(limit)),
        ),
        Kind::Minimum { limit } => (
            6,
            "number_gte",
            format!("Must be greater than or equal to {}", number(limit)),
        ),
        Kind::ExclusiveMinimum { limit } => (
            6,
            "number_gt",
            format!("Must be greater than {}", number(limit)),
        ),
        Kind::MinLength { limit } => (
            11,
            "string_gte",
            format!("String length must be greater than or equal to {limit}"),
        ),
        Kind::MaxLength { limit } => (
            11,
            "string_lte",
            format!("String length must be less than or equal to {limit}"),
        ),
        Kind::Pattern { pattern } => (12, "pattern", format!("Does not match pattern '{pattern}'")),
        Kind::FalseSchema => (0, "false", "False always fails validation".into()),
        other => (
            13,
            "internal",
            format!("Internal Error {}", other.keyword()),
        ),
    };
    push(out, path, rank, kind, desc);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(doc: &str, schema: &str) -> String {
        let v = |s: &str| Value::from_json_str(s).unwrap();
        crate::base::value::to_json(&match_schema(&[v(doc), v(schema)]).unwrap()).to_string()
    }

    #[test]
    fn valid_documents_give_an_empty_error_list() {
        assert_eq!(check(r#"{"a": "x"}"#, r#"{"type": "object"}"#), "[true,[]]");
    }

    #[test]
    fn errors_are_gojsonschema_objects() {
        let out = check(
            r#"{"a": 1}"#,
            r#"{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]}"#,
        );
        assert_eq!(
            out,
            r#"[false,[{"desc":"b is required","error":"(Root): b is required","field":"(Root)","type":"required"},{"desc":"Invalid type. Expected: string, given: integer","error":"a: Invalid type. Expected: string, given: integer","field":"a","type":"invalid_type"}]]"#
        );
    }

    #[test]
    fn operands_must_be_json() {
        let v = |s: &str| Value::from_json_str(s).unwrap();
        assert_eq!(
            match_schema(&[Value::from("{"), v("{}")]),
            Err(Fault::Opa("invalid JSON string".to_string()))
        );
        assert_eq!(
            match_schema(&[v("1"), v("{}")]),
            Err(Fault::Opa(
                "wrong type, expected string or object".to_string()
            ))
        );
    }
}
