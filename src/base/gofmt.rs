//! Go's `fmt.Sprintf` over the argument types OPA's `sprintf` passes it: `int64`,
//! `*big.Int`, `float64` and `string`. Verbs, flags (`+ - # 0` and space), width and
//! precision, and Go's error texts: `%!d(string=x)` for a wrong type, `%!v(MISSING)`,
//! `%!(EXTRA int64=1)`, `%!(NOVERB)`.

use crate::base::gostr::quote;

/// One argument, as OPA converts a Rego value for Go's `fmt`.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(i64),
    /// A big integer's decimal digits (with its sign).
    Big(String),
    Float(f64),
    Str(String),
    /// A string kind with a `String` method and its own type name (`json.Number`): `%v`
    /// and `%s` print its text, other verbs are wrong-type.
    Named(&'static str, String),
    /// An untyped nil (`%v` is `<nil>`, any other verb `%!s(<nil>)`).
    Nil,
}

impl Arg {
    /// Go's type name in error texts.
    fn type_name(&self) -> &'static str {
        match self {
            Arg::Int(_) => "int64",
            Arg::Big(_) => "*big.Int",
            Arg::Float(_) => "float64",
            Arg::Str(_) => "string",
            Arg::Named(name, _) => name,
            Arg::Nil => "<nil>",
        }
    }

    /// The `%v` text, for error texts.
    fn plain(&self) -> String {
        match self {
            Arg::Int(i) => i.to_string(),
            Arg::Big(b) => b.clone(),
            Arg::Float(f) => float_g(*f, None, false),
            Arg::Str(s) | Arg::Named(_, s) => s.clone(),
            Arg::Nil => "<nil>".into(),
        }
    }
}

/// A verb's flags, width and precision.
#[derive(Default, Clone, Copy)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
    /// `%#v`: strings quoted as Go source.
    go_syntax: bool,
}

/// Go's `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Arg]) -> String {
    let f: Vec<char> = format.chars().collect();
    let mut p = Printer {
        f: &f,
        args,
        i: 0,
        arg: 0,
        reordered: false,
        good_index: true,
    };
    p.run()
}

/// Go's `pp.doPrintf` state: position in the format, next argument, explicit indexes.
struct Printer<'a> {
    f: &'a [char],
    args: &'a [Arg],
    i: usize,
    arg: usize,
    reordered: bool,
    good_index: bool,
}

