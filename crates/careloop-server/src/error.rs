//! The server's one error type, and the one place it becomes an HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use careloop_api::sync::wire::ErrorBody;

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
    #[error("internal error: {0}")]
    Internal(String),
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
            ServerError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
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
        (status, axum::Json(body)).into_response()
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

impl From<careloop_api::ApiError> for ServerError {
    fn from(e: careloop_api::ApiError) -> ServerError {
        use careloop_api::ErrorCode;
        match e.code {
            ErrorCode::BadInput => ServerError::BadRequest(e.message),
            ErrorCode::NotFound => ServerError::NotFound(e.message),
            ErrorCode::Forbidden => ServerError::Forbidden(e.message),
            ErrorCode::Conflict => ServerError::Conflict(e.message),
            _ => ServerError::Internal(e.message),
        }
    }
}

pub type Result<T, E = ServerError> = std::result::Result<T, E>;
