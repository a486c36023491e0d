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

function render(name, store) {
  const stats = store.stats();
  $("file-name").textContent = name;
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
  for (const run of store.runs(Date.now())) {
    const row = body.insertRow();
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

async function open(file) {
  $("error").hidden = true;
  try {
    await ready;
    const bytes = new Uint8Array(await file.arrayBuffer());
    render(file.name, RunStore.open(bytes));
  } catch (e) {
    showError(`${file.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
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
