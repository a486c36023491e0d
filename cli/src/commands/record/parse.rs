//! Metrics read from the program's output lines, for programs that only print them:
//! `--parse PATTERN` (a regular expression with the named groups `value` and optionally `key`,
//! `step`, `epoch`) and `--parse-key-values`, a detector of `key=value` / `key: value` pairs in
//! lines such as `epoch 3 step 1200 loss=0.312 acc=0.91`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use anyhow::Context as _;
use regex::Regex;
use runstore::{Context, Id, Point, Recorder, Run};

/// A `key=value` or `key: value` pair whose value is a number (NaN and infinities included),
/// ending the token: `loss=0.31,` and `acc: 91` are pairs; `time=12:30` and `id=3a` are not.
static KEY_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b([a-z_][\w./-]*)\s*[=:]\s*([-+]?(?:(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|nan|inf(?:inity)?))(?:[\s,;|)\]}]|$)",
    )
    .expect("a valid regex")
});

/// `epoch 3`, `Step: 1200`, `iter=50/100`: where a line says which step or epoch it is about.
static POSITION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(epoch|step|global_step|iter|iteration)\b\s*[=:]?\s*(\d+)").expect("a valid regex")
});

/// One metric value found in a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The metric key.
    pub key: String,
    /// Its value.
    pub value: f64,
    /// The step the line names, if any.
    pub step: Option<i64>,
    /// The epoch the line names, if any.
    pub epoch: Option<u32>,
}

/// A `--parse` pattern, and the key it logs under when it has no `key` group.
#[derive(Debug)]
struct Pattern {
    regex: Regex,
    fixed_key: Option<String>,
}

/// What reads metrics from output lines.
#[derive(Debug)]
pub struct LineParser {
    patterns: Vec<Pattern>,
    key_values: bool,
}

impl LineParser {
    /// The parser of `--parse` patterns and `--parse-key-values`; `None` when neither is given.
    pub fn new(patterns: &[String], key_values: bool) -> anyhow::Result<Option<LineParser>> {
        if patterns.is_empty() && !key_values {
            return Ok(None);
        }
        let patterns = patterns.iter().map(|p| Pattern::new(p)).collect::<anyhow::Result<_>>()?;
        Ok(Some(LineParser { patterns, key_values }))
    }

    /// The metric values `line` holds, appended to `found`.
    pub fn parse(&self, line: &str, found: &mut Vec<Found>) {
        for pattern in &self.patterns {
            for captures in pattern.regex.captures_iter(line) {
                let key = match (&pattern.fixed_key, captures.name("key")) {
                    (_, Some(key)) if !key.as_str().is_empty() => key.as_str().to_string(),
                    (Some(fixed), _) => fixed.clone(),
                    _ => continue,
                };
                let Some(value) = captures.name("value").and_then(|v| number(v.as_str())) else { continue };
                let step = captures.name("step").and_then(|s| s.as_str().parse().ok());
                let epoch = captures.name("epoch").and_then(|s| s.as_str().parse().ok());
                found.push(Found { key, value, step, epoch });
            }
        }
        if self.key_values {
            // A metric a pattern found in this line is not logged twice.
            let by_patterns = found.len();
            key_values(line, found);
            let mut index = by_patterns;
            while index < found.len() {
                if found[..by_patterns].iter().any(|f| f.key == found[index].key) {
                    found.remove(index);
                } else {
                    index += 1;
                }
            }
        }
    }
}

impl Pattern {
    fn new(text: &str) -> anyhow::Result<Pattern> {
        let regex =
            Regex::new(text).with_context(|| format!("--parse {text:?} is not a regular expression"))?;
        let groups: Vec<&str> = regex.capture_names().flatten().collect();
        anyhow::ensure!(
            groups.contains(&"value"),
            "--parse {text:?} has no group named `value`: write it as e.g. 'loss=(?P<value>[-+.\\deE]+)'"
        );
        let fixed_key = if groups.contains(&"key") {
            None
        } else {
            Some(key_before_value(text).with_context(|| {
                format!(
                    "--parse {text:?}: with no group named `key`, the key is the name written just \
                     before the value group (as in 'loss=(?P<value>...)'), and there is none"
                )
            })?)
        };
        Ok(Pattern { regex, fixed_key })
    }
}

