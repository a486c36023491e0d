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

/// Reads an options object (`undefined` and `null` mean all defaults).
pub fn from_js<T: serde::de::DeserializeOwned + Default>(value: JsValue) -> Result<T, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| JsError::new(&format!("invalid options: {e}")))
}

/// A chart series as a plain object whose numeric columns are typed arrays:
/// `{seriesId, x: Float64Array, y: Float64Array, smoothed?: Float64Array, steps: Float64Array,
/// exact, level, pointsInRange}` (NaN and ±Inf stay numbers in typed arrays).
pub fn series_to_js(
    data: &runstore_core::analysis::SeriesData,
    smoothed: Option<Vec<f64>>,
) -> Result<JsValue, JsError> {
    let object = js_sys::Object::new();
    let set = |key: &str, value: JsValue| {
        js_sys::Reflect::set(&object, &key.into(), &value)
            .map(drop)
            .map_err(|_| JsError::new("building a result"))
    };
    set("seriesId", JsValue::from_f64(data.series_id as f64))?;
    set("x", js_sys::Float64Array::from(&data.x[..]).into())?;
    set("y", js_sys::Float64Array::from(&data.y[..]).into())?;
    if let Some(s) = smoothed {
        set("smoothed", js_sys::Float64Array::from(&s[..]).into())?;
    }
    let steps: Vec<f64> = data.steps.iter().map(|s| *s as f64).collect();
    set("steps", js_sys::Float64Array::from(&steps[..]).into())?;
    set("exact", JsValue::from_bool(data.exact))?;
    set("level", data.level.map_or(JsValue::NULL, |l| JsValue::from_f64(l as f64)))?;
    set("pointsInRange", JsValue::from_f64(data.points_in_range as f64))?;
    Ok(object.into())
}