impl Printer<'_> {
    fn run(&mut self) -> String {
        let mut out = String::new();
        let end = self.f.len();
        while self.i < end {
            let c = self.f[self.i];
            self.i += 1;
            if c != '%' {
                out.push(c);
                continue;
            }
            self.good_index = true;
            let mut spec = Spec::default();
            while let Some(&flag) = self.f.get(self.i) {
                match flag {
                    '+' => spec.plus = true,
                    '-' => spec.minus = true,
                    '#' => spec.sharp = true,
                    '0' => spec.zero = true,
                    ' ' => spec.space = true,
                    _ => break,
                }
                self.i += 1;
            }
            let mut after_index = self.arg_index();
            if self.f.get(self.i) == Some(&'*') {
                self.i += 1;
                match self.int_arg() {
                    Some(w) => {
                        if w < 0 {
                            spec.minus = true;
                        }
                        spec.width = Some(w.unsigned_abs() as usize);
                    }
                    None => out.push_str("%!(BADWIDTH)"),
                }
                after_index = false;
            } else {
                spec.width = self.number();
                if after_index && spec.width.is_some() {
                    self.good_index = false;
                }
            }
            // A `.` that ends the format is the verb, not a precision.
            if self.i + 1 < end && self.f[self.i] == '.' {
                self.i += 1;
                if after_index {
                    self.good_index = false;
                }
                after_index = self.arg_index();
                if self.f.get(self.i) == Some(&'*') {
                    self.i += 1;
                    match self.int_arg() {
                        Some(p) if p >= 0 => spec.prec = Some(p as usize),
                        Some(_) => spec.prec = None,
                        None => out.push_str("%!(BADPREC)"),
                    }
                    after_index = false;
                } else {
                    spec.prec = Some(self.number().unwrap_or(0));
                }
            }
            if !after_index {
                self.arg_index();
            }
            let Some(&verb) = self.f.get(self.i) else {
                out.push_str("%!(NOVERB)");
                break;
            };
            self.i += 1;
            if verb == 'v' {
                // `%+v` and `%#v` are Go's struct-field and Go-syntax forms, not flags.
                spec.plus = false;
                if spec.sharp {
                    spec.sharp = false;
                    spec.go_syntax = true;
                }
            }
            if verb == '%' {
                out.push('%');
            } else if !self.good_index {
                out.push_str(&format!("%!{verb}(BADINDEX)"));
            } else if let Some(arg) = self.args.get(self.arg) {
                self.arg += 1;
                out.push_str(&one(verb, spec, arg));
            } else {
                out.push_str(&format!("%!{verb}(MISSING)"));
            }
        }
        if !self.reordered && self.arg < self.args.len() {
            let extra: Vec<String> = self.args[self.arg..]
                .iter()
                .map(|a| format!("{}={}", a.type_name(), a.plain()))
                .collect();
            out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
        }
        out
    }

    /// Digits at the position, as a number. As Go's `parsenum`, a number past a million
    /// consumes the rest of the format (so `%.999999999f` is `%!(NOVERB)`, never a
    /// gigabyte of zeros).
    fn number(&mut self) -> Option<usize> {
        let mut n: Option<usize> = None;
        while let Some(d) = self.f.get(self.i).and_then(|c| c.to_digit(10)) {
            if n.is_some_and(|n| n > 1_000_000) {
                self.i = self.f.len();
                return None;
            }
            n = Some(n.unwrap_or(0) * 10 + d as usize);
            self.i += 1;
        }
        n
    }

    /// An explicit `[n]` argument index at the position: whether one was read.
    fn arg_index(&mut self) -> bool {
        if self.f.get(self.i) != Some(&'[') {
            return false;
        }
        self.reordered = true;
        let rest = &self.f[self.i..];
        if rest.len() < 3 {
            self.i += 1;
            self.good_index = false;
            return false;
        }
        let Some(close) = rest.iter().position(|&c| c == ']') else {
            self.i += 1;
            self.good_index = false;
            return false;
        };
        let digits: String = rest[1..close].iter().collect();
        self.i += close + 1;
        match digits.parse::<usize>() {
            Ok(n) if n >= 1 && n <= self.args.len() && !digits.starts_with('+') => {
                self.arg = n - 1;
                true
            }
            Ok(_) => {
                self.good_index = false;
                true
            }
            Err(_) => {
                self.good_index = false;
                false
            }
        }
    }

    /// A `*` width or precision: the next argument when it is an integer Go accepts.
    fn int_arg(&mut self) -> Option<i64> {
        let arg = self.args.get(self.arg)?;
        self.arg += 1;
        match arg {
            Arg::Int(n) if n.unsigned_abs() <= 1_000_000 => Some(*n),
            _ => None,
        }
    }
}

