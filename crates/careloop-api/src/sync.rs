//! Offline-first sync with the central server, without the network: the wire types both
//! sides speak ([`wire`]), the [`Transport`] a client implements (HTTPS in `careloop-sync`;
//! this crate has no HTTP dependency), and the workstation's side of a sync round.
//!
//! A round: push the outbox (our events the server has not acknowledged) with the audit
//! chain's head, record the server's order of each (its acknowledgement), then pull everyone
//! else's events by cursor, each page and its cursor in one transaction. Pushing the same
//! batch again changes nothing on either side, so a round interrupted anywhere (a crash, a
//! dropped connection) is simply run again.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use careloop_ops::rbac::Operation;
use careloop_ops::sync::{Resolution, RESOLUTION_KIND};
use careloop_store::{AuditOutcome, NewAuditEntry, NewEvent};

use crate::derived::Change;
use crate::operations::{ResolutionPayload, Session};
use crate::{ApiError, Careloop, ErrorCode, Result};

/// The messages of `/api/v1` (the `careloop-wire` crate, shared with the server).
pub use careloop_wire as wire;
pub use careloop_wire::{PANEL_PAGE, PULL_PAGE};

/// What a workstation needs from the network. `careloop-sync` implements it over HTTPS; the
/// methods return the server's answer, or an [`ApiError`] (`offline`, `unauthorized`, …).
pub trait Transport {
    fn push(&mut self, request: &wire::PushRequest) -> Result<wire::PushResponse>;
    fn pull(&mut self, after: i64, limit: u32) -> Result<wire::PullResponse>;
    fn panel(&mut self, after: i64, limit: u32) -> Result<wire::PanelPage>;
    fn push_segments(
        &mut self,
        request: &wire::SegmentPushRequest,
    ) -> Result<wire::SegmentPushResponse>;
    /// The services directory (`None`: this transport has none to give; the one kept stays).
    fn directory(&mut self) -> Result<Option<wire::Directory>> {
        Ok(None)
    }
}

/// The most events one push carries.
pub const PUSH_BATCH: u32 = 500;

const EVENTS_CURSOR: &str = "events_cursor";
const PANEL_CURSOR: &str = "panel_cursor";
const WORKSTATION: &str = "workstation_id";
const LAST_SYNC: &str = "last_sync_at";
const LAST_ERROR: &str = "last_error";
/// How many of others' events and panel lines syncs have brought into this cache.
const RECEIVED: &str = "received";
/// The segment definitions ("id@version", one per line) the server is known to have.
const SEGMENTS_ON_SERVER: &str = "segments_on_server";
/// The team whose panel this workstation holds, as the server's panel pages name it.
pub(crate) const TEAM: &str = "team";
/// The services directory as last synced (JSON of [`wire::Directory`]).
pub(crate) const DIRECTORY: &str = "directory";

/// What one sync round did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncReport {
    pub pushed: u32,
    /// Of the pushed: already on the server (a retry).
    pub duplicates: u32,
    /// Of the pushed: kept but changed nothing (another workstation was first).
    pub superseded: Vec<String>,
    pub pulled: u32,
    pub panel_items: u32,
    /// Segment definitions published here and sent to the server.
    pub segments_pushed: u32,
}

/// Sync as the desktop shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncStatus {
    /// Whether a server is set up for this workstation.
    pub configured: bool,
    pub server: Option<String>,
    pub last_sync_at: Option<String>,
    /// Events recorded here that the server has not acknowledged yet.
    #[ts(type = "number")]
    pub pending: u64,
    /// The last round failed because the server could not be reached.
    pub offline: bool,
    /// The last round's error, if it failed.
    pub last_error: Option<String>,
    /// Conflicts waiting for a person, across all cases.
    pub open_conflicts: u32,
    /// How many of others' events and panel lines syncs have brought in so far: when it
    /// grows, what the screens show may have changed, and they reload.
    #[ts(type = "number")]
    pub received: u64,
    /// A round is running in this app now: `received` grows as its pages are stored (the
    /// badge shows that progress; the screens reload when it ends).
    pub syncing: bool,
}

