// The runs table: columns the user picks (params and metric summaries), sort, the filter
// language with its error, and selection of runs to chart and compare.
import { h, text, cell, duration, csv, download } from "./dom.js";
import { runColor } from "./run-colors.js";
import { summary, awaitingSummaries, metricKeys } from "./run-table.js";

const BASE_COLUMNS = ["file", "experiment", "trial", "run", "state", "duration"];

/** The value of a column for one row {fileName, run}. */
export function cellValue(row, column) {
  const run = row.run;
  switch (column) {
    case "file": return row.fileName;
    case "experiment": return run.experiment;
    case "trial": return run.trial ?? "";
    case "run": return run.name;
    case "state": return run.state;
    case "duration": return run.duration_ms;
  }
  if (column.startsWith("params.")) return run.params[column.slice(7)];
  if (column.startsWith("tags.")) return run.tags[column.slice(5)];
  const m = /^metrics\.(.+)\.(last|min|max|mean|count)$/.exec(column);
  return m ? summary(row, m[1])?.[m[2]] : undefined;
}

/** Every column the rows offer. */
export function availableColumns(rows) {
  const params = new Set(), tags = new Set();
  for (const { run } of rows) {
    for (const k of Object.keys(run.params)) params.add(k);
    for (const k of Object.keys(run.tags)) tags.add(k);
  }
  return [
    ...BASE_COLUMNS,
    ...[...params].sort().map((p) => `params.${p}`),
    ...metricKeys(rows).flatMap((k) => ["last", "min", "max", "mean"].map((a) => `metrics.${k}.${a}`)),
    ...[...tags].sort().map((t) => `tags.${t}`),
  ];
}

/** The columns shown when the user has not picked: base, params, and each metric's last value. */
export function defaultColumns(rows) {
  return availableColumns(rows).filter((c) => !c.startsWith("tags.") && !/\.(min|max|mean)$/.test(c));
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === undefined || a === null || a === "") return 1;
  if (b === undefined || b === null || b === "") return -1;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b;
  return text(a).localeCompare(text(b), undefined, { numeric: true });
}

/** Rows in the order of `sort` ({column, descending}): each row's value is read once. */
export function sortedRows(rows, sort) {
  if (!sort?.column) return rows;
  const sign = sort.descending ? -1 : 1;
  const keyed = rows.map((row) => [cellValue(row, sort.column), row]);
  keyed.sort((a, b) => sign * compare(a[0], b[0]));
  return keyed.map((pair) => pair[1]);
}

/** Tables longer than this draw only the rows in view (and a few around them). */
const VIRTUAL_ABOVE = 200;

