//! The weekly review as a PDF report: a summary page with key figures and four charts, then
//! every table of [`crate::export::tables`] (so the PDF and the CSV files say the same thing).
//!
//! Design:
//! - **krilla writes the file**, because it is the maintained pure-Rust writer that makes
//!   *tagged, accessible* PDFs (PDF/UA-1, checked by its own validator) with embedded font
//!   subsets, which a hand-written writer or `printpdf`'s base-14 fonts cannot give. It
//!   builds offline from crates.io with no system library. This module lays the pages out
//!   (boxes, charts, tables, pagination) and says what each run of content means.
//! - **Tagged PDF/UA-1.** Every run of content is either tagged or an artifact: the title is
//!   an `H1`, each table a `Sect` with an `H2`, its row count and a `Table` of `TH`/`TD`
//!   cells (a cell cut to fit carries its whole text as `ActualText`), the key figures a
//!   one-row table, each chart a `Figure` whose alternate text gives its numbers. Footers,
//!   backgrounds and a table's repeated title and header on a continuation page are
//!   artifacts. The document has a title, a language (`en`) and an outline (one entry per
//!   table). Should krilla's validator ever refuse the file, the same tagged document is
//!   written without the PDF/UA claim rather than failing the export.
//! - **DejaVu Sans Condensed, embedded.** The regular and bold faces are compiled in
//!   (`fonts/`, Bitstream Vera licence) and krilla embeds only the glyphs used, so names such
//!   as "Adán Ordóñez" or "O'Neil (Pat) \ Jr" come out as written and can be searched and
//!   copied. Text is laid out here glyph by glyph from the font's character map and advance
//!   widths (no kerning), so a measured width is exactly the drawn one: truncation ("…") and
//!   right alignment are exact. Control characters become spaces; a character the font lacks
//!   becomes `?` (PDF/UA forbids the `.notdef` glyph). The condensed face is about as wide as
//!   Helvetica, which the layout was made for.
//! - **A4 landscape** (842 × 595 pt), readable on a projector in the weekly meeting.
//! - **Deterministic**: no dates, no random ids (krilla derives the file id from the
//!   content); the same review gives the same bytes. The document title holds only the
//!   week, never a name (metadata is easily overlooked when a file is shared); no author.
//! - **Robust to any data**: charts draw their frame and "no data" when empty; every
//!   coordinate goes through `fin`, which turns a non-finite value into 0, so no `NaN` can
//!   reach the file even when a ratio is undefined.
//!
//! Pages are first drawn into `Canvas`es (bottom-left origin, as the layout thinks) and the
//! tag tree is built alongside, its leaves naming runs of content by page and order; the
//! document is then written in one pass, when the page count for the footers is known.

use std::num::NonZeroU16;
use std::sync::LazyLock;

use krilla::color::rgb;
use krilla::configure::{Accessibility, ConfigurationBuilder, PdfVersion};
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, SpanTag, TableHeaderScope, Tag, TagGroup,
    TagKind, TagTree,
};
use krilla::text::{GlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

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
    let mut report = Report::default();
    summary_page(&mut report, review);
    table_pages(&mut report, &crate::export::tables(review));
    let total = report.pages.len();
    for (i, page) in report.pages.iter_mut().enumerate() {
        page.artifact(ArtifactType::Footer);
        page.fill(MUTED);
        let footer = format!(
            "Careloop weekly review {} · page {} of {total}",
            review.week,
            i + 1
        );
        page.text_right(PAGE_W - MARGIN, 18.0, 8.0, Font::Regular, &footer);
        page.end();
    }
    let title = format!("Careloop weekly review {}", review.week);
    report
        .write(&title, true)
        .or_else(|_| report.write(&title, false))
        .expect("a tagged PDF of built-in fonts and finite shapes")
}

// ---------------------------------------------------------------------------------------
// Fonts and text: the built-in faces, their glyphs and widths.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Font {
    Regular,
    Bold,
}

/// A built-in face: krilla's handle for embedding, skrifa's tables for laying out.
struct Face {
    pdf: krilla::text::Font,
    charmap: Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
}

impl Face {
    fn new(data: &'static [u8]) -> Face {
        let font = FontRef::new(data).expect("the built-in font parses");
        Face {
            pdf: krilla::text::Font::new(data.into(), 0).expect("krilla reads the built-in font"),
            charmap: font.charmap(),
            metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            units_per_em: f32::from(
                font.metrics(Size::unscaled(), LocationRef::default())
                    .units_per_em,
            ),
        }
    }