/// A conflict as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ConflictDto {
    pub case_id: String,
    pub patient_id: String,
    pub events: Vec<String>,
    pub kinds: Vec<String>,
    pub actors: Vec<String>,
    pub resolved_by: Option<String>,
    pub kept: Option<String>,
    pub note: Option<String>,
}

/// An event kept in the log that changed nothing, as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct SupersededDto {
    pub event_id: String,
    pub case_id: String,
    pub actor: String,
    pub kind: String,
    pub why: String,
}

impl Careloop {
    /// This workstation's id (made once, kept in the cache).
    pub fn workstation_id(&mut self) -> Result<String> {
        if let Some(id) = self.store.sync_meta(WORKSTATION)? {
            return Ok(id);
        }
        let id = Uuid::new_v4().to_string();
        self.store.set_sync_meta(WORKSTATION, &id)?;
        Ok(id)
    }

    /// A sync value of this workstation (`server_url`, `server_pin`, …).
    pub fn sync_setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self.store.sync_meta(key)?)
    }

    /// Sets a sync value of this workstation.
    pub fn set_sync_setting(&mut self, key: &str, value: &str) -> Result<()> {
        Ok(self.store.set_sync_meta(key, value)?)
    }

    /// The next push: at most [`PUSH_BATCH`] events of the outbox, and the audit head.
    pub fn sync_push_request(&mut self) -> Result<wire::PushRequest> {
        let workstation = self.workstation_id()?;
        let events = self.store.outbox(PUSH_BATCH)?;
        let audit_head = self.store.audit_head()?.map(|h| wire::AuditHeadWire {
            seq: h.seq,
            hash: h.hash,
        });
        Ok(wire::PushRequest {
            workstation,
            events: events.iter().map(wire::WireEvent::from).collect(),
            audit_head,
        })
    }

    /// Records the server's acknowledgement of a push.
    ///
    /// The fold's order is the server's for what was pulled (up to the pull cursor), then the
    /// outbox. An event still in the outbox was not in any page pulled so far, so the server
    /// placed it after the cursor, in the order it was pushed: the outbox's. An
    /// acknowledgement therefore leaves the order, and everything derived from it (the
    /// state, the search index, the review), as it is. Events of others that the server put
    /// between ours arrive with the next pull, which folds again. Should an acknowledged
    /// place ever be at or before the cursor, the derived state is dropped as before.
    pub fn sync_apply_ack(&mut self, response: &wire::PushResponse) -> Result<()> {
        let acks: Vec<(Uuid, i64)> = response
            .results
            .iter()
            .map(|r| (r.id, r.server_seq))
            .collect();
        let cursor = self.sync_events_cursor()?;
        self.store.acknowledge(&acks)?;
        if acks.iter().any(|(_, seq)| *seq <= cursor) {
            self.derived.changed(Change::Reordered);
        }
        Ok(())
    }

    /// The pull cursor: the server order of the last event pulled.
    pub fn sync_events_cursor(&self) -> Result<i64> {
        cursor(&self.store.sync_meta(EVENTS_CURSOR)?)
    }

    /// Stores a pulled page and its cursor together; returns how many events were new.
    pub fn sync_apply_pull(&mut self, page: &wire::PullResponse) -> Result<u32> {
        let events: Vec<(NewEvent, i64)> = page
            .events
            .iter()
            .map(|p| (NewEvent::from(p.event.clone()), p.server_seq))
            .collect();
        let pulled = self
            .store
            .apply_pulled(&events, EVENTS_CURSOR, page.cursor)?;
        if pulled.new > 0 {
            // Others' events can come before ours in the server's order: the state and the
            // review are folded again when next read; the search index takes in only what
            // was pulled (see `Search::fall_behind`).
            let mut recorded = Vec::with_capacity(page.events.len());
            let mut readable = true;
            for p in &page.events {
                let e = &p.event;
                if !careloop_ops::events::KINDS.contains(&e.kind.as_str()) {
                    continue;
                }
                match serde_json::from_value::<careloop_ops::events::Payload>(e.payload.clone()) {
                    Ok(payload) => recorded.push(
                        payload
                            .recorded(e.id, e.occurred_at, &e.actor, &e.subject)
                            .0,
                    ),
                    Err(_) => readable = false,
                }
            }
            self.derived
                .changed(Change::Pulled(readable.then_some(recorded)));
            self.count_received(pulled.new.into())?;
        }
        Ok(pulled.new)
    }

    /// How many of others' events and panel lines syncs have brought in.
    fn received(&self) -> Result<u64> {
        match self.store.sync_meta(RECEIVED)? {
            None => Ok(0),
            Some(text) => text.parse().map_err(|_| {
                ApiError::internal(format!(
                    "the stored received count {text:?} is not a number"
                ))
            }),
        }
    }

    fn count_received(&mut self, more: u64) -> Result<()> {
        if more > 0 {
            let received = self.received()? + more;
            self.store.set_sync_meta(RECEIVED, &received.to_string())?;
        }
        Ok(())
    }

    /// The panel cursor.
    /// Keeps the services directory the server sent.
    pub fn sync_apply_directory(&mut self, directory: &wire::Directory) -> Result<()> {
        let json = serde_json::to_string(directory)
            .map_err(|e| ApiError::internal(format!("the directory: {e}")))?;
        Ok(self.store.set_sync_meta(DIRECTORY, &json)?)
    }

    /// The services directory as last synced (empty before the first sync).
    pub fn directory(&self) -> Result<wire::Directory> {
        match self.store.sync_meta(DIRECTORY)? {
            None => Ok(wire::Directory::default()),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| ApiError::internal(format!("the kept directory: {e}"))),
        }
    }

    pub fn sync_panel_cursor(&self) -> Result<i64> {
        cursor(&self.store.sync_meta(PANEL_CURSOR)?)
    }

    /// Imports a pulled page of the panel with the same importer as files, then moves the
    /// cursor. Importing a resource again replaces it with the same content, so a crash
    /// between the two repeats the page harmlessly.
    pub fn sync_apply_panel(&mut self, page: &wire::PanelPage) -> Result<u32> {
        if !page.team.is_empty() && self.store.sync_meta(TEAM)?.as_deref() != Some(&page.team) {
            self.store.set_sync_meta(TEAM, &page.team)?;
        }
        let mut resources = String::new();
        let mut engagement = String::new();
        let mut segments = Vec::new();
        for item in &page.items {
            let target = match item.kind {
                wire::PanelKind::Resource => &mut resources,
                wire::PanelKind::Engagement => &mut engagement,
                wire::PanelKind::Segment => {
                    let d: wire::SegmentDefinitionWire =
                        serde_json::from_str(&item.json).map_err(|e| {
                            ApiError::new(
                                ErrorCode::BadInput,
                                format!(
                                    "the server's panel item {}: not a segment definition ({e})",
                                    item.seq
                                ),
                            )
                        })?;
                    // A definition this workstation cannot evaluate (checked by a server or
                    // a workstation with other limits) is stored all the same, so the panel
                    // moves on and the history matches the server's; it is never put in
                    // force: the catalogue passes over it, keeps the previous version and
                    // reports it (`Careloop::published_in_force`).
                    segments.push(careloop_store::PublishedDefinition {
                        id: d.id,
                        version: d.version,
                        body: d.body,
                        published_by: d.published_by,
                        published_at: d.published_at,
                    });
                    continue;
                }
            };
            target.push_str(&item.json);
            target.push('\n');
        }
        if !page.items.is_empty() {
            let inputs = vec![
                ("panel.ndjson".to_owned(), resources.into_bytes()),
                ("engagement.ndjson".to_owned(), engagement.into_bytes()),
            ];
            self.derived.changed(Change::Panel);
            let summary = careloop_fhir::import_named_inputs(
                &mut self.store,
                &inputs,
                careloop_fhir::ImportOptions::default(),
                &mut |_| {},
            )?;
            if let Some(failure) = summary.files_failed.first() {
                return Err(ApiError::new(
                    ErrorCode::BadInput,
                    format!("the server's panel page after {}: {failure}", page.cursor),
                ));
            }
        }
        if !segments.is_empty() {
            let mut known = self.segments_on_server()?;
            let here = self.store.published_definitions()?;
            for definition in &segments {
                // A version already here (published here, or pulled before) is kept as is.
                // When it is this workstation's own, different one, it is still pushed, so
                // that the server says who was first.
                let other_here = here.iter().any(|h| {
                    h.id == definition.id
                        && h.version == definition.version
                        && h.body != definition.body
                });
                self.store.import_definition(definition)?;
                if !other_here {
                    known.insert(format!("{}@{}", definition.id, definition.version));
                }
            }
            self.set_segments_on_server(&known)?;
        }
        self.store
            .set_sync_meta(PANEL_CURSOR, &page.cursor.to_string())?;
        self.count_received(page.items.len() as u64)?;
        Ok(page.items.len() as u32)
    }

    /// The segment definitions published here that the server does not have yet (none on
    /// a coordinator's workstation: only supervisors publish). A version that fails today's
    /// checks (stored before them) is not sent: the server would refuse the whole request,
    /// and every round after it; it stays here, out of force and reported with the
    /// segmentation's warnings.
    pub fn sync_segment_request(&self) -> Result<Option<wire::SegmentPushRequest>> {
        let known = self.segments_on_server()?;
        let definitions: Vec<wire::SegmentDefinitionWire> = self
            .store
            .published_definitions()?
            .into_iter()
            .filter(|d| !known.contains(&format!("{}@{}", d.id, d.version)))
            .filter(|d| careloop_segment::check_definition("published", &d.body).is_ok())
            .map(|d| wire::SegmentDefinitionWire {
                id: d.id,
                version: d.version,
                body: d.body,
                published_by: d.published_by,
                published_at: d.published_at,
            })
            .collect();
        Ok((!definitions.is_empty()).then_some(wire::SegmentPushRequest { definitions }))
    }

    /// Records what the server answered to [`Careloop::sync_segment_request`]; returns why
    /// each superseded definition was not taken.
    pub fn sync_apply_segment_ack(
        &mut self,
        response: &wire::SegmentPushResponse,
    ) -> Result<Vec<String>> {
        let mut known = self.segments_on_server()?;
        let mut superseded = Vec::new();
        for r in &response.results {
            known.insert(format!("{}@{}", r.id, r.version));
            if r.status == wire::SegmentStatus::Superseded {
                superseded.push(format!(
                    "segment {} version {}: {}",
                    r.id,
                    r.version,
                    r.why
                        .as_deref()
                        .unwrap_or("another version was published first")
                ));
            }
        }
        self.set_segments_on_server(&known)?;
        Ok(superseded)
    }

    fn segments_on_server(&self) -> Result<std::collections::BTreeSet<String>> {
        Ok(self
            .store
            .sync_meta(SEGMENTS_ON_SERVER)?
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect())
    }

    fn set_segments_on_server(&mut self, known: &std::collections::BTreeSet<String>) -> Result<()> {
        let text: Vec<&str> = known.iter().map(String::as_str).collect();
        self.store
            .set_sync_meta(SEGMENTS_ON_SERVER, &text.join("\n"))?;
        Ok(())
    }

    /// One whole sync round over `transport`: the panel, segment versions published here,
    /// the outbox (until empty), then everyone's events (until none are left). `at` is recorded as the last sync when it
    /// succeeds; a failure is recorded for the status and returned.
    pub fn sync_once(
        &mut self,
        transport: &mut dyn Transport,
        at: DateTime<Utc>,
    ) -> Result<SyncReport> {
        let outcome = round(&mut &mut *self, transport);
        self.sync_record(&outcome, at)?;
        outcome
    }

    /// Records how a round ended, for [`Careloop::sync_status`]: the time of the last
    /// success, or the error of the last failure.
    pub fn sync_record(&mut self, outcome: &Result<SyncReport>, at: DateTime<Utc>) -> Result<()> {
        match outcome {
            Ok(_) => {
                self.store.set_sync_meta(
                    LAST_SYNC,
                    &at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                )?;
                self.store.set_sync_meta(LAST_ERROR, "")?;
            }
            Err(e) => {
                let recorded = format!("{}\t{}", code_name(e.code), e.message);
                self.store.set_sync_meta(LAST_ERROR, &recorded)?;
            }
        }
        Ok(())
    }

    /// Sync as the desktop shows it.
    pub fn sync_status(&mut self) -> Result<SyncStatus> {
        let open_conflicts = self
            .ops()?
            .fold
            .conflicts
            .iter()
            .filter(|c| c.resolved.is_none())
            .count() as u32;
        self.sync_status_counting(open_conflicts)
    }

    /// The same with the open conflicts given (as counted before a round), so that reading
    /// the status while a round runs does not fold the log again after each page.
    pub fn sync_status_counting(&mut self, open_conflicts: u32) -> Result<SyncStatus> {
        let server = self.store.sync_meta(SERVER_URL)?;
        let last_error = self.store.sync_meta(LAST_ERROR)?.filter(|e| !e.is_empty());
        let offline = last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("offline\t"));
        Ok(SyncStatus {
            configured: server.is_some(),
            server,
            last_sync_at: self.store.sync_meta(LAST_SYNC)?,
            pending: self.store.outbox_count()?,
            offline,
            last_error: last_error.map(|e| e.split_once('\t').map_or(e.clone(), |(_, m)| m.into())),
            open_conflicts,
            received: self.received()?,
            syncing: false,
        })
    }

    /// The operations state and what folding found (superseded events, conflicts), as one
    /// JSON value: two caches holding the same events give the same snapshot, whatever
    /// order the events reached them in. The convergence tests compare these.
    pub fn sync_snapshot(&mut self) -> Result<serde_json::Value> {
        let ops = self.ops()?;
        Ok(careloop_ops::sync::snapshot(&ops.state, &ops.fold))
    }

    /// Conflicts (open and resolved) and superseded events, of one case or all.
    pub fn conflicts(
        &mut self,
        session: &Session,
        case_id: Option<Uuid>,
    ) -> Result<(Vec<ConflictDto>, Vec<SupersededDto>)> {
        self.authorize(session, Operation::ViewCase, "view conflicts", None, None)?;
        let fold = &self.ops()?.fold;
        let wanted = |c: Uuid| case_id.is_none_or(|id| id == c);
        let conflicts = fold
            .conflicts
            .iter()
            .filter(|c| wanted(c.case_id))
            .map(|c| ConflictDto {
                case_id: c.case_id.to_string(),
                patient_id: c.patient_id.clone(),
                events: c.events.iter().map(Uuid::to_string).collect(),
                kinds: c.kinds.to_vec(),
                actors: c.actors.to_vec(),
                resolved_by: c.resolved.as_ref().map(|r| r.0.clone()),
                kept: c.resolved.as_ref().map(|r| r.1.to_string()),
                note: c.resolved.as_ref().map(|r| r.2.clone()),
            })
            .collect();
        let superseded = fold
            .superseded
            .iter()
            .filter(|s| wanted(s.case_id))
            .map(|s| SupersededDto {
                event_id: s.event_id.to_string(),
                case_id: s.case_id.to_string(),
                actor: s.actor.clone(),
                kind: s.kind.clone(),
                why: s.why.clone(),
            })
            .collect();
        Ok((conflicts, superseded))
    }

    /// A person's decision on a conflict: which event stands, and why. Appended to the log
    /// (both events stay) with its audit entry.
    pub fn resolve_conflict(
        &mut self,
        session: &Session,
        resolution: Resolution,
    ) -> Result<String> {
        let target = Some(format!("case {}", resolution.case_id));
        self.authorize(
            session,
            Operation::ResolveConflict,
            "resolve a conflict",
            None,
            target.clone(),
        )?;
        let ops = self.ops()?;
        ops.fold.check_resolution(&resolution)?;
        let patient_id = ops
            .state
            .cases
            .get(&resolution.case_id)
            .map(|c| c.patient_id.clone())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("no case {}", resolution.case_id),
                )
            })?;
        let id = crate::operations::new_event_id(session.at);
        let event = NewEvent {
            id,
            kind: RESOLUTION_KIND.to_owned(),
            subject: patient_id.clone(),
            actor: session.user.clone(),
            occurred_at: session.at,
            payload: serde_json::to_value(ResolutionPayload {
                role: session.role,
                resolution,
            })
            .map_err(ApiError::internal)?,
            payload_version: 1,
        };
        let entry = NewAuditEntry {
            at: session.at,
            actor: session.user.clone(),
            role: session.role.to_string(),
            action: "resolve a conflict".into(),
            patient_id: Some(patient_id),
            target,
            outcome: AuditOutcome::Allowed,
        };
        self.store
            .append_events_with_audit(std::slice::from_ref(&event), &[entry])?;
        self.derived.changed(Change::Resolved);
        Ok(id.to_string())
    }
}

