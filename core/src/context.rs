//! The context of a metric series: its phase and any other labels.

use std::collections::BTreeMap;

/// Where a metric was measured: a phase (`train`, `val`, `test`, ...) and any other labels
/// (`fold`, `dataset`, `subset`, ...). Stored as canonical JSON with sorted keys, so the same
/// context always names the same series.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Context(BTreeMap<String, String>);

impl Context {
    /// No phase and no labels: `{}`.
    pub fn none() -> Context {
        Context::default()
    }

    /// A context with only a phase.
    pub fn phase(phase: impl Into<String>) -> Context {
        Context::none().with("phase", phase)
    }

    /// Adds (or replaces) a label.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Context {
        self.0.insert(key.into(), value.into());
        self
    }

    /// The phase label, if any.
    pub fn phase_name(&self) -> Option<&str> {
        self.0.get("phase").map(String::as_str)
    }

    /// All labels, sorted by key.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The canonical JSON text stored in `metric_series.context`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }

    /// Parses the stored JSON text.
    pub fn from_json(text: &str) -> crate::Result<Context> {
        Ok(Context(serde_json::from_str(text)?))
    }
}
