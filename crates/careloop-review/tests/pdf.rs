//! The PDF report: a valid, tagged PDF/UA-1 file by poppler's account (page count, A4, fonts
//! embedded with Unicode maps, structure tree), every piece of page content tagged or an
//! artifact with finite numbers, what poppler draws and extracts from it, its metadata,
//! empty and degenerate reviews, determinism (also across processes), and size and speed.
//!
//! These tests need poppler-utils (`pdftoppm`, `pdfinfo`, `pdftotext`, `pdffonts`) and fail
//! without it.

use std::io::Read as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use careloop_review::*;

const ACCENTED: &str = "Adán Ordóñez";
const AWKWARD: &str = r"O'Neil (Pat) \ Jr";
/// Every person named in `sample_review`.
const NAMES: [&str; 7] = [
    ACCENTED,
    AWKWARD,
    "Zoë Brontë",
    "Lee Park",
    "Mia Chen",
    "Björn Ødegård",
    "Ana Ruiz",
];
fn person(id: &str, name: &str) -> PersonRef {
    PersonRef {
        patient_id: id.into(),
        name: name.into(),
    }
}

fn segment(id: &str, name: &str, size: u32, entered: Vec<PersonRef>) -> SegmentRow {
    SegmentRow {
        segment_id: id.into(),
        name: name.into(),
        size,
        entered,
        exited: vec![person("p9", "Mia Chen")],
        worklist: size / 2,
        overflow: 3,
        held_back: 1,
        capacity: 40,
        contacted: size / 4,
        capacity_use: Some(f64::from(size / 4) / 40.0),
        open_cases: size / 3,
        drill: format!("segment:{id}"),
    }
}

fn pending(id: &str, name: &str, segment: &str) -> PendingItem {
    PendingItem {
        id: id.into(),
        case_id: format!("case-{id}"),
        patient_id: format!("pat-{id}"),
        name: name.into(),
        segment_id: segment.into(),
        owner: Some("coord.ana".into()),
        since: "2026-11-10T09:00:00Z".into(),
        due: Some("2026-11-12T17:00:00Z".into()),
        overdue: true,
        detail: "first contact due, two attempts without reaching the person".into(),
    }
}

fn equity(
    segment: &str,
    population: &str,
    dimension: &str,
    group: &str,
    ratio: Option<f64>,
    flag: &str,
) -> EquityRow {
    EquityRow {
        segment_id: segment.into(),
        population: population.into(),
        dimension: dimension.into(),
        group: group.into(),
        count: 12,
        population_size: 80,
        share: Some(0.15),
        panel_count: 300,
        panel_share: Some(0.1),
        expected: 8.0,
        ratio,
        flag: flag.into(),
        drill: format!("equity:{segment}:{dimension}:{group}"),
    }
}

fn bucket(contacts: &str, people: u32) -> Bucket {
    Bucket {
        contacts: contacts.into(),
        people,
        drill: format!("contacts:{contacts}"),
    }
}

fn response(key: &str) -> ResponseRow {
    ResponseRow {
        key: key.into(),
        attempts_week: 40,
        reached_week: 22,
        rate_week: Some(0.55),
        attempts_to_date: 400,
        reached_to_date: 190,
        rate_to_date: Some(0.475),
        drill: format!("response:{key}"),
    }
}

fn empty_review() -> WeeklyReview {
    WeeklyReview {
        week: "2026-W47".into(),
        starts: "2026-11-16".into(),
        ends: "2026-11-22".into(),
        as_of: "2026-11-23".into(),
        equity: Equity {
            threshold: 1.5,
            min_expected: 5.0,
            ..Equity::default()
        },
        contacts: OverContact {
            limit: 3,
            ..OverContact::default()
        },
        ..WeeklyReview::default()
    }
}

