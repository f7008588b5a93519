//! ISO weeks: `2026-W47` ↔ its Monday.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};

use crate::{Result, ReviewError};

/// An ISO 8601 week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Week {
    monday: NaiveDate,
}

impl Week {
    /// The week that contains `date`.
    pub fn containing(date: NaiveDate) -> Week {
        let back = date.weekday().num_days_from_monday() as i64;
        Week {
            monday: date - Duration::days(back),
        }
    }

    /// Parses `YYYY-Www` (also `YYYY-Ww` and lower-case `w`).
    pub fn parse(text: &str) -> Result<Week> {
        let bad = |why: &str| ReviewError::BadWeek {
            given: text.to_owned(),
            why: why.to_owned(),
        };
        let (year, week) = text
            .trim()
            .split_once(['W', 'w'])
            .ok_or_else(|| bad("no W"))?;
        let year: i32 = year
            .strip_suffix('-')
            .ok_or_else(|| bad("no '-' before the W"))?
            .parse()
            .map_err(|_| bad("the year is not a number"))?;
        let week: u32 = week.parse().map_err(|_| bad("the week is not a number"))?;
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
            .map(|monday| Week { monday })
            .ok_or_else(|| bad(&format!("{year} has no week {week}")))
    }

    pub fn monday(self) -> NaiveDate {
        self.monday
    }

    pub fn sunday(self) -> NaiveDate {
        self.monday + Duration::days(6)
    }

    /// Monday 00:00 UTC.
    pub fn start(self) -> DateTime<Utc> {
        self.monday
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
    }

    /// The next Monday 00:00 UTC: the review sees what happened before it.
    pub fn end(self) -> DateTime<Utc> {
        self.start() + Duration::days(7)
    }

    pub fn previous(self) -> Week {
        Week {
            monday: self.monday - Duration::days(7),
        }
    }
}

impl std::fmt::Display for Week {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let iso = self.monday.iso_week();
        write!(f, "{}-W{:02}", iso.year(), iso.week())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_iso_weeks() {
        let w = Week::parse("2026-W47").unwrap();
        assert_eq!(w.monday(), NaiveDate::from_ymd_opt(2026, 11, 16).unwrap());
        assert_eq!(w.sunday(), NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
        assert_eq!(w.to_string(), "2026-W47");
        // Week 1 of 2026 starts in 2025; 2020 has a week 53.
        assert_eq!(
            Week::parse("2026-W01").unwrap().monday(),
            NaiveDate::from_ymd_opt(2025, 12, 29).unwrap()
        );
        assert_eq!(Week::parse("2020-w53").unwrap().to_string(), "2020-W53");
        assert_eq!(
            Week::containing(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()),
            w
        );
        assert_eq!(w.previous().to_string(), "2026-W46");
    }

    #[test]
    fn bad_weeks_say_why() {
        for (text, why) in [
            ("2026-47", "no W"),
            ("2026W47", "no '-'"),
            ("2026-W54", "2026 has no week 54"),
            ("2026-W", "not a number"),
            ("x-W01", "year is not a number"),
        ] {
            let e = Week::parse(text).unwrap_err().to_string();
            assert!(e.contains(why), "{text}: {e}");
            assert!(e.contains(text), "{text}: {e}");
        }
    }
}
