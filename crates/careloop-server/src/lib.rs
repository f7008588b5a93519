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
//! - [`admin`]: what `careloop admin …` does to a data dir (users, teams, panels, partners).
//! - [`exchange`]: `/fhir`, the referral exchange: partner organisations answer the
//!   referrals sent to them as FHIR Tasks (SMART Backend Services tokens).
//!
//! Invariants: every request is authorised by role and team; a request that is refused
//! changes nothing; a push is stored whole or not at all, and pushing it again changes
//! nothing; the global order only grows; the server reads its clock through [`Clock`] (tests
//! pass their own).

// Requests are hostile input: no unwrap or expect outside the tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod auth;
pub mod error;
pub mod exchange;
pub mod lists;
pub mod logging;
pub mod routes;
pub mod storage;
pub mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

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
    /// Connections served at once; beyond it, new ones wait in the listen queue until one
    /// closes (kept well under the open-file limit).
    pub max_connections: usize,
    /// Bounds on a slow or silent client: the TLS handshake, the request headers, the whole
    /// request (body and handler), and a connection without any traffic.
    pub timeouts: Timeouts,
    /// Password checks at once (each holds 19 MiB) and waiting (beyond: 429).
    pub hash_threads: usize,
    pub hash_queue: usize,
    /// How failed sign-ins are slowed down and locked.
    pub sign_in_limits: auth::SignInLimits,
    /// How often each team's lists are brought current as of the clock's day (on start,
    /// then at this interval: a new day evaluates everyone); `None`: never.
    pub lists_every: Option<Duration>,
}

/// How long the server waits for a client.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub handshake: Duration,
    pub headers: Duration,
    pub request: Duration,
    pub idle: Duration,
}

impl Default for Timeouts {
    /// 10 s for the handshake and the headers; 120 s for a whole request (an 8 MiB push on
    /// a slow clinic line); 60 s without any traffic closes a connection.
    fn default() -> Timeouts {
        Timeouts {
            handshake: Duration::from_secs(10),
            headers: Duration::from_secs(10),
            request: Duration::from_secs(120),
            idle: Duration::from_secs(60),
        }
    }
}

impl ServerConfig {
    /// Defaults: a self-signed certificate, 8 MiB bodies, 15-minute access and 30-day
    /// refresh tokens, the system clock, 2 workers, 1,024 connections, two password checks at
    /// once with 32 waiting.
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> ServerConfig {
        ServerConfig {
            data_dir,
            listen,
            tls: tls::TlsSource::SelfSigned { names: Vec::new() },
            max_body_bytes: 8 * 1024 * 1024,
            lifetimes: auth::Lifetimes::default(),
            clock: system_clock(),
            workers: 2,
            max_connections: 1024,
            timeouts: Timeouts::default(),
            hash_threads: 2,
            hash_queue: 32,
            sign_in_limits: auth::SignInLimits::default(),
            lists_every: Some(Duration::from_secs(300)),
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
            tracing::info!(target: "careloop_server::lifecycle", "server stopping");
            runtime.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }

    /// Blocks until the process is interrupted (Ctrl-C or SIGTERM).
    pub fn wait_for_signal(self) {
        if let Some(runtime) = &self.runtime {
            runtime.block_on(async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut term) => {
                        let signal = tokio::select! {
                            _ = tokio::signal::ctrl_c() => "interrupt",
                            _ = term.recv() => "terminate",
                        };
                        tracing::info!(target: "careloop_server::lifecycle", signal, "stop requested");
                    }
                    // No SIGTERM handler (should not happen): Ctrl-C still stops it.
                    Err(_) => {
                        let _ = tokio::signal::ctrl_c().await;
                        tracing::info!(
                            target: "careloop_server::lifecycle",
                            signal = "interrupt",
                            "stop requested"
                        );
                    }
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

/// One connection: the TLS handshake within its time-out, then HTTP/1.1 with a header
/// time-out, closed after `idle` without traffic either way.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    app: axum::Router,
    timeouts: Timeouts,
) {
    let tls = match tokio::time::timeout(timeouts.handshake, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        // What the client sent is not logged, nor rustls's error text: only that it failed.
        Ok(Err(_)) => {
            tracing::debug!(target: "careloop_server::connection", outcome = "failed", "TLS handshake");
            return;
        }
        Err(_) => {
            tracing::debug!(target: "careloop_server::connection", outcome = "timeout", "TLS handshake");
            return;
        }
    };
    let started = Instant::now();
    let last_traffic = Arc::new(AtomicU64::new(0));
    let io = Watched {
        inner: tls,
        started,
        last_traffic: last_traffic.clone(),
    };
    let address = routes::ClientAddr(peer.ip());
    let app = app.map_request(
        move |mut request: axum::http::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(address);
            request
        },
    );
    let service = hyper_util::service::TowerToHyperService::new(app);
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.headers)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    loop {
        let quiet = started
            .elapsed()
            .saturating_sub(Duration::from_millis(last_traffic.load(Ordering::Relaxed)));
        if quiet >= timeouts.idle {
            tracing::debug!(target: "careloop_server::connection", "closed after idling");
            return; // dropping the connection closes it
        }
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(e) = ended {
                    // The kind only: hyper's text may quote what the client sent.
                    tracing::debug!(
                        target: "careloop_server::connection",
                        parse = e.is_parse(),
                        timeout = e.is_timeout(),
                        incomplete = e.is_incomplete_message(),
                        "connection ended with an error"
                    );
                }
                return;
            }
            () = tokio::time::sleep(timeouts.idle - quiet) => {}
        }
    }
}

