//! Charts drawn with plotters: line charts of one or many series with bands, legends, axis
//! labels and a log-y option, looking like what goes into a paper or a report.
//!
//! [`draw`] is generic over plotters' `DrawingBackend`: [`render_svg`] uses this crate's own
//! SVG backend (text measured from a width table, so it needs no font library and no DOM and
//! renders the same natively and in a Web Worker); the native crate draws PNGs with plotters'
//! bitmap backend and an embedded font. Text in the chart comes from files, so the SVG backend
//! escapes it.

mod request;
mod svg;
mod text_metrics;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::prelude::*;

pub use request::ChartRequest;
pub use svg::{FONT_FAMILY, SvgBackend};
pub use text_metrics::text_size;

use crate::{Error, Result};

/// How x values are labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum XFormat {
    /// Plain numbers (steps).
    #[default]
    Number,
    /// Seconds.
    Seconds,
    /// Unix milliseconds shown as HH:MM:SS (UTC).
    Clock,
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct LineSpec {
    /// Legend label.
    pub label: String,
    /// x values.
    pub x: Vec<f64>,
    /// y values; non-finite values break the line, NaN is marked on the chart.
    #[serde(serialize_with = "crate::json::floats")]
    pub y: Vec<f64>,
    /// The unsmoothed values, drawn faintly behind (same x).
    #[serde(serialize_with = "opt_floats")]
    pub raw: Option<Vec<f64>>,
}

/// A band around a mean line (grouped runs).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct BandSpec {
    /// Legend label.
    pub label: String,
    /// x values.
    pub x: Vec<f64>,
    /// Mean line.
    #[serde(serialize_with = "crate::json::floats")]
    pub mean: Vec<f64>,
    /// Lower edge.
    #[serde(serialize_with = "crate::json::floats")]
    pub lower: Vec<f64>,
    /// Upper edge.
    #[serde(serialize_with = "crate::json::floats")]
    pub upper: Vec<f64>,
}

fn opt_floats<S: serde::Serializer>(v: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => crate::json::floats(v, s),
        None => s.serialize_none(),
    }
}

/// What a chart shows.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Chart {
    /// Title.
    pub title: String,
    /// x axis label.
    pub x_label: String,
    /// y axis label.
    pub y_label: String,
    /// How x ticks are written.
    pub x_format: XFormat,
    /// Logarithmic y axis (values ≤ 0 are left out).
    pub log_y: bool,
    /// Lines.
    pub lines: Vec<LineSpec>,
    /// Bands with their mean lines.
    pub bands: Vec<BandSpec>,
}

/// Distinct colours (Tableau 10), readable on white and for most colour-blind readers.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];

/// Renders `chart` as an SVG document of `width` × `height` pixels.
pub fn render_svg(chart: &Chart, width: u32, height: u32) -> Result<String> {
    let mut out = String::new();
    {
        let root = SvgBackend::new(width, height, &mut out).into_drawing_area();
        draw(chart, &root).map_err(|e| Error::invalid("chart", e.to_string()))?;
    }
    Ok(out)
}

/// Formats a tick value compactly: `0.001`, `12.5`, `3e-05`, `1.2e+06`.
pub fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{v:.1e}");
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn clock(ms: f64) -> String {
    let secs = (ms / 1000.0).floor() as i64;
    let day = secs.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", day / 3600, day % 3600 / 60, day % 60)
}

/// Range of finite values of many slices, padded by 5% (or ±1 around a single value).
fn range(values: impl Iterator<Item = f64>, positive_only: bool) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!positive_only || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return None;
    }
    if positive_only {
        return Some(if lo == hi { (lo / 2.0, hi * 2.0) } else { (lo / 1.15, hi * 1.15) });
    }
    if lo == hi {
        return Some((lo - 1.0, hi + 1.0));
    }
    let pad = (hi - lo) * 0.05;
    Some((lo - pad, hi + pad))
}

/// Draws `chart` on `root` (any plotters backend).
pub fn draw<DB: DrawingBackend>(
    chart: &Chart,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let xs = chart
        .lines
        .iter()
        .flat_map(|l| l.x.iter())
        .chain(chart.bands.iter().flat_map(|b| b.x.iter()))
        .copied();
    let ys = chart
        .lines
        .iter()
        .flat_map(|l| l.y.iter().chain(l.raw.iter().flatten()))
        .chain(chart.bands.iter().flat_map(|b| b.lower.iter().chain(&b.upper).chain(&b.mean)))
        .copied();
    let (Some((x0, x1)), Some((y0, y1))) = (range(xs, false), range(ys, chart.log_y)) else {
        let grey = BLACK.mix(0.6);
        let style = TextStyle::from(("sans-serif", 16).into_font()).color(&grey);
        root.draw(&Text::new(format!("{}: no finite values to draw", chart.title), (20, 20), style))?;
        return Ok(());
    };
    let (x0, x1) = if chart.x_format == XFormat::Number { (x0.max(0.0).min(x0), x1) } else { (x0, x1) };
    let mut builder = ChartBuilder::on(root);
    builder.margin(16).x_label_area_size(48).y_label_area_size(72);
    if !chart.title.is_empty() {
        builder.caption(&chart.title, ("sans-serif", 20));
    }
    if chart.log_y {
        let ctx = builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
        plot(chart, ctx, (y0, y1))
    } else {
        let ctx = builder.build_cartesian_2d(x0..x1, y0..y1)?;
        plot(chart, ctx, (y0, y1))
    }
}

