//! The program's standard output and error: shown live, and kept as files (each up to a limit,
//! with a note where it was cut) that become artifacts of the run. The last lines of standard
//! error are kept in memory for the run's error message.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// Lines of standard error kept for a failed run's message.
const LAST_LINES: usize = 5;

/// What one stream left behind.
#[derive(Debug)]
pub struct Captured {
    /// The file holding what was kept.
    pub path: PathBuf,
    /// Bytes the program wrote.
    pub written: u64,
    /// Its last lines (standard error's are used in a failed run's message).
    pub last_lines: Vec<String>,
}

/// Copies one stream of the program to this process's (live) and to `path`, keeping at most
/// `limit` bytes in the file.
pub fn tee(
    from: impl Read + Send + 'static,
    to: impl Write + Send + 'static,
    path: PathBuf,
    limit: u64,
) -> JoinHandle<std::io::Result<Captured>> {
    std::thread::spawn(move || copy(from, to, &path, limit))
}

fn copy(mut from: impl Read, mut to: impl Write, path: &Path, limit: u64) -> std::io::Result<Captured> {
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
        // The terminal may be gone (a closed pipe): the file still gets everything.
        let _ = to.write_all(chunk).and_then(|()| to.flush());
        let room = limit.saturating_sub(kept).min(n as u64) as usize;
        file.write_all(&chunk[..room])?;
        kept += room as u64;
        written += n as u64;
        tail.extend(chunk);
        if tail.len() > 8192 {
            tail.drain(..tail.len() - 8192);
        }
    }
    if written > kept {
        writeln!(
            file,
            "\n[runstore: output cut at {kept} bytes; the program wrote {written}, the last {} not kept]",
            written - kept
        )?;
    }
    file.flush()?;
    let text = String::from_utf8_lossy(tail.make_contiguous()).into_owned();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let last_lines = lines[lines.len().saturating_sub(LAST_LINES)..].iter().map(|l| l.to_string()).collect();
    Ok(Captured { path: path.to_path_buf(), written, last_lines })
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
        let captured = copy(input.as_bytes(), &mut shown, &path, 100).unwrap();
        assert_eq!(shown, input.as_bytes(), "everything is shown live");
        assert_eq!(captured.written, input.len() as u64);
        let kept = std::fs::read_to_string(&path).unwrap();
        assert!(kept.starts_with(&input[..100]));
        assert!(kept.contains("[runstore: output cut at 100 bytes"), "{kept}");
        assert_eq!(captured.last_lines, ["line 995", "line 996", "line 997", "line 998", "line 999"]);
    }
}
