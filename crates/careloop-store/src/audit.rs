//! The audit trail: who, in which role, did what to which person or item, and whether it was
//! allowed, kept as a hash chain so that edits made behind the store's back are detected.
//!
//! Entries are only appended, like events; triggers in the schema refuse updates and deletes
//! and any insert that does not extend the chain at its end. Triggers stop mistakes, not
//! someone who can open the database and drop them: that is what the chain is for. Each
//! entry's `hash` covers its own content and the previous entry's hash, so
//! [`Store::verify_audit`] finds an edited entry ([`AuditProblem::Edited`]), an entry
//! inserted, removed or moved ([`AuditProblem::Broken`], [`AuditProblem::Gap`]), and, given
//! heads recorded elsewhere (an expected head, the `audit_anchor` rows), a trail cut short
//! ([`AuditProblem::Truncated`]) or rewritten from some point on
//! ([`AuditProblem::AnchorMismatch`]). A chain rewritten from its first entry after the last
//! recorded head is consistent in itself: only heads recorded outside this database catch
//! that, which is why sync acknowledgements and operator exports are anchored.
//!
//! # The hash, version 1
//!
//! For the entry numbered `seq` (the first entry is 1, then every number in turn):
//!
//! ```text
//! hash      = lowercase_hex(SHA-256(prev_hash || "\n" || canonical))
//! prev_hash = the previous entry's hash; for entry 1, 64 zeros ("000…0", GENESIS_HASH)
//! canonical = field("careloop-audit-v1") field(seq) field(at) field(actor) field(role)
//!             field(action) field(patient_id) field(target) field(outcome)
//! field(v)  = LEN ":" v ","   for a present value: a netstring, LEN its length in UTF-8
//!                             bytes in decimal without leading zeros
//! field(-)  = "-,"            for an absent patient_id or target
//! ```
//!
//! `seq` is written in decimal; `at` is RFC 3339 in UTC with exactly six fraction digits and
//! `Z` (`2026-01-05T10:00:00.000000Z`; times are kept to the microsecond), exactly as stored;
//! `outcome` is `allowed` or `denied`. Every field starts with a digit or `-` and says where it
//! ends, so no two different entries have the same `canonical`; the leading tag names the
//! format, so a later encoding can never be mistaken for this one. Verification hashes the
//! stored text as it is, so any change to a stored value changes the hash.
//!
//! For example, the first entry, on 2026-01-05 at 10:00 UTC, by `coordinator-1` as
//! `coordinator`, claiming case `case-1` with no person named, allowed:
//!
//! ```text
//! 0000000000000000000000000000000000000000000000000000000000000000
//! 17:careloop-audit-v1,1:1,27:2026-01-05T10:00:00.000000Z,13:coordinator-1,11:coordinator,10:case.claim,-,6:case-1,7:allowed,
//! ```
//!
//! (the two lines joined by one `\n`, no newline at the end) hashes to the value in this
//! example:
//!
//! ```
//! use careloop_store::audit::{entry_hash, AuditOutcome, NewAuditEntry, GENESIS_HASH};
//! use chrono::{TimeZone, Utc};
//!
//! let entry = NewAuditEntry {
//!     at: Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 0).unwrap(),
//!     actor: "coordinator-1".into(),
//!     role: "coordinator".into(),
//!     action: "case.claim".into(),
//!     patient_id: None,
//!     target: Some("case-1".into()),
//!     outcome: AuditOutcome::Allowed,
//! };
//! assert_eq!(
//!     entry_hash(GENESIS_HASH, 1, &entry),
//!     "9d2af78c927116de7a5c515a2a425ca4cb600d2be3297a2a89eaf01fcf06864a"
//! );
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::events::{self, Appended, NewEvent};
use crate::{Result, Store, StoreError};

/// The `prev_hash` of the first entry: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The first field of every entry's canonical encoding: names the encoding's version.
const FORMAT_TAG: &str = "careloop-audit-v1";

/// At most this many problems are listed in an [`AuditReport`]; the rest are only counted, so
/// that verifying a thoroughly tampered trail still takes constant memory.
pub const MAX_LISTED_PROBLEMS: usize = 1000;

/// Whether the action was allowed or denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditOutcome {
    Allowed,
    Denied,
}

impl AuditOutcome {
    /// `allowed` or `denied`: as stored and hashed.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Allowed => "allowed",
            AuditOutcome::Denied => "denied",
        }
    }

    fn from_stored(text: &str) -> Option<AuditOutcome> {
        match text {
            "allowed" => Some(AuditOutcome::Allowed),
            "denied" => Some(AuditOutcome::Denied),
            _ => None,
        }
    }
}

