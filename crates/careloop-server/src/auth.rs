//! Sign-in: argon2id password hashes, short-lived access tokens and refresh tokens (rotated
//! on use), revocation, and the role and team every request is authorised by.

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use careloop_wire::Tokens;

use crate::error::{Result, ServerError};
use crate::storage::{Storage, Token, TokenKind, User};

/// The roles a user can have on the server (the workstation's roles).
pub const ROLES: &[&str] = &["coordinator", "clinician", "supervisor", "admin", "partner"];

/// Who a request is from, once its token is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user: String,
    pub role: String,
    pub team: String,
    pub workstation: String,
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), PHC string format.
pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < 8 {
        return Err(ServerError::BadRequest(
            "a password needs at least 8 characters".into(),
        ));
    }
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt)
        .map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| ServerError::Internal(format!("salt: {e}")))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| ServerError::Internal(format!("hashing: {e}")))?
        .to_string())
}

/// The largest argon2 memory a stored hash may ask for (64 MiB); a larger one never matches.
const MAX_ARGON2_KIB: u32 = 64 * 1024;

/// Whether `password` matches the argon2 PHC string `phc`, with the argon2 memory kept in
/// `memory` between calls.
fn verify_with_memory(password: &str, phc: &str, memory: &mut Vec<argon2::Block>) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let Ok(params) = argon2::Params::try_from(&hash) else {
        return false;
    };
    if params.m_cost() > MAX_ARGON2_KIB {
        return false;
    }
    let Ok(algorithm) = argon2::Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = hash
        .version
        .and_then(|v| argon2::Version::try_from(v).ok())
        .unwrap_or_default();
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let expected = expected.as_bytes();
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    if argon
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..blocks])
        .is_err()
    {
        return false;
    }
    // Constant time: every byte compared.
    out.iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
        && out.len() == expected.len()
}

fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

/// What is stored for a token: its SHA-256.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// How long tokens live.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub access: Duration,
    pub refresh: Duration,
}

impl Default for Lifetimes {
    fn default() -> Lifetimes {
        Lifetimes {
            access: Duration::minutes(15),
            refresh: Duration::days(30),
        }
    }
}

const BAD_SIGN_IN: &str = "unknown user or wrong password";

/// Longest user name, password and workstation id a sign-in may carry (the names the admin
/// commands accept are at most 64 characters; a password longer than 1 KiB is refused
/// before it is hashed).
pub const MAX_USER_LEN: usize = 64;
pub const MAX_PASSWORD_LEN: usize = 1024;
pub const MAX_WORKSTATION_LEN: usize = 64;

/// Checks the sizes and shapes of a sign-in request before anything is looked up or hashed.
pub fn check_login_fields(user: &str, password: &str, workstation: &str) -> Result<()> {
    if user.is_empty() || user.len() > MAX_USER_LEN {
        return Err(ServerError::BadRequest(format!(
            "user must be 1 to {MAX_USER_LEN} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(ServerError::BadRequest(format!(
            "password must be at most {MAX_PASSWORD_LEN} bytes"
        )));
    }
    if workstation.trim().is_empty()
        || workstation.len() > MAX_WORKSTATION_LEN
        || workstation.chars().any(char::is_control)
    {
        return Err(ServerError::BadRequest(format!(
            "workstation must be its id (1 to {MAX_WORKSTATION_LEN} printable characters)"
        )));
    }
    Ok(())
}

/// Password checks run here, on a few threads of their own, never on the request threads:
/// argon2id takes 19 MiB and tens of milliseconds per check, so the number of checks at once
/// is what bounds the server's memory under a sign-in flood. Beyond `queue` waiting checks,
/// a sign-in is answered at once with [`ServerError::Busy`] (429 and `Retry-After`).
pub struct HashPool {
    jobs: std::sync::mpsc::SyncSender<HashJob>,
    /// A hash of a random password: an unknown user's sign-in is checked against it, so that
    /// it takes as long as a known user's.
    dummy: String,
}

struct HashJob {
    password: String,
    phc: String,
    answer: tokio::sync::oneshot::Sender<bool>,
}

