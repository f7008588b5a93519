//! The referral exchange: a referral a coordinator sends to a service of the directory
//! becomes a FHIR R4 `Task` (intent `order`, focus a contained `ServiceRequest`, owner the
//! partner `Organization`, as in the Gravity SDOH Clinical Care IG) that the receiving
//! organisation answers itself, through `/fhir` with SMART Backend Services tokens:
//!
//! - `POST /fhir/auth/token`: a client assertion (a JWT signed ES384 or RS384 with a key of
//!   the client's registered JWKS) for an access token of 5 minutes, scoped `system/Task.*`.
//! - `GET /fhir/Task?owner=Organization/ID&status=requested`: the partner's own Tasks.
//! - `GET /fhir/Task/ID`, `PUT /fhir/Task/ID` (a Task), `PATCH /fhir/Task/ID` (JSON Patch):
//!   read and answer: accepted | rejected (with `statusReason`) | in-progress (with
//!   `executionPeriod.start`) | completed (with the outcome in `output` or `note`).
//!
//! Each answer is stored with the event it makes on the case (`referral.updated`, by the
//! partner) in one transaction, and folded like a workstation's push: the coordinator sees
//! who answered and when after the next sync, and the deadlines and escalations of a
//! referral apply as to any other. Minimum necessary: a Task shows the person's name, date
//! of birth, contact details and language, the referral's reason and consent, nothing else;
//! a partner reads and answers only its own Tasks, and every partner call is logged
//! ([`store::PartnerAccess`]).
//!
//! Partners without a system use the partner page (`/partner`, [`page`]): the same answers
//! through HTML forms, for users of role `partner`.

pub mod jwt;
pub mod page;
pub mod store;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use careloop_ops::events::{PartnerRef, Payload};
use careloop_ops::{OpEvent, ReferralStatus, Role};
use careloop_wire::WireEvent;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{Result, ServerError};
use crate::routes::{blocking, ApiJson, ApiQuery, AppState};
use store::{PartnerAccess, PartnerToken, TaskRow};

/// How long a partner access token lives.
pub const TOKEN_SECONDS: i64 = 300;
/// The longest note, reason or outcome a partner may give.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// The Task statuses of the exchange, in their order.
pub const TASK_STATUSES: &[&str] = &[
    "requested",
    "accepted",
    "rejected",
    "in-progress",
    "completed",
];

/// The Task a pushed event makes: a referral sent to a directory service.
pub(crate) fn task_for_event(team: &str, e: &WireEvent) -> Option<TaskRow> {
    let (referral_id, case_id, note, partner) = partner_referral(e)?;
    Some(TaskRow {
        id: referral_id,
        team: team.to_owned(),
        org: partner.organization,
        service_id: partner.service_id,
        case_id,
        patient_id: e.subject.clone(),
        status: "requested".to_owned(),
        reason: note,
        consent: partner.consent,
        authored_on: e.occurred_at,
        last_modified: e.occurred_at,
        version: 1,
        status_reason: None,
        start_date: None,
        outcome: None,
        answered_by: None,
    })
}

/// (referral, case, note, partner) of a `referral.sent` event to a directory service.
pub(crate) fn partner_referral(e: &WireEvent) -> Option<(Uuid, Uuid, String, PartnerRef)> {
    if e.kind != "referral.sent" {
        return None;
    }
    let payload: Payload = serde_json::from_value(e.payload.clone()).ok()?;
    match payload.event {
        OpEvent::ReferralSent {
            referral_id,
            case_id,
            note,
            partner: Some(partner),
            ..
        } => Some((referral_id, case_id, note, partner)),
        _ => None,
    }
}

/// `/fhir`: the partners' side of the exchange.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/fhir/.well-known/smart-configuration",
            get(smart_configuration),
        )
        .route("/fhir/auth/token", post(token))
        .route("/fhir/Task", get(search))
        .route("/fhir/Task/{id}", get(read).put(put).patch(patch))
        .merge(page::router())
}

/// An error of `/fhir`: the status of [`ServerError::status_and_code`], the body a FHIR
/// `OperationOutcome`.
pub struct FhirError(pub ServerError);

