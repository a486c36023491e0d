// Browser benchmarks P2, P2b, P3, P3b, P4, P13 and P14 (see BENCHMARKS.md), in Debian's headless Chromium.
//
//   node bench/browser.mjs            all of them (generates the seeded data files once, under
//                                     ~/.cache/runstore/bench-data, with examples/generate.rs)
//   node bench/browser.mjs p2 p4      some of them
//
// P2: time from handing a file to the page until the runs table with summaries and the first
//     chart are drawn, against sql.js reading the same points in a plain one-row-per-point file
//     and running the summaries GROUP BY, and sql.js reading the summaries from the same
//     runstore file; alternating, 3 rounds each, at 50 MB, 4M points, 200 MB and 1 GB.
// P3: 1 GB and 2.4 GB runstore files: do they open, and the peak memory of all Chromium
//     processes above the page's baseline while opening, against sql.js opening the same file.
// P3b: bytes one <runstore-chart> fetches (HTTP range requests) to draw from the 1 GB file.
// P2b: 4 runs × 125k points: from handing the file over to the 4 runs overlaid in the chart,
//      against sql.js reading the plain twin whole and querying every point of the 4 runs.
// P14: 50 panels × 20 runs on an 11M-point file: the first screen, the panels in view after
//      scrolling to them, and the page thread's long tasks (PerformanceObserver) while
//      scrolling through all 50.
// P4: gzip bytes of everything needed to draw the first chart (page and embed), against sql.js.
// P13: 10,000 runs × 20 metrics: from handing the file over to the runs table laid out and the
//      chart drawn (the first screen), the first metric panel, every run's summaries read;
//      then sorting the table by a metric; against sql.js
//      reading the same file whole and laying out a plain table (bench/sqljs-table.html).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { serve, launchBrowser, newPage, root } from "../tests/browser/harness.mjs";

const only = process.argv.slice(2);
const wants = (id) => only.length === 0 || only.includes(id);
const data = process.env.RUNSTORE_BENCH_DATA ?? join(homedir(), ".cache/runstore/bench-data");
mkdirSync(data, { recursive: true });
const PLAIN_SUMMARIES = "SELECT r.name, p.key, count(*), min(p.value), max(p.value), avg(p.value), max(p.step) FROM points p JOIN runs r ON r.id = p.run GROUP BY p.run, p.key";
const SAME_FILE_SUMMARIES = "SELECT r.name, s.key, s.count, s.min_value, s.max_value, s.sum_value, s.last_step FROM metric_series s JOIN runs r ON r.id = s.run_id";
const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;

/** The seeded runstore file (and plain twin) of `points` points, generated once. */
function dataFile(points, plain, shape = []) {
  const name = shape.length ? `runs-${points}-${shape.join("-").replaceAll("--", "")}` : `runs-${points}`;
  const ours = join(data, `${name}.db`), twin = join(data, `plain-${points}.db`);
  if (!existsSync(ours) || (plain && !existsSync(twin))) {
    for (const f of [ours, twin]) if (existsSync(f)) execFileSync("rm", [f]);
    execFileSync("cargo", ["run", "--release", "--locked", "-q", "-p", "runstore", "--no-default-features", "--example", "generate", "--", ours, String(points),
      ...(plain ? ["--plain", twin] : []), ...shape], { stdio: "inherit", cwd: root });
  }
  return { ours, plain: twin, size: statSync(ours).size, plainSize: plain ? statSync(twin).size : 0 };
}

/** Total resident memory of the running Chromium processes, bytes. */
function chromiumRss() {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("chromium")) continue;
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    } catch { /* the process ended */ }
  }
  return total;
}

/** Runs `work` while sampling memory; returns [result, peak bytes above the baseline]. */
async function peakMemory(work) {
  const baseline = chromiumRss();
  let peak = baseline;
  const timer = setInterval(() => { peak = Math.max(peak, chromiumRss()); }, 20);
  try {
    const result = await work();
    peak = Math.max(peak, chromiumRss());
    return [result, peak - baseline];
  } finally {
    clearInterval(timer);
  }
}

