//! Live lists on a real encrypted cache: memberships follow imports and the calendar, each
//! entry and exit is recorded with its evidence, automatic segments open cases (one per
//! person and episode), a gap closed by new data closes its case, and importing the same
//! data again changes nothing.

use std::path::Path;

use careloop_api::{Careloop, Config, Role, Session, WorklistFilter};
use careloop_store::KeySource;
use chrono::{DateTime, Utc};

const GAP: &str = "breast_cancer_screening_gap";

fn open(dir: &Path) -> Careloop {
    use std::os::unix::fs::PermissionsExt;
    let key = dir.join("key");
    if !key.exists() {
        std::fs::write(&key, format!("{}\n", "3c".repeat(32))).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    Careloop::open(&Config {
        data_dir: dir.join("data"),
        key: KeySource::KeyFile(key),
    })
    .unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn sue(time: &str) -> Session {
    Session {
        user: "sue".into(),
        role: Role::Supervisor,
        at: at(time),
    }
}

fn patient(id: &str, gender: &str, born: &str) -> String {
    format!(
        r#"{{"resourceType":"Patient","id":"{id}","gender":"{gender}","birthDate":"{born}","name":[{{"family":"Test","given":["{id}"]}}]}}"#
    )
}

fn mammogram_procedure(id: &str, patient: &str, on: &str) -> String {
    format!(
        r#"{{"resourceType":"Procedure","id":"{id}","status":"completed","subject":{{"reference":"Patient/{patient}"}},"code":{{"coding":[{{"system":"http://snomed.info/sct","code":"71651007"}}]}},"performedDateTime":"{on}"}}"#
    )
}

fn mammogram_report(id: &str, patient: &str, on: &str) -> String {
    format!(
        r#"{{"resourceType":"DiagnosticReport","id":"{id}","status":"final","subject":{{"reference":"Patient/{patient}"}},"code":{{"coding":[{{"system":"http://loinc.org","code":"24606-6"}}]}},"effectiveDateTime":"{on}"}}"#
    )
}

fn import(careloop: &mut Careloop, dir: &Path, name: &str, lines: &[String]) {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let summary = careloop.import(&[path], false, &mut |_| {}).unwrap();
    assert!(
        summary.files_failed.is_empty(),
        "{:?}",
        summary.files_failed
    );
}

/// (case id, status, reason) of each case of one person in the gap segment.
fn cases_of(
    careloop: &mut Careloop,
    person: &str,
    time: &str,
) -> Vec<(String, String, Option<String>)> {
    // Automatic openings are unassigned: the pool, closed cases included.
    let filter = WorklistFilter {
        owner: Some(String::new()),
        include_closed: true,
        ..WorklistFilter::default()
    };
    careloop
        .worklist(&sue(time), &filter)
        .unwrap()
        .into_iter()
        .filter(|r| r.patient_id == person && r.segment_id == GAP)
        .map(|r| (r.case_id, r.status, r.reason))
        .collect()
}

#[test]
fn lists_follow_the_data_and_the_calendar_and_cases_follow_the_lists() {
    let dir = tempfile::tempdir().unwrap();
    let mut careloop = open(dir.path());
    // ann has never had a mammogram; bea's last one leaves the 27-month window after
    // 2026-06-30 (W27 of 2026-07-01 starts on 2024-04-01).
    import(
        &mut careloop,
        dir.path(),
        "base.ndjson",
        &[
            patient("ann", "female", "1970-01-01"),
            patient("bea", "female", "1965-05-05"),
            mammogram_procedure("mg-bea", "bea", "2024-03-30"),
            patient("cat", "male", "1950-02-02"),
        ],
    );

    // The first evaluation finds ann in the gap segment: the backlog, which the supervisor
    // opens (`case open`); bea is not in it.
    let first = careloop
        .bring_lists_current(
            at("2026-06-30T09:00:00Z"),
            Some(&sue("2026-06-30T09:00:00Z")),
        )
        .unwrap();
    assert!(first.full);
    assert_eq!((first.entered, first.opened), (0, 0), "{first:?}");
    assert!(cases_of(&mut careloop, "ann", "2026-06-30T09:00:00Z").is_empty());
    careloop
        .open_cases(
            &sue("2026-06-30T09:05:00Z"),
            chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            None,
        )
        .unwrap();
    let ann = cases_of(&mut careloop, "ann", "2026-06-30T09:10:00Z");
    assert_eq!(ann.len(), 1, "{ann:?}");
    assert_eq!(ann[0].1, "open");
    assert!(cases_of(&mut careloop, "bea", "2026-06-30T09:00:00Z").is_empty());

    // Later the same day nothing moves; the next day's first command sees bea enter.
    let later = careloop
        .bring_lists_current(
            at("2026-06-30T23:59:00Z"),
            Some(&sue("2026-06-30T23:59:00Z")),
        )
        .unwrap();
    assert_eq!(
        (later.full, later.entered, later.exited, later.opened),
        (false, 0, 0, 0)
    );
    let next_day = careloop
        .bring_lists_current(
            at("2026-07-01T08:00:00Z"),
            Some(&sue("2026-07-01T08:00:00Z")),
        )
        .unwrap();
    assert!(next_day.full);
    assert_eq!(next_day.entered, 1, "{next_day:?}");
    assert!(
        next_day.summary.contains("1 new in"),
        "{}",
        next_day.summary
    );
    // The gap segment opens automatically: bea's case is there, once, however often the
    // lists are brought current.
    assert_eq!(next_day.opened, 1, "{next_day:?}");
    careloop
        .bring_lists_current(
            at("2026-07-01T08:30:00Z"),
            Some(&sue("2026-07-01T08:30:00Z")),
        )
        .unwrap();
    let bea = cases_of(&mut careloop, "bea", "2026-07-01T08:30:00Z");
    assert_eq!(bea.len(), 1, "{bea:?}");
    assert_eq!(
        bea[0].0,
        careloop_ops::case_id("local", "bea", GAP, 1).to_string()
    );
    let entry = careloop
        .membership_changes(None)
        .unwrap()
        .into_iter()
        .find(|c| c.patient_id == "bea" && c.segment_id == GAP)
        .expect("bea's entry is recorded");
    assert_eq!(
        (entry.change.as_str(), entry.day.as_str()),
        ("entered", "2026-07-01")
    );
    assert!(
        entry.evidence.iter().any(|e| e.contains("age")),
        "{:?}",
        entry.evidence
    );

    // ann's mammogram result arrives: she leaves the segment and her case closes as resolved
    // by new data, with the report as evidence.
    let delta = [mammogram_report("mg-ann", "ann", "2026-07-01")];
    import(&mut careloop, dir.path(), "delta.ndjson", &delta);
    let after = careloop
        .bring_lists_current(
            at("2026-07-01T10:00:00Z"),
            Some(&sue("2026-07-01T10:00:00Z")),
        )
        .unwrap();
    assert!(!after.full);
    assert_eq!(
        (after.exited, after.closed_by_new_data),
        (1, 1),
        "{after:?}"
    );
    assert!(
        after.evaluated <= 2,
        "only the people who changed: {after:?}"
    );
    let ann = cases_of(&mut careloop, "ann", "2026-07-01T10:00:00Z");
    assert_eq!(ann.len(), 1);
    assert_eq!(ann[0].1, "closed");
    assert_eq!(ann[0].2.as_deref(), Some("resolved_by_new_data"));
    let exit = careloop
        .membership_changes(None)
        .unwrap()
        .into_iter()
        .find(|c| c.patient_id == "ann" && c.change == "exited")
        .expect("ann's exit is recorded");
    assert_eq!(exit.reason, "gap_closed");
    assert!(
        exit.evidence
            .iter()
            .any(|e| e.contains("DiagnosticReport 2026-07-01")),
        "{:?}",
        exit.evidence
    );
    // The weekly review counts it in the segment's gap closure, with who it was.
    let week = careloop_api::review::parse_week("2026-W27").unwrap();
    let review = careloop
        .weekly_review(&sue("2026-07-01T10:05:00Z"), week)
        .unwrap();
    let closure = review
        .closure
        .iter()
        .find(|r| r.segment_id == GAP)
        .expect("the gap segment's closure row");
    assert_eq!(closure.closed_by_new_data, 1, "{closure:?}");
    // Its entries and exits are what the lists recorded in the week.
    let gap = review
        .segments
        .iter()
        .find(|s| s.segment_id == GAP)
        .expect("the gap segment's row");
    let ids = |people: &[careloop_review::PersonRef]| -> Vec<String> {
        people.iter().map(|p| p.patient_id.clone()).collect()
    };
    assert_eq!(ids(&gap.entered), ["bea"]);
    assert_eq!(ids(&gap.exited), ["ann"]);
    let drill = careloop
        .review_drill(
            &sue("2026-07-01T10:06:00Z"),
            week,
            &closure.closed_by_new_data_drill,
        )
        .unwrap();
    assert_eq!(
        drill
            .iter()
            .map(|r| r.patient_id.as_str())
            .collect::<Vec<_>>(),
        ["ann"]
    );
    let previous_week = careloop_api::review::parse_week("2026-W26").unwrap();
    let before = careloop
        .weekly_review(&sue("2026-07-01T10:07:00Z"), previous_week)
        .unwrap();
    assert!(before.closure.iter().all(|r| r.closed_by_new_data == 0));

    // The same delta again: nothing changes, no event is written.
    let cases = (
        cases_of(&mut careloop, "ann", "2026-07-01T10:30:00Z"),
        cases_of(&mut careloop, "bea", "2026-07-01T10:30:00Z"),
    );
    let changes = careloop.membership_changes(None).unwrap().len();
    import(&mut careloop, dir.path(), "delta.ndjson", &delta);
    let again = careloop
        .bring_lists_current(
            at("2026-07-01T11:00:00Z"),
            Some(&sue("2026-07-01T11:00:00Z")),
        )
        .unwrap();
    assert_eq!(
        (
            again.entered,
            again.exited,
            again.opened,
            again.closed_by_new_data
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(
        (
            cases_of(&mut careloop, "ann", "2026-07-01T11:00:00Z"),
            cases_of(&mut careloop, "bea", "2026-07-01T11:00:00Z"),
        ),
        cases
    );
    assert_eq!(careloop.membership_changes(None).unwrap().len(), changes);
}

fn encounter(id: &str, patient: &str, class: &str, start: &str, end: &str) -> String {
    format!(
        r#"{{"resourceType":"Encounter","id":"{id}","status":"finished","class":{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"{class}"}},"subject":{{"reference":"Patient/{patient}"}},"period":{{"start":"{start}","end":"{end}"}}}}"#
    )
}

/// Key events alert once each: an admission and its discharge, an ED visit, a no-show and
/// a housing answer for someone in the panel; an old ED visit alerts nobody; the same data
/// again raises nothing; an acknowledgement is once, audited.
#[test]
fn key_events_raise_one_alert_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut careloop = open(dir.path());
    import(
        &mut careloop,
        dir.path(),
        "base.ndjson",
        &[
            patient("cat", "male", "1950-02-02"),
            patient("dan", "male", "1960-03-03"),
        ],
    );
    careloop
        .bring_lists_current(at("2026-07-01T08:00:00Z"), None)
        .unwrap();
    let delta = [
        encounter("adm-1", "cat", "IMP", "2026-06-28T10:00:00Z", "2026-06-30T12:00:00Z"),
        encounter("ed-1", "cat", "EMER", "2026-07-01T02:00:00Z", "2026-07-01T05:00:00Z"),
        encounter("ed-old", "cat", "EMER", "2025-01-01T02:00:00Z", "2025-01-01T05:00:00Z"),
        r#"{"resourceType":"Appointment","id":"appt-1","status":"noshow","start":"2026-06-30T09:00:00Z","participant":[{"actor":{"reference":"Patient/cat"},"status":"accepted"}]}"#.to_owned(),
        r#"{"resourceType":"QuestionnaireResponse","id":"qr-1","status":"completed","subject":{"reference":"Patient/cat"},"authored":"2026-07-01T10:00:00Z","item":[{"linkId":"71802-3","answer":[{"valueCoding":{"system":"http://loinc.org","code":"LA31995-6"}}]}]}"#.to_owned(),
    ];
    import(&mut careloop, dir.path(), "delta.ndjson", &delta);
    let changed = careloop
        .bring_lists_current(
            at("2026-07-01T11:00:00Z"),
            Some(&sue("2026-07-01T11:00:00Z")),
        )
        .unwrap();
    assert_eq!(changed.alerts, 5, "{changed:?}");
    let alerts = careloop
        .alerts(&sue("2026-07-01T11:00:00Z"), false)
        .unwrap();
    let mut kinds: Vec<&str> = alerts.iter().map(|a| a.kind.as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "admission",
            "discharge",
            "ed_visit",
            "missed_appointment",
            "social_risk"
        ]
    );
    assert!(alerts
        .iter()
        .all(|a| a.patient_id == "cat" && a.status == "open"));
    let ed = alerts.iter().find(|a| a.kind == "ed_visit").unwrap();
    assert_eq!(ed.occurred, "2026-07-01");
    assert_eq!(
        ed.due, "2026-07-02T11:00:00Z",
        "24 hours to review an ED visit"
    );
    assert_eq!(ed.assignee, "lead");

    // The same data again, and the lists brought current again: nothing new.
    import(&mut careloop, dir.path(), "delta.ndjson", &delta);
    let again = careloop
        .bring_lists_current(
            at("2026-07-01T12:00:00Z"),
            Some(&sue("2026-07-01T12:00:00Z")),
        )
        .unwrap();
    assert_eq!(again.alerts, 0);
    assert_eq!(
        careloop
            .alerts(&sue("2026-07-01T12:00:00Z"), false)
            .unwrap()
            .len(),
        5
    );

    // Unacknowledged past its deadline it goes up; acknowledged once.
    let late = careloop
        .alerts(&sue("2026-07-02T12:00:00Z"), false)
        .unwrap();
    let ed_late = late.iter().find(|a| a.kind == "ed_visit").unwrap();
    assert!(ed_late.overdue);
    assert_eq!(ed_late.level, "supervisor");
    let acknowledged = careloop
        .acknowledge_alert(
            &sue("2026-07-02T12:05:00Z"),
            &ed.alert_id,
            Some("called her daughter"),
        )
        .unwrap();
    assert_eq!(acknowledged.status, "acknowledged");
    assert_eq!(acknowledged.acknowledged_by.as_deref(), Some("sue"));
    let twice = careloop
        .acknowledge_alert(&sue("2026-07-02T12:06:00Z"), &ed.alert_id, None)
        .unwrap_err();
    assert_eq!(twice.code, careloop_api::ErrorCode::Conflict);
    assert_eq!(
        careloop
            .alerts(&sue("2026-07-02T12:10:00Z"), false)
            .unwrap()
            .len(),
        4
    );
}

/// A workstation evaluates its lists before its panel arrives (an empty cache, then the
/// server's first panel page): the first people found are the backlog, not entrants, so no
/// case is opened and no alert raised for them.
#[test]
fn the_first_panel_to_arrive_is_the_backlog_not_entrants() {
    let dir = tempfile::tempdir().unwrap();
    let mut careloop = open(dir.path());
    let empty = careloop
        .bring_lists_current(
            at("2026-07-01T08:00:00Z"),
            Some(&sue("2026-07-01T08:00:00Z")),
        )
        .unwrap();
    assert_eq!((empty.evaluated, empty.entered), (0, 0));
    import(
        &mut careloop,
        dir.path(),
        "panel.ndjson",
        &[
            patient("ann", "female", "1970-01-01"),
            encounter(
                "ed-ann",
                "ann",
                "EMER",
                "2026-06-30T02:00:00Z",
                "2026-06-30T04:00:00Z",
            ),
        ],
    );
    let arrived = careloop
        .bring_lists_current(
            at("2026-07-01T08:05:00Z"),
            Some(&sue("2026-07-01T08:05:00Z")),
        )
        .unwrap();
    assert!(arrived.full);
    assert_eq!(
        (arrived.entered, arrived.opened, arrived.alerts),
        (0, 0, 0),
        "{arrived:?}"
    );
    assert!(cases_of(&mut careloop, "ann", "2026-07-01T08:10:00Z").is_empty());
}

/// (segment, person, placement, priority) of every current membership.
fn placements(careloop: &mut Careloop) -> Vec<(String, String, String, i32)> {
    let mut rows: Vec<_> = careloop
        .store_mut()
        .memberships()
        .unwrap()
        .into_iter()
        .map(|m| (m.segment_id, m.patient_id, m.placement, m.priority))
        .collect();
    rows.sort();
    rows
}

/// The lists brought current a few changed people at a time (the memberships kept in
/// memory between evaluations, segments nobody changed in skipped) are the lists a full
/// evaluation of the same data as of the same day gives: the same people in each segment,
/// with the same priorities and the same worklist, overflow and held-back placements.
#[test]
fn a_few_changed_people_at_a_time_give_the_lists_a_full_evaluation_gives() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel");
    let day = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    careloop_api::write_demo_panel(&panel, 1500, 7, day).unwrap();
    let live_dir = dir.path().join("live");
    std::fs::create_dir_all(&live_dir).unwrap();
    let mut live = open(&live_dir);
    live.import(std::slice::from_ref(&panel), false, &mut |_| {})
        .unwrap();
    live.bring_lists_current(
        at("2026-07-01T08:00:00Z"),
        Some(&sue("2026-07-01T08:00:00Z")),
    )
    .unwrap();
    let ids: Vec<String> = live
        .list_patients(&careloop_api::dto::PatientQuery {
            text: None,
            offset: 0,
            limit: 90,
        })
        .unwrap()
        .rows
        .into_iter()
        .map(|p| p.id)
        .collect();
    // ED visits and mammograms for some, then admissions for others and some of the same.
    let first: Vec<String> = ids[..30]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            encounter(
                &format!("ed-{i}"),
                p,
                "EMER",
                "2026-06-29T03:00:00Z",
                "2026-06-29T06:00:00Z",
            )
        })
        .chain(
            ids[30..60]
                .iter()
                .enumerate()
                .map(|(i, p)| mammogram_report(&format!("mammo-{i}"), p, "2026-06-20")),
        )
        .collect();
    let second: Vec<String> = ids[20..90]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            encounter(
                &format!("imp-{i}"),
                p,
                "IMP",
                "2026-06-25T03:00:00Z",
                "2026-06-29T10:00:00Z",
            )
        })
        .collect();
    let mut moved = 0;
    for (n, (name, lines)) in [("first.ndjson", &first), ("second.ndjson", &second)]
        .into_iter()
        .enumerate()
    {
        import(&mut live, &live_dir, name, lines);
        let time = format!("2026-07-01T{:02}:00:00Z", 9 + n);
        let changed = live
            .bring_lists_current(at(&time), Some(&sue(&time)))
            .unwrap();
        assert!(!changed.full, "{changed:?}");
        assert_eq!(changed.evaluated as usize, lines.len(), "{changed:?}");
        moved += changed.entered + changed.exited;
    }
    assert!(moved > 0, "the deltas move people in and out of segments");

    let whole_dir = dir.path().join("whole");
    std::fs::create_dir_all(&whole_dir).unwrap();
    let mut whole = open(&whole_dir);
    whole
        .import(std::slice::from_ref(&panel), false, &mut |_| {})
        .unwrap();
    import(&mut whole, &whole_dir, "first.ndjson", &first);
    import(&mut whole, &whole_dir, "second.ndjson", &second);
    let full = whole
        .bring_lists_current(at("2026-07-01T11:00:00Z"), None)
        .unwrap();
    assert!(full.full);
    let expected = placements(&mut whole);
    assert!(expected.len() > 100, "{}", expected.len());
    assert_eq!(placements(&mut live), expected);
}