    /// The character drawn for `c`, its glyph and its advance in em: a control character
    /// or a space of any kind is a space; one the font lacks (or that PDF/UA forbids in
    /// text) is `?`.
    fn resolve(&self, c: char) -> (char, u32, f32) {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        let glyph = match c {
            '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}' => None,
            c => self.charmap.map(c).filter(|g| g.to_u32() != 0),
        };
        match glyph {
            Some(g) => (c, g.to_u32(), self.advance(g)),
            None => {
                let g = self.charmap.map('?').expect("the font has '?'");
                ('?', g.to_u32(), self.advance(g))
            }
        }
    }

    fn advance(&self, glyph: skrifa::GlyphId) -> f32 {
        self.metrics.advance_width(glyph).unwrap_or(0.0) / self.units_per_em
    }
}

static REGULAR: LazyLock<Face> =
    LazyLock::new(|| Face::new(include_bytes!("../fonts/DejaVuSansCondensed.ttf")));
static BOLD: LazyLock<Face> =
    LazyLock::new(|| Face::new(include_bytes!("../fonts/DejaVuSansCondensed-Bold.ttf")));

impl Font {
    fn face(self) -> &'static Face {
        match self {
            Font::Regular => &REGULAR,
            Font::Bold => &BOLD,
        }
    }
}

/// `text` as it is drawn in `font` (see `Face::resolve`).
fn clean(text: &str, font: Font) -> String {
    let face = font.face();
    text.chars().map(|c| face.resolve(c).0).collect()
}

fn char_width(c: char, font: Font, size: f64) -> f64 {
    f64::from(font.face().resolve(c).2) * size
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

/// The glyphs of cleaned `text`, one per character, each mapped back to its character.
fn glyphs(text: &str, font: Font) -> Vec<KrillaGlyph> {
    let face = font.face();
    text.char_indices()
        .map(|(i, c)| {
            let (_, glyph, advance) = face.resolve(c);
            KrillaGlyph::new(
                GlyphId::new(glyph),
                advance,
                0.0,
                0.0,
                0.0,
                i..i + c.len_utf8(),
                None,
            )
        })
        .collect()
}

/// A number for a label: at most two decimals, never NaN or infinite.
fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    match s.trim_end_matches('0').trim_end_matches('.') {
        "-0" => "0".to_owned(),
        s => s.to_owned(),
    }
}

/// A coordinate for the file: finite, within reach of the page.
fn fin(v: f64) -> f32 {
    if v.is_finite() {
        v.clamp(-10_000.0, 10_000.0) as f32
    } else {
        0.0
    }
}

// ---------------------------------------------------------------------------------------
// Drawing: pages as lists of operations, and the tag tree that gives them meaning.

#[derive(Clone, Copy)]
struct Rgb(f64, f64, f64);

impl Rgb {
    fn pdf(self) -> rgb::Color {
        let byte = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        rgb::Color::new(byte(self.0), byte(self.1), byte(self.2))
    }
}

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

/// What a run of content is: text or a graphic of the document, or an artifact.
#[derive(Clone, Copy)]
enum Mark {
    Text,
    Graphic,
    Artifact(ArtifactType),
}

enum Op {
    Fill(Rgb),
    Stroke(Rgb, f64, bool),
    Rect(f64, f64, f64, f64),
    Frame(f64, f64, f64, f64),
    Polyline(Vec<(f64, f64)>),
    Text(f64, f64, f64, Font, String),
    Begin(Mark),
    End,
}

/// A run of content: the `index`-th tagged run of page `page`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    page: usize,
    index: usize,
}

/// A node of the tag tree, built while laying out; the identifiers of the leaves exist only
/// once the pages are written.
enum Node {
    Group(TagKind, Vec<Node>),
    Leaf(Slot),
}

fn group(tag: impl Into<TagKind>, children: Vec<Node>) -> Node {
    Node::Group(tag.into(), children)
}

/// A group of one run, such as a table cell; `full` is the whole text of a cell that was
/// cut to fit (or whose characters were replaced), read instead of what is drawn.
fn cell(tag: impl Into<TagKind>, leaf: Node, full: Option<&str>) -> Node {
    let mut tag = tag.into();
    tag.set_actual_text(full.map(str::to_owned));
    Node::Group(tag, vec![leaf])
}

impl Node {
    fn build(&self, runs: &[Vec<Identifier>]) -> krilla::tagging::Node {
        match self {
            Node::Group(tag, children) => TagGroup::with_children(
                tag.clone(),
                children.iter().map(|c| c.build(runs)).collect(),
            )
            .into(),
            Node::Leaf(slot) => runs[slot.page][slot.index].into(),
        }
    }
}

