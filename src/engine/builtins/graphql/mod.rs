//! OPA's `graphql` built-ins. The syntax trees that `graphql.parse*` return are read by
//! [`ast`] in the shape of OPA's parser (gqlparser's Go structures); validation against a
//! schema is the `apollo-compiler` crate's, by the GraphQL specification's rules, with its
//! graphql-js style messages. A syntax tree in place of GraphQL text is printed back
//! to text ([`print`]) and read as that text.

mod ast;
mod print;

use super::{operand, Body, Fault};
use crate::base::value::to_json;
use apollo_compiler::validation::{DiagnosticList, Valid};
use apollo_compiler::{ExecutableDocument, Schema};
use regorus::Value;
use serde_json::Value as Json;

/// Name, arity and body of the `graphql` built-ins regorun adds.
pub const ALL: &[(&str, u8, Body)] = &[
    ("graphql.is_valid", 2, is_valid),
    ("graphql.parse", 2, parse),
    ("graphql.parse_and_verify", 2, parse_and_verify),
    ("graphql.parse_query", 1, parse_query),
    ("graphql.parse_schema", 1, parse_schema),
    ("graphql.schema_is_valid", 1, schema_is_valid),
];

/// GraphQL text, given as text or as a syntax tree (printed by `print`), and the tree
/// when one was given; `None` for another type.
fn source(v: &Value, print: fn(&Json) -> String) -> Option<(String, Option<Json>)> {
    match v {
        Value::String(s) => Some((s.to_string(), None)),
        Value::Object(_) => {
            let tree = ast::prune(to_json(v));
            Some((print(&tree), Some(tree)))
        }
        _ => None,
    }
}

/// Diagnostics as gqlparser prints its error list: a line `input:LINE:COLUMN: message`
/// each, graphql-js's messages (which gqlparser follows).
fn error_list(errors: &DiagnosticList) -> String {
    let mut text = String::new();
    for d in errors.iter() {
        let e = d.unstable_to_json_compat();
        let (line, column) = e.locations.first().map_or((0, 0), |l| (l.line, l.column));
        text.push_str(&format!("input:{line}:{column}: {}\n", e.message));
    }
    text
}

/// OPA's message for an error list: the first position moved to the end.
fn relocated(list: &str) -> String {
    let parts: Vec<&str> = list.splitn(4, ':').collect();
    let [_, line, column, message] = parts[..] else {
        return list.trim_end().to_string();
    };
    let message = message.trim_start_matches(' ');
    let message = message.strip_suffix(".\n").unwrap_or(message);
    format!("{message} in GraphQL string at location {line}:{column}")
}

/// The schema, when it parses and validates; else OPA's message. gqlparser adopts an
/// extension of a type the schema does not define, and asks for no query root type (an
/// empty schema, or one of only `type Foo`, is valid in OPA); apollo-compiler does ask,
/// so one is supplied when the schema names none.
fn schema(sdl: &str) -> Result<Valid<Schema>, String> {
    let build = |text: &str| {
        Schema::builder()
            .adopt_orphan_extensions()
            .parse(text, "schema.graphql")
            .build()
            .and_then(Schema::validate)
            .map_err(Box::new)
    };
    let first = match build(sdl) {
        Ok(s) => return Ok(s),
        Err(e) => e,
    };
    // gqlparser stops at a schema's first error, worded its own way for unknown types.
    let error = || {
        let list = error_list(&first.errors);
        let line = list.lines().next().unwrap_or("input:0:0: invalid schema");
        let line = match line.split_once(": Unknown type \"") {
            Some((at, name)) => format!("{at}: Undefined type {}", name.replacen("\".", ".", 1)),
            None => line.to_string(),
        };
        format!("Error in gqlparser SchemaDocument to Schema conversion: {line}")
    };
    let partial = &first.partial;
    if partial.schema_definition.query.is_some() || partial.types.contains_key("Query") {
        return Err(error());
    }
    build(&format!("{sdl}\ntype Query {{ regorunRoot: Boolean }}\n")).map_err(|_| error())
}

