// The runstore page: open .db files (drop, pick, or ?db=URL), list their runs together, chart,
// compare, inspect runs and models, and query with SQL. All SQLite and analysis work happens in
// the worker (client.js); the view state lives in the URL so a link reproduces the view.
import { sharedClient } from "./client.js";
import { h, text } from "./dom.js";
import { renderRuns } from "./runs-view.js";
import { renderChart, chartedRows, prefetchChart } from "./chart-view.js";
import { renderRun, renderCompare, renderModels, renderSystem } from "./detail-view.js";
import { renderSql } from "./sql-view.js";
import { renderWorkspace } from "./workspace-view.js";
import { renderHparams } from "./hparams-view.js";
import { runColor } from "./run-colors.js";
import { RunTable, FIRST_PART, metricKeys, labelsOf, awaitingSummaries } from "./run-table.js";

const $ = (id) => document.getElementById(id);
const client = sharedClient();
const state = {
  files: [], rows: [], selected: new Set(), filter: "", sort: null, columns: null, metric: "", label: "",
  xAxis: "step", smoothing: 0, logY: false, groupBy: "", members: false, zoom: null, view: "runs", urls: [],
  detail: null, keys: "",
};

/** Reads the view state from the URL. */
function readUrl() {
  const q = new URLSearchParams(location.search);
  state.urls = q.getAll("db");
  state.filter = q.get("filter") ?? "";
  state.selected = new Set((q.get("sel") ?? "").split(",").filter(Boolean));
  state.metric = q.get("metric") ?? "";
  state.label = q.get("label") ?? "";
  state.xAxis = q.get("x") ?? "step";
  state.smoothing = Math.min(0.99, Math.max(0, Number(q.get("smooth") ?? 0) || 0));
  state.logY = q.get("log") === "1";
  state.groupBy = q.get("group") ?? "";
  state.columns = q.has("cols") ? q.get("cols").split(",").filter(Boolean) : null;
  const sort = q.get("sort");
  state.sort = sort ? { column: sort.replace(/^-/, ""), descending: sort.startsWith("-") } : null;
  state.view = q.get("view") ?? "runs";
  state.keys = q.get("keys") ?? "";
}

