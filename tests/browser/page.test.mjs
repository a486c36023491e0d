// The static page in real headless Chromium: opening files (drop, picker, URL), the runs table,
// filter, selection, charts (lines, bands, zoom), compare, run detail, models, the SQL console,
// URL view state, the embed example, the self-contained report, and hostile content.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, mkdtemp, copyFile, truncate } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { serve, launchBrowser, newPage, root, artifacts } from "./harness.mjs";

const expected = JSON.parse(await readFile(join(root, "tests/fixtures/basic.expected.json"), "utf8"));
const fixture = (name) => join(root, "tests/fixtures", name);
const runstore = join(process.env.CARGO_TARGET_DIR ?? join(root, "target"), "debug", "runstore");
let server, browser;

before(async () => {
  server = await serve();
  browser = await launchBrowser();
  console.log(`screenshots: ${artifacts}`);
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** Drops files on the drop zone with a real drop event carrying a DataTransfer. */
async function dropFiles(page, paths) {
  const files = await Promise.all(paths.map(async (p) => ({ name: basename(p), data: (await readFile(p)).toString("base64") })));
  const dataTransfer = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0))], f.name));
    return dt;
  }, files);
  await page.dispatchEvent("#drop", "drop", { dataTransfer });
}

const tableRows = (page, selector = "#runs tbody tr") =>
  page.$$eval(selector, (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));

/** Column index by header text in the runs table. */
async function column(page, name) {
  const headers = await page.$$eval("#runs thead th", (ths) => ths.map((th) => th.dataset.column ?? ""));
  return headers.indexOf(name);
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

test("dropped files list their runs together, as core reads them", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(server.url);
  await dropFiles(page, [fixture("basic.db"), fixture("hostile.db")]);
  await page.waitForFunction(() => document.querySelectorAll("#runs tbody tr").length === 13);
  const rows = await tableRows(page);
  const [file, run, state, lr] = await Promise.all(["file", "run", "state", "params.lr"].map((c) => column(page, c)));
  const basic = rows.filter((r) => r[file] === "basic.db");
  assert.deepEqual(basic.map((r) => r[run]), expected.runs.map((r) => r.name));
  assert.deepEqual(basic.map((r) => r[state]), expected.runs.map((r) => r.state));
  assert.deepEqual(basic.map((r) => r[lr]), expected.runs.map((r) => r.params.lr === undefined ? "" : String(r.params.lr)));
  assert.equal(rows.filter((r) => r[file] === "hostile.db").length, 8);
  // The files' counts arrive after the runs and the chart.
  await page.waitForFunction(() => [...document.querySelectorAll("#files tbody tr")].every((tr) => tr.cells[2].textContent !== ""));
  const files = await tableRows(page, "#files tbody tr");
  assert.deepEqual(files.map((f) => [f[0], f[2]]), [["basic.db", String(expected.stats.runs)], ["hostile.db", "8"]]);
  await shot(page, "two-files");
  assert.deepEqual(problems, []);
  await close();
});

test("filter, column picking, sort, selection and one chart line per selected run", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(server.url);
  await page.setInputFiles("#file", fixture("basic.db"));
  await page.waitForSelector("#runs tbody tr");
  // A bad filter says where it is wrong; a good one narrows the table.
  await page.fill("#filter", "params.lr = and");
  await page.press("#filter", "Enter");
  await page.waitForSelector("#filter-error:not([hidden])");
  assert.match(await page.textContent("#filter-error"), /column 13/);
  await page.fill("#filter", "params.lr = 0.01");
  await page.press("#filter", "Enter");
  await page.waitForFunction(() => document.querySelectorAll("#runs tbody tr").length === 2);
  assert.equal(await page.isHidden("#filter-error"), true);
  // Pick a metric summary column and sort by it.
  await page.click("details.columns summary");
  await page.check('input[data-column="metrics.train/loss.min"]');
  await page.click('th[data-column="run"]');
  await page.click('th[data-column="run"]');
  const names = (await tableRows(page)).map((r) => r[4]);
  assert.deepEqual(names, [...names].sort().reverse());
  assert.ok(await column(page, "metrics.train/loss.min") > 0);
  // Select both runs: the chart has one line per selected run.
  for (const box of await page.$$("#runs tbody input[type=checkbox]")) await box.check();
  await page.waitForFunction(() => document.querySelector("#chart-caption")?.textContent.startsWith("2 runs selected"));
  assert.equal(await page.$$eval("#chart path.line", (p) => p.length), 2);
  await shot(page, "filtered-selected");
  assert.deepEqual(problems, []);
  await close();
});

