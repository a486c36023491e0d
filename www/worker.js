// The runstore worker: all SQLite and analysis work runs here, off the page's thread.
// Files are read lazily: a dropped File through FileReaderSync over file.slice() (so files over
// 2 GiB open), a URL through synchronous range requests; only the pages a query needs are read.
// Protocol: {id, op, args} in; {id, result} or {id, error: {name, message}} out.
/* global wasm_bindgen, FileReaderSync */
"use strict";

if (typeof wasm_bindgen === "undefined") importScripts("pkg/runstore_web.js");

const { RunStore, Database } = wasm_bindgen;
const opened = new Map(); // key -> {name, store?, db}
let ready = null;

/** `read(offset, length)` over a File, synchronously. */
function fileReader(file) {
  const reader = new FileReaderSync();
  return (offset, length) => new Uint8Array(reader.readAsArrayBuffer(file.slice(offset, offset + length)));
}

/** A synchronous range request; returns the XHR (status 206 when ranges are supported). */
function rangeRequest(url, first, last) {
  const xhr = new XMLHttpRequest();
  xhr.open("GET", url, false);
  xhr.responseType = "arraybuffer";
  xhr.setRequestHeader("Range", `bytes=${first}-${last}`);
  xhr.send();
  return xhr;
}

/**
 * `{size, read}` over a URL whose server answers range requests, or `{bytes}` (the whole file,
 * which the server sent instead) when it does not.
 */
function httpReader(url) {
  const probe = rangeRequest(url, 0, 0);
  if (probe.status === 200) return { bytes: new Uint8Array(probe.response) };
  const total = /\/(\d+)$/.exec(probe.getResponseHeader("Content-Range") ?? "");
  if (probe.status !== 206 || !total) throw new Error(`HTTP ${probe.status} fetching ${url}`);
  const read = (offset, length) => {
    const xhr = rangeRequest(url, offset, offset + length - 1);
    if (xhr.status !== 206) throw new Error(`HTTP ${xhr.status} reading bytes ${offset}+${length} of ${url}`);
    return new Uint8Array(xhr.response);
  };
  return { size: Number(total[1]), read };
}

/** Opens one file as a runstore store, or (for other SQLite files) only for the SQL console. */
function open({ key, name, file, url, bytes }) {
  if (opened.has(key)) return describe(key);
  let store = null, db = null, error = null;
  const attempt = (openStore, openPlain) => {
    try {
      store = openStore();
      db = store.sql();
    } catch (e) {
      // Not a runstore store; if it is SQLite at all, the SQL console can still read it.
      error = e.message;
      try {
        db = openPlain();
        db.exec("SELECT count(*) FROM sqlite_master");
      } catch {
        db = null;
      }
      if (!db) throw new Error(`not SQLite: ${name} is not an SQLite database (${e.message})`);
    }
  };
  if (file) {
    const read = fileReader(file);
    // A local file: reads cost per call, not per byte (RunStore.openSource's `local`).
    attempt(() => RunStore.openSource(file.size, read, true), () => Database.openSource(file.size, read, true));
  } else if (url) {
    const remote = httpReader(url);
    if (remote.bytes) attempt(() => RunStore.open(remote.bytes), () => new Database(remote.bytes));
    else attempt(() => RunStore.openSource(remote.size, remote.read), () => Database.openSource(remote.size, remote.read));
  } else {
    const whole = new Uint8Array(bytes);
    attempt(() => RunStore.open(whole), () => new Database(whole));
  }
  opened.set(key, { name, store, db, error });
  return describe(key);
}

function describe(key) {
  const { name, store, error } = opened.get(key);
  return {
    key, name,
    runstore: store !== null,
    // Why a SQLite file is open for the SQL console only.
    error,
    compatibility: store ? store.compatibility() : null,
  };
}

function entry(key) {
  const found = opened.get(key);
  if (!found) throw new Error(`no open file ${key}`);
  return found;
}

const ops = {
  init({ wasm }) {
    // Warm up: the browser compiles each wasm function when it first runs, so run the read
    // path once now rather than when the user's file arrives.
    ready ??= wasm_bindgen({ module_or_path: wasm ?? new URL("pkg/runstore_web_bg.wasm", self.location.href) })
      .then(() => {
        try {
          wasm_bindgen.warmUp();
        } catch (e) {
          console.warn(`runstore: warming up failed (${e.message}); files still open, only the first is slower`);
        }
      });
    return ready.then(() => true);
  },
  open,
  /** Calls a RunStore method, e.g. ("runs", [filter, sort, now]). */
  call({ key, method, args }) {
    const { store, error } = entry(key);
    if (!store) throw new Error(`${entry(key).name} is not a runstore file (${error}); only the SQL console can read it`);
    if (typeof store[method] !== "function" || method.startsWith("_") || method === "free") {
      throw new Error(`unknown method ${method}`);
    }
    return store[method](...(args ?? []));
  },
  /** The sql.js-compatible console: exec with a time budget. */
  sql({ key, sql, params, budgetMs }) {
    const { db } = entry(key);
    if (budgetMs) db.setTimeBudget(budgetMs);
    return db.exec(sql, params ?? null);
  },
  sourceStats({ key }) {
    return entry(key).db.sourceStats();
  },
  close({ key }) {
    const found = opened.get(key);
    opened.delete(key);
    found?.store?.free();
    found?.db?.free();
    return true;
  },
};

/** Typed-array buffers in a result, to transfer instead of copy. */
function buffers(value, out = []) {
  if (ArrayBuffer.isView(value)) out.push(value.buffer);
  else if (value && typeof value === "object") for (const v of Object.values(value)) buffers(v, out);
  return out;
}

// Requests run one at a time, in order, except that background ones (the rest of a long
// listing's summaries) wait while others are waiting: a chart asked for meanwhile is drawn
// next, not after every part.
const waiting = [];
let busy = false;

async function runNext() {
  if (busy || !waiting.length) return;
  busy = true;
  const next = waiting.findIndex((job) => !job.background);
  const { id, op, args, background } = waiting.splice(next === -1 ? 0 : next, 1)[0];
  try {
    if (op !== "init") await ready;
    const handler = ops[op];
    if (!handler) throw new Error(`unknown operation ${op}`);
    const result = await handler(args ?? {});
    self.postMessage({ id, result }, [...new Set(buffers(result))]);
  } catch (e) {
    self.postMessage({ id, error: { name: e?.name ?? "Error", message: e?.message ?? String(e) } });
  }
  busy = false;
  // Before a background job, let the messages that came meanwhile arrive, and be chosen first.
  if (background || (waiting.length && waiting.every((job) => job.background))) setTimeout(runNext, 0);
  else runNext();
}

self.onmessage = ({ data }) => {
  waiting.push(data);
  runNext();
};
