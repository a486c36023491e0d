// Talks to the runstore worker: one worker per page, shared by the page and every
// <runstore-chart> on it, and one open copy per file (keyed by URL or by file identity).

/** Where the worker and the wasm come from; a self-contained report replaces these. */
function startWorker() {
  const inline = globalThis.runstoreInline;
  if (inline) {
    const url = URL.createObjectURL(new Blob([inline.workerSource], { type: "text/javascript" }));
    return { worker: new Worker(url), wasm: inline.wasm() };
  }
  const base = new URL(".", import.meta.url);
  return { worker: new Worker(new URL("worker.js", base)), wasm: new URL("pkg/runstore_web_bg.wasm", base).href };
}

/**
 * `value` with every plain object in it given a null prototype, in place. Keys come from the
 * user's files (a param named `__proto__`, a tag named `constructor`): with no prototype, they
 * are ordinary keys, and looking up a key an object lacks finds nothing instead of one of
 * Object.prototype's members. (The worker's objects arrive through structured cloning, which
 * defines each key as an own property but always gives objects Object.prototype.)
 */
export function nullPrototypes(value) {
  const pending = [value];
  while (pending.length) {
    const v = pending.pop();
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (const item of v) if (item !== null && typeof item === "object") pending.push(item);
    } else if (Object.getPrototypeOf(v) === Object.prototype) {
      Object.setPrototypeOf(v, null);
      for (const item of Object.values(v)) if (item !== null && typeof item === "object") pending.push(item);
    }
  }
  return value;
}

/** The runstore worker, as promises. */
export class Client {
  constructor() {
    const { worker, wasm } = startWorker();
    this.worker = worker;
    this.pending = new Map();
    this.nextId = 1;
    this.files = new Map();
    this.prefetched = new Map(); // request text -> promise of its answer, taken by the first call
    worker.onmessage = ({ data: { id, result, error } }) => {
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (!waiter) return;
      if (error) {
        const e = new Error(error.message);
        e.name = error.name;
        waiter.reject(e);
      } else waiter.resolve(nullPrototypes(result));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      const e = new Error(`the runstore worker failed: ${event.message ?? "could not start"}`);
      for (const waiter of this.pending.values()) waiter.reject(e);
      this.pending.clear();
    };
    this.ready = this.request("init", { wasm });
  }

  /** One request to the worker; a `background` one waits while others are waiting. */
  request(op, args, background = false) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args, background });
    });
  }

  /**
   * Opens a File, a URL, or bytes; the same source opens once however many callers ask.
   * Resolves to {key, name, runstore, error, compatibility}.
   */
  open(source, name) {
    const key = typeof source === "string" ? `url:${new URL(source, location.href).href}`
      : source instanceof File ? `file:${source.name}:${source.size}:${source.lastModified}`
      : `bytes:${this.nextId++}`;
    if (!this.files.has(key)) {
      const args = typeof source === "string" ? { url: new URL(source, location.href).href }
        : source instanceof File ? { file: source } : { bytes: source };
      const label = name ?? (typeof source === "string" ? decodeURIComponent(source.split("/").pop() || source)
        : source.name ?? "data.db");
      const opening = this.ready.then(() => this.request("open", { key, name: label, ...args }));
      opening.catch(() => this.files.delete(key));
      this.files.set(key, opening);
    }
    return this.files.get(key);
  }

  /** Calls a RunStore method of an open file (answered by a prefetch of the same call, if any). */
  call(key, method, ...args) {
    const text = JSON.stringify([key, method, args]);
    const early = this.prefetched.get(text);
    if (early) {
      this.prefetched.delete(text);
      return early;
    }
    return this.request("call", { key, method, args });
  }

  /** Sends a call now whose answer the first identical `call` will take. */
  prefetch(key, method, ...args) {
    const text = JSON.stringify([key, method, args]);
    if (this.prefetched.has(text)) return;
    const answer = this.request("call", { key, method, args });
    answer.catch(() => this.prefetched.delete(text));
    this.prefetched.set(text, answer);
  }

  /** Forgets prefetched answers no call took. */
  forgetPrefetched() {
    this.prefetched.clear();
  }

  /** Calls a RunStore method of an open file when nothing else is waiting. */
  callInBackground(key, method, ...args) {
    return this.request("call", { key, method, args }, true);
  }

  /** Runs SQL in the console of an open file: [{columns, values}]. */
  sql(key, sql, params, budgetMs) {
    return this.request("sql", { key, sql, params, budgetMs });
  }

  /** Bytes fetched so far for a lazily read file. */
  sourceStats(key) {
    return this.request("sourceStats", { key });
  }
}

let shared = null;
/** The page's one client (and so one worker). */
export function sharedClient() {
  shared ??= new Client();
  return shared;
}
