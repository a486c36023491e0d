//! The filter language for runs, shared by the CLI and the browser:
//!
//! ```text
//! params.lr = 0.01 and metrics.val/loss.min < 0.3 or tags.model = "resnet"
//! not (status in ("failed", "killed")) and duration > 5m
//! name like "lr=0.1%" and metrics.`acc.top1`.max >= 0.9
//! ```
//!
//! - Fields: `params.NAME`, `tags.NAME`,
//!   `metrics.KEY[.last|.min|.max|.mean|.count|.nan_count|.best]` (`.last` by default; `.best` is
//!   the min of losses and the max of accuracies, scores and rewards; quote keys holding dots with backticks), and the run attributes
//!   `id`, `name`, `status`, `state` (with `crashed`), `experiment`, `trial`, `host`, `start`,
//!   `end` (Unix ms or `"2026-11-23 18:00"`, UTC) and `duration` (seconds, or `90s`, `5m`, `2h`).
//! - Operators: `= != < <= > >=`, `in (...)`, `not in (...)`, `like`, `not like`, `is null`,
//!   `is not null`; combined with `and`, `or`, `not` and parentheses (`or` binds loosest), at
//!   most [`MAX_DEPTH`] levels deep.
//! - A comparison on a param, tag or metric holds only for runs that have it; `is null` finds
//!   the runs that do not. NaN compares false with everything.
//!
//! Filters compile to SQL with every value bound as a parameter. A syntax error says where it
//! is and what was expected; a param, tag or metric that no run has is an error that lists the
//! known ones, not an empty result.

mod ast;
mod lexer;
mod parser;
mod sql;

use std::fmt;

pub use ast::{ATTRIBUTES, Aggregate, Attribute, Expr, Field, Literal};
pub(crate) use sql::Sql;

use crate::error::Escaped;
use crate::{Error, Result};

/// How deeply a filter may nest: each `(` and each `not` opens a level. A deeper filter is a
/// syntax error, so that parsing and compiling it (both recursive) stay within a small stack
/// whatever the text: a `?filter=` link reaches the page's worker as it was written. A chain of
/// `and` or `or` is wide, not deep: it opens no level, however many terms it has.
pub const MAX_DEPTH: usize = 64;

/// A syntax error in a filter: where it is (character offset) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// Character offset of the error in `text`.
    pub at: usize,
    /// What is wrong.
    pub message: String,
    /// The filter text.
    pub text: String,
}

impl fmt::Display for FilterError {
    /// Three lines: where and what, the text, a caret under the spot. The text may come from a
    /// link: its control characters are shown escaped, and the caret counts the escapes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let before: String = self.text.chars().take(self.at).collect();
        let caret = Escaped(&before).to_string().chars().count();
        writeln!(f, "at column {}: {}", self.at + 1, Escaped(&self.message))?;
        writeln!(f, "  {}", Escaped(&self.text))?;
        write!(f, "  {}^", " ".repeat(caret))
    }
}

impl std::error::Error for FilterError {}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    expr: Expr,
}

impl Filter {
    /// Parses filter text.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let tokens = lexer::tokenize(text)?;
        Ok(Filter { expr: parser::Parser::new(tokens, text).parse()? })
    }

    /// The parsed expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }
}

/// A sort order for runs: a field, ascending unless written `-FIELD` or `FIELD desc`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    /// What to sort by.
    pub field: Field,
    /// Largest first.
    pub descending: bool,
}

impl Sort {
    /// Parses `metrics.val/loss.min`, `-params.lr`, `duration desc`, `name asc`.
    pub fn parse(text: &str) -> Result<Sort, FilterError> {
        let trimmed = text.trim();
        let (body, mut descending) = match trimmed.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (trimmed, false),
        };
        let body = match body.rsplit_once(' ') {
            Some((b, dir)) if dir.eq_ignore_ascii_case("desc") => {
                descending = !descending;
                b.trim()
            }
            Some((b, dir)) if dir.eq_ignore_ascii_case("asc") => b.trim(),
            _ => body,
        };
        // A sort key is a field compared with nothing: parse `FIELD is null` and keep the field.
        let probe = format!("{body} is null");
        match Filter::parse(&probe).map(|f| f.expr) {
            Ok(Expr::IsNull(field, _)) => Ok(Sort { field, descending }),
            Ok(_) | Err(_) => Err(FilterError {
                at: 0,
                message:
                    "a sort key is one field: params.NAME, tags.NAME, metrics.KEY[.agg] or an attribute, \
                          with - or desc for largest first"
                        .into(),
                text: text.to_string(),
            }),
        }
    }
}

/// Every param, tag and metric a filter or sort refers to.
pub(crate) fn referenced<'a>(expr: &'a Expr, out: &mut Vec<&'a Field>) {
    match expr {
        Expr::And(terms) | Expr::Or(terms) => terms.iter().for_each(|t| referenced(t, out)),
        Expr::Not(e) => referenced(e, out),
        Expr::Compare(f, ..) | Expr::In(f, ..) | Expr::Like(f, ..) | Expr::IsNull(f, _) => out.push(f),
    }
}

/// Checks that each param, tag and metric in `fields` exists in some run of the store;
/// otherwise an error names the closest known ones.
pub(crate) fn check_known(conn: &rusqlite::Connection, fields: &[&Field]) -> Result<()> {
    for field in fields {
        let (kind, key, sql) = match field {
            Field::Param(k) => ("param", k, "SELECT DISTINCT key FROM params WHERE owner_kind = 'run'"),
            Field::Tag(k) => ("tag", k, "SELECT DISTINCT key FROM tags WHERE owner_kind = 'run'"),
            Field::Metric(k, _) => ("metric", k, "SELECT DISTINCT key FROM metric_series WHERE label = ''"),
            Field::Attribute(_) => continue,
        };
        let mut stmt = conn.prepare_cached(sql)?;
        let known: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        if known.iter().any(|k| k == key) {
            continue;
        }
        let mut ranked: Vec<&String> = known.iter().collect();
        ranked.sort_by_key(|k| (edit_distance(k, key), k.len()));
        let hint = match ranked.first() {
            Some(best) if edit_distance(best, key) <= key.len().max(3) / 2 => {
                format!("; did you mean `{best}`?")
            }
            _ => String::new(),
        };
        let listed: Vec<&str> = ranked.iter().take(12).map(|s| s.as_str()).collect();
        return Err(Error::invalid(
            "filter",
            format!(
                "no run has the {kind} `{key}`{hint} Known {kind}s: {}",
                if listed.is_empty() { "none".to_string() } else { listed.join(", ") }
            ),
        ));
    }
    Ok(())
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests;
