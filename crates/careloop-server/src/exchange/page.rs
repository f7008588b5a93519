//! The partner page (`/partner`): for partner organisations without a system of their own.
//! A partner's user (role `partner`, team the partner's id; `careloop admin partner user`)
//! signs in with a password (the same throttled, pooled check as `/api/v1/auth/login`), sees
//! the organisation's open referrals, and accepts, declines with a reason, records the start
//! date, or completes with an outcome: the same answers, checks, events and access log as the
//! FHIR API ([`super::answer`]).
//!
//! Plain HTML forms, no script: every value is escaped; the session is the 15-minute access
//! token in an `HttpOnly; Secure; SameSite=Strict` cookie scoped to `/partner`, and each form
//! carries a token derived from it (a second guard against cross-site posts); pages are
//! `no-store` with a strict Content-Security-Policy.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use careloop_wire::LoginRequest;
use serde::Deserialize;
use serde_json::{json, Value};

use super::store::{PartnerToken, TaskRow};
use crate::auth;
use crate::error::{Result, ServerError};
use crate::routes::{AppState, ClientAddr};

const COOKIE: &str = "careloop_partner";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/partner", get(home))
        .route("/partner/login", post(login))
        .route("/partner/logout", post(logout))
        .route("/partner/tasks/{id}", post(act))
}

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Careloop referrals</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        title = esc(title)
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}\
main{max-width:960px;margin:0 auto;padding:1.5rem}h1{font-size:1.4rem}\
.referral{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:1rem;margin:0 0 1rem}\
.referral h2{font-size:1.1rem;margin:0 0 .5rem}dl{display:grid;grid-template-columns:10rem 1fr;gap:.25rem .75rem;margin:0 0 .75rem}\
dt{color:#57606a}dd{margin:0}form.inline{display:inline-block;margin:.25rem .5rem .25rem 0}\
label{display:block;margin:.25rem 0}input,textarea,button{font:inherit}button{padding:.35rem .8rem}\
.notice{background:#dafbe1;border:1px solid #4ac26b;padding:.5rem .75rem;border-radius:6px}\
.error{background:#ffebe9;border:1px solid #ff8182;padding:.5rem .75rem;border-radius:6px}\
header{display:flex;justify-content:space-between;align-items:center}";

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            pair.trim()
                .strip_prefix(&format!("{COOKIE}="))
                .map(str::to_owned)
        })
        .find(|t| !t.is_empty())
}

/// The form token of a session: a digest of its access token.
fn form_token(access: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(
        format!("careloop-partner-form:{access}").as_bytes(),
    ))
}

