//! The weekly case review: what a supervisor brings to the weekly meeting and what
//! commissioners ask (does outreach work, and is it fair).
//!
//! [`compute`] reads an [`Input`] — the event log, the cohort history, the panel's people
//! with their groups, closing evidence and visits — as of an ISO [`Week`] and returns a
//! [`WeeklyReview`] (tables, see [`model`]) and the [`Drills`] behind its numbers. Nothing
//! here reads a clock or a store: the application API gathers the input.
//!
//! Metric definitions (also in `ARCHITECTURE.md`):
//! - **Week**: Monday 00:00 UTC to the next Monday 00:00 UTC (`as_of`). Events at or after
//!   `as_of` are ignored; the state at the end of the week is the fold of the events before it.
//! - **Entered / exited**: the people the live lists recorded entering or leaving the
//!   segment in the week (each once per direction), when the lists kept a record by the
//!   week's Sunday (in their first week, from their first day); for earlier weeks, members of this review's run (the latest recorded
//!   run dated on or before the week's Sunday) not in the previous review's run (the latest
//!   dated before the Monday), and the other way round.
//! - **Care-gap closure**: for each case of a care-gap segment (one whose rule says
//!   `not exists(…)`) with a first attempt on day A, the gap is closed within N days when
//!   closing evidence (a fact that the `not exists` looks for) is dated in [A, A + N]. The
//!   rate for N counts only cases whose window A + N has ended by the end of the week.
//!   Beside it, the segment's cases the live lists closed as resolved by new data during the
//!   week (the data showed the gap closed, reached or not).
//! - **Response rate**: attempts that reached the person / attempts.
//! - **Retention**: people with a first attempt in a segment on day A who have a visit
//!   (encounter start) in (A, A + 365 days]; the rate counts people whose year has passed.
//! - **Timeliness**: for clocks started in the week — case opened → first attempt (due: the
//!   case's due time), referral sent → accepted or declined (due: the response deadline),
//!   escalation raised → acknowledged (due: the first level's deadline), callback requested →
//!   documented (due: the callback's due time).
//! - **Equity**: a group's share of a population against its share of the panel; ratio =
//!   count / (panel share × population size).
//! - **Over-contact**: outbound attempts per person in the week and in the 28 days ending
//!   with it; people above the guard in some 7 days ending in the week; overrides used.

pub mod compute;
pub mod export;
pub mod groups;
pub mod model;
pub mod pdf;
mod week;

pub use compute::{
    compute, CohortRun, Drills, Input, ListChange, Member, Person, SegmentInfo, Settings,
};
pub use groups::{Demographics, Groups, DIMENSIONS};
pub use model::*;
pub use week::Week;

/// What can go wrong making a review.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("week {given:?}: {why} (expected YYYY-Www, e.g. 2026-W47)")]
    BadWeek { given: String, why: String },
    #[error("the event log does not fold at event {event}: {why}")]
    Log { event: String, why: String },
    #[error("no drill-down {0:?} in this review")]
    UnknownDrill(String),
    #[error("writing {path}: {why}")]
    Io { path: String, why: String },
}

pub type Result<T, E = ReviewError> = std::result::Result<T, E>;
