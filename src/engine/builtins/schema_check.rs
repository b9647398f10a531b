//! Whether a JSON schema is one OPA accepts, and OPA's message when it is not. OPA reads
//! schemas with its copy of gojsonschema, which checks each keyword's value in a fixed
//! order and stops at the first fault; `json.verify_schema` answers
//! `[false, "jsonschema: <message>"]` with it and `json.match_schema` fails with it. The
//! `jsonschema` crate checks schemas against the draft's meta-schema instead, with other
//! faults and other words, so the checks are made here in gojsonschema's order.

use serde_json::{Map, Value as Json};

/// The draft a schema is read under: gojsonschema's "hybrid" reading unless `$schema`
/// names draft 4, 6 or 7.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Draft {
    Four,
    Six,
    Seven,
    Hybrid,
}

const JSON_TYPES: [&str; 7] = [
    "array", "boolean", "integer", "number", "null", "object", "string",
];

/// gojsonschema's first fault in `schema`, or `None` when OPA accepts it.
pub fn fault(schema: &Json) -> Option<String> {
    if !is_schema_value(schema) {
        // OPA's own check of the document before gojsonschema reads it.
        return Some("schema is invalid".into());
    }
    let draft = match schema.get("$schema").and_then(Json::as_str) {
        Some(s) if s.contains("draft-04") => Draft::Four,
        Some(s) if s.contains("draft-06") => Draft::Six,
        Some(s) if s.contains("draft-07") => Draft::Seven,
        _ => Draft::Hybrid,
    };
    let checker = Checker {
        root: schema,
        draft,
    };
    checker.schema(schema, 0).err()
}

struct Checker<'a> {
    root: &'a Json,
    draft: Draft,
}

type Checked = Result<(), String>;

fn invalid_type(expected: &str, given: &str) -> String {
    format!("Invalid type. Expected: {expected}, given: {given}")
}

/// An integer as gojsonschema reads one: a JSON number with no fraction that fits 64 bits.
fn integer(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            (f.fract() == 0.0 && f.abs() < 9.2e18 && !n.to_string().contains(['.', 'e', 'E']))
                .then_some(f as i64)
        }),
        _ => None,
    }
}

fn string_of<'m>(m: &'m Map<String, Json>, key: &str) -> Result<Option<&'m str>, String> {
    match m.get(key) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid_type("string", key)),
    }
}

fn slice_of<'m>(m: &'m Map<String, Json>, key: &str) -> Result<&'m [Json], String> {
    match m.get(key) {
        None => Ok(&[]),
        Some(Json::Array(items)) => Ok(items),
        Some(_) => Err(format!("{key} must be of an array")),
    }
}

/// A non-negative integer keyword (`minLength`, `maxItems`...).
fn count(m: &Map<String, Json>, key: &str) -> Result<Option<i64>, String> {
    let Some(v) = m.get(key) else {
        return Ok(None);
    };
    let n = integer(v).ok_or_else(|| format!("{key} must be of an integer"))?;
    if n < 0 {
        return Err(format!("{key} must be greater than or equal to 0"));
    }
    Ok(Some(n))
}

fn is_schema_value(v: &Json) -> bool {
    matches!(v, Json::Object(_) | Json::Bool(_))
}

/// Nested schemas deeper than this are not followed (a `$ref` cycle, or a hostile schema).
const MAX_DEPTH: usize = 256;