impl From<ServerError> for FhirError {
    fn from(e: ServerError) -> FhirError {
        FhirError(e)
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let (status, code) = self.0.status_and_code();
        let issue_code = match status {
            StatusCode::UNAUTHORIZED => "login",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::CONFLICT => "business-rule",
            StatusCode::PAYLOAD_TOO_LARGE => "too-long",
            s if s.is_server_error() => "exception",
            _ => "invalid",
        };
        let body = json!({
            "resourceType": "OperationOutcome",
            "issue": [{
                "severity": "error",
                "code": issue_code,
                "details": {"text": code},
                "diagnostics": self.0.to_string(),
            }]
        });
        let mut response = (status, fhir_json(body)).into_response();
        response
            .extensions_mut()
            .insert(crate::logging::ErrorCodeTag(code));
        response
    }
}

type FhirResult<T> = std::result::Result<T, FhirError>;

fn fhir_json(body: Value) -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/fhir+json")],
        Json(body),
    )
}

/// The calling partner: a live access token issued by [`token`].
pub struct PartnerAuthed(pub PartnerToken);

impl FromRequestParts<AppState> for PartnerAuthed {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> FhirResult<Self> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned())
            .ok_or_else(|| {
                ServerError::Unauthorized(
                    "no access token: get one at /fhir/auth/token (SMART Backend Services)".into(),
                )
            })?;
        let found = blocking(state, move |s| {
            use sha2::{Digest, Sha256};
            let digest = hex::encode(Sha256::digest(token.as_bytes()));
            let found = s.storage.partner_token(&digest)?;
            let now = (s.clock)();
            match found {
                Some(t) if t.expires_at > now => {
                    let live = s
                        .storage
                        .partner_client(&t.client_id)?
                        .is_some_and(|c| !c.disabled);
                    if live {
                        Ok(t)
                    } else {
                        Err(ServerError::Unauthorized("the client is disabled".into()))
                    }
                }
                Some(_) => Err(ServerError::Unauthorized(
                    "the access token expired: get a new one".into(),
                )),
                None => Err(ServerError::Unauthorized(
                    "not a partner access token of this server".into(),
                )),
            }
        })
        .await?;
        Ok(PartnerAuthed(found))
    }
}

/// Logs a partner call and passes its result on.
fn logged<T>(
    state: &AppState,
    caller: &PartnerToken,
    action: &str,
    task: Option<&str>,
    result: Result<T>,
) -> Result<T> {
    let outcome = match &result {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.status_and_code().1.to_owned(),
    };
    state.storage.record_partner_access(&PartnerAccess {
        at: (state.clock)(),
        client_id: caller.client_id.clone(),
        org: caller.org.clone(),
        action: action.to_owned(),
        task_id: task.map(str::to_owned),
        outcome,
    })?;
    if let Err(e) = &result {
        if matches!(e, ServerError::Forbidden(_)) {
            tracing::warn!(
                target: "careloop_server::exchange",
                action,
                "a partner was refused another organisation's Task"
            );
        }
    }
    result
}

fn token_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("https://{host}/fhir/auth/token")
}

async fn smart_configuration(headers: HeaderMap) -> Json<Value> {
    Json(json!({
        "token_endpoint": token_url(&headers),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES384", "RS384"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": ["system/Task.rs", "system/Task.u", "system/Task.read", "system/Task.write"],
        "capabilities": ["client-confidential-asymmetric"],
    }))
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    client_assertion_type: String,
    client_assertion: String,
    #[serde(default)]
    scope: String,
}

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The scopes a partner may hold: reading and updating its Tasks.
fn granted_scope(requested: &str) -> Result<String> {
    let mut granted = Vec::new();
    for scope in requested.split_whitespace() {
        let ok = matches!(
            scope,
            "system/Task.read"
                | "system/Task.write"
                | "system/Task.*"
                | "system/Task.rs"
                | "system/Task.r"
                | "system/Task.s"
                | "system/Task.u"
                | "system/Task.rsu"
                | "system/Task.rus"
        );
        if !ok {
            return Err(ServerError::BadRequest(format!(
                "scope {scope:?} is not offered: a partner may ask for system/Task.rs and system/Task.u (or system/Task.read, system/Task.write)"
            )));
        }
        granted.push(scope);
    }
    if granted.is_empty() {
        return Err(ServerError::BadRequest(
            "scope is required (e.g. \"system/Task.rs system/Task.u\")".into(),
        ));
    }
    Ok(granted.join(" "))
}