impl HashPool {
    /// `threads` checks at once (each holds 19 MiB while it runs), `queue` waiting.
    pub fn start(threads: usize, queue: usize) -> Result<HashPool> {
        let (jobs, receiver) = std::sync::mpsc::sync_channel::<HashJob>(queue);
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        for index in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("careloop-hash-{index}"))
                .spawn(move || {
                    // One block of argon2 memory per thread, reused by every check: the
                    // allocator never sees 19 MiB come and go (which left each thread's
                    // arena holding several of them).
                    let mut memory: Vec<argon2::Block> = Vec::new();
                    loop {
                        let job = {
                            let receiver = receiver
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            receiver.recv()
                        };
                        let Ok(job) = job else {
                            return; // the pool was dropped
                        };
                        let ok = verify_with_memory(&job.password, &job.phc, &mut memory);
                        let _ = job.answer.send(ok);
                    }
                })
                .map_err(|e| ServerError::Internal(format!("starting a hashing thread: {e}")))?;
        }
        let mut random = [0u8; 24];
        getrandom::getrandom(&mut random)
            .map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
        let dummy = hash_password(&hex::encode(random))?;
        Ok(HashPool { jobs, dummy })
    }

    /// Whether `password` matches `phc` (or, for an unknown user, the pool's dummy hash,
    /// which it never matches): the same work either way.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool> {
        let known = phc.is_some();
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = HashJob {
            password,
            phc: phc.unwrap_or_else(|| self.dummy.clone()),
            answer,
        };
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(_)) => {
                return Err(ServerError::Busy { retry_after: 1 })
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                return Err(ServerError::Internal("the hashing threads stopped".into()))
            }
        }
        let ok = answered
            .await
            .map_err(|_| ServerError::Internal("a hashing thread failed".into()))?;
        Ok(ok && known)
    }
}

/// How failed sign-ins are slowed down: per account name (whether or not it exists, so the
/// answers do not tell) and per client address. After `free` failures each further one
/// doubles the wait before the next attempt is looked at (1 s, 2 s, 4 s, … up to
/// `max_delay`); at `lock_at` failures the account or address is locked for `lock`. A
/// successful sign-in clears the account's and the address's count.
#[derive(Clone, Copy, Debug)]
pub struct SignInLimits {
    pub account_free: u32,
    pub account_lock_at: u32,
    pub address_free: u32,
    pub address_lock_at: u32,
    pub max_delay: Duration,
    pub lock: Duration,
}

