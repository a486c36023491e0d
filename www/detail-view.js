// Views of one thing at a time: a run (provenance, artifacts, epochs and batches), runs side
// by side, the model registry, and system usage (resources and spans).
import { h, text, duration, objectsTable, entriesTable } from "./dom.js";
import { drawChart, PALETTE } from "./chart.js";
import { summariesOf } from "./run-table.js";

function section(title, ...content) {
  return h("section", { className: "card" }, h("h3", {}, title), ...content);
}

function list(items, render, empty = "none") {
  return items?.length ? render(items) : h("p", { className: "muted" }, empty);
}

/** A run's detail. */
export async function renderRun(root, ctx, row) {
  const { client } = ctx;
  const run = row.run;
  const doc = await client.call(row.fileKey, "provenance", run.id);
  // The run's experiment: what the experiment manager records above runs.
  const experiment = (await client.call(row.fileKey, "experiments")).find((e) => e.name === run.experiment);
  const experimentArtifacts = experiment ? await client.call(row.fileKey, "experimentArtifacts", experiment.id) : [];
  const metrics = await summariesOf(client, row);
  // The run's trial: its description, configuration and artifacts.
  const trial = run.trial_id && experiment ? (await client.call(row.fileKey, "trials", experiment.id)).find((t) => t.id === run.trial_id) : null;
  const trialArtifacts = trial ? await client.call(row.fileKey, "trialArtifacts", trial.id) : [];
  const batches = h("div", { id: "batches" });
  root.replaceChildren(...[
    h("h2", {}, `Run ${run.name}`),
    h("p", { className: "muted" }, `${row.fileName} · ${run.experiment}${run.trial ? ` / ${run.trial}` : ""} · `,
      h("span", { className: `state-${run.state}` }, run.state), ` · ${duration(run.duration_ms)}`),
    run.error ? h("p", { className: "error" }, run.error) : null,
    section("Params", entriesTable(run.params)),
    section("Tags", list(Object.keys(run.tags), () => entriesTable(run.tags))),
    section("Results", run.results && typeof run.results === "object" && !Array.isArray(run.results)
      ? entriesTable(run.results) : run.results !== null && run.results !== undefined ? h("pre", {}, JSON.stringify(run.results, null, 2))
        : h("p", { className: "muted" }, "none recorded (results summarise a run: run.log_results({...}) in Python, {\"results\": {...}} to RUNSTORE_SINK)")),
    section("Metrics", objectsTable(metrics, ["key", "label", "count", "nan_count", "first_step", "last_step", "min", "max", "mean", "last"])),
    section("Datasets", list(doc.datasets, (d) => objectsTable(d))),
    section("Code", doc.code ? entriesTable(doc.code) : h("p", { className: "muted" }, "none recorded")),
    section("Environment", doc.environment ? entriesTable(doc.environment) : h("p", { className: "muted" }, "none recorded")),
    section("Artifacts (run, epochs and batches)", list(doc.artifacts, (a) => objectsTable(a, ["name", "kind", "uri", "epoch", "batch", "size_bytes", "sha256"]))),
    outputSection(doc.artifacts),
    experiment ? section(`Experiment ${experiment.name}`,
      h("p", { className: "muted" }, `${experiment.description || "no description"} · ${experiment.status} · ${experiment.trials} trials · ${experiment.runs} runs`),
      Object.keys(experiment.params).length ? entriesTable(experiment.params) : null,
      Object.keys(experiment.tags).length ? h("div", { className: "experiment-tags" }, h("h4", {}, "Tags"), entriesTable(experiment.tags)) : null,
      experiment.results ? h("div", {}, h("h4", {}, "Results"), entriesTable(experiment.results)) : null,
      h("h4", {}, "Artifacts"), list(experimentArtifacts, (a) => objectsTable(a, ["name", "kind", "uri", "size_bytes", "sha256"]), "none")) : null,
    trial ? section(`Trial ${trial.name}`,
      h("p", { className: "muted" }, `${trial.description || "no description"} · ${trial.runs} runs`),
      Object.keys(trial.config).length ? entriesTable(trial.config) : null,
      h("h4", {}, "Artifacts"), list(trialArtifacts, (a) => objectsTable(a, ["name", "kind", "uri", "size_bytes", "sha256"]), "none")) : null,
    section("Epochs", list(doc.epochs, (e) => objectsTable(e, null, async (epoch) => {
      const rows = await client.call(row.fileKey, "batches", run.id, epoch.epoch);
      batches.replaceChildren(h("h4", {}, `Batches of epoch ${epoch.epoch}`), list(rows, (b) => objectsTable(b)));
    })), batches),
  ].filter(Boolean));
}

