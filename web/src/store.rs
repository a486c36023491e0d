//! `RunStore`: a runstore file opened from bytes.

use runstore_core::analysis::{Band, GroupRequest, SeriesRequest, Smoothing, XAxis, smooth};
use runstore_core::event::{ArtifactOwner, ResourceKind};
use runstore_core::plot::{ChartRequest, render_svg};
use std::rc::Rc;

use runstore_core::read::RESOURCE_BUDGET;
use runstore_core::source::{SourceOptions, SourceStats};
use runstore_core::{RunQuery, Store};
use wasm_bindgen::prelude::*;

use crate::convert::{
    from_js, js_error, metric_columns_to_js, resources_to_js, run_table_to_js, series_to_js, to_js,
};
use crate::js_source::JsSource;
use crate::options::{ChartOptions, ResourceOptions, SeriesOptions};
use crate::sql::{Connected, Database};

/// A runstore file opened read-only, from its bytes or lazily from a reader: the user's file is
/// never modified.
#[wasm_bindgen]
pub struct RunStore {
    store: Rc<Store>,
    source: Option<SourceStats>,
}

#[wasm_bindgen]
impl RunStore {
    /// Opens the bytes of a `.db` file (WAL-mode files included). Throws an `Error` saying
    /// what is wrong for files that are not runstore stores, are damaged, or come from a
    /// newer runstore that this page cannot read.
    pub fn open(bytes: &[u8]) -> Result<RunStore, JsError> {
        Ok(RunStore { store: Rc::new(Store::from_bytes(bytes).map_err(js_error)?), source: None })
    }

    /// Opens a file of `size` bytes lazily: `read(offset, length)` returns a `Uint8Array`
    /// synchronously (in a worker, `FileReaderSync` over `file.slice()` or a synchronous
    /// request with a `Range` header). Only the pages queries need are read, so files far
    /// larger than memory (over 2 GiB included) open. `local`: the file is on this machine
    /// (a dropped `File`), where a read's cost is per call rather than per byte, so reads are
    /// fewer and larger; leave it out for files fetched over the network.
    #[wasm_bindgen(js_name = openSource)]
    pub fn open_source(size: f64, read: js_sys::Function, local: Option<bool>) -> Result<RunStore, JsError> {
        let source = Box::new(JsSource::new(size, read));
        let (store, stats) = Store::from_source(source, &source_options(local)).map_err(js_error)?;
        Ok(RunStore { store: Rc::new(store), source: Some(stats) })
    }

    /// For lazily opened files, what reading cost so far:
    /// `{fetches, bytes_fetched, page_reads, cached_bytes}`; `null` for files opened as bytes.
    #[wasm_bindgen(js_name = sourceStats, unchecked_return_type = "SourceCounters | null")]
    pub fn source_stats(&self) -> Result<JsValue, JsError> {
        self.source.as_ref().map_or(Ok(JsValue::NULL), |stats| to_js(&stats.get()))
    }

    /// The sql.js-compatible console over this store's connection (read-only).
    pub fn sql(&self) -> Result<Database, JsError> {
        Database::over(Connected::Store(self.store.clone()), self.source.clone(), true)
    }

    /// Schema version of the file and whether this version could write it.
    #[wasm_bindgen(unchecked_return_type = "Compatibility")]
    pub fn compatibility(&self) -> Result<JsValue, JsError> {
        to_js(&self.store.compatibility())
    }

    /// Counts, time span and size.
    #[wasm_bindgen(unchecked_return_type = "StoreStats")]
    pub fn stats(&self) -> Result<JsValue, JsError> {
        to_js(&self.store.stats().map_err(js_error)?)
    }

    /// All experiments.
    pub fn experiments(&self) -> Result<JsValue, JsError> {
        to_js(&self.store.experiments().map_err(js_error)?)
    }

    /// Runs with params, tags and metric summaries, matching `filter` (the filter language;
    /// all when empty) in the order of `sort` (e.g. `-metrics.val/accuracy.max`). `now_ms`
    /// (e.g. `Date.now()`) lets runs whose process died show as `crashed`. A bad filter throws an
    /// `Error` whose message points at the column.
    #[wasm_bindgen(unchecked_return_type = "RunInfo[]")]
    pub fn runs(
        &self,
        filter: Option<String>,
        sort: Option<String>,
        now_ms: Option<f64>,
    ) -> Result<JsValue, JsError> {
        let query = RunQuery {
            filter,
            sort,
            now_ms: now_ms.map(|t| t as i64),
            with_metrics: true,
            ..Default::default()
        };
        to_js(&self.store.runs(&query).map_err(js_error)?)
    }

