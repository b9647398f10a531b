//! The `regorun` binary: parse arguments, run the library, map the outcome to an exit code.

use clap::Parser;
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
            ExitCode::from(regorun::commands::emit::error(
                &mut std::io::stderr(),
                &format!("internal error: {msg}"),
            ))
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
    let result = regorun::run(cli);
    // Locked only now: workers (and regorus's own warnings) write to stderr during the run.
    let (mut stdout, mut stderr) = (std::io::stdout().lock(), std::io::stderr().lock());
    let code = match result {
        Ok(outcome) => regorun::commands::emit::emit(&outcome, &mut stdout, &mut stderr),
        Err(e) => regorun::commands::emit::failed(&mut stderr, &e),
    };
    ExitCode::from(code)
}