impl Default for SignInLimits {
    fn default() -> SignInLimits {
        SignInLimits {
            account_free: 3,
            account_lock_at: 10,
            address_free: 20,
            address_lock_at: 100,
            max_delay: Duration::seconds(60),
            lock: Duration::minutes(15),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    not_before: DateTime<Utc>,
}

/// At most this many names and addresses are tracked; beyond it, entries whose wait has
/// passed are forgotten first (a flood of made-up names cannot grow the server's memory).
const MAX_TRACKED: usize = 100_000;

/// The sign-in throttle: in memory (a restart forgets it; a lock lasts minutes anyway).
pub struct Throttle {
    limits: SignInLimits,
    state: std::sync::Mutex<ThrottleState>,
}

#[derive(Default)]
struct ThrottleState {
    accounts: std::collections::HashMap<String, Failures>,
    addresses: std::collections::HashMap<std::net::IpAddr, Failures>,
}

/// What a failed sign-in led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lockout {
    Account,
    Address,
}

fn seconds_until(then: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let millis = (then - now).num_milliseconds().max(0) as u64;
    millis.div_ceil(1000).max(1)
}

fn record_failure<K: std::hash::Hash + Eq + Clone>(
    map: &mut std::collections::HashMap<K, Failures>,
    key: &K,
    free: u32,
    lock_at: u32,
    limits: &SignInLimits,
    now: DateTime<Utc>,
) -> bool {
    if map.len() >= MAX_TRACKED && !map.contains_key(key) {
        map.retain(|_, f| f.not_before > now);
        if map.len() >= MAX_TRACKED {
            return false;
        }
    }
    let entry = map.entry(key.clone()).or_insert(Failures {
        count: 0,
        not_before: now,
    });
    entry.count = entry.count.saturating_add(1);
    let (wait, locked) = if entry.count >= lock_at {
        (limits.lock, entry.count == lock_at)
    } else if entry.count > free {
        let doubling = (entry.count - free - 1).min(20);
        (
            Duration::seconds(1i64 << doubling).min(limits.max_delay),
            false,
        )
    } else {
        (Duration::zero(), false)
    };
    entry.not_before = now + wait;
    locked
}

impl Throttle {
    pub fn new(limits: SignInLimits) -> Throttle {
        Throttle {
            limits,
            state: std::sync::Mutex::new(ThrottleState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ThrottleState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Refuses a sign-in for `user` from `address` that comes before its wait has passed.
    pub fn check(
        &self,
        user: &str,
        address: Option<std::net::IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let state = self.state();
        let account = state.accounts.get(user).map(|f| f.not_before);
        let from = address.and_then(|a| state.addresses.get(&a).map(|f| f.not_before));
        match account.into_iter().chain(from).max() {
            Some(not_before) if not_before > now => Err(ServerError::Throttled {
                retry_after: seconds_until(not_before, now),
            }),
            _ => Ok(()),
        }
    }

    /// Counts a failed sign-in; returns what it locked.
    pub fn failed(
        &self,
        user: &str,
        address: Option<std::net::IpAddr>,
        now: DateTime<Utc>,
    ) -> Vec<Lockout> {
        let limits = self.limits;
        let mut state = self.state();
        let mut locked = Vec::new();
        if record_failure(
            &mut state.accounts,
            &user.to_owned(),
            limits.account_free,
            limits.account_lock_at,
            &limits,
            now,
        ) {
            locked.push(Lockout::Account);
        }
        if let Some(address) = address {
            if record_failure(
                &mut state.addresses,
                &address,
                limits.address_free,
                limits.address_lock_at,
                &limits,
                now,
            ) {
                locked.push(Lockout::Address);
            }
        }
        locked
    }

    /// A successful sign-in clears the account's and the address's failures.
    pub fn succeeded(&self, user: &str, address: Option<std::net::IpAddr>) {
        let mut state = self.state();
        state.accounts.remove(user);
        if let Some(address) = address {
            state.addresses.remove(&address);
        }
    }
}

pub use crate::storage::SecurityEvent;

/// Issues tokens to a user whose password was checked (see [`HashPool`]); refused with the
/// same message as a wrong password when the account is disabled. Tokens of the user that
/// have expired are pruned.
pub fn issue_after_password(
    storage: &dyn Storage,
    user: &User,
    workstation: &str,
    now: DateTime<Utc>,
    lifetimes: Lifetimes,
) -> Result<Tokens> {
    if user.disabled {
        return Err(ServerError::Unauthorized(BAD_SIGN_IN.into()));
    }
    storage.prune_tokens(&user.name, now)?;
    let family = random_token()?;
    issue(storage, user, workstation, &family, None, now, lifetimes)
}

/// The answer to a failed password check.
pub fn bad_sign_in() -> ServerError {
    ServerError::Unauthorized(BAD_SIGN_IN.into())
}

/// How long after a rotation the same refresh token may be presented again as a retry.
pub const RETRY_GRACE: Duration = Duration::seconds(60);

/// Trades a refresh token for a new pair; the old refresh token is marked rotated.
///
/// Reuse detection: a rotated refresh token presented again means two parties may hold
/// tokens of this sign-in, and the whole family (every token descended from the sign-in)
/// is revoked and the event kept. One exception, the retry: within [`RETRY_GRACE`] of the
/// rotation, while the pair it gave has not been used at all (neither its access token nor
/// its refresh token), the client most likely never received that pair (a lost answer, a
/// workstation killed mid-refresh). That pair is then superseded and a new one issued; a
/// superseded token presented later is reuse like any other.
pub fn refresh(
    storage: &dyn Storage,
    refresh_token: &str,
    now: DateTime<Utc>,
    lifetimes: Lifetimes,
) -> Result<Tokens> {
    let digest_of = digest(refresh_token);
    let stored = storage
        .token(&digest_of)?
        .filter(|t| t.kind == TokenKind::Refresh)
        .ok_or_else(|| ServerError::Unauthorized("unknown refresh token: sign in".into()))?;
    if stored.rotated {
        let successors = storage.successors(&digest_of)?;
        let retry = stored.rotated_at.is_some_and(|at| now - at < RETRY_GRACE)
            && !successors.is_empty()
            && successors.iter().all(|t| !t.used && !t.rotated);
        if !retry {
            let revoked = storage.revoke_family(&stored.family)?;
            tracing::warn!(
                target: "careloop_server::auth",
                revoked,
                "a rotated refresh token was used again: its sign-in's tokens are revoked"
            );
            storage.record_security_event(&SecurityEvent {
                at: now,
                kind: "refresh_reused".into(),
                user: stored.user.clone(),
                address: None,
                detail: format!(
                    "a rotated refresh token of workstation {} was used again; {revoked} tokens of that sign-in revoked",
                    stored.workstation
                ),
            })?;
            return Err(ServerError::Unauthorized(
                "this refresh token was already used, so it may have been copied: every token of that sign-in is revoked; sign in again"
                    .into(),
            ));
        }
        for t in successors {
            storage.supersede_token(&t.digest)?;
        }
    } else if stored.revoked {
        return Err(ServerError::Unauthorized(
            "the refresh token was revoked: sign in again".into(),
        ));
    }
    if stored.expires_at <= now {
        return Err(ServerError::Unauthorized(
            "the refresh token expired: sign in again".into(),
        ));
    }
    let user = live_user(storage, &stored.user)?;
    storage.rotate_token(&digest_of, now)?;
    issue(
        storage,
        &user,
        &stored.workstation,
        &stored.family,
        Some(&digest_of),
        now,
        lifetimes,
    )
}

/// Revokes a refresh token (sign-out); an unknown one is not an error.
pub fn logout(storage: &dyn Storage, refresh_token: &str) -> Result<()> {
    storage.revoke_token(&digest(refresh_token))
}

/// The caller of a request bearing `access_token`.
pub fn authenticate(
    storage: &dyn Storage,
    access_token: &str,
    now: DateTime<Utc>,
) -> Result<Caller> {
    let token = live_token(storage, access_token, TokenKind::Access, now)?;
    let user = live_user(storage, &token.user)?;
    if !token.used {
        storage.mark_used(&token.digest)?;
    }
    Ok(Caller {
        user: user.name,
        role: user.role,
        team: user.team,
        workstation: token.workstation,
    })
}

fn live_token(
    storage: &dyn Storage,
    token: &str,
    kind: TokenKind,
    now: DateTime<Utc>,
) -> Result<Token> {
    let what = match kind {
        TokenKind::Access => "access token",
        TokenKind::Refresh => "refresh token",
    };
    let stored = storage
        .token(&digest(token))?
        .filter(|t| t.kind == kind)
        .ok_or_else(|| ServerError::Unauthorized(format!("unknown {what}: sign in")))?;
    if stored.revoked {
        return Err(ServerError::Unauthorized(format!(
            "the {what} was revoked: sign in again"
        )));
    }
    if stored.expires_at <= now {
        return Err(ServerError::Unauthorized(format!(
            "the {what} expired: {}",
            if kind == TokenKind::Access {
                "refresh it"
            } else {
                "sign in again"
            }
        )));
    }
    Ok(stored)
}

fn live_user(storage: &dyn Storage, name: &str) -> Result<User> {
    let user = storage
        .user(name)?
        .ok_or_else(|| ServerError::Unauthorized(format!("user {name} no longer exists")))?;
    if user.disabled {
        return Err(ServerError::Unauthorized(format!(
            "user {name} is disabled"
        )));
    }
    Ok(user)
}

fn issue(
    storage: &dyn Storage,
    user: &User,
    workstation: &str,
    family: &str,
    parent: Option<&str>,
    now: DateTime<Utc>,
    lifetimes: Lifetimes,
) -> Result<Tokens> {
    let access = random_token()?;
    let refresh = random_token()?;
    let access_expires_at = now + lifetimes.access;
    let refresh_expires_at = now + lifetimes.refresh;
    for (token, kind, expires_at) in [
        (&access, TokenKind::Access, access_expires_at),
        (&refresh, TokenKind::Refresh, refresh_expires_at),
    ] {
        storage.insert_token(&Token {
            digest: digest(token),
            kind,
            user: user.name.clone(),
            workstation: workstation.to_owned(),
            expires_at,
            revoked: false,
            family: family.to_owned(),
            parent: parent.map(str::to_owned),
            rotated: false,
            rotated_at: None,
            used: false,
        })?;
    }
    Ok(Tokens {
        access_token: access,
        access_expires_at,
        refresh_token: refresh,
        refresh_expires_at,
        user: user.name.clone(),
        role: user.role.clone(),
        team: user.team.clone(),
    })
}