/// One verb applied to one argument.
fn one(verb: char, spec: Spec, arg: &Arg) -> String {
    if verb == 'T' {
        return pad(arg.type_name(), spec);
    }
    if verb == 'v' && spec.go_syntax {
        if let Arg::Str(s) = arg {
            return pad(&quote(s), spec);
        }
    }
    // Go prints the value as `%v` under the same flags, width and precision.
    let bad = || format!("%!{verb}({}={})", arg.type_name(), one('v', spec, arg));
    match arg {
        Arg::Nil => match verb {
            'v' => pad("<nil>", spec),
            _ => format!("%!{verb}(<nil>)"),
        },
        Arg::Int(i) => match integer(verb, spec, *i < 0, &i.unsigned_abs().to_string(), *i) {
            Some(s) => s,
            None => bad(),
        },
        Arg::Big(b) => {
            let (neg, digits) = match b.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, b.as_str()),
            };
            // big.Int also prints its digits for %s; it has no %c, %q or %U.
            let verb = if verb == 's' { 'd' } else { verb };
            if matches!(verb, 'c' | 'q' | 'U') {
                return bad();
            }
            integer(verb, spec, neg, digits, 0).unwrap_or_else(bad)
        }
        Arg::Float(f) => match verb {
            'v' | 'g' | 'G' | 'e' | 'E' | 'f' | 'F' | 'x' | 'X' => float(verb, spec, *f),
            _ => bad(),
        },
        Arg::Named(_, s) => match verb {
            'v' | 's' => one(verb, spec, &Arg::Str(s.clone())),
            _ => bad(),
        },
        Arg::Str(s) => match verb {
            'v' | 's' => {
                let s = match spec.prec {
                    Some(p) => s.chars().take(p).collect(),
                    None => s.clone(),
                };
                pad(&s, spec)
            }
            'q' => pad(&quote(s), spec),
            'x' | 'X' => {
                let mut hex = String::new();
                let bytes = match spec.prec {
                    Some(p) => &s.as_bytes()[..p.min(s.len())],
                    None => s.as_bytes(),
                };
                for (n, b) in bytes.iter().enumerate() {
                    if spec.space && n > 0 {
                        hex.push(' ');
                    }
                    if spec.sharp && (spec.space || n == 0) {
                        hex.push_str(if verb == 'x' { "0x" } else { "0X" });
                    }
                    hex.push_str(&if verb == 'x' {
                        format!("{b:02x}")
                    } else {
                        format!("{b:02X}")
                    });
                }
                pad(&hex, spec)
            }
            _ => bad(),
        },
    }
}

/// An integer verb over sign and decimal digits (`value` is the `int64` for `%c`/`%q`/`%U`).
fn integer(verb: char, spec: Spec, neg: bool, digits: &str, value: i64) -> Option<String> {
    let convert = |radix: u32| -> String {
        // Digits of arbitrary length in another base.
        let mut n: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
        let mut out = Vec::new();
        while n.iter().any(|&d| d != 0) {
            let mut rem = 0;
            for d in n.iter_mut() {
                let cur = rem * 10 + *d;
                *d = cur / radix;
                rem = cur % radix;
            }
            out.push(std::char::from_digit(rem, radix).unwrap_or('0'));
        }
        if out.is_empty() {
            out.push('0');
        }
        out.iter().rev().collect()
    };
    let (body, prefix) = match verb {
        'd' | 'v' => (digits.to_string(), ""),
        'b' => (convert(2), if spec.sharp { "0b" } else { "" }),
        'o' => (convert(8), if spec.sharp { "0" } else { "" }),
        'O' => (convert(8), "0o"),
        'x' => (convert(16), if spec.sharp { "0x" } else { "" }),
        'X' => (
            convert(16).to_uppercase(),
            if spec.sharp { "0X" } else { "" },
        ),
        'c' => {
            let c = u32::try_from(value)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}');
            return Some(pad(&c.to_string(), spec));
        }
        'q' => {
            let c = u32::try_from(value)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}');
            let q = quote(&c.to_string());
            let inner = &q[1..q.len() - 1];
            let inner = if inner == "'" {
                "\\'"
            } else if inner == "\\\"" {
                "\""
            } else {
                inner
            };
            return Some(pad(&format!("'{inner}'"), spec));
        }
        'U' => return Some(pad(&format!("U+{value:04X}"), spec)),
        _ => return None,
    };
    let mut body = body;
    if let Some(p) = spec.prec {
        if p == 0 && body == "0" {
            body.clear();
        }
        while body.len() < p {
            body.insert(0, '0');
        }
    }
    let head = format!("{}{prefix}", sign(neg, spec));
    Some(pad_number(&head, &body, spec, spec.prec.is_none()))
}

