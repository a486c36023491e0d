// A program recorded with `runstore record` (the README's train.py, writing JSON lines to
// RUNSTORE_SINK) opens in the page: its curve, its output, and its process's resources.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir, homedir } from "node:os";
import { join } from "node:path";
import { serve, launchBrowser, newPage, root, artifacts } from "./harness.mjs";

const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache/runstore/target");
const runstore = process.env.RUNSTORE_BIN ?? join(target, "debug/runstore");
const hasBinary = existsSync(runstore);

let dir, server, browser;

before(async () => {
  if (!hasBinary) return;
  dir = await mkdtemp(join(tmpdir(), "runstore-record-"));
  const readme = await readFile(join(root, "README.md"), "utf8");
  const program = /e\.g\. `train\.py`:\s*```python\n([\s\S]*?)```/.exec(readme)[1].replace(/^ {3}/gm, "");
  await writeFile(join(dir, "train.py"), program);
  execFileSync(runstore, ["record", "--db", "runs.db", "--monitor-interval", "0.1", "--", "python3", "train.py"],
    { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  server = await serve({ fixtures: dir });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.close();
});

test("the README's `runstore record -- python train.py` run shows its curve, output and resources",
  { skip: !hasBinary && `no runstore binary at ${runstore} (cargo build -p runstore-cli)` }, async () => {
    const { page, problems, close } = await newPage(browser);
    await page.goto(`${server.url}/?db=/fixtures/runs.db&metric=train/loss`);
    await page.waitForFunction(() => document.querySelectorAll("#runs tbody tr").length === 1);
    const row = await page.textContent("#runs tbody tr");
    assert.match(row, /python3/, "the run is named after the program");
    assert.match(row, /completed/);
    await page.check("#runs tbody input[type=checkbox]");
    await page.waitForFunction(() => /^1 runs? selected/.test(document.querySelector("#chart-caption")?.textContent ?? ""));
    assert.ok(await page.$$eval("#chart svg path, #chart canvas", (els) => els.length) > 0, "the loss curve is drawn");

    await page.click("#runs tbody tr:first-child a.run-link");
    await page.waitForSelector("details.output pre.output-stdout");
    const stdout = await page.textContent("pre.output-stdout");
    assert.match(stdout, /^step 0 loss=1\.0000\nstep 10 loss=0\.7165\n/, "the program's output, in the page");
    assert.match(await page.textContent("#view"), /Results\s*final_loss/, "the results the program sent");
    assert.match(await page.textContent("#view"), /python_executable/, "the Python environment");
    await page.screenshot({ path: join(artifacts, "record-run.png"), fullPage: true });

    await page.click('#tabs button[data-view="system"]');
    await page.waitForSelector(".figure .legend");
    const legends = await page.$$eval(".figure .legend", (ls) => ls.map((l) => l.textContent));
    assert.ok(legends.some((l) => /python3 tree/.test(l)), `the process tree's CPU and memory per run: ${legends}`);
    await page.screenshot({ path: join(artifacts, "record-system.png"), fullPage: true });
    assert.deepEqual(problems, []);
    await close();
  });
