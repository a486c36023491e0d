//! Every conversion between Rust values and JS values, in one place.

use wasm_bindgen::{JsError, JsValue};

/// Converts a serializable value to a plain JS object (maps as objects, 64-bit integers as
/// numbers; NaN and infinities arrive as the strings "NaN", "Infinity", "-Infinity", as in
/// the CLI's JSON).
pub fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::new()
        .serialize_maps_as_objects(true)
        .serialize_large_number_types_as_bigints(false);
    value.serialize(&serializer).map_err(|e| JsError::new(&format!("converting a result for JS: {e}")))
}

/// A core error as a JS `Error` with its message.
pub fn js_error(e: runstore_core::Error) -> JsError {
    JsError::new(&e.to_string())
}