test("smoothing shows raw faintly, grouping draws bands, zoom fetches detail, hover reads values", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/?db=/fixtures/basic.db&metric=train/loss`);
  await page.waitForSelector("#chart path.line");
  await page.$eval("#smoothing", (s) => { s.value = "0.8"; s.dispatchEvent(new Event("input")); });
  await page.waitForSelector("#chart path.raw");
  assert.match(page.url(), /smooth=0\.8/);
  // Hover: the read-out shows exact values.
  const box = await page.$eval("#chart rect.overlay", (r) => { const b = r.getBoundingClientRect(); return { x: b.x, y: b.y, w: b.width, h: b.height }; });
  await page.mouse.move(box.x + box.w * 0.5, box.y + box.h * 0.5);
  await page.waitForSelector("#chart .readout:not([hidden])");
  assert.match(await page.textContent("#chart .readout"), /lr=0\.1 seed=0: \d+\.\d+ at \d+/);
  // Zoom: drag across the middle; the caption names the step range and lines are refetched.
  await page.mouse.move(box.x + box.w * 0.4, box.y + box.h / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.w * 0.45, box.y + box.h / 2, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => /steps \d+–\d+/.test(document.querySelector("#chart-caption")?.textContent ?? ""));
  const [from, to] = (await page.textContent("#chart-caption")).match(/steps (\d+)–(\d+)/).slice(1).map(Number);
  assert.ok(from > 200 && to < 400 && from < to, `${from}–${to}`);
  await shot(page, "zoomed");
  await page.click("#reset-zoom");
  // Group by lr: a band per group.
  await page.selectOption("#group-by", "lr");
  await page.waitForSelector("#chart path.band");
  assert.equal(await page.$$eval("#chart path.band", (p) => p.length), 2);
  assert.match(page.url(), /group=lr/);
  await shot(page, "grouped");
  assert.deepEqual(problems, []);
  await close();
});

test("the view state lives in the URL: a link reproduces the view", async () => {
  const { page, problems, close } = await newPage(browser);
  const run = expected.runs.find((r) => r.name === "lr=0.1 seed=0").id;
  await page.goto(`${server.url}/?db=/fixtures/basic.db&filter=params.lr%20%3D%200.1&sel=${run}&metric=val/accuracy&log=1`);
  await page.waitForSelector("#chart path.line");
  assert.equal(await page.inputValue("#filter"), "params.lr = 0.1");
  assert.equal((await tableRows(page)).length, 2);
  assert.equal(await page.$$eval("#runs tbody input:checked", (b) => b.length), 1);
  assert.equal(await page.inputValue("#metric"), "val/accuracy");
  assert.equal(await page.isChecked("#log-y"), true);
  assert.equal(await page.$$eval("#chart path.line", (p) => p.length), 1);
  assert.deepEqual(problems, []);
  await close();
});

test("compare, run detail, the model registry and the system overview", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/?db=/fixtures/basic.db`);
  await page.waitForSelector("#runs tbody tr");
  const boxes = await page.$$("#runs tbody input[type=checkbox]");
  await boxes[0].check();
  await boxes[1].check();
  await page.click('#tabs button[data-view="compare"]');
  await page.waitForSelector("#compare-params");
  assert.match(await page.textContent("#compare-params"), /lr/);
  assert.ok(await page.$("#compare-metrics td.best"), "the best run per metric is marked");
  await shot(page, "compare");
  await page.click('#tabs button[data-view="runs"]');
  await page.click("#runs tbody tr:first-child a.run-link");
  await page.waitForSelector("text=Artifacts (run, epochs and batches)");
  assert.match(await page.textContent("#view"), /file:\/\/\/cm\.png/);
  await page.click('#tabs button[data-view="models"]');
  await page.click("#view table.data tbody tr.clickable");
  await page.waitForSelector("#model-versions table");
  assert.match(await page.textContent("#model-versions"), /lr=0\.1 seed=0/);
  await shot(page, "models");
  // System: the collector's metrics overview counts the runs whose loss ended in NaN.
  await page.click('#tabs button[data-view="system"]');
  await page.waitForSelector("text=Metrics overview");
  const overview = await page.$$eval("section.card", (cards) => {
    const card = cards.find((c) => c.querySelector("h3")?.textContent === "Metrics overview");
    const columns = [...card.querySelectorAll("th")].map((th) => th.textContent);
    return [...card.querySelectorAll("tbody tr")].map((tr) => Object.fromEntries([...tr.cells].map((c, i) => [columns[i], c.textContent])));
  });
  const diverged = expected.runs.filter((r) => r.metrics.some((m) => m.key === "train/loss" && m.label === "" && m.last === "NaN")).length;
  assert.ok(diverged > 0);
  assert.equal(overview.find((m) => m.key === "train/loss").runs_ending_nan, String(diverged));
  await shot(page, "system");
  assert.deepEqual(problems, []);
  await close();
});