/// Whether a granted scope allows reading (`r`) or updating (`u`) Tasks.
fn scope_allows(scope: &str, what: char) -> bool {
    scope.split_whitespace().any(|s| {
        let Some(perm) = s.strip_prefix("system/Task.") else {
            return false;
        };
        match perm {
            "*" => true,
            "read" => what == 'r',
            "write" => what == 'u',
            letters => letters.contains(what),
        }
    })
}

async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: std::result::Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> FhirResult<Json<Value>> {
    let Form(req) = form.map_err(|e| {
        ServerError::BadRequest(format!(
            "a token request is a form (grant_type, client_assertion_type, client_assertion, scope): {}",
            e.body_text()
        ))
    })?;
    if req.grant_type != "client_credentials" {
        return Err(ServerError::BadRequest(format!(
            "grant_type must be client_credentials, not {:?}",
            req.grant_type
        ))
        .into());
    }
    if req.client_assertion_type != ASSERTION_TYPE {
        return Err(ServerError::BadRequest(format!(
            "client_assertion_type must be {ASSERTION_TYPE}"
        ))
        .into());
    }
    let audience = token_url(&headers);
    let body = blocking(&state, move |s| {
        let scope = granted_scope(&req.scope)?;
        let now = (s.clock)();
        let unverified = jwt::client_of(&req.client_assertion)?;
        let client = s
            .storage
            .partner_client(&unverified)?
            .filter(|c| !c.disabled)
            .ok_or_else(|| {
                ServerError::Unauthorized("the assertion's client is not registered".into())
            })?;
        let claims = jwt::verify(&req.client_assertion, &client, &audience, now);
        let caller = PartnerToken {
            client_id: client.client_id.clone(),
            org: client.org.clone(),
            scope: scope.clone(),
            expires_at: now + chrono::Duration::seconds(TOKEN_SECONDS),
        };
        let claims = logged(s, &caller, "token", None, claims)?;
        if !s
            .storage
            .use_assertion(&client.client_id, &claims.jti, claims.exp, now)?
        {
            return logged(
                s,
                &caller,
                "token",
                None,
                Err(ServerError::Unauthorized(
                    "this client assertion was used before (jti): sign a new one".into(),
                )),
            );
        }
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes)
            .map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
        let access = hex::encode(bytes);
        use sha2::{Digest, Sha256};
        s.storage
            .insert_partner_token(&hex::encode(Sha256::digest(access.as_bytes())), &caller)?;
        Ok(json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": TOKEN_SECONDS,
            "scope": scope,
        }))
    })
    .await?;
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskSearch {
    owner: Option<String>,
    status: Option<String>,
}

async fn search(
    State(state): State<AppState>,
    PartnerAuthed(caller): PartnerAuthed,
    query: std::result::Result<ApiQuery<TaskSearch>, ServerError>,
) -> FhirResult<impl IntoResponse> {
    let body = blocking(&state, move |s| {
        let result = (|| {
            let ApiQuery(q) = query?;
            if !scope_allows(&caller.scope, 'r') {
                return Err(ServerError::Forbidden(
                    "the token's scope does not allow reading Tasks".into(),
                ));
            }
            if let Some(owner) = &q.owner {
                let org = owner.strip_prefix("Organization/").unwrap_or(owner);
                if org != caller.org {
                    return Err(ServerError::Forbidden(
                        "a partner searches its own Tasks only (owner=Organization/<yours>)".into(),
                    ));
                }
            }
            if let Some(status) = &q.status {
                if !TASK_STATUSES.contains(&status.as_str()) {
                    return Err(ServerError::BadRequest(format!(
                        "status {status:?}: expected one of {}",
                        TASK_STATUSES.join(", ")
                    )));
                }
            }
            let tasks = s.storage.tasks(&caller.org, q.status.as_deref())?;
            let entries = tasks
                .iter()
                .map(|t| {
                    Ok(json!({
                        "fullUrl": format!("Task/{}", t.id),
                        "resource": task_resource(s, t)?,
                        "search": {"mode": "match"},
                    }))
                })
                .collect::<Result<Vec<Value>>>()?;
            Ok(json!({
                "resourceType": "Bundle",
                "type": "searchset",
                "total": entries.len(),
                "entry": entries,
            }))
        })();
        logged(s, &caller, "search", None, result)
    })
    .await?;
    Ok(fhir_json(body))
}

