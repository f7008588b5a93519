//! The server's storage, behind a narrow interface ([`Storage`]) so that a PostgreSQL
//! backend can follow; the embedded default is SQLite in WAL mode in the data directory
//! ([`SqliteStorage`]), so no other service is needed.
//!
//! Invariants: a push is one transaction (all its events or none); an event id is stored
//! once, and the same id with other content is refused; the global order (`server_seq`)
//! only grows; tokens are stored as SHA-256 digests, passwords as argon2id PHC strings.

use std::path::Path;
use std::sync::Mutex;

use careloop_wire::{
    AuditHeadWire, PanelItem, PanelKind, PulledEvent, PushStatus, SegmentDefinitionWire, WireEvent,
};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use crate::error::{Result, ServerError};

/// A user of the central server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: String,
    pub team: String,
    /// argon2id, PHC string format.
    pub password_hash: String,
    pub disabled: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }
}

/// A token as stored: its digest, never the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub digest: String,
    pub kind: TokenKind,
    pub user: String,
    pub workstation: String,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    /// Every token descended from one password sign-in shares a family: reuse of a rotated
    /// refresh token revokes the family.
    pub family: String,
    /// The refresh token (its digest) this one was issued for; none for a sign-in.
    pub parent: Option<String>,
    /// A refresh token already traded for a new pair (or a pair superseded because the
    /// token it was issued for was traded again).
    pub rotated: bool,
    /// When it was traded; none when superseded.
    pub rotated_at: Option<DateTime<Utc>>,
    /// An access token that authorised a request.
    pub used: bool,
}

/// What storing one pushed event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub id: Uuid,
    pub server_seq: i64,
    pub status: PushStatus,
}

/// A workstation's audit chain head as last recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedHead {
    /// The team of the user whose token reported it.
    pub team: String,
    /// The workstation the reporting token was issued to at sign-in.
    pub workstation: String,
    pub user: String,
    /// The furthest head the workstation has reported.
    pub head: AuditHeadWire,
    pub at: DateTime<Utc>,
    /// Set when a later report went backwards (a truncated or rewritten chain): what was
    /// reported, and when. Kept until an administrator looks into it.
    pub regression: Option<String>,
}

/// A sign-in attempt that failed, or a lock, or a refresh token used twice: kept by the
/// server for the administrator (`careloop admin security-log`). Never the password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityEvent {
    pub at: DateTime<Utc>,
    /// `sign_in_failed`, `account_locked`, `address_locked`, `refresh_reused`.
    pub kind: String,
    /// The user name as given (it may not exist).
    pub user: String,
    pub address: Option<String>,
    pub detail: String,
}

