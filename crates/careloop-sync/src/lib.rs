//! The workstation's HTTPS client of the Careloop central API: a
//! [`careloop_api::sync::Transport`] over reqwest and rustls.
//!
//! - **Trust**: the server's certificate is pinned by its SHA-256. On the first connection
//!   the workstation takes what it is shown (trust on first use) and keeps it in its cache;
//!   afterwards a different certificate is refused. An administrator can give the pin
//!   instead (`careloop sync connect --pin`).
//! - **Sign-in**: password sign-in gives a short-lived access token and a refresh token; the
//!   refresh token lives in the OS keyring ([`TokenStore::Keyring`]), never in a file, and
//!   is rotated on every refresh. An expired access token is refreshed once, transparently.
//! - **Errors**: a connection that cannot be made, or is cut, is `offline` (work goes on
//!   locally); the server's typed errors keep their meaning (`unauthorized`, `forbidden`,
//!   `conflict`, `bad_input`).
//! - **Logs** (`tracing`, target `careloop_sync`): each call to the server as its operation
//!   (`login`, `refresh`, `logout`, `push`, `pull`, `panel`, `segments`, `raw`), the HTTP
//!   status, the latency and, when it failed, the error code; pushes and pulls by counts.
//!   Never a URL, a body, a user name, a token or an error's text (a reqwest error names
//!   the URL; the server's message may quote what was sent).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use careloop_api::sync::Transport;
use careloop_api::{ApiError, ErrorCode, Result};
use careloop_wire::{
    ErrorBody, LoginRequest, PanelPage, PullResponse, PushRequest, PushResponse, RefreshRequest,
    Tokens,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// Where the refresh token is kept between runs.
#[derive(Clone, Debug)]
pub enum TokenStore {
    /// The OS keyring (Secret Service, Keychain, Credential Manager): the desktop and CLI.
    Keyring,
    /// This process's memory only (tests and load runs; nothing survives the process).
    Memory(Arc<Mutex<Option<String>>>),
}

impl TokenStore {
    pub fn memory() -> TokenStore {
        TokenStore::Memory(Arc::new(Mutex::new(None)))
    }

    fn entry(server: &str, user: &str) -> Result<keyring::Entry> {
        keyring::Entry::new("careloop", &format!("refresh-token:{server}:{user}"))
            .map_err(|e| ApiError::new(ErrorCode::Keyring, e.to_string()))
    }

    pub fn save(&self, server: &str, user: &str, token: &str) -> Result<()> {
        match self {
            TokenStore::Keyring => Self::entry(server, user)?
                .set_password(token)
                .map_err(|e| ApiError::new(ErrorCode::Keyring, e.to_string())),
            TokenStore::Memory(slot) => {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.to_owned());
                Ok(())
            }
        }
    }

    pub fn load(&self, server: &str, user: &str) -> Result<Option<String>> {
        match self {
            TokenStore::Keyring => match Self::entry(server, user)?.get_password() {
                Ok(token) => Ok(Some(token)),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(ApiError::new(ErrorCode::Keyring, e.to_string())),
            },
            TokenStore::Memory(slot) => Ok(slot.lock().unwrap_or_else(|e| e.into_inner()).clone()),
        }
    }

    pub fn forget(&self, server: &str, user: &str) -> Result<()> {
        match self {
            TokenStore::Keyring => match Self::entry(server, user)?.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(ApiError::new(ErrorCode::Keyring, e.to_string())),
            },
            TokenStore::Memory(slot) => {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Ok(())
            }
        }
    }
}

/// Accepts exactly the pinned certificate (or, with no pin yet, whatever is shown, and
/// remembers it). Signatures are still checked: the server must hold the certificate's key.
#[derive(Debug)]
struct Pinning {
    expected: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
    algorithms: WebPkiSupportedAlgorithms,
}

/// SHA-256 of a DER certificate, lowercase hex.
pub fn fingerprint(cert: &[u8]) -> String {
    hex::encode(Sha256::digest(cert))
}

