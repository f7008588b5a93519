//! What `careloop admin …` does to a server's data dir: users (with their role and team),
//! revocation, and publishing a team's panel.
//!
//! A team's panel is imported with the same importer as a workstation's files, into an
//! encrypted cache of its own (`teams/<team>/`, key in `teams/<team>.key`); every resource
//! and engagement signal then becomes a line of the team's feed, which workstations pull
//! by cursor. Importing again publishes only what changed.

use std::path::{Path, PathBuf};

use careloop_store::{KeySource, Store};
use careloop_wire::PanelKind;

use crate::auth;
use crate::error::{Result, ServerError};
use crate::exchange::store::ExchangeStorage;
use crate::storage::{PanelLine, SqliteStorage, Storage, User};

/// A user or team name: 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or
/// a digit (a team name is a directory under the data dir: `.` and `..` must not be one).
fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        let shown: String = name.chars().take(40).collect();
        Err(ServerError::BadRequest(format!(
            "{what} {shown:?}: use 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or a digit"
        )))
    }
}

/// Adds a user with a role and a team.
pub fn add_user(data_dir: &Path, name: &str, role: &str, team: &str, password: &str) -> Result<()> {
    check_name("user", name)?;
    check_name("team", team)?;
    if !auth::ROLES.contains(&role) {
        return Err(ServerError::BadRequest(format!(
            "role {role:?}: expected one of {}",
            auth::ROLES.join(", ")
        )));
    }
    let storage = SqliteStorage::open(data_dir)?;
    storage.add_user(&User {
        name: name.to_owned(),
        role: role.to_owned(),
        team: team.to_owned(),
        password_hash: auth::hash_password(password)?,
        disabled: false,
    })?;
    // The role is one of auth::ROLES; the user's name is not logged.
    tracing::info!(target: "careloop_server::admin", role, "user added");
    Ok(())
}

/// Revokes every token of a user and disables them (or only revokes, with `keep_enabled`).
/// Returns how many live tokens were revoked.
pub fn revoke_user(data_dir: &Path, name: &str, keep_enabled: bool) -> Result<u32> {
    let storage = SqliteStorage::open(data_dir)?;
    if storage.user(name)?.is_none() {
        return Err(ServerError::NotFound(format!("no user {name}")));
    }
    if !keep_enabled {
        storage.set_disabled(name, true)?;
    }
    let revoked = storage.revoke_user(name)?;
    tracing::info!(
        target: "careloop_server::admin",
        revoked,
        disabled = !keep_enabled,
        "user's tokens revoked"
    );
    Ok(revoked)
}

/// What publishing a panel did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub resources_imported: u64,
    /// Lines new or changed in the team's feed.
    pub lines_published: u32,
    pub people: u64,
    /// The team's lists brought current after it (`None`: they could not be, see the log;
    /// the panel is published all the same).
    pub lists: Option<crate::lists::TeamLists>,
}

/// A team's encrypted cache (`teams/<team>/`, key in `teams/<team>.key`), opened or made.
pub fn team_cache(data_dir: &Path, team: &str) -> Result<Store> {
    check_name("team", team)?;
    let teams = data_dir.join("teams");
    std::fs::create_dir_all(&teams)
        .map_err(|e| ServerError::Internal(format!("cannot create {}: {e}", teams.display())))?;
    let key = teams.join(format!("{team}.key"));
    crate::storage::key_file(&key)?;
    let dir = teams.join(team);
    let key = KeySource::KeyFile(key).load_or_create(&dir)?;
    Ok(Store::open(&dir, &key)?)
}

