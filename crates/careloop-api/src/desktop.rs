//! The desktop app's session: the unlocked cache behind a lock, opened once at start-up, and
//! who is signed in. The Tauri commands are one-line calls into this.
//!
//! Sign-in uses local accounts kept inside the encrypted cache (until central sign-in
//! exists); on first run, when the demo panel is created, three demo accounts are made (ana,
//! coordinator; cleo, clinician; sue, supervisor; password `demo`), weeks of outreach up to
//! yesterday are simulated on it ([`crate::activity`]; `CARELOOP_DEMO_ACTIVITY_WEEKS`, 0 for
//! none) and the demo worklists are opened. Every data command needs a signed-in, unlocked
//! session whose last activity is within the idle limit (15 minutes unless
//! `CARELOOP_IDLE_LOCK_SECONDS` says otherwise); otherwise it answers `session_locked`. This
//! is the boundary that reads the clock: each command's [`Session`] is stamped with the
//! clock's time here.

#[path = "desktop_sync.rs"]
mod sync;
// The commands of the desktop app, declared once (Tauri commands and the TypeScript client
// are generated from them); re-exported as `careloop_api::commands`.
#[path = "commands.rs"]
pub mod commands;
#[path = "desktop_throttle.rs"]
pub mod throttle;
// `impl Careloop` for headless clients' identity with a server; the module is not public.
#[path = "accounts.rs"]
mod accounts;
pub use accounts::CLI_USER;
pub use sync::{CaseConflicts, ResolveConflictForm};

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use careloop_ops::Role;
use careloop_store::{AuditOutcome, NewAuditEntry};
use chrono::{DateTime, NaiveDate, Utc};

use crate::dto::{SessionInfo, SignInForm};
use crate::operations::Session;
use crate::sync::SERVER_URL;
use crate::{ApiError, Careloop, Config, ErrorCode, Progress, Result, StartupReport};

/// The demo panel size on first run, unless `CARELOOP_DEMO_PATIENTS` says otherwise.
pub const DEFAULT_DEMO_PATIENTS: u32 = 1000;

/// Weeks of outreach simulated on the demo panel on first run, unless
/// `CARELOOP_DEMO_ACTIVITY_WEEKS` says otherwise (0: none, the log starts empty).
pub const DEFAULT_DEMO_ACTIVITY_WEEKS: u32 = 8;

/// The idle lock, unless `CARELOOP_IDLE_LOCK_SECONDS` says otherwise: 15 minutes.
pub const DEFAULT_IDLE_LOCK_SECONDS: u32 = 15 * 60;

/// The accounts made with the demo panel on first run, all with [`DEMO_PASSWORD`].
pub const DEMO_ACCOUNTS: &[(&str, Role)] = &[
    ("ana", Role::Coordinator),
    ("cleo", Role::Clinician),
    ("sue", Role::Supervisor),
];

/// The demo accounts' password.
pub const DEMO_PASSWORD: &str = "demo";

/// What a desktop session is configured with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesktopSettings {
    pub demo_patients: u32,
    /// Weeks of outreach simulated on a new demo panel, ending the day before today, so the
    /// review and the queues have history to show (0: none).
    pub demo_activity_weeks: u32,
    pub idle_lock_seconds: u32,
    /// Filled into the scripts' `{clinic_name}` and `{clinic_phone}`.
    pub clinic_name: String,
    pub clinic_phone: String,
    /// Add the demo accounts to an existing cache that has no accounts (a cache made before
    /// sign-in existed). New caches get them with the demo panel anyway.
    pub demo_accounts_for_existing_cache: bool,
    /// Where review exports go (`CARELOOP_EXPORT_DIR`, else the user's Downloads folder,
    /// else their home directory). An export is a deliberate, audited disclosure.
    pub export_dir: Option<std::path::PathBuf>,
    /// The central server (`CARELOOP_SERVER_URL`), and its certificate's SHA-256 when given
    /// (`CARELOOP_SERVER_PIN`; otherwise pinned on first use). None: local only.
    pub server_url: Option<String>,
    pub server_pin: Option<String>,
    /// A CA file (PEM) the server's certificate must chain to (`CARELOOP_SERVER_CA`),
    /// instead of a pin.
    pub server_ca: Option<std::path::PathBuf>,
}

