//! Reading a database lazily from a host-provided byte source (a browser `File` read in
//! slices, a static file read with HTTP range requests, a `Vec` in tests) instead of copying
//! the whole file into memory first.
//!
//! The host implements [`ByteSource`]; [`open_connection`] opens a read-only SQLite
//! connection over it through a VFS that fetches the file in blocks, with read-ahead that
//! grows while reads are sequential and an LRU cache of recent blocks. The file is treated as
//! immutable: SQLite never looks for journals or WAL files and never writes.
//!
//! ```
//! use runstore_core::source::{SourceOptions, open_connection};
//!
//! # fn main() -> runstore_core::Result<()> {
//! let mut store = runstore_core::Store::open_in_memory(0)?;
//! let bytes: Vec<u8> = store.to_bytes()?; // any ByteSource: a Vec is the simplest
//! let (conn, stats) = open_connection(Box::new(bytes), &SourceOptions::default())?;
//! let n: i64 = conn.query_row("SELECT count(*) FROM runs", [], |r| r.get(0))?;
//! assert_eq!(n, 0);
//! assert!(stats.get().bytes_fetched > 0);
//! # Ok(()) }
//! ```

mod read_ahead;
mod vfs;

use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::Result;
pub use read_ahead::ReadAhead;

/// Random-access reads of a file the host holds. Called only from the thread that uses the
/// connection (the browser's worker, or a test).
pub trait ByteSource: Send {
    /// The file's length in bytes.
    fn size(&self) -> u64;
    /// Fills `buf` from `offset`; returns how many bytes were read (fewer only at the end of
    /// the file). An `Err` message becomes an SQLite I/O error naming it.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::result::Result<usize, String>;
}

/// Bytes in memory are a source too (tests, and hosts that already hold the file).
impl ByteSource for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::result::Result<usize, String> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

/// How a [`ByteSource`] is read.
#[derive(Debug, Clone, Copy)]
pub struct SourceOptions {
    /// Smallest fetch, in bytes (a power of two, at least the page size). Default 8 KiB,
    /// runstore's page size: a lookup fetches just the page it needs (a static file read over
    /// HTTP is charged by the byte), while scans still grow their fetches.
    pub block_size: u32,
    /// Largest fetch while reads run sequentially. Default 4 MiB.
    pub max_read_ahead: u32,
    /// Most bytes of fetched blocks kept for reuse. Default 32 MiB.
    pub cache_bytes: u64,
    /// Bytes the first read of the file's start fetches in one call (at most
    /// `max_read_ahead`): the schema and the root pages of every table and index, which
    /// SQLite places at the start of a new file, so opening and counting cost one fetch
    /// instead of dozens. Default 512 KiB.
    pub head_bytes: u32,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            block_size: 8 << 10,
            max_read_ahead: 4 << 20,
            cache_bytes: 32 << 20,
            head_bytes: 512 << 10,
        }
    }
}

impl SourceOptions {
    /// For a file on the reader's own machine (a browser `File` read with `FileReaderSync`):
    /// there a read costs about the same whatever its size up to tens of KiB (1.6 ms for 8 KiB
    /// or 64 KiB in Chromium) and bytes cost nothing, so blocks are 64 KiB and 64 MiB of them
    /// are kept; a scan of a 10,000-run listing takes 400 fetches instead of 10,000.
    pub fn local_file() -> SourceOptions {
        SourceOptions { block_size: 64 << 10, cache_bytes: 64 << 20, ..SourceOptions::default() }
    }
}

/// What reading a source has cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SourceCounters {
    /// Calls to [`ByteSource::read_at`].
    pub fetches: u64,
    /// Bytes those calls returned.
    pub bytes_fetched: u64,
    /// Reads SQLite asked for.
    pub page_reads: u64,
    /// Bytes of blocks held in the cache now.
    pub cached_bytes: u64,
}

/// A live view of a source's [`SourceCounters`], shared with the connection reading it.
#[derive(Debug, Clone)]
pub struct SourceStats(Arc<Mutex<SourceCounters>>);

impl SourceStats {
    /// The counters now.
    pub fn get(&self) -> SourceCounters {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Opens a read-only connection over `source`. Every open reads through its own block cache;
/// the returned [`SourceStats`] tracks its fetches. Fails for sources that are not SQLite
/// databases only at the first query, as SQLite does for files.
pub fn open_connection(
    source: Box<dyn ByteSource>,
    options: &SourceOptions,
) -> Result<(Connection, SourceStats)> {
    let counters = Arc::new(Mutex::new(SourceCounters::default()));
    let reader = ReadAhead::new(source, *options, counters.clone());
    let name = vfs::register_pending(reader)?;
    let conn = Connection::open_with_flags_and_vfs(
        format!("file:{name}?immutable=1"),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        vfs::VFS_NAME,
    );
    vfs::forget_pending(&name);
    let conn = conn?;
    crate::store::configure(&conn)?;
    Ok((conn, SourceStats(counters)))
}
