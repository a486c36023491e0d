//! A plotters drawing backend that writes SVG text and measures text itself
//! ([`super::text_metrics`]), so charts render the same natively and in a Web Worker, with no
//! font library and no DOM.

use std::fmt::Write;

use plotters::prelude::*;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontTransform, text_anchor,
};

use super::text_metrics::text_size;

/// Font families written into the SVG, the first one a viewer has wins.
pub const FONT_FAMILY: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";

/// SVG being drawn into a borrowed string: the document is opened when the backend is made
/// and closed when it is dropped.
pub struct SvgBackend<'a> {
    size: (u32, u32),
    body: &'a mut String,
}

/// The backend never fails; plotters still needs an error type.
#[derive(Debug)]
pub struct Never;

impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unreachable")
    }
}

impl std::error::Error for Never {}

fn color(c: BackendColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.rgb.0, c.rgb.1, c.rgb.2)
}

/// Whether `c` is a Unicode noncharacter (U+FDD0..=U+FDEF, and the last two code points of
/// every plane): never text, and U+FFFE and U+FFFF are not even allowed in XML.
fn is_noncharacter(c: char) -> bool {
    matches!(c, '\u{FDD0}'..='\u{FDEF}') || (u32::from(c) & 0xFFFE) == 0xFFFE
}

/// Escapes text for SVG content and attributes: strings from a file stay text, and the
/// document stays well-formed XML whatever they hold. Control characters are dropped;
/// noncharacters (U+FFFE and U+FFFF among them, which XML 1.0 forbids) become U+FFFD, so a
/// label still shows where something was. Rust strings hold no lone surrogates, so every
/// character left is one XML 1.0 allows.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c if is_noncharacter(c) => out.push(char::REPLACEMENT_CHARACTER),
            c => out.push(c),
        }
    }
    out
}

impl<'a> SvgBackend<'a> {
    /// A drawing of `width` × `height` pixels written into `out` (cleared first).
    pub fn new(width: u32, height: u32, out: &'a mut String) -> SvgBackend<'a> {
        out.clear();
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" font-family=\"{FONT_FAMILY}\">"
        );
        SvgBackend { size: (width, height), body: out }
    }

    fn paint(c: BackendColor) -> String {
        if c.alpha >= 1.0 { color(c) } else { format!("{}\" fill-opacity=\"{:.3}", color(c), c.alpha) }
    }

    /// The paint attributes of a filled shape, or of an outlined one.
    fn fill_or_stroke(s: &impl BackendStyle, fill: bool) -> String {
        if fill {
            format!("fill=\"{}\"", Self::paint(s.color()))
        } else {
            format!("fill=\"none\" {}", Self::stroke(s))
        }
    }

    fn stroke(s: &impl BackendStyle) -> String {
        let c = s.color();
        let opacity =
            if c.alpha < 1.0 { format!(" stroke-opacity=\"{:.3}\"", c.alpha) } else { String::new() };
        format!("stroke=\"{}\" stroke-width=\"{}\"{opacity}", color(c), s.stroke_width())
    }
}

impl Drop for SvgBackend<'_> {
    fn drop(&mut self) {
        self.body.push_str("</svg>\n");
    }
}

