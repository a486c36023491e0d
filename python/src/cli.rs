//! The `runstore` command inside the wheel (`runstore._cli:main` calls this).

use std::ffi::OsString;
use std::process::ExitCode;

use pyo3::prelude::*;

/// Runs the `runstore` command-line tool with `argv` (program name first) and returns its
/// exit status. The GIL is released meanwhile (`runstore serve` runs until interrupted).
#[pyfunction]
pub fn _cli_main(py: Python<'_>, argv: Vec<OsString>) -> i32 {
    let code = py.detach(move || runstore_cli::main_with_args(argv));
    if code == ExitCode::SUCCESS { 0 } else { 1 }
}