/// The query validated against the schema; else OPA's message.
/// `tree` is the query's syntax tree, already read.
fn validate(schema: &Valid<Schema>, query: &str, tree: &Json) -> Result<(), String> {
    // A document of no definitions is valid in gqlparser; apollo-compiler asks for one.
    if tree.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(());
    }
    match ExecutableDocument::parse_and_validate(schema, query, "query.graphql") {
        Ok(_) => Ok(()),
        Err(e) => Err(relocated(&error_list(&e.errors))),
    }
}

fn to_value(tree: serde_json::Value) -> Result<Value, Fault> {
    crate::base::value::to_rego(tree).map_err(|e| Fault::Opa(e.to_string()))
}

/// `graphql.is_valid(query, schema)`.
fn is_valid(args: &[Value]) -> Result<Value, Fault> {
    let query = source(&args[0], print::query);
    let sdl = source(&args[1], print::schema);
    let (Some((query, _)), Some((sdl, _))) = (query, sdl) else {
        return Ok(Value::from(false));
    };
    let ok = ast::parse_query(&query)
        .is_ok_and(|tree| schema(&sdl).is_ok_and(|s| validate(&s, &query, &tree).is_ok()));
    Ok(Value::from(ok))
}

/// `graphql.schema_is_valid(schema)`.
fn schema_is_valid(args: &[Value]) -> Result<Value, Fault> {
    let Some((sdl, _)) = source(&args[0], print::schema) else {
        return Ok(Value::from(false));
    };
    Ok(Value::from(schema(&sdl).is_ok()))
}

/// `graphql.parse_query(query)`: the query's syntax tree.
fn parse_query(args: &[Value]) -> Result<Value, Fault> {
    let query = super::string_arg(args, 1)?;
    to_value(ast::parse_query(query).map_err(|e| e.to_string())?)
}

/// `graphql.parse_schema(schema)`: the schema's syntax tree.
fn parse_schema(args: &[Value]) -> Result<Value, Fault> {
    let sdl = super::string_arg(args, 1)?;
    to_value(ast::parse_schema(sdl).map_err(|e| e.to_string())?)
}

/// Both syntax trees once the query validates against the schema; OPA's message for the
/// first step that fails.
fn trees(args: &[Value]) -> Result<(Value, Value), Fault> {
    let operand_source = |pos: usize, print| {
        source(&args[pos - 1], print)
            .ok_or_else(|| Fault::Opa(operand(pos, "one of {object, string}", &args[pos - 1])))
    };
    let (query, query_tree) = operand_source(1, print::query)?;
    let query_tree = match query_tree {
        Some(tree) => tree,
        None => ast::parse_query(&query).map_err(|e| e.to_string())?,
    };
    let (sdl, schema_tree) = operand_source(2, print::schema)?;
    let schema_tree = match schema_tree {
        Some(tree) => tree,
        None => ast::parse_schema(&sdl).map_err(|e| e.to_string())?,
    };
    validate(&schema(&sdl)?, &query, &query_tree)?;
    Ok((to_value(query_tree)?, to_value(schema_tree)?))
}

/// `graphql.parse(query, schema)`: `[query tree, schema tree]`.
fn parse(args: &[Value]) -> Result<Value, Fault> {
    let (query, schema) = trees(args)?;
    Ok(Value::from(vec![query, schema]))
}

/// `graphql.parse_and_verify(query, schema)`: `[true, query tree, schema tree]`, or
/// `[false, {}, {}]` when either fails.
fn parse_and_verify(args: &[Value]) -> Result<Value, Fault> {
    match trees(args) {
        Ok((query, schema)) => Ok(Value::from(vec![Value::from(true), query, schema])),
        Err(Fault::Limit(e)) => Err(Fault::Limit(e)),
        Err(Fault::Opa(_)) => {
            let empty = Value::new_object;
            Ok(Value::from(vec![Value::from(false), empty(), empty()]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_without_a_query_root_are_valid_as_in_opa() {
        for sdl in ["", "# only a comment", "type Foo { a: Int }"] {
            assert!(schema(sdl).is_ok(), "{sdl:?}");
        }
        for sdl in [
            "type Foo { a: Nope }",
            "type Query { a: Nope }",
            "type Query {",
        ] {
            assert!(schema(sdl).is_err(), "{sdl:?}");
        }
    }
}