impl DrawingBackend for SvgBackend<'_> {
    type ErrorType = Never;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Never>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Never>> {
        Ok(())
    }

    fn draw_pixel(&mut self, p: BackendCoord, c: BackendColor) -> Result<(), DrawingErrorKind<Never>> {
        if c.alpha > 0.0 {
            let _ = writeln!(
                self.body,
                "<rect x=\"{}\" y=\"{}\" width=\"1\" height=\"1\" fill=\"{}\"/>",
                p.0,
                p.1,
                Self::paint(c)
            );
        }
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        s: &S,
    ) -> Result<(), DrawingErrorKind<Never>> {
        if s.color().alpha > 0.0 {
            let _ = writeln!(
                self.body,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {}/>",
                a.0,
                a.1,
                b.0,
                b.1,
                Self::stroke(s)
            );
        }
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        s: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Never>> {
        if s.color().alpha <= 0.0 {
            return Ok(());
        }
        let (x, y, w, h) = (a.0.min(b.0), a.1.min(b.1), (b.0 - a.0).abs(), (b.1 - a.1).abs());
        let paint = Self::fill_or_stroke(s, fill);
        let _ = writeln!(self.body, "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" {paint}/>");
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        s: &S,
    ) -> Result<(), DrawingErrorKind<Never>> {
        if s.color().alpha <= 0.0 {
            return Ok(());
        }
        let points: Vec<String> = path.into_iter().map(|p| format!("{},{}", p.0, p.1)).collect();
        let _ = writeln!(
            self.body,
            "<polyline fill=\"none\" stroke-linejoin=\"round\" points=\"{}\" {}/>",
            points.join(" "),
            Self::stroke(s)
        );
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        s: &S,
    ) -> Result<(), DrawingErrorKind<Never>> {
        if s.color().alpha <= 0.0 {
            return Ok(());
        }
        let points: Vec<String> = vert.into_iter().map(|p| format!("{},{}", p.0, p.1)).collect();
        let _ = writeln!(
            self.body,
            "<polygon points=\"{}\" fill=\"{}\"/>",
            points.join(" "),
            Self::paint(s.color())
        );
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        c: BackendCoord,
        r: u32,
        s: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Never>> {
        if s.color().alpha <= 0.0 {
            return Ok(());
        }
        let paint = Self::fill_or_stroke(s, fill);
        let _ = writeln!(self.body, "<circle cx=\"{}\" cy=\"{}\" r=\"{r}\" {paint}/>", c.0, c.1);
        Ok(())
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Never>> {
        let (w, h) = text_size(text, style.size());
        Ok(match style.transform() {
            FontTransform::Rotate90 | FontTransform::Rotate270 => (h, w),
            _ => (w, h),
        })
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Never>> {
        let anchor = style.anchor();
        let h = match anchor.h_pos {
            text_anchor::HPos::Left => "start",
            text_anchor::HPos::Right => "end",
            text_anchor::HPos::Center => "middle",
        };
        let v = match anchor.v_pos {
            text_anchor::VPos::Top => "text-before-edge",
            text_anchor::VPos::Center => "middle",
            text_anchor::VPos::Bottom => "text-after-edge",
        };
        let rotate = match style.transform() {
            FontTransform::Rotate90 => format!(" transform=\"rotate(90, {}, {})\"", pos.0, pos.1),
            FontTransform::Rotate180 => format!(" transform=\"rotate(180, {}, {})\"", pos.0, pos.1),
            FontTransform::Rotate270 => format!(" transform=\"rotate(270, {}, {})\"", pos.0, pos.1),
            _ => String::new(),
        };
        let _ = writeln!(
            self.body,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\" text-anchor=\"{h}\" dominant-baseline=\"{v}\"{rotate}>{}</text>",
            pos.0,
            pos.1,
            style.size(),
            color(style.color()),
            escape(text)
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<script>a&b\"c'</script>\u{7}"),
            "&lt;script&gt;a&amp;b&quot;c&#39;&lt;/script&gt;"
        );
    }

    /// Only characters XML 1.0 allows may reach the document, or a viewer refuses the file.
    fn xml_char(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    }

    #[test]
    fn characters_xml_forbids_never_reach_the_document() {
        let hostile = "a\u{FFFE}b\u{FFFF}c\u{0}d\u{1F}e\u{FDD0}f\u{1FFFE}g\u{10FFFF}h\u{7F}\u{9F}é😀";
        let escaped = escape(hostile);
        assert!(escaped.chars().all(xml_char), "{escaped:?}");
        // Text around the dropped characters stays, and a replacement marks where they were.
        assert_eq!(escaped, "a\u{FFFD}b\u{FFFD}cde\u{FFFD}f\u{FFFD}g\u{FFFD}hé😀");
        // The same through the backend: a label of a chart.
        let mut svg = String::new();
        {
            let root = SvgBackend::new(200, 100, &mut svg).into_drawing_area();
            root.draw(&Text::new(hostile, (10, 10), ("sans-serif", 12).into_font())).unwrap();
        }
        assert!(svg.chars().all(xml_char), "{svg:?}");
        assert!(svg.contains("a\u{FFFD}b"), "{svg}");
    }
}