impl fmt::Display for AuditOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An audit entry as the caller makes it; the store numbers and chains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// When it happened; kept to the microsecond.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// What, e.g. `case.claim` or `person.view`.
    pub action: String,
    /// Which person it concerned, if any.
    pub patient_id: Option<String>,
    /// Which item it concerned (a case, a referral), if any.
    pub target: Option<String>,
    pub outcome: AuditOutcome,
}

/// An entry of the audit trail, with its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub patient_id: Option<String>,
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    /// The previous entry's hash ([`GENESIS_HASH`] for the first entry).
    pub prev_hash: String,
    /// This entry's hash; see the [module docs](self) for what it covers.
    pub hash: String,
}

impl AuditEntry {
    /// The chain's head if it ended at this entry.
    pub fn head(&self) -> AuditHead {
        AuditHead {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }
}

/// A point in the chain: an entry's number and hash. Written and parsed as `SEQ:HASH`
/// (`42:9f86…`), the form in which a head is exported, acknowledged and given back to
/// [`Store::verify_audit`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AuditHead {
    pub seq: i64,
    /// 64 lowercase hexadecimal digits.
    pub hash: String,
}

impl AuditHead {
    fn is_well_formed(&self) -> bool {
        self.seq >= 1 && is_sha256_hex(&self.hash)
    }
}

impl fmt::Display for AuditHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl FromStr for AuditHead {
    type Err = ParseAuditHeadError;

    /// Parses `SEQ:HASH`; upper-case hexadecimal digits are accepted and made lower-case.
    fn from_str(text: &str) -> Result<AuditHead, ParseAuditHeadError> {
        let (seq, hash) = text.trim().split_once(':').ok_or(ParseAuditHeadError)?;
        let head = AuditHead {
            seq: seq.parse().map_err(|_| ParseAuditHeadError)?,
            hash: hash.to_ascii_lowercase(),
        };
        if head.is_well_formed() {
            Ok(head)
        } else {
            Err(ParseAuditHeadError)
        }
    }
}

/// A text that is not an audit head (`SEQ:HASH`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseAuditHeadError;

impl fmt::Display for ParseAuditHeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "an audit head is SEQ:HASH, an entry number from 1 and a SHA-256 in 64 hexadecimal digits",
        )
    }
}

impl std::error::Error for ParseAuditHeadError {}

/// Something [`Store::verify_audit`] found wrong with the trail. Messages name entry numbers
/// and hashes, never an entry's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditProblem {
    /// The entry's hash does not match its content: it was edited.
    Edited { seq: i64 },
    /// The entry's `prev_hash` is not the hash of the entry before it: an entry was inserted,
    /// removed or moved before it (or the first entry does not start from the genesis hash).
    Broken { seq: i64 },
    /// Entry `next` follows entry `after` (0: the start of the trail): the entries in between
    /// are missing.
    Gap { after: i64, next: i64 },
    /// A head recorded earlier is not in the chain: the trail ends before it (`found` is where
    /// it ends now), or that entry is missing.
    Truncated {
        expected: AuditHead,
        found: Option<AuditHead>,
    },
    /// The entry numbered as a head recorded earlier has a different hash: the trail was
    /// rewritten from that entry or before.
    AnchorMismatch { head: AuditHead },
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditProblem::Edited { seq } => write!(
                f,
                "audit entry #{seq} does not match its hash: it was edited"
            ),
            AuditProblem::Broken { seq } => write!(
                f,
                "audit entry #{seq} is not chained to the entry before it: an entry was inserted, removed or moved before it"
            ),
            AuditProblem::Gap { after: 0, next } => write!(
                f,
                "the audit trail starts at entry #{next}: the entries before it are missing"
            ),
            AuditProblem::Gap { after, next } => write!(
                f,
                "audit entry #{next} follows entry #{after}: the entries in between are missing"
            ),
            AuditProblem::Truncated {
                expected,
                found: Some(found),
            } => write!(
                f,
                "the audit trail does not contain the head {expected} recorded earlier (it ends at {found}): entries were removed"
            ),
            AuditProblem::Truncated {
                expected,
                found: None,
            } => write!(
                f,
                "the audit trail is empty but the head {expected} was recorded earlier: entries were removed"
            ),
            AuditProblem::AnchorMismatch { head } => write!(
                f,
                "audit entry #{} does not have the hash of the head {head} recorded earlier: the trail was rewritten",
                head.seq
            ),
        }
    }
}