fn plot<'a, DB: DrawingBackend + 'a, Y: Ranged<ValueType = f64> + ValueFormatter<f64>>(
    chart: &Chart,
    mut ctx: ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    (y0, y1): (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let x_format = chart.x_format;
    let x_ticks = move |v: &f64| match x_format {
        XFormat::Number => tick(*v),
        XFormat::Seconds => tick(*v),
        XFormat::Clock => clock(*v),
    };
    let y_ticks = |v: &f64| tick(*v);
    ctx.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .x_label_formatter(&x_ticks)
        .y_label_formatter(&y_ticks)
        .x_labels(8)
        .y_labels(8)
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .bold_line_style(RGBColor(0xd8, 0xd8, 0xd8))
        .draw()?;
    // ±Inf is drawn at the edge of the plot; on a log axis values <= 0 cannot be drawn.
    let log_y = chart.log_y;
    let prepare = |v: f64| {
        let v = if v == f64::INFINITY {
            y1
        } else if v == f64::NEG_INFINITY {
            y0
        } else {
            v
        };
        if log_y && v <= 0.0 { f64::NAN } else { v }
    };
    let mut legend: Vec<(String, ShapeStyle)> = Vec::new();
    for (i, band) in chart.bands.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut polygon: Vec<(f64, f64)> = Vec::new();
        for (x, u) in band.x.iter().zip(&band.upper).filter(|(_, u)| u.is_finite()) {
            polygon.push((*x, *u));
        }
        for (x, l) in band.x.iter().zip(&band.lower).rev().filter(|(_, l)| l.is_finite()) {
            polygon.push((*x, *l));
        }
        if polygon.len() > 2 {
            ctx.draw_series(std::iter::once(Polygon::new(polygon, color.mix(0.18))))?;
        }
        draw_segments(&mut ctx, &band.x, &band.mean, color.stroke_width(2))?;
        legend.push((band.label.clone(), color.stroke_width(2)));
    }
    for (i, line) in chart.lines.iter().enumerate() {
        let color = PALETTE[(i + chart.bands.len()) % PALETTE.len()];
        if let Some(raw) = &line.raw {
            let y: Vec<f64> = raw.iter().map(|v| prepare(*v)).collect();
            draw_segments(&mut ctx, &line.x, &y, color.mix(0.25).stroke_width(1))?;
        }
        let y: Vec<f64> = line.y.iter().map(|v| prepare(*v)).collect();
        draw_segments(&mut ctx, &line.x, &y, color.stroke_width(2))?;
        legend.push((line.label.clone(), color.stroke_width(2)));
        // Where a line turns NaN, a marker says so: a diverging loss is information.
        if let Some(first_nan) = line.x.iter().zip(&line.y).find(|(_, y)| y.is_nan()).map(|(x, _)| *x) {
            ctx.draw_series(std::iter::once(PathElement::new(
                vec![(first_nan, y0), (first_nan, y1)],
                color.mix(0.6).stroke_width(1),
            )))?;
            let style = TextStyle::from(("sans-serif", 11).into_font()).color(&color);
            ctx.draw_series(std::iter::once(Text::new("NaN →".to_string(), (first_nan, y1), style)))?;
        }
    }
    draw_legend(&ctx.plotting_area().strip_coord_spec(), &legend)?;
    Ok(())
}

/// Most legend entries listed; more are summarised in one line.
const LEGEND_ENTRIES: usize = 14;

/// Draws the legend in the top-right corner of the plotting area. (plotters' own series
/// labels lay text out through its font layer, which needs a DOM on wasm; this measures text
/// through the backend instead.)
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, ShapeStyle)],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    if entries.is_empty() {
        return Ok(());
    }
    let font = ("sans-serif", 12).into_font();
    let style = TextStyle::from(font.clone()).color(&BLACK);
    let mut lines: Vec<(String, Option<ShapeStyle>)> =
        entries.iter().take(LEGEND_ENTRIES).map(|(label, s)| (label.clone(), Some(*s))).collect();
    if entries.len() > LEGEND_ENTRIES {
        lines.push((format!("… and {} more", entries.len() - LEGEND_ENTRIES), None));
    }
    let mut text_w = 0;
    for (label, _) in &lines {
        text_w = text_w.max(area.estimate_text_size(label, &style)?.0 as i32);
    }
    let (row, sample, pad) = (17, 22, 8);
    let (w, _) = area.dim_in_pixel();
    let box_w = pad + sample + 6 + text_w + pad;
    let box_h = pad * 2 + row * lines.len() as i32 - 4;
    let (x0, y0) = (w as i32 - box_w - 8, 8);
    area.draw(&Rectangle::new([(x0, y0), (x0 + box_w, y0 + box_h)], WHITE.mix(0.88).filled()))?;
    area.draw(&Rectangle::new([(x0, y0), (x0 + box_w, y0 + box_h)], BLACK.mix(0.25)))?;
    for (i, (label, line_style)) in lines.iter().enumerate() {
        let y = y0 + pad + row * i as i32 + 6;
        if let Some(s) = line_style {
            area.draw(&PathElement::new(vec![(x0 + pad, y), (x0 + pad + sample, y)], *s))?;
        }
        let anchored = style.pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        ));
        area.draw(&Text::new(label.clone(), (x0 + pad + sample + 6, y), anchored))?;
    }
    Ok(())
}

/// Draws the finite runs of a line as separate segments (NaN breaks the line).
fn draw_segments<'a, DB: DrawingBackend + 'a, Y: Ranged<ValueType = f64>>(
    ctx: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    x: &[f64],
    y: &[f64],
    style: ShapeStyle,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut segment: Vec<(f64, f64)> = Vec::new();
    for (xi, yi) in x.iter().zip(y) {
        if yi.is_finite() {
            segment.push((*xi, *yi));
        } else if !segment.is_empty() {
            ctx.draw_series(LineSeries::new(std::mem::take(&mut segment), style))?;
        }
    }
    if !segment.is_empty() {
        ctx.draw_series(LineSeries::new(segment, style))?;
    }
    Ok(())
}
