// Interactive line charts in SVG: lines (with a faint raw line behind smoothed ones), bands,
// log scale, hover read-out of the exact values, drag to zoom (double-click resets).
// Used by the page and by <runstore-chart>. All text is set with textContent.

const SVG = "http://www.w3.org/2000/svg";
export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  parent?.append(node);
  return node;
}

/** Round tick values covering [lo, hi]. */
export function ticks(lo, hi, count = 6) {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? 10 * mag;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

/** A number as the chart prints it: short on axes, exact in the read-out. */
export function formatNumber(v, exact = false) {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (exact) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

function extent(values, into, usable) {
  for (const v of values) if (usable(v)) { into[0] = Math.min(into[0], v); into[1] = Math.max(into[1], v); }
  return into;
}

/** Path data for a line, broken wherever a value cannot be drawn (NaN, ±Inf, ≤0 on log). */
function linePath(x, y, sx, sy, usable) {
  let d = "", pen = false;
  for (let i = 0; i < x.length; i++) {
    if (!usable(y[i]) || !Number.isFinite(x[i])) { pen = false; continue; }
    d += `${pen ? "L" : "M"}${sx(x[i]).toFixed(1)},${sy(y[i]).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/**
 * Draws into `container` (replacing what was there). `spec`: {lines: [{label, x, y, raw?,
 * color?}], bands: [{label, x, lower, upper, color?}], logY, xLabel, title, width, height,
 * onZoom(x0, x1) (x0 null to reset), onHover(x) (x null when the pointer leaves), legend
 * (default true), compact (small margins, for panels)}. Returns the <svg>, whose
 * `showRule(x)` draws the hover rule at data x (null hides it): other panels follow a hover.
 */
export function drawChart(container, spec) {
  const width = spec.width ?? 760, height = spec.height ?? 360;
  const m = spec.compact ? { left: 48, right: 8, top: spec.title ? 22 : 8, bottom: 30 } : { left: 64, right: 16, top: spec.title ? 28 : 12, bottom: 40 };
  const usable = spec.logY ? (v) => Number.isFinite(v) && v > 0 : Number.isFinite;
  const lines = spec.lines ?? [], bands = spec.bands ?? [];
  const xs = [Infinity, -Infinity], ys = [Infinity, -Infinity];
  for (const l of lines) { extent(l.x, xs, Number.isFinite); extent(l.y, ys, usable); if (l.raw) extent(l.raw, ys, usable); }
  for (const b of bands) { extent(b.x, xs, Number.isFinite); extent(b.lower, ys, usable); extent(b.upper, ys, usable); }
  container.replaceChildren();
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "chart", role: "img" }, container);
  if (spec.title) el("text", { x: width / 2, y: 18, "text-anchor": "middle", class: "title" }, svg).textContent = spec.title;
  svg.showRule = () => {};
  if (!(xs[0] <= xs[1]) || !(ys[0] <= ys[1])) {
    el("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, svg).textContent = "no values to draw";
    return svg;
  }
  if (xs[0] === xs[1]) { xs[0] -= 1; xs[1] += 1; }
  const f = spec.logY ? Math.log10 : (v) => v;
  let [y0, y1] = [f(ys[0]), f(ys[1])];
  if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.04;
  y0 -= pad; y1 += pad;
  const plotW = width - m.left - m.right, plotH = height - m.top - m.bottom;
  const sx = (v) => m.left + ((v - xs[0]) / (xs[1] - xs[0])) * plotW;
  const sy = (v) => m.top + (1 - (f(v) - y0) / (y1 - y0)) * plotH;
  const invX = (px) => xs[0] + ((px - m.left) / plotW) * (xs[1] - xs[0]);

  const axes = el("g", { class: "axes" }, svg);
  for (const t of ticks(xs[0], xs[1])) {
    el("line", { x1: sx(t), x2: sx(t), y1: m.top, y2: m.top + plotH, class: "grid" }, axes);
    el("text", { x: sx(t), y: height - m.bottom + 16, "text-anchor": "middle" }, axes).textContent = formatNumber(t);
  }
  let yTicks = ticks(y0, y1);
  if (spec.logY) {
    // Decades when the range spans several; otherwise round values inside the narrow range.
    const decades = ticks(Math.floor(y0), Math.ceil(y1)).filter((t) => Number.isInteger(t) && t >= y0 && t <= y1).map((t) => 10 ** t);
    yTicks = decades.length >= 2 ? decades : ticks(10 ** y0, 10 ** y1, 5).filter((t) => t > 0);
  }
  for (const t of yTicks) {
    el("line", { x1: m.left, x2: m.left + plotW, y1: sy(t), y2: sy(t), class: "grid" }, axes);
    el("text", { x: m.left - 6, y: sy(t) + 4, "text-anchor": "end" }, axes).textContent = formatNumber(t);
  }
  el("rect", { x: m.left, y: m.top, width: plotW, height: plotH, class: "frame" }, axes);
  if (spec.xLabel) el("text", { x: m.left + plotW / 2, y: height - 6, "text-anchor": "middle" }, axes).textContent = spec.xLabel;

  const clip = `clip${Math.random().toString(36).slice(2)}`;
  el("rect", { x: m.left, y: m.top, width: plotW, height: plotH }, el("clipPath", { id: clip }, svg));
  const plot = el("g", { "clip-path": `url(#${clip})` }, svg);
  bands.forEach((b, i) => {
    const color = b.color ?? PALETTE[i % PALETTE.length];
    let d = "";
    const idx = [...b.x.keys()].filter((j) => usable(b.lower[j]) && usable(b.upper[j]));
    idx.forEach((j, k) => { d += `${k ? "L" : "M"}${sx(b.x[j]).toFixed(1)},${sy(b.upper[j]).toFixed(1)}`; });
    idx.reverse().forEach((j) => { d += `L${sx(b.x[j]).toFixed(1)},${sy(b.lower[j]).toFixed(1)}`; });
    if (d) el("path", { d: d + "Z", fill: color, class: "band" }, plot);
  });
  lines.forEach((l, i) => {
    const color = l.color ?? PALETTE[i % PALETTE.length];
    if (l.raw) el("path", { d: linePath(l.x, l.raw, sx, sy, usable), stroke: color, class: "raw" }, plot);
    const path = el("path", { d: linePath(l.x, l.y, sx, sy, usable), stroke: color, class: "line" }, plot);
    if (l.runId) path.dataset.run = l.runId;
  });

  // Hover: a rule and the exact value of every line at the nearest point.
  const rule = el("line", { y1: m.top, y2: m.top + plotH, class: "rule", visibility: "hidden" }, svg);
  svg.showRule = (x) => {
    const inside = x !== null && x >= xs[0] && x <= xs[1];
    if (inside) { rule.setAttribute("x1", sx(x)); rule.setAttribute("x2", sx(x)); }
    rule.setAttribute("visibility", inside ? "visible" : "hidden");
  };
  const readout = document.createElement("div");
  readout.className = "readout";
  readout.hidden = true;
  container.append(readout);
  const selection = el("rect", { y: m.top, height: plotH, class: "selection", visibility: "hidden" }, svg);
  const overlay = el("rect", { x: m.left, y: m.top, width: plotW, height: plotH, class: "overlay" }, svg);
  const local = (event) => {
    const box = svg.getBoundingClientRect();
    return ((event.clientX - box.left) / box.width) * width;
  };
  let dragFrom = null;
  overlay.addEventListener("pointermove", (event) => {
    const px = local(event), x = invX(px);
    if (dragFrom !== null) {
      selection.setAttribute("x", Math.min(dragFrom, px));
      selection.setAttribute("width", Math.abs(px - dragFrom));
      selection.setAttribute("visibility", "visible");
    }
    rule.setAttribute("x1", px);
    rule.setAttribute("x2", px);
    rule.setAttribute("visibility", "visible");
    const rows = [];
    for (const [i, l] of lines.entries()) {
      let best = -1;
      for (let j = 0; j < l.x.length; j++) if (best < 0 || Math.abs(l.x[j] - x) < Math.abs(l.x[best] - x)) best = j;
      if (best >= 0) rows.push([l.color ?? PALETTE[i % PALETTE.length], `${l.label}: ${formatNumber(l.y[best], true)} at ${formatNumber(l.x[best], true)}`
        + (l.raw ? ` (raw ${formatNumber(l.raw[best], true)})` : "")]);
    }
    // Appended one by one: spreading one row per line into arguments throws past ~100k lines.
    readout.replaceChildren();
    for (const [color, text] of rows) {
      const row = document.createElement("div");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = color;
      row.append(swatch, document.createTextNode(text));
      readout.append(row);
    }
    readout.hidden = rows.length === 0;
    spec.onHover?.(x);
  });
  overlay.addEventListener("pointerleave", () => { rule.setAttribute("visibility", "hidden"); readout.hidden = true; spec.onHover?.(null); });
  overlay.addEventListener("pointerdown", (event) => { dragFrom = local(event); overlay.setPointerCapture?.(event.pointerId); });
  overlay.addEventListener("pointerup", (event) => {
    const px = local(event);
    selection.setAttribute("visibility", "hidden");
    if (dragFrom !== null && Math.abs(px - dragFrom) > 4 && spec.onZoom) {
      spec.onZoom(invX(Math.min(dragFrom, px)), invX(Math.max(dragFrom, px)));
    }
    dragFrom = null;
  });
  overlay.addEventListener("dblclick", () => spec.onZoom?.(null, null));

  if (spec.legend === false) return svg;
  const legend = document.createElement("div");
  legend.className = "legend";
  for (const [i, item] of [...bands.map((b) => ({ ...b, band: true })), ...(bands.length ? [] : lines)].entries()) {
    const entry = document.createElement("span");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = item.color ?? PALETTE[i % PALETTE.length];
    entry.append(swatch, document.createTextNode(item.label));
    legend.append(entry);
  }
  container.append(legend);
  return svg;
}