/// The name written just before the `value` group of a pattern: `loss` in
/// `loss\s*=\s*(?P<value>...)`, `val/acc` in `val/acc: (?<value>...)`.
fn key_before_value(pattern: &str) -> Option<String> {
    let at = pattern.find("(?P<value>").or_else(|| pattern.find("(?<value>"))?;
    // `train\.loss` names `train.loss`.
    let before = pattern[..at].replace("\\.", ".").replace("\\/", "/").replace("\\-", "-");
    let mut before = before.as_str();
    const SEPARATORS: [&str; 16] = [
        "\\s*", "\\s+", "\\s?", " *", " +", " ?", " ", "=", ":", "\\=", "\\:", "\\s", "[:=]", "[=:]", "\\b",
        "\\W",
    ];
    while let Some(rest) = SEPARATORS.iter().find_map(|s| before.strip_suffix(s)) {
        before = rest;
    }
    let mut start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || "_./-".contains(*c))
        .last()
        .map(|(i, _)| i)?;
    // `\bloss` and `\sloss`: the letter after a backslash is the regex's, not the name's.
    if before[..start].ends_with('\\') {
        start += before[start..].chars().next().map_or(0, char::len_utf8);
    }
    let key = before[start..].trim_start_matches(['.', '/', '-']);
    (!key.is_empty()).then(|| key.to_string())
}

/// The built-in detector: every `key=value` / `key: value` pair of the line, with the step
/// and epoch the line names (`step 1200`, `epoch=3`) applied to them rather than logged.
fn key_values(line: &str, found: &mut Vec<Found>) {
    let (mut step, mut epoch) = (None, None);
    for captures in POSITION.captures_iter(line) {
        let word = captures[1].to_ascii_lowercase();
        if word == "epoch" {
            epoch = epoch.or_else(|| captures[2].parse().ok());
        } else {
            step = step.or_else(|| captures[2].parse().ok());
        }
    }
    for captures in KEY_VALUE.captures_iter(line) {
        let key = &captures[1];
        if POSITION_WORDS.iter().any(|w| key.eq_ignore_ascii_case(w)) {
            continue;
        }
        if let Some(value) = number(&captures[2]) {
            found.push(Found { key: key.to_string(), value, step, epoch });
        }
    }
}

const POSITION_WORDS: [&str; 5] = ["epoch", "step", "global_step", "iter", "iteration"];

