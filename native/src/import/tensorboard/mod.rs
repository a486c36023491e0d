//! TensorBoard logs: every directory under a log directory that holds event files
//! (`events.out.tfevents.*`) is one run, named by its path below the log directory. Event files
//! are TFRecord files (each record: its length, a masked CRC-32C of the length, the bytes, a
//! masked CRC-32C of the bytes), each record an `Event` protocol buffer. Scalars come from
//! `simple_value` (TF1, tensorboardX) and from the scalar tensors of the `scalars` plugin (TF2),
//! with their step and wall time; hyperparameters from the `hparams` plugin's session start (as
//! TensorBoard's HParams dashboard shows them) become the run's params. A record cut short at the end of a file (a job still
//! writing) ends that file with a note; a CRC that does not match is an error naming the file
//! and the offset. Images, histograms, text and the rest are left out, and listed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod protobuf;

use runstore_core::{Context, ParamValue, Point, RunStatus};

use super::{ImportedRun, ImportedSeries, Progress, Skipped};
use crate::{Error, Result};
use protobuf::{Fields, Value};

/// What one log directory held.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// One run per directory with event files.
    pub runs: Vec<ImportedRun>,
    /// What was left out (not scalars, a cut-short last record), with why.
    pub skipped: Vec<Skipped>,
    /// Event files read.
    pub files: usize,
    /// Bytes of event files read.
    pub bytes: u64,
}

/// Reads every run under `logdir` into the experiment `experiment`; `progress` is told the
/// bytes of event files read.
pub fn read(logdir: &Path, experiment: &str, progress: Progress<'_>) -> Result<Read> {
    let mut dirs: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    collect(logdir, &mut dirs)?;
    if dirs.is_empty() {
        return Err(Error::Import(format!(
            "{}: no TensorBoard event files (events.out.tfevents.*) in it or below it",
            logdir.display()
        )));
    }
    let mut read = Read { runs: Vec::new(), skipped: Vec::new(), files: 0, bytes: 0 };
    let total: u64 = dirs.values().flatten().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum();
    for (dir, files) in dirs {
        let relative = dir.strip_prefix(logdir).unwrap_or(&dir);
        let name = if relative.as_os_str().is_empty() {
            logdir.file_name().map_or_else(|| ".".into(), |n| n.to_string_lossy().into_owned())
        } else {
            relative.to_string_lossy().into_owned()
        };
        let mut series: BTreeMap<String, Vec<Point>> = BTreeMap::new();
        let mut params: BTreeMap<String, ParamValue> = BTreeMap::new();
        let mut left_out: BTreeMap<String, usize> = BTreeMap::new();
        for file in &files {
            let bytes =
                std::fs::read(file).map_err(|error| Error::Io { path: file.display().to_string(), error })?;
            read.files += 1;
            read.bytes += bytes.len() as u64;
            progress(read.bytes, total.max(read.bytes));
            let shown = file.display().to_string();
            let cut =
                records(&bytes, &shown, |record| values(record, &mut series, &mut params, &mut left_out))?;
            if let Some(offset) = cut {
                read.skipped.push(Skipped {
                    what: format!("the last record of {shown} (from byte {offset})"),
                    why: "cut short: the file ends inside it (a job still writing?); what came before is imported".into(),
                });
            }
        }
        for (tag, n) in left_out {
            read.skipped.push(Skipped {
                what: format!("{n} values of {tag:?} in {name}"),
                why: "not scalars".into(),
            });
        }
        let (first, last) = series
            .values()
            .flatten()
            .fold((i64::MAX, i64::MIN), |(a, b), p| (a.min(p.time_ms), b.max(p.time_ms)));
        let first_file = files[0].file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        read.runs.push(ImportedRun {
            source_id: format!("tensorboard:{name}:{first_file}"),
            source: "tensorboard",
            experiment: experiment.to_owned(),
            status: RunStatus::Completed,
            started_ms: if first <= last { first } else { 0 },
            ended_ms: Some(if first <= last { last } else { 0 }),
            params: params.into_iter().collect(),
            tags: vec![("import.file".into(), dir.display().to_string())],
            artifacts: Vec::new(),
            series: series
                .into_iter()
                .map(|(key, points)| ImportedSeries { key, context: Context::none(), points })
                .collect(),
            name,
        });
    }
    Ok(read)
}

/// Directories under `dir` (itself included) with their event files, in name order. Links to
/// folders are not followed (`latest -> run_3` would import run 3 twice).
fn collect(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<PathBuf>>) -> Result<()> {
    for (path, kind) in super::entries(dir)? {
        if kind.is_dir() {
            collect(&path, out)?;
        } else if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("events.out.tfevents.")) {
            out.entry(dir.to_owned()).or_default().push(path);
        }
    }
    Ok(())
}

