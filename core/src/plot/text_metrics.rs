//! Text widths without a font library: advance widths of Helvetica/Arial (the metrics SVG
//! viewers fall back to), in thousandths of an em, for printable ASCII; other characters
//! count as 0.6 em. The SVG names DejaVu Sans first, whose glyphs run about 10% wider than
//! Helvetica's, so widths are scaled up by that much: labels get room in either font.

const WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' ' .. '/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // '0' .. '9'
    278, 278, 584, 584, 584, 556, 1015, // ':' .. '@'
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722,
    667, 944, 667, 667, 611, // 'A' .. 'Z'
    278, 278, 278, 469, 556, 333, // '[' .. '`'
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556,
    500, 722, 500, 500, 500, // 'a' .. 'z'
    334, 260, 334, 584, // '{' .. '~'
];

/// Width of `text` at font size `size` (pixels), and its height.
pub fn text_size(text: &str, size: f64) -> (u32, u32) {
    let em: u32 = text
        .chars()
        .map(|c| match c as u32 {
            32..=126 => u32::from(WIDTHS[(c as u32 - 32) as usize]),
            _ => 600,
        })
        .sum();
    ((f64::from(em) * 1.1 * size / 1000.0).ceil() as u32, size.ceil() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn widths() {
        assert_eq!(text_size("0", 10.0), (7, 10));
        assert!(text_size("WWW", 12.0).0 > text_size("iii", 12.0).0 * 3);
    }
}
