//! The write path: every feeder (the live recorder, importers, merges from other hosts) hands
//! [`Event`]s to a [`BatchWriter`], which applies a batch in one transaction.
//!
//! It has two halves: a planner (events → validated, encoded chunks, summary deltas and
//! overview parts; no SQL) and an executor (the SQL for SQLite). Each event is answered on its
//! own: an invalid event is refused alone and never degrades the batch around it; a failure of
//! the file itself (disk full, lock held, I/O error) fails the whole batch, which leaves the
//! writer as it was so the same batch can be written again later.

mod executor;
mod planner;

use rusqlite::{Connection, TransactionBehavior};

use crate::event::{Event, Reply};
use crate::{Error, Result, Store};
use planner::{Planner, PointStatus};

/// Writes batches of events. Keeps, per declared series, the open (partly filled) chunk and
/// the overview buckets not yet written, so that a point costs a few field updates in memory
/// and each batch writes one chunk row, one summary update and a handful of overview rows per
/// series it touched. A series' state is forgotten once its run has ended.
///
/// One `BatchWriter` serves one store; several processes may each run their own on the same
/// file (every statement is relative: counts add up, min/max compare).
#[derive(Debug, Default)]
pub struct BatchWriter {
    planner: Planner,
}

/// What a batch did: each event was written, or refused with its reason.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Answers other than [`Reply::Done`], by event index.
    replies: Vec<(usize, Reply)>,
    /// Refused events and why, by event index (ascending).
    refused: Vec<(usize, Error)>,
}

impl BatchOutcome {
    /// The answer to event `index`: its reply, or why it was refused. Each refusal can be
    /// taken once; later calls for the same index answer [`Reply::Done`].
    pub fn take(&mut self, index: usize) -> Result<Reply> {
        if let Ok(at) = self.refused.binary_search_by_key(&index, |(i, _)| *i) {
            return Err(self.refused.remove(at).1);
        }
        Ok(match self.replies.binary_search_by_key(&index, |(i, _)| *i) {
            Ok(at) => self.replies[at].1.clone(),
            Err(_) => Reply::Done,
        })
    }

    /// The refused events, by index, with their reasons.
    pub fn refused(&self) -> &[(usize, Error)] {
        &self.refused
    }

    /// `Ok` when every event was written, else the first refusal.
    pub fn all_written(mut self) -> Result<()> {
        if self.refused.is_empty() { Ok(()) } else { Err(self.refused.remove(0).1) }
    }
}

impl BatchWriter {
    /// A writer with nothing declared.
    pub fn new() -> BatchWriter {
        BatchWriter::default()
    }

    /// Metric series whose state is held in memory (declared, and their run not ended).
    pub fn live_series(&self) -> usize {
        self.planner.live_series()
    }

    /// Applies `events` in one `BEGIN IMMEDIATE` transaction. Each event is written or
    /// refused on its own (see [`BatchOutcome`]). `Err` means the file failed (disk full, lock
    /// held past the busy timeout, I/O error, read-only file): nothing of the batch was
    /// written and the writer is as it was, so the same batch can be applied again.
    pub fn write(&mut self, store: &mut Store, events: &[Event]) -> Result<BatchOutcome> {
        self.write_batch(store, events, false)
    }

    /// As [`write`](Self::write), but all or nothing: the first event refused fails the whole
    /// batch with its reason, and nothing of the batch is written. For imports, where half a
    /// source is worse than none.
    pub fn write_whole(&mut self, store: &mut Store, events: &[Event]) -> Result<BatchOutcome> {
        self.write_batch(store, events, true)
    }

    fn write_batch(&mut self, store: &mut Store, events: &[Event], whole: bool) -> Result<BatchOutcome> {
        let compat = store.compatibility();
        if !compat.writable {
            return Err(Error::ReadOnly {
                found: compat.file_version,
                supported: crate::schema::SCHEMA_VERSION,
            });
        }
        match self.write_in_transaction(store.conn_mut(), events, whole) {
            Ok(outcome) => {
                self.planner.committed();
                Ok(outcome)
            }
            Err(e) => {
                self.planner.rolled_back();
                Err(e)
            }
        }
    }