/// Calls `each` with every whole record of a TFRecord file; returns the offset of a record cut
/// short at the end, if any. A CRC that does not match is an error.
fn records(bytes: &[u8], shown: &str, mut each: impl FnMut(&[u8])) -> Result<Option<usize>> {
    let mut at = 0;
    while at < bytes.len() {
        let Some(header) = bytes.get(at..at + 12) else { return Ok(Some(at)) };
        let length = u64::from_le_bytes(header[..8].try_into().expect("8 bytes"));
        let length_crc = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
        if masked_crc(&header[..8]) != length_crc {
            return Err(Error::Import(format!(
                "{shown}: the record at byte {at} has a bad length CRC (damaged, or not an event file)"
            )));
        }
        let start = at + 12;
        let Some((end, crc_end)) = usize::try_from(length)
            .ok()
            .and_then(|l| start.checked_add(l))
            .and_then(|end| Some((end, end.checked_add(4)?)))
        else {
            return Ok(Some(at));
        };
        let (Some(data), Some(crc)) = (bytes.get(start..end), bytes.get(end..crc_end)) else {
            return Ok(Some(at));
        };
        if masked_crc(data) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return Err(Error::Import(format!(
                "{shown}: the record at byte {at} has a bad data CRC (damaged)"
            )));
        }
        each(data);
        at = crc_end;
    }
    Ok(None)
}

/// TFRecord's masked CRC-32C.
fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// The scalars of one `Event` record, into `series` by tag, and its hyperparameters (the
/// hparams plugin's session start) into `params`; other values counted in `left_out`.
fn values(
    event: &[u8],
    series: &mut BTreeMap<String, Vec<Point>>,
    params: &mut BTreeMap<String, ParamValue>,
    left_out: &mut BTreeMap<String, usize>,
) {
    let (mut wall_time, mut step, mut summary) = (0.0, 0, None);
    for (field, value) in Fields(event) {
        match (field, value) {
            (1, Value::Fixed64(bits)) => wall_time = f64::from_bits(bits),
            (2, Value::Varint(v)) => step = v as i64,
            (5, Value::Bytes(b)) => summary = Some(b),
            _ => {}
        }
    }
    let time_ms = (wall_time * 1000.0).round() as i64;
    for (field, value) in Fields(summary.unwrap_or_default()) {
        let (1, Value::Bytes(v)) = (field, value) else { continue };
        let (mut tag, mut simple, mut tensor, mut plugin) =
            (String::new(), None, None, (String::new(), &[][..]));
        for (field, value) in Fields(v) {
            match (field, value) {
                (1, Value::Bytes(b)) => tag = String::from_utf8_lossy(b).into_owned(),
                (2, Value::Fixed32(bits)) => simple = Some(f64::from(f32::from_bits(bits))),
                (8, Value::Bytes(b)) => tensor = Some(b),
                (9, Value::Bytes(b)) => plugin = plugin_data(b),
                _ => {}
            }
        }
        if plugin.0 == "hparams" {
            // The experiment's and session end's records hold no values.
            if tag == "_hparams_/session_start_info" {
                hparams(plugin.1, params);
            }
            continue;
        }
        let value =
            simple.or_else(|| if plugin.0 == "scalars" { tensor.and_then(scalar_tensor) } else { None });
        match value {
            Some(value) => {
                series.entry(tag).or_default().push(Point { step, time_ms, value, epoch: None, batch: None })
            }
            None => *left_out.entry(tag).or_default() += 1,
        }
    }
}

/// The plugin name and content in a `SummaryMetadata`.
fn plugin_data(metadata: &[u8]) -> (String, &[u8]) {
    let mut out = (String::new(), &[][..]);
    for (field, value) in Fields(metadata) {
        let (1, Value::Bytes(data)) = (field, value) else { continue };
        for (field, value) in Fields(data) {
            match (field, value) {
                (1, Value::Bytes(name)) => out.0 = String::from_utf8_lossy(name).into_owned(),
                (2, Value::Bytes(content)) => out.1 = content,
                _ => {}
            }
        }
    }
    out
}

