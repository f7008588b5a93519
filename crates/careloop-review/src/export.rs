//! The review as tables of text: one CSV file per table, and the tabular pages of the PDF.
//! Rates are written as fractions with three decimals in CSV (a spreadsheet formats them)
//! and empty when their denominator is zero.

use std::borrow::Cow;
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
            ("open_conflict", &pending.open_conflicts),
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
            "closed_by_new_data_week",
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
                row.push(num(r.closed_by_new_data));
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
    out.push(Table {
        name: "referral_answers",
        title: "Referrals by partner: answers (sent in the last four weeks)",
        columns: vec![
            "partner",
            "service",
            "sent",
            "answered",
            "median_hours",
            "in_time",
            "rate_in_time",
        ],
        rows: review
            .referrals_by_partner
            .iter()
            .map(|r| {
                vec![
                    r.partner.clone(),
                    r.service.clone(),
                    num(r.sent),
                    num(r.answered),
                    hours(r.median_response_hours),
                    num(r.answered_in_time),
                    frac(r.rate_answered_in_time),
                ]
            })
            .collect(),
    });
    out.push(Table {
        name: "referral_outcomes",
        title: "Referrals by partner: outcomes",
        columns: vec![
            "partner",
            "service",
            "accepted",
            "declined",
            "started",
            "started_in_time",
            "rate_started",
            "completed",
        ],
        rows: review
            .referrals_by_partner
            .iter()
            .map(|r| {
                vec![
                    r.partner.clone(),
                    r.service.clone(),
                    num(r.accepted),
                    num(r.declined),
                    num(r.started),
                    num(r.started_in_time),
                    frac(r.rate_started_in_time),
                    num(r.completed),
                ]
            })
            .collect(),
    });
    out.push(Table {
        name: "referral_declines",
        title: "Referrals declined, with the partner's reason",
        columns: vec!["partner", "service", "reason"],
        rows: review
            .referrals_by_partner
            .iter()
            .flat_map(|r| {
                r.decline_reasons
                    .iter()
                    .map(|reason| vec![r.partner.clone(), r.service.clone(), reason.clone()])
            })
            .collect(),
    });
    out.push(Table {
        name: "care_plans",
        title: "Shared care plans (at the end of the week)",
        columns: vec!["active_plans", "reviews_held", "reviews_upcoming"],
        rows: vec![vec![
            num(review.care_plans.active_plans),
            num(review.care_plans.reviews_held),
            num(review.care_plans.reviews_upcoming),
        ]],
    });
    out.push(Table {
        name: "care_plan_actions",
        title: "Care plan actions by owner",
        columns: vec!["owner", "open", "overdue", "done_in_week"],
        rows: review
            .care_plans
            .actions_by_owner
            .iter()
            .map(|r| {
                vec![
                    r.owner.clone(),
                    num(r.open),
                    num(r.overdue),
                    num(r.done_in_week),
                ]
            })
            .collect(),
    });
    out
}

