//! Writing a command's outcome: `-o FORMAT=PATH` files, then stderr, then stdout. A write
//! that fails is never a silent success.

use super::Outcome;
use crate::base::fs::io_reason;
use std::io::{ErrorKind, Write};

/// The exit code of a process that wrote into a closed pipe: what a Unix tool killed by
/// SIGPIPE reports (128 + 13), as conftest does.
pub const BROKEN_PIPE: u8 = 141;

/// A run stopped because the reader of stdout went away: the process ends with
/// [`BROKEN_PIPE`] and no `Error:` line.
#[derive(Debug)]
pub struct BrokenPipe;

impl std::fmt::Display for BrokenPipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("write stdout: broken pipe")
    }
}

impl std::error::Error for BrokenPipe {}

/// The exit code for a run that failed with `e`, after its `Error:` line.
pub fn failed(stderr: &mut dyn Write, e: &anyhow::Error) -> u8 {
    if e.is::<BrokenPipe>() {
        return BROKEN_PIPE;
    }
    error(stderr, &format!("{e:#}"))
}

/// Writes `outcome` and returns the exit code: the outcome's own, 1 when a file or stdout
/// cannot be written (with an `Error:` line on stderr), [`BROKEN_PIPE`] when a reader
/// closed stdout or stderr (quietly, as a Unix tool ends).
pub fn emit(outcome: &Outcome, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    for (path, text) in &outcome.files {
        if let Err(e) = std::fs::write(path, text) {
            return error(stderr, &format!("write output {path}: {}", io_reason(&e)));
        }
    }
    if !outcome.stderr.is_empty() {
        if let Err(e) = write_all(stderr, &outcome.stderr) {
            if e.kind() == ErrorKind::BrokenPipe {
                return BROKEN_PIPE;
            }
        }
    }
    match write_all(stdout, &outcome.stdout) {
        Ok(()) => u8::try_from(outcome.exit_code).unwrap_or(1),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => BROKEN_PIPE,
        Err(e) => error(stderr, &format!("write stdout: {}", io_reason(&e))),
    }
}

/// Writes one `Error:` line; returns 1, or [`BROKEN_PIPE`] if stderr is a closed pipe.
pub fn error(stderr: &mut dyn Write, msg: &str) -> u8 {
    match write_all(stderr, &format!("Error: {msg}\n")) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => BROKEN_PIPE,
        _ => 1,
    }
}

fn write_all(w: &mut dyn Write, text: &str) -> std::io::Result<()> {
    w.write_all(text.as_bytes())?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails with `error()` after `room` bytes.
    struct Failing {
        room: usize,
        error: fn() -> std::io::Error,
        got: Vec<u8>,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err((self.error)());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn outcome() -> Outcome {
        Outcome {
            stdout: "PASS\n".repeat(100),
            exit_code: 0,
            ..Default::default()
        }
    }

    #[test]
    fn a_full_stdout_is_an_error() {
        let mut out = Failing {
            room: 10,
            // ENOSPC, as writing to /dev/full gives.
            error: || std::io::Error::from_raw_os_error(28),
            got: Vec::new(),
        };
        let mut err = Vec::new();
        assert_eq!(emit(&outcome(), &mut out, &mut err), 1);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "Error: write stdout: no space left on device\n"
        );
    }

    #[test]
    fn a_closed_pipe_ends_quietly_but_not_with_success() {
        let mut out = Failing {
            room: 3,
            error: || std::io::Error::from(ErrorKind::BrokenPipe),
            got: Vec::new(),
        };
        let mut err = Vec::new();
        assert_eq!(emit(&outcome(), &mut out, &mut err), BROKEN_PIPE);
        assert!(err.is_empty());
        let mut closed = Failing {
            room: 0,
            error: || std::io::Error::from(ErrorKind::BrokenPipe),
            got: Vec::new(),
        };
        assert_eq!(error(&mut closed, "x"), BROKEN_PIPE);
    }

    #[test]
    fn the_outcome_code_otherwise() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut o = outcome();
        o.exit_code = 2;
        assert_eq!(emit(&o, &mut out, &mut err), 2);
        assert_eq!(out.len(), 500);
    }
}
