//! Series for charts: a step range and a point budget in, at most that many points out.
//!
//! When the range holds no more points than the budget, the answer is the exact points; up to
//! eight times the budget, the raw points reduced to the budget. Otherwise it is built from
//! the overview buckets written at record time: the range is
//! covered by the widest whole buckets that fit (like a segment tree: a few finer buckets at
//! the edges, raw points only for the last partial 64-step ends), and each bucket gives its
//! first, min, max and last points. So the true min and max of the range are always in the
//! answer, and the cost depends on the budget, not on the length of the series.

use rusqlite::params;

use crate::aggregate::{OVERVIEW_LEVELS, bucket_width};
use crate::chunk::{self, Point};
use crate::read::nan_if_null;
use crate::{Error, Result, Store};

/// What the x values of a series are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XAxis {
    /// The step (default).
    #[default]
    Step,
    /// Wall-clock time, Unix ms.
    WallTime,
    /// Milliseconds since the series' first point.
    Relative,
    /// Fractional epoch: `e + f` where `f` is how far into epoch `e` the point was logged
    /// (from the run's recorded epoch start times).
    Epoch,
}

/// Which part of a series to read and how many points at most.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRequest {
    /// The series (`metric_series.id`).
    pub series_id: i64,
    /// Smallest step to include. Default: the first.
    pub from_step: Option<i64>,
    /// Largest step to include. Default: the last.
    pub to_step: Option<i64>,
    /// Most points in the answer (at least 8). Default: 2000.
    pub budget: usize,
    /// The x values. Default: steps.
    pub x_axis: XAxis,
}

impl SeriesRequest {
    /// The whole series, at most 2000 points, x = step.
    pub fn new(series_id: i64) -> SeriesRequest {
        SeriesRequest { series_id, from_step: None, to_step: None, budget: 2000, x_axis: XAxis::Step }
    }
}

/// Points of a series ready to draw, as parallel arrays (typed arrays in JS).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeriesData {
    /// The series.
    pub series_id: i64,
    /// x of each point (step, Unix ms or ms since the first point).
    pub x: Vec<f64>,
    /// Value of each point; NaN and ±Inf as recorded.
    #[serde(serialize_with = "crate::json::floats")]
    pub y: Vec<f64>,
    /// Step of each point.
    pub steps: Vec<i64>,
    /// Whether these are all the points of the range (`false`: bucket extremes).
    pub exact: bool,
    /// Overview level used, when not exact.
    pub level: Option<usize>,
    /// How many points the range holds.
    pub points_in_range: i64,
}

/// (step, fractional epoch) of points that all carry an epoch: `e + i / n` for the i-th of
/// the n points of epoch e. `None` when some point has no epoch.
fn epochs_by_step(points: &[Point]) -> Option<Vec<(i64, f64)>> {
    if points.is_empty() || points.iter().any(|p| p.epoch.is_none()) {
        return None;
    }
    let mut counts: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for p in points {
        *counts.entry(p.epoch.expect("checked")).or_default() += 1;
    }
    let mut seen: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    let table = points
        .iter()
        .map(|p| {
            let e = p.epoch.expect("checked");
            let i = seen.entry(e).or_default();
            let x = f64::from(e) + *i as f64 / counts[&e] as f64;
            *i += 1;
            (p.step, x)
        })
        .collect();
    Some(table)
}

/// `e + fraction` of the epoch whose span holds `ms` (clamped to the first and last epochs).
fn fractional_epoch(epochs: &[(i64, i64, i64)], ms: i64) -> f64 {
    let i = epochs.partition_point(|e| e.1 <= ms).saturating_sub(1);
    let (idx, start, end) = epochs[i];
    let span = (end - start).max(1) as f64;
    idx as f64 + ((ms - start) as f64 / span).clamp(0.0, 1.0)
}

/// The points chosen for an answer, before their x values are computed.
struct Answer<'a> {
    /// (step, time ms, value), by step.
    marks: Vec<(i64, i64, f64)>,
    /// The raw points the marks were taken from, when they were.
    raw: Option<&'a [Point]>,
    /// Whether the marks are every point of the range.
    exact: bool,
    /// The overview level used.
    level: Option<usize>,
}

/// Ranges holding up to this many times the budget are reduced from the raw points.
const RAW_FACTOR: i64 = 8;

/// Full buckets `[first, last]` at a level, and raw step ranges, covering a step range.
#[derive(Default)]
struct Cover {
    buckets: Vec<(usize, i64, i64)>,
    raw: Vec<(i64, i64)>,
}

