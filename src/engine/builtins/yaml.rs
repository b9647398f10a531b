//! `yaml.unmarshal` and `yaml.is_valid` with OPA's YAML reading (go-yaml v2's YAML 1.1:
//! `yes`, `on` and `y` are booleans, `0755` is octal, unknown tags are dropped, only the
//! first document counts), the same reader regorun uses for YAML inputs. regorus reads
//! YAML 1.2, so `[x, y]` kept `"y"` where OPA gives `true`.

use super::{string_arg, Fault};
use regorus::Value;

/// `yaml.unmarshal(text)`.
pub fn unmarshal(args: &[Value]) -> Result<Value, Fault> {
    let text = string_arg(args, 1)?;
    crate::parser::yaml_first_document(text).map_err(|e| Fault::Opa(e.to_string()))
}

/// `yaml.is_valid(text)`: false for a value that is not a string.
pub fn is_valid(args: &[Value]) -> Result<Value, Fault> {
    let valid = match &args[0] {
        Value::String(s) => crate::parser::yaml_first_document(s).is_ok(),
        _ => false,
    };
    Ok(Value::from(valid))
}

/// `yaml.marshal(x)`: OPA's text, which is go-yaml v2's: OPA writes `x` as JSON, reads it
/// back with go-yaml and marshals that. So a string that would read back as another type
/// (`yes`, `1.5`, `2021-01-01`, `1:20`) is double-quoted, one with a line break is a
/// literal block, floats are Go's shortest form (`1e+21`), keys sort in go-yaml's natural
/// order (`2` before `10`), lines fold at 80 columns; a raw NEL folds as YAML reads it.
pub fn marshal(args: &[Value]) -> Result<Value, Fault> {
    if let Some(e) = emit::unreadable(&args[0], &mut 0) {
        return Err(Fault::Opa(e));
    }
    let mut emitter = emit::Emitter::new();
    emitter.document(&args[0])?;
    Ok(Value::from(emitter.finish()?))
}

mod emit {
    use super::super::{order, Fault};
    use libyaml_rs as sys;
    use regorus::Value;
    use std::mem::MaybeUninit;

    /// A libyaml emitter writing into a buffer, set up as go-yaml v2 sets up its own
    /// (libyaml's port): UTF-8, Unicode kept, indent 2, width 80.
    pub struct Emitter {
        // Boxed: libyaml keeps pointers to both.
        sys: Box<MaybeUninit<sys::yaml_emitter_t>>,
        // The `Vec` itself (not only its bytes) must not move: libyaml holds its address.
        #[allow(clippy::box_collection)]
        out: Box<Vec<u8>>,
    }

