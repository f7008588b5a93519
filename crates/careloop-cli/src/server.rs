//! `careloop serve`, `careloop admin …` (the server's users and panels) and `careloop sync
//! …` (a workstation's side: connect, sign in, sync, conflicts).

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use careloop_api::desktop::CLI_USER;
use careloop_api::sync::{Transport, SERVER_CA, SERVER_PIN, SERVER_URL};
use careloop_api::{ApiError, Careloop, ErrorCode};
use careloop_server::{ServerConfig, ServerError};
use careloop_sync::{Connection, HttpTransport, TokenStore};
use chrono::{DateTime, Utc};
use clap::Subcommand;

use crate::Format;

#[derive(Subcommand)]
pub(crate) enum AdminAction {
    /// Users of the central server.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Publish FHIR files as a team's panel (imported with the workstation's importer; each
    /// team's workstations get only their own people).
    Panel {
        #[arg(long)]
        team: String,
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Each team's live lists, brought current as of now (`CARELOOP_NOW`): the server keeps
    /// them after each panel it publishes and at each change of day while it runs.
    Lists {
        /// One team (default: every team with a panel).
        #[arg(long)]
        team: Option<String>,
        /// Evaluate everyone again even when nothing changed.
        #[arg(long)]
        everyone: bool,
    },
    /// The audit chain heads workstations reported, and any that went backwards.
    AuditHeads,
    /// Failed sign-ins, locked accounts and addresses, reused refresh tokens (oldest first).
    SecurityLog,
    /// The services directory and the referral exchange: partner organisations, their
    /// services, their systems' keys, and the log of their calls.
    Partner {
        #[command(subcommand)]
        action: PartnerAction,
    },
}

#[derive(Subcommand)]
pub(crate) enum PartnerAction {
    /// Add a partner organisation.
    Add {
        id: String,
        #[arg(long)]
        name: String,
    },
    /// Add or replace a service a partner offers (what the referral form lists).
    Service {
        partner: String,
        id: String,
        #[arg(long)]
        name: String,
        /// The referral service type (home_care, housing, meals, transport, …).
        #[arg(long = "type", value_name = "TYPE")]
        service_type: String,
        #[arg(long, default_value = "")]
        area: String,
        /// Languages served, comma-separated (en,es).
        #[arg(long, value_delimiter = ',')]
        languages: Vec<String>,
        #[arg(long, default_value = "")]
        eligibility: String,
        /// Who at the partner answers referrals.
        #[arg(long, default_value = "intake coordinator")]
        contact_role: String,
        /// Accept or decline within this many working days.
        #[arg(long, default_value_t = 2)]
        respond_within: u32,
        /// Once accepted, start within this many working days.
        #[arg(long, default_value_t = 10)]
        start_within: u32,
    },
    /// Register a partner system (SMART Backend Services) with its public keys (a JWKS file).
    Client {
        partner: String,
        #[arg(long)]
        client_id: String,
        #[arg(long, value_name = "FILE")]
        jwks: PathBuf,
    },
    /// Add a user of a partner organisation, for the partner page (/partner); the password
    /// is read from CARELOOP_PASSWORD, else the first line of stdin.
    User { partner: String, name: String },
    /// The directory: partners and their services.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Every partner read and answer (who, which Task, what came of it), oldest first.
    AccessLog,
}

#[derive(Subcommand)]
pub(crate) enum UserAction {
    /// Add a user; the password is read from CARELOOP_PASSWORD, else the first line of stdin.
    Add {
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        team: String,
    },
    /// Revoke every token of a user and disable them (sign-in refused from then on).
    Revoke {
        name: String,
        /// Only revoke the tokens: the user may sign in again.
        #[arg(long)]
        keep_enabled: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum SyncAction {
    /// Set this workstation's server. With no --pin, the certificate shown on the first
    /// connection is pinned (trust on first use).
    Connect {
        url: String,
        #[arg(long, value_name = "SHA256")]
        pin: Option<String>,
        /// A CA certificate file (PEM): the server's certificate must be issued by it for the
        /// server's name (instead of a pin).
        #[arg(long, value_name = "FILE", conflicts_with = "pin")]
        ca: Option<PathBuf>,
    },
    /// Sign in to the server; the refresh token goes to the OS keyring. The password is read
    /// from CARELOOP_PASSWORD, else the first line of stdin.
    Login {
        #[arg(long, value_name = "NAME")]
        as_user: String,
    },
    /// Sign out: the refresh token is revoked on the server and removed from the keyring.
    Logout {
        #[arg(long, value_name = "NAME")]
        as_user: String,
    },
    /// One sync round: the panel, the outbox, everyone's events. With CARELOOP_PASSWORD set,
    /// signs in with it (nothing is kept); otherwise uses the keyring's refresh token.
    Run {
        #[arg(long, value_name = "NAME")]
        as_user: String,
        /// The server, instead of the one set with `connect`.
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        #[arg(long, value_name = "SHA256")]
        pin: Option<String>,
        #[arg(long, value_name = "TIMESTAMP")]
        at: Option<DateTime<Utc>>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Last sync, events waiting, offline, open conflicts.
    Status {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

pub(crate) fn server_error(e: ServerError) -> ApiError {
    let code = match &e {
        ServerError::BadRequest(_)
        | ServerError::MalformedJson(_)
        | ServerError::InvalidBody(_)
        | ServerError::UnsupportedMediaType
        | ServerError::PayloadTooLarge { .. } => ErrorCode::BadInput,
        ServerError::NotFound(_) => ErrorCode::NotFound,
        ServerError::Conflict(_) => ErrorCode::Conflict,
        ServerError::Forbidden(_) => ErrorCode::Forbidden,
        ServerError::Throttled { .. } => ErrorCode::Refused,
        ServerError::Unauthorized(_) => ErrorCode::Unauthorized,
        ServerError::MethodNotAllowed(_) => ErrorCode::BadInput,
        ServerError::Busy { .. } | ServerError::Timeout { .. } => ErrorCode::Offline,
        ServerError::Internal(_) => ErrorCode::Internal,
    };
    ApiError::new(code, e.to_string())
}

fn password() -> Result<String, ApiError> {
    if let Ok(p) = std::env::var("CARELOOP_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| ApiError::new(ErrorCode::Io, format!("reading the password: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn server_dir(data_dir: Option<PathBuf>) -> Result<PathBuf, ApiError> {
    data_dir
        .or_else(|| std::env::var_os("CARELOOP_SERVER_DIR").map(PathBuf::from))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::BadInput,
                "the server's data directory: pass --data-dir or set CARELOOP_SERVER_DIR",
            )
        })
}

/// `careloop serve`.
pub(crate) fn serve(
    data_dir: Option<PathBuf>,
    listen: SocketAddr,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    names: Vec<String>,
    max_body_bytes: usize,
) -> Result<ExitCode, ApiError> {
    let mut config = ServerConfig::new(server_dir(data_dir)?, listen);
    config.max_body_bytes = max_body_bytes;
    config.tls = match (cert, key) {
        (Some(cert), Some(key)) => careloop_server::tls::TlsSource::Files { cert, key },
        (None, None) => careloop_server::tls::TlsSource::SelfSigned { names },
        _ => {
            return Err(ApiError::new(
                ErrorCode::BadInput,
                "--cert and --key go together",
            ))
        }
    };
    let handle = careloop_server::start(config).map_err(server_error)?;
    outln!("careloop server listening on {}", handle.url());
    outln!("certificate SHA-256: {}", handle.pin);
    handle.wait_for_signal();
    Ok(ExitCode::SUCCESS)
}

/// `careloop admin …`.
pub(crate) fn admin(data_dir: Option<PathBuf>, action: AdminAction) -> Result<ExitCode, ApiError> {
    let dir = server_dir(data_dir)?;
    match action {
        AdminAction::User {
            action: UserAction::Add { name, role, team },
        } => {
            careloop_server::admin::add_user(&dir, &name, &role, &team, &password()?)
                .map_err(server_error)?;
            outln!("added {name} ({role}, team {team})");
        }
        AdminAction::User {
            action: UserAction::Revoke { name, keep_enabled },
        } => {
            let n = careloop_server::admin::revoke_user(&dir, &name, keep_enabled)
                .map_err(server_error)?;
            outln!(
                "revoked {n} live tokens of {name}{}",
                if keep_enabled {
                    ""
                } else {
                    "; the user is disabled"
                }
            );
        }
        AdminAction::Panel { team, paths } => {
            let published =
                careloop_server::admin::publish_panel(&dir, &team, &paths, crate::ops::now()?)
                    .map_err(server_error)?;
            outln!(
                "team {team}: {} resources imported, {} lines published, {} people in the panel",
                published.resources_imported,
                published.lines_published,
                published.people
            );
            match &published.lists {
                Some(lists) => outln!(
                    "team {team}'s lists as of {}: {} evaluated, {} entered, {} exited",
                    lists.as_of,
                    lists.evaluated,
                    lists.entered,
                    lists.exited
                ),
                None => outln!("team {team}'s lists could not be brought current (see the log)"),
            }
        }
        AdminAction::Lists { team, everyone } => {
            let at = crate::ops::now()?;
            let storage =
                careloop_server::storage::SqliteStorage::open(&dir).map_err(server_error)?;
            let teams = match team {
                Some(team) => vec![team],
                None => careloop_server::lists::teams(&dir).map_err(server_error)?,
            };
            for team in teams {
                let lists =
                    careloop_server::lists::bring_current(&dir, &storage, &team, at, everyone)
                        .map_err(server_error)?;
                outln!(
                    "team {team}, as of {}: {} evaluated{}, {} entered, {} exited",
                    lists.as_of,
                    lists.evaluated,
                    if lists.full { " (everyone)" } else { "" },
                    lists.entered,
                    lists.exited
                );
                for s in &lists.segments {
                    outln!(
                        "  {}\t{} members\t{} on the worklist\t{} overflow\t{} held back",
                        s.segment_id,
                        s.members,
                        s.worklist,
                        s.overflow,
                        s.held_back
                    );
                }
            }
        }
        AdminAction::AuditHeads => {
            let heads = careloop_server::admin::audit_heads(&dir).map_err(server_error)?;
            let mut regressed = false;
            for h in heads {
                outln!(
                    "{}\t{}\t{}\t#{}\t{}",
                    h.team,
                    h.workstation,
                    h.user,
                    h.head.seq,
                    h.at.to_rfc3339()
                );
                if let Some(r) = h.regression {
                    regressed = true;
                    outln!("  WARNING: {r}");
                }
            }
            if regressed {
                return Ok(ExitCode::from(1));
            }
        }
        AdminAction::Partner { action } => partner(&dir, action)?,
        AdminAction::SecurityLog => {
            for e in careloop_server::admin::security_log(&dir).map_err(server_error)? {
                outln!(
                    "{}\t{}\t{}\t{}\t{}",
                    e.at.to_rfc3339(),
                    e.kind,
                    e.user,
                    e.address.as_deref().unwrap_or("-"),
                    e.detail
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn partner(dir: &std::path::Path, action: PartnerAction) -> Result<(), ApiError> {
    use careloop_server::admin;
    match action {
        PartnerAction::Add { id, name } => {
            admin::add_partner(dir, &id, &name).map_err(server_error)?;
            outln!("partner {id} added");
        }
        PartnerAction::Service {
            partner,
            id,
            name,
            service_type,
            area,
            languages,
            eligibility,
            contact_role,
            respond_within,
            start_within,
        } => {
            let service = careloop_wire::ServiceWire {
                id: id.clone(),
                name,
                service_type,
                area,
                languages,
                eligibility,
                contact_role,
                respond_within_working_days: respond_within,
                start_within_working_days: start_within,
            };
            admin::put_service(dir, &partner, &service).map_err(server_error)?;
            outln!("service {id} of {partner} in the directory");
        }
        PartnerAction::Client {
            partner,
            client_id,
            jwks,
        } => {
            let text = std::fs::read_to_string(&jwks)
                .map_err(|e| ApiError::new(ErrorCode::Io, format!("{}: {e}", jwks.display())))?;
            admin::add_partner_client(dir, &partner, &client_id, &text).map_err(server_error)?;
            outln!("client {client_id} of {partner} registered");
        }
        PartnerAction::User { partner, name } => {
            admin::add_partner_user(dir, &partner, &name, &password()?).map_err(server_error)?;
            outln!("user {name} of {partner} added: they sign in at /partner");
        }
        PartnerAction::List { format } => {
            let directory = admin::directory(dir).map_err(server_error)?;
            match format {
                Format::Json => outln!("{}", crate::to_json(&directory)?),
                Format::Text => {
                    for p in &directory.partners {
                        outln!("{}\t{}", p.id, p.name);
                        for s in &p.services {
                            outln!(
                                "  {}\t{} ({}; {}; answer within {} working days, start within {})",
                                s.id,
                                s.name,
                                s.service_type,
                                if s.area.is_empty() {
                                    "any area"
                                } else {
                                    &s.area
                                },
                                s.respond_within_working_days,
                                s.start_within_working_days
                            );
                        }
                    }
                }
            }
        }
        PartnerAction::AccessLog => {
            for a in admin::partner_access_log(dir).map_err(server_error)? {
                outln!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    a.at.to_rfc3339(),
                    a.org,
                    a.client_id,
                    a.action,
                    a.task_id.as_deref().unwrap_or("-"),
                    a.outcome
                );
            }
        }
    }
    Ok(())
}

/// Connects (pinning on first use) and signs in or resumes.
pub(crate) fn transport(
    careloop: &mut Careloop,
    user: &str,
    server: Option<String>,
    pin: Option<String>,
    tokens: TokenStore,
    password: Option<String>,
) -> Result<HttpTransport, ApiError> {
    let url = match server {
        Some(url) => url,
        None => careloop.sync_setting(SERVER_URL)?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::BadInput,
                "no server is set for this workstation: careloop sync connect URL",
            )
        })?,
    };
    let pin = match pin {
        Some(pin) => Some(pin),
        None => careloop.sync_setting(SERVER_PIN)?,
    };
    let ca = careloop.sync_setting(SERVER_CA)?;
    let connection = Connection::to_server(&url, pin.as_deref(), ca.as_deref())?;
    let workstation = careloop.workstation_id()?;
    let transport = match password {
        Some(password) => {
            HttpTransport::sign_in(connection, user, &password, &workstation, tokens)?
        }
        None => HttpTransport::resume(connection, user, tokens)?,
    };
    if pin.is_none() && ca.is_none() {
        if let Some(seen) = transport.connection().seen_pin() {
            careloop.set_sync_setting(SERVER_PIN, &seen)?;
        }
    }
    if careloop.sync_setting(SERVER_URL)?.is_none() {
        careloop.set_sync_setting(SERVER_URL, &url)?;
    }
    Ok(transport)
}

/// `careloop sync …`.
pub(crate) fn sync(careloop: &mut Careloop, action: SyncAction) -> Result<ExitCode, ApiError> {
    match action {
        SyncAction::Connect { url, pin, ca } => {
            let ca = ca
                .map(|path| {
                    std::fs::read_to_string(&path).map_err(|e| {
                        ApiError::new(ErrorCode::Io, format!("{}: {e}", path.display()))
                    })
                })
                .transpose()?;
            Connection::to_server(&url, pin.as_deref(), ca.as_deref())?;
            careloop.set_sync_setting(SERVER_URL, &url)?;
            if let Some(pin) = pin {
                careloop.set_sync_setting(SERVER_PIN, &pin.to_ascii_lowercase())?;
            }
            if let Some(ca) = ca {
                careloop.set_sync_setting(SERVER_CA, &ca)?;
            }
            outln!("this workstation syncs with {url}");
        }
        SyncAction::Login { as_user } => {
            let password = password()?;
            let t = transport(
                careloop,
                &as_user,
                None,
                None,
                TokenStore::Keyring,
                Some(password.clone()),
            )?;
            // The CLI acts as this user from now on, in the role the server gave them.
            careloop.remember_server_sign_in(&as_user, t.role(), &password, Utc::now())?;
            careloop.set_sync_setting(CLI_USER, &as_user)?;
            outln!(
                "{as_user} is signed in to {} (certificate {})",
                t.connection().base(),
                t.connection().seen_pin().unwrap_or_default()
            );
        }
        SyncAction::Logout { as_user } => {
            let t = transport(careloop, &as_user, None, None, TokenStore::Keyring, None)?;
            t.sign_out()?;
            if careloop.sync_setting(CLI_USER)?.as_deref() == Some(as_user.as_str()) {
                careloop.set_sync_setting(CLI_USER, "")?;
            }
            outln!("{as_user} is signed out");
        }
        SyncAction::Run {
            as_user,
            server,
            pin,
            at,
            format,
        } => {
            let password = std::env::var("CARELOOP_PASSWORD").ok();
            let tokens = if password.is_some() {
                TokenStore::memory()
            } else {
                TokenStore::Keyring
            };
            let mut t = transport(careloop, &as_user, server, pin, tokens, password.clone())?;
            if let Some(password) = &password {
                // Signed in with a password just now: the server's answer is this user's
                // identity here, as after `sync login`.
                careloop.remember_server_sign_in(&as_user, t.role(), password, Utc::now())?;
            }
            let at = match at {
                Some(at) => at,
                None => crate::ops::now()?,
            };
            let mut report = careloop.sync_once(&mut t as &mut dyn Transport, at)?;
            // The lists follow what arrived; the cases they open or close go out at once.
            let identity = careloop.server_identity(Some(&as_user), None)?;
            let session = identity.map(|(user, role)| careloop_api::Session { user, role, at });
            let lists = careloop.bring_lists_current(at, session.as_ref())?;
            if lists.opened + lists.closed_by_new_data + lists.closed_left_segment > 0 {
                let again = careloop.sync_once(&mut t as &mut dyn Transport, at)?;
                report.pushed += again.pushed;
                report.duplicates += again.duplicates;
                report.pulled += again.pulled;
                report.superseded.extend(again.superseded);
            }
            tracing::info!(
                target: "careloop_sync",
                pushed = report.pushed,
                duplicates = report.duplicates,
                pulled = report.pulled,
                panel_items = report.panel_items,
                superseded = report.superseded.len(),
                "sync round"
            );
            match format {
                Format::Json => outln!("{}", crate::to_json(&report)?),
                Format::Text => {
                    outln!(
                        "pushed {} ({} already on the server), pulled {}, panel lines {}",
                        report.pushed,
                        report.duplicates,
                        report.pulled,
                        report.panel_items
                    );
                    for s in &report.superseded {
                        outln!("  not applied: {s}");
                    }
                }
            }
        }
        SyncAction::Status { format } => {
            let status = careloop.sync_status()?;
            match format {
                Format::Json => outln!("{}", crate::to_json(&status)?),
                Format::Text => {
                    outln!("server: {}", status.server.as_deref().unwrap_or("(none)"));
                    outln!(
                        "last sync: {}",
                        status.last_sync_at.as_deref().unwrap_or("never")
                    );
                    outln!("pending: {}", status.pending);
                    outln!("offline: {}", status.offline);
                    outln!("open conflicts: {}", status.open_conflicts);
                    if let Some(e) = status.last_error {
                        outln!("last error: {e}");
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
