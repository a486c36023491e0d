//! JSON conventions for numbers: NaN and ±Inf are information (a diverging loss), so JSON
//! output writes them as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` instead of the
//! `null` serde_json would write.

use serde::Serializer;

/// Serializes an `f64`, writing non-finite values as strings.
pub fn float<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(*x)
    } else if x.is_nan() {
        s.serialize_str("NaN")
    } else if *x > 0.0 {
        s.serialize_str("Infinity")
    } else {
        s.serialize_str("-Infinity")
    }
}

/// Serializes an `Option<f64>` like [`float`], `None` as `null`.
pub fn opt_float<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => float(x, s),
        None => s.serialize_none(),
    }
}

/// Parses a stored JSON text column, tolerating `NULL`. Text that does not parse (damaged,
/// or nested past the parser's depth limit of 128 in a hand-made file) comes back as a JSON
/// string holding it, so one bad cell never hides the rest of a listing.
pub(crate) fn parse_column(text: Option<String>) -> crate::Result<Option<serde_json::Value>> {
    Ok(text.map(|t| parse_or_text(t.as_bytes())))
}

/// Parses JSON text; text that does not parse comes back as a JSON string holding it.
pub(crate) fn parse_or_text(text: &[u8]) -> serde_json::Value {
    serde_json::from_slice(text)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(text).into_owned()))
}

/// An `f64` that serializes like [`float`].
#[derive(Debug, Clone, Copy)]
pub struct Float(pub f64);

impl serde::Serialize for Float {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        float(&self.0, s)
    }
}

/// Serializes a slice of `f64` like [`float`], element by element.
pub fn floats<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        seq.serialize_element(&Float(*x))?;
    }
    seq.end()
}