async function measure(page, start, end) {
  return page.evaluate(([a, b]) => {
    const marks = (n) => performance.getEntriesByName(n);
    return marks(b).at(-1).startTime - marks(a).at(-1).startTime;
  }, [start, end]);
}

/** Opens `file` in the runstore page; ms from handing it over to table + first chart drawn. */
async function runstoreOpen(browser, server, file, timeout = 120_000) {
  const { page, problems, close } = await newPage(browser);
  try {
    await page.goto(server.url);
    await page.waitForSelector("html[data-ready]"); // loaded, as a user dropping a file finds it
    const [ms, memory] = await peakMemory(async () => {
      await page.setInputFiles("#file", file);
      await page.waitForSelector("#chart path.line", { timeout });
      await page.waitForSelector("#runs tbody tr", { timeout });
      return measure(page, "runstore:open", "runstore:chart");
    });
    if (problems.length) throw new Error(problems.join("; "));
    return { ms, memory };
  } finally {
    await close();
  }
}

/** A fresh page of the runstore page given `file`, once its table and first chart are drawn. */
async function dropped(browser, server, file) {
  const opened = await newPage(browser);
  await opened.page.goto(server.url);
  await opened.page.waitForSelector("html[data-ready]");
  await opened.page.setInputFiles("#file", file);
  await opened.page.waitForSelector("#chart path.line", { timeout: 120_000 });
  await opened.page.waitForSelector("#runs tbody tr");
  return opened;
}

/** Hands `file` to the sql.js page, which reads it whole, opens it and runs `query`. */
async function sqljsOpen(browser, server, file, query, timeout = 300_000) {
  const { page, close } = await newPage(browser);
  try {
    await page.goto(`${server.url}/bench/sqljs.html?query=${encodeURIComponent(query)}`);
    await page.waitForSelector("html[data-ready]"); // loaded, as a user dropping a file finds it
    const [outcome, memory] = await peakMemory(async () => {
      await page.setInputFiles("#file", file);
      await page.waitForSelector("#done:not([hidden])", { timeout });
      return JSON.parse(await page.textContent("#done"));
    });
    return { ...outcome, ms: await measure(page, "sqljs:open", "sqljs:done"), memory };
  } catch (e) {
    return { error: e.message.split("\n")[0], memory: 0 };
  } finally {
    await close();
  }
}

