//! Sign-in: argon2id password hashes, short-lived access tokens and refresh tokens (rotated
//! on use), revocation, and the role and team every request is authorised by.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use careloop_api::sync::wire::Tokens;

use crate::error::{Result, ServerError};
use crate::storage::{Storage, Token, TokenKind, User};

/// The roles a user can have on the server (the workstation's roles).
pub const ROLES: &[&str] = &["coordinator", "clinician", "supervisor", "admin"];

/// Who a request is from, once its token is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user: String,
    pub role: String,
    pub team: String,
    pub workstation: String,
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), PHC string format.
pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < 8 {
        return Err(ServerError::BadRequest(
            "a password needs at least 8 characters".into(),
        ));
    }
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt)
        .map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| ServerError::Internal(format!("salt: {e}")))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| ServerError::Internal(format!("hashing: {e}")))?
        .to_string())
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

/// What is stored for a token: its SHA-256.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// How long tokens live.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub access: Duration,
    pub refresh: Duration,
}

impl Default for Lifetimes {
    fn default() -> Lifetimes {
        Lifetimes {
            access: Duration::minutes(15),
            refresh: Duration::days(30),
        }
    }
}

const BAD_SIGN_IN: &str = "unknown user or wrong password";

/// Password sign-in: a new access and refresh token.
pub fn login(
    storage: &dyn Storage,
    user: &str,
    password: &str,
    workstation: &str,
    now: DateTime<Utc>,
    lifetimes: Lifetimes,
) -> Result<Tokens> {
    let found = storage.user(user)?;
    let Some(found) = found.filter(|u| verify_password(password, &u.password_hash)) else {
        return Err(ServerError::Unauthorized(BAD_SIGN_IN.into()));
    };
    if found.disabled {
        return Err(ServerError::Unauthorized(format!(
            "user {user} is disabled"
        )));
    }
    issue(storage, &found, workstation, now, lifetimes)
}

/// Trades a refresh token for a new pair; the old refresh token is revoked (rotation).
pub fn refresh(
    storage: &dyn Storage,
    refresh_token: &str,
    now: DateTime<Utc>,
    lifetimes: Lifetimes,
) -> Result<Tokens> {
    let token = live_token(storage, refresh_token, TokenKind::Refresh, now)?;
    let user = live_user(storage, &token.user)?;
    storage.revoke_token(&token.digest)?;
    issue(storage, &user, &token.workstation, now, lifetimes)
}

/// Revokes a refresh token (sign-out); an unknown one is not an error.
pub fn logout(storage: &dyn Storage, refresh_token: &str) -> Result<()> {
    storage.revoke_token(&digest(refresh_token))
}

/// The caller of a request bearing `access_token`.
pub fn authenticate(
    storage: &dyn Storage,
    access_token: &str,
    now: DateTime<Utc>,
) -> Result<Caller> {
    let token = live_token(storage, access_token, TokenKind::Access, now)?;
    let user = live_user(storage, &token.user)?;
    Ok(Caller {
        user: user.name,
        role: user.role,
        team: user.team,
        workstation: token.workstation,
    })
}

fn live_token(
    storage: &dyn Storage,
    token: &str,
    kind: TokenKind,
    now: DateTime<Utc>,
) -> Result<Token> {
    let what = match kind {
        TokenKind::Access => "access token",
        TokenKind::Refresh => "refresh token",
    };
    let stored = storage
        .token(&digest(token))?
        .filter(|t| t.kind == kind)
        .ok_or_else(|| ServerError::Unauthorized(format!("unknown {what}: sign in")))?;
    if stored.revoked {
        return Err(ServerError::Unauthorized(format!(
            "the {what} was revoked: sign in again"
        )));
    }
    if stored.expires_at <= now {
        return Err(ServerError::Unauthorized(format!(
            "the {what} expired: {}",
            if kind == TokenKind::Access {
                "refresh it"
            } else {
                "sign in again"
            }
        )));
    }
    Ok(stored)
}

fn live_user(storage: &dyn Storage, name: &str) -> Result<User> {
    let user = storage
        .user(name)?
        .ok_or_else(|| ServerError::Unauthorized(format!("user {name} no longer exists")))?;
    if user.disabled {
        return Err(ServerError::Unauthorized(format!(
            "user {name} is disabled"
        )));
    }
    Ok(user)
}

fn issue(
    storage: &dyn Storage,
    user: &User,
    workstation: &str,
    now: DateTime<Utc>,
    lifetimes: Lifetimes,
) -> Result<Tokens> {
    let access = random_token()?;
    let refresh = random_token()?;
    let access_expires_at = now + lifetimes.access;
    let refresh_expires_at = now + lifetimes.refresh;
    for (token, kind, expires_at) in [
        (&access, TokenKind::Access, access_expires_at),
        (&refresh, TokenKind::Refresh, refresh_expires_at),
    ] {
        storage.insert_token(&Token {
            digest: digest(token),
            kind,
            user: user.name.clone(),
            workstation: workstation.to_owned(),
            expires_at,
            revoked: false,
        })?;
    }
    Ok(Tokens {
        access_token: access,
        access_expires_at,
        refresh_token: refresh,
        refresh_expires_at,
        user: user.name.clone(),
        role: user.role.clone(),
        team: user.team.clone(),
    })
}
