//! Parsers conftest has but regorun cannot reproduce faithfully. Each fails with a clear
//! message naming the parser rather than handing policies a document of the wrong shape.

use anyhow::{bail, Result};

/// Fails with the reason the named parser is missing.
pub fn parse(name: &str) -> Result<serde_json::Value> {
    let why = match name {
        "cue" => "no Rust implementation of CUE exists",
        "groovy" => {
            "no Rust implementation of the Groovy 2.4 concrete syntax tree conftest emits exists"
        }
        _ => "it is not implemented",
    };
    bail!("the {name} parser is not available in regorun: {why}")
}
