//! The JSON-lines sink: a named pipe (`RUNSTORE_SINK`) that the program and any process it
//! starts may open and write one JSON object per line to, from any language:
//! `{"key": "train/loss", "value": 0.31, "step": 10}` (optional `epoch`, `phase`, `labels`:
//! per-label values, `time`: Unix ms), `{"params": {...}}`, `{"tags": {...}}`,
//! `{"artifact": "path"}`, `{"results": {...}}`. Lines up to the pipe's atomic size (4 KiB),
//! each written whole, never mix with other writers' lines. The same lines may go to a Unix
//! socket (`RUNSTORE_SOCKET`), one connection per writer, for longer lines and the highest
//! rates: each connection is read by a thread of its own. A line that is not one of these is
//! counted, and the first one reported, never fatal.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::os::unix::fs::DirBuilderExt as _;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use runstore::{ArtifactSpec, Context, Point, Run};
use serde_json::Value;

/// What ends the pipe's reading: written by `runstore record` itself once the program has ended.
const END: &str = "\u{0}runstore-end-of-sink";

/// The named pipe and the socket, and the folder holding them (removed when dropped).
pub struct Sink {
    dir: PathBuf,
    path: PathBuf,
    socket_path: PathBuf,
    listener: UnixListener,
    /// Where [`Sink::close`] writes [`END`]: opened with the reading end, so neither the
    /// pipe's path nor the program is needed to end the reading.
    end_writer: OnceLock<std::fs::File>,
    /// Set when the program has ended: the connections waiting are taken, then no more.
    closing: AtomicBool,
    /// Wakes the accepting loop from its wait: written to by [`Sink::close`].
    wake: (std::io::PipeReader, std::io::PipeWriter),
    /// The connections being read, to end their reading once they are drained.
    connections: Mutex<HashMap<u64, UnixStream>>,
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

impl SinkReport {
    fn add(&mut self, other: SinkReport) {
        self.points += other.points;
        self.malformed += other.malformed;
        if self.first_malformed.is_none() {
            self.first_malformed = other.first_malformed;
        }
    }

    fn refuse(&mut self, bytes: &[u8], why: &str) {
        self.malformed += 1;
        if self.first_malformed.is_none() {
            let shown: String = String::from_utf8_lossy(bytes).chars().take(200).collect();
            self.first_malformed = Some(format!("{shown:?}: {why}"));
        }
    }
}

/// How long the accepting loop waits before trying again after a failed accept.
const ACCEPT_RETRY: Duration = Duration::from_millis(20);

impl Sink {
    /// Makes the pipe and the socket in a new folder of the temporary directory.
    pub fn create(run_id: &str) -> anyhow::Result<Sink> {
        let dir = std::env::temp_dir().join(format!("runstore-{run_id}"));
        // Only this user may reach the pipe and the socket.
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join("sink");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR)
            .with_context(|| format!("creating the pipe {}", path.display()))?;
        let socket_path = dir.join("socket");
        let listener = UnixListener::bind(&socket_path).with_context(|| {
            format!("creating the socket {} (is TMPDIR's path long?)", socket_path.display())
        })?;
        // Waited on with the wake pipe, so that ending it needs neither its path nor room in
        // its backlog.
        listener.set_nonblocking(true)?;
        let wake = std::io::pipe().context("creating the sink's wake pipe")?;
        Ok(Sink {
            dir,
            path,
            socket_path,
            listener,
            end_writer: OnceLock::new(),
            closing: AtomicBool::new(false),
            wake,
            connections: Mutex::new(HashMap::new()),
        })
    }

