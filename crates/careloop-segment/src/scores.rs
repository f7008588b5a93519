//! Risk scores as decision support, each with its components: the Charlson comorbidity index
//! (categories, weights and hierarchy of `schema/charlson.json`, from CARE_GAP_RULES.md) and the
//! LACE index for 30-day readmission (van Walraven et al., CMAJ 2010).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::codes::System;
use crate::facts::{EncounterFact, PatientFacts};

#[derive(Deserialize)]
struct CharlsonFile {
    categories: Vec<CharlsonCategory>,
    hierarchy: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct CharlsonCategory {
    name: String,
    weight: u32,
    snomed: Vec<String>,
}

/// The embedded table (tested valid: `charlson_weights_are_charlson_1987`); were it not, no
/// category rather than a panic.
fn charlson_table() -> CharlsonFile {
    serde_json::from_str(include_str!("../../../schema/charlson.json")).unwrap_or(CharlsonFile {
        categories: Vec::new(),
        hierarchy: Vec::new(),
    })
}

/// The Charlson comorbidity index at D.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charlson {
    /// The categories counted (after the hierarchy), with their weights.
    pub categories: Vec<(String, u32)>,
    /// Categories removed by the hierarchy (the more severe one counts instead).
    pub superseded: Vec<String>,
    pub count: u32,
    pub weighted: u32,
}

/// The Charlson index of one patient as of D: categories with a Condition active at D.
pub fn charlson(facts: &PatientFacts, d: NaiveDate) -> Charlson {
    let table = charlson_table();
    let mut present: BTreeSet<&str> = BTreeSet::new();
    for condition in facts.conditions.iter().filter(|c| c.active_at(d)) {
        for category in &table.categories {
            let hit = condition.codes.iter().any(|c| {
                c.system == System::Snomed && category.snomed.iter().any(|s| s == c.code.as_str())
            });
            if hit {
                present.insert(category.name.as_str());
            }
        }
    }
    let mut superseded = Vec::new();
    for (stronger, weaker) in &table.hierarchy {
        if present.contains(stronger.as_str()) && present.remove(weaker.as_str()) {
            superseded.push(weaker.clone());
        }
    }
    let categories: Vec<(String, u32)> = table
        .categories
        .iter()
        .filter(|c| present.contains(c.name.as_str()))
        .map(|c| (c.name.clone(), c.weight))
        .collect();
    Charlson {
        count: categories.len() as u32,
        weighted: categories.iter().map(|c| c.1).sum(),
        categories,
        superseded,
    }
}

/// LACE points for the length of stay in days (L).
pub fn lace_length_points(days: i64) -> u32 {
    match days {
        ..=0 => 0,
        1 => 1,
        2 => 2,
        3 => 3,
        4..=6 => 4,
        7..=13 => 5,
        _ => 7,
    }
}

/// LACE points for the acuity of admission (A): an emergent admission scores 3.
pub fn lace_acuity_points(emergent: bool) -> u32 {
    if emergent {
        3
    } else {
        0
    }
}

/// LACE points for the Charlson score (C).
pub fn lace_comorbidity_points(charlson: u32) -> u32 {
    match charlson {
        0..=3 => charlson,
        _ => 5,
    }
}

/// LACE points for emergency visits in the six months before admission (E).
pub fn lace_ed_points(visits: u32) -> u32 {
    visits.min(4)
}

/// The LACE index of the latest inpatient stay that ended on or before D.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lace {
    pub admission_id: String,
    pub admitted: NaiveDate,
    pub discharged: NaiveDate,
    pub length_of_stay_days: i64,
    pub emergent: bool,
    pub charlson: u32,
    pub ed_visits_6m: u32,
    /// (L, A, C, E) points.
    pub points: (u32, u32, u32, u32),
    pub total: u32,
}

