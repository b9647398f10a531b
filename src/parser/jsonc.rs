//! JSON with `//` and `/* */` comments (muhammadmuzzammil1998/jsonc): comments outside
//! strings are removed, then the text is decoded as JSON.

use anyhow::{anyhow, Result};
use serde_json::Value;

/// Parses a JSONC document.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let stripped = strip_comments(bytes);
    super::json::parse(&stripped).map_err(|e| {
        let msg = format!("{e:#}");
        anyhow!(
            "unmarshal jsonc: {}",
            msg.strip_prefix("unmarshal json: ").unwrap_or(&msg)
        )
    })
}

/// Blanks out comments, keeping string contents (and byte positions) intact.
pub(crate) fn strip_comments(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if b == b'\\' && i + 1 < bytes.len() {
                out.push(bytes[i + 1]);
                i += 2;
                continue;
            }
            if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match (b, bytes.get(i + 1)) {
            (b'"', _) => {
                in_string = true;
                out.push(b);
                i += 1;
            }
            (b'/', Some(b'/')) => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out.push(b' ');
                    i += 1;
                }
            }
            (b'/', Some(b'*')) => {
                out.extend_from_slice(b"  ");
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    out.push(if bytes[i] == b'\n' { b'\n' } else { b' ' });
                    i += 1;
                }
                if i < bytes.len() {
                    out.extend_from_slice(b"  ");
                    i += 2;
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comments_are_ignored() {
        assert_eq!(
            parse(b"{\n // c\n \"a\": \"//not\", /* b */ \"b\": 1\n}").unwrap(),
            json!({"a": "//not", "b": 1})
        );
        assert!(parse(b"{\"a\": }")
            .unwrap_err()
            .to_string()
            .starts_with("unmarshal jsonc: "));
    }
}
