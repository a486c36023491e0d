// The workspace: every metric of the open runs as a panel, sectioned by prefix, in one colour
// per run shared with the table; the key filter; hover shared across panels; showing and
// hiding runs; a panel opened as the detail chart; empty states; files that are not runstore
// files; the dark theme.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile, copyFile } from "node:fs/promises";
import { tmpdir, homedir } from "node:os";
import { join } from "node:path";
import { serve, launchBrowser, newPage, root, artifacts } from "./harness.mjs";

const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache/runstore/target");
const runstore = process.env.RUNSTORE_BIN ?? join(target, "debug/runstore");
// native/examples/generate.rs, built by the native tests.
const generate = join(target, "debug/examples/generate");

let dir, server, browser;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "runstore-workspace-"));
  await copyFile(join(root, "tests/fixtures/basic.db"), join(dir, "basic.db"));
  // A runstore file with one run and nothing logged: the empty states.
  if (existsSync(runstore)) {
    execFileSync(runstore, ["record", "--db", "bare.db", "--no-monitor", "--no-capture-output", "--", "true"], { cwd: dir });
  }
  // An SQLite file of another application, and a file that is not SQLite at all.
  execFileSync("python3", ["-c", "import sqlite3; c = sqlite3.connect('other.db'); c.execute('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)'); c.commit()"], { cwd: dir });
  await writeFile(join(dir, "notes.txt"), "this is not a database\n".repeat(200));
  if (existsSync(generate)) {
    execFileSync(generate, ["many.db", "60k", "--runs", "10000", "--series", "3"], { cwd: dir, stdio: "ignore" });
  }
  server = await serve({ fixtures: dir });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** Scrolls the panels into view (they draw as they appear) and waits for both to be drawn. */
async function showPanels(page) {
  await page.waitForSelector("#panels .panel");
  await page.$eval("#workspace-view", (w) => w.scrollIntoView());
  await page.waitForFunction(() => document.querySelectorAll("#panels .panel.drawn").length === 2);
}

const panelKeys = (page) => page.$$eval("#panels .panel", (ps) => ps.map((p) => p.dataset.key));