/// Access to a cache for the length of one step: the desktop locks its cache per step, so
/// that the network never holds the lock the UI's commands wait for.
pub(crate) trait CacheAccess {
    fn with<T>(&mut self, f: impl FnOnce(&mut Careloop) -> Result<T>) -> Result<T>;
}

impl CacheAccess for &mut Careloop {
    fn with<T>(&mut self, f: impl FnOnce(&mut Careloop) -> Result<T>) -> Result<T> {
        f(self)
    }
}

/// One sync round: the panel, segment versions published here, the outbox (until empty),
/// then everyone's events (until none are left). The cache is touched only between network
/// calls.
pub(crate) fn round(
    cache: &mut impl CacheAccess,
    transport: &mut dyn Transport,
) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    loop {
        let after = cache.with(|c| c.sync_panel_cursor())?;
        let page = transport.panel(after, PANEL_PAGE)?;
        report.panel_items += cache.with(|c| c.sync_apply_panel(&page))?;
        if !page.more {
            break;
        }
    }
    if let Some(directory) = transport.directory()? {
        cache.with(|c| c.sync_apply_directory(&directory))?;
    }
    if let Some(request) = cache.with(|c| c.sync_segment_request())? {
        let response = transport.push_segments(&request)?;
        report
            .superseded
            .extend(cache.with(|c| c.sync_apply_segment_ack(&response))?);
        report.segments_pushed += request.definitions.len() as u32;
    }
    loop {
        let request = cache.with(|c| c.sync_push_request())?;
        let response = transport.push(&request)?;
        check_ack(&request, &response)?;
        cache.with(|c| c.sync_apply_ack(&response))?;
        report.pushed += request.events.len() as u32;
        for r in &response.results {
            if r.status == wire::PushStatus::Duplicate {
                report.duplicates += 1;
            }
            if let Some(why) = &r.superseded {
                report.superseded.push(format!("{}: {why}", r.id));
            }
        }
        if request.events.len() < PUSH_BATCH as usize {
            break;
        }
    }
    loop {
        let after = cache.with(|c| c.sync_events_cursor())?;
        let page = transport.pull(after, PULL_PAGE)?;
        report.pulled += cache.with(|c| c.sync_apply_pull(&page))?;
        if !page.more {
            break;
        }
    }
    Ok(report)
}