impl Default for DesktopSettings {
    fn default() -> DesktopSettings {
        DesktopSettings {
            demo_patients: DEFAULT_DEMO_PATIENTS,
            demo_activity_weeks: DEFAULT_DEMO_ACTIVITY_WEEKS,
            idle_lock_seconds: DEFAULT_IDLE_LOCK_SECONDS,
            // Unset: the scripts read a default in their own language.
            clinic_name: String::new(),
            clinic_phone: String::new(),
            demo_accounts_for_existing_cache: false,
            export_dir: None,
            server_url: None,
            server_pin: None,
            server_ca: None,
        }
    }
}

impl DesktopSettings {
    /// The defaults, overridden by `CARELOOP_DEMO_PATIENTS`, `CARELOOP_DEMO_ACTIVITY_WEEKS`
    /// (0 allowed), `CARELOOP_IDLE_LOCK_SECONDS`, `CARELOOP_CLINIC_NAME`,
    /// `CARELOOP_CLINIC_PHONE` and `CARELOOP_DEMO_ACCOUNTS=1`.
    pub fn from_env() -> DesktopSettings {
        let count = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u32>().ok())
        };
        let number = |name: &str| count(name).filter(|n| *n > 0);
        let text = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let defaults = DesktopSettings::default();
        DesktopSettings {
            demo_patients: number("CARELOOP_DEMO_PATIENTS").unwrap_or(defaults.demo_patients),
            demo_activity_weeks: count("CARELOOP_DEMO_ACTIVITY_WEEKS")
                .unwrap_or(defaults.demo_activity_weeks),
            idle_lock_seconds: number("CARELOOP_IDLE_LOCK_SECONDS")
                .unwrap_or(defaults.idle_lock_seconds),
            clinic_name: text("CARELOOP_CLINIC_NAME").unwrap_or(defaults.clinic_name),
            clinic_phone: text("CARELOOP_CLINIC_PHONE").unwrap_or(defaults.clinic_phone),
            demo_accounts_for_existing_cache: text("CARELOOP_DEMO_ACCOUNTS")
                .is_some_and(|v| v.trim() == "1"),
            export_dir: text("CARELOOP_EXPORT_DIR")
                .map(std::path::PathBuf::from)
                .or_else(dirs::download_dir)
                .or_else(dirs::home_dir),
            server_url: text("CARELOOP_SERVER_URL"),
            server_pin: text("CARELOOP_SERVER_PIN"),
            server_ca: text("CARELOOP_SERVER_CA").map(std::path::PathBuf::from),
        }
    }
}

/// Who is signed in.
#[derive(Clone, Debug)]
struct SignedIn {
    user: String,
    role: Role,
    last_activity: DateTime<Utc>,
    locked: bool,
}

type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// One desktop session.
pub struct DesktopSession {
    config: Result<Config>,
    settings: DesktopSettings,
    clock: Clock,
    careloop: Arc<Mutex<Option<Careloop>>>,
    signed_in: Mutex<Option<SignedIn>>,
    /// A search index is being built in the background.
    search_building: Arc<AtomicBool>,
    /// How to reach the server (given by the shell), the signed-in server session, and
    /// whether a round is running (and the open conflicts counted before it).
    connector: Option<Arc<dyn crate::sync::Connector>>,
    transport: sync::TransportSlot,
    syncing: AtomicBool,
    open_conflicts: AtomicU32,
    /// Where long commands ("Refresh lists now") report their progress (the shell sends it
    /// to the window as an event); nowhere until set.
    progress: Mutex<Option<ProgressSink>>,
}

/// A receiver of [`Progress`], called from any thread.
pub type ProgressSink = Arc<dyn Fn(&Progress) + Send + Sync>;

fn locked_error(message: &str) -> ApiError {
    ApiError::new(ErrorCode::SessionLocked, message)
}

fn poisoned() -> ApiError {
    ApiError::new(
        ErrorCode::Internal,
        "an earlier operation failed midway; restart Careloop",
    )
}

