//! The panel's only source of chance: a ChaCha8 stream per patient, derived from the panel
//! seed, so that patient `i` is the same whatever the panel size and whatever the others drew.
//!
//! Every draw goes through `u32`/`u64`/`f64` sampling (never `usize`), so the output is the same
//! on 32- and 64-bit targets.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::calendar::{days_after, days_between};

pub(crate) struct Dice {
    rng: ChaCha8Rng,
}

impl Dice {
    /// The stream of patient `index` in the panel of seed `seed`.
    pub fn for_patient(seed: u64, index: u32) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(u64::from(index));
        Dice { rng }
    }

    /// True with probability `p` (0.0 never, 1.0 always).
    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.gen::<f64>() < p
    }

    /// A uniform integer in `low..=high` (`low` when `high < low`).
    pub fn range(&mut self, low: u32, high: u32) -> u32 {
        if high <= low {
            return low;
        }
        self.rng.gen_range(low..=high)
    }

    /// A uniform number in `low..high`.
    pub fn real(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.rng.gen::<f64>()
    }

    /// A roughly normal number (sum of four uniforms) with the given mean and standard
    /// deviation, clamped to `low..=high`.
    pub fn bell(&mut self, mean: f64, sd: f64, low: f64, high: f64) -> f64 {
        let sum: f64 = (0..4).map(|_| self.rng.gen::<f64>()).sum();
        // Four uniforms have mean 2 and variance 1/3.
        let z = (sum - 2.0) * 3f64.sqrt();
        (mean + sd * z).clamp(low, high)
    }

    /// One element of a non-empty table.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        debug_assert!(!items.is_empty(), "pick from an empty table");
        let last = u32::try_from(items.len().saturating_sub(1)).unwrap_or(u32::MAX);
        &items[self.range(0, last) as usize]
    }

    /// One element of a non-empty table of `(item, weight)`, chosen in proportion to weight.
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| *w).sum();
        let mut ticket = self.range(0, total.saturating_sub(1));
        for (item, weight) in items {
            if ticket < *weight {
                return item;
            }
            ticket -= weight;
        }
        &items[items.len() - 1].0
    }

    /// A uniform date in `from..=to` (`to` when `to < from`).
    pub fn date_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = days_between(from, to);
        if span <= 0 {
            return to;
        }
        let offset = self.range(0, u32::try_from(span).unwrap_or(u32::MAX));
        days_after(from, offset)
    }

    /// A random (version 4) UUID drawn from the stream: resource ids never use the clock.
    pub fn uuid(&mut self) -> String {
        let bytes: [u8; 16] = self.rng.gen();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string()
    }

    /// 128 random bits (DICOM UIDs of the `2.25.` form are built from them).
    pub fn bits128(&mut self) -> u128 {
        self.rng.gen()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patients_have_independent_reproducible_streams() {
        let a1 = Dice::for_patient(42, 7).uuid();
        let a2 = Dice::for_patient(42, 7).uuid();
        let b = Dice::for_patient(42, 8).uuid();
        let c = Dice::for_patient(43, 7).uuid();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, c);
        assert_eq!(a1.len(), 36);
        assert_eq!(&a1[14..15], "4", "a version-4 UUID");
    }

    #[test]
    fn weighted_respects_zero_weights() {
        let mut dice = Dice::for_patient(1, 1);
        for _ in 0..200 {
            assert_eq!(*dice.weighted(&[("never", 0), ("always", 5)]), "always");
        }
    }
}