const SEGMENTS: [(&str, &str, u32); 10] = [
    ("diabetes-a1c", "Diabetes, overdue A1c", 140),
    ("htn-uncontrolled", "Hypertension uncontrolled", 120),
    ("flu-65", "Flu vaccine 65+", 310),
    ("copd-readmit", "COPD readmission risk", 45),
    ("mammo-gap", "Mammography gap", 95),
    ("colon-gap", "Colorectal screening gap", 80),
    ("chf-followup", "Heart failure follow-up", 30),
    ("peds-wcv", "Well-child visits", 60),
    ("dep-screen", "Depression screening", 25),
    ("rx-adherence", "Medication adherence (statins)", 70),
];

fn sample_review() -> WeeklyReview {
    let mut r = empty_review();
    r.run = Some(RunRef {
        id: 42,
        as_of: "2026-11-20".into(),
    });
    r.previous_run = Some(RunRef {
        id: 41,
        as_of: "2026-11-13".into(),
    });
    r.segments = SEGMENTS
        .iter()
        .enumerate()
        .map(|(i, (id, name, size))| {
            let entered = if i == 0 {
                vec![
                    person("p1", ACCENTED),
                    person("p2", AWKWARD),
                    person("p3", "Zoë Brontë"),
                ]
            } else {
                vec![person("p4", "Lee Park")]
            };
            segment(id, name, *size, entered)
        })
        .collect();
    // Six runs, weekly then a gap; one segment appears only in the later runs.
    let dates = [
        "2026-10-09",
        "2026-10-16",
        "2026-10-23",
        "2026-10-30",
        "2026-11-13",
        "2026-11-20",
    ];
    r.trend = dates
        .iter()
        .enumerate()
        .map(|(k, date)| TrendPoint {
            run_id: 37 + k as i64,
            as_of: (*date).into(),
            sizes: SEGMENTS
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 9 || k >= 3)
                .map(|(i, (id, _, size))| SegmentCount {
                    segment_id: (*id).into(),
                    count: size - (5 - k as u32) * (i as u32 % 4) * 3,
                })
                .collect(),
        })
        .collect();
    r.pending = Pending {
        overdue_cases: vec![
            pending("c1", ACCENTED, "diabetes-a1c"),
            pending("c2", AWKWARD, "flu-65"),
            pending("c3", "Björn Ødegård", "htn-uncontrolled"),
        ],
        unacknowledged_escalations: vec![pending("e1", "Mia Chen", "copd-readmit")],
        overdue_referrals: vec![pending("r1", "Lee Park", "chf-followup")],
        waiting_callbacks: vec![
            pending("cb1", "Zoë Brontë", "peds-wcv"),
            pending("cb2", "Ana Ruiz", "flu-65"),
        ],
        open_conflicts: vec![],
        superseded_events: 0,
    };
    r.caseload = vec![
        CaseloadRow {
            user: "coord.ana".into(),
            open_cases: 34,
            capacity: 40,
            use_share: Some(0.85),
            overdue: 3,
            attempts: 51,
            reached: 20,
            drill: "caseload:coord.ana".into(),
        },
        CaseloadRow {
            user: "coord.ben".into(),
            open_cases: 0,
            capacity: 0,
            use_share: None,
            overdue: 0,
            attempts: 0,
            reached: 0,
            drill: "caseload:coord.ben".into(),
        },
    ];
    r.equity = Equity {
        threshold: 1.5,
        min_expected: 5.0,
        panel_size: 3000,
        rows: vec![
            equity("all", "contacted", "language", "es", Some(1.1), ""),
            equity(
                "diabetes-a1c",
                "cohort",
                "language",
                "es",
                Some(2.3),
                "over",
            ),
            equity(
                "diabetes-a1c",
                "cohort",
                "age_band",
                "75+",
                Some(0.45),
                "under",
            ),
            equity(
                "flu-65",
                "contacted",
                "payer",
                "Medicaid",
                Some(1.62),
                "over",
            ),
            equity(
                "all",
                "contacted",
                "digital_tier",
                "low",
                Some(0.6),
                "under",
            ),
            equity("all", "contacted", "sex", "unknown", None, ""),
        ],
    };
    r.contacts = OverContact {
        limit: 3,
        per_week: vec![
            bucket("1", 210),
            bucket("2", 64),
            bucket("3", 12),
            bucket("4", 3),
            bucket("5+", 0),
        ],
        per_month: vec![
            bucket("1", 380),
            bucket("2", 150),
            bucket("3", 41),
            bucket("4", 12),
            bucket("5+", 6),
        ],
        above_limit: vec![AboveLimit {
            patient_id: "p1".into(),
            name: ACCENTED.into(),
            contacts_in_week: 4,
            most_in_7_days: 4,
            drill: "above_limit:p1".into(),
        }],
        overrides: vec![OverrideRow {
            at: "2026-11-18T10:15:00Z".into(),
            by: "dr.lopez".into(),
            role: "clinician".into(),
            case_id: "case-c2".into(),
            patient_id: "p2".into(),
            name: AWKWARD.into(),
            reason: "result needs same-day follow-up".into(),
        }],
        overrides_by_user: vec![UserCount {
            user: "dr.lopez".into(),
            count: 1,
        }],
    };
    r.closure = ["diabetes-a1c", "mammo-gap", "colon-gap"]
        .iter()
        .map(|id| ClosureRow {
            segment_id: (*id).into(),
            name: id.to_string(),
            outreached: 50,
            horizons: [30, 60, 90]
                .iter()
                .map(|days| HorizonCell {
                    days: *days,
                    eligible: 40 - days / 3,
                    closed: days / 6,
                    rate: Some(f64::from(days / 6) / f64::from(40 - days / 3)),
                    drill: format!("closure:{id}:{days}"),
                })
                .collect(),
            closed_so_far: 17,
            drill: format!("closure:{id}"),
            closed_by_new_data: 3,
            closed_by_new_data_drill: format!("closed-by-data:{id}"),
        })
        .collect();
    for (s, id) in ["diabetes-a1c", "mammo-gap", "colon-gap"]
        .iter()
        .enumerate()
    {
        for day in (0..=90).step_by(10) {
            r.closure_curve.push(CurvePoint {
                segment_id: (*id).into(),
                day: day + s as u32,
                closed_share: (f64::from(day) / 90.0) * (0.6 - 0.15 * s as f64),
            });
        }
    }
    r.response_by_channel = vec![response("phone"), response("sms"), response("portal")];
    r.response_by_segment = SEGMENTS.iter().map(|(id, ..)| response(id)).collect();
    r.retention = vec![RetentionRow {
        segment_id: "diabetes-a1c".into(),
        name: "Diabetes, overdue A1c".into(),
        contacted: 120,
        window_complete: 40,
        retained: 31,
        rate: Some(31.0 / 40.0),
        retained_so_far: 88,
        drill: "retention:diabetes-a1c".into(),
    }];
    r.timeliness = vec![TimelinessRow {
        measure: "first_attempt".into(),
        label: "Case opened → first attempt".into(),
        started: 60,
        answered: 51,
        median_hours: Some(20.5),
        p90_hours: Some(70.0),
        within_deadline: 45,
        rate_within: Some(0.75),
        overdue: 6,
        drill: "timeliness:first_attempt".into(),
    }];
    r
}

