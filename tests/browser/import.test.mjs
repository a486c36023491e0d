// What `runstore import` writes opens in the page as the tools show it: the MLflow fixture's
// runs, curves and model registry; the TensorBoard fixture's runs and scalars.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir, homedir } from "node:os";
import { join } from "node:path";
import { serve, launchBrowser, newPage, root, artifacts } from "./harness.mjs";

const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache/runstore/target");
const runstore = process.env.RUNSTORE_BIN ?? join(target, "debug/runstore");

let dir, server, browser;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "runstore-import-"));
  const fixtures = join(root, "tests/fixtures");
  execFileSync(runstore, ["import", "mlflow", join(fixtures, "mlflow/mlruns"), "-o", "from-mlflow.db"], { cwd: dir, stdio: "ignore" });
  execFileSync(runstore, ["import", "tensorboard", join(fixtures, "tensorboard/logs"), "-o", "from-tensorboard.db"], { cwd: dir, stdio: "ignore" });
  server = await serve({ fixtures: dir });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** The runs table's rows as text, once listed. */
async function runRows(page) {
  await page.waitForSelector("#runs tbody tr[data-run]");
  return page.$$eval("#runs tbody tr[data-run]", (trs) => trs.map((tr) => tr.textContent));
}

/** Every panel scrolled into view and drawn: key → number of lines. */
async function drawnPanels(page, count) {
  await page.waitForSelector("#panels .panel");
  await page.$eval("#workspace-view", (w) => w.scrollIntoView());
  await page.waitForFunction((n) => document.querySelectorAll("#panels .panel.drawn").length === n, count);
  return page.$$eval("#panels .panel", (ps) => Object.fromEntries(ps.map((p) => [p.dataset.key, p.querySelectorAll("path.line").length])));
}

test("an imported MLflow store shows its runs, one panel per metric with a line per run, and its models", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/?db=/fixtures/from-mlflow.db`);
  const rows = await runRows(page);
  assert.equal(rows.length, 4, "the deleted run is left out");
  for (const name of ["lr=0.1", "lr=0.01", "crashes", "still going"]) {
    assert.ok(rows.some((r) => r.includes(name)), `${name} in ${rows}`);
  }
  // As MLflow's UI charts them: train/loss and val/acc for the two sweep runs, loss for one.
  assert.deepEqual(await drawnPanels(page, 3), { loss: 1, "train/loss": 2, "val/acc": 2 });
  await page.screenshot({ path: join(artifacts, "import-mlflow.png"), fullPage: true });
  await page.click('#tabs button[data-view="models"]');
  await page.click("#view table.data tbody tr.clickable");
  await page.waitForSelector("#model-versions table");
  const versions = await page.$$eval("#model-versions table tbody tr", (trs) => trs.map((tr) => tr.textContent));
  assert.equal(versions.length, 2, "the deleted version is left out");
  assert.ok(versions.some((v) => v.includes("lr=0.1")) && versions.some((v) => v.includes("lr=0.01")), `made by the runs: ${versions}`);
  assert.deepEqual(problems, []);
  await close();
});

test("imported TensorBoard logs show a run per folder and a panel per scalar tag", async () => {
  const { page, problems, close } = await newPage(browser);
  await page.goto(`${server.url}/?db=/fixtures/from-tensorboard.db`);
  const rows = await runRows(page);
  assert.equal(rows.length, 2);
  assert.ok(rows.some((r) => r.includes("sweep/lr=0.01")) && rows.some((r) => r.includes("lr=0.1")), `${rows}`);
  assert.deepEqual(await drawnPanels(page, 3), { lr: 1, "train/loss": 2, "val/acc": 1 });
  await page.screenshot({ path: join(artifacts, "import-tensorboard.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await close();
});
