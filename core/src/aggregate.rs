//! Aggregates of points: the per-series summary and the per-bucket overviews, both kept up to
//! date at write time (see the schema notes in `schema/v001_initial.sql`).

use crate::chunk::Point;

/// Number of overview levels.
pub const OVERVIEW_LEVELS: usize = 8;

/// Steps per bucket at level 0; each level above is 8 times wider.
pub const OVERVIEW_BASE_WIDTH: i64 = 64;

/// Steps per bucket at `level`: 64 × 8^level.
pub fn bucket_width(level: usize) -> i64 {
    OVERVIEW_BASE_WIDTH << (3 * level)
}

/// The bucket of `step` at `level` (floor division, so negative steps work too).
pub fn bucket_of(step: i64, level: usize) -> i64 {
    step.div_euclid(bucket_width(level))
}

/// A point's position and value, as kept for first/last/min/max.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Mark {
    /// Step of the point.
    pub step: i64,
    /// Time of the point, Unix ms.
    pub time_ms: i64,
    /// Value of the point (may be NaN for first/last; never NaN for min/max).
    pub value: f64,
}

impl Mark {
    fn of(p: &Point) -> Mark {
        Mark { step: p.step, time_ms: p.time_ms, value: p.value }
    }
}

/// Count, NaN count, first and last (by step), min and max (ignoring NaN) and sum of a set of
/// points. Merging two aggregates gives the aggregate of the union, whatever the order.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Aggregate {
    /// Points, NaN included.
    pub count: i64,
    /// Points whose value is NaN.
    pub nan_count: i64,
    /// The point with the smallest step (the earliest written among equals).
    pub first: Mark,
    /// The point with the largest step (the latest written among equals).
    pub last: Mark,
    /// Smallest non-NaN value and where; `None` when every value is NaN.
    pub min: Option<Mark>,
    /// Largest non-NaN value and where; `None` when every value is NaN.
    pub max: Option<Mark>,
    /// Sum of the non-NaN values (NaN when +Inf and -Inf both occur).
    pub sum: f64,
}

impl Aggregate {
    /// The aggregate of one point.
    pub fn of(p: &Point) -> Aggregate {
        let m = Mark::of(p);
        let nan = p.value.is_nan();
        Aggregate {
            count: 1,
            nan_count: i64::from(nan),
            first: m,
            last: m,
            min: (!nan).then_some(m),
            max: (!nan).then_some(m),
            sum: if nan { 0.0 } else { p.value },
        }
    }

    /// Adds one point.
    pub fn add(&mut self, p: &Point) {
        self.merge(&Aggregate::of(p));
    }

    /// Adds every point of `other`, which was written after `self`'s points.
    pub fn merge(&mut self, other: &Aggregate) {
        self.count += other.count;
        self.nan_count += other.nan_count;
        if other.first.step < self.first.step {
            self.first = other.first;
        }
        if other.last.step >= self.last.step {
            self.last = other.last;
        }
        if let Some(m) = other.min
            && self.min.is_none_or(|s| m.value < s.value)
        {
            self.min = Some(m);
        }
        if let Some(m) = other.max
            && self.max.is_none_or(|s| m.value > s.value)
        {
            self.max = Some(m);
        }
        self.sum += other.sum;
    }

    /// Mean of the non-NaN values; `None` when there are none.
    pub fn mean(&self) -> Option<f64> {
        let n = self.count - self.nan_count;
        (n > 0).then(|| self.sum / n as f64)
    }
}

/// The overview buckets of one series that have not been written yet, one open bucket per
/// level. Points of a series mostly arrive in step order, so a point usually touches only the
/// open level-0 bucket; a closed bucket is handed out once and rolled up into the level above.
#[derive(Debug, Default, Clone)]
pub(crate) struct OverviewBuilder {
    open: [Option<(i64, Aggregate)>; OVERVIEW_LEVELS],
}

