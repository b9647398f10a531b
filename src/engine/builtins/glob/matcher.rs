//! gobwas/glob's matchers, whose optimised forms OPA's answers come from (`ab**b` matches
//! `ab`, a lone `?` matches the empty string). Go strings are bytes, and these matchers
//! mix byte offsets with character counts, so they work on bytes as Go does.

/// A matcher's failure where Go panics (a slice out of range): OPA's built-in error.
#[derive(Debug, PartialEq)]
pub struct Panic;

/// Where a matcher starts in a string and the lengths (in bytes) it can take there.
pub type Found = Option<(usize, Vec<usize>)>;

/// A compiled glob, as gobwas/glob's matcher types.
#[derive(Clone, Debug)]
pub enum Matcher {
    Nothing,
    Super,
    Any(Vec<char>),
    Single(Vec<char>),
    List { list: Vec<char>, not: bool },
    Range { lo: char, hi: char, not: bool },
    Text(String),
    Contains { needle: String, not: bool },
    Prefix(String),
    Suffix(String),
    PrefixSuffix(String, String),
    PrefixAny(String, Vec<char>),
    SuffixAny(String, Vec<char>),
    Min(usize),
    Max(usize),
    AnyOf(Vec<Matcher>),
    EveryOf(Vec<Matcher>),
    Row { matchers: Vec<Matcher>, len: usize },
    BTree(Box<BTree>),
}

/// A matcher of known length (in characters) with what must match before and after it.
#[derive(Clone, Debug)]
pub struct BTree {
    pub value: Matcher,
    pub left: Option<Matcher>,
    pub right: Option<Matcher>,
    left_len: i64,
    right_len: i64,
    len: i64,
}

impl BTree {
    /// The lengths are those of the parts given; gobwas keeps them when it optimises the
    /// parts later.
    pub fn new(value: Matcher, left: Option<Matcher>, right: Option<Matcher>) -> Self {
        let left_len = left.as_ref().map_or(0, Matcher::len);
        let right_len = right.as_ref().map_or(0, Matcher::len);
        let value_len = value.len();
        let len = if value_len == -1 || left_len == -1 || right_len == -1 {
            -1
        } else {
            left_len + value_len + right_len
        };
        BTree {
            value,
            left,
            right,
            left_len,
            right_len,
            len,
        }
    }

    fn matches(&self, s: &[u8]) -> Result<bool, Panic> {
        let input = s.len();
        let (mut offset, limit) = self.offset_limit(input);
        while offset < limit {
            let Some((index, segments)) = self.value.index(&s[offset..limit])? else {
                return Ok(false);
            };
            let l = &s[..offset + index];
            let left = match &self.left {
                Some(m) => m.matches(l)?,
                None => l.is_empty(),
            };
            if left {
                for &length in segments.iter().rev() {
                    let r: &[u8] = if input <= offset + index + length {
                        b""
                    } else {
                        &s[offset + index + length..]
                    };
                    let right = match &self.right {
                        Some(m) => m.matches(r)?,
                        None => r.is_empty(),
                    };
                    if right {
                        return Ok(true);
                    }
                }
            }
            let (_, step) = decode(&s[offset + index..]);
            offset += index + step;
        }
        Ok(false)
    }

    /// Go's byte bounds from character lengths: a part of known length cannot start
    /// before the left part's length nor end after the input less the right part's.
    fn offset_limit(&self, input: usize) -> (usize, usize) {
        if self.len != -1 && self.len > input as i64 {
            return (0, 0);
        }
        let offset = self.left_len.max(0) as usize;
        let limit = if self.right_len >= 0 {
            (input as i64 - self.right_len).max(0) as usize
        } else {
            input
        };
        (offset, limit)
    }
}

/// Go's `utf8.RuneError`.
const RUNE_ERROR: char = '\u{FFFD}';

/// Go's `utf8.DecodeRune`: the first character and its width; an invalid byte is
/// `RuneError` of width 1, an empty input `RuneError` of width 0.
fn decode(s: &[u8]) -> (char, usize) {
    let Some(&first) = s.first() else {
        return (RUNE_ERROR, 0);
    };
    let width = match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return (RUNE_ERROR, 1),
    };
    match s.get(..width).and_then(|b| std::str::from_utf8(b).ok()) {
        Some(text) => (text.chars().next().unwrap_or(RUNE_ERROR), width),
        None => (RUNE_ERROR, 1),
    }
}

