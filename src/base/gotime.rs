//! Go's `time.Time.Format` for OPA's `time.format`: the layout's reference-time chunks
//! (`2006`, `Jan`, `15`, `.000`, `MST`, `Z07:00`...) as Go's `nextStdChunk` reads them,
//! in a time zone of the IANA database, with its abbreviation (`EST`, `CET`, `-03`).

use chrono::{DateTime, Datelike, Offset, Timelike, Utc};
use chrono_tz::{OffsetName, Tz};

/// Go's layout constants that OPA accepts by name.
const NAMED: [(&str, &str); 10] = [
    ("ANSIC", "Mon Jan _2 15:04:05 2006"),
    ("UnixDate", "Mon Jan _2 15:04:05 MST 2006"),
    ("RubyDate", "Mon Jan 02 15:04:05 -0700 2006"),
    ("RFC822", "02 Jan 06 15:04 MST"),
    ("RFC822Z", "02 Jan 06 15:04 -0700"),
    ("RFC850", "Monday, 02-Jan-06 15:04:05 MST"),
    ("RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"),
    ("RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"),
    ("RFC3339", "2006-01-02T15:04:05Z07:00"),
    ("RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00"),
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// One chunk of a layout.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    Pm,
    PmLower,
    Tz,
    /// `Z07:00` forms print `Z` for UTC; then colon, minutes, seconds as the `-07:00` forms.
    NumTz {
        iso: bool,
        colon: bool,
        minutes: bool,
        seconds: bool,
    },
    /// `.000` (zeros kept) or `.999` (trailing zeros dropped), with its separator.
    Frac {
        digits: usize,
        trim: bool,
        sep: char,
    },
}

/// Go's `nextStdChunk`: the literal text before the next chunk, the chunk, and the rest.
fn next_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize, s: &str| layout.get(i..).is_some_and(|r| r.starts_with(s));
    let lower_at = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_lowercase());
    let digit_at = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_digit());
    let tz = |iso, colon, minutes, seconds| Std::NumTz {
        iso,
        colon,
        minutes,
        seconds,
    };
    for i in 0..b.len() {
        let found: Option<(Std, usize)> = match b[i] {
            b'J' if at(i, "January") => Some((Std::LongMonth, 7)),
            b'J' if at(i, "Jan") && !lower_at(i + 3) => Some((Std::Month, 3)),
            b'M' if at(i, "Monday") => Some((Std::LongWeekDay, 6)),
            b'M' if at(i, "Mon") && !lower_at(i + 3) => Some((Std::WeekDay, 3)),
            b'M' if at(i, "MST") => Some((Std::Tz, 3)),
            b'0' if b.get(i + 1).is_some_and(|c| (b'1'..=b'6').contains(c)) => {
                let std = [
                    Std::ZeroMonth,
                    Std::ZeroDay,
                    Std::ZeroHour12,
                    Std::ZeroMinute,
                    Std::ZeroSecond,
                    Std::Year,
                ][usize::from(b[i + 1] - b'1')];
                Some((std, 2))
            }
            b'0' if at(i, "002") => Some((Std::ZeroYearDay, 3)),
            b'1' if at(i, "15") => Some((Std::Hour, 2)),
            b'1' => Some((Std::NumMonth, 1)),
            b'2' if at(i, "2006") => Some((Std::LongYear, 4)),
            b'2' => Some((Std::Day, 1)),
            // `_2006` is a literal `_` and the year.
            b'_' if at(i, "_2006") => {
                return (&layout[..=i], Some(Std::LongYear), &layout[i + 5..])
            }
            b'_' if at(i, "_2") => Some((Std::UnderDay, 2)),
            b'_' if at(i, "__2") => Some((Std::UnderYearDay, 3)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if at(i, "PM") => Some((Std::Pm, 2)),
            b'p' if at(i, "pm") => Some((Std::PmLower, 2)),
            b'-' if at(i, "-070000") => Some((tz(false, false, true, true), 7)),
            b'-' if at(i, "-07:00:00") => Some((tz(false, true, true, true), 9)),
            b'-' if at(i, "-0700") => Some((tz(false, false, true, false), 5)),
            b'-' if at(i, "-07:00") => Some((tz(false, true, true, false), 6)),
            b'-' if at(i, "-07") => Some((tz(false, false, false, false), 3)),
            b'Z' if at(i, "Z070000") => Some((tz(true, false, true, true), 7)),
            b'Z' if at(i, "Z07:00:00") => Some((tz(true, true, true, true), 9)),
            b'Z' if at(i, "Z0700") => Some((tz(true, false, true, false), 5)),
            b'Z' if at(i, "Z07:00") => Some((tz(true, true, true, false), 6)),
            b'Z' if at(i, "Z07") => Some((tz(true, false, false, false), 3)),
            c @ (b'.' | b',') if matches!(b.get(i + 1), Some(b'0' | b'9')) => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while b.get(j) == Some(&ch) {
                    j += 1;
                }
                // Only a run of digits that ends here is a fraction.
                (!digit_at(j)).then_some((
                    Std::Frac {
                        digits: j - i - 1,
                        trim: ch == b'9',
                        sep: char::from(c),
                    },
                    j - i,
                ))
            }
            _ => None,
        };
        if let Some((std, len)) = found {
            return (&layout[..i], Some(std), &layout[i + len..]);
        }
    }
    (layout, None, "")
}

