//! `runstore record -- CMD`: record any program, in any language, as a run: its fate, its
//! process tree's resources, its output, and its metrics, written as JSON lines to
//! `RUNSTORE_SINK` or `RUNSTORE_SOCKET`, logged through the Python package (`RUNSTORE_DB` and
//! `RUNSTORE_RUN_ID` name the run it joins), or read from its output (`--parse`).

mod child;
mod config;
mod output;
mod parse;
mod python;
mod sink;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use runstore::{ArtifactSpec, ParamValue, Recorder, ResourceMonitor};

use child::{Fate, Output, Program};
use sink::{Sink, SinkReport};

/// Arguments of `runstore record`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The runstore file (created if missing).
    #[arg(long, default_value = "runs.db")]
    db: PathBuf,
    /// The experiment of the run (created if new).
    #[arg(long, short, default_value = "default")]
    experiment: String,
    /// A trial of the experiment.
    #[arg(long)]
    trial: Option<String>,
    /// The run's name. Default: the program's name.
    #[arg(long)]
    name: Option<String>,
    /// A param of the run, KEY=VALUE (numbers and true/false typed); repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = key_value)]
    params: Vec<(String, String)>,
    /// Params from a JSON or YAML file (nested keys joined with dots); --param overrides them.
    /// The file is kept as an artifact of the run.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A tag of the run, KEY=VALUE; repeatable.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = key_value)]
    tags: Vec<(String, String)>,
    /// How often the program's process tree (and the GPUs) are sampled: 1s, 500ms, 2m, or
    /// seconds (0.5).
    #[arg(long, default_value = "1s", value_name = "INTERVAL", value_parser = interval)]
    monitor_interval: Duration,
    /// Do not sample resources.
    #[arg(long)]
    no_monitor: bool,
    /// Let the program write to the terminal directly instead of keeping its stdout and
    /// stderr (by default they are shown live and kept as artifacts of the run, in
    /// DB.artifacts/RUN_ID/).
    #[arg(long, overrides_with = "capture_output")]
    no_capture_output: bool,
    /// Show the program's stdout and stderr live and keep them as artifacts (the default).
    #[arg(long, overrides_with = "no_capture_output")]
    capture_output: bool,
    /// Most bytes of each stream kept (the rest is shown, not kept, and the file says so).
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    capture_limit: u64,
    /// Log metrics found in the program's output lines by this regular expression, with the
    /// named groups `value` and optionally `key`, `step`, `epoch`, e.g.
    /// 'loss=(?P<value>[-+.\deE]+)' (the key is then the name before the value); repeatable.
    #[arg(long = "parse", value_name = "PATTERN", conflicts_with = "no_capture_output")]
    parse: Vec<String>,
    /// Log every `key=value` / `key: value` number in the program's output lines, at the step
    /// and epoch the line names: `epoch 3 step 1200 loss=0.312 acc=0.91`.
    #[arg(long, conflicts_with = "no_capture_output")]
    parse_key_values: bool,
    /// The program and its arguments, after `--`.
    #[arg(last = true, required = true, num_args = 1.., value_name = "CMD")]
    command: Vec<OsString>,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

/// `--monitor-interval`: `1s`, `500ms`, `2m`, or a number of seconds.
fn interval(text: &str) -> Result<Duration, String> {
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else if let Some(m) = text.strip_suffix('m') {
        (m, 60.0)
    } else {
        (text, 1.0)
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|n| Duration::try_from_secs_f64(n * scale).ok())
        .filter(|d| *d >= Duration::from_millis(10))
        .ok_or_else(|| format!("{text:?} is not an interval of at least 10ms, such as 1s, 500ms, 2m or 0.5"))
}

/// A param typed as the text reads: int, float, bool, else text.
fn param(value: &str) -> ParamValue {
    if let Ok(i) = value.parse::<i64>() {
        ParamValue::Int(i)
    } else if let Ok(f) = value.parse::<f64>() {
        ParamValue::Float(f)
    } else if let Ok(b) = value.parse::<bool>() {
        ParamValue::Bool(b)
    } else {
        ParamValue::Str(value.to_string())
    }
}

