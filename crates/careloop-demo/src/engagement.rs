//! Engagement signals of one patient: digital check-ins done or missed (by app, SMS or
//! portal) and patient-portal logins and messages, written to `engagement.ndjson`.
//!
//! Check-ins follow the patient's pattern: steady, falling over time, missed in the last two
//! weeks, or missed in the first days after a discharge. A check-in is a calendar date
//! (at most one a day); portal events are RFC 3339 date-times.

use chrono::NaiveDate;

use crate::calendar::{days_after, days_before, days_between, months_after, Stamp};
use crate::chart::{checkin_start, Chart};
use crate::dice::Dice;
use crate::story::{CheckinPattern, Profile, Story};

/// When a signal happened: a calendar date, or a local date-time.
#[derive(Clone, Copy, Debug)]
pub(crate) enum When {
    Day(NaiveDate),
    Moment(Stamp),
}

impl When {
    fn sort_key(self) -> (NaiveDate, u16) {
        match self {
            When::Day(date) => (date, 0),
            When::Moment(stamp) => (stamp.date, stamp.minute),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Signal {
    pub kind: &'static str,
    pub at: When,
    pub channel: Option<&'static str>,
}

/// Draws the engagement signals of a patient, in time order.
pub(crate) fn draw_signals(dice: &mut Dice, profile: &Profile, chart: &Chart) -> Vec<Signal> {
    let mut signals = Vec::new();
    checkins(dice, profile, chart, &mut signals);
    portal(dice, profile, chart, &mut signals);
    signals.sort_by_key(|s| s.at.sort_key());
    signals
}

fn checkins(dice: &mut Dice, profile: &Profile, chart: &Chart, signals: &mut Vec<Signal>) {
    let Some(plan) = profile.checkins else { return };
    let Some(start) = checkin_start(profile, chart, dice) else {
        return;
    };
    let end = profile.last_day;
    let span = days_between(start, end).max(1) as f64;
    let two_weeks_ago = days_before(profile.as_of, 14);
    let after_discharge = profile.story == Story::RecentDischarge;
    let routine_interval = match profile.story {
        Story::CrisisContact => 3,
        _ if dice.chance(0.3) => 3,
        _ => 7,
    };
    let mut day = start;
    let mut number = 0u32;
    while day <= end {
        let progress = days_between(start, day) as f64 / span;
        let done_rate = match plan.pattern {
            CheckinPattern::Steady => 0.9,
            CheckinPattern::Falling => 0.95 - 0.85 * progress,
            CheckinPattern::RecentlyMissing => {
                if day > two_weeks_ago {
                    0.15
                } else {
                    0.9
                }
            }
            CheckinPattern::MissedAfterDischarge => {
                if days_between(start, day) < 7 {
                    0.2
                } else {
                    0.75
                }
            }
        };
        // The exemplar misses its first three check-ins after discharge.
        let forced_miss =
            profile.exemplary && plan.pattern == CheckinPattern::MissedAfterDischarge && number < 3;
        let done = !forced_miss && dice.chance(done_rate);
        signals.push(Signal {
            kind: if done {
                "checkin_done"
            } else {
                "checkin_missed"
            },
            at: When::Day(day),
            channel: Some(plan.channel),
        });
        number += 1;
        let interval = if after_discharge && days_between(start, day) < 14 {
            1
        } else {
            routine_interval
        };
        day = days_after(day, interval);
    }
}

fn portal(dice: &mut Dice, profile: &Profile, chart: &Chart, signals: &mut Vec<Signal>) {
    if !profile.portal_user {
        return;
    }
    let adult_from = months_after(profile.person.birth_date, 18 * 12);
    let start = days_before(profile.as_of, 365)
        .max(adult_from)
        .max(chart.registered);
    let end = profile.last_day;
    let falling = profile
        .checkins
        .is_some_and(|c| c.pattern == CheckinPattern::Falling);
    let span = days_between(start, end).max(1) as f64;
    // Some portal users also write to the care team.
    let message_rate = if dice.chance(0.55) { 0.15 } else { 0.0 };
    let mut day = days_after(start, dice.range(0, 20));
    while day <= end {
        let minute = dice.range(7 * 60, 22 * 60 + 59) as u16;
        let login = Stamp { date: day, minute };
        signals.push(Signal {
            kind: "portal_login",
            at: When::Moment(login),
            channel: Some("portal"),
        });
        if dice.chance(message_rate) {
            let message = login.later_same_day(dice.range(2, 20) as u16);
            signals.push(Signal {
                kind: "portal_message",
                at: When::Moment(message),
                channel: Some("portal"),
            });
        }
        let progress = days_between(start, day) as f64 / span;
        let gap = if falling {
            3 + (progress * 45.0) as u32 + dice.range(0, 5)
        } else {
            dice.range(3, 30)
        };
        day = days_after(day, gap);
    }
}