    /// The pipe's path (given to the program as `RUNSTORE_SINK`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The socket's path (given to the program as `RUNSTORE_SOCKET`).
    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }

    /// The pipe's reading end, opened for reading and writing: writers coming and going
    /// never end it, and opening it never waits for a writer. Opened before the program
    /// starts, with the writing end [`Sink::close`] uses.
    pub fn open(&self) -> anyhow::Result<std::fs::File> {
        let pipe = std::fs::OpenOptions::new().read(true).write(true).open(&self.path)?;
        let end_writer = std::fs::OpenOptions::new().write(true).open(&self.path)?;
        self.end_writer.set(end_writer).map_err(|_| anyhow::anyhow!("the sink was opened twice"))?;
        Ok(pipe)
    }

    /// Reads lines from `pipe` (see [`Sink::open`]) and from every connection to the socket
    /// into `run` until [`Sink::close`].
    pub fn read(&self, pipe: std::fs::File, run: &Run) -> anyhow::Result<SinkReport> {
        std::thread::scope(|scope| {
            let piped = scope.spawn(|| read_lines(pipe, run, Some(END.as_bytes())));
            let mut readers = Vec::new();
            let mut accept_failed = false;
            loop {
                match self.listener.accept() {
                    Ok((connection, _)) => {
                        let id = readers.len() as u64;
                        let kept = connection.set_nonblocking(false).and_then(|()| connection.try_clone());
                        match kept {
                            Ok(handle) => self.connections().insert(id, handle),
                            Err(e) => {
                                eprintln!("runstore: a RUNSTORE_SOCKET connection is not read: {e}");
                                continue;
                            }
                        };
                        readers.push(scope.spawn(move || {
                            let report = read_lines(connection, run, None);
                            self.connections().remove(&id);
                            report
                        }));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        // Once the program has ended, every connection made before is taken.
                        if self.closing.load(Ordering::Acquire) {
                            break;
                        }
                        self.wait_for_connection();
                    }
                    Err(e) => {
                        // Out of file descriptors, say: waits, and says so once.
                        if !accept_failed {
                            eprintln!("runstore: taking a RUNSTORE_SOCKET connection: {e}");
                            accept_failed = true;
                        }
                        if self.closing.load(Ordering::Acquire) {
                            break;
                        }
                        std::thread::sleep(ACCEPT_RETRY);
                    }
                }
            }
            // Each connection is drained of what its writer sent, then its reading ends, even
            // where a process the program left running still holds it open.
            for connection in self.connections().values() {
                let _ = connection.shutdown(std::net::Shutdown::Read);
            }
            let mut report = piped.join().map_err(|_| anyhow::anyhow!("the sink reader panicked"))?;
            for reader in readers {
                report.add(reader.join().map_err(|_| anyhow::anyhow!("a socket reader panicked"))?);
            }
            Ok(report)
        })
    }

    /// Waits, without using the CPU, for a connection or for [`Sink::close`].
    fn wait_for_connection(&self) {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd as _;
        let mut fds = [
            PollFd::new(self.listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.wake.0.as_fd(), PollFlags::POLLIN),
        ];
        // Interrupted or failed: the caller tries to accept again, and comes back.
        if poll(&mut fds, PollTimeout::NONE).is_err() {
            std::thread::sleep(ACCEPT_RETRY);
        }
    }

    fn connections(&self) -> std::sync::MutexGuard<'_, HashMap<u64, UnixStream>> {
        self.connections.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends [`Sink::read`] once everything written before is read.
    pub fn close(&self) -> anyhow::Result<()> {
        self.closing.store(true, Ordering::Release);
        (&self.wake.1).write_all(b"x").context("waking the socket's reader")?;
        let mut pipe = self.end_writer.get().context("the sink was never opened")?;
        // On a line of its own even after a writer's unfinished line.
        pipe.write_all(format!("\n{END}\n").as_bytes())?;
        Ok(())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Reads JSON lines from `from` into `run` until its end, the line `end`, or a read error (a
/// writer that went away mid-line: what it sent before is kept).
fn read_lines(from: impl Read, run: &Run, end: Option<&[u8]>) -> SinkReport {
    let mut reader = Reader::new(run);
    for line in BufReader::with_capacity(1 << 16, from).split(b'\n') {
        let Ok(line) = line else { break };
        if let Some(before) = end.and_then(|end| line.strip_suffix(end)) {
            reader.line(before);
            break;
        }
        reader.line(&line);
    }
    reader.finish()
}

/// One line as written: a metric point (`key`, `value`, ...) or one of the other records.
/// Strings are borrowed from the line where they can be: a point costs no allocation once its
/// series is known.
#[derive(serde::Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    key: Option<Cow<'a, str>>,
    #[serde(default)]
    value: Option<Number>,
    #[serde(default)]
    step: Option<i64>,
    #[serde(default)]
    epoch: Option<u32>,
    #[serde(borrow, default)]
    phase: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    context: Option<Cow<'a, str>>,
    #[serde(default)]
    labels: Option<std::collections::BTreeMap<String, Number>>,
    #[serde(default)]
    time: Option<i64>,
    #[serde(default)]
    params: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    tags: Option<serde_json::Map<String, Value>>,
    #[serde(borrow, default)]
    artifact: Option<Cow<'a, str>>,
    #[serde(default)]
    results: Option<Value>,
}

/// A metric value: a JSON number, or "NaN", "Infinity", "-Infinity" (JSON has no such numbers).
struct Number(f64);

impl<'de> serde::Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Number, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, \"NaN\", \"Infinity\" or \"-Infinity\"")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Number, E> {
                match v {
                    "NaN" | "nan" => Ok(Number(f64::NAN)),
                    "Infinity" | "inf" => Ok(Number(f64::INFINITY)),
                    "-Infinity" | "-inf" => Ok(Number(f64::NEG_INFINITY)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// A metric series as it is looked up: key, phase and label, NUL-separated.
fn series_name(buffer: &mut String, key: &str, phase: Option<&str>, label: &str) {
    buffer.clear();
    buffer.push_str(key);
    buffer.push('\0');
    buffer.push_str(phase.unwrap_or("\u{1}"));
    buffer.push('\0');
    buffer.push_str(label);
}

/// Turns lines into a run's records.
struct Reader<'a> {
    run: &'a Run,
    series: HashMap<Box<str>, runstore::Series>,
    next_step: HashMap<Box<str>, i64>,
    name: String,
    /// Files named by `{"artifact": ...}` lines, hashed once the reading ends (hashing a big
    /// checkpoint here would stop the pipe being read).
    artifacts: Vec<(Vec<u8>, PathBuf)>,
    report: SinkReport,
}

impl<'a> Reader<'a> {
    fn new(run: &'a Run) -> Reader<'a> {
        Reader {
            run,
            series: HashMap::new(),
            next_step: HashMap::new(),
            name: String::new(),
            artifacts: Vec::new(),
            report: SinkReport::default(),
        }
    }

    /// Records the artifacts named, and says what was taken.
    fn finish(mut self) -> SinkReport {
        for (line, path) in std::mem::take(&mut self.artifacts) {
            let name = path.file_name().map_or_else(|| path.to_string_lossy(), |n| n.to_string_lossy());
            if let Err(e) = self.run.artifact(ArtifactSpec::file(&name, "file", &path)) {
                self.report.refuse(&line, &e.to_string());
            }
        }
        self.report
    }

    fn line(&mut self, bytes: &[u8]) {
        let bytes = bytes.trim_ascii();
        if bytes.is_empty() {
            return;
        }
        if let Err(why) = self.record(bytes) {
            self.report.refuse(bytes, &why);
        }
    }

    fn record(&mut self, bytes: &[u8]) -> Result<(), String> {
        if bytes.first() != Some(&b'{') {
            return Err(match serde_json::from_slice::<Value>(bytes) {
                Ok(_) => "not a JSON object".into(),
                Err(e) => format!("not JSON ({e})"),
            });
        }
        let line: Line = serde_json::from_slice(bytes)
            .map_err(|e| if e.is_data() { e.to_string() } else { format!("not JSON ({e})") })?;
        if let Some(key) = &line.key {
            if key.is_empty() {
                return Err("\"key\" is empty".into());
            }
            return self.point(&line);
        }
        let mut taken = false;
        if let Some(params) = line.params {
            self.run.config(&Value::Object(params));
            taken = true;
        }
        if let Some(tags) = &line.tags {
            let pairs: Vec<(String, String)> = tags
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect();
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            self.run.tags(&pairs);
            taken = true;
        }
        if let Some(path) = &line.artifact {
            let path = PathBuf::from(path.as_ref());
            // A pipe or a device would never finish hashing.
            if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                return Err(format!("\"artifact\": {} is not a file", path.display()));
            }
            self.artifacts.push((bytes.to_vec(), path));
            taken = true;
        }
        if let Some(results) = line.results {
            self.run.results(results);
            taken = true;
        }
        if !taken {
            return Err("none of key, params, tags, artifact, results".into());
        }
        Ok(())
    }

    fn point(&mut self, line: &Line) -> Result<(), String> {
        let key = line.key.as_deref().unwrap_or_default();
        let value = line.value.as_ref().ok_or("no \"value\"")?.0;
        let phase = line.phase.as_deref().or(line.context.as_deref());
        let step = match (line.step, self.next_step.get_mut(key)) {
            (Some(step), Some(next)) => {
                *next = step.saturating_add(1);
                step
            }
            (Some(step), None) => {
                self.next_step.insert(key.into(), step.saturating_add(1));
                step
            }
            (None, Some(next)) => {
                let step = *next;
                *next = step.saturating_add(1);
                step
            }
            (None, None) => {
                self.next_step.insert(key.into(), 1);
                0
            }
        };
        let time_ms = line.time.unwrap_or_else(runstore::now_ms);
        let labels = line.labels.iter().flatten();
        let values = std::iter::once(("", value)).chain(labels.map(|(label, v)| (label.as_str(), v.0)));
        for (label, value) in values {
            series_name(&mut self.name, key, phase, label);
            let series = match self.series.get(self.name.as_str()) {
                Some(series) => series,
                None => {
                    let context = phase.map_or_else(Context::none, Context::phase);
                    let series = self.run.series_labelled(key, &context, label);
                    self.series.entry(self.name.as_str().into()).or_insert(series)
                }
            };
            series.log_point(Point { step, time_ms, value, epoch: line.epoch, batch: None });
            self.report.points += 1;
        }
        Ok(())
    }
}
