//! `/api/v1`: the handlers, and the extractors that turn a bad request into a typed error
//! before any handler runs (the body's JSON and size, the query, the bearer token).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use careloop_ops::events::{Payload, Recorded, KINDS};
use careloop_ops::sync::{Envelope, Fold, Resolution, RESOLUTION_KIND};
use careloop_ops::{OpsState, Policy};
use careloop_wire::{
    LoginRequest, PanelKind, PanelPage, PullResponse, PushRequest, PushResponse, PushResult,
    RefreshRequest, SegmentDefinitionWire, SegmentPushRequest, SegmentPushResponse,
    SegmentPushResult, SegmentStatus, Tokens, WireEvent,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{self, Caller, HashPool, Lifetimes, Lockout, SecurityEvent, Throttle};
use crate::error::{a_role, Result, ServerError};
use crate::storage::{PanelLine, RecordedHead, Storage};
use crate::Clock;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub clock: Clock,
    pub lifetimes: Lifetimes,
    pub max_body_bytes: usize,
    /// Each team's fold of its events in server order: how the server arbitrates (a claim
    /// after another's in this order changes nothing, and the pusher is told why).
    pub folds: Arc<Mutex<HashMap<String, TeamFold>>>,
    /// Where password checks run (bounded: a sign-in flood gets 429, not the memory).
    pub hashes: Arc<HashPool>,
    /// Failed sign-ins per account and per address.
    pub throttle: Arc<Throttle>,
    /// A request (body and handler) that takes longer is answered 408.
    pub request_timeout: std::time::Duration,
}

/// The address a request came from (set by the connection loop).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::IpAddr);

#[derive(Default)]
pub struct TeamFold {
    state: OpsState,
    fold: Fold,
    superseded: HashMap<Uuid, String>,
}

impl TeamFold {
    pub(crate) fn snapshot(&self) -> serde_json::Value {
        careloop_ops::sync::snapshot(&self.state, &self.fold)
    }

    pub(crate) fn apply(&mut self, event: &WireEvent) {
        let policy = Policy::default();
        let before = self.fold.superseded.len();
        if let Some(entry) = parse(event) {
            let envelope = match &entry {
                Parsed::Op(recorded, after) => Envelope::Op {
                    recorded,
                    after: *after,
                },
                Parsed::Resolution(resolution) => Envelope::Resolution {
                    id: event.id,
                    actor: &event.actor,
                    resolution,
                },
            };
            // Whether it took effect shows in `superseded`, read below.
            self.fold.apply(&mut self.state, envelope, &policy);
        }
        for s in &self.fold.superseded[before..] {
            self.superseded.insert(s.event_id, s.why.clone());
        }
    }
}

enum Parsed {
    Op(Box<Recorded>, Option<Uuid>),
    Resolution(Resolution),
}

#[derive(Deserialize)]
struct ResolutionPayload {
    resolution: Resolution,
}

fn parse(e: &WireEvent) -> Option<Parsed> {
    if KINDS.contains(&e.kind.as_str()) {
        let payload: Payload = serde_json::from_value(e.payload.clone()).ok()?;
        let (recorded, after) = payload.recorded(e.id, e.occurred_at, &e.actor, &e.subject);
        Some(Parsed::Op(Box::new(recorded), after))
    } else if e.kind == RESOLUTION_KIND {
        let payload: ResolutionPayload = serde_json::from_value(e.payload.clone()).ok()?;
        Some(Parsed::Resolution(payload.resolution))
    } else {
        None
    }
}

fn role_of(e: &WireEvent) -> Option<String> {
    e.payload
        .get("role")
        .and_then(|r| r.as_str())
        .map(str::to_owned)
}

/// The router of `/api/v1`.
pub fn router(state: AppState) -> Router {
    let limit = state.max_body_bytes;
    let request_timeout = state.request_timeout;
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/events", post(push).get(pull))
        .route("/api/v1/panel", get(panel))
        .route("/api/v1/segments", post(push_segments))
        .route("/api/v1/audit-heads", get(audit_heads))
        .route("/api/v1/directory", get(directory))
        .merge(crate::exchange::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            request_timeout,
            within_time,
        ))
        // Outermost, so that its latency and status include the time-out's 408.
        .layer(axum::middleware::from_fn(crate::logging::log_request))
        .with_state(state)
}

