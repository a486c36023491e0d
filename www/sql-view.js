// The SQL console: the sql.js-compatible surface of any open file (runstore or plain SQLite),
// read-only, with a time budget after which a runaway query is interrupted.
import { h, text, csv, download } from "./dom.js";

const EXAMPLE = "SELECT r.name AS run, s.key, s.label, s.count, s.min_value, s.last_value\nFROM runs r JOIN metric_series s ON s.run_id = r.id\nORDER BY r.name, s.key\nLIMIT 100;";

const cellText = (v) => v instanceof Uint8Array ? `(${v.length} bytes)` : text(v);

/** One statement's result ({columns, values}) as a table with its CSV export. */
function resultTable(set, i) {
  const table = h("table", { className: "data sql-result" },
    h("thead", {}, h("tr", {}, set.columns.map((c) => h("th", {}, c)))),
    h("tbody", {}, set.values.map((row) => h("tr", {}, row.map((v) => h("td", {}, cellText(v)))))));
  const save = () => download(`query-${i + 1}.csv`, csv(set.columns, set.values.map((row) => row.map(cellText))));
  return h("div", {}, h("button", { type: "button", onclick: save }, "Export CSV"), h("div", { className: "scroll" }, table));
}

/** Renders the console into `root`. */
export function renderSql(root, ctx) {
  const { client, state } = ctx;
  const results = h("div", { id: "sql-results" });
  const input = h("textarea", { id: "sql-input", rows: 6, spellcheck: "false" });
  input.value = state.sql ?? EXAMPLE;
  const file = h("select", { id: "sql-file" }, state.files.map((f) => h("option", { value: f.key }, f.name)));
  const budget = h("input", { id: "sql-budget", type: "number", min: 10, step: 100, value: 5000, size: 6 });
  const run = async () => {
    state.sql = input.value;
    results.replaceChildren(h("p", { className: "muted" }, "running…"));
    const started = performance.now();
    try {
      const sets = await client.sql(file.value, input.value, null, Number(budget.value));
      const ms = performance.now() - started;
      const count = sets.reduce((n, set) => n + set.values.length, 0);
      // One table per statement, appended one by one (no spread of an unbounded array).
      results.replaceChildren(h("p", { className: "muted" }, `${count} rows in ${ms.toFixed(0)} ms`));
      sets.forEach((set, i) => results.append(resultTable(set, i)));
    } catch (e) {
      results.replaceChildren(h("p", { className: "error", role: "alert" }, e.message));
    }
  };
  input.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(); });
  root.replaceChildren(h("h2", {}, "SQL console"),
    h("p", { className: "muted" }, "Read-only SQL over the file (sql.js-compatible API in the worker). Ctrl+Enter runs."),
    h("div", { className: "toolbar" }, h("label", {}, "File ", file), h("label", {}, "Time budget (ms) ", budget),
      h("button", { type: "button", id: "sql-run", onclick: run }, "Run")), input, results);
}