test("every metric is a panel, sectioned by prefix, in each run's colour from the table", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/?db=/fixtures/basic.db`);
  await showPanels(page);
  assert.deepEqual(await panelKeys(page), ["train/loss", "val/accuracy"]);
  assert.deepEqual(await page.$$eval("#panels .panel-section", (ss) => ss.map((s) => s.dataset.section)), ["train/", "val/"]);
  // One colour per run: every line of every panel has its run's swatch colour in the table.
  const mismatches = await page.evaluate(() => {
    const swatch = (id) => getComputedStyle(document.querySelector(`#runs tr[data-run="${id}"] .swatch`)).backgroundColor;
    const paths = [...document.querySelectorAll("#panels path.line[data-run]"), ...document.querySelectorAll("#chart path.line[data-run]")];
    return { count: paths.length, wrong: paths.filter((p) => getComputedStyle(p).stroke !== swatch(p.dataset.run)).map((p) => p.dataset.run) };
  });
  assert.ok(mismatches.count >= 10, `lines drawn: ${mismatches.count}`);
  assert.deepEqual(mismatches.wrong, []);
  const colours = await page.$$eval("#runs tbody .swatch", (ss) => new Set(ss.map((s) => getComputedStyle(s).backgroundColor)).size);
  assert.equal(colours, 5, "five runs, five colours");
  await page.screenshot({ path: join(artifacts, "workspace.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await close();
});

test("the key filter, hover shared by every panel, hiding runs, and a panel opened as the detail chart", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/?db=/fixtures/basic.db`);
  await showPanels(page);

  await page.hover("#panels .panel[data-key='train/loss'] .overlay");
  assert.equal(await page.getAttribute("#panels .panel[data-key='val/accuracy'] .rule", "visibility"), "visible",
    "hovering one panel shows the same step on the other");
  await page.mouse.move(0, 0);
  assert.equal(await page.getAttribute("#panels .panel[data-key='val/accuracy'] .rule", "visibility"), "hidden");

  await page.fill("#key-filter", "loss$");
  await page.waitForFunction(() => document.querySelectorAll("#panels .panel").length === 1);
  assert.deepEqual(await panelKeys(page), ["train/loss"]);
  assert.match(page.url(), /keys=loss/, "the filter is in the link");
  await page.fill("#key-filter", "(");
  await page.waitForSelector("#key-filter-error:not([hidden])");
  assert.match(await page.textContent("#key-filter-error"), /not a regular expression/);
  await page.fill("#key-filter", "nothing-like-this");
  await page.waitForSelector("text=No metric matches /nothing-like-this/.");
  await page.fill("#key-filter", "");
  await showPanels(page);

  // Showing one run (one click on its box) leaves only its lines in every panel.
  const every = await page.$$eval("#panels .panel.drawn path.line", (ps) => ps.length);
  const first = await page.getAttribute("#runs tbody tr:first-child", "data-run");
  await page.check("#runs tbody tr:first-child input[type=checkbox]");
  await page.$eval("#workspace-view", (w) => w.scrollIntoView());
  await page.waitForFunction((id) => {
    const paths = [...document.querySelectorAll("#panels .panel.drawn path.line")];
    return document.querySelectorAll("#panels .panel.drawn").length === 2 && paths.length === 2 && paths.every((p) => p.dataset.run === id);
  }, first);
  await page.uncheck("#runs tbody tr:first-child input[type=checkbox]");
  await page.$eval("#workspace-view", (w) => w.scrollIntoView());
  await page.waitForFunction((n) => document.querySelectorAll("#panels .panel.drawn").length === 2
    && document.querySelectorAll("#panels .panel.drawn path.line").length === n, every);

  // The run view shows the run's experiment too: its description and tags.
  await page.click("#runs tbody tr:first-child a.run-link");
  await page.waitForSelector("text=Experiment sweep");
  assert.match(await page.textContent("#view .experiment-tags"), /team\s*<script>alert\(1\)<\/script>/);
  // ... and its trial, with the trial's artifacts (none in the fixture).
  const trial = await page.$$eval("section.card", (cards) => cards.find((c) => c.querySelector("h3")?.textContent.startsWith("Trial "))?.textContent);
  assert.match(trial ?? "", /^Trial lr=0\.1.*2 runs.*Artifactsnone$/s, trial);
  await page.click('#tabs button[data-view="runs"]');
  await showPanels(page);

  await page.click("#panels .panel[data-key='val/accuracy'] .panel-title");
  await page.waitForFunction(() => document.querySelector("#metric")?.value === "val/accuracy");
  assert.match(await page.textContent("#chart svg .title"), /val\/accuracy/);
  assert.deepEqual(problems, []);
  await close();
});

test("empty states say what is missing and how to record it",
  { skip: !existsSync(runstore) && `no runstore binary at ${runstore}` }, async () => {
    const { page, problems, close } = await newPage(browser);
    await page.goto(`${server.url}/?db=/fixtures/bare.db`);
    await page.waitForSelector("#runs tbody tr");
    assert.match(await page.textContent("#workspace-view"), /no metrics yet.*RUNSTORE_SINK/s);
    await page.click('#tabs button[data-view="system"]');
    await page.waitForSelector("text=No resource samples in this file");
    assert.equal(await page.$$eval("#view svg.chart", (s) => s.length), 0, "no empty chart frame");
    await page.click('#tabs button[data-view="models"]');
    await page.waitForSelector("text=No models registered");
    assert.deepEqual(problems, []);
    await close();
  });

test("a dropped file that is not a runstore file says what it is", async () => {
  const { page, close } = await newPage(browser);
  await page.goto(`${server.url}/`);
  await page.setInputFiles("#file", [join(dir, "other.db"), join(dir, "notes.txt")]);
  await page.waitForSelector("#error:not([hidden])");
  assert.match(await page.textContent("#error"), /notes\.txt: not SQLite/);
  await page.waitForSelector("#files tbody tr");
  assert.match(await page.textContent("#files"), /other\.db.*an SQLite file without runstore's tables.*the SQL console can read it/s);
  await close();
});

test("the dark theme follows the system setting", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${server.url}/?db=/fixtures/basic.db`);
  await showPanels(page);
  const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  assert.equal(background, "rgb(20, 23, 28)");
  await page.screenshot({ path: join(artifacts, "workspace-dark.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await close();
});

test("a 10,000-run file opens with only the rows in view laid out, sorts, and scrolls to its end",
  { skip: !existsSync(generate) && `no generator at ${generate} (cargo test -p runstore builds it)` }, async () => {
    const { page, problems, close } = await newPage(browser);
    await page.goto(`${server.url}/?db=/fixtures/many.db`);
    await page.waitForFunction(() => /^10000 runs/.test(document.querySelector("#run-count")?.textContent ?? ""));
    await page.waitForFunction(() => document.querySelectorAll("#runs tbody tr:not(.spacer)").length > 5);
    const laidOut = await page.$$eval("#runs tbody tr:not(.spacer)", (trs) => trs.length);
    assert.ok(laidOut < 200, `rows in the page: ${laidOut}`);
    // Sort by a metric: the first row is the smallest value of all 10,000.
    const column = "metrics.train/loss.last";
    await page.click("details.columns summary");
    await page.fill("#column-search", "train/loss.last");
    assert.equal(await page.$$eval("details.columns label:not([hidden])", (ls) => ls.length), 1, "the picker finds the column");
    await page.click("details.columns summary");
    const header = `#runs th[data-column="${column}"]`;
    const started = Date.now();
    await page.click(header);
    await page.waitForSelector(`${header}[aria-sort="ascending"]`);
    const sortMs = Date.now() - started;
    const columns = await page.$$eval("#runs thead th", (ths) => ths.map((th) => th.dataset.column ?? ""));
    const firstValue = await page.$eval("#runs tbody tr:not(.spacer)", (tr, i) => Number(tr.cells[i].textContent), columns.indexOf(column));
    assert.ok(Number.isFinite(firstValue), `a value: ${firstValue}`);
    // Scrolled to the end, the last rows are drawn and hold the largest values.
    await page.$eval("#runs-view .scroll", (s) => { s.scrollTop = s.scrollHeight; });
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("#runs tbody tr:not(.spacer)")];
      const scroller = document.querySelector("#runs-view .scroll");
      const last = rows.at(-1)?.getBoundingClientRect();
      return last && last.bottom <= scroller.getBoundingClientRect().bottom + 2;
    });
    const lastValue = await page.$$eval("#runs tbody tr:not(.spacer)", (trs, i) => Number(trs.at(-1).cells[i].textContent), columns.indexOf(column));
    assert.ok(lastValue >= firstValue, `${lastValue} >= ${firstValue}`);
    await page.screenshot({ path: join(artifacts, "workspace-10000-runs.png") });
    console.log(`10,000 runs: sorted in ${sortMs} ms (click to sorted header, whole view re-rendered)`);
    assert.deepEqual(problems, []);
    await close();
  });

