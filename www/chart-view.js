// The chart panel: a metric of the selected runs (or groups of runs by a param) over step,
// epoch or time, with smoothing, log scale, per-label values and zoom into full detail.
import { h, text, csv, download } from "./dom.js";
import { drawChart, PALETTE } from "./chart.js";
import { runColor } from "./run-colors.js";
import { summary, metricKeys, labelsOf } from "./run-table.js";

export const X_AXES = { step: "step", epoch: "epoch", wall_time: "time", relative: "seconds since start" };

/** Most runs a chart or panel draws (a brush over 10,000 runs may select thousands). */
export const MAX_CHARTED = 100;

/**
 * The runs the chart draws: the selection (its first MAX_CHARTED), or the first shown runs
 * when nothing is selected.
 */
export function chartedRows(state) {
  const picked = state.rows.filter((r) => state.selected.has(r.run.id));
  return picked.length ? picked.slice(0, MAX_CHARTED) : state.rows.slice(0, 10);
}

/** How the charted runs were chosen, for captions. */
export function chartedNote(state) {
  if (!state.selected.size) return " (the first shown; select runs in the table to choose)";
  return state.selected.size > MAX_CHARTED ? ` (the first ${MAX_CHARTED} of ${state.selected.size} selected)` : " selected";
}

/** The metric a chart of `keys` shows: the state's, else a loss (what people look at first). */
export function chartMetric(keys, current) {
  return keys.includes(current) ? current : keys.find((k) => k === "val/loss") ?? keys.find((k) => /loss/.test(k)) ?? keys[0];
}

/**
 * Asks the worker for the series the chart will draw first, from a file's fresh run table,
 * while this thread still builds the rows and the table: the chart's own requests then find
 * them (Client.prefetch). Only for the plain case: nothing selected, no grouping.
 */
export function prefetchChart(ctx, fileKey, table) {
  const { state, client } = ctx;
  if (state.selected.size || state.groupBy || state.zoom || ctx.multipleFiles() || state.view !== "runs" || (state.label ?? "") !== "") return;
  const metric = chartMetric([...new Set(table.metrics.map((c) => c.key))].sort(), state.metric);
  const column = table.metrics.find((c) => c.key === metric && c.label === "");
  if (!column) return;
  for (const id of column.seriesId.subarray(0, 10)) {
    if (!Number.isNaN(id)) client.prefetch(fileKey, "series", id, seriesOptions({ ...state, zoom: null }, CHART_BUDGET));
  }
}

/** Points per line of the detail chart. */
const CHART_BUDGET = 1500;

/** The series of `row` for the state's metric and label. */
function seriesOf(row, state) {
  return summary(row, state.metric, state.label ?? "");
}

function controls(ctx, metrics, labels, params) {
  const { state } = ctx;
  const set = (key, parse = (v) => v) => (e) => { state[key] = parse(e.target.type === "checkbox" ? e.target.checked : e.target.value); state.zoom = null; ctx.update(); };
  return h("div", { className: "toolbar" },
    h("label", {}, "Metric ", h("select", { id: "metric", onchange: (e) => { ctx.wantedMetric = null; set("metric")(e); } },
      metrics.map((m) => h("option", { value: m, selected: m === state.metric }, m)))),
    labels.length > 1 ? h("label", {}, "Label ", h("select", { id: "label", onchange: set("label") },
      labels.map((l) => h("option", { value: l, selected: l === (state.label ?? "") }, l || "(all)")))) : null,
    h("label", {}, "x ", h("select", { id: "x-axis", onchange: set("xAxis") },
      Object.entries(X_AXES).map(([v, name]) => h("option", { value: v, selected: v === state.xAxis }, name)))),
    h("label", {}, "Smoothing ", h("input", { id: "smoothing", type: "range", min: 0, max: 0.99, step: 0.01, value: state.smoothing,
      oninput: (e) => { state.smoothing = Number(e.target.value); ctx.update({ only: "chart" }); } }),
    h("output", {}, state.smoothing.toFixed(2))),
    h("label", {}, h("input", { id: "log-y", type: "checkbox", checked: state.logY, onchange: set("logY") }), " log y"),
    h("label", {}, "Group by ", h("select", { id: "group-by", onchange: set("groupBy") },
      h("option", { value: "" }, "(none)"), params.map((p) => h("option", { value: p, selected: p === state.groupBy }, p)))),
    state.groupBy ? h("label", {}, h("input", { id: "members", type: "checkbox", checked: state.members, onchange: set("members") }), " member runs") : null,
    state.zoom ? h("button", { type: "button", id: "reset-zoom", onclick: () => { state.zoom = null; ctx.update({ only: "chart" }); } }, "Reset zoom") : null);
}

/** Series request options for the state (zoom is a step range). */
export function seriesOptions(state, budget) {
  return {
    budget, xAxis: state.xAxis,
    smoothing: state.smoothing > 0 ? { kind: "ema", weight: state.smoothing } : null,
    fromStep: state.zoom?.[0], toStep: state.zoom?.[1],
  };
}

/** Turns a zoom on the chart's x range into a step range, using the steps the lines carry. */
function zoomToSteps(lines, x0, x1) {
  let lo = Infinity, hi = -Infinity;
  for (const l of lines) l.x.forEach((x, i) => { if (x >= x0 && x <= x1) { lo = Math.min(lo, l.steps[i]); hi = Math.max(hi, l.steps[i]); } });
  return lo <= hi ? [lo, hi] : null;
}

