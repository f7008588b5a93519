//! The groups equity is measured over: age band, sex, preferred language, payer, race,
//! ethnicity and digital engagement tier, derived from a person's demographics as of a date.

use chrono::{Datelike, Duration, NaiveDate};

/// The dimensions, in the order the tables list them.
pub const DIMENSIONS: [&str; 7] = [
    "age_band",
    "sex",
    "language",
    "payer",
    "race",
    "ethnicity",
    "digital_tier",
];

/// What is known of a person, as the store holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Demographics {
    pub birth_date: Option<NaiveDate>,
    /// Administrative gender.
    pub sex: Option<String>,
    /// BCP 47 (or a FHIR language name).
    pub language: Option<String>,
    pub payer: Option<String>,
    /// The text of the us-core-race and us-core-ethnicity extensions.
    pub race: Option<String>,
    pub ethnicity: Option<String>,
    /// Dates of digital contact the person made: portal log-ins and messages, check-ins done.
    pub digital_uses: Vec<NaiveDate>,
}

/// A person's group in each of [`DIMENSIONS`], in that order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Groups(pub [String; 7]);

/// Digital uses in the 90 days up to the date that make a person "high" rather than "low".
pub const DIGITAL_HIGH: usize = 6;

impl Demographics {
    /// The groups as of `on`. Unknown values form their own group ("unknown"), so that
    /// missing data is visible rather than dropped.
    pub fn groups(&self, on: NaiveDate) -> Groups {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map_or_else(|| "unknown".to_owned(), str::to_owned)
        };
        let since = on - Duration::days(90);
        let uses = self
            .digital_uses
            .iter()
            .filter(|d| **d > since && **d <= on)
            .count();
        let digital = match uses {
            0 => "none",
            n if n < DIGITAL_HIGH => "low",
            _ => "high",
        };
        Groups([
            age_band(self.birth_date, on).to_owned(),
            text(&self.sex),
            language_group(self.language.as_deref()),
            text(&self.payer),
            text(&self.race),
            text(&self.ethnicity),
            digital.to_owned(),
        ])
    }
}

/// Completed years at `on`, in bands.
pub fn age_band(birth: Option<NaiveDate>, on: NaiveDate) -> &'static str {
    let Some(birth) = birth.filter(|b| *b <= on) else {
        return "unknown";
    };
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    match age {
        ..=17 => "0-17",
        18..=34 => "18-34",
        35..=49 => "35-49",
        50..=64 => "50-64",
        65..=74 => "65-74",
        _ => "75+",
    }
}

/// The primary language subtag, lower case ("es-MX" → "es"); names stay as written.
fn language_group(language: Option<&str>) -> String {
    match language.map(str::trim).filter(|s| !s.is_empty()) {
        None => "unknown".to_owned(),
        Some(code) => {
            let primary = code.split(['-', '_']).next().unwrap_or(code);
            if primary.len() <= 3 && primary.chars().all(|c| c.is_ascii_alphabetic()) {
                primary.to_ascii_lowercase()
            } else {
                code.to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn age_bands_use_completed_years() {
        let on = d(2026, 11, 22);
        assert_eq!(age_band(Some(d(2008, 11, 23)), on), "0-17");
        assert_eq!(age_band(Some(d(2008, 11, 22)), on), "18-34");
        assert_eq!(age_band(Some(d(1961, 11, 22)), on), "65-74");
        assert_eq!(age_band(Some(d(1951, 11, 23)), on), "65-74");
        assert_eq!(age_band(Some(d(1951, 11, 22)), on), "75+");
        assert_eq!(age_band(None, on), "unknown");
        assert_eq!(age_band(Some(d(2027, 1, 1)), on), "unknown");
    }

    #[test]
    fn groups_name_unknowns_and_digital_tiers() {
        let on = d(2026, 11, 22);
        let mut p = Demographics {
            birth_date: Some(d(1950, 1, 1)),
            sex: Some("female".into()),
            language: Some("es-MX".into()),
            payer: None,
            race: Some("White".into()),
            ethnicity: Some(" ".into()),
            digital_uses: vec![d(2026, 8, 24), d(2026, 11, 1)],
        };
        // 2026-08-24 is exactly 90 days before: outside (the window is (on-90, on]).
        assert_eq!(
            p.groups(on).0,
            ["75+", "female", "es", "unknown", "White", "unknown", "low"].map(String::from)
        );
        p.digital_uses = vec![d(2026, 11, 1); DIGITAL_HIGH];
        assert_eq!(p.groups(on).0[6], "high");
        p.digital_uses.clear();
        assert_eq!(p.groups(on).0[6], "none");
        p.language = Some("Spanish".into());
        assert_eq!(p.groups(on).0[2], "Spanish");
    }
}
