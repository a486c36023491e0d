// Small DOM helpers. Every string from a file goes through textContent, never innerHTML.

/** An element with attributes and children (strings become text nodes). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "className") node.className = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

/** A value as text: numbers short, NaN/Infinity named, objects as JSON. */
export function text(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v);
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  }
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Text for a table cell: very long strings are cut (the full text is in the tooltip). */
export function cell(v) {
  const full = text(v);
  if (full.length <= 400) return h("td", { className: typeof v === "number" ? "num" : null }, full);
  return h("td", { title: full.slice(0, 4000) }, `${full.slice(0, 400)}… (${full.length} characters)`);
}

/** A duration in ms as "1h 02m", "3m 05s", "4.2s". */
export function duration(ms) {
  if (ms === null || ms === undefined) return "";
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/** A table of objects: columns are the union of their keys (or `columns`). */
export function objectsTable(rows, columns, onRow) {
  columns ??= [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return h("table", { className: "data" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)))),
    h("tbody", {}, rows.map((r) => h("tr", onRow ? { className: "clickable", onclick: () => onRow(r) } : {},
      columns.map((c) => cell(r[c]))))));
}

/** A two-column table of an object's entries. */
export function entriesTable(object) {
  return h("table", { className: "data kv" }, h("tbody", {},
    Object.entries(object ?? {}).map(([k, v]) => h("tr", {}, h("th", {}, k), cell(v)))));
}

/** A whole number as Rust's f64 parser reads one (as the CLI's CSV decides). */
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(inf|infinity|nan)$/i;

/** One CSV field (RFC 4180 quoting; cells that spreadsheets would run as formulas are escaped). */
function csvField(v) {
  let s = text(v);
  // A cell a spreadsheet would run as a formula gets a leading ' unless all of it is a number
  // (`-2+3+cmd|...` starts like one and is not).
  if (/^[=+\-@\t\r]/.test(s) && !NUMBER.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Rows (arrays) as CSV text. */
export function csv(header, rows) {
  return [header, ...rows].map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** Offers `content` as a file download. */
export function download(name, content, type = "text/csv") {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