    /// The runs of `runs()` as a table: `{runsJson, metrics, summarised}`, where `runsJson` is
    /// the JSON text of the runs (`RunInfo[]` with params and tags, no `metrics`: parse it
    /// where it is used; see `RunTable`) and `metrics` one column per metric series kind
    /// (key, context, label) whose summaries (`seriesId`, `count`, `nanCount`, `firstStep`,
    /// `lastStep`, `last`, `min`, `max`, `mean`) are `Float64Array`s for the first
    /// `summarised` runs, NaN where a run has no such series. `summarise` (default: all): how
    /// many runs to summarise now; a page lists 10,000 runs, shows the first screen, and reads
    /// the rest with `metricColumns`.
    #[wasm_bindgen(js_name = runTable, unchecked_return_type = "RunTable")]
    pub fn run_table(
        &self,
        filter: Option<String>,
        sort: Option<String>,
        now_ms: Option<f64>,
        summarise: Option<f64>,
    ) -> Result<JsValue, JsError> {
        let query = RunQuery { filter, sort, now_ms: now_ms.map(|t| t as i64), ..Default::default() };
        let summarise = summarise.map(|n| n.max(0.0) as usize);
        run_table_to_js(&self.store.run_table(&query, summarise).map_err(js_error)?)
    }

    /// The metric summaries of the runs `runIds` as columns (`MetricColumn[]`, entry `i` for
    /// `runIds[i]`, NaN where a run has no such series).
    #[wasm_bindgen(js_name = metricColumns, unchecked_return_type = "MetricColumn[]")]
    pub fn metric_columns(
        &self,
        #[wasm_bindgen(js_name = runIds)] run_ids: Vec<String>,
    ) -> Result<JsValue, JsError> {
        let ids: Vec<&str> = run_ids.iter().map(String::as_str).collect();
        metric_columns_to_js(&self.store.metric_columns(&ids).map_err(js_error)?)
    }

    /// Points of a series for a chart; see `SeriesOptions` (range, budget, x axis, smoothing).
    /// Numeric columns are `Float64Array`s.
    #[wasm_bindgen(unchecked_return_type = "Series")]
    pub fn series(
        &self,
        series_id: f64,
        #[wasm_bindgen(unchecked_param_type = "SeriesOptions | undefined")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let o: SeriesOptions = from_js(options)?;
        let request = SeriesRequest {
            series_id: series_id as i64,
            from_step: o.from_step.map(|s| s as i64),
            to_step: o.to_step.map(|s| s as i64),
            budget: o.budget.unwrap_or(2000),
            x_axis: o.x_axis.unwrap_or(XAxis::Step),
        };
        let data = self.store.series_data(&request).map_err(js_error)?;
        let smoothed = o.smoothing.filter(|s| *s != Smoothing::None).map(|s| smooth(&data.x, &data.y, s));
        series_to_js(&data, smoothed)
    }

    /// Runs side by side: differing and equal params, summaries, best run per metric.
    pub fn compare(&self, runs: Vec<String>, now_ms: Option<f64>) -> Result<JsValue, JsError> {
        let names: Vec<&str> = runs.iter().map(String::as_str).collect();
        to_js(&self.store.compare(&names, now_ms.map(|t| t as i64)).map_err(js_error)?)
    }

    /// Runs grouped by params (`options.groupBy`) into mean and band series of `options.metric`
    /// (smoothed when `options.smoothing` is given).
    #[wasm_bindgen(unchecked_return_type = "GroupSeries[]")]
    pub fn groups(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChartOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let o: ChartOptions = from_js(options)?;
        let request = GroupRequest {
            filter: o.filter,
            group_by: o.group_by,
            metric: o.metric,
            context: None,
            budget: o.budget.unwrap_or(1000),
            band: o.band.unwrap_or(Band::Std),
        };
        let mut groups = self.store.group(&request).map_err(js_error)?;
        if let Some(smoothing) = o.smoothing.filter(|s| *s != Smoothing::None) {
            for g in &mut groups {
                for values in [&mut g.mean, &mut g.lower, &mut g.upper] {
                    *values = smooth(&g.x, values, smoothing);
                }
            }
        }
        to_js(&groups)
    }

    /// A chart as an SVG document, drawn by the same code as `runstore plot`.
    #[wasm_bindgen(js_name = chartSvg)]
    pub fn chart_svg(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChartOptions")] options: JsValue,
    ) -> Result<String, JsError> {
        let o: ChartOptions = from_js(options)?;
        let mut request = ChartRequest::new(&o.metric);
        request.runs = o.runs;
        request.filter = o.filter;
        request.group_by = o.group_by;
        request.band = o.band.unwrap_or(Band::Std);
        request.smoothing = o.smoothing.unwrap_or(Smoothing::None);
        request.x_axis = o.x_axis.unwrap_or(XAxis::Step);
        request.log_y = o.log_y;
        request.budget = o.budget.unwrap_or(1000);
        request.title = o.title;
        let chart = self.store.metric_chart(&request).map_err(js_error)?;
        render_svg(&chart, o.width.unwrap_or(800), o.height.unwrap_or(480)).map_err(js_error)
    }

