//! Identities that stay unique when files from different machines are merged.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// A ULID: 48 bits of Unix milliseconds then 80 random bits, written as 26 Crockford base-32
/// characters. Sortable by creation time, unique across machines without coordination, so
/// runs keep their identity when files are merged.
///
/// `runstore-core` reads no clock and draws no randomness: the host supplies both through
/// [`Id::from_parts`] (the native crate uses the system clock and the OS random source).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(String);

impl Id {
    /// Builds an id from a Unix time in milliseconds and 80 random bits (higher bits ignored).
    pub fn from_parts(unix_ms: i64, random: u128) -> Id {
        let ms = u64::try_from(unix_ms).unwrap_or(0);
        Id(ulid::Ulid::from_parts(ms, random).to_string())
    }

    /// The 26-character text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Unix milliseconds encoded in the id.
    pub fn timestamp_ms(&self) -> i64 {
        ulid::Ulid::from_string(&self.0).map(|u| u.timestamp_ms() as i64).unwrap_or(0)
    }
}

impl FromStr for Id {
    type Err = Error;

    fn from_str(s: &str) -> Result<Id> {
        let u = ulid::Ulid::from_string(s)
            .map_err(|e| Error::invalid("id", format!("{s:?} is not a ULID: {e}")))?;
        Ok(Id(u.to_string()))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.0
    }
}

impl rusqlite::ToSql for Id {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl serde::Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn round_trips_and_sorts_by_time() {
        let a = Id::from_parts(1_700_000_000_000, 42);
        let b = Id::from_parts(1_700_000_000_001, 1);
        assert_eq!(a.as_str().len(), 26);
        assert!(a < b);
        assert_eq!(a.timestamp_ms(), 1_700_000_000_000);
        assert_eq!(a.as_str().parse::<Id>().unwrap(), a);
        assert!("not-an-id".parse::<Id>().is_err());
    }
}
