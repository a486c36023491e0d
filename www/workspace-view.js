// The workspace: every metric at a glance. One panel per metric key, in sections by prefix
// (train/, val/, ...), drawn for the shown runs in their colours with the chosen x axis,
// smoothing and log scale; a key filter (a regular expression, as TensorBoard's tag filter);
// panels drawn as they scroll into view; hovering one panel shows the same x on every panel;
// a panel's title opens it as the detail chart above.
import { h } from "./dom.js";
import { drawChart } from "./chart.js";
import { chartedRows, chartedNote, seriesOptions, X_AXES, MAX_CHARTED } from "./chart-view.js";
import { runColor } from "./run-colors.js";
import { summary, metricKeys } from "./run-table.js";

const PANEL = { width: 380, height: 230, budget: 300 };

/** Keys by section: the prefix up to the first "/" (`train/`), or "" for keys without one. */
function sections(keys) {
  const bySection = new Map();
  for (const key of keys) {
    const cut = key.indexOf("/");
    const section = cut > 0 ? key.slice(0, cut + 1) : "";
    bySection.set(section, [...(bySection.get(section) ?? []), key]);
  }
  // Sections with a prefix first, in order; keys without one last.
  return [...bySection].sort(([a], [b]) => (a === "") - (b === "") || a.localeCompare(b));
}

/** The key filter's regular expression, or why it is not one. */
function keyPattern(text) {
  if (!text) return { pattern: null };
  try {
    return { pattern: new RegExp(text, "i") };
  } catch (e) {
    return { error: e.message };
  }
}

/** Renders the panels of every metric into `root`. */
export function renderWorkspace(root, ctx) {
  const { state } = ctx;
  ctx.workspace?.observer.disconnect();
  const token = (ctx.workspaceToken = (ctx.workspaceToken ?? 0) + 1);
  const keys = metricKeys(state.rows);
  if (!keys.length) {
    root.replaceChildren(h("p", { className: "muted empty-state" }, state.rows.length
      ? "These runs have no metrics yet. Log some with run.log({...}) in Python, Series::log in Rust, or JSON lines to $RUNSTORE_SINK under runstore record."
      : ""));
    return;
  }
  const drawn = new Set();
  const workspace = {
    observer: new IntersectionObserver((entries) => {
      for (const e of entries) if (e.isIntersecting) { workspace.observer.unobserve(e.target); draw(e.target); }
    }, { rootMargin: "300px" }),
  };
  ctx.workspace = workspace;
  const rows = chartedRows(state);
  const hover = (x, from) => { for (const svg of drawn) if (svg !== from) svg.showRule(x); };

  async function draw(panel) {
    const key = panel.dataset.key;
    const figure = panel.querySelector(".figure");
    try {
      const lines = (await Promise.all(rows.map(async (row) => {
        const series = summary(row, key);
        if (!series) return null;
        const data = await ctx.client.call(row.fileKey, "series", series.series_id, seriesOptions({ ...state, zoom: null }, PANEL.budget));
        return { label: row.run.name, x: data.x, y: data.smoothed ?? data.y, raw: data.smoothed ? data.y : null,
          color: runColor(row), runId: row.run.id };
      }))).filter(Boolean);
      if (token !== ctx.workspaceToken) return; // re-rendered meanwhile
      const svg = drawChart(figure, { lines, xLabel: X_AXES[state.xAxis], logY: state.logY, width: PANEL.width, height: PANEL.height,
        compact: true, legend: false, onHover: (x) => hover(x, svg) });
      if (!drawn.size) performance.mark("runstore:panel"); // the first panel (bench/browser.mjs)
      drawn.add(svg);
      panel.classList.add("drawn");
    } catch (e) {
      if (token === ctx.workspaceToken) figure.replaceChildren(h("p", { className: "error" }, e.message));
    }
  }

  const grid = h("div", { id: "panels" });
  const caption = h("span", { className: "muted", id: "panels-caption" });
  const filterError = h("span", { id: "key-filter-error", hidden: true });
  function layout() {
    workspace.observer.disconnect();
    drawn.clear();
    const { pattern, error } = keyPattern(state.keys);
    filterError.textContent = error ? `not a regular expression: ${error}` : "";
    filterError.hidden = !error;
    filterError.className = error ? "error" : "";
    const shown = pattern ? keys.filter((k) => pattern.test(k)) : error ? [] : keys;
    caption.textContent = `${shown.length} of ${keys.length} metrics · ${rows.length} runs`
      + (state.selected.size && state.selected.size <= MAX_CHARTED ? "" : chartedNote(state));
    if (!shown.length) {
      grid.replaceChildren(h("p", { className: "muted empty-state" }, error ? "" : `No metric matches /${state.keys}/.`));
      return;
    }
    grid.replaceChildren(...sections(shown).map(([section, sectionKeys]) => h("section", { className: "panel-section", "data-section": section },
      h("h3", {}, section || "other", h("span", { className: "muted" }, ` ${sectionKeys.length}`)),
      h("div", { className: "panels" }, sectionKeys.map((key) => {
        const panel = h("div", { className: "panel", "data-key": key },
          h("button", { type: "button", className: "panel-title", title: `open ${key} as the detail chart`, onclick: () => {
            state.metric = key;
            ctx.wantedMetric = null;
            state.label = "";
            state.zoom = null;
            ctx.update({ only: "chart" }).then(() => document.getElementById("chart-view")?.scrollIntoView({ block: "start" }));
          } }, key),
          h("div", { className: "figure", style: `min-height: ${PANEL.height}px` }));
        workspace.observer.observe(panel);
        return panel;
      })))));
  }
  let typing = null;
  const filter = h("input", { id: "key-filter", type: "search", value: state.keys, placeholder: "filter metrics, e.g. loss|acc (a regular expression)",
    "aria-label": "filter the metric panels", oninput: (e) => {
      clearTimeout(typing);
      typing = setTimeout(() => { state.keys = e.target.value; ctx.saveUrl(); layout(); }, 150);
    } });
  root.replaceChildren(h("h2", {}, "All metrics"), h("div", { className: "toolbar" }, filter, caption, filterError), grid);
  layout();
}
