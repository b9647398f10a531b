//! A `test` run written as it goes: workers evaluate inputs in parallel, this thread
//! puts their records back in walk order and hands each to the output formats at once,
//! so memory does not grow with the number of inputs. The bytes equal the batch run's
//! (every format is a [`Sink`] there too).
//!
//! Records are namespace-major: the first namespace's records are written as files
//! finish, later namespaces' wait in spools (temporary files past 1 MiB). Output is held
//! in memory until [`HOLD`] bytes, so a run with less output behaves exactly as a batch
//! run (an error leaves stdout empty); past it, it is written through, and a later error
//! leaves what was written. Files are written beside their path and renamed into place
//! at the end.

use super::check::{evaluated, exit_code, Checker, FileResult};
use super::settings::TestSettings;
use super::Outcome;
use crate::base::fs::io_reason;
use crate::base::result::{CheckResult, Totals};
use crate::base::spool::Spool;
use crate::output::{sink_for, Sink};
use crate::parser::discover::InputFile;
use anyhow::{anyhow, bail, Result};
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

/// Output bytes held in memory before a target is written through.
const HOLD: usize = 1 << 20;

/// Inputs taken for evaluation but not yet written: bounds the records waiting behind a
/// slow input.
const WINDOW: usize = 4096;

/// Consecutive inputs a worker takes at once: copies of one document are often next to
/// each other in the walk, and one worker evaluates the first and reuses its results for
/// the others, where several workers would each evaluate (or wait for) the same content.
const CHUNK: usize = 32;

// The feeder waits for a window slot only between whole chunks.
const _: () = assert!(WINDOW % CHUNK == 0);

/// Whether `s` can be run streamed: every option whose output depends on all results
/// at once (`--combine`, `--fix`, `--diff`, `--trace`, `--redact`) runs as a batch.
pub(super) fn streams(s: &TestSettings) -> bool {
    !s.combine && !s.fix && !s.diff && !s.trace && !s.redact
}

/// A destination's state.
enum Dest {
    /// Below [`HOLD`], or not yet known to be wanted (`--quiet`, a later stdout target).
    Held(Vec<u8>),
    /// Past [`HOLD`] while it cannot be written yet.
    Spooled(Spool),
    /// Written through.
    Through(io::BufWriter<Box<dyn Write>>),
}

/// One `-o` output: its format and where its bytes are.
struct Target {
    sink: Box<dyn Sink>,
    out: TargetOut,
}

/// The writer a [`Target`]'s sink writes to.
struct TargetOut {
    /// `None`: stdout.
    path: Option<String>,
    dest: Dest,
    /// May be written through once past [`HOLD`]: not `--quiet` (whose output depends on
    /// the exit code) and not a second target on stdout (which follows the first).
    through: bool,
    /// The temporary sibling of `path` while writing through.
    part: Option<PathBuf>,
}

impl TargetOut {
    /// The destination opened for writing: stdout, or a temporary sibling of the path.
    fn open(&mut self) -> io::Result<Box<dyn Write>> {
        let Some(path) = &self.path else {
            return Ok(Box::new(io::stdout()));
        };
        let path = std::path::Path::new(path);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let part = path.with_file_name(format!(
            ".{}.{}.part",
            name.unwrap_or_default(),
            std::process::id()
        ));
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&part)?;
        self.part = Some(part);
        Ok(Box::new(f))
    }

    /// Ends the output: what is still held goes to `stdout_text` (stdout) or `files`,
    /// as a batch run's would; what was written through is flushed and renamed into
    /// place. With `wanted` false (`--quiet` and exit code 0) nothing is written.
    fn close(
        &mut self,
        wanted: bool,
        stdout_text: &mut Vec<u8>,
        files: &mut Vec<(String, String)>,
    ) -> io::Result<()> {
        let dest = std::mem::replace(&mut self.dest, Dest::Held(Vec::new()));
        match dest {
            Dest::Held(bytes) if wanted => match &self.path {
                None => stdout_text.extend_from_slice(&bytes),
                Some(p) => files.push((p.clone(), String::from_utf8_lossy(&bytes).into_owned())),
            },
            Dest::Held(_) => {}
            Dest::Spooled(mut spool) if wanted => {
                let mut w = self.open()?;
                if self.path.is_none() {
                    // Text held for earlier stdout targets comes first.
                    w.write_all(&std::mem::take(stdout_text))?;
                }
                spool.drain_to(&mut w)?;
                w.flush()?;
                self.rename()?;
            }
            Dest::Spooled(_) => {}
            Dest::Through(mut w) => {
                w.flush()?;
                self.rename()?;
            }
        }
        Ok(())
    }

    fn rename(&mut self) -> io::Result<()> {
        if let (Some(part), Some(path)) = (self.part.take(), &self.path) {
            std::fs::rename(part, path)?;
        }
        Ok(())
    }

    /// What a failed write says.
    fn error(&self, e: &io::Error) -> anyhow::Error {
        if self.path.is_none() && e.kind() == io::ErrorKind::BrokenPipe {
            return anyhow!(super::emit::BrokenPipe);
        }
        match &self.path {
            Some(p) => anyhow!("write output {p}: {}", io_reason(e)),
            None => anyhow!("write stdout: {}", io_reason(e)),
        }
    }
}