/// Everything the server keeps.
pub trait Storage: crate::exchange::store::ExchangeStorage + Send + Sync + 'static {
    fn add_user(&self, user: &User) -> Result<()>;
    fn user(&self, name: &str) -> Result<Option<User>>;
    fn set_password(&self, name: &str, password_hash: &str) -> Result<()>;
    fn set_disabled(&self, name: &str, disabled: bool) -> Result<()>;

    fn insert_token(&self, token: &Token) -> Result<()>;
    fn token(&self, digest: &str) -> Result<Option<Token>>;
    fn revoke_token(&self, digest: &str) -> Result<()>;
    /// Revokes every token of a user; returns how many were live.
    fn revoke_user(&self, name: &str) -> Result<u32>;
    /// Marks a refresh token rotated at `now` (and revoked).
    fn rotate_token(&self, digest: &str, now: DateTime<Utc>) -> Result<()>;
    /// Marks a token superseded: revoked, and rotated without a time.
    fn supersede_token(&self, digest: &str) -> Result<()>;
    /// The tokens issued for a refresh token.
    fn successors(&self, digest: &str) -> Result<Vec<Token>>;
    /// Revokes every token of a family; returns how many were live.
    fn revoke_family(&self, family: &str) -> Result<u32>;
    /// Notes that an access token authorised a request.
    fn mark_used(&self, digest: &str) -> Result<()>;
    /// Deletes a user's tokens that expired before `now`.
    fn prune_tokens(&self, user: &str, now: DateTime<Utc>) -> Result<u32>;
    /// Keeps a failed sign-in, a lock or a token reuse.
    fn record_security_event(&self, event: &SecurityEvent) -> Result<()>;
    /// The security events, oldest first.
    fn security_events(&self) -> Result<Vec<SecurityEvent>>;

    /// Stores a push in one transaction: new events get the next places in the global
    /// order; events already stored with the same content keep theirs; an id stored with
    /// other content refuses the whole push.
    fn push(&self, team: &str, workstation: &str, events: &[WireEvent]) -> Result<Vec<Stored>>;
    /// The team's events after `after` in global order, at most `limit`; and whether more.
    fn pull(&self, team: &str, after: i64, limit: u32) -> Result<(Vec<PulledEvent>, bool)>;
    /// Every event of every team in global order (for folding at start).
    fn all_events(&self, visit: &mut dyn FnMut(&str, PulledEvent)) -> Result<()>;

    /// Records a workstation's audit chain head. A head behind the one recorded before (a
    /// lower number, or the same number with another hash) is not taken: the record keeps
    /// the furthest head and notes the regression. Returns the record as it is now.
    fn record_audit_head(&self, head: &RecordedHead) -> Result<RecordedHead>;
    /// The recorded heads of one team's workstations, or of all (the administrator's view).
    fn audit_heads(&self, team: Option<&str>) -> Result<Vec<RecordedHead>>;

    fn in_panel(&self, team: &str, patient_id: &str) -> Result<bool>;
    /// Adds panel lines for a team; a line whose key already has the same digest is skipped.
    /// Returns how many were new or changed.
    fn add_panel_items(&self, team: &str, items: &[PanelLine]) -> Result<u32>;
    fn panel_page(&self, team: &str, after: i64, limit: u32) -> Result<(Vec<PanelItem>, bool)>;
    /// Adds each item whose key the team's panel does not have yet, in one transaction; for
    /// each, `None` when added, else the JSON already published under that key (kept).
    fn publish_once(&self, team: &str, items: &[PanelLine]) -> Result<Vec<Option<String>>>;
    fn panel_size(&self, team: &str) -> Result<u64>;
    /// The segment definitions published for a team, in the order they were published.
    fn panel_segments(&self, team: &str) -> Result<Vec<SegmentDefinitionWire>>;
}

/// One line of a team's panel to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanelLine {
    pub kind: PanelKind,
    /// What the line replaces when it changes: "Type/id" for a resource, a signal's identity.
    pub key: String,
    pub patient_id: Option<String>,
    pub json: String,
}

/// The embedded default: one SQLite database (WAL, `synchronous=FULL`) in the data dir.
pub struct SqliteStorage {
    conn: Mutex<Connection>,
}

/// The numbered migrations of `schema/server-migrations/`, applied in order, each in its own
/// transaction and recorded with its checksum in `server_migration`.
const MIGRATIONS: &[(u32, &str, &str)] = &[
    (
        1,
        "base",
        include_str!("../../../schema/server-migrations/0001_base.sql"),
    ),
    (
        2,
        "sign_in_hardening",
        include_str!("../../../schema/server-migrations/0002_sign_in_hardening.sql"),
    ),
    (
        3,
        "referral_exchange",
        include_str!("../../../schema/server-migrations/0003_referral_exchange.sql"),
    ),
    (
        4,
        "panel_by_kind",
        include_str!("../../../schema/server-migrations/0004_panel_by_kind.sql"),
    ),
];

/// The schema version this build writes.
pub const SERVER_SCHEMA_VERSION: u32 = 4;

fn table_has(conn: &Connection, table: &str, column: Option<&str>) -> rusqlite::Result<bool> {
    let n: i64 = match column {
        None => conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            params![table],
            |r| r.get(0),
        )?,
        Some(column) => conn.query_row(
            "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
            params![table, column],
            |r| r.get(0),
        )?,
    };
    Ok(n > 0)
}