/// The zone OPA gives `[ns, tz]`: UTC for `""` and `"UTC"`, the process's zone for
/// `"Local"` ([`local_zone`]), else the IANA zone of that name, or Go's error.
fn zone(name: &str) -> Result<Option<Tz>, String> {
    match name {
        "" | "UTC" => Ok(None),
        "Local" => Ok(local_zone()),
        other => other
            .parse::<Tz>()
            .map(Some)
            .map_err(|_| format!("unknown time zone {other}")),
    }
}

/// Go's `time.Local`: `$TZ` when set (empty or unknown is UTC, a leading `:` and a path
/// into a zoneinfo folder are read as Go reads them), else the zone `/etc/localtime`
/// links to; `None` for UTC.
fn local_zone() -> Option<Tz> {
    static LOCAL: std::sync::OnceLock<Option<Tz>> = std::sync::OnceLock::new();
    *LOCAL.get_or_init(|| {
        let name = match std::env::var("TZ") {
            Ok(tz) => tz.trim_start_matches(':').to_string(),
            Err(_) => std::fs::read_link("/etc/localtime")
                .ok()?
                .to_string_lossy()
                .into_owned(),
        };
        let name = name
            .rsplit_once("zoneinfo/")
            .map_or(name.as_str(), |(_, n)| n);
        name.parse::<Tz>()
            .ok()
            .filter(|tz| *tz != Tz::UTC && *tz != Tz::Etc__UTC)
    })
}

/// The zone abbreviation of a `time.parse_ns` value, when the layout has one `MST` chunk:
/// the one word of the value Go's `parseTimeZone` accepts (three to five capitals, a four-
/// or five-letter one ending in `T`, `WITA`, `ChST`, `MeST`) that is not a month or weekday
/// name; `UTC` and `GMT` forms are left out (both parsers read them as UTC).
#[derive(Debug, PartialEq)]
pub enum Abbreviation {
    /// Its byte range, and whether the layout also has a numeric zone (which then sets the
    /// offset, as in Go).
    At(usize, usize, bool),
    /// No such word, but one of the US names regorus reads in any case (`pst`) starts at
    /// this byte: Go cannot parse it.
    NotCapitals(usize),
}

/// The zone names regorus's `time.parse_ns` reads in any case, with US offsets.
const US_ZONES: [&str; 8] = ["EDT", "EST", "CDT", "CST", "MDT", "MST", "PDT", "PST"];

