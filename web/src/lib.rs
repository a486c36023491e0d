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
//! console.log(store.stats().runs, store.runs(Date.now()));
//! ```

mod convert;
mod store;

pub use store::RunStore;
