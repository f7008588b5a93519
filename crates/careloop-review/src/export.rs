//! The review as tables of text: one CSV file per table, and the tabular pages of the PDF.
//! Rates are written as fractions with three decimals in CSV (a spreadsheet formats them)
//! and empty when their denominator is zero.

use std::path::{Path, PathBuf};

use crate::model::*;
use crate::{Result, ReviewError};

fn num(v: u32) -> String {
    v.to_string()
}

fn frac(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.3}"))
}

fn hours(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.1}"))
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn names(people: &[PersonRef]) -> String {
    people
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every table of the review, in reading order.
pub fn tables(review: &WeeklyReview) -> Vec<Table> {
    let mut out = Vec::new();
    out.push(Table {
        name: "segments",
        title: "Cohorts",
        columns: vec![
            "segment",
            "name",
            "size",
            "entered",
            "exited",
            "worklist",
            "overflow",
            "held_back",
            "capacity",
            "contacted",
            "capacity_use",
            "open_cases",
            "entered_names",
            "exited_names",
        ],
        rows: review
            .segments
            .iter()
            .map(|s| {
                vec![
                    s.segment_id.clone(),
                    s.name.clone(),
                    num(s.size),
                    num(s.entered.len() as u32),
                    num(s.exited.len() as u32),
                    num(s.worklist),
                    num(s.overflow),
                    num(s.held_back),
                    num(s.capacity),
                    num(s.contacted),
                    frac(s.capacity_use),
                    num(s.open_cases),
                    names(&s.entered),
                    names(&s.exited),
                ]
            })
            .collect(),
    });
    out.push(Table {
        name: "cohort_trend",
        title: "Cohort sizes by run",
        columns: vec!["run", "as_of", "segment", "size"],
        rows: review
            .trend
            .iter()
            .flat_map(|t| {
                t.sizes.iter().map(move |s| {
                    vec![
                        t.run_id.to_string(),
                        t.as_of.clone(),
                        s.segment_id.clone(),
                        num(s.count),
                    ]
                })
            })
            .collect(),
    });
    let pending = &review.pending;
    out.push(Table {
        name: "pending",
        title: "Pending work at the end of the week",
        columns: vec![
            "kind", "id", "case", "name", "segment", "owner", "since", "due", "overdue", "detail",
        ],
        rows: [
            ("overdue_case", &pending.overdue_cases),
            (
                "unacknowledged_escalation",
                &pending.unacknowledged_escalations,
            ),
            ("overdue_referral", &pending.overdue_referrals),
            ("waiting_callback", &pending.waiting_callbacks),
        ]
        .into_iter()
        .flat_map(|(kind, items)| {
            items.iter().map(move |i| {
                vec![
                    kind.to_owned(),
                    i.id.clone(),
                    i.case_id.clone(),
                    i.name.clone(),
                    i.segment_id.clone(),
                    opt(&i.owner),
                    i.since.clone(),
                    opt(&i.due),
                    i.overdue.to_string(),
                    i.detail.clone(),
                ]
            })
        })
        .collect(),
    });
    out.push(Table {
        name: "caseload",
        title: "Caseload per coordinator",
        columns: vec![
            "user",
            "open_cases",
            "capacity",
            "use",
            "overdue",
            "attempts",
            "reached",
        ],
        rows: review
            .caseload
            .iter()
            .map(|c| {
                vec![
                    c.user.clone(),
                    num(c.open_cases),
                    num(c.capacity),
                    frac(c.use_share),
                    num(c.overdue),
                    num(c.attempts),
                    num(c.reached),
                ]
            })
            .collect(),
    });
    out.push(Table {
        name: "equity",
        title: "Equity: shares against the panel",
        columns: vec![
            "segment",
            "population",
            "dimension",
            "group",
            "count",
            "population_size",
            "share",
            "panel_count",
            "panel_share",
            "expected",
            "ratio",
            "flag",
        ],
        rows: review
            .equity
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.segment_id.clone(),
                    r.population.clone(),
                    r.dimension.clone(),
                    r.group.clone(),
                    num(r.count),
                    num(r.population_size),
                    frac(r.share),
                    num(r.panel_count),
                    frac(r.panel_share),
                    format!("{:.2}", r.expected),
                    frac(r.ratio),
                    r.flag.clone(),
                ]
            })
            .collect(),
    });
    let c = &review.contacts;
    out.push(Table {
        name: "contacts",
        title: "Contacts per person",
        columns: vec!["period", "contacts", "people"],
        rows: [("week", &c.per_week), ("28_days", &c.per_month)]
            .into_iter()
            .flat_map(|(period, buckets)| {
                buckets
                    .iter()
                    .map(move |b| vec![period.to_owned(), b.contacts.clone(), num(b.people)])
            })
            .collect(),
    });
    out.push(Table {
        name: "above_limit",
        title: "People above the contact limit",
        columns: vec![
            "patient",
            "name",
            "contacts_in_week",
            "most_in_7_days",
            "limit",
        ],
        rows: c
            .above_limit
            .iter()
            .map(|a| {
                vec![
                    a.patient_id.clone(),
                    a.name.clone(),
                    num(a.contacts_in_week),
                    num(a.most_in_7_days),
                    num(c.limit),
                ]
            })
            .collect(),
    });
    out.push(Table {
        name: "overrides",
        title: "Contact-limit overrides",
        columns: vec!["at", "by", "role", "case", "name", "reason"],
        rows: c
            .overrides
            .iter()
            .map(|o| {
                vec![
                    o.at.clone(),
                    o.by.clone(),
                    o.role.clone(),
                    o.case_id.clone(),
                    o.name.clone(),
                    o.reason.clone(),
                ]
            })
            .collect(),
    });
    out.push(Table {
        name: "closure",
        title: "Care-gap closure after the first attempt",
        columns: vec![
            "segment",
            "outreached",
            "eligible_30",
            "closed_30",
            "rate_30",
            "eligible_60",
            "closed_60",
            "rate_60",
            "eligible_90",
            "closed_90",
            "rate_90",
            "closed_so_far",
        ],
        rows: review
            .closure
            .iter()
            .map(|r| {
                let mut row = vec![r.segment_id.clone(), num(r.outreached)];
                for h in &r.horizons {
                    row.extend([num(h.eligible), num(h.closed), frac(h.rate)]);
                }
                row.push(num(r.closed_so_far));
                row
            })
            .collect(),
    });
    out.push(Table {
        name: "closure_curve",
        title: "Cumulative closure by day",
        columns: vec!["segment", "day", "closed_share"],
        rows: review
            .closure_curve
            .iter()
            .map(|p| {
                vec![
                    p.segment_id.clone(),
                    num(p.day),
                    format!("{:.3}", p.closed_share),
                ]
            })
            .collect(),
    });
    let response = |rows: &[ResponseRow]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                vec![
                    r.key.clone(),
                    num(r.attempts_week),
                    num(r.reached_week),
                    frac(r.rate_week),
                    num(r.attempts_to_date),
                    num(r.reached_to_date),
                    frac(r.rate_to_date),
                ]
            })
            .collect()
    };
    let response_columns = |first| {
        vec![
            first,
            "attempts_week",
            "reached_week",
            "rate_week",
            "attempts_to_date",
            "reached_to_date",
            "rate_to_date",
        ]
    };
    out.push(Table {
        name: "response_by_channel",
        title: "Response rate by channel",
        columns: response_columns("channel"),
        rows: response(&review.response_by_channel),
    });
    out.push(Table {
        name: "response_by_segment",
        title: "Response rate by segment",
        columns: response_columns("segment"),
        rows: response(&review.response_by_segment),
    });
    out.push(Table {
        name: "retention",
        title: "Retention: a visit within 12 months of the first attempt",
        columns: vec![
            "segment",
            "contacted",
            "window_complete",
            "retained",
            "rate",
            "retained_so_far",
        ],
        rows: review
            .retention
            .iter()
            .map(|r| {
                vec![
                    r.segment_id.clone(),
                    num(r.contacted),
                    num(r.window_complete),
                    num(r.retained),
                    frac(r.rate),
                    num(r.retained_so_far),
                ]
            })
            .collect(),
    });
    out.push(Table {
        name: "timeliness",
        title: "Timeliness (clocks started in the week)",
        columns: vec![
            "measure",
            "started",
            "answered",
            "median_hours",
            "p90_hours",
            "within_deadline",
            "rate_within",
            "overdue",
        ],
        rows: review
            .timeliness
            .iter()
            .map(|t| {
                vec![
                    t.measure.clone(),
                    num(t.started),
                    num(t.answered),
                    hours(t.median_hours),
                    hours(t.p90_hours),
                    num(t.within_deadline),
                    frac(t.rate_within),
                    num(t.overdue),
                ]
            })
            .collect(),
    });
    out
}

