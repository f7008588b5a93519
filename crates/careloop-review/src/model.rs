//! What a weekly review is made of: the serializable tables the desktop screen, the CLI's
//! JSON, the CSV files and the PDF report all show. Every number that stands for people or
//! cases carries a `drill` key; [`crate::Drills::rows`] lists the cases behind it.
//!
//! Rates are `None` when their denominator is zero (shown as "n/a", never as 0 %).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The review of one ISO week.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WeeklyReview {
    /// The ISO week, e.g. `2026-W47`.
    pub week: String,
    /// Its Monday and its Sunday (UTC dates); the review sees everything before the
    /// following Monday 00:00 UTC (`as_of`).
    pub starts: String,
    pub ends: String,
    pub as_of: String,
    /// The segmentation run this review reads (the latest dated in or before the week) and
    /// the one before the week (the last review's); `None` when there is none.
    pub run: Option<RunRef>,
    pub previous_run: Option<RunRef>,
    pub segments: Vec<SegmentRow>,
    /// Cohort sizes of every recorded run up to the week (for the trend chart).
    pub trend: Vec<TrendPoint>,
    pub pending: Pending,
    pub caseload: Vec<CaseloadRow>,
    pub equity: Equity,
    pub contacts: OverContact,
    pub closure: Vec<ClosureRow>,
    /// Cumulative care-gap closure by days after the first attempt (Kaplan–Meier: people
    /// whose window is still open count while they are observed).
    pub closure_curve: Vec<CurvePoint>,
    pub response_by_channel: Vec<ResponseRow>,
    pub response_by_segment: Vec<ResponseRow>,
    pub retention: Vec<RetentionRow>,
    pub timeliness: Vec<TimelinessRow>,
    /// Referrals sent in the four weeks ending with this one, by partner and service.
    #[serde(default)]
    pub referrals_by_partner: Vec<PartnerRow>,
    /// Shared care plans at the end of the week.
    #[serde(default)]
    pub care_plans: CarePlansReview,
}

/// Referral turnaround for one receiving service: a partner's service of the directory
/// (answered through the exchange), or a service type the coordinators record answers for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PartnerRow {
    /// The partner organisation's name, or "recorded by coordinators".
    pub partner: String,
    pub service: String,
    pub sent: u32,
    /// Accepted or declined by the end of the week.
    pub answered: u32,
    pub median_response_hours: Option<f64>,
    /// Answered by the response deadline.
    pub answered_in_time: u32,
    /// answered_in_time / (answered + unanswered past the deadline).
    pub rate_answered_in_time: Option<f64>,
    pub accepted: u32,
    pub declined: u32,
    /// The declines' reasons, as the partner gave them.
    pub decline_reasons: Vec<String>,
    pub started: u32,
    /// Started by the start deadline.
    pub started_in_time: u32,
    pub rate_started_in_time: Option<f64>,
    pub completed: u32,
    pub drill: String,
}

