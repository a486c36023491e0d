//! Recursive-descent parser: `or` binds looser than `and`, `and` looser than `not`. It recurses
//! once per `(` and counts each `(` and `not` against [`MAX_DEPTH`]; a chain of `and` or `or` is
//! a loop that builds one node, so the tree it returns is at most `2 * MAX_DEPTH + 3` nodes deep.

use super::ast::{ATTRIBUTES, Aggregate, Expr, Field, Literal};
use super::lexer::{Kind, Token};
use super::{FilterError, MAX_DEPTH};

pub(crate) struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    text: &'a str,
    /// Levels open at `pos`: enclosing `(` and `not`.
    depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(tokens: Vec<Token>, text: &'a str) -> Parser<'a> {
        Parser { tokens, pos: 0, text, depth: 0 }
    }

    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn next(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn error(&self, at: usize, message: String) -> FilterError {
        FilterError { at, message, text: self.text.to_string() }
    }

    fn expected(&self, what: &str) -> FilterError {
        let t = self.peek();
        self.error(t.at, format!("expected {what}, found {}", t.kind.describe()))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if matches!(&self.peek().kind, Kind::Keyword(k) if *k == keyword) {
            self.next();
            true
        } else {
            false
        }
    }

    /// Opens a level at the next token (a `(` or a `not`), refusing one past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let at = self.peek().at;
            return Err(self.error(
                at,
                format!("the filter nests more than {MAX_DEPTH} levels deep (parentheses and `not`)"),
            ));
        }
        Ok(())
    }

    /// The whole filter.
    pub fn parse(mut self) -> Result<Expr, FilterError> {
        if self.peek().kind == Kind::End {
            return Err(self.error(0, "the filter is empty".into()));
        }
        let expr = self.or()?;
        if self.peek().kind != Kind::End {
            return Err(self.expected("`and`, `or` or the end of the filter"));
        }
        Ok(expr)
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut terms = Vec::new();
        loop {
            terms.push(self.and()?);
            if !self.eat_keyword("or") {
                return Ok(if terms.len() == 1 { terms.swap_remove(0) } else { Expr::Or(terms) });
            }
        }
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut terms = Vec::new();
        loop {
            terms.push(self.term()?);
            if !self.eat_keyword("and") {
                return Ok(if terms.len() == 1 { terms.swap_remove(0) } else { Expr::And(terms) });
            }
        }
    }

    /// Any number of `not`, then a comparison or `( filter )`.
    fn term(&mut self) -> Result<Expr, FilterError> {
        let mut nots = 0;
        while self.peek().kind == Kind::Keyword("not") {
            self.enter()?;
            self.next();
            nots += 1;
        }
        let mut expr = if self.peek().kind == Kind::LParen { self.group() } else { self.comparison() }?;
        for _ in 0..nots {
            expr = Expr::Not(Box::new(expr));
        }
        self.depth -= nots;
        Ok(expr)
    }

    /// `( filter )`. The recursion goes through here, `or`, `and` and `term`: their frames are
    /// kept small (a debug build gives every temporary its own slot), so that the deepest
    /// filter fits a small stack.
    fn group(&mut self) -> Result<Expr, FilterError> {
        self.enter()?;
        let open = self.next().at;
        let inner = self.or();
        if inner.is_ok() {
            if self.peek().kind != Kind::RParen {
                return Err(self.unclosed(open));
            }
            self.next();
            self.depth -= 1;
        }
        inner
    }

    /// The error for the `(` at `open`, not closed where the next token is.
    fn unclosed(&self, open: usize) -> FilterError {
        let found = self.peek();
        self.error(
            found.at,
            format!("expected `)` to close the `(` at column {}, found {}", open + 1, found.kind.describe()),
        )
    }

    /// `field op value`, `field [not] in (...)`, `field [not] like '...'`, `field is [not] null`.
    fn comparison(&mut self) -> Result<Expr, FilterError> {
        let field = self.field()?;
        let negated = self.eat_keyword("not");
        if self.eat_keyword("in") {
            return Ok(Expr::In(field, self.list()?, negated));
        }
        if self.eat_keyword("like") {
            let t = self.next();
            return match t.kind {
                Kind::Str(pattern) => Ok(Expr::Like(field, pattern, negated)),
                other => Err(self.error(
                    t.at,
                    format!("expected a quoted pattern after `like`, found {}", other.describe()),
                )),
            };
        }
        if negated {
            return Err(self.expected("`in` or `like` after `not`"));
        }
        if self.eat_keyword("is") {
            let not = self.eat_keyword("not");
            if !self.eat_keyword("null") {
                return Err(self.expected("`null`"));
            }
            return Ok(Expr::IsNull(field, !not));
        }
        let t = self.next();
        let Kind::Op(op) = t.kind else {
            return Err(self.error(
                t.at,
                format!(
                    "expected a comparison (= != < <= > >=, in, like, is) after the field, found {}",
                    t.kind.describe()
                ),
            ));
        };
        Ok(Expr::Compare(field, op, self.literal()?))
    }

    fn list(&mut self) -> Result<Vec<Literal>, FilterError> {
        if self.peek().kind != Kind::LParen {
            return Err(self.expected("`(` to start the list"));
        }
        self.next();
        let mut items = vec![self.literal()?];
        loop {
            match self.peek().kind {
                Kind::Comma => {
                    self.next();
                    items.push(self.literal()?);
                }
                Kind::RParen => {
                    self.next();
                    return Ok(items);
                }
                _ => return Err(self.expected("`,` or `)` in the list")),
            }
        }
    }

    fn literal(&mut self) -> Result<Literal, FilterError> {
        let t = self.next();
        Ok(match t.kind {
            Kind::Str(s) => Literal::Str(s),
            Kind::Number(x, true) if x.abs() < 9.0e15 => Literal::Int(x as i64),
            Kind::Number(x, _) => Literal::Float(x),
            Kind::Duration(ms) => Literal::DurationMs(ms),
            Kind::Keyword("true") => Literal::Bool(true),
            Kind::Keyword("false") => Literal::Bool(false),
            Kind::Name(parts) => {
                return Err(self.error(
                    t.at,
                    format!(
                        "expected a value, found the name `{}`: quote text values, e.g. \"{}\"",
                        parts.join("."),
                        parts.join(".")
                    ),
                ));
            }
            other => return Err(self.error(t.at, format!("expected a value, found {}", other.describe()))),
        })
    }

    fn field(&mut self) -> Result<Field, FilterError> {
        let t = self.next();
        let Kind::Name(parts) = t.kind else {
            return Err(self.error(
                t.at,
                format!(
                    "expected a field (params.NAME, tags.NAME, metrics.KEY[.min|.max|.mean|.last|.count] or a run attribute), found {}",
                    t.kind.describe()
                ),
            ));
        };
        let rest = || parts[1..].join(".");
        match parts[0].to_ascii_lowercase().as_str() {
            "params" | "param" if parts.len() > 1 => Ok(Field::Param(rest())),
            "tags" | "tag" if parts.len() > 1 => Ok(Field::Tag(rest())),
            "metrics" | "metric" if parts.len() > 1 => {
                let last = parts.last().expect("non-empty");
                let key = parts[1..parts.len() - 1].join(".");
                match Aggregate::for_key(last, &key) {
                    Some(agg) if parts.len() > 2 => Ok(Field::Metric(key, agg)),
                    _ => Ok(Field::Metric(rest(), Aggregate::Last)),
                }
            }
            "attributes" | "attribute" | "attr" | "run" if parts.len() == 2 => {
                attribute(&parts[1]).ok_or_else(|| self.error(t.at, unknown_attribute(&parts[1])))
            }
            name if parts.len() == 1 => {
                attribute(name).ok_or_else(|| self.error(t.at, unknown_attribute(name)))
            }
            _ => Err(self.error(
                t.at,
                format!(
                    "unknown field `{}`: fields start with params., tags. or metrics., or are run attributes",
                    parts.join(".")
                ),
            )),
        }
    }
}

fn attribute(name: &str) -> Option<Field> {
    ATTRIBUTES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, a)| Field::Attribute(*a))
}

fn unknown_attribute(name: &str) -> String {
    let known: Vec<&str> = ATTRIBUTES.iter().map(|(n, _)| *n).collect();
    format!(
        "unknown run attribute `{name}` (known: {}); params, tags and metrics need their prefix, e.g. params.{name}",
        known.join(", ")
    )
}
