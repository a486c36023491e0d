//! Human-readable numbers, sizes, durations, times and tables.

/// `1234567` → `1,234,567`.
pub fn count(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Bytes as B, KiB, MiB, GiB.
pub fn bytes(n: i64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < units.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{x:.1} {}", units[unit]) }
}

/// Milliseconds as `850 ms`, `12.3 s`, `4m 05s`, `2h 03m`.
pub fn duration_ms(ms: i64) -> String {
    match ms {
        ..1000 => format!("{ms} ms"),
        1000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{}m {:02}s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{}h {:02}m", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// Unix ms as `2026-11-23 18:20:01` (UTC).
pub fn time_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// A float for tables: NaN and infinities spelled out, otherwise 4 significant digits.
pub fn float(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-3) {
        format!("{x:.3e}")
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// `s` with its control characters escaped (`\u{1b}`, `\t`) and everything else as it is.
/// Names from a file are printed this way: raw, an escape sequence among them would drive the
/// terminal (rewrite its title, clear the screen). Core's errors escape the same way.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// Prints rows as an aligned table under a header, cutting cells to fit `max_width`
/// characters per column. Header and cells are shown [`printable`].
pub fn table(header: &[&str], rows: &[Vec<String>], max_width: usize) -> String {
    let cut = |s: &str| -> String {
        let s = printable(s);
        if s.chars().count() > max_width {
            let mut t: String = s.chars().take(max_width.saturating_sub(1)).collect();
            t.push('…');
            t
        } else {
            s
        }
    };
    let header: Vec<String> = header.iter().map(|h| printable(h)).collect();
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| cut(c)).collect()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::from("  ");
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            s.push_str(cell);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(header.iter().map(String::as_str).collect());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// The terminal's width: `$COLUMNS`, else 120.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|w| *w >= 40).unwrap_or(120)
}

/// Like [`table`], dropping columns from the right until the table fits `width`; says how
/// many were left out.
pub fn fit_table(header: &[&str], rows: &[Vec<String>], width: usize) -> String {
    let mut keep = header.len();
    loop {
        let h: Vec<&str> = header[..keep].to_vec();
        let r: Vec<Vec<String>> = rows.iter().map(|row| row[..keep].to_vec()).collect();
        let text = table(&h, &r, 32);
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        if widest <= width || keep <= 2 {
            let dropped = header.len() - keep;
            return if dropped == 0 {
                text
            } else {
                format!(
                    "{text}  ({dropped} more columns do not fit: use --format csv or json, or widen the terminal)\n"
                )
            };
        }
        keep -= 1;
    }
}

/// One CSV record (RFC 4180 quoting), every cell made [`inert`]. Every CSV the CLI writes
/// (`runs`, `export`, `compare`), header included, goes through here.
pub fn csv_record(cells: &[String]) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|c| {
            let c = inert(c);
            if c.contains([',', '"', '\n', '\r']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c }
        })
        .collect();
    quoted.join(",") + "\n"
}

/// A cell that a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return gets a leading `'`, as OWASP advises against CSV injection and as
/// the page's CSV export does. Numbers (`-0.5`, `-1e-5`, `-inf`) are left as they are:
/// they cannot run as formulas, and deciding by the value means no writer has to say which of
/// its cells are text (names, text params, tags, errors) for them to be covered.
fn inert(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(duration_ms(61_000), "1m 01s");
        assert_eq!(time_ms(0), "1970-01-01 00:00:00");
        assert_eq!(time_ms(1_700_000_000_000), "2023-11-14 22:13:20");
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(0.5), "0.5");
        let t = table(&["A\u{7}", "B"], &[vec!["x\u{1b}[31m".into(), "yy".into()]], 12);
        assert!(
            !t.contains(['\u{1b}', '\u{7}']) && t.contains("x\\u{1b}[31m") && t.contains("A\\u{7}"),
            "{t}"
        );
    }

    #[test]
    fn csv_cells_cannot_run_as_formulas() {
        let cells =
            ["=1+1", "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(1)", "\t=1", "-0.5", "+inf", "-1e-5", "a-b"];
        let record = csv_record(&cells.map(String::from));
        assert_eq!(record, "'=1+1,'+1+1,'-2+3+cmd|' /C calc'!A0,'@SUM(1),'\t=1,-0.5,+inf,-1e-5,a-b\n");
        assert_eq!(csv_record(&["\r=1".into()]), "\"'\r=1\"\n");
    }
}
