// The static page opens a .db file and shows what core reads from it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { serve, launch, root, artifacts } from "./harness.mjs";

const expected = JSON.parse(await readFile(join(root, "tests/fixtures/basic.expected.json"), "utf8"));
let server, browser, page, problems;

before(async () => {
  server = await serve();
  ({ browser, page, problems } = await launch());
  console.log(`screenshots: ${artifacts}`);
});
after(async () => {
  await browser?.close();
  server?.close();
});

test("the page opens the fixture and lists its runs as core does", async () => {
  await page.goto(server.url);
  await page.setInputFiles("#file", join(root, "tests/fixtures/basic.db"));
  await page.waitForSelector("#runs tbody tr");
  const rows = await page.$$eval("#runs tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => r[3]), expected.runs.map((r) => r.name));
  assert.ok(rows.every((r) => r[0] === "basic.db"), "each run is marked with its file");
  // A run whose heartbeat stopped long ago shows as crashed, the diverged one as failed.
  const state = Object.fromEntries(rows.map((r) => [r[3], r[4]]));
  assert.equal(state["stuck"], "crashed");
  assert.equal(state["lr=0.1 seed=1"], "failed");
  const stats = await page.$$eval("#stats dd", (dds) => dds.map((d) => d.textContent));
  assert.equal(stats[1], String(expected.stats.runs));
  await page.screenshot({ path: join(artifacts, "page-fixture.png"), fullPage: true });
  assert.deepEqual(problems, []);
});

test("hostile strings are shown as text and run nothing", async () => {
  // The fixture's experiment carries the tag "<script>alert(1)</script>"; nothing may execute.
  let dialogs = 0;
  page.on("dialog", (d) => { dialogs++; d.dismiss(); });
  await page.goto(server.url);
  await page.setInputFiles("#file", join(root, "tests/fixtures/basic.db"));
  await page.waitForSelector("#runs tbody tr");
  assert.equal(dialogs, 0);
  assert.equal(await page.$$eval("#runs script", (s) => s.length), 0);
});

test("a file that is not a runstore store gets a clear error", async () => {
  await page.goto(server.url);
  await page.setInputFiles("#file", { name: "notes.db", mimeType: "application/octet-stream", buffer: Buffer.from("hello, not sqlite") });
  await page.waitForSelector("#error:not([hidden])");
  const message = await page.textContent("#error");
  assert.match(message, /notes\.db: .*SQLite header/);
  await page.screenshot({ path: join(artifacts, "page-error.png") });
});

test("runstore serve hands the page its files through ?db=", async () => {
  const { spawn } = await import("node:child_process");
  const exe = join(process.env.CARGO_TARGET_DIR ?? join(root, "target"), "debug", "runstore");
  const child = spawn(exe, ["serve", "tests/fixtures/basic.db", "--port", "0", "--www", "www"], { cwd: root });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        const m = out.match(/open (http:\/\/\S+)/);
        if (m) resolve(m[1]);
      });
      child.on("exit", (code) => reject(new Error(`runstore serve exited (${code}): ${out}`)));
    });
    await page.goto(url);
    await page.waitForSelector("#runs tbody tr");
    const rows = await page.$$eval("#runs tbody tr", (trs) => trs.length);
    assert.equal(rows, expected.runs.length);
    await page.screenshot({ path: join(artifacts, "page-served.png") });
  } finally {
    child.kill();
  }
});
