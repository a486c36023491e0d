//! Provenance of a Python run: what the native side captures (OS, host, CPU, memory, GPUs,
//! git) plus what only Python knows (its version and executable, installed packages, the
//! command line), which `runstore.init` gathers and passes in.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use runstore::capture;

use crate::values;

/// What `runstore.init` passes: `{"runtimes": {...}, "packages": {...}, "command": str,
/// "environment": bool, "code": bool}`.
pub struct Provenance {
    runtimes: Option<serde_json::Value>,
    packages: Option<serde_json::Value>,
    command: Option<String>,
    environment: bool,
    code: bool,
}

impl Provenance {
    /// Reads the dict `runstore.init` built.
    pub fn from_py(dict: &Bound<'_, PyDict>) -> PyResult<Provenance> {
        let json = |key: &str| -> PyResult<Option<serde_json::Value>> {
            dict.get_item(key)?.filter(|v| !v.is_none()).map(|v| values::json(&v)).transpose()
        };
        let flag = |key: &str| -> PyResult<bool> {
            Ok(dict.get_item(key)?.map(|v| v.is_truthy()).transpose()?.unwrap_or(true))
        };
        Ok(Provenance {
            runtimes: json("runtimes")?,
            packages: json("packages")?,
            command: dict.get_item("command")?.filter(|v| !v.is_none()).map(|v| v.extract()).transpose()?,
            environment: flag("environment")?,
            code: flag("code")?,
        })
    }

    /// Records the environment and code records of `run`.
    pub fn record(self, run: &runstore::Run) {
        if self.environment {
            let mut environment = capture::environment();
            let mut runtimes = match environment.runtimes.take() {
                Some(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            };
            if let Some(serde_json::Value::Object(python)) = self.runtimes {
                runtimes.extend(python);
            }
            environment.runtimes = Some(serde_json::Value::Object(runtimes));
            environment.packages = self.packages;
            run.environment(environment);
        }
        if self.code {
            let mut code = capture::code().unwrap_or_default();
            if self.command.is_some() {
                code.entrypoint = self.command;
            }
            run.code(code);
        }
    }
}