/// Covers `[a, b]` with the widest whole buckets at levels `top` and below, raw at the ends.
fn cover(a: i64, b: i64, top: usize, out: &mut Cover) {
    if a > b {
        return;
    }
    for level in (0..=top).rev() {
        let w = bucket_width(level);
        let first = a.div_euclid(w) + i64::from(a.rem_euclid(w) != 0);
        let last = (b + 1).div_euclid(w) - 1;
        if first <= last {
            out.buckets.push((level, first, last));
            if level > 0 {
                cover(a, first * w - 1, level - 1, out);
                cover((last + 1) * w, b, level - 1, out);
            } else {
                out.raw.push((a, first * w - 1));
                out.raw.push(((last + 1) * w, b));
            }
            return;
        }
    }
    out.raw.push((a, b));
}

/// Cuts marks (sorted by step) to at most `budget`: the step range `[a, b]` is split into
/// `budget / 5` equal bins (pixel columns), and each bin keeps its first, min, max and last
/// marks (the M4 reduction of line charts) and one NaN mark if it has any. The extremes of the
/// whole range, the shape of the line and where it diverged all survive.
fn reduce(marks: &[(i64, i64, f64)], a: i64, b: i64, budget: usize) -> Vec<(i64, i64, f64)> {
    let bins = (budget / 5).max(1) as i64;
    let span = (b - a + 1).max(1);
    let mut out = Vec::with_capacity(budget);
    let mut start = 0;
    while start < marks.len() {
        let bin = ((marks[start].0 - a) as i128 * bins as i128 / span as i128) as i64;
        let mut end = start;
        while end < marks.len() && ((marks[end].0 - a) as i128 * bins as i128 / span as i128) as i64 == bin {
            end += 1;
        }
        let group = &marks[start..end];
        let finite = group.iter().filter(|m| !m.2.is_nan());
        let picks = [
            group.first(),
            finite.clone().min_by(|x, y| x.2.total_cmp(&y.2)),
            finite.max_by(|x, y| x.2.total_cmp(&y.2)),
            group.last(),
            group.iter().find(|m| m.2.is_nan()),
        ];
        let mut keep: Vec<(i64, i64, f64)> = picks.into_iter().flatten().copied().collect();
        keep.sort_by_key(|m| m.0);
        keep.dedup_by_key(|m| m.0);
        out.extend(keep);
        start = end;
    }
    out
}

/// A bucket row: count and its first, min, max and last points as (step, ms, value).
struct Bucket {
    count: i64,
    marks: Vec<(i64, i64, f64)>,
}

impl Store {
    /// Points of a series for a chart; see the module docs for how the budget is kept.
    pub fn series_data(&self, req: &SeriesRequest) -> Result<SeriesData> {
        // The series row, its chunks and its overviews are read in several statements: one
        // read transaction makes them one moment of a file that is being written.
        self.in_snapshot(|| self.series_data_now(req))
    }

