//! The host side of what `runstore-core` leaves to its host: the clock and fresh ids.

use std::time::{SystemTime, UNIX_EPOCH};

use runstore_core::Id;

/// Wall-clock time, Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A new ULID from the system clock and the OS random source.
pub fn new_id() -> Id {
    let mut bytes = [0u8; 16];
    // The OS random source does not fail on supported platforms; if it ever did, the time
    // part still orders ids and the (zero) random part is made unique by the counter below.
    if getrandom::fill(&mut bytes).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed) ^ u64::from(std::process::id()) << 32;
        bytes[..8].copy_from_slice(&n.to_le_bytes());
    }
    Id::from_parts(now_ms(), u128::from_le_bytes(bytes))
}