/// The [`Abbreviation`] of `value` read with `layout`.
pub fn zone_abbreviation(layout: &str, value: &str) -> Option<Abbreviation> {
    let (mut names, mut numeric, mut rest) = (0, false, layout);
    while !rest.is_empty() {
        let (_, std, after) = next_chunk(rest);
        match std {
            Some(Std::Tz) => names += 1,
            Some(Std::NumTz { .. }) => numeric = true,
            _ => {}
        }
        rest = after;
    }
    if names != 1 {
        return None;
    }
    let b = value.as_bytes();
    let (mut found, mut lower) = (None, None);
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let word = &value[start..i];
        let capitals = word.bytes().all(|c| c.is_ascii_uppercase());
        let zone_like = match word.len() {
            3 => capitals,
            4 => {
                capitals && (word.ends_with('T') || word == "WITA")
                    || matches!(word, "ChST" | "MeST")
            }
            5 => capitals && word.ends_with('T'),
            _ => false,
        };
        let named = MONTHS
            .iter()
            .chain(DAYS.iter())
            .any(|n| n.eq_ignore_ascii_case(word) || n[..3].eq_ignore_ascii_case(word));
        if zone_like && !named && !matches!(word, "UTC" | "GMT") {
            if found.is_some() {
                return None;
            }
            found = Some((start, i));
        } else if !capitals && US_ZONES.iter().any(|z| z.eq_ignore_ascii_case(word)) {
            lower = lower.or(Some(start));
        }
    }
    match (found, lower) {
        (Some((s, e)), _) => Some(Abbreviation::At(s, e, numeric)),
        (None, Some(s)) => Some(Abbreviation::NotCapitals(s)),
        (None, None) => None,
    }
}

/// The offset (seconds east of UTC) Go's `time.Parse` gives a zone abbreviation for a
/// wall-clock time (read as UTC, seconds since the epoch): the local zone's ([`local_zone`])
/// when it uses that abbreviation then, else when it used or uses it within a year of
/// then; otherwise 0 (Go records an unknown abbreviation with a zero offset).
pub fn abbreviation_offset(name: &str, wall: i64) -> i32 {
    let Some(tz) = local_zone() else {
        return 0;
    };
    let at = |secs: i64| {
        DateTime::<Utc>::from_timestamp(secs, 0).map(|t| {
            let o = *t.with_timezone(&tz).offset();
            (
                o.abbreviation().map(str::to_string),
                o.fix().local_minus_utc(),
            )
        })
    };
    const MONTH: i64 = 30 * 86_400;
    let seen: Vec<i32> = (-12..=12)
        .filter_map(|m| at(wall + m * MONTH))
        .filter(|(abbr, _)| abbr.as_deref() == Some(name))
        .map(|(_, offset)| offset)
        .collect();
    // Go first takes an offset whose zone is in effect at that instant.
    seen.iter()
        .copied()
        .find(|&offset| {
            at(wall - i64::from(offset)).is_some_and(|(a, _)| a.as_deref() == Some(name))
        })
        .or_else(|| seen.first().copied())
        .unwrap_or(0)
}

/// `ns` in zone `tz` (OPA's names) printed with Go's `layout` (or a Go constant's name;
/// RFC 3339 with nanoseconds when empty).
pub fn format(ns: i64, tz: &str, layout: &str) -> Result<String, String> {
    let layout = match layout {
        "" => NAMED[9].1,
        named => NAMED
            .iter()
            .find(|(n, _)| *n == named)
            .map_or(named, |(_, l)| *l),
    };
    let utc = DateTime::<Utc>::from_timestamp_nanos(ns);
    Ok(match zone(tz)? {
        None => render(&utc.naive_utc(), 0, "UTC", layout),
        Some(zone) => {
            let t = utc.with_timezone(&zone);
            let offset = t.offset().fix().local_minus_utc();
            let name = match t.offset().abbreviation() {
                Some(a) => a.to_string(),
                // tzdata's numeric abbreviations: `-03`, `+0530`.
                None => numeric_abbreviation(offset),
            };
            render(&t.naive_local(), offset, &name, layout)
        }
    })
}