impl DesktopSession {
    /// Sends the progress of long commands to `sink` (the shell: an event to the window).
    pub fn set_progress_sink(&self, sink: ProgressSink) {
        *self
            .progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sink);
    }

    /// Where long commands report progress (nowhere when no sink is set).
    pub(crate) fn progress_sink(&self) -> ProgressSink {
        self.progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| Arc::new(|_| {}))
    }

    /// The configured export folder (`CARELOOP_EXPORT_DIR`), or why there is none.
    pub(crate) fn export_dir(&self) -> Result<std::path::PathBuf> {
        self.settings.export_dir.clone().ok_or_else(|| {
            ApiError::new(
                ErrorCode::Io,
                "no folder to export to: set CARELOOP_EXPORT_DIR",
            )
        })
    }

    /// Reads the configuration from the environment (`CARELOOP_DATA_DIR`,
    /// `CARELOOP_KEY_FILE`, and [`DesktopSettings::from_env`]); nothing is opened yet. The
    /// session's clock is the system clock.
    pub fn from_env() -> DesktopSession {
        DesktopSession {
            config: Config::resolve(None, None),
            settings: DesktopSettings::from_env(),
            clock: Box::new(Utc::now),
            careloop: Arc::new(Mutex::new(None)),
            signed_in: Mutex::new(None),
            search_building: Arc::new(AtomicBool::new(false)),
            connector: None,
            transport: Arc::new(Mutex::new(None)),
            syncing: AtomicBool::new(false),
            open_conflicts: AtomicU32::new(0),
            progress: Mutex::new(None),
        }
    }

    /// A session with explicit configuration, settings and clock (tests pass a clock they
    /// move by hand).
    pub fn new(
        config: Config,
        settings: DesktopSettings,
        clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
    ) -> DesktopSession {
        DesktopSession {
            config: Ok(config),
            settings,
            clock: Box::new(clock),
            careloop: Arc::new(Mutex::new(None)),
            signed_in: Mutex::new(None),
            search_building: Arc::new(AtomicBool::new(false)),
            connector: None,
            transport: Arc::new(Mutex::new(None)),
            syncing: AtomicBool::new(false),
            open_conflicts: AtomicU32::new(0),
            progress: Mutex::new(None),
        }
    }

    /// Unlocks the cache (creating it with a demo panel, the demo accounts, simulated weeks
    /// of outreach up to yesterday and the demo worklists on first run). Calling it again once
    /// open only reports what is there.
    pub fn open(
        &self,
        today: NaiveDate,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<StartupReport> {
        let config = self.config.as_ref().map_err(Clone::clone)?;
        let mut slot = self.cache()?;
        if let Some(careloop) = slot.as_ref() {
            let stats = careloop.stats()?;
            return Ok(StartupReport {
                created: false,
                demo_loaded: false,
                patients: stats.patients,
                events: stats.events,
            });
        }
        // With a server the panel comes from it (the team's people), not from a demo.
        let demo_patients = if self.settings.server_url.is_some() {
            0
        } else {
            self.settings.demo_patients
        };
        let (mut careloop, mut report) =
            Careloop::open_for_desktop(config, demo_patients, today, progress)?;
        let now = (self.clock)();
        // A cache made before sign-in existed has no accounts; the demo ones are added to it
        // only when asked (they have a known password).
        if !report.demo_loaded
            && self.settings.demo_accounts_for_existing_cache
            && careloop.store.account_count()? == 0
        {
            put_demo_accounts(&mut careloop, now)?;
        }
        if report.demo_loaded {
            progress(&Progress::stage("accounts", "Creating the demo accounts…"));
            put_demo_accounts(&mut careloop, now)?;
            let weeks = self.settings.demo_activity_weeks;
            if weeks > 0 {
                // Weeks of work up to yesterday, so the review has history; today's
                // worklists are opened after it, as on any Monday.
                let message = format!("Simulating {weeks} weeks of outreach for the demo…");
                progress(&Progress::stage("activity", &message));
                let yesterday = today.pred_opt().unwrap_or(today);
                let plan = crate::activity::ActivityPlan::new(weeks, yesterday);
                crate::activity::simulate(&mut careloop, &plan, &mut |done, total| {
                    progress(&Progress {
                        stage: "activity".to_owned(),
                        done: done.into(),
                        total: Some(total.into()),
                        message: message.clone(),
                    })
                })?;
            }
            progress(&Progress::stage(
                "worklists",
                "Opening the demo worklists (first segmentation)…",
            ));
            let supervisor = Session {
                user: "sue".to_owned(),
                role: Role::Supervisor,
                at: now,
            };
            careloop.open_cases(&supervisor, today, None)?;
            report.events = careloop.stats()?.events;
            progress(&Progress::stage("ready", "Ready"));
        }
        self.remember_server(&mut careloop)?;
        *slot = Some(careloop);
        Ok(report)
    }

    /// Signs in (or unlocks) with a local account; an unknown user, a wrong password and a
    /// disabled account get the same refusal (`forbidden`), and every attempt is audited.
    /// Failures under a name are throttled ([`throttle`]: growing delays, then a 15-minute
    /// lock after 5, kept in the cache across restarts); each failure and each lock is
    /// audited. An account still under the old fast hash is rehashed as argon2id on a
    /// successful sign-in.
    fn sign_in_with(&self, form: &SignInForm) -> Result<SessionInfo> {
        let user = form.user.trim();
        if user.is_empty() {
            return Err(ApiError::new(ErrorCode::BadInput, "enter your user name"));
        }
        let now = (self.clock)();
        let mut slot = self.cache()?;
        let careloop = slot.as_mut().ok_or_else(|| {
            ApiError::new(
                ErrorCode::CacheLocked,
                "the local cache is not unlocked yet",
            )
        })?;
        let failures = careloop.store.sign_in_failures(user)?;
        let account = careloop.store.account(user)?;
        let known_role = || {
            account
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), |a| a.role.clone())
        };
        let gate = throttle::gate(failures, now);
        if gate != throttle::Gate::Open {
            // Refused without looking at the password (and not counted again).
            audit_sign_in(
                careloop,
                now,
                user,
                known_role(),
                "session.sign_in.throttled",
                false,
            )?;
            return Err(throttle::refusal(gate, now));
        }
        let no_accounts = account.is_none() && careloop.store.account_count()? == 0;
        let verified = match &account {
            Some(a) => a.verify(&form.password),
            None => {
                careloop_store::accounts::verify_nobody(&form.password);
                false
            }
        };
        let mut role = account
            .as_ref()
            .filter(|_| verified)
            .and_then(|a| a.role.parse::<Role>().ok());
        if let (Some(r), Some(a)) = (role, account.as_ref()) {
            if a.needs_rehash() {
                // The old fast hash: store the password again as argon2id.
                careloop.store.rehash_account(user, &form.password)?;
                audit_sign_in(
                    careloop,
                    now,
                    user,
                    r.to_string(),
                    "account.password_rehash",
                    true,
                )?;
            }
        }
        let mut via_server = false;
        let mut server_refusal = None;
        if role.is_none()
            && self.connector.is_some()
            && careloop.sync_setting(SERVER_URL)?.is_some()
        {
            // Not known here (or the password changed on the server): the server decides,
            // and its answer becomes this workstation's account for offline sign-ins.
            drop(slot);
            match self.sign_in_via_server(user, &form.password) {
                Ok(r) => {
                    role = Some(r);
                    via_server = true;
                }
                Err(e) => server_refusal = Some(e),
            }
            slot = self.cache()?;
        }
        let careloop = slot.as_mut().ok_or_else(|| {
            ApiError::new(
                ErrorCode::CacheLocked,
                "the local cache is not unlocked yet",
            )
        })?;
        audit_sign_in(
            careloop,
            now,
            user,
            role.map_or_else(known_role, |r| r.to_string()),
            if via_server {
                "session.sign_in.server"
            } else {
                "session.sign_in"
            },
            role.is_some(),
        )?;
        let Some(role) = role else {
            let (counted, locks) = throttle::after_failure(failures, now);
            careloop.store.set_sign_in_failures(user, counted)?;
            if locks {
                audit_sign_in(
                    careloop,
                    now,
                    user,
                    known_role(),
                    "session.sign_in.locked",
                    false,
                )?;
            }
            drop(slot);
            if let Some(e) = server_refusal
                .filter(|e| !matches!(e.code, ErrorCode::Unauthorized | ErrorCode::Forbidden))
            {
                return Err(e);
            }
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                if no_accounts && self.connector.is_none() {
                    "this cache has no local accounts yet (it was made before sign-in existed); start Careloop once with CARELOOP_DEMO_ACCOUNTS=1 to add the demo accounts"
                } else {
                    "unknown user or wrong password"
                },
            ));
        };
        if failures.is_some() {
            careloop.store.clear_sign_in_failures(user)?;
        }
        drop(slot);
        *self.signed()? = Some(SignedIn {
            user: user.to_owned(),
            role,
            last_activity: now,
            locked: false,
        });
        self.build_search_in_background();
        if !via_server {
            // The server session is already there after a sign-in through the server.
            self.sign_in_to_server(user, &form.password);
        }
        self.session_info()
    }

    /// Starts building the search index on its own connection and thread (building it takes
    /// seconds on a large panel; the first search must not wait for it, nor other commands),
    /// then installs it. Nothing happens when it is built or being built; a failure leaves
    /// the index to be built on first search.
    fn build_search_in_background(&self) {
        let Ok(config) = self.config.clone() else {
            return;
        };
        let ready = self
            .careloop
            .lock()
            .map(|c| c.as_ref().is_some_and(Careloop::search_ready))
            .unwrap_or(true);
        if ready || self.search_building.swap(true, Ordering::SeqCst) {
            return;
        }
        let careloop = Arc::clone(&self.careloop);
        let building = Arc::clone(&self.search_building);
        std::thread::spawn(move || {
            if let Ok(built) = Careloop::build_search_detached(&config) {
                if let Ok(mut slot) = careloop.lock() {
                    if let Some(c) = slot.as_mut() {
                        // On failure the index is built on first search instead.
                        let _ = c.install_search(built);
                    }
                }
            }
            building.store(false, Ordering::SeqCst);
        });
    }

    fn idle_too_long(&self, s: &SignedIn, now: DateTime<Utc>) -> bool {
        now.signed_duration_since(s.last_activity)
            > chrono::Duration::seconds(i64::from(self.settings.idle_lock_seconds))
    }

    /// The signed-in user as a [`Session`] stamped with the clock's time, counting as
    /// activity; `session_locked` when nobody is signed in, the session is locked, or it was
    /// idle past the limit (which locks it).
    fn session(&self) -> Result<Session> {
        let now = (self.clock)();
        let mut signed = self.signed()?;
        let Some(s) = signed.as_mut() else {
            return Err(locked_error("sign in to continue"));
        };
        if self.idle_too_long(s, now) {
            s.locked = true;
            return Err(locked_error(&format!(
                "the session locked after {} without activity; sign in again",
                describe_seconds(self.settings.idle_lock_seconds)
            )));
        }
        if s.locked {
            return Err(locked_error("the session is locked; sign in again"));
        }
        s.last_activity = now;
        Ok(Session {
            user: s.user.clone(),
            role: s.role,
            at: now,
        })
    }

    fn with_session<T>(&self, f: impl FnOnce(&mut Careloop, &Session) -> Result<T>) -> Result<T> {
        let session = self.session()?;
        let mut slot = self.cache()?;
        let careloop = slot.as_mut().ok_or_else(|| {
            ApiError::new(
                ErrorCode::CacheLocked,
                "the local cache is not unlocked yet",
            )
        })?;
        f(careloop, &session)
    }

    fn with<T>(&self, f: impl FnOnce(&Careloop) -> Result<T>) -> Result<T> {
        let slot = self.cache()?;
        let careloop = slot.as_ref().ok_or_else(|| {
            ApiError::new(
                ErrorCode::CacheLocked,
                "the local cache is not unlocked yet",
            )
        })?;
        f(careloop)
    }

    fn cache(&self) -> Result<MutexGuard<'_, Option<Careloop>>> {
        self.careloop.lock().map_err(|_| poisoned())
    }

    fn signed(&self) -> Result<MutexGuard<'_, Option<SignedIn>>> {
        self.signed_in.lock().map_err(|_| poisoned())
    }
}