/// One trend point, zero counts everywhere, undefined and zero ratios, a threshold of 0,
/// a single closure point, all-zero buckets.
fn degenerate_review() -> WeeklyReview {
    let mut r = empty_review();
    r.segments = vec![segment("solo", "Solo segment", 0, vec![])];
    r.trend = vec![TrendPoint {
        run_id: 1,
        as_of: "not a date".into(),
        sizes: vec![SegmentCount {
            segment_id: "solo".into(),
            count: 0,
        }],
    }];
    r.equity.threshold = 0.0;
    r.equity.rows = vec![
        equity("solo", "cohort", "sex", "female", Some(f64::NAN), "over"),
        equity("solo", "cohort", "sex", "male", Some(f64::INFINITY), "over"),
        equity("all", "contacted", "sex", "female", Some(0.0), ""),
    ];
    r.contacts.per_week = vec![bucket("1", 0)];
    r.contacts.per_month = vec![bucket("2", 0)];
    r.closure_curve = vec![CurvePoint {
        segment_id: "solo".into(),
        day: 0,
        closed_share: f64::NAN,
    }];
    r
}

// ---------------------------------------------------------------------------------------
// Helpers: poppler, the file's content streams, PGM images.

/// What poppler 22 (Debian 12) says of any tagged file: it reads `/MarkInfo`'s
/// `/Suspects false` as the wrong type. Not a fault of the file.
const POPPLER_QUIRK: &str = "Suspects object is wrong type (boolean)";

