//! `--config FILE`: a run's params from a JSON or YAML file, as training scripts keep them.

use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;

/// The params of `path`: a JSON or YAML mapping (by the extension; a file with another one may
/// be either). Nested mappings become dotted keys when recorded.
pub fn read(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading --config {}", path.display()))?;
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let value: Value = match extension.as_deref() {
        Some("json") => {
            serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?
        }
        Some("yaml" | "yml") => {
            yaml(&text).with_context(|| format!("{} is not valid YAML", path.display()))?
        }
        _ => serde_json::from_str(&text).or_else(|_| yaml(&text)).with_context(|| {
            format!("{} is neither JSON nor YAML (name it .json, .yaml or .yml to see why)", path.display())
        })?,
    };
    anyhow::ensure!(
        value.is_object(),
        "{}: a config is a mapping of names to values, not {}",
        path.display(),
        kind(&value)
    );
    Ok(value)
}

fn yaml(text: &str) -> Result<Value, yaml_serde::Error> {
    yaml_serde::from_str(text)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_configs_read_as_the_same_mapping() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("c.json");
        std::fs::write(&json, r#"{"lr": 0.001, "model": {"layers": 4, "act": "gelu"}, "amp": true}"#)
            .unwrap();
        let yaml = dir.path().join("c.yaml");
        std::fs::write(&yaml, "lr: 0.001\nmodel:\n  layers: 4\n  act: gelu\namp: true\n").unwrap();
        let unnamed = dir.path().join("config");
        std::fs::write(&unnamed, "lr: 0.001\nmodel: {layers: 4, act: gelu}\namp: true\n").unwrap();
        let expected = read(&json).unwrap();
        assert_eq!(expected["model"]["layers"], 4);
        assert_eq!(read(&yaml).unwrap(), expected);
        assert_eq!(read(&unnamed).unwrap(), expected);
    }

    #[test]
    fn a_config_that_is_not_a_mapping_or_not_readable_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("c.yaml");
        std::fs::write(&list, "- 1\n- 2\n").unwrap();
        assert!(read(&list).unwrap_err().to_string().contains("not a list"));
        let broken = dir.path().join("c.json");
        std::fs::write(&broken, "{\"lr\": ").unwrap();
        assert!(format!("{:#}", read(&broken).unwrap_err()).contains("not valid JSON"));
        let missing = read(&dir.path().join("nope.yaml")).unwrap_err();
        assert!(missing.to_string().contains("reading --config"));
    }
}
