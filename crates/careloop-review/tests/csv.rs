//! The CSV export against hostile cells: whatever a name, note or reason holds (quotes,
//! commas, line breaks, formulas), the files parse back with a strict CSV reader to exactly
//! the cells written, with every formula neutralised by a leading `'`.

use careloop_review::export::{csv, write_csv_dir};
use careloop_review::*;

/// Each hostile cell and what a spreadsheet must be given: formulas (`=`, `+`, `@`, `-` not
/// a number, a leading tab or carriage return) get a leading `'`; anything else is unchanged.
const HOSTILE: &[(&str, &str)] = &[
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    (
        "=HYPERLINK(\"http://x\",\"y\")",
        "'=HYPERLINK(\"http://x\",\"y\")",
    ),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("+15550142233", "'+15550142233"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("-x", "'-x"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    // Not formulas: negative numbers, a formula sign after the start, plain text.
    ("-1.5", "-1.5"),
    ("-3", "-3"),
    ("a=b", "a=b"),
    ("O'Brien", "O'Brien"),
    ("", ""),
    // Quoting: commas, quotes and line breaks survive the round trip.
    ("Ordóñez, Adán", "Ordóñez, Adán"),
    ("say \"hi\"", "say \"hi\""),
    ("\"", "\""),
    ("two\nlines", "two\nlines"),
    ("crlf\r\ninside", "crlf\r\ninside"),
    ("trailing,", "trailing,"),
    (" spaced ", " spaced "),
];

/// Every record of `text` by a strict reader (every row as long as the header).
fn parse(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[test]
fn hostile_cells_parse_back_to_their_guarded_values() {
    let table = Table {
        name: "t",
        title: "T",
        columns: vec!["n", "cell", "after"],
        rows: HOSTILE
            .iter()
            .enumerate()
            .map(|(i, (cell, _))| vec![i.to_string(), (*cell).to_owned(), "end".to_owned()])
            .collect(),
    };
    let text = csv(&table);
    let (header, rows) = parse(&text);
    assert_eq!(header, ["n", "cell", "after"]);
    assert_eq!(rows.len(), HOSTILE.len(), "{text}");
    for (row, (i, (cell, guarded))) in rows.iter().zip(HOSTILE.iter().enumerate()) {
        assert_eq!(
            row,
            &[i.to_string(), (*guarded).to_owned(), "end".to_owned()],
            "cell {cell:?}"
        );
    }
    // On the wire: CRLF after every record, quotes only where needed, doubled inside.
    assert!(
        text.starts_with("n,cell,after\r\n0,'=cmd|' /C calc'!A0,end\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\n1,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",end\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\n2,'@SUM(A1:A9),end\r\n"), "{text}");
    assert!(text.contains("\r\n7,'\t=1+1,end\r\n"), "{text}");
    assert!(text.contains("\r\n8,\"'\r=1+1\",end\r\n"), "{text}");
    assert!(text.contains("\r\n9,-1.5,end\r\n"), "{text}");
    assert!(text.contains("\r\n15,\"say \"\"hi\"\"\",end\r\n"), "{text}");
    assert!(text.contains("\r\n17,\"two\nlines\",end\r\n"), "{text}");
    assert!(text.ends_with("\r\n20, spaced ,end\r\n"), "{text}");
}

#[test]
fn hostile_names_and_reasons_are_guarded_in_the_files_written() {
    let mut review = WeeklyReview {
        week: "2026-W47".into(),
        contacts: OverContact {
            limit: 3,
            ..OverContact::default()
        },
        ..WeeklyReview::default()
    };
    // A reason and a name are typed by people: every hostile one, in the overrides table.
    review.contacts.overrides = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, (cell, _))| OverrideRow {
            at: "2026-11-17T09:00:00Z".into(),
            by: "@ben".into(),
            role: "coordinator".into(),
            case_id: format!("c{i}"),
            patient_id: format!("p{i}"),
            name: (*cell).to_owned(),
            reason: (*cell).to_owned(),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let files = write_csv_dir(&review, dir.path()).unwrap();
    assert_eq!(files.len(), export::tables(&review).len());
    let text = std::fs::read_to_string(dir.path().join("2026-W47-overrides.csv")).unwrap();
    let (header, rows) = parse(&text);
    assert_eq!(header, ["at", "by", "role", "case", "name", "reason"]);
    assert_eq!(rows.len(), HOSTILE.len());
    for (row, (i, (_, guarded))) in rows.iter().zip(HOSTILE.iter().enumerate()) {
        let expected = [
            "2026-11-17T09:00:00Z".to_owned(),
            "'@ben".to_owned(),
            "coordinator".to_owned(),
            format!("c{i}"),
            (*guarded).to_owned(),
            (*guarded).to_owned(),
        ];
        assert_eq!(row, &expected);
    }
    // Every file parses strictly, and no cell of any file starts as a formula would.
    for path in &files {
        let (header, rows) = parse(&std::fs::read_to_string(path).unwrap());
        for cell in header.iter().chain(rows.iter().flatten()) {
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r'])
                    && (!cell.starts_with('-') || cell.parse::<f64>().is_ok()),
                "{}: {cell:?}",
                path.display()
            );
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "written as before: owner-only");
    }
}