/// A request whose body does not arrive, or whose handler does not finish, in time is
/// answered 408 (the connection's idle and header time-outs cover the rest).
async fn within_time(
    State(limit): State<std::time::Duration>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ServerError::Timeout {
            seconds: limit.as_secs(),
        }
        .into_response(),
    }
}

/// Runs storage work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&AppState) -> Result<T> + Send + 'static,
) -> Result<T> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state))
        .await
        .map_err(|e| ServerError::Internal(format!("a worker failed: {e}")))?
}

/// JSON bodies, with every rejection mapped to a [`ServerError`].
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
    AppState: axum::extract::FromRef<S>,
{
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        let limit = <AppState as axum::extract::FromRef<S>>::from_ref(state).max_body_bytes;
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(ServerError::MalformedJson(e.body_text()))
            }
            Err(JsonRejection::JsonDataError(e)) => Err(ServerError::InvalidBody(e.body_text())),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ServerError::UnsupportedMediaType),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ServerError::PayloadTooLarge { limit })
            }
            Err(e) => Err(ServerError::BadRequest(e.body_text())),
        }
    }
}

/// A page query: `?after=N&limit=M`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[serde(default)]
    after: i64,
    limit: Option<u32>,
}

pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e: QueryRejection| ServerError::BadRequest(e.body_text()))
    }
}

fn page(q: &PageQuery, default: u32, max: u32) -> Result<(i64, u32)> {
    if q.after < 0 {
        return Err(ServerError::BadRequest(format!(
            "after must be 0 or more, not {}",
            q.after
        )));
    }
    let limit = q.limit.unwrap_or(default);
    if limit == 0 || limit > max {
        return Err(ServerError::BadRequest(format!(
            "limit must be between 1 and {max}, not {limit}"
        )));
    }
    Ok((q.after, limit))
}

/// The signed-in caller (`Authorization: Bearer <access token>`).
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ServerError::Unauthorized("no access token: sign in".into()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ServerError::Unauthorized(
                    "the Authorization header must be \"Bearer <token>\"".into(),
                )
            })?
            .trim()
            .to_owned();
        let caller = blocking(state, move |s| {
            auth::authenticate(s.storage.as_ref(), &token, (s.clock)())
        })
        .await?;
        Ok(Authed(caller))
    }
}

