//! The Careloop central API (`careloop serve`): sign-in, team-scoped panels, and the
//! idempotent event sync that lets workstations work offline.
//!
//! - [`routes`]: `/api/v1` (described in `schema/openapi.json`); the extractors refuse bad
//!   requests with typed errors before a handler runs.
//! - [`error`]: the one error type, and the one place it becomes an HTTP status.
//! - [`storage`]: everything the server keeps, behind the narrow [`storage::Storage`]
//!   interface; the embedded default is SQLite (WAL) in the data dir.
//! - [`auth`]: argon2id passwords, access and refresh tokens, revocation, role and team.
//! - [`tls`]: rustls with a certificate given, or self-signed on first start.
//! - [`admin`]: what `careloop admin …` does to a data dir (users, teams, panels).
//!
//! Invariants: every request is authorised by role and team; a request that is refused
//! changes nothing; a push is stored whole or not at all, and pushing it again changes
//! nothing; the global order only grows; the server reads its clock through [`Clock`] (tests
//! pass their own).

pub mod admin;
pub mod auth;
pub mod error;
pub mod routes;
pub mod storage;
#[doc(hidden)]
pub mod testkit;
pub mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

pub use error::{Result, ServerError};
use routes::{AppState, TeamFold};
use storage::{SqliteStorage, Storage};

/// The server's clock (the system clock in production; tests pass a controllable one).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// How to run a server.
#[derive(Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub tls: tls::TlsSource,
    /// Requests with a larger body are refused (413) before they are read.
    pub max_body_bytes: usize,
    pub lifetimes: auth::Lifetimes,
    pub clock: Clock,
    /// Async worker threads.
    pub workers: usize,
}

impl ServerConfig {
    /// Defaults: a self-signed certificate, 8 MiB bodies, 15-minute access and 30-day
    /// refresh tokens, the system clock, 2 workers.
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> ServerConfig {
        ServerConfig {
            data_dir,
            listen,
            tls: tls::TlsSource::SelfSigned { names: Vec::new() },
            max_body_bytes: 8 * 1024 * 1024,
            lifetimes: auth::Lifetimes::default(),
            clock: system_clock(),
            workers: 2,
        }
    }
}

/// A running server. Dropping it (or [`ServerHandle::stop`]) stops it at once, as a crash
/// would: connections are cut, and what was acknowledged is durable.
pub struct ServerHandle {
    /// The address it listens on (the port is the OS's choice when 0 was asked for).
    pub addr: SocketAddr,
    /// SHA-256 (hex) of its certificate, for workstations to pin.
    pub pin: String,
    runtime: Option<tokio::runtime::Runtime>,
    folds: Arc<Mutex<HashMap<String, TeamFold>>>,
}

impl ServerHandle {
    /// The state the server derives from a team's events in its order (what every
    /// workstation of the team converges to), as JSON.
    pub fn team_snapshot(&self, team: &str) -> serde_json::Value {
        let folds = self
            .folds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        folds
            .get(team)
            .map_or_else(|| TeamFold::default().snapshot(), TeamFold::snapshot)
    }

    /// `https://ADDR`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }

    /// Blocks until the process is interrupted (Ctrl-C or SIGTERM).
    pub fn wait_for_signal(self) {
        if let Some(runtime) = &self.runtime {
            runtime.block_on(async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("installing a SIGTERM handler");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            });
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Opens the storage, folds each team's events, binds and starts serving in the
/// background.
pub fn start(config: ServerConfig) -> Result<ServerHandle> {
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(&config.data_dir)?);
    let mut folds: HashMap<String, TeamFold> = HashMap::new();
    storage.all_events(&mut |team, pulled| {
        folds
            .entry(team.to_owned())
            .or_default()
            .apply(&pulled.event);
    })?;
    let (tls_config, pin) = tls::server_config(&config.tls, &config.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers.max(1))
        .enable_all()
        .build()
        .map_err(|e| ServerError::Internal(format!("starting the runtime: {e}")))?;
    let listener = runtime
        .block_on(TcpListener::bind(config.listen))
        .map_err(|e| ServerError::BadRequest(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServerError::Internal(e.to_string()))?;
    let folds = Arc::new(Mutex::new(folds));
    let state = AppState {
        storage,
        clock: config.clock.clone(),
        lifetimes: config.lifetimes,
        max_body_bytes: config.max_body_bytes,
        folds: folds.clone(),
    };
    let app = routes::router(state);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Ok(ServerHandle {
        addr,
        pin,
        runtime: Some(runtime),
        folds,
    })
}
