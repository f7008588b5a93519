//! FHIR R4 `date` and `dateTime` values, checked on the way in: a date the segmentation cannot
//! read would silently drop a person out of a care-gap segment.
//!
//! `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a real day). `dateTime`: a date, or a full date
//! with `Thh:mm:ss`, optional fractions and a zone (`Z` or `±hh:mm`). An `instant` is a
//! `dateTime` with everything, so it passes as one.

use chrono::NaiveDate;

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A FHIR `date`.
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let year = || digits(s.get(0..4)?);
    match b.len() {
        4 => year().is_some(),
        7 => {
            b[4] == b'-'
                && year().is_some()
                && s.get(5..7)
                    .and_then(digits)
                    .is_some_and(|m| (1..=12).contains(&m))
        }
        10 => {
            b[4] == b'-'
                && b[7] == b'-'
                && year().is_some()
                && match (
                    s.get(5..7).and_then(digits),
                    s.get(8..10).and_then(digits),
                    year(),
                ) {
                    (Some(m), Some(d), Some(y)) => {
                        NaiveDate::from_ymd_opt(y as i32, m, d).is_some()
                    }
                    _ => false,
                }
        }
        _ => false,
    }
}

/// A FHIR `dateTime` (or `instant`).
pub(crate) fn is_date_time(s: &str) -> bool {
    let Some((date, time)) = s.split_once('T') else {
        return is_date(s);
    };
    if date.len() != 10 || !is_date(date) {
        return false;
    }
    let (clock, zone) = match time.find(['Z', '+', '-']) {
        Some(i) => time.split_at(i),
        None => (time, ""),
    };
    let zone_ok = match zone.as_bytes() {
        [] => true,
        [b'Z'] => true,
        [b'+' | b'-', ..] => {
            let hm = &zone[1..];
            hm.len() == 5
                && hm.as_bytes()[2] == b':'
                && match (hm.get(0..2).and_then(digits), hm.get(3..5).and_then(digits)) {
                    (Some(h), Some(m)) => (h <= 13 && m <= 59) || (h == 14 && m == 0),
                    _ => false,
                }
        }
        _ => false,
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let fraction_ok = fraction.is_none_or(|f| (1..=9).contains(&f.len()) && digits(f).is_some());
    let b = hms.as_bytes();
    let clock_ok = b.len() == 8
        && b[2] == b':'
        && b[5] == b':'
        && match (
            hms.get(0..2).and_then(digits),
            hms.get(3..5).and_then(digits),
            hms.get(6..8).and_then(digits),
        ) {
            (Some(h), Some(m), Some(s)) => h <= 23 && m <= 59 && s <= 60,
            _ => false,
        };
    zone_ok && fraction_ok && clock_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_fhir() {
        for ok in ["1950", "1950-02", "1950-02-28", "2024-02-29"] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "",
            "not-a-date",
            "1950-13",
            "1950-00",
            "1950-02-30",
            "2023-02-29",
            "1950-2-3",
            "19500203",
            "1950-02-03T10:00:00Z",
            "195a",
            "+950-01-01",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn date_times_follow_fhir() {
        for ok in [
            "2015",
            "2015-02-07",
            "2015-02-07T13:28:17-05:00",
            "2017-01-01T00:00:00.000Z",
            "2017-01-01T00:00:00Z",
            "2011-08-21T14:37:08+14:00",
            "2011-08-21T14:37:08",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "not-a-date",
            "2015-13-01",
            "2015-02-07T25:00:00Z",
            "2015-02-07T13:28Z",
            "2015-02-07T13:28:17+15:00",
            "2015-02-07T13:28:17.Z",
            "2015-02-07 13:28:17Z",
            "2015-02T13:28:17Z",
            "2015-02-07T13:28:17Zjunk",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }
}