    /// Where a run's results came from: datasets, code, environment, epochs, and its
    /// artifacts at run, epoch and batch level.
    pub fn provenance(&self, run_id: String) -> Result<JsValue, JsError> {
        let s = &self.store;
        let doc = serde_json::json!({
            "datasets": s.datasets(&run_id).map_err(js_error)?,
            "code": s.code(&run_id).map_err(js_error)?,
            "environment": s.environment(&run_id).map_err(js_error)?,
            "epochs": s.epochs(&run_id).map_err(js_error)?,
            "artifacts": s.run_artifacts(&run_id).map_err(js_error)?,
        });
        to_js(&doc)
    }

    /// Artifacts attached to an experiment (by id).
    #[wasm_bindgen(js_name = experimentArtifacts)]
    pub fn experiment_artifacts(&self, experiment_id: String) -> Result<JsValue, JsError> {
        let id = experiment_id.parse().map_err(js_error)?;
        to_js(&self.store.artifacts(&ArtifactOwner::Experiment(id)).map_err(js_error)?)
    }

    /// Trials of an experiment (name or id), with their configuration and run counts.
    pub fn trials(&self, experiment: String) -> Result<JsValue, JsError> {
        to_js(&self.store.trials(&experiment).map_err(js_error)?)
    }

    /// Artifacts attached to a trial (by id).
    #[wasm_bindgen(js_name = trialArtifacts)]
    pub fn trial_artifacts(&self, trial_id: String) -> Result<JsValue, JsError> {
        let id = trial_id.parse().map_err(js_error)?;
        to_js(&self.store.artifacts(&ArtifactOwner::Trial(id)).map_err(js_error)?)
    }

    /// Resource samples of one kind (`cpu`, `ram`, `gpu`, `disk`, `net`) for charts: one series
    /// per run and measurement, each within `options.budget` points (default 2000) however
    /// many samples it has, keeping the first, min, max and last sample of each time bucket
    /// (see `ResourceOptions`). Times and values are `Float64Array`s.
    #[wasm_bindgen(unchecked_return_type = "ResourceSeries[]")]
    pub fn resources(
        &self,
        kind: String,
        #[wasm_bindgen(unchecked_param_type = "ResourceOptions | undefined")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let kind: ResourceKind = kind.parse().map_err(js_error)?;
        let o: ResourceOptions = from_js(options)?;
        let budget = o.budget.unwrap_or(RESOURCE_BUDGET);
        let series = self.store.resource_series(kind, o.run_id.as_deref(), budget).map_err(js_error)?;
        resources_to_js(&series)
    }

    /// Count, mean, min and max of every resource measurement (reads every sample).
    #[wasm_bindgen(js_name = resourceStats, unchecked_return_type = "ResourceStats[]")]
    pub fn resource_stats(&self) -> Result<JsValue, JsError> {
        to_js(&self.store.resource_stats().map_err(js_error)?)
    }

    /// Every metric key across runs: points, NaN points, runs that diverged, best and worst
    /// last value (the collector's metrics overview).
    #[wasm_bindgen(js_name = metricsOverview, unchecked_return_type = "MetricOverview[]")]
    pub fn metrics_overview(&self) -> Result<JsValue, JsError> {
        to_js(&self.store.metrics_overview().map_err(js_error)?)
    }

    /// Span statistics by name and by round.
    pub fn spans(&self) -> Result<JsValue, JsError> {
        let doc = serde_json::json!({
            "byName": self.store.span_stats().map_err(js_error)?,
            "byRound": self.store.span_rounds().map_err(js_error)?,
        });
        to_js(&doc)
    }

    /// Registered models with their latest version and aliases.
    pub fn models(&self) -> Result<JsValue, JsError> {
        to_js(&self.store.models().map_err(js_error)?)
    }

    /// Every version of a model, with aliases, tags and source run.
    #[wasm_bindgen(js_name = modelVersions)]
    pub fn model_versions(&self, model: String) -> Result<JsValue, JsError> {
        to_js(&self.store.model_versions(&model).map_err(js_error)?)
    }