fn numeric_abbreviation(offset: i32) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m) = (offset.abs() / 3600, offset.abs() / 60 % 60);
    if m == 0 {
        format!("{sign}{h:02}")
    } else {
        format!("{sign}{h:02}{m:02}")
    }
}

/// Go's `appendFormat` of a local time with its offset (seconds east of UTC) and zone name.
fn render(t: &chrono::NaiveDateTime, offset: i32, name: &str, layout: &str) -> String {
    let mut out = String::new();
    let mut rest = layout;
    let hour12 = || match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    loop {
        let (prefix, std, suffix) = next_chunk(rest);
        out.push_str(prefix);
        let Some(std) = std else {
            break;
        };
        rest = suffix;
        let month = t.month0() as usize;
        let weekday = t.weekday().num_days_from_sunday() as usize;
        match std {
            Std::LongMonth => out.push_str(MONTHS[month]),
            Std::Month => out.push_str(&MONTHS[month][..3]),
            Std::NumMonth => out.push_str(&t.month().to_string()),
            Std::ZeroMonth => out.push_str(&format!("{:02}", t.month())),
            Std::LongWeekDay => out.push_str(DAYS[weekday]),
            Std::WeekDay => out.push_str(&DAYS[weekday][..3]),
            Std::Day => out.push_str(&t.day().to_string()),
            Std::UnderDay => out.push_str(&format!("{:>2}", t.day())),
            Std::ZeroDay => out.push_str(&format!("{:02}", t.day())),
            Std::UnderYearDay => out.push_str(&format!("{:>3}", t.ordinal())),
            Std::ZeroYearDay => out.push_str(&format!("{:03}", t.ordinal())),
            Std::Hour => out.push_str(&format!("{:02}", t.hour())),
            Std::Hour12 => out.push_str(&hour12().to_string()),
            Std::ZeroHour12 => out.push_str(&format!("{:02}", hour12())),
            Std::Minute => out.push_str(&t.minute().to_string()),
            Std::ZeroMinute => out.push_str(&format!("{:02}", t.minute())),
            Std::Second => out.push_str(&t.second().to_string()),
            Std::ZeroSecond => out.push_str(&format!("{:02}", t.second())),
            Std::LongYear => out.push_str(&format!("{:04}", t.year())),
            Std::Year => out.push_str(&format!("{:02}", t.year().rem_euclid(100))),
            Std::Pm => out.push_str(if t.hour() >= 12 { "PM" } else { "AM" }),
            Std::PmLower => out.push_str(if t.hour() >= 12 { "pm" } else { "am" }),
            Std::Tz => out.push_str(name),
            Std::NumTz {
                iso,
                colon,
                minutes,
                seconds,
            } => {
                if iso && offset == 0 {
                    out.push('Z');
                    continue;
                }
                out.push(if offset < 0 { '-' } else { '+' });
                let abs = offset.abs();
                out.push_str(&format!("{:02}", abs / 3600));
                if colon {
                    out.push(':');
                }
                if minutes {
                    out.push_str(&format!("{:02}", abs / 60 % 60));
                }
                if seconds {
                    if colon {
                        out.push(':');
                    }
                    out.push_str(&format!("{:02}", abs % 60));
                }
            }
            Std::Frac { digits, trim, sep } => {
                let nanos = format!("{:09}", t.nanosecond() % 1_000_000_000);
                let mut frac = &nanos[..digits.min(9)];
                if trim {
                    frac = frac.trim_end_matches('0');
                    if frac.is_empty() {
                        continue;
                    }
                }
                out.push(sep);
                out.push_str(frac);
                // Go pads a fraction longer than nine digits with zeros.
                if !trim && digits > 9 {
                    out.push_str(&"0".repeat(digits - 9));
                }
            }
        }
    }
    out
}

