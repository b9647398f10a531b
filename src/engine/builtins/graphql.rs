//! `graphql.is_valid` and `graphql.schema_is_valid`: OPA answers them with gqlparser; here
//! the `apollo-compiler` crate parses and validates, by the GraphQL specification's rules.
//! OPA's AST-returning `graphql.parse*` are not provided (their values are gqlparser's Go
//! structures), and an AST object in place of GraphQL text is refused with an error.

use super::{Body, Fault};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use regorus::Value;

/// Name, arity and body of the `graphql` built-ins regorun adds.
pub const ALL: &[(&str, u8, Body)] = &[
    ("graphql.is_valid", 2, is_valid),
    ("graphql.schema_is_valid", 1, schema_is_valid),
];

/// GraphQL text; `None` for another scalar (OPA answers `false`).
fn text(v: &Value) -> Result<Option<&str>, Fault> {
    match v {
        Value::String(s) => Ok(Some(s)),
        Value::Object(_) => Err(Fault::Limit(
            "a GraphQL AST object is not supported by regorun: pass the GraphQL text".into(),
        )),
        _ => Ok(None),
    }
}

/// The schema, when it parses and validates. gqlparser asks for no query root type (an
/// empty schema, or one of only `type Foo`, is valid in OPA); apollo-compiler does, so one
/// is supplied when the schema names none.
fn schema(sdl: &str) -> Option<Valid<Schema>> {
    if let Ok(s) = Schema::parse_and_validate(sdl, "schema.graphql") {
        return Some(s);
    }
    let blank = sdl
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if !blank {
        let parsed = Schema::parse(sdl, "schema.graphql").ok()?;
        if parsed.schema_definition.query.is_some() || parsed.types.contains_key("Query") {
            return None;
        }
    }
    let with_root = format!("{sdl}\ntype Query {{ regorunRoot: Boolean }}\n");
    Schema::parse_and_validate(with_root, "schema.graphql").ok()
}

/// `graphql.is_valid(query, schema)`.
fn is_valid(args: &[Value]) -> Result<Value, Fault> {
    let (Some(query), Some(sdl)) = (text(&args[0])?, text(&args[1])?) else {
        return Ok(Value::from(false));
    };
    let ok = schema(sdl).is_some_and(|s| {
        ExecutableDocument::parse_and_validate(&s, query, "query.graphql").is_ok()
    });
    Ok(Value::from(ok))
}

/// `graphql.schema_is_valid(schema)`.
fn schema_is_valid(args: &[Value]) -> Result<Value, Fault> {
    let Some(sdl) = text(&args[0])? else {
        return Ok(Value::from(false));
    };
    Ok(Value::from(schema(sdl).is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_without_a_query_root_are_valid_as_in_opa() {
        for sdl in ["", "# only a comment", "type Foo { a: Int }"] {
            assert!(schema(sdl).is_some(), "{sdl:?}");
        }
        for sdl in [
            "type Foo { a: Nope }",
            "type Query { a: Nope }",
            "type Query {",
        ] {
            assert!(schema(sdl).is_none(), "{sdl:?}");
        }
    }
}
