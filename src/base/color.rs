//! Terminal colours as conftest paints them: whenever colour is on, whatever stdout is
//! (`--no-color` turns it off), so the decision is the caller's, not the terminal's.

pub use colored::Color;
use colored::Colorize;

/// `text` in `color` when `on` (`\x1b[31m…\x1b[0m` for red), else as it is.
pub fn paint(text: &str, color: Color, on: bool) -> String {
    if !on {
        return text.to_string();
    }
    // `colored` would drop colours when stdout is not a terminal or NO_COLOR is set;
    // conftest does not, and whether to paint is decided above.
    colored::control::set_override(true);
    text.color(color).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_bytes_as_conftest_writes_them() {
        assert_eq!(paint("FAIL", Color::Red, true), "\x1b[31mFAIL\x1b[0m");
        assert_eq!(paint("TRAC ", Color::Blue, true), "\x1b[34mTRAC \x1b[0m");
        assert_eq!(paint("ok", Color::Green, false), "ok");
    }
}