/// Makes the configured export folder (and its parents) when missing, owner-only.
pub fn make_export_folder(dir: &std::path::Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| {
        ApiError::new(
            ErrorCode::Io,
            format!("the export folder {}: {e}", dir.display()),
        )
    })
}

/// One audit entry about a sign-in attempt (who, as typed; never the password).
fn audit_sign_in(
    careloop: &mut Careloop,
    at: DateTime<Utc>,
    user: &str,
    role: String,
    action: &str,
    allowed: bool,
) -> Result<()> {
    careloop.store.append_audit(&NewAuditEntry {
        at,
        actor: user.to_owned(),
        role,
        action: action.to_owned(),
        patient_id: None,
        target: None,
        outcome: if allowed {
            AuditOutcome::Allowed
        } else {
            AuditOutcome::Denied
        },
    })?;
    Ok(())
}

fn put_demo_accounts(careloop: &mut Careloop, now: DateTime<Utc>) -> Result<()> {
    for (name, role) in DEMO_ACCOUNTS {
        careloop
            .store
            .put_account(name, role.as_str(), DEMO_PASSWORD, now)?;
    }
    Ok(())
}

/// "15 minutes", "30 seconds".
fn describe_seconds(seconds: u32) -> String {
    match seconds {
        s if s % 60 == 0 && s >= 60 => {
            let m = s / 60;
            format!("{m} minute{}", if m == 1 { "" } else { "s" })
        }
        s => format!("{s} second{}", if s == 1 { "" } else { "s" }),
    }
}
