//! The `runstore` command inside the wheel (`runstore._cli:main` calls this).

use std::ffi::OsString;

use pyo3::prelude::*;

/// Runs the `runstore` command-line tool with `argv` (program name first) and returns its
/// exit status. The GIL is released meanwhile (`runstore serve` runs until interrupted).
#[pyfunction]
pub fn _cli_main(py: Python<'_>, argv: Vec<OsString>) -> u8 {
    py.detach(move || runstore_cli::exit_code_of(argv))
}