/// Runs a poppler tool on `pdf` (its path replaces `{}` in `args`); a missing tool fails
/// the test with what to install, and so does any error or warning poppler reports.
fn poppler(tool: &str, pdf: &[u8], args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("review.pdf");
    std::fs::write(&file, pdf).unwrap();
    let args: Vec<&str> = args
        .iter()
        .map(|a| {
            if *a == "{}" {
                file.to_str().unwrap()
            } else {
                a
            }
        })
        .collect();
    let out = match Command::new(tool)
        .args(&args)
        .current_dir(dir.path())
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("`{tool}` is missing: install poppler-utils (apt-get install -y poppler-utils)")
        }
        Err(e) => panic!("running {tool}: {e}"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{tool} {args:?} failed: {stderr}");
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains(POPPLER_QUIRK))
        .collect();
    assert!(complaints.is_empty(), "{tool} {args:?}: {complaints:?}");
    // Text is UTF-8; a structure element's title is printed as its raw bytes.
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `pdfinfo`'s value for `key` (e.g. "Pages"), if it prints one.
fn info_field(info: &str, key: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(|v| v.trim().to_owned())
}

/// The page content streams: the Flate streams that hold marked content (all of a page's
/// content is tagged or an artifact, so each has some).
fn content_streams(pdf: &[u8]) -> Vec<Vec<u8>> {
    let mut streams = Vec::new();
    let mut at = 0;
    while let Some(i) = pdf[at..].windows(7).position(|w| w == b"stream\n") {
        let start = at + i + 7;
        at = start;
        if pdf[..start - 7].ends_with(b"end") {
            continue;
        }
        let mut body = Vec::new();
        if flate2::read::ZlibDecoder::new(&pdf[start..])
            .read_to_end(&mut body)
            .is_ok()
            && body.windows(3).any(|w| w == b"BDC")
        {
            streams.push(body);
        }
    }
    streams
}

/// Every token outside string literals that looks like a number is a finite number; marked
/// content is balanced and nothing is painted outside it (all content is tagged or an
/// artifact).
fn check_content(stream: &[u8]) {
    let mut outside = Vec::new();
    let (mut depth, mut escaped) = (0, false);
    for &b in stream {
        match (depth, b) {
            (0, b'(') => depth = 1,
            // Delimiters end a token (krilla writes `/Span<</MCID 0>>BDC`).
            (0, b'[' | b']' | b'<' | b'>') => outside.push(b' '),
            (0, b'/') => outside.extend(b" /"),
            (0, _) => outside.push(b),
            (_, _) if escaped => escaped = false,
            (_, b'\\') => escaped = true,
            (_, b'(') => depth += 1,
            (_, b')') => {
                depth -= 1;
                outside.push(b' ');
            }
            _ => {}
        }
    }
    assert_eq!(depth, 0, "balanced strings");
    let outside = String::from_utf8(outside).expect("operators are ASCII");
    let (mut marked, mut painted) = (0, 0);
    for token in outside.split_whitespace() {
        let lower = token.to_ascii_lowercase();
        assert!(
            !lower.contains("nan") && !lower.contains("inf"),
            "bad token {token:?}"
        );
        if token.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
            let v: f64 = token
                .parse()
                .unwrap_or_else(|_| panic!("bad number {token:?}"));
            assert!(v.is_finite());
        }
        match token {
            "BDC" | "BMC" => marked += 1,
            "EMC" => {
                marked -= 1;
                assert!(marked >= 0, "EMC without BDC");
            }
            "f" | "f*" | "S" | "s" | "B" | "B*" | "b" | "b*" | "Tj" | "TJ" | "'" | "\"" | "Do"
            | "sh" => {
                assert!(marked > 0, "{token} outside marked content");
                painted += 1;
            }
            _ => {}
        }
    }
    assert_eq!(marked, 0, "marked content is closed");
    assert!(
        painted > 0,
        "every page paints something (its footer at least)"
    );
}

