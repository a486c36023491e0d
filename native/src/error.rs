//! The one error type of the `runstore` library.

/// Everything that can go wrong while recording.
///
/// Variants that wrap another error keep it typed (match on it) and include its message in
/// their own, without also returning it from `source()`: a reporter printing the chain would
/// show it twice.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store refused or failed an operation (bad file, newer schema, SQLite error, ...).
    #[error(transparent)]
    Store(#[from] runstore_core::Error),

    /// Reading a file to hash it, or another I/O operation, failed.
    #[error("{path}: {error}")]
    Io {
        /// The file involved.
        path: String,
        /// The I/O error.
        error: std::io::Error,
    },

    /// The writer thread has stopped (its guard was dropped, or it could not open the file),
    /// so nothing more can be recorded through this handle.
    #[error("the recorder's writer has stopped: {0}")]
    WriterStopped(String),

    /// The writer did not finish within the time allowed; what was still queued is lost.
    #[error("the writer did not finish within {0:?}; the disk may be full or the file locked")]
    Timeout(std::time::Duration),

    /// The file cannot be written just now (disk full, lock held, I/O error). Events already
    /// queued are kept and retried; the request that got this error was not carried out.
    #[error("the store cannot be written now (queued events are kept and retried): {0}")]
    Unavailable(std::sync::Arc<runstore_core::Error>),

    /// The writer thread panicked; events queued at that moment were not written.
    #[error("the writer thread panicked; events queued at that moment were not written")]
    WriterPanicked,

    /// A self-contained report could not be built from the page's files.
    #[error("report: {0}")]
    Report(String),

    /// Drawing or encoding a chart failed.
    #[error("chart: {0}")]
    Chart(String),

    /// Building or writing a DataFrame (or Parquet file) failed.
    #[cfg(feature = "dataframe")]
    #[error("dataframe: {0}")]
    DataFrame(polars::error::PolarsError),

    /// A file to import is not what its importer reads, or writing it failed (the message
    /// names the file and where).
    #[error("import: {0}")]
    Import(String),

    /// Earlier events were refused as invalid or could not be written (the message says
    /// which and why; [`crate::Recorder::errors`] keeps the recent ones).
    #[error("earlier writes failed: {0}")]
    WriteFailed(String),
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io { path: path.display().to_string(), error: source }
    }
}
