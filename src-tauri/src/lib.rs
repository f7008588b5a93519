//! The Careloop desktop shell. It registers commands and nothing else: each command is one
//! call into careloop-api's [`DesktopSession`], which owns the cache, the checks and the
//! errors. No PHI is logged here.

use careloop_api::desktop::DesktopSession;
use careloop_api::{ApiError, PatientPage, PatientQuery, StartupReport};
use tauri::{Emitter, State};

/// The event that carries [`careloop_api::Progress`] to the UI.
pub const PROGRESS_EVENT: &str = "careloop://progress";

#[tauri::command(async)]
fn open_cache(
    app: tauri::AppHandle,
    session: State<'_, DesktopSession>,
) -> Result<StartupReport, ApiError> {
    session.open(chrono::Local::now().date_naive(), &mut |p| {
        drop(app.emit(PROGRESS_EVENT, p))
    })
}

#[tauri::command(async)]
fn list_patients(
    query: PatientQuery,
    session: State<'_, DesktopSession>,
) -> Result<PatientPage, ApiError> {
    session.list_patients(&query)
}

/// Starts the app.
pub fn run() {
    tauri::Builder::default()
        .manage(DesktopSession::from_env())
        .invoke_handler(tauri::generate_handler![open_cache, list_patients])
        .run(tauri::generate_context!())
        .expect("the Tauri runtime failed to start");
}