/// What a desktop session needs to reach its server; the shell (src-tauri) makes it with
/// careloop-sync, so this crate stays free of HTTP.
pub trait Connector: Send + Sync {
    /// Signs in with `password`, or with `None` resumes from the refresh token kept in the
    /// OS keyring.
    fn connect(&self, request: &ConnectRequest) -> Result<Connected>;
}

/// A signed-in server session.
pub struct Connected {
    pub transport: Box<dyn Transport + Send>,
    /// The certificate's SHA-256 the server showed (pinned on first use).
    pub seen_pin: Option<String>,
    /// The user's role on the server.
    pub role: String,
}

/// Where and as whom to connect.
#[derive(Clone)]
pub struct ConnectRequest {
    pub url: String,
    pub pin: Option<String>,
    /// A CA the server's certificate must chain to (PEM), instead of a pin.
    pub ca: Option<String>,
    pub user: String,
    pub password: Option<String>,
    pub workstation: String,
}

impl std::fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectRequest")
            .field("url", &self.url)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The sync value holding the server's URL.
pub const SERVER_URL: &str = "server_url";
/// The sync value holding the server certificate's pinned SHA-256 (trust on first use).
pub const SERVER_PIN: &str = "server_pin";
/// The sync value holding the CA (PEM) the server's certificate must chain to, when given.
pub const SERVER_CA: &str = "server_ca";

