//! A runstore file (or in-memory store) and how it is opened.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, MAIN_DB, OpenFlags};

use crate::schema::{self, Compatibility};
use crate::{Error, Result};

/// How a store file is opened for writing.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// How long a statement waits for another process's lock before failing.
    /// Default: 60 s, far longer than any runstore transaction holds a lock.
    pub busy_timeout: Duration,
    /// Use the write-ahead log, so readers never block the writer and several processes can
    /// record into one file. Default: `true`.
    pub wal: bool,
    /// `PRAGMA synchronous`: `NORMAL` (default) is durable across application crashes and
    /// loses at most the last transactions on power loss in WAL mode.
    pub synchronous: &'static str,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { busy_timeout: Duration::from_secs(60), wal: true, synchronous: "NORMAL" }
    }
}

/// A runstore store: one SQLite database holding many experiments.
///
/// Open it for writing with [`Store::open`] (creates and migrates the file), for reading with
/// [`Store::open_read_only`], or from bytes with [`Store::from_bytes`] (both targets).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    compat: Compatibility,
}

/// What every connection runstore opens is set up with: the query planner stability
/// guarantee. SQLite built with STAT4 (as the native build is) compiles a statement again
/// whenever a bound value that might steer its plan changes, and rusqlite clears the bindings
/// of each cached statement it takes back — so every cached query was parsed and planned anew
/// on every use (half the time of listing runs). runstore never runs ANALYZE: bound values
/// could never change a plan.
pub(crate) fn configure(conn: &Connection) -> Result<()> {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the store at `path` for writing, migrating it to the current
    /// schema. `now_ms` is recorded as the time migrations were applied.
    ///
    /// Fails with [`Error::ReadOnly`] or [`Error::SchemaTooNew`] for files from a newer
    /// runstore and [`Error::NotRunstore`] for other SQLite files.
    pub fn open(path: impl AsRef<Path>, options: &OpenOptions, now_ms: i64) -> Result<Store> {
        let mut conn = Connection::open(path.as_ref()).map_err(|e| open_error(path.as_ref(), e))?;
        configure(&conn)?;
        // SQLite takes whole milliseconds in an int: longer waits are as good as forever.
        conn.busy_timeout(options.busy_timeout.min(Duration::from_millis(i32::MAX as u64)))?;
        // Foreign files must be refused before anything (even the journal mode) is changed.
        schema::check(&conn).map_err(|e| refine_open_error(path.as_ref(), e))?;
        schema::prepare_new(&conn)?;
        if options.wal {
            set_wal(&conn)?;
        }
        conn.pragma_update(None, "synchronous", options.synchronous)?;
        let compat = schema::migrate(&mut conn, now_ms)?;
        Ok(Store { conn, compat })
    }

    /// Opens the store at `path` read-only. Files from a newer schema open when that schema
    /// declares itself readable by this version.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store> {
        let conn = Connection::open_with_flags(
            path.as_ref(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| open_error(path.as_ref(), e))?;
        configure(&conn)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let compat = schema::check(&conn).map_err(|e| refine_open_error(path.as_ref(), e))?;
        if compat.file_version == 0 {
            return Err(Error::NotRunstore("the database is empty".into()));
        }
        Ok(Store { conn, compat })
    }

    /// Runs `read` in one read transaction (unless one is open already), so that its
    /// statements see one moment of a file other connections are writing.
    pub(crate) fn in_snapshot<T>(&self, read: impl FnOnce() -> Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            return read();
        }
        self.conn.execute_batch("BEGIN DEFERRED")?;
        let result = read();
        // Ending a read transaction cannot lose anything; its error matters only if `read` succeeded.
        let ended = self.conn.execute_batch("COMMIT");
        let value = result?;
        ended?;
        Ok(value)
    }

    /// A new, empty, migrated store in memory; [`Store::to_bytes`] or
    /// `VACUUM INTO` persist it later.
    pub fn open_in_memory(now_ms: i64) -> Result<Store> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        schema::prepare_new(&conn)?;
        let compat = schema::migrate(&mut conn, now_ms)?;
        Ok(Store { conn, compat })
    }

    /// Opens a store from the bytes of a `.db` file, as an in-memory copy that is never
    /// written back. Files saved in WAL mode are accepted. Works on every target.
    pub fn from_bytes(bytes: &[u8]) -> Result<Store> {
        if bytes.len() < 100 || &bytes[..16] != b"SQLite format 3\0" {
            return Err(Error::Malformed(format!("{} bytes without the SQLite header", bytes.len())));
        }
        let mut copy = bytes.to_vec();
        // A WAL-mode file has read/write versions 2; an in-memory copy has no WAL to read.
        if copy[18] == 2 {
            copy[18] = 1;
        }
        if copy[19] == 2 {
            copy[19] = 1;
        }
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        conn.deserialize_read_exact(MAIN_DB, &copy[..], copy.len(), true)
            .map_err(|e| Error::Malformed(e.to_string()))?;
        let compat = schema::check(&conn).map_err(|e| match e {
            Error::Sqlite(e) => Error::Malformed(e.to_string()),
            other => other,
        })?;
        if compat.file_version == 0 {
            return Err(Error::NotRunstore("the database is empty".into()));
        }
        Ok(Store { conn, compat })
    }

    /// Opens a store lazily over a host's [`ByteSource`](crate::source::ByteSource): pages are
    /// fetched as queries need them, so files far larger than memory open (a browser `File`,
    /// a static file read with HTTP range requests). Read-only, like [`Store::from_bytes`].
    pub fn from_source(
        source: Box<dyn crate::source::ByteSource>,
        options: &crate::source::SourceOptions,
    ) -> Result<(Store, crate::source::SourceStats)> {
        let (conn, stats) = crate::source::open_connection(source, options)?;
        let compat = schema::check(&conn).map_err(|e| match e {
            Error::Sqlite(e) => Error::Malformed(e.to_string()),
            other => other,
        })?;
        if compat.file_version == 0 {
            return Err(Error::NotRunstore("the database is empty".into()));
        }
        Ok((Store { conn, compat }, stats))
    }

    /// The whole database as the bytes of a `.db` file (rollback-journal mode, readable by any
    /// SQLite, the browser included).
    pub fn to_bytes(&mut self) -> Result<Vec<u8>> {
        let data = self.conn.serialize(MAIN_DB)?;
        let mut bytes = data.to_vec();
        if bytes.len() > 19 {
            bytes[18] = 1;
            bytes[19] = 1;
        }
        Ok(bytes)
    }

    /// The underlying connection, for queries of your own.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The underlying connection, mutably (transactions).
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The file's schema version and whether this build may write it.
    pub fn compatibility(&self) -> Compatibility {
        self.compat
    }

    /// Moves everything in the write-ahead log into the database file and empties the log, so
    /// that the `.db` file alone holds every committed write: a file copied, or dropped into
    /// the page, without its `-wal`. (SQLite does this when the last connection closes, but not
    /// when a read-only connection is the last.) `Ok(false)` when a reader in the middle of a
    /// read kept it from finishing: the log then still holds the rest, nothing is lost.
    pub fn checkpoint(&self) -> Result<bool> {
        let busy: i64 = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        Ok(busy == 0)
    }

    /// Runs SQLite's `PRAGMA integrity_check`; `Ok(())` when the file is sound.
    pub fn integrity_check(&self) -> Result<()> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let problems: Vec<String> =
            stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
        if problems == ["ok"] { Ok(()) } else { Err(Error::Malformed(problems.join("; "))) }
    }
}

