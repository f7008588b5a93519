//! The messages of the Careloop central API (`/api/v1`), as both the server
//! (`careloop-server`) and the workstations (`careloop-api`'s sync, over `careloop-sync`)
//! read them, and the page sizes they use. Every request type refuses unknown fields; the
//! server's description of them is `schema/openapi.json`, checked against these types by
//! `careloop-server/tests/openapi.rs`.
//!
//! This crate knows nothing of HTTP, storage or the workstation: serde types only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An event as it travels: the log's columns, the payload as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireEvent {
    pub id: Uuid,
    pub kind: String,
    pub subject: String,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    pub payload: serde_json::Value,
    pub payload_version: u32,
}

/// The last entry of a workstation's audit chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditHeadWire {
    pub seq: i64,
    pub hash: String,
}

/// `POST /api/v1/events`: a workstation's outbox, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The workstation's id (a UUID it made once).
    pub workstation: String,
    pub events: Vec<WireEvent>,
    /// Its audit chain's head now (`None` while the chain is empty).
    pub audit_head: Option<AuditHeadWire>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    /// New to the server: it has this place in the global order now.
    Accepted,
    /// The server already had it (a retry): its place is unchanged.
    Duplicate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushResult {
    pub id: Uuid,
    pub server_seq: i64,
    pub status: PushStatus,
    /// Kept, but it changed nothing in the server's order, and why (e.g. "already
    /// claimed by ana": first in server order wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
}

/// How a push's events fared, counted (what both sides log of a push).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushTally {
    pub accepted: usize,
    pub duplicates: usize,
    /// Stored, but changing nothing (another workstation got there first).
    pub superseded: usize,
}

impl PushResponse {
    /// The counts of [`PushTally`].
    pub fn tally(&self) -> PushTally {
        let mut tally = PushTally::default();
        for r in &self.results {
            match r.status {
                PushStatus::Accepted => tally.accepted += 1,
                PushStatus::Duplicate => tally.duplicates += 1,
            }
            if r.superseded.is_some() {
                tally.superseded += 1;
            }
        }
        tally
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PulledEvent {
    pub server_seq: i64,
    pub event: WireEvent,
}

/// `GET /api/v1/events?after=CURSOR&limit=N`: the team's events in server order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullResponse {
    pub events: Vec<PulledEvent>,
    /// The cursor to ask with next time (the last event's server order).
    pub cursor: i64,
    /// Whether more events wait after this page.
    pub more: bool,
}

/// `POST /api/v1/auth/login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
    pub workstation: String,
}

/// `POST /api/v1/auth/refresh` and `POST /api/v1/auth/logout`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A signed-in session: a short-lived access token and a refresh token (rotated on use).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tokens {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub user: String,
    pub role: String,
    pub team: String,
}

/// One resource of the team's panel, as imported on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelItem {
    pub seq: i64,
    /// A FHIR resource, or an engagement signal, as one NDJSON line.
    pub kind: PanelKind,
    pub json: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelKind {
    Resource,
    Engagement,
    /// A segment definition a supervisor published (JSON: [`SegmentDefinitionWire`]).
    Segment,
}

/// A published segment definition, as a supervisor's workstation pushes it and as the
/// team's workstations pull it with the panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentDefinitionWire {
    pub id: String,
    pub version: u32,
    /// The definition's JSON text, exactly as published.
    pub body: String,
    pub published_by: String,
    pub published_at: String,
}

/// `POST /api/v1/segments`: definitions a supervisor published here (supervisors only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentPushRequest {
    pub definitions: Vec<SegmentDefinitionWire>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentStatus {
    /// Now part of the team's panel.
    Published,
    /// The server had this very version already (a retry).
    Duplicate,
    /// Another supervisor published this id and version first, with other content: the
    /// team keeps theirs; publish again as a newer version.
    Superseded,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentPushResult {
    pub id: String,
    pub version: u32,
    pub status: SegmentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentPushResponse {
    pub results: Vec<SegmentPushResult>,
}

/// `GET /api/v1/panel?after=CURSOR&limit=N`: the team's people and their facts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelPage {
    pub items: Vec<PanelItem>,
    pub cursor: i64,
    pub more: bool,
    /// The team whose panel this is (the workstation derives case ids from it). Absent from
    /// servers before it was added.
    #[serde(default)]
    pub team: String,
}

/// `GET /api/v1/directory`: the partner organisations and the services a referral can go
/// to (managed by admins with `careloop admin partner …`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    pub partners: Vec<PartnerWire>,
}

/// A partner organisation of the directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerWire {
    pub id: String,
    pub name: String,
    pub services: Vec<ServiceWire>,
}

/// A service a partner organisation offers, with its deadlines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceWire {
    pub id: String,
    pub name: String,
    /// The referral's service type (`home_care`, `housing`, …).
    pub service_type: String,
    /// Where it serves (free text: a city, a district, "county-wide").
    pub area: String,
    /// Languages the service works in (BCP 47 tags, e.g. `en`, `es`).
    pub languages: Vec<String>,
    pub eligibility: String,
    /// Who at the partner answers referrals (a role, e.g. "intake coordinator").
    pub contact_role: String,
    /// Accept or decline within this many working days.
    pub respond_within_working_days: u32,
    /// Once accepted, start within this many working days.
    pub start_within_working_days: u32,
}

/// Every error: a stable code and a message naming what and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

/// The most events one pull page asks for.
pub const PULL_PAGE: u32 = 1_000;
/// The most panel lines one page asks for.
pub const PANEL_PAGE: u32 = 5_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_tally_counts_each_status_and_the_superseded() {
        let result = |n: u128, status, superseded: Option<&str>| PushResult {
            id: Uuid::from_u128(n),
            server_seq: n as i64,
            status,
            superseded: superseded.map(str::to_owned),
        };
        let response = PushResponse {
            results: vec![
                result(1, PushStatus::Accepted, None),
                result(2, PushStatus::Accepted, Some("already claimed by ana")),
                result(3, PushStatus::Duplicate, None),
            ],
        };
        assert_eq!(
            response.tally(),
            PushTally {
                accepted: 2,
                duplicates: 1,
                superseded: 1
            }
        );
    }
}