/// Care plans at the end of the week: overdue actions by owner, reviews held.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CarePlansReview {
    pub active_plans: u32,
    pub actions_by_owner: Vec<PlanOwnerRow>,
    /// Case reviews recorded in the week.
    pub reviews_held: u32,
    /// Case reviews scheduled on a day after the week, not held yet.
    pub reviews_upcoming: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PlanOwnerRow {
    /// A user, or partner:ID.
    pub owner: String,
    pub open: u32,
    /// Open past their due day at the end of the week.
    pub overdue: u32,
    pub done_in_week: u32,
    pub drill: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RunRef {
    #[ts(type = "number")]
    pub id: i64,
    pub as_of: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PersonRef {
    pub patient_id: String,
    pub name: String,
}

/// One segment in the week.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SegmentRow {
    pub segment_id: String,
    pub name: String,
    /// Members in this review's run.
    pub size: u32,
    /// In this run and not in the previous one, and the other way round.
    pub entered: Vec<PersonRef>,
    pub exited: Vec<PersonRef>,
    pub worklist: u32,
    pub overflow: u32,
    pub held_back: u32,
    /// People the team can contact in a week.
    pub capacity: u32,
    /// Distinct people with an attempt on a case of the segment during the week.
    pub contacted: u32,
    /// contacted / capacity.
    pub capacity_use: Option<f64>,
    /// Cases of the segment not closed at the end of the week.
    pub open_cases: u32,
    pub drill: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TrendPoint {
    #[ts(type = "number")]
    pub run_id: i64,
    pub as_of: String,
    pub sizes: Vec<SegmentCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SegmentCount {
    pub segment_id: String,
    pub count: u32,
}

/// Work waiting at the end of the week.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Pending {
    /// Cases not closed whose next contact (the first, or a follow-up) was due before the end
    /// of the week (the worklist's "overdue").
    pub overdue_cases: Vec<PendingItem>,
    /// Escalations raised and not acknowledged.
    pub unacknowledged_escalations: Vec<PendingItem>,
    /// Referrals sent or accepted and past their response or start deadline.
    pub overdue_referrals: Vec<PendingItem>,
    /// Callbacks waiting for a clinician.
    pub waiting_callbacks: Vec<PendingItem>,
    /// Two outcomes recorded for one case step on different workstations, both kept until
    /// a coordinator or supervisor resolves the conflict (the id names both events).
    pub open_conflicts: Vec<PendingItem>,
    /// Events kept in the log that changed nothing in the server's order (a claim of a case
    /// someone else claimed first, the same attempt recorded twice, a second resolution of
    /// one conflict). They count nowhere else in the review.
    pub superseded_events: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PendingItem {
    /// The case, escalation, referral or callback id.
    pub id: String,
    pub case_id: String,
    pub patient_id: String,
    pub name: String,
    pub segment_id: String,
    pub owner: Option<String>,
    /// When it started (case opened, escalation raised, referral sent, callback requested).
    pub since: String,
    pub due: Option<String>,
    pub overdue: bool,
    pub detail: String,
}

/// One coordinator's load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseloadRow {
    pub user: String,
    /// Cases owned and not closed at the end of the week.
    pub open_cases: u32,
    pub capacity: u32,
    pub use_share: Option<f64>,
    /// Of the open cases, those overdue.
    pub overdue: u32,
    /// Attempts the user documented during the week, and how many reached the person.
    pub attempts: u32,
    pub reached: u32,
    pub drill: String,
}

/// Each group's share of a population against its share of the whole panel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Equity {
    /// A group is flagged when ratio >= threshold (over) or ratio <= 1 / threshold (under)…
    pub threshold: f64,
    /// …and the count expected from its panel share is at least this.
    pub min_expected: f64,
    /// People in the panel (alive at the end of the week).
    pub panel_size: u32,
    pub rows: Vec<EquityRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EquityRow {
    /// A segment id, or `all` for everyone contacted.
    pub segment_id: String,
    /// `cohort` (the segment's members) or `contacted` (people with an attempt in the week).
    pub population: String,
    /// age_band, sex, language, payer, race, ethnicity, digital_tier.
    pub dimension: String,
    pub group: String,
    pub count: u32,
    pub population_size: u32,
    pub share: Option<f64>,
    pub panel_count: u32,
    pub panel_share: Option<f64>,
    /// count / expected, where expected = panel_share × population_size.
    pub expected: f64,
    pub ratio: Option<f64>,
    /// `over`, `under`, or empty.
    pub flag: String,
    pub drill: String,
}

/// Contacts per person, and the over-contact guard.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OverContact {
    /// Outbound contacts a person may get in 7 days (the guard).
    pub limit: u32,
    /// People by contacts in the week: buckets "1", "2", …, and "N+" (N = limit + 2).
    pub per_week: Vec<Bucket>,
    /// The same over the 28 days ending with the week.
    pub per_month: Vec<Bucket>,
    /// People who had more than `limit` contacts in some 7 days ending in the week.
    pub above_limit: Vec<AboveLimit>,
    pub overrides: Vec<OverrideRow>,
    /// Overrides in the week by who signed them.
    pub overrides_by_user: Vec<UserCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Bucket {
    pub contacts: String,
    pub people: u32,
    pub drill: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AboveLimit {
    pub patient_id: String,
    pub name: String,
    pub contacts_in_week: u32,
    /// The most contacts in any 7 days ending in the week.
    pub most_in_7_days: u32,
    /// The cases the week's contacts were made on.
    pub drill: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OverrideRow {
    pub at: String,
    pub by: String,
    pub role: String,
    pub case_id: String,
    pub patient_id: String,
    pub name: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UserCount {
    pub user: String,
    pub count: u32,
}

/// Care-gap closure of one segment (cases with a first attempt by the end of the week).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ClosureRow {
    pub segment_id: String,
    pub name: String,
    /// Cases of the segment with a first attempt.
    pub outreached: u32,
    /// 30, 60 and 90 days.
    pub horizons: Vec<HorizonCell>,
    /// Cases whose closing evidence has arrived so far, whatever their window.
    pub closed_so_far: u32,
    pub drill: String,
    /// Cases of the segment the live lists closed during the week as resolved by new data
    /// (the data showed the gap closed), whether or not anyone had reached the person.
    pub closed_by_new_data: u32,
    pub closed_by_new_data_drill: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HorizonCell {
    pub days: u32,
    /// Cases whose window (first attempt + days) ended by the end of the week.
    pub eligible: u32,
    /// Of those, cases with closing evidence dated from the first attempt's day to the
    /// window's end.
    pub closed: u32,
    pub rate: Option<f64>,
    pub drill: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CurvePoint {
    pub segment_id: String,
    pub day: u32,
    pub closed_share: f64,
}

/// Reached / attempts, for a channel or a segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ResponseRow {
    pub key: String,
    pub attempts_week: u32,
    pub reached_week: u32,
    pub rate_week: Option<f64>,
    pub attempts_to_date: u32,
    pub reached_to_date: u32,
    pub rate_to_date: Option<f64>,
    pub drill: String,
}

/// People with a visit in the 12 months after their first attempt in a segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RetentionRow {
    pub segment_id: String,
    pub name: String,
    /// People with a first attempt in the segment by the end of the week.
    pub contacted: u32,
    /// Of those, people whose 12 months have passed…
    pub window_complete: u32,
    /// …and of those, people with a visit in them.
    pub retained: u32,
    pub rate: Option<f64>,
    /// People with a visit after their first attempt so far, whatever their window.
    pub retained_so_far: u32,
    pub drill: String,
}

/// How long one kind of response took, for clocks started during the week.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TimelinessRow {
    /// first_attempt, referral_response, escalation_ack, callback.
    pub measure: String,
    pub label: String,
    /// Clocks started in the week.
    pub started: u32,
    /// Of those, answered by the end of the week.
    pub answered: u32,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    /// Answered by their deadline.
    pub within_deadline: u32,
    /// within_deadline / started (a clock still running counts against once its deadline
    /// has passed, and is left out while it has not).
    pub rate_within: Option<f64>,
    /// Not answered and past the deadline at the end of the week.
    pub overdue: u32,
    pub drill: String,
}

/// A row behind a number: a case (or a person without one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DrillRow {
    pub case_id: Option<String>,
    pub patient_id: String,
    pub name: String,
    pub segment_id: Option<String>,
    /// The case's status at the end of the week.
    pub status: Option<String>,
    pub owner: Option<String>,
}

/// A table of the review as text cells, for CSV and the PDF.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// The file stem, e.g. `segments`.
    pub name: &'static str,
    pub title: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}