/** Writes the view state into the URL (without reloading). */
function writeUrl() {
  const q = new URLSearchParams();
  for (const u of state.urls) q.append("db", u);
  const put = (k, v, skip) => { if (v !== skip && v !== "" && v !== null && v !== undefined) q.set(k, v); };
  put("filter", state.filter);
  put("sel", [...state.selected].join(","));
  put("metric", state.metric);
  put("label", state.label);
  put("x", state.xAxis, "step");
  put("smooth", state.smoothing ? String(state.smoothing) : "");
  put("log", state.logY ? "1" : "");
  put("group", state.groupBy);
  put("cols", state.columns?.join(","));
  put("sort", state.sort ? `${state.sort.descending ? "-" : ""}${state.sort.column}` : "");
  put("view", state.view, "runs");
  put("keys", state.keys);
  const search = q.toString().replaceAll("%2F", "/").replaceAll("%2C", ",");
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

const ctx = {
  client, state,
  multipleFiles: () => state.files.filter((f) => f.runstore).length > 1,
  update: (options) => update(options),
  saveUrl: () => writeUrl(),
  showRun: (row) => { state.detail = row; state.view = "run"; update(); },
};

/**
 * Loads the runs of every open file through the filter language, with the summaries of the
 * first FIRST_PART runs of each (all when the table is sorted by a metric); `summariseRest`
 * reads the others. Returns the files' tables; `ctx.summarised` resolves once they are whole.
 */
async function loadRuns() {
  const rows = [];
  const problems = [];
  const tables = [];
  const whole = state.sort?.column.startsWith("metrics.") ? null : FIRST_PART;
  client.forgetPrefetched();
  for (const file of state.files.filter((f) => f.runstore)) {
    try {
      const listed = await client.call(file.key, "runTable", state.filter || null, null, Date.now(), whole);
      // The first file's chart series are read while the rows are built.
      if (!tables.length) prefetchChart(ctx, file.key, listed);
      const table = new RunTable(file, listed);
      tables.push(table);
      // A loop, not push(...runs): spreading an array into arguments throws past ~100k runs.
      for (const row of table.rows) rows.push(row);
      // Colours are given in the order runs are first listed, and kept.
      for (const row of table.rows) runColor(row);
    } catch (e) {
      problems.push(e.message);
    }
  }
  state.rows = rows;
  ctx.tables = tables;
  ctx.summarised = new Promise((resolve) => { ctx.settleSummaries = resolve; });
  $("filter-error").textContent = problems[0] ?? "";
  $("filter-error").hidden = !problems.length;
  return tables;
}

/** What the chart's pickers offer: every metric key, and the labels of the chosen one. */
const offeredMetrics = () => JSON.stringify([metricKeys(state.rows, false), labelsOf(state.rows, state.metric)]);

/**
 * Reads the summaries of the runs loadRuns left in `tables`, after the first screen, then
 * shows them: the table's cells, and everything else when the chart drew runs still waiting,
 * groups, a metric or label turned up, or another view shows. Does nothing once loadRuns has
 * run again. Settles `ctx.summarised`.
 */
async function summariseRest(tables) {
  if (ctx.tables !== tables) return;
  const stale = () => ctx.tables !== tables;
  const settle = ctx.settleSummaries;
  const waited = tables.some((t) => t.summarised < t.size);
  const offered = offeredMetrics();
  const chartWaited = Boolean(state.groupBy) || chartedRows(state).some(awaitingSummaries);
  try {
    for (const table of tables) if (!(await table.loadRest(client, stale))) return;
    if (tables.length) performance.mark("runstore:summarised");
    if (ctx.wantedMetric && metricKeys(state.rows, false).includes(ctx.wantedMetric)) state.metric = ctx.wantedMetric;
    ctx.wantedMetric = null;
    if (!waited) return;
    const everything = chartWaited || offeredMetrics() !== offered || state.view !== "runs";
    await update(everything ? {} : { only: "table" });
  } catch (e) {
    showError(`reading the runs' summaries failed: ${e.message}`);
  } finally {
    settle();
  }
}

/** A file's counts for the files table: "…" while they are read (after the first view). */
function counts(f) {
  const s = f.stats;
  if (!s || s instanceof Promise || s.error) return Array(6).fill(s?.error ? "" : "…");
  return [s.experiments, s.runs, s.series, s.points, s.nan_points, `${(s.size_bytes / 1048576).toFixed(1)} MiB`];
}

/** What an open file that runstore cannot read as its own is. */
function describeOther(error) {
  const why = /^not a runstore file: (.*)$/s.exec(error ?? "");
  return why ? `an SQLite file without runstore's tables (${why[1]})` : `not readable as a runstore file (${error})`;
}

function renderFiles() {
  const body = $("files").tBodies[0];
  body.replaceChildren(...state.files.map((f) => h("tr", {},
    h("td", {}, f.name),
    ...(f.runstore
      ? [...counts(f), `v${f.compatibility.file_version}`]
      : ["", "", "", "", "", "", ""]).map((v) => h("td", { className: "num" }, text(v))),
    h("td", { className: "muted" }, f.runstore ? (f.stats?.error ? `counting failed: ${f.stats.error}` : "")
      : `${describeOther(f.error)}; the SQL console can read it`))));
  $("files-section").hidden = !state.files.length;
  $("workspace").hidden = !state.files.length;
}

const views = {
  runs: async (root) => {
    const table = h("div", { id: "runs-view" }), chart = h("div", { id: "chart-view" });
    const panels = h("div", { id: "workspace-view" });
    root.replaceChildren(table, chart, panels);
    // The chart first: its requests go to the worker, which reads the series while this
    // thread builds the table. The panels draw as they scroll into view.
    const charted = renderChart(chart, ctx);
    renderRuns(table, ctx);
    renderWorkspace(panels, ctx);
    await charted;
  },
  params: (root) => renderHparams(root, ctx),
  compare: (root) => renderCompare(root, ctx, chartedRows(state).filter((r) => state.selected.has(r.run.id))),
  models: (root) => renderModels(root, ctx),
  system: (root) => renderSystem(root, ctx),
  sql: (root) => renderSql(root, ctx),
  run: (root) => state.detail ? renderRun(root, ctx, state.detail) : views.runs(root),
};

async function update(options = {}) {
  writeUrl();
  for (const tab of document.querySelectorAll("#tabs button")) tab.setAttribute("aria-selected", String(tab.dataset.view === state.view));
  $("tab-run").hidden = !state.detail;
  try {
    if (options.only === "table" && state.view === "runs") {
      renderRuns($("runs-view"), ctx);
      performance.mark("runstore:table");
    } else if (options.only === "chart" && state.view === "runs") {
      // The panels follow once the change settles (a smoothing slider sends many).
      clearTimeout(ctx.panelsLater);
      ctx.panelsLater = setTimeout(() => $("workspace-view") && renderWorkspace($("workspace-view"), ctx), 120);
      await renderChart($("chart-view"), ctx);
    } else {
      await (views[state.view] ?? views.runs)($("view"));
    }
  } catch (e) {
    $("view").replaceChildren(h("p", { className: "error", role: "alert" }, e.message));
  }
}

/** Opens sources (Files or URLs), then shows everything again. */
async function openAll(sources) {
  // Marks for the browser's performance API (bench/browser.mjs reads them).
  performance.mark("runstore:open");
  showError("");
  const failures = [];
  await Promise.all(sources.map(async (source) => {
    try {
      const file = await client.open(source);
      if (!state.files.some((f) => f.key === file.key)) state.files.push(file);
    } catch (e) {
      failures.push(`${typeof source === "string" ? source : source.name}: ${e.message}`);
    }
  }));
  showError(failures.join("\n"));
  renderFiles();
  const tables = await loadRuns();
  await update();
  summariseRest(tables);
  // The files' counts come last: they read every table, and the runs, charts and summaries
  // come first (the summaries read the series the counts read again, then from memory).
  await ctx.summarised;
  await Promise.all(state.files.filter((f) => f.runstore && !f.stats).map(async (f) => {
    f.stats = client.callInBackground(f.key, "stats").catch((e) => ({ error: e.message }));
    f.stats = await f.stats;
  }));
  renderFiles();
}

function wire() {
  const drop = $("drop");
  $("file").addEventListener("change", (e) => openAll([...e.target.files]));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    openAll([...e.dataTransfer.files]);
  });
  const filter = $("filter");
  filter.value = state.filter;
  $("filter-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    state.filter = filter.value.trim();
    const tables = await loadRuns();
    await update();
    summariseRest(tables);
  });
  for (const tab of document.querySelectorAll("#tabs button")) {
    tab.addEventListener("click", () => { state.view = tab.dataset.view; update(); });
  }
}

readUrl();
wire();
// The worker has loaded and warmed up the wasm: a file handed over now opens at full speed.
client.ready.then(() => { document.documentElement.dataset.ready = ""; }, () => {});
const embedded = globalThis.runstoreInline?.files?.() ?? [];
openAll([...state.urls, ...embedded]);
