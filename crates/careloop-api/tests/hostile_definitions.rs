//! Issue 17: one segment definition must not crash every workstation of a team. A draft the
//! engine cannot evaluate is refused at preview and publish with a located error; a version
//! that arrives through sync (or was stored before today's checks) and cannot be evaluated is
//! stored but never put in force: the previous version (or the built-in one) keeps running,
//! and segmentation, opening cases, explanations and the segment editor report it.
//! Hermetic: a temp dir, a key file, fixed dates.

mod common;
use common::config;

use std::path::Path;

use careloop_api::sync::wire::{PanelItem, PanelKind, PanelPage, SegmentDefinitionWire};
use careloop_api::{Careloop, ErrorCode, Role, Session};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::json;

const POLYPHARMACY: &str = include_str!("../../../schema/segments/polypharmacy.json");
const DORMANT: &str = include_str!("../../../schema/segments/dormant.json");

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 4, 1, 9, 0, 0).unwrap()
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 3, 31).unwrap()
}

fn actor(name: &str) -> careloop_api::Actor {
    careloop_api::Actor {
        name: name.into(),
        at: at(),
    }
}

fn supervisor() -> Session {
    Session {
        user: "sue".into(),
        role: Role::Supervisor,
        at: at(),
    }
}

/// One person with seven active medications (in `polypharmacy`, whose built-in rule is
/// `active_medications >= 5`-ish), in a fresh cache.
fn small_panel(root: &Path) -> Careloop {
    let input = root.join("input");
    std::fs::create_dir_all(&input).unwrap();
    let mut lines = vec![
        r#"{"resourceType":"Patient","id":"meds","birthDate":"1950-01-01","gender":"female","name":[{"family":"Meds"}]}"#.to_owned(),
    ];
    for n in 1..=7 {
        lines.push(format!(
            r#"{{"resourceType":"MedicationRequest","id":"m{n}","status":"active","intent":"order","authoredOn":"2020-01-01","subject":{{"reference":"Patient/meds"}},"medicationCodeableConcept":{{"coding":[{{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"{n}"}}]}}}}"#
        ));
    }
    std::fs::write(input.join("panel.ndjson"), lines.join("\n")).unwrap();
    let mut careloop = Careloop::open(&config(root)).unwrap();
    assert!(careloop
        .import(&[input], false, &mut |_| {})
        .unwrap()
        .files_failed
        .is_empty());
    careloop
}

/// A version of a built-in definition with `rule` and, optionally, a priority condition.
fn version(builtin: &str, version: u32, rule: &str, when: Option<&str>) -> String {
    let mut value: serde_json::Value = serde_json::from_str(builtin).unwrap();
    value["version"] = json!(version);
    value["rule"] = json!(rule);
    if let Some(when) = when {
        value["priority"][0]["when"] = json!(when);
    }
    serde_json::to_string_pretty(&value).unwrap()
}

/// A panel page from the server carrying segment definitions, as sync pulls it.
fn page(cursor: i64, definitions: &[(&str, u32, &str)]) -> PanelPage {
    PanelPage {
        items: definitions
            .iter()
            .enumerate()
            .map(|(i, (id, version, body))| PanelItem {
                seq: cursor - definitions.len() as i64 + i as i64 + 1,
                kind: PanelKind::Segment,
                json: serde_json::to_string(&SegmentDefinitionWire {
                    id: (*id).to_owned(),
                    version: *version,
                    body: (*body).to_owned(),
                    published_by: "sam".into(),
                    published_at: "2021-03-30T10:00:00Z".into(),
                })
                .unwrap(),
            })
            .collect(),
        cursor,
        more: false,
        team: String::new(),
    }
}

