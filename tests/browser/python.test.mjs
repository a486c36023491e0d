// A file recorded from Python (the README's example, through the installed package) opens in
// the page with its runs, params and curves.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir, homedir } from "node:os";
import { join } from "node:path";
import { serve, launchBrowser, newPage, root, artifacts } from "./harness.mjs";

const venv = process.env.RUNSTORE_PYTHON_VENV ?? join(homedir(), ".cache/runstore/python-venv");
const python = join(venv, "bin/python");
const hasPackage = existsSync(python) &&
  (() => { try { execFileSync(python, ["-c", "import runstore"]); return true; } catch { return false; } })();

let dir, server, browser;

before(async () => {
  if (!hasPackage) return;
  dir = await mkdtemp(join(tmpdir(), "runstore-python-"));
  const readme = await readFile(join(root, "README.md"), "utf8");
  const example = /## Quick start \(Python\)[\s\S]*?```python\n([\s\S]*?)```/.exec(readme)[1];
  execFileSync(python, ["-c", example], { cwd: dir });
  server = await serve({ fixtures: dir });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.close();
});

test("the README's Python example opens in the page: its run, params and curve",
  { skip: !hasPackage && `the Python package is not installed in ${venv} (scripts/test installs it)` }, async () => {
    const { page, problems, close } = await newPage(browser);
    await page.goto(`${server.url}/?db=/fixtures/runs.db&metric=train/loss`);
    await page.waitForFunction(() => document.querySelectorAll("#runs tbody tr").length === 1);
    const headers = await page.$$eval("#runs thead th", (ths) => ths.map((th) => th.dataset.column ?? ""));
    const rows = await page.$$eval("#runs tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.equal(rows.length, 1);
    assert.ok(rows[0].includes("seed-0"), `the run's name in ${rows[0]}`);
    assert.equal(rows[0][headers.indexOf("params.lr")], "0.01");
    for (const box of await page.$$("#runs tbody input[type=checkbox]")) await box.check();
    await page.waitForFunction(() => /^1 runs? selected/.test(document.querySelector("#chart-caption")?.textContent ?? ""));
    assert.ok(await page.$$eval("#chart svg path, #chart canvas", (els) => els.length) > 0, "a curve is drawn");
    await page.screenshot({ path: join(artifacts, "python-example.png"), fullPage: true });
    assert.deepEqual(problems, []);
    await close();
  });