pub fn run(args: RecordArgs) -> anyhow::Result<u8> {
    let interval = args.monitor_interval;
    let parser = parse::LineParser::new(&args.parse, args.parse_key_values)?;
    let config = args.config.as_deref().map(config::read).transpose()?;
    let (rec, guard) = Recorder::open(&args.db).with_context(|| format!("opening {}", args.db.display()))?;
    let program_name = std::path::Path::new(&args.command[0])
        .file_name()
        .map_or_else(|| "run".to_string(), |n| n.to_string_lossy().into_owned());
    let experiment = rec.experiment(&args.experiment)?;
    let name = args.name.clone().unwrap_or(program_name);
    let run = match &args.trial {
        Some(trial) => experiment.trial(trial)?.start_run(&name),
        None => experiment.start_run(&name),
    };
    if let (Some(config), Some(path)) = (&config, &args.config) {
        run.config(config);
        let name = path.file_name().map_or_else(|| "config".into(), |n| n.to_string_lossy());
        if let Err(e) = run.artifact(ArtifactSpec::file(&name, "config", path)) {
            eprintln!("runstore: keeping {}: {e}", path.display());
        }
    }
    run.params(args.params.iter().map(|(k, v)| (k.clone(), param(v))));
    let tags: Vec<(&str, &str)> = args.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run.tags(&tags);
    let command_line =
        args.command.iter().map(|a| shell_quote(&a.to_string_lossy())).collect::<Vec<_>>().join(" ");
    let mut code = runstore::capture::code().unwrap_or_default();
    code.entrypoint = Some(command_line);
    run.code(code);
    // The run is in the file before the program starts: a Python child joins it at once.
    let prepared = rec.flush().map_err(anyhow::Error::from).and_then(|()| {
        let sink = Sink::create(run.id().as_str())?;
        let pipe = sink.open()?;
        Ok((sink, pipe))
    });
    let (sink, pipe) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            // Never started: the run says why rather than looking completed.
            run.fail(&format!("{e:#}"));
            guard.finish()?;
            return Err(e);
        }
    };
    let db = std::path::absolute(&args.db).unwrap_or_else(|_| args.db.clone());
    let env = [
        ("RUNSTORE_DB", db.into_os_string()),
        ("RUNSTORE_RUN_ID", OsString::from(run.id().as_str())),
        ("RUNSTORE_SINK", sink.path().as_os_str().to_os_string()),
        ("RUNSTORE_SOCKET", sink.socket_path().as_os_str().to_os_string()),
    ];
    let output = if args.no_capture_output {
        Output::Shared
    } else {
        let dir = format!("{}.artifacts", args.db.display());
        Output::Captured {
            dir: PathBuf::from(dir).join(run.id().as_str()),
            limit: args.capture_limit,
            parse: parser.map(|p| parse::ParseInto::new(p, rec.clone(), run.id().clone())),
        }
    };
    // The sink is read while the program runs, into the run it borrows.
    let ran = std::thread::scope(|scope| {
        let reader = scope.spawn(|| sink.read(pipe, &run));
        let python = python::interpreter(&args.command).map(|interpreter| {
            let env = &env;
            let run = &run;
            scope.spawn(move || {
                match python::environment(&interpreter, env, runstore::capture::environment()) {
                    Ok(environment) => run.environment(environment),
                    Err(e) => eprintln!("runstore: the Python environment is not recorded: {e:#}"),
                }
            })
        });
        let ran = run_program(&args, &rec, &run, &env, &output, interval);
        if let Some(python) = python {
            let _ = python.join();
        }
        let read = sink
            .close()
            .and_then(|()| reader.join().map_err(|_| anyhow::anyhow!("the sink reader panicked"))?);
        (ran, read)
    });
    let (fate, captured) = match ran {
        (Ok(ran), read) => {
            report_sink(read);
            ran
        }
        (Err(e), _) => {
            run.fail(&format!("{e:#}"));
            guard.finish()?;
            return Err(e);
        }
    };
    let mut stderr_tail = String::new();
    match captured {
        Ok(Some((stdout, stderr))) => {
            if (!args.parse.is_empty() || args.parse_key_values) && stdout.parsed + stderr.parsed == 0 {
                eprintln!("runstore: --parse found no metrics in the program's output");
            }
            for (name, stream) in [("stdout", &stdout), ("stderr", &stderr)] {
                // The end of the output rides in the file, for the page: the whole is beside it.
                let spec = ArtifactSpec::file(name, "log", &stream.path).metadata(serde_json::json!({
                    "bytes_written": stream.written,
                    "tail": stream.tail,
                }));
                if let Err(e) = run.artifact(spec) {
                    eprintln!("runstore: keeping {name}: {e}");
                }
            }
            if !stderr.last_lines.is_empty() {
                stderr_tail = format!("; stderr ends: {}", stderr.last_lines.join(" | "));
            }
        }
        Ok(None) => {}
        Err(e) => eprintln!("runstore: {e:#}"),
    }
    match &fate {
        Fate::Exited(0) => run.finish(),
        Fate::Exited(code) => run.fail(&format!("exited with code {code}{stderr_tail}")),
        Fate::Signalled(name, _) => run.kill(&format!("killed by {name}")),
    }
    guard.finish()?;
    Ok(fate.exit_code())
}

type Captured = anyhow::Result<Option<(output::Captured, output::Captured)>>;

/// Starts the program, samples it, waits for it and for its output.
fn run_program(
    args: &RecordArgs,
    rec: &Recorder,
    run: &runstore::Run,
    env: &[(&str, OsString)],
    output: &Output,
    interval: Duration,
) -> anyhow::Result<(Fate, Captured)> {
    let (mut program, streams) = Program::start(&args.command, env, output)?;
    let monitor = (!args.no_monitor)
        .then(|| ResourceMonitor::start_for_process(rec, Some(run.id()), program.id(), interval));
    let fate = program.wait();
    drop(monitor);
    // The output ends with the program (and any worker still holding it open).
    let captured = streams.map(child::CapturedStreams::finish).transpose();
    Ok((fate?, captured))
}

/// Says what the sink refused, once, at the end.
fn report_sink(read: anyhow::Result<SinkReport>) {
    match read {
        Ok(report) if report.malformed > 0 => eprintln!(
            "runstore: {} line{} not taken from RUNSTORE_SINK or RUNSTORE_SOCKET; the first: {}",
            report.malformed,
            if report.malformed == 1 { " was" } else { "s were" },
            report.first_malformed.unwrap_or_default()
        ),
        Ok(_) => {}
        Err(e) => eprintln!("runstore: reading RUNSTORE_SINK and RUNSTORE_SOCKET: {e:#}"),
    }
}

/// `arg` as a shell would need it quoted.
fn shell_quote(arg: &str) -> String {
    if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c)) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_with_or_without_a_unit() {
        assert_eq!(interval("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(interval("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(interval("0.25"), Ok(Duration::from_millis(250)));
        for bad in ["0", "-1s", "fast", "1h", "", "1e-9"] {
            assert!(interval(bad).unwrap_err().contains("not an interval of at least 10ms"), "{bad}");
        }
    }
}
