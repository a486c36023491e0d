// Hyperparameters over every run of the open files, thousands included: parallel coordinates
// of the params and one metric summary (drag along an axis to brush a range; the runs inside
// every brush become the selection the charts draw; double-click an axis to clear its brush),
// and a scatter of one param against the summary. Lines and points go on canvases; axes,
// labels and brushes are SVG.
import { h, text } from "./dom.js";
import { runColor } from "./run-colors.js";
import { cellValue } from "./runs-view.js";
import { formatNumber } from "./chart.js";
import { metricKeys } from "./run-table.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const BOX = { width: 1100, height: 380, top: 48, bottom: 36, side: 70 };
const SCATTER = { width: 560, height: 360, left: 64, right: 16, top: 16, bottom: 40 };
const MAX_AXES = 16;

function svgEl(name, attrs, parent) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  parent?.append(node);
  return node;
}

/**
 * An axis over the rows' values of `column`: numeric when every value present is a finite
 * number, else one evenly spaced place per distinct value. `at(i)` is row i's place in [0, 1]
 * (0 at the bottom), or null when the row has no value.
 */
export function axisOf(column, rows) {
  const values = rows.map((r) => cellValue(r, column));
  // NaN and ±Inf (a diverged run; a float param's arrive as JSON's "NaN", "Infinity") have no
  // place on an axis; they do not make it categorical.
  const nonFinite = (v) => (typeof v === "number" && !Number.isFinite(v)) || v === "NaN" || v === "Infinity" || v === "-Infinity";
  const present = values.filter((v) => v !== undefined && v !== null && v !== "" && !nonFinite(v));
  const numeric = present.length > 0 && present.every((v) => typeof v === "number");
  if (numeric) {
    let lo = Infinity, hi = -Infinity;
    for (const v of present) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const span = hi - lo || 1;
    return { column, numeric, lo, hi, labels: [formatNumber(lo), formatNumber(hi)],
      at: (i) => (typeof values[i] === "number" && Number.isFinite(values[i]) ? (hi === lo ? 0.5 : (values[i] - lo) / span) : null) };
  }
  const categories = [...new Set(present.map((v) => text(v)))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const place = new Map(categories.map((c, k) => [c, categories.length === 1 ? 0.5 : k / (categories.length - 1)]));
  return { column, numeric, categories, labels: [categories[0] ?? "", categories.at(-1) ?? ""],
    at: (i) => (values[i] === undefined || values[i] === null || values[i] === "" ? null : place.get(text(values[i])) ?? null) };
}

/** The metric summaries to choose from: `metrics.KEY.last|min|max` of every plain series. */
function summaries(rows) {
  return metricKeys(rows).flatMap((k) => ["last", "min", "max"].map((a) => `metrics.${k}.${a}`));
}

/** Renders the hyperparameter view into `root`. */
export function renderHparams(root, ctx) {
  const { state } = ctx;
  const rows = state.rows;
  const params = [...new Set(rows.flatMap((r) => Object.keys(r.run.params)))].sort();
  const metrics = summaries(rows);
  if (!params.length || !metrics.length) {
    root.replaceChildren(h("h2", {}, "Params"), h("p", { className: "muted empty-state" },
      !params.length ? "These runs have no params to compare. Record them with run.params(...) / runstore.init(config={...}) in Python, Run::params in Rust, or --param k=v with runstore record."
        : "These runs have no metrics to compare their params against."));
    return;
  }
  if (!metrics.includes(state.hpMetric)) {
    state.hpMetric = metrics.find((m) => /val\/loss\.min$/.test(m)) ?? metrics.find((m) => /loss\.min$/.test(m)) ?? metrics[0];
  }
  if (!params.includes(state.hpParam)) state.hpParam = params[0];
  const shownParams = params.slice(0, MAX_AXES - 1);
  const axes = [...shownParams.map((p) => axisOf(`params.${p}`, rows)), axisOf(state.hpMetric, rows)];
  const brushes = (ctx.brushes ??= new Map()); // column -> [lo, hi] in [0, 1]
  for (const column of [...brushes.keys()]) if (!axes.some((a) => a.column === column)) brushes.delete(column);

  const x = (k) => BOX.side + (k / Math.max(1, axes.length - 1)) * (BOX.width - 2 * BOX.side);
  const y = (t) => BOX.top + (1 - t) * (BOX.height - BOX.top - BOX.bottom);
  const canvas = h("canvas", { id: "parallel-lines", width: BOX.width, height: BOX.height });
  const overlay = svgEl("svg", { viewBox: `0 0 ${BOX.width} ${BOX.height}`, class: "parallel-axes", id: "parallel" });
  const caption = h("p", { className: "muted", id: "hp-caption" });
  const passes = (i) => [...brushes].every(([column, [lo, hi]]) => {
    const t = axes.find((a) => a.column === column).at(i);
    return t !== null && t >= lo && t <= hi;
  });

  function drawLines() {
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, BOX.width, BOX.height);
    const kept = [];
    g.lineWidth = 1;
    g.strokeStyle = "rgba(128, 128, 128, 0.12)";
    for (let i = 0; i < rows.length; i++) {
      if (brushes.size && !passes(i)) polyline(g, i);
      else kept.push(i);
    }
    g.lineWidth = 1.4;
    for (const i of kept) { g.strokeStyle = runColor(rows[i]); polyline(g, i); }
    caption.textContent = brushes.size
      ? `${kept.length} of ${rows.length} runs inside the brushes: they are the selection. Double-click an axis to clear its brush.`
      : `${rows.length} runs. Drag along an axis to keep a range; the runs inside every range become the selection.`;
    return kept;
  }
  function polyline(g, i) {
    g.beginPath();
    let pen = false;
    axes.forEach((a, k) => {
      const t = a.at(i);
      if (t === null) { pen = false; return; }
      pen ? g.lineTo(x(k), y(t)) : g.moveTo(x(k), y(t));
      pen = true;
    });
    g.stroke();
  }
  function apply() {
    const kept = drawLines();
    state.selected = brushes.size ? new Set(kept.map((i) => rows[i].run.id)) : new Set();
    ctx.saveUrl();
    drawBrushes();
    drawScatter();
  }
  const brushLayer = svgEl("g", {}, overlay);
  function drawBrushes() {
    brushLayer.replaceChildren();
    for (const [column, [lo, hi]] of brushes) {
      const k = axes.findIndex((a) => a.column === column);
      svgEl("rect", { x: x(k) - 8, y: y(hi), width: 16, height: Math.max(1, y(lo) - y(hi)), class: "brush" }, brushLayer);
    }
  }
  axes.forEach((a, k) => {
    const g = svgEl("g", { class: "axis", "data-column": a.column }, overlay);
    svgEl("line", { x1: x(k), x2: x(k), y1: y(0), y2: y(1), class: "axis-line" }, g);
    const name = svgEl("text", { x: x(k), y: 16, "text-anchor": "middle", class: "axis-name" }, g);
    name.textContent = a.column.replace(/^params\./, "").replace(/^metrics\./, "");
    svgEl("text", { x: x(k), y: y(1) - 6, "text-anchor": "middle" }, g).textContent = a.labels[1];
    svgEl("text", { x: x(k), y: y(0) + 14, "text-anchor": "middle" }, g).textContent = a.labels[0];
    // The strip along the axis takes brushing drags.
    const strip = svgEl("rect", { x: x(k) - 14, y: y(1) - 10, width: 28, height: y(0) - y(1) + 20, class: "axis-strip", tabindex: 0,
      "aria-label": `brush ${a.column}: up arrow raises the lower edge, down arrow lowers the upper edge, Escape clears` }, g);
    // A place on the axis in [0, 1]; within 2 % of an end is the end, so that a drag from the
    // top keeps the largest value.
    const unit = (event) => {
      const box = overlay.getBoundingClientRect();
      const py = ((event.clientY - box.top) / box.height) * BOX.height;
      const t = 1 - (py - BOX.top) / (BOX.height - BOX.top - BOX.bottom);
      return t > 0.98 ? 1 : t < 0.02 ? 0 : t;
    };
    let from = null;
    strip.addEventListener("pointerdown", (e) => { from = unit(e); strip.setPointerCapture?.(e.pointerId); });
    strip.addEventListener("pointermove", (e) => {
      if (from === null) return;
      const to = unit(e);
      brushes.set(a.column, [Math.min(from, to), Math.max(from, to)]);
      drawBrushes();
    });
    strip.addEventListener("pointerup", (e) => {
      if (from === null) return;
      const to = unit(e);
      if (Math.abs(to - from) > 0.01) brushes.set(a.column, [Math.min(from, to), Math.max(from, to)]);
      else brushes.delete(a.column);
      from = null;
      apply();
    });
    strip.addEventListener("dblclick", () => { brushes.delete(a.column); apply(); });
    // The keyboard brushes in tenths: ↑ raises the lower edge, ↓ lowers the upper edge.
    strip.addEventListener("keydown", (e) => {
      const [lo, hi] = brushes.get(a.column) ?? [0, 1];
      const up = Math.round((lo + 0.1) * 10) / 10, down = Math.round((hi - 0.1) * 10) / 10;
      if (e.key === "Escape" || e.key === "Delete") brushes.delete(a.column);
      else if (e.key === "ArrowUp" && up < hi) brushes.set(a.column, [up, hi]);
      else if (e.key === "ArrowDown" && down > lo) brushes.set(a.column, [lo, down]);
      else return;
      e.preventDefault();
      apply();
    });
  });

  const scatterCanvas = h("canvas", { id: "scatter-points", width: SCATTER.width, height: SCATTER.height });
  const scatterAxes = svgEl("svg", { viewBox: `0 0 ${SCATTER.width} ${SCATTER.height}`, class: "parallel-axes", id: "scatter" });
  function drawScatter() {
    const ax = axisOf(`params.${state.hpParam}`, rows), ay = axisOf(state.hpMetric, rows);
    const sx = (t) => SCATTER.left + t * (SCATTER.width - SCATTER.left - SCATTER.right);
    const sy = (t) => SCATTER.top + (1 - t) * (SCATTER.height - SCATTER.top - SCATTER.bottom);
    const g = scatterCanvas.getContext("2d");
    g.clearRect(0, 0, SCATTER.width, SCATTER.height);
    let drawn = 0;
    for (let i = 0; i < rows.length; i++) {
      const tx = ax.at(i), ty = ay.at(i);
      if (tx === null || ty === null) continue;
      g.fillStyle = brushes.size && !passes(i) ? "rgba(128, 128, 128, 0.25)" : runColor(rows[i]);
      g.beginPath();
      g.arc(sx(tx), sy(ty), 3.5, 0, 2 * Math.PI);
      g.fill();
      drawn++;
    }
    scatterAxes.replaceChildren();
    svgEl("rect", { x: SCATTER.left, y: SCATTER.top, width: SCATTER.width - SCATTER.left - SCATTER.right, height: SCATTER.height - SCATTER.top - SCATTER.bottom, class: "frame" }, scatterAxes);
    const label = (attrs, content) => { svgEl("text", attrs, scatterAxes).textContent = content; };
    label({ x: SCATTER.left, y: SCATTER.height - 22, "text-anchor": "start" }, ax.labels[0]);
    label({ x: SCATTER.width - SCATTER.right, y: SCATTER.height - 22, "text-anchor": "end" }, ax.labels[1]);
    label({ x: (SCATTER.left + SCATTER.width) / 2, y: SCATTER.height - 6, "text-anchor": "middle", class: "axis-name" }, state.hpParam);
    label({ x: SCATTER.left - 6, y: sy(1) + 4, "text-anchor": "end" }, ay.labels[1]);
    label({ x: SCATTER.left - 6, y: sy(0) + 4, "text-anchor": "end" }, ay.labels[0]);
    scatterCanvas.dataset.points = String(drawn);
  }

  const metricSelect = h("select", { id: "hp-metric", "aria-label": "metric summary", onchange: (e) => { state.hpMetric = e.target.value; ctx.brushes.delete(e.target.value); ctx.update(); } },
    metrics.map((m) => h("option", { value: m, selected: m === state.hpMetric }, m.replace(/^metrics\./, ""))));
  const paramSelect = h("select", { id: "hp-param", "aria-label": "param of the scatter", onchange: (e) => { state.hpParam = e.target.value; drawScatter(); } },
    params.map((p) => h("option", { value: p, selected: p === state.hpParam }, p)));
  root.replaceChildren(
    h("h2", {}, "Params"),
    h("div", { className: "toolbar" }, h("label", {}, "Metric ", metricSelect),
      params.length > shownParams.length ? h("span", { className: "muted" }, `the first ${shownParams.length} of ${params.length} params shown`) : null),
    h("div", { className: "parallel" }, canvas, overlay), caption,
    h("h3", {}, "Scatter"),
    h("div", { className: "toolbar" }, h("label", {}, "Param ", paramSelect), h("span", { className: "muted" }, `against ${state.hpMetric.replace(/^metrics\./, "")}`)),
    h("div", { className: "parallel scatter" }, scatterCanvas, scatterAxes));
  drawLines();
  drawBrushes();
  drawScatter();
}