/// One CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`,
/// `-` or `@` is prefixed with `'` so that a spreadsheet does not run it as a formula.
fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '@'])
        || (text.starts_with('-') && text.parse::<f64>().is_err())
    {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// A table as CSV text (RFC 4180, CRLF line ends, a header row).
pub fn csv(table: &Table) -> String {
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
        let fields: Vec<String> = cells.map(csv_field).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    };
    line(&mut table.columns.iter().copied(), &mut out);
    for row in &table.rows {
        line(&mut row.iter().map(String::as_str), &mut out);
    }
    out
}

/// Writes one `{week}-{table}.csv` per table into `dir` (created if missing) and returns the
/// paths. Each file is written to a temporary name and renamed, so a failure leaves no
/// half-written file.
pub fn write_csv_dir(review: &WeeklyReview, dir: &Path) -> Result<Vec<PathBuf>> {
    let io = |path: &Path, e: std::io::Error| ReviewError::Io {
        path: path.display().to_string(),
        why: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut written = Vec::new();
    for table in tables(review) {
        let path = dir.join(format!("{}-{}.csv", review.week, table.name));
        write_atomically(&path, csv(&table).as_bytes()).map_err(|e| io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let tmp = path.with_extension("partial");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    if let Some(dir) = dir {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_guards_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-1.5"), "-1.5");
        assert_eq!(csv_field("-x"), "'-x");
        let table = Table {
            name: "t",
            title: "T",
            columns: vec!["a", "b"],
            rows: vec![vec!["1".into(), "Ordóñez, Adán".into()]],
        };
        assert_eq!(csv(&table), "a,b\r\n1,\"Ordóñez, Adán\"\r\n");
    }
}
