//! The encoding of metric points in `metric_chunks.data`.
//!
//! A chunk holds up to [`CHUNK_CAPACITY`] points of one series, column by column:
//!
//! ```text
//! u8      format (1)
//! u8      flags: bit 0 = epochs present, bit 1 = batches present
//! varint  n
//! n  x    step     zigzag varint; the first absolute, then the delta to the previous
//! n  x    time_ms  zigzag varint; the first absolute, then the delta to the previous
//! n  x    value    f64, 8 bytes little-endian: every bit kept (NaN payloads, ±Inf, -0.0)
//! n  x    epoch    varint, 0 = none, else epoch + 1      (only when flag bit 0)
//! n  x    batch    varint, 0 = none, else batch + 1      (only when flag bit 1)
//! ```
//!
//! A typical point (step +1, a few ms later) takes 1 + 1..2 + 8 bytes.

use crate::{Error, Result};

/// Points per chunk row. 512 points are ~5.5 KiB: a chunk is read in one or two pages'
/// worth of I/O, and a writer that rewrites its open chunk at each flush rewrites little.
pub const CHUNK_CAPACITY: usize = 512;

const FORMAT: u8 = 1;

/// One recorded value of a metric series.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Point {
    /// Training step (or any x the caller counts in).
    pub step: i64,
    /// Wall-clock time, Unix milliseconds.
    pub time_ms: i64,
    /// The value, NaN and ±Inf included.
    #[serde(serialize_with = "crate::json::float")]
    pub value: f64,
    /// Epoch the point belongs to, if any.
    pub epoch: Option<u32>,
    /// Batch (within the epoch) the point belongs to, if any.
    pub batch: Option<u32>,
}

impl Point {
    /// Bitwise equality: NaN equals the same NaN, -0.0 differs from 0.0.
    pub fn same_bits(&self, other: &Point) -> bool {
        self.step == other.step
            && self.time_ms == other.time_ms
            && self.value.to_bits() == other.value.to_bits()
            && self.epoch == other.epoch
            && self.batch == other.batch
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_option(out: &mut Vec<u8>, v: Option<u32>) {
    put_varint(out, v.map_or(0, |x| u64::from(x) + 1));
}

/// Encodes `points` (in the order given) into `out`, replacing its content.
pub fn encode(points: &[Point], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(points.len() * 12 + 8);
    let has_epoch = points.iter().any(|p| p.epoch.is_some());
    let has_batch = points.iter().any(|p| p.batch.is_some());
    out.push(FORMAT);
    out.push(u8::from(has_epoch) | (u8::from(has_batch) << 1));
    put_varint(out, points.len() as u64);
    let mut prev = 0i64;
    for p in points {
        put_varint(out, zigzag(p.step.wrapping_sub(prev)));
        prev = p.step;
    }
    prev = 0;
    for p in points {
        put_varint(out, zigzag(p.time_ms.wrapping_sub(prev)));
        prev = p.time_ms;
    }
    for p in points {
        out.extend_from_slice(&p.value.to_bits().to_le_bytes());
    }
    if has_epoch {
        points.iter().for_each(|p| put_option(out, p.epoch));
    }
    if has_batch {
        points.iter().for_each(|p| put_option(out, p.batch));
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn corrupt(&self, why: &str) -> Error {
        Error::Corrupt { table: "metric_chunks", why: format!("{why} at byte {}", self.pos) }
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self.data.get(self.pos).ok_or_else(|| self.corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.corrupt("varint too long"))
    }

    fn option(&mut self) -> Result<Option<u32>> {
        match self.varint()? {
            0 => Ok(None),
            v => u32::try_from(v - 1).map(Some).map_err(|_| self.corrupt("epoch/batch out of range")),
        }
    }
}

/// Decodes a chunk, appending its points to `out`.
pub fn decode_into(data: &[u8], out: &mut Vec<Point>) -> Result<()> {
    let mut r = Reader { data, pos: 0 };
    if r.byte()? != FORMAT {
        return Err(r.corrupt("unknown chunk format"));
    }
    let flags = r.byte()?;
    let n = r.varint()?;
    // Every point needs at least 10 bytes; refuse counts the blob cannot hold before allocating.
    if n > (data.len() as u64) / 10 {
        return Err(r.corrupt("point count larger than the chunk"));
    }
    let n = n as usize;
    let base = out.len();
    let mut prev = 0i64;
    for _ in 0..n {
        prev = prev.wrapping_add(unzigzag(r.varint()?));
        out.push(Point { step: prev, time_ms: 0, value: 0.0, epoch: None, batch: None });
    }
    prev = 0;
    for p in &mut out[base..] {
        prev = prev.wrapping_add(unzigzag(r.varint()?));
        p.time_ms = prev;
    }
    let values = data.get(r.pos..r.pos + 8 * n).ok_or_else(|| r.corrupt("truncated values"))?;
    for (p, bytes) in out[base..].iter_mut().zip(values.chunks_exact(8)) {
        p.value = f64::from_bits(u64::from_le_bytes(bytes.try_into().expect("8 bytes")));
    }
    r.pos += 8 * n;
    if flags & 1 != 0 {
        for p in &mut out[base..] {
            p.epoch = r.option()?;
        }
    }
    if flags & 2 != 0 {
        for p in &mut out[base..] {
            p.batch = r.option()?;
        }
    }
    if r.pos != data.len() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn pt(step: i64, value: f64) -> Point {
        Point {
            step,
            time_ms: 1_700_000_000_000i64.wrapping_add(step.wrapping_mul(7)),
            value,
            epoch: None,
            batch: None,
        }
    }

    #[test]
    fn round_trips_special_values_bit_exactly() {
        let weird_nan = f64::from_bits(0x7ff8_dead_beef_0001);
        let mut points = vec![
            pt(0, 1.5),
            pt(1, f64::NAN),
            pt(2, f64::INFINITY),
            pt(3, f64::NEG_INFINITY),
            pt(4, -0.0),
            pt(-10, weird_nan),
            pt(i64::MAX, f64::MIN_POSITIVE),
        ];
        points[1].epoch = Some(3);
        points[2].batch = Some(u32::MAX - 1);
        let mut blob = Vec::new();
        encode(&points, &mut blob);
        let mut back = Vec::new();
        decode_into(&blob, &mut back).unwrap();
        assert_eq!(back.len(), points.len());
        for (a, b) in points.iter().zip(&back) {
            assert!(a.same_bits(b), "{a:?} != {b:?}");
        }
    }

    #[test]
    fn dense_points_are_small() {
        let points: Vec<Point> = (0..512).map(|i| pt(i, i as f64 * 0.5)).collect();
        let mut blob = Vec::new();
        encode(&points, &mut blob);
        assert!(blob.len() <= 512 * 10 + 16, "{} bytes", blob.len());
    }

    #[test]
    fn rejects_damaged_chunks() {
        let mut blob = Vec::new();
        encode(&[pt(1, 1.0), pt(2, 2.0)], &mut blob);
        let mut out = Vec::new();
        for cut in 0..blob.len() {
            assert!(decode_into(&blob[..cut], &mut out).is_err(), "cut at {cut}");
        }
        let mut huge = vec![FORMAT, 0];
        put_varint(&mut huge, u64::MAX);
        assert!(decode_into(&huge, &mut out).is_err());
        assert!(decode_into(&[9, 0, 0], &mut out).is_err());
    }
}