test("the SQL console answers like sql.js, refuses writes and interrupts runaway queries", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/?db=/fixtures/basic.db&view=sql`);
  await page.waitForSelector("#sql-input");
  await page.fill("#sql-input", "SELECT count(*) AS n FROM runs");
  await page.click("#sql-run");
  await page.waitForSelector("table.sql-result");
  assert.deepEqual(await tableRows(page, "table.sql-result tbody tr"), [[String(expected.stats.runs)]]);
  await page.fill("#sql-input", "DELETE FROM runs");
  await page.click("#sql-run");
  await page.waitForSelector("#sql-results .error");
  assert.match(await page.textContent("#sql-results .error"), /readonly/);
  await page.fill("#sql-budget", "300");
  await page.fill("#sql-input", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n");
  const started = Date.now();
  await page.click("#sql-run");
  await page.waitForSelector("#sql-results .error");
  assert.match(await page.textContent("#sql-results .error"), /interrupted.*300 ms/);
  assert.ok(Date.now() - started < 10_000);
  // The page stayed responsive: the worker did the waiting.
  await page.fill("#sql-input", "SELECT name FROM runs ORDER BY name LIMIT 1");
  await page.click("#sql-run");
  await page.waitForSelector("table.sql-result");
  await shot(page, "sql");
  assert.deepEqual(problems, []);
  await close();
});

test("a file over 2 GiB opens by reading slices, an older schema version opens, and bad files get clear errors", async () => {
  const { page, problems, close } = await newPage(browser);
  const dir = await mkdtemp(join(tmpdir(), "runstore-big-"));
  const big = join(dir, "big.db");
  await copyFile(fixture("basic.db"), big);
  // Sparse padding past the last page: SQLite trusts the page count in the header.
  await truncate(big, 2.5 * 2 ** 30);
  await page.goto(server.url);
  await page.setInputFiles("#file", big);
  await page.waitForSelector("#runs tbody tr");
  assert.equal((await tableRows(page)).length, expected.runs.length);
  // A file written by schema v1 opens (read-only, never migrated) and lists the same runs.
  await page.setInputFiles("#file", fixture("basic-v1.db"));
  await page.waitForFunction(() => document.querySelectorAll("#files tbody tr").length === 2);
  const files = await tableRows(page, "#files tbody tr");
  assert.deepEqual(files.map((f) => [f[0], f.at(-2)]), [["big.db", "v2"], ["basic-v1.db", "v1"]]);
  assert.equal((await tableRows(page)).length, 2 * expected.runs.length);
  await page.setInputFiles("#file", { name: "notes.db", mimeType: "application/octet-stream", buffer: Buffer.from("hello, not sqlite".repeat(20)) });
  await page.waitForSelector("#error:not([hidden])");
  assert.match(await page.textContent("#error"), /notes\.db: /);
  await shot(page, "big-and-bad");
  assert.deepEqual(problems, []);
  await close();
});

test("the embed example draws grouped and filtered charts with one worker", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/embed.html?db=/fixtures/basic.db`);
  await page.waitForSelector("#grouped path.band");
  await page.waitForSelector("#filtered path.line");
  assert.equal(await page.$$eval("#grouped path.band", (p) => p.length), 2);
  assert.equal(await page.$$eval("#filtered path.line", (p) => p.length), 2);
  assert.equal(page.workers().length, 1, "every chart shares one worker");
  await shot(page, "embed");
  assert.deepEqual(problems, []);
  await close();
});

