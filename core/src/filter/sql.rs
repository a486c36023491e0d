//! Compiles a parsed filter to SQL over `runs r JOIN experiments e LEFT JOIN trials t`, with
//! every value bound as a parameter (never spliced into the SQL text).

use rusqlite::types::Value;

use super::ast::{Attribute, Expr, Field, Literal};
use crate::read::{MIN_CRASH_AGE_MS, MISSED_HEARTBEATS};
use crate::{Error, Result};

/// SQL text with `?NNN` placeholders and the values they stand for.
pub(crate) struct Sql {
    pub text: String,
    pub params: Vec<Value>,
    /// Number of the first placeholder this compiler writes.
    base: usize,
    now_ms: Option<i64>,
}

impl Sql {
    pub fn new(base: usize, now_ms: Option<i64>) -> Sql {
        Sql { text: String::new(), params: Vec::new(), base, now_ms }
    }

    /// Adds a parameter and returns its placeholder.
    fn bind(&mut self, value: Value) -> String {
        self.params.push(value);
        format!("?{}", self.base + self.params.len() - 1)
    }

    /// Writes the condition for `expr`. Recursive: the parser keeps the depth of what it
    /// returns within [`super::MAX_DEPTH`] nesting levels.
    pub fn condition(&mut self, expr: &Expr) -> Result<()> {
        match expr {
            Expr::And(terms) | Expr::Or(terms) => {
                let joint = if matches!(expr, Expr::And(_)) { " AND " } else { " OR " };
                self.text.push('(');
                for (i, term) in terms.iter().enumerate() {
                    if i > 0 {
                        self.text.push_str(joint);
                    }
                    self.condition(term)?;
                }
                self.text.push(')');
            }
            Expr::Not(inner) => {
                self.text.push_str("NOT (");
                self.condition(inner)?;
                self.text.push(')');
            }
            Expr::Compare(field, op, literal) => {
                let value = self.value_for(field, literal)?;
                let op = if *op == "!=" { "IS NOT" } else { op };
                let test = |s: &mut Sql, column: &str| {
                    let p = s.bind(value.clone());
                    format!("{column} {op} {p}")
                };
                self.with_field(field, test);
            }
            Expr::In(field, literals, negated) => {
                let values = literals.iter().map(|l| self.value_for(field, l)).collect::<Result<Vec<_>>>()?;
                let test = |s: &mut Sql, column: &str| {
                    let list: Vec<String> = values.iter().map(|v| s.bind(v.clone())).collect();
                    format!("{column} {}IN ({})", if *negated { "NOT " } else { "" }, list.join(", "))
                };
                self.with_field(field, test);
            }
            Expr::Like(field, pattern, negated) => {
                let test = |s: &mut Sql, column: &str| {
                    let p = s.bind(Value::Text(pattern.clone()));
                    format!("{column} {}LIKE {p}", if *negated { "NOT " } else { "" })
                };
                self.with_field(field, test);
            }
            Expr::IsNull(field, is_null) => match field {
                Field::Attribute(a) => {
                    let column = self.attribute_sql(*a);
                    self.text.push_str(&format!("{column} IS {}NULL", if *is_null { "" } else { "NOT " }));
                }
                _ => {
                    if *is_null {
                        self.text.push_str("NOT ");
                    }
                    self.with_field(field, |_, _| "1".to_string());
                }
            },
        }
        Ok(())
    }

    /// Writes `EXISTS (row of the field's table for this run AND test(column))`, or
    /// `test(column)` for attributes.
    fn with_field(&mut self, field: &Field, test: impl FnOnce(&mut Sql, &str) -> String) {
        let text = match field {
            Field::Param(key) => {
                let k = self.bind(Value::Text(key.clone()));
                let t = test(self, "p.value");
                format!(
                    "EXISTS (SELECT 1 FROM params p WHERE p.owner_kind = 'run' AND p.owner_id = r.id AND p.key = {k} AND {t})"
                )
            }
            Field::Tag(key) => {
                let k = self.bind(Value::Text(key.clone()));
                let t = test(self, "g.value");
                format!(
                    "EXISTS (SELECT 1 FROM tags g WHERE g.owner_kind = 'run' AND g.owner_id = r.id AND g.key = {k} AND {t})"
                )
            }
            Field::Metric(key, agg) => {
                let k = self.bind(Value::Text(key.clone()));
                let t = test(self, agg.sql());
                format!(
                    "EXISTS (SELECT 1 FROM metric_series s WHERE s.run_id = r.id AND s.key = {k} AND s.label = '' AND {t})"
                )
            }
            Field::Attribute(a) => {
                let column = self.attribute_sql(*a);
                test(self, &column)
            }
        };
        self.text.push_str(&text);
    }