/// Checks the file as poppler sees it: a PDF 1.7 header and end, A4 landscape pages, a
/// tagged PDF/UA-1 document, embedded font subsets with Unicode maps, one content stream per
/// page with sound content; returns the page count.
fn check_file(pdf: &[u8]) -> usize {
    assert!(pdf.starts_with(b"%PDF-1.7\n"), "header");
    assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"), "end of file");
    let info = poppler("pdfinfo", pdf, &["{}"]);
    let pages: usize = info_field(&info, "Pages").unwrap().parse().unwrap();
    assert_eq!(
        info_field(&info, "Tagged").as_deref(),
        Some("yes"),
        "{info}"
    );
    assert_eq!(info_field(&info, "PDF version").as_deref(), Some("1.7"));
    let last = pages.to_string();
    let sizes = poppler("pdfinfo", pdf, &["-f", "1", "-l", &last, "{}"]);
    let a4 = sizes
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| l.starts_with("Page ") && l.ends_with(" size: 842 x 595 pts (A4)"))
        .count();
    assert_eq!(a4, pages, "every page A4 landscape: {sizes}");
    let xmp = poppler("pdfinfo", pdf, &["-meta", "{}"]);
    assert!(
        xmp.contains("<pdfuaid:part>1</pdfuaid:part>"),
        "PDF/UA-1: {xmp}"
    );
    let fonts = poppler("pdffonts", pdf, &["{}"]);
    let fonts: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!fonts.is_empty(), "text needs fonts");
    for font in &fonts {
        // name type encoding emb sub uni object ID: subsets, embedded, with a ToUnicode map.
        assert!(font.contains("DejaVuSansCondensed"), "{font}");
        assert!(
            font.contains(" yes yes yes "),
            "embedded subset with Unicode: {font}"
        );
    }
    let streams = content_streams(pdf);
    assert_eq!(streams.len(), pages, "one content stream per page");
    streams.iter().for_each(|s| check_content(s));
    pages
}
/// A binary PGM (P5, 8-bit): width, height, pixels.
fn read_pgm(path: &Path) -> (usize, usize, Vec<u8>) {
    let data = std::fs::read(path).unwrap();
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        if data[i] == b'#' {
            while data[i] != b'\n' {
                i += 1;
            }
        } else if data[i].is_ascii_whitespace() {
            i += 1;
        } else {
            let start = i;
            while !data[i].is_ascii_whitespace() {
                i += 1;
            }
            fields.push(String::from_utf8_lossy(&data[start..i]).into_owned());
        }
    }
    assert_eq!(fields[0], "P5", "binary grey map");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    assert_eq!(fields[3], "255", "8-bit");
    let pixels = data[i + 1..].to_vec();
    assert_eq!(pixels.len(), w * h);
    (w, h, pixels)
}

/// Page 1 at 50 dpi in grey.
fn first_page(pdf: &[u8]) -> (usize, usize, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let prefix = prefix.to_str().unwrap();
    poppler(
        "pdftoppm",
        pdf,
        &["-f", "1", "-l", "1", "-r", "50", "-gray", "{}", prefix],
    );
    let image = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pgm"))
        .expect("pdftoppm wrote a PGM");
    read_pgm(&image)
}

