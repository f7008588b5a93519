//! A fixture log of one week (2026-W47, Monday 16 to Sunday 22 November 2026) and its
//! history, with every metric's expected value computed by hand in the comments. The
//! working calendar is the default one: Monday to Friday, 08:00–18:00 UTC.

use std::collections::{BTreeMap, HashMap};

use careloop_ops::model::{
    Channel, CloseReason, EscalationKind, Outcome, ReferralStatus, Role, ServiceType,
};
use careloop_ops::{Attempt, NextAction, OpEvent, Policy, Recorded};
use careloop_review::{
    compute, CohortRun, Demographics, Drills, Member, Person, SegmentInfo, Settings, Week,
    WeeklyReview,
};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    format!("{s}:00Z").parse().unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Case ids: c0 … c8.
fn c(n: u128) -> Uuid {
    id(0xC000 + n)
}

struct Log {
    events: Vec<Recorded>,
    next: u128,
}

impl Log {
    fn push(&mut self, at: &str, actor: &str, role: Role, patient: &str, event: OpEvent) {
        self.next += 1;
        self.events.push(Recorded {
            id: id(self.next),
            at: t(at),
            actor: actor.to_owned(),
            role,
            patient_id: patient.to_owned(),
            event,
        });
    }

    fn open(&mut self, at: &str, patient: &str, case: Uuid, segment: &str, due: &str) {
        self.push(
            at,
            "sue",
            Role::Supervisor,
            patient,
            OpEvent::CaseOpened {
                case_id: case,
                segment_id: segment.to_owned(),
                priority: 1,
                due: t(due),
                summary: "on the list".to_owned(),
            },
        );
    }

    fn claim(&mut self, at: &str, who: &str, patient: &str, case: Uuid) {
        self.push(
            at,
            who,
            Role::Coordinator,
            patient,
            OpEvent::CaseClaimed { case_id: case },
        );
    }