async function lineData(ctx, rows) {
  const { client, state } = ctx;
  // Every request at once: the worker reads the series while this thread lays out the page.
  const lines = await Promise.all(rows.map(async (row) => {
    const series = seriesOf(row, state);
    if (!series) return null;
    const data = await client.call(row.fileKey, "series", series.series_id, seriesOptions(state, CHART_BUDGET));
    return { label: ctx.multipleFiles() ? `${row.run.name} (${row.fileName})` : row.run.name, x: data.x,
      y: data.smoothed ?? data.y, raw: data.smoothed ? data.y : null, steps: data.steps, exact: data.exact,
      color: runColor(row), runId: row.run.id };
  }));
  return lines.filter(Boolean);
}

async function groupData(ctx) {
  const { client, state } = ctx;
  const bands = [], lines = [];
  let i = 0;
  for (const file of state.files.filter((f) => f.runstore)) {
    const groups = await client.call(file.key, "groups", {
      metric: state.metric, filter: state.filter || null, groupBy: [state.groupBy], budget: 800,
      smoothing: state.smoothing > 0 ? { kind: "ema", weight: state.smoothing } : null,
    });
    for (const g of groups) {
      const color = PALETTE[i++ % PALETTE.length];
      const label = `${Object.entries(g.key).map(([k, v]) => `${k}=${text(v)}`).join(" ")} (${g.members.length} runs)` + (ctx.multipleFiles() ? ` ${file.name}` : "");
      const num = (a) => Float64Array.from(a, (v) => typeof v === "number" ? v : Number(v));
      bands.push({ label, x: num(g.x), lower: num(g.lower), upper: num(g.upper), color });
      lines.push({ label: `${label} mean`, x: num(g.x), y: num(g.mean), steps: num(g.x), color });
      if (state.members) {
        for (const [runId] of g.members) {
          const row = state.rows.find((r) => r.run.id === runId && r.fileKey === file.key);
          const series = row && seriesOf(row, state);
          if (!series) continue;
          const data = await client.call(file.key, "series", series.series_id, { budget: 500, xAxis: "step" });
          lines.push({ label: row.run.name, x: data.x, y: data.y, steps: data.steps, color, member: true });
        }
      }
    }
  }
  return { bands, lines };
}

/** Renders the chart section into `root`. */
export async function renderChart(root, ctx) {
  const { state } = ctx;
  const rows = chartedRows(state);
  const metrics = metricKeys(state.rows, false);
  if (!metrics.length) { root.replaceChildren(h("p", { className: "muted" }, "No metrics in these runs.")); return; }
  // A metric named in the URL that only runs not yet summarised log is kept for when they are.
  if (state.metric && !metrics.includes(state.metric) && ctx.tables?.some((t) => t.summarised < t.size)) ctx.wantedMetric ??= state.metric;
  state.metric = chartMetric(metrics, state.metric);
  const labels = labelsOf(state.rows, state.metric);
  if (!labels.includes(state.label ?? "")) state.label = labels[0];
  const params = [...new Set(state.rows.flatMap((r) => Object.keys(r.run.params)))].sort();
  const figure = h("div", { id: "chart", className: "figure" });
  const caption = h("p", { className: "muted", id: "chart-caption" });
  root.replaceChildren(controls(ctx, metrics, labels, params), figure, caption);
  const token = (ctx.chartToken = (ctx.chartToken ?? 0) + 1);
  try {
    const grouped = state.groupBy && state.xAxis === "step";
    const { bands, lines } = grouped ? await groupData(ctx) : { bands: [], lines: await lineData(ctx, rows) };
    if (token !== ctx.chartToken) return; // a newer render started meanwhile
    drawChart(figure, {
      lines, bands, logY: state.logY, xLabel: X_AXES[state.xAxis], title: state.metric + (state.label ? ` [${state.label}]` : ""),
      onZoom: grouped ? null : (x0, x1) => { state.zoom = x0 === null ? null : zoomToSteps(lines, x0, x1); ctx.update({ only: "chart" }); },
    });
    performance.mark("runstore:chart");
    const exact = lines.every((l) => l.exact !== false);
    caption.textContent = grouped ? `${bands.length} groups by ${state.groupBy}: mean ± standard deviation`
      : `${lines.length} runs${chartedNote(state)}`
      + `${state.zoom ? `, steps ${state.zoom[0]}–${state.zoom[1]}` : ""}; ${exact ? "every point drawn" : "reduced to min/max per pixel; drag to zoom into full detail"}.`
      + (state.groupBy && !grouped ? " Grouping needs the step axis." : "");
    figure.append(h("button", { type: "button", onclick: () => download(`${state.metric.replaceAll("/", "_")}.csv`,
      csv(["line", "step", "x", "value", "raw"], lines.flatMap((l) => [...l.x].map((x, i) => [l.label, l.steps?.[i], x, l.y[i], l.raw?.[i]])))) }, "Export CSV"));
  } catch (e) {
    if (token === ctx.chartToken) figure.replaceChildren(h("p", { className: "error", role: "alert" }, e.message));
  }
}
