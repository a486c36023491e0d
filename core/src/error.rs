//! The one error type of `runstore-core`.

use std::fmt;

/// Everything that can go wrong in `runstore-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite reported an error (I/O, constraint, corrupt file, ...).
    #[error("sqlite: {}", Escaped(.0))]
    Sqlite(rusqlite::Error),

    /// The file is a SQLite database but not a runstore store (no runstore tables, or another
    /// program's `application_id`).
    #[error("not a runstore file: {}", Escaped(.0))]
    NotRunstore(String),

    /// The bytes or file are not a SQLite database at all, or are damaged beyond opening.
    #[error("not a SQLite database or damaged: {}", Escaped(.0))]
    Malformed(String),

    /// The file was written by a newer runstore whose schema this version cannot read.
    #[error(
        "file has schema version {found}, newer than this runstore understands (up to {supported}) \
         and not readable by older versions; upgrade runstore to open it"
    )]
    SchemaTooNew {
        /// Schema version recorded in the file.
        found: i64,
        /// Highest schema version this build knows.
        supported: i64,
    },

    /// The file is from a newer schema that this version can read but must not write.
    #[error(
        "file has schema version {found}, newer than this runstore writes (up to {supported}); \
         it was opened read-only, so recording into it is refused — upgrade runstore to write"
    )]
    ReadOnly {
        /// Schema version recorded in the file.
        found: i64,
        /// Highest schema version this build knows.
        supported: i64,
    },

    /// A named thing (run, experiment, model, version, alias, ...) does not exist.
    #[error("{kind} not found: {}", Escaped(.name))]
    NotFound {
        /// What kind of thing was looked up ("run", "model", ...).
        kind: &'static str,
        /// The name or id that was looked up.
        name: String,
    },

    /// An argument is invalid (empty name, unknown status, bad id, ...).
    #[error("invalid {what}: {}", Escaped(.why))]
    Invalid {
        /// Which argument.
        what: &'static str,
        /// Why it is rejected.
        why: String,
    },

    /// A stored value could not be decoded (a damaged point chunk or JSON column).
    #[error("corrupt data in {table}: {}", Escaped(.why))]
    Corrupt {
        /// Table holding the bad value.
        table: &'static str,
        /// What is wrong with it.
        why: String,
    },

    /// A run filter or sort key does not parse (the error says where and what was expected).
    #[error("invalid filter {0}")]
    Filter(crate::filter::FilterError),

    /// JSON encoding or decoding failed.
    #[error("json: {}", Escaped(.0))]
    Json(serde_json::Error),
}

// Conversions are written out rather than derived with `#[from]`, which would also make the
// wrapped error the `source()`: reporters that print error chains would then show its message
// twice, since each variant's message already includes it.
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Sqlite(e)
    }
}

impl From<crate::filter::FilterError> for Error {
    fn from(e: crate::filter::FilterError) -> Self {
        Error::Filter(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e)
    }
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(what: &'static str, why: impl Into<String>) -> Self {
        Error::Invalid { what, why: why.into() }
    }

    /// Whether this is SQLite's "database is busy/locked": another process held a lock for
    /// longer than the busy timeout. Retrying later is safe.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }

    /// Whether the file failed for a reason that can pass: a lock held too long, a full disk,
    /// an I/O error, a file that cannot be opened just now, memory. Writing the same batch
    /// again later may succeed. (A read-only file is not transient: retrying would only hold
    /// the recording up.)
    pub fn is_transient(&self) -> bool {
        use rusqlite::ErrorCode as C;
        matches!(
            self,
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) if matches!(
                e.code,
                C::DatabaseBusy
                    | C::DatabaseLocked
                    | C::DiskFull
                    | C::SystemIoFailure
                    | C::CannotOpen
                    | C::OutOfMemory
            )
        )
    }

    /// Whether the error is the fault of the event being written (an invalid value, a run
    /// that does not exist, a constraint it breaks) rather than of the file: such an event is
    /// refused alone, and the rest of its batch is written.
    pub fn blames_event(&self) -> bool {
        use rusqlite::ErrorCode as C;
        match self {
            Error::Invalid { .. } | Error::NotFound { .. } | Error::Json(_) => true,
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                matches!(
                    e.code,
                    C::ConstraintViolation | C::TypeMismatch | C::TooBig | C::ParameterOutOfRange
                )
            }
            // A lookup that finds nothing where the event said something would be (an id
            // already taken under another name, say).
            Error::Sqlite(
                rusqlite::Error::ToSqlConversionFailure(_)
                | rusqlite::Error::InvalidQuery
                | rusqlite::Error::QueryReturnedNoRows,
            ) => true,
            _ => false,
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(kind: &'static str, name: impl Into<String>) -> Self {
        Error::NotFound { kind, name: name.into() }
    }
}

/// Shows a value with its control characters escaped (`\u{1b}`, `\n`, `\t`) and everything else
/// as it is. Messages quote names and text from files and links (a run, a metric key, the keys
/// a did-you-mean lists, SQLite's and serde's own quotes): printed raw, an escape sequence among
/// them would drive the terminal that shows the message. Every variant of [`Error`] but
/// [`Error::Filter`] (which escapes its own text, keeping its caret aligned) is shown through it.
pub(crate) struct Escaped<T>(pub T);

impl<T: fmt::Display> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// Passes text on to the formatter, escaping control characters.
        struct Escaping<'a, 'b>(&'a mut fmt::Formatter<'b>);
        impl fmt::Write for Escaping<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                for c in s.chars() {
                    if c.is_control() {
                        write!(self.0, "{}", c.escape_debug())?;
                    } else {
                        fmt::Write::write_char(self.0, c)?;
                    }
                }
                Ok(())
            }
        }
        fmt::Write::write_fmt(&mut Escaping(f), format_args!("{}", self.0))
    }
}
