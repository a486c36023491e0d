//! Tokens of the filter language.

use super::FilterError;

/// A token and where it starts (character offset in the filter text).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A dotted name: `params.lr`, `metrics.val/loss.min`, `` metrics.`a.b`.max ``.
    Name(Vec<String>),
    Str(String),
    Number(f64, bool),
    /// A duration with a unit (`90s`, `5m`), in milliseconds.
    Duration(f64),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Keyword(&'static str),
    End,
}

const KEYWORDS: [&str; 9] = ["and", "or", "not", "in", "like", "is", "null", "true", "false"];

impl Kind {
    pub fn describe(&self) -> String {
        match self {
            Kind::Name(parts) => format!("`{}`", parts.join(".")),
            Kind::Str(s) => format!("the string {s:?}"),
            Kind::Number(x, _) => format!("the number {x}"),
            Kind::Duration(ms) => format!("the duration {ms} ms"),
            Kind::Op(op) => format!("`{op}`"),
            Kind::LParen => "`(`".into(),
            Kind::RParen => "`)`".into(),
            Kind::Comma => "`,`".into(),
            Kind::Keyword(k) => format!("`{k}`"),
            Kind::End => "the end of the filter".into(),
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '/' | '-' | ':' | '@' | '#')
}

/// Splits `text` into tokens.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let err = |at: usize, message: String| FilterError { at, message, text: text.to_string() };
    while i < chars.len() {
        let c = chars[i];
        let at = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let kind = match c {
            '(' => {
                i += 1;
                Kind::LParen
            }
            ')' => {
                i += 1;
                Kind::RParen
            }
            ',' => {
                i += 1;
                Kind::Comma
            }
            '=' => {
                i += if chars.get(i + 1) == Some(&'=') { 2 } else { 1 };
                Kind::Op("=")
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                i += 2;
                Kind::Op("!=")
            }
            '<' | '>' => {
                let next = chars.get(i + 1).copied();
                i += 1;
                match (c, next) {
                    ('<', Some('=')) => {
                        i += 1;
                        Kind::Op("<=")
                    }
                    ('<', Some('>')) => {
                        i += 1;
                        Kind::Op("!=")
                    }
                    ('>', Some('=')) => {
                        i += 1;
                        Kind::Op(">=")
                    }
                    ('<', _) => Kind::Op("<"),
                    _ => Kind::Op(">"),
                }
            }
            '"' | '\'' => {
                let quote = c;
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(at, format!("unterminated string: add the closing {quote}"))),
                        Some('\\') if i + 1 < chars.len() => {
                            s.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&q) if q == quote => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                Kind::Str(s)
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+' || c == '.')
                    && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit() || *d == '.')) =>
            {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || chars[i] == '.'
                        || chars[i] == '_'
                        || ((chars[i] == 'e' || chars[i] == 'E')
                            && chars
                                .get(i + 1)
                                .is_some_and(|d| d.is_ascii_digit() || *d == '-' || *d == '+'))
                        || ((chars[i] == '-' || chars[i] == '+') && matches!(chars[i - 1], 'e' | 'E')))
                {
                    i += 1;
                }
                let literal: String = chars[start..i].iter().filter(|c| **c != '_').collect();
                let value: f64 =
                    literal.parse().map_err(|_| err(start, format!("{literal:?} is not a number")))?;
                let unit_start = i;
                while i < chars.len() && chars[i].is_ascii_alphabetic() {
                    i += 1;
                }
                let unit: String = chars[unit_start..i].iter().collect();
                let is_int = !literal.contains(['.', 'e', 'E']);
                match unit.as_str() {
                    "" => Kind::Number(value, is_int),
                    "ms" => Kind::Duration(value),
                    "s" => Kind::Duration(value * 1e3),
                    "m" | "min" => Kind::Duration(value * 60e3),
                    "h" => Kind::Duration(value * 3600e3),
                    "d" => Kind::Duration(value * 86_400e3),
                    other => {
                        return Err(err(
                            unit_start,
                            format!("unknown unit {other:?} (use ms, s, m, h or d)"),
                        ));
                    }
                }
            }
            c if is_name_char(c) || c == '`' => {
                let mut parts = vec![String::new()];
                while i < chars.len() {
                    match chars[i] {
                        '`' => {
                            let open = i;
                            i += 1;
                            while i < chars.len() && chars[i] != '`' {
                                parts.last_mut().expect("one part").push(chars[i]);
                                i += 1;
                            }
                            if i == chars.len() {
                                return Err(err(
                                    open,
                                    "unterminated `quoted name`: add the closing `".into(),
                                ));
                            }
                            i += 1;
                        }
                        '.' => {
                            parts.push(String::new());
                            i += 1;
                        }
                        ch if is_name_char(ch) => {
                            parts.last_mut().expect("one part").push(ch);
                            i += 1;
                        }
                        _ => break,
                    }
                }
                if parts.iter().any(String::is_empty) {
                    return Err(err(at, format!("`{}` has an empty part between dots", parts.join("."))));
                }
                match KEYWORDS.iter().find(|k| parts.len() == 1 && parts[0].eq_ignore_ascii_case(k)) {
                    Some(k) => Kind::Keyword(k),
                    None => Kind::Name(parts),
                }
            }
            other => return Err(err(at, format!("unexpected character {other:?}"))),
        };
        tokens.push(Token { kind, at });
    }
    tokens.push(Token { kind: Kind::End, at: chars.len() });
    Ok(tokens)
}
