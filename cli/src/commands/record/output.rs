//! The program's standard output and error: shown live, and kept as files (each up to a limit,
//! with a note where it was cut) that become artifacts of the run. The last lines of standard
//! error are kept in memory for the run's error message.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use super::parse::OutputMetrics;

/// Lines of standard error kept for a failed run's message.
const LAST_LINES: usize = 5;

/// Bytes of the end of each stream kept in the file itself (the page shows them: a dropped
/// file has no folder next to it).
const TAIL_BYTES: usize = 32 * 1024;

/// What one stream left behind.
#[derive(Debug)]
pub struct Captured {
    /// The file holding what was kept.
    pub path: PathBuf,
    /// Bytes the program wrote.
    pub written: u64,
    /// Its last lines (standard error's are used in a failed run's message).
    pub last_lines: Vec<String>,
    /// Its end: the last [`TAIL_BYTES`] at most, from a line's start.
    pub tail: String,
    /// Metric points `--parse` found in it.
    pub parsed: u64,
}

/// The longest line given to `--parse`; the rest of a longer one is not parsed.
const LONGEST_PARSED_LINE: usize = 64 * 1024;

/// Copies one stream of the program to this process's (live) and to `path`, keeping at most
/// `limit` bytes in the file, and gives each line to `metrics` when parsing is asked for.
pub fn tee(
    from: impl Read + Send + 'static,
    to: impl Write + Send + 'static,
    path: PathBuf,
    limit: u64,
    metrics: Option<OutputMetrics>,
) -> JoinHandle<std::io::Result<Captured>> {
    std::thread::spawn(move || copy(from, to, &path, limit, metrics))
}

fn copy(
    mut from: impl Read,
    mut to: impl Write,
    path: &Path,
    limit: u64,
    mut metrics: Option<OutputMetrics>,
) -> std::io::Result<Captured> {
    let mut lines = Lines::default();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut buffer = vec![0u8; 64 * 1024];
    let (mut written, mut kept) = (0u64, 0u64);
    let mut tail: VecDeque<u8> = VecDeque::new();
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buffer[..n];
        if let Some(metrics) = &mut metrics {
            lines.split(chunk, |line| metrics.line(line));
        }
        // The terminal may be gone (a closed pipe): the file still gets everything.
        let _ = to.write_all(chunk).and_then(|()| to.flush());
        let room = limit.saturating_sub(kept).min(n as u64) as usize;
        file.write_all(&chunk[..room])?;
        kept += room as u64;
        written += n as u64;
        tail.extend(chunk);
        if tail.len() > TAIL_BYTES {
            tail.drain(..tail.len() - TAIL_BYTES);
        }
    }
    if let Some(metrics) = &mut metrics {
        lines.finish(|line| metrics.line(line));
    }
    if written > kept {
        writeln!(
            file,
            "\n[runstore: output cut at {kept} bytes; the program wrote {written}, the last {} not kept]",
            written - kept
        )?;
    }
    file.flush()?;
    let cut = written > tail.len() as u64;
    let mut text = String::from_utf8_lossy(tail.make_contiguous()).into_owned();
    if cut {
        // From the first whole line.
        text = text.split_once('\n').map_or(text.clone(), |(_, rest)| rest.to_string());
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let last_lines = lines[lines.len().saturating_sub(LAST_LINES)..].iter().map(|l| l.to_string()).collect();
    let parsed = metrics.map_or(0, |m| m.points);
    Ok(Captured { path: path.to_path_buf(), written, last_lines, tail: text, parsed })
}

/// Splits a stream into lines at `\n` and `\r` (progress bars redraw with `\r`).
#[derive(Default)]
struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    fn split(&mut self, chunk: &[u8], mut line: impl FnMut(&str)) {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.push(&rest[..end]);
            line(&String::from_utf8_lossy(&self.partial));
            self.partial.clear();
            rest = &rest[end + 1..];
        }
        self.push(rest);
    }

    fn push(&mut self, bytes: &[u8]) {
        let room = LONGEST_PARSED_LINE.saturating_sub(self.partial.len()).min(bytes.len());
        self.partial.extend_from_slice(&bytes[..room]);
    }

    fn finish(&mut self, mut line: impl FnMut(&str)) {
        if !self.partial.is_empty() {
            line(&String::from_utf8_lossy(&self.partial));
            self.partial.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_is_shown_whole_kept_up_to_the_limit_and_its_last_lines_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stderr.log");
        let input: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let mut shown = Vec::new();
        let captured = copy(input.as_bytes(), &mut shown, &path, 100, None).unwrap();
        assert_eq!(shown, input.as_bytes(), "everything is shown live");
        assert_eq!(captured.written, input.len() as u64);
        let kept = std::fs::read_to_string(&path).unwrap();
        assert!(kept.starts_with(&input[..100]));
        assert!(kept.contains("[runstore: output cut at 100 bytes"), "{kept}");
        assert_eq!(captured.last_lines, ["line 995", "line 996", "line 997", "line 998", "line 999"]);
        assert_eq!(captured.tail, input, "a short stream's tail is all of it");
        let long: String = (0..10_000).map(|i| format!("line {i}\n")).collect();
        let captured = copy(long.as_bytes(), std::io::sink(), &path, u64::MAX, None).unwrap();
        assert!(captured.tail.len() <= TAIL_BYTES && captured.tail.starts_with("line "), "whole lines");
        assert!(long.ends_with(&captured.tail));
    }

    #[test]
    fn lines_end_at_newlines_and_carriage_returns_and_a_last_line_without_one() {
        let mut lines = Lines::default();
        let mut got = Vec::new();
        lines.split(b"a=1\nb=", |l| got.push(l.to_string()));
        lines.split(b"2\r\nc=3", |l| got.push(l.to_string()));
        lines.finish(|l| got.push(l.to_string()));
        assert_eq!(got, ["a=1", "b=2", "", "c=3"]);
    }
}