/// What [`Store::verify_audit`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    /// Number of entries read.
    pub entries: u64,
    /// The last entry's number and stored hash; `None` for an empty trail.
    pub head: Option<AuditHead>,
    /// The problems found, in the order of the trail, then those of the recorded heads; at
    /// most [`MAX_LISTED_PROBLEMS`].
    pub problems: Vec<AuditProblem>,
    /// Problems found beyond [`MAX_LISTED_PROBLEMS`], only counted.
    pub unlisted_problems: u64,
}

impl AuditReport {
    /// Whether the trail is intact: no problem at all.
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.unlisted_problems == 0
    }

    fn push(&mut self, problem: AuditProblem) {
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(problem);
        } else {
            self.unlisted_problems += 1;
        }
    }
}

impl fmt::Display for AuditReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "audit trail: {} entries", self.entries)?;
        if let Some(head) = &self.head {
            write!(f, ", head {head}")?;
        }
        if self.ok() {
            return write!(f, "; intact");
        }
        write!(f, "; problems:")?;
        for problem in &self.problems {
            write!(f, "\n  {problem}")?;
        }
        if self.unlisted_problems > 0 {
            write!(f, "\n  … and {} more", self.unlisted_problems)?;
        }
        Ok(())
    }
}

/// The hash that the entry numbered `seq`, following an entry whose hash is `prev_hash`
/// ([`GENESIS_HASH`] for the first), gets; see the [module docs](self).
pub fn entry_hash(prev_hash: &str, seq: i64, entry: &NewAuditEntry) -> String {
    let at = stored_time(entry.at);
    chain_hash(
        prev_hash.as_bytes(),
        seq,
        [
            Some(at.as_bytes()),
            Some(entry.actor.as_bytes()),
            Some(entry.role.as_bytes()),
            Some(entry.action.as_bytes()),
            entry.patient_id.as_deref().map(str::as_bytes),
            entry.target.as_deref().map(str::as_bytes),
            Some(entry.outcome.as_str().as_bytes()),
        ],
    )
}

/// `fields`: at, actor, role, action, patient_id, target, outcome, as stored.
fn chain_hash(prev_hash: &[u8], seq: i64, fields: [Option<&[u8]>; 7]) -> String {
    fn field(hasher: &mut Sha256, value: Option<&[u8]>) {
        match value {
            Some(value) => {
                hasher.update(value.len().to_string().as_bytes());
                hasher.update(b":");
                hasher.update(value);
                hasher.update(b",");
            }
            None => hasher.update(b"-,"),
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(b"\n");
    field(&mut hasher, Some(FORMAT_TAG.as_bytes()));
    field(&mut hasher, Some(seq.to_string().as_bytes()));
    for value in fields {
        field(&mut hasher, value);
    }
    hex::encode(hasher.finalize())
}

/// A time as stored and hashed: RFC 3339 UTC with six fraction digits.
fn stored_time(at: DateTime<Utc>) -> String {
    at.trunc_subsecs(6)
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn validate(entry: &NewAuditEntry) -> Result<()> {
    let invalid = |what: &str| Err(StoreError::InvalidEvent(format!("audit entry: {what}")));
    for (field, value) in [
        ("actor", &entry.actor),
        ("role", &entry.role),
        ("action", &entry.action),
    ] {
        if value.trim().is_empty() {
            return invalid(&format!("{field} is empty"));
        }
    }
    for (field, value) in [("patient_id", &entry.patient_id), ("target", &entry.target)] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return invalid(&format!("{field} is empty; leave it out instead"));
        }
    }
    Ok(())
}

/// Appends one entry at the end of the chain inside `tx`. The caller has validated it.
fn append_in(tx: &rusqlite::Transaction<'_>, entry: &NewAuditEntry) -> Result<AuditEntry> {
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (prev_seq, prev_hash) = last.unwrap_or_else(|| (0, GENESIS_HASH.to_owned()));
    let seq = prev_seq + 1;
    let hash = entry_hash(&prev_hash, seq, entry);
    tx.prepare_cached(
        "INSERT INTO audit_entry
             (seq, at, actor, role, action, patient_id, target, outcome, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        seq,
        stored_time(entry.at),
        entry.actor,
        entry.role,
        entry.action,
        entry.patient_id,
        entry.target,
        entry.outcome.as_str(),
        prev_hash,
        hash
    ])?;
    Ok(AuditEntry {
        seq,
        at: entry.at.trunc_subsecs(6),
        actor: entry.actor.clone(),
        role: entry.role.clone(),
        action: entry.action.clone(),
        patient_id: entry.patient_id.clone(),
        target: entry.target.clone(),
        outcome: entry.outcome,
        prev_hash,
        hash,
    })
}

const ENTRY_COLUMNS: &str =
    "seq, at, actor, role, action, patient_id, target, outcome, prev_hash, hash";

fn read_entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<AuditEntry>> {
    let seq: i64 = row.get(0)?;
    let at: String = row.get(1)?;
    let outcome: String = row.get(7)?;
    let corrupt =
        |what: &str| StoreError::InvalidEvent(format!("stored audit entry #{seq}: {what}"));
    Ok((|| {
        Ok(AuditEntry {
            seq,
            at: DateTime::parse_from_rfc3339(&at)
                .map_err(|_| corrupt("malformed time"))?
                .with_timezone(&Utc),
            actor: row.get(2)?,
            role: row.get(3)?,
            action: row.get(4)?,
            patient_id: row.get(5)?,
            target: row.get(6)?,
            outcome: AuditOutcome::from_stored(&outcome)
                .ok_or_else(|| corrupt("unknown outcome"))?,
            prev_hash: row.get(8)?,
            hash: row.get(9)?,
        })
    })())
}

/// A stored value's bytes as verification sees them: text (or a blob smuggled into a text
/// column) as it is, NULL as absent. Numbers cannot be stored in the audit table's text
/// columns; should a rebuilt table hold one, its decimal form stands in (and will not match).
fn stored_bytes<'r>(value: ValueRef<'r>) -> Option<std::borrow::Cow<'r, [u8]>> {
    use std::borrow::Cow;
    match value {
        ValueRef::Null => None,
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Some(Cow::Borrowed(bytes)),
        ValueRef::Integer(n) => Some(Cow::Owned(n.to_string().into_bytes())),
        ValueRef::Real(x) => Some(Cow::Owned(x.to_string().into_bytes())),
    }
}