#[test]
fn a_draft_the_engine_cannot_evaluate_is_refused_at_preview_and_publish() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = small_panel(root.path());
    let session = supervisor();
    for (rule, when, field) in [
        (
            "active_medications >= 10 and not exists(encounter class in INPATIENT_CLASS within 100000000 days)",
            None,
            "in rule",
        ),
        (
            "active_medications >= 10",
            Some("count(encounter class in INPATIENT_CLASS within 300000 years) > 0"),
            "in priority[0].when",
        ),
    ] {
        let text = version(POLYPHARMACY, 2, rule, when);
        let draft = careloop_api::dto::SegmentDraft { text: text.clone() };
        let preview = careloop
            .preview_segment_draft(&session, &draft)
            .unwrap_err();
        let publish = careloop
            .publish_segment_draft(&session, &draft)
            .unwrap_err();
        for error in [preview, publish] {
            assert_eq!(error.code, ErrorCode::BadInput);
            // Where (the draft's line and column), which segment and field, and the bound.
            let line = text[..text.find(" within ").unwrap()].lines().count();
            assert!(
                error.message.starts_with(&format!("draft:{line}:")),
                "{}",
                error.message
            );
            assert!(
                error
                    .message
                    .contains(&format!("segment \"polypharmacy\", {field}: \"within")),
                "{}",
                error.message
            );
            assert!(
                error
                    .message
                    .contains("(a window is at most 73000 days, 2400 months or 200 years)"),
                "{}",
                error.message
            );
        }
    }
    // Nothing was published; segmentation runs as before.
    let run = careloop.segment(as_of(), None, &actor("sue")).unwrap();
    assert_eq!(run.segments["polypharmacy"].members, ["meds"]);
    assert!(run.warnings.is_empty(), "{:?}", run.warnings);
}

