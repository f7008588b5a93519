//! The error that leaves the API: a stable code and a readable message.

use careloop_fhir::ImportError;
use careloop_store::StoreError;
use serde::Serialize;
use ts_rs::TS;

/// What went wrong, in a form the UI and the CLI can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// Wrong key, or the file is not a Careloop cache.
    CacheLocked,
    /// The cache was written by a newer Careloop.
    SchemaTooNew,
    /// The key file is missing, malformed or readable by others.
    KeyFile,
    /// The OS keyring has no key for this cache, or cannot be reached.
    Keyring,
    /// The input (a file, an argument) is malformed; the message says what and where.
    BadInput,
    /// Reading or writing a file failed.
    Io,
    /// The person, segment or item asked for does not exist.
    NotFound,
    /// The signed-in role may not do this (the refusal is audited).
    Forbidden,
    /// The action does not fit the current state (an illegal transition, a case already
    /// claimed or closed, a second open case).
    Conflict,
    /// A rule refused it: the channel rule, the over-contact guard, a capacity.
    Refused,
    /// Nobody is signed in on this desktop, the session was locked, or it was idle past the
    /// limit: sign in again.
    SessionLocked,
    /// The central server cannot be reached (the network is down, or it is): work goes on
    /// locally and syncs later.
    Offline,
    /// The central server wants a sign-in: none yet, or the session expired or was revoked.
    Unauthorized,
    /// A bug or an unexpected state.
    Internal,
}

impl ErrorCode {
    /// Whether the error is the user's to fix (exit code 1) rather than internal (exit code 2).
    pub fn is_user_error(self) -> bool {
        !matches!(self, ErrorCode::Internal)
    }
}

/// An error as the UI receives it: `{code, message}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
#[ts(export)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(ErrorCode::Internal, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let code = match &e {
            StoreError::Locked { .. } => ErrorCode::CacheLocked,
            StoreError::SchemaTooNew { .. } => ErrorCode::SchemaTooNew,
            StoreError::KeyFile { .. } => ErrorCode::KeyFile,
            StoreError::KeyMissing { .. } | StoreError::Keyring(_) => ErrorCode::Keyring,
            StoreError::EventConflict { .. }
            | StoreError::InvalidEvent(_)
            | StoreError::VersionNotNewer { .. } => ErrorCode::BadInput,
            StoreError::Io { .. } => ErrorCode::Io,
            StoreError::Migration { .. } | StoreError::Sqlite(_) | StoreError::Body(_) => {
                ErrorCode::Internal
            }
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> ApiError {
        match e {
            ImportError::Store(e) => e.into(),
            ImportError::Io { .. } => ApiError::new(ErrorCode::Io, e.to_string()),
            e => ApiError::new(ErrorCode::BadInput, e.to_string()),
        }
    }
}

impl From<careloop_lists::ListsError> for ApiError {
    fn from(e: careloop_lists::ListsError) -> ApiError {
        match e {
            careloop_lists::ListsError::Store(e) => e.into(),
            careloop_lists::ListsError::Segment(e) => e.into(),
            e @ careloop_lists::ListsError::DecoderStopped => ApiError::internal(e),
        }
    }
}
