//! `RunStore`: a runstore file opened from bytes.

use runstore_core::{RunQuery, Store};
use wasm_bindgen::prelude::*;

use crate::convert::{js_error, to_js};

/// A runstore file opened from its bytes, read-only: the user's file is never modified.
#[wasm_bindgen]
pub struct RunStore {
    store: Store,
}

#[wasm_bindgen]
impl RunStore {
    /// Opens the bytes of a `.db` file (WAL-mode files included). Throws an `Error` saying
    /// what is wrong for files that are not runstore stores, are damaged, or come from a
    /// newer runstore that this page cannot read.
    pub fn open(bytes: &[u8]) -> Result<RunStore, JsError> {
        Ok(RunStore { store: Store::from_bytes(bytes).map_err(js_error)? })
    }

    /// Schema version of the file and whether this version could write it.
    pub fn compatibility(&self) -> Result<JsValue, JsError> {
        to_js(&self.store.compatibility())
    }

    /// Counts, time span and size.
    pub fn stats(&self) -> Result<JsValue, JsError> {
        to_js(&self.store.stats().map_err(js_error)?)
    }

    /// All experiments.
    pub fn experiments(&self) -> Result<JsValue, JsError> {
        to_js(&self.store.experiments().map_err(js_error)?)
    }

    /// All runs with params, tags and metric summaries; `now_ms` (e.g. `Date.now()`) lets
    /// runs whose process died show as `crashed`.
    pub fn runs(&self, now_ms: Option<f64>) -> Result<JsValue, JsError> {
        let query = RunQuery { now_ms: now_ms.map(|t| t as i64), with_metrics: true, ..Default::default() };
        to_js(&self.store.runs(&query).map_err(js_error)?)
    }

    /// Registered models with their latest version and aliases.
    pub fn models(&self) -> Result<JsValue, JsError> {
        to_js(&self.store.models().map_err(js_error)?)
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/basic.db");

    #[wasm_bindgen_test]
    fn opens_the_fixture_and_answers_like_core() {
        let store = RunStore::open(FIXTURE).unwrap();
        let stats = store.stats().unwrap();
        let runs = js_sys::Reflect::get(&stats, &"runs".into()).unwrap();
        assert_eq!(runs.as_f64(), Some(5.0));
        let list = js_sys::Array::from(&store.runs(Some(1_750_003_600_000.0)).unwrap());
        assert_eq!(list.length(), 5);
    }

    #[wasm_bindgen_test]
    fn bad_bytes_throw_a_real_error() {
        let err = RunStore::open(b"not a database at all").err().unwrap();
        let value: JsValue = err.into();
        assert!(value.is_instance_of::<js_sys::Error>());
        let message = js_sys::Error::from(value).message();
        assert!(String::from(message).contains("SQLite header"));
    }
}