test("runstore report writes one HTML file that opens from file:// with no network", async () => {
  const dir = await mkdtemp(join(tmpdir(), "runstore-report-"));
  const out = join(dir, "report.html");
  execFileSync(runstore, ["report", fixture("basic.db"), "-o", out, "--www", join(root, "www")]);
  const { page, problems, close } = await newPage(browser);
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(`file://${out}`);
  await page.waitForSelector("#chart path.line");
  assert.equal((await tableRows(page)).length, expected.runs.length);
  assert.deepEqual(requests.filter((u) => !u.startsWith("file://") && !u.startsWith("blob:") && !u.startsWith("data:")), []);
  await shot(page, "report");
  assert.deepEqual(problems, []);
  await close();
});

test("hostile strings everywhere are shown as text and run nothing", async () => {
  const { page, problems, dialogs, close } = await newPage(browser);
  await page.goto(server.url);
  await dropFiles(page, [fixture("hostile.db")]);
  await page.waitForSelector("#runs tbody tr");
  const inert = async (where) => {
    assert.equal(await page.evaluate(() => window.__pwned), undefined, `script ran (${where})`);
    assert.equal(await page.$$eval("main script, main img, main iframe, main [onload], main [onerror]", (n) => n.length), 0, where);
  };
  await inert("runs");
  // Keys named like object internals are columns like any other, and change no prototype.
  const headers = await page.$$eval("#runs thead th", (ths) => ths.map((th) => th.dataset.column ?? ""));
  for (const c of ["params.__proto__", "params.constructor", "params.toString", "params.\uFFFEparam\uFFFF"]) assert.ok(headers.includes(c), c);
  assert.equal(await page.evaluate(() => ({}).polluted), undefined);
  for (const box of await page.$$("#runs tbody input[type=checkbox]")) await box.check();
  await page.waitForSelector("#chart path.line");
  await inert("chart");
  for (const view of ["compare", "models", "system", "sql"]) {
    await page.click(`#tabs button[data-view="${view}"]`);
    await page.waitForTimeout(300);
    await inert(view);
  }
  await page.click("#sql-run");
  await page.waitForSelector("table.sql-result");
  await page.click('#tabs button[data-view="runs"]');
  await page.click("#runs tbody tr:first-child a.run-link");
  await page.waitForSelector("text=Environment");
  await inert("run detail");
  assert.match(await page.textContent("#view h2"), /<script>window\.__pwned = 1<\/script>/);
  assert.match(await page.textContent("#view"), /__proto__\{"polluted":/);
  assert.equal(await page.evaluate(() => ({}).polluted), undefined);
  await shot(page, "hostile");
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []);
  await close();
});

test("a report of the hostile file runs nothing and stays responsive", async () => {
  const dir = await mkdtemp(join(tmpdir(), "runstore-report-"));
  const out = join(dir, "hostile-report.html");
  execFileSync(runstore, ["report", fixture("hostile.db"), "-o", out, "--www", join(root, "www")]);
  const { page, problems, dialogs, close } = await newPage(browser);
  await page.goto(`file://${out}`);
  await page.waitForSelector("#runs tbody tr");
  assert.equal((await tableRows(page)).length, 8, "every run is listed (a 1 MiB tag, JSON nested 100,000 deep)");
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.evaluate(() => ({}).polluted), undefined);
  // Responsive: the page answers at once and a view switch renders.
  const started = Date.now();
  await page.click('#tabs button[data-view="compare"]');
  await page.click('#tabs button[data-view="runs"]');
  await page.waitForSelector("#runs tbody tr");
  assert.ok(Date.now() - started < 10_000, `view switches took ${Date.now() - started} ms`);
  await page.click("#runs tbody tr:first-child a.run-link");
  await page.waitForSelector("text=Environment");
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []);
  await close();
});

test("runstore serve hands the page its files through ?db=, read with range requests", async () => {
  const { spawn } = await import("node:child_process");
  // No --www, from another directory: the page is the one built into the binary.
  const child = spawn(runstore, ["serve", join(root, "tests/fixtures/basic.db"), "--port", "0"], { cwd: tmpdir() });
  const { page, problems, close } = await newPage(browser);
  try {
    const url = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        const m = out.match(/open (http:\/\/\S+)/);
        if (m) resolve(m[1]);
      });
      child.stderr.on("data", (d) => { out += d; });
      child.on("exit", (code) => reject(new Error(`runstore serve exited (${code}): ${out}`)));
    });
    await page.goto(url);
    await page.waitForSelector("#chart path.line");
    assert.equal((await tableRows(page)).length, expected.runs.length);
    await shot(page, "served");
    assert.deepEqual(problems, []);
  } finally {
    child.kill();
    await close();
  }
});