test("in a 10,000-run file, runs past the first screen get their summaries in the background, the run view too",
  { skip: !existsSync(generate) && `no generator at ${generate} (cargo test -p runstore builds it)` }, async () => {
    const { page, problems, close } = await newPage(browser);
    await page.goto(`${server.url}/?db=/fixtures/many.db`);
    await page.waitForFunction(() => /^10000 runs/.test(document.querySelector("#run-count")?.textContent ?? ""));
    // The first screen's runs come with the listing: the first row has its values at once.
    const column = "metrics.train/loss.last";
    const columns = await page.$$eval("#runs thead th", (ths) => ths.map((th) => th.dataset.column ?? ""));
    const at = columns.indexOf(column);
    assert.ok(at > 0, `columns: ${columns}`);
    assert.ok(Number.isFinite(await page.$eval("#runs tbody tr:not(.spacer)", (tr, i) => Number(tr.cells[i].textContent), at)));
    await page.waitForFunction(() => performance.getEntriesByName("runstore:summarised").length > 0, null, { timeout: 120_000 });
    // Selecting every run charts the first 100 of them, and says so.
    await page.click("#runs thead input[type=checkbox]");
    await page.waitForFunction(() => /the first 100 of 10000 selected/.test(document.querySelector("#chart-caption")?.textContent ?? ""), null, { timeout: 60_000 });
    assert.equal(await page.$$eval("#chart path.line[data-run]", (ps) => new Set(ps.map((p) => p.dataset.run)).size), 100);
    await page.click("#runs thead input[type=checkbox]");
    await page.waitForFunction(() => /10000 runs, 0 selected/.test(document.querySelector("#run-count")?.textContent ?? ""));
    // Unsorted, the last run is the last listed: read in the last part.
    await page.$eval("#runs-view .scroll", (s) => { s.scrollTop = s.scrollHeight; });
    await page.waitForFunction((i) => {
      const last = [...document.querySelectorAll("#runs tbody tr:not(.spacer)")].at(-1);
      return last?.querySelector(".run-link")?.textContent === "run-9999" && Number.isFinite(Number(last.cells[i].textContent));
    }, at);
    const id = await page.$$eval("#runs tbody tr:not(.spacer)", (trs) => trs.at(-1).dataset.run);
    await page.$$eval("#runs tbody tr:not(.spacer) .run-link", (links) => links.at(-1).click());
    await page.waitForSelector("h2:has-text('Run run-9999')");
    const keys = await page.$$eval("section.card", (cards) => {
      const metrics = cards.find((c) => c.querySelector("h3")?.textContent === "Metrics");
      return [...metrics.querySelectorAll("tbody tr")].map((tr) => tr.cells[0].textContent);
    });
    assert.equal(keys.length, 3, `metrics of the last run: ${keys}`);
    // A link selecting that run: the chart draws it once its summaries are read.
    await page.goto(`${server.url}/?db=/fixtures/many.db&sel=${id}`);
    await page.waitForSelector(`#chart path.line[data-run="${id}"]`, { timeout: 120_000 });
    assert.deepEqual(problems, []);
    await close();
  });