    /// A scalar SQL expression of `field` for one run (NULL when the run lacks it), to sort by.
    pub fn scalar(&mut self, field: &Field) -> String {
        match field {
            Field::Param(key) => {
                let k = self.bind(Value::Text(key.clone()));
                format!(
                    "(SELECT p.value FROM params p WHERE p.owner_kind = 'run' AND p.owner_id = r.id AND p.key = {k})"
                )
            }
            Field::Tag(key) => {
                let k = self.bind(Value::Text(key.clone()));
                format!(
                    "(SELECT g.value FROM tags g WHERE g.owner_kind = 'run' AND g.owner_id = r.id AND g.key = {k})"
                )
            }
            Field::Metric(key, agg) => {
                let k = self.bind(Value::Text(key.clone()));
                format!(
                    "(SELECT {} FROM metric_series s WHERE s.run_id = r.id AND s.key = {k} AND s.label = '' \
                     ORDER BY s.context LIMIT 1)",
                    agg.sql()
                )
            }
            Field::Attribute(a) => self.attribute_sql(*a),
        }
    }

    /// The SQL expression of a run attribute.
    pub fn attribute_sql(&mut self, a: Attribute) -> String {
        match a {
            Attribute::Id => "r.id".into(),
            Attribute::Name => "r.name".into(),
            Attribute::Status => "r.status".into(),
            Attribute::Experiment => "e.name".into(),
            Attribute::Trial => "t.name".into(),
            Attribute::Host => "r.host".into(),
            Attribute::Start => "r.started_ms".into(),
            Attribute::End => "r.ended_ms".into(),
            Attribute::Duration => "(coalesce(r.ended_ms, r.heartbeat_ms) - r.started_ms)".into(),
            Attribute::State => {
                let now = self.bind(self.now_ms.map_or(Value::Null, Value::Integer));
                format!(
                    "(CASE WHEN r.status = 'running' AND {now} - r.heartbeat_ms > \
                     max({MISSED_HEARTBEATS} * coalesce(r.heartbeat_interval_ms, 0), {MIN_CRASH_AGE_MS}) \
                     THEN 'crashed' ELSE r.status END)"
                )
            }
        }
    }

    /// The SQL value to compare `field` with: times from date strings, durations in ms.
    fn value_for(&self, field: &Field, literal: &Literal) -> Result<Value> {
        let bad = |why: &str| Error::invalid("filter value", why.to_string());
        Ok(match (field, literal) {
            (Field::Attribute(Attribute::Start | Attribute::End), Literal::Str(s)) => {
                Value::Integer(parse_time(s).ok_or_else(|| {
                    bad(&format!("{s:?} is not a time (use 2026-11-23 or 2026-11-23 18:00:00, UTC)"))
                })?)
            }
            (Field::Attribute(Attribute::Duration), Literal::Int(s)) => Value::Integer(s * 1000),
            (Field::Attribute(Attribute::Duration), Literal::Float(s)) => Value::Real(s * 1000.0),
            (Field::Attribute(Attribute::Duration), Literal::DurationMs(ms)) => Value::Real(*ms),
            (Field::Attribute(Attribute::Duration), _) => {
                return Err(bad("durations are numbers of seconds or have a unit: 90s, 5m, 2h"));
            }
            (_, Literal::DurationMs(ms)) => Value::Real(*ms),
            (_, Literal::Int(i)) => Value::Integer(*i),
            (_, Literal::Float(x)) => Value::Real(*x),
            (_, Literal::Bool(b)) => Value::Integer(i64::from(*b)),
            (Field::Metric(..), Literal::Str(s)) => {
                return Err(bad(&format!("metrics are numbers; {s:?} is text")));
            }
            (_, Literal::Str(s)) => Value::Text(s.clone()),
        })
    }
}

/// `2026-11-23`, `2026-11-23 18:00`, `2026-11-23T18:00:05` (UTC) → Unix ms.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches('Z');
    let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, "00:00:00"));
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.splitn(3, ':').map(|p| p.parse::<f64>().ok());
    let (hh, mm, ss) =
        (t.next().flatten()?, t.next().flatten().unwrap_or(0.0), t.next().flatten().unwrap_or(0.0));
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh >= 24.0 || mm >= 60.0 || ss >= 61.0 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400_000 + ((hh * 3600.0 + mm * 60.0 + ss) * 1000.0) as i64)
}