/// Imports FHIR files (and engagement signals) for a team and publishes what changed. All
/// the files or none: they are imported in one transaction, so a file that fails to import
/// fails the whole call with nothing stored in the team's cache and nothing published (a
/// later call cannot publish half of an earlier one). Then the team's lists are brought
/// current as of `at`: only the people the files touched are evaluated again (everyone on a
/// new day).
pub fn publish_panel(
    data_dir: &Path,
    team: &str,
    paths: &[PathBuf],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Published> {
    let mut cache = team_cache(data_dir, team)?;
    let import = careloop_fhir::ImportConfig {
        all_or_nothing: true,
        ..careloop_fhir::ImportConfig::default()
    };
    let summary = careloop_fhir::import_paths_with(&mut cache, paths, import, &mut |_| {})
        .map_err(|e| match e {
            careloop_fhir::ImportError::Store(e) => ServerError::from(e),
            e => ServerError::BadRequest(format!("import: {e}")),
        })?;
    if let Some(failure) = summary.files_failed.first() {
        return Err(ServerError::BadRequest(format!(
            "import: {failure} (nothing was imported or published)"
        )));
    }
    let storage = SqliteStorage::open(data_dir)?;
    let lines = panel_lines(&cache)?;
    let mut published = 0;
    for chunk in lines.chunks(5_000) {
        published += storage.add_panel_items(team, chunk)?;
    }
    let lists = match crate::lists::bring_cache_current(&mut cache, &storage, team, at, false) {
        Ok(lists) => Some(lists),
        Err(e) => {
            tracing::warn!(
                target: "careloop_server::lists",
                team,
                error = e.status_and_code().1,
                "the team's lists could not be brought current after publishing"
            );
            None
        }
    };
    let published = Published {
        resources_imported: summary.stored.values().sum(),
        lines_published: published,
        people: storage.panel_size(team)?,
        lists,
    };
    // Counts only; the team's name is checked (letters, digits, '-', '_', '.').
    tracing::info!(
        target: "careloop_server::admin",
        team,
        resources = published.resources_imported,
        lines = published.lines_published,
        people = published.people,
        "panel published"
    );
    Ok(published)
}

/// Every resource and engagement signal of a team cache as one line each, Patients first
/// (a workstation importing the feed in order finds each resource's person): what the
/// server publishes. A line's key names what a later line replaces.
pub fn panel_lines(cache: &Store) -> Result<Vec<PanelLine>> {
    let mut lines = Vec::new();
    cache.for_each_stored_resource(|kind, id, patient, body| {
        let patient = patient.or((kind == "Patient").then_some(id));
        lines.push(PanelLine {
            kind: PanelKind::Resource,
            key: format!("{kind}/{id}"),
            patient_id: patient.map(str::to_owned),
            json: body.to_owned(),
        });
        Ok(())
    })?;
    for signal in cache.engagement_signals_with_channel()? {
        let careloop_store::StoredSignal {
            patient_id: patient,
            kind,
            at,
            channel,
        } = signal;
        let mut line = serde_json::json!({"patient": patient, "kind": kind, "at": at});
        if let Some(channel) = channel {
            line["channel"] = serde_json::Value::String(channel);
        }
        lines.push(PanelLine {
            kind: PanelKind::Engagement,
            key: format!("signal/{patient}/{kind}/{at}"),
            patient_id: Some(patient),
            json: line.to_string(),
        });
    }
    Ok(lines)
}

/// The audit chain heads workstations reported.
pub fn audit_heads(data_dir: &Path) -> Result<Vec<crate::storage::RecordedHead>> {
    SqliteStorage::open(data_dir)?.audit_heads(None)
}

/// Failed sign-ins, locks and reused refresh tokens, oldest first.
pub fn security_log(data_dir: &Path) -> Result<Vec<crate::auth::SecurityEvent>> {
    SqliteStorage::open(data_dir)?.security_events()
}

/// Adds a partner organisation to the services directory.
pub fn add_partner(data_dir: &Path, id: &str, name: &str) -> Result<()> {
    check_name("partner", id)?;
    if name.trim().is_empty() || name.len() > 200 {
        return Err(ServerError::BadRequest(
            "a partner's name is 1 to 200 characters".into(),
        ));
    }
    SqliteStorage::open(data_dir)?.add_partner(id, name.trim())?;
    tracing::info!(target: "careloop_server::admin", partner = id, "partner added");
    Ok(())
}

/// Adds (or replaces) a service of a partner in the directory. Its type must be a referral
/// service type Careloop knows.
pub fn put_service(
    data_dir: &Path,
    partner: &str,
    service: &careloop_wire::ServiceWire,
) -> Result<()> {
    check_name("service", &service.id)?;
    service
        .service_type
        .parse::<careloop_ops::ServiceType>()
        .map_err(|e| ServerError::BadRequest(format!("--type: {e}")))?;
    if service.name.trim().is_empty() {
        return Err(ServerError::BadRequest("a service needs a name".into()));
    }
    for (what, days) in [
        ("--respond-within", service.respond_within_working_days),
        ("--start-within", service.start_within_working_days),
    ] {
        if !(1..=90).contains(&days) {
            return Err(ServerError::BadRequest(format!(
                "{what}: 1 to 90 working days, not {days}"
            )));
        }
    }
    SqliteStorage::open(data_dir)?.put_partner_service(partner, service)?;
    tracing::info!(target: "careloop_server::admin", partner, service = service.id.as_str(), "service put");
    Ok(())
}

/// Registers a partner system (SMART Backend Services) with its public keys (a JWKS).
pub fn add_partner_client(
    data_dir: &Path,
    partner: &str,
    client_id: &str,
    jwks: &str,
) -> Result<()> {
    check_name("client", client_id)?;
    crate::exchange::jwt::check_jwks(jwks)?;
    SqliteStorage::open(data_dir)?.add_partner_client(&crate::exchange::store::PartnerClient {
        client_id: client_id.to_owned(),
        org: partner.to_owned(),
        jwks: jwks.to_owned(),
        disabled: false,
    })?;
    tracing::info!(target: "careloop_server::admin", partner, client = client_id, "partner client registered");
    Ok(())
}

/// The services directory.
pub fn directory(data_dir: &Path) -> Result<careloop_wire::Directory> {
    SqliteStorage::open(data_dir)?.directory()
}

/// Every partner read and write, oldest first.
pub fn partner_access_log(data_dir: &Path) -> Result<Vec<crate::exchange::store::PartnerAccess>> {
    SqliteStorage::open(data_dir)?.partner_access_log()
}

/// Adds a user of a partner organisation (role `partner`, team the partner's id): they sign
/// in to the partner page and answer the referrals sent to their organisation.
pub fn add_partner_user(data_dir: &Path, partner: &str, name: &str, password: &str) -> Result<()> {
    let known = directory(data_dir)?
        .partners
        .iter()
        .any(|p| p.id == partner);
    if !known {
        return Err(ServerError::NotFound(format!(
            "no partner {partner}: add it first (careloop admin partner add)"
        )));
    }
    add_user(data_dir, name, "partner", partner, password)
}
