//! The weekly review as a PDF report: a summary page with key figures and four charts, then
//! every table of [`crate::export::tables`] (so the PDF and the CSV files say the same thing).
//!
//! Design:
//! - **Hand-written PDF 1.4, no dependency.** The report needs only pages, text, lines and
//!   filled rectangles, which is a small subset of the format: numbered objects, a
//!   cross-reference table of byte offsets and a trailer. Writing that here (about 150 lines:
//!   `PdfWriter`, `write_pdf`, `Canvas`) costs less than a PDF crate's dependency tree, its audit
//!   and its updates, and keeps the output fully under our control. Streams are not
//!   compressed: the files stay small enough, and they can be read (and tested) as text.
//! - **Base-14 fonts, not embedded.** Helvetica and Helvetica-Bold with `WinAnsiEncoding`
//!   are guaranteed to every PDF reader, so nothing is embedded. Text is mapped to WinAnsi
//!   bytes (Latin-1 as is, plus cp1252's typographic extras; anything else becomes `?`), which
//!   covers the names of the panels we serve ("Adán Ordóñez"). Widths for layout come from a
//!   per-character table of Helvetica's metrics, so truncation ("…") and right alignment are
//!   close to what a reader draws.
//! - **A4 landscape** (842 × 595 pt), readable on a projector in the weekly meeting.
//! - **Deterministic**: no dates or ids of our own; the same review gives the same bytes.
//!   The document title holds only the week, never a name (metadata is easily overlooked
//!   when a file is shared).
//! - **Robust to any data**: charts draw their frame and "no data" when empty; every number
//!   written to a content stream goes through `num`, which turns a non-finite value into
//!   0, so no `NaN` can reach a reader even when a ratio is undefined.

use std::fmt::Write as _;

use crate::model::{EquityRow, Table, WeeklyReview};

const PAGE_W: f64 = 842.0;
const PAGE_H: f64 = 595.0;
const MARGIN: f64 = 36.0;
/// The four charts of page 1 fill this band (bottom-left origin, in points).
const CHARTS_BOTTOM: f64 = 36.0;
const CHARTS_TOP: f64 = 458.0;
const TABLE_FONT: f64 = 8.5;
const TABLE_MIN_FONT: f64 = 6.5;
const CELL_PAD: f64 = 3.0;
const MAX_SERIES: usize = 8;

/// The review as a PDF document.
pub fn render(review: &WeeklyReview) -> Vec<u8> {
    let mut pages = vec![summary_page(review)];
    pages.extend(table_pages(&crate::export::tables(review)));
    let total = pages.len();
    for (i, page) in pages.iter_mut().enumerate() {
        page.fill(MUTED);
        let footer = format!(
            "Careloop weekly review {} · page {} of {total}",
            review.week,
            i + 1
        );
        page.text_right(PAGE_W - MARGIN, 18.0, 8.0, Font::Regular, &footer);
    }
    write_pdf(&pages, &format!("Careloop weekly review {}", review.week))
}

// ---------------------------------------------------------------------------------------
// The file: objects, cross-reference table, trailer.

/// Appends numbered objects (in order: 1, 2, …) and records their byte offsets.
struct PdfWriter {
    out: Vec<u8>,
    offsets: Vec<usize>,
}

impl PdfWriter {
    fn new() -> PdfWriter {
        // The second line's high bytes tell transfer tools that the file is binary.
        let out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
        PdfWriter {
            out,
            offsets: Vec::new(),
        }
    }

    fn object(&mut self, id: usize, body: &[u8]) {
        assert_eq!(id, self.offsets.len() + 1, "objects are written in order");
        self.offsets.push(self.out.len());
        self.out
            .extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
    }

    fn finish(mut self, root: usize, info: usize) -> Vec<u8> {
        let xref = self.out.len();
        let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", self.offsets.len() + 1);
        for offset in &self.offsets {
            // Each entry is exactly 20 bytes, its end of line being " \n".
            let _ = writeln!(tail, "{offset:010} 00000 n ");
        }
        let _ = write!(
            tail,
            "trailer\n<< /Size {} /Root {root} 0 R /Info {info} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            self.offsets.len() + 1
        );
        self.out.extend_from_slice(tail.as_bytes());
        self.out
    }
}

/// Objects: 1 catalog, 2 page tree, 3–4 fonts, 5 info, then each page's content and page.
fn write_pdf(pages: &[Canvas], title: &str) -> Vec<u8> {
    let content_id = |i: usize| 6 + 2 * i;
    let page_id = |i: usize| 7 + 2 * i;
    let mut w = PdfWriter::new();
    w.object(1, b"<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", page_id(i)))
        .collect();
    let tree = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    );
    w.object(2, tree.as_bytes());
    for (id, name) in [(3, "Helvetica"), (4, "Helvetica-Bold")] {
        let font = format!(
            "<< /Type /Font /Subtype /Type1 /BaseFont /{name} /Encoding /WinAnsiEncoding >>"
        );
        w.object(id, font.as_bytes());
    }
    let mut info = b"<< /Title (".to_vec();
    push_string(&mut info, title);
    info.extend_from_slice(b") /Producer (Careloop) >>");
    w.object(5, &info);
    for (i, page) in pages.iter().enumerate() {
        let mut stream = format!("<< /Length {} >>\nstream\n", page.ops.len()).into_bytes();
        stream.extend_from_slice(&page.ops);
        stream.extend_from_slice(b"\nendstream");
        w.object(content_id(i), &stream);
        let dict = format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] \
             /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
            content_id(i)
        );
        w.object(page_id(i), dict.as_bytes());
    }
    w.finish(1, 5)
}

