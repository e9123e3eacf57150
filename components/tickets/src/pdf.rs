//! An order's tickets as a PDF to print or keep: an A6 page each, with what
//! the ticket is in words and its signed code as a QR symbol.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use crate::qr;

/// What a printed ticket says.
pub struct PrintedTicket {
    pub code: String,
    pub signed_code: String,
    pub type_name: String,
    /// The price as people read it: `12.50 EUR`.
    pub price: String,
    pub order_id: String,
    pub event_id: String,
}

/// A6 portrait, in points.
const PAGE: (f32, f32) = (298.0, 420.0);
const MARGIN: f32 = 24.0;
const FONT: Name<'static> = Name(b"F1");

/// The document: one page per ticket, in the order given.
pub fn document(tickets: &[PrintedTicket]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    // Each page takes two ids after these: the page and its content stream.
    let page_ids: Vec<(Ref, Ref)> =
        (0..tickets.len() as i32).map(|i| (Ref::new(4 + 2 * i), Ref::new(5 + 2 * i))).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().map(|(page, _)| *page)).count(tickets.len() as i32);
    pdf.type1_font(font).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    for (ticket, (page_id, content_id)) in tickets.iter().zip(&page_ids) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1)).parent(tree).contents(*content_id);
        page.resources().fonts().pair(FONT, font);
        page.finish();
        pdf.stream(*content_id, &page_content(ticket));
    }
    pdf.finish()
}

fn page_content(ticket: &PrintedTicket) -> Vec<u8> {
    let mut content = Content::new();
    let lines = [
        (16.0, format!("Ticket {}", ticket.code)),
        (11.0, ticket.type_name.clone()),
        (11.0, ticket.price.clone()),
        (7.0, format!("Order {}", ticket.order_id)),
        (7.0, format!("Event {}", ticket.event_id)),
    ];
    let mut y = PAGE.1 - MARGIN - 16.0;
    for (size, text) in lines {
        content.begin_text();
        content.set_font(FONT, size);
        content.next_line(MARGIN, y);
        content.show(Str(&win_ansi(&text)));
        content.end_text();
        y -= size + 8.0;
    }
    if let Some(symbol) = qr::symbol(&ticket.signed_code) {
        let width = PAGE.0 - 2.0 * MARGIN;
        let module = width / (symbol.size() + 2 * qr::QUIET_ZONE) as f32;
        let top = y - 8.0;
        content.set_fill_gray(0.0);
        for (x, row) in qr::dark_modules(&symbol) {
            let left = MARGIN + (x + qr::QUIET_ZONE) as f32 * module;
            let bottom = top - (row + qr::QUIET_ZONE + 1) as f32 * module;
            content.rect(left, bottom, module, module);
        }
        content.fill_nonzero();
    }
    content.finish()
}

/// Text in the standard fonts' WinAnsi encoding: Latin-1 letters as they are,
/// anything else as `?` (the standard fonts draw nothing more).
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| if (' '..='~').contains(&c) || ('\u{a0}'..='\u{ff}').contains(&c) { c as u8 } else { b'?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(code: &str) -> PrintedTicket {
        PrintedTicket {
            code: code.into(),
            signed_code: format!("E1.{}", "B".repeat(140)),
            type_name: "Café – VIP".into(),
            price: "12.50 EUR".into(),
            order_id: "order".into(),
            event_id: "event".into(),
        }
    }

    #[test]
    fn each_ticket_gets_a_page_with_its_code_and_symbol() {
        let bytes = document(&[ticket("TKT-AAAA-AAAA"), ticket("TKT-BBBB-BBBB")]);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("%PDF-") && text.trim_end().ends_with("%%EOF"));
        assert!(text.contains("/Count 2"));
        assert!(text.contains("(Ticket TKT-AAAA-AAAA)") && text.contains("(Ticket TKT-BBBB-BBBB)"));
        let modules = qr::dark_modules(&qr::symbol(&ticket("x").signed_code).expect("fits")).count();
        assert_eq!(text.matches(" re\n").count(), 2 * modules, "every dark module is drawn on each page");
    }

    #[test]
    fn what_the_standard_fonts_cannot_draw_becomes_a_question_mark() {
        assert_eq!(win_ansi("Café – VIP"), b"Caf\xe9 ? VIP");
    }
}
