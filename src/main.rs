//! The `regorun` binary: parse arguments, run the library, map the outcome to an exit code.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// The main thread's stack: deeply nested inputs recurse in parsing, conversion and
/// evaluation, as on the batch workers (it is virtual memory, committed only when used).
const STACK_SIZE: usize = 256 * 1024 * 1024;

fn main() -> ExitCode {
    let worker = std::thread::Builder::new()
        .name("main".into())
        .stack_size(STACK_SIZE)
        .spawn(run_main);
    match worker.map(|w| w.join()) {
        Ok(Ok(code)) => code,
        // The panic message is already on stderr; never exit 101 or 0 for it.
        Ok(Err(panic)) => {
            let msg = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("panic");
            eprintln!("Error: internal error: {msg}");
            ExitCode::from(1)
        }
        Err(_) => run_main(),
    }
}

fn run_main() -> ExitCode {
    // regorus builds (and discards) anyhow errors on hot paths; with RUST_BACKTRACE set in
    // the environment each would capture a backtrace, tripling per-file cost. Panics keep
    // their backtraces; only library error capture is turned off.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let cli = match regorun::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return regorun::cli::report_clap_error(e),
    };
    if cli.command.is_none() && !cli.version {
        let _ = regorun::cli::print_help();
        return ExitCode::SUCCESS;
    }
    match regorun::run(cli) {
        Ok(outcome) => {
            for (path, text) in &outcome.files {
                if let Err(e) = std::fs::write(path, text) {
                    eprintln!("Error: write output {path}: {e}");
                    return ExitCode::from(1);
                }
            }
            if !outcome.stderr.is_empty() {
                let mut stderr = std::io::stderr().lock();
                let _ = stderr.write_all(outcome.stderr.as_bytes());
                let _ = stderr.flush();
            }
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(outcome.stdout.as_bytes());
            let _ = stdout.flush();
            ExitCode::from(outcome.exit_code as u8)
        }
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::from(1)
        }
    }
}