// ---------------------------------------------------------------------------------------
// Text: WinAnsi bytes, escaping, widths.

/// The WinAnsi byte for a character; `None` for a combining mark (dropped: "a\u{301}" → "a").
fn win_ansi(c: char) -> Option<u8> {
    Some(match c {
        ' '..='~' | '\u{A0}'..='\u{FF}' => c as u8,
        '\u{300}'..='\u{36F}' => return None,
        c if c.is_whitespace() || c.is_control() => b' ',
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‰' => 0x89,
        'Š' => 0x8A,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '™' => 0x99,
        'š' => 0x9A,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => b'?',
    })
}

/// Appends `text` as the inside of a PDF literal string: WinAnsi bytes, `\ ( )` escaped.
fn push_string(out: &mut Vec<u8>, text: &str) {
    for b in text.chars().filter_map(win_ansi) {
        if matches!(b, b'\\' | b'(' | b')') {
            out.push(b'\\');
        }
        out.push(b);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
}

/// Advance widths (1/1000 em) of ' ' to '~' in Helvetica and Helvetica-Bold (Adobe AFM).
#[rustfmt::skip]
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
#[rustfmt::skip]
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];
/// The unaccented letter whose width stands for each of 0xC0–0xFF (`?`: see `glyph_width`).
const LATIN1_BASE: &[u8; 64] = b"AAAAAA?CEEEEIIIIDNOOOOO?OUUUUYP?aaaaaa?ceeeeiiiionooooo?ouuuuypy";

/// A WinAnsi glyph's width in 1/1000 em (approximate outside ASCII).
fn glyph_width(b: u8, font: Font) -> u16 {
    let table = if font == Font::Bold {
        &HELVETICA_BOLD
    } else {
        &HELVETICA
    };
    match b {
        0x20..=0x7E => table[usize::from(b - 0x20)],
        0x85 | 0x89 | 0x97 | 0x99 | 0xC6 | 0x8C => 1000,
        0xE6 | 0x9C => 889,
        0x91 | 0x92 | 0xB7 | 0xA0 => 278,
        0x93 | 0x94 => 333,
        0x95 => 350,
        0xD7 | 0xF7 => 584,
        0xDF => 611,
        0xC0..=0xFF => {
            let base = LATIN1_BASE[usize::from(b - 0xC0)];
            if base == b'?' {
                556
            } else {
                table[usize::from(base - 0x20)]
            }
        }
        _ => 556,
    }
}

fn char_width(c: char, font: Font, size: f64) -> f64 {
    win_ansi(c).map_or(0.0, |b| f64::from(glyph_width(b, font)) * size / 1000.0)
}

/// The width of `text` in points.
fn text_width(text: &str, font: Font, size: f64) -> f64 {
    text.chars().map(|c| char_width(c, font, size)).sum()
}