fn cursor(value: &Option<String>) -> Result<i64> {
    match value {
        None => Ok(0),
        Some(text) => text.parse().map_err(|_| {
            ApiError::internal(format!("the stored sync cursor {text:?} is not a number"))
        }),
    }
}

/// The server must acknowledge exactly what was pushed, in order.
fn check_ack(request: &wire::PushRequest, response: &wire::PushResponse) -> Result<()> {
    let sent: Vec<Uuid> = request.events.iter().map(|e| e.id).collect();
    let acked: Vec<Uuid> = response.results.iter().map(|r| r.id).collect();
    if sent != acked {
        return Err(ApiError::internal(format!(
            "the server acknowledged {} events for a push of {}; nothing was recorded",
            acked.len(),
            sent.len()
        )));
    }
    Ok(())
}

fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "internal".into())
}

/// When a workstation syncs next: every `base` while rounds succeed; after failures (offline,
/// a server restarting) the wait doubles up to `max`, with a spread of up to a quarter of it
/// taken from `seed`, so that many workstations do not all come back at the same second.
#[derive(Clone, Debug)]
pub struct Backoff {
    base: std::time::Duration,
    max: std::time::Duration,
    seed: u64,
    failures: u32,
}

impl Backoff {
    pub fn new(base: std::time::Duration, max: std::time::Duration, seed: u64) -> Backoff {
        Backoff {
            base,
            max: max.max(base),
            seed,
            failures: 0,
        }
    }

