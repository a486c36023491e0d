// The runs of one open file with their metric summaries as columns (Float64Arrays, one entry
// per run), read per row on demand: 10,000 runs × 20 metrics are 200 arrays, not 200,000
// objects. A long listing arrives in parts: the first screen's runs with the listing, the
// rest in the background (`loadRest`), so the first screen does not wait for every summary.
import { nullPrototypes } from "./client.js";

/** Runs summarised with the listing: enough for the table's first screen and the charts. */
export const FIRST_PART = 50;
/** Runs per background request: each keeps the worker busy for ~50–150 ms. */
const PART = 1000;
const FIELDS = ["seriesId", "count", "nanCount", "firstStep", "lastStep", "last", "min", "max", "mean"];
const columnId = (key, label) => `${key}\u0000${label}`;

/** One file's runs and their summaries (`rows` are the table's rows). */
export class RunTable {
  /** `table`: what the worker's `runTable` returned. */
  constructor(file, table) {
    const runs = JSON.parse(table.runsJson);
    // The objects keyed by the file's data get no prototype (see client.js); a run's own keys
    // are runstore's.
    for (const run of runs) {
      nullPrototypes(run.params);
      nullPrototypes(run.tags);
      nullPrototypes(run.results);
    }
    this.fileKey = file.key;
    this.size = runs.length;
    this.summarised = 0;
    this.columns = new Map(); // key\0label -> [{key, label, context, ...Float64Array per field}]
    this.rows = runs.map((run, at) => ({ fileKey: file.key, fileName: file.name, run, table: this, at }));
    this.add(table.metrics, 0, table.summarised);
  }

  /** Columns of `count` runs from run `offset` on, as `metricColumns` returns them. */
  add(metrics, offset, count) {
    for (const part of metrics) {
      const id = columnId(part.key, part.label);
      const same = this.columns.get(id) ?? [];
      const contextText = JSON.stringify(part.context);
      let column = same.find((c) => c.contextText === contextText);
      if (!column) {
        column = { key: part.key, label: part.label, context: part.context, contextText };
        for (const field of FIELDS) column[field] = new Float64Array(this.size).fill(NaN);
        // Contexts in the order the worker sorts them, whichever part brought them first:
        // `summary` takes the first a run has.
        same.push(column);
        same.sort((a, b) => (a.contextText < b.contextText ? -1 : a.contextText > b.contextText ? 1 : 0));
        this.columns.set(id, same);
      }
      // Only the runs that have this series: two columns of one context (written as different
      // JSON texts by some other writer) must not blank each other.
      const ids = part.seriesId;
      for (let i = 0; i < ids.length; i++) {
        if (Number.isNaN(ids[i])) continue;
        for (const field of FIELDS) column[field][offset + i] = part[field][i];
      }
    }
    this.summarised = Math.max(this.summarised, offset + count);
  }

  /** Reads the summaries of the runs not read yet, a part at a time; false if `stale()` ended it. */
  async loadRest(client, stale) {
    while (this.summarised < this.size) {
      if (stale()) return false;
      const from = this.summarised, to = Math.min(this.size, from + PART);
      const ids = this.rows.slice(from, to).map((r) => r.run.id);
      const columns = await client.callInBackground(this.fileKey, "metricColumns", ids);
      if (this.summarised === from) this.add(columns, from, to - from);
    }
    return !stale();
  }
}

/** Whether `row`'s summaries are still being read. */
export function awaitingSummaries(row) {
  return row.at >= row.table.summarised;
}

/** The summary of `row`'s series `key` [`label`], or undefined (none, or not read yet). */
export function summary(row, key, label = "") {
  for (const column of row.table.columns.get(columnId(key, label)) ?? []) {
    const made = summaryAt(column, row.at);
    if (made) return made;
  }
  return undefined;
}

function summaryAt(column, at) {
  const id = column.seriesId[at];
  if (Number.isNaN(id)) return undefined;
  const count = column.count[at], valid = count - column.nanCount[at];
  const value = (v, present) => (present ? v : null);
  return {
    series_id: id, key: column.key, label: column.label, context: column.context, count, nan_count: column.nanCount[at],
    first_step: value(column.firstStep[at], count > 0), last_step: value(column.lastStep[at], count > 0),
    last: value(column.last[at], count > 0), min: value(column.min[at], valid > 0), max: value(column.max[at], valid > 0),
    mean: value(column.mean[at], valid > 0),
  };
}

/** Every series summary of `row`, by key and label (read from the worker if still pending). */
export async function summariesOf(client, row) {
  if (!awaitingSummaries(row)) {
    // Key, context, label, as the worker orders a run's series.
    const byText = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
    const columns = [...row.table.columns.values()].flat()
      .sort((a, b) => byText(a.key, b.key) || byText(a.contextText, b.contextText) || byText(a.label, b.label));
    return columns.map((c) => summaryAt(c, row.at)).filter(Boolean);
  }
  const metrics = await client.call(row.fileKey, "metricColumns", [row.run.id]);
  const single = new RunTable({ key: row.fileKey, name: row.fileName }, { runsJson: "[{}]", metrics, summarised: 1 });
  return summariesOf(client, single.rows[0]);
}

/** The tables of `rows`' files. */
function tablesOf(rows) {
  return new Set(rows.map((r) => r.table));
}

/** Every metric key of the rows' files, sorted; only keys with a plain (unlabelled) value when `plain`. */
export function metricKeys(rows, plain = true) {
  const keys = new Set();
  for (const table of tablesOf(rows)) for (const same of table.columns.values()) if (!plain || same[0].label === "") keys.add(same[0].key);
  return [...keys].sort();
}

/** The labels `key` is logged with in the rows' files ("" for the plain value), sorted. */
export function labelsOf(rows, key) {
  const labels = new Set();
  for (const table of tablesOf(rows)) for (const same of table.columns.values()) if (same[0].key === key) labels.add(same[0].label);
  return [...labels].sort();
}
