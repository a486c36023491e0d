//! The `runstore` command-line tool (see the `runstore_cli` library, which does the work).

use std::process::ExitCode;

fn main() -> ExitCode {
    runstore_cli::main_with_args(std::env::args_os())
}