/// The caller's Task `id` (404 when there is none, 403 when it is another partner's).
fn own_task(s: &AppState, caller: &PartnerToken, id: &str) -> Result<TaskRow> {
    let task = Uuid::parse_str(id)
        .ok()
        .map(|id| s.storage.task(id))
        .transpose()?
        .flatten()
        .ok_or_else(|| ServerError::NotFound(format!("no Task {id}")))?;
    if task.org != caller.org {
        return Err(ServerError::Forbidden(format!(
            "Task {id} is another organisation's"
        )));
    }
    Ok(task)
}

async fn read(
    State(state): State<AppState>,
    PartnerAuthed(caller): PartnerAuthed,
    Path(id): Path<String>,
) -> FhirResult<impl IntoResponse> {
    let body = blocking(&state, move |s| {
        let result = (|| {
            if !scope_allows(&caller.scope, 'r') {
                return Err(ServerError::Forbidden(
                    "the token's scope does not allow reading Tasks".into(),
                ));
            }
            let task = own_task(s, &caller, &id)?;
            task_resource(s, &task)
        })();
        logged(s, &caller, "read", Some(&id), result)
    })
    .await?;
    Ok(fhir_json(body))
}

async fn put(
    State(state): State<AppState>,
    PartnerAuthed(caller): PartnerAuthed,
    Path(id): Path<String>,
    body: std::result::Result<ApiJson<Value>, ServerError>,
) -> FhirResult<impl IntoResponse> {
    let url_id = id.clone();
    answer_request(state, caller, id, move |_| {
        let ApiJson(task) = body?;
        if task.get("resourceType") != Some(&json!("Task")) {
            return Err(ServerError::BadRequest(
                "the body must be a Task (resourceType \"Task\")".into(),
            ));
        }
        if task.get("id").is_some_and(|given| given != &json!(url_id)) {
            return Err(ServerError::BadRequest(format!(
                "the Task's id must be {url_id}, the id in the URL"
            )));
        }
        Ok(task)
    })
    .await
}

async fn patch(
    State(state): State<AppState>,
    PartnerAuthed(caller): PartnerAuthed,
    Path(id): Path<String>,
    body: std::result::Result<ApiJson<Value>, ServerError>,
) -> FhirResult<impl IntoResponse> {
    answer_request(state, caller, id, move |mut current| {
        let ApiJson(ops) = body?;
        json_patch(&mut current, &ops)?;
        Ok(current)
    })
    .await
}

/// PUT and PATCH: `change` turns the Task as it is into the Task as the partner sends it;
/// then [`answer`], logged.
async fn answer_request(
    state: AppState,
    caller: PartnerToken,
    id: String,
    change: impl FnOnce(Value) -> Result<Value> + Send + 'static,
) -> FhirResult<impl IntoResponse> {
    let body = blocking(&state, move |s| {
        let result = answer(s, &caller, &id, change);
        logged(s, &caller, "answer", Some(&id), result)
    })
    .await?;
    Ok(fhir_json(body))
}

/// What a partner's Task says it did.
struct Answer {
    status: String,
    reason: Option<String>,
    start: Option<NaiveDate>,
    outcome: Option<String>,
}

fn text_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn checked_note(what: &str, text: Option<&str>) -> Result<Option<String>> {
    match text {
        Some(t) if t.chars().count() > MAX_NOTE_CHARS => Err(ServerError::BadRequest(format!(
            "{what} is {} characters; at most {MAX_NOTE_CHARS}",
            t.chars().count()
        ))),
        t => Ok(t.map(str::to_owned)),
    }
}

