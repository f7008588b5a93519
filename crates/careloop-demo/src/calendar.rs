//! Calendar arithmetic of the panel: windows counted back from the as-of date, ages, and the
//! date-time text written into resources (local clinic time with its UTC offset).
//!
//! The panel's clinic is in the US Eastern time zone; date-times carry `-05:00` or `-04:00`
//! (daylight saving time) so that their calendar date as written is the local date.

use std::fmt::Write as _;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

/// `date` minus `n` calendar months, clamped to the last day of the target month
/// (2020-02-29 minus 12 months is 2019-02-28), as CARE_GAP_RULES.md defines it.
pub(crate) fn months_before(date: NaiveDate, n: u32) -> NaiveDate {
    // chrono clamps to the end of the month, which is the rule's behaviour.
    date.checked_sub_months(Months::new(n))
        .unwrap_or(NaiveDate::MIN)
}

/// `date` plus `n` calendar months (clamped like [`months_before`]).
pub(crate) fn months_after(date: NaiveDate, n: u32) -> NaiveDate {
    date.checked_add_months(Months::new(n))
        .unwrap_or(NaiveDate::MAX)
}

pub(crate) fn days_before(date: NaiveDate, n: u32) -> NaiveDate {
    date.checked_sub_days(Days::new(u64::from(n)))
        .unwrap_or(NaiveDate::MIN)
}

pub(crate) fn days_after(date: NaiveDate, n: u32) -> NaiveDate {
    date.checked_add_days(Days::new(u64::from(n)))
        .unwrap_or(NaiveDate::MAX)
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub(crate) fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// Completed years between `birth` and `on`.
pub(crate) fn completed_years(birth: NaiveDate, on: NaiveDate) -> u32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// A local date and time of day in the clinic's time zone, to the minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Stamp {
    pub date: NaiveDate,
    /// Minutes after local midnight, 0..1440.
    pub minute: u16,
}

impl Stamp {
    pub fn at(date: NaiveDate, hour: u16, minute: u16) -> Self {
        Stamp {
            date,
            minute: (hour * 60 + minute).min(1439),
        }
    }

    /// The same day `minutes` later, never past 23:59 (a stamp never moves to the next day,
    /// so nothing drifts past the as-of date).
    pub fn later_same_day(self, minutes: u16) -> Self {
        Stamp {
            date: self.date,
            minute: self.minute.saturating_add(minutes).min(1439),
        }
    }

    /// Appends `YYYY-MM-DDThh:mm:ss±hh:mm`.
    pub fn push_to(self, out: &mut String) {
        push_date(out, self.date);
        let _ = write!(
            out,
            "T{:02}:{:02}:00{}",
            self.minute / 60,
            self.minute % 60,
            eastern_offset(self.date)
        );
    }
}

/// Appends `YYYY-MM-DD`.
pub(crate) fn push_date(out: &mut String, date: NaiveDate) {
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}",
        date.year(),
        date.month(),
        date.day()
    );
}

/// The US Eastern UTC offset in force on `date`: daylight saving time runs from the second
/// Sunday of March to the first Sunday of November (the rule since 2007; the hour of the
/// switch is ignored).
fn eastern_offset(date: NaiveDate) -> &'static str {
    let year = date.year();
    let starts = nth_sunday(year, 3, 2);
    let ends = nth_sunday(year, 11, 1);
    match (starts, ends) {
        (Some(starts), Some(ends)) if date >= starts && date < ends => "-04:00",
        _ => "-05:00",
    }
}

fn nth_sunday(year: i32, month: u32, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
    }

    #[test]
    fn months_before_clamps_to_month_end() {
        assert_eq!(months_before(date("2020-02-29"), 12), date("2019-02-28"));
        assert_eq!(months_before(date("2026-06-30"), 12), date("2025-06-30"));
        assert_eq!(months_before(date("2026-05-31"), 27), date("2024-02-29"));
    }

    #[test]
    fn completed_years_counts_birthdays() {
        assert_eq!(completed_years(date("1950-07-01"), date("2026-06-30")), 75);
        assert_eq!(completed_years(date("1950-06-30"), date("2026-06-30")), 76);
    }

    #[test]
    fn stamps_carry_the_local_offset() {
        let mut out = String::new();
        Stamp::at(date("2026-06-30"), 9, 5).push_to(&mut out);
        out.push(' ');
        Stamp::at(date("2026-01-15"), 23, 59).push_to(&mut out);
        assert_eq!(out, "2026-06-30T09:05:00-04:00 2026-01-15T23:59:00-05:00");
        assert_eq!(
            Stamp::at(date("2026-01-15"), 23, 0)
                .later_same_day(300)
                .minute,
            1439
        );
    }
}
