//! The write path's planner: turns events into what must be written — encoded chunks,
//! summary deltas, overview bucket parts — and validates every event before any state
//! changes. No SQL: the executor writes what the planner hands out.

use std::collections::HashMap;

use crate::aggregate::{Aggregate, OverviewBuilder};
use crate::chunk::{self, CHUNK_CAPACITY, Point};
use crate::event::Event;
use crate::{Error, Id, Result, SeriesKey};

/// A chunk row to write: a new row (`row: None`) or a rewrite of the open chunk's row.
#[derive(Debug)]
pub(crate) struct ChunkWrite {
    /// `metric_series.id`.
    pub series_id: i64,
    /// The chunk's row if it was written before.
    pub row: Option<i64>,
    /// The series' handle, for open chunks whose new row id the planner must learn.
    pub handle: u64,
    /// Smallest and largest step, and point count.
    pub first_step: i64,
    pub last_step: i64,
    pub count: i64,
    /// The encoded points.
    pub data: Vec<u8>,
}

/// One overview bucket part to add into `metric_overviews`.
#[derive(Debug)]
pub(crate) struct OverviewPart {
    pub series_id: i64,
    pub level: usize,
    pub bucket: i64,
    pub agg: Aggregate,
}

/// Everything a batch's points add to the file, handed out by [`Planner::finish_batch`].
#[derive(Debug, Default)]
pub(crate) struct SeriesPlan {
    /// Chunks that filled up during the batch (each written once, never again).
    pub sealed: Vec<ChunkWrite>,
    /// Open (partly filled) chunks, rewritten in place at every batch that touches them.
    pub open: Vec<ChunkWrite>,
    /// Summary deltas per series id.
    pub summaries: Vec<(i64, Aggregate)>,
    /// Overview bucket parts.
    pub overviews: Vec<OverviewPart>,
}

/// What a series was before the current batch touched it, to undo the batch if its
/// transaction fails.
#[derive(Debug)]
struct Undo {
    id: Option<i64>,
    chunk_len: usize,
    chunk_row: Option<i64>,
    /// The points the open chunk held before the batch, saved when it filled up during it.
    prefix: Option<Vec<Point>>,
}

#[derive(Debug)]
struct SeriesState {
    key: SeriesKey,
    /// `metric_series.id`, once resolved in the file.
    id: Option<i64>,
    /// Points of the open chunk (already written ones included) and its row, if written.
    chunk: Vec<Point>,
    chunk_row: Option<i64>,
    chunk_dirty: bool,
    summary: Option<Aggregate>,
    overview: OverviewBuilder,
    /// Set while the current batch has touched this series.
    undo: Option<Undo>,
}

/// What [`Planner::point`] needs before it can take a point.
pub(crate) enum PointStatus<'a> {
    /// The point was planned.
    Planned,
    /// The series has no id in the file yet: resolve it, then offer the point again.
    NeedsId(&'a SeriesKey),
}

/// Per-series state of the write path: the open chunk, the summary delta and the overview
/// buckets not yet written. A point costs a few field updates in memory.
///
/// Memory stays bounded: a series' state is forgotten once its run has ended and the batch
/// holding the end is committed.
#[derive(Debug, Default)]
pub(crate) struct Planner {
    series: HashMap<u64, SeriesState>,
    /// Handles whose declaration was refused, and why (so their points are refused alike).
    refused: HashMap<u64, String>,
    /// Live handles of each run, to forget them when the run ends.
    by_run: HashMap<Id, Vec<u64>>,
    /// Series touched by the current batch.
    touched: Vec<u64>,
    /// Runs that ended in the current batch.
    ended: Vec<Id>,
    plan: SeriesPlan,
}

impl Planner {
    /// Series whose state is held in memory.
    pub fn live_series(&self) -> usize {
        self.series.len()
    }

    /// Declares `handle` as the series `key`. Declaring the same handle again with the same
    /// key is a no-op (a retried batch); with another key it is refused.
    pub fn declare(&mut self, handle: u64, key: &SeriesKey) -> Result<()> {
        if let Some(state) = self.series.get(&handle) {
            return if state.key == *key {
                Ok(())
            } else {
                Err(Error::invalid(
                    "series declaration",
                    format!("handle {handle} is already {:?}, not {:?}", state.key.key, key.key),
                ))
            };
        }
        if let Err(e) = validate_series(key) {
            self.refused.insert(handle, e.to_string());
            return Err(e);
        }
        self.refused.remove(&handle);
        self.by_run.entry(key.run_id.clone()).or_default().push(handle);
        self.series.insert(
            handle,
            SeriesState {
                key: key.clone(),
                id: None,
                chunk: Vec::new(),
                chunk_row: None,
                chunk_dirty: false,
                summary: None,
                overview: OverviewBuilder::default(),
                undo: None,
            },
        );
        Ok(())
    }

