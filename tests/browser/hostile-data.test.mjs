// Files built to break the page, in real headless Chromium: keys named like JavaScript object
// internals (`__proto__`, `constructor`, `toString`), SQL console statements aimed at the
// connection the page itself queries, and a run with days of 1 Hz resource samples. Each file
// is made here from basic.db with sql.js, so the test needs no native build.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import initSqlJs from "sql.js";
import { serve, launchBrowser, newPage, root } from "./harness.mjs";

const expected = JSON.parse(await readFile(join(root, "tests/fixtures/basic.expected.json"), "utf8"));
const [first, second] = expected.runs;
let server, browser, dir, SQL;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "runstore-hostile-"));
  SQL = await initSqlJs();
  server = await serve({ fixtures: dir });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** basic.db changed by `edit(db)` (a sql.js Database), written as `name` in the served folder. */
async function variant(name, edit) {
  const db = new SQL.Database(await readFile(join(root, "tests/fixtures/basic.db")));
  db.run("BEGIN");
  edit(db);
  db.run("COMMIT");
  const path = join(dir, name);
  await writeFile(path, db.export());
  db.close();
  return path;
}

const tableRows = (page, selector = "#runs tbody tr") =>
  page.$$eval(selector, (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));

const headers = (page) => page.$$eval("#runs thead th", (ths) => ths.map((th) => th.dataset.column ?? ""));

/** The error shown in the view, if any. */
const viewError = (page) => page.$eval("#view", (v) => v.querySelector(".error")?.textContent ?? null);

test("params and tags named __proto__, constructor and toString are ordinary columns and values", async () => {
  await variant("proto-keys.db", (db) => {
    const param = db.prepare("INSERT OR REPLACE INTO params (owner_kind, owner_id, key, kind, value) VALUES ('run', ?, ?, ?, ?)");
    param.run([first.id, "__proto__", "json", JSON.stringify({ polluted: "yes" })]);
    param.run([first.id, "constructor", "string", "ctor-param"]);
    param.run([first.id, "toString", "string", "tostring-param"]);
    param.run([second.id, "__proto__", "json", JSON.stringify({ polluted: "also" })]);
    param.free();
    const tag = db.prepare("INSERT OR REPLACE INTO tags (owner_kind, owner_id, key, value) VALUES ('run', ?, ?, ?)");
    tag.run([first.id, "constructor", "ctor-tag"]);
    tag.run([first.id, "__proto__", "proto-tag"]);
    tag.free();
  });
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/?db=/fixtures/proto-keys.db`);
  await page.waitForSelector("#runs tbody tr, #view .error");
  assert.equal(await viewError(page), null);
  const polluted = () => page.evaluate(() => [({}).polluted, Object.prototype.polluted, typeof ({}).constructor]);
  assert.deepEqual(await polluted(), [undefined, undefined, "function"]);
  // Every such key is offered as a column, and params show by default.
  const offered = await page.$$eval("details.columns input[data-column]", (inputs) => inputs.map((i) => i.dataset.column));
  for (const c of ["params.__proto__", "params.constructor", "params.toString", "tags.constructor", "tags.__proto__"]) {
    assert.ok(offered.includes(c), `${c} offered in ${offered}`);
  }
  const columns = await headers(page);
  const rows = await tableRows(page);
  const cellOf = (name, run) => rows.find((r) => r[columns.indexOf("run")] === run)[columns.indexOf(name)];
  assert.equal(cellOf("params.__proto__", first.name), '{"polluted":"yes"}');
  assert.equal(cellOf("params.__proto__", second.name), '{"polluted":"also"}');
  assert.equal(cellOf("params.constructor", first.name), "ctor-param");
  assert.equal(cellOf("params.toString", first.name), "tostring-param");
  // A run without the key shows nothing, not Object.prototype's members.
  assert.equal(cellOf("params.constructor", second.name), "");
  assert.equal(cellOf("params.toString", second.name), "");
  // Sorting by such a column and grouping the chart by it work.
  await page.click('th[data-column="params.constructor"]');
  await page.waitForSelector('th[data-column="params.constructor"][aria-sort="ascending"]');
  assert.equal((await tableRows(page)).length, expected.runs.length);
  await page.selectOption("#group-by", "constructor");
  await page.waitForFunction(() => /groups by constructor/.test(document.querySelector("#chart-caption")?.textContent ?? ""));
  assert.match(await page.textContent("#chart"), /constructor=ctor-param/);
  await page.selectOption("#group-by", "");
  // The run's detail lists them as params and tags.
  await page.click(`#runs tbody tr[data-run="${first.id}"] a.run-link`);
  await page.waitForSelector("text=Environment");
  const detail = await page.$$eval("section.card", (cards) => Object.fromEntries(cards.map((c) =>
    [c.querySelector("h3").textContent, [...c.querySelectorAll("table.kv tr")].map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent])])));
  assert.deepEqual(detail.Params.filter(([k]) => ["__proto__", "constructor", "toString"].includes(k)),
    [["__proto__", '{"polluted":"yes"}'], ["constructor", "ctor-param"], ["toString", "tostring-param"]]);
  assert.deepEqual(detail.Tags.filter(([k]) => ["__proto__", "constructor"].includes(k)), [["__proto__", "proto-tag"], ["constructor", "ctor-tag"]]);
  // Compared, the differing param is named as it is.
  await page.click('#tabs button[data-view="runs"]');
  for (const id of [first.id, second.id]) await page.check(`#runs tbody tr[data-run="${id}"] input[type=checkbox]`);
  await page.click('#tabs button[data-view="compare"]');
  await page.waitForSelector("#compare-params");
  const differing = await page.$$eval("#compare-params tbody th", (ths) => ths.map((th) => th.textContent));
  assert.ok(differing.includes("__proto__") && differing.includes("constructor"), `${differing}`);
  assert.equal(await viewError(page), null);
  assert.deepEqual(await polluted(), [undefined, undefined, "function"]);
  assert.deepEqual(problems, []);
  await close();
});

