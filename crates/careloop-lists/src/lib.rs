//! Live lists below the application API, so that a workstation (through `careloop-api`) and
//! the central server (for each team panel it holds) keep memberships the same way:
//!
//! - [`facts`]: the panel's facts derived from the stored resources into the store's fact
//!   store (only the people on its stale list), and read back;
//! - [`catalog`]: the catalogue in force, the built-in definitions with the latest published
//!   version of each segment that can be evaluated;
//! - [`evaluate`]: what the lists must look at ([`evaluate::plan`]: everyone on a new day or
//!   with new definitions, else the people whose facts changed) and the one evaluation that
//!   turns facts, the memberships held and the day into the [`careloop_store::ListUpdate`]
//!   to write, each entry and exit with its evidence.
//!
//! Time is passed in; nothing here reads a clock. Cases, alerts and who may see what are the
//! callers' concern.

pub mod catalog;
pub mod evaluate;
pub mod facts;

pub use evaluate::{evaluate, evaluate_reporting, plan, Counts, Evaluation, Memberships, Plan};

/// What can go wrong keeping lists.
#[derive(Debug, thiserror::Error)]
pub enum ListsError {
    #[error(transparent)]
    Store(#[from] careloop_store::StoreError),
    #[error(transparent)]
    Segment(#[from] careloop_segment::SegmentError),
    #[error("the fact decoder stopped")]
    DecoderStopped,
}

pub type Result<T> = std::result::Result<T, ListsError>;
