//! `runstore-web`: runstore in the browser. Open a `.db` file — as bytes, or lazily through a
//! synchronous `read(offset, length)` so files of any size open — and query it with the same
//! `runstore-core` functions the command-line tool uses: the page and the CLI give the same
//! answers from the same file. `Database` is a sql.js-compatible surface over the same files.
//!
//! Built with `wasm-bindgen --target no-modules` (see `scripts/build-web`), it defines the
//! global `wasm_bindgen` in a classic Web Worker (`www/worker.js` does exactly this).
//!
//! # Quick start (JavaScript, in a worker)
//!
//! ```js
//! importScripts("pkg/runstore_web.js");
//! await wasm_bindgen({ module_or_path: "pkg/runstore_web_bg.wasm" });
//! wasm_bindgen.warmUp();                 // optional: compile the read path before a file arrives
//! const { RunStore } = wasm_bindgen;
//! const reader = new FileReaderSync();    // a dropped File of any size, read in slices
//! const store = RunStore.openSource(file.size, (offset, length) =>
//!   new Uint8Array(reader.readAsArrayBuffer(file.slice(offset, offset + length))));
//! console.log(store.stats().runs);       // throws an Error for bad files, never a panic
//! const runs = store.runs("params.lr = 0.01 and metrics.val/loss.min < 0.3", "-metrics.val/accuracy.max", Date.now());
//! const loss = store.series(runs[0].metrics[0].series_id, { budget: 1000, smoothing: { kind: "ema", weight: 0.6 } });
//! // loss.x, loss.y, loss.smoothed: Float64Array
//! const svg = store.chartSvg({ metric: "val/loss", groupBy: ["lr"], logY: true });
//! const [{ columns, values }] = store.sql().exec("SELECT name, status FROM runs");
//! ```

mod convert;
mod js_source;
mod options;
mod sql;
mod store;
mod types;
mod warm_up;

pub use sql::{Database, Statement};
pub use store::RunStore;
pub use warm_up::warm_up;
