//! Every conversion between Rust values and JS values, in one place.

use wasm_bindgen::{JsError, JsValue};

/// Converts a serializable value to plain JS values: objects, arrays, strings, numbers (64-bit
/// integers as numbers; NaN and infinities arrive as the strings "NaN", "Infinity",
/// "-Infinity", as in the CLI's JSON, since both are written by the same `Serialize` code).
///
/// Keys come from the user's data (a param named `__proto__`, a tag named `constructor`), so
/// every key must become an own property of its object and never run a setter: the value is
/// written as JSON text and read with `JSON.parse`, which defines each key as its own data
/// property. Readers should still look keys up with `Object.hasOwn` or iterate
/// `Object.entries` (the page turns every object into a null-prototype one on arrival).
pub fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    let text = serde_json::to_string(value)
        .map_err(|e| JsError::new(&format!("converting a result for JS: {e}")))?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("converting a result for JS: JSON.parse failed"))
}

/// A core error as a JS `Error` with its message.
pub fn js_error(e: runstore_core::Error) -> JsError {
    JsError::new(&e.to_string())
}

/// An object whose own data properties are `keys[i]: values[i]`, built with
/// `Object.fromEntries`, which defines each key rather than assigning it: a key named
/// `__proto__` stays an ordinary key instead of replacing the object's prototype.
pub fn object_from_pairs(keys: &js_sys::Array, values: &js_sys::Array) -> Result<js_sys::Object, JsError> {
    let pairs: js_sys::Array =
        keys.iter().zip(values.iter()).map(|(k, v)| js_sys::Array::of2(&k, &v)).collect();
    js_sys::Object::from_entries(&pairs).map_err(|_| JsError::new("building an object"))
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
    set(&object, "seriesId", JsValue::from_f64(data.series_id as f64))?;
    set(&object, "x", js_sys::Float64Array::from(&data.x[..]).into())?;
    set(&object, "y", js_sys::Float64Array::from(&data.y[..]).into())?;
    if let Some(s) = smoothed {
        set(&object, "smoothed", js_sys::Float64Array::from(&s[..]).into())?;
    }
    let steps: Vec<f64> = data.steps.iter().map(|s| *s as f64).collect();
    set(&object, "steps", js_sys::Float64Array::from(&steps[..]).into())?;
    set(&object, "exact", JsValue::from_bool(data.exact))?;
    set(&object, "level", data.level.map_or(JsValue::NULL, |l| JsValue::from_f64(l as f64)))?;
    set(&object, "pointsInRange", JsValue::from_f64(data.points_in_range as f64))?;
    Ok(object.into())
}

/// Resource series for charts: `[{runId, kind, name, unit, count, exact, x: Float64Array,
/// y: Float64Array}]`, where `x` is the time of each point in Unix ms and `y` its value (NaN
/// a number).
pub fn resources_to_js(series: &[runstore_core::read::ResourceSeries]) -> Result<JsValue, JsError> {
    let list = js_sys::Array::new();
    for s in series {
        let object = js_sys::Object::new();
        set(&object, "runId", s.run_id.as_deref().map_or(JsValue::NULL, JsValue::from_str))?;
        set(&object, "kind", JsValue::from_str(s.kind.as_str()))?;
        set(&object, "name", JsValue::from_str(&s.name))?;
        set(&object, "unit", JsValue::from_str(&s.unit))?;
        set(&object, "count", JsValue::from_f64(s.count as f64))?;
        set(&object, "exact", JsValue::from_bool(s.exact))?;
        let x: Vec<f64> = s.time_ms.iter().map(|t| *t as f64).collect();
        set(&object, "x", js_sys::Float64Array::from(&x[..]).into())?;
        set(&object, "y", js_sys::Float64Array::from(&s.values[..]).into())?;
        list.push(&object);
    }
    Ok(list.into())
}

/// A run table as `{runsJson, metrics: MetricColumn[], summarised}`: the runs as the JSON
/// text of `RunInfo[]` (one string crosses from a worker to a page in a few ms; 10,000 run
/// objects take 150), and the summaries as columns (see [`metric_columns_to_js`]): 10,000
/// runs × 20 metrics cross as 200 arrays, not 200,000 objects.
pub fn run_table_to_js(table: &runstore_core::read::RunTable) -> Result<JsValue, JsError> {
    let object = js_sys::Object::new();
    let runs = serde_json::to_string(&table.runs)
        .map_err(|e| JsError::new(&format!("converting a result for JS: {e}")))?;
    set(&object, "runsJson", JsValue::from_str(&runs))?;
    set(&object, "metrics", metric_columns_to_js(&table.metrics)?)?;
    set(&object, "summarised", JsValue::from_f64(table.summarised as f64))?;
    Ok(object.into())
}

/// Metric columns as `[{key, context, label, seriesId, count, nanCount, firstStep, lastStep,
/// last, min, max, mean}]` whose per-run entries are `Float64Array`s (NaN where a run has no
/// such series or the summary has no value; a NaN last value is NaN too, told apart by
/// `count`).
pub fn metric_columns_to_js(metrics: &[runstore_core::read::MetricColumn]) -> Result<JsValue, JsError> {
    fn floats<T: Copy>(values: &[Option<T>], f: impl Fn(T) -> f64) -> JsValue {
        let v: Vec<f64> = values.iter().map(|x| x.map_or(f64::NAN, &f)).collect();
        js_sys::Float64Array::from(&v[..]).into()
    }
    let counts = |values: &[i64]| -> JsValue {
        let v: Vec<f64> = values.iter().map(|&x| x as f64).collect();
        js_sys::Float64Array::from(&v[..]).into()
    };
    let columns = js_sys::Array::new();
    for c in metrics {
        let object = js_sys::Object::new();
        set(&object, "key", JsValue::from_str(&c.key))?;
        set(&object, "context", to_js(&c.context)?)?;
        set(&object, "label", JsValue::from_str(&c.label))?;
        set(&object, "seriesId", floats(&c.series_id, |x| x as f64))?;
        set(&object, "count", counts(&c.count))?;
        set(&object, "nanCount", counts(&c.nan_count))?;
        set(&object, "firstStep", floats(&c.first_step, |x| x as f64))?;
        set(&object, "lastStep", floats(&c.last_step, |x| x as f64))?;
        set(&object, "last", floats(&c.last, |x| x))?;
        set(&object, "min", floats(&c.min, |x| x))?;
        set(&object, "max", floats(&c.max, |x| x))?;
        set(&object, "mean", floats(&c.mean, |x| x))?;
        columns.push(&object);
    }
    Ok(columns.into())
}

/// Sets `object[key] = value` (keys here are runstore's own names, never the user's).
fn set(object: &js_sys::Object, key: &str, value: JsValue) -> Result<(), JsError> {
    js_sys::Reflect::set(object, &key.into(), &value).map(drop).map_err(|_| JsError::new("building a result"))
}