/// Go's `for i, r := range s`: each character's byte offset and value.
fn runes(s: &[u8]) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= s.len() {
            return None;
        }
        let (c, w) = decode(&s[at..]);
        let i = at;
        at += w;
        Some((i, c))
    })
}

/// Go's `utf8.RuneLen`: the width of a character's encoding (3 for `RuneError`, also
/// where it stood for one invalid byte).
fn rune_len(c: char) -> usize {
    c.len_utf8()
}

/// Go's `strings.Index`.
fn index(s: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    s.windows(needle.len()).position(|w| w == needle)
}

/// Go's `strings.LastIndex`.
fn last_index(s: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(s.len());
    }
    s.windows(needle.len()).rposition(|w| w == needle)
}

/// Go's `strings.IndexRune`.
fn index_rune(s: &[u8], r: char) -> Option<usize> {
    runes(s).find(|&(_, c)| c == r).map(|(i, _)| i)
}

/// gobwas's `IndexAnyRunes`: where the first delimiter *of the list* that occurs is,
/// not the first delimiter in the string.
fn index_any_runes(s: &[u8], rs: &[char]) -> Option<usize> {
    rs.iter().find_map(|&r| index_rune(s, r))
}

/// gobwas's `LastIndexAnyRunes`, whose loop for a non-ASCII delimiter searches the whole
/// string again each time and so ends only when the string is a multiple of the
/// distance, else slices out of range.
fn last_index_any_runes(s: &[u8], rs: &[char]) -> Result<Option<usize>, Panic> {
    for &r in rs {
        let found = if r.is_ascii() {
            s.iter().rposition(|&b| b == r as u8)
        } else {
            let mut sub = s.len();
            let mut found = None;
            while sub > 0 {
                let Some(j) = index_rune(s, r) else { break };
                found = Some(j);
                sub = sub.checked_sub(j + 1).ok_or(Panic)?;
            }
            found
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Each character's start, then the string's length.
fn every_boundary(s: &[u8], offset: usize) -> Vec<usize> {
    runes(s)
        .map(|(i, _)| offset + i)
        .chain(std::iter::once(offset + s.len()))
        .collect()
}

/// One character: whether `test` holds for it, Go's way (the empty string decodes as
/// `RuneError` and counts as one).
fn single(s: &[u8], test: impl Fn(char) -> bool) -> bool {
    let (c, w) = decode(s);
    s.len() <= w && test(c)
}

/// The first character `test` holds for, with its encoded width.
fn first_where(s: &[u8], test: impl Fn(char) -> bool) -> Found {
    runes(s)
        .find(|&(_, c)| test(c))
        .map(|(i, c)| (i, vec![rune_len(c)]))
}

/// gobwas's `appendMerge` of two sorted lists.
fn append_merge(target: &[usize], sub: &[usize]) -> Vec<usize> {
    let (mut x, mut y) = (0, 0);
    let mut out = Vec::with_capacity(target.len() + sub.len());
    while x < target.len() || y < sub.len() {
        if x >= target.len() {
            out.extend_from_slice(&sub[y..]);
            break;
        }
        if y >= sub.len() {
            out.extend_from_slice(&target[x..]);
            break;
        }
        let (a, b) = (target[x], sub[y]);
        if a == b {
            out.push(a);
            x += 1;
            y += 1;
        } else if a < b {
            out.push(a);
            x += 1;
        } else {
            out.push(b);
            y += 1;
        }
    }
    out
}

impl Matcher {
    /// The length in characters of every string it matches, or -1.
    pub fn len(&self) -> i64 {
        match self {
            Matcher::Nothing => 0,
            Matcher::Single(_) | Matcher::List { .. } | Matcher::Range { .. } => 1,
            Matcher::Text(t) => t.chars().count() as i64,
            Matcher::Row { len, .. } => *len as i64,
            Matcher::BTree(t) => t.len,
            // gobwas skips a first part of unknown length.
            Matcher::AnyOf(ms) => {
                let mut l = -1;
                for m in ms {
                    let ml = m.len();
                    if l == -1 {
                        l = ml;
                    } else if ml == -1 || l != ml {
                        return -1;
                    }
                }
                l
            }
            // gobwas's sum starts at 0 and gives up while it is not positive.
            Matcher::EveryOf(ms) if ms.is_empty() => 0,
            _ => -1,
        }
    }

    /// Whether the whole of `s` matches.
    pub fn matches(&self, s: &[u8]) -> Result<bool, Panic> {
        Ok(match self {
            Matcher::Nothing => s.is_empty(),
            Matcher::Super => true,
            Matcher::Any(seps) => index_any_runes(s, seps).is_none(),
            Matcher::Single(seps) => single(s, |c| !seps.contains(&c)),
            Matcher::List { list, not } => single(s, |c| list.contains(&c) != *not),
            Matcher::Range { lo, hi, not } => single(s, |c| (*lo <= c && c <= *hi) != *not),
            Matcher::Text(t) => s == t.as_bytes(),
            Matcher::Contains { needle, not } => index(s, needle.as_bytes()).is_some() != *not,
            Matcher::Prefix(p) => s.starts_with(p.as_bytes()),
            Matcher::Suffix(x) => s.ends_with(x.as_bytes()),
            Matcher::PrefixSuffix(p, x) => s.starts_with(p.as_bytes()) && s.ends_with(x.as_bytes()),
            Matcher::PrefixAny(p, seps) => {
                s.starts_with(p.as_bytes()) && index_any_runes(&s[p.len()..], seps).is_none()
            }
            Matcher::SuffixAny(x, seps) => {
                s.ends_with(x.as_bytes())
                    && index_any_runes(&s[..s.len() - x.len()], seps).is_none()
            }
            // gobwas answers on a character reaching the limit: never for "".
            Matcher::Min(limit) => {
                let n = runes(s).count();
                n > 0 && n >= *limit
            }
            Matcher::Max(limit) => runes(s).count() <= *limit,
            Matcher::AnyOf(ms) => {
                for m in ms {
                    if m.matches(s)? {
                        return Ok(true);
                    }
                }
                false
            }
            Matcher::EveryOf(ms) => {
                for m in ms {
                    if !m.matches(s)? {
                        return Ok(false);
                    }
                }
                true
            }
            Matcher::Row { matchers, len } => {
                runes(s).count() == *len && row_matches_all(matchers, s)?
            }
            Matcher::BTree(t) => t.matches(s)?,
        })
    }

    /// Where the matcher first matches in `s` and the lengths it can take there.
    pub fn index(&self, s: &[u8]) -> Result<Found, Panic> {
        Ok(match self {
            Matcher::Nothing => Some((0, vec![0])),
            Matcher::Super => Some((0, every_boundary(s, 0))),
            Matcher::Any(seps) => match index_any_runes(s, seps) {
                Some(0) => Some((0, vec![0])),
                Some(found) => Some((0, every_boundary(&s[..found], 0))),
                None => Some((0, every_boundary(s, 0))),
            },
            Matcher::Single(seps) => first_where(s, |c| !seps.contains(&c)),
            Matcher::List { list, not } => first_where(s, |c| list.contains(&c) != *not),
            Matcher::Range { lo, hi, not } => first_where(s, |c| (*lo <= c && c <= *hi) != *not),
            Matcher::Text(t) => index(s, t.as_bytes()).map(|i| (i, vec![t.len()])),
            Matcher::Contains { needle, not } => {
                let idx = index(s, needle.as_bytes());
                if !*not {
                    let Some(idx) = idx else { return Ok(None) };
                    let offset = idx + needle.len();
                    if s.len() <= offset {
                        return Ok(Some((0, vec![offset])));
                    }
                    Some((0, every_boundary(&s[offset..], offset)))
                } else {
                    Some((0, every_boundary(&s[..idx.unwrap_or(s.len())], 0)))
                }
            }
            Matcher::Prefix(p) => index(s, p.as_bytes()).map(|idx| {
                let n = p.len();
                let sub: &[u8] = s.get(idx + n..).unwrap_or_default();
                let mut segments = vec![n];
                segments.extend(runes(sub).map(|(i, c)| n + i + rune_len(c)));
                (idx, segments)
            }),
            Matcher::PrefixAny(p, seps) => index(s, p.as_bytes()).map(|idx| {
                let n = p.len();
                let mut sub = &s[idx + n..];
                if let Some(i) = index_any_runes(sub, seps) {
                    sub = &sub[..i];
                }
                let mut segments = vec![n];
                segments.extend(runes(sub).map(|(i, c)| n + i + rune_len(c)));
                (idx, segments)
            }),
            Matcher::Suffix(x) => index(s, x.as_bytes()).map(|idx| (0, vec![idx + x.len()])),
            Matcher::SuffixAny(x, seps) => match index(s, x.as_bytes()) {
                None => None,
                Some(idx) => {
                    let i = last_index_any_runes(&s[..idx], seps)?.map_or(0, |i| i + 1);
                    Some((i, vec![idx + x.len() - i]))
                }
            },
            Matcher::PrefixSuffix(p, x) => {
                let Some(start) = index(s, p.as_bytes()) else {
                    return Ok(None);
                };
                if x.is_empty() {
                    return Ok(Some((start, vec![s.len() - start])));
                }
                if s.len() <= start {
                    return Ok(None);
                }
                let mut segments = Vec::new();
                let mut sub = &s[start..];
                while let Some(i) = last_index(sub, x.as_bytes()) {
                    segments.push(i + x.len());
                    sub = &sub[..i];
                }
                segments.reverse();
                (!segments.is_empty()).then_some((start, segments))
            }
            Matcher::Min(limit) => {
                if s.len() < *limit {
                    return Ok(None);
                }
                let segments: Vec<usize> = runes(s)
                    .enumerate()
                    .filter(|(n, _)| n + 1 >= *limit)
                    .map(|(_, (i, c))| i + rune_len(c))
                    .collect();
                (!segments.is_empty()).then_some((0, segments))
            }
            Matcher::Max(limit) => {
                let mut segments = vec![0];
                segments.extend(runes(s).take(*limit).map(|(i, c)| i + rune_len(c)));
                Some((0, segments))
            }
            Matcher::AnyOf(ms) => {
                let mut best: Found = None;
                for m in ms {
                    let Some((idx, seg)) = m.index(s)? else {
                        continue;
                    };
                    best = match best {
                        Some((index, _)) if idx > index => best,
                        Some((index, segments)) if idx == index => {
                            Some((index, append_merge(&segments, &seg)))
                        }
                        _ => Some((idx, seg)),
                    };
                }
                best
            }
            Matcher::EveryOf(ms) => every_of_index(ms, s)?,
            Matcher::Row { matchers, len } => {
                for (i, _) in runes(s) {
                    if s.len() - i < *len {
                        break;
                    }
                    if row_matches_all(matchers, &s[i..])? {
                        return Ok(Some((i, vec![*len])));
                    }
                }
                None
            }
            // gobwas never finds a tree inside a string.
            Matcher::BTree(_) => None,
        })
    }
}

/// gobwas's `EveryOf.Index`: the lengths every matcher agrees on, each found from where
/// the previous one was.
fn every_of_index(ms: &[Matcher], s: &[u8]) -> Result<Found, Panic> {
    let (mut index, mut offset) = (0usize, 0usize);
    let mut current: Vec<usize> = Vec::new();
    let mut sub = s;
    for (n, m) in ms.iter().enumerate() {
        let Some((idx, seg)) = m.index(sub)? else {
            return Ok(None);
        };
        if n == 0 {
            current = seg;
        } else {
            let delta = index as i64 - (idx + offset) as i64;
            let next: Vec<usize> = current
                .iter()
                .flat_map(|&ex| seg.iter().filter(move |&&x| ex as i64 + delta == x as i64))
                .copied()
                .collect();
            if next.is_empty() {
                return Ok(None);
            }
            current = next;
        }
        index = idx + offset;
        sub = s.get(index..).ok_or(Panic)?;
        offset += idx;
    }
    Ok(Some((index, current)))
}

/// gobwas's `Row.matchAll`: each matcher takes its length in characters, cut Go's way
/// (up to the first byte of its last character).
fn row_matches_all(matchers: &[Matcher], s: &[u8]) -> Result<bool, Panic> {
    let mut idx = 0;
    for m in matchers {
        let length = m.len();
        let (mut next, mut count) = (0usize, 0i64);
        for (i, _) in runes(&s[idx..]) {
            next = i;
            count += 1;
            if count == length {
                break;
            }
        }
        if count < length {
            return Ok(false);
        }
        let part = s.get(idx..idx + next + 1).ok_or(Panic)?;
        if !m.matches(part)? {
            return Ok(false);
        }
        idx += next + 1;
    }
    Ok(true)
}