/// Go's `time.Parse(time.RFC3339, value)` in nanoseconds since the epoch, with Go's errors
/// (the general parser, which accepts what Go's fast path does and more: a one-digit hour,
/// a `,` before the fraction, a zone hour of 24, digits past the ninth dropped).
pub fn parse_rfc3339(value: &str) -> Result<i128, String> {
    const LAYOUT: &str = "2006-01-02T15:04:05Z07:00";
    let cannot = |rest: &str, elem: &str| {
        format!(
            "parsing time {} as \"{LAYOUT}\": cannot parse {} as \"{elem}\"",
            crate::base::godur::quote(value),
            crate::base::godur::quote(rest)
        )
    };
    let out_of_range = |what: &str| {
        format!(
            "parsing time {}: {what} out of range",
            crate::base::godur::quote(value)
        )
    };
    let digit = |s: &str, i: usize| s.as_bytes().get(i).is_some_and(u8::is_ascii_digit);
    // Go's getnum: one or two digits (exactly two when `fixed`).
    let num = |s: &str, fixed: bool| -> Option<(u32, usize)> {
        if !digit(s, 0) {
            return None;
        }
        let first = u32::from(s.as_bytes()[0] - b'0');
        if !digit(s, 1) {
            return (!fixed).then_some((first, 1));
        }
        Some((first * 10 + u32::from(s.as_bytes()[1] - b'0'), 2))
    };
    let mut rest = value;
    let mut range: Option<&str> = None;
    // 2006
    if rest.len() < 4 || !rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        return Err(cannot(rest, "2006"));
    }
    let year: i32 = rest[..4].parse().map_err(|_| cannot(rest, "2006"))?;
    rest = &rest[4..];
    let mut fields = [0u32; 5];
    let elems = [
        ("-", "01", true),
        ("-", "02", true),
        ("T", "15", false),
        (":", "04", true),
        (":", "05", true),
    ];
    for (k, (sep, elem, fixed)) in elems.iter().enumerate() {
        rest = rest.strip_prefix(sep).ok_or_else(|| cannot(rest, sep))?;
        let (n, len) = num(rest, *fixed).ok_or_else(|| cannot(rest, elem))?;
        rest = &rest[len..];
        fields[k] = n;
        let bad = match k {
            0 => !(1..=12).contains(&n),
            1 => n > 31,
            2 => n >= 24,
            _ => n >= 60,
        };
        if bad && range.is_none() {
            range = Some(["month", "day", "hour", "minute", "second"][k]);
        }
    }
    let [month, day, hour, minute, second] = fields;
    // A fraction the layout does not name.
    let mut nanos = 0i128;
    let b = rest.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'.' | b',') && b[1].is_ascii_digit() {
        let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let digits = &rest[1..n.min(10)];
        nanos = format!("{digits:0<9}").parse::<i128>().unwrap_or(0);
        rest = &rest[n..];
    }
    // Z07:00
    let offset: i128 = if let Some(r) = rest.strip_prefix('Z') {
        rest = r;
        0
    } else {
        let b = rest.as_bytes();
        if b.len() < 6 || b[3] != b':' {
            return Err(cannot(rest, "Z07:00"));
        }
        let (Some((hr, 2)), Some((mm, 2))) = (num(&rest[1..3], true), num(&rest[4..6], true))
        else {
            return Err(cannot(rest, "Z07:00"));
        };
        if hr > 24 && range.is_none() {
            range = Some("time zone offset hour");
        }
        if mm > 60 && range.is_none() {
            range = Some("time zone offset minute");
        }
        let secs = i128::from(hr * 3600 + mm * 60);
        let sign = match b[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return Err(cannot(rest, "Z07:00")),
        };
        rest = &rest[6..];
        sign * secs
    };
    if !rest.is_empty() {
        return Err(format!(
            "parsing time {}: extra text: {}",
            crate::base::godur::quote(value),
            crate::base::godur::quote(rest)
        ));
    }
    if let Some(what) = range {
        return Err(out_of_range(what));
    }
    let date =
        chrono::NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| out_of_range("day"))?;
    let days = i128::from((date - chrono::DateTime::UNIX_EPOCH.date_naive()).num_days());
    let secs = days * 86_400 + i128::from(hour * 3600 + minute * 60 + second) - offset;
    Ok(secs * 1_000_000_000 + nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_zone_abbreviation_go_reads() {
        let f = zone_abbreviation;
        const L: &str = "02 Jan 06 15:04 MST";
        assert_eq!(
            f(L, "02 JAN 06 15:04 PST"),
            Some(Abbreviation::At(16, 19, false))
        );
        assert_eq!(
            f(L, "02 Jan 06 15:04 CEST"),
            Some(Abbreviation::At(16, 20, false))
        );
        assert_eq!(
            f(L, "02 Jan 06 15:04 ChST"),
            Some(Abbreviation::At(16, 20, false))
        );
        assert_eq!(
            f(L, "02 Jan 06 15:04 pst"),
            Some(Abbreviation::NotCapitals(16))
        );
        // UTC and GMT read the same in both parsers; no layout zone, or two candidates.
        assert_eq!(f(L, "02 Jan 06 15:04 UTC"), None);
        assert_eq!(f(L, "02 Jan 06 15:04 GMT+3"), None);
        assert_eq!(f("02 Jan 06 15:04", "02 Jan 06 15:04 PST"), None);
        assert_eq!(f(L, "02 Jan 06 PST 15:04 EST"), None);
        assert_eq!(
            f("02 Jan 06 15:04 -0700 MST", "02 Jan 06 15:04 -0800 PST"),
            Some(Abbreviation::At(22, 25, true))
        );
    }

    #[test]
    fn formats_as_go() {
        let ns = 1_700_000_000_123_456_789;
        let f = |tz: &str, layout: &str| format(ns, tz, layout).unwrap();
        assert_eq!(f("", ""), "2023-11-14T22:13:20.123456789Z");
        assert_eq!(f("America/New_York", "MST"), "EST");
        assert_eq!(f("Asia/Kolkata", "MST -0700 Z07:00"), "IST +0530 +05:30");
        assert_eq!(f("America/Sao_Paulo", "MST"), "-03");
        assert_eq!(
            f("Europe/London", "RFC1123"),
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
        assert_eq!(
            f("Asia/Tokyo", "Jan _2 Monday PM pm 3:4:5 .000 ,999"),
            "Nov 15 Wednesday AM am 7:13:20 .123 ,123"
        );
        assert_eq!(
            f("UTC", "__2 002 06 _2006 .99 .00"),
            "318 318 23 _2023 .12 .12"
        );
        assert!(format(ns, "Nowhere/City", "").is_err());
    }

    #[test]
    fn parses_rfc3339_as_go() {
        let p = |s: &str| parse_rfc3339(s);
        assert_eq!(p("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000_000_000));
        assert_eq!(p("2023-11-14T22:13:20,5Z"), Ok(1_700_000_000_500_000_000));
        assert_eq!(p("2023-11-14T2:13:20Z"), Ok(1_699_928_000_000_000_000));
        assert_eq!(
            p("2023-11-14T22:13:20+24:00"),
            Ok(1_699_913_600_000_000_000)
        );
        assert_eq!(
            p("2023-11-14T22:13:20.1234567891+05:30"),
            Ok(1_699_980_200_123_456_789)
        );
        assert_eq!(p("1969-12-31T23:59:59.5Z"), Ok(-500_000_000));
        assert_eq!(
            p("2023-11-14 22:13:20Z").unwrap_err(),
            "parsing time \"2023-11-14 22:13:20Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \" 22:13:20Z\" as \"T\""
        );
        assert_eq!(
            p("2023-11-14T22:13:20z").unwrap_err(),
            "parsing time \"2023-11-14T22:13:20z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"z\" as \"Z07:00\""
        );
        assert_eq!(
            p("2023-11-14T22:13:60Z").unwrap_err(),
            "parsing time \"2023-11-14T22:13:60Z\": second out of range"
        );
        assert_eq!(
            p("2023-02-29T22:13:20Z").unwrap_err(),
            "parsing time \"2023-02-29T22:13:20Z\": day out of range"
        );
        assert!(p("+2023-11-14T22:13:20Z").is_err());
        assert!(p("2023-11-14T22:13:20+0530").is_err());
    }
}
