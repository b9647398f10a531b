//! Fuzz target: dockerfile_ignore parsers must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regorun::parser::Parser;

fuzz_target!(|data: &[u8]| {
    let _ = Parser::Dockerfile.parse(data);
    let _ = Parser::Ignore.parse(data);
});