/// The hyperparameters of an `HParamsPluginData` holding a `SessionStartInfo`: its map of
/// names to `google.protobuf.Value`s (numbers, text, booleans; others left out).
fn hparams(content: &[u8], params: &mut BTreeMap<String, ParamValue>) {
    for (field, value) in Fields(content) {
        let (3, Value::Bytes(start)) = (field, value) else { continue };
        for (field, value) in Fields(start) {
            let (1, Value::Bytes(entry)) = (field, value) else { continue };
            let (mut name, mut param) = (String::new(), None);
            for (field, value) in Fields(entry) {
                match (field, value) {
                    (1, Value::Bytes(b)) => name = String::from_utf8_lossy(b).into_owned(),
                    (2, Value::Bytes(v)) => {
                        param = Fields(v).find_map(|kind| match kind {
                            (2, Value::Fixed64(bits)) => Some(ParamValue::Float(f64::from_bits(bits))),
                            (3, Value::Bytes(text)) => {
                                Some(ParamValue::Str(String::from_utf8_lossy(text).into_owned()))
                            }
                            (4, Value::Varint(b)) => Some(ParamValue::Bool(b != 0)),
                            _ => None,
                        })
                    }
                    _ => {}
                }
            }
            if let Some(param) = param {
                params.insert(name, param);
            }
        }
    }
}

/// The value of a scalar `TensorProto` of float or double.
fn scalar_tensor(tensor: &[u8]) -> Option<f64> {
    let (mut dtype, mut content, mut value) = (0, None, None);
    for (field, v) in Fields(tensor) {
        match (field, v) {
            (1, Value::Varint(d)) => dtype = d,
            (4, Value::Bytes(b)) => content = Some(b),
            (5, Value::Fixed32(bits)) => value = Some(f64::from(f32::from_bits(bits))),
            (5, Value::Bytes(packed)) if packed.len() >= 4 => {
                value = Some(f64::from(f32::from_le_bytes(packed[..4].try_into().ok()?)))
            }
            (6, Value::Fixed64(bits)) => value = Some(f64::from_bits(bits)),
            (6, Value::Bytes(packed)) if packed.len() >= 8 => {
                value = Some(f64::from_le_bytes(packed[..8].try_into().ok()?))
            }
            _ => {}
        }
    }
    value.or_else(|| match (dtype, content?) {
        (1, c) if c.len() == 4 => Some(f64::from(f32::from_le_bytes(c.try_into().ok()?))),
        (2, c) if c.len() == 8 => Some(f64::from_le_bytes(c.try_into().ok()?)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masked_crc_is_tfrecords() {
        // As tensorboardX computes it (tests/fixtures/tensorboard/masked_crc.json).
        assert_eq!(masked_crc(&0u64.to_le_bytes()), 127_402_793);
        assert_eq!(masked_crc(&42u64.to_le_bytes()), 4_119_956_910);
        assert_eq!(masked_crc(b"runstore"), 491_544_526);
    }

    /// Seeded mutations of the fixture's event files: of single records past the CRC checks
    /// (the protocol-buffer reader sees damaged messages) and of whole files (the framing sees
    /// damaged lengths, CRCs and ends). Every case ends in values, an error or a note — never
    /// a panic. Short mode here; long mode (`RUNSTORE_FUZZ_CASES`) in `scripts/reliability`.
    #[test]
    fn fuzz_event_files_never_panic() {
        let n = std::env::var("RUNSTORE_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
        let logs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tensorboard/logs");
        let mut dirs = BTreeMap::new();
        collect(&logs, &mut dirs).unwrap();
        let files: Vec<Vec<u8>> = dirs.values().flatten().map(|f| std::fs::read(f).unwrap()).collect();
        let mut messages = Vec::new();
        for file in &files {
            records(file, "fixture", |r| messages.push(r.to_vec())).unwrap();
        }
        let mut state = 0x7f_e7e5_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut values_read, mut errors, mut cut) = (0usize, 0usize, 0usize);
        for case in 0..n {
            let mut bytes = if case % 2 == 0 {
                messages[case / 2 % messages.len()].clone()
            } else {
                files[case % files.len()].clone()
            };
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % bytes.len().max(1);
                match next() % 4 {
                    0 if !bytes.is_empty() => bytes[at] ^= 1 << (next() % 8),
                    1 if !bytes.is_empty() => bytes[at] = next() as u8,
                    2 => bytes.truncate(at),
                    _ => bytes.splice(at..at, (0..next() % 16).map(|_| next() as u8)).for_each(drop),
                }
            }
            let (mut series, mut params, mut left_out) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
            if case % 2 == 0 {
                values(&bytes, &mut series, &mut params, &mut left_out);
            } else {
                match records(&bytes, "fuzz", |r| values(r, &mut series, &mut params, &mut left_out)) {
                    Ok(Some(_)) => cut += 1,
                    Ok(None) => {}
                    Err(_) => errors += 1,
                }
            }
            values_read += series.values().map(Vec::len).sum::<usize>() + params.len();
        }
        println!("{n} cases: {values_read} values read, {errors} files refused (CRC), {cut} cut short");
    }
}
