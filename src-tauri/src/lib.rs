//! The Careloop desktop shell. It registers commands and nothing else: each command is one
//! call into careloop-api's [`DesktopSession`], which owns the cache, the signed-in user, the
//! idle lock, the checks and the errors. No PHI is logged here.

use careloop_api::commands::*;
use careloop_api::desktop::DesktopSession;
use careloop_api::{ApiError, StartupReport};
use tauri::{Emitter, State};

/// The event that carries [`careloop_api::Progress`] to the UI.
pub const PROGRESS_EVENT: &str = "careloop://progress";

/// How often the background sync runs when a server is set (`CARELOOP_SYNC_SECONDS`).
const SYNC_EVERY_SECONDS: u64 = 30;

type Session<'a> = State<'a, DesktopSession>;
type Answer<T> = Result<T, ApiError>;

#[tauri::command(async)]
fn open_cache(app: tauri::AppHandle, session: Session<'_>) -> Answer<StartupReport> {
    session.open(chrono::Local::now().date_naive(), &mut |p| {
        drop(app.emit(PROGRESS_EVENT, p))
    })
}

/// One Tauri command per command declared in `careloop_api::commands`, each a call of the
/// same name on the session, and the handler that registers them all with `open_cache`.
macro_rules! tauri_commands {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $answer:ty;)*) => {
        $(
            #[tauri::command(async)]
            fn $name(session: Session<'_>, $($arg: $ty),*) -> Answer<$answer> {
                session.$name($($arg),*)
            }
        )*

        fn invoke_handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![open_cache, $($name),*]
        }
    };
}

careloop_api::for_each_command!(tauri_commands);

/// Syncs in the background while the app runs (a round does nothing until the cache is
/// open and someone is signed in, and nothing at all without a server), backing off while
/// the server cannot be reached.
fn sync_in_background(app: tauri::AppHandle) {
    use tauri::Manager;
    let every = std::env::var("CARELOOP_SYNC_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s: &u64| *s > 0)
        .unwrap_or(SYNC_EVERY_SECONDS);
    let mut backoff = careloop_api::sync::Backoff::new(
        std::time::Duration::from_secs(every),
        std::time::Duration::from_secs(600),
        u64::from(std::process::id()),
    );
    std::thread::spawn(move || {
        let mut wait = std::time::Duration::from_secs(every);
        loop {
            std::thread::sleep(wait);
            // Offline or refused: wait longer each time (up to 10 minutes); "Sync now" and
            // the next success go back to the usual interval.
            let succeeded = app
                .state::<DesktopSession>()
                .sync_now()
                .is_ok_and(|status| status.last_error.is_none());
            wait = backoff.next(succeeded);
        }
    });
}

/// Logs to stderr, filtered by `CARELOOP_LOG` (default `warn`), as the CLI does: careloop-api
/// logs each command's name, outcome code and duration, never an argument. The webview's
/// crates stay at `warn` whatever the filter says (their debug output can quote IPC traffic).
fn init_logs() {
    use tracing_subscriber::EnvFilter;
    let spec = std::env::var("CARELOOP_LOG").unwrap_or_default();
    let spec = if spec.trim().is_empty() {
        "warn"
    } else {
        spec.trim()
    };
    let filter = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("warn"));
    let filter = ["tauri=warn", "wry=warn", "tao=warn", "webkit2gtk=warn"]
        .into_iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, |f, d| f.add_directive(d));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Starts the app.
pub fn run() {
    init_logs();
    let session = DesktopSession::from_env()
        .with_connector(std::sync::Arc::new(careloop_sync::HttpConnector::keyring()));
    tauri::Builder::default()
        .manage(session)
        .setup(|app| {
            use tauri::Manager;
            // Long commands ("Refresh lists now") report progress as the start-up does.
            let handle = app.handle().clone();
            app.state::<DesktopSession>()
                .set_progress_sink(std::sync::Arc::new(move |p| {
                    drop(handle.emit(PROGRESS_EVENT, p))
                }));
            sync_in_background(app.handle().clone());
            Ok(())
        })
        .invoke_handler(invoke_handler())
        .run(tauri::generate_context!())
        .expect("the Tauri runtime failed to start");
}
