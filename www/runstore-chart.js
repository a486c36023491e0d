// <runstore-chart>: a chart of a runstore file for docs sites, with one module script:
//
//   <script type="module" src="runstore-chart.js"></script>
//   <runstore-chart src="runs.db" metric="val/loss" filter="params.lr = 0.01" group-by="lr" smooth="0.6"></runstore-chart>
//
// Attributes: src (URL of the .db; read with HTTP range requests when the server allows),
// metric, filter (the filter language), group-by (a param: mean ± std band per value),
// smooth (EMA weight 0–0.99), x (step, epoch, wall_time, relative), log ("log" on y),
// label, width, height, title. Every chart on a page shares one worker and one copy of each file.
import { sharedClient } from "./client.js";
import { drawChart, PALETTE } from "./chart.js";
import { text } from "./dom.js";

const AXES = { step: "step", epoch: "epoch", wall_time: "time", relative: "seconds since start" };

class RunstoreChart extends HTMLElement {
  static observedAttributes = ["src", "metric", "filter", "group-by", "smooth", "x", "log", "label", "width", "height", "title"];

  connectedCallback() { this.render(); }
  attributeChangedCallback() { if (this.isConnected) this.render(); }

  /** Fetches what the attributes ask for and draws it; errors are shown in the element. */
  async render(zoom = null) {
    const token = (this.token = (this.token ?? 0) + 1);
    const src = this.getAttribute("src"), metric = this.getAttribute("metric");
    if (!src || !metric) return this.fail("runstore-chart needs src and metric attributes");
    try {
      const client = sharedClient();
      const file = await client.open(src);
      if (!file.runstore) throw new Error(`${file.name} is not a runstore file (${file.error})`);
      const filter = this.getAttribute("filter") || null;
      const groupBy = this.getAttribute("group-by");
      const smooth = Number(this.getAttribute("smooth") ?? 0);
      const xAxis = this.getAttribute("x") ?? "step";
      const label = this.getAttribute("label") ?? "";
      let lines = [], bands = [];
      if (groupBy) {
        const groups = await client.call(file.key, "groups", {
          metric, filter, groupBy: groupBy.split(","), budget: 600, smoothing: smooth > 0 ? { kind: "ema", weight: smooth } : null,
        });
        groups.forEach((g, i) => {
          const num = (a) => Float64Array.from(a, Number);
          const name = Object.entries(g.key).map(([k, v]) => `${k}=${text(v)}`).join(" ") + ` (${g.members.length} runs)`;
          const color = PALETTE[i % PALETTE.length];
          bands.push({ label: name, x: num(g.x), lower: num(g.lower), upper: num(g.upper), color });
          lines.push({ label: `${name} mean`, x: num(g.x), y: num(g.mean), color });
        });
      } else {
        const runs = await client.call(file.key, "runs", filter, null, Date.now());
        for (const run of runs) {
          const series = run.metrics.find((s) => s.key === metric && s.label === label);
          if (!series) continue;
          const data = await client.call(file.key, "series", series.series_id, {
            budget: 800, xAxis, smoothing: smooth > 0 ? { kind: "ema", weight: smooth } : null, fromStep: zoom?.[0], toStep: zoom?.[1],
          });
          lines.push({ label: run.name, x: data.x, y: data.smoothed ?? data.y, raw: data.smoothed ? data.y : null, steps: data.steps });
        }
      }
      if (token !== this.token) return;
      const figure = document.createElement("div");
      figure.className = "figure";
      this.replaceChildren(figure);
      drawChart(figure, {
        lines, bands, logY: this.hasAttribute("log"), xLabel: AXES[xAxis], title: this.getAttribute("title") ?? metric,
        width: Number(this.getAttribute("width") ?? 640), height: Number(this.getAttribute("height") ?? 320),
        onZoom: groupBy ? null : (x0, x1) => {
          if (x0 === null) return this.render();
          let lo = Infinity, hi = -Infinity;
          for (const l of lines) l.x.forEach((x, i) => { if (x >= x0 && x <= x1) { lo = Math.min(lo, l.steps[i]); hi = Math.max(hi, l.steps[i]); } });
          if (lo <= hi) this.render([lo, hi]);
        },
      });
    } catch (e) {
      if (token === this.token) this.fail(`${src}: ${e.message}`);
    }
  }

  fail(message) {
    const p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    this.replaceChildren(p);
  }
}

if (!customElements.get("runstore-chart")) customElements.define("runstore-chart", RunstoreChart);
