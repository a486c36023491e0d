//! The Python environment of a recorded Python program: its interpreter's version and
//! executable, virtualenv and installed packages, read by running that interpreter once while
//! the program runs (the same facts the Python package records for its own runs).

use std::ffi::{OsStr, OsString};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use runstore::EnvironmentRecord;

/// What the interpreter prints: its runtime and packages, as JSON.
const PROBE: &str = r#"
import json, platform, sys
from importlib import metadata
packages = {}
for dist in metadata.distributions():
    name = dist.metadata.get("Name") if dist.metadata else None
    if name and name not in packages:
        packages[name] = dist.version
print(json.dumps({
    "runtimes": {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "python_prefix": sys.prefix,
        "virtualenv": sys.prefix if sys.prefix != sys.base_prefix else None,
    },
    "packages": dict(sorted(packages.items(), key=lambda kv: kv[0].lower())),
}))
"#;

/// The longest the probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The Python interpreter `command` runs: `python3 train.py` → `python3`; `./train.py` or a
/// console script such as `accelerate` whose first line is `#!/usr/bin/env python3` → `python3`.
pub fn interpreter(command: &[OsString]) -> Option<OsString> {
    let program = command.first()?;
    if is_python(Path::new(program)) {
        return Some(program.clone());
    }
    let first_line = first_line(&locate(program)?)?;
    let shebang = first_line.strip_prefix("#!")?;
    let mut words = shebang.split_whitespace();
    let mut interpreter = words.next()?;
    if Path::new(interpreter).file_name() == Some(OsStr::new("env")) {
        interpreter = words.find(|w| !w.starts_with('-'))?;
    }
    is_python(Path::new(interpreter)).then(|| OsString::from(interpreter))
}

/// `python`, `python3`, `python3.11`, `pypy3`, with or without a directory.
fn is_python(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(OsStr::to_str) else { return false };
    ["python", "pypy"]
        .iter()
        .any(|p| name.strip_prefix(p).is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.')))
}

/// The file a command name runs: itself when it has a `/`, else the first match on `PATH`.
fn locate(program: &OsStr) -> Option<PathBuf> {
    let path = Path::new(program);
    if path.components().count() > 1 {
        return path.is_file().then(|| path.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(path)).find(|p| p.is_file())
}

fn first_line(path: &Path) -> Option<String> {
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let text = std::str::from_utf8(&head[..n]).ok()?;
    Some(text.lines().next()?.to_string())
}

/// The environment of `interpreter`'s programs: `base` (OS, host, CPU, memory, GPUs) with the
/// interpreter's runtime added and its packages.
pub fn environment(
    interpreter: &OsStr,
    env: &[(&str, OsString)],
    base: EnvironmentRecord,
) -> anyhow::Result<EnvironmentRecord> {
    let mut probe = Command::new(interpreter)
        .args(["-c", PROBE])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", interpreter.to_string_lossy()))?;
    // Read while it runs: a big environment's listing is more than a pipe holds.
    let mut stdout = probe.stdout.take().context("the probe's output")?;
    let reading = std::thread::spawn(move || {
        let mut printed = String::new();
        stdout.read_to_string(&mut printed).map(|_| printed)
    });
    let deadline = Instant::now() + PROBE_TIMEOUT;
    while probe.try_wait()?.is_none() {
        if Instant::now() > deadline {
            let _ = probe.kill();
            let _ = probe.wait();
            anyhow::bail!(
                "{} took over {PROBE_TIMEOUT:?} to list its packages",
                interpreter.to_string_lossy()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let printed = reading.join().map_err(|_| anyhow::anyhow!("reading the probe panicked"))??;
    let found: serde_json::Value = serde_json::from_str(printed.trim())
        .with_context(|| format!("{} did not describe itself", interpreter.to_string_lossy()))?;
    let mut environment = base;
    let mut runtimes = environment.runtimes.take().unwrap_or_else(|| serde_json::json!({}));
    if let (Some(all), Some(python)) = (runtimes.as_object_mut(), found["runtimes"].as_object()) {
        all.extend(python.clone());
    }
    environment.runtimes = Some(runtimes);
    environment.packages = Some(found["packages"].clone());
    Ok(environment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_python_program_is_known_by_its_interpreter_or_its_first_line() {
        assert_eq!(interpreter(&command(&["python3", "train.py"])), Some("python3".into()));
        assert_eq!(
            interpreter(&command(&["/opt/venv/bin/python3.11", "-m", "x"])),
            Some("/opt/venv/bin/python3.11".into())
        );
        assert_eq!(interpreter(&command(&["pythonista"])), None);
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("train.py");
        std::fs::write(&script, "#!/usr/bin/env -S python3 -u\nprint(1)\n").unwrap();
        assert_eq!(interpreter(&[script.clone().into_os_string()]), Some("python3".into()));
        std::fs::write(&script, "#!/bin/sh\necho 1\n").unwrap();
        assert_eq!(interpreter(&[script.into_os_string()]), None);
        assert_eq!(interpreter(&command(&["no-such-program-anywhere"])), None);
    }

    #[test]
    fn the_interpreter_describes_its_runtime_and_packages() {
        let base =
            EnvironmentRecord { runtimes: Some(serde_json::json!({"runstore": "1"})), ..Default::default() };
        let found = environment(OsStr::new("python3"), &[], base).unwrap();
        let runtimes = found.runtimes.unwrap();
        assert_eq!(runtimes["runstore"], "1", "the native runtimes stay");
        assert!(runtimes["python"].as_str().unwrap().starts_with("3."), "{runtimes}");
        assert!(found.packages.unwrap().is_object());
        assert!(environment(OsStr::new("no-such-python"), &[], EnvironmentRecord::default()).is_err());
    }
}