/// One page's operations, bottom-left origin. Drawing happens inside a run (`begin` or
/// `artifact` … `end`), so that everything on the page is tagged or an artifact.
struct Canvas {
    page: usize,
    ops: Vec<Op>,
    runs: usize,
    open: bool,
}

impl Canvas {
    fn new(page: usize) -> Canvas {
        Canvas {
            page,
            ops: Vec::new(),
            runs: 0,
            open: false,
        }
    }
    fn push(&mut self, op: Op) {
        debug_assert!(self.open, "content outside a tagged run or an artifact");
        self.ops.push(op);
    }
    /// Starts a tagged run; its leaf goes into the tag tree.
    fn begin(&mut self, mark: Mark) -> Node {
        assert!(!self.open, "runs do not nest");
        self.open = true;
        self.ops.push(Op::Begin(mark));
        self.runs += 1;
        Node::Leaf(Slot {
            page: self.page,
            index: self.runs - 1,
        })
    }
    fn artifact(&mut self, kind: ArtifactType) {
        assert!(!self.open, "runs do not nest");
        self.open = true;
        self.ops.push(Op::Begin(Mark::Artifact(kind)));
    }
    fn end(&mut self) {
        assert!(self.open, "a run to end");
        self.open = false;
        self.ops.push(Op::End);
    }
    fn fill(&mut self, c: Rgb) {
        self.push(Op::Fill(c));
    }
    fn stroke(&mut self, c: Rgb, width: f64, dash: bool) {
        self.push(Op::Stroke(c, width, dash));
    }
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64) {
        self.push(Op::Rect(x, y, w, h));
    }
    fn frame(&mut self, x: f64, y: f64, w: f64, h: f64) {
        self.push(Op::Frame(x, y, w, h));
    }
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64) {
        self.polyline(&[(x1, y1), (x2, y2)]);
    }
    fn polyline(&mut self, points: &[(f64, f64)]) {
        if points.len() >= 2 {
            self.push(Op::Polyline(points.to_vec()));
        }
    }
    fn text(&mut self, x: f64, y: f64, size: f64, font: Font, text: &str) {
        if !text.is_empty() {
            self.push(Op::Text(x, y, size, font, clean(text, font)));
        }
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

    /// Draws the page on a krilla surface (top-left origin); returns the identifiers of its
    /// tagged runs in order.
    fn replay(&self, surface: &mut Surface) -> Vec<Identifier> {
        let mut runs = Vec::with_capacity(self.runs);
        let mut fill = INK;
        let mut stroke = Stroke::default();
        let at = |x: f64, y: f64| Point::from_xy(fin(x), fin(PAGE_H - y));
        let paint = |c: Rgb| Fill {
            paint: c.pdf().into(),
            opacity: NormalizedF32::ONE,
            rule: FillRule::NonZero,
        };
        // A rectangle of positive size (a bar may come with a negative or no height).
        let rect = |x: f64, y: f64, w: f64, h: f64| {
            let (x, w) = if w < 0.0 { (x + w, -w) } else { (x, w) };
            let (y, h) = if h < 0.0 { (y + h, -h) } else { (y, h) };
            if fin(w) == 0.0 || fin(h) == 0.0 {
                return None;
            }
            let r = krilla::geom::Rect::from_xywh(fin(x), fin(PAGE_H - y - h), fin(w), fin(h))?;
            let mut path = PathBuilder::new();
            path.push_rect(r);
            path.finish()
        };
        for op in &self.ops {
            match op {
                Op::Fill(c) => fill = *c,
                Op::Stroke(c, width, dash) => {
                    stroke = Stroke {
                        paint: c.pdf().into(),
                        width: fin(*width),
                        dash: dash.then(|| StrokeDash {
                            array: vec![3.0, 2.0],
                            offset: 0.0,
                        }),
                        ..Stroke::default()
                    }
                }
                Op::Rect(x, y, w, h) => {
                    if let Some(path) = rect(*x, *y, *w, *h) {
                        surface.set_stroke(None);
                        surface.set_fill(Some(paint(fill)));
                        surface.draw_path(&path);
                    }
                }
                Op::Frame(x, y, w, h) => {
                    if let Some(path) = rect(*x, *y, *w, *h) {
                        surface.set_fill(None);
                        surface.set_stroke(Some(stroke.clone()));
                        surface.draw_path(&path);
                    }
                }
                Op::Polyline(points) => {
                    let mut path = PathBuilder::new();
                    for (i, (x, y)) in points.iter().enumerate() {
                        let p = at(*x, *y);
                        if i == 0 {
                            path.move_to(p.x, p.y);
                        } else {
                            path.line_to(p.x, p.y);
                        }
                    }
                    if let Some(path) = path.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(stroke.clone()));
                        surface.draw_path(&path);
                    }
                }
                Op::Text(x, y, size, font, text) => {
                    surface.set_stroke(None);
                    surface.set_fill(Some(paint(fill)));
                    surface.draw_glyphs(
                        at(*x, *y),
                        &glyphs(text, *font),
                        font.face().pdf.clone(),
                        text,
                        fin(*size),
                        false,
                    );
                }
                Op::Begin(Mark::Text) => {
                    runs.push(surface.start_tagged(ContentTag::Span(SpanTag::empty())));
                }
                Op::Begin(Mark::Graphic) => runs.push(surface.start_tagged(ContentTag::Other)),
                Op::Begin(Mark::Artifact(kind)) => {
                    surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(*kind)));
                }
                Op::End => surface.end_tagged(),
            }
        }
        runs
    }
}