    fn assign(&mut self, at: &str, to: &str, patient: &str, case: Uuid) {
        self.push(
            at,
            "sue",
            Role::Supervisor,
            patient,
            OpEvent::CaseAssigned {
                case_id: case,
                to: to.to_owned(),
            },
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn attempt(
        &mut self,
        at: &str,
        who: &str,
        role: Role,
        patient: &str,
        case: Uuid,
        channel: Channel,
        reached: bool,
        follow_up: &str,
        limit_override: Option<&str>,
    ) {
        self.next += 1;
        let attempt_id = id(0xA000 + self.next);
        self.push(
            at,
            who,
            role,
            patient,
            OpEvent::AttemptRecorded(Attempt {
                attempt_id,
                case_id: case,
                channel,
                reached,
                script_id: "care_gap_reminder".to_owned(),
                script_version: 1,
                language: "en".to_owned(),
                message_id: None,
                answers: Default::default(),
                outcome: if reached {
                    Outcome::ConfirmedStable
                } else {
                    Outcome::Unreachable
                },
                next: NextAction::FollowUp { on: d(follow_up) },
                contact_limit_override: limit_override.map(str::to_owned),
                note: None,
            }),
        );
    }
}

struct Fixture {
    people: Vec<Person>,
    segments: Vec<SegmentInfo>,
    runs: Vec<CohortRun>,
    log: Vec<Recorded>,
    evidence: HashMap<(String, String), Vec<NaiveDate>>,
    visits: HashMap<String, Vec<NaiveDate>>,
}

#[allow(clippy::too_many_arguments)]
fn person(
    id: &str,
    name: &str,
    born: &str,
    sex: &str,
    language: Option<&str>,
    payer: Option<&str>,
    race: Option<&str>,
    ethnicity: Option<&str>,
    digital_uses: usize,
) -> Person {
    Person {
        id: id.to_owned(),
        name: name.to_owned(),
        demographics: Demographics {
            birth_date: Some(d(born)),
            sex: Some(sex.to_owned()),
            language: language.map(str::to_owned),
            payer: payer.map(str::to_owned),
            race: race.map(str::to_owned),
            ethnicity: ethnicity.map(str::to_owned),
            digital_uses: vec![d("2026-11-01"); digital_uses],
        },
        in_panel: true,
    }
}

fn run(id: i64, as_of: &str, members: &[(&str, &str, &str)]) -> CohortRun {
    let members: Vec<Member> = members
        .iter()
        .map(|(s, p, placement)| Member {
            segment_id: (*s).to_owned(),
            patient_id: (*p).to_owned(),
            placement: (*placement).to_owned(),
        })
        .collect();
    let mut sizes = BTreeMap::new();
    for m in &members {
        *sizes.entry(m.segment_id.clone()).or_default() += 1;
    }
    CohortRun {
        id,
        as_of: d(as_of),
        sizes,
        members,
    }
}

const NH: Option<&str> = Some("Not Hispanic or Latino");
const HL: Option<&str> = Some("Hispanic or Latino");

fn fixture() -> Fixture {
    // Ages on Sunday 2026-11-22 in the comments.
    let mut people = vec![
        person(
            "p1",
            "Ana Alba",
            "1950-03-01",
            "female",
            Some("es"),
            Some("Medicare"),
            Some("White"),
            HL,
            7,
        ), // 76, high
        person(
            "p2",
            "Ben Bose",
            "1980-01-01",
            "male",
            Some("en"),
            Some("Medicaid"),
            Some("Black or African American"),
            NH,
            0,
        ), // 46
        person(
            "p3",
            "Cam Cruz",
            "1960-06-01",
            "female",
            Some("en"),
            Some("Medicare"),
            Some("White"),
            NH,
            2,
        ), // 66, low
        person(
            "p4",
            "Dee Diaz",
            "1955-01-01",
            "female",
            Some("en"),
            Some("Medicare"),
            Some("Asian"),
            NH,
            0,
        ), // 71
        person(
            "p5",
            "Eli Egan",
            "2000-01-01",
            "male",
            Some("es-MX"),
            Some("Medicaid"),
            Some("White"),
            HL,
            1,
        ), // 26, low
        person(
            "p6",
            "Fay Ford",
            "1990-05-05",
            "female",
            Some("en"),
            Some("Commercial"),
            Some("White"),
            NH,
            6,
        ), // 36, high
        person(
            "p7",
            "Gus Gray",
            "1945-01-01",
            "male",
            Some("en"),
            Some("Medicare"),
            Some("Black or African American"),
            NH,
            0,
        ), // 81
        person(
            "p8",
            "Hal Hunt",
            "1970-01-01",
            "male",
            None,
            None,
            None,
            None,
            0,
        ), // 56, unknowns
        person(
            "p9",
            "Ivy Ito",
            "1972-02-02",
            "female",
            Some("en"),
            Some("Commercial"),
            Some("Asian"),
            NH,
            3,
        ), // 54, low
        person(
            "p10",
            "Jo Jones",
            "1962-12-01",
            "female",
            Some("en"),
            Some("Medicare"),
            Some("White"),
            NH,
            0,
        ), // 63
        person(
            "p11",
            "Kay Kerr",
            "1940-01-01",
            "female",
            Some("en"),
            Some("Medicare"),
            Some("White"),
            NH,
            0,
        ),
    ];
    // Deceased: not in the panel's shares.
    people[10].in_panel = false;
    let segments = vec![
        SegmentInfo {
            id: "hba1c".into(),
            name: "HbA1c gap".into(),
            capacity: 4,
            care_gap: true,
        },
        SegmentInfo {
            id: "dormant".into(),
            name: "Dormant".into(),
            capacity: 2,
            care_gap: false,
        },
        SegmentInfo {
            id: "empty".into(),
            name: "Nobody".into(),
            capacity: 0,
            care_gap: true,
        },
    ];
    let runs = vec![
        run(
            1,
            "2026-11-09",
            &[
                ("hba1c", "p1", "worklist"),
                ("hba1c", "p2", "worklist"),
                ("hba1c", "p3", "overflow"),
                ("dormant", "p4", "worklist"),
                ("dormant", "p5", "worklist"),
            ],
        ),
        run(
            2,
            "2026-11-16",
            &[
                ("hba1c", "p1", "worklist"),
                ("hba1c", "p3", "worklist"),
                ("hba1c", "p6", "held_back"),
                ("hba1c", "p7", "overflow"),
                ("dormant", "p4", "worklist"),
                ("dormant", "p8", "worklist"),
            ],
        ),
        // Next week's: invisible.
        run(3, "2026-11-23", &[("dormant", "p9", "worklist")]),
    ];

    use Channel::*;
    use Role::{Clinician, Coordinator, Supervisor};
    let mut log = Log {
        events: Vec::new(),
        next: 0,
    };
    // History. c0: p10, a year ago; c1: p1 in July; c2: p3 in October.
    log.open("2025-09-01T09:00", "p10", c(0), "hba1c", "2025-09-15T18:00");
    log.claim("2025-09-01T10:00", "ana", "p10", c(0));
    log.attempt(
        "2025-09-02T10:00",
        "ana",
        Coordinator,
        "p10",
        c(0),
        Phone,
        true,
        "2025-09-09",
        None,
    );
    log.push(
        "2025-09-10T10:00",
        "ana",
        Coordinator,
        "p10",
        OpEvent::CaseClosed {
            case_id: c(0),
            reason: CloseReason::Stable,
            note: None,
        },
    );
    log.open("2026-07-01T09:00", "p1", c(1), "hba1c", "2026-07-15T18:00");
    log.claim("2026-07-01T10:00", "ana", "p1", c(1));
    log.attempt(
        "2026-07-02T10:00",
        "ana",
        Coordinator,
        "p1",
        c(1),
        Phone,
        true,
        "2026-07-20",
        None,
    );
    log.push(
        "2026-08-20T10:00",
        "ana",
        Coordinator,
        "p1",
        OpEvent::CaseClosed {
            case_id: c(1),
            reason: CloseReason::GapClosed,
            note: None,
        },
    );
    log.open("2026-10-01T09:00", "p3", c(2), "hba1c", "2026-10-15T18:00");
    log.claim("2026-10-01T10:00", "ana", "p3", c(2));
    log.attempt(
        "2026-10-05T10:00",
        "ana",
        Coordinator,
        "p3",
        c(2),
        Sms,
        false,
        "2026-10-12",
        None,
    );
    // R2: home care, no answer (due Tuesday 13 October 18:00).
    log.push(
        "2026-10-06T10:00",
        "ana",
        Coordinator,
        "p3",
        OpEvent::ReferralSent {
            referral_id: id(0xF2),
            case_id: c(2),
            service: ServiceType::HomeCare,
            note: String::new(),
            partner: None,
        },
    );
    // Last week: c3 for p2.
    log.open("2026-11-09T08:00", "p2", c(3), "hba1c", "2026-11-23T12:00");
    log.claim("2026-11-09T09:00", "ana", "p2", c(3));

    // The week.
    log.open(
        "2026-11-16T08:00",
        "p4",
        c(4),
        "dormant",
        "2026-11-20T17:00",
    );
    log.open(
        "2026-11-16T08:00",
        "p8",
        c(8),
        "dormant",
        "2026-11-18T17:00",
    );
    log.open("2026-11-16T09:00", "p7", c(7), "hba1c", "2026-11-18T17:00");
    log.claim("2026-11-16T09:30", "ana", "p4", c(4));
    log.assign("2026-11-16T09:40", "ben", "p8", c(8));
    log.assign("2026-11-16T09:45", "ben", "p7", c(7));
    // R3: emergency assistance (1 working day: due Tuesday 18:00), accepted Wednesday 10:00.
    log.push(
        "2026-11-16T10:00",
        "ana",
        Coordinator,
        "p4",
        OpEvent::ReferralSent {
            referral_id: id(0xF3),
            case_id: c(4),
            service: ServiceType::EmergencyAssistance,
            note: String::new(),
            partner: None,
        },
    );
    log.attempt(
        "2026-11-17T09:00",
        "ana",
        Coordinator,
        "p4",
        c(4),
        Phone,
        true,
        "2026-11-18",
        None,
    );
    log.push(
        "2026-11-17T09:30",
        "ana",
        Coordinator,
        "p4",
        OpEvent::CallbackRequested {
            callback_id: id(0xB1),
            case_id: c(4),
            reason: "dizzy".into(),
            due: t("2026-11-18T09:30"),
        },
    );
    log.attempt(
        "2026-11-17T10:00",
        "ana",
        Coordinator,
        "p2",
        c(3),
        Phone,
        true,
        "2026-11-30",
        None,
    );
    // R1: meals (5 working days: due Tuesday 24 November 18:00), accepted in 48 h.
    log.push(
        "2026-11-17T11:00",
        "ana",
        Coordinator,
        "p2",
        OpEvent::ReferralSent {
            referral_id: id(0xF1),
            case_id: c(3),
            service: ServiceType::Meals,
            note: String::new(),
            partner: None,
        },
    );
    log.push(
        "2026-11-17T15:30",
        "cleo",
        Clinician,
        "p4",
        OpEvent::CallbackDocumented {
            callback_id: id(0xB1),
            case_id: c(4),
            clinical_outcome: "fine".into(),
            next_step: "none".into(),
            decision_support_reviewed: true,
        },
    );
    log.attempt(
        "2026-11-18T09:00",
        "ana",
        Coordinator,
        "p4",
        c(4),
        Phone,
        false,
        "2026-11-19",
        None,
    );
    log.push(
        "2026-11-18T10:00",
        "ana",
        Coordinator,
        "p4",
        OpEvent::ReferralUpdated {
            referral_id: id(0xF3),
            case_id: c(4),
            status: ReferralStatus::Accepted,
            note: String::new(),
            on: None,
        },
    );
    // E1: social crisis (coordinator, 4 working hours: due 14:00), acknowledged in 2 h.
    log.push(
        "2026-11-18T10:00",
        "ana",
        Coordinator,
        "p2",
        OpEvent::EscalationRaised {
            escalation_id: id(0xE1),
            case_id: c(3),
            kind: EscalationKind::SocialCrisis,
            note: String::new(),
        },
    );
    log.push(
        "2026-11-18T12:00",
        "ana",
        Coordinator,
        "p2",
        OpEvent::EscalationAcknowledged {
            escalation_id: id(0xE1),
            case_id: c(3),
            note: String::new(),
        },
    );
    log.attempt(
        "2026-11-19T09:00",
        "ana",
        Coordinator,
        "p4",
        c(4),
        Sms,
        false,
        "2026-11-20",
        None,
    );
    log.attempt(
        "2026-11-19T10:00",
        "ben",
        Coordinator,
        "p7",
        c(7),
        Letter,
        false,
        "2026-11-20",
        None,
    );
    log.push(
        "2026-11-19T11:00",
        "ana",
        Coordinator,
        "p2",
        OpEvent::ReferralUpdated {
            referral_id: id(0xF1),
            case_id: c(3),
            status: ReferralStatus::Accepted,
            note: String::new(),
            on: None,
        },
    );
    log.attempt(
        "2026-11-20T09:00",
        "sue",
        Supervisor,
        "p4",
        c(4),
        Phone,
        true,
        "2026-11-27",
        Some("family asked for daily calls"),
    );
    // E2: clinical concern (supervisor, 2 working hours: due Friday 17:00), never acknowledged.
    log.push(
        "2026-11-20T15:00",
        "sue",
        Supervisor,
        "p4",
        OpEvent::EscalationRaised {
            escalation_id: id(0xE2),
            case_id: c(4),
            kind: EscalationKind::ClinicalConcern,
            note: String::new(),
        },
    );
    // CB2: waiting, due after the week.
    log.push(
        "2026-11-20T16:00",
        "ana",
        Coordinator,
        "p2",
        OpEvent::CallbackRequested {
            callback_id: id(0xB2),
            case_id: c(3),
            reason: "chest pain".into(),
            due: t("2026-11-23T16:00"),
        },
    );
    // After the week: ignored.
    log.attempt(
        "2026-11-24T10:00",
        "ana",
        Coordinator,
        "p3",
        c(2),
        Phone,
        true,
        "2026-12-01",
        None,
    );

    let key = |p: &str, s: &str| (p.to_owned(), s.to_owned());
    let evidence = HashMap::from([
        (key("p1", "hba1c"), vec![d("2026-08-15")]), // day 44 after 2 July
        (key("p3", "hba1c"), vec![d("2026-10-05")]), // day 0
        (key("p2", "hba1c"), vec![d("2026-11-25")]), // after the week: invisible
    ]);
    let visits = HashMap::from([
        ("p10".to_owned(), vec![d("2026-03-01")]),
        ("p1".to_owned(), vec![d("2026-09-01")]),
        ("p3".to_owned(), vec![d("2026-10-01")]), // before the attempt
        ("p2".to_owned(), vec![d("2026-11-25")]), // after the week
        ("p4".to_owned(), vec![d("2026-11-20")]),
    ]);
    Fixture {
        people,
        segments,
        runs,
        log: log.events,
        evidence,
        visits,
    }
}

/// A single writer's log as the fold reads it.
fn entries(log: &[Recorded]) -> Vec<careloop_ops::sync::LogEntry> {
    log.iter().cloned().map(Into::into).collect()
}

fn review_of(f: &Fixture) -> (WeeklyReview, Drills) {
    review_with_lists(f, &[], None)
}

fn review_with_lists(
    f: &Fixture,
    list_changes: &[careloop_review::ListChange],
    lists_since: Option<NaiveDate>,
) -> (WeeklyReview, Drills) {
    let week = Week::parse("2026-W47").unwrap();
    let (current, previous) = careloop_review::compute::select_runs(&f.runs, week);
    let find = |id: Option<i64>| id.and_then(|id| f.runs.iter().find(|r| r.id == id));
    let policy = Policy::default();
    compute(&careloop_review::Input {
        week,
        people: &f.people,
        segments: &f.segments,
        runs: &f.runs,
        current: find(current),
        previous: find(previous),
        log: &entries(&f.log),
        policy: &policy,
        evidence: &f.evidence,
        visits: &f.visits,
        list_changes,
        lists_since,
        settings: Settings {
            equity_threshold: 1.25,
            min_expected: 1.5,
        },
    })
    .unwrap()
}

/// Once the live lists keep a record, a week's entries and exits are what they recorded in
/// it (not the difference of two runs); a week that ended before they began still compares
/// the runs.
#[test]
fn entries_and_exits_come_from_the_live_lists_once_they_keep_a_record() {
    let change = |day: &str, patient: &str, entered: bool| careloop_review::ListChange {
        day: d(day),
        segment_id: "hba1c".into(),
        patient_id: patient.into(),
        entered,
        reason: if entered { "entered" } else { "gap_closed" }.into(),
    };
    let changes = [
        change("2026-11-15", "p1", true), // the Sunday before: another week
        change("2026-11-17", "p2", true),
        change("2026-11-18", "p2", false),
        change("2026-11-19", "p8", false),
        change("2026-11-20", "p8", false), // once per direction
        change("2026-11-23", "p6", true),  // next week
    ];
    let f = fixture();
    let (r, drills) = review_with_lists(&f, &changes, Some(d("2026-11-01")));
    let hba1c = &r.segments[0];
    assert_eq!(names(&hba1c.entered), ["Ben Bose"]);
    let exited: Vec<&str> = hba1c.exited.iter().map(|p| p.patient_id.as_str()).collect();
    assert_eq!(exited, ["p2", "p8"]);
    assert_eq!(drills.rows("exited:hba1c").unwrap().len(), 2);
    // The other segments recorded nothing this week.
    assert!(r.segments[1].entered.is_empty() && r.segments[1].exited.is_empty());
    // Lists first kept after the week: the runs are compared, as without them.
    let (runs, _) = review_with_lists(&f, &changes, Some(d("2026-11-23")));
    assert_eq!(names(&runs.segments[0].entered), ["Fay Ford", "Gus Gray"]);
    assert_eq!(runs, review_of(&f).0);
}

fn names(people: &[careloop_review::PersonRef]) -> Vec<&str> {
    people.iter().map(|p| p.name.as_str()).collect()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn cohorts_compare_this_weeks_run_with_the_last_reviews() {
    let (r, drills) = review_of(&fixture());
    assert_eq!(r.week, "2026-W47");
    assert_eq!(
        (r.starts.as_str(), r.ends.as_str()),
        ("2026-11-16", "2026-11-22")
    );
    assert_eq!(r.as_of, "2026-11-23T00:00:00Z");
    assert_eq!(r.run.as_ref().unwrap().id, 2);
    assert_eq!(r.previous_run.as_ref().unwrap().id, 1);

    let hba1c = &r.segments[0];
    assert_eq!(hba1c.size, 4);
    assert_eq!(names(&hba1c.entered), ["Fay Ford", "Gus Gray"]);
    assert_eq!(names(&hba1c.exited), ["Ben Bose"]);
    assert_eq!((hba1c.worklist, hba1c.overflow, hba1c.held_back), (2, 1, 1));
    // Contacted in the week: p2 (c3) and p7 (c7); capacity 4.
    assert_eq!(hba1c.contacted, 2);
    assert!(close(hba1c.capacity_use, 0.5));
    // Not closed: c2, c3, c7.
    assert_eq!(hba1c.open_cases, 3);

    let dormant = &r.segments[1];
    assert_eq!(dormant.size, 2);
    assert_eq!(names(&dormant.entered), ["Hal Hunt"]);
    assert_eq!(names(&dormant.exited), ["Eli Egan"]);
    assert_eq!((dormant.contacted, dormant.open_cases), (1, 2));
    assert!(close(dormant.capacity_use, 0.5));

    // A segment with no one and no capacity: zero denominators give no rate.
    let empty = &r.segments[2];
    assert_eq!(
        (empty.size, empty.contacted, empty.capacity_use),
        (0, 0, None)
    );

    // The trend has the two runs dated up to Sunday, not next week's.
    let trend: Vec<(i64, u32, u32)> = r
        .trend
        .iter()
        .map(|t| (t.run_id, t.sizes[0].count, t.sizes[1].count))
        .collect();
    assert_eq!(trend, [(1, 3, 2), (2, 4, 2)]);

    // Drill-downs: the entered people, with their case in the segment when they have one.
    let rows = drills.rows(&hba1c.drill).unwrap();
    assert_eq!(rows.len(), 4);
    let gus = rows.iter().find(|r| r.name == "Gus Gray").unwrap();
    assert_eq!(gus.case_id, Some(c(7).to_string()));
    assert_eq!(gus.owner.as_deref(), Some("ben"));
    assert_eq!(gus.status.as_deref(), Some("in_progress"));
    let entered = drills.rows("entered:hba1c").unwrap();
    assert_eq!(
        entered.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["Fay Ford", "Gus Gray"]
    );
    assert!(drills.rows("no such key").is_err());
}

#[test]
fn pending_work_at_the_end_of_the_week() {
    let (r, _) = review_of(&fixture());
    let p = &r.pending;
    // c2: follow-up of 12 October passed; c8: never attempted, due Wednesday; c7: follow-up
    // of Friday passed. c3 and c4 have follow-ups after the week; c0 and c1 are closed.
    let overdue: Vec<&str> = p.overdue_cases.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(overdue, ["Cam Cruz", "Hal Hunt", "Gus Gray"]);
    // E2 climbed to the service lead at Friday 17:00 (due Monday 09:00): waiting, not late.
    assert_eq!(p.unacknowledged_escalations.len(), 1);
    let e2 = &p.unacknowledged_escalations[0];
    assert_eq!(e2.id, id(0xE2).to_string());
    assert_eq!(e2.due.as_deref(), Some("2026-11-23T09:00:00Z"));
    assert!(!e2.overdue);
    assert_eq!(e2.detail, "clinical_concern with the service lead");
    // R2 (no answer since 6 October; due at the end of the 5th working day) and R3 (accepted
    // Wednesday, not started by the end of Thursday).
    let referrals: Vec<(&str, Option<&str>)> = p
        .overdue_referrals
        .iter()
        .map(|i| (i.id.as_str(), i.due.as_deref()))
        .collect();
    assert_eq!(
        referrals,
        [
            (id(0xF2).to_string().as_str(), Some("2026-10-13T18:00:00Z")),
            (id(0xF3).to_string().as_str(), Some("2026-11-19T18:00:00Z")),
        ]
    );
    assert_eq!(p.waiting_callbacks.len(), 1);
    assert_eq!(p.waiting_callbacks[0].id, id(0xB2).to_string());
    assert!(!p.waiting_callbacks[0].overdue);
}

#[test]
fn caseload_per_coordinator() {
    let (r, drills) = review_of(&fixture());
    let rows: Vec<(&str, u32, u32, u32, u32)> = r
        .caseload
        .iter()
        .map(|c| {
            (
                c.user.as_str(),
                c.open_cases,
                c.overdue,
                c.attempts,
                c.reached,
            )
        })
        .collect();
    // ana owns c2, c3, c4 (c2 overdue) and documented 4 attempts in the week (2 reached);
    // ben owns c7, c8 (both overdue) and documented 1. sue is a supervisor and owns nothing.
    assert_eq!(rows, [("ana", 3, 1, 4, 2), ("ben", 2, 2, 1, 0)]);
    assert!(close(r.caseload[0].use_share, 3.0 / 40.0));
    assert_eq!(drills.rows("caseload:ben").unwrap().len(), 2);
}

#[test]
fn equity_against_the_panel() {
    let (r, drills) = review_of(&fixture());
    let e = &r.equity;
    // p11 is deceased: 10 people in the panel.
    assert_eq!(e.panel_size, 10);
    let row = |segment: &str, population: &str, dimension: &str, group: &str| {
        e.rows
            .iter()
            .find(|r| {
                r.segment_id == segment
                    && r.population == population
                    && r.dimension == dimension
                    && r.group == group
            })
            .unwrap_or_else(|| panic!("no row {segment} {population} {dimension} {group}"))
    };
    // hba1c cohort: p1, p3, p6 (women), p7 (man). Panel: 6 women, 4 men.
    let women = row("hba1c", "cohort", "sex", "female");
    assert_eq!(
        (women.count, women.population_size, women.panel_count),
        (3, 4, 6)
    );
    assert!(close(women.share, 0.75) && close(women.panel_share, 0.6));
    assert!((women.expected - 2.4).abs() < 1e-9);
    assert!(close(women.ratio, 1.25));
    assert_eq!(women.flag, "over");
    let men = row("hba1c", "cohort", "sex", "male");
    assert!((men.expected - 1.6).abs() < 1e-9);
    assert!(close(men.ratio, 0.625));
    assert_eq!(men.flag, "under");
    // An empty group is listed (0 people), but 1.2 expected is too few to flag.
    let fifties = row("hba1c", "cohort", "age_band", "50-64");
    assert_eq!((fifties.count, fifties.panel_count), (0, 3));
    assert!(close(fifties.ratio, 0.0));
    assert_eq!(fifties.flag, "");
    // Age bands at Sunday: p1 76 and p7 81 are 75+.
    assert_eq!(row("hba1c", "cohort", "age_band", "75+").count, 2);
    // Unknowns are a group: p8 has no language, payer or race.
    let unknown = row("dormant", "cohort", "language", "unknown");
    assert_eq!((unknown.count, unknown.panel_count), (1, 1));
    assert_eq!(row("dormant", "cohort", "payer", "unknown").count, 1);
    // "es-MX" counts as "es": p1 and p5.
    assert_eq!(row("hba1c", "cohort", "language", "es").panel_count, 2);
    // Digital tiers: high p1, p6; low p3, p5, p9; none the other five.
    assert_eq!(
        row("hba1c", "cohort", "digital_tier", "high").panel_count,
        2
    );
    assert_eq!(row("hba1c", "cohort", "digital_tier", "low").panel_count, 3);
    assert_eq!(
        row("hba1c", "cohort", "digital_tier", "none").panel_count,
        5
    );
    assert_eq!(row("hba1c", "cohort", "digital_tier", "high").count, 2);
    // Everyone contacted in the week: p2, p4, p7.
    let contacted = row("all", "contacted", "race", "Black or African American");
    assert_eq!(
        (
            contacted.count,
            contacted.population_size,
            contacted.panel_count
        ),
        (2, 3, 2)
    );
    assert!(close(contacted.ratio, 2.0 / 0.6));
    assert_eq!(contacted.flag, "");
    // The empty segment: size 0, no shares, no ratios, no flags.
    let nobody = row("empty", "cohort", "sex", "female");
    assert_eq!(
        (
            nobody.count,
            nobody.population_size,
            nobody.share,
            nobody.ratio
        ),
        (0, 0, None, None)
    );
    // Drill: the women of the hba1c cohort.
    let rows = drills.rows(&women.drill).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["Ana Alba", "Cam Cruz", "Fay Ford"]
    );
}

#[test]
fn over_contact() {
    let (r, drills) = review_of(&fixture());
    let c = &r.contacts;
    assert_eq!(c.limit, 3);
    let buckets = |b: &[careloop_review::Bucket]| {
        b.iter()
            .map(|b| (b.contacts.clone(), b.people))
            .collect::<Vec<_>>()
    };
    // p2 1, p7 1, p4 4 in the week; the 28 days add nothing (the October attempt is older).
    let expected: Vec<(String, u32)> = [("1", 2), ("2", 0), ("3", 0), ("4", 1), ("5+", 0)]
        .map(|(k, v)| (k.to_owned(), v))
        .into();
    assert_eq!(buckets(&c.per_week), expected);
    assert_eq!(buckets(&c.per_month), expected);
    assert_eq!(c.above_limit.len(), 1);
    assert_eq!(
        (
            c.above_limit[0].name.as_str(),
            c.above_limit[0].contacts_in_week,
            c.above_limit[0].most_in_7_days
        ),
        ("Dee Diaz", 4, 4)
    );
    let dee = drills.rows(&c.above_limit[0].drill).unwrap();
    assert_eq!(dee.len(), 1, "four contacts, one case");
    assert_eq!(dee[0].case_id, Some(crate::c(4).to_string()));
    assert_eq!(c.overrides.len(), 1);
    assert_eq!(
        (c.overrides[0].by.as_str(), c.overrides[0].role.as_str()),
        ("sue", "supervisor")
    );
    assert_eq!(c.overrides[0].reason, "family asked for daily calls");
    assert_eq!(c.overrides_by_user.len(), 1);
    assert_eq!(
        (
            c.overrides_by_user[0].user.as_str(),
            c.overrides_by_user[0].count
        ),
        ("sue", 1)
    );
    assert_eq!(
        drills.rows(&c.per_week[3].drill).unwrap()[0].name,
        "Dee Diaz"
    );
}

#[test]
fn care_gap_closure() {
    let (r, drills) = review_of(&fixture());
    // Only care-gap segments: hba1c and the empty one.
    assert_eq!(r.closure.len(), 2);
    let h = &r.closure[0];
    // First attempts: c0 2025-09-02, c1 2026-07-02, c2 2026-10-05, c3 2026-11-17, c7 2026-11-19.
    assert_eq!(h.outreached, 5);
    let cells: Vec<(u32, u32, u32)> = h
        .horizons
        .iter()
        .map(|c| (c.days, c.eligible, c.closed))
        .collect();
    // 30 days: windows ended for c0, c1, c2; closed c2 (evidence on day 0), not c1 (day 44).
    // 60: c0, c1; closed c1. 90: c0, c1; closed c1.
    assert_eq!(cells, [(30, 3, 1), (60, 2, 1), (90, 2, 1)]);
    assert!(close(h.horizons[0].rate, 1.0 / 3.0));
    assert!(close(h.horizons[1].rate, 0.5));
    // c3's evidence is dated after the week: not seen.
    assert_eq!(h.closed_so_far, 2);
    let closed_30 = drills.rows(&h.horizons[0].drill).unwrap();
    assert_eq!(closed_30.len(), 1);
    assert_eq!(closed_30[0].name, "Cam Cruz");
    // The empty segment: no cases, no rates.
    assert_eq!(r.closure[1].outreached, 0);
    assert!(r.closure[1]
        .horizons
        .iter()
        .all(|c| c.eligible == 0 && c.rate.is_none()));
    // Kaplan–Meier: day 0, 1 of 5 at risk closes (0.2); day 44, 1 of 2 at risk (c1, c0)
    // closes: 1 - 0.8 × 0.5 = 0.6.
    let curve: Vec<(u32, f64)> = r
        .closure_curve
        .iter()
        .filter(|p| p.segment_id == "hba1c")
        .map(|p| (p.day, p.closed_share))
        .collect();
    assert_eq!(curve.len(), 19);
    for (day, share) in curve {
        let expected = if day < 44 { 0.2 } else { 0.6 };
        assert!((share - expected).abs() < 1e-9, "day {day}: {share}");
    }
    assert!(r.closure_curve.iter().all(|p| p.segment_id != "empty"));
}

#[test]
fn response_rates_by_channel_and_segment() {
    let (r, _) = review_of(&fixture());
    let channel = |k: &str| r.response_by_channel.iter().find(|x| x.key == k).unwrap();
    let phone = channel("phone");
    // Week: ana p4 (reached), ana p2 (reached), ana p4 (not), sue p4 (reached).
    assert_eq!((phone.attempts_week, phone.reached_week), (4, 3));
    assert!(close(phone.rate_week, 0.75));
    // To date: + c0 and c1 in 2025/2026, both reached. The attempt after the week is not seen.
    assert_eq!((phone.attempts_to_date, phone.reached_to_date), (6, 5));
    let sms = channel("sms");
    assert_eq!(
        (sms.attempts_week, sms.reached_week, sms.attempts_to_date),
        (1, 0, 2)
    );
    assert!(close(sms.rate_week, 0.0));
    let portal = channel("portal");
    assert_eq!(
        (
            portal.attempts_to_date,
            portal.rate_week,
            portal.rate_to_date
        ),
        (0, None, None)
    );
    assert_eq!(r.response_by_channel.len(), Channel::ALL.len());
    let segment = |k: &str| r.response_by_segment.iter().find(|x| x.key == k).unwrap();
    let h = segment("hba1c");
    assert_eq!(
        (
            h.attempts_week,
            h.reached_week,
            h.attempts_to_date,
            h.reached_to_date
        ),
        (2, 1, 5, 3)
    );
    // p4: phone reached, phone not, sms not, phone reached.
    let dm = segment("dormant");
    assert_eq!((dm.attempts_week, dm.reached_week), (4, 2));
    assert_eq!(segment("empty").rate_to_date, None);
}

#[test]
fn retention_after_the_first_attempt() {
    let (r, _) = review_of(&fixture());
    let h = &r.retention[0];
    // p10 (2025-09-02) is the only one whose year has passed; visit 2026-03-01: retained.
    // So far: p10 and p1 (visit 2026-09-01); p3's visit is before the attempt, p2's after
    // the week.
    assert_eq!(
        (
            h.contacted,
            h.window_complete,
            h.retained,
            h.retained_so_far
        ),
        (5, 1, 1, 2)
    );
    assert!(close(h.rate, 1.0));
    let dm = &r.retention[1];
    assert_eq!(
        (
            dm.contacted,
            dm.window_complete,
            dm.retained_so_far,
            dm.rate
        ),
        (1, 0, 1, None)
    );
    assert_eq!((r.retention[2].contacted, r.retention[2].rate), (0, None));
}

#[test]
fn timeliness_of_clocks_started_in_the_week() {
    let (r, _) = review_of(&fixture());
    let m = |k: &str| r.timeliness.iter().find(|x| x.measure == k).unwrap();
    // c4: 25 h (due Friday: in time); c7: 73 h (due Wednesday: late); c8: never, overdue.
    let first = m("first_attempt");
    assert_eq!(
        (
            first.started,
            first.answered,
            first.within_deadline,
            first.overdue
        ),
        (3, 2, 1, 1)
    );
    assert_eq!(
        (first.median_hours, first.p90_hours),
        (Some(49.0), Some(73.0))
    );
    assert!(close(first.rate_within, 1.0 / 3.0));
    // R3 (sent Monday 10:00, due Tuesday 18:00, accepted after 48 h) and R1 (due 24
    // November, accepted after 48 h). R2 started in October: not counted.
    let referral = m("referral_response");
    assert_eq!(
        (
            referral.started,
            referral.answered,
            referral.within_deadline
        ),
        (2, 2, 1)
    );
    assert_eq!(
        (referral.median_hours, referral.p90_hours),
        (Some(48.0), Some(48.0))
    );
    assert!(close(referral.rate_within, 0.5));
    // E1 acknowledged in 2 h (due 14:00); E2 not, due Friday 17:00: overdue.
    let ack = m("escalation_ack");
    assert_eq!(
        (ack.started, ack.answered, ack.within_deadline, ack.overdue),
        (2, 1, 1, 1)
    );
    assert_eq!(ack.median_hours, Some(2.0));
    assert!(close(ack.rate_within, 0.5));
    // CB1 documented in 6 h (due next day); CB2 still running and not yet due: left out.
    let callback = m("callback");
    assert_eq!(
        (
            callback.started,
            callback.answered,
            callback.within_deadline,
            callback.overdue
        ),
        (2, 1, 1, 0)
    );
    assert_eq!(callback.median_hours, Some(6.0));
    assert!(close(callback.rate_within, 1.0));
}

#[test]
fn an_empty_log_and_history_give_empty_tables_not_errors() {
    let f = fixture();
    let week = Week::parse("2026-W47").unwrap();
    let policy = Policy::default();
    let (r, _) = compute(&careloop_review::Input {
        week,
        people: &f.people,
        segments: &f.segments,
        runs: &[],
        current: None,
        previous: None,
        log: &[],
        policy: &policy,
        evidence: &HashMap::new(),
        visits: &HashMap::new(),
        list_changes: &[],
        lists_since: None,
        settings: Settings::default(),
    })
    .unwrap();
    assert!(r.run.is_none() && r.trend.is_empty());
    assert!(r
        .segments
        .iter()
        .all(|s| s.size == 0 && s.entered.is_empty()));
    assert!(r.caseload.is_empty());
    assert!(r
        .timeliness
        .iter()
        .all(|t| t.started == 0 && t.rate_within.is_none() && t.median_hours.is_none()));
    assert!(r.contacts.per_week.iter().all(|b| b.people == 0));
    assert!(r.closure_curve.is_empty());
}

#[test]
fn an_event_that_does_not_fold_is_superseded_and_counts_nowhere_else() {
    let f = fixture();
    let (before, _) = review_of(&f);
    assert_eq!(before.pending.superseded_events, 0);
    // A second claim of a claimed case, and a claim of a case never opened, as a multi-writer
    // log holds them (each kept, each changing nothing).
    let mut g = fixture();
    let claimed = g
        .log
        .iter()
        .find_map(|r| match &r.event {
            OpEvent::CaseClaimed { case_id } => Some((*case_id, r.patient_id.clone(), r.at)),
            _ => None,
        })
        .expect("the fixture claims a case");
    for (n, case_id) in [claimed.0, id(0xDEAD)].into_iter().enumerate() {
        g.log.push(Recorded {
            id: id(0xBAD0 + n as u128),
            at: claimed.2 + chrono::Duration::minutes(1),
            actor: "ben".into(),
            role: Role::Coordinator,
            patient_id: claimed.1.clone(),
            event: OpEvent::CaseClaimed { case_id },
        });
    }
    let (after, _) = review_of(&g);
    assert_eq!(after.pending.superseded_events, 2);
    // Everything else is as without them.
    let mut same = after.clone();
    same.pending.superseded_events = 0;
    assert_eq!(same, before);
}

#[test]
fn csv_tables_are_written_one_file_each() {
    let (r, _) = review_of(&fixture());
    let dir = tempfile::tempdir().unwrap();
    let files = careloop_review::export::write_csv_dir(&r, dir.path()).unwrap();
    let tables = careloop_review::export::tables(&r);
    assert_eq!(files.len(), tables.len());
    let closure = std::fs::read_to_string(dir.path().join("2026-W47-closure.csv")).unwrap();
    assert_eq!(
        closure.lines().nth(1).unwrap(),
        "hba1c,5,3,1,0.333,2,1,0.500,2,1,0.500,2,0"
    );
    // A zero denominator is an empty cell, not 0.
    assert_eq!(
        closure.lines().nth(2).unwrap(),
        "empty,0,0,0,,0,0,,0,0,,0,0"
    );
    let segments = std::fs::read_to_string(dir.path().join("2026-W47-segments.csv")).unwrap();
    assert!(segments.contains("\"Fay Ford; Gus Gray\"") || segments.contains("Fay Ford; Gus Gray"));
    // No partial files are left behind.
    assert!(std::fs::read_dir(dir.path())
        .unwrap()
        .all(|e| e.unwrap().path().extension().unwrap() == "csv"));
}

/// Every table of the fixture's review, as CSV, parses back with a strict reader (every row
/// as long as the header) to exactly its cells.
#[test]
fn every_csv_table_parses_back_to_its_cells() {
    let (r, _) = review_of(&fixture());
    for table in careloop_review::export::tables(&r) {
        let text = careloop_review::export::csv(&table);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(Into::into).collect();
        assert_eq!(header, table.columns, "{}", table.name);
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(Into::into).collect())
            .collect();
        assert_eq!(rows, table.rows, "{}", table.name);
    }
}

/// Issue 18: whatever order the server gives several workstations' events (each
/// workstation's own in the order it recorded them), the review computes, and equals the
/// review of only the events that took effect, folded once: what was set aside changes
/// nothing but the superseded count.
mod any_server_order {
    use super::*;
    use careloop_ops::sync::{Fold, LogEntry};
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};