impl ServerCertVerifier for Pinning {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let shown = fingerprint(end_entity.as_ref());
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(shown.clone());
        match &self.expected {
            Some(pin) if *pin != shown => Err(rustls::Error::General(format!(
                "certificate {shown} is not the pinned {pin}"
            ))),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `base` without a trailing slash; only https is accepted.
fn https_base(base: &str) -> Result<String> {
    let base = base.trim_end_matches('/').to_owned();
    if !base.starts_with("https://") {
        return Err(ApiError::new(
            ErrorCode::BadInput,
            format!("server {base:?}: the URL must start with https://"),
        ));
    }
    Ok(base)
}

/// Runs `f` where reqwest's blocking client may run: not on a thread inside a tokio runtime
/// (it panics there, and the desktop's commands run on Tauri's runtime). There, `f` gets a
/// thread of its own for the length of the call.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// The HTTP client over a TLS configuration: 5 s to connect, 60 s per request.
fn http_client(tls: rustls::ClientConfig) -> Result<reqwest::blocking::Client> {
    off_runtime(|| {
        reqwest::blocking::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("HTTP client: {e}")))
    })
}

/// An HTTPS connection to one server, pinned.
#[derive(Clone)]
pub struct Connection {
    base: String,
    client: reqwest::blocking::Client,
    expected: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
}

impl Connection {
    /// A client of `base` (`https://host:port`) that accepts only the certificate `pin`
    /// (SHA-256 hex), or with `None`, the first one it is shown.
    pub fn new(base: &str, pin: Option<&str>) -> Result<Connection> {
        let base = https_base(base)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let seen = Arc::new(Mutex::new(None));
        let verifier = Pinning {
            expected: pin.map(|p| p.to_ascii_lowercase()),
            seen: seen.clone(),
            algorithms: provider.signature_verification_algorithms,
        };
        let tls =
            rustls::ClientConfig::builder_with_provider(provider.clone() as Arc<CryptoProvider>)
                .with_safe_default_protocol_versions()
                .map_err(|e| ApiError::new(ErrorCode::Internal, format!("TLS: {e}")))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
        let client = http_client(tls)?;
        Ok(Connection {
            base,
            client,
            expected: pin.map(str::to_owned),
            seen,
        })
    }

