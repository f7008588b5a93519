//! The desktop session's sync with its server (`CARELOOP_SERVER_URL`): signing in to the
//! server along with the local sign-in, a round on demand or from the shell's timer, the
//! status the header shows, and the conflicts a person resolves.
//!
//! The cache is locked for each step of a round, never across a network call, so the UI
//! keeps answering while the network is slow or down.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use careloop_ops::Role;

use super::{poisoned, DesktopSession};
use crate::sync::{
    round, CacheAccess, ConflictDto, ConnectRequest, Connector, SupersededDto, SyncStatus,
    Transport, SERVER_CA, SERVER_PIN, SERVER_URL,
};
use crate::{ApiError, Careloop, ErrorCode, Result};

/// The signed-in server session, once there is one.
pub(super) type TransportSlot = Arc<Mutex<Option<Box<dyn Transport + Send>>>>;

/// A conflict decision from the UI.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ResolveConflictForm {
    pub case_id: String,
    pub events: Vec<String>,
    pub kept: String,
    pub note: String,
}

/// A case's conflicts and the events that changed nothing, for the case view.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CaseConflicts {
    pub conflicts: Vec<ConflictDto>,
    pub superseded: Vec<SupersededDto>,
}

struct Locked<'a>(&'a Mutex<Option<Careloop>>);

impl CacheAccess for Locked<'_> {
    fn with<T>(&mut self, f: impl FnOnce(&mut Careloop) -> Result<T>) -> Result<T> {
        let mut slot = self.0.lock().map_err(|_| poisoned())?;
        let careloop = slot.as_mut().ok_or_else(|| {
            ApiError::new(
                ErrorCode::CacheLocked,
                "the local cache is not unlocked yet",
            )
        })?;
        f(careloop)
    }
}

impl DesktopSession {
    /// Gives the session its way to the server (the shell does, with careloop-sync).
    pub fn with_connector(mut self, connector: Arc<dyn Connector>) -> DesktopSession {
        self.connector = Some(connector);
        self
    }

    /// Remembers the server of `CARELOOP_SERVER_URL` in the cache, once it is open.
    pub(super) fn remember_server(&self, careloop: &mut Careloop) -> Result<()> {
        if let Some(url) = &self.settings.server_url {
            if careloop.sync_setting(SERVER_URL)?.as_deref() != Some(url.as_str()) {
                careloop.set_sync_setting(SERVER_URL, url)?;
            }
            if let Some(pin) = &self.settings.server_pin {
                careloop.set_sync_setting(SERVER_PIN, &pin.to_ascii_lowercase())?;
            }
            if let Some(path) = &self.settings.server_ca {
                let pem = std::fs::read_to_string(path).map_err(|e| {
                    ApiError::new(
                        ErrorCode::Io,
                        format!("the server's CA {}: {e}", path.display()),
                    )
                })?;
                careloop.set_sync_setting(SERVER_CA, &pem)?;
            }
        }
        Ok(())
    }

