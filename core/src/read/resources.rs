//! Resource samples and spans: the metrics collector's queries.
//!
//! A monitor sampling at 1 Hz writes 86,400 samples a day per measurement, so charts read
//! [`Store::resource_series`]: each measurement reduced to a point budget, keeping the first,
//! min, max and last sample of every time bucket, so the extremes survive however long the
//! run was.

use std::collections::BTreeMap;

use super::nan_if_null;
use crate::event::{ResourceKind, ResourceSample};
use crate::{Result, Store};

/// Average, min and max of one resource measurement (the collector's "average CPU" query).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResourceStats {
    /// Kind.
    pub kind: ResourceKind,
    /// Measurement name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Samples.
    pub count: i64,
    /// Mean value.
    #[serde(serialize_with = "crate::json::opt_float")]
    pub mean: Option<f64>,
    /// Smallest value.
    #[serde(serialize_with = "crate::json::opt_float")]
    pub min: Option<f64>,
    /// Largest value.
    #[serde(serialize_with = "crate::json::opt_float")]
    pub max: Option<f64>,
    /// First sample, Unix ms.
    pub first_ms: i64,
    /// Last sample, Unix ms.
    pub last_ms: i64,
}

/// Default point budget of [`Store::resource_series`], per measurement.
pub const RESOURCE_BUDGET: usize = 2000;

/// The samples of one measurement (one name, of one run or of the host), ready to draw: all
/// of them when they fit the budget, else the first, min, max and last of each time bucket.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResourceSeries {
    /// The run being monitored; `None` for samples of the whole host.
    pub run_id: Option<String>,
    /// Kind.
    pub kind: ResourceKind,
    /// Measurement name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// How many samples the store holds for this measurement.
    pub count: i64,
    /// Whether these are all the samples (`false`: reduced to bucket extremes).
    pub exact: bool,
    /// Time of each point, Unix ms, ascending.
    pub time_ms: Vec<i64>,
    /// Value of each point; NaN as recorded.
    #[serde(serialize_with = "crate::json::floats")]
    pub values: Vec<f64>,
}

/// One sample while reducing: (position in the stream, time ms, value).
type Mark = (u64, i64, f64);

/// The samples of one time bucket that a chart needs: first, min, max, last, and a NaN.
#[derive(Clone, Copy)]
struct Bucket {
    index: i64,
    first: Mark,
    min: Option<Mark>,
    max: Option<Mark>,
    last: Mark,
    nan: Option<Mark>,
}

impl Bucket {
    fn new(index: i64, mark: Mark) -> Bucket {
        let finite = (!mark.2.is_nan()).then_some(mark);
        Bucket {
            index,
            first: mark,
            min: finite,
            max: finite,
            last: mark,
            nan: mark.2.is_nan().then_some(mark),
        }
    }

    /// Takes in `later`, whose samples all come after this bucket's.
    fn absorb(&mut self, later: &Bucket) {
        self.last = later.last;
        self.nan = self.nan.or(later.nan);
        if let Some(m) = later.min
            && self.min.is_none_or(|own| m.2 < own.2)
        {
            self.min = Some(m);
        }
        if let Some(m) = later.max
            && self.max.is_none_or(|own| m.2 > own.2)
        {
            self.max = Some(m);
        }
    }
}

/// Reduces one measurement's samples, streamed in time order, to at most `budget` points in
/// one pass with no knowledge of how many will come: the samples themselves while they fit,
/// then time buckets of equal width from the first sample, at most `budget / 5` of them, each
/// keeping its first, min, max and last sample and one NaN if it has any (the M4 reduction that
/// metric series get too). When the buckets run out, the width doubles and neighbours merge, so
/// the answer holds between half and all of the buckets and the true extremes always.
struct Reducer {
    series: ResourceSeries,
    budget: usize,
    max_buckets: usize,
    /// The samples, while they fit the budget.
    raw: Vec<Mark>,
    /// Time of the first sample, and the bucket width in ms (0 while the samples fit).
    t0: i64,
    width: i64,
    buckets: Vec<Bucket>,
}

impl Reducer {
    fn new(series: ResourceSeries, budget: usize) -> Reducer {
        Reducer {
            series,
            budget,
            max_buckets: (budget / 5).max(1),
            raw: Vec::new(),
            t0: 0,
            width: 0,
            buckets: Vec::new(),
        }
    }

    fn push(&mut self, mark: Mark) {
        self.series.count += 1;
        if self.width == 0 {
            self.raw.push(mark);
            if self.raw.len() > self.budget {
                // Too many to keep: from now on, buckets sized so these fill them.
                self.t0 = self.raw[0].1;
                let range = i128::from(mark.1) - i128::from(self.t0) + 1;
                let width = (range + self.max_buckets as i128 - 1) / self.max_buckets as i128;
                self.width = width.clamp(1, i128::from(i64::MAX / 4)) as i64;
                for m in std::mem::take(&mut self.raw) {
                    self.add(m);
                }
            }
        } else {
            self.add(mark);
        }
    }