    /// The wait before the next round, given whether the last one succeeded.
    pub fn next(&mut self, succeeded: bool) -> std::time::Duration {
        if succeeded {
            self.failures = 0;
            return self.base;
        }
        self.failures = self.failures.saturating_add(1);
        let doubled = self
            .base
            .saturating_mul(1u32 << self.failures.min(20))
            .min(self.max);
        let mixed = self
            .seed
            .wrapping_add(u64::from(self.failures))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let quarter = (doubled.as_millis() / 4).max(1) as u64;
        (doubled + std::time::Duration::from_millis((mixed >> 33) % quarter)).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_after_failures_up_to_the_cap_and_resets_after_a_success() {
        let secs = Duration::from_secs;
        let mut b = Backoff::new(secs(30), secs(600), 7);
        assert_eq!(b.next(true), secs(30));
        let waits: Vec<Duration> = (0..8).map(|_| b.next(false)).collect();
        for (i, wait) in waits.iter().enumerate() {
            let doubled = secs(30 * (1 << (i + 1))).min(secs(600));
            assert!(
                *wait >= doubled.min(secs(600)) && *wait <= secs(600),
                "{i}: {wait:?}"
            );
            assert!(*wait <= doubled + doubled / 4, "{i}: {wait:?}");
        }
        assert_eq!(*waits.last().unwrap(), secs(600), "capped");
        assert_eq!(b.next(true), secs(30));
        // Two workstations back from the same outage wait differently.
        let mut a = Backoff::new(secs(30), secs(600), 1);
        let mut c = Backoff::new(secs(30), secs(600), 2);
        assert_ne!(a.next(false), c.next(false));
    }
}