    /// Appends libyaml's output to the `Vec<u8>` behind `data`.
    unsafe fn write_handler(data: *mut std::ffi::c_void, buffer: *mut u8, size: u64) -> i32 {
        // SAFETY: `data` is the emitter's boxed buffer, alive while the emitter is;
        // libyaml hands a buffer of `size` bytes.
        let out = unsafe { &mut *data.cast::<Vec<u8>>() };
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(buffer, size as usize) });
        1
    }

    fn failed() -> Fault {
        Fault::Opa("yaml: cannot marshal the value".to_string())
    }

    impl Emitter {
        pub fn new() -> Self {
            let mut sys = Box::new(MaybeUninit::<sys::yaml_emitter_t>::uninit());
            let mut out = Box::new(Vec::new());
            // SAFETY: initialise then configure the boxed emitter; the output pointer is
            // the boxed buffer, which lives as long as the emitter.
            unsafe {
                let e = sys.as_mut_ptr();
                if !sys::yaml_emitter_initialize(e).ok {
                    // libyaml fails only when it cannot allocate.
                    std::process::abort();
                }
                sys::yaml_emitter_set_unicode(e, true);
                let data: *mut Vec<u8> = &mut *out;
                sys::yaml_emitter_set_output(e, write_handler, data.cast());
            }
            Emitter { sys, out }
        }

        /// Emits one event built by `init`.
        fn event(
            &mut self,
            init: impl FnOnce(*mut sys::yaml_event_t) -> bool,
        ) -> Result<(), Fault> {
            let mut event = MaybeUninit::<sys::yaml_event_t>::uninit();
            // SAFETY: `init` fills the event; the emitter takes it over (and frees it).
            unsafe {
                if !init(event.as_mut_ptr()) {
                    return Err(failed());
                }
                if !sys::yaml_emitter_emit(self.sys.as_mut_ptr(), event.as_mut_ptr()).ok {
                    return Err(failed());
                }
            }
            Ok(())
        }

        fn scalar(&mut self, text: &str, style: sys::yaml_scalar_style_t) -> Result<(), Fault> {
            let len = i32::try_from(text.len()).map_err(|_| failed())?;
            // SAFETY: libyaml copies the `len` bytes of `text`; no anchor, no tag.
            self.event(|e| unsafe {
                sys::yaml_scalar_event_initialize(
                    e,
                    std::ptr::null(),
                    std::ptr::null(),
                    text.as_ptr(),
                    len,
                    true,
                    true,
                    style,
                )
                .ok
            })
        }

        /// The stream with one document holding `v`.
        pub fn document(&mut self, v: &Value) -> Result<(), Fault> {
            // SAFETY (each event): plain initialisers without pointers but null ones.
            self.event(|e| unsafe {
                sys::yaml_stream_start_event_initialize(e, sys::YAML_UTF8_ENCODING).ok
            })?;
            self.event(|e| unsafe {
                sys::yaml_document_start_event_initialize(
                    e,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    true,
                )
                .ok
            })?;
            self.node(v, 0)?;
            self.event(|e| unsafe { sys::yaml_document_end_event_initialize(e, true).ok })?;
            self.event(|e| unsafe { sys::yaml_stream_end_event_initialize(e).ok })
        }

        fn node(&mut self, v: &Value, depth: usize) -> Result<(), Fault> {
            // Deeper than any document regorun reads: the stack is the limit.
            if depth > 1000 {
                return Err(Fault::Limit(
                    "value nested too deeply to marshal".to_string(),
                ));
            }
            match v {
                Value::Null => self.scalar("null", sys::YAML_PLAIN_SCALAR_STYLE),
                Value::Bool(b) => self.scalar(&b.to_string(), sys::YAML_PLAIN_SCALAR_STYLE),
                Value::Number(n) => {
                    // go-yaml reads an integer that fits 64 bits (signed, or unsigned) as
                    // one; anything else is a float in Go's shortest form.
                    let digits = n.format_decimal();
                    let int = n
                        .is_integer()
                        .then(|| digits.parse::<i64>().map(|i| i.to_string()))
                        .and_then(|i| {
                            i.or_else(|_| digits.parse::<u64>().map(|u| u.to_string()))
                                .ok()
                        });
                    let text = match (int, n.as_f64()) {
                        // A float zero keeps its sign (`-0.0` is Go's `-0`).
                        (_, Some(f)) if f == 0.0 && f.is_sign_negative() => "-0".to_string(),
                        (Some(int), _) => int,
                        (None, Some(f)) => crate::base::gofmt::format_g(f),
                        (None, None) => digits,
                    };
                    self.scalar(&text, sys::YAML_PLAIN_SCALAR_STYLE)
                }
                Value::String(s) => self.string(s),
                Value::Array(items) => self.sequence(items.iter(), depth),
                Value::Set(items) => self.sequence(order::sorted(items.iter()).into_iter(), depth),
                Value::Object(fields) => {
                    let mut entries = Vec::with_capacity(fields.len());
                    for (k, v) in fields.iter() {
                        entries.push((read_back(&key_text(k))?, v));
                    }
                    entries.sort_by(|a, b| natural_order(&a.0, &b.0));
                    // SAFETY: no anchor, no tag.
                    self.event(|e| unsafe {
                        sys::yaml_mapping_start_event_initialize(
                            e,
                            std::ptr::null(),
                            std::ptr::null(),
                            true,
                            sys::YAML_ANY_MAPPING_STYLE,
                        )
                        .ok
                    })?;
                    for (k, v) in entries {
                        self.string_text(&k)?;
                        self.node(v, depth + 1)?;
                    }
                    self.event(|e| unsafe { sys::yaml_mapping_end_event_initialize(e).ok })
                }
                Value::Undefined => Err(failed()),
            }
        }

        fn sequence<'a>(
            &mut self,
            items: impl Iterator<Item = &'a Value>,
            depth: usize,
        ) -> Result<(), Fault> {
            // SAFETY: no anchor, no tag.
            self.event(|e| unsafe {
                sys::yaml_sequence_start_event_initialize(
                    e,
                    std::ptr::null(),
                    std::ptr::null(),
                    true,
                    sys::YAML_ANY_SEQUENCE_STYLE,
                )
                .ok
            })?;
            for item in items {
                self.node(item, depth + 1)?;
            }
            self.event(|e| unsafe { sys::yaml_sequence_end_event_initialize(e).ok })
        }

        fn string(&mut self, s: &str) -> Result<(), Fault> {
            self.string_text(&read_back(s)?)
        }

        /// go-yaml's `stringv`: a literal block for a line break, plain when the text
        /// reads back as itself, else double quotes; libyaml may still pick quotes
        /// for text plain cannot hold.
        fn string_text(&mut self, s: &str) -> Result<(), Fault> {
            let style = if s.contains('\n') {
                sys::YAML_LITERAL_SCALAR_STYLE
            } else if crate::parser::yaml_plain_is_string(s) && !base60_float(s) {
                sys::YAML_PLAIN_SCALAR_STYLE
            } else {
                sys::YAML_DOUBLE_QUOTED_SCALAR_STYLE
            };
            self.scalar(s, style)
        }

        pub fn finish(mut self) -> Result<String, Fault> {
            // SAFETY: flush the emitter's buffer into `out`.
            unsafe {
                if !sys::yaml_emitter_flush(self.sys.as_mut_ptr()).ok {
                    return Err(failed());
                }
            }
            let mut out = std::mem::take(&mut *self.out);
            // libyaml ends a stream whose last block keeps its trailing newlines (`|+`)
            // with `...`; go-yaml's older port does not.
            if out.ends_with(b"\n...\n") {
                out.truncate(out.len() - 4);
            }
            let mut out = String::from_utf8(out).map_err(|_| failed())?;
            // libyaml indents after a line or paragraph separator that ends a
            // single-quoted scalar; go-yaml's port closes the quote at once.
            for sep in ['\u{2028}', '\u{2029}'] {
                if out.contains(sep) {
                    out = close_after_break(&out, sep);
                }
            }
            Ok(out)
        }
    }

    /// `sep`, spaces, then a `'` closing a single-quoted scalar (the end, a line's end or
    /// a key's `:` after it): the spaces dropped.
    fn close_after_break(out: &str, sep: char) -> String {
        let mut result = String::with_capacity(out.len());
        let mut rest = out;
        while let Some(i) = rest.find(sep) {
            let after = i + sep.len_utf8();
            result.push_str(&rest[..after]);
            rest = &rest[after..];
            let spaces = rest.len() - rest.trim_start_matches(' ').len();
            let quote = &rest[spaces..];
            // The closing quote ends a line, the text or a key (a literal block's line
            // holding `'` after the separator is left alone).
            let closing = quote.strip_prefix('\'').is_some_and(|after| {
                after.is_empty()
                    || after.starts_with('\n')
                    || after.starts_with(": ")
                    || after.starts_with(":\n")
            });
            if spaces > 0 && closing {
                rest = quote;
            }
        }
        result.push_str(rest);
        result
    }

    impl Drop for Emitter {
        fn drop(&mut self) {
            // SAFETY: the emitter was initialised in `new`.
            unsafe { sys::yaml_emitter_delete(self.sys.as_mut_ptr()) }
        }
    }

    /// What go-yaml cannot read back from OPA's JSON text, where a NEL is a raw line
    /// break: a key holding one (a key in a flow mapping is one line; go-yaml names the
    /// 0-based line of the `:` after it) or one followed by `---` or `...` and a blank (a
    /// document marker; the 1-based line). `nels` counts the NELs before, in Go's JSON
    /// order (keys sorted).
    pub fn unreadable(v: &Value, nels: &mut usize) -> Option<String> {
        let text = |s: &str, nels: &mut usize| -> Option<String> {
            let mut rest = s;
            while let Some(i) = rest.find('\u{85}') {
                *nels += 1;
                rest = &rest[i + 2..];
                // The marker is ASCII, so byte 3 is a character boundary after it.
                let marker = rest.starts_with("---") || rest.starts_with("...");
                // Blanks raw in the JSON text: Go escapes tabs and the other breaks.
                let blank = |r: &str| r.starts_with([' ', '\u{85}']);
                if marker && blank(&rest[3..]) {
                    return Some(format!(
                        "yaml: line {}: found unexpected document indicator",
                        *nels + 1
                    ));
                }
            }
            None
        };
        match v {
            Value::String(s) => return text(s, nels),
            Value::Array(items) => return items.iter().find_map(|x| unreadable(x, nels)),
            Value::Set(items) => {
                return order::sorted(items.iter())
                    .into_iter()
                    .find_map(|x| unreadable(x, nels))
            }
            Value::Object(fields) => {
                let mut entries: Vec<_> = fields.iter().map(|(k, x)| (key_text(k), x)).collect();
                entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                for (k, x) in entries {
                    let before = *nels;
                    if let Some(e) = text(&k, nels) {
                        return Some(e);
                    }
                    if *nels > before {
                        return Some(format!(
                            "yaml: line {}: did not find expected ',' or '}}'",
                            *nels
                        ));
                    }
                    if let Some(e) = unreadable(x, nels) {
                        return Some(e);
                    }
                }
            }
            _ => {}
        }
        None
    }

    /// An object key as OPA writes it in JSON: a string as it is, any other value as its
    /// compact JSON text (`1`, `[1,"x"]`, `null`).
    fn key_text(k: &Value) -> String {
        match k {
            Value::String(s) => s.to_string(),
            other => crate::base::gojson::to_string(
                &crate::base::value::to_json(other),
                crate::base::gojson::Indent::Compact,
            ),
        }
    }

    /// A string as go-yaml reads it back from OPA's JSON text: Go's JSON writer leaves
    /// NEL (U+0085) raw, and YAML folds a raw line break in a quoted scalar (one between
    /// text is a space, each further one a newline, spaces around them dropped; a tab is
    /// written `\t` in JSON, so it stays).
    /// A character Go's JSON writer leaves raw (from U+0020 on) that go-yaml's reader
    /// refuses (DEL, C1 controls, U+FFFE, U+FFFF) is OPA's error.
    fn read_back(s: &str) -> Result<String, Fault> {
        if s.chars()
            .any(|c| c >= ' ' && !crate::parser::yaml_allowed_char(c))
        {
            return Err(Fault::Opa(
                "yaml: control characters are not allowed".to_string(),
            ));
        }
        if !s.contains('\u{85}') {
            return Ok(s.to_string());
        }
        let mut out = String::with_capacity(s.len());
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\u{85}' {
                out.push(c);
                continue;
            }
            while out.ends_with(' ') {
                out.pop();
            }
            let mut breaks = 1;
            while let Some(&n) = chars.peek() {
                match n {
                    ' ' => {}
                    '\u{85}' => breaks += 1,
                    _ => break,
                }
                chars.next();
            }
            if breaks == 1 {
                out.push(' ');
            } else {
                out.push_str(&"\n".repeat(breaks - 1));
            }
        }
        Ok(out)
    }

    /// go-yaml's `isBase60Float`: `1:20`, `-12:30:45.5`, still quoted for YAML 1.1 readers.
    fn base60_float(s: &str) -> bool {
        static BASE60: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
                .expect("a valid expression")
        });
        // go-yaml's fast path: most strings have no `:`.
        s.contains(':') && BASE60.is_match(s)
    }

    /// go-yaml v2's key order for strings: by character, letters before others, runs
    /// of digits by their number (`a2` before `a10`).
    fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let less = |a: &[char], b: &[char]| -> bool {
            for i in 0..a.len().min(b.len()) {
                if a[i] == b[i] {
                    continue;
                }
                let (al, bl) = (a[i].is_alphabetic(), b[i].is_alphabetic());
                if al && bl {
                    return a[i] < b[i];
                }
                if al || bl {
                    return bl;
                }
                let (mut an, mut bn) = (0i64, 0i64);
                if a[i] == '0' || b[i] == '0' {
                    // A zero inside a number (after a non-zero digit) counts as digits.
                    if a[..i]
                        .iter()
                        .rev()
                        .take_while(|c| c.is_ascii_digit())
                        .any(|&c| c != '0')
                    {
                        an = 1;
                        bn = 1;
                    }
                }
                let mut ai = i;
                while ai < a.len() && a[ai].is_ascii_digit() {
                    an = an
                        .wrapping_mul(10)
                        .wrapping_add(i64::from(a[ai] as u8 - b'0'));
                    ai += 1;
                }
                let mut bi = i;
                while bi < b.len() && b[bi].is_ascii_digit() {
                    bn = bn
                        .wrapping_mul(10)
                        .wrapping_add(i64::from(b[bi] as u8 - b'0'));
                    bi += 1;
                }
                if an != bn {
                    return an < bn;
                }
                if ai != bi {
                    return ai < bi;
                }
                return a[i] < b[i];
            }
            a.len() < b.len()
        };
        if a == b {
            return Ordering::Equal;
        }
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        if less(&a, &b) {
            Ordering::Less
        } else {
            Ordering::Greater
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(v: serde_json::Value) -> String {
        let v = crate::base::value::to_rego(v).unwrap();
        match marshal(&[v]) {
            Ok(Value::String(s)) => s.to_string(),
            other => panic!("{other:?}"),
        }
    }

    /// The values below are the OPA peer's.
    #[test]
    fn marshals_as_go_yaml_v2() {
        use serde_json::json;
        assert_eq!(
            yaml(json!({"10": 1, "2": 2, "a10": 3, "a2": 4, "B": 5, "": 6})),
            "\"\": 6\n\"2\": 2\n\"10\": 1\nB: 5\na2: 4\na10: 3\n"
        );
        assert_eq!(
            yaml(json!([
                "yes",
                "1:20",
                "12:30:45.5",
                "2021-1-2 3:4:5",
                "1.2.3",
                "<<"
            ])),
            "- \"yes\"\n- \"1:20\"\n- \"12:30:45.5\"\n- \"2021-1-2 3:4:5\"\n- 1.2.3\n- <<\n"
        );
        assert_eq!(
            yaml(json!([1e21, 1e-5, 1234567.5, 100000.5, -0.0])),
            "- 1e+21\n- 1e-05\n- 1.2345675e+06\n- 100000.5\n- -0\n"
        );
        assert_eq!(yaml(json!("keep\n\n")), "|+\n  keep\n\n");
        assert_eq!(yaml(json!("a \u{85} \u{85} b")), "|-\n  a\n  b\n");
    }
}
