//! Working hours: deadlines count only the hours the service works (by default Monday to
//! Friday, 08:00 to 18:00 clinic time, clinic time being a fixed offset from UTC). Pure:
//! every function takes the instant it starts from.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};

/// The service's working week.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingCalendar {
    /// Clinic time as an offset from UTC.
    pub offset: FixedOffset,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub days: Vec<Weekday>,
    /// Days the service does not work (bank holidays).
    pub holidays: Vec<NaiveDate>,
}

impl Default for WorkingCalendar {
    fn default() -> WorkingCalendar {
        WorkingCalendar {
            offset: FixedOffset::east_opt(0).expect("UTC is an offset"),
            opens: NaiveTime::from_hms_opt(8, 0, 0).expect("08:00"),
            closes: NaiveTime::from_hms_opt(18, 0, 0).expect("18:00"),
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            holidays: Vec::new(),
        }
    }
}

impl WorkingCalendar {
    /// Whether the service works on this (clinic-time) date.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.days.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    fn at(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        self.offset
            .from_local_datetime(&date.and_time(time))
            .single()
            .expect("a fixed offset maps every local time once")
            .with_timezone(&Utc)
    }

    /// The next working day after `date`.
    fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date.succ_opt().expect("dates this far out do not occur");
        // Bounded: a calendar with no working day at all would loop; `days` is never empty
        // in practice, and a year of holidays still ends.
        for _ in 0..800 {
            if self.is_working_day(day) {
                return day;
            }
            day = day.succ_opt().expect("dates this far out do not occur");
        }
        day
    }

    /// `hours` working hours after `start` (a start outside working hours counts from the
    /// next opening).
    pub fn add_working_hours(&self, start: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
        let mut remaining = Duration::hours(hours as i64);
        let local = start.with_timezone(&self.offset);
        let mut day = local.date_naive();
        let mut from = local.time();
        loop {
            if self.is_working_day(day) && from < self.closes {
                let begin = from.max(self.opens);
                let available = self.closes - begin;
                if remaining <= available {
                    return self.at(day, begin) + remaining;
                }
                remaining -= available;
            }
            day = self.next_working_day(day);
            from = self.opens;
        }
    }

    /// The close of the working day `start` falls on (or of the next working day when it
    /// falls outside working hours): "the same working day".
    pub fn end_of_working_day(&self, start: DateTime<Utc>) -> DateTime<Utc> {
        let local = start.with_timezone(&self.offset);
        let day = local.date_naive();
        if self.is_working_day(day) && local.time() < self.closes {
            self.at(day, self.closes)
        } else {
            self.at(self.next_working_day(day), self.closes)
        }
    }

    /// The close of the `n`th working day after the day of `start` (n = 0: the same working
    /// day).
    pub fn add_working_days(&self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let mut end = self.end_of_working_day(start);
        for _ in 0..n {
            let day = end.with_timezone(&self.offset).date_naive();
            end = self.at(self.next_working_day(day), self.closes);
        }
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn working_hours_skip_nights_and_weekends() {
        let cal = WorkingCalendar::default();
        // Friday 16:00 + 4 working hours: 2 on Friday, 2 on Monday.
        assert_eq!(
            cal.add_working_hours(t("2026-11-20T16:00:00Z"), 4),
            t("2026-11-23T10:00:00Z")
        );
        // Saturday counts from Monday's opening.
        assert_eq!(
            cal.add_working_hours(t("2026-11-21T12:00:00Z"), 2),
            t("2026-11-23T10:00:00Z")
        );
        // Before opening counts from the opening; exactly to the close stays that day.
        assert_eq!(
            cal.add_working_hours(t("2026-11-23T06:00:00Z"), 10),
            t("2026-11-23T18:00:00Z")
        );
    }

    #[test]
    fn same_working_day_and_working_days() {
        let mut cal = WorkingCalendar::default();
        assert_eq!(
            cal.end_of_working_day(t("2026-11-23T09:30:00Z")),
            t("2026-11-23T18:00:00Z")
        );
        // After the close: the next working day's close.
        assert_eq!(
            cal.end_of_working_day(t("2026-11-20T19:00:00Z")),
            t("2026-11-23T18:00:00Z")
        );
        // Two working days from a Thursday: the Monday close.
        assert_eq!(
            cal.add_working_days(t("2026-11-19T10:00:00Z"), 2),
            t("2026-11-23T18:00:00Z")
        );
        // A holiday on the Monday pushes it to Tuesday.
        cal.holidays
            .push(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(
            cal.add_working_days(t("2026-11-19T10:00:00Z"), 2),
            t("2026-11-24T18:00:00Z")
        );
    }

    #[test]
    fn clinic_time_offset_moves_the_day() {
        let cal = WorkingCalendar {
            offset: FixedOffset::west_opt(5 * 3600).unwrap(),
            ..WorkingCalendar::default()
        };
        // 12:00 UTC is 07:00 clinic time: the two hours run 08:00-10:00 clinic time.
        assert_eq!(
            cal.add_working_hours(t("2026-11-23T12:00:00Z"), 2),
            t("2026-11-23T15:00:00Z")
        );
    }
}