    fn write_in_transaction(
        &mut self,
        conn: &mut Connection,
        events: &[Event],
        whole: bool,
    ) -> Result<BatchOutcome> {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcome = BatchOutcome::default();
        for (index, event) in events.iter().enumerate() {
            let answer = match event {
                Event::Point { handle, point } => self.point(&tx, *handle, point).map(|()| Reply::Done),
                Event::Series { handle, series } => {
                    self.planner.declare(*handle, series).map(|()| Reply::Done)
                }
                entity => self.entity(&mut tx, entity),
            };
            match answer {
                Ok(Reply::Done) => {}
                Ok(reply) => outcome.replies.push((index, reply)),
                Err(e) if e.blames_event() && !whole => outcome.refused.push((index, e)),
                Err(e) => return Err(e),
            }
        }
        let plan = self.planner.finish_batch();
        for (handle, row) in executor::write_series(&tx, &plan)? {
            self.planner.set_chunk_row(handle, row);
        }
        tx.commit()?;
        Ok(outcome)
    }

    fn point(&mut self, conn: &Connection, handle: u64, point: &crate::Point) -> Result<()> {
        let series = match self.planner.point(handle, point)? {
            PointStatus::Planned => return Ok(()),
            PointStatus::NeedsId(series) => series.clone(),
        };
        match executor::resolve_series(conn, &series) {
            Ok(id) => self.planner.set_id(handle, id),
            Err(e) => {
                if e.blames_event() {
                    self.planner.refuse(handle, e.to_string());
                }
                return Err(e);
            }
        }
        match self.planner.point(handle, point)? {
            PointStatus::Planned => Ok(()),
            PointStatus::NeedsId(_) => unreachable!("the id was just set"),
        }
    }

    /// Applies an event other than a series or point; a refused event leaves nothing behind.
    fn entity(&mut self, tx: &mut rusqlite::Transaction<'_>, event: &Event) -> Result<Reply> {
        planner::validate(event)?;
        let reply = if writes_several_rows(event) {
            let savepoint = tx.savepoint()?;
            let reply = executor::apply_entity(&savepoint, event)?;
            savepoint.commit()?;
            reply
        } else {
            // One statement either writes or fails whole: no savepoint needed.
            executor::apply_entity(tx, event)?
        };
        if let Event::RunStatus { run_id, status, .. } = event
            && status.is_terminal()
        {
            self.planner.run_ended(run_id);
        }
        Ok(reply)
    }
}

/// Whether applying `event` takes several writing statements (so a failure half-way must be
/// rolled back to a savepoint).
fn writes_several_rows(event: &Event) -> bool {
    matches!(event, Event::Params { .. } | Event::Tags { .. } | Event::ModelVersion(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Id;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn experiment(id: u128, name: &str) -> Event {
        Event::Experiment {
            id: Id::from_parts(1, id),
            name: name.into(),
            description: String::new(),
            time_ms: 1,
        }
    }

    #[test]
    fn an_event_the_file_contradicts_is_refused_alone() {
        let mut store = Store::open_in_memory(0).unwrap();
        let mut writer = BatchWriter::new();
        // The second reuses the first's id under another name: nothing can be answered for it.
        let events = [experiment(1, "a"), experiment(1, "b"), experiment(2, "c")];
        let mut outcome = writer.write(&mut store, &events).unwrap();
        assert_eq!(outcome.refused().len(), 1);
        assert!(outcome.take(1).is_err());
        assert_eq!(outcome.take(2).unwrap(), Reply::Id(Id::from_parts(1, 2)));
        assert_eq!(store.experiments().unwrap().len(), 2);
    }

    #[test]
    fn a_whole_batch_with_one_refused_event_writes_nothing_and_can_be_written_once_mended() {
        let mut store = Store::open_in_memory(0).unwrap();
        let mut writer = BatchWriter::new();
        let events = [experiment(1, "a"), experiment(2, " "), experiment(3, "c")];
        let err = writer.write_whole(&mut store, &events).unwrap_err();
        assert!(err.to_string().contains("experiment name"), "{err}");
        assert_eq!(store.experiments().unwrap().len(), 0, "nothing of the batch");
        let mended = [experiment(1, "a"), experiment(2, "b"), experiment(3, "c")];
        writer.write_whole(&mut store, &mended).unwrap();
        assert_eq!(store.experiments().unwrap().len(), 3);
    }
}