impl Checker<'_> {
    fn schema(&self, node: &Json, depth: usize) -> Checked {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        let d = depth + 1;
        if self.draft >= Draft::Six && node.is_boolean() {
            return Ok(());
        }
        let Json::Object(m) = node else {
            return Err("Expected: Valid Schema, given: Invalid JSON".into());
        };
        let id_key = match self.draft {
            Draft::Four => "id",
            Draft::Hybrid if m.contains_key("id") => "id",
            _ => "$id",
        };
        string_of(m, id_key)?;
        if let Some(defs) = m.get("definitions") {
            let Json::Object(defs) = defs else {
                return Err(invalid_type("Array Of Schemas", "definitions"));
            };
            for def in defs.values() {
                if !is_schema_value(def) {
                    return Err(invalid_type("Array Of Schemas", "definitions"));
                }
                self.schema(def, d)?;
            }
        }
        string_of(m, "title")?;
        string_of(m, "description")?;
        if let Some(reference) = string_of(m, "$ref")? {
            // Everything else in a schema holding `$ref` is ignored.
            return self.reference(reference, d);
        }
        self.types(m)?;
        if let Some(props) = m.get("properties") {
            let Json::Object(props) = props else {
                return Err("Properties must be of type object".into());
            };
            for p in props.values() {
                self.schema(p, d)?;
            }
        }
        if let Some(v) = m.get("additionalProperties") {
            match v {
                Json::Bool(_) => {}
                Json::Object(_) => self.schema(v, d)?,
                _ => return Err(invalid_type("boolean/Valid Schema", "additionalProperties")),
            }
        }
        if let Some(v) = m.get("patternProperties") {
            let Json::Object(patterns) = v else {
                return Err(invalid_type("Valid Schema", "patternProperties"));
            };
            for (pattern, sub) in patterns {
                if crate::base::goregex::compile(pattern).is_err() {
                    return Err(format!("Invalid regex pattern '{pattern}'"));
                }
                self.schema(sub, d)?;
            }
        }
        if let Some(v) = m.get("propertyNames").filter(|_| self.draft >= Draft::Six) {
            if !is_schema_value(v) {
                return Err(invalid_type("Valid Schema", "patternProperties"));
            }
            self.schema(v, d)?;
        }
        if let Some(v) = m.get("dependencies") {
            self.dependencies(v, d)?;
        }
        if let Some(v) = m.get("items") {
            let wrong = || invalid_type("Valid Schema/Array Of Schemas", "items");
            match v {
                Json::Array(items) => {
                    for item in items {
                        if !is_schema_value(item) {
                            return Err(wrong());
                        }
                        self.schema(item, d)?;
                    }
                }
                Json::Object(_) | Json::Bool(_) => self.schema(v, d)?,
                _ => return Err(wrong()),
            }
        }
        if let Some(v) = m.get("additionalItems") {
            match v {
                Json::Bool(_) => {}
                Json::Object(_) => self.schema(v, d)?,
                _ => return Err(invalid_type("boolean/Valid Schema", "additionalItems")),
            }
        }
        self.numbers(m)?;
        let min_length = count(m, "minLength")?;
        let max_length = count(m, "maxLength")?;
        if let (Some(a), Some(b)) = (min_length, max_length) {
            if a > b {
                return Err("minLength cannot be greater than maxLength".into());
            }
        }
        if let Some(p) = string_of(m, "pattern")? {
            if crate::base::goregex::compile(p).is_err() {
                return Err("pattern must be a valid regex".into());
            }
        }
        string_of(m, "format")?;
        let min_props = count(m, "minProperties")?;
        let max_props = count(m, "maxProperties")?;
        if let (Some(a), Some(b)) = (min_props, max_props) {
            if a > b {
                return Err("minProperties cannot be greater than maxProperties".into());
            }
        }
        let mut required = Vec::new();
        for r in slice_of(m, "required")? {
            let Json::String(r) = r else {
                return Err(invalid_type("string", "required"));
            };
            if required.contains(&r) {
                return Err("required items must be unique".into());
            }
            required.push(r);
        }
        count(m, "minItems")?;
        count(m, "maxItems")?;
        if m.get("uniqueItems").is_some_and(|v| !v.is_boolean()) {
            return Err("uniqueItems must be of a boolean".into());
        }
        if let Some(v) = m.get("contains").filter(|_| self.draft >= Draft::Six) {
            self.schema(v, d)?;
        }
        let mut seen = Vec::new();
        for v in slice_of(m, "enum")? {
            if seen.contains(&v) {
                return Err("enum items must be unique".into());
            }
            seen.push(v);
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            for v in slice_of(m, key)? {
                self.schema(v, d)?;
            }
        }
        let mut subschemas = vec!["not"];
        if self.draft >= Draft::Seven {
            subschemas.extend(["if", "then", "else"]);
        }
        for key in subschemas {
            if let Some(v) = m.get(key) {
                if !is_schema_value(v) {
                    return Err(format!("{key} must be of an object"));
                }
                self.schema(v, d)?;
            }
        }
        Ok(())
    }

    fn types(&self, m: &Map<String, Json>) -> Checked {
        let Some(t) = m.get("type") else {
            return Ok(());
        };
        let wrong = || invalid_type("type", "string/Array Of Strings");
        let names: Vec<&str> = match t {
            Json::String(s) => vec![s.as_str()],
            Json::Array(items) => {
                let mut names = Vec::new();
                for item in items {
                    names.push(item.as_str().ok_or_else(wrong)?);
                }
                names
            }
            _ => return Err(wrong()),
        };
        let mut added: Vec<&str> = Vec::new();
        for name in names {
            if !JSON_TYPES.contains(&name) {
                return Err(format!(
                    "has a primitive type that is NOT VALID -- given: /{name}/ Expected valid values are:[{}]",
                    JSON_TYPES.join(" ")
                ));
            }
            if added.contains(&name) {
                return Err(format!("{name} type is duplicated"));
            }
            added.push(name);
        }
        Ok(())
    }

    fn numbers(&self, m: &Map<String, Json>) -> Checked {
        if let Some(v) = m.get("multipleOf") {
            let n = v
                .as_f64()
                .ok_or_else(|| invalid_type("Number", "multipleOf"))?;
            if n <= 0.0 {
                return Err("multipleOf must be strictly greater than 0".into());
            }
        }
        for (bound, exclusive) in [
            ("minimum", "exclusiveMinimum"),
            ("maximum", "exclusiveMaximum"),
        ] {
            if m.get(bound).is_some_and(|v| !v.is_number()) {
                return Err(format!("{bound} must be of a Number"));
            }
            let Some(v) = m.get(exclusive) else {
                continue;
            };
            let without = || format!("{exclusive} cannot be used without {bound}");
            match (self.draft, v) {
                (Draft::Four, Json::Bool(_)) | (Draft::Hybrid, Json::Bool(_)) => {
                    if !m.contains_key(bound) {
                        return Err(without());
                    }
                }
                (Draft::Four, _) => return Err(invalid_type("boolean", exclusive)),
                (Draft::Hybrid, Json::Number(_)) => {}
                (Draft::Hybrid, _) => return Err(invalid_type("boolean/number", exclusive)),
                (_, Json::Number(_)) => {}
                _ => return Err(invalid_type("number", exclusive)),
            }
        }
        Ok(())
    }

    fn dependencies(&self, v: &Json, depth: usize) -> Checked {
        let Json::Object(deps) = v else {
            return Err("dependencies must be of type object".into());
        };
        let wrong = || "Dependency must be of type Schema Or Array Of Strings".to_string();
        for dep in deps.values() {
            match dep {
                Json::Array(names) => {
                    if names.iter().any(|n| !n.is_string()) {
                        return Err(wrong());
                    }
                }
                Json::Object(_) | Json::Bool(_) => self.schema(dep, depth)?,
                _ => return Err(wrong()),
            }
        }
        Ok(())
    }

    /// A reference within the schema (`#/definitions/x`) must lead to a schema; others
    /// (files, URLs) are not followed here.
    fn reference(&self, reference: &str, depth: usize) -> Checked {
        let Some(pointer) = reference.strip_prefix('#') else {
            return Ok(());
        };
        let mut node = self.root;
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            node = match node {
                Json::Object(m) => m
                    .get(&token)
                    .ok_or_else(|| format!("Object has no key '{token}'"))?,
                Json::Array(items) => {
                    let i: usize = token
                        .parse()
                        .map_err(|_| format!("Invalid array index '{token}'"))?;
                    items.get(i).ok_or_else(|| {
                        format!("Out of bound array[0,{}] index '{i}'", items.len())
                    })?
                }
                _ => return Err(format!("Invalid token reference '{token}'")),
            };
        }
        if !is_schema_value(node) {
            return Err("Valid Schema must be of type object".into());
        }
        self.schema(node, depth)
    }
}

