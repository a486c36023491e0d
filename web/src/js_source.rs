//! A `ByteSource` answered by a synchronous JS function, so the worker decides how bytes are
//! read: `FileReaderSync` over `file.slice()` for local files (any size, over 2 GiB included),
//! or synchronous `XMLHttpRequest`s with a `Range` header for hosted files.

use runstore_core::source::ByteSource;
use wasm_bindgen::{JsCast, JsValue};

/// `read(offset, length) -> Uint8Array` over a file of `size` bytes.
pub struct JsSource {
    size: u64,
    read: js_sys::Function,
}

impl JsSource {
    /// Wraps `read`; `size` is the file's length.
    pub fn new(size: f64, read: js_sys::Function) -> JsSource {
        JsSource { size: size.max(0.0) as u64, read }
    }
}

// SAFETY: wasm32-unknown-unknown without the `atomics` feature (how runstore-web is built) runs
// on one thread, so the JS function is never touched from another thread. `ByteSource` asks for
// `Send` because native hosts may move a connection between threads.
#[allow(unsafe_code)]
unsafe impl Send for JsSource {}

impl ByteSource for JsSource {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, String> {
        let result = self
            .read
            .call2(&JsValue::NULL, &JsValue::from_f64(offset as f64), &JsValue::from_f64(buf.len() as f64))
            .map_err(|e| {
                e.dyn_ref::<js_sys::Error>().map_or_else(|| format!("{e:?}"), |e| String::from(e.message()))
            })?;
        let bytes = js_sys::Uint8Array::new(&result);
        let n = (bytes.length() as usize).min(buf.len());
        bytes.subarray(0, n as u32).copy_to(&mut buf[..n]);
        Ok(n)
    }
}
