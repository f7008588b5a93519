//! Calendar arithmetic of the care-gap rules: FHIR dates reduced to the calendar date as
//! written, and the windows W12, W27 and W30d.

use chrono::{Datelike, NaiveDate};

/// A FHIR date or dateTime reduced to its calendar date *as written* (the first ten
/// characters, in the value's own offset; no time-zone conversion). "YYYY" is the 1st of
/// January and "YYYY-MM" the 1st of the month. Anything else is no date.
pub fn fhir_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    match bytes.len() {
        4 => NaiveDate::from_ymd_opt(number(0..4)? as i32, 1, 1),
        7 if bytes[4] == b'-' => NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, 1),
        n if n >= 10 && bytes[4] == b'-' && bytes[7] == b'-' => {
            NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)
        }
        _ => None,
    }
}

/// The same day of the month `months` calendar months earlier, clamped to the last day of
/// that month (2020-02-29 minus 12 months is 2019-02-28). Before the first date chrono can
/// represent it is that date ([`NaiveDate::MIN`]): a window reaching that far holds
/// everything. Never panics, whatever `months`.
pub fn months_before(date: NaiveDate, months: u32) -> NaiveDate {
    let total = i64::from(date.year()) * 12 + i64::from(date.month0()) - i64::from(months);
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let (Ok(year), Ok(month0)) = (i32::try_from(year), u32::try_from(month0)) else {
        return NaiveDate::MIN;
    };
    last_day_of_month(year, month0 + 1)
        .and_then(|last_day| NaiveDate::from_ymd_opt(year, month0 + 1, date.day().min(last_day)))
        .unwrap_or(NaiveDate::MIN)
}

/// `n` days before `date`, or [`NaiveDate::MIN`] when that is before any representable date.
pub fn days_before(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_sub_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

/// The last day of a month; `None` outside the dates chrono represents.
fn last_day_of_month(year: i32, month: u32) -> Option<u32> {
    let (next_year, next_month) = if month == 12 {
        (year.checked_add(1)?, 1)
    } else {
        (year, month + 1)
    };
    match NaiveDate::from_ymd_opt(next_year, next_month, 1) {
        Some(next) => next.pred_opt().map(|last| last.day()),
        // December of the last representable year.
        None if month == 12 => Some(31),
        None => None,
    }
}

/// Completed years between `birth` and `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

/// A closed window of calendar dates, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Window {
    /// `[months_before(D, n), D]`.
    pub fn months(d: NaiveDate, n: u32) -> Window {
        Window {
            start: months_before(d, n),
            end: d,
        }
    }

    /// `[D - n days, D]`.
    pub fn days(d: NaiveDate, n: u32) -> Window {
        Window {
            start: days_before(d, n),
            end: d,
        }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn dates_are_taken_as_written() {
        assert_eq!(
            fhir_date("2021-03-31T23:30:00-05:00"),
            Some(d("2021-03-31")),
            "no conversion to UTC"
        );
        assert_eq!(fhir_date("2021"), Some(d("2021-01-01")));
        assert_eq!(fhir_date("2021-07"), Some(d("2021-07-01")));
        assert_eq!(fhir_date("2021-02-30"), None);
        assert_eq!(fhir_date("yesterday"), None);
    }

    #[test]
    fn months_before_clamps_to_the_end_of_the_month() {
        assert_eq!(months_before(d("2020-02-29"), 12), d("2019-02-28"));
        assert_eq!(months_before(d("2021-03-31"), 1), d("2021-02-28"));
        assert_eq!(months_before(d("2021-03-31"), 27), d("2018-12-31"));
        assert_eq!(months_before(d("2021-01-15"), 13), d("2019-12-15"));
        assert_eq!(months_before(d("2024-05-31"), 3), d("2024-02-29"));
    }

    #[test]
    fn windows_beyond_the_calendar_start_at_its_first_day() {
        for d in [d("2026-12-07"), NaiveDate::MIN, NaiveDate::MAX] {
            for n in [0, 1, 2_400, 100_000_000, u32::MAX] {
                let months = Window::months(d, n);
                let days = Window::days(d, n);
                assert!(months.start <= d && days.start <= d, "{d} {n}");
            }
        }
        assert_eq!(
            Window::days(d("2026-12-07"), u32::MAX).start,
            NaiveDate::MIN
        );
        assert_eq!(
            Window::months(d("2026-12-07"), u32::MAX).start,
            NaiveDate::MIN
        );
        assert_eq!(months_before(NaiveDate::MAX, 0), NaiveDate::MAX);
        assert_eq!(days_before(d("2026-12-07"), 6), d("2026-12-01"));
    }

    #[test]
    fn age_counts_completed_years() {
        assert_eq!(age_on(d("1950-06-30"), d("2020-06-29")), 69);
        assert_eq!(age_on(d("1950-06-30"), d("2020-06-30")), 70);
        assert_eq!(age_on(d("2000-02-29"), d("2021-02-28")), 20);
        assert_eq!(age_on(d("2000-02-29"), d("2021-03-01")), 21);
    }

    #[test]
    fn windows_include_both_ends() {
        let w = Window::days(d("2021-03-31"), 30);
        assert!(w.contains(d("2021-03-01")) && w.contains(d("2021-03-31")));
        assert!(!w.contains(d("2021-02-28")) && !w.contains(d("2021-04-01")));
    }
}