/// The pages, the tag tree's top-level nodes and the outline (title, page, top), in
/// reading order.
#[derive(Default)]
struct Report {
    pages: Vec<Canvas>,
    tree: Vec<Node>,
    outline: Vec<(String, usize, f64)>,
}

impl Report {
    /// The document, validated as PDF/UA-1 when `accessible`.
    fn write(&self, title: &str, accessible: bool) -> krilla::error::KrillaResult<Vec<u8>> {
        let mut configuration = ConfigurationBuilder::new().with_version(PdfVersion::Pdf17);
        if accessible {
            configuration = configuration.with_accessibility_validator(Accessibility::UA1);
        }
        let settings = SerializeSettings {
            configuration: configuration
                .finish()
                .expect("PDF/UA-1 is written as PDF 1.7"),
            enable_tagging: true,
            ..SerializeSettings::default()
        };
        let mut document = Document::new_with(settings);
        let mut runs = Vec::with_capacity(self.pages.len());
        for canvas in &self.pages {
            let size = PageSettings::from_wh(PAGE_W as f32, PAGE_H as f32).expect("A4");
            let mut page = document.start_page_with(size);
            let mut surface = page.surface();
            runs.push(canvas.replay(&mut surface));
            surface.finish();
            page.finish();
        }
        let mut tree = TagTree::new().with_lang(Some("en".to_owned()));
        for node in &self.tree {
            tree.push(node.build(&runs));
        }
        document.set_tag_tree(tree);
        let mut outline = Outline::new();
        for (text, page, top) in &self.outline {
            let to = XyzDestination::new(*page, Point::from_xy(0.0, fin(PAGE_H - top)));
            outline.push_child(OutlineNode::new(text.clone(), to));
        }
        document.set_outline(outline);
        document.set_metadata(
            Metadata::new()
                .title(title.to_owned())
                .language("en".to_owned())
                .producer("Careloop".to_owned()),
        );
        document.finish()
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

fn summary_page(report: &mut Report, r: &WeeklyReview) {
    let mut c = Canvas::new(report.pages.len());
    let top = PAGE_H - MARGIN;
    report.outline.push(("Summary".to_owned(), c.page, top));
    let title = format!("Weekly case review — {}", r.week);
    let leaf = c.begin(Mark::Text);
    c.fill(INK);
    c.text(MARGIN, top - 18.0, 20.0, Font::Bold, &title);
    c.end();
    report.tree.push(group(
        Tag::Hn(NonZeroU16::MIN, Some(title.clone())),
        vec![leaf],
    ));
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
    let leaf = c.begin(Mark::Text);
    c.fill(MUTED);
    c.text(MARGIN, top - 35.0, 10.0, Font::Regular, &subtitle);
    c.end();
    report.tree.push(group(Tag::P, vec![leaf]));

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
    // Read as a one-row table: each label heads its value.
    let (mut labels, mut values) = (Vec::new(), Vec::new());
    let gap = 8.0;
    let w = (PAGE_W - 2.0 * MARGIN - gap * (figures.len() - 1) as f64) / figures.len() as f64;
    for (i, (label, value, alert)) in figures.into_iter().enumerate() {
        let x = MARGIN + i as f64 * (w + gap);
        c.artifact(ArtifactType::Layout);
        c.fill(PANEL);
        c.rect(x, 470.0, w, 44.0);
        c.end();
        let leaf = c.begin(Mark::Text);
        c.fill(if alert && value > 0 { ALERT } else { INK });
        c.text(x + 6.0, 490.0, 18.0, Font::Bold, &value.to_string());
        c.end();
        values.push(cell(Tag::TD, leaf, None));
        let shown = truncate(label, Font::Regular, 7.0, w - 10.0);
        let leaf = c.begin(Mark::Text);
        c.fill(MUTED);
        c.text(x + 6.0, 477.0, 7.0, Font::Regular, &shown);
        c.end();
        let full = (shown != label).then_some(label);
        labels.push(cell(Tag::TH(TableHeaderScope::Column), leaf, full));
    }
    report.tree.push(group(
        Tag::Table,
        vec![
            group(Tag::THead, vec![group(Tag::TR, labels)]),
            group(Tag::TBody, vec![group(Tag::TR, values)]),
        ],
    ));

    let gap = 14.0;
    let w = (PAGE_W - 2.0 * MARGIN - gap) / 2.0;
    let h = (CHARTS_TOP - CHARTS_BOTTOM - gap) / 2.0;
    let at = |col: f64, row: f64| Rect {
        x: MARGIN + col * (w + gap),
        y: CHARTS_BOTTOM + row * (h + gap),
        w,
        h,
    };
    // Each chart draws itself and returns its alternate text.
    type Chart = fn(&mut Canvas, Rect, &WeeklyReview) -> String;
    let charts: [(Rect, Chart); 4] = [
        (at(0.0, 1.0), trend_chart),
        (at(1.0, 1.0), equity_chart),
        (at(0.0, 0.0), contacts_chart),
        (at(1.0, 0.0), closure_chart),
    ];
    for (b, chart) in charts {
        let leaf = c.begin(Mark::Graphic);
        let alt = chart(&mut c, b, r);
        c.end();
        report.tree.push(group(Tag::Figure(Some(alt)), vec![leaf]));
    }
    report.pages.push(c);
}

/// Draws a chart's frame and title; returns the area inside the frame below the title.
fn chart_box(c: &mut Canvas, b: Rect, title: &str) -> Rect {
    c.stroke(RULE, 0.6, false);
    c.frame(b.x, b.y, b.w, b.h);
    c.fill(INK);
    c.text(b.x + 8.0, b.top() - 15.0, 10.0, Font::Bold, title);
    b.inset(0.0, 0.0, 0.0, 22.0)
}

/// Writes "no data" in a chart; returns the chart's alternate text.
fn no_data(c: &mut Canvas, area: Rect, title: &str) -> String {
    c.fill(MUTED);
    c.text_center(
        area.x + area.w / 2.0,
        area.y + area.h / 2.0,
        10.0,
        Font::Regular,
        "no data",
    );
    format!("{title}: no data.")
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
fn trend_chart(c: &mut Canvas, b: Rect, r: &WeeklyReview) -> String {
    const TITLE: &str = "Cohort size by segmentation run";
    let area = chart_box(c, b, TITLE);
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
        return no_data(c, area, TITLE);
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
    let latest: Vec<String> = ids
        .iter()
        .map(|(id, latest, _)| format!("{} {latest}", segment_name(r, id)))
        .collect();
    let (first, last) = (&runs[0].as_of, &runs[runs.len() - 1].as_of);
    format!(
        "{TITLE}: a line chart of the {} largest segments over {} runs from {first} to {last}. \
         In the latest run: {}.",
        ids.len(),
        runs.len(),
        latest.join(", ")
    )
}

/// Chart 2: equity ratios of the flagged groups (or of everyone contacted).
fn equity_chart(c: &mut Canvas, b: Rect, r: &WeeklyReview) -> String {
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
        return no_data(c, area, title);
    }
    let plot = area.inset(150.0, 30.0, 22.0, 4.0);
    let fits = ((plot.h / 9.0).floor() as usize).max(1);
    let total = rows.len();
    let mut alt = format!(
        "{title}: a bar chart of each group's share against its share of the panel \
         (1 is parity)"
    );
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
        alt.push_str(&format!(", {note}"));
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
    let mut described = Vec::new();
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
        described.push(match row.flag.as_str() {
            "" => format!("{label} {ratio:.2}"),
            flag => format!("{label} {ratio:.2} ({flag})"),
        });
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
        alt.push_str(&format!(
            "; flagged above {} or below {}",
            num(t),
            num(1.0 / t)
        ));
    }
    let one = plot.x_of(1.0, 0.0, x_max);
    c.stroke(INK, 1.0, false);
    c.line(one, plot.y, one, plot.top());
    c.line(plot.x, plot.y, plot.x, plot.top());
    format!("{alt}. {}.", described.join("; "))
}

/// Chart 3: people by number of contacts, in the week and in the 28 days ending with it.
fn contacts_chart(c: &mut Canvas, b: Rect, r: &WeeklyReview) -> String {
    const TITLE: &str = "People by contacts received";
    let (week_colour, month_colour) = (PALETTE[0], Rgb(0.55, 0.7, 0.88));
    let area = chart_box(c, b, TITLE);
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
        return no_data(c, area, TITLE);
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
    let mut described = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let centre = plot.x + group * (i as f64 + 0.5);
        let (week, month) = (
            people(&contacts.per_week, label),
            people(&contacts.per_month, label),
        );
        described.push(format!(
            "{label} contacts: {week} in the week, {month} in 28 days"
        ));
        let values = [
            (week, week_colour, centre - bar - 1.0),
            (month, month_colour, centre + 1.0),
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
    format!(
        "{TITLE}: a bar chart of people by {caption}, in the week and in the 28 days ending \
         with it. {}.",
        described.join("; ")
    )
}

/// Chart 4: cumulative care-gap closure by days after the first attempt, per segment.
fn closure_chart(c: &mut Canvas, b: Rect, r: &WeeklyReview) -> String {
    const TITLE: &str = "Care-gap closure after the first attempt";
    let area = chart_box(c, b, TITLE);
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
        return no_data(c, area, TITLE);
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
    let reached: Vec<String> = names
        .iter()
        .zip(&series)
        .filter_map(|((name, _), points)| {
            let (day, share) = points.last()?;
            Some(format!("{name} {:.0}% by day {day}", share * 100.0))
        })
        .collect();
    format!(
        "{TITLE}: a line chart of the share of care gaps closed by days after the first \
         attempt, up to 90 days, per segment. {}.",
        reached.join("; ")
    )
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
    // Widths are proportional to the size: measure once at 1 pt.
    let unit: Vec<f64> = (0..t.columns.len())
        .map(|i| {
            let header = text_width(t.columns[i], Font::Bold, 1.0);
            t.rows
                .iter()
                .map(|row| text_width(cell(row, i), Font::Regular, 1.0))
                .fold(header, f64::max)
        })
        .collect();
    let natural =
        |size: f64| -> Vec<f64> { unit.iter().map(|w| w * size + 2.0 * CELL_PAD).collect() };
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

/// Puts the page aside when something is drawn on it and starts the next one.
fn next_page(report: &mut Report, page: &mut Canvas) -> f64 {
    if !page.ops.is_empty() {
        let next = Canvas::new(page.page + 1);
        report.pages.push(std::mem::replace(page, next));
    }
    PAGE_H - MARGIN
}

/// The tables, paginated: a table starts on the current page if its title, header and first
/// rows fit; a table that continues on a new page repeats its title and header (as
/// artifacts: the tag tree has them once).
fn table_pages(report: &mut Report, tables: &[Table]) {
    let bottom = MARGIN;
    let mut page = Canvas::new(report.pages.len());
    let mut y = bottom; // the first table starts a page
    for t in tables {
        let lay = layout(t, PAGE_W - 2.0 * MARGIN);
        let row_h = lay.row_h;
        let first_rows = t.rows.len().clamp(1, 3) as f64;
        if y - TITLE_H - row_h * (1.0 + first_rows) < bottom {
            y = next_page(report, &mut page);
        }
        report.outline.push((t.title.to_owned(), page.page, y));
        let (below, mut section) = table_head(&mut page, t, &lay, y, false);
        y = below;
        let header = section.pop().expect("a header row");
        let mut body = Vec::with_capacity(t.rows.len());
        for (i, row) in t.rows.iter().enumerate() {
            if y - row_h < bottom {
                y = next_page(report, &mut page);
                y = table_head(&mut page, t, &lay, y, true).0;
            }
            if i % 2 == 1 {
                page.artifact(ArtifactType::Layout);
                page.fill(PANEL);
                page.rect(MARGIN, y - row_h, lay.widths.iter().sum(), row_h);
                page.end();
            }
            let cells = table_row(
                &mut page,
                &lay,
                y - row_h,
                Font::Regular,
                row.iter().map(String::as_str),
                true,
            );
            body.push(group(
                Tag::TR,
                cells
                    .into_iter()
                    .map(|(leaf, full)| cell(Tag::TD, leaf, full.as_deref()))
                    .collect(),
            ));
            y -= row_h;
        }
        section.push(group(
            Tag::Table,
            vec![group(Tag::THead, vec![header]), group(Tag::TBody, body)],
        ));
        if t.rows.is_empty() {
            let leaf = page.begin(Mark::Text);
            page.fill(MUTED);
            page.text(
                MARGIN + CELL_PAD,
                y - 0.7 * row_h,
                lay.size,
                Font::Regular,
                "(none)",
            );
            page.end();
            section.push(group(Tag::P, vec![leaf]));
            y -= row_h;
        }
        report.tree.push(group(Tag::Section, section));
        y -= 16.0;
    }
    next_page(report, &mut page);
}

/// The space a table's title takes above its header.
const TITLE_H: f64 = 20.0;

/// A table's title (with its row count) and its header row, from `y` down; returns where
/// the rows start and, unless `continued` (then all of it is an artifact), the title's
/// heading, the row count's paragraph and the header's row, in this order.
fn table_head(
    c: &mut Canvas,
    t: &Table,
    lay: &Layout,
    y: f64,
    continued: bool,
) -> (f64, Vec<Node>) {
    let mut nodes = Vec::new();
    let title = if continued {
        c.artifact(ArtifactType::PaginationOther);
        format!("{} (continued)", t.title)
    } else {
        t.title.to_owned()
    };
    let run = |c: &mut Canvas, draw: &mut dyn FnMut(&mut Canvas)| {
        if continued {
            draw(c);
            None
        } else {
            let leaf = c.begin(Mark::Text);
            draw(c);
            c.end();
            Some(leaf)
        }
    };
    let heading = run(c, &mut |c| {
        c.fill(INK);
        c.text(MARGIN, y - 13.0, 12.0, Font::Bold, &title);
    });
    let rows = match t.rows.len() {
        1 => "1 row".to_owned(),
        n => format!("{n} rows"),
    };
    let after = MARGIN + text_width(&title, Font::Bold, 12.0) + 8.0;
    let count = run(c, &mut |c| {
        c.fill(MUTED);
        c.text(after, y - 13.0, 8.0, Font::Regular, &rows);
    });
    if let (Some(heading), Some(count)) = (heading, count) {
        let level = NonZeroU16::new(2).expect("2 is not 0");
        nodes.push(group(
            Tag::Hn(level, Some(t.title.to_owned())),
            vec![heading],
        ));
        nodes.push(group(Tag::P, vec![count]));
    }
    let y = y - TITLE_H - lay.row_h;
    if !continued {
        c.artifact(ArtifactType::Layout);
    }
    c.fill(HEADER);
    c.rect(MARGIN, y, lay.widths.iter().sum(), lay.row_h);
    if !continued {
        c.end();
    }
    let cells = table_row(c, lay, y, Font::Bold, t.columns.iter().copied(), !continued);
    if continued {
        c.end();
    } else {
        let scope = TableHeaderScope::Column;
        nodes.push(group(
            Tag::TR,
            cells
                .into_iter()
                .map(|(leaf, full)| cell(Tag::TH(scope), leaf, full.as_deref()))
                .collect(),
        ));
    }
    (y, nodes)
}

/// One row's cells above `bottom`, cut to their columns, numbers right-aligned; when
/// `tagged`, each cell is a run of its own, returned with the whole text of a cell that is
/// not drawn as it is.
fn table_row<'a>(
    c: &mut Canvas,
    lay: &Layout,
    bottom: f64,
    font: Font,
    cells: impl Iterator<Item = &'a str>,
    tagged: bool,
) -> Vec<(Node, Option<String>)> {
    let base = bottom + 0.3 * lay.row_h;
    let mut x = MARGIN;
    let mut out = Vec::new();
    for ((cell, w), numeric) in cells.zip(&lay.widths).zip(&lay.numeric) {
        let text = truncate(cell, font, lay.size, w - 2.0 * CELL_PAD);
        let leaf = tagged.then(|| c.begin(Mark::Text));
        c.fill(INK);
        if *numeric {
            c.text_right(x + w - CELL_PAD, base, lay.size, font, &text);
        } else {
            c.text(x + CELL_PAD, base, lay.size, font, &text);
        }
        if let Some(leaf) = leaf {
            c.end();
            let exact = text == cell && clean(cell, font) == cell;
            out.push((leaf, (!exact).then(|| cell.to_owned())));
        }
        x += w;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_what_the_font_has_and_replaces_the_rest() {
        let names = "Adán Ordóñez O'Neil (Pat) \\ Jr Zoë Brontë Björn Ødegård €—“q”…";
        assert_eq!(clean(names, Font::Regular), names);
        assert_eq!(clean(names, Font::Bold), names);
        assert_eq!(clean("a\tb\nc\u{0}d", Font::Regular), "a b c d");
        // A combining accent is kept and takes no room: it sits on the letter before it.
        assert_eq!(clean("Ada\u{301}n", Font::Regular), "Ada\u{301}n");
        assert_eq!(text_width("\u{301}", Font::Regular, 10.0), 0.0);
        // No CJK in DejaVu; U+FEFF is not allowed in the text of a PDF/UA file.
        assert_eq!(clean("日x\u{FEFF}", Font::Regular), "?x?");
        let g = glyphs("Adán", Font::Regular);
        assert_eq!(g.len(), 4);
        assert_eq!(g[2].text_range, 2..4, "byte range of 'á'");
        assert!(g
            .iter()
            .all(|g| g.glyph_id.to_u32() != 0 && g.x_advance > 0.0));
    }

    #[test]
    fn widths_truncation_and_numbers() {
        let hi = text_width("Hi", Font::Regular, 10.0);
        assert!(
            (hi - 2.0 * text_width("H", Font::Regular, 5.0)
                - 10.0 * text_width("i", Font::Regular, 1.0))
            .abs()
                < 1e-9
        );
        // The condensed face is about as wide as Helvetica (7.22 + 2.22 at 10 pt).
        assert!((8.0..11.0).contains(&hi), "{hi}");
        assert!(text_width("Ádán", Font::Bold, 10.0) > text_width("Ádán", Font::Regular, 10.0));
        let cut = truncate("a rather long cell of text", Font::Regular, 8.0, 40.0);
        assert!(cut.ends_with('…') && text_width(&cut, Font::Regular, 8.0) <= 40.0);
        assert!(cut.len() > "a r…".len(), "{cut}");
        assert_eq!(truncate("short", Font::Regular, 8.0, 40.0), "short");
        assert_eq!(truncate("short", Font::Regular, 8.0, 1.0), "");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(f64::INFINITY), "0");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(100.0), "100");
        assert_eq!(fin(f64::NAN), 0.0);
        assert_eq!(fin(f64::NEG_INFINITY), 0.0);
        assert_eq!(fin(1e300), 10_000.0);
        assert_eq!(fin(12.5), 12.5);
    }

    #[test]
    fn non_finite_numbers_never_reach_the_file() {
        use std::io::Read as _;
        let mut page = Canvas::new(0);
        let leaf = page.begin(Mark::Graphic);
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300] {
            page.stroke(INK, v, true);
            page.rect(v, 10.0, 20.0, v);
            page.rect(10.0, 10.0, v, 20.0);
            page.frame(10.0, v, v, 5.0);
            page.polyline(&[(v, 1.0), (2.0, v), (3.0, 4.0)]);
            page.text(v, v, 10.0, Font::Regular, "x");
            page.text_right(v, 10.0, v, Font::Bold, "y");
        }
        page.end();
        let report = Report {
            pages: vec![page],
            tree: vec![group(Tag::Figure(Some("shapes".into())), vec![leaf])],
            outline: vec![("shapes".into(), 0, f64::NAN)],
        };
        let pdf = report.write("shapes", true).expect("a valid PDF/UA-1 file");
        let mut content = Vec::new();
        for (i, _) in pdf.windows(7).enumerate().filter(|(_, w)| w == b"stream\n") {
            let mut body = Vec::new();
            if flate2::read::ZlibDecoder::new(&pdf[i + 7..])
                .read_to_end(&mut body)
                .is_ok()
                && body.windows(3).any(|w| w == b"BDC")
            {
                content = body;
            }
        }
        let content = String::from_utf8_lossy(&content).to_ascii_lowercase();
        assert!(
            content.contains(" l\n") && content.contains(")tj"),
            "{content}"
        );
        assert!(
            !content.contains("nan") && !content.contains("inf"),
            "{content}"
        );
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

    #[test]
    fn every_run_is_tagged_once_or_an_artifact() {
        let mut report = Report::default();
        let review = WeeklyReview {
            week: "2026-W47".into(),
            ..WeeklyReview::default()
        };
        summary_page(&mut report, &review);
        table_pages(&mut report, &crate::export::tables(&review));
        fn leaves(node: &Node, out: &mut Vec<Slot>) {
            match node {
                Node::Group(_, children) => children.iter().for_each(|c| leaves(c, out)),
                Node::Leaf(slot) => out.push(*slot),
            }
        }
        let mut used = Vec::new();
        report.tree.iter().for_each(|n| leaves(n, &mut used));
        let mut runs = Vec::new();
        for page in &report.pages {
            assert!(!page.open);
            runs.extend((0..page.runs).map(|index| Slot {
                page: page.page,
                index,
            }));
        }
        used.sort_by_key(|s| (s.page, s.index));
        assert_eq!(used, runs, "each run is a leaf of the tree exactly once");
        let tables = crate::export::tables(&review).len();
        assert_eq!(report.outline.len(), 1 + tables);
    }
}
