//! regorus's policy length limits (1,024 columns, 20,000 lines, 1 MiB by default) lifted
//! to what its u32 source offsets allow: OPA loads any policy, such as an allow-list of
//! 200 images on one line.

use regorus::unstable::{Lexer, Source};
use regorus::utils::limits::PolicyLengthConfig;
use regorus::Engine;
use std::num::{NonZeroU32, NonZeroUsize};

/// The largest source regorus can address (its offsets are u32).
const MAX_BYTES: usize = u32::MAX as usize;

/// Limits no policy OPA accepts runs into.
pub fn lifted() -> PolicyLengthConfig {
    PolicyLengthConfig {
        max_col: NonZeroU32::MAX,
        max_file_bytes: NonZeroUsize::new(MAX_BYTES).unwrap_or(NonZeroUsize::MIN),
        max_lines: NonZeroUsize::MAX,
    }
}

/// A new engine with the lifted limits.
pub fn engine() -> Engine {
    let mut engine = Engine::new();
    engine.set_policy_length_config(lifted());
    engine
}

/// A source for regorun's own token scans, under the same limits as loading.
pub fn source(file: &str, text: &str) -> anyhow::Result<Source> {
    let l = lifted();
    Source::from_contents_with_limits(
        file.to_string(),
        text.to_string(),
        l.max_file_bytes,
        l.max_lines,
    )
}

/// A lexer over `source` without the column limit.
pub fn lexer(source: &Source) -> Lexer<'_> {
    let mut lexer = Lexer::new(source);
    lexer.set_max_col(lifted().max_col);
    lexer
}

/// The longest line regorus 0.14 can always load: its parser formats some messages (even
/// for policies that load) with the column as a width, which panics past `u16::MAX`.
pub const MAX_LINE_CHARS: usize = u16::MAX as usize;

/// The first line longer than [`MAX_LINE_CHARS`] among `(path, source)` pairs: file,
/// 1-based line, length.
pub fn overlong_line<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<(String, usize, usize)> {
    files.into_iter().find_map(|(path, source)| {
        source.lines().enumerate().find_map(|(i, l)| {
            let chars = l.chars().count();
            (chars > MAX_LINE_CHARS).then(|| (path.to_string(), i + 1, chars))
        })
    })
}