/// A number's sign: `-`, or what the `+` and space flags ask for a positive one.
fn sign(neg: bool, spec: Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

/// Pads `s` to the width: spaces left, or right with `-`.
fn pad(s: &str, spec: Spec) -> String {
    let len = s.chars().count();
    match spec.width {
        Some(w) if w > len => {
            let fill = if spec.zero && !spec.minus { "0" } else { " " }.repeat(w - len);
            if spec.minus {
                format!("{s}{fill}")
            } else {
                format!("{fill}{s}")
            }
        }
        _ => s.to_string(),
    }
}

/// Pads a number: zeros between sign and digits with `0` (when allowed), else spaces.
fn pad_number(head: &str, body: &str, spec: Spec, zero_ok: bool) -> String {
    let len = head.chars().count() + body.chars().count();
    match spec.width {
        Some(w) if w > len && spec.zero && !spec.minus && zero_ok => {
            format!("{head}{}{body}", "0".repeat(w - len))
        }
        _ => pad(&format!("{head}{body}"), spec),
    }
}

/// A float verb.
fn float(verb: char, spec: Spec, f: f64) -> String {
    let text = if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "Inf" } else { "-Inf" }.to_string()
    } else {
        match verb {
            'e' | 'E' => exp_form(f.abs(), spec.prec.unwrap_or(6), verb == 'E'),
            'f' | 'F' => format!("{:.*}", spec.prec.unwrap_or(6), f.abs()),
            'x' | 'X' => hex_float(f.abs(), verb == 'X'),
            _ => float_g(f.abs(), spec.prec, verb == 'G'),
        }
    };
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b.to_string()),
        None => (f.is_sign_negative() && !f.is_nan(), text),
    };
    pad_number(sign(neg, spec), &body, spec, f.is_finite())
}

/// `%x` of a non-negative finite float: Go's shortest hexadecimal mantissa and a
/// two-digit binary exponent (`3.5` is `0x1.cp+01`).
fn hex_float(f: f64, upper: bool) -> String {
    let (mantissa, exp) = if f == 0.0 {
        (0u64, 0i64)
    } else {
        let bits = f.to_bits();
        let raw_exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        if raw_exp == 0 {
            // Subnormal: shift the fraction up to a leading one.
            let shift = frac.leading_zeros() as i64 - 11;
            ((frac << shift) & ((1u64 << 52) - 1), -1022 - shift)
        } else {
            (frac, raw_exp - 1023)
        }
    };
    let lead = if f == 0.0 { '0' } else { '1' };
    let digits = format!("{mantissa:013x}");
    let digits = digits.trim_end_matches('0');
    let mut out = format!("0x{lead}");
    if !digits.is_empty() {
        out.push('.');
        out.push_str(digits);
    }
    let sign = if exp < 0 { '-' } else { '+' };
    out.push_str(&format!("p{sign}{:02}", exp.abs()));
    if upper {
        out.to_uppercase()
    } else {
        out
    }
}

/// `%e` of a non-negative finite float with `prec` decimals: Go's two-digit exponent.
fn exp_form(f: f64, prec: usize, upper: bool) -> String {
    let s = format!("{:.*e}", prec, f);
    go_exponent(&s, upper)
}

