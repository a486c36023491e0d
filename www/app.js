// The runstore page: opens a dropped .db with runstore-web (wasm) and shows what it holds.
// Every string from a file is inserted as text (textContent), never as HTML.
import init, { RunStore } from "./pkg/runstore_web.js";

const ready = init();
const $ = (id) => document.getElementById(id);

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function formatValue(v) {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  if (v === null || v === undefined) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

// Every opened file: runs from all of them are listed together, each marked with its file.
const opened = [];

function render() {
  const { name, store } = opened[opened.length - 1];
  const stats = store.stats();
  $("file-name").textContent = opened.length === 1 ? name : `${opened.length} files (last: ${name})`;
  const dl = $("stats");
  dl.replaceChildren();
  for (const [label, value] of [
    ["experiments", stats.experiments], ["runs", stats.runs], ["metric series", stats.series],
    ["points", stats.points], ["NaN points", stats.nan_points], ["artifacts", stats.artifacts],
    ["models", stats.models], ["size", `${(stats.size_bytes / 1048576).toFixed(1)} MiB`],
  ]) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = String(value);
    dl.append(dt, dd);
  }
  const body = $("runs").tBodies[0];
  body.replaceChildren();
  for (const { name: file, store: s } of opened) for (const run of s.runs(undefined, undefined, Date.now())) {
    const row = body.insertRow();
    cell(row, file);
    cell(row, run.experiment);
    cell(row, run.trial ?? "");
    cell(row, run.name);
    cell(row, run.state, `state-${run.state}`);
    cell(row, Object.entries(run.params).map(([k, v]) => `${k}=${formatValue(v)}`).join(", "));
    cell(row, run.metrics.filter((m) => m.label === "")
      .map((m) => `${m.key}=${formatValue(m.last)}`).join(", "));
  }
  $("summary").hidden = false;
  $("runs-section").hidden = false;
}

async function openBytes(name, bytesPromise) {
  try {
    await ready;
    const bytes = new Uint8Array(await bytesPromise);
    opened.push({ name, store: RunStore.open(bytes) });
    render();
  } catch (e) {
    showError(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function open(file) {
  $("error").hidden = true;
  return openBytes(file.name, file.arrayBuffer());
}

// ?db=URL (repeatable) opens files from the server, e.g. `runstore serve` prints such a link.
for (const url of new URLSearchParams(location.search).getAll("db")) {
  const name = decodeURIComponent(url.split("/").pop() || url);
  openBytes(name, fetch(url).then((r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status} fetching ${url}`);
    return r.arrayBuffer();
  }));
}

const drop = $("drop");
$("file").addEventListener("change", (e) => e.target.files[0] && open(e.target.files[0]));
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files[0]) open(e.dataTransfer.files[0]);
});