#[test]
fn a_received_definition_that_cannot_be_evaluated_leaves_the_previous_version_in_force() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = small_panel(root.path());
    let session = supervisor();

    // Version 2, published here: nobody has 10 medications.
    let v2 = version(POLYPHARMACY, 2, "active_medications >= 10", None);
    let draft = careloop_api::dto::SegmentDraft { text: v2 };
    careloop.publish_segment_draft(&session, &draft).unwrap();
    let run = careloop.segment(as_of(), None, &actor("sue")).unwrap();
    assert!(run.segments["polypharmacy"].members.is_empty());

    // Versions 3 (a huge window in its rule) and, of dormant, 2 (in a priority condition)
    // arrive through sync from a workstation that accepted them.
    let v3 = version(
        POLYPHARMACY,
        3,
        "active_medications >= 1 and not exists(encounter class in INPATIENT_CLASS within 100000000 days)",
        None,
    );
    let dormant_v2 = version(
        DORMANT,
        2,
        "encounters_ever >= 1",
        Some("count(encounter in WELLNESS_VISIT within 4000000 months) == 0"),
    );
    let applied = careloop
        .sync_apply_panel(&page(
            2,
            &[("polypharmacy", 3, &v3), ("dormant", 2, &dormant_v2)],
        ))
        .unwrap();
    assert_eq!(applied, 2, "the page is applied: sync moves on");
    assert_eq!(careloop.sync_panel_cursor().unwrap(), 2);

    // Segmentation runs, with version 2 of polypharmacy and the built-in dormant, and says so.
    let run = careloop.segment(as_of(), None, &actor("sue")).unwrap();
    assert!(
        run.segments["polypharmacy"].members.is_empty(),
        "version 3 would take everyone with a medication"
    );
    assert!(run.segments.contains_key("dormant"));
    assert_eq!(run.warnings.len(), 2, "{:#?}", run.warnings);
    let dormant = &run.warnings[0];
    assert!(
        dormant.starts_with(
            "segment \"dormant\" version 2 (published by sam at 2021-03-30T10:00:00Z) \
             cannot be evaluated here and is not used; the built-in version stays in force: "
        ),
        "{dormant}"
    );
    assert!(
        dormant.contains("in priority[0].when: \"within 4000000 months\" is too long"),
        "{dormant}"
    );
    let polypharmacy = &run.warnings[1];
    assert!(
        polypharmacy.starts_with(
            "segment \"polypharmacy\" version 3 (published by sam at 2021-03-30T10:00:00Z) \
             cannot be evaluated here and is not used; version 2 stays in force: "
        ),
        "{polypharmacy}"
    );
    assert!(
        polypharmacy.contains("in rule: \"within 100000000 days\" is too long"),
        "{polypharmacy}"
    );
    assert_eq!(
        careloop.segment_definition_warnings().unwrap(),
        run.warnings
    );

    // Everything else that evaluates segments works too, with the version in force.
    careloop.open_cases(&session, as_of(), None).unwrap();
    let explained = careloop
        .explain("meds", as_of(), Some("polypharmacy"), None)
        .unwrap();
    assert_eq!(explained[0].rule, "active_medications >= 10");
    let preview = careloop
        .preview_segment_draft(
            &session,
            &careloop_api::dto::SegmentDraft {
                text: version(POLYPHARMACY, 4, "active_medications >= 1", None),
            },
        )
        .unwrap();
    assert_eq!(preview.published_version, Some(2));

    // The editor shows the version in force, its text, and the problem.
    let definitions = careloop.segment_definitions(&session).unwrap();
    let editor = definitions.iter().find(|d| d.id == "polypharmacy").unwrap();
    assert_eq!((editor.version, editor.published), (2, true));
    assert!(editor.text.contains("active_medications >= 10"));
    assert_eq!(
        editor.history.iter().map(|h| h.version).collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(editor.problems, std::slice::from_ref(polypharmacy));
    let builtin = definitions.iter().find(|d| d.id == "dormant").unwrap();
    assert_eq!((builtin.version, builtin.published), (1, false));
    assert_eq!(builtin.problems, std::slice::from_ref(dormant));

    // A fixed version published here (it must be newer than what is stored) takes over and
    // the warning about version 3 goes: it is superseded.
    let v4 = version(POLYPHARMACY, 4, "active_medications >= 1", None);
    careloop
        .publish_segment_draft(&session, &careloop_api::dto::SegmentDraft { text: v4 })
        .unwrap();
    let run = careloop.segment(as_of(), None, &actor("sue")).unwrap();
    assert_eq!(run.segments["polypharmacy"].members, ["meds"]);
    assert_eq!(run.warnings, std::slice::from_ref(dormant));

    // Reopened, the cache behaves the same: nothing is lost or crashes on load.
    drop(careloop);
    let careloop = Careloop::open(&config(root.path())).unwrap();
    assert_eq!(
        careloop.segment_definition_warnings().unwrap(),
        std::slice::from_ref(dormant)
    );
    // Versions received from the server are not sent back; version 4, published here, is.
    let request = careloop.sync_segment_request().unwrap().unwrap();
    let sent: Vec<_> = request
        .definitions
        .iter()
        .map(|d| (d.id.as_str(), d.version))
        .collect();
    assert_eq!(sent, [("polypharmacy", 2), ("polypharmacy", 4)]);
    drop(careloop);

    // A version stored here before today's checks existed (written to the store directly,
    // as an older Careloop did): not in force, reported, and not pushed, since the server
    // would refuse the whole request and sync would fail every round.
    let key = careloop_store::CacheKey::read_key_file(&root.path().join("key")).unwrap();
    let mut store = careloop_store::Store::open(&root.path().join("data"), &key).unwrap();
    store
        .publish_definition(&careloop_store::PublishedDefinition {
            id: "polypharmacy".into(),
            version: 5,
            body: version(
                POLYPHARMACY,
                5,
                "count(encounter class in INPATIENT_CLASS within 300000 years) >= 0",
                None,
            ),
            published_by: "sue".into(),
            published_at: "2021-03-31T10:00:00Z".into(),
        })
        .unwrap();
    drop(store);
    let mut careloop = Careloop::open(&config(root.path())).unwrap();
    let run = careloop.segment(as_of(), None, &actor("sue")).unwrap();
    assert_eq!(run.segments["polypharmacy"].members, ["meds"], "version 4");
    assert_eq!(run.warnings.len(), 2, "{:#?}", run.warnings);
    assert!(
        run.warnings[1].starts_with(
            "segment \"polypharmacy\" version 5 (published by sue at 2021-03-31T10:00:00Z) \
             cannot be evaluated here and is not used; version 4 stays in force: "
        ),
        "{}",
        run.warnings[1]
    );
    let request = careloop.sync_segment_request().unwrap().unwrap();
    assert!(
        request.definitions.iter().all(|d| d.version != 5),
        "{:?}",
        request.definitions
    );
}