/// LACE for the latest stay with class in `inpatient_classes` ended on or before D; None when
/// there is none. An admission is emergent when an emergency encounter started on the
/// admission day or the day before. E counts emergency encounters started in the six months
/// before admission, the one that led to it excluded.
pub fn lace(
    facts: &PatientFacts,
    d: NaiveDate,
    is_inpatient: impl Fn(&str) -> bool,
    is_emergency: impl Fn(&str) -> bool,
) -> Option<Lace> {
    let class_of =
        |e: &EncounterFact, test: &dyn Fn(&str) -> bool| e.class.as_deref().is_some_and(test);
    let stay = facts
        .encounters
        .iter()
        .filter(|e| class_of(e, &is_inpatient))
        .filter_map(|e| Some((e, e.start?, e.end?)))
        .filter(|(_, _, end)| *end <= d)
        .max_by_key(|(_, _, end)| *end)?;
    let (admission, admitted, discharged) = stay;
    let emergencies: Vec<NaiveDate> = facts
        .encounters
        .iter()
        .filter(|e| class_of(e, &is_emergency))
        .filter_map(|e| e.start)
        .collect();
    let day_before = admitted.pred_opt().unwrap_or(admitted);
    let emergent = emergencies
        .iter()
        .any(|s| *s == admitted || *s == day_before);
    let six_months_before = crate::dates::months_before(admitted, 6);
    let ed_visits_6m = emergencies
        .iter()
        .filter(|s| **s >= six_months_before && **s < day_before)
        .count() as u32;
    let length = (discharged - admitted).num_days();
    let charlson_score = charlson(facts, discharged).weighted;
    let points = (
        lace_length_points(length),
        lace_acuity_points(emergent),
        lace_comorbidity_points(charlson_score),
        lace_ed_points(ed_visits_6m),
    );
    Some(Lace {
        admission_id: admission.id.to_string(),
        admitted,
        discharged,
        length_of_stay_days: length,
        emergent,
        charlson: charlson_score,
        ed_visits_6m,
        total: points.0 + points.1 + points.2 + points.3,
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lace_point_tables_match_van_walraven_2010() {
        // Length of stay (days): <1 → 0, 1 → 1, 2 → 2, 3 → 3, 4–6 → 4, 7–13 → 5, ≥14 → 7.
        let l: Vec<u32> = (0..=15).map(lace_length_points).collect();
        assert_eq!(l, [0, 1, 2, 3, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 7, 7]);
        // Acute (emergent) admission: 3.
        assert_eq!(
            (lace_acuity_points(false), lace_acuity_points(true)),
            (0, 3)
        );
        // Charlson comorbidity index: 0–3 as is, ≥4 → 5.
        let c: Vec<u32> = (0..=7).map(lace_comorbidity_points).collect();
        assert_eq!(c, [0, 1, 2, 3, 5, 5, 5, 5]);
        // Emergency visits in the previous six months: 0–3 as is, ≥4 → 4.
        let e: Vec<u32> = (0..=6).map(lace_ed_points).collect();
        assert_eq!(e, [0, 1, 2, 3, 4, 4, 4]);
        // The maximum is 7 + 3 + 5 + 4 = 19.
        assert_eq!(
            lace_length_points(30)
                + lace_acuity_points(true)
                + lace_comorbidity_points(9)
                + lace_ed_points(9),
            19
        );
    }

    #[test]
    fn charlson_weights_are_charlson_1987() {
        let table = charlson_table();
        let weight = |name: &str| {
            table
                .categories
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .weight
        };
        for (name, w) in [
            ("myocardial_infarction", 1),
            ("congestive_heart_failure", 1),
            ("peripheral_vascular_disease", 1),
            ("cerebrovascular_disease", 1),
            ("dementia", 1),
            ("chronic_pulmonary_disease", 1),
            ("rheumatic_disease", 1),
            ("peptic_ulcer_disease", 1),
            ("mild_liver", 1),
            ("diabetes_uncomplicated", 1),
            ("diabetes_complicated", 2),
            ("hemiplegia_paraplegia", 2),
            ("renal_disease", 2),
            ("malignancy", 2),
            ("severe_liver", 3),
            ("metastatic_solid_tumor", 6),
            ("hiv_aids", 6),
        ] {
            assert_eq!(weight(name), w, "{name}");
        }
        assert_eq!(table.categories.len(), 17);
    }
}
