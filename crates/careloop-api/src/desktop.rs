//! The desktop app's session: the unlocked cache behind a lock, opened once at start-up.
//! The Tauri commands are one-line calls into this.

use std::sync::Mutex;

use chrono::NaiveDate;

use crate::{
    ApiError, Careloop, Config, ErrorCode, PatientPage, PatientQuery, Progress, Result,
    StartupReport,
};

/// The demo panel size on first run, unless `CARELOOP_DEMO_PATIENTS` says otherwise.
pub const DEFAULT_DEMO_PATIENTS: u32 = 1000;

/// One desktop session.
pub struct DesktopSession {
    config: Result<Config>,
    demo_patients: u32,
    careloop: Mutex<Option<Careloop>>,
}

impl DesktopSession {
    /// Reads the configuration from the environment (`CARELOOP_DATA_DIR`,
    /// `CARELOOP_KEY_FILE`, `CARELOOP_DEMO_PATIENTS`); nothing is opened yet.
    pub fn from_env() -> DesktopSession {
        let demo_patients = std::env::var("CARELOOP_DEMO_PATIENTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_DEMO_PATIENTS);
        DesktopSession {
            config: Config::resolve(None, None),
            demo_patients,
            careloop: Mutex::new(None),
        }
    }

    /// Unlocks the cache (creating it with a demo panel on first run). Calling it again
    /// once open only reports what is there.
    pub fn open(
        &self,
        today: NaiveDate,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<StartupReport> {
        let config = self.config.as_ref().map_err(Clone::clone)?;
        let mut slot = self.lock()?;
        if let Some(careloop) = slot.as_ref() {
            let stats = careloop.stats()?;
            return Ok(StartupReport {
                created: false,
                demo_loaded: false,
                patients: stats.patients,
                events: stats.events,
            });
        }
        let (careloop, report) =
            Careloop::open_for_desktop(config, self.demo_patients, today, progress)?;
        *slot = Some(careloop);
        Ok(report)
    }

    /// One page of the patient list.
    pub fn list_patients(&self, query: &PatientQuery) -> Result<PatientPage> {
        self.with(|c| c.list_patients(query))
    }

    fn with<T>(&self, f: impl FnOnce(&Careloop) -> Result<T>) -> Result<T> {
        let slot = self.lock()?;
        let careloop = slot.as_ref().ok_or_else(|| {
            ApiError::new(
                ErrorCode::CacheLocked,
                "the local cache is not unlocked yet",
            )
        })?;
        f(careloop)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Option<Careloop>>> {
        self.careloop.lock().map_err(|_| {
            ApiError::new(
                ErrorCode::Internal,
                "an earlier operation failed midway; restart Careloop",
            )
        })
    }
}