/// A number as programs print them, NaN and infinities included.
fn number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().or_else(|| match text.to_ascii_lowercase().trim_start_matches('+') {
        "nan" | "-nan" => Some(f64::NAN),
        "inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    })
}

/// A [`LineParser`] and the run its metrics go to.
pub struct ParseInto {
    parser: Arc<LineParser>,
    rec: Recorder,
    run: Id,
}

impl ParseInto {
    /// Parses into the run `run` of `rec`.
    pub fn new(parser: LineParser, rec: Recorder, run: Id) -> ParseInto {
        ParseInto { parser: Arc::new(parser), rec, run }
    }

    /// What logs the metrics of one output stream.
    pub fn stream(&self) -> OutputMetrics {
        OutputMetrics::new(self.parser.clone(), self.rec.attach_run(self.run.clone()))
    }
}

/// Logs what a [`LineParser`] finds in one output stream into the run. Lines without a step
/// get the next step of their key (0, 1, 2, ...).
pub struct OutputMetrics {
    parser: Arc<LineParser>,
    run: Run,
    series: HashMap<String, runstore::Series>,
    next_step: HashMap<String, i64>,
    found: Vec<Found>,
    /// Points logged.
    pub points: u64,
}

impl OutputMetrics {
    /// Logs into `run` (a handle attached to the recorded run).
    fn new(parser: Arc<LineParser>, run: Run) -> OutputMetrics {
        OutputMetrics {
            parser,
            run,
            series: HashMap::new(),
            next_step: HashMap::new(),
            found: Vec::new(),
            points: 0,
        }
    }

    /// Logs the metrics of one line.
    pub fn line(&mut self, line: &str) {
        self.found.clear();
        self.parser.parse(line, &mut self.found);
        for found in self.found.drain(..) {
            let next = self.next_step.entry(found.key.clone()).or_insert(0);
            let step = found.step.unwrap_or(*next);
            *next = step + 1;
            let run = &self.run;
            let series = self
                .series
                .entry(found.key)
                .or_insert_with_key(|key| run.series_labelled(key, &Context::none(), ""));
            series.log_point(Point {
                step,
                time_ms: runstore::now_ms(),
                value: found.value,
                epoch: found.epoch,
                batch: None,
            });
            self.points += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(patterns: &[&str], key_values: bool, line: &str) -> Vec<Found> {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        let parser = LineParser::new(&patterns, key_values).unwrap().unwrap();
        let mut found = Vec::new();
        parser.parse(line, &mut found);
        found
    }

    fn found(key: &str, value: f64, step: Option<i64>, epoch: Option<u32>) -> Found {
        Found { key: key.into(), value, step, epoch }
    }

    #[test]
    fn the_key_values_of_a_training_line_are_found_with_its_step_and_epoch() {
        let line = "epoch 3 step 1200 loss=0.312 acc=0.91";
        assert_eq!(
            parse(&[], true, line),
            [found("loss", 0.312, Some(1200), Some(3)), found("acc", 0.91, Some(1200), Some(3))]
        );
        let line = "INFO:root:Step: 7, val/loss: 1.5e-3, lr=3e-4 (time=12:30:01, id=3a)";
        assert_eq!(
            parse(&[], true, line),
            [found("val/loss", 1.5e-3, Some(7), None), found("lr", 3e-4, Some(7), None)]
        );
        let tqdm = "100%|#####| 10/10 [00:01<00:00, 9.5it/s, loss=nan, grad=-inf]";
        let got = parse(&[], true, tqdm);
        assert_eq!(got.len(), 2);
        assert!(got[0].value.is_nan() && got[1].value == f64::NEG_INFINITY);
        assert!(parse(&[], true, "nothing to see: here, version 1.2.3").is_empty());
        let both = parse(&[r"loss=(?P<value>[\d.]+)"], true, "step 5 loss=0.5 acc=0.9");
        assert_eq!(both, [found("loss", 0.5, None, None), found("acc", 0.9, Some(5), None)], "loss once");
    }

    #[test]
    fn a_pattern_takes_its_key_from_a_group_or_from_the_name_before_the_value() {
        assert_eq!(
            parse(&[r"loss=(?P<value>[-+.\deE]+)"], false, "a loss=0.5 b"),
            [found("loss", 0.5, None, None)]
        );
        assert_eq!(
            parse(&[r"val/acc\s*:\s*(?<value>\S+) @ (?P<step>\d+)"], false, "val/acc : 0.75 @ 40"),
            [found("val/acc", 0.75, Some(40), None)]
        );
        let pair = r"(?P<key>\w+)=(?P<value>[-\d.]+)";
        assert_eq!(
            parse(&[pair], false, "x=1 y=-2"),
            [found("x", 1.0, None, None), found("y", -2.0, None, None)]
        );
        assert!(parse(&[r"loss=(?P<value>\S+)"], false, "loss=oops").is_empty(), "not a number: skipped");
        for (pattern, key) in [
            (r"\bloss=(?P<value>\S+)", "loss"),
            (r"\strain\.loss\s*[:=]\s*(?P<value>\S+)", "train.loss"),
            (r"val/acc: (?P<value>\S+)", "val/acc"),
        ] {
            assert_eq!(key_before_value(pattern).as_deref(), Some(key), "{pattern}");
        }
    }

    #[test]
    fn a_pattern_that_cannot_name_its_metric_is_refused_at_the_start() {
        let error = |p: &str| LineParser::new(&[p.to_string()], false).unwrap_err().to_string();
        assert!(error("loss=([0-9.]+)").contains("no group named `value`"));
        assert!(error(r"=(?P<value>\d+)").contains("no group named `key`"));
        assert!(error("loss=(?P<value>").contains("not a regular expression"));
        assert!(LineParser::new(&[], false).unwrap().is_none());
    }
}