/** The end of the output `runstore record` kept of a run (the whole is in the file's artifacts folder). */
function outputSection(artifacts) {
  const logs = (artifacts ?? []).filter((a) => a.kind === "log" && typeof a.metadata?.tail === "string");
  if (!logs.length) return null;
  return section("Output", ...logs.map((a) => {
    const written = a.metadata.bytes_written ?? a.size_bytes ?? 0;
    const shown = new TextEncoder().encode(a.metadata.tail).length;
    const note = shown < written ? `, the last ${shown.toLocaleString()} shown; the file keeps more: ${a.uri}` : "";
    // As a terminal shows it: colour codes dropped, a progress bar's redraws (\r) as their last state.
    const shownText = a.metadata.tail.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").split("\n").map((l) => l.split("\r").filter(Boolean).pop() ?? "").join("\n");
    return h("details", { className: "output", open: a.name === "stdout" || a.name === "stderr" },
      h("summary", {}, `${a.name} (${written.toLocaleString()} bytes${note})`),
      a.metadata.tail ? h("pre", { className: `output-${a.name}` }, shownText) : h("p", { className: "muted" }, "empty"));
  }));
}

/** Selected runs side by side: differing params and summaries, best run per metric (per file). */
export async function renderCompare(root, ctx, rows) {
  const { client } = ctx;
  if (rows.length < 2) { root.replaceChildren(h("p", { className: "muted" }, "Select two or more runs in the table to compare them.")); return; }
  const byFile = new Map();
  for (const r of rows) byFile.set(r.fileKey, [...(byFile.get(r.fileKey) ?? []), r]);
  const parts = [h("h2", {}, `Comparing ${rows.length} runs`)];
  for (const [key, group] of byFile) {
    const c = await client.call(key, "compare", group.map((r) => r.run.id), Date.now());
    const names = c.runs.map((r) => r.name);
    parts.push(h("h3", {}, group[0].fileName),
      h("table", { className: "data", id: "compare-params" }, h("thead", {}, h("tr", {}, h("th", {}, "param differs"), names.map((n) => h("th", {}, n)))),
        h("tbody", {}, Object.entries(c.differing).map(([k, vs]) => h("tr", {}, h("th", {}, k), vs.map((v) => h("td", {}, text(v))))))),
      Object.keys(c.same).length ? h("p", { className: "muted" }, `Same in all: ${Object.entries(c.same).map(([k, v]) => `${k}=${text(v)}`).join(", ")}`) : null,
      h("table", { className: "data", id: "compare-metrics" }, h("thead", {}, h("tr", {}, h("th", {}, "metric"), h("th", {}, "better"), names.map((n) => h("th", {}, n)))),
        h("tbody", {}, c.metrics.map((m) => h("tr", {}, h("th", {}, m.key + (m.label ? ` [${m.label}]` : "")), h("td", {}, m.direction),
          m.summaries.map((s, i) => h("td", { className: i === m.best ? "best num" : "num", title: s ? `min ${text(s.min)} · max ${text(s.max)} · mean ${text(s.mean)}` : "" },
            s ? text(s.last) : "")))))));
  }
  root.replaceChildren(...parts.filter(Boolean));
}