impl Store {
    /// Appends one audit entry at the end of the chain, in its own transaction, durable when
    /// this returns.
    pub fn append_audit(&mut self, entry: &NewAuditEntry) -> Result<AuditEntry> {
        validate(entry)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let appended = append_in(&tx, entry)?;
        tx.commit()?;
        Ok(appended)
    }

    /// Appends events and audit entries in one transaction: all of them land, or none
    /// (an invalid or conflicting event, an invalid audit entry). This is how an action and
    /// its audit entry are recorded together. Events already in the log are no-ops as in
    /// [`Store::append_events`]; the audit entries are appended regardless, since the action
    /// was requested again.
    pub fn append_events_with_audit(
        &mut self,
        events: &[NewEvent],
        audit: &[NewAuditEntry],
    ) -> Result<(Vec<Appended>, Vec<AuditEntry>)> {
        events.iter().try_for_each(events::validate)?;
        audit.iter().try_for_each(validate)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // An error anywhere below drops `tx`, which rolls back every row of both kinds.
        let entries = audit
            .iter()
            .map(|a| append_in(&tx, a))
            .collect::<Result<Vec<_>>>()?;
        let appended = events
            .iter()
            .map(|e| events::append_in(&tx, e))
            .collect::<Result<Vec<_>>>()?;
        tx.commit()?;
        Ok((appended, entries))
    }

    /// The last entry's number and hash, or `None` while the trail is empty.
    pub fn audit_head(&self) -> Result<Option<AuditHead>> {
        Ok(self
            .conn
            .prepare_cached("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1")?
            .query_row([], |r| {
                Ok(AuditHead {
                    seq: r.get(0)?,
                    hash: r.get(1)?,
                })
            })
            .optional()?)
    }

