//! A signed code as a QR symbol: its dark modules, drawn as SVG or on a PDF page.

use qrcodegen::{QrCode, QrCodeEcc};

/// The white border scanners need around a symbol, in modules.
pub const QUIET_ZONE: i32 = 4;

/// A QR symbol of `text` at medium error correction (15% of it may be lost):
/// a printed ticket gets creased. `None` only past QR's capacity, which no
/// signed code reaches.
pub fn symbol(text: &str) -> Option<QrCode> {
    QrCode::encode_text(text, QrCodeEcc::Medium).ok()
}

/// The dark modules of a symbol as (column, row), the quiet zone not counted.
pub fn dark_modules(symbol: &QrCode) -> impl Iterator<Item = (i32, i32)> + '_ {
    let size = symbol.size();
    (0..size).flat_map(move |y| (0..size).filter(move |&x| symbol.get_module(x, y)).map(move |x| (x, y)))
}

/// The symbol as an SVG document, one unit per module, quiet zone included.
pub fn svg(symbol: &QrCode) -> String {
    let side = symbol.size() + 2 * QUIET_ZONE;
    let path: String =
        dark_modules(symbol).map(|(x, y)| format!("M{},{}h1v1h-1z", x + QUIET_ZONE, y + QUIET_ZONE)).collect();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_code_fits_a_symbol_and_is_drawn_module_by_module() {
        let code = format!("E1.{}", "A".repeat(140));
        let symbol = symbol(&code).expect("a signed code fits");
        let svg = svg(&symbol);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("h1v1h-1z").count(), dark_modules(&symbol).count());
        let side = symbol.size() + 2 * QUIET_ZONE;
        assert!(svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")));
    }
}