test("SQL console statements cannot change the connection the page queries", async () => {
  await variant("console.db", () => {});
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/?db=/fixtures/console.db&view=sql`);
  await page.waitForSelector("#sql-input");
  const run = async (sql) => {
    await page.fill("#sql-input", sql);
    await page.click("#sql-run");
    await page.waitForFunction(() => !/running/.test(document.querySelector("#sql-results")?.textContent ?? "running"));
    return page.$eval("#sql-results", (r) => ({ error: r.querySelector(".error")?.textContent ?? null, rows: r.querySelectorAll("tbody tr").length }));
  };
  const refused = [];
  for (const sql of ["PRAGMA query_only = 0", "PRAGMA query_only(false)", "CREATE TEMP VIEW runs AS SELECT 1 AS id",
    "CREATE TEMP TABLE runs (id TEXT)", "ATTACH ':memory:' AS other", "PRAGMA query_only = 0; CREATE TEMP VIEW runs AS SELECT 1 AS id"]) {
    refused.push([sql, (await run(sql)).error]);
  }
  // Whatever the console accepted, the page's own queries still read the file's tables.
  const lr = expected.runs.filter((r) => r.params.lr === 0.01).length;
  await page.click('#tabs button[data-view="runs"]');
  await page.fill("#filter", "params.lr = 0.01");
  await page.press("#filter", "Enter");
  await page.waitForFunction((n) => document.querySelectorAll("#runs tbody tr").length === n || !document.querySelector("#filter-error").hidden, lr);
  assert.equal(await page.isHidden("#filter-error"), true, await page.textContent("#filter-error"));
  assert.equal((await tableRows(page)).length, lr);
  // And the console refused each statement, saying why.
  for (const [sql, error] of refused) assert.match(error ?? "accepted", /not allowed.*readonly/, sql);
  // Reading, and pragmas that read, still work.
  await page.click('#tabs button[data-view="sql"]');
  assert.equal((await run("SELECT name FROM runs")).rows, expected.runs.length);
  assert.ok((await run("SELECT name FROM pragma_table_info('runs')")).rows > 5);
  assert.deepEqual(await run("PRAGMA query_only"), { error: null, rows: 1 });
  assert.deepEqual(problems, []);
  await close();
});

test("the System view charts a run with 200,000 resource samples, reduced, with its extremes", async () => {
  const samples = 200_000;
  const path = await variant("long-run.db", (db) => {
    const insert = db.prepare("INSERT INTO resource_samples (run_id, time_ms, kind, name, value, unit) VALUES (?, ?, 'cpu', 'process_tree', ?, '%')");
    const t0 = 1_750_000_000_000;
    for (let i = 0; i < samples; i++) {
      // One spike to 100 % in a gentle wave: it must survive the reduction.
      insert.run([first.id, t0 + i * 1000, i === 123_457 ? 100 : 20 + 10 * Math.sin(i / 5000)]);
    }
    insert.free();
  });
  const { page, problems, close } = await newPage(browser);
  // Picked, so the worker reads it with FileReaderSync (faster here than range requests).
  await page.goto(`${server.url}/?view=system`);
  await page.setInputFiles("#file", path);
  await page.waitForSelector("#view svg.chart, #view .error");
  assert.equal(await viewError(page), null);
  const chart = await page.$$eval("#view svg.chart", (svgs) => {
    const svg = svgs.find((s) => s.querySelector("text.title")?.textContent.startsWith("cpu"));
    return {
      points: [...svg.querySelectorAll("path.line")].map((p) => (p.getAttribute("d").match(/[ML]/g) ?? []).length),
      yTicks: [...svg.querySelectorAll("g.axes text")].map((t) => Number(t.textContent)).filter(Number.isFinite),
    };
  });
  assert.ok(chart.points.length >= 1);
  assert.ok(chart.points.every((n) => n <= 2000), `points per line: ${chart.points}`);
  assert.ok(Math.max(...chart.yTicks) >= 100, `the spike sets the y range: ${chart.yTicks}`);
  assert.match(await page.textContent("#view"), /200000 samples; reduced/);
  assert.deepEqual(problems, []);
  await close();
});