/// Rust's `1.5e3` as Go's `1.5e+03`.
fn go_exponent(s: &str, upper: bool) -> String {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    let e = if upper { 'E' } else { 'e' };
    format!("{mant}{e}{sign}{digits:0>2}")
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest digits, in exponent form
/// when the decimal exponent is below -4 or at least 6 (`1e-05`, `1.2345675e+06`).
pub fn format_g(f: f64) -> String {
    float_g(f, None, false)
}

/// `%g` (and `%v`) of a float: shortest digits without a precision, else `prec`
/// significant digits; exponent form when the exponent is below -4 or at least the
/// precision (6 for the shortest form).
fn float_g(f: f64, prec: Option<usize>, upper: bool) -> String {
    let neg = f.is_sign_negative() && f != 0.0 || f == 0.0 && f.is_sign_negative();
    let a = f.abs();
    // Significant digits and the decimal exponent of the first one.
    let sci = match prec {
        None => format!("{:e}", a),
        Some(p) => format!("{:.*e}", p.max(1) - 1, a),
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let nd = digits.len() as i64;
    let eprec = match prec {
        None => 6,
        Some(p) => {
            let p = p.max(1) as i64;
            if p > nd && nd > exp {
                nd
            } else {
                p
            }
        }
    };
    let body = if exp < -4 || exp >= eprec {
        let m = if nd > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.to_string()
        };
        go_exponent(&format!("{m}e{exp}"), upper)
    } else if exp >= 0 {
        let int_len = (exp + 1) as usize;
        if digits.len() > int_len {
            format!("{}.{}", &digits[..int_len], &digits[int_len..])
        } else {
            format!("{digits}{}", "0".repeat(int_len - digits.len()))
        }
    } else {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(n: i64) -> Arg {
        Arg::Int(n)
    }

    /// Outputs as Go 1.24's fmt (via the OPA peer) printed them.
    #[test]
    fn formats_as_go() {
        let f = Arg::Float;
        let s = |x: &str| Arg::Str(x.into());
        assert_eq!(
            sprintf("%f|%e|%g", &[f(692.0956516265869), f(1234.5), f(0.1)]),
            "692.095652|1.234500e+03|0.1"
        );
        assert_eq!(
            sprintf("%.2f|%5.1f|%-6.2f|", &[f(3.14158), f(2.5), i(1)]),
            "3.14|  2.5|%!f(int64=01    )|"
        );
        assert_eq!(
            sprintf("%d|%5d|%-5d|%05d", &[i(42), i(42), i(42), i(42)]),
            "42|   42|42   |00042"
        );
        assert_eq!(
            sprintf("%x|%X|%o|%b", &[i(255), i(255), i(8), i(5)]),
            "ff|FF|10|101"
        );
        assert_eq!(sprintf("%d", &[s("x")]), "%!d(string=x)");
        assert_eq!(sprintf("%s", &[i(1)]), "%!s(int64=1)");
        assert_eq!(
            sprintf("%.3s|%10s|%-4s|", &[s("abcdef"), s("r"), s("l")]),
            "abc|         r|l   |"
        );
        assert_eq!(sprintf("%v %v", &[i(1)]), "1 %!v(MISSING)");
        assert_eq!(sprintf("%x|%X", &[s("hi"), s("hi")]), "6869|6869");
        assert_eq!(sprintf("%e", &[f(0.000123)]), "1.230000e-04");
        assert_eq!(sprintf("%.0f|%.1f", &[f(2.5), f(0.05)]), "2|0.1");
        assert_eq!(
            sprintf("%8.3f|%+d|% d", &[f(3.14158), i(5), i(5)]),
            "   3.142|+5| 5"
        );
        assert_eq!(sprintf("%%|%c", &[i(65)]), "%|A");
        assert_eq!(
            sprintf("%v|%v", &[f(1234567.5), f(0.00001)]),
            "1.2345675e+06|1e-05"
        );
        assert_eq!(sprintf("%d", &[i(1), i(2)]), "1%!(EXTRA int64=2)");
        assert_eq!(sprintf("%", &[]), "%!(NOVERB)");
        assert_eq!(
            sprintf("%.99999999999f|", &[f(1.0)]),
            "%!(NOVERB)%!(EXTRA float64=1)"
        );
        assert_eq!(
            sprintf("%-6.2f|%5s|%05s", &[i(1), i(7), s("ab")]),
            "%!f(int64=01    )|%!s(int64=    7)|000ab"
        );
        assert_eq!(
            sprintf("%x|%x", &[f(3.5), f(0.1)]),
            "0x1.cp+01|0x1.999999999999ap-04"
        );
    }
}
