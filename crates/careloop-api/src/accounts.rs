//! Who a headless client (the CLI) may act as on a cache connected to a central server: a
//! user the server signed in on this workstation, in the role the server gave them. Without
//! a server (the demo, tests) the CLI names its user and role itself, as before.

use careloop_ops::Role;
use careloop_store::{AuditOutcome, NewAuditEntry};
use chrono::{DateTime, Utc};

use crate::sync::SERVER_URL;
use crate::{ApiError, Careloop, ErrorCode, Result};

/// The sync value naming the user who last signed in here through the server with the CLI
/// (`careloop sync login`), who the CLI acts as when no `--as-user` is given.
pub const CLI_USER: &str = "cli_user";

impl Careloop {
    /// Whether this cache syncs with a central server (`careloop sync connect`,
    /// `CARELOOP_SERVER_URL`).
    pub fn server_configured(&self) -> Result<bool> {
        Ok(self.store.sync_meta(SERVER_URL)?.is_some())
    }

    /// Records that the server signed `user` in here with `role`: the account (argon2id of
    /// the password it accepted, for offline sign-ins) and an audit entry. Returns the role.
    pub fn remember_server_sign_in(
        &mut self,
        user: &str,
        role: &str,
        password: &str,
        at: DateTime<Utc>,
    ) -> Result<Role> {
        let parsed: Role = role.parse().map_err(|_| {
            ApiError::internal(format!(
                "the server gave {user} the role {role:?}, which this version does not know"
            ))
        })?;
        self.store
            .put_server_account(user, parsed.as_str(), password, at)?;
        self.store.append_audit(&NewAuditEntry {
            at,
            actor: user.to_owned(),
            role: parsed.to_string(),
            action: "session.sign_in.server".to_owned(),
            patient_id: None,
            target: None,
            outcome: AuditOutcome::Allowed,
        })?;
        Ok(parsed)
    }

    /// The role the server gave `user` when it signed them in here; `None` when it never did
    /// (an unknown name, or an account made here, like the demo's).
    pub fn server_role(&self, user: &str) -> Result<Option<Role>> {
        Ok(self
            .store
            .account(user)?
            .filter(careloop_store::LocalAccount::from_server)
            .and_then(|a| a.role.parse().ok()))
    }

    /// Who the CLI acts as on a cache connected to a server: `as_user` (else the last user
    /// signed in with the CLI here), who must have signed in here through the server, in
    /// the role the server gave them; `role`, when given, must be that role. `None` without a
    /// server: the caller decides as before.
    pub fn server_identity(
        &self,
        as_user: Option<&str>,
        role: Option<&str>,
    ) -> Result<Option<(String, Role)>> {
        if !self.server_configured()? {
            return Ok(None);
        }
        let user = match as_user.map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => u.to_owned(),
            None => self
                .store
                .sync_meta(CLI_USER)?
                .filter(|u| !u.is_empty())
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::Unauthorized,
                        "this workstation syncs with a server: sign in first (careloop sync login --as-user NAME)",
                    )
                })?,
        };
        let Some(server_role) = self.server_role(&user)? else {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                format!(
                    "{user} has not signed in on this workstation through its server: careloop sync login --as-user {user}"
                ),
            ));
        };
        if let Some(asked) = role {
            let asked: Role = asked.parse().map_err(|e: careloop_ops::OpsError| {
                ApiError::new(ErrorCode::BadInput, e.to_string())
            })?;
            if asked != server_role {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    format!(
                        "--role {asked}: {user} is a {server_role} on the server, and acts as one here"
                    ),
                ));
            }
        }
        Ok(Some((user, server_role)))
    }
}