const server = await serve({ fixtures: data });
const browser = await launchBrowser();
try {
  if (wants("p4")) {
    const gz = (files) => files.reduce((n, f) => n + gzipSync(readFileSync(join(root, f)), { level: 9 }).length, 0);
    const shared = ["www/pkg/runstore_web.js", "www/pkg/runstore_web_bg.wasm", "www/worker.js", "www/client.js", "www/chart.js"];
    const page = gz([...shared, "www/index.html", "www/style.css", "www/app.js", "www/dom.js", "www/runs-view.js", "www/chart-view.js",
      "www/run-colors.js", "www/run-table.js", "www/workspace-view.js", "www/hparams-view.js", "www/detail-view.js", "www/sql-view.js"]);
    const embed = gz([...shared, "www/runstore-chart.js"]);
    const wasm = gz(["www/pkg/runstore_web_bg.wasm"]);
    const sqljs = gz(["node_modules/sql.js/dist/sql-wasm.js", "node_modules/sql.js/dist/sql-wasm.wasm"]);
    console.log(`P4 page weight (gzip -9): page ${(page / 1024).toFixed(0)} KB (wasm ${(wasm / 1024).toFixed(0)} KB), embed ${(embed / 1024).toFixed(0)} KB; sql.js ${(sqljs / 1024).toFixed(0)} KB (draws no chart); target ≤ 800 KB`);
  }
  if (wants("p2")) {
    // By runstore file size (50 MB, 200 MB, 1 GB) and the issue's "4M points" file.
    for (const points of [2_800_000, 4_000_000, 11_000_000, 55_000_000]) {
      const f = dataFile(points, true);
      console.log(`P2 ${points / 1e6}M points, 100 runs, 500 series: runstore file ${mb(f.size)}, plain file ${mb(f.plainSize)}`);
      const best = { ours: Infinity, sqljs: Infinity, same: Infinity };
      const shown = (o) => o.error ? `failed: ${o.error}` : `${o.ms.toFixed(0)} ms (${o.rows} rows, peak +${mb(o.memory)})`;
      for (let round = 0; round < 3; round++) {
        const ours = await runstoreOpen(browser, server, f.ours);
        const plain = await sqljsOpen(browser, server, f.plain, PLAIN_SUMMARIES);
        // sql.js given the very same runstore file, reading its stored summaries: the gap left
        // is copying the whole file in (and sql.js's own start).
        const same = await sqljsOpen(browser, server, f.ours, SAME_FILE_SUMMARIES);
        best.ours = Math.min(best.ours, ours.ms);
        if (!plain.error) best.sqljs = Math.min(best.sqljs, plain.ms);
        if (!same.error) best.same = Math.min(best.same, same.ms);
        console.log(`  round ${round}: runstore ${ours.ms.toFixed(0)} ms (peak +${mb(ours.memory)})   sql.js plain GROUP BY ${shown(plain)}   sql.js same file ${shown(same)}`);
      }
      const vs = (ms) => ms === Infinity ? "failed" : `${ms.toFixed(0)} ms = ${(ms / best.ours).toFixed(1)}x`;
      console.log(`  best: runstore ${best.ours.toFixed(0)} ms; sql.js plain GROUP BY ${vs(best.sqljs)}; sql.js same file ${vs(best.same)}`);
    }
  }
  if (wants("p13")) {
    const f = dataFile(400_000, false, ["--runs", "10000", "--series", "20"]);
    console.log(`P13 10,000 runs × 20 metrics (${mb(f.size)}): file handed over → table + chart + first panel; sort by a metric`);
    const best = { open: Infinity, panel: Infinity, summarised: Infinity, sort: Infinity, sqlOpen: Infinity, sqlSort: Infinity };
    for (let round = 0; round < 3; round++) {
      const { page, problems, close } = await dropped(browser, server, f.ours);
      // The first screen: the table and the chart (the panels are below them).
      const open = await measure(page, "runstore:open", "runstore:chart");
      // Then the panels, drawn as they come near the view (the first row may be drawn
      // before the scroll): the first one, counted from the drop.
      await page.evaluate(() => document.querySelector("#workspace-view").scrollIntoView());
      await page.waitForSelector("#panels .panel.drawn", { timeout: 120_000 });
      const panel = await measure(page, "runstore:open", "runstore:panel");
      // Every run's summaries read in the background (sorting by a metric waits for them).
      await page.waitForFunction(() => {
        const opened = performance.getEntriesByName("runstore:open").at(-1).startTime;
        return performance.getEntriesByName("runstore:summarised").some((m) => m.startTime > opened);
      }, null, { timeout: 120_000 });
      const summarised = await measure(page, "runstore:open", "runstore:summarised");
      const column = "metrics.train/loss.last";
      await page.evaluate((c) => { performance.mark("bench:sort"); document.querySelector(`#runs th[data-column="${c}"]`).click(); }, column);
      await page.waitForSelector(`#runs th[data-column="${column}"][aria-sort="ascending"]`);
      const sort = await measure(page, "bench:sort", "runstore:table");
      if (problems.length) throw new Error(problems.join("; "));
      await close();
      const other = await newPage(browser);
      await other.page.goto(`${server.url}/bench/sqljs-table.html`);
      await other.page.waitForSelector("html[data-ready]");
      await other.page.setInputFiles("#file", f.ours);
      await other.page.waitForSelector("#done:not([hidden])", { timeout: 300_000 });
      const sqlOpen = await measure(other.page, "sqljs:open", "sqljs:done");
      await other.page.click("#sort");
      await other.page.waitForFunction(() => performance.getEntriesByName("sqljs:sorted").length > 0);
      const sqlSort = await measure(other.page, "sqljs:sort", "sqljs:sorted");
      const shape = await other.page.textContent("#done");
      await other.close();
      best.open = Math.min(best.open, open); best.sort = Math.min(best.sort, sort); best.panel = Math.min(best.panel, panel);
      best.summarised = Math.min(best.summarised, summarised);
      best.sqlOpen = Math.min(best.sqlOpen, sqlOpen); best.sqlSort = Math.min(best.sqlSort, sqlSort);
      console.log(`  round ${round}: runstore open ${open.toFixed(0)} ms, first panel ${panel.toFixed(0)} ms after the drop, every summary read ${summarised.toFixed(0)} ms after the drop, sort ${sort.toFixed(0)} ms   sql.js + plain table ${shape}: open ${sqlOpen.toFixed(0)} ms, sort ${sqlSort.toFixed(0)} ms`);
    }
    console.log(`  best: runstore open ${best.open.toFixed(0)} ms (target ≤ 400), first panel ${best.panel.toFixed(0)} ms, every summary ${best.summarised.toFixed(0)} ms, sort ${best.sort.toFixed(0)} ms (target ≤ 50); ` +
      `sql.js + plain table open ${best.sqlOpen.toFixed(0)} ms = ${(best.sqlOpen / best.open).toFixed(1)}x, sort ${best.sqlSort.toFixed(0)} ms = ${(best.sqlSort / best.sort).toFixed(1)}x`);
  }
  if (wants("p2b")) {
    const f = dataFile(500_000, true, ["--runs", "4", "--series", "1"]);
    console.log(`P2b 4 runs × 125k points (${mb(f.size)}): file handed over → the 4 runs overlaid in one chart`);
    const best = { ours: Infinity, sqljs: Infinity };
    for (let round = 0; round < 3; round++) {
      const ours = await runstoreOpen(browser, server, f.ours);
      // sql.js: the same points in a plain file, read whole and every point of the 4 runs queried.
      const other = await sqljsOpen(browser, server, f.plain, "SELECT run, step, value FROM points ORDER BY run, step");
      best.ours = Math.min(best.ours, ours.ms);
      if (!other.error) best.sqljs = Math.min(best.sqljs, other.ms);
      console.log(`  round ${round}: runstore ${ours.ms.toFixed(0)} ms   sql.js plain file, 500k points queried (not drawn) ${other.error ?? `${other.ms.toFixed(0)} ms`}`);
    }
    console.log(`  best: runstore ${best.ours.toFixed(0)} ms (goal < 500); sql.js ${best.sqljs.toFixed(0)} ms = ${(best.sqljs / best.ours).toFixed(1)}x`);
  }
  if (wants("p14")) {
    const f = dataFile(11_000_000, false, ["--runs", "20", "--series", "50"]);
    console.log(`P14 workspace of 50 panels × 20 runs (${mb(f.size)}, 11M points): first screen, then the panels scrolled through`);
    for (let round = 0; round < 3; round++) {
      const { page, problems, close } = await dropped(browser, server, f.ours);
      const first = await measure(page, "runstore:open", "runstore:chart");
      // All 20 runs in every panel: select them all in the table.
      await page.click("#runs thead input[type=checkbox]");
      await page.waitForFunction(() => /20 selected/.test(document.querySelector("#run-count")?.textContent ?? ""));
      await page.waitForSelector("#chart path.line");
      // Long tasks of the page's thread from here on.
      const probe = await page.evaluate(async () => {
        window.benchLongTasks = [];
        new PerformanceObserver((list) => window.benchLongTasks.push(...list.getEntries().map((e) => e.duration))).observe({ type: "longtask" });
        // The observer sees a deliberate 80 ms task (else "no long tasks" would mean nothing).
        setTimeout(() => { const t = performance.now(); while (performance.now() - t < 80); });
        await new Promise((r) => setTimeout(r, 300));
        return window.benchLongTasks.splice(0);
      });
      if (!probe.some((d) => d >= 80)) throw new Error(`the long-task observer missed an 80 ms task: ${probe}`);
      const panelsMs = await page.evaluate(() => new Promise((done) => {
        const start = performance.now();
        document.querySelector("#workspace-view").scrollIntoView();
        const inView = () => [...document.querySelectorAll("#panels .panel")].filter((p) => {
          const r = p.getBoundingClientRect();
          return r.bottom > 0 && r.top < innerHeight;
        });
        const check = () => {
          const shown = inView();
          if (shown.length && shown.every((p) => p.classList.contains("drawn"))) done(performance.now() - start);
          else requestAnimationFrame(check);
        };
        check();
      }));
      const inViewCount = await page.evaluate(() => [...document.querySelectorAll("#panels .panel")].filter((p) => {
        const r = p.getBoundingClientRect();
        return r.bottom > 0 && r.top < innerHeight;
      }).length);
      // Scroll to the end, 400 px every 50 ms, as a reader skimming the panels would.
      const scrollMs = await page.evaluate(async () => {
        const start = performance.now();
        while (innerHeight + scrollY < document.documentElement.scrollHeight - 2) {
          scrollBy(0, 400);
          await new Promise((r) => setTimeout(r, 50));
        }
        return performance.now() - start;
      });
      await page.waitForFunction(() => document.querySelectorAll("#panels .panel.drawn").length === document.querySelectorAll("#panels .panel").length, null, { timeout: 120_000 });
      const panels = await page.$$eval("#panels .panel", (ps) => ps.length);
      const lines = await page.$$eval("#panels .panel:first-child path.line[data-run]", (ps) => new Set(ps.map((p) => p.dataset.run)).size);
      const long = await page.evaluate(() => window.benchLongTasks);
      if (problems.length) throw new Error(problems.join("; "));
      await close();
      console.log(`  round ${round}: first screen (table + chart) ${first.toFixed(0)} ms; panels in view (${inViewCount}) drawn ${panelsMs.toFixed(0)} ms after scrolling to them; ` +
        `${panels} panels × ${lines} runs scrolled through in ${scrollMs.toFixed(0)} ms: ${long.length} long tasks, longest ${long.length ? Math.max(...long).toFixed(0) : 0} ms`);
    }
  }
  if (wants("p3") || wants("p3b")) {
    for (const [label, points] of [["1 GB", 55_000_000], ["2.4 GB", 132_000_000]]) {
      const f = dataFile(points, false);
      if (wants("p3")) {
        const ours = await runstoreOpen(browser, server, f.ours, 600_000);
        const other = await sqljsOpen(browser, server, f.ours, "SELECT count(*) FROM runs", 600_000);
        console.log(`P3 ${label} (${mb(f.size)}, ${points / 1e6}M points): runstore opened and charted in ${ours.ms.toFixed(0)} ms, peak +${mb(ours.memory)} = ${(ours.memory / f.size).toFixed(3)}x the file; ` +
          `sql.js ${other.error ? `failed: ${other.error}` : `opened in ${other.ms.toFixed(0)} ms`}, peak +${mb(other.memory)} = ${(other.memory / f.size).toFixed(2)}x`);
      }
      if (wants("p3b") && label === "1 GB") {
        const { page, close } = await newPage(browser);
        const before = server.bytesSent();
        await page.goto(`${server.url}/bench/one-chart.html?db=/fixtures/${f.ours.split("/").pop()}`);
        await page.waitForSelector("#chart path.line", { timeout: 120_000 });
        const fetched = server.bytesSent() - before;
        console.log(`P3b one <runstore-chart> from the ${label} file over HTTP: ${mb(fetched)} (${fetched} bytes) fetched (${(fetched / f.size * 100).toFixed(2)}% of the file); target ≤ 2 MB`);
        await close();
      }
    }
  }
} finally {
  await browser.close();
  server.close();
}