test("on a phone-width screen the page does not scroll sideways and the charts fit", async () => {
  const { page, problems, close } = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto(`${server.url}/?db=/fixtures/basic.db`);
  await page.waitForSelector("#chart path.line");
  await showPanels(page);
  const layout = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    chart: document.querySelector("#chart svg").getBoundingClientRect().right,
    panels: [...document.querySelectorAll("#panels .panel")].map((p) => p.getBoundingClientRect().right),
  }));
  assert.equal(layout.page, 390, "no sideways scroll of the page");
  assert.ok(layout.chart <= 390 && layout.panels.every((r) => r <= 390), JSON.stringify(layout));
  await page.screenshot({ path: join(artifacts, "workspace-phone.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await close();
});

test("every control is reachable by keyboard: tabs, sorting, panels, brushing", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/?db=/fixtures/basic.db`);
  await page.waitForSelector("#runs tbody tr");
  // A column header sorts with Enter.
  await page.focus('#runs th[data-column="run"]');
  await page.keyboard.press("Enter");
  await page.waitForSelector('#runs th[data-column="run"][aria-sort="ascending"]');
  // A panel's title is a button: Enter opens it as the detail chart.
  await showPanels(page);
  await page.focus("#panels .panel[data-key='val/accuracy'] .panel-title");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector("#metric")?.value === "val/accuracy");
  // The tabs are buttons; an axis of the parallel coordinates brushes with the arrow keys.
  await page.focus('#tabs button[data-view="params"]');
  await page.keyboard.press("Enter");
  await page.waitForSelector("#parallel g.axis");
  await page.focus('#parallel g[data-column="params.lr"] .axis-strip');
  for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowUp");
  await page.waitForFunction(() => /^2 of 5 runs inside the brushes/.test(document.querySelector("#hp-caption").textContent));
  await page.focus('#parallel g[data-column="params.lr"] .axis-strip');
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => /^5 runs\./.test(document.querySelector("#hp-caption").textContent));
  assert.deepEqual(problems, []);
  await close();
});

test("parallel coordinates: brushing an axis makes the runs inside it the selection; the scatter draws every run", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/?db=/fixtures/basic.db&view=params`);
  await page.waitForSelector("#parallel g.axis");
  const axes = await page.$$eval("#parallel g.axis", (gs) => gs.map((g) => g.dataset.column));
  assert.deepEqual(axes, ["params.lr", "params.seed", "metrics.train/loss.min"]);
  assert.match(await page.textContent("#hp-caption"), /^5 runs\./);
  assert.equal(await page.getAttribute("#scatter-points", "data-points"), "4", "every run with the param and the metric");
  // Drag along the top third of the lr axis: lr = 0.1, two runs.
  const strip = await page.locator('#parallel g[data-column="params.lr"] .axis-strip').boundingBox();
  const cx = strip.x + strip.width / 2;
  await page.mouse.move(cx, strip.y + 1);
  await page.mouse.down();
  await page.mouse.move(cx, strip.y + strip.height * 0.3, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => /^2 of 5 runs inside the brushes/.test(document.querySelector("#hp-caption").textContent));
  assert.equal(new URL(page.url()).searchParams.get("sel").split(",").length, 2, "the brushed runs are the selection");
  await page.screenshot({ path: join(artifacts, "parallel-coordinates.png"), fullPage: true });
  await page.click('#tabs button[data-view="runs"]');
  await page.waitForFunction(() => /5 runs, 2 selected/.test(document.querySelector("#run-count")?.textContent ?? ""));
  const shown = await page.$$eval("#runs tbody tr.selected td:nth-child(5)", (tds) => tds.map((td) => td.textContent));
  assert.ok(shown.every((name) => /lr=0\.1 /.test(name)), `${shown}`);
  await page.click('#tabs button[data-view="params"]');
  await page.dblclick('#parallel g[data-column="params.lr"] .axis-strip');
  await page.waitForFunction(() => /^5 runs\./.test(document.querySelector("#hp-caption").textContent));
  assert.deepEqual(problems, []);
  await close();
});