/// `text` cut to fit `max` points, ending with "…" when cut.
fn truncate(text: &str, font: Font, size: f64, max: f64) -> String {
    // The tolerance keeps a column's widest cell, whose width the column was made from, whole.
    if text_width(text, font, size) <= max + 0.01 {
        return text.to_owned();
    }
    let room = max - char_width('…', font, size);
    if room < 0.0 {
        return String::new();
    }
    let mut used = 0.0;
    let mut out = String::new();
    for c in text.chars() {
        used += char_width(c, font, size);
        if used > room {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// A number for a content stream: at most two decimals, never NaN or infinite.
fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    match s.trim_end_matches('0').trim_end_matches('.') {
        "-0" => "0".to_owned(),
        s => s.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Drawing: one page's content stream.

#[derive(Clone, Copy)]
struct Rgb(f64, f64, f64);

const INK: Rgb = Rgb(0.1, 0.12, 0.15);
const MUTED: Rgb = Rgb(0.38, 0.4, 0.44);
const RULE: Rgb = Rgb(0.75, 0.77, 0.8);
const GRID: Rgb = Rgb(0.88, 0.89, 0.91);
const PANEL: Rgb = Rgb(0.95, 0.96, 0.97);
const HEADER: Rgb = Rgb(0.85, 0.88, 0.92);
const ALERT: Rgb = Rgb(0.75, 0.15, 0.12);
const OVER: Rgb = Rgb(0.8, 0.25, 0.15);
const OVER_LIGHT: Rgb = Rgb(0.93, 0.62, 0.55);
const UNDER: Rgb = Rgb(0.12, 0.4, 0.7);
const UNDER_LIGHT: Rgb = Rgb(0.55, 0.7, 0.88);
/// Series colours, dark enough to show on a grey-scale projector or print.
const PALETTE: [Rgb; MAX_SERIES] = [
    Rgb(0.12, 0.47, 0.71),
    Rgb(0.84, 0.15, 0.16),
    Rgb(0.17, 0.63, 0.17),
    Rgb(0.9, 0.45, 0.05),
    Rgb(0.58, 0.4, 0.74),
    Rgb(0.55, 0.34, 0.29),
    Rgb(0.85, 0.35, 0.65),
    Rgb(0.09, 0.6, 0.65),
];

#[derive(Default)]
struct Canvas {
    ops: Vec<u8>,
}

impl Canvas {
    fn op(&mut self, op: &str) {
        self.ops.extend_from_slice(op.as_bytes());
        self.ops.push(b'\n');
    }
    fn fill(&mut self, c: Rgb) {
        self.op(&format!("{} {} {} rg", num(c.0), num(c.1), num(c.2)));
    }
    fn stroke(&mut self, c: Rgb, width: f64, dash: bool) {
        let dash = if dash { "[3 2]" } else { "[]" };
        let (r, g, b) = (num(c.0), num(c.1), num(c.2));
        self.op(&format!("{r} {g} {b} RG {} w {dash} 0 d", num(width)));
    }
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64) {
        self.op(&format!("{} {} {} {} re f", num(x), num(y), num(w), num(h)));
    }
    fn frame(&mut self, x: f64, y: f64, w: f64, h: f64) {
        self.op(&format!("{} {} {} {} re S", num(x), num(y), num(w), num(h)));
    }
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64) {
        self.polyline(&[(x1, y1), (x2, y2)]);
    }
    fn polyline(&mut self, points: &[(f64, f64)]) {
        if points.len() < 2 {
            return;
        }
        let mut op = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(
                op,
                "{} {} {} ",
                num(*x),
                num(*y),
                if i == 0 { "m" } else { "l" }
            );
        }
        op.push('S');
        self.op(&op);
    }
    fn text(&mut self, x: f64, y: f64, size: f64, font: Font, text: &str) {
        if text.is_empty() {
            return;
        }
        let f = if font == Font::Bold { "F2" } else { "F1" };
        let head = format!("BT /{f} {} Tf {} {} Td (", num(size), num(x), num(y));
        self.ops.extend_from_slice(head.as_bytes());
        push_string(&mut self.ops, text);
        self.ops.extend_from_slice(b") Tj ET\n");
    }
    fn text_right(&mut self, right: f64, y: f64, size: f64, font: Font, text: &str) {
        self.text(right - text_width(text, font, size), y, size, font, text);
    }
    fn text_center(&mut self, center: f64, y: f64, size: f64, font: Font, text: &str) {
        self.text(
            center - text_width(text, font, size) / 2.0,
            y,
            size,
            font,
            text,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Page 1: title, key figures, charts.

/// A rectangle, origin at its bottom left.
#[derive(Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn right(&self) -> f64 {
        self.x + self.w
    }
    fn top(&self) -> f64 {
        self.y + self.h
    }
    /// The rectangle less the given margins.
    fn inset(&self, left: f64, right: f64, bottom: f64, top: f64) -> Rect {
        Rect {
            x: self.x + left,
            y: self.y + bottom,
            w: (self.w - left - right).max(1.0),
            h: (self.h - top - bottom).max(1.0),
        }
    }
    /// Where `v` of `min..=max` falls, horizontally and vertically (the middle if the range
    /// is empty).
    fn x_of(&self, v: f64, min: f64, max: f64) -> f64 {
        self.x + self.w * fraction(v, min, max)
    }
    fn y_of(&self, v: f64, min: f64, max: f64) -> f64 {
        self.y + self.h * fraction(v, min, max)
    }
}

fn fraction(v: f64, min: f64, max: f64) -> f64 {
    if max - min > 0.0 && v.is_finite() {
        ((v - min) / (max - min)).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

fn summary_page(r: &WeeklyReview) -> Canvas {
    let mut c = Canvas::default();
    let top = PAGE_H - MARGIN;
    c.fill(INK);
    let title = format!("Weekly case review — {}", r.week);
    c.text(MARGIN, top - 18.0, 20.0, Font::Bold, &title);
    let run = |run: &Option<crate::model::RunRef>| {
        run.as_ref().map_or("none".to_owned(), |run| {
            format!("#{} of {}", run.id, run.as_of)
        })
    };
    let subtitle = format!(
        "{} to {} (data before {}) · segmentation run {} · previous run {}",
        r.starts,
        r.ends,
        r.as_of,
        run(&r.run),
        run(&r.previous_run)
    );
    c.fill(MUTED);
    c.text(MARGIN, top - 35.0, 10.0, Font::Regular, &subtitle);

    let sum = |f: fn(&crate::model::SegmentRow) -> usize| r.segments.iter().map(f).sum::<usize>();
    let p = &r.pending;
    let figures = [
        ("In cohorts (all segments)", sum(|s| s.size as usize), false),
        ("Entered cohorts", sum(|s| s.entered.len()), false),
        ("Exited cohorts", sum(|s| s.exited.len()), false),
        ("Overdue cases", p.overdue_cases.len(), true),
        (
            "Unacknowledged escalations",
            p.unacknowledged_escalations.len(),
            true,
        ),
        ("Overdue referrals", p.overdue_referrals.len(), true),
        ("Waiting callbacks", p.waiting_callbacks.len(), true),
        ("Contact-limit overrides", r.contacts.overrides.len(), false),
    ];
    let gap = 8.0;
    let w = (PAGE_W - 2.0 * MARGIN - gap * (figures.len() - 1) as f64) / figures.len() as f64;
    for (i, (label, value, alert)) in figures.into_iter().enumerate() {
        let x = MARGIN + i as f64 * (w + gap);
        c.fill(PANEL);
        c.rect(x, 470.0, w, 44.0);
        c.fill(if alert && value > 0 { ALERT } else { INK });
        c.text(x + 6.0, 490.0, 18.0, Font::Bold, &value.to_string());
        c.fill(MUTED);
        c.text(
            x + 6.0,
            477.0,
            7.0,
            Font::Regular,
            &truncate(label, Font::Regular, 7.0, w - 10.0),
        );
    }

    let gap = 14.0;
    let w = (PAGE_W - 2.0 * MARGIN - gap) / 2.0;
    let h = (CHARTS_TOP - CHARTS_BOTTOM - gap) / 2.0;
    let cell = |col: f64, row: f64| Rect {
        x: MARGIN + col * (w + gap),
        y: CHARTS_BOTTOM + row * (h + gap),
        w,
        h,
    };
    trend_chart(&mut c, cell(0.0, 1.0), r);
    equity_chart(&mut c, cell(1.0, 1.0), r);
    contacts_chart(&mut c, cell(0.0, 0.0), r);
    closure_chart(&mut c, cell(1.0, 0.0), r);
    c
}

/// Draws a chart's frame and title; returns the area inside the frame below the title.
fn chart_box(c: &mut Canvas, b: Rect, title: &str) -> Rect {
    c.stroke(RULE, 0.6, false);
    c.frame(b.x, b.y, b.w, b.h);
    c.fill(INK);
    c.text(b.x + 8.0, b.top() - 15.0, 10.0, Font::Bold, title);
    b.inset(0.0, 0.0, 0.0, 22.0)
}

fn no_data(c: &mut Canvas, area: Rect) {
    c.fill(MUTED);
    c.text_center(
        area.x + area.w / 2.0,
        area.y + area.h / 2.0,
        10.0,
        Font::Regular,
        "no data",
    );
}

/// Ticks from 0 up to a round value at or above `max` (1 if `max` is not positive), about
/// five of them; whole numbers when `integer`.
fn ticks(max: f64, integer: bool) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    if integer {
        step = step.max(1.0).round();
    }
    let n = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

/// Horizontal grid lines with labels on the left of `plot`.
fn y_grid(c: &mut Canvas, plot: Rect, ticks: &[f64], label: impl Fn(f64) -> String) {
    let max = ticks.last().copied().unwrap_or(1.0);
    for &t in ticks {
        let y = plot.y_of(t, 0.0, max);
        c.stroke(GRID, 0.5, false);
        c.line(plot.x, y, plot.right(), y);
        c.fill(MUTED);
        c.text_right(plot.x - 4.0, y - 2.5, 7.0, Font::Regular, &label(t));
    }
    c.stroke(RULE, 0.8, false);
    c.line(plot.x, plot.y, plot.right(), plot.y);
}

/// Series names with their colours, down from `top` at `x`, each cut to `width`.
fn legend(c: &mut Canvas, x: f64, top: f64, width: f64, items: &[(String, Rgb)]) {
    for (i, (name, colour)) in items.iter().enumerate() {
        let y = top - 11.0 * i as f64;
        c.fill(*colour);
        c.rect(x, y + 1.0, 10.0, 3.0);
        c.fill(INK);
        c.text(
            x + 14.0,
            y,
            7.0,
            Font::Regular,
            &truncate(name, Font::Regular, 7.0, width - 14.0),
        );
    }
}

/// A small coloured key at the right of a chart's title line.
fn title_keys(c: &mut Canvas, b: Rect, keys: &[(&str, Rgb)]) {
    let mut x = b.right() - 8.0;
    for (label, colour) in keys.iter().rev() {
        let w = text_width(label, Font::Regular, 7.0);
        x -= w;
        c.fill(MUTED);
        c.text(x, b.top() - 14.0, 7.0, Font::Regular, label);
        x -= 12.0;
        c.fill(*colour);
        c.rect(x, b.top() - 14.5, 9.0, 7.0);
        x -= 8.0;
    }
}

fn segment_name<'a>(r: &'a WeeklyReview, id: &'a str) -> &'a str {
    r.segments
        .iter()
        .find(|s| s.segment_id == id)
        .map_or(id, |s| s.name.as_str())
}

/// Lines through the points of each series, scaled to the `x` and `y` ranges, with a marker
/// on each point when `markers` (and always on a lone point, so that it shows).
fn draw_lines(
    c: &mut Canvas,
    plot: Rect,
    series: &[Vec<(f64, f64)>],
    x: (f64, f64),
    y: (f64, f64),
    markers: bool,
) {
    for (points, colour) in series.iter().zip(PALETTE) {
        let at: Vec<(f64, f64)> = points
            .iter()
            .map(|&(px, py)| (plot.x_of(px, x.0, x.1), plot.y_of(py, y.0, y.1)))
            .collect();
        c.stroke(colour, 1.4, false);
        c.polyline(&at);
        if at.len() == 1 || (markers && at.len() <= 40) {
            c.fill(colour);
            for (px, py) in at {
                c.rect(px - 1.6, py - 1.6, 3.2, 3.2);
            }
        }
    }
}

/// Chart 1: cohort sizes over the recorded runs, for the largest segments.
fn trend_chart(c: &mut Canvas, b: Rect, r: &WeeklyReview) {
    let area = chart_box(c, b, "Cohort size by segmentation run");
    let mut runs: Vec<_> = r.trend.iter().collect();
    runs.sort_by(|a, b| (&a.as_of, a.run_id).cmp(&(&b.as_of, b.run_id)));
    // Segments by their size in the latest run, then their largest size, then id.
    let mut ids: Vec<(&str, u32, u32)> = Vec::new();
    for run in &runs {
        for s in &run.sizes {
            match ids.iter_mut().find(|(id, ..)| *id == s.segment_id) {
                Some(entry) => entry.2 = entry.2.max(s.count),
                None => ids.push((&s.segment_id, 0, s.count)),
            }
        }
    }
    if let Some(last) = runs.last() {
        for s in &last.sizes {
            if let Some(entry) = ids.iter_mut().find(|(id, ..)| *id == s.segment_id) {
                entry.1 = s.count;
            }
        }
    }
    ids.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
    ids.truncate(MAX_SERIES);
    if ids.is_empty() {
        return no_data(c, area);
    }
    let plot = area.inset(40.0, 122.0, 24.0, 6.0);
    // x: days since the first run when every date parses, else the run's index.
    let day = |s: &str| {
        s.get(..10)
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    let days: Option<Vec<_>> = runs.iter().map(|p| day(&p.as_of)).collect();
    let xs: Vec<f64> = match days {
        Some(days) => days
            .iter()
            .map(|d| (*d - days[0]).num_days() as f64)
            .collect(),
        None => (0..runs.len()).map(|i| i as f64).collect(),
    };
    let x_range = (xs[0], xs[xs.len() - 1]);
    let y_max = ids.iter().map(|s| s.2).max().unwrap_or(0);
    let y_ticks = ticks(f64::from(y_max), true);
    let y_range = (0.0, *y_ticks.last().unwrap_or(&1.0));
    y_grid(c, plot, &y_ticks, num);
    // Run dates under the axis, skipping those that would overlap.
    let mut free_from = f64::MIN;
    for (run, x) in runs.iter().zip(&xs) {
        let label = run.as_of.get(..10).unwrap_or(&run.as_of);
        let w = text_width(label, Font::Regular, 6.5);
        let at = plot.x_of(*x, x_range.0, x_range.1);
        if at - w / 2.0 >= free_from {
            c.stroke(RULE, 0.8, false);
            c.line(at, plot.y, at, plot.y - 3.0);
            c.fill(MUTED);
            c.text_center(at, plot.y - 11.0, 6.5, Font::Regular, label);
            free_from = at + w / 2.0 + 4.0;
        }
    }
    let series: Vec<Vec<(f64, f64)>> = ids
        .iter()
        .map(|(id, ..)| {
            runs.iter()
                .zip(&xs)
                .filter_map(|(run, x)| {
                    let size = run.sizes.iter().find(|s| s.segment_id == *id)?;
                    Some((*x, f64::from(size.count)))
                })
                .collect()
        })
        .collect();
    draw_lines(c, plot, &series, x_range, y_range, true);
    let names: Vec<(String, Rgb)> = ids
        .iter()
        .zip(PALETTE)
        .map(|((id, ..), colour)| (segment_name(r, id).to_owned(), colour))
        .collect();
    legend(c, plot.right() + 10.0, plot.top() - 6.0, 108.0, &names);
}

/// Chart 2: equity ratios of the flagged groups (or of everyone contacted).
fn equity_chart(c: &mut Canvas, b: Rect, r: &WeeklyReview) {
    let finite = |row: &&EquityRow| row.ratio.is_some_and(f64::is_finite);
    let flagged: Vec<&EquityRow> = r
        .equity
        .rows
        .iter()
        .filter(|row| !row.flag.is_empty())
        .filter(finite)
        .collect();
    let (mut rows, title) = if flagged.is_empty() {
        let contacted = r
            .equity
            .rows
            .iter()
            .filter(|row| row.population == "contacted" && row.segment_id == "all");
        (
            contacted.filter(finite).collect::<Vec<_>>(),
            "Equity: people contacted vs the panel",
        )
    } else {
        (flagged, "Equity: flagged groups vs the panel")
    };
    let area = chart_box(c, b, title);
    title_keys(c, b, &[("over", OVER), ("under", UNDER)]);
    if rows.is_empty() {
        return no_data(c, area);
    }
    let plot = area.inset(150.0, 30.0, 22.0, 4.0);
    let fits = ((plot.h / 9.0).floor() as usize).max(1);
    let total = rows.len();
    if total > fits {
        // Keep the groups furthest from parity, in their original order.
        let distance = |row: &EquityRow| match row.ratio {
            Some(v) if v > 0.0 => v.ln().abs(),
            _ => f64::MAX,
        };
        let mut order: Vec<usize> = (0..total).collect();
        order.sort_by(|&a, &b| {
            distance(rows[b])
                .total_cmp(&distance(rows[a]))
                .then(a.cmp(&b))
        });
        order.truncate(fits);
        order.sort_unstable();
        rows = order.into_iter().map(|i| rows[i]).collect();
        c.fill(MUTED);
        let note = format!("the {fits} furthest from parity of {total}");
        c.text_right(b.right() - 8.0, area.y + 5.0, 6.5, Font::Regular, &note);
    }
    let threshold = Some(r.equity.threshold).filter(|t| t.is_finite() && *t > 0.0);
    let most = rows.iter().filter_map(|row| row.ratio).fold(1.0, f64::max);
    let x_ticks = ticks(most.max(threshold.unwrap_or(0.0)).max(1.0) * 1.05, false);
    let x_max = *x_ticks.last().unwrap_or(&1.0);
    for &t in &x_ticks {
        let x = plot.x_of(t, 0.0, x_max);
        c.stroke(GRID, 0.5, false);
        c.line(x, plot.y, x, plot.top());
        c.fill(MUTED);
        c.text_center(x, plot.y - 10.0, 7.0, Font::Regular, &num(t));
    }
    let row_h = (plot.h / rows.len() as f64).min(16.0);
    for (i, row) in rows.iter().enumerate() {
        let ratio = row.ratio.unwrap_or(0.0);
        let y = plot.top() - row_h * (i as f64 + 1.0);
        let segment = if row.segment_id == "all" {
            "all"
        } else {
            segment_name(r, &row.segment_id)
        };
        let label = format!(
            "{} ({}) {}: {}",
            segment, row.population, row.dimension, row.group
        );
        c.fill(INK);
        let label = truncate(&label, Font::Regular, 6.5, 144.0);
        c.text_right(
            plot.x - 4.0,
            y + row_h / 2.0 - 2.3,
            6.5,
            Font::Regular,
            &label,
        );
        let over = match row.flag.as_str() {
            "over" => true,
            "under" => false,
            _ => ratio >= 1.0,
        };
        c.fill(match (over, row.flag.is_empty()) {
            (true, false) => OVER,
            (true, true) => OVER_LIGHT,
            (false, false) => UNDER,
            (false, true) => UNDER_LIGHT,
        });
        let end = plot.x_of(ratio, 0.0, x_max);
        c.rect(plot.x, y + row_h * 0.18, end - plot.x, row_h * 0.64);
        c.fill(INK);
        c.text(
            end + 3.0,
            y + row_h / 2.0 - 2.3,
            6.5,
            Font::Regular,
            &format!("{ratio:.2}"),
        );
    }
    if let Some(t) = threshold {
        for v in [t, 1.0 / t] {
            if v > 0.0 && v <= x_max && v != 1.0 {
                let x = plot.x_of(v, 0.0, x_max);
                c.stroke(MUTED, 0.8, true);
                c.line(x, plot.y, x, plot.top());
            }
        }
    }
    let one = plot.x_of(1.0, 0.0, x_max);
    c.stroke(INK, 1.0, false);
    c.line(one, plot.y, one, plot.top());
    c.line(plot.x, plot.y, plot.x, plot.top());
}

/// Chart 3: people by number of contacts, in the week and in the 28 days ending with it.
fn contacts_chart(c: &mut Canvas, b: Rect, r: &WeeklyReview) {
    let (week_colour, month_colour) = (PALETTE[0], Rgb(0.55, 0.7, 0.88));
    let area = chart_box(c, b, "People by contacts received");
    title_keys(c, b, &[("week", week_colour), ("28 days", month_colour)]);
    let contacts = &r.contacts;
    let mut labels: Vec<&str> = contacts
        .per_week
        .iter()
        .map(|b| b.contacts.as_str())
        .collect();
    for bucket in &contacts.per_month {
        if !labels.contains(&bucket.contacts.as_str()) {
            labels.push(&bucket.contacts);
        }
    }
    if labels.is_empty() {
        return no_data(c, area);
    }
    let people = |buckets: &[crate::model::Bucket], label: &str| {
        buckets
            .iter()
            .find(|b| b.contacts == label)
            .map_or(0, |b| b.people)
    };
    let plot = area.inset(40.0, 12.0, 30.0, 12.0);
    let most = labels
        .iter()
        .map(|l| people(&contacts.per_week, l).max(people(&contacts.per_month, l)))
        .max()
        .unwrap_or(0);
    let y_ticks = ticks(f64::from(most), true);
    let y_max = *y_ticks.last().unwrap_or(&1.0);
    y_grid(c, plot, &y_ticks, num);
    let group = plot.w / labels.len() as f64;
    let bar = (group * 0.36).min(30.0);
    for (i, label) in labels.iter().enumerate() {
        let centre = plot.x + group * (i as f64 + 0.5);
        let values = [
            (
                people(&contacts.per_week, label),
                week_colour,
                centre - bar - 1.0,
            ),
            (
                people(&contacts.per_month, label),
                month_colour,
                centre + 1.0,
            ),
        ];
        for (value, colour, x) in values {
            let top = plot.y_of(f64::from(value), 0.0, y_max);
            c.fill(colour);
            c.rect(x, plot.y, bar, top - plot.y);
            if bar >= 9.0 {
                c.fill(MUTED);
                c.text_center(
                    x + bar / 2.0,
                    top + 2.0,
                    6.0,
                    Font::Regular,
                    &value.to_string(),
                );
            }
        }
        c.fill(INK);
        let label = truncate(label, Font::Regular, 7.0, group - 2.0);
        c.text_center(centre, plot.y - 10.0, 7.0, Font::Regular, &label);
    }
    c.fill(MUTED);
    let caption = format!("contacts per person (guard: {} in 7 days)", contacts.limit);
    c.text_center(
        plot.x + plot.w / 2.0,
        plot.y - 21.0,
        7.0,
        Font::Regular,
        &caption,
    );
}

/// Chart 4: cumulative care-gap closure by days after the first attempt, per segment.
fn closure_chart(c: &mut Canvas, b: Rect, r: &WeeklyReview) {
    let area = chart_box(c, b, "Care-gap closure after the first attempt");
    // At most eight segments, those with the most cases outreached (the closure table) first.
    let mut ids: Vec<(&str, u32)> = Vec::new();
    for p in &r.closure_curve {
        if !ids.iter().any(|(id, _)| *id == p.segment_id) {
            let outreached = r
                .closure
                .iter()
                .find(|row| row.segment_id == p.segment_id)
                .map_or(0, |row| row.outreached);
            ids.push((&p.segment_id, outreached));
        }
    }
    ids.sort_by_key(|(_, outreached)| std::cmp::Reverse(*outreached));
    ids.truncate(MAX_SERIES);
    let series: Vec<Vec<(f64, f64)>> = ids
        .iter()
        .map(|(id, _)| {
            let mut points: Vec<(f64, f64)> = r
                .closure_curve
                .iter()
                .filter(|p| p.segment_id == *id && p.day <= 90 && p.closed_share.is_finite())
                .map(|p| (f64::from(p.day), p.closed_share.clamp(0.0, 1.0)))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            // A cumulative curve is a staircase from 0 on day 0.
            let mut steps: Vec<(f64, f64)> = Vec::new();
            if points.first().is_some_and(|p| p.0 > 0.0) {
                steps.push((0.0, 0.0));
            }
            for p in points {
                if let Some(&(_, before)) = steps.last() {
                    steps.push((p.0, before));
                }
                steps.push(p);
            }
            steps.dedup();
            steps
        })
        .collect();
    if series.iter().all(Vec::is_empty) {
        return no_data(c, area);
    }
    let plot = area.inset(40.0, 122.0, 30.0, 6.0);
    y_grid(c, plot, &[0.0, 0.25, 0.5, 0.75, 1.0], |v| {
        format!("{:.0}%", v * 100.0)
    });
    for day in (0..=90).step_by(15) {
        let x = plot.x_of(f64::from(day), 0.0, 90.0);
        c.stroke(RULE, 0.8, false);
        c.line(x, plot.y, x, plot.y - 3.0);
        c.fill(MUTED);
        c.text_center(x, plot.y - 11.0, 7.0, Font::Regular, &day.to_string());
    }
    c.text_center(
        plot.x + plot.w / 2.0,
        plot.y - 22.0,
        7.0,
        Font::Regular,
        "days after the first attempt",
    );
    draw_lines(c, plot, &series, (0.0, 90.0), (0.0, 1.0), false);
    let names: Vec<(String, Rgb)> = ids
        .iter()
        .zip(PALETTE)
        .map(|((id, _), colour)| (segment_name(r, id).to_owned(), colour))
        .collect();
    legend(c, plot.right() + 10.0, plot.top() - 6.0, 108.0, &names);
}

// ---------------------------------------------------------------------------------------
// Following pages: the tables.

/// How a table is set: font size, row height, column widths, and which columns are
/// right-aligned.
struct Layout {
    size: f64,
    row_h: f64,
    widths: Vec<f64>,
    numeric: Vec<bool>,
}

fn is_number(cell: &str) -> bool {
    let t = cell.trim().trim_end_matches('%').trim_end();
    t.bytes().all(|b| b.is_ascii_digit() || b"+-.".contains(&b)) && t.parse::<f64>().is_ok()
}

fn layout(t: &Table, available: f64) -> Layout {
    fn cell(row: &[String], i: usize) -> &str {
        row.get(i).map_or("", String::as_str)
    }
    let natural = |size: f64| -> Vec<f64> {
        (0..t.columns.len())
            .map(|i| {
                let header = text_width(t.columns[i], Font::Bold, size);
                let widest = t
                    .rows
                    .iter()
                    .map(|row| text_width(cell(row, i), Font::Regular, size))
                    .fold(header, f64::max);
                widest + 2.0 * CELL_PAD
            })
            .collect()
    };
    // A long text column alone is truncated rather than shrinking the whole table.
    let wanted = |widths: &[f64]| widths.iter().map(|w| w.min(available * 0.3)).sum::<f64>();
    let mut size = TABLE_FONT;
    let mut widths = natural(size);
    let total = wanted(&widths);
    if total > available {
        size = (TABLE_FONT * available / total).max(TABLE_MIN_FONT);
        widths = natural(size);
    }
    // Too wide still: cap the widest columns at the width that makes the table fit.
    if widths.iter().sum::<f64>() > available {
        let mut sorted = widths.clone();
        sorted.sort_by(f64::total_cmp);
        let (mut below, mut cap) = (0.0, available / widths.len() as f64);
        for (k, w) in sorted.iter().enumerate() {
            let even = (available - below) / (sorted.len() - k) as f64;
            if *w >= even {
                cap = even;
                break;
            }
            below += w;
        }
        widths.iter_mut().for_each(|w| *w = w.min(cap));
    }
    let numeric = (0..t.columns.len())
        .map(|i| {
            let mut cells = t
                .rows
                .iter()
                .map(|row| cell(row, i).trim())
                .filter(|s| !s.is_empty() && *s != "n/a");
            let mut any = false;
            cells.all(|s| {
                any = true;
                is_number(s)
            }) && any
        })
        .collect();
    Layout {
        size,
        row_h: (size * 1.55).round(),
        widths,
        numeric,
    }
}

/// The tables, paginated: a table starts on the current page if its title, header and first
/// rows fit; a table that continues on a new page repeats its title and header.
fn table_pages(tables: &[Table]) -> Vec<Canvas> {
    let (top, bottom) = (PAGE_H - MARGIN, MARGIN);
    let mut pages = Vec::new();
    let mut page = Canvas::default();
    let mut next_page = |page: &mut Canvas| {
        if !page.ops.is_empty() {
            pages.push(std::mem::take(page));
        }
        top
    };
    let mut y = bottom; // the first table starts a page
    for t in tables {
        let lay = layout(t, PAGE_W - 2.0 * MARGIN);
        let row_h = lay.row_h;
        let first_rows = t.rows.len().clamp(1, 3) as f64;
        if y - TITLE_H - row_h * (1.0 + first_rows) < bottom {
            y = next_page(&mut page);
        }
        y = table_head(&mut page, t, &lay, y, false);
        if t.rows.is_empty() {
            page.fill(MUTED);
            page.text(
                MARGIN + CELL_PAD,
                y - 0.7 * row_h,
                lay.size,
                Font::Regular,
                "(none)",
            );
            y -= row_h;
        }
        for (i, row) in t.rows.iter().enumerate() {
            if y - row_h < bottom {
                y = next_page(&mut page);
                y = table_head(&mut page, t, &lay, y, true);
            }
            if i % 2 == 1 {
                page.fill(PANEL);
                page.rect(MARGIN, y - row_h, lay.widths.iter().sum(), row_h);
            }
            table_row(
                &mut page,
                &lay,
                y - row_h,
                Font::Regular,
                row.iter().map(String::as_str),
            );
            y -= row_h;
        }
        y -= 16.0;
    }
    next_page(&mut page);
    pages
}

/// The space a table's title takes above its header.
const TITLE_H: f64 = 20.0;

/// A table's title (with its row count) and its header row, from `y` down; returns where
/// the rows start.
fn table_head(c: &mut Canvas, t: &Table, lay: &Layout, y: f64, continued: bool) -> f64 {
    let title = if continued {
        format!("{} (continued)", t.title)
    } else {
        t.title.to_owned()
    };
    c.fill(INK);
    c.text(MARGIN, y - 13.0, 12.0, Font::Bold, &title);
    let rows = match t.rows.len() {
        1 => "1 row".to_owned(),
        n => format!("{n} rows"),
    };
    c.fill(MUTED);
    let after = MARGIN + text_width(&title, Font::Bold, 12.0) + 8.0;
    c.text(after, y - 13.0, 8.0, Font::Regular, &rows);
    let y = y - TITLE_H - lay.row_h;
    c.fill(HEADER);
    c.rect(MARGIN, y, lay.widths.iter().sum(), lay.row_h);
    table_row(c, lay, y, Font::Bold, t.columns.iter().copied());
    y
}

/// One row's cells above `bottom`, cut to their columns, numbers right-aligned.
fn table_row<'a>(
    c: &mut Canvas,
    lay: &Layout,
    bottom: f64,
    font: Font,
    cells: impl Iterator<Item = &'a str>,
) {
    c.fill(INK);
    let base = bottom + 0.3 * lay.row_h;
    let mut x = MARGIN;
    for ((cell, w), numeric) in cells.zip(&lay.widths).zip(&lay.numeric) {
        let text = truncate(cell, font, lay.size, w - 2.0 * CELL_PAD);
        if *numeric {
            c.text_right(x + w - CELL_PAD, base, lay.size, font, &text);
        } else {
            c.text(x + CELL_PAD, base, lay.size, font, &text);
        }
        x += w;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_win_ansi_and_escaped() {
        let mut out = Vec::new();
        push_string(&mut out, "Adán (x) \\ €—“q” 日");
        assert_eq!(out, b"Ad\xE1n \\(x\\) \\\\ \x80\x97\x93q\x94 ?");
        let mut out = Vec::new();
        push_string(&mut out, "Ada\u{301}n\tB");
        assert_eq!(out, b"Adan B");
    }

    #[test]
    fn widths_truncation_and_numbers() {
        assert_eq!(text_width("Hi", Font::Regular, 10.0), 7.22 + 2.22);
        assert!(text_width("Ádán", Font::Bold, 10.0) > text_width("Ádán", Font::Regular, 10.0));
        let cut = truncate("a rather long cell of text", Font::Regular, 8.0, 40.0);
        assert!(cut.ends_with('…') && text_width(&cut, Font::Regular, 8.0) <= 40.0);
        assert_eq!(truncate("short", Font::Regular, 8.0, 40.0), "short");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(f64::INFINITY), "0");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(100.0), "100");
    }

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(0.0, true), vec![0.0, 1.0]);
        assert_eq!(ticks(7.0, true), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(
            ticks(1000.0, true),
            vec![0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]
        );
        assert_eq!(ticks(f64::NAN, false).last(), Some(&1.0));
        assert!(*ticks(2.31, false).last().unwrap() >= 2.31);
    }

    #[test]
    fn wide_tables_shrink_then_truncate() {
        let table = Table {
            name: "t",
            title: "T",
            columns: vec!["a"; 30],
            rows: vec![vec!["a fairly long text value".to_owned(); 30]],
        };
        let lay = layout(&table, 770.0);
        assert_eq!(lay.size, TABLE_MIN_FONT);
        assert!((lay.widths.iter().sum::<f64>() - 770.0).abs() < 1e-6);
        let numbers = Table {
            columns: vec!["n", "t"],
            rows: vec![
                vec!["12".into(), "x".into()],
                vec!["0.5 %".into(), "2026-11-16".into()],
            ],
            ..table
        };
        assert_eq!(layout(&numbers, 770.0).numeric, vec![true, false]);
    }
}
