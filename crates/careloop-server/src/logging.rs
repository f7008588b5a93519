//! Structured logs (the `tracing` crate) that can never carry PHI.
//!
//! **The rule:** a log field is a typed, closed value: a stable code (`ServerError`'s code, a
//! sign-in outcome), a count, a duration, a status, a route *template* from
//! [`ROUTES`], a static name. Never a request's path, query or body, never a header, never a
//! user name as typed, never the `Display` of an error (messages may quote what was sent:
//! serde's type errors quote values, a push refusal names the event and its person's team).
//! Patients' ids are not logged either; event ids and team names may be, but are not needed
//! so far.
//!
//! The server logs under these targets (`careloop_server::…`): `request` (one event per
//! request: method, route, status, latency, error code; its span holds method and route),
//! `auth` (sign-in and refresh outcomes, by code), `sync` (counts pushed, pulled, paged),
//! `connection` (TLS handshakes, idle closes, accept errors), `lifecycle` (start, stop),
//! `storage` (migrations), `admin` (users and panels, by counts).
//!
//! Whoever installs a subscriber (the `careloop` binary, with `CARELOOP_LOG`) builds its
//! filter with [`directives`], which adds [`ALWAYS_OFF`] after what the operator asked for.
//! The default shows warnings only (refused certificates, locks, 5xx answers); a server is
//! best run with `CARELOOP_LOG=info` (a line per request, sign-in outcomes, pushes), `debug`
//! adds pull and panel pages and connection events, `trace` the dependencies' handshakes.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// What the logs show when the operator asks for nothing (`CARELOOP_LOG` unset).
pub const DEFAULT_FILTER: &str = "warn";

/// Targets switched off whatever the operator asks for, because they can write PHI:
///
/// - `reqwest::connect::verbose`: reqwest writes every byte it reads and writes (the
///   plaintext inside TLS: request and response bodies, bearer tokens) at TRACE under this
///   target when a client is built with `connection_verbose(true)`. careloop-sync never
///   turns it on; the filter keeps it off if anything ever does.
///
/// Nothing else in the dependency tree logs bodies today (checked at TRACE by
/// `careloop-server/tests/logs.rs` and `careloop-cli/tests/logs.rs`): rustls logs handshake
/// messages (no application data), hyper's server logs nothing without its unstable tracing
/// cfg, hyper-util's client logs connection and pool events (host and port), tantivy logs
/// commits and merges by number.
pub const ALWAYS_OFF: &[&str] = &["reqwest::connect::verbose"];

/// The filter directives for an operator's `spec` (`EnvFilter` syntax; empty means
/// [`DEFAULT_FILTER`]), with [`ALWAYS_OFF`] after it so that no spec turns them on.
pub fn directives(spec: &str) -> String {
    let spec = spec.trim();
    let mut out = if spec.is_empty() {
        DEFAULT_FILTER.to_owned()
    } else {
        spec.to_owned()
    };
    for target in ALWAYS_OFF {
        out.push(',');
        out.push_str(target);
        out.push_str("=off");
    }
    out
}

/// The route templates of `/api/v1`: what a request's `route` field can be (or
/// `unmatched`). A path as sent is never logged: a mistyped or hostile one may carry
/// anything.
pub const ROUTES: &[&str] = &[
    "/api/v1/health",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/me",
    "/api/v1/events",
    "/api/v1/panel",
    "/api/v1/segments",
    "/api/v1/audit-heads",
];

/// The route template a request matched, from [`ROUTES`], else `unmatched`.
fn route_of(request: &Request) -> &'static str {
    request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|matched| ROUTES.iter().find(|r| **r == matched.as_str()))
        .copied()
        .unwrap_or("unmatched")
}

/// A standard method's name; any other (an extension method is whatever the client sent)
/// is `other`.
fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The stable code of the error a response answers (set by `ServerError::into_response`),
/// for the request log.
#[derive(Clone, Copy, Debug)]
pub struct ErrorCodeTag(pub &'static str);

/// The request log: a span `request{method, route}` around the handler (what the handler
/// logs is inside it), then one event with the status, the latency in microseconds and the
/// error code (`-` when none). 5xx answers are logged at ERROR, the rest at INFO.
pub(crate) async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_name(request.method());
    let route = route_of(&request);
    let span = tracing::info_span!(target: "careloop_server::request", "request", method, route);
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let code = response
        .extensions()
        .get::<ErrorCodeTag>()
        .map_or("-", |c| c.0);
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(target: "careloop_server::request", status, latency_us, code, "answered");
        } else {
            tracing::info!(target: "careloop_server::request", status, latency_us, code, "answered");
        }
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operators_spec_comes_first_and_the_body_loggers_stay_off() {
        assert_eq!(directives(""), "warn,reqwest::connect::verbose=off");
        assert_eq!(directives(" trace "), "trace,reqwest::connect::verbose=off");
        assert_eq!(
            directives("reqwest=trace,careloop_server=debug"),
            "reqwest=trace,careloop_server=debug,reqwest::connect::verbose=off"
        );
    }

    #[test]
    fn an_extension_method_is_not_logged_as_sent() {
        let method = Method::from_bytes(b"ZQXCANARY").unwrap();
        assert_eq!(method_name(&method), "other");
        assert_eq!(method_name(&Method::POST), "POST");
    }
}