    /// Another workstation's events about the fixture's cases: claims of claimed cases,
    /// closings of closed ones, claims of cases never opened.
    fn rivals(log: &[Recorded], count: usize, rng: &mut rand_chacha::ChaCha8Rng) -> Vec<Recorded> {
        let targets: Vec<&Recorded> = log
            .iter()
            .filter(|r| {
                matches!(
                    r.event,
                    OpEvent::CaseClaimed { .. } | OpEvent::CaseClosed { .. }
                )
            })
            .collect();
        (0..count)
            .map(|n| {
                let base = targets[rng.gen_range(0..targets.len())];
                let event = match (&base.event, rng.gen_range(0..3)) {
                    (_, 0) => OpEvent::CaseClaimed {
                        case_id: id(0xF000 + n as u128),
                    },
                    (OpEvent::CaseClosed { case_id, .. }, _) => OpEvent::CaseClosed {
                        case_id: *case_id,
                        reason: CloseReason::Stable,
                        note: None,
                    },
                    (e, _) => OpEvent::CaseClaimed {
                        case_id: e.case_id(),
                    },
                };
                Recorded {
                    id: id(0xE000 + n as u128),
                    at: base.at + chrono::Duration::minutes(1),
                    actor: "ben".into(),
                    role: Role::Coordinator,
                    patient_id: base.patient_id.clone(),
                    event,
                }
            })
            .collect()
    }

