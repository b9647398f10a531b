//! Panic containment for engine work.
//!
//! regorus 0.14 panics on some input-controlled values (built-ins slicing strings at
//! non-character boundaries, dividing by zero, ...). A panic must never end the run: the
//! document being evaluated gets an error and the rest of the batch goes on.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// How many [`catch`] calls are active on this thread.
    static GUARDED: Cell<u32> = const { Cell::new(0) };
    /// The message of the last panic caught on this thread.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Keeps the default panic report for unguarded code, and silences (but records) panics
/// inside [`catch`], whose callers report them as one `Error:` line.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) == 0 {
                previous(info);
                return;
            }
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let msg = one_line(&msg);
            let at = info
                .location()
                .map(|l| {
                    // A registry path tells the user nothing; keep the crate-relative part.
                    let file = l.file();
                    let short = ["regorus-", "library/"]
                        .iter()
                        .find_map(|p| file.find(p).map(|i| &file[i..]))
                        .unwrap_or(file);
                    format!(" (at {short}:{})", l.line())
                })
                .unwrap_or_default();
            LAST.with(|c| *c.borrow_mut() = Some(format!("{msg}{at}")));
        }));
    });
}

/// The longest panic message kept: some quote a whole input (a regular expression built
/// from a 200 KB pattern).
const MAX_MESSAGE: usize = 300;

/// A panic message on one line, cut to [`MAX_MESSAGE`] characters.
fn one_line(msg: &str) -> String {
    let joined = msg.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= MAX_MESSAGE {
        return joined;
    }
    let cut: String = joined.chars().take(MAX_MESSAGE).collect();
    format!("{cut}...")
}

/// Runs `f`; a panic inside it comes back as `Err` with the panic's message.
///
/// Whatever `f` was mutating may be half-updated afterwards: callers throw such state
/// away (a worker's engine is re-cloned from the prepared prototype).
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    GUARDED.with(|g| g.set(g.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get() - 1));
    result.map_err(|payload| {
        LAST.with(|c| c.borrow_mut().take()).unwrap_or_else(|| {
            payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        let r: Result<(), String> = catch(|| panic!("boom {}", 7));
        let msg = r.unwrap_err();
        assert!(msg.starts_with("boom 7 (at "), "{msg}");
        assert_eq!(catch(|| 41 + 1), Ok(42));
    }

    #[test]
    fn long_messages_are_cut() {
        let msg = catch(|| -> () { panic!("{}", "x ".repeat(1000)) }).unwrap_err();
        assert!(
            msg.starts_with(&format!("{}...", "x ".repeat(150))),
            "{msg}"
        );
        assert!(msg.len() < 400, "{msg}");
    }

    #[test]
    fn nested_guards_unwind_to_the_innermost() {
        let outer = catch(|| catch(|| -> () { panic!("inner") }).unwrap_err());
        assert!(outer.unwrap().starts_with("inner"));
    }
}