    fn add(&mut self, mark: Mark) {
        // Samples come in time order, so a sample belongs to the last bucket or a new one.
        let index = (mark.1.saturating_sub(self.t0).max(0)) / self.width;
        match self.buckets.last_mut() {
            Some(last) if last.index == index => last.absorb(&Bucket::new(index, mark)),
            _ => self.buckets.push(Bucket::new(index, mark)),
        }
        while self.buckets.len() > self.max_buckets {
            self.width = self.width.saturating_mul(2);
            let mut merged: Vec<Bucket> = Vec::with_capacity(self.buckets.len() / 2 + 1);
            for mut b in self.buckets.drain(..) {
                b.index /= 2;
                match merged.last_mut() {
                    Some(last) if last.index == b.index => last.absorb(&b),
                    _ => merged.push(b),
                }
            }
            self.buckets = merged;
        }
    }

    fn finish(mut self) -> ResourceSeries {
        let marks: Vec<Mark> = if self.width == 0 {
            self.series.exact = true;
            self.raw
        } else {
            self.series.exact = false;
            let mut out = Vec::with_capacity(self.buckets.len() * 5);
            for b in &self.buckets {
                let mut keep: Vec<Mark> =
                    [Some(b.first), b.min, b.max, Some(b.last), b.nan].into_iter().flatten().collect();
                keep.sort_by_key(|m| m.0);
                keep.dedup_by_key(|m| m.0);
                out.extend(keep);
            }
            out
        };
        (self.series.time_ms, self.series.values) = marks.iter().map(|m| (m.1, m.2)).unzip();
        self.series
    }
}

/// A recorded span.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpanInfo {
    /// Run id.
    pub run_id: Option<String>,
    /// Operation name.
    pub name: String,
    /// Start, Unix ms.
    pub start_ms: i64,
    /// Duration, ms.
    pub duration_ms: f64,
    /// Attributes.
    pub attributes: serde_json::Value,
}

/// Duration statistics of the spans of one name.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpanStats {
    /// Operation name.
    pub name: String,
    /// Number of spans.
    pub count: i64,
    /// Total duration, ms.
    pub total_ms: f64,
    /// Mean duration, ms.
    pub mean_ms: f64,
    /// Shortest, ms.
    pub min_ms: f64,
    /// Longest, ms.
    pub max_ms: f64,
}