    fn review(f: &Fixture, log: &[LogEntry]) -> WeeklyReview {
        let policy = Policy::default();
        let (current, previous) =
            careloop_review::compute::select_runs(&f.runs, Week::parse("2026-W47").unwrap());
        let run = |id: Option<i64>| id.and_then(|id| f.runs.iter().find(|r| r.id == id));
        compute(&careloop_review::Input {
            week: Week::parse("2026-W47").unwrap(),
            people: &f.people,
            segments: &f.segments,
            runs: &f.runs,
            current: run(current),
            previous: run(previous),
            log,
            policy: &policy,
            evidence: &f.evidence,
            visits: &f.visits,
            list_changes: &[],
            lists_since: None,
            settings: Settings::default(),
        })
        .expect("a review computes whatever the order")
        .0
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn the_review_of_any_interleaving_equals_the_review_of_what_took_effect(
            seed in any::<u64>(),
            count in 1usize..8,
        ) {
            let f = fixture();
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let theirs = rivals(&f.log, count, &mut rng);
            // Interleave the two workstations' streams, each in its own order.
            let (mut a, mut b) = (f.log.iter().peekable(), theirs.iter().peekable());
            let mut order: Vec<LogEntry> = Vec::new();
            while a.peek().is_some() || b.peek().is_some() {
                let from_a = b.peek().is_none() || (a.peek().is_some() && rng.gen_bool(0.7));
                let next = if from_a { a.next() } else { b.next() };
                order.push(next.expect("peeked").clone().into());
            }
            let all = review(&f, &order);
            // The same log folded once; only what took effect, folded again.
            let mut state = careloop_ops::OpsState::default();
            let mut fold = Fold::default();
            let policy = Policy::default();
            let end = Week::parse("2026-W47").unwrap().end();
            let took_effect: Vec<LogEntry> = order
                .iter()
                .filter(|e| e.at() >= end || fold.apply(&mut state, e.envelope(), &policy))
                .cloned()
                .collect();
            prop_assert_eq!(all.pending.superseded_events as usize, fold.superseded.len());
            let again = review(&f, &took_effect);
            prop_assert_eq!(again.pending.superseded_events, 0);
            let mut all = all;
            all.pending.superseded_events = 0;
            prop_assert_eq!(all, again);
        }
    }
}

