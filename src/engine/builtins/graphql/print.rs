//! GraphQL text from a syntax tree in the shape `graphql.parse_query` and
//! `graphql.parse_schema` return, so that an AST object given in place of GraphQL text is
//! validated like the text. OPA reads such an object into gqlparser's Go structures,
//! where every selection decodes as a field (gqlparser's decoder tries that type first
//! and it accepts any object); selections are printed as fields here for the same answer.

use serde_json::Value as Json;

fn text<'a>(node: &'a Json, key: &str) -> &'a str {
    node.get(key).and_then(Json::as_str).unwrap_or("")
}

fn list<'a>(node: &'a Json, key: &str) -> &'a [Json] {
    node.get(key)
        .and_then(Json::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A query document's text.
pub fn query(doc: &Json) -> String {
    let mut out = String::new();
    for op in list(doc, "Operations") {
        let kind = match text(op, "Operation") {
            "" => "query",
            other => other,
        };
        out.push_str(&format!(
            "{kind} {}{}{} {}\n",
            text(op, "Name"),
            variables(list(op, "VariableDefinitions")),
            directives(op),
            selections(list(op, "SelectionSet"))
        ));
    }
    for fragment in list(doc, "Fragments") {
        out.push_str(&format!(
            "fragment {}{} on {}{} {}\n",
            text(fragment, "Name"),
            variables(list(fragment, "VariableDefinition")),
            text(fragment, "TypeCondition"),
            directives(fragment),
            selections(list(fragment, "SelectionSet"))
        ));
    }
    out
}

/// `items` joined by `sep` between `open` and `close`; nothing for no items.
fn enclosed<S: AsRef<str>>(items: &[S], open: &str, sep: &str, close: &str) -> String {
    if items.is_empty() {
        return String::new();
    }
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("{open}{}{close}", items.join(sep))
}

fn variables(defs: &[Json]) -> String {
    let items: Vec<String> = defs
        .iter()
        .map(|d| {
            format!(
                "${}: {}{}{}",
                text(d, "Variable"),
                type_ref(d.get("Type")),
                default(d),
                directives(d)
            )
        })
        .collect();
    enclosed(&items, "(", ", ", ")")
}

fn default(node: &Json) -> String {
    node.get("DefaultValue")
        .map(|v| format!(" = {}", value(v)))
        .unwrap_or_default()
}

fn selections(items: &[Json]) -> String {
    let fields: Vec<String> = items.iter().map(field).collect();
    format!("{{ {} }}", fields.join(" "))
}

fn field(f: &Json) -> String {
    let (alias, name) = (text(f, "Alias"), text(f, "Name"));
    let alias = if alias.is_empty() || alias == name {
        String::new()
    } else {
        format!("{alias}: ")
    };
    let nested = match list(f, "SelectionSet") {
        [] => String::new(),
        items => format!(" {}", selections(items)),
    };
    format!(
        "{alias}{name}{}{}{nested}",
        arguments(list(f, "Arguments")),
        directives(f)
    )
}

fn arguments(args: &[Json]) -> String {
    let items: Vec<String> = args
        .iter()
        .map(|a| {
            format!(
                "{}: {}",
                text(a, "Name"),
                value(a.get("Value").unwrap_or(&Json::Null))
            )
        })
        .collect();
    enclosed(&items, "(", ", ", ")")
}

fn directives(node: &Json) -> String {
    list(node, "Directives")
        .iter()
        .map(|d| format!(" @{}{}", text(d, "Name"), arguments(list(d, "Arguments"))))
        .collect()
}

/// A value by gqlparser's kinds: variable, int, float, string, block string, boolean,
/// null, enum, list, object.
fn value(v: &Json) -> String {
    let raw = text(v, "Raw");
    let children = list(v, "Children");
    match v.get("Kind").and_then(Json::as_u64) {
        Some(0) => format!("${raw}"),
        Some(3 | 4) => Json::from(raw).to_string(),
        Some(8) => {
            let items: Vec<String> = children
                .iter()
                .map(|c| value(c.get("Value").unwrap_or(&Json::Null)))
                .collect();
            format!("[{}]", items.join(", "))
        }
        Some(9) => {
            let items: Vec<String> = children
                .iter()
                .map(|c| {
                    format!(
                        "{}: {}",
                        text(c, "Name"),
                        value(c.get("Value").unwrap_or(&Json::Null))
                    )
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        _ => raw.to_string(),
    }
}

fn type_ref(t: Option<&Json>) -> String {
    let Some(t) = t else {
        return String::new();
    };
    let base = match t.get("Elem") {
        Some(elem) => format!("[{}]", type_ref(Some(elem))),
        None => text(t, "NamedType").to_string(),
    };
    let bang = if t.get("NonNull").and_then(Json::as_bool) == Some(true) {
        "!"
    } else {
        ""
    };
    format!("{base}{bang}")
}

fn description(node: &Json) -> String {
    match text(node, "Description") {
        "" => String::new(),
        d => format!("{} ", Json::from(d)),
    }
}

/// A schema document's text.
pub fn schema(doc: &Json) -> String {
    let mut out = String::new();
    for (key, prefix) in [("Schema", ""), ("SchemaExtension", "extend ")] {
        for s in list(doc, key) {
            let ops: Vec<String> = list(s, "OperationTypes")
                .iter()
                .map(|o| format!("{}: {}", text(o, "Operation"), text(o, "Type")))
                .collect();
            let body = enclosed(&ops, " { ", " ", " }");
            out.push_str(&format!(
                "{}{prefix}schema{}{body}\n",
                description(s),
                directives(s)
            ));
        }
    }
    for d in list(doc, "Directives") {
        let locations: Vec<&str> = list(d, "Locations")
            .iter()
            .filter_map(Json::as_str)
            .collect();
        let repeatable = if d.get("IsRepeatable").and_then(Json::as_bool) == Some(true) {
            " repeatable"
        } else {
            ""
        };
        out.push_str(&format!(
            "{}directive @{}{}{repeatable} on {}\n",
            description(d),
            text(d, "Name"),
            input_values(list(d, "Arguments"), "(", ")"),
            locations.join(" | ")
        ));
    }
    for (key, prefix) in [("Definitions", ""), ("Extensions", "extend ")] {
        for d in list(doc, key) {
            let desc = if prefix.is_empty() {
                description(d)
            } else {
                String::new()
            };
            out.push_str(&format!("{desc}{prefix}{}\n", definition(d)));
        }
    }
    out
}

fn definition(d: &Json) -> String {
    let name = text(d, "Name");
    let dirs = directives(d);
    let interfaces: Vec<&str> = list(d, "Interfaces")
        .iter()
        .filter_map(Json::as_str)
        .collect();
    let implements = enclosed(&interfaces, " implements ", " & ", "");
    match text(d, "Kind") {
        "SCALAR" => format!("scalar {name}{dirs}"),
        "UNION" => {
            let types: Vec<&str> = list(d, "Types").iter().filter_map(Json::as_str).collect();
            let members = enclosed(&types, " = ", " | ", "");
            format!("union {name}{dirs}{members}")
        }
        "ENUM" => {
            let values: Vec<String> = list(d, "EnumValues")
                .iter()
                .map(|v| format!("{}{}{}", description(v), text(v, "Name"), directives(v)))
                .collect();
            format!("enum {name}{dirs}{}", enclosed(&values, " { ", " ", " }"))
        }
        "INPUT_OBJECT" => format!(
            "input {name}{dirs}{}",
            input_values(list(d, "Fields"), " {", " }")
        ),
        kind => {
            let keyword = if kind == "INTERFACE" {
                "interface"
            } else {
                "type"
            };
            let fields: Vec<String> = list(d, "Fields")
                .iter()
                .map(|f| {
                    format!(
                        "{}{}{}: {}{}",
                        description(f),
                        text(f, "Name"),
                        input_values(list(f, "Arguments"), "(", ")"),
                        type_ref(f.get("Type")),
                        directives(f)
                    )
                })
                .collect();
            format!(
                "{keyword} {name}{implements}{dirs}{}",
                enclosed(&fields, " { ", " ", " }")
            )
        }
    }
}

/// Argument definitions or input fields, between `open` and `close`.
fn input_values(items: &[Json], open: &str, close: &str) -> String {
    let printed: Vec<String> = items
        .iter()
        .map(|a| {
            format!(
                "{}{}: {}{}{}",
                description(a),
                text(a, "Name"),
                type_ref(a.get("Type")),
                default(a),
                directives(a)
            )
        })
        .collect();
    enclosed(&printed, open, " ", close)
}

#[cfg(test)]
mod tests {
    use super::super::ast;

    #[test]
    fn printed_trees_read_back_the_same() {
        let q = r#"query Q($id: ID! = 1, $l: [String!]) @d(a: [1, 2.5, "s\n", true, null, E, {k: $v}]) { a: user(id: $id) { name @skip(if: false) } }"#;
        let tree = ast::parse_query(q).unwrap();
        assert_eq!(ast::parse_query(&super::query(&tree)).unwrap(), tree);
        let s = r#"schema @x { query: Q } "d" type Q implements A & B @x { f("arg" a: Int = 1 @y): [Int!]! } interface A { a: Int } union U = A | B enum E { "v" X @z Y } input I { a: Int = 2 } scalar S directive @y(a: Int) repeatable on FIELD | OBJECT extend type Q { z: Int } extend schema @w"#;
        let tree = ast::parse_schema(s).unwrap();
        assert_eq!(ast::parse_schema(&super::schema(&tree)).unwrap(), tree);
    }
}
