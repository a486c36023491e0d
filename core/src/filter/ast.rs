//! The parsed form of a filter.

/// Which value of a metric series a filter or sort compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// The value at the last step (the default).
    Last,
    /// The smallest non-NaN value.
    Min,
    /// The largest non-NaN value.
    Max,
    /// The mean of the non-NaN values.
    Mean,
    /// The number of points.
    Count,
    /// The number of NaN points.
    NanCount,
}

impl Aggregate {
    /// Parses `last`, `min`, `max`, `mean`, `count`, `nan_count`, and `best` — the min of a
    /// metric that is minimised (losses) or the max of one that is maximised (accuracies), by
    /// [`crate::analysis::Direction::guess`] on `key`.
    pub fn for_key(name: &str, key: &str) -> Option<Aggregate> {
        if name.eq_ignore_ascii_case("best") {
            return Some(match crate::analysis::Direction::guess(key) {
                crate::analysis::Direction::Minimize => Aggregate::Min,
                crate::analysis::Direction::Maximize => Aggregate::Max,
            });
        }
        Aggregate::from_name(name)
    }

    /// Parses `last`, `min`, `max`, `mean`, `count`, `nan_count`.
    pub fn from_name(name: &str) -> Option<Aggregate> {
        Some(match name.to_ascii_lowercase().as_str() {
            "last" => Aggregate::Last,
            "min" => Aggregate::Min,
            "max" => Aggregate::Max,
            "mean" | "avg" => Aggregate::Mean,
            "count" => Aggregate::Count,
            "nan_count" => Aggregate::NanCount,
            _ => return None,
        })
    }

    /// The SQL expression over a `metric_series` row aliased `s`.
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Aggregate::Last => "s.last_value",
            Aggregate::Min => "s.min_value",
            Aggregate::Max => "s.max_value",
            Aggregate::Mean => "(s.sum_value / nullif(s.count - s.nan_count, 0))",
            Aggregate::Count => "s.count",
            Aggregate::NanCount => "s.nan_count",
        }
    }
}

/// Run attributes a filter can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    /// Run id.
    Id,
    /// Run name.
    Name,
    /// Recorded status.
    Status,
    /// Status as shown (crashed runs detected).
    State,
    /// Experiment name.
    Experiment,
    /// Trial name.
    Trial,
    /// Host.
    Host,
    /// Start time (Unix ms, or a date string).
    Start,
    /// End time.
    End,
    /// Duration (seconds, or with a unit: `90s`, `5m`).
    Duration,
}

/// Attribute names as written in filters, with what they are.
pub const ATTRIBUTES: [(&str, Attribute); 10] = [
    ("id", Attribute::Id),
    ("name", Attribute::Name),
    ("status", Attribute::Status),
    ("state", Attribute::State),
    ("experiment", Attribute::Experiment),
    ("trial", Attribute::Trial),
    ("host", Attribute::Host),
    ("start", Attribute::Start),
    ("end", Attribute::End),
    ("duration", Attribute::Duration),
];

/// What a comparison looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// A run param: `params.lr`.
    Param(String),
    /// A run tag: `tags.model`.
    Tag(String),
    /// A metric summary: `metrics.val/loss.min`.
    Metric(String, Aggregate),
    /// A run attribute: `name`, `status`, `duration`, ...
    Attribute(Attribute),
}

/// A literal in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A whole number.
    Int(i64),
    /// A number with a fraction or exponent.
    Float(f64),
    /// Text.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// A duration with a unit, in milliseconds.
    DurationMs(f64),
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All hold (two or more terms: `a and b and c` is one `And`, however long).
    And(Vec<Expr>),
    /// Any holds (two or more terms).
    Or(Vec<Expr>),
    /// Does not hold.
    Not(Box<Expr>),
    /// `field op literal`.
    Compare(Field, &'static str, Literal),
    /// `field [not] in (literals)`.
    In(Field, Vec<Literal>, bool),
    /// `field [not] like 'pattern'`.
    Like(Field, String, bool),
    /// `field is [not] null`: whether the run has the param, tag, metric or attribute.
    IsNull(Field, bool),
}
