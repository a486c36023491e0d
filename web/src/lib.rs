//! `runstore-web`: runstore in the browser. Open a `.db` file given as bytes and query it with
//! the same `runstore-core` functions the command-line tool uses, so the page and the CLI
//! give the same answers from the same file.
//!
//! # Quick start (JavaScript)
//!
//! ```js
//! import init, { RunStore } from "./pkg/runstore_web.js";
//! await init();
//! const bytes = new Uint8Array(await file.arrayBuffer());
//! const store = RunStore.open(bytes);         // throws an Error for bad files
//! console.log(store.stats().runs);
//! const runs = store.runs("params.lr = 0.01 and metrics.val/loss.min < 0.3", "-metrics.val/accuracy.max", Date.now());
//! const loss = store.series(runs[0].metrics[0].series_id, { budget: 1000, smoothing: { kind: "ema", weight: 0.6 } });
//! // loss.x, loss.y, loss.smoothed: Float64Array
//! document.body.innerHTML = store.chartSvg({ metric: "val/loss", groupBy: ["lr"], logY: true });
//! ```

mod convert;
mod js_source;
mod options;
mod sql;
mod store;

pub use sql::{Database, Statement};
pub use store::RunStore;