/// A signed-in partner user.
struct Session {
    user: String,
    org: String,
    access: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

impl Session {
    fn caller(&self) -> PartnerToken {
        PartnerToken {
            client_id: self.user.clone(),
            org: self.org.clone(),
            scope: "system/Task.rs system/Task.u".into(),
            expires_at: self.expires_at,
        }
    }
}

fn session(s: &AppState, headers: &HeaderMap) -> Result<Option<Session>> {
    let Some(access) = cookie_token(headers) else {
        return Ok(None);
    };
    let now = (s.clock)();
    match auth::authenticate(s.storage.as_ref(), &access, now) {
        Ok(caller) if caller.role == "partner" => Ok(Some(Session {
            user: caller.user,
            org: caller.team,
            access,
            expires_at: now + chrono::Duration::minutes(15),
        })),
        Ok(_) => Ok(None),
        Err(ServerError::Unauthorized(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn sign_in_page(status: StatusCode, message: Option<&str>) -> Response {
    let message = message
        .map(|m| {
            format!(
                "<p class=\"error\" role=\"alert\" data-testid=\"error\">{}</p>",
                esc(m)
            )
        })
        .unwrap_or_default();
    page(
        status,
        "Sign in",
        &format!(
            "<h1>Careloop referrals: partner sign-in</h1>{message}\
             <form method=\"post\" action=\"/partner/login\" data-testid=\"sign-in\">\
             <label>User <input name=\"user\" autocomplete=\"username\" required maxlength=\"64\"></label>\
             <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required maxlength=\"1024\"></label>\
             <button type=\"submit\">Sign in</button></form>"
        ),
    )
}

#[derive(Deserialize)]
struct Notice {
    #[serde(default)]
    done: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(notice): Query<Notice>,
) -> Response {
    let result = crate::routes::blocking(&state, move |s| {
        let Some(session) = session(s, &headers)? else {
            return Ok(sign_in_page(StatusCode::OK, None));
        };
        let notice = notice.done.as_deref().and_then(|d| match d {
            "accepted" => Some("Referral accepted."),
            "rejected" => Some("Referral declined."),
            "in-progress" => Some("Start recorded."),
            "completed" => Some("Referral completed."),
            _ => None,
        });
        queue_page(s, &session, StatusCode::OK, notice, None)
    })
    .await;
    result.unwrap_or_else(|e| page_error(&e))
}

fn page_error(e: &ServerError) -> Response {
    let (status, _) = e.status_and_code();
    page(
        status,
        "Error",
        &format!(
            "<h1>Something went wrong</h1><p class=\"error\" role=\"alert\">{}</p><p><a href=\"/partner\">Back to the referrals</a></p>",
            esc(&e.to_string())
        ),
    )
}

fn queue_page(
    s: &AppState,
    session: &Session,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<Response> {
    let caller = session.caller();
    let tasks = super::logged(
        s,
        &caller,
        "search",
        None,
        s.storage.tasks(&session.org, None),
    )?;
    let org_name = s
        .storage
        .directory()?
        .partners
        .into_iter()
        .find(|p| p.id == session.org)
        .map_or_else(|| session.org.clone(), |p| p.name);
    let form = form_token(&session.access);
    let mut body = format!(
        "<header><h1>Referrals to {org}</h1><form method=\"post\" action=\"/partner/logout\">\
         <input type=\"hidden\" name=\"form\" value=\"{form}\"><span>{user}</span> \
         <button type=\"submit\">Sign out</button></form></header>",
        org = esc(&org_name),
        user = esc(&session.user),
    );
    if let Some(n) = notice {
        body.push_str(&format!(
            "<p class=\"notice\" role=\"status\" data-testid=\"notice\">{}</p>",
            esc(n)
        ));
    }
    if let Some(e) = error {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\" data-testid=\"error\">{}</p>",
            esc(e)
        ));
    }
    let open: Vec<&TaskRow> = tasks
        .iter()
        .filter(|t| matches!(t.status.as_str(), "requested" | "accepted" | "in-progress"))
        .collect();
    if open.is_empty() {
        body.push_str("<p data-testid=\"empty\">No referrals waiting for you.</p>");
    }
    for task in open {
        body.push_str(&task_card(s, task, &form)?);
    }
    let closed = tasks.len()
        - tasks
            .iter()
            .filter(|t| matches!(t.status.as_str(), "requested" | "accepted" | "in-progress"))
            .count();
    if closed > 0 {
        body.push_str(&format!(
            "<p>{closed} referral{} completed or declined.</p>",
            if closed == 1 { "" } else { "s" }
        ));
    }
    Ok(page(status, "Referrals", &body))
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// When the partner's next answer is due, on the team's working-hours calendar: the answer
/// within the service's response days of sending, the start within its start days of
/// accepting.
fn deadline(s: &AppState, task: &TaskRow) -> Result<String> {
    let Some((_, service)) = s.storage.partner_service(&task.service_id)? else {
        return Ok(String::new());
    };
    let calendar = careloop_ops::Policy::default().calendar;
    let due = match task.status.as_str() {
        "requested" => {
            calendar.add_working_days(task.authored_on, service.respond_within_working_days)
        }
        "accepted" => {
            calendar.add_working_days(task.last_modified, service.start_within_working_days)
        }
        _ => return Ok(String::new()),
    };
    Ok(due.format("%Y-%m-%d %H:%M UTC").to_string())
}

fn task_card(s: &AppState, task: &TaskRow, form: &str) -> Result<String> {
    let resource = super::task_resource(s, task)?;
    let patient = &resource["contained"][0];
    let request = &resource["contained"][1];
    let status_text = match task.status.as_str() {
        "requested" => "New: accept or decline",
        "accepted" => "Accepted: record the start",
        "in-progress" => "In progress: record the outcome",
        other => other,
    };
    let id = task.id.to_string();
    let rows = [
        ("Person", text(patient, "/name/0/text")),
        ("Date of birth", text(patient, "/birthDate")),
        ("Phone", text(patient, "/telecom/0/value")),
        ("Language", text(patient, "/communication/0/language/text")),
        ("Address", text(patient, "/address/0/text")),
        ("Service", text(request, "/code/text")),
        ("Reason", text(request, "/reasonCode/0/text")),
        ("Consent", task.consent.clone()),
        ("Sent", task.authored_on.format("%Y-%m-%d").to_string()),
        (
            if task.status == "accepted" {
                "Start by"
            } else {
                "Answer by"
            },
            deadline(s, task)?,
        ),
    ];
    let mut card = format!(
        "<section class=\"referral\" data-testid=\"referral\" data-task-id=\"{id}\"><h2>{name}</h2><p data-testid=\"status\">{status}</p><dl>",
        id = esc(&id),
        name = esc(&text(patient, "/name/0/text")),
        status = esc(status_text),
    );
    for (label, value) in rows {
        if !value.is_empty() {
            card.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(label), esc(&value)));
        }
    }
    card.push_str("</dl>");
    let action = |name: &str, fields: &str, button: &str| {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"/partner/tasks/{id}\" data-testid=\"{name}\">\
             <input type=\"hidden\" name=\"form\" value=\"{form}\"><input type=\"hidden\" name=\"action\" value=\"{name}\">\
             {fields}<button type=\"submit\">{button}</button></form>",
            id = esc(&id),
        )
    };
    match task.status.as_str() {
        "requested" => {
            card.push_str(&action("accept", "", "Accept"));
            card.push_str(&action(
                "decline",
                "<label>Reason for declining <input name=\"reason\" required maxlength=\"2000\"></label>",
                "Decline",
            ));
        }
        "accepted" => card.push_str(&action(
            "start",
            "<label>Service started on <input name=\"start\" type=\"date\" required></label>\
             <label>Note (optional) <input name=\"note\" maxlength=\"2000\"></label>",
            "Record the start",
        )),
        "in-progress" => card.push_str(&action(
            "complete",
            "<label>Outcome <textarea name=\"outcome\" required maxlength=\"2000\" rows=\"2\"></textarea></label>",
            "Complete",
        )),
        _ => {}
    }
    card.push_str("</section>");
    Ok(card)
}

#[derive(Deserialize)]
struct SignIn {
    user: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    address: Option<Extension<ClientAddr>>,
    form: std::result::Result<Form<SignIn>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return sign_in_page(
            StatusCode::BAD_REQUEST,
            Some("Enter your user name and password."),
        );
    };
    let request = LoginRequest {
        user: form.user,
        password: form.password,
        workstation: "partner-page".into(),
    };
    let signed_in = crate::routes::password_sign_in(&state, address.map(|a| a.0 .0), request).await;
    match signed_in {
        Ok(tokens) if tokens.role == "partner" => {
            let mut response = Redirect::to("/partner").into_response();
            let cookie = format!(
                "{COOKIE}={}; Path=/partner; HttpOnly; Secure; SameSite=Strict; Max-Age=900",
                tokens.access_token
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(tokens) => {
            // Signed in, but not a partner's user: nothing here for them.
            let _ = crate::routes::blocking(&state, move |s| {
                auth::logout(s.storage.as_ref(), &tokens.refresh_token)
            })
            .await;
            sign_in_page(
                StatusCode::FORBIDDEN,
                Some("This page is for partner organisations' users."),
            )
        }
        Err(e) => {
            let (status, _) = e.status_and_code();
            sign_in_page(status, Some(&e.to_string()))
        }
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    form: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Response {
    let _ = crate::routes::blocking(&state, move |s| {
        if let Some(session) = session(s, &headers)? {
            if f.form == form_token(&session.access) {
                s.storage.revoke_token(&auth::digest(&session.access))?;
            }
        }
        Ok(())
    })
    .await;
    let mut response = Redirect::to("/partner").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "careloop_partner=; Path=/partner; HttpOnly; Secure; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

#[derive(Deserialize)]
struct ActForm {
    form: String,
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    outcome: String,
}

async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: std::result::Result<Form<ActForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let result = crate::routes::blocking(&state, move |s| {
        let Some(session) = session(s, &headers)? else {
            return Ok(sign_in_page(
                StatusCode::UNAUTHORIZED,
                Some("Your session ended: sign in again."),
            ));
        };
        let Ok(Form(form)) = form else {
            return queue_page(
                s,
                &session,
                StatusCode::BAD_REQUEST,
                None,
                Some("The form was incomplete."),
            );
        };
        if form.form != form_token(&session.access) {
            return Err(ServerError::Forbidden(
                "the form does not belong to this session: reload the page".into(),
            ));
        }
        let caller = session.caller();
        let answered = super::logged(
            s,
            &caller,
            "answer",
            Some(&id),
            super::answer(s, &caller, &id, |mut task| {
                let optional = |t: &str| (!t.trim().is_empty()).then(|| t.trim().to_owned());
                match form.action.as_str() {
                    "accept" => task["status"] = json!("accepted"),
                    "decline" => {
                        task["status"] = json!("rejected");
                        if let Some(reason) = optional(&form.reason) {
                            task["statusReason"] = json!({"text": reason});
                        }
                    }
                    "start" => {
                        task["status"] = json!("in-progress");
                        if let Some(start) = optional(&form.start) {
                            task["executionPeriod"] = json!({"start": start});
                        }
                        if let Some(note) = optional(&form.note) {
                            task["note"] = json!([{"text": note}]);
                        }
                    }
                    "complete" => {
                        task["status"] = json!("completed");
                        if let Some(outcome) = optional(&form.outcome) {
                            task["output"] =
                                json!([{"type": {"text": "outcome"}, "valueString": outcome}]);
                        }
                    }
                    other => {
                        return Err(ServerError::BadRequest(format!("unknown action {other:?}")))
                    }
                }
                Ok(task)
            }),
        );
        match answered {
            Ok(task) => {
                let status = task["status"].as_str().unwrap_or("");
                Ok(Redirect::to(&format!("/partner?done={status}")).into_response())
            }
            Err(e @ (ServerError::BadRequest(_) | ServerError::Conflict(_))) => {
                let (status, _) = e.status_and_code();
                queue_page(s, &session, status, None, Some(&e.to_string()))
            }
            Err(e) => Err(e),
        }
    })
    .await;
    result.unwrap_or_else(|e| page_error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_html() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn the_session_cookie_is_read_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; careloop_partner=abc123; other=1"),
        );
        assert_eq!(cookie_token(&headers).as_deref(), Some("abc123"));
        assert_eq!(cookie_token(&HeaderMap::new()), None);
    }
}
