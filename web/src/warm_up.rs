//! Warming the module up before a file arrives.
//!
//! Browsers compile a WebAssembly function the first time it runs, so the first open of a
//! file paid for compiling SQLite's parser, virtual machine and B-tree code and runstore's
//! readers (1,434 functions, ~75 ms, traced). `warmUp()` runs the same paths once on a small
//! store built in memory, while the page waits for the user to drop a file.

use runstore_core::analysis::SeriesRequest;
use runstore_core::event::{Owner, RunRecord};
use runstore_core::source::SourceOptions;
use runstore_core::{BatchWriter, Context, Event, Id, Point, RunQuery, RunStatus, SeriesKey, Store};
use wasm_bindgen::prelude::*;

use crate::convert::{js_error, metric_columns_to_js, run_table_to_js, series_to_js, to_js};

/// Runs in the warm-up store, and the metrics each has. A thousand runs make the browser
/// optimise the listing's loops before a file arrives: listing a 10,000-run file then took
/// ~185 ms instead of ~300 ms (100 runs); the warm-up itself takes ~110 ms more, in the worker,
/// while the page waits for a file. More runs gained nothing measurable.
const RUNS: u64 = 1000;
const KEYS: [&str; 5] = ["loss", "accuracy", "lr", "grad_norm", "throughput"];

/// Runs open, stats, the run table (and runs) with a filter, and a chart series once on a
/// small in-memory store, read through the same lazy reader files use. Call it when the
/// module has loaded.
#[wasm_bindgen(js_name = warmUp)]
pub fn warm_up() -> Result<(), JsError> {
    let mut store = Store::open_in_memory(0).map_err(js_error)?;
    let experiment = Id::from_parts(0, 1);
    let mut events = vec![Event::Experiment {
        id: experiment.clone(),
        name: "warm-up".into(),
        description: String::new(),
        time_ms: 0,
    }];
    // A runs table's worth of runs and series: converting results to JS objects runs JS glue
    // that the browser optimises only after many calls.
    for run in 0..RUNS {
        let id = Id::from_parts(0, 2 + u128::from(run));
        events.push(Event::Run(Box::new(RunRecord {
            id: id.clone(),
            experiment_id: experiment.clone(),
            trial_id: None,
            name: format!("warm-up {run}"),
            status: RunStatus::Completed,
            host: None,
            pid: None,
            heartbeat_interval_ms: None,
            time_ms: 0,
        })));
        events.push(Event::Params { owner: Owner::Run(id.clone()), params: vec![("lr".into(), 0.1.into())] });
        for (k, key) in (0..).zip(KEYS) {
            events.push(Event::Series {
                handle: run * KEYS.len() as u64 + k,
                series: SeriesKey {
                    run_id: id.clone(),
                    key: key.into(),
                    context: Context::none().to_json(),
                    label: String::new(),
                },
            });
        }
    }
    // One long series (the first run's first), so that charts take the overview path too.
    events.extend((0..2_000).map(|step| Event::Point {
        handle: 0,
        point: Point { step, time_ms: step, value: 1.0 / (step as f64 + 1.0), epoch: None, batch: None },
    }));
    BatchWriter::new().write(&mut store, &events).and_then(|o| o.all_written()).map_err(js_error)?;
    let bytes = store.to_bytes().map_err(js_error)?;
    let (store, _) = Store::from_source(Box::new(bytes), &SourceOptions::local_file()).map_err(js_error)?;
    to_js(&store.stats().map_err(js_error)?)?;
    // The page's listing: the table with its first part, then the rest in the background.
    let query = RunQuery { filter: Some("params.lr > 0".into()), ..Default::default() };
    let table = store.run_table(&query, Some(10)).map_err(js_error)?;
    run_table_to_js(&table)?;
    let rest: Vec<&str> = table.runs[10..].iter().map(|r| r.id.as_str()).collect();
    metric_columns_to_js(&store.metric_columns(&rest).map_err(js_error)?)?;
    let query = RunQuery { with_metrics: true, ..query };
    let runs = store.runs(&query).map_err(js_error)?;
    to_js(&runs)?;
    let series =
        runs.iter().flat_map(|r| &r.metrics).find(|m| m.count > 0).map(|m| m.series_id).unwrap_or_default();
    for range in [None, Some((500, 1_500))] {
        let mut request = SeriesRequest::new(series);
        request.budget = 100; // under an eighth of the points: the overview path
        request.from_step = range.map(|r| r.0);
        request.to_step = range.map(|r| r.1);
        series_to_js(&store.series_data(&request).map_err(js_error)?, None)?;
    }
    Ok(())
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn warming_up_succeeds() {
        super::warm_up().unwrap();
    }
}