/// Brings a server database to [`SERVER_SCHEMA_VERSION`]. A database of the first release
/// (its tables, no `server_migration`) is recorded as version 1 first; one made by a newer
/// Careloop is refused before anything is written.
fn migrate(conn: &mut Connection, now: DateTime<Utc>) -> Result<()> {
    use sha2::{Digest, Sha256};
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS server_migration (
             version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
             applied_at TEXT NOT NULL
         );",
    )?;
    let recorded: Vec<(u32, String)> = {
        let mut stmt =
            conn.prepare("SELECT version, checksum FROM server_migration ORDER BY version")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let checksum = |sql: &str| hex::encode(Sha256::digest(sql.as_bytes()));
    if let Some((newest, _)) = recorded.last() {
        if *newest > SERVER_SCHEMA_VERSION {
            tracing::error!(
                target: "careloop_server::storage",
                found = *newest,
                known = SERVER_SCHEMA_VERSION,
                "the server database is newer than this build"
            );
            return Err(ServerError::Internal(format!(
                "the server database is at schema version {newest}, made by a newer Careloop (this one knows up to {SERVER_SCHEMA_VERSION}): upgrade Careloop"
            )));
        }
    }
    for (version, sum) in &recorded {
        if let Some((_, name, sql)) = MIGRATIONS.iter().find(|(v, _, _)| v == version) {
            if &checksum(sql) != sum {
                tracing::error!(
                    target: "careloop_server::storage",
                    version = *version,
                    name = *name,
                    "a recorded server migration has another checksum"
                );
                return Err(ServerError::Internal(format!(
                    "server migration {version} ({name}) was recorded with another checksum: the database was made by a different build"
                )));
            }
        }
    }
    let mut applied: std::collections::BTreeSet<u32> = recorded.iter().map(|(v, _)| *v).collect();
    if applied.is_empty() && table_has(conn, "app_user", None)? {
        // Made before migrations were recorded: the first release's tables (version 1), and
        // perhaps version 2's columns from a build that added them unrecorded.
        let mut baseline = vec![1];
        if table_has(conn, "token", Some("family"))? && table_has(conn, "security_event", None)? {
            baseline.push(2);
        }
        let tx = conn.transaction()?;
        for version in baseline {
            let (_, name, sql) = MIGRATIONS[version as usize - 1];
            tx.execute(
                "INSERT INTO server_migration (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
                params![version, name, checksum(sql), time(now)],
            )?;
            applied.insert(version);
        }
        tx.commit()?;
        tracing::info!(
            target: "careloop_server::storage",
            versions = ?applied,
            "recorded an unversioned server database's migrations"
        );
    }
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql).map_err(|e| {
            ServerError::Internal(format!("server migration {version} ({name}): {e}"))
        })?;
        tx.execute(
            "INSERT INTO server_migration (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
            params![version, name, checksum(sql), time(now)],
        )?;
        tx.commit()?;
        tracing::info!(
            target: "careloop_server::storage",
            version = *version,
            name = *name,
            "server migration applied"
        );
    }
    tracing::debug!(
        target: "careloop_server::storage",
        version = SERVER_SCHEMA_VERSION,
        "server database schema"
    );
    Ok(())
}

pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

impl SqliteStorage {
    /// Opens (creating) `server.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<SqliteStorage> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            ServerError::Internal(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        // The server holds PHI (the teams' panels, notes in events): the database is
        // SQLCipher, keyed by `server.key` beside it (owner-only, made on first start).
        let key = key_file(&data_dir.join("server.key"))?;
        let key = careloop_store::CacheKey::from_hex(&key).ok_or_else(|| {
            ServerError::Internal(format!(
                "{} is not a key",
                data_dir.join("server.key").display()
            ))
        })?;
        let mut conn = careloop_store::open_keyed_connection(&data_dir.join("server.db"), &key)
            .map_err(|_| {
                ServerError::Internal(format!(
                    "{} cannot be opened with the key in {}: a wrong key, or not a Careloop server database",
                    data_dir.join("server.db").display(),
                    data_dir.join("server.key").display()
                ))
            })?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )?;
        migrate(&mut conn, Utc::now())?;
        Ok(SqliteStorage {
            conn: Mutex::new(conn),
        })
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn kind_name(kind: PanelKind) -> &'static str {
    match kind {
        PanelKind::Resource => "resource",
        PanelKind::Engagement => "engagement",
        PanelKind::Segment => "segment",
    }
}