    fn series_data_now(&self, req: &SeriesRequest) -> Result<SeriesData> {
        let budget = req.budget.max(8);
        let (count, first_step, last_step, first_ms): (i64, Option<i64>, Option<i64>, Option<i64>) = self
            .conn()
            .prepare_cached("SELECT count, first_step, last_step, first_ms FROM metric_series WHERE id = ?1")?
            .query_row([req.series_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Error::not_found("series", req.series_id.to_string()),
                other => other.into(),
            })?;
        let t0 = first_ms.unwrap_or(0);
        let (Some(s0), Some(s1)) = (first_step, last_step) else {
            return self.assemble(
                req,
                t0,
                Answer { marks: Vec::new(), raw: None, exact: true, level: None },
                0,
            );
        };
        let a = req.from_step.unwrap_or(s0).max(s0);
        let b = req.to_step.unwrap_or(s1).min(s1);
        if a > b {
            return self.assemble(
                req,
                t0,
                Answer { marks: Vec::new(), raw: None, exact: true, level: None },
                0,
            );
        }
        // Exactly how many points the range holds: the series' count for all of it, else from
        // the overviews (and raw ends).
        let in_range = if (a, b) == (s0, s1) { count } else { self.points_in(req.series_id, a, b)? };
        if in_range <= budget as i64 || count <= budget as i64 {
            let points = self.raw_points(req.series_id, &[(a, b)])?;
            let marks = points.iter().map(|p| (p.step, p.time_ms, p.value)).collect();
            return self.assemble(
                req,
                t0,
                Answer { marks, raw: Some(&points), exact: true, level: None },
                in_range,
            );
        }
        // A few times the budget: reduce the raw points, finer than any overview bucket.
        if in_range <= RAW_FACTOR * budget as i64 {
            let points = self.raw_points(req.series_id, &[(a, b)])?;
            let marks: Vec<_> = points.iter().map(|p| (p.step, p.time_ms, p.value)).collect();
            let marks = reduce(&marks, a, b, budget);
            return self.assemble(
                req,
                t0,
                Answer { marks, raw: Some(&points), exact: false, level: None },
                in_range,
            );
        }
        // The finest level with at most `budget` buckets in the range: up to four marks each,
        // which the final reduction brings to the budget. A level has no more buckets than the
        // range spans, so no rows are counted (in the browser each page of rows is a read);
        // only steps that cluster with wide gaps between get a coarser level than they could.
        let level = (0..OVERVIEW_LEVELS)
            .find(|&l| {
                let w = bucket_width(l);
                b.div_euclid(w) - a.div_euclid(w) < budget as i64
            })
            .unwrap_or(OVERVIEW_LEVELS - 1);
        // An end of the range that is the series' own end can grow to the bucket boundary: no
        // points lie beyond it, so whole buckets cover it and no raw chunk is read.
        let w = bucket_width(level);
        let a = if a == s0 { a.div_euclid(w) * w } else { a };
        let b = if b == s1 { (b.div_euclid(w) + 1) * w - 1 } else { b };
        let mut plan = Cover::default();
        cover(a, b, level, &mut plan);
        let mut marks: Vec<(i64, i64, f64)> = Vec::new();
        for &(l, b0, b1) in &plan.buckets {
            for bucket in self.buckets(req.series_id, l, b0, b1)? {
                if bucket.count > 0 {
                    marks.extend(bucket.marks);
                }
            }
        }
        for p in self.raw_points(req.series_id, &plan.raw)? {
            marks.push((p.step, p.time_ms, p.value));
        }
        marks.sort_by_key(|m| m.0);
        marks.dedup_by(|x, y| x.0 == y.0 && x.2.to_bits() == y.2.to_bits());
        if marks.len() > budget {
            marks = reduce(&marks, a, b, budget);
        }
        self.assemble(req, t0, Answer { marks, raw: None, exact: false, level: Some(level) }, in_range)
    }

    fn assemble(
        &self,
        req: &SeriesRequest,
        t0: i64,
        answer: Answer<'_>,
        in_range: i64,
    ) -> Result<SeriesData> {
        let Answer { marks, raw, exact, level } = answer;
        // Fractional epochs: from the points' own epochs when the marks are raw points, else
        // from the run's epoch start times.
        let by_step = raw.filter(|_| req.x_axis == XAxis::Epoch).and_then(epochs_by_step);
        let epochs = if req.x_axis == XAxis::Epoch && by_step.is_none() {
            self.epoch_starts(req.series_id)?
        } else {
            Vec::new()
        };
        let x = marks
            .iter()
            .map(|&(step, ms, _)| match req.x_axis {
                XAxis::Step => step as f64,
                XAxis::WallTime => ms as f64,
                XAxis::Relative => (ms - t0) as f64,
                XAxis::Epoch => match &by_step {
                    Some(table) => table[table.partition_point(|(s, _)| *s < step).min(table.len() - 1)].1,
                    None => fractional_epoch(&epochs, ms),
                },
            })
            .collect();
        Ok(SeriesData {
            series_id: req.series_id,
            x,
            y: marks.iter().map(|m| m.2).collect(),
            steps: marks.iter().map(|m| m.0).collect(),
            exact,
            level,
            points_in_range: in_range,
        })
    }

