//! Sign-in throttling on a workstation: growing delays after failed sign-ins under a name and
//! a temporary lock, so that the passwords of a stolen (but still encrypted) session cannot be
//! guessed at the keyboard. Pure: the time is passed in; the counts live in the encrypted
//! cache ([`careloop_store::Store::sign_in_failures`]), so restarting the app does not reset
//! them.
//!
//! The policy: after the 2nd, 3rd and 4th failure in a row the next attempt waits 2, 4 and
//! 8 seconds; the 5th locks the name for 15 minutes, whatever password comes next. Attempts
//! refused for waiting or the lock are not checked and not counted. Failures are forgotten
//! 15 minutes after the last one, and at the next successful sign-in. Names are counted as
//! typed, known or not, so the answers do not tell an unknown user from a wrong password.

use careloop_store::SignInFailures;
use chrono::{DateTime, Duration, Utc};

use crate::{ApiError, ErrorCode};

/// Failures in a row that lock the name.
pub const MAX_FAILURES: u32 = 5;

/// How long the lock lasts, and how long a failure is remembered.
pub const LOCK_SECONDS: i64 = 15 * 60;

/// Whether an attempt may be checked now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Too soon after the last failure.
    Wait {
        until: DateTime<Utc>,
    },
    /// Locked after [`MAX_FAILURES`] failures.
    Locked {
        until: DateTime<Utc>,
    },
}

/// The failures that still count at `now` (none once 15 minutes passed since the last).
fn current(failures: Option<SignInFailures>, now: DateTime<Utc>) -> Option<SignInFailures> {
    failures.filter(|f| now < f.last_failure_at + Duration::seconds(LOCK_SECONDS))
}

/// The wait after `n` failures in a row (below the lock): none after one, then 2, 4, 8 s.
fn delay(n: u32) -> Duration {
    if n < 2 {
        Duration::zero()
    } else {
        Duration::seconds(1i64 << (n - 1).min(10))
    }
}

/// Whether an attempt under a name with these failures may be checked at `now`.
pub fn gate(failures: Option<SignInFailures>, now: DateTime<Utc>) -> Gate {
    let Some(f) = current(failures, now) else {
        return Gate::Open;
    };
    if f.failures >= MAX_FAILURES {
        return Gate::Locked {
            until: f.last_failure_at + Duration::seconds(LOCK_SECONDS),
        };
    }
    let until = f.last_failure_at + delay(f.failures);
    if now < until {
        Gate::Wait { until }
    } else {
        Gate::Open
    }
}

/// The failures after one more at `now`, and whether this one locks the name.
pub fn after_failure(
    failures: Option<SignInFailures>,
    now: DateTime<Utc>,
) -> (SignInFailures, bool) {
    let n = current(failures, now)
        .map_or(0, |f| f.failures)
        .saturating_add(1);
    (
        SignInFailures {
            failures: n,
            last_failure_at: now,
        },
        n == MAX_FAILURES,
    )
}

/// The answer to an attempt the gate refused (the same for every name).
pub fn refusal(gate: Gate, now: DateTime<Utc>) -> ApiError {
    let left = |until: DateTime<Utc>| {
        let seconds = (until - now).num_seconds().max(1);
        if seconds > 90 {
            let minutes = (seconds + 59) / 60;
            format!("{minutes} minutes")
        } else {
            format!("{seconds} second{}", if seconds == 1 { "" } else { "s" })
        }
    };
    match gate {
        Gate::Locked { until } => ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "too many failed sign-ins: sign-in under this name is locked; try again in {}",
                left(until)
            ),
        ),
        Gate::Wait { until } => ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "too many failed sign-ins: wait {} before trying again",
                left(until)
            ),
        ),
        Gate::Open => ApiError::new(ErrorCode::Forbidden, "unknown user or wrong password"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_782_813_600 + seconds, 0).unwrap()
    }

    #[test]
    fn delays_grow_then_five_failures_lock_for_fifteen_minutes() {
        let mut f = None;
        let mut locked = Vec::new();
        // Failures at 0, 0, 2, 6, 14 s: each one as soon as the gate lets it through.
        for (at, expected_gate_after) in [
            (0, Gate::Open),
            (0, Gate::Wait { until: t(2) }),
            (2, Gate::Wait { until: t(6) }),
            (6, Gate::Wait { until: t(14) }),
            (
                14,
                Gate::Locked {
                    until: t(14 + LOCK_SECONDS),
                },
            ),
        ] {
            assert_eq!(gate(f, t(at)), Gate::Open, "attempt at {at}s is checked");
            let (next, locks) = after_failure(f, t(at));
            locked.push(locks);
            f = Some(next);
            assert_eq!(
                gate(f, t(at)),
                expected_gate_after,
                "after the failure at {at}s"
            );
        }
        assert_eq!(locked, [false, false, false, false, true], "the 5th locks");
        assert!(matches!(
            gate(f, t(14 + LOCK_SECONDS - 1)),
            Gate::Locked { .. }
        ));
        assert_eq!(gate(f, t(14 + LOCK_SECONDS)), Gate::Open, "the lock ends");
        let (after, locks) = after_failure(f, t(14 + LOCK_SECONDS));
        assert_eq!(
            (after.failures, locks),
            (1, false),
            "and the count starts again"
        );
    }

    #[test]
    fn old_failures_are_forgotten_and_refusals_say_how_long() {
        let (f, _) = after_failure(None, t(0));
        let (f, _) = after_failure(Some(f), t(10));
        assert_eq!(f.failures, 2);
        let (f, _) = after_failure(Some(f), t(10 + LOCK_SECONDS));
        assert_eq!(
            f.failures, 1,
            "15 minutes after the last failure it no longer counts"
        );
        let message = refusal(Gate::Locked { until: t(900) }, t(0)).message;
        assert!(message.contains("15 minutes"), "{message}");
        let message = refusal(Gate::Wait { until: t(4) }, t(0)).message;
        assert!(message.contains("4 seconds"), "{message}");
    }
}
