//! `uuid.parse` with Go's variant names: a UUID whose variant bits are `0xx` (the nil UUID
//! among them) is "Reserved" to Google's uuid package, which OPA uses; regorus says "NCS".

use super::{native, Fault};
use regorus::Value;

/// `uuid.parse(text)`.
pub fn parse(args: &[Value]) -> Result<Value, Fault> {
    let parsed = native("uuid.parse", args).map_err(Fault::Opa)?;
    let ncs = Value::from("NCS");
    let mut parsed = parsed;
    if let Ok(fields) = parsed.as_object_mut() {
        let key = Value::from("variant");
        if fields.get(&key) == Some(&ncs) {
            fields.insert(key, Value::from("Reserved"));
        }
    }
    Ok(parsed)
}