/// "Refresh lists now" evaluates everyone again the same day (where bringing the lists
/// current has nothing to do), for a supervisor only, and is audited.
#[test]
fn a_supervisor_refreshes_the_lists_now_and_nobody_else_can() {
    let dir = tempfile::tempdir().unwrap();
    let mut careloop = open(dir.path());
    import(
        &mut careloop,
        dir.path(),
        "panel.ndjson",
        &[
            patient("ann", "female", "1960-03-01"),
            patient("bob", "male", "1950-01-01"),
        ],
    );
    careloop
        .bring_lists_current(
            at("2026-06-30T08:00:00Z"),
            Some(&sue("2026-06-30T08:00:00Z")),
        )
        .unwrap();
    let idle = careloop
        .bring_lists_current(
            at("2026-06-30T09:00:00Z"),
            Some(&sue("2026-06-30T09:00:00Z")),
        )
        .unwrap();
    assert_eq!((idle.full, idle.evaluated), (false, 0), "{idle:?}");

    let ana = Session {
        user: "ana".into(),
        role: Role::Coordinator,
        at: at("2026-06-30T09:05:00Z"),
    };
    let refused = careloop.refresh_lists(&ana).unwrap_err();
    assert_eq!(refused.code, careloop_api::ErrorCode::Forbidden);

    let refreshed = careloop
        .refresh_lists(&sue("2026-06-30T09:10:00Z"))
        .unwrap();
    assert!(refreshed.full, "{refreshed:?}");
    assert_eq!(refreshed.evaluated, 2, "{refreshed:?}");
    assert_eq!(refreshed.summary, "No changes");
    let audit = careloop.store_mut().audit_entries(0, 10_000).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "lists.refresh" && e.actor == "sue"),
        "the refresh is audited"
    );
}