    /// A client of `base` that accepts the certificates a CA in `ca_pem` (PEM, one or more
    /// certificates) issued for the server's name: for sites with their own CA, instead of
    /// a pin.
    pub fn with_ca(base: &str, ca_pem: &str) -> Result<Connection> {
        use rustls::pki_types::pem::PemObject;
        let base = https_base(base)?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            let cert = cert.map_err(|e| {
                ApiError::new(ErrorCode::BadInput, format!("the CA certificate: {e}"))
            })?;
            roots.add(cert).map_err(|e| {
                ApiError::new(ErrorCode::BadInput, format!("the CA certificate: {e}"))
            })?;
        }
        if roots.is_empty() {
            return Err(ApiError::new(
                ErrorCode::BadInput,
                "the CA file holds no PEM certificate",
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider as Arc<CryptoProvider>)
            .with_safe_default_protocol_versions()
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = http_client(tls)?;
        Ok(Connection {
            base,
            client,
            expected: None,
            seen: Arc::new(Mutex::new(None)),
        })
    }

    /// [`Connection::with_ca`] when a CA is given, else [`Connection::new`] (pinned).
    pub fn to_server(base: &str, pin: Option<&str>, ca_pem: Option<&str>) -> Result<Connection> {
        match ca_pem {
            Some(ca) => Connection::with_ca(base, ca),
            None => Connection::new(base, pin),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The certificate the server showed on the last connection (to pin after first use).
    pub fn seen_pin(&self) -> Option<String> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn failed(&self, e: reqwest::Error) -> ApiError {
        tracing::debug!(
            target: "careloop_sync",
            connect = e.is_connect(),
            timeout = e.is_timeout(),
            body = e.is_body(),
            decode = e.is_decode(),
            "no answer from the server"
        );
        let seen = self.seen_pin();
        if let (Some(expected), Some(seen)) = (&self.expected, &seen) {
            if expected != seen {
                tracing::warn!(target: "careloop_sync", "the server's certificate is not the pinned one");
                return ApiError::new(
                    ErrorCode::BadInput,
                    format!(
                        "the server {} showed certificate {seen}, but this workstation pinned {expected}: \
                         if the certificate was replaced on purpose, connect again with the new pin",
                        self.base
                    ),
                );
            }
        }
        let text = describe(&e);
        if text.contains("invalid peer certificate") {
            tracing::warn!(target: "careloop_sync", "the server's certificate is not trusted");
            // Not a network fault: retrying will not help (a CA that did not issue it, or a
            // certificate for another name).
            return ApiError::new(
                ErrorCode::BadInput,
                format!(
                    "the server {} showed a certificate this workstation does not trust ({text}): \
                     check the CA it was given (--ca, CARELOOP_SERVER_CA)",
                    self.base
                ),
            );
        }
        ApiError::new(
            ErrorCode::Offline,
            format!("the server {} cannot be reached: {text}", self.base),
        )
    }

    /// Sends `request` (the operation `op`) and logs the outcome: the status, the latency,
    /// the error code.
    fn send<T: serde::de::DeserializeOwned + Send>(
        &self,
        op: &'static str,
        request: reqwest::blocking::RequestBuilder,
    ) -> Result<T> {
        let started = Instant::now();
        let mut status = 0u16;
        let result = off_runtime(|| self.send_here(request, &mut status));
        log_call(op, status, started, result.as_ref().err());
        result
    }

    fn send_here<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::blocking::RequestBuilder,
        answered: &mut u16,
    ) -> Result<T> {
        let response = request.send().map_err(|e| self.failed(e))?;
        let status = response.status();
        *answered = status.as_u16();
        if status.is_success() {
            if status == reqwest::StatusCode::NO_CONTENT {
                return serde_json::from_str("null").map_err(|e| {
                    ApiError::new(ErrorCode::Internal, format!("the server's answer: {e}"))
                });
            }
            return response.json::<T>().map_err(|e| {
                ApiError::new(
                    ErrorCode::Offline,
                    format!("the server's answer was cut or malformed: {}", describe(&e)),
                )
            });
        }
        let body: Option<ErrorBody> = response.json().ok();
        let busy = body.as_ref().is_some_and(|b| b.code == "server_busy");
        let message = body.map_or_else(
            || format!("the server answered {status}"),
            |b| format!("the server refused ({}): {}", b.code, b.message),
        );
        let code = match status.as_u16() {
            // The server is at its limit for password checks: like an unreachable server,
            // try again later. Too many failed sign-ins: refused until the wait is over.
            429 if busy => ErrorCode::Offline,
            429 => ErrorCode::Refused,
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            400 | 413 | 415 | 422 => ErrorCode::BadInput,
            502..=504 => ErrorCode::Offline,
            _ => ErrorCode::Internal,
        };
        Err(ApiError::new(code, message))
    }

    /// Sends any request and returns the status and body as they are: for the tests of the
    /// server's refusals and for diagnostics.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(u16, String)> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| ApiError::new(ErrorCode::BadInput, format!("method: {e}")))?;
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .body(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        let started = Instant::now();
        let result = off_runtime(|| {
            let response = request.send().map_err(|e| self.failed(e))?;
            let status = response.status().as_u16();
            let text = response
                .text()
                .map_err(|e| ApiError::new(ErrorCode::Offline, describe(&e)))?;
            Ok((status, text))
        });
        let status = result.as_ref().map_or(0, |(status, _)| *status);
        log_call("raw", status, started, result.as_ref().err());
        result
    }

    /// Password sign-in. When the server is busy checking others' passwords (429
    /// `server_busy`), it is asked again after a short wait, a few times.
    pub fn login(&self, user: &str, password: &str, workstation: &str) -> Result<Tokens> {
        let mut attempt = 0u32;
        loop {
            let answer = self.send(
                "login",
                self.client
                    .post(self.url("/auth/login"))
                    .json(&LoginRequest {
                        user: user.to_owned(),
                        password: password.to_owned(),
                        workstation: workstation.to_owned(),
                    }),
            );
            match answer {
                Err(e)
                    if e.code == ErrorCode::Offline
                        && e.message.contains("(server_busy)")
                        && attempt < 8 =>
                {
                    attempt += 1;
                    // 100 ms, 200 ms, … up to 2 s, spread so a crowd does not come back at once.
                    let base = 100u64 << attempt.min(5);
                    let jitter = u64::from(std::process::id() % 97) + u64::from(attempt) * 13;
                    std::thread::sleep(std::time::Duration::from_millis(base.min(2_000) + jitter));
                }
                other => return other,
            }
        }
    }

    /// A new token pair for a refresh token (which the server then revokes).
    pub fn refresh(&self, refresh_token: &str) -> Result<Tokens> {
        self.send(
            "refresh",
            self.client
                .post(self.url("/auth/refresh"))
                .json(&RefreshRequest {
                    refresh_token: refresh_token.to_owned(),
                }),
        )
    }

    /// Revokes a refresh token on the server.
    pub fn logout(&self, refresh_token: &str) -> Result<()> {
        self.send::<Option<()>>(
            "logout",
            self.client
                .post(self.url("/auth/logout"))
                .json(&RefreshRequest {
                    refresh_token: refresh_token.to_owned(),
                }),
        )
        .map(|_| ())
    }
}

/// The name of an error code, as the API spells it (`offline`, `unauthorized`, …).
fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One call to the server, logged: the operation, the HTTP status (0: no answer), the
/// latency and the error code (never its message). An unreachable server is routine for a
/// workstation (INFO); other refusals are WARN.
fn log_call(op: &'static str, status: u16, started: Instant, error: Option<&ApiError>) {
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    match error {
        None => tracing::debug!(target: "careloop_sync", op, status, latency_us, "server answered"),
        Some(e) if e.code == ErrorCode::Offline => tracing::info!(
            target: "careloop_sync",
            op,
            status,
            latency_us,
            code = code_name(e.code).as_str(),
            "server unavailable"
        ),
        Some(e) => tracing::warn!(
            target: "careloop_sync",
            op,
            status,
            latency_us,
            code = code_name(e.code).as_str(),
            "server refused"
        ),
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A signed-in session with a server: the [`Transport`] a workstation syncs through.
pub struct HttpTransport {
    connection: Connection,
    user: String,
    /// The user's role on the server, as its last token said.
    role: String,
    access_token: String,
    tokens: TokenStore,
}

impl HttpTransport {
    /// Signs in with a password; the refresh token goes to `tokens`.
    pub fn sign_in(
        connection: Connection,
        user: &str,
        password: &str,
        workstation: &str,
        tokens: TokenStore,
    ) -> Result<HttpTransport> {
        let issued = connection.login(user, password, workstation)?;
        tokens.save(connection.base(), user, &issued.refresh_token)?;
        Ok(HttpTransport {
            connection,
            user: user.to_owned(),
            role: issued.role,
            access_token: issued.access_token,
            tokens,
        })
    }

    /// Resumes a session from the refresh token kept in `tokens` (no password).
    pub fn resume(connection: Connection, user: &str, tokens: TokenStore) -> Result<HttpTransport> {
        let mut transport = HttpTransport {
            connection,
            user: user.to_owned(),
            role: String::new(),
            access_token: String::new(),
            tokens,
        };
        transport.refresh()?;
        Ok(transport)
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The user's role on the server (`coordinator`, `supervisor`, …).
    pub fn role(&self) -> &str {
        &self.role
    }

    /// Signs out: the refresh token is revoked on the server and forgotten here.
    pub fn sign_out(self) -> Result<()> {
        let base = self.connection.base().to_owned();
        if let Some(token) = self.tokens.load(&base, &self.user)? {
            self.connection.logout(&token)?;
        }
        self.tokens.forget(&base, &self.user)
    }

    fn refresh(&mut self) -> Result<()> {
        let base = self.connection.base().to_owned();
        let token = self.tokens.load(&base, &self.user)?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                format!("{} is not signed in to {base}: sign in", self.user),
            )
        })?;
        let issued = self.connection.refresh(&token)?;
        self.tokens.save(&base, &self.user, &issued.refresh_token)?;
        self.access_token = issued.access_token;
        self.role = issued.role;
        Ok(())
    }

    /// Sends with the access token; when it has expired, refreshes once and sends again.
    fn authorized<T: serde::de::DeserializeOwned + Send>(
        &mut self,
        op: &'static str,
        build: impl Fn(&reqwest::blocking::Client, &str) -> reqwest::blocking::RequestBuilder,
    ) -> Result<T> {
        let first = self.connection.send(
            op,
            build(&self.connection.client, &self.connection.base).bearer_auth(&self.access_token),
        );
        match first {
            Err(e) if e.code == ErrorCode::Unauthorized && e.message.contains("expired") => {
                tracing::debug!(target: "careloop_sync", op, "access token expired: refreshing");
                self.refresh()?;
                self.connection.send(
                    op,
                    build(&self.connection.client, &self.connection.base)
                        .bearer_auth(&self.access_token),
                )
            }
            other => other,
        }
    }
}

impl Transport for HttpTransport {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse> {
        let response: PushResponse = self.authorized("push", |client, base| {
            client.post(format!("{base}/api/v1/events")).json(request)
        })?;
        let tally = response.tally();
        tracing::info!(
            target: "careloop_sync",
            events = request.events.len(),
            accepted = tally.accepted,
            duplicates = tally.duplicates,
            superseded = tally.superseded,
            audit_head = request.audit_head.is_some(),
            "pushed"
        );
        Ok(response)
    }

    fn pull(&mut self, after: i64, limit: u32) -> Result<PullResponse> {
        let page: PullResponse = self.authorized("pull", |client, base| {
            client.get(format!("{base}/api/v1/events?after={after}&limit={limit}"))
        })?;
        tracing::debug!(
            target: "careloop_sync",
            events = page.events.len(),
            more = page.more,
            "pulled"
        );
        Ok(page)
    }

    fn push_segments(
        &mut self,
        request: &careloop_wire::SegmentPushRequest,
    ) -> Result<careloop_wire::SegmentPushResponse> {
        let response: careloop_wire::SegmentPushResponse = self
            .authorized("segments", |client, base| {
                client.post(format!("{base}/api/v1/segments")).json(request)
            })?;
        tracing::info!(
            target: "careloop_sync",
            definitions = response.results.len(),
            "pushed segment definitions"
        );
        Ok(response)
    }

    fn panel(&mut self, after: i64, limit: u32) -> Result<PanelPage> {
        let page: PanelPage = self.authorized("panel", |client, base| {
            client.get(format!("{base}/api/v1/panel?after={after}&limit={limit}"))
        })?;
        tracing::debug!(
            target: "careloop_sync",
            items = page.items.len(),
            more = page.more,
            "panel page"
        );
        Ok(page)
    }

    fn directory(&mut self) -> Result<Option<careloop_wire::Directory>> {
        let found = self.authorized("directory", |client, base| {
            client.get(format!("{base}/api/v1/directory"))
        });
        match found {
            Ok(directory) => Ok(Some(directory)),
            // A server from before the exchange has no directory: keep what is kept.
            Err(e) if e.code == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The desktop's way to its server: signs in with a password (the refresh token goes to
/// its token store, the OS keyring on a desktop) or resumes from the stored refresh token.
#[derive(Clone, Debug)]
pub struct HttpConnector {
    tokens: TokenStore,
}

impl HttpConnector {
    /// Refresh tokens in the OS keyring: the desktop.
    pub fn keyring() -> HttpConnector {
        HttpConnector {
            tokens: TokenStore::Keyring,
        }
    }

    /// Refresh tokens in this process's memory: tests.
    pub fn memory() -> HttpConnector {
        HttpConnector {
            tokens: TokenStore::memory(),
        }
    }
}

impl careloop_api::sync::Connector for HttpConnector {
    fn connect(
        &self,
        request: &careloop_api::sync::ConnectRequest,
    ) -> Result<careloop_api::sync::Connected> {
        let connection =
            Connection::to_server(&request.url, request.pin.as_deref(), request.ca.as_deref())?;
        let transport = match &request.password {
            Some(password) => HttpTransport::sign_in(
                connection,
                &request.user,
                password,
                &request.workstation,
                self.tokens.clone(),
            )?,
            None => HttpTransport::resume(connection, &request.user, self.tokens.clone())?,
        };
        Ok(careloop_api::sync::Connected {
            seen_pin: transport.connection().seen_pin(),
            role: transport.role().to_owned(),
            transport: Box::new(transport),
        })
    }
}