/// The formula guard: a cell that starts with `=`, `+`, `@`, a tab or a carriage return, or
/// with `-` and is not a number, is prefixed with `'`, so that a spreadsheet shows it as text
/// and never runs it as a formula (CSV injection). Negative numbers stay numbers.
fn guard(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '@', '\t', '\r'])
        || (text.starts_with('-') && text.parse::<f64>().is_err())
    {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A table as CSV text (RFC 4180, CRLF line ends, a header row), every cell formula-guarded
/// ([`guard`]). The `csv` crate quotes a cell only when it must (a comma, quote or line
/// break) and doubles the quotes in it.
pub fn csv(table: &Table) -> String {
    let mut writer = ::csv::WriterBuilder::new()
        .quote_style(::csv::QuoteStyle::Necessary)
        .terminator(::csv::Terminator::CRLF)
        // Rows are written as they are, as before: the tables' shapes are tested, not enforced.
        .flexible(true)
        .from_writer(Vec::new());
    let mut record = |cells: &mut dyn Iterator<Item = &str>| {
        let cells: Vec<Cow<'_, str>> = cells.map(guard).collect();
        writer
            .write_record(cells.iter().map(|c| c.as_bytes()))
            .expect("a flexible CSV writer into memory accepts every record");
    };
    record(&mut table.columns.iter().copied());
    for row in &table.rows {
        record(&mut row.iter().map(String::as_str));
    }
    let bytes = writer
        .into_inner()
        .expect("flushing into memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}

/// Writes one `{week}-{table}.csv` per table into `dir` and returns the paths. `dir` is made
/// (mode 0700) when missing, but only inside an existing folder: no chain of folders is made,
/// and a symbolic link at `dir` is refused. Each file is written as [`write_atomically`]
/// does, so a failure leaves no half-written file and nothing outside `dir` is touched.
pub fn write_csv_dir(review: &WeeklyReview, dir: &Path) -> Result<Vec<PathBuf>> {
    let io = |path: &Path, e: std::io::Error| ReviewError::Io {
        path: path.display().to_string(),
        why: e.to_string(),
    };
    make_export_dir(dir).map_err(|e| io(dir, e))?;
    let mut written = Vec::new();
    for table in tables(review) {
        let path = dir.join(format!("{}-{}.csv", review.week, table.name));
        write_atomically(&path, csv(&table).as_bytes()).map_err(|e| io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

fn invalid(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message)
}

/// The folder of an export (`.` for a bare name) must exist: nothing makes folders on the way.
fn existing_parent(path: &Path) -> std::io::Result<PathBuf> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    if !std::fs::metadata(&parent).is_ok_and(|m| m.is_dir()) {
        return Err(invalid(format!(
            "the folder {} does not exist; export into an existing folder",
            parent.display()
        )));
    }
    Ok(parent)
}

/// Makes `dir` (one level, mode 0700) or accepts it when it is already a real folder.
fn make_export_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Err(invalid(
            "it is a symbolic link; export into a real folder".to_owned(),
        )),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(invalid("it exists and is not a folder".to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            existing_parent(dir)?;
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder.create(dir)
        }
        Err(e) => Err(e),
    }
}

/// Creates a new file, readable by its owner only. `create_new` is `O_CREAT | O_EXCL`: it
/// fails on any existing name, a symbolic link (dangling or not) included, so it never writes
/// through a link.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Writes `bytes` to `path`, whose folder must exist, through a new file with a random name
/// in that folder (created exclusively, mode 0600), renamed over `path` once complete. A
/// symbolic link (or anything but a regular file) at `path` is refused, so an export never
/// writes through a link someone planted; an earlier export at `path` is replaced.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = existing_parent(path)?;
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(invalid(format!(
                "{} is a symbolic link; refusing to write the export through it",
                path.display()
            )))
        }
        Ok(m) if !m.is_file() => {
            return Err(invalid(format!(
                "{} exists and is not a regular file",
                path.display()
            )))
        }
        _ => {}
    }
    let name = path
        .file_name()
        .ok_or_else(|| invalid(format!("{} does not name a file", path.display())))?;
    let (tmp, mut file) = {
        let mut attempt = 0;
        loop {
            let mut random = [0u8; 12];
            getrandom::getrandom(&mut random).map_err(|e| std::io::Error::other(e.to_string()))?;
            let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".{suffix}.partial"));
            let tmp = dir.join(tmp_name);
            match create_private(&tmp) {
                Ok(file) => break (tmp, file),
                // Someone holds that name (a planted link): take another.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One cell as [`csv`] writes it: guarded, then quoted when needed.
    fn csv_field(text: &str) -> String {
        let table = Table {
            name: "t",
            title: "T",
            columns: vec!["a", "b"],
            rows: vec![vec![text.to_owned(), "x".to_owned()]],
        };
        let text = csv(&table);
        let row = text.strip_prefix("a,b\r\n").unwrap();
        row.strip_suffix(",x\r\n").unwrap().to_owned()
    }

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

    /// The hand-written writer this module had before the `csv` crate, with the tab and
    /// carriage-return guard added: the reference the crate's output is held to.
    fn hand_written(table: &Table) -> String {
        let field = |text: &str| {
            let guarded = if text.starts_with(['=', '+', '@', '\t', '\r'])
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
        };
        let mut out = String::new();
        let header = table.columns.iter().map(|c| field(c));
        out.push_str(&header.collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
        for row in &table.rows {
            out.push_str(&row.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        out
    }

    proptest::proptest! {
        /// Same bytes as the hand-written writer, for any cells (at least two per row: a
        /// lone empty cell is the one place the two differ, and no table has one column).
        #[test]
        fn the_csv_crate_writes_what_the_hand_written_writer_wrote(
            rows in proptest::collection::vec(
                proptest::collection::vec("[-=+@\t\r\n\",' a-zé0-9.]{0,8}", 2..5),
                0..6,
            )
        ) {
            let table = Table { name: "t", title: "T", columns: vec!["a", "-b"], rows };
            proptest::prop_assert_eq!(csv(&table), hand_written(&table));
        }
    }

    #[cfg(unix)]
    #[test]
    fn exports_are_private_new_files_and_never_follow_a_planted_link() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep me").unwrap();

        // A link at the old, predictable temporary name and one at the target itself.
        let out = dir.path().join("review.pdf");
        std::os::unix::fs::symlink(&victim, dir.path().join("review.partial")).unwrap();
        write_atomically(&out, b"%PDF-1.4 first").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"%PDF-1.4 first");
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "owner-only");
        write_atomically(&out, b"%PDF-1.4 again").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"%PDF-1.4 again", "replaced");

        let linked = dir.path().join("linked.pdf");
        std::os::unix::fs::symlink(&victim, &linked).unwrap();
        let err = write_atomically(&linked, b"%PDF-1.4 evil").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me", "untouched");

        // No folder is made on the way; leftovers of a failed write are not left behind.
        let err = write_atomically(&dir.path().join("new/sub/r.pdf"), b"x").unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(!dir.path().join("new").exists());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["linked.pdf", "review.partial", "review.pdf", "victim"]
        );

        // A link where the CSV folder goes is refused too.
        let target = dir.path().join("elsewhere");
        std::fs::create_dir(&target).unwrap();
        let csv_dir = dir.path().join("csv");
        std::os::unix::fs::symlink(&target, &csv_dir).unwrap();
        let err = make_export_dir(&csv_dir).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        make_export_dir(&dir.path().join("fresh")).unwrap();
        let mode = std::fs::metadata(dir.path().join("fresh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(make_export_dir(&dir.path().join("a/b")).is_err());
    }
}