fn read_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        name: r.get(0)?,
        role: r.get(1)?,
        team: r.get(2)?,
        password_hash: r.get(3)?,
        disabled: r.get::<_, i64>(4)? != 0,
    })
}

fn read_pulled(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, PulledEvent)> {
    let id: String = r.get(1)?;
    let payload: String = r.get(7)?;
    let bad = |e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e)
    };
    Ok((
        r.get(2)?,
        PulledEvent {
            server_seq: r.get(0)?,
            event: WireEvent {
                id: Uuid::parse_str(&id).map_err(|e| bad(Box::new(e)))?,
                kind: r.get(3)?,
                subject: r.get(4)?,
                actor: r.get(5)?,
                occurred_at: parse_time(&r.get::<_, String>(6)?)?,
                payload: serde_json::from_str(&payload).map_err(|e| bad(Box::new(e)))?,
                payload_version: r.get(8)?,
            },
        },
    ))
}

const SELECT_HEAD: &str =
    "SELECT workstation, user_name, seq, hash, at, regression, team FROM team_audit_head";

fn read_head(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordedHead> {
    Ok(RecordedHead {
        team: r.get(6)?,
        workstation: r.get(0)?,
        user: r.get(1)?,
        head: AuditHeadWire {
            seq: r.get(2)?,
            hash: r.get(3)?,
        },
        at: parse_time(&r.get::<_, String>(4)?)?,
        regression: r.get(5)?,
    })
}

const SELECT_TOKEN: &str =
    "SELECT digest, kind, user_name, workstation, expires_at, revoked, family, parent, rotated, used, rotated_at FROM token";

fn read_token(r: &rusqlite::Row<'_>) -> rusqlite::Result<Token> {
    let kind: String = r.get(1)?;
    Ok(Token {
        digest: r.get(0)?,
        kind: if kind == "refresh" {
            TokenKind::Refresh
        } else {
            TokenKind::Access
        },
        user: r.get(2)?,
        workstation: r.get(3)?,
        expires_at: parse_time(&r.get::<_, String>(4)?)?,
        revoked: r.get::<_, i64>(5)? != 0,
        family: r.get(6)?,
        parent: r.get(7)?,
        rotated: r.get::<_, i64>(8)? != 0,
        used: r.get::<_, i64>(9)? != 0,
        rotated_at: r
            .get::<_, Option<String>>(10)?
            .map(|t| parse_time(&t))
            .transpose()?,
    })
}

const SELECT_EVENT: &str = "SELECT server_seq, id, team, kind, subject, actor, occurred_at, payload, payload_version FROM event";

impl Storage for SqliteStorage {
    fn add_user(&self, user: &User) -> Result<()> {
        let conn = self.conn();
        let inserted = conn.execute(
            "INSERT INTO app_user (name, role, team, password_hash, disabled) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (name) DO NOTHING",
            params![user.name, user.role, user.team, user.password_hash, user.disabled as i64],
        )?;
        if inserted == 0 {
            return Err(ServerError::Conflict(format!(
                "user {} already exists",
                user.name
            )));
        }
        Ok(())
    }

    fn user(&self, name: &str) -> Result<Option<User>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT name, role, team, password_hash, disabled FROM app_user WHERE name = ?1",
            )?
            .query_row(params![name], read_user)
            .optional()?)
    }

    fn set_password(&self, name: &str, password_hash: &str) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE app_user SET password_hash = ?2 WHERE name = ?1",
            params![name, password_hash],
        )?;
        if n == 0 {
            return Err(ServerError::NotFound(format!("no user {name}")));
        }
        Ok(())
    }

    fn set_disabled(&self, name: &str, disabled: bool) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE app_user SET disabled = ?2 WHERE name = ?1",
            params![name, disabled as i64],
        )?;
        if n == 0 {
            return Err(ServerError::NotFound(format!("no user {name}")));
        }
        Ok(())
    }

    fn insert_token(&self, token: &Token) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO token (digest, kind, user_name, workstation, expires_at, revoked, family, parent, rotated, used, rotated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                token.digest,
                token.kind.as_str(),
                token.user,
                token.workstation,
                time(token.expires_at),
                token.revoked as i64,
                token.family,
                token.parent,
                token.rotated as i64,
                token.used as i64,
                token.rotated_at.map(time),
            ])?;
        Ok(())
    }

    fn token(&self, digest: &str) -> Result<Option<Token>> {
        Ok(self
            .conn()
            .prepare_cached(&format!("{SELECT_TOKEN} WHERE digest = ?1"))?
            .query_row(params![digest], read_token)
            .optional()?)
    }

    fn rotate_token(&self, digest: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE token SET revoked = 1, rotated = 1, rotated_at = ?2 WHERE digest = ?1",
            )?
            .execute(params![digest, time(now)])?;
        Ok(())
    }

    fn supersede_token(&self, digest: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE token SET revoked = 1, rotated = 1, rotated_at = NULL WHERE digest = ?1",
            )?
            .execute(params![digest])?;
        Ok(())
    }

    fn successors(&self, digest: &str) -> Result<Vec<Token>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("{SELECT_TOKEN} WHERE parent = ?1"))?;
        let rows = stmt.query_map(params![digest], read_token)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_family(&self, family: &str) -> Result<u32> {
        Ok(self.conn().execute(
            "UPDATE token SET revoked = 1 WHERE family = ?1 AND revoked = 0",
            params![family],
        )? as u32)
    }

    fn mark_used(&self, digest: &str) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE token SET used = 1 WHERE digest = ?1 AND used = 0")?
            .execute(params![digest])?;
        Ok(())
    }

    fn prune_tokens(&self, user: &str, now: DateTime<Utc>) -> Result<u32> {
        Ok(self.conn().execute(
            "DELETE FROM token WHERE user_name = ?1 AND expires_at < ?2",
            params![user, time(now)],
        )? as u32)
    }

    fn record_security_event(&self, event: &SecurityEvent) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO security_event (at, kind, user_name, address, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                time(event.at),
                event.kind,
                event.user,
                event.address,
                event.detail
            ])?;
        Ok(())
    }

    fn security_events(&self) -> Result<Vec<SecurityEvent>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT at, kind, user_name, address, detail FROM security_event ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SecurityEvent {
                at: parse_time(&r.get::<_, String>(0)?)?,
                kind: r.get(1)?,
                user: r.get(2)?,
                address: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_token(&self, digest: &str) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE token SET revoked = 1 WHERE digest = ?1")?
            .execute(params![digest])?;
        Ok(())
    }

    fn revoke_user(&self, name: &str) -> Result<u32> {
        Ok(self.conn().execute(
            "UPDATE token SET revoked = 1 WHERE user_name = ?1 AND revoked = 0",
            params![name],
        )? as u32)
    }

    fn push(&self, team: &str, workstation: &str, events: &[WireEvent]) -> Result<Vec<Stored>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            let id = e.id.to_string();
            let at = time(e.occurred_at);
            let payload = serde_json::to_string(&e.payload)
                .map_err(|err| ServerError::Internal(format!("event {id}: {err}")))?;
            let existing = tx
                .prepare_cached(&format!("{SELECT_EVENT} WHERE id = ?1"))?
                .query_row(params![id], read_pulled)
                .optional()?;
            if let Some((stored_team, stored)) = existing {
                let s = &stored.event;
                let same = stored_team == team
                    && s.kind == e.kind
                    && s.subject == e.subject
                    && s.actor == e.actor
                    && time(s.occurred_at) == at
                    && s.payload == e.payload
                    && s.payload_version == e.payload_version;
                if !same {
                    return Err(ServerError::Conflict(format!(
                        "event {id} is already on the server with different content; nothing was stored"
                    )));
                }
                out.push(Stored {
                    id: e.id,
                    server_seq: stored.server_seq,
                    status: PushStatus::Duplicate,
                });
                continue;
            }
            tx.prepare_cached(
                "INSERT INTO event (id, team, workstation, kind, subject, actor, occurred_at, payload, payload_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![id, team, workstation, e.kind, e.subject, e.actor, at, payload, e.payload_version])?;
            let server_seq = tx.last_insert_rowid();
            // A referral to a directory service: its Task for the partner, in the same
            // transaction.
            if let Some(task) = crate::exchange::task_for_event(team, e) {
                crate::exchange::store::insert_task(&tx, &task)?;
            }
            out.push(Stored {
                id: e.id,
                server_seq,
                status: PushStatus::Accepted,
            });
        }
        tx.commit()?;
        Ok(out)
    }

    fn pull(&self, team: &str, after: i64, limit: u32) -> Result<(Vec<PulledEvent>, bool)> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_EVENT} WHERE team = ?1 AND server_seq > ?2 ORDER BY server_seq LIMIT ?3"
        ))?;
        let mut events: Vec<PulledEvent> = stmt
            .query_map(params![team, after, limit as i64 + 1], read_pulled)?
            .map(|r| r.map(|(_, e)| e))
            .collect::<rusqlite::Result<_>>()?;
        let more = events.len() > limit as usize;
        events.truncate(limit as usize);
        Ok((events, more))
    }

    fn all_events(&self, visit: &mut dyn FnMut(&str, PulledEvent)) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{SELECT_EVENT} ORDER BY server_seq"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (team, event) = read_pulled(row)?;
            visit(&team, event);
        }
        Ok(())
    }

    fn record_audit_head(&self, head: &RecordedHead) -> Result<RecordedHead> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let previous = tx
            .prepare_cached(&format!(
                "{SELECT_HEAD} WHERE team = ?1 AND workstation = ?2 AND user_name = ?3"
            ))?
            .query_row(params![head.team, head.workstation, head.user], read_head)
            .optional()?;
        let now = match previous {
            Some(before)
                if before.head.seq > head.head.seq
                    || (before.head.seq == head.head.seq && before.head.hash != head.head.hash) =>
            {
                RecordedHead {
                    regression: Some(format!(
                        "at {} the workstation reported audit entry {} ({}...) after entry {} ({}...): its chain was truncated or rewritten",
                        time(head.at),
                        head.head.seq,
                        &head.head.hash[..head.head.hash.len().min(12)],
                        before.head.seq,
                        &before.head.hash[..before.head.hash.len().min(12)],
                    )),
                    ..before
                }
            }
            Some(before) => RecordedHead {
                regression: before.regression,
                ..head.clone()
            },
            None => head.clone(),
        };
        tx.execute(
            "INSERT INTO team_audit_head (team, workstation, user_name, seq, hash, at, regression) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (team, workstation, user_name) DO UPDATE SET
               seq = excluded.seq, hash = excluded.hash, at = excluded.at, regression = excluded.regression",
            params![now.team, now.workstation, now.user, now.head.seq, now.head.hash, time(now.at), now.regression],
        )?;
        tx.commit()?;
        Ok(now)
    }

    fn audit_heads(&self, team: Option<&str>) -> Result<Vec<RecordedHead>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "{SELECT_HEAD} WHERE ?1 IS NULL OR team = ?1 ORDER BY team, workstation, user_name"
        ))?;
        let rows = stmt.query_map(params![team], read_head)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn in_panel(&self, team: &str, patient_id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM panel_member WHERE team = ?1 AND patient_id = ?2")?
            .query_row(params![team, patient_id], |_| Ok(true))
            .optional()?
            .unwrap_or(false))
    }

    fn add_panel_items(&self, team: &str, items: &[PanelLine]) -> Result<u32> {
        use sha2::{Digest, Sha256};
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut changed = 0;
        for item in items {
            let digest = hex::encode(Sha256::digest(item.json.as_bytes()));
            let known: Option<String> = tx
                .prepare_cached(
                    "SELECT digest FROM panel_latest WHERE team = ?1 AND item_key = ?2",
                )?
                .query_row(params![team, item.key], |r| r.get(0))
                .optional()?;
            if let Some(patient) = &item.patient_id {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO panel_member (team, patient_id) VALUES (?1, ?2)",
                )?
                .execute(params![team, patient])?;
            }
            if known.as_deref() == Some(digest.as_str()) {
                continue;
            }
            let kind = kind_name(item.kind);
            tx.prepare_cached(
                "INSERT INTO panel_item (team, kind, item_key, digest, json) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![team, kind, item.key, digest, item.json])?;
            tx.prepare_cached(
                "INSERT INTO panel_latest (team, item_key, digest) VALUES (?1, ?2, ?3)
                 ON CONFLICT (team, item_key) DO UPDATE SET digest = excluded.digest",
            )?
            .execute(params![team, item.key, digest])?;
            changed += 1;
        }
        tx.commit()?;
        Ok(changed)
    }

    fn panel_page(&self, team: &str, after: i64, limit: u32) -> Result<(Vec<PanelItem>, bool)> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, kind, json FROM panel_item WHERE team = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let mut items: Vec<PanelItem> = stmt
            .query_map(params![team, after, limit as i64 + 1], |r| {
                let kind: String = r.get(1)?;
                Ok(PanelItem {
                    seq: r.get(0)?,
                    kind: match kind.as_str() {
                        "engagement" => PanelKind::Engagement,
                        "segment" => PanelKind::Segment,
                        _ => PanelKind::Resource,
                    },
                    json: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        Ok((items, more))
    }

    fn publish_once(&self, team: &str, items: &[PanelLine]) -> Result<Vec<Option<String>>> {
        use sha2::{Digest, Sha256};
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut outcomes = Vec::new();
        for item in items {
            let known: Option<String> = tx
                .prepare_cached(
                    "SELECT json FROM panel_item WHERE team = ?1 AND item_key = ?2 ORDER BY seq LIMIT 1",
                )?
                .query_row(params![team, item.key], |r| r.get(0))
                .optional()?;
            if known.is_none() {
                let digest = hex::encode(Sha256::digest(item.json.as_bytes()));
                tx.prepare_cached(
                    "INSERT INTO panel_item (team, kind, item_key, digest, json) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![team, kind_name(item.kind), item.key, digest, item.json])?;
                tx.prepare_cached(
                    "INSERT INTO panel_latest (team, item_key, digest) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![team, item.key, digest])?;
            }
            outcomes.push(known);
        }
        tx.commit()?;
        Ok(outcomes)
    }

    fn panel_size(&self, team: &str) -> Result<u64> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM panel_member WHERE team = ?1",
            params![team],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    fn panel_segments(&self, team: &str) -> Result<Vec<SegmentDefinitionWire>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, json FROM panel_item WHERE team = ?1 AND kind = 'segment' ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![team], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut segments = Vec::new();
        for row in rows {
            let (seq, json) = row?;
            segments.push(serde_json::from_str(&json).map_err(|e| {
                ServerError::Internal(format!(
                    "team panel line {seq}: not a segment definition: {e}"
                ))
            })?);
        }
        Ok(segments)
    }
}

/// The hex key in `path`, made (32 random bytes, owner-only) when it does not exist yet.
pub(crate) fn key_file(path: &Path) -> Result<String> {
    if !path.exists() {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes)
            .map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
        crate::tls::write_private(path, format!("{}\n", hex::encode(bytes)).as_bytes())?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::symlink_metadata(path)
            .map_err(|e| ServerError::Internal(format!("reading {}: {e}", path.display())))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(ServerError::BadRequest(format!(
                "{} is readable by others (mode {:o}): make it the owner's only (chmod 600)",
                path.display(),
                mode & 0o777
            )));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| ServerError::Internal(format!("reading {}: {e}", path.display())))?;
    let hex = text.trim();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ServerError::Internal(format!(
            "{} does not hold a key (64 hex digits)",
            path.display()
        )));
    }
    Ok(hex.to_owned())
}
