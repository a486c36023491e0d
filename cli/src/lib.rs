//! The `runstore` command-line tool: record the demo; inspect, filter, compare, chart, merge,
//! export, snapshot, report and serve runstore files. Its own crate, so that the `runstore`
//! library Rust and Python users link carries no CLI parser, progress bars or `anyhow`.
//!
//! As a library, [`main_with_args`] runs one command line as the `runstore` binary does, so
//! another program (the Python wheel's `runstore` command) carries the same tool; [`page`] is
//! the web page built into it, which `serve` and `report` use unless given `--www DIR`.
//!
//! ```
//! // The program name comes first, as in `std::env::args_os()`.
//! let _code = runstore_cli::main_with_args(["runstore", "--version"]);
//! assert!(runstore_cli::page().has("pkg/runstore_web_bg.wasm"));
//! ```
//!
//! Feature `dataframe` (on by default): `export --format parquet`, through polars. Without it
//! that command says so; everything else is the same.

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use runstore::page::Page;

/// `print!` to standard output, returning its error (a closed pipe, say) to the caller.
macro_rules! out {
    ($($arg:tt)*) => {
        ::std::io::Write::write_fmt(&mut ::std::io::stdout().lock(), format_args!($($arg)*))?
    };
}

/// `println!` to standard output, returning its error (a closed pipe, say) to the caller.
macro_rules! outln {
    () => { out!("\n") };
    ($($arg:tt)*) => { out!("{}\n", format_args!($($arg)*)) };
}

mod commands;

include!(concat!(env!("OUT_DIR"), "/page.rs"));

/// The web page built into this program (`www/` with its wasm, put in at build time).
pub fn page() -> Page {
    Page::Embedded(PAGE_FILES)
}

/// Runs the command line `args` (the program name first, then the arguments) as the
/// `runstore` binary does, and gives the exit code: help, version and usage errors printed as
/// clap prints them (code 0 or 2); a failed command printed as `error: ...` (code 1); `record`
/// ends with its program's code. Output cut short by a closed pipe (`runstore runs x.db |
/// head -1`) ends the command quietly.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    ExitCode::from(exit_code_of(args))
}

/// [`main_with_args`], with the exit code as a number (for hosts that exit themselves:
/// Python's `sys.exit`).
pub fn exit_code_of<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match commands::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print(); // help and version to standard output, mistakes to standard error
            let _ = std::io::stdout().flush();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    // Flushed here, not at exit: a program that calls this (Python) may not flush Rust's
    // standard output when it ends.
    let result = commands::run(cli).and_then(|code| {
        std::io::stdout().flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(e) if closed_pipe(&e) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// Whether `error` is output refused because its reader went away (`| head`).
fn closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
