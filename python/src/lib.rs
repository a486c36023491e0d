//! The extension module `runstore._runstore` of the runstore Python package: thin PyO3
//! wrappers over the native recorder (`runstore`) and the store (`runstore-core`). The
//! Python-facing API (`runstore.init`, `runstore.open`, DataFrames) is in `python/runstore/`.

mod array;
mod cli;
mod convert;
mod environment;
mod error;
mod fork;
mod recorder;
mod run;
mod store;
mod values;

use pyo3::prelude::*;

/// Recording and reading runstore files; see the `runstore` package.
#[pymodule]
fn _runstore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("RunstoreError", py.get_type::<error::RunstoreError>())?;
    m.add("ForkedProcessError", py.get_type::<error::ForkedProcessError>())?;
    m.add_class::<recorder::Recorder>()?;
    m.add_class::<run::Run>()?;
    m.add_class::<run::Span>()?;
    m.add_class::<run::SeriesHandle>()?;
    m.add_class::<store::Store>()?;
    m.add_function(wrap_pyfunction!(store::smooth, m)?)?;
    m.add_function(wrap_pyfunction!(cli::_cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(fork::_before_fork, m)?)?;
    m.add_function(wrap_pyfunction!(fork::_after_fork_in_parent, m)?)?;
    m.add_function(wrap_pyfunction!(fork::_after_fork_in_child, m)?)?;
    // Pause writers around os.fork() and disown inherited ones in the child (see `fork`).
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("before", m.getattr("_before_fork")?)?;
    kwargs.set_item("after_in_parent", m.getattr("_after_fork_in_parent")?)?;
    kwargs.set_item("after_in_child", m.getattr("_after_fork_in_child")?)?;
    py.import("os")?.call_method("register_at_fork", (), Some(&kwargs))?;
    Ok(())
}
