//! Fuzz target: others parsers must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regorun::parser::Parser;

fuzz_target!(|data: &[u8]| {
    let _ = Parser::Edn.parse(data);
    let _ = Parser::Nginx.parse(data);
    let _ = Parser::Hocon.parse(data);
    let _ = Parser::Spdx.parse(data);
    let _ = Parser::Vcl.parse(data);
});