/// Referrals by partner and service, and care plans, from the week's log: a referral
/// through the exchange answered late and started in time, another declined with its
/// reason; a care plan with an overdue action of a partner, an action done in the week, a
/// review held and one upcoming.
#[test]
fn referrals_by_partner_and_care_plans() {
    use careloop_ops::careplan::{ActionStatus, NewAction, PlanChange};
    let mut f = fixture();
    let mut n = 0xAB00;
    let mut push = |at: &str, actor: &str, role: Role, patient: &str, event: OpEvent| {
        n += 1;
        f.log.push(Recorded {
            id: id(n),
            at: t(at),
            actor: actor.to_owned(),
            role,
            patient_id: patient.to_owned(),
            event,
        });
    };
    let harbor = |service: &str| careloop_ops::PartnerRef {
        organization: "harbor".into(),
        organization_name: "Harbor Home Care".into(),
        service_id: service.into(),
        service_name: "Home care".into(),
        respond_within_working_days: 2,
        start_within_working_days: 5,
        consent: "verbal".into(),
    };
    // H1 (p4): sent Monday 10:30, due Wednesday 10:30; accepted Thursday (late); started
    // Friday (start due 5 working days after Thursday: in time).
    push(
        "2026-11-16T10:30",
        "ana",
        Role::Coordinator,
        "p4",
        OpEvent::ReferralSent {
            referral_id: id(0xAB90),
            case_id: c(4),
            service: ServiceType::HomeCare,
            note: "bathing".into(),
            partner: Some(harbor("harbor-home")),
        },
    );
    let answer =
        |referral: u128, case: Uuid, status: ReferralStatus, note: &str| OpEvent::ReferralUpdated {
            referral_id: id(referral),
            case_id: case,
            status,
            note: note.into(),
            on: None,
        };
    push(
        "2026-11-19T09:00",
        "harbor-ehr@harbor",
        Role::Partner,
        "p4",
        answer(0xAB90, c(4), ReferralStatus::Accepted, ""),
    );
    push(
        "2026-11-20T09:00",
        "harbor-ehr@harbor",
        Role::Partner,
        "p4",
        OpEvent::ReferralUpdated {
            referral_id: id(0xAB90),
            case_id: c(4),
            status: ReferralStatus::Started,
            note: "first visit".into(),
            on: Some(d("2026-11-20")),
        },
    );
    // H2 (p2): sent Monday 11:00, declined Tuesday with a reason (in time).
    push(
        "2026-11-16T11:00",
        "ana",
        Role::Coordinator,
        "p2",
        OpEvent::ReferralSent {
            referral_id: id(0xAB91),
            case_id: c(3),
            service: ServiceType::HomeCare,
            note: "meals".into(),
            partner: Some(harbor("harbor-home")),
        },
    );
    push(
        "2026-11-17T11:00",
        "lena@harbor",
        Role::Partner,
        "p2",
        answer(
            0xAB91,
            c(3),
            ReferralStatus::Declined,
            "no capacity until January",
        ),
    );

    // A care plan for p4.
    let plan = id(0xAB50);
    let change = |change: PlanChange| OpEvent::CarePlan {
        plan_id: plan,
        case_id: c(4),
        change,
    };
    push(
        "2026-11-16T12:00",
        "ana",
        Role::Coordinator,
        "p4",
        change(PlanChange::Started { lead: "ana".into() }),
    );
    for (domain, owner) in [("housing", "partner:harbor"), ("caregiver_support", "ana")] {
        push(
            "2026-11-16T12:01",
            "ana",
            Role::Coordinator,
            "p4",
            change(PlanChange::DomainSet {
                domain: domain.into(),
                owner: owner.into(),
                goal: "a goal".into(),
            }),
        );
    }
    let action = |n: u128, domain: &str, owner: &str, due: &str| NewAction {
        action_id: id(n),
        domain: domain.into(),
        text: "something".into(),
        owner: owner.into(),
        due: d(due),
    };
    push(
        "2026-11-16T12:02",
        "ana",
        Role::Coordinator,
        "p4",
        change(PlanChange::ActionAdded {
            action: action(0xAB60, "housing", "partner:harbor", "2026-11-18"),
        }),
    );
    push(
        "2026-11-16T12:03",
        "ana",
        Role::Coordinator,
        "p4",
        change(PlanChange::ActionAdded {
            action: action(0xAB61, "caregiver_support", "ana", "2026-11-19"),
        }),
    );
    push(
        "2026-11-19T15:00",
        "ana",
        Role::Coordinator,
        "p4",
        change(PlanChange::ActionClosed {
            action_id: id(0xAB61),
            status: ActionStatus::Done,
            note: String::new(),
        }),
    );
    push(
        "2026-11-17T08:00",
        "sue",
        Role::Supervisor,
        "p4",
        change(PlanChange::ReviewScheduled {
            review_id: id(0xAB70),
            on: d("2026-11-20"),
            participants: vec!["ana".into()],
        }),
    );
    push(
        "2026-11-20T16:00",
        "ana",
        Role::Coordinator,
        "p4",
        change(PlanChange::ReviewHeld {
            review_id: id(0xAB70),
            decisions: "monitor weekly".into(),
            actions: vec![],
        }),
    );
    push(
        "2026-11-20T16:05",
        "ana",
        Role::Coordinator,
        "p4",
        change(PlanChange::ReviewScheduled {
            review_id: id(0xAB71),
            on: d("2026-11-27"),
            participants: vec!["ana".into()],
        }),
    );

    let (review, drills) = review_of(&f);
    let row = review
        .referrals_by_partner
        .iter()
        .find(|r| r.partner == "Harbor Home Care")
        .expect("a row for Harbor");
    assert_eq!(
        (row.sent, row.answered, row.accepted, row.declined),
        (2, 2, 1, 1)
    );
    assert_eq!(row.decline_reasons, ["no capacity until January"]);
    // H2 in time, H1 late.
    assert_eq!(row.answered_in_time, 1);
    assert!(close(row.rate_answered_in_time, 0.5));
    assert_eq!((row.started, row.started_in_time), (1, 1));
    // Response hours: H2 24, H1 70.5: median 47.25.
    assert!(close(row.median_response_hours, 47.25), "{row:?}");
    assert_eq!(drills.rows(&row.drill).unwrap().len(), 2);
    // Referrals the coordinators answer stay apart (R3 was sent in the four weeks).
    assert!(review
        .referrals_by_partner
        .iter()
        .any(|r| r.partner == "recorded by coordinators" && r.service == "emergency_assistance"));

    let plans = &review.care_plans;
    assert_eq!(
        (
            plans.active_plans,
            plans.reviews_held,
            plans.reviews_upcoming
        ),
        (1, 1, 1)
    );
    let by_owner: Vec<(&str, u32, u32, u32)> = plans
        .actions_by_owner
        .iter()
        .map(|r| (r.owner.as_str(), r.open, r.overdue, r.done_in_week))
        .collect();
    assert_eq!(by_owner, [("ana", 0, 0, 1), ("partner:harbor", 1, 1, 0)]);
    let overdue = &plans.actions_by_owner[1].drill;
    assert_eq!(drills.rows(overdue).unwrap()[0].patient_id, "p4");
}