/** Renders the table section into `root`. */
export function renderRuns(root, ctx) {
  const { state } = ctx;
  const all = availableColumns(state.rows);
  const columns = (state.columns ?? defaultColumns(state.rows)).filter((c) => all.includes(c));
  const rows = sortedRows(state.rows, state.sort);
  const columnSearch = h("input", { type: "search", id: "column-search", placeholder: "find a column", "aria-label": "find a column",
    oninput: (e) => {
      const needle = e.target.value.toLowerCase();
      for (const label of columnList.children) label.hidden = !label.dataset.column.toLowerCase().includes(needle);
    } });
  const columnList = h("div", { className: "column-list" }, all.map((c) => h("label", { "data-column": c },
    h("input", { type: "checkbox", checked: columns.includes(c), "data-column": c, onchange: (e) => {
      const next = new Set(columns);
      e.target.checked ? next.add(c) : next.delete(c);
      state.columns = all.filter((x) => next.has(x));
      ctx.update();
    } }), c)));
  const picker = h("details", { className: "columns" }, h("summary", {}, `Columns (${columns.length} of ${all.length})`), columnSearch, columnList);
  const countText = () => `${rows.length} runs, ${state.selected.size} selected`;
  const count = h("span", { className: "muted", id: "run-count" }, countText());
  const allSelected = rows.length > 0 && rows.every((r) => state.selected.has(r.run.id));
  const header = h("tr", {}, h("th", {}, h("input", { type: "checkbox", title: "select all shown", checked: allSelected,
    onchange: (e) => { rows.forEach((r) => e.target.checked ? state.selected.add(r.run.id) : state.selected.delete(r.run.id)); ctx.update(); } })),
  columns.map((c) => h("th", { className: "sortable", "data-column": c, tabindex: 0,
    // Reachable by keyboard: Enter or Space sorts as a click does.
    onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); e.currentTarget.click(); } },
    "aria-sort": state.sort?.column === c ? (state.sort.descending ? "descending" : "ascending") : null,
    // Only the table is laid out again: the charts do not depend on its order. A metric
    // column sorts once every run's summaries are read.
    onclick: async () => {
      state.sort = { column: c, descending: state.sort?.column === c && !state.sort.descending };
      if (c.startsWith("metrics.")) await ctx.summarised;
      ctx.update({ only: "table" });
    } },
  c + (state.sort?.column === c ? (state.sort.descending ? " ▼" : " ▲") : ""))));
  const rowNode = (row) => h("tr", { className: state.selected.has(row.run.id) ? "selected" : null, "data-run": row.run.id },
    h("td", { className: "pick" }, h("span", { className: "swatch", style: `background: ${runColor(row)}`, title: "this run's colour in every chart" }),
      h("input", { type: "checkbox", checked: state.selected.has(row.run.id), "aria-label": `select ${row.run.name}`,
        onchange: (e) => {
          // Only the charts and the count change: the table (and its scroll position) stays.
          e.target.checked ? state.selected.add(row.run.id) : state.selected.delete(row.run.id);
          e.target.closest("tr").classList.toggle("selected", e.target.checked);
          count.textContent = countText();
          ctx.update({ only: "chart" });
        } })),
    columns.map((c) => {
      const v = cellValue(row, c);
      if (c === "run") return h("td", {}, h("a", { href: "#", className: "run-link", onclick: (e) => { e.preventDefault(); ctx.showRun(row); } }, v));
      if (c === "state") return h("td", { className: `state-${v}` }, v);
      if (c.startsWith("metrics.") && awaitingSummaries(row)) return h("td", { className: "num muted", title: "reading the summaries" }, "…");
      return c === "duration" ? h("td", { className: "num" }, duration(v)) : cell(v);
    }));
  const body = h("tbody", {});
  const table = h("table", { id: "runs", className: "data" }, h("thead", {}, header), body);
  const scroller = h("div", { className: "scroll" }, table);
  if (rows.length <= VIRTUAL_ABOVE) {
    for (const row of rows) body.append(rowNode(row));
  } else {
    // Thousands of runs: only the rows in view are in the page, between two spacers, so
    // sorting, filtering and scrolling never lay out the whole table.
    table.classList.add("virtual");
    let rowHeight = 0, drawnFrom = -1, pending = false;
    const spacer = (px) => h("tr", { className: "spacer", "aria-hidden": "true" }, h("td", { colspan: columns.length + 1, style: `height: ${px}px` }));
    const drawSlice = () => {
      pending = false;
      const head = table.tHead.getBoundingClientRect().height;
      const from = Math.max(0, Math.floor((scroller.scrollTop - head) / (rowHeight || 28)) - 20);
      const to = Math.min(rows.length, from + Math.ceil((scroller.clientHeight || 450) / (rowHeight || 28)) + 40);
      if (from === drawnFrom) return;
      drawnFrom = from;
      body.replaceChildren(spacer(from * rowHeight), ...rows.slice(from, to).map(rowNode), spacer((rows.length - to) * rowHeight));
    };
    body.append(rowNode(rows[0]));
    scroller.addEventListener("scroll", () => { if (!pending) { pending = true; requestAnimationFrame(drawSlice); } });
    // The row height is measured once the table is in the page.
    requestAnimationFrame(() => { rowHeight = body.rows[0]?.getBoundingClientRect().height || 28; drawSlice(); });
  }
  const exportCsv = h("button", { type: "button", onclick: async () => {
    await ctx.summarised;
    download("runs.csv", csv(columns, rows.map((r) => columns.map((c) => cellValue(r, c)))));
  } }, "Export CSV");
  root.replaceChildren(
    h("div", { className: "toolbar" }, picker, exportCsv, count),
    scroller);
}
