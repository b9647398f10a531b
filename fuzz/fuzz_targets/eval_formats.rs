//! Fuzz target: jsonnet, cyclonedx and textproto must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regorun::parser::{Context, Parser};

fuzz_target!(|data: &[u8]| {
    let _ = Parser::Jsonnet.parse(data);
    let _ = Parser::CycloneDx.parse(data);
    let dirs = ["../fixtures/parsers/textproto/protos".to_string()];
    let ctx = Context {
        path: None,
        proto_file_dirs: &dirs,
    };
    let _ = Parser::Textproto.parse_with(data, &ctx);
});
