//! Charts as PNG images: the same drawing code as the SVG charts (`runstore_core::plot`),
//! on plotters' bitmap backend, with DejaVu Sans embedded so text renders on any machine.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use runstore_core::plot::{Chart, draw};

use crate::{Error, Result};

/// DejaVu Sans (Bitstream Vera derived, free license: assets/DejaVuSans-LICENSE.txt).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
                .map_err(|_| "the embedded font is invalid".to_string())
        })
        .clone()
        .map_err(Error::Chart)
}

/// Draws `chart` into a PNG file of `width` × `height` pixels.
pub fn render_png(chart: &Chart, width: u32, height: u32, path: &Path) -> Result<()> {
    register_font()?;
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    draw(chart, &root).map_err(|e| Error::Chart(e.to_string()))?;
    root.present().map_err(|e| Error::Chart(format!("writing {}: {e}", path.display())))?;
    Ok(())
}