/// Dark pixels (< 200) in each chart of page 1: top left, top right, bottom left, bottom
/// right. The charts fill x 36–806 pt, y 36–458 pt from the bottom of the 842 × 595 page
/// (the layout in `pdf.rs`); each is inset by 3 px so that its frame is not counted.
fn dark_per_chart(w: usize, h: usize, pixels: &[u8]) -> [usize; 4] {
    let (sx, sy) = (w as f64 / 842.0, h as f64 / 595.0);
    let (left, right) = (36.0 * sx, 806.0 * sx);
    let (top, bottom) = ((595.0 - 458.0) * sy, (595.0 - 36.0) * sy);
    let (mid_x, mid_y) = ((left + right) / 2.0, (top + bottom) / 2.0);
    let boxes = [
        (left, mid_x, top, mid_y),
        (mid_x, right, top, mid_y),
        (left, mid_x, mid_y, bottom),
        (mid_x, right, mid_y, bottom),
    ];
    boxes.map(|(x0, x1, y0, y1)| {
        let mut dark = 0;
        for y in (y0 as usize + 3)..(y1 as usize - 3) {
            for x in (x0 as usize + 3)..(x1 as usize - 3) {
                dark += usize::from(pixels[y * w + x] < 200);
            }
        }
        dark
    })
}

