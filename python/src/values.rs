//! Python values to runstore's: metric values, flattened metric dicts, params and JSON.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};
use runstore_core::ParamValue;

/// A metric value as a float: Python ints and floats (NaN and ±Inf kept), numpy scalars and
/// anything else with `__float__` (a 0-d tensor); a `TypeError` naming `key` otherwise.
#[inline]
pub fn metric_value(value: &Bound<'_, PyAny>, key: &dyn std::fmt::Display) -> PyResult<f64> {
    if let Ok(float) = value.cast_exact::<PyFloat>() {
        return Ok(float.value());
    }
    if value.is_none() || value.is_instance_of::<PyString>() {
        return Err(not_a_number(value, key));
    }
    value.extract::<f64>().map_err(|_| not_a_number(value, key))
}

fn not_a_number(value: &Bound<'_, PyAny>, key: &dyn std::fmt::Display) -> PyErr {
    let type_name = value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    PyTypeError::new_err(format!(
        "metric \"{key}\": {type_name} is not a number (log ints, floats, NaN/inf or numpy scalars; \
         put text in params or tags)"
    ))
}

/// A metric key: a non-empty `str`.
pub fn metric_key<'a, 'py>(key: &'a Bound<'py, PyAny>) -> PyResult<&'a Bound<'py, PyString>> {
    key.cast::<PyString>().map_err(|_| {
        let shown = key.repr().map(|r| r.to_string()).unwrap_or_else(|_| "?".into());
        PyTypeError::new_err(format!("metric keys are str, not {shown}"))
    })
}

/// A param value: bool, int, float, str, or anything JSON-like (lists, dicts, None) as JSON.
pub fn param_value(value: &Bound<'_, PyAny>, key: &str) -> PyResult<ParamValue> {
    if value.is_instance_of::<PyBool>() {
        return Ok(ParamValue::Bool(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        return match value.extract::<i64>() {
            Ok(i) => Ok(ParamValue::Int(i)),
            Err(_) => Ok(ParamValue::Str(value.str()?.to_string())),
        };
    }
    if let Ok(float) = value.cast::<PyFloat>() {
        return Ok(ParamValue::Float(float.value()));
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(ParamValue::Str(text.to_cow()?.into_owned()));
    }
    // numpy scalars and the like: a number when they convert to one.
    if value.hasattr("dtype")?
        && let Ok(f) = value.extract::<f64>()
    {
        return Ok(ParamValue::Float(f));
    }
    Ok(ParamValue::Json(json(value).map_err(|e| {
        PyValueError::new_err(format!(
            "param {key:?}: {e} (params are numbers, bools, text or JSON-like values)"
        ))
    })?))
}

/// A JSON-like Python value (dicts, lists, numbers, text, None) as JSON. JSON has no NaN or
/// ±Inf: such floats become null (log them as metrics to keep them).
pub fn json(value: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let value: serde_json::Value = pythonize::depythonize(value)
        .map_err(|e| PyValueError::new_err(format!("not a JSON-like value: {e}")))?;
    Ok(value)
}

/// String pairs from a `{str: str}` dict (values converted with `str()`).
pub fn string_pairs(dict: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, String)>> {
    let Some(dict) = dict else { return Ok(Vec::new()) };
    dict.iter()
        .map(|(k, v)| {
            let key = k.cast::<PyString>().map_err(|_| PyTypeError::new_err("tag keys are str"))?;
            Ok((key.to_cow()?.into_owned(), v.str()?.to_cow()?.into_owned()))
        })
        .collect()
}
