//! Shared care plans through the API on a real encrypted cache, with a fixed clock: owners
//! across roles and a partner, an overdue action reaching the lead, a monitoring rhythm that
//! asks on the right days and stops after its end date, a case review whose decisions become
//! actions, the FHIR R4 export, refusals, and the plan rebuilt from the log on reopening.

use std::path::Path;

use careloop_api::careplans::ActionInput;
use careloop_api::{
    AttemptInput, Careloop, Channel, Config, ErrorCode, NextAction, Outcome, Role, Session,
    WorklistFilter,
};
use careloop_store::KeySource;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

fn config(root: &Path) -> Config {
    use std::os::unix::fs::PermissionsExt;
    let key = root.join("key");
    std::fs::write(&key, "6c".repeat(32)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    Config {
        data_dir: root.join("data"),
        key: KeySource::KeyFile(key),
    }
}

/// "dis": discharged 2021-03-10 (a post-discharge case).
fn panel(root: &Path) -> Careloop {
    let input = root.join("input");
    std::fs::create_dir_all(&input).unwrap();
    let lines = [
        r#"{"resourceType":"Patient","id":"dis","birthDate":"1950-01-01","gender":"male","name":[{"family":"Díaz","given":["Adán"]}],"telecom":[{"system":"phone","value":"555-0142"}]}"#,
        r#"{"resourceType":"Encounter","id":"stay","status":"finished","class":{"code":"IMP"},"subject":{"reference":"Patient/dis"},"period":{"start":"2021-03-05","end":"2021-03-10"}}"#,
        r#"{"resourceType":"Condition","id":"dm","clinicalStatus":{"coding":[{"code":"active"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes mellitus type 2 (disorder)"}],"text":"Type 2 diabetes"},"subject":{"reference":"Patient/dis"},"onsetDateTime":"2015-01-01"}"#,
        r#"{"resourceType":"MedicationRequest","id":"met","status":"active","intent":"order","authoredOn":"2020-01-01","subject":{"reference":"Patient/dis"},"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"860975","display":"24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"}]}}"#,
    ];
    std::fs::write(input.join("panel.ndjson"), lines.join("\n")).unwrap();
    let mut careloop = Careloop::open(&config(root)).unwrap();
    assert!(careloop
        .import(&[input], false, &mut |_| {})
        .unwrap()
        .files_failed
        .is_empty());
    careloop
}

fn at(day: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{day}T10:00:00Z"))
        .unwrap()
        .with_timezone(&Utc)
}

fn date(day: &str) -> NaiveDate {
    day.parse().unwrap()
}

fn who(user: &str, role: Role, day: &str) -> Session {
    Session {
        user: user.into(),
        role,
        at: at(day),
    }
}

fn call(case_id: Uuid) -> AttemptInput {
    AttemptInput {
        case_id,
        channel: Channel::Phone,
        reached: false,
        message_id: None,
        answers: Default::default(),
        outcome: Outcome::Unreachable,
        next: NextAction::FollowUp {
            on: date("2021-05-10"),
        },
        contact_limit_override: None,
        note: None,
    }
}

fn kinds(careloop: &mut Careloop, session: &Session) -> Vec<(String, String, String)> {
    careloop
        .care_plan_work(session)
        .unwrap()
        .into_iter()
        .map(|i| (i.kind, i.owner, i.due))
        .collect()
}

#[test]
fn a_shared_care_plan_reaches_every_owner_the_lead_and_its_review() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = panel(root.path());
    let sue = |day: &str| who("sue", Role::Supervisor, day);
    let ana = |day: &str| who("ana", Role::Coordinator, day);
    let cleo = |day: &str| who("cleo", Role::Clinician, day);
    careloop
        .open_cases(&sue("2021-04-01"), date("2021-04-01"), None)
        .unwrap();
    let pool = careloop
        .worklist(
            &ana("2021-04-01"),
            &WorklistFilter {
                owner: Some(String::new()),
                ..Default::default()
            },
        )
        .unwrap();
    let case: Uuid = pool
        .iter()
        .find(|r| r.patient_id == "dis")
        .expect("the post-discharge case")
        .case_id
        .parse()
        .unwrap();
    careloop.claim_case(&ana("2021-04-01"), case).unwrap();

    // One shared plan per person, led by ana.
    let plan: Uuid = careloop
        .start_care_plan(&ana("2021-04-01"), case, None)
        .unwrap()
        .created
        .unwrap()
        .parse()
        .unwrap();
    let again = careloop.start_care_plan(&sue("2021-04-01"), case, Some("sue"));
    assert!(again.unwrap_err().message.contains("one shared plan"));
    // An admin may not touch it.
    let admin = who("root", Role::Admin, "2021-04-01");
    let refused = careloop.set_care_plan_domain(&admin, plan, "health", "cleo", "x");
    assert_eq!(refused.unwrap_err().code, ErrorCode::Forbidden);

    // Domains owned across roles and by a partner; an unknown domain names the known ones.
    for (domain, owner, goal) in [
        ("health", "cleo", "no readmission within 30 days"),
        ("housing", "partner:harbor", "safe bathing at home"),
        ("caregiver_support", "ana", "daughter supported as carer"),
    ] {
        careloop
            .set_care_plan_domain(&ana("2021-04-01"), plan, domain, owner, goal)
            .unwrap();
    }
    let unknown = careloop.set_care_plan_domain(&ana("2021-04-01"), plan, "astrology", "ana", "x");
    let message = unknown.unwrap_err().message;
    assert!(message.contains("behavioural_health"), "{message}");
    let add =
        |careloop: &mut Careloop, s: &Session, domain: &str, owner: &str, due: &str, text: &str| {
            careloop.add_care_plan_action(
                s,
                plan,
                &ActionInput {
                    domain: domain.into(),
                    text: text.into(),
                    owner: owner.into(),
                    due: date(due),
                },
            )
        };
    let not_on_plan = add(
        &mut careloop,
        &ana("2021-04-01"),
        "benefits",
        "ana",
        "2021-04-09",
        "x",
    );
    assert!(not_on_plan.unwrap_err().message.contains("no Benefits"));
    let med_review: Uuid = add(
        &mut careloop,
        &ana("2021-04-01"),
        "health",
        "cleo",
        "2021-04-05",
        "medication review",
    )
    .unwrap()
    .created
    .unwrap()
    .parse()
    .unwrap();
    add(
        &mut careloop,
        &ana("2021-04-01"),
        "housing",
        "partner:harbor",
        "2021-04-03",
        "bath rail fitted",
    )
    .unwrap();

    // cleo sees her action when it is due; the lead sees every owner's overdue action.
    assert_eq!(kinds(&mut careloop, &cleo("2021-04-04")), vec![]);
    assert_eq!(
        kinds(&mut careloop, &cleo("2021-04-05")),
        vec![("action_due".into(), "cleo".into(), "2021-04-05".into())]
    );
    careloop
        .close_care_plan_action(
            &cleo("2021-04-05"),
            plan,
            med_review,
            true,
            "two duplicates stopped",
        )
        .unwrap();
    assert_eq!(
        kinds(&mut careloop, &ana("2021-04-06")),
        vec![(
            "overdue_action".into(),
            "partner:harbor".into(),
            "2021-04-03".into()
        )]
    );
    let closed_twice =
        careloop.close_care_plan_action(&ana("2021-04-06"), plan, med_review, true, "");
    assert!(closed_twice.unwrap_err().message.contains("already done"));

    // Monitoring: every 7 days from 2021-04-01 until 2021-04-30, by ana.
    careloop
        .set_care_plan_monitoring(&ana("2021-04-01"), plan, 7, date("2021-04-30"), "ana")
        .unwrap();
    let monitoring = |careloop: &mut Careloop, day: &str| {
        kinds(careloop, &ana(day))
            .into_iter()
            .filter(|(k, _, _)| k == "monitoring_due")
            .map(|(_, _, due)| due)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        monitoring(&mut careloop, "2021-04-07"),
        Vec::<String>::new()
    );
    assert_eq!(monitoring(&mut careloop, "2021-04-08"), vec!["2021-04-08"]);
    careloop
        .record_attempt(&ana("2021-04-09"), call(case))
        .unwrap();
    assert_eq!(
        monitoring(&mut careloop, "2021-04-15"),
        Vec::<String>::new()
    );
    assert_eq!(monitoring(&mut careloop, "2021-04-16"), vec!["2021-04-16"]);
    careloop
        .record_attempt(&ana("2021-04-24"), call(case))
        .unwrap();
    assert_eq!(
        monitoring(&mut careloop, "2021-05-03"),
        Vec::<String>::new(),
        "the next contact would fall after the end date: the rhythm has ended"
    );

    // A case review: a supervisor or the lead schedules and records it; its decisions become
    // actions.
    let participants = [
        "ana".to_owned(),
        "cleo".to_owned(),
        "partner:harbor".to_owned(),
    ];
    let not_lead =
        careloop.schedule_case_review(&cleo("2021-04-06"), plan, date("2021-04-12"), &participants);
    assert_eq!(not_lead.unwrap_err().code, ErrorCode::Forbidden);
    let review: Uuid = careloop
        .schedule_case_review(&sue("2021-04-06"), plan, date("2021-04-12"), &participants)
        .unwrap()
        .created
        .unwrap()
        .parse()
        .unwrap();
    careloop
        .record_case_review(
            &ana("2021-04-12"),
            plan,
            review,
            "more frequent monitoring; benefits check",
            &[ActionInput {
                domain: "caregiver_support".into(),
                text: "caregiver check-in".into(),
                owner: "ana".into(),
                due: date("2021-04-19"),
            }],
        )
        .unwrap();
    let shown = careloop.care_plan(&ana("2021-04-20"), plan).unwrap();
    assert_eq!(shown.lead, "ana");
    assert_eq!(shown.domains.len(), 3);
    let from_review: Vec<_> = shown
        .actions
        .iter()
        .filter(|a| a.from_review.is_some())
        .collect();
    assert_eq!(from_review.len(), 1);
    assert!(from_review[0].overdue, "due 2021-04-19, open on 2021-04-20");
    assert!(shown.reviews[0].held);
    assert_eq!(
        careloop
            .care_plan_of(&ana("2021-04-20"), "dis")
            .unwrap()
            .unwrap()
            .plan_id,
        plan.to_string()
    );

    // A clinician reads problems and medications by name, not by code.
    let clinical = careloop
        .case_detail(&cleo("2021-04-20"), case)
        .unwrap()
        .clinical
        .unwrap();
    assert_eq!(
        clinical,
        [
            "Type 2 diabetes (since 2015-01-01)",
            "Medication: 24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"
        ]
    );

    // The case's timeline shows the plan's changes.
    let detail = careloop.case_detail(&ana("2021-04-20"), case).unwrap();
    let lines: Vec<&str> = detail.timeline.iter().map(|t| t.detail.as_str()).collect();
    assert!(
        lines.contains(&"care plan started, led by ana"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Housing owned by partner:harbor")),
        "{lines:?}"
    );

    // FHIR R4: a Bundle of the CarePlan, a Goal per domain and a Task per action.
    let bundle = careloop.care_plan_fhir(&ana("2021-04-20"), plan).unwrap();
    check_r4(&bundle);
    let resources: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .collect();
    let count = |t: &str| resources.iter().filter(|r| r["resourceType"] == t).count();
    assert_eq!((count("CarePlan"), count("Goal"), count("Task")), (1, 3, 3));

    // An ED visit after the last case review: the lead gets the alert and a proposal to
    // review the plan, until a review is scheduled after it.
    careloop
        .bring_lists_current(at("2021-04-20"), Some(&sue("2021-04-20")))
        .unwrap();
    let delta = root.path().join("delta");
    std::fs::create_dir_all(&delta).unwrap();
    std::fs::write(
        delta.join("ed.ndjson"),
        r#"{"resourceType":"Encounter","id":"ed-1","status":"finished","class":{"code":"EMER"},"subject":{"reference":"Patient/dis"},"period":{"start":"2021-04-21T02:00:00Z","end":"2021-04-21T05:00:00Z"}}"#,
    )
    .unwrap();
    assert!(careloop
        .import(&[delta], false, &mut |_| {})
        .unwrap()
        .files_failed
        .is_empty());
    let changed = careloop
        .bring_lists_current(at("2021-04-22"), Some(&sue("2021-04-22")))
        .unwrap();
    assert_eq!(changed.alerts, 1, "{changed:?}");
    let lead_sees = |careloop: &mut Careloop, day: &str| {
        careloop
            .care_plan_work(&ana(day))
            .unwrap()
            .into_iter()
            .filter(|i| i.kind == "alert" || i.kind == "review_proposed")
            .map(|i| (i.kind, i.detail))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        lead_sees(&mut careloop, "2021-04-22"),
        vec![
            (
                "review_proposed".to_owned(),
                "ED visit on 2021-04-21: schedule a multidisciplinary case review".to_owned()
            ),
            ("alert".to_owned(), "alert: ED visit".to_owned()),
        ]
    );
    careloop
        .schedule_case_review(&ana("2021-04-22"), plan, date("2021-04-26"), &participants)
        .unwrap();
    assert_eq!(
        lead_sees(&mut careloop, "2021-04-22"),
        vec![("alert".to_owned(), "alert: ED visit".to_owned())]
    );
    let shown = careloop.care_plan(&ana("2021-04-20"), plan).unwrap();

    // Reopened: the plan is rebuilt from the log as it was.
    drop(careloop);
    let mut careloop = Careloop::open(&config(root.path())).unwrap();
    assert_eq!(careloop.care_plan(&ana("2021-04-20"), plan).unwrap(), shown);
}

/// What FHIR R4 requires of the resources the export writes: required elements, codes from
/// their required value sets, ids of the id type, and references that resolve in the bundle.
fn check_r4(bundle: &Value) {
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let id_ok = |id: &str| {
        !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    };
    let mut ids = std::collections::BTreeSet::new();
    let mut references = Vec::new();
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == "reference" {
                        if let Some(r) = v.as_str() {
                            out.push(r.to_owned());
                        }
                    }
                    collect(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    for entry in bundle["entry"].as_array().unwrap() {
        let r = &entry["resource"];
        let kind = r["resourceType"].as_str().unwrap();
        let id = r["id"].as_str().unwrap();
        assert!(id_ok(id), "{kind}/{id} is not a FHIR id");
        ids.insert(format!("{kind}/{id}"));
        collect(r, &mut references);
        match kind {
            "CarePlan" => {
                assert!([
                    "draft",
                    "active",
                    "on-hold",
                    "revoked",
                    "completed",
                    "entered-in-error",
                    "unknown"
                ]
                .contains(&r["status"].as_str().unwrap()));
                assert!(["proposal", "plan", "order", "option"]
                    .contains(&r["intent"].as_str().unwrap()));
                assert!(r["subject"]["reference"]
                    .as_str()
                    .unwrap()
                    .starts_with("Patient/"));
            }
            "Goal" => {
                assert!([
                    "proposed",
                    "planned",
                    "accepted",
                    "active",
                    "on-hold",
                    "completed",
                    "cancelled",
                    "entered-in-error",
                    "rejected"
                ]
                .contains(&r["lifecycleStatus"].as_str().unwrap()));
                assert!(r["description"]["text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()));
                assert!(r["subject"]["reference"].as_str().is_some());
            }
            "Task" => {
                assert!([
                    "draft",
                    "requested",
                    "received",
                    "accepted",
                    "rejected",
                    "ready",
                    "cancelled",
                    "in-progress",
                    "on-hold",
                    "failed",
                    "completed",
                    "entered-in-error"
                ]
                .contains(&r["status"].as_str().unwrap()));
                assert!([
                    "unknown",
                    "proposal",
                    "plan",
                    "order",
                    "original-order",
                    "reflex-order",
                    "filler-order",
                    "instance-order",
                    "option"
                ]
                .contains(&r["intent"].as_str().unwrap()));
                NaiveDate::parse_from_str(
                    r["restriction"]["period"]["end"].as_str().unwrap(),
                    "%Y-%m-%d",
                )
                .unwrap();
            }
            other => panic!("unexpected {other}"),
        }
    }
    for reference in references {
        if reference.starts_with("Patient/") {
            continue;
        }
        assert!(
            ids.contains(&reference),
            "{reference} does not resolve in the bundle"
        );
    }
}