    /// Refuses the series `handle` from now on (its id could not be resolved: its run does
    /// not exist, say), forgetting its state.
    pub fn refuse(&mut self, handle: u64, why: String) {
        if let Some(state) = self.series.remove(&handle)
            && let Some(handles) = self.by_run.get_mut(&state.key.run_id)
        {
            handles.retain(|h| *h != handle);
        }
        self.touched.retain(|h| *h != handle);
        self.refused.insert(handle, why);
    }

    /// Records the file's id of the series `handle`.
    pub fn set_id(&mut self, handle: u64, id: i64) {
        if let Some(state) = self.series.get_mut(&handle) {
            mark_touched(state, handle, &mut self.touched);
            state.id = Some(id);
        }
    }

    /// Plans one point of the series `handle`.
    pub fn point(&mut self, handle: u64, point: &Point) -> Result<PointStatus<'_>> {
        let Some(state) = self.series.get_mut(&handle) else {
            return Err(match self.refused.get(&handle) {
                Some(why) => Error::invalid("metric point", format!("its series was refused: {why}")),
                None => Error::invalid(
                    "metric point",
                    format!("series handle {handle} is not declared (never, or its run has ended)"),
                ),
            });
        };
        let Some(series_id) = state.id else {
            return Ok(PointStatus::NeedsId(&state.key));
        };
        mark_touched(state, handle, &mut self.touched);
        state.chunk.push(*point);
        state.chunk_dirty = true;
        match &mut state.summary {
            Some(s) => s.add(point),
            slot => *slot = Some(Aggregate::of(point)),
        }
        let overviews = &mut self.plan.overviews;
        state.overview.add(point, &mut |level, bucket, agg| {
            overviews.push(OverviewPart { series_id, level, bucket, agg: *agg })
        });
        if state.chunk.len() >= CHUNK_CAPACITY {
            let undo = state.undo.as_mut().expect("marked above");
            if undo.prefix.is_none() {
                undo.prefix = Some(state.chunk[..undo.chunk_len].to_vec());
            }
            self.plan.sealed.push(encode(series_id, state.chunk_row.take(), handle, &state.chunk));
            state.chunk.clear();
            state.chunk_dirty = false;
        }
        Ok(PointStatus::Planned)
    }

    /// Notes that `run_id` ended in this batch: its series are forgotten once it commits.
    pub fn run_ended(&mut self, run_id: &Id) {
        self.ended.push(run_id.clone());
    }

    /// Hands out what the batch's points add: sealed and open chunks, summary deltas and
    /// every open overview bucket.
    pub fn finish_batch(&mut self) -> SeriesPlan {
        for handle in &self.touched {
            let Some(state) = self.series.get_mut(handle) else { continue };
            let Some(series_id) = state.id else { continue };
            if state.chunk_dirty && !state.chunk.is_empty() {
                self.plan.open.push(encode(series_id, state.chunk_row, *handle, &state.chunk));
            }
            if let Some(summary) = state.summary.take() {
                self.plan.summaries.push((series_id, summary));
            }
            let overviews = &mut self.plan.overviews;
            state.overview.finish(&mut |level, bucket, agg| {
                overviews.push(OverviewPart { series_id, level, bucket, agg: *agg })
            });
        }
        std::mem::take(&mut self.plan)
    }

    /// Records the row an open chunk was first written to.
    pub fn set_chunk_row(&mut self, handle: u64, row: i64) {
        if let Some(state) = self.series.get_mut(&handle) {
            state.chunk_row = Some(row);
            state.chunk_dirty = false;
        }
    }

    /// The batch's transaction committed: keep its state, and forget the series of runs that
    /// ended in it.
    pub fn committed(&mut self) {
        for handle in self.touched.drain(..) {
            if let Some(state) = self.series.get_mut(&handle) {
                state.undo = None;
                state.chunk_dirty = false;
            }
        }
        for run_id in self.ended.drain(..) {
            for handle in self.by_run.remove(&run_id).unwrap_or_default() {
                self.series.remove(&handle);
            }
        }
        self.plan = SeriesPlan::default();
    }

    /// The batch's transaction failed: put every touched series back as it was before the
    /// batch, so the same batch can be planned again.
    pub fn rolled_back(&mut self) {
        for handle in self.touched.drain(..) {
            let Some(state) = self.series.get_mut(&handle) else { continue };
            let Some(undo) = state.undo.take() else { continue };
            state.id = undo.id;
            state.chunk_row = undo.chunk_row;
            match undo.prefix {
                Some(prefix) => state.chunk = prefix,
                None => state.chunk.truncate(undo.chunk_len),
            }
            state.chunk_dirty = false;
            state.summary = None;
            state.overview = OverviewBuilder::default();
        }
        self.ended.clear();
        self.plan = SeriesPlan::default();
    }
}

