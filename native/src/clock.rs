//! The host side of what `runstore-core` leaves to its host: the clock and fresh ids.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use runstore_core::Id;

/// Wall-clock time, Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A new ULID from the system clock and the OS random source. Ids made by one process are
/// strictly increasing, even within one millisecond (ULID's monotonic mode: the random part
/// of the previous id plus one).
pub fn new_id() -> Id {
    static LAST: Mutex<(i64, u128)> = Mutex::new((0, 0));
    let mut bytes = [0u8; 16];
    // The OS random source does not fail on supported platforms; should it, monotonic mode
    // below still keeps ids unique within the process.
    let _ = getrandom::fill(&mut bytes);
    let random = u128::from_le_bytes(bytes) & ((1 << 80) - 1);
    let now = now_ms();
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let (ms, random) = if now <= last.0 { (last.0, (last.1 + 1) & ((1 << 80) - 1)) } else { (now, random) };
    *last = (ms, random);
    Id::from_parts(ms, random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_within_a_millisecond() {
        let ids: Vec<Id> = (0..1000).map(|_| new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