/// Switches to WAL. SQLite's busy handler waits for the lock this needs; a host that opens
/// a file from many processes at once retries [`Store::open`] on [`Error::is_busy`] errors.
fn set_wal(conn: &Connection) -> Result<()> {
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))?;
    Ok(())
}

fn open_error(path: &Path, e: rusqlite::Error) -> Error {
    Error::Malformed(format!("{}: {e}", path.display()))
}

fn refine_open_error(path: &Path, e: Error) -> Error {
    match e {
        Error::Sqlite(e) => Error::Malformed(format!("{}: {e}", path.display())),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn cached_statements_are_not_planned_again_on_each_use() {
        let mut memory = Store::open_in_memory(0).unwrap();
        let (lazy, _) =
            crate::source::open_connection(Box::new(memory.to_bytes().unwrap()), &Default::default())
                .unwrap();
        // Two cached statements taken in turn, as listing runs does for each run.
        let queries = [
            "SELECT key, kind, value FROM params WHERE owner_kind = ?1 AND owner_id = ?2 ORDER BY key",
            "SELECT key, value FROM tags WHERE owner_kind = ?1 AND owner_id = ?2 ORDER BY key",
        ];
        for conn in [memory.conn(), &lazy] {
            for id in ["a", "b", "c", "d"] {
                for sql in queries {
                    let mut stmt = conn.prepare_cached(sql).unwrap();
                    stmt.query_map(("run", id), |_| Ok(())).unwrap().for_each(drop);
                }
            }
            for sql in queries {
                let stmt = conn.prepare_cached(sql).unwrap();
                assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0, "{sql}");
            }
        }
    }
}
