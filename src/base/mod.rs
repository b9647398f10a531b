//! The foundation every other layer shares: terminal colours, Go-compatible strings, JSON,
//! durations and I/O error wording, JSON/regorus value conversion and the result records.
//! It imports nothing else of this crate.

pub mod color;
pub mod fs;
pub mod godur;
pub mod gofmt;
pub mod gojson;
pub mod goregex;
pub mod gostr;
pub mod gotemplate;
pub mod gotime;
pub mod redact;
pub mod result;
pub mod spool;
pub mod value;
