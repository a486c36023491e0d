// The runs table: columns the user picks (params and metric summaries), sort, the filter
// language with its error, and selection of runs to chart and compare.
import { h, text, cell, duration, csv, download } from "./dom.js";
import { runColor } from "./run-colors.js";

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
  if (m) {
    const series = run.metrics.find((s) => s.key === m[1] && s.label === "");
    return series ? series[m[2]] : undefined;
  }
  return undefined;
}

/** Every column the rows offer. */
export function availableColumns(rows) {
  const params = new Set(), metrics = new Set(), tags = new Set();
  for (const { run } of rows) {
    Object.keys(run.params).forEach((k) => params.add(k));
    Object.keys(run.tags).forEach((k) => tags.add(k));
    run.metrics.filter((s) => s.label === "").forEach((s) => metrics.add(s.key));
  }
  return [
    ...BASE_COLUMNS,
    ...[...params].sort().map((p) => `params.${p}`),
    ...[...metrics].sort().flatMap((k) => ["last", "min", "max", "mean"].map((a) => `metrics.${k}.${a}`)),
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

/** Rows in the order of `sort` ({column, descending}). */
export function sortedRows(rows, sort) {
  if (!sort?.column) return rows;
  const sign = sort.descending ? -1 : 1;
  return [...rows].sort((a, b) => sign * compare(cellValue(a, sort.column), cellValue(b, sort.column)));
}

/** Renders the table section into `root`. */
export function renderRuns(root, ctx) {
  const { state } = ctx;
  const all = availableColumns(state.rows);
  const columns = (state.columns ?? defaultColumns(state.rows)).filter((c) => all.includes(c));
  const rows = sortedRows(state.rows, state.sort);
  const picker = h("details", { className: "columns" }, h("summary", {}, `Columns (${columns.length} of ${all.length})`),
    h("div", { className: "column-list" }, all.map((c) => h("label", {},
      h("input", { type: "checkbox", checked: columns.includes(c), "data-column": c, onchange: (e) => {
        const next = new Set(columns);
        e.target.checked ? next.add(c) : next.delete(c);
        state.columns = all.filter((x) => next.has(x));
        ctx.update();
      } }), c))));
  const countText = () => `${rows.length} runs, ${state.selected.size} selected`;
  const count = h("span", { className: "muted", id: "run-count" }, countText());
  const allSelected = rows.length > 0 && rows.every((r) => state.selected.has(r.run.id));
  const header = h("tr", {}, h("th", {}, h("input", { type: "checkbox", title: "select all shown", checked: allSelected,
    onchange: (e) => { rows.forEach((r) => e.target.checked ? state.selected.add(r.run.id) : state.selected.delete(r.run.id)); ctx.update(); } })),
  columns.map((c) => h("th", { className: "sortable", "data-column": c,
    "aria-sort": state.sort?.column === c ? (state.sort.descending ? "descending" : "ascending") : null,
    onclick: () => { state.sort = { column: c, descending: state.sort?.column === c && !state.sort.descending }; ctx.update(); } },
  c + (state.sort?.column === c ? (state.sort.descending ? " ▼" : " ▲") : ""))));
  const body = h("tbody", {}, rows.map((row) => h("tr", { className: state.selected.has(row.run.id) ? "selected" : null, "data-run": row.run.id },
    h("td", { className: "pick" }, h("span", { className: "swatch", style: `background: ${runColor(row)}`, title: "this run's colour in every chart" }),
      h("input", { type: "checkbox", checked: state.selected.has(row.run.id), "aria-label": `select ${row.run.name}`,
      onchange: (e) => {
        // Only the chart and the count change: the table (and its scroll position) stays.
        e.target.checked ? state.selected.add(row.run.id) : state.selected.delete(row.run.id);
        e.target.closest("tr").classList.toggle("selected", e.target.checked);
        count.textContent = countText();
        ctx.update({ only: "chart" });
      } })),
    columns.map((c) => {
      const v = cellValue(row, c);
      if (c === "run") return h("td", {}, h("a", { href: "#", className: "run-link", onclick: (e) => { e.preventDefault(); ctx.showRun(row); } }, v));
      if (c === "state") return h("td", { className: `state-${v}` }, v);
      return c === "duration" ? h("td", { className: "num" }, duration(v)) : cell(v);
    }))));
  const exportCsv = h("button", { type: "button", onclick: () =>
    download("runs.csv", csv(columns, rows.map((r) => columns.map((c) => cellValue(r, c))))) }, "Export CSV");
  root.replaceChildren(
    h("div", { className: "toolbar" }, picker, exportCsv, count),
    h("div", { className: "scroll" }, h("table", { id: "runs", className: "data" }, h("thead", {}, header), body)));
}
