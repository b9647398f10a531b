//! Fuzz target: config_formats parsers must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regorun::parser::Parser;

fuzz_target!(|data: &[u8]| {
    let _ = Parser::Toml.parse(data);
    let _ = Parser::Ini.parse(data);
    let _ = Parser::Dotenv.parse(data);
    let _ = Parser::Properties.parse(data);
});
