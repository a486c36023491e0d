//! TypeScript declarations of the objects that cross the boundary as plain JS values, added to
//! the `.d.ts` wasm-bindgen generates, so `RunStore` and `Database` are typed end to end.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A float as JSON carries it: NaN and infinities arrive as strings, like the CLI's JSON. */
export type JsonFloat = number | "NaN" | "Infinity" | "-Infinity";
export type ParamValue = string | number | boolean | null | ParamValue[] | { [key: string]: ParamValue };
export type RunState = "pending" | "running" | "completed" | "failed" | "killed" | "crashed";
export type XAxis = "step" | "wall_time" | "relative" | "epoch";
export type Smoothing =
  | { kind: "none" }
  | { kind: "ema"; weight: number }
  | { kind: "time_weighted_ema"; weight: number }
  | { kind: "running_average"; window: number };

export interface SeriesSummary {
  series_id: number; run_id: string; key: string; context: Record<string, string>; label: string;
  count: number; nan_count: number; first_step: number | null; last_step: number | null;
  first_ms: number | null; last_ms: number | null;
  last: JsonFloat | null; min: JsonFloat | null; max: JsonFloat | null; mean: JsonFloat | null; sum: JsonFloat | null;
}

/**
 * Objects keyed by the file's data (`params`, `tags`, `context`, group keys, attributes) hold every
 * key as an own property, `__proto__` and `constructor` included: read them with `Object.hasOwn`
 * or `Object.entries`, never by a bare lookup that would fall through to `Object.prototype`.
 */
export interface RunInfo {
  id: string; name: string; experiment_id: string; experiment: string;
  trial_id: string | null; trial: string | null; status: string; state: RunState;
  created_ms: number; started_ms: number | null; ended_ms: number | null; heartbeat_ms: number | null;
  duration_ms: number | null; host: string | null; pid: number | null; error: string | null;
  results: unknown; params: Record<string, ParamValue>; tags: Record<string, string>;
  metrics: SeriesSummary[];
}

/**
 * One kind of metric series (key, context, label) across a run table's runs: entry i of each
 * array belongs to `runs[i]`; NaN where that run has no such series (`seriesId` NaN) or the
 * summary has no value (no points, or only NaN points). A NaN last value is NaN with `count` > 0.
 */
export interface MetricColumn {
  key: string; context: Record<string, string>; label: string;
  seriesId: Float64Array; count: Float64Array; nanCount: Float64Array;
  firstStep: Float64Array; lastStep: Float64Array;
  last: Float64Array; min: Float64Array; max: Float64Array; mean: Float64Array;
}

/**
 * Runs and the metric summaries of the first `summarised` as columns. `runsJson` is the JSON
 * text of the runs (`RunInfo[]`, their `metrics` empty): a worker hands one string to a page
 * far faster than 10,000 objects. Parse it where it is used (and give `params`, `tags` and
 * `results` null prototypes, as the note on `RunInfo` says).
 */
export interface RunTable { runsJson: string; metrics: MetricColumn[]; summarised: number }

export interface StoreStats {
  schema_version: number; experiments: number; trials: number; runs: number;
  runs_by_status: Record<string, number>; series: number; points: number; nan_points: number;
  resource_samples: number; spans: number; artifacts: number; datasets: number; models: number;
  model_versions: number; first_ms: number | null; last_ms: number | null; duration_ms: number | null;
  size_bytes: number;
}

export interface Compatibility { file_version: number; writable: boolean }

export interface SeriesOptions {
  fromStep?: number; toStep?: number; budget?: number; xAxis?: XAxis; smoothing?: Smoothing | null;
}

/** A series for a chart: numeric columns are typed arrays (NaN and ±Inf stay numbers). */
export interface Series {
  seriesId: number; x: Float64Array; y: Float64Array; smoothed?: Float64Array; steps: Float64Array;
  /** Every point in range is present (no min/max reduction). */
  exact: boolean; level: number | null; pointsInRange: number;
}

export interface ChartOptions {
  metric: string; runs?: string[]; filter?: string | null; groupBy?: string[];
  band?: "std" | "std_err" | "min_max"; smoothing?: Smoothing | null; xAxis?: XAxis; logY?: boolean;
  budget?: number; title?: string; width?: number; height?: number;
}

export interface GroupSeries {
  key: Record<string, ParamValue | null>; members: [string, string][];
  x: JsonFloat[]; mean: JsonFloat[]; lower: JsonFloat[]; upper: JsonFloat[]; count: number[];
}

export interface MetricOverview {
  key: string; runs: number; points: number; nan_points: number; runs_ending_nan: number;
  direction: "minimize" | "maximize"; best_last: JsonFloat | null; worst_last: JsonFloat | null;
}

export interface ResourceOptions {
  /** Most points per measurement (default 2000); longer ones keep each time bucket's first, min, max and last. */
  budget?: number;
  /** Only this run's samples (default: every run and the host). */
  runId?: string;
}

/** One measurement of one run (`runId` null: the whole host), ready to draw. */
export interface ResourceSeries {
  runId: string | null; kind: string; name: string; unit: string;
  /** Samples stored; `x.length` is at most the budget. */
  count: number;
  /** Every sample is present (no min/max reduction). */
  exact: boolean;
  /** Time of each point, Unix ms. */
  x: Float64Array;
  y: Float64Array;
}

export interface ResourceStats {
  kind: string; name: string; unit: string; count: number;
  mean: JsonFloat | null; min: JsonFloat | null; max: JsonFloat | null; first_ms: number; last_ms: number;
}

export interface SourceCounters { fetches: number; bytes_fetched: number; page_reads: number; cached_bytes: number }

/** One statement's rows, as sql.js returns them. */
export interface QueryExecResult { columns: string[]; values: (number | string | Uint8Array | null)[][] }
export type BindParams = (number | string | boolean | Uint8Array | null)[] | Record<string, number | string | boolean | Uint8Array | null> | null;
"#;