/// The text poppler extracts, of pages `first..=last` or of all.
fn pdf_text(pdf: &[u8], pages: Option<(usize, usize)>) -> String {
    let (first, last) = pages.map_or((String::new(), String::new()), |(f, l)| {
        (f.to_string(), l.to_string())
    });
    let mut args = vec!["-enc", "UTF-8"];
    if pages.is_some() {
        args.extend(["-f", &first, "-l", &last]);
    }
    args.extend(["{}", "-"]);
    poppler("pdftotext", pdf, &args)
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn the_file_is_a_tagged_pdf_ua_document_and_poppler_agrees_on_the_page_count() {
    for review in [sample_review(), empty_review(), degenerate_review()] {
        let pdf = pdf::render(&review);
        let pages = check_file(&pdf);
        assert!(pages >= 2, "the summary page and the tables");
        let text = pdf_text(&pdf, None);
        assert_eq!(
            text.matches('\u{c}').count(),
            pages,
            "pdftotext sees every page"
        );
    }
    assert_eq!(check_file(&pdf::render(&sample_review())), 7);
}

#[test]
fn the_structure_tree_reads_as_the_report() {
    let review = sample_review();
    let pdf = pdf::render(&review);
    let tables = export::tables(&review);
    let tree = poppler("pdfinfo", &pdf, &["-struct-text", "{}"]);
    let count = |tag: &str| {
        tree.lines()
            .filter(|l| l.trim_start().split([' ', ':']).next() == Some(tag))
            .count()
    };
    assert_eq!(count("Document"), 1, "{tree}");
    assert_eq!(count("H1"), 1);
    assert_eq!(count("Figure"), 4, "the charts");
    assert_eq!(count("Sect"), tables.len());
    assert_eq!(count("H2"), tables.len());
    assert_eq!(
        count("Table"),
        tables.len() + 1,
        "the tables and the key figures"
    );
    let headers: usize = tables.iter().map(|t| t.columns.len()).sum();
    assert_eq!(
        count("TH"),
        headers + 8,
        "column headers and the figures' labels"
    );
    let cells: usize = tables.iter().flat_map(|t| &t.rows).map(Vec::len).sum();
    assert_eq!(count("TD"), cells + 8, "every cell and the figures' values");
    for t in &tables {
        assert!(tree.contains(&format!("H2 \"{}\"", t.title)), "{}", t.title);
    }
    assert!(tree.contains("H1 "), "the title is a heading");
    for name in NAMES {
        assert!(tree.contains(&format!("\"{name}\"")), "{name} in a cell");
    }
    // The charts' alternate texts give their numbers; a label cut to fit keeps its whole text.
    let raw = String::from_utf8_lossy(&pdf);
    assert_eq!(raw.matches("/Alt(").count(), 4);
    assert!(raw.contains("In the latest run: Flu vaccine 65+ 310, Diabetes, overdue A1c 140"));
    assert!(raw.contains("Diabetes, overdue A1c (cohort) language: es 2.30 (over)"));
    assert!(raw.contains("5+ contacts: 0 in the week, 6 in 28 days"));
    assert!(raw.contains("Diabetes, overdue A1c 60% by day 90"));
    assert!(raw.contains("/ActualText(Unacknowledged escalations)"));
}

#[test]
fn the_metadata_names_only_the_week() {
    let pdf = pdf::render(&sample_review());
    let info = poppler("pdfinfo", &pdf, &["{}"]);
    assert_eq!(
        info_field(&info, "Title").as_deref(),
        Some("Careloop weekly review 2026-W47")
    );
    assert_eq!(info_field(&info, "Producer").as_deref(), Some("Careloop"));
    for key in [
        "Author",
        "Subject",
        "Keywords",
        "Creator",
        "CreationDate",
        "ModDate",
    ] {
        assert_eq!(info_field(&info, key), None, "{key} in {info}");
    }
    let xmp = poppler("pdfinfo", &pdf, &["-meta", "{}"]);
    assert!(xmp.contains(">Careloop weekly review 2026-W47<"), "{xmp}");
    assert!(
        !xmp.contains("dc:creator") && !xmp.contains("Date>"),
        "{xmp}"
    );
    for name in NAMES.iter().chain(&["Pat", "Neil", "coord.", "dr.lopez"]) {
        assert!(!info.contains(name) && !xmp.contains(name), "{name}");
    }
}

#[test]
fn the_first_page_shows_the_figures_and_four_charts() {
    let (w, h, pixels) = first_page(&pdf::render(&sample_review()));
    assert!(
        w.abs_diff(585) <= 1 && h.abs_diff(413) <= 1,
        "A4 landscape at 50 dpi: {w} × {h}"
    );
    let dark = pixels.iter().filter(|p| **p < 200).count();
    assert!(
        dark * 50 > pixels.len(),
        "more than 2% dark: {dark} of {}",
        pixels.len()
    );
    let (ew, eh, empty) = first_page(&pdf::render(&empty_review()));
    let charts = dark_per_chart(w, h, &pixels);
    let blank = dark_per_chart(ew, eh, &empty);
    for (i, (drawn, blank)) in charts.iter().zip(blank).enumerate() {
        // A chart with data draws much more than its title and "no data".
        assert!(
            *drawn > blank + 300,
            "chart {i}: {drawn} dark pixels, {blank} when empty"
        );
    }
    assert!(
        blank.iter().all(|b| *b > 20),
        "empty charts still show their title: {blank:?}"
    );
}

#[test]
fn text_comes_out_right_including_accents_and_escapes() {
    let review = sample_review();
    let text = pdf_text(&pdf::render(&review), None);
    assert!(text.contains("Weekly case review — 2026-W47"), "title");
    assert!(
        text.contains("Careloop weekly review 2026-W47 · page 1 of 7"),
        "footer"
    );
    assert!(text.contains("Careloop weekly review 2026-W47 · page 7 of 7"));
    // Key figures: 975 people in cohorts (the sum of the segments' sizes), 3 overdue cases.
    let page1 = pdf_text(&pdf::render(&review), Some((1, 1)));
    for figure in [
        "975",
        "In cohorts (all segments)",
        "Overdue cases",
        "Contact-limit overrides",
    ] {
        assert!(page1.contains(figure), "{figure} in {page1}");
    }
    assert!(text.contains("Diabetes, overdue A1c"), "a segment name");
    assert!(text.contains(ACCENTED), "accented name");
    assert!(text.contains(AWKWARD), "quote, parentheses and backslash");
    assert!(text.contains("Björn Ødegård"));
    assert!(text.contains("Zoë Brontë"));
    for table in export::tables(&review) {
        assert!(text.contains(table.title), "table {:?}", table.title);
        for column in &table.columns {
            assert!(
                text.contains(column),
                "{:?}: column {column:?}",
                table.title
            );
        }
    }
}

#[test]
fn an_empty_review_renders_with_no_data_in_each_chart() {
    let pdf = pdf::render(&empty_review());
    check_file(&pdf);
    let page1 = pdf_text(&pdf, Some((1, 1)));
    assert_eq!(page1.matches("no data").count(), 4, "{page1}");
    assert!(
        pdf_text(&pdf, None).contains("(none)"),
        "empty tables say so"
    );
    let raw = String::from_utf8_lossy(&pdf);
    assert_eq!(
        raw.matches(": no data.)").count(),
        4,
        "and so do the alternate texts"
    );
}

#[test]
fn single_points_zeros_and_undefined_ratios_draw_without_nan() {
    let pdf = pdf::render(&degenerate_review());
    check_file(&pdf);
    let page1 = pdf_text(&pdf, Some((1, 1)));
    // The trend (one point at 0), the equity fallback (ratio 0) and the buckets (zeros)
    // draw; the closure curve's only point is undefined.
    assert_eq!(page1.matches("no data").count(), 1, "{page1}");
    let (w, h, pixels) = first_page(&pdf);
    assert!(pixels.iter().filter(|p| **p < 200).count() * 100 > w * h);
    assert!(!String::from_utf8_lossy(&pdf)
        .to_lowercase()
        .contains("nan "));
}

#[test]
fn the_same_review_gives_the_same_bytes() {
    let review = sample_review();
    let pdf = pdf::render(&review);
    // To look at the report: CARELOOP_REVIEW_PDF=/tmp/review.pdf cargo test -p careloop-review
    if let Some(path) = std::env::var_os("CARELOOP_REVIEW_PDF") {
        std::fs::write(path, &pdf).unwrap();
        return;
    }
    assert!(pdf == pdf::render(&review.clone()), "the same process");
    assert!(pdf::render(&empty_review()) == pdf::render(&empty_review()));
    // Another process (other hash seeds, fresh statics): this test again, writing its file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.pdf");
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "the_same_review_gives_the_same_bytes",
            "--test-threads=1",
            "--quiet",
        ])
        .env("CARELOOP_REVIEW_PDF", &path)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        std::fs::read(&path).unwrap() == pdf,
        "another process wrote other bytes"
    );
}