    /// The batches of one epoch of a run.
    pub fn batches(&self, run_id: String, epoch: u32) -> Result<JsValue, JsError> {
        to_js(&self.store.batches(&run_id, epoch).map_err(js_error)?)
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/basic.db");

    #[wasm_bindgen_test]
    fn opens_the_fixture_and_answers_like_core() {
        let store = RunStore::open(FIXTURE).unwrap();
        let stats = store.stats().unwrap();
        let runs = js_sys::Reflect::get(&stats, &"runs".into()).unwrap();
        assert_eq!(runs.as_f64(), Some(5.0));
        let list = js_sys::Array::from(&store.runs(None, None, Some(1_750_003_600_000.0)).unwrap());
        assert_eq!(list.length(), 5);
        let filtered = js_sys::Array::from(&store.runs(Some("params.lr = 0.01".into()), None, None).unwrap());
        assert_eq!(filtered.length(), 2);
    }

    #[wasm_bindgen_test]
    fn trials_and_their_artifacts() {
        use runstore_core::event::ArtifactRecord;
        use runstore_core::{BatchWriter, Event, Id};
        let mut store = Store::open_in_memory(0).unwrap();
        let (experiment, trial) = (Id::from_parts(0, 1), Id::from_parts(0, 2));
        let events = [
            Event::Experiment {
                id: experiment.clone(),
                name: "e".into(),
                description: String::new(),
                time_ms: 0,
            },
            Event::Trial {
                id: trial.clone(),
                experiment_id: experiment,
                name: "lr=0.1".into(),
                description: "the high rate".into(),
                time_ms: 0,
            },
            Event::Artifact(Box::new(ArtifactRecord {
                id: Id::from_parts(0, 3),
                owner: ArtifactOwner::Trial(trial.clone()),
                name: "sweep.yaml".into(),
                kind: "config".into(),
                uri: "file:///sweep.yaml".into(),
                size_bytes: Some(12),
                sha256: None,
                metadata: None,
                time_ms: 0,
            })),
        ];
        BatchWriter::new().write(&mut store, &events).unwrap().all_written().unwrap();
        let store = RunStore::open(&store.to_bytes().unwrap()).unwrap();
        let trials = js_sys::Array::from(&store.trials("e".into()).unwrap());
        assert_eq!(trials.length(), 1);
        let name = js_sys::Reflect::get(&trials.get(0), &"name".into()).unwrap();
        assert_eq!(name.as_string().as_deref(), Some("lr=0.1"));
        let artifacts = js_sys::Array::from(&store.trial_artifacts(trial.to_string()).unwrap());
        assert_eq!(artifacts.length(), 1);
        let uri = js_sys::Reflect::get(&artifacts.get(0), &"uri".into()).unwrap();
        assert_eq!(uri.as_string().as_deref(), Some("file:///sweep.yaml"));
        assert!(store.trial_artifacts("not an id".into()).is_err());
    }

    #[wasm_bindgen_test]
    fn series_come_as_typed_arrays_and_charts_as_svg() {
        let store = RunStore::open(FIXTURE).unwrap();
        let options =
            js_sys::JSON::parse(r#"{"budget": 40, "smoothing": {"kind": "ema", "weight": 0.6}}"#).unwrap();
        let series = store.series(4.0, options).unwrap();
        let y = js_sys::Reflect::get(&series, &"y".into()).unwrap();
        assert!(y.is_instance_of::<js_sys::Float64Array>());
        let y = js_sys::Float64Array::from(y).to_vec();
        assert!(!y.is_empty() && y.len() <= 40);
        assert!(y.iter().any(|v| v.is_nan()), "the diverged series keeps its NaN as a number");
        assert!(
            js_sys::Reflect::get(&series, &"smoothed".into())
                .unwrap()
                .is_instance_of::<js_sys::Float64Array>()
        );
        let overview = js_sys::Array::from(&store.metrics_overview().unwrap());
        assert!(overview.length() > 0);
        let svg = store
            .chart_svg(js_sys::JSON::parse(r#"{"metric": "val/accuracy", "groupBy": ["lr"]}"#).unwrap())
            .unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("lr=0.1 (2 runs)"));
    }

    #[wasm_bindgen_test]
    fn filter_errors_are_errors_with_the_column() {
        let store = RunStore::open(FIXTURE).unwrap();
        let err: JsValue = store.runs(Some("params.lr = and".into()), None, None).err().unwrap().into();
        assert!(err.is_instance_of::<js_sys::Error>());
        assert!(String::from(js_sys::Error::from(err).message()).contains("at column 13"));
    }

    #[wasm_bindgen_test]
    fn bad_bytes_throw_a_real_error() {
        let err = RunStore::open(b"not a database at all").err().unwrap();
        let value: JsValue = err.into();
        assert!(value.is_instance_of::<js_sys::Error>());
        let message = js_sys::Error::from(value).message();
        assert!(String::from(message).contains("SQLite header"));
    }
}

/// How a lazily opened file is read: see [`RunStore::open_source`].
pub(crate) fn source_options(local: Option<bool>) -> SourceOptions {
    if local == Some(true) { SourceOptions::local_file() } else { SourceOptions::default() }
}
