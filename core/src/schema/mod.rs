//! The schema and its forward-only migrations.
//!
//! Each migration is an embedded SQL file applied in one exclusive transaction together with
//! its row in `schema_migrations`. When many processes open a brand-new file at the same moment,
//! one wins the exclusive lock and migrates; the others wait on SQLite's busy handler, then see
//! the version already applied and do nothing.
//!
//! Compatibility: every migration records the oldest schema version whose readers can still
//! read the file (`runstore_meta.min_reader_version`). A file newer than this build is opened
//! read-only when that number allows it, and refused with [`Error::SchemaTooNew`] otherwise.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::{Error, Result};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 2;

/// `PRAGMA application_id` of runstore files ("RSTR"), so `file(1)` and readers can tell a
/// runstore store from other SQLite files.
pub const APPLICATION_ID: i32 = 0x5253_5452;

/// Page size of new files, the same on every target (SQLite builds differ in their default).
/// 8 KiB holds a full 512-point chunk row without overflow pages, so reading a chunk is one
/// page read, which matters most to browsers reading files lazily.
pub const PAGE_SIZE: i64 = 8192;

/// Sets the page size of a database that has no pages yet; does nothing otherwise (it must
/// run before the journal mode is changed or anything is written).
pub(crate) fn prepare_new(conn: &Connection) -> Result<()> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    if pages == 0 {
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    }
    Ok(())
}

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
    /// Oldest schema version whose readers understand a file at `version`.
    min_reader_version: i64,
}

const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "initial", sql: include_str!("v001_initial.sql"), min_reader_version: 1 },
    Migration {
        version: 2,
        name: "chunk spans",
        sql: include_str!("v002_chunk_spans.sql"),
        min_reader_version: 1,
    },
];

/// What a reader may do with a file, from its recorded schema version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Compatibility {
    /// Schema version recorded in the file (0 for an empty, not yet migrated file).
    pub file_version: i64,
    /// Whether this build may write into it (`file_version <= SCHEMA_VERSION`).
    pub writable: bool,
}

/// Checks that `conn` holds a runstore store this build can read, without changing it.
/// An empty database (no tables) counts as version 0 and writable.
pub(crate) fn check(conn: &Connection) -> Result<Compatibility> {
    // One statement, so one snapshot: read one by one, a file that another process migrates
    // meanwhile looked like 48 tables without schema_migrations (seen with 100 processes).
    let (app_id, has_migrations, tables): (i32, bool, i64) = conn.query_row(
        "SELECT (SELECT application_id FROM pragma_application_id()),
                EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'),
                (SELECT count(*) FROM sqlite_master)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if !has_migrations {
        if tables == 0 && app_id == 0 {
            return Ok(Compatibility { file_version: 0, writable: true });
        }
        return Err(Error::NotRunstore(format!(
            "it has {tables} schema objects but no schema_migrations table{}",
            foreign_app(app_id)
        )));
    }
    if app_id != APPLICATION_ID && app_id != 0 {
        return Err(Error::NotRunstore(format!(
            "its application_id is {app_id:#x}, not runstore's{}",
            foreign_app(app_id)
        )));
    }
    let file_version: i64 =
        conn.query_row("SELECT coalesce(max(version), 0) FROM schema_migrations", [], |r| r.get(0))?;
    if file_version <= SCHEMA_VERSION {
        return Ok(Compatibility { file_version, writable: true });
    }
    let min_reader: Option<String> = conn
        .query_row("SELECT value FROM runstore_meta WHERE key = 'min_reader_version'", [], |r| r.get(0))
        .optional()
        .unwrap_or(None);
    let min_reader = min_reader.and_then(|v| v.parse::<i64>().ok()).unwrap_or(file_version);
    if min_reader <= SCHEMA_VERSION {
        Ok(Compatibility { file_version, writable: false })
    } else {
        Err(Error::SchemaTooNew { found: file_version, supported: SCHEMA_VERSION })
    }
}

fn foreign_app(app_id: i32) -> String {
    if app_id == 0 { String::new() } else { format!(" (application_id {app_id:#x})") }
}

/// Brings the schema of `conn` up to [`SCHEMA_VERSION`], recording `now_ms` as the time each
/// migration was applied. Refuses files from a newer schema ([`Error::ReadOnly`] or
/// [`Error::SchemaTooNew`]) and databases that are not runstore stores.
pub(crate) fn migrate(conn: &mut Connection, now_ms: i64) -> Result<Compatibility> {
    // Fast path without a write lock: already current.
    let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if user_version == SCHEMA_VERSION {
        let compat = check(conn)?;
        if compat.file_version == SCHEMA_VERSION {
            return Ok(compat);
        }
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let compat = check(&tx)?;
    if !compat.writable {
        return Err(Error::ReadOnly { found: compat.file_version, supported: SCHEMA_VERSION });
    }
    if compat.file_version == 0 {
        tx.execute_batch(
            "CREATE TABLE schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_ms INTEGER NOT NULL
             );",
        )?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > compat.file_version) {
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?1, ?2, ?3)",
            (m.version, m.name, now_ms),
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO runstore_meta (key, value) VALUES ('min_reader_version', ?1)",
            [m.min_reader_version.to_string()],
        )?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(Compatibility { file_version: SCHEMA_VERSION, writable: true })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn migrates_once_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn, 5).unwrap().file_version, SCHEMA_VERSION);
        assert_eq!(migrate(&mut conn, 6).unwrap().file_version, SCHEMA_VERSION);
        let rows: i64 = conn.query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, MIGRATIONS.len() as i64);
        let app: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
        assert_eq!(app, APPLICATION_ID);
    }

    #[test]
    fn refuses_foreign_databases() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE users (id INTEGER)").unwrap();
        assert!(matches!(migrate(&mut conn, 0), Err(Error::NotRunstore(_))));
    }

    #[test]
    fn newer_files_are_read_only_or_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 0).unwrap();
        conn.execute("INSERT INTO schema_migrations VALUES (?1, 'future', 0)", [SCHEMA_VERSION + 1]).unwrap();
        let compat = check(&conn).unwrap();
        assert!(!compat.writable);
        assert!(matches!(migrate(&mut conn, 0), Err(Error::ReadOnly { .. })));
        conn.execute(
            "UPDATE runstore_meta SET value = ?1 WHERE key = 'min_reader_version'",
            [(SCHEMA_VERSION + 1).to_string()],
        )
        .unwrap();
        assert!(matches!(check(&conn), Err(Error::SchemaTooNew { .. })));
    }
}
