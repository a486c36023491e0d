//! Consistent copies of a store that is being written right now.

use std::path::Path;

use runstore_core::Store;

use crate::{Error, Result};

/// Copies the store at `live` into a new file at `out`, consistently even while other
/// processes record into `live`: the copy is made inside one read transaction (`VACUUM INTO`),
/// so it holds exactly the transactions committed when it started. The copy is compacted, and
/// in rollback-journal mode with everything in the one file, so a browser can open its bytes.
/// Refuses to overwrite `out`.
pub fn snapshot(live: &Path, out: &Path) -> Result<()> {
    if out.exists() {
        return Err(Error::io(
            out,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "exists; a snapshot writes a new file"),
        ));
    }
    let store = Store::open_read_only(live)?;
    store.conn().execute("VACUUM INTO ?1", [out.to_string_lossy()]).map_err(runstore_core::Error::from)?;
    drop(store);
    let copy = rusqlite::Connection::open(out).map_err(runstore_core::Error::from)?;
    copy.pragma_update(None, "journal_mode", "DELETE").map_err(runstore_core::Error::from)?;
    drop(copy);
    let check = Store::open_read_only(out)?;
    check.integrity_check()?;
    Ok(())
}