impl Store {
    /// Resource samples of one kind (the collector's `query_resource_metrics(metric_type)`),
    /// optionally of one measurement name and one run, by time.
    pub fn resource_samples(
        &self,
        kind: ResourceKind,
        name: Option<&str>,
        run_id: Option<&str>,
    ) -> Result<Vec<ResourceSample>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT run_id, time_ms, name, value, unit FROM resource_samples
             WHERE kind = ?1 AND (?2 IS NULL OR name = ?2) AND (?3 IS NULL OR run_id = ?3)
             ORDER BY time_ms",
        )?;
        let rows = stmt.query_map((kind.as_str(), name, run_id), |r| {
            let run_id: Option<String> = r.get(0)?;
            Ok((run_id, r.get(1)?, r.get(2)?, r.get::<_, Option<f64>>(3)?, r.get(4)?))
        })?;
        rows.map(|row| {
            let (run_id, time_ms, name, value, unit) = row?;
            Ok(ResourceSample {
                run_id: run_id.map(|s| s.parse()).transpose()?,
                time_ms,
                kind,
                name,
                value: nan_if_null(value),
                unit,
            })
        })
        .collect()
    }

    /// Resource samples of one kind for charts, optionally of one run: one series per run
    /// (host-wide samples have none) and measurement name, each with at most `budget` points
    /// (at least 8; [`RESOURCE_BUDGET`] is a good default). A measurement with more samples
    /// keeps the first, min, max and last sample of each time bucket, so the chart of a million
    /// samples shows the same extremes as the raw data; its `exact` is then `false`. One pass
    /// over the samples in the order an index keeps them (a lazily read file fetches each page
    /// once), in memory proportional to the budget. Series come ordered by run (host first) and
    /// name.
    pub fn resource_series(
        &self,
        kind: ResourceKind,
        run_id: Option<&str>,
        budget: usize,
    ) -> Result<Vec<ResourceSeries>> {
        let budget = budget.max(8);
        // By name, then by run id ("" for the host: run ids are never empty), so that looking a
        // sample's series up allocates nothing.
        let mut reducers: BTreeMap<String, BTreeMap<String, Reducer>> = BTreeMap::new();
        let mut stmt = self.conn().prepare_cached(
            "SELECT run_id, name, time_ms, value, unit FROM resource_samples
             WHERE kind = ?1 AND (?2 IS NULL OR run_id = ?2) ORDER BY name, time_ms",
        )?;
        let mut rows = stmt.query((kind.as_str(), run_id))?;
        let mut position = 0u64;
        while let Some(row) = rows.next()? {
            let run = row.get_ref(0)?.as_str_or_null().map_err(rusqlite::Error::from)?;
            let name = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            let mark = (position, row.get(2)?, nan_if_null(row.get(3)?));
            position += 1;
            if !reducers.contains_key(name) {
                reducers.insert(name.to_owned(), BTreeMap::new());
            }
            let of_name = reducers.get_mut(name).expect("inserted");
            if !of_name.contains_key(run.unwrap_or_default()) {
                let series = ResourceSeries {
                    run_id: run.map(str::to_owned),
                    kind,
                    name: name.to_owned(),
                    unit: String::new(),
                    count: 0,
                    exact: true,
                    time_ms: Vec::new(),
                    values: Vec::new(),
                };
                of_name.insert(run.unwrap_or_default().to_owned(), Reducer::new(series, budget));
            }
            let reducer = of_name.get_mut(run.unwrap_or_default()).expect("inserted");
            if let Ok(unit) = row.get_ref(4)?.as_str()
                && reducer.series.unit != unit
            {
                reducer.series.unit = unit.to_owned();
            }
            reducer.push(mark);
        }
        let mut series: Vec<ResourceSeries> =
            reducers.into_values().flat_map(BTreeMap::into_values).map(Reducer::finish).collect();
        series.sort_by(|a, b| (&a.run_id, &a.name).cmp(&(&b.run_id, &b.name)));
        Ok(series)
    }

    /// Mean, min and max of every resource measurement.
    pub fn resource_stats(&self) -> Result<Vec<ResourceStats>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT kind, name, max(unit), count(*), avg(value), min(value), max(value), min(time_ms), max(time_ms)
             FROM resource_samples GROUP BY kind, name ORDER BY kind, name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                ResourceStats {
                    kind: ResourceKind::Cpu,
                    name: r.get(1)?,
                    unit: r.get(2)?,
                    count: r.get(3)?,
                    mean: r.get(4)?,
                    min: r.get(5)?,
                    max: r.get(6)?,
                    first_ms: r.get(7)?,
                    last_ms: r.get(8)?,
                },
            ))
        })?;
        rows.map(|row| {
            let (kind, mut stats) = row?;
            stats.kind = kind.parse()?;
            Ok(stats)
        })
        .collect()
    }

    /// Spans, optionally of one run and one name, by start time.
    pub fn spans(&self, run_id: Option<&str>, name: Option<&str>) -> Result<Vec<SpanInfo>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT run_id, name, start_ms, duration_ms, attributes_json FROM spans
             WHERE (?1 IS NULL OR run_id = ?1) AND (?2 IS NULL OR name = ?2) ORDER BY start_ms, id",
        )?;
        let rows = stmt.query_map((run_id, name), |r| {
            Ok((
                SpanInfo {
                    run_id: r.get(0)?,
                    name: r.get(1)?,
                    start_ms: r.get(2)?,
                    duration_ms: r.get(3)?,
                    attributes: serde_json::Value::Null,
                },
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (mut span, attrs) = row?;
            span.attributes = crate::json::parse_or_text(attrs.as_bytes());
            Ok(span)
        })
        .collect()
    }

    /// Count and duration statistics of spans by name.
    pub fn span_stats(&self) -> Result<Vec<SpanStats>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT name, count(*), sum(duration_ms), avg(duration_ms), min(duration_ms), max(duration_ms)
             FROM spans GROUP BY name ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SpanStats {
                name: r.get(0)?,
                count: r.get(1)?,
                total_ms: r.get(2)?,
                mean_ms: r.get(3)?,
                min_ms: r.get(4)?,
                max_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const T0: i64 = 1_750_000_000_000;

    /// A store with `n` host CPU samples at 1 Hz of `system_total` (a slow wave with one spike
    /// up and one down, and a NaN) and 10 of `process_tree`.
    fn store_with_samples(n: i64) -> Store {
        let mut store = Store::open_in_memory(T0).unwrap();
        let tx = store.conn_mut().transaction().unwrap();
        {
            let mut insert = tx
                .prepare("INSERT INTO resource_samples (run_id, time_ms, kind, name, value, unit) VALUES (NULL, ?1, 'cpu', ?2, ?3, '%')")
                .unwrap();
            for i in 0..n {
                let value = match i {
                    _ if i == n / 3 => Some(1000.0),
                    _ if i == 2 * n / 3 => Some(-1000.0),
                    _ if i == n / 2 => None,
                    _ => Some(50.0 + 40.0 * (i as f64 / 5000.0).sin()),
                };
                insert.execute((T0 + i * 1000, "system_total", value)).unwrap();
            }
            for i in 0..10 {
                insert.execute((T0 + i * 1000, "process_tree", Some(i as f64))).unwrap();
            }
        }
        tx.commit().unwrap();
        store
    }

    #[test]
    fn many_samples_come_back_within_the_budget_with_their_extremes() {
        let store = store_with_samples(200_000);
        let series = store.resource_series(ResourceKind::Cpu, None, 2000).unwrap();
        assert_eq!(series.len(), 2);
        let total = series.iter().find(|s| s.name == "system_total").unwrap();
        assert_eq!((total.count, total.exact, total.unit.as_str()), (200_000, false, "%"));
        assert!(total.values.len() <= 2000 && total.values.len() >= 2000 / 5, "{}", total.values.len());
        assert_eq!(total.time_ms.len(), total.values.len());
        assert!(total.time_ms.windows(2).all(|w| w[0] <= w[1]), "points stay in time order");
        let finite = total.values.iter().copied().filter(|v| !v.is_nan());
        assert_eq!(finite.clone().fold(f64::INFINITY, f64::min), -1000.0);
        assert_eq!(finite.fold(f64::NEG_INFINITY, f64::max), 1000.0);
        assert!(total.values.iter().any(|v| v.is_nan()), "a NaN sample stays visible");
        assert_eq!((total.time_ms[0], *total.time_ms.last().unwrap()), (T0, T0 + 199_999_000));
        // Few samples come back exactly.
        let tree = series.iter().find(|s| s.name == "process_tree").unwrap();
        assert!(tree.exact);
        assert_eq!(tree.values, (0..10).map(f64::from).collect::<Vec<_>>());
        // Another kind has none; a run with no samples has none.
        assert!(store.resource_series(ResourceKind::Gpu, None, 2000).unwrap().is_empty());
        assert!(store.resource_series(ResourceKind::Cpu, Some("no-such-run"), 2000).unwrap().is_empty());
    }

    #[test]
    fn a_resource_chart_of_many_samples_draws_within_the_budget_with_their_extremes() {
        let store = store_with_samples(200_000);
        let chart = store.resource_chart(ResourceKind::Cpu, None).unwrap();
        let line = chart.lines.iter().find(|l| l.label.starts_with("system_total")).unwrap();
        assert!(line.y.len() <= RESOURCE_BUDGET, "{} points drawn", line.y.len());
        let finite = line.y.iter().copied().filter(|v| !v.is_nan());
        assert_eq!(finite.clone().fold(f64::INFINITY, f64::min), -1000.0);
        assert_eq!(finite.fold(f64::NEG_INFINITY, f64::max), 1000.0);
        assert!(line.x.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn each_run_and_measurement_is_its_own_series() {
        let mut store = store_with_samples(100);
        store
            .conn_mut()
            .execute_batch(
                // Runs that exist only as ids: enough for reading samples.
                "PRAGMA foreign_keys = OFF;
                 WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < 4999)
                 INSERT INTO resource_samples (run_id, time_ms, kind, name, value, unit)
                 SELECT CASE n % 2 WHEN 0 THEN 'run-a' ELSE 'run-b' END, 1750000000000 + n, 'cpu',
                        'system_total', CASE n WHEN 4001 THEN 7e9 ELSE n END, 'MHz' FROM i",
            )
            .unwrap();
        let series = store.resource_series(ResourceKind::Cpu, None, 100).unwrap();
        let keys: Vec<(Option<&str>, &str, i64, bool)> =
            series.iter().map(|s| (s.run_id.as_deref(), s.name.as_str(), s.count, s.exact)).collect();
        assert_eq!(
            keys,
            [
                (None, "process_tree", 10, true),
                (None, "system_total", 100, true),
                (Some("run-a"), "system_total", 2500, false),
                (Some("run-b"), "system_total", 2500, false),
            ]
        );
        let b = &series[3];
        assert!(b.values.len() <= 100 && b.unit == "MHz");
        assert_eq!(b.values.iter().copied().fold(f64::NEG_INFINITY, f64::max), 7e9);
        assert_eq!((b.values[0], *b.values.last().unwrap()), (1.0, 4999.0), "first and last kept");
        let only_a = store.resource_series(ResourceKind::Cpu, Some("run-a"), 100).unwrap();
        assert_eq!(only_a.len(), 1);
        assert_eq!(only_a[0], series[2]);
    }
}
