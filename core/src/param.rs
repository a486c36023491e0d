//! Typed parameter values and flattening of nested configs to dotted keys.

use serde_json::Value as Json;

/// A parameter value: typed, so `lr = 0.01` compares as a number and `model = "resnet"` as
/// text. Floats keep NaN and ±Inf.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A whole number.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean (stored as 0/1).
    Bool(bool),
    /// Text.
    Str(String),
    /// Anything else (lists, null), kept as JSON.
    Json(Json),
}

impl ParamValue {
    /// The stored kind name: `int`, `float`, `bool`, `string` or `json`.
    pub fn kind(&self) -> &'static str {
        match self {
            ParamValue::Int(_) => "int",
            ParamValue::Float(_) => "float",
            ParamValue::Bool(_) => "bool",
            ParamValue::Str(_) => "string",
            ParamValue::Json(_) => "json",
        }
    }

    /// Rebuilds a value from its stored kind and SQL value.
    pub(crate) fn from_sql(kind: &str, value: rusqlite::types::ValueRef<'_>) -> crate::Result<Self> {
        use rusqlite::types::ValueRef as V;
        let bad = || crate::Error::Corrupt {
            table: "params",
            why: format!("value {value:?} does not fit kind {kind:?}"),
        };
        Ok(match (kind, value) {
            ("int", V::Integer(i)) => ParamValue::Int(i),
            ("float", V::Real(f)) => ParamValue::Float(f),
            ("float", V::Integer(i)) => ParamValue::Float(i as f64),
            ("float", V::Null) => ParamValue::Float(f64::NAN),
            ("bool", V::Integer(i)) => ParamValue::Bool(i != 0),
            ("string", V::Text(t)) => ParamValue::Str(String::from_utf8_lossy(t).into_owned()),
            ("json", V::Text(t)) => ParamValue::Json(crate::json::parse_or_text(t)),
            _ => return Err(bad()),
        })
    }

    /// The SQL value to store.
    pub(crate) fn to_sql_value(&self) -> rusqlite::types::Value {
        use rusqlite::types::Value as V;
        match self {
            ParamValue::Int(i) => V::Integer(*i),
            ParamValue::Float(f) if f.is_nan() => V::Null,
            ParamValue::Float(f) => V::Real(*f),
            ParamValue::Bool(b) => V::Integer(i64::from(*b)),
            ParamValue::Str(s) => V::Text(s.clone()),
            ParamValue::Json(j) => V::Text(j.to_string()),
        }
    }

    /// The value as a float, when it is a number or a bool.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Int(i) => Some(*i as f64),
            ParamValue::Float(f) => Some(*f),
            ParamValue::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }
}

impl serde::Serialize for ParamValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ParamValue::Int(i) => s.serialize_i64(*i),
            ParamValue::Float(f) => crate::json::float(f, s),
            ParamValue::Bool(b) => s.serialize_bool(*b),
            ParamValue::Str(t) => s.serialize_str(t),
            ParamValue::Json(j) => j.serialize(s),
        }
    }
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Str(s) => f.write_str(s),
            ParamValue::Json(j) => write!(f, "{j}"),
        }
    }
}

macro_rules! from_impl {
    ($($t:ty => $body:expr),* $(,)?) => {$(
        impl From<$t> for ParamValue {
            fn from(x: $t) -> Self { $body(x) }
        }
    )*};
}
from_impl!(
    i64 => ParamValue::Int,
    i32 => |x| ParamValue::Int(i64::from(x)),
    u32 => |x| ParamValue::Int(i64::from(x)),
    f64 => ParamValue::Float,
    f32 => |x| ParamValue::Float(f64::from(x)),
    bool => ParamValue::Bool,
    String => ParamValue::Str,
    &str => |x: &str| ParamValue::Str(x.to_string()),
);

/// Flattens a JSON config into `(dotted.key, value)` pairs: nested objects become dotted
/// keys, numbers become `Int` or `Float`, strings `Str`, booleans `Bool`; arrays and null stay
/// `Json`. A scalar at the top level is returned under `prefix` itself.
pub fn flatten(prefix: &str, value: &Json) -> Vec<(String, ParamValue)> {
    let mut out = Vec::new();
    flatten_into(prefix, value, &mut out);
    out
}

fn flatten_into(prefix: &str, value: &Json, out: &mut Vec<(String, ParamValue)>) {
    let leaf = match value {
        Json::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten_into(&key, v, out);
            }
            return;
        }
        Json::Number(n) => match n.as_i64() {
            Some(i) => ParamValue::Int(i),
            None => ParamValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::Bool(b) => ParamValue::Bool(*b),
        Json::String(s) => ParamValue::Str(s.clone()),
        other => ParamValue::Json(other.clone()),
    };
    out.push((prefix.to_string(), leaf));
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn flattens_nested_configs() {
        let cfg = serde_json::json!({
            "optimizer": {"name": "adam", "lr": 0.001, "betas": [0.9, 0.99]},
            "epochs": 10, "amp": true, "note": null
        });
        let mut flat = flatten("", &cfg);
        flat.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            flat,
            vec![
                ("amp".into(), ParamValue::Bool(true)),
                ("epochs".into(), ParamValue::Int(10)),
                ("note".into(), ParamValue::Json(Json::Null)),
                ("optimizer.betas".into(), ParamValue::Json(serde_json::json!([0.9, 0.99]))),
                ("optimizer.lr".into(), ParamValue::Float(0.001)),
                ("optimizer.name".into(), ParamValue::Str("adam".into())),
            ]
        );
    }
}
