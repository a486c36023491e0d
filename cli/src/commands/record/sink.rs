//! The JSON-lines sink: a named pipe (`RUNSTORE_SINK`) that the program and any process it
//! starts may open and write one JSON object per line to, from any language:
//! `{"key": "train/loss", "value": 0.31, "step": 10}` (optional `epoch`, `phase`, `labels`:
//! per-label values, `time`: Unix ms), `{"params": {...}}`, `{"tags": {...}}`,
//! `{"artifact": "path"}`, `{"results": {...}}`. Lines up to the pipe's atomic size (4 KiB),
//! each written whole, never mix with other writers' lines. A line that is not one of these is
//! counted, and the first one reported, never fatal.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use runstore::{ArtifactSpec, Context, Point, Run};
use serde_json::Value;

/// What ends the reading: written by `runstore record` itself once the program has ended.
const END: &str = "\u{0}runstore-end-of-sink";

/// The named pipe and the folder holding it (removed when dropped).
pub struct Sink {
    dir: PathBuf,
    path: PathBuf,
}

/// What the sink took.
#[derive(Debug, Default, PartialEq)]
pub struct SinkReport {
    /// Metric points logged.
    pub points: u64,
    /// Lines that were not a runstore record.
    pub malformed: u64,
    /// The first of those, and why.
    pub first_malformed: Option<String>,
}

impl Sink {
    /// Makes the pipe in a new folder of the temporary directory.
    pub fn create(run_id: &str) -> anyhow::Result<Sink> {
        let dir = std::env::temp_dir().join(format!("runstore-{run_id}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join("sink");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR)
            .with_context(|| format!("creating the pipe {}", path.display()))?;
        Ok(Sink { dir, path })
    }

    /// The pipe's path (given to the program as `RUNSTORE_SINK`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pipe's reading end, opened for reading and writing: writers coming and going
    /// never end it, and opening it never waits for a writer. Opened before the program
    /// starts, so that [`Sink::close`] always finds the reader.
    pub fn open(&self) -> anyhow::Result<std::fs::File> {
        Ok(std::fs::OpenOptions::new().read(true).write(true).open(&self.path)?)
    }

    /// Reads lines from `pipe` (see [`Sink::open`]) into `run` until [`Sink::close`].
    pub fn read(pipe: std::fs::File, run: &Run) -> anyhow::Result<SinkReport> {
        let mut reader = Reader::new(run);
        for line in BufReader::with_capacity(1 << 16, pipe).split(b'\n') {
            let line = line?;
            if line == END.as_bytes() {
                break;
            }
            reader.line(&line);
        }
        Ok(reader.report)
    }

    /// Ends [`Sink::read`] once everything written before is read.
    pub fn close(&self) -> anyhow::Result<()> {
        use nix::fcntl::{FcntlArg, OFlag, fcntl};
        use std::os::unix::fs::OpenOptionsExt as _;
        // Not waiting for a reader that is gone (it failed): then there is nothing to end.
        let mut pipe = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(OFlag::O_NONBLOCK.bits())
            .open(&self.path)
            .context("the sink has no reader")?;
        // The reader is there: wait for room like any writer.
        fcntl(&pipe, FcntlArg::F_SETFL(OFlag::empty()))?;
        pipe.write_all(format!("{END}\n").as_bytes())?;
        Ok(())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Turns lines into a run's records.
struct Reader<'a> {
    run: &'a Run,
    series: HashMap<(String, Option<String>, String), runstore::Series>,
    next_step: HashMap<String, i64>,
    report: SinkReport,
}

impl<'a> Reader<'a> {
    fn new(run: &'a Run) -> Reader<'a> {
        Reader { run, series: HashMap::new(), next_step: HashMap::new(), report: SinkReport::default() }
    }

    fn line(&mut self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        if let Err(why) = self.record(text) {
            self.report.malformed += 1;
            if self.report.first_malformed.is_none() {
                let shown: String = text.chars().take(200).collect();
                self.report.first_malformed = Some(format!("{shown:?}: {why}"));
            }
        }
    }

    fn record(&mut self, text: &str) -> Result<(), String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
        let object = value.as_object().ok_or("not a JSON object")?;
        if let Some(key) = object.get("key") {
            let key = key.as_str().filter(|k| !k.is_empty()).ok_or("\"key\" is not a non-empty string")?;
            return self.point(key, object);
        }
        if let Some(params) = object.get("params") {
            params.as_object().ok_or("\"params\" is not an object")?;
            self.run.config(params);
        } else if let Some(tags) = object.get("tags") {
            let tags = tags.as_object().ok_or("\"tags\" is not an object")?;
            let pairs: Vec<(String, String)> = tags
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect();
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            self.run.tags(&pairs);
        } else if let Some(path) = object.get("artifact") {
            let path = path.as_str().ok_or("\"artifact\" is not a path")?;
            let name = Path::new(path).file_name().map_or(path.into(), |n| n.to_string_lossy());
            self.run.artifact(ArtifactSpec::file(&name, "file", path)).map_err(|e| e.to_string())?;
        } else if let Some(results) = object.get("results") {
            self.run.results(results.clone());
        } else {
            return Err("none of key, params, tags, artifact, results".into());
        }
        Ok(())
    }

    fn point(&mut self, key: &str, object: &serde_json::Map<String, Value>) -> Result<(), String> {
        let phase = match object.get("phase").or_else(|| object.get("context")) {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p.clone()),
            Some(_) => return Err("\"phase\" is not a string".into()),
        };
        let step = match object.get("step") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_i64().ok_or("\"step\" is not an integer")?),
        };
        let step = match step {
            Some(step) => {
                self.next_step.insert(key.to_string(), step + 1);
                step
            }
            None => {
                let next = self.next_step.entry(key.to_string()).or_insert(0);
                *next += 1;
                *next - 1
            }
        };
        let epoch = match object.get("epoch") {
            None | Some(Value::Null) => None,
            Some(v) => {
                Some(v.as_u64().and_then(|e| u32::try_from(e).ok()).ok_or("\"epoch\" is not a count")?)
            }
        };
        let time_ms = match object.get("time") {
            None | Some(Value::Null) => runstore::now_ms(),
            Some(v) => v.as_i64().ok_or("\"time\" is not Unix ms")?,
        };
        let mut values = vec![(String::new(), number(object.get("value").ok_or("no \"value\"")?)?)];
        if let Some(labels) = object.get("labels") {
            for (label, value) in labels.as_object().ok_or("\"labels\" is not an object")? {
                values.push((label.clone(), number(value)?));
            }
        }
        for (label, value) in values {
            let id = (key.to_string(), phase.clone(), label);
            let run = self.run;
            let series = self.series.entry(id).or_insert_with_key(|(key, phase, label)| {
                let context = phase.as_deref().map_or_else(Context::none, Context::phase);
                run.series_labelled(key, &context, label)
            });
            series.log_point(Point { step, time_ms, value, epoch, batch: None });
            self.report.points += 1;
        }
        Ok(())
    }
}

/// A metric value: a JSON number, or "NaN", "Infinity", "-Infinity" (JSON has no such numbers).
fn number(value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(n) => n.as_f64().ok_or_else(|| format!("{n} is not a float")),
        Value::String(s) => match s.as_str() {
            "NaN" | "nan" => Ok(f64::NAN),
            "Infinity" | "inf" => Ok(f64::INFINITY),
            "-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
            _ => Err(format!("{s:?} is not a number")),
        },
        other => Err(format!("{other} is not a number")),
    }
}