/// Roles that work with people's records (an admin runs the installation and sees none; a
/// partner's user works on the partner page only).
fn require_care_role(caller: &Caller) -> Result<()> {
    if matches!(
        caller.role.as_str(),
        "coordinator" | "clinician" | "supervisor"
    ) {
        Ok(())
    } else {
        Err(ServerError::Forbidden(format!(
            "{} may not read or write people's records",
            a_role(&caller.role)
        )))
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

async fn not_found() -> ServerError {
    ServerError::NotFound("no such endpoint under /api/v1".into())
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ServerError {
    ServerError::MethodNotAllowed(format!(
        "{method} is not an operation of {}; see schema/openapi.json",
        uri.path()
    ))
}

/// The outcome of a sign-in or refresh, logged by its code only: never the name as typed
/// (it may be anything, a patient's name typed in the wrong field), never the message.
fn log_auth_outcome<T>(what: &'static str, result: &Result<T>) {
    match result {
        Ok(_) => tracing::info!(target: "careloop_server::auth", what, outcome = "ok", "accepted"),
        Err(e) => tracing::info!(
            target: "careloop_server::auth",
            what,
            outcome = e.status_and_code().1,
            "refused"
        ),
    }
}

/// Password sign-in: sizes checked, then the throttle, then the password on the hashing
/// pool (an unknown user is checked against a dummy hash, so every failure takes as long
/// and reads the same); failures and locks are kept as security events.
async fn login(
    state: State<AppState>,
    address: Option<axum::Extension<ClientAddr>>,
    req: ApiJson<LoginRequest>,
) -> Result<Json<Tokens>> {
    let result = login_checked(state, address, req).await;
    log_auth_outcome("login", &result);
    result
}

async fn login_checked(
    State(state): State<AppState>,
    address: Option<axum::Extension<ClientAddr>>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<Tokens>> {
    password_sign_in(&state, address.map(|a| a.0 .0), req)
        .await
        .map(Json)
}

/// A password sign-in, throttled and checked on the hashing pool; failures and locks are
/// kept as security events. The one path of `/api/v1/auth/login` and the partner page.
pub(crate) async fn password_sign_in(
    state: &AppState,
    address: Option<std::net::IpAddr>,
    req: LoginRequest,
) -> Result<Tokens> {
    auth::check_login_fields(&req.user, &req.password, &req.workstation)?;
    state.throttle.check(&req.user, address, (state.clock)())?;
    let name = req.user.clone();
    let user = blocking(state, move |s| s.storage.user(&name)).await?;
    let matches = state
        .hashes
        .verify(req.password, user.as_ref().map(|u| u.password_hash.clone()))
        .await?;
    let now = (state.clock)();
    match user {
        Some(user) if matches && !user.disabled => {
            state.throttle.succeeded(&req.user, address);
            blocking(state, move |s| {
                auth::issue_after_password(
                    s.storage.as_ref(),
                    &user,
                    &req.workstation,
                    now,
                    s.lifetimes,
                )
            })
            .await
        }
        user => {
            let disabled = user.as_ref().is_some_and(|u| u.disabled) && matches;
            let locks = state.throttle.failed(&req.user, address, now);
            let name = req.user.clone();
            blocking(state, move |s| {
                let address = address.map(|a| a.to_string());
                let mut events = vec![SecurityEvent {
                    at: now,
                    kind: "sign_in_failed".into(),
                    user: name.clone(),
                    address: address.clone(),
                    detail: if disabled {
                        "the account is disabled".into()
                    } else {
                        "unknown user or wrong password".into()
                    },
                }];
                for lock in locks {
                    tracing::warn!(
                        target: "careloop_server::auth",
                        lock = match lock {
                            Lockout::Account => "account",
                            Lockout::Address => "address",
                        },
                        "sign-ins locked after too many failures"
                    );
                    events.push(SecurityEvent {
                        at: now,
                        kind: match lock {
                            Lockout::Account => "account_locked".into(),
                            Lockout::Address => "address_locked".into(),
                        },
                        user: name.clone(),
                        address: address.clone(),
                        detail: "too many failed sign-ins".into(),
                    });
                }
                for event in &events {
                    s.storage.record_security_event(event)?;
                }
                Ok(())
            })
            .await?;
            Err(auth::bad_sign_in())
        }
    }
}

async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<Tokens>> {
    let result = blocking(&state, move |s| {
        auth::refresh(
            s.storage.as_ref(),
            &req.refresh_token,
            (s.clock)(),
            s.lifetimes,
        )
    })
    .await
    .map(Json);
    log_auth_outcome("refresh", &result);
    result
}

async fn logout(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<StatusCode> {
    blocking(&state, move |s| {
        auth::logout(s.storage.as_ref(), &req.refresh_token)
    })
    .await?;
    tracing::info!(target: "careloop_server::auth", "signed out");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct Me {
    user: String,
    role: String,
    team: String,
}

/// The services directory: where a referral can go.
async fn directory(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<Json<careloop_wire::Directory>> {
    require_care_role(&caller)?;
    blocking(&state, |s| Ok(Json(s.storage.directory()?))).await
}

async fn me(Authed(caller): Authed) -> Json<Me> {
    Json(Me {
        user: caller.user,
        role: caller.role,
        team: caller.team,
    })
}

/// Checks every event of a push before anything is stored: the whole push is refused, with
/// the event named, when one is malformed, someone else's, or about a person outside the
/// caller's team.
fn check_push(storage: &dyn Storage, caller: &Caller, req: &PushRequest) -> Result<()> {
    if req.workstation.trim().is_empty() || req.workstation.len() > auth::MAX_WORKSTATION_LEN {
        return Err(ServerError::BadRequest(
            "workstation must be its id (1 to 64 characters)".into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (index, e) in req.events.iter().enumerate() {
        let at = format!("events[{index}] ({})", e.id);
        careloop_store::NewEvent::from(e.clone())
            .validate()
            .map_err(|err| ServerError::BadRequest(format!("{at}: {err}")))?;
        if !seen.insert(e.id) {
            return Err(ServerError::BadRequest(format!(
                "{at}: the same id twice in one push"
            )));
        }
        if parse(e).is_none() {
            return Err(ServerError::BadRequest(format!(
                "{at}: kind {:?} with this payload is not an event Careloop knows",
                e.kind
            )));
        }
        if e.actor != caller.user {
            return Err(ServerError::Forbidden(format!(
                "{at}: recorded by another user; each user pushes their own events"
            )));
        }
        if role_of(e).as_deref() != Some(caller.role.as_str()) {
            return Err(ServerError::Forbidden(format!(
                "{at}: recorded in another role than the signed-in {}",
                caller.role
            )));
        }
        if let Some((_, _, _, partner)) = crate::exchange::partner_referral(e) {
            let offered = storage
                .partner_service(&partner.service_id)?
                .is_some_and(|(org, _)| org == partner.organization);
            if !offered {
                return Err(ServerError::BadRequest(format!(
                    "{at}: service {} of partner {} is not in the directory",
                    partner.service_id, partner.organization
                )));
            }
        }
        if !storage.in_panel(&caller.team, &e.subject)? {
            return Err(ServerError::Forbidden(format!(
                "{at}: the person is not in team {}'s panel",
                caller.team
            )));
        }
    }
    Ok(())
}

async fn push(
    State(state): State<AppState>,
    Authed(caller): Authed,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>> {
    require_care_role(&caller)?;
    blocking(&state, move |s| {
        check_push(s.storage.as_ref(), &caller, &req)?;
        if let Some(head) = &req.audit_head {
            if head.seq < 1
                || head.hash.len() != 64
                || !head.hash.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(ServerError::BadRequest(
                    "audit_head: seq must be 1 or more and hash 64 hexadecimal digits".into(),
                ));
            }
        }
        // One team's pushes are ordered: the fold sees them in server order.
        let mut folds = s
            .folds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stored = s
            .storage
            .push(&caller.team, &caller.workstation, &req.events)?;
        let fold = folds.entry(caller.team.clone()).or_default();
        let mut results = Vec::with_capacity(stored.len());
        for (event, stored) in req.events.iter().zip(stored) {
            if stored.status == careloop_wire::PushStatus::Accepted {
                fold.apply(event);
            }
            results.push(PushResult {
                id: stored.id,
                server_seq: stored.server_seq,
                status: stored.status,
                superseded: fold.superseded.get(&stored.id).cloned(),
            });
        }
        drop(folds);
        // The head is the workstation's the token was issued to at sign-in, in the caller's
        // team: a request body cannot speak for another workstation's chain.
        if let Some(head) = req.audit_head {
            s.storage.record_audit_head(&RecordedHead {
                team: caller.team.clone(),
                workstation: caller.workstation.clone(),
                user: caller.user.clone(),
                head,
                at: (s.clock)(),
                regression: None,
            })?;
        }
        Ok(Json(PushResponse { results }))
    })
    .await
    .inspect(|Json(response)| {
        let tally = response.tally();
        tracing::info!(
            target: "careloop_server::sync",
            events = response.results.len(),
            accepted = tally.accepted,
            duplicates = tally.duplicates,
            superseded = tally.superseded,
            "push stored"
        );
    })
}

async fn pull(
    State(state): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<PullResponse>> {
    require_care_role(&caller)?;
    let (after, limit) = page(&q, careloop_wire::PULL_PAGE, 5_000)?;
    blocking(&state, move |s| {
        let (events, more) = s.storage.pull(&caller.team, after, limit)?;
        let cursor = events.last().map_or(after, |e| e.server_seq);
        Ok(Json(PullResponse {
            events,
            cursor,
            more,
        }))
    })
    .await
    .inspect(|Json(page)| {
        tracing::debug!(
            target: "careloop_server::sync",
            events = page.events.len(),
            more = page.more,
            "pull page"
        );
    })
}

async fn panel(
    State(state): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<PanelPage>> {
    require_care_role(&caller)?;
    let (after, limit) = page(&q, careloop_wire::PANEL_PAGE, 20_000)?;
    blocking(&state, move |s| {
        let (items, more) = s.storage.panel_page(&caller.team, after, limit)?;
        let cursor = items.last().map_or(after, |i| i.seq);
        Ok(Json(PanelPage {
            items,
            cursor,
            more,
            team: caller.team.clone(),
        }))
    })
    .await
    .inspect(|Json(page)| {
        tracing::debug!(
            target: "careloop_server::sync",
            items = page.items.len(),
            more = page.more,
            "panel page"
        );
    })
}

/// A supervisor's published segment definitions, added to the team's panel: the first
/// version published under an id and version stands; the same again is a duplicate; other
/// content under it is superseded (kept out, with why).
async fn push_segments(
    State(state): State<AppState>,
    Authed(caller): Authed,
    ApiJson(req): ApiJson<SegmentPushRequest>,
) -> Result<Json<SegmentPushResponse>> {
    if caller.role != "supervisor" {
        return Err(ServerError::Forbidden(format!(
            "{} may not publish segment definitions",
            a_role(&caller.role)
        )));
    }
    let mut lines = Vec::new();
    for (index, d) in req.definitions.iter().enumerate() {
        let at = format!("definitions[{index}] ({} version {})", d.id, d.version);
        if d.published_by != caller.user {
            return Err(ServerError::Forbidden(format!(
                "{at}: published by another user; each supervisor sends their own"
            )));
        }
        let checked = careloop_segment::check_definition(&at, &d.body)
            .map_err(|e| ServerError::BadRequest(e.to_string()))?;
        if checked.definition.id != d.id || checked.definition.version != d.version {
            return Err(ServerError::BadRequest(format!(
                "{at}: the body defines {} version {}",
                checked.definition.id, checked.definition.version
            )));
        }
        if chrono::DateTime::parse_from_rfc3339(&d.published_at).is_err() {
            return Err(ServerError::BadRequest(format!(
                "{at}: published_at must be an RFC 3339 time"
            )));
        }
        lines.push(PanelLine {
            kind: PanelKind::Segment,
            key: format!("segment/{}/{}", d.id, d.version),
            patient_id: None,
            json: serde_json::to_string(d).map_err(|e| ServerError::Internal(e.to_string()))?,
        });
    }
    blocking(&state, move |s| {
        let known = s.storage.publish_once(&caller.team, &lines)?;
        let results = req
            .definitions
            .iter()
            .zip(known)
            .map(|(d, known)| {
                let (status, why) = match known {
                    None => (SegmentStatus::Published, None),
                    Some(json) if json == serde_json::to_string(d).unwrap_or_default() => {
                        (SegmentStatus::Duplicate, None)
                    }
                    Some(json) => {
                        let first: Option<SegmentDefinitionWire> = serde_json::from_str(&json).ok();
                        let by = first.map_or_else(|| "another supervisor".to_owned(), |f| f.published_by);
                        (
                            SegmentStatus::Superseded,
                            Some(format!(
                                "{by} published version {} first; publish yours again as a newer version",
                                d.version
                            )),
                        )
                    }
                };
                SegmentPushResult {
                    id: d.id.clone(),
                    version: d.version,
                    status,
                    why,
                }
            })
            .collect();
        Ok(Json(SegmentPushResponse { results }))
    })
    .await
    .inspect(|Json(response)| {
        let count = |status| {
            response
                .results
                .iter()
                .filter(|r| r.status == status)
                .count()
        };
        tracing::info!(
            target: "careloop_server::sync",
            definitions = response.results.len(),
            published = count(SegmentStatus::Published),
            duplicates = count(SegmentStatus::Duplicate),
            superseded = count(SegmentStatus::Superseded),
            "segment definitions stored"
        );
    })
}

#[derive(Serialize)]
struct HeadRow {
    team: String,
    workstation: String,
    user: String,
    seq: i64,
    hash: String,
    at: String,
    regression: Option<String>,
}

async fn audit_heads(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<Json<Vec<HeadRow>>> {
    if !matches!(caller.role.as_str(), "supervisor" | "admin") {
        return Err(ServerError::Forbidden(format!(
            "{} may not read the audit heads",
            a_role(&caller.role)
        )));
    }
    blocking(&state, move |s| {
        Ok(Json(
            s.storage
                .audit_heads(Some(&caller.team))?
                .into_iter()
                .map(|h| HeadRow {
                    team: h.team,
                    workstation: h.workstation,
                    user: h.user,
                    seq: h.head.seq,
                    hash: h.head.hash,
                    at: h.at.to_rfc3339(),
                    regression: h.regression,
                })
                .collect(),
        ))
    })
    .await
}