impl OverviewBuilder {
    /// Adds a point; `emit(level, bucket, aggregate)` receives each bucket part that closes.
    pub fn add(&mut self, p: &Point, emit: &mut impl FnMut(usize, i64, &Aggregate)) {
        self.add_at(0, bucket_of(p.step, 0), Aggregate::of(p), emit);
    }

    fn add_at(
        &mut self,
        level: usize,
        bucket: i64,
        agg: Aggregate,
        emit: &mut impl FnMut(usize, i64, &Aggregate),
    ) {
        match &mut self.open[level] {
            Some((b, open)) if *b == bucket => open.merge(&agg),
            slot => {
                if let Some((b, closed)) = slot.replace((bucket, agg)) {
                    self.close(level, b, closed, emit);
                }
            }
        }
    }

    fn close(
        &mut self,
        level: usize,
        bucket: i64,
        agg: Aggregate,
        emit: &mut impl FnMut(usize, i64, &Aggregate),
    ) {
        emit(level, bucket, &agg);
        if level + 1 < OVERVIEW_LEVELS {
            self.add_at(level + 1, bucket.div_euclid(8), agg, emit);
        }
    }

    /// Hands out every open bucket part (from level 0 up, so each rolls into the next level
    /// before that one is handed out) and leaves the builder empty.
    pub fn finish(&mut self, emit: &mut impl FnMut(usize, i64, &Aggregate)) {
        for level in 0..OVERVIEW_LEVELS {
            if let Some((b, agg)) = self.open[level].take() {
                emit(level, b, &agg);
                if level + 1 < OVERVIEW_LEVELS {
                    self.add_at(level + 1, b.div_euclid(8), agg, emit);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn pt(step: i64, value: f64) -> Point {
        Point { step, time_ms: step, value, epoch: None, batch: None }
    }

    #[test]
    fn aggregate_ignores_nan_for_min_max_sum() {
        let mut a = Aggregate::of(&pt(0, 2.0));
        a.add(&pt(1, f64::NAN));
        a.add(&pt(2, -1.0));
        a.add(&pt(3, f64::NAN));
        assert_eq!((a.count, a.nan_count), (4, 2));
        assert_eq!(a.min.unwrap().value, -1.0);
        assert_eq!(a.max.unwrap().step, 0);
        assert_eq!(a.sum, 1.0);
        assert!(a.last.value.is_nan());
        assert_eq!(a.mean(), Some(0.5));
    }

    #[test]
    fn overview_parts_add_up_to_the_exact_buckets() {
        // Out-of-order steps and several finish() calls (one per flushed batch).
        let steps: Vec<i64> = (0..5000).chain(100..300).chain(-70..-1).collect();
        let mut parts: BTreeMap<(usize, i64), Aggregate> = BTreeMap::new();
        let mut builder = OverviewBuilder::default();
        let mut emit = |l: usize, b: i64, a: &Aggregate| {
            parts.entry((l, b)).and_modify(|x| x.merge(a)).or_insert(*a);
        };
        for (i, &s) in steps.iter().enumerate() {
            builder.add(&pt(s, (s as f64).sin()), &mut emit);
            if i % 777 == 0 {
                builder.finish(&mut emit);
            }
        }
        builder.finish(&mut emit);
        for level in 0..OVERVIEW_LEVELS {
            let mut exact: BTreeMap<i64, Aggregate> = BTreeMap::new();
            for &s in &steps {
                let p = pt(s, (s as f64).sin());
                exact.entry(bucket_of(s, level)).and_modify(|x| x.add(&p)).or_insert(Aggregate::of(&p));
            }
            for (b, want) in exact {
                let got = parts[&(level, b)];
                assert_eq!(got.count, want.count);
                assert_eq!(got.min.unwrap().value, want.min.unwrap().value);
                assert_eq!(got.max.unwrap().value, want.max.unwrap().value);
                assert_eq!(got.first.step, want.first.step);
                assert_eq!(got.last.step, want.last.step);
            }
        }
    }
}