#[test]
fn long_tables_paginate_with_repeated_headers() {
    let mut review = sample_review();
    review.pending.overdue_cases = (0..200)
        .map(|i| pending(&format!("c{i}"), ACCENTED, "flu-65"))
        .collect();
    let pdf = pdf::render(&review);
    let pages = check_file(&pdf);
    let text = pdf_text(&pdf, None);
    let continued = text
        .matches("Pending work at the end of the week (continued)")
        .count();
    assert!(continued >= 3, "200 rows take several pages: {continued}");
    assert!(text.contains(&format!("page {pages} of {pages}")));
    // The repeated title and header are artifacts: the tree has each table once.
    let tree = poppler("pdfinfo", &pdf, &["-struct-text", "{}"]);
    assert!(!tree.contains("(continued)"));
    let rows: usize = export::tables(&review)
        .iter()
        .map(|t| t.rows.len() + 1)
        .sum();
    let tr = tree.lines().filter(|l| l.trim() == "TR").count();
    assert_eq!(
        tr,
        rows + 2,
        "a row per row and header, and the figures' two"
    );
}

/// About 1,000 table rows: prints the size and the time (run with `--nocapture`).
#[test]
fn a_thousand_rows_stay_small_and_fast() {
    let mut review = sample_review();
    review.pending.overdue_cases = (0..700)
        .map(|i| pending(&format!("c{i}"), ACCENTED, "flu-65"))
        .collect();
    review.equity.rows = (0..250)
        .map(|i| {
            equity(
                "flu-65",
                "cohort",
                "language",
                &format!("lang-{i}"),
                Some(0.5 + f64::from(i) / 100.0),
                ["over", "under", ""][i as usize % 3],
            )
        })
        .collect();
    let rows: usize = export::tables(&review).iter().map(|t| t.rows.len()).sum();
    let started = Instant::now();
    let pdf = pdf::render(&review);
    let took = started.elapsed();
    let pages = check_file(&pdf);
    println!(
        "{rows} table rows: {} bytes, {pages} pages, rendered in {took:?}",
        pdf.len()
    );
    assert!(rows >= 1000);
    assert!(pages >= 25, "{pages} pages");
    assert!(pdf.len() < 4_000_000, "{} bytes", pdf.len());
    assert!(took.as_secs() < 10, "{took:?}");
}