    /// After a local sign-in: signs in to the server too, in the background, with the same
    /// password (kept only for that call). Offline is fine: the next round resumes from the
    /// keyring's refresh token, or waits for the next sign-in.
    pub(super) fn sign_in_to_server(&self, user: &str, password: &str) {
        let (Some(connector), Some(request)) = (self.connector.clone(), self.connect_request(user))
        else {
            return;
        };
        let request = ConnectRequest {
            password: Some(password.to_owned()),
            ..request
        };
        let slot = Arc::clone(&self.transport);
        let cache = Arc::clone(&self.careloop);
        std::thread::spawn(move || match connector.connect(&request) {
            Ok(connected) => {
                pin_on_first_use(&cache, request.pin.as_deref(), connected.seen_pin);
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(connected.transport);
                }
            }
            // The server no longer takes this password (the user was disabled, revoked or
            // changed their password there): the offline copy must not keep working.
            Err(e) if e.code == ErrorCode::Unauthorized => {
                if let Ok(mut slot) = cache.lock() {
                    if let Some(careloop) = slot.as_mut() {
                        let _ = careloop.store.forget_server_password(&request.user);
                    }
                }
            }
            Err(_) => {}
        });
    }

    /// A first sign-in on this workstation (or after a password change): the server checks
    /// the password, and its answer becomes a local account, so later sign-ins work offline.
    /// Called without the cache lock held.
    pub(super) fn sign_in_via_server(&self, user: &str, password: &str) -> Result<Role> {
        let (Some(connector), Some(request)) = (self.connector.clone(), self.connect_request(user))
        else {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "no server is set for this workstation",
            ));
        };
        let request = ConnectRequest {
            password: Some(password.to_owned()),
            ..request
        };
        let connected = connector.connect(&request).map_err(|e| match e.code {
            // The same answer whether the name is unknown here or its password did not
            // match: neither tells which.
            ErrorCode::Offline => ApiError::new(
                ErrorCode::Offline,
                format!(
                    "the password could not be checked on this workstation and the server cannot be reached: a first sign-in here (or the first after a password change) needs the network ({})",
                    e.message
                ),
            ),
            _ => e,
        })?;
        let role: Role = connected.role.parse().map_err(|_| {
            ApiError::internal(format!(
                "the server gave {user} the role {:?}, which this version does not know",
                connected.role
            ))
        })?;
        pin_on_first_use(&self.careloop, request.pin.as_deref(), connected.seen_pin);
        let now = (self.clock)();
        Locked(&self.careloop).with(|c| {
            c.store
                .put_server_account(user, role.as_str(), password, now)
                .map_err(ApiError::from)
        })?;
        *self.transport.lock().map_err(|_| poisoned())? = Some(connected.transport);
        Ok(role)
    }

    fn connect_request(&self, user: &str) -> Option<ConnectRequest> {
        let mut slot = self.careloop.lock().ok()?;
        let careloop = slot.as_mut()?;
        let url = careloop.sync_setting(SERVER_URL).ok()??;
        Some(ConnectRequest {
            url,
            pin: careloop.sync_setting(SERVER_PIN).ok()?,
            ca: careloop.sync_setting(SERVER_CA).ok()?,
            user: user.to_owned(),
            password: None,
            workstation: careloop.workstation_id().ok()?,
        })
    }

    /// One sync round now (the shell's timer calls it too). Not an activity: it does not
    /// keep an idle session open. Without a server, or with nobody signed in, it only
    /// reports the status.
    pub(super) fn sync_round(&self) -> Result<SyncStatus> {
        let signed = self.signed()?.as_ref().map(|s| (s.user.clone(), s.role));
        if let (Some((user, role)), Some(connector)) = (signed, self.connector.clone()) {
            if !self.syncing.swap(true, Ordering::SeqCst) {
                let outcome = self.round(&user, connector.as_ref());
                self.syncing.store(false, Ordering::SeqCst);
                let now = (self.clock)();
                Locked(&self.careloop).with(|c| c.sync_record(&outcome, now))?;
                // The lists follow what the round brought, as the signed-in user.
                let session = crate::Session {
                    user: user.clone(),
                    role,
                    at: now,
                };
                let lists =
                    Locked(&self.careloop).with(|c| c.bring_lists_current(now, Some(&session)))?;
                // The cases they opened or closed go out in a second round at once, rather
                // than waiting in the outbox for the next one.
                if lists.opened + lists.closed_by_new_data + lists.closed_left_segment > 0
                    && !self.syncing.swap(true, Ordering::SeqCst)
                {
                    let outcome = self.round(&user, connector.as_ref());
                    self.syncing.store(false, Ordering::SeqCst);
                    Locked(&self.careloop).with(|c| c.sync_record(&outcome, (self.clock)()))?;
                }
            }
        }
        self.current_sync_status()
    }

    fn round(&self, user: &str, connector: &dyn Connector) -> Result<crate::sync::SyncReport> {
        let Some(request) = self.connect_request(user) else {
            return Err(ApiError::new(
                ErrorCode::BadInput,
                "no server is set for this workstation (CARELOOP_SERVER_URL)",
            ));
        };
        let mut slot = self.transport.lock().map_err(|_| poisoned())?;
        if slot.is_none() {
            let connected = connector.connect(&request)?;
            pin_on_first_use(&self.careloop, request.pin.as_deref(), connected.seen_pin);
            *slot = Some(connected.transport);
        }
        let transport = slot.as_mut().expect("set above");
        let outcome = round(&mut Locked(&self.careloop), transport.as_mut());
        if matches!(&outcome, Err(e) if e.code == ErrorCode::Unauthorized) {
            // Expired or revoked: sign in again (or resume) next time.
            *slot = None;
        }
        outcome
    }

    /// Last sync, events waiting, offline, open conflicts, and whether a round runs now
    /// (read between its steps: a round holds the cache only while it stores a page).
    pub(super) fn current_sync_status(&self) -> Result<SyncStatus> {
        let syncing = self.syncing.load(Ordering::SeqCst);
        let status = Locked(&self.careloop).with(|c| {
            if syncing {
                // Read every second during a round: no folding of the log after each page.
                c.sync_status_counting(self.open_conflicts.load(Ordering::SeqCst))
            } else {
                c.sync_status()
            }
        })?;
        if !syncing {
            self.open_conflicts
                .store(status.open_conflicts, Ordering::SeqCst);
        }
        Ok(SyncStatus { syncing, ..status })
    }
}

fn pin_on_first_use(cache: &Mutex<Option<Careloop>>, pinned: Option<&str>, seen: Option<String>) {
    if let (None, Some(seen)) = (pinned, seen) {
        if let Ok(mut slot) = cache.lock() {
            if let Some(c) = slot.as_mut() {
                let _ = c.set_sync_setting(SERVER_PIN, &seen);
            }
        }
    }
}