    /// (epoch, start ms, end ms) of the run a series belongs to, in epoch order; the end is the
    /// next epoch's start, the recorded end, or the series' last point.
    fn epoch_starts(&self, series_id: i64) -> Result<Vec<(i64, i64, i64)>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT e.idx, e.started_ms, coalesce(e.ended_ms, s.last_ms, e.started_ms)
             FROM metric_series s JOIN epochs e ON e.run_id = s.run_id WHERE s.id = ?1 ORDER BY e.idx",
        )?;
        let mut epochs: Vec<(i64, i64, i64)> = stmt
            .query_map([series_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for i in 0..epochs.len().saturating_sub(1) {
            epochs[i].2 = epochs[i + 1].1;
        }
        if epochs.is_empty() {
            return Err(Error::invalid("x axis", "the run recorded no epochs; use the step or time axis"));
        }
        Ok(epochs)
    }

    /// Points with steps in `[a, b]`: whole overview buckets' counts plus the raw ends.
    fn points_in(&self, series_id: i64, a: i64, b: i64) -> Result<i64> {
        let mut full = Cover::default();
        cover(a, b, OVERVIEW_LEVELS - 1, &mut full);
        let mut n = self.raw_points(series_id, &full.raw)?.len() as i64;
        let mut stmt = self.conn().prepare_cached(
            "SELECT coalesce(sum(count), 0) FROM metric_overviews
             WHERE series_id = ?1 AND level = ?2 AND bucket BETWEEN ?3 AND ?4",
        )?;
        for &(level, b0, b1) in &full.buckets {
            n += stmt.query_row(params![series_id, level as i64, b0, b1], |r| r.get::<_, i64>(0))?;
        }
        Ok(n)
    }

    /// Points of the series whose steps fall in any of `ranges`, by step.
    fn raw_points(&self, series_id: i64, ranges: &[(i64, i64)]) -> Result<Vec<Point>> {
        let mut out: Vec<Point> = Vec::new();
        let mut decoded: Vec<Point> = Vec::new();
        let mut stmt = self.conn().prepare_cached(
            "SELECT data FROM metric_chunks WHERE series_id = ?1 AND first_step <= ?3 AND last_step >= ?2
             ORDER BY first_step, id",
        )?;
        for &(a, b) in ranges.iter().filter(|(a, b)| a <= b) {
            let mut rows = stmt.query(params![series_id, a, b])?;
            while let Some(row) = rows.next()? {
                decoded.clear();
                let data = row
                    .get_ref(0)?
                    .as_blob()
                    .map_err(|e| Error::Corrupt { table: "metric_chunks", why: e.to_string() })?;
                chunk::decode_into(data, &mut decoded)?;
                out.extend(decoded.iter().filter(|p| p.step >= a && p.step <= b));
            }
        }
        out.sort_by_key(|p| p.step);
        Ok(out)
    }

    /// Overview buckets `[b0, b1]` at `level`, each with its first, min, max and last points
    /// (times of min and max interpolated between first and last).
    fn buckets(&self, series_id: i64, level: usize, b0: i64, b1: i64) -> Result<Vec<Bucket>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT count, first_step, first_ms, first_value, last_step, last_ms, last_value,
                    min_step, min_value, max_step, max_value
             FROM metric_overviews WHERE series_id = ?1 AND level = ?2 AND bucket BETWEEN ?3 AND ?4 ORDER BY bucket",
        )?;
        let rows = stmt.query_map(params![series_id, level as i64, b0, b1], |r| {
            let (fs, fm, ls, lm): (i64, i64, i64, i64) = (r.get(1)?, r.get(2)?, r.get(4)?, r.get(5)?);
            let time_at = |step: i64| -> i64 {
                if ls == fs {
                    fm
                } else {
                    fm + ((lm - fm) as f64 * (step - fs) as f64 / (ls - fs) as f64) as i64
                }
            };
            let mut marks = vec![(fs, fm, nan_if_null(r.get(3)?)), (ls, lm, nan_if_null(r.get(6)?))];
            if let (Some(s), Some(v)) = (r.get::<_, Option<i64>>(7)?, r.get::<_, Option<f64>>(8)?) {
                marks.push((s, time_at(s), v));
            }
            if let (Some(s), Some(v)) = (r.get::<_, Option<i64>>(9)?, r.get::<_, Option<f64>>(10)?) {
                marks.push((s, time_at(s), v));
            }
            Ok(Bucket { count: r.get(0)?, marks })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn cover_is_exact_and_disjoint() {
        for (a, b) in [(0, 0), (0, 63), (5, 700), (-100, 100_000), (63, 64), (1000, 999_999), (7, 4_000_000)]
        {
            let mut c = Cover::default();
            cover(a, b, OVERVIEW_LEVELS - 1, &mut c);
            let mut spans: Vec<(i64, i64)> = c.raw.iter().copied().filter(|(x, y)| x <= y).collect();
            for &(l, b0, b1) in &c.buckets {
                let w = bucket_width(l);
                spans.push((b0 * w, (b1 + 1) * w - 1));
            }
            spans.sort();
            assert_eq!(spans.first().unwrap().0, a);
            assert_eq!(spans.last().unwrap().1, b);
            assert!(spans.windows(2).all(|s| s[0].1 + 1 == s[1].0), "{a}..{b}: {spans:?}");
            assert!(c.buckets.len() <= 2 * 8 * OVERVIEW_LEVELS);
        }
    }
}