fn mark_touched(state: &mut SeriesState, handle: u64, touched: &mut Vec<u64>) {
    if state.undo.is_none() {
        state.undo = Some(Undo {
            id: state.id,
            chunk_len: state.chunk.len(),
            chunk_row: state.chunk_row,
            prefix: None,
        });
        touched.push(handle);
    }
}

fn encode(series_id: i64, row: Option<i64>, handle: u64, points: &[Point]) -> ChunkWrite {
    let mut data = Vec::new();
    chunk::encode(points, &mut data);
    ChunkWrite {
        series_id,
        row,
        handle,
        first_step: points.iter().map(|p| p.step).min().unwrap_or(0),
        last_step: points.iter().map(|p| p.step).max().unwrap_or(0),
        count: points.len() as i64,
        data,
    }
}

fn validate_series(key: &SeriesKey) -> Result<()> {
    if key.key.is_empty() {
        return Err(Error::invalid("metric key", "empty"));
    }
    if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&key.context).is_err() {
        return Err(Error::invalid("metric context", format!("{:?} is not a JSON object", key.context)));
    }
    Ok(())
}

fn require_name(what: &'static str, name: &str) -> Result<()> {
    if name.trim().is_empty() { Err(Error::invalid(what, "empty")) } else { Ok(()) }
}

fn require_keys<'a>(what: &'static str, mut keys: impl Iterator<Item = &'a String>) -> Result<()> {
    if keys.any(|k| k.is_empty()) { Err(Error::invalid(what, "empty")) } else { Ok(()) }
}

/// Checks what can be checked of an event without the file: names, keys, values.
pub(crate) fn validate(event: &Event) -> Result<()> {
    match event {
        Event::Experiment { name, .. } => require_name("experiment name", name),
        Event::Trial { name, .. } => require_name("trial name", name),
        Event::Run(run) => require_name("run name", &run.name),
        Event::Model { name, .. } => require_name("model name", name),
        Event::ModelVersion(v) => {
            require_name("model name", &v.model_name)?;
            v.aliases.iter().try_for_each(|alias| require_name("model alias", alias))
        }
        Event::ModelAlias { alias, .. } => require_name("model alias", alias),
        Event::Params { params, .. } => require_keys("param key", params.iter().map(|(k, _)| k)),
        Event::Tags { tags, .. } => require_keys("tag key", tags.iter().map(|(k, _)| k)),
        Event::Resource(s) => require_name("resource name", &s.name),
        Event::Span(s) => require_name("span name", &s.name),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn key(run: u128, name: &str) -> SeriesKey {
        SeriesKey {
            run_id: Id::from_parts(1, run),
            key: name.into(),
            context: "{}".into(),
            label: String::new(),
        }
    }

    fn pt(step: i64) -> Point {
        Point { step, time_ms: step, value: step as f64, epoch: None, batch: None }
    }

    #[test]
    fn a_rolled_back_batch_leaves_the_open_chunk_as_it_was() {
        let mut p = Planner::default();
        p.declare(7, &key(1, "loss")).unwrap();
        p.set_id(7, 1);
        for s in 0..100 {
            assert!(matches!(p.point(7, &pt(s)).unwrap(), PointStatus::Planned));
        }
        let plan = p.finish_batch();
        assert_eq!(plan.open.len(), 1);
        p.set_chunk_row(7, 10);
        p.committed();
        // A batch that seals the chunk twice over, then fails.
        for s in 100..1200 {
            p.point(7, &pt(s)).unwrap();
        }
        let plan = p.finish_batch();
        assert_eq!(plan.sealed.len(), 2);
        assert_eq!(plan.sealed[0].row, Some(10), "the open chunk's row is completed in place");
        p.rolled_back();
        let state = &p.series[&7];
        assert_eq!((state.chunk.len(), state.chunk_row, state.id), (100, Some(10), Some(1)));
        assert!(state.summary.is_none());
    }

    #[test]
    fn ended_runs_are_forgotten_only_when_committed() {
        let mut p = Planner::default();
        p.declare(1, &key(1, "a")).unwrap();
        p.declare(2, &key(2, "a")).unwrap();
        p.run_ended(&Id::from_parts(1, 1));
        p.rolled_back();
        assert_eq!(p.live_series(), 2);
        p.run_ended(&Id::from_parts(1, 1));
        p.committed();
        assert_eq!(p.live_series(), 1);
        let err = p.point(1, &pt(0)).err().unwrap().to_string();
        assert!(err.contains("not declared"), "{err}");
    }

    #[test]
    fn a_refused_declaration_refuses_its_points_with_the_reason() {
        let mut p = Planner::default();
        assert!(p.declare(3, &key(1, "")).is_err());
        let err = p.point(3, &pt(0)).err().unwrap().to_string();
        assert!(err.contains("metric key: empty"), "{err}");
        assert!(p.declare(4, &key(1, "a")).is_ok());
        assert!(p.declare(4, &key(1, "b")).is_err(), "a handle cannot change series");
    }
}