#[cfg(test)]
mod tests {
    use super::fault;
    use serde_json::json;

    /// Texts the OPA peer printed for `json.verify_schema` (after its `jsonschema: `).
    #[test]
    fn faults_are_worded_as_opa_words_them() {
        let cases = [
            (
                json!({"type": "string", "minLength": "x"}),
                "minLength must be of an integer",
            ),
            (
                json!({"type": ["string", 1]}),
                "Invalid type. Expected: type, given: string/Array Of Strings",
            ),
            (json!({"required": "a"}), "required must be of an array"),
            (json!([1]), "schema is invalid"),
            (json!(null), "schema is invalid"),
            (
                json!({"properties": {"a": 1}}),
                "Expected: Valid Schema, given: Invalid JSON",
            ),
            (json!({"maximum": "a"}), "maximum must be of a Number"),
            (
                json!({"minLength": -1}),
                "minLength must be greater than or equal to 0",
            ),
            (
                json!({"properties": 1}),
                "Properties must be of type object",
            ),
            (json!({"pattern": "("}), "pattern must be a valid regex"),
            (
                json!({"items": 1}),
                "Invalid type. Expected: Valid Schema/Array Of Schemas, given: items",
            ),
            (
                json!({"$ref": "#/definitions/x"}),
                "Object has no key 'definitions'",
            ),
            (
                json!({"multipleOf": 0}),
                "multipleOf must be strictly greater than 0",
            ),
            (
                json!({"format": 1}),
                "Invalid type. Expected: string, given: format",
            ),
            (json!({"allOf": {}}), "allOf must be of an array"),
            (json!({"not": 1}), "not must be of an object"),
            (
                json!({"dependencies": {"a": 1}}),
                "Dependency must be of type Schema Or Array Of Strings",
            ),
            (
                json!({"const": 1, "minItems": 1.5}),
                "minItems must be of an integer",
            ),
            (
                json!({"uniqueItems": 1}),
                "uniqueItems must be of a boolean",
            ),
            (
                json!({"exclusiveMinimum": "x"}),
                "Invalid type. Expected: boolean/number, given: exclusiveMinimum",
            ),
            (
                json!({"title": 1}),
                "Invalid type. Expected: string, given: title",
            ),
        ];
        for (schema, want) in cases {
            assert_eq!(fault(&schema).as_deref(), Some(want), "{schema}");
        }
        for schema in [
            json!({"type": "string"}),
            json!({"allOf": []}),
            json!({"enum": []}),
            json!(true),
        ] {
            assert_eq!(fault(&schema), None, "{schema}");
        }
    }
}