/** The model registry of every open file. */
export async function renderModels(root, ctx) {
  const { client, state } = ctx;
  const versions = h("div", { id: "model-versions" });
  const parts = [h("h2", {}, "Models")];
  for (const file of state.files.filter((f) => f.runstore)) {
    const models = await client.call(file.key, "models");
    parts.push(h("h3", {}, file.name), list(models, (ms) => objectsTable(ms.map((m) => ({
      name: m.name, versions: m.versions, latest: m.latest?.version, aliases: Object.entries(m.aliases).map(([a, v]) => `${a}→v${v}`).join(", "),
      tags: m.tags, updated: new Date(m.updated_ms).toISOString(),
    })), null, async (m) => {
      const rows = await client.call(file.key, "modelVersions", m.name);
      versions.replaceChildren(h("h3", {}, `Versions of ${m.name}`), h("table", { className: "data" },
        h("thead", {}, h("tr", {}, ["version", "aliases", "tags", "source run", "path", "size", "created"].map((c) => h("th", {}, c)))),
        h("tbody", {}, rows.map((v) => {
          const source = state.rows.find((r) => r.run.id === v.source_run_id);
          return h("tr", {}, h("td", {}, v.version), h("td", {}, v.aliases.join(", ")), h("td", {}, text(v.tags)),
            h("td", {}, source ? h("a", { href: "#", onclick: (e) => { e.preventDefault(); ctx.showRun(source); } }, source.run.name) : text(v.source_run_id)),
            h("td", {}, v.storage_path), h("td", { className: "num" }, v.size_bytes), h("td", {}, new Date(v.created_ms).toISOString()));
        }))));
    }), "No models registered. Register one with run.register_model(name, path) in Python or Recorder::register_model in Rust."));
  }
  root.replaceChildren(...parts, versions);
}

/** Every metric across runs (diverged runs counted), resource usage over time, and spans. */
export async function renderSystem(root, ctx) {
  const { client, state } = ctx;
  const parts = [h("h2", {}, "System")];
  for (const file of state.files.filter((f) => f.runstore)) {
    parts.push(h("h3", {}, file.name));
    const { byName, byRound } = await client.call(file.key, "spans");
    const overview = await client.call(file.key, "metricsOverview");
    parts.push(section("Metrics overview", list(overview, (m) => objectsTable(m))));
    let sampled = 0;
    for (const kind of ["cpu", "ram", "gpu", "disk", "net"]) {
      // One series per run and measurement, each reduced in the worker to at most `budget`
      // points (the first, min and max and last sample of each time bucket): a run sampled at
      // 1 Hz for days draws like a short one, with the same extremes. Nothing here spreads an
      // array into arguments, which throws past ~100k elements.
      const all = await client.call(file.key, "resources", kind, { budget: 2000 });
      sampled += all.length;
      // One chart per unit: a tree's CPU % and its count of processes share no axis.
      const byUnit = new Map();
      for (const s of all) byUnit.set(s.unit, [...(byUnit.get(s.unit) ?? []), s]);
      // One time origin for the kind's charts, so that they line up.
      let t0 = Infinity;
      for (const s of all) if (s.x.length && s.x[0] < t0) t0 = s.x[0];
      for (const [unit, series] of byUnit) {
        const figure = h("div", { className: "figure" });
        drawChart(figure, { title: unit ? `${kind} (${unit})` : kind, xLabel: "seconds", height: 240,
          lines: series.map((s, i) => {
            const run = state.rows.find((r) => r.fileKey === file.key && r.run.id === s.runId)?.run.name ?? s.runId ?? "host";
            return { label: `${run} ${s.name}`, color: PALETTE[i % PALETTE.length], x: Float64Array.from(s.x, (t) => (t - t0) / 1000), y: s.y };
          }) });
        const reduced = series.filter((s) => !s.exact);
        if (reduced.length) {
          figure.append(h("p", { className: "muted" }, `${reduced.map((s) => `${s.name}: ${s.count} samples`).join(", ")}; reduced to min/max per time bucket.`));
        }
        parts.push(figure);
      }
    }
    if (!sampled) {
      parts.push(h("p", { className: "muted empty-state" }, "No resource samples in this file. runstore record -- CMD samples a program's process tree and GPUs every second; "
        + "runstore.init(monitor=True) in Python and ResourceMonitor in Rust sample the recording process."));
    }
    parts.push(section("Spans", list(byName, (s) => objectsTable(s), "No spans. Time parts of a run with `with run.time(name):` in Python or Run::time in Rust.")),
      section("Spans by round", list(byRound, (s) => objectsTable(s), "No spans.")));
  }
  root.replaceChildren(...parts);
}