fn read_answer(task: &Value) -> Result<Answer> {
    let status = task
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| ServerError::BadRequest("Task.status is required".into()))?
        .to_owned();
    if !TASK_STATUSES.contains(&status.as_str()) {
        return Err(ServerError::BadRequest(format!(
            "Task.status {status:?}: the exchange takes {}",
            TASK_STATUSES.join(", ")
        )));
    }
    let reason = checked_note(
        "Task.statusReason.text",
        text_at(task, "/statusReason/text"),
    )?;
    let outcome = checked_note(
        "the outcome",
        text_at(task, "/output/0/valueString").or_else(|| text_at(task, "/note/0/text")),
    )?;
    let start = match text_at(task, "/executionPeriod/start") {
        None => None,
        Some(text) => Some(
            text.get(..10)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .ok_or_else(|| {
                    ServerError::BadRequest(format!(
                        "Task.executionPeriod.start {text:?} is not a date (YYYY-MM-DD)"
                    ))
                })?,
        ),
    };
    Ok(Answer {
        status,
        reason,
        start,
        outcome,
    })
}

/// Applies a partner's answer to its Task: `change` turns the Task as it is into the Task
/// as the partner sends it. One legal step at a time; the same status again changes nothing.
fn answer(
    s: &AppState,
    caller: &PartnerToken,
    id: &str,
    change: impl FnOnce(Value) -> Result<Value>,
) -> Result<Value> {
    if !scope_allows(&caller.scope, 'u') {
        return Err(ServerError::Forbidden(
            "the token's scope does not allow updating Tasks".into(),
        ));
    }
    let task = own_task(s, caller, id)?;
    let sent = change(task_resource(s, &task)?)?;
    let answer = read_answer(&sent)?;
    if answer.status == task.status {
        return task_resource(s, &task);
    }
    let (status, note, on) = match (task.status.as_str(), answer.status.as_str()) {
        ("requested", "accepted") => (
            ReferralStatus::Accepted,
            answer.outcome.clone().unwrap_or_default(),
            None,
        ),
        ("requested", "rejected") => {
            let reason = answer.reason.clone().ok_or_else(|| {
                ServerError::BadRequest(
                    "a rejected Task needs its reason in statusReason.text".into(),
                )
            })?;
            (ReferralStatus::Declined, reason, None)
        }
        ("accepted", "in-progress") => {
            let start = answer.start.ok_or_else(|| {
                ServerError::BadRequest(
                    "a Task in progress needs the day the service started in executionPeriod.start"
                        .into(),
                )
            })?;
            (
                ReferralStatus::Started,
                answer.outcome.clone().unwrap_or_default(),
                Some(start),
            )
        }
        ("in-progress", "completed") => {
            let outcome = answer.outcome.clone().ok_or_else(|| {
                ServerError::BadRequest(
                    "a completed Task needs its outcome in output[0].valueString or note[0].text"
                        .into(),
                )
            })?;
            (ReferralStatus::Completed, outcome, None)
        }
        (from, to) => {
            return Err(ServerError::Conflict(format!(
                "Task {id} is {from}: a referral Task goes requested → accepted or rejected → in-progress → completed, not {from} → {to}"
            )))
        }
    };
    let now = (s.clock)();
    let event_id = Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        now.timestamp() as u64,
        now.timestamp_subsec_nanos(),
    ));
    let actor = format!("{}@{}", caller.client_id, caller.org);
    let payload = Payload {
        role: Role::Partner,
        event: OpEvent::ReferralUpdated {
            referral_id: task.id,
            case_id: task.case_id,
            status,
            note: note.clone(),
            on,
        },
        after: None,
    };
    let event = WireEvent {
        id: event_id,
        kind: "referral.updated".to_owned(),
        subject: task.patient_id.clone(),
        actor: actor.clone(),
        occurred_at: now,
        payload: serde_json::to_value(&payload)
            .map_err(|e| ServerError::Internal(format!("an answer's event: {e}")))?,
        payload_version: 1,
    };
    let mut answered = task.clone();
    answered.status = answer.status.clone();
    answered.version += 1;
    answered.last_modified = now;
    answered.answered_by = Some(actor);
    match status {
        ReferralStatus::Declined => answered.status_reason = Some(note),
        ReferralStatus::Started => answered.start_date = on.map(|d| d.to_string()),
        ReferralStatus::Completed => answered.outcome = Some(note),
        _ => {}
    }
    // The team's pushes and the partners' answers are folded in one order.
    let mut folds = s
        .folds
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    s.storage.answer_task(&answered, task.version, &event)?;
    folds.entry(task.team.clone()).or_default().apply(&event);
    drop(folds);
    tracing::info!(
        target: "careloop_server::exchange",
        status = answered.status.as_str(),
        "a partner answered a referral"
    );
    task_resource(s, &answered)
}