impl Drop for TargetOut {
    /// A run that stops leaves no partial file behind.
    fn drop(&mut self) {
        if let Some(part) = self.part.take() {
            let _ = std::fs::remove_file(part);
        }
    }
}

impl Write for TargetOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.dest {
            Dest::Through(w) => return w.write(buf),
            Dest::Spooled(s) => s.write(buf)?,
            Dest::Held(bytes) => {
                bytes.extend_from_slice(buf);
                if bytes.len() > HOLD {
                    let held = std::mem::take(bytes);
                    if self.through {
                        let mut w = io::BufWriter::with_capacity(1 << 16, self.open()?);
                        w.write_all(&held)?;
                        self.dest = Dest::Through(w);
                    } else {
                        let mut spool = Spool::new(true);
                        spool.write(&held)?;
                        self.dest = Dest::Spooled(spool);
                    }
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.dest {
            Dest::Through(w) => w.flush(),
            _ => Ok(()),
        }
    }
}

/// The writing side of a streamed run.
struct Writer {
    targets: Vec<Target>,
    totals: Totals,
    /// Records of the second and later namespaces, one JSON line each.
    later: Vec<Spool>,
    /// `--fail-on-empty`: the first input no rule was evaluated for.
    untested: Option<String>,
}

impl Writer {
    fn emit(&mut self, r: &CheckResult) -> Result<()> {
        self.totals.add(r);
        for t in &mut self.targets {
            if let Err(e) = t.sink.record(r, &mut t.out) {
                return Err(t.out.error(&e));
            }
        }
        Ok(())
    }

    /// One input's records, one per namespace.
    fn file(&mut self, records: Vec<CheckResult>) -> Result<()> {
        if self.untested.is_none() && !records.iter().any(evaluated) {
            self.untested = records.first().map(|r| r.filename.clone());
        }
        for (k, r) in records.into_iter().enumerate() {
            if k == 0 {
                self.emit(&r)?;
                continue;
            }
            let spool = &mut self.later[k - 1];
            let mut line = serde_json::to_vec(&r)?;
            line.push(b'\n');
            spool
                .write(&line)
                .map_err(|e| anyhow!("holding results: {}", io_reason(&e)))?;
        }
        Ok(())
    }