    /// Entries after number `after_seq`, in chain order, at most `limit`.
    pub fn audit_entries(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_entry WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![after_seq, limit], read_entry)?;
        rows.map(|r| r?).collect()
    }

    /// Every entry about one person, in chain order: who looked at or acted on their record.
    pub fn audit_entries_for_patient(&self, patient_id: &str) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_entry WHERE patient_id = ?1 ORDER BY seq"
        ))?;
        let rows = stmt.query_map(params![patient_id], read_entry)?;
        rows.map(|r| r?).collect()
    }

    /// Notes a head recorded elsewhere (`source`: e.g. `sync-server`, `operator-export`), so
    /// that [`Store::verify_audit`] checks the chain still contains it. The head is noted as
    /// given, even if the chain does not contain it: verification then reports it.
    pub fn record_audit_anchor(
        &mut self,
        head: &AuditHead,
        recorded_at: DateTime<Utc>,
        source: &str,
    ) -> Result<()> {
        if !head.is_well_formed() {
            return Err(StoreError::InvalidEvent(format!(
                "audit anchor: {ParseAuditHeadError}"
            )));
        }
        if source.trim().is_empty() {
            return Err(StoreError::InvalidEvent(
                "audit anchor: the source is empty".into(),
            ));
        }
        self.conn.execute(
            "INSERT INTO audit_anchor (head_seq, head_hash, recorded_at, source)
             VALUES (?1, ?2, ?3, ?4)",
            params![head.seq, head.hash, stored_time(recorded_at), source],
        )?;
        Ok(())
    }

    /// Checks the whole trail: every entry's hash against its content, every link to the
    /// entry before it, the numbering, and that `expected_head` (a head kept outside this
    /// database, if the caller has one) and every head in `audit_anchor` are still in the
    /// chain. Reads one consistent snapshot, row by row, in constant memory.
    pub fn verify_audit(&self, expected_head: Option<&AuditHead>) -> Result<AuditReport> {
        // One read transaction: a concurrent append cannot make the chain and the anchor
        // checks see different trails.
        let snapshot = self.conn.unchecked_transaction()?;
        let mut report = AuditReport {
            entries: 0,
            head: None,
            problems: Vec::new(),
            unlisted_problems: 0,
        };
        let mut previous_seq = 0;
        let mut previous_hash: Vec<u8> = GENESIS_HASH.as_bytes().to_vec();
        {
            let mut stmt = snapshot.prepare(&format!(
                "SELECT {ENTRY_COLUMNS} FROM audit_entry ORDER BY seq"
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let seq: i64 = row.get(0)?;
                let value = |i: usize| row.get_ref(i).map(stored_bytes);
                let prev_hash = value(8)?;
                let hash = value(9)?;
                if seq != previous_seq + 1 {
                    report.push(AuditProblem::Gap {
                        after: previous_seq,
                        next: seq,
                    });
                }
                if prev_hash.as_deref() != Some(previous_hash.as_slice()) {
                    report.push(AuditProblem::Broken { seq });
                }
                let fields = [
                    value(1)?,
                    value(2)?,
                    value(3)?,
                    value(4)?,
                    value(5)?,
                    value(6)?,
                    value(7)?,
                ];
                let computed = chain_hash(
                    prev_hash.as_deref().unwrap_or_default(),
                    seq,
                    fields.each_ref().map(|f| f.as_deref()),
                );
                if hash.as_deref() != Some(computed.as_bytes()) {
                    report.push(AuditProblem::Edited { seq });
                }
                report.entries += 1;
                previous_seq = seq;
                previous_hash.clear();
                previous_hash.extend_from_slice(hash.as_deref().unwrap_or_default());
            }
        }
        if report.entries > 0 {
            report.head = Some(AuditHead {
                seq: previous_seq,
                hash: String::from_utf8_lossy(&previous_hash).into_owned(),
            });
        }

        let mut stored_hash_at = snapshot.prepare("SELECT hash FROM audit_entry WHERE seq = ?1")?;
        let mut check = |recorded: AuditHead, report: &mut AuditReport| -> Result<()> {
            let stored = stored_hash_at
                .query_row([recorded.seq], |r| {
                    Ok(stored_bytes(r.get_ref(0)?).map(|b| b.into_owned()))
                })
                .optional()?;
            match stored {
                None => {
                    let found = report.head.clone();
                    report.push(AuditProblem::Truncated {
                        expected: recorded,
                        found,
                    });
                }
                Some(hash)
                    if !hash
                        .as_deref()
                        .unwrap_or_default()
                        .eq_ignore_ascii_case(recorded.hash.as_bytes()) =>
                {
                    report.push(AuditProblem::AnchorMismatch { head: recorded });
                }
                Some(_) => {}
            }
            Ok(())
        };
        if let Some(expected) = expected_head {
            check(expected.clone(), &mut report)?;
        }
        let mut anchors = snapshot.prepare(
            "SELECT DISTINCT head_seq, head_hash FROM audit_anchor ORDER BY head_seq, head_hash",
        )?;
        let mut rows = anchors.query([])?;
        while let Some(row) = rows.next()? {
            let anchor = AuditHead {
                seq: row.get(0)?,
                hash: String::from_utf8_lossy(&stored_bytes(row.get_ref(1)?).unwrap_or_default())
                    .into_owned(),
            };
            let same_as_expected = expected_head
                .is_some_and(|e| e.seq == anchor.seq && e.hash.eq_ignore_ascii_case(&anchor.hash));
            if !same_as_expected {
                check(anchor, &mut report)?;
            }
        }
        Ok(report)
    }
}