/// A stream that notes when bytes last went either way.
struct Watched<T> {
    inner: T,
    started: Instant,
    last_traffic: Arc<AtomicU64>,
}

impl<T> Watched<T> {
    fn touch(&self) {
        self.last_traffic
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Watched<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        polled
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Opens the storage, folds each team's events, binds and starts serving in the
/// background.
pub fn start(config: ServerConfig) -> Result<ServerHandle> {
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(&config.data_dir)?);
    let mut folds: HashMap<String, TeamFold> = HashMap::new();
    let mut events = 0u64;
    storage.all_events(&mut |team, pulled| {
        events += 1;
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
    let teams = folds.len();
    let folds = Arc::new(Mutex::new(folds));
    let state = AppState {
        storage,
        clock: config.clock.clone(),
        lifetimes: config.lifetimes,
        max_body_bytes: config.max_body_bytes,
        folds: folds.clone(),
        hashes: Arc::new(auth::HashPool::start(
            config.hash_threads,
            config.hash_queue,
        )?),
        throttle: Arc::new(auth::Throttle::new(config.sign_in_limits)),
        request_timeout: config.timeouts.request,
    };
    if let Some(every) = config.lists_every {
        let (data_dir, storage, clock) = (
            config.data_dir.clone(),
            state.storage.clone(),
            config.clock.clone(),
        );
        runtime.spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let (data_dir, storage, at) = (data_dir.clone(), storage.clone(), clock());
                let run = tokio::task::spawn_blocking(move || {
                    lists::bring_all_current(&data_dir, storage.as_ref(), at)
                });
                if run.await.is_err() {
                    tracing::error!(target: "careloop_server::lists", "the lists task stopped");
                }
            }
        });
    }
    let app = routes::router(state);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);
    let timeouts = config.timeouts;
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    runtime.spawn(async move {
        loop {
            // At the cap, stop accepting: new connections wait in the listen queue.
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a reset before accept: wait instead of
                    // spinning on the error.
                    tracing::warn!(
                        target: "careloop_server::connection",
                        kind = ?e.kind(),
                        "accepting a connection failed"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                let _slot = slot;
                serve_connection(stream, peer, acceptor, app, timeouts).await;
            });
        }
    });
    tracing::info!(
        target: "careloop_server::lifecycle",
        addr = %addr,
        tls = match &config.tls {
            tls::TlsSource::SelfSigned { .. } => "self_signed",
            tls::TlsSource::Files { .. } => "files",
        },
        workers = config.workers.max(1),
        max_connections = config.max_connections.max(1),
        max_body_bytes = config.max_body_bytes,
        teams = teams,
        events,
        "server started"
    );
    Ok(ServerHandle {
        addr,
        pin,
        runtime: Some(runtime),
        folds,
    })
}
