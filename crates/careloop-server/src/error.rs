//! The server's one error type, and the one place it becomes an HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use careloop_wire::ErrorBody;

/// Everything a request can fail with. Messages name what and where (the field, the event
/// id, the line of the body), never a person's data.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// JSON, but not the expected shape: an unknown field, a missing one, a wrong type.
    #[error("the body does not fit the request: {0}")]
    InvalidBody(String),
    /// A query parameter or a value in the body is wrong.
    #[error("{0}")]
    BadRequest(String),
    #[error("the request must be sent as application/json")]
    UnsupportedMediaType,
    #[error("the body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// No token, an unknown, expired or revoked one, or a wrong password.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but the role or the team may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Same id, different content; a name already taken.
    #[error("{0}")]
    Conflict(String),
    /// The server is at its limit for this kind of work (password checks): try again after
    /// `retry_after` seconds. Nothing was done.
    #[error("the server is busy: try again in {retry_after} s")]
    Busy { retry_after: u64 },
    /// Too many failed sign-ins for this account or from this address: refused without
    /// checking the password until `retry_after` seconds have passed.
    #[error("too many failed sign-ins: try again in {}", wait_text(*retry_after))]
    Throttled { retry_after: u64 },
    /// The path exists, but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The request (its headers or body) was not received in time.
    #[error("the request took longer than {seconds} s to arrive and run")]
    Timeout { seconds: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

fn wait_text(seconds: u64) -> String {
    match seconds {
        0..=1 => "1 second".to_owned(),
        2..=119 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// "a coordinator", "an admin": a role with its article, for messages.
pub fn a_role(role: &str) -> String {
    let article = if role.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {role}")
}

impl ServerError {
    /// The status and the stable code of each error: the one mapping of the server.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ServerError::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            ServerError::InvalidBody(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            ServerError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ServerError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ServerError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            ServerError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ServerError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ServerError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ServerError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ServerError::Busy { .. } => (StatusCode::TOO_MANY_REQUESTS, "server_busy"),
            ServerError::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ServerError::MethodNotAllowed(_) => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            }
            ServerError::Timeout { .. } => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            ServerError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// Seconds a client should wait before trying again (`Retry-After`), for a 429.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ServerError::Busy { retry_after } | ServerError::Throttled { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = ErrorBody {
            code: code.to_owned(),
            message: self.to_string(),
        };
        let mut response = (status, axum::Json(body)).into_response();
        // The request log reads the code from here (never the message: it may quote input).
        response
            .extensions_mut()
            .insert(crate::logging::ErrorCodeTag(code));
        if let Some(seconds) = self.retry_after() {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds.max(1)),
            );
        }
        response
    }
}

impl From<rusqlite::Error> for ServerError {
    fn from(e: rusqlite::Error) -> ServerError {
        ServerError::Internal(format!("server storage: {e}"))
    }
}

impl From<careloop_store::StoreError> for ServerError {
    fn from(e: careloop_store::StoreError) -> ServerError {
        use careloop_store::StoreError;
        match e {
            StoreError::InvalidEvent(m) => ServerError::BadRequest(m),
            StoreError::EventConflict { id } => ServerError::Conflict(format!(
                "event {id} is already on the server with different content"
            )),
            e => ServerError::Internal(e.to_string()),
        }
    }
}

pub type Result<T, E = ServerError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_says_when_to_come_back() {
        for (error, seconds) in [
            (ServerError::Busy { retry_after: 1 }, "1"),
            (ServerError::Throttled { retry_after: 900 }, "900"),
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], seconds);
        }
        let response = ServerError::Forbidden("no".into()).into_response();
        assert!(response
            .headers()
            .get(axum::http::header::RETRY_AFTER)
            .is_none());
    }

    #[test]
    fn throttled_messages_speak_in_seconds_or_minutes() {
        assert_eq!(
            ServerError::Throttled { retry_after: 1 }.to_string(),
            "too many failed sign-ins: try again in 1 second"
        );
        assert_eq!(
            ServerError::Throttled { retry_after: 900 }.to_string(),
            "too many failed sign-ins: try again in 15 minutes"
        );
        assert_eq!(a_role("admin"), "an admin");
        assert_eq!(a_role("supervisor"), "a supervisor");
    }
}
