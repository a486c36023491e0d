//! The recorded program: started in a process group of its own, with Ctrl-C and SIGTERM sent
//! to `runstore record` forwarded to that group (a second Ctrl-C kills it), and its fate read
//! when it ends.

use std::ffi::OsString;
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// How the program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// It exited with this code.
    Exited(i32),
    /// A signal ended it (its name, e.g. `SIGKILL`, and number).
    Signalled(String, i32),
}

impl Fate {
    fn of(status: ExitStatus) -> Fate {
        use std::os::unix::process::ExitStatusExt as _;
        match (status.code(), status.signal()) {
            (Some(code), _) => Fate::Exited(code),
            (None, Some(signal)) => {
                let name =
                    Signal::try_from(signal).map_or_else(|_| format!("signal {signal}"), |s| s.to_string());
                Fate::Signalled(name, signal)
            }
            (None, None) => Fate::Exited(1),
        }
    }

    /// The exit code `runstore record` ends with: the program's, or 128 + the signal.
    pub fn exit_code(&self) -> u8 {
        match self {
            Fate::Exited(code) => u8::try_from(*code).unwrap_or(1),
            Fate::Signalled(_, signal) => u8::try_from(128 + signal).unwrap_or(1),
        }
    }
}

/// A started program and the signals forwarded to it.
pub struct Program {
    child: Child,
    signals: Signals,
    interrupts: u32,
}

/// Where the program's output goes: shared with this process, or captured (shown live and
/// kept in files of at most `limit` bytes in `dir`).
pub enum Output {
    /// The program writes to this process's stdout and stderr directly.
    Shared,
    /// Piped through this process into `dir/stdout.log` and `dir/stderr.log`.
    Captured {
        /// The folder of the two files.
        dir: std::path::PathBuf,
        /// Bytes kept of each stream.
        limit: u64,
        /// Where metrics found in the output lines go (`--parse`).
        parse: Option<super::parse::ParseInto>,
    },
}

/// The threads copying a captured program's output.
pub struct CapturedStreams {
    stdout: std::thread::JoinHandle<std::io::Result<super::output::Captured>>,
    stderr: std::thread::JoinHandle<std::io::Result<super::output::Captured>>,
}

impl CapturedStreams {
    /// Waits until the program's output ends (it has, once the program and every process that
    /// kept its output open are gone) and gives what was kept of stdout and stderr.
    pub fn finish(self) -> anyhow::Result<(super::output::Captured, super::output::Captured)> {
        // A worker the program left running may hold its output open for long: not waited for.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !(self.stdout.is_finished() && self.stderr.is_finished()) {
            if std::time::Instant::now() > deadline {
                anyhow::bail!(
                    "the program ended but a process it started still holds its output open; \
                     the output files are not recorded as artifacts"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let join = |h: std::thread::JoinHandle<std::io::Result<super::output::Captured>>| {
            h.join().map_err(|_| anyhow::anyhow!("the output copier panicked"))?.context("keeping the output")
        };
        Ok((join(self.stdout)?, join(self.stderr)?))
    }
}

impl Program {
    /// Starts `command` (program then arguments) with `env` added, stdin/stdout/stderr shared
    /// with this process, in a new process group.
    pub fn start(
        command: &[OsString],
        env: &[(&str, OsString)],
        output: &Output,
    ) -> anyhow::Result<(Program, Option<CapturedStreams>)> {
        use std::os::unix::process::CommandExt as _;
        use std::process::Stdio;
        let (program, args) = command.split_first().context("no command to record")?;
        // Registered before the start, so a Ctrl-C right away is forwarded, not fatal to us.
        let signals = Signals::new([SIGINT, SIGTERM]).context("listening for Ctrl-C and SIGTERM")?;
        let mut command = Command::new(program);
        command.args(args).envs(env.iter().map(|(k, v)| (k, v))).process_group(0);
        if let Output::Captured { dir, .. } = output {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
            // Python buffers a pipe in blocks; the output is still shown as it comes.
            if std::env::var_os("PYTHONUNBUFFERED").is_none() {
                command.env("PYTHONUNBUFFERED", "1");
            }
        }
        let mut child =
            command.spawn().with_context(|| format!("could not start {}", program.to_string_lossy()))?;
        let streams = match output {
            Output::Shared => None,
            Output::Captured { dir, limit, parse } => {
                let stdout = child.stdout.take().context("the program's stdout")?;
                let stderr = child.stderr.take().context("the program's stderr")?;
                let metrics = || parse.as_ref().map(super::parse::ParseInto::stream);
                Some(CapturedStreams {
                    stdout: super::output::tee(
                        stdout,
                        std::io::stdout(),
                        dir.join("stdout.log"),
                        *limit,
                        metrics(),
                    ),
                    stderr: super::output::tee(
                        stderr,
                        std::io::stderr(),
                        dir.join("stderr.log"),
                        *limit,
                        metrics(),
                    ),
                })
            }
        };
        Ok((Program { child, signals, interrupts: 0 }, streams))
    }

    /// The program's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the program to end, forwarding Ctrl-C and SIGTERM to its process group (a
    /// second Ctrl-C sends SIGKILL).
    pub fn wait(&mut self) -> anyhow::Result<Fate> {
        loop {
            if let Some(status) = self.child.try_wait().context("waiting for the program")? {
                return Ok(Fate::of(status));
            }
            let pending: Vec<i32> = self.signals.pending().collect();
            for signal in pending {
                let forward = match signal {
                    SIGINT => {
                        self.interrupts += 1;
                        if self.interrupts > 1 {
                            eprintln!("runstore: killing the program (second Ctrl-C)");
                            Signal::SIGKILL
                        } else {
                            Signal::SIGINT
                        }
                    }
                    _ => Signal::SIGTERM,
                };
                let group = Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(i32::MAX));
                // The group may be gone already: the program is ending anyway.
                let _ = killpg(group, forward);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
