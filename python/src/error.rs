//! runstore's errors as Python exceptions, in one place.

use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::{PyErr, create_exception};

create_exception!(
    runstore,
    RunstoreError,
    PyException,
    "An error of runstore: the file could not be opened, read or written, or a value was refused."
);

create_exception!(
    runstore,
    ForkedProcessError,
    PyRuntimeError,
    "A recorder or run made before os.fork() was used in the child process, which has no writer \
     thread. Call runstore.init() again in the child (it records through its own writer)."
);

/// A recording error as a Python exception.
pub fn recording(e: runstore::Error) -> PyErr {
    RunstoreError::new_err(e.to_string())
}

/// A store (reading) error as a Python exception.
pub fn store(e: runstore_core::Error) -> PyErr {
    RunstoreError::new_err(e.to_string())
}

/// The error for an object made before a fork and used in the child.
pub fn forked(what: &str, made_in: u32) -> PyErr {
    ForkedProcessError::new_err(format!(
        "this {what} was made in process {made_in}, which then forked; this process ({}) has no \
         writer thread for it. Call runstore.init() in the child process instead",
        std::process::id()
    ))
}
