//! When and how to reach a person: their documented preference first; otherwise the channel,
//! weekday and hour that answered best for their segment in the log; otherwise mid-week.

use std::collections::BTreeMap;

use chrono::{Datelike, Timelike, Weekday};
use serde::Serialize;

use crate::model::Channel;

/// A documented contact preference.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preference {
    pub channel: Option<Channel>,
    /// E.g. "weekday mornings", as documented.
    pub window: Option<String>,
}

/// One past attempt in the segment: channel, when, and whether the person was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PastAttempt {
    pub channel: Channel,
    pub at: chrono::DateTime<chrono::Utc>,
    pub reached: bool,
}

/// The suggestion, with the reason shown to the coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub channel: Channel,
    /// "Wednesday", or the documented window.
    pub when: String,
    pub reason: String,
}

/// Attempts a channel, weekday or hour needs in the log before its rate is trusted.
pub const MIN_HISTORY: usize = 10;

/// Suggests a channel and time among `allowed` (the segment's channel policy, best first).
pub fn suggest(
    preference: &Preference,
    allowed: &[Channel],
    history: &[PastAttempt],
) -> Option<Suggestion> {
    let first = *allowed.first()?;
    let rate = |items: &[&PastAttempt]| {
        items.iter().filter(|a| a.reached).count() as f64 / items.len() as f64
    };
    // Channel: the documented one when the policy allows it; else the best response rate.
    let (channel, channel_reason) = match preference.channel.filter(|c| allowed.contains(c)) {
        Some(c) => (
            c,
            format!("{c} is the person's documented preferred channel"),
        ),
        None => {
            let mut best: Option<(Channel, f64, usize)> = None;
            for c in allowed {
                let tried: Vec<&PastAttempt> = history.iter().filter(|a| a.channel == *c).collect();
                if tried.len() < MIN_HISTORY {
                    continue;
                }
                let r = rate(&tried);
                if best.is_none_or(|(_, b, _)| r > b) {
                    best = Some((*c, r, tried.len()));
                }
            }
            match best {
                Some((c, r, n)) => (
                    c,
                    format!(
                        "{c} reached {:.0}% of {n} attempts in this segment, the best of its channels",
                        r * 100.0
                    ),
                ),
                None => (
                    first,
                    format!("{first} is the segment's first channel (too little history to compare)"),
                ),
            }
        }
    };
    if let Some(window) = &preference.window {
        return Some(Suggestion {
            channel,
            when: window.clone(),
            reason: format!("{channel_reason}; contact window as documented"),
        });
    }
    // Time: the weekday and hour with the best rate on that channel, else mid-week.
    let on_channel: Vec<&PastAttempt> = history.iter().filter(|a| a.channel == channel).collect();
    let mut by_slot: BTreeMap<(u32, u32), Vec<&PastAttempt>> = BTreeMap::new();
    for a in &on_channel {
        by_slot
            .entry((a.at.weekday().num_days_from_monday(), a.at.hour()))
            .or_default()
            .push(a);
    }
    let best_slot = by_slot
        .iter()
        .filter(|(_, items)| items.len() >= MIN_HISTORY)
        .map(|(slot, items)| (*slot, rate(items), items.len()))
        .fold(
            None,
            |best: Option<((u32, u32), f64, usize)>, x| match best {
                Some(b) if b.1 >= x.1 => Some(b),
                _ => Some(x),
            },
        );
    let (when, time_reason) = match best_slot {
        Some(((day, hour), r, n)) => (
            format!("{} {hour:02}:00", weekday_name(day)),
            format!(
                "{} around {hour:02}:00 reached {:.0}% of {n} attempts",
                weekday_name(day),
                r * 100.0
            ),
        ),
        None => (
            "Wednesday 10:00".to_owned(),
            "mid-week by default: too little history to choose a day".to_owned(),
        ),
    };
    Some(Suggestion {
        channel,
        when,
        reason: format!("{channel_reason}; {time_reason}"),
    })
}

fn weekday_name(day: u32) -> &'static str {
    match Weekday::try_from(day as u8).unwrap_or(Weekday::Wed) {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}