    /// The later namespaces' records, then each format's end.
    fn finish(&mut self) -> Result<()> {
        for spool in std::mem::take(&mut self.later) {
            let reader = spool
                .into_reader()
                .map_err(|e| anyhow!("reading held results: {}", io_reason(&e)))?;
            for line in reader.lines() {
                let line = line.map_err(|e| anyhow!("reading held results: {}", io_reason(&e)))?;
                let mut de = serde_json::Deserializer::from_str(&line);
                de.disable_recursion_limit();
                let stacked = serde_stacker::Deserializer::new(&mut de);
                let r: CheckResult = serde::Deserialize::deserialize(stacked)
                    .map_err(|e| anyhow!("reading held results: {e}"))?;
                self.emit(&r)?;
            }
        }
        let totals = self.totals;
        for t in &mut self.targets {
            if let Err(e) = t.sink.finish(&totals, &mut t.out) {
                return Err(t.out.error(&e));
            }
        }
        Ok(())
    }
}

/// Evaluates the inputs `walk` gives with `checker`'s workers and writes every output as
/// records come; also gives the first input no rule was evaluated for.
pub(super) fn run(
    s: &TestSettings,
    checker: &Checker,
    walk: impl Iterator<Item = Result<InputFile>> + Send,
) -> Result<(Outcome, Option<String>)> {
    let opts = crate::output::OutputOptions {
        prints: checker.engine.may_print(),
        spill: true,
        ..s.output_options.clone()
    };
    let mut first_stdout = true;
    let targets = s
        .outputs
        .iter()
        .map(|o| {
            let through = !s.quiet && (o.path.is_some() || std::mem::take(&mut first_stdout));
            Target {
                sink: sink_for(&o.format, &opts),
                out: TargetOut {
                    path: o.path.clone(),
                    dest: Dest::Held(Vec::new()),
                    through,
                    part: None,
                },
            }
        })
        .collect();
    let mut writer = Writer {
        targets,
        totals: Totals::default(),
        later: (1..checker.namespaces.len())
            .map(|_| Spool::new(true))
            .collect(),
        untested: None,
    };
    evaluate(s, checker, walk, |f, res| {
        writer.file(checker.records(f, res)?)
    })?;
    if let Some(p) = &checker.progress {
        p.finish_and_clear();
    }
    writer.finish()?;

    let code = exit_code(&writer.totals, s.fail_on_warn, s.no_fail);
    let wanted = !(s.quiet && code == 0);
    let mut outcome = Outcome {
        exit_code: code,
        ..Default::default()
    };
    let mut stdout_text = Vec::new();
    for t in &mut writer.targets {
        if let Err(e) = t.out.close(wanted, &mut stdout_text, &mut outcome.files) {
            return Err(t.out.error(&e));
        }
    }
    outcome.stdout = String::from_utf8_lossy(&stdout_text).into_owned();
    Ok((outcome, writer.untested))
}

/// What the writer receives for one position of the walk.
enum Done {
    /// An input and its result.
    File(InputFile, FileResult),
    /// The walk failed here.
    WalkFailed(anyhow::Error),
}

/// Walks `walk` on a thread of its own, evaluates its inputs on worker threads, and calls
/// `each` with every input's result in walk order. At most [`WINDOW`] inputs are taken
/// ahead of the next one to write, so a slow input holds back a bounded number of
/// records and the walk stays a bounded distance ahead; an error from `each` or from
/// the walk (when its turn comes) stops the run.
fn evaluate(
    s: &TestSettings,
    checker: &Checker,
    walk: impl Iterator<Item = Result<InputFile>> + Send,
    mut each: impl FnMut(&InputFile, FileResult) -> Result<()>,
) -> Result<()> {
    let jobs = match s.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let stop = AtomicBool::new(false);
    let (work_tx, work_rx) = mpsc::sync_channel::<Vec<(usize, InputFile)>>(jobs * 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, Done)>();
    let (token_tx, token_rx) = mpsc::sync_channel::<()>(WINDOW);
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..WINDOW {
            token_tx
                .send(())
                .map_err(|_| anyhow!("internal error: no work queue"))?;
        }
        let stop = &stop;
        let walk_done = done_tx.clone();
        let feeder = scope.spawn(move || {
            let mut count = 0;
            let mut chunk = Vec::with_capacity(CHUNK);
            for item in walk {
                if token_rx.recv().is_err() || stop.load(Ordering::Relaxed) {
                    break;
                }
                match item {
                    Ok(f) => chunk.push((count, f)),
                    Err(e) => {
                        let _ = walk_done.send((count, Done::WalkFailed(e)));
                        count += 1;
                        break;
                    }
                }
                count += 1;
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    if work_tx.send(full).is_err() {
                        return count;
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = work_tx.send(chunk);
            }
            count
        });
        for _ in 0..jobs {
            let (work_rx, done_tx) = (&work_rx, done_tx.clone());
            std::thread::Builder::new()
                // Deeply nested inputs recurse in conversion and evaluation.
                .stack_size(256 * 1024 * 1024)
                .spawn_scoped(scope, move || {
                    let mut engine = None;
                    loop {
                        let next = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => break,
                        };
                        let Ok(chunk) = next else { break };
                        for (i, f) in chunk {
                            // Drained, not evaluated: the feeder may be waiting to send.
                            if stop.load(Ordering::Relaxed) {
                                break;
                            }
                            // A panic is this input's error: the writer waits for every
                            // index.
                            let res =
                                crate::engine::guard::catch(|| checker.check(&mut engine, &f))
                                    .unwrap_or_else(|panic| {
                                        engine = None;
                                        Err((false, format!("internal error: {panic}")))
                                    });
                            if done_tx.send((i, Done::File(f, res))).is_err() {
                                break;
                            }
                        }
                    }
                })
                .map_err(|e| anyhow!("starting worker threads: {e}"))?;
        }
        drop(done_tx);
        let mut waiting: BTreeMap<usize, Done> = BTreeMap::new();
        let mut next = 0;
        let written = (|| -> Result<()> {
            for (i, done) in done_rx.iter() {
                waiting.insert(i, done);
                while let Some(done) = waiting.remove(&next) {
                    match done {
                        Done::File(f, res) => each(&f, res)?,
                        Done::WalkFailed(e) => return Err(e),
                    }
                    next += 1;
                    // The feeder may have stopped after the last input.
                    let _ = token_tx.send(());
                }
            }
            Ok(())
        })();
        stop.store(true, Ordering::Relaxed);
        drop(token_tx);
        written?;
        let count = feeder
            .join()
            .map_err(|_| anyhow!("internal error: the walk stopped"))?;
        if next < count {
            bail!("internal error: a worker stopped before evaluating input {next}");
        }
        Ok(())
    })
}