/// Applies a JSON Patch (RFC 6902: add, replace, remove, test) to a Task.
fn json_patch(doc: &mut Value, ops: &Value) -> Result<()> {
    let ops = ops.as_array().ok_or_else(|| {
        ServerError::BadRequest("a PATCH body is a JSON Patch: an array of operations".into())
    })?;
    for (i, op) in ops.iter().enumerate() {
        let at = format!("operation {i}");
        let name = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| ServerError::BadRequest(format!("{at}: path is required")))?;
        let (parent, last) = match path.rfind('/') {
            Some(cut) if path.starts_with('/') => (
                &path[..cut],
                path[cut + 1..].replace("~1", "/").replace("~0", "~"),
            ),
            _ => {
                return Err(ServerError::BadRequest(format!(
                    "{at}: path {path:?} is not a JSON Pointer"
                )))
            }
        };
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| ServerError::BadRequest(format!("{at}: value is required")))
        };
        match name {
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(ServerError::Conflict(format!(
                        "{at}: test of {path} failed: the Task changed (read it again)"
                    )));
                }
            }
            "add" | "replace" | "remove" => {
                let target = doc.pointer_mut(parent).ok_or_else(|| {
                    ServerError::BadRequest(format!("{at}: {parent:?} is not in the Task"))
                })?;
                match (target, name) {
                    (Value::Object(map), "remove") => {
                        map.remove(&last).ok_or_else(|| {
                            ServerError::BadRequest(format!("{at}: {path} is not in the Task"))
                        })?;
                    }
                    (Value::Object(map), "replace") if !map.contains_key(&last) => {
                        return Err(ServerError::BadRequest(format!(
                            "{at}: {path} is not in the Task (use add)"
                        )))
                    }
                    (Value::Object(map), _) => {
                        map.insert(last, value()?);
                    }
                    (Value::Array(items), _) => {
                        let index = if last == "-" {
                            items.len()
                        } else {
                            last.parse::<usize>().map_err(|_| {
                                ServerError::BadRequest(format!("{at}: {path}: not an index"))
                            })?
                        };
                        match name {
                            "add" if index <= items.len() => items.insert(index, value()?),
                            "replace" if index < items.len() => items[index] = value()?,
                            "remove" if index < items.len() => {
                                items.remove(index);
                            }
                            _ => {
                                return Err(ServerError::BadRequest(format!(
                                    "{at}: {path}: no such element"
                                )))
                            }
                        }
                    }
                    _ => {
                        return Err(ServerError::BadRequest(format!(
                            "{at}: {parent:?} is neither an object nor an array"
                        )))
                    }
                }
            }
            other => {
                return Err(ServerError::BadRequest(format!(
                    "{at}: op {other:?}: the exchange takes add, replace, remove and test"
                )))
            }
        }
    }
    Ok(())
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The FHIR R4 Task of a referral, with what the partner may see of the person in a
/// contained Patient and the request in a contained ServiceRequest.
fn task_resource(s: &AppState, task: &TaskRow) -> Result<Value> {
    let service = s.storage.partner_service(&task.service_id)?;
    let (service_name, service_type) = service
        .as_ref()
        .map(|(_, sv)| (sv.name.clone(), sv.service_type.clone()))
        .unwrap_or_else(|| (task.service_id.clone(), String::new()));
    let org_name = s
        .storage
        .directory()?
        .partners
        .into_iter()
        .find(|p| p.id == task.org)
        .map_or(task.org.clone(), |p| p.name);
    let mut patient = json!({
        "resourceType": "Patient",
        "id": "patient",
        "identifier": [{"system": "urn:careloop:patient", "value": task.patient_id}],
    });
    if let Some(body) = s.storage.patient_json(&task.team, &task.patient_id)? {
        if let Ok(p) = careloop_fhir::read_patient(&body) {
            if !p.name.is_empty() {
                patient["name"] = json!([{"text": p.name}]);
            }
            if let Some(birth) = p.birth_date {
                patient["birthDate"] = json!(birth.to_string());
            }
            if let Some(phone) = p.phone {
                patient["telecom"] = json!([{"system": "phone", "value": phone}]);
            }
            if let Some(address) = p.address {
                patient["address"] = json!([{"text": address}]);
            }
            if let Some(language) = p.preferred_language {
                patient["communication"] =
                    json!([{"language": {"text": language}, "preferred": true}]);
            }
        }
    }
    let mut resource = json!({
        "resourceType": "Task",
        "id": task.id.to_string(),
        "meta": {
            "versionId": task.version.to_string(),
            "lastUpdated": time(task.last_modified),
            "profile": ["http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-TaskForReferralManagement"],
        },
        "contained": [
            patient,
            {
                "resourceType": "ServiceRequest",
                "id": "request",
                "status": "active",
                "intent": "order",
                "code": {
                    "coding": [{"system": "urn:careloop:service-type", "code": service_type}],
                    "text": service_name,
                },
                "subject": {"reference": "#patient"},
                "authoredOn": time(task.authored_on),
                "reasonCode": [{"text": task.reason}],
            }
        ],
        "status": task.status,
        "intent": "order",
        "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}]},
        "focus": {"reference": "#request"},
        "for": {"reference": "#patient"},
        "authoredOn": time(task.authored_on),
        "lastModified": time(task.last_modified),
        "owner": {"reference": format!("Organization/{}", task.org), "display": org_name},
        "input": [{"type": {"text": "consent"}, "valueString": task.consent}],
    });
    if let Some(reason) = &task.status_reason {
        resource["statusReason"] = json!({"text": reason});
    }
    if let Some(start) = &task.start_date {
        resource["executionPeriod"] = json!({"start": start});
    }
    if let Some(outcome) = &task.outcome {
        resource["output"] = json!([{"type": {"text": "outcome"}, "valueString": outcome}]);
    }
    Ok(resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_read_and_update_of_tasks_only() {
        assert!(granted_scope("system/Task.rs system/Task.u").is_ok());
        assert!(granted_scope("system/Patient.rs").is_err());
        assert!(granted_scope("").is_err());
        assert!(scope_allows("system/Task.rs", 'r'));
        assert!(!scope_allows("system/Task.rs", 'u'));
        assert!(scope_allows("system/Task.write", 'u'));
        assert!(!scope_allows("system/Task.write", 'r'));
    }

    #[test]
    fn an_answer_reads_status_reason_start_and_outcome() {
        let a = read_answer(&json!({
            "status": "in-progress",
            "executionPeriod": {"start": "2026-12-09T10:00:00Z"},
            "note": [{"text": "first visit booked"}]
        }))
        .unwrap();
        assert_eq!(a.status, "in-progress");
        assert_eq!(a.start, NaiveDate::from_ymd_opt(2026, 12, 9));
        assert_eq!(a.outcome.as_deref(), Some("first visit booked"));
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        let e = read_answer(&json!({"status": "rejected", "statusReason": {"text": long}}))
            .err()
            .unwrap();
        assert!(e.to_string().contains("at most 2000"), "{e}");
        assert!(read_answer(&json!({"status": "cancelled"})).is_err());
        assert!(read_answer(
            &json!({"status": "in-progress", "executionPeriod": {"start": "soon"}})
        )
        .is_err());
    }
}
