// Shared by the browser tests: a static file server for www/ and the fixtures on 127.0.0.1,
// and Debian's headless Chromium driven by playwright-core.
import { createServer } from "node:http";
import { mkdir, stat } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { extname, join, normalize, resolve } from "node:path";
import { chromium } from "playwright-core";

export const root = resolve(import.meta.dirname, "../..");
const types = {
  ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
  ".wasm": "application/wasm", ".json": "application/json", ".db": "application/octet-stream",
};

/**
 * Serves www/ at /, `fixtures` (default tests/fixtures/) at /fixtures/, and bench/ and
 * node_modules/ for the benchmarks, on a free loopback port; answers range requests unless
 * `ranges` is false. `bytesSent()` counts the body bytes of /fixtures/ files served so far.
 */
export async function serve({ ranges = true, fixtures = join(root, "tests/fixtures") } = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const mounts = [["/fixtures/", fixtures], ["/bench/", join(root, "bench")], ["/node_modules/", join(root, "node_modules")]];
    const mount = mounts.find(([prefix]) => path.startsWith(prefix));
    const [base, rel] = mount ? [mount[1], path.slice(mount[0].length)]
      : [join(root, "www"), path === "/" ? "index.html" : path.slice(1)];
    const file = normalize(join(base, rel));
    if (!file.startsWith(base)) return res.writeHead(403).end();
    let size;
    try {
      size = (await stat(file)).size;
    } catch {
      return res.writeHead(404).end();
    }
    const type = types[extname(file)] ?? "application/octet-stream";
    // Range requests, as static hosts answer them: the worker reads big files in slices.
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    let [first, last, status] = [0, size - 1, 200];
    const headers = { "content-type": type, "accept-ranges": "bytes" };
    if (range && server.ranges) {
      first = Number(range[1]);
      last = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
      if (first >= size) return res.writeHead(416, { "content-range": `bytes */${size}` }).end();
      status = 206;
      headers["content-range"] = `bytes ${first}-${last}/${size}`;
    }
    headers["content-length"] = size ? last - first + 1 : 0;
    res.writeHead(status, headers);
    if (req.method === "HEAD" || size === 0) return res.end();
    if (mount?.[0] === "/fixtures/") server.bytesSent += last - first + 1;
    createReadStream(file, { start: first, end: last }).pipe(res);
  });
  server.ranges = ranges;
  server.bytesSent = 0;
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close(), bytesSent: () => server.bytesSent };
}

/** Where screenshots go: printed so CI can keep them as artifacts. */
export const artifacts = process.env.RUNSTORE_TEST_ARTIFACTS ?? join(root, "test-artifacts");

/** Starts headless Chromium with the flags this machine needs. */
export async function launchBrowser() {
  await mkdir(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // playwright gives every launch a fresh, empty profile directory.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A fresh page (own context; `contextOptions` such as a phone's viewport) that collects console errors, page errors and dialogs. */
export async function newPage(browser, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...contextOptions });
  const page = await context.newPage();
  const problems = [];
  const dialogs = [];
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
  return { page, problems, dialogs, close: () => context.close() };
}

/** Starts Chromium and opens one page (for scripts that need just one). */
export async function launch() {
  const browser = await launchBrowser();
  return { browser, ...(await newPage(browser)) };
}
