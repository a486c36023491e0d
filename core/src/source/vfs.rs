//! The read-only SQLite VFS over [`ReadAhead`] sources. Temporary files SQLite needs for big
//! sorts live in memory.
//!
//! SQLite calls a VFS through C function pointers, so registering one and delegating to the
//! default VFS for time and randomness needs `unsafe`; it is confined to this file.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use rsqlite_vfs::ffi::{sqlite3_vfs, sqlite3_vfs_find};
use rsqlite_vfs::{
    AccessMode, DeviceCharacteristics, FileKind, LockLevel, MemChunksFile, OpenRequest, OpenedFile,
    OsCallback, SQLiteIoMethods, SQLiteVfs, SyncOptions, VfsError, VfsErrorCode, VfsFile, VfsResult,
    VfsStore, register_vfs,
};

use super::ReadAhead;
use crate::{Error, Result};

/// The name the VFS is registered under.
pub const VFS_NAME: &str = "runstore-source";

thread_local! {
    /// Sources handed to [`register_pending`], waiting for SQLite to open them by name.
    static PENDING: RefCell<HashMap<String, ReadAhead>> = RefCell::new(HashMap::new());
}

/// Registers the VFS (once) and parks `reader` under a fresh name for the next open.
pub fn register_pending(reader: ReadAhead) -> Result<String> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    REGISTERED
        .get_or_init(|| {
            // SAFETY: registered once under a process-unique name; the methods and the VFS
            // agree on the app-data type; the registration is kept for the process lifetime.
            unsafe { register_vfs::<SourceIo, SourceVfs>(VFS_NAME, AppData::default(), false) }
                .map(|registration| {
                    registration.into_raw();
                })
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| Error::Malformed(format!("registering the source VFS: {e}")))?;
    let name = format!("source-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    PENDING.with(|p| p.borrow_mut().insert(name.clone(), reader));
    Ok(name)
}

/// Drops a parked source that SQLite did not open (a failed open).
pub fn forget_pending(name: &str) {
    PENDING.with(|p| p.borrow_mut().remove(name));
}

/// The last error, for `sqlite3_errmsg`.
#[derive(Default)]
struct AppData {
    error: Mutex<Option<VfsError>>,
}

/// A file this VFS opened: the database itself, or a temporary file in memory.
enum SourceFile {
    Database(Box<ReadAhead>),
    Temporary(MemChunksFile),
}

fn read_only() -> VfsError {
    VfsError::new(VfsErrorCode::ReadOnly, "the file is opened read-only".into())
}

impl VfsFile for SourceFile {
    fn device_characteristics(&self) -> DeviceCharacteristics {
        match self {
            SourceFile::Database(_) => DeviceCharacteristics::IMMUTABLE,
            SourceFile::Temporary(_) => DeviceCharacteristics::NONE,
        }
    }

    fn read(&mut self, buf: &mut [u8], offset: u64) -> VfsResult<usize> {
        match self {
            SourceFile::Database(reader) => {
                let n =
                    reader.read(buf, offset).map_err(|e| VfsError::new(VfsErrorCode::IoRead, e.into()))?;
                // A file saved in WAL mode says so in header bytes 18 and 19; read as immutable
                // there is no WAL to consult, so present it as a rollback-journal file.
                for at in [18u64, 19] {
                    if offset <= at && at < offset + n as u64 && buf[(at - offset) as usize] == 2 {
                        buf[(at - offset) as usize] = 1;
                    }
                }
                Ok(n)
            }
            SourceFile::Temporary(file) => file.read(buf, offset),
        }
    }

    fn write(&mut self, buf: &[u8], offset: u64) -> VfsResult<()> {
        match self {
            SourceFile::Database(_) => Err(read_only()),
            SourceFile::Temporary(file) => file.write(buf, offset),
        }
    }

    fn truncate(&mut self, size: u64) -> VfsResult<()> {
        match self {
            SourceFile::Database(_) => Err(read_only()),
            SourceFile::Temporary(file) => file.truncate(size),
        }
    }

    fn sync(&mut self, _options: SyncOptions) -> VfsResult<()> {
        Ok(())
    }

    fn size(&self) -> VfsResult<u64> {
        match self {
            SourceFile::Database(reader) => Ok(reader.size()),
            SourceFile::Temporary(file) => file.size(),
        }
    }

    fn lock(&mut self, _level: LockLevel) -> VfsResult<()> {
        Ok(())
    }

    fn unlock(&mut self, _level: LockLevel) -> VfsResult<()> {
        Ok(())
    }

    fn check_reserved_lock(&self) -> VfsResult<bool> {
        Ok(false)
    }
}

struct SourceStore;

impl VfsStore for SourceStore {
    type File = SourceFile;
    type AppData = AppData;

    fn record_error(data: &AppData, error: VfsError) {
        *data.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
    }

    fn last_error(data: &AppData) -> Option<VfsError> {
        data.error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn open_file(_data: &AppData, request: OpenRequest<'_>) -> VfsResult<OpenedFile<SourceFile>> {
        let access = request.options.access();
        let database = request.options.kind() == Some(FileKind::MainDb);
        match request.filename {
            Some(name) if database => {
                let reader = PENDING.with(|p| p.borrow_mut().remove(name.path())).ok_or_else(|| {
                    VfsError::new(VfsErrorCode::CantOpen, format!("no source named {}", name.path()).into())
                })?;
                Ok(OpenedFile { file: SourceFile::Database(Box::new(reader)), access })
            }
            _ => Ok(OpenedFile { file: SourceFile::Temporary(MemChunksFile::new(64 << 10)), access }),
        }
    }

    fn close_file(
        _data: &AppData,
        _name: Option<&str>,
        _file: SourceFile,
        _options: rsqlite_vfs::OpenOptions,
    ) -> VfsResult<()> {
        Ok(())
    }

    fn access(_data: &AppData, _name: &str, _mode: AccessMode) -> VfsResult<bool> {
        // No journal, WAL or other companion file ever exists next to a source.
        Ok(false)
    }

    fn full_pathname(_data: &AppData, name: &str) -> VfsResult<String> {
        Ok(name.into())
    }

    fn delete_file(_data: &AppData, _name: &str, _sync_dir: bool) -> VfsResult<()> {
        Ok(())
    }
}

struct SourceIo;

impl SQLiteIoMethods for SourceIo {
    type Store = SourceStore;
}

struct SourceVfs;

impl SQLiteVfs<SourceIo> for SourceVfs {
    type Os = DefaultVfsOs;

    fn os(_data: &AppData) -> &DefaultVfsOs {
        &DefaultVfsOs
    }
}

/// Time, randomness and sleep come from the host's default SQLite VFS: this crate reads no
/// clock of its own.
struct DefaultVfsOs;

impl DefaultVfsOs {
    fn default_vfs() -> Option<*mut sqlite3_vfs> {
        // SAFETY: looking up the default VFS has no preconditions once SQLite is initialised,
        // which opening a connection has done.
        let vfs = unsafe { sqlite3_vfs_find(std::ptr::null()) };
        (!vfs.is_null()).then_some(vfs)
    }
}

impl OsCallback for DefaultVfsOs {
    fn sleep(&self, duration: Duration) {
        if let Some(vfs) = Self::default_vfs() {
            let micros = duration.as_micros().min(i32::MAX as u128) as i32;
            // SAFETY: the default VFS is valid for the process lifetime.
            unsafe {
                if let Some(sleep) = (*vfs).xSleep {
                    sleep(vfs, micros);
                }
            }
        }
    }

    fn random(&self, buf: &mut [u8]) -> usize {
        let Some(vfs) = Self::default_vfs() else { return 0 };
        let n = buf.len().min(i32::MAX as usize) as i32;
        // SAFETY: `buf` holds at least `n` bytes.
        unsafe { (*vfs).xRandomness.map_or(0, |random| random(vfs, n, buf.as_mut_ptr().cast()) as usize) }
    }

    fn epoch_timestamp_in_ms(&self) -> VfsResult<i64> {
        let unavailable = || VfsError::new(VfsErrorCode::Error, "no clock in the default VFS".into());
        let vfs = Self::default_vfs().ok_or_else(unavailable)?;
        let mut julian_ms = 0i64;
        // SAFETY: the default VFS is valid and the out-pointer is a live i64.
        let rc = unsafe { (*vfs).xCurrentTimeInt64.map(|now| now(vfs, &mut julian_ms)) };
        match rc {
            Some(0) => Ok(julian_ms - 210_866_760_000_000),
            _ => Err(unavailable()),
        }
    }
}
