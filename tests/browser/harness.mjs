// Shared by the browser tests: a static file server for www/ and the fixtures on 127.0.0.1,
// and Debian's headless Chromium driven by playwright-core.
import { createServer } from "node:http";
import { readFile, mkdir } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { chromium } from "playwright-core";

export const root = resolve(import.meta.dirname, "../..");
const types = {
  ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
  ".wasm": "application/wasm", ".json": "application/json", ".db": "application/octet-stream",
};

/**
 * Serves www/ at / and tests/fixtures/ at /fixtures/, on a free loopback port; answers range
 * requests unless `ranges` is false. `bytesSent()` counts the body bytes served so far.
 */
export async function serve({ ranges = true, fixtures = join(root, "tests/fixtures") } = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const [base, rel] = path.startsWith("/fixtures/")
      ? [fixtures, path.slice("/fixtures/".length)]
      : [join(root, "www"), path === "/" ? "index.html" : path.slice(1)];
    const file = normalize(join(base, rel));
    if (!file.startsWith(base)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      const type = types[extname(file)] ?? "application/octet-stream";
      // Range requests, as static hosts answer them: the worker reads big files in slices.
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
      if (range && server.ranges) {
        const first = Number(range[1]), last = Math.min(range[2] ? Number(range[2]) : body.length - 1, body.length - 1);
        if (first >= body.length) return res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        server.bytesSent += last - first + 1;
        return res.writeHead(206, { "content-type": type, "content-range": `bytes ${first}-${last}/${body.length}`, "accept-ranges": "bytes" })
          .end(body.subarray(first, last + 1));
      }
      server.bytesSent += body.length;
      res.writeHead(200, { "content-type": type, "content-length": body.length }).end(req.method === "HEAD" ? undefined : body);
    } catch {
      res.writeHead(404).end();
    }
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

/** A fresh page (own context) that collects console errors, page errors and dialogs. */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
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
