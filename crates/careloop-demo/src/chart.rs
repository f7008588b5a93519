//! The dated record of one patient: visits, conditions, observations, medications,
//! procedures, imaging, reports, immunizations, social-needs screenings and appointments,
//! drawn from the patient's [`Profile`].
//!
//! Every date lies between the start of the history (five years back, or birth) and the
//! patient's last day (the as-of date, or the day of death), so nothing is ever dated after
//! the as-of date. A few events are placed exactly on, or one day outside, a window edge of
//! CARE_GAP_RULES.md so that the segment engine's boundaries are exercised.

use chrono::{Datelike, NaiveDate};

use crate::calendar::{days_after, days_before, months_after, months_before, Stamp};
use crate::dice::Dice;
use crate::story::{Attendance, CheckinPattern, Disease, Profile, SocialNeeds, Story};
use crate::vocabulary::*;

/// Why a visit happened (drives what is recorded at it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Wellness,
    Review,
    Problem,
    TransitionalCare,
    Procedure,
    Emergency,
    Crisis,
    Admission,
}

#[derive(Debug)]
pub(crate) struct Visit {
    pub id: String,
    pub class: Code,
    /// Each code is written as its own CodeableConcept of Encounter.type.
    pub types: Vec<Code>,
    pub purpose: Purpose,
    pub start: Stamp,
    pub end: Stamp,
    pub reason: Option<Code>,
    pub disposition: Option<Code>,
}

#[derive(Debug)]
pub(crate) struct ConditionEntry {
    pub id: String,
    pub code: Code,
    pub disease: Option<Disease>,
    pub onset: Stamp,
    pub abatement: Option<Stamp>,
    pub clinical_status: &'static str,
    pub verification: &'static str,
    /// `problem-list-item` for chronic conditions, `encounter-diagnosis` for acute ones.
    pub category: &'static str,
    pub encounter: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ObservationCategory {
    VitalSigns,
    Laboratory,
    SocialHistory,
    Survey,
    CareSignal,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum ObservationValue {
    /// A decimal quantity in tenths, with its UCUM unit.
    Quantity {
        tenths: i64,
        unit: &'static str,
    },
    Integer(i64),
    Concept(Code),
    Boolean(bool),
    BloodPressure {
        systolic: i64,
        diastolic: i64,
    },
}

#[derive(Debug)]
pub(crate) struct ObservationEntry {
    pub id: String,
    pub code: Code,
    pub category: ObservationCategory,
    pub effective: Stamp,
    pub value: ObservationValue,
    pub encounter: Option<String>,
}

#[derive(Debug)]
pub(crate) struct MedicationEntry {
    pub id: String,
    pub medication: Code,
    pub status: &'static str,
    pub authored: Stamp,
    pub at_discharge: bool,
    pub reason: Option<Code>,
    pub encounter: Option<String>,
}

#[derive(Debug)]
pub(crate) struct ProcedureEntry {
    pub id: String,
    /// Codings of Procedure.code (one CodeableConcept).
    pub codes: Vec<Code>,
    pub status: &'static str,
    pub status_reason: Option<&'static str>,
    pub performed: Stamp,
    pub body_site: Option<Code>,
    pub encounter: Option<String>,
}

#[derive(Debug)]
pub(crate) struct ImagingEntry {
    pub id: String,
    pub started: Stamp,
    pub modality: Code,
    pub procedure: Option<Code>,
    pub body_site: Code,
    pub instances: u32,
    pub study_uid: u128,
    pub series_uid: u128,
    pub instance_uid: u128,
    pub encounter: Option<String>,
}

#[derive(Debug)]
pub(crate) struct ReportEntry {
    pub id: String,
    pub code: Code,
    /// `LAB` or `RAD` (v2-0074).
    pub service: (&'static str, &'static str),
    pub effective: Stamp,
    pub results: Vec<String>,
    pub conclusion: Option<&'static str>,
    pub encounter: Option<String>,
}

#[derive(Debug)]
pub(crate) struct ImmunizationEntry {
    pub id: String,
    pub vaccine: Code,
    pub given: Stamp,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Answer {
    Coding(Code),
    Integer(i64),
}

#[derive(Debug)]
pub(crate) struct ScreeningEntry {
    pub id: String,
    pub authored: Stamp,
    pub items: Vec<(Question, Answer)>,
    pub encounter: Option<String>,
}

#[derive(Debug)]
pub(crate) struct AppointmentEntry {
    pub id: String,
    pub status: &'static str,
    pub service: Code,
    pub appointment_type: Code,
    pub description: &'static str,
    pub start: Stamp,
    pub end: Stamp,
    pub created: NaiveDate,
}

/// The dated record of one patient.
#[derive(Debug, Default)]
pub(crate) struct Chart {
    pub visits: Vec<Visit>,
    pub conditions: Vec<ConditionEntry>,
    pub observations: Vec<ObservationEntry>,
    pub medications: Vec<MedicationEntry>,
    pub procedures: Vec<ProcedureEntry>,
    pub imaging: Vec<ImagingEntry>,
    pub reports: Vec<ReportEntry>,
    pub immunizations: Vec<ImmunizationEntry>,
    pub screenings: Vec<ScreeningEntry>,
    pub appointments: Vec<AppointmentEntry>,
    /// The latest inpatient discharge, if any (check-ins start the day after it).
    pub last_discharge: Option<NaiveDate>,
    /// When the record was first opened (coverage start, registration).
    pub registered: NaiveDate,
    /// One Coverage id per payer of the person.
    pub coverage_ids: Vec<String>,
}

impl Chart {
    /// The latest moment anything was recorded (for Patient.meta.lastUpdated).
    pub fn latest_activity(&self) -> Option<Stamp> {
        self.visits.iter().map(|v| v.end).max()
    }
}

/// One medication a disease is treated with: with probability `p`, one of `options`.
struct Treatment {
    options: &'static [Code],
    p: f64,
}

fn treatments(disease: Disease) -> &'static [Treatment] {
    match disease {
        Disease::Hypertension => &[
            Treatment {
                options: &[LISINOPRIL],
                p: 0.55,
            },
            Treatment {
                options: &[AMLODIPINE],
                p: 0.4,
            },
            Treatment {
                options: &[HYDROCHLOROTHIAZIDE],
                p: 0.3,
            },
            Treatment {
                options: &[LOSARTAN],
                p: 0.2,
            },
        ],
        Disease::Hyperlipidemia => &[Treatment {
            options: &[SIMVASTATIN, ATORVASTATIN],
            p: 0.85,
        }],
        Disease::Type2Diabetes => &[
            Treatment {
                options: &[METFORMIN],
                p: 0.9,
            },
            Treatment {
                options: &[INSULIN_70_30],
                p: 0.2,
            },
        ],
        Disease::Type1Diabetes => &[Treatment {
            options: &[INSULIN_70_30],
            p: 1.0,
        }],
        Disease::Copd => &[
            Treatment {
                options: &[ALBUTEROL],
                p: 0.9,
            },
            Treatment {
                options: &[FLUTICASONE_SALMETEROL],
                p: 0.6,
            },
        ],
        Disease::Asthma => &[
            Treatment {
                options: &[ALBUTEROL],
                p: 0.9,
            },
            Treatment {
                options: &[FLUTICASONE],
                p: 0.5,
            },
        ],
        Disease::HeartFailure => &[
            Treatment {
                options: &[FUROSEMIDE],
                p: 0.9,
            },
            Treatment {
                options: &[CARVEDILOL],
                p: 0.7,
            },
            Treatment {
                options: &[LISINOPRIL],
                p: 0.5,
            },
        ],
        Disease::CoronaryArteriosclerosis => &[
            Treatment {
                options: &[ASPIRIN],
                p: 0.8,
            },
            Treatment {
                options: &[METOPROLOL],
                p: 0.5,
            },
            Treatment {
                options: &[CLOPIDOGREL],
                p: 0.25,
            },
            Treatment {
                options: &[NITROGLYCERIN],
                p: 0.35,
            },
            Treatment {
                options: &[ATORVASTATIN],
                p: 0.5,
            },
        ],
        Disease::AtrialFibrillation => &[
            Treatment {
                options: &[APIXABAN, APIXABAN, WARFARIN],
                p: 0.85,
            },
            Treatment {
                options: &[DIGOXIN],
                p: 0.15,
            },
            Treatment {
                options: &[METOPROLOL],
                p: 0.4,
            },
        ],
        Disease::Ckd => &[Treatment {
            options: &[FERROUS_SULFATE],
            p: 0.2,
        }],
        Disease::Depression => &[Treatment {
            options: &[SERTRALINE, FLUOXETINE],
            p: 0.75,
        }],
        Disease::Anxiety => &[Treatment {
            options: &[SERTRALINE],
            p: 0.35,
        }],
        Disease::Bipolar | Disease::Schizophrenia => &[Treatment {
            options: &[QUETIAPINE],
            p: 0.8,
        }],
        Disease::Dementia => &[
            Treatment {
                options: &[DONEPEZIL],
                p: 0.7,
            },
            Treatment {
                options: &[MEMANTINE],
                p: 0.3,
            },
        ],
        Disease::Osteoarthritis => &[
            Treatment {
                options: &[ACETAMINOPHEN],
                p: 0.6,
            },
            Treatment {
                options: &[NAPROXEN],
                p: 0.25,
            },
        ],
        Disease::ChronicPain => &[
            Treatment {
                options: &[ACETAMINOPHEN],
                p: 0.5,
            },
            Treatment {
                options: &[GABAPENTIN],
                p: 0.35,
            },
        ],
        Disease::Osteoporosis => &[Treatment {
            options: &[ALENDRONATE],
            p: 0.6,
        }],
        Disease::Hypothyroidism => &[Treatment {
            options: &[LEVOTHYROXINE],
            p: 0.95,
        }],
        Disease::RheumatoidArthritis => &[Treatment {
            options: &[NAPROXEN],
            p: 0.5,
        }],
        Disease::PriorMyocardialInfarction => &[
            Treatment {
                options: &[ASPIRIN],
                p: 0.9,
            },
            Treatment {
                options: &[METOPROLOL],
                p: 0.6,
            },
            Treatment {
                options: &[ATORVASTATIN],
                p: 0.6,
            },
        ],
        Disease::Stroke => &[
            Treatment {
                options: &[ASPIRIN],
                p: 0.6,
            },
            Treatment {
                options: &[CLOPIDOGREL],
                p: 0.4,
            },
            Treatment {
                options: &[ATORVASTATIN],
                p: 0.5,
            },
        ],
        Disease::Adhd => &[Treatment {
            options: &[METHYLPHENIDATE],
            p: 0.5,
        }],
        Disease::Prediabetes
        | Disease::Obesity
        | Disease::AlcoholUse
        | Disease::BreastCancer
        | Disease::ColonCancer
        | Disease::LungCancer
        | Disease::ProstateNeoplasm => &[],
    }
}

/// Body measures of the person, drawn once so that visits agree with each other.
struct Body {
    weight_tenths_kg: i64,
    height_tenths_cm: i64,
}

/// How a mammogram is documented (the rules accept each of them as evidence).
#[derive(Clone, Copy)]
enum MammogramRecord {
    /// Procedure (SNOMED) + ImagingStudy (MG) + DiagnosticReport (LOINC 24606-6).
    Complete,
    /// Procedure coded with SNOMED and CPT.
    ProcedureSnomedAndCpt,
    /// Procedure coded with CPT only.
    ProcedureCptOnly,
    /// ImagingStudy with a series of modality MG, no procedure code.
    ImagingOnly,
    /// An outside radiology report only (no encounter here).
    ReportOnly,
}

struct ChartBuilder<'a> {
    dice: &'a mut Dice,
    profile: &'a Profile,
    chart: Chart,
    as_of: NaiveDate,
    last_day: NaiveDate,
    /// First day of the 12-month window, months_before(as_of, 12).
    w12: NaiveDate,
    /// First day of the 27-month window.
    w27: NaiveDate,
    /// The earliest date of recorded history.
    history_start: NaiveDate,
    /// The latest date a clinic encounter may have (the day before the 12-month window for
    /// lapsed patients, so that they stay lapsed).
    last_encounter_day: NaiveDate,
    body: Body,
}

/// Draws the dated record of a patient.
pub(crate) fn draw_chart(dice: &mut Dice, profile: &Profile) -> Chart {
    let as_of = profile.as_of;
    let birth = profile.person.birth_date;
    let w12 = months_before(as_of, 12);
    let history_start = months_before(as_of, 60).max(birth);
    let last_encounter_day = match profile.attendance {
        Attendance::Lapsed => days_before(w12, 1).min(profile.last_day),
        _ => profile.last_day,
    };
    let body = draw_body(dice, profile);
    let mut builder = ChartBuilder {
        dice,
        profile,
        chart: Chart {
            registered: history_start,
            ..Chart::default()
        },
        as_of,
        last_day: profile.last_day,
        w12,
        w27: months_before(as_of, 27),
        history_start,
        last_encounter_day,
        body,
    };
    builder.registration();
    if profile.attendance != Attendance::NeverSeen {
        builder.chronic_conditions();
        builder.routine_visits();
        builder.emergency_visits();
        builder.inpatient_stays();
        builder.screening_procedures();
        builder
            .chart
            .visits
            .sort_by(|a, b| a.start.cmp(&b.start).then(a.id.cmp(&b.id)));
        builder.problems();
        builder.vitals();
        builder.laboratory();
        builder.medications();
        builder.care_signals();
        builder.screenings();
        builder.appointments();
    }
    builder.immunizations();
    builder.chart
}

fn draw_body(dice: &mut Dice, profile: &Profile) -> Body {
    let age = profile.age();
    let female = profile.person.sex == crate::demographics::Sex::Female;
    let obese = profile.has(Disease::Obesity);
    let (weight, height) = if age < 18 {
        let height = (52.0 + 6.2 * f64::from(age)).min(172.0) + dice.bell(0.0, 5.0, -12.0, 12.0);
        let weight = if age < 13 {
            3.6 + 3.1 * f64::from(age)
        } else {
            40.0 + 5.0 * f64::from(age - 12)
        };
        (
            weight * dice.real(0.85, 1.25) * if obese { 1.3 } else { 1.0 },
            height,
        )
    } else if female {
        (
            dice.bell(70.0, 12.0, 42.0, 130.0) + if obese { 22.0 } else { 0.0 },
            dice.bell(162.0, 7.0, 140.0, 185.0),
        )
    } else {
        (
            dice.bell(84.0, 13.0, 50.0, 150.0) + if obese { 24.0 } else { 0.0 },
            dice.bell(176.0, 7.5, 150.0, 200.0),
        )
    };
    Body {
        weight_tenths_kg: (weight * 10.0).round() as i64,
        height_tenths_cm: (height * 10.0).round() as i64,
    }
}

impl ChartBuilder<'_> {
    fn id(&mut self) -> String {
        self.dice.uuid()
    }

    /// A random date in `from..=to` clipped to the recorded history; None when empty.
    fn date_in(&mut self, from: NaiveDate, to: NaiveDate) -> Option<NaiveDate> {
        let from = from.max(self.history_start);
        let to = to.min(self.last_day);
        (from <= to).then(|| self.dice.date_between(from, to))
    }

    /// A clinic time on `date` (08:00 to 16:30).
    fn clinic_time(&mut self, date: NaiveDate) -> Stamp {
        let minute = self.dice.range(8 * 4, 16 * 4 + 2) as u16 * 15;
        Stamp { date, minute }
    }

    fn registration(&mut self) {
        // Registered at the start of the recorded history, or a little later.
        let registered = self
            .dice
            .date_between(self.history_start, days_after(self.history_start, 60));
        self.chart.registered = registered.min(self.last_day);
        for _ in &self.profile.person.payers {
            let id = self.id();
            self.chart.coverage_ids.push(id);
        }
    }

    // ---- Conditions ------------------------------------------------------------------

    fn chronic_conditions(&mut self) {
        let profile = self.profile;
        for &disease in &profile.diseases {
            let onset = self.onset_of(disease);
            let code = self.code_of(disease);
            let mut entry = ConditionEntry {
                id: self.id(),
                code,
                disease: Some(disease),
                onset,
                abatement: None,
                clinical_status: "active",
                verification: "confirmed",
                category: "problem-list-item",
                encounter: None,
            };
            match disease {
                Disease::Type2Diabetes => {
                    // Edge cases of the rule "active at D": a diabetes in remission (no
                    // abatement date) and a refuted diagnosis are not active diabetes.
                    let roll = self.dice.real(0.0, 1.0);
                    if roll < 0.02 {
                        entry.clinical_status = "remission";
                    } else if roll < 0.03 {
                        entry.verification = "refuted";
                    } else if self.dice.chance(0.25) {
                        let complication = *self.dice.pick(&DIABETIC_COMPLICATIONS);
                        let later = self.later_than(onset.date, 12, 96);
                        self.push_condition(complication, None, later);
                    }
                }
                Disease::PriorMyocardialInfarction => {
                    let resolved = days_after(onset.date, self.dice.range(21, 42));
                    if resolved < self.last_day {
                        entry.abatement = Some(Stamp::at(resolved, 12, 0));
                        entry.clinical_status = "resolved";
                        self.push_condition(HISTORY_OF_MI, None, Stamp::at(resolved, 12, 0));
                    }
                }
                Disease::BreastCancer | Disease::ColonCancer | Disease::LungCancer
                    if self.dice.chance(0.55) =>
                {
                    self.abate(&mut entry, 12, 36, "resolved");
                }
                Disease::Depression | Disease::Anxiety
                    if profile.story != Story::CrisisContact && self.dice.chance(0.2) =>
                {
                    self.abate(&mut entry, 6, 24, "resolved");
                }
                Disease::AlcoholUse if self.dice.chance(0.3) => {
                    entry.clinical_status = "remission";
                }
                _ => {}
            }
            self.chart.conditions.push(entry);
        }
    }

    /// Sets an abatement `min..max` months after onset, when that is before the last day.
    fn abate(
        &mut self,
        entry: &mut ConditionEntry,
        min_months: u32,
        max_months: u32,
        status: &'static str,
    ) {
        let months = self.dice.range(min_months, max_months);
        let date = days_after(
            months_after(entry.onset.date, months),
            self.dice.range(0, 27),
        );
        if date < self.last_day {
            entry.abatement = Some(Stamp::at(date, 12, 0));
            entry.clinical_status = status;
        }
    }

    fn push_condition(&mut self, code: Code, disease: Option<Disease>, onset: Stamp) {
        let id = self.id();
        self.chart.conditions.push(ConditionEntry {
            id,
            code,
            disease,
            onset,
            abatement: None,
            clinical_status: "active",
            verification: "confirmed",
            category: "problem-list-item",
            encounter: None,
        });
    }

    /// A date `min..max` months after `date`, but no later than two weeks before the last day.
    fn later_than(&mut self, date: NaiveDate, min_months: u32, max_months: u32) -> Stamp {
        let latest = days_before(self.last_day, 14).max(date);
        let candidate = months_after(date, self.dice.range(min_months, max_months));
        Stamp::at(candidate.min(latest), 12, 0)
    }

    fn onset_of(&mut self, disease: Disease) -> Stamp {
        let profile = self.profile;
        let birth = profile.person.birth_date;
        let age = profile.age();
        let span = age
            .saturating_sub(disease.earliest_onset_age())
            .clamp(1, 25);
        let years_ago = self.dice.range(1, span);
        let date = days_before(
            months_before(self.as_of, 12 * years_ago),
            self.dice.range(0, 330),
        );
        let date = date
            .max(days_after(birth, 30))
            .min(days_before(self.last_day, 14));
        Stamp::at(date.max(birth), 12, 0)
    }

    fn code_of(&mut self, disease: Disease) -> Code {
        let age = self.profile.age();
        match disease {
            Disease::Hypertension => ESSENTIAL_HYPERTENSION,
            Disease::Hyperlipidemia => HYPERLIPIDEMIA,
            Disease::Type2Diabetes => {
                if self.dice.chance(0.08) {
                    DIABETES_UNSPECIFIED
                } else {
                    TYPE_2_DIABETES
                }
            }
            Disease::Type1Diabetes => TYPE_1_DIABETES,
            Disease::Prediabetes => PREDIABETES,
            Disease::Obesity => OBESITY,
            Disease::Copd => *self.dice.weighted(&[(COPD, 75), (EMPHYSEMA, 25)]),
            Disease::Asthma => {
                if age < 18 {
                    CHILDHOOD_ASTHMA
                } else {
                    ASTHMA
                }
            }
            Disease::HeartFailure => HEART_FAILURE,
            Disease::CoronaryArteriosclerosis => CORONARY_DISEASE,
            Disease::AtrialFibrillation => ATRIAL_FIBRILLATION,
            Disease::Ckd => {
                let stage = *self
                    .dice
                    .weighted(&[(0usize, 15), (1, 25), (2, 45), (3, 15)]);
                CKD_STAGES[stage]
            }
            Disease::Depression => *self
                .dice
                .weighted(&[(MAJOR_DEPRESSION, 60), (DEPRESSIVE_DISORDER, 40)]),
            Disease::Anxiety => ANXIETY,
            Disease::Bipolar => BIPOLAR,
            Disease::Schizophrenia => SCHIZOPHRENIA,
            Disease::AlcoholUse => ALCOHOL_USE_DISORDER,
            Disease::Dementia => *self.dice.weighted(&[(ALZHEIMERS, 55), (DEMENTIA, 45)]),
            Disease::Osteoarthritis => OSTEOARTHRITIS_KNEE,
            Disease::Osteoporosis => OSTEOPOROSIS,
            Disease::Hypothyroidism => HYPOTHYROIDISM,
            Disease::ChronicPain => CHRONIC_PAIN,
            Disease::RheumatoidArthritis => RHEUMATOID_ARTHRITIS,
            Disease::BreastCancer => BREAST_CANCER,
            Disease::ColonCancer => COLON_CANCER,
            Disease::LungCancer => LUNG_CANCER,
            Disease::ProstateNeoplasm => PROSTATE_NEOPLASM,
            Disease::Stroke => STROKE,
            Disease::PriorMyocardialInfarction => MYOCARDIAL_INFARCTION,
            Disease::Adhd => ADHD,
        }
    }

    /// Chronic conditions active on `date` (candidates for a review visit's reason).
    fn chronic_on(&self, date: NaiveDate) -> Vec<Code> {
        self.chart
            .conditions
            .iter()
            .filter(|c| {
                c.disease
                    .is_some_and(|d| !matches!(d, Disease::Obesity | Disease::Prediabetes))
                    && c.onset.date <= date
                    && c.abatement.is_none_or(|a| a.date > date)
            })
            .map(|c| c.code)
            .collect()
    }

    // ---- Visits -----------------------------------------------------------------------

    fn push_visit(
        &mut self,
        class: Code,
        types: Vec<Code>,
        purpose: Purpose,
        start: Stamp,
        end: Stamp,
    ) -> usize {
        let id = self.id();
        self.chart.visits.push(Visit {
            id,
            class,
            types,
            purpose,
            start,
            end,
            reason: None,
            disposition: None,
        });
        self.chart.visits.len() - 1
    }

    fn ambulatory(&mut self, date: NaiveDate, purpose: Purpose, types: Vec<Code>) -> usize {
        let start = self.clinic_time(date);
        let length = self.dice.range(15, 45) as u16;
        self.push_visit(
            CLASS_AMBULATORY,
            types,
            purpose,
            start,
            start.later_same_day(length),
        )
    }

    fn routine_visits(&mut self) {
        let profile = self.profile;
        // Twelve-month blocks back from the as-of date: block 0 is the 12-month window.
        for block in 0..5u32 {
            let block_start = months_before(self.as_of, 12 * (block + 1));
            let block_end = if block == 0 {
                self.as_of
            } else {
                days_before(months_before(self.as_of, 12 * block), 1)
            };
            let block_start = if block == 0 {
                self.w12
            } else {
                days_after(block_start, 1)
            };
            let count = match profile.attendance {
                Attendance::Frequent if block == 0 => self.dice.range(3, 6),
                Attendance::Frequent if block <= 2 => self.dice.range(1, 3),
                Attendance::Frequent => u32::from(self.dice.chance(0.6)) * self.dice.range(1, 2),
                Attendance::Occasional if block == 0 => 1 + u32::from(self.dice.chance(0.3)),
                Attendance::Occasional => u32::from(self.dice.chance(0.6)),
                Attendance::Lapsed if block == 0 => 0,
                Attendance::Lapsed if block <= 3 => u32::from(self.dice.chance(0.6)),
                _ => 0,
            };
            let to = block_end.min(self.last_encounter_day);
            let mut visits_in_block = Vec::new();
            for _ in 0..count {
                if let Some(date) = self.date_in(block_start, to) {
                    visits_in_block.push(self.ambulatory(
                        date,
                        Purpose::Problem,
                        vec![PROBLEM_VISIT],
                    ));
                }
            }
            if let Some(&first) = visits_in_block.first() {
                if self.dice.chance(self.wellness_rate()) {
                    self.make_wellness(first);
                }
            }
        }
        // A lapsed patient has been seen at least once.
        if profile.attendance == Attendance::Lapsed && self.chart.visits.is_empty() {
            let from = months_before(self.as_of, 48);
            if let Some(date) = self.date_in(from, self.last_encounter_day) {
                let index = self.ambulatory(date, Purpose::Problem, vec![PROBLEM_VISIT]);
                self.make_wellness(index);
            } else if let Some(date) = self.date_in(self.history_start, self.last_day) {
                // Too young to have lapsed: seen once, at any time.
                self.ambulatory(date, Purpose::Problem, vec![PROBLEM_VISIT]);
            }
        }
        // Boundary cases of medicare_awv_due: a wellness visit exactly on the first day of
        // the 12-month window (inside) or the day before (outside).
        if profile.age() >= 65 && profile.attendance != Attendance::Lapsed && self.dice.chance(0.06)
        {
            let date = if self.dice.chance(0.5) {
                self.w12
            } else {
                days_before(self.w12, 1)
            };
            if date <= self.last_day && date >= self.history_start {
                let index = self.ambulatory(date, Purpose::Problem, vec![PROBLEM_VISIT]);
                self.make_wellness(index);
            }
        }
        // Chronic reviews and problem visits.
        let mut index = 0;
        while index < self.chart.visits.len() {
            if self.chart.visits[index].purpose == Purpose::Problem {
                let date = self.chart.visits[index].start.date;
                let chronic = self.chronic_on(date);
                if !chronic.is_empty() && self.dice.chance(0.6) {
                    let reason = *self.dice.pick(&chronic);
                    let visit = &mut self.chart.visits[index];
                    visit.purpose = Purpose::Review;
                    visit.types = vec![FOLLOW_UP_VISIT];
                    visit.reason = Some(reason);
                } else if self.dice.chance(0.3) {
                    self.chart.visits[index].types = vec![SYMPTOM_VISIT];
                }
            }
            index += 1;
        }
    }

    fn wellness_rate(&self) -> f64 {
        match self.profile.age() {
            0..=17 => 0.8,
            18..=64 => 0.45,
            _ => 0.62,
        }
    }

    /// Turns a visit into a wellness visit coded for the person's age.
    fn make_wellness(&mut self, index: usize) {
        let date = self.chart.visits[index].start.date;
        let age = crate::calendar::completed_years(self.profile.person.birth_date, date);
        let snomed_only = self.dice.chance(0.1);
        let types = if age < 18 {
            vec![WELL_CHILD_VISIT, PREVENTIVE_VISIT_CHILD]
        } else if snomed_only {
            vec![CHECK_UP]
        } else if age >= 65 && self.dice.chance(0.55) {
            let had_one = self.chart.visits.iter().any(|v| {
                v.types
                    .iter()
                    .any(|t| *t == ANNUAL_WELLNESS_INITIAL || *t == ANNUAL_WELLNESS_SUBSEQUENT)
            });
            vec![if had_one {
                ANNUAL_WELLNESS_SUBSEQUENT
            } else {
                ANNUAL_WELLNESS_INITIAL
            }]
        } else {
            let cpt = match age {
                18..=39 => PREVENTIVE_VISIT_18_39,
                40..=64 => PREVENTIVE_VISIT_40_64,
                _ => PREVENTIVE_VISIT_65_PLUS,
            };
            vec![CHECK_UP, cpt]
        };
        let visit = &mut self.chart.visits[index];
        visit.purpose = Purpose::Wellness;
        visit.types = types;
        visit.reason = None;
    }

    fn emergency_visits(&mut self) {
        let profile = self.profile;
        // Crisis contacts: behavioural-health emergencies in the last nine months.
        for n in 0..profile.crisis_contacts {
            let (from, to) = if profile.exemplary && n == 0 {
                (days_before(self.as_of, 45), self.as_of)
            } else if profile.exemplary {
                (months_before(self.as_of, 9), days_before(self.as_of, 60))
            } else {
                (months_before(self.as_of, 9), self.as_of)
            };
            if let Some(date) = self.date_in(from, to) {
                let reason = *self.dice.pick(&CRISIS_REASONS);
                self.emergency(date, reason, Purpose::Crisis);
            }
        }
        if profile.attendance == Attendance::Lapsed {
            if self.dice.chance(0.1) {
                self.older_emergency();
            }
            return;
        }
        let roll = self.dice.real(0.0, 1.0);
        let in_window = if roll < 0.02 {
            self.dice.range(2, 4)
        } else if roll < 0.09 {
            1
        } else {
            0
        };
        for _ in 0..in_window {
            if let Some(date) = self.date_in(self.w12, self.last_day) {
                let reason = self.emergency_reason();
                self.emergency(date, reason, Purpose::Emergency);
            }
        }
        // Boundary case of frequent_ed: one visit inside the window and one exactly on its
        // first day or the day before.
        if self.dice.chance(0.01) {
            let edge = if self.dice.chance(0.5) {
                self.w12
            } else {
                days_before(self.w12, 1)
            };
            for date in [Some(edge), self.date_in(self.w12, self.last_day)]
                .into_iter()
                .flatten()
            {
                if date >= self.history_start && date <= self.last_day {
                    let reason = self.emergency_reason();
                    self.emergency(date, reason, Purpose::Emergency);
                }
            }
        }
        if self.dice.chance(0.1) {
            self.older_emergency();
        }
    }

    fn older_emergency(&mut self) {
        let to = days_before(self.w12, 1).min(self.last_encounter_day);
        if let Some(date) = self.date_in(self.history_start, to) {
            let reason = self.emergency_reason();
            self.emergency(date, reason, Purpose::Emergency);
        }
    }

    fn emergency_reason(&mut self) -> Code {
        let profile = self.profile;
        if profile.has(Disease::Copd) && self.dice.chance(0.4) {
            return COPD_EXACERBATION;
        }
        if profile.has(Disease::HeartFailure) && self.dice.chance(0.4) {
            return HEART_FAILURE_EXACERBATION;
        }
        *self.dice.pick(&[
            CHEST_PAIN,
            ABDOMINAL_PAIN,
            ACUTE_ILLNESSES[6].0,
            ACUTE_ILLNESSES[5].0,
            ACUTE_ILLNESSES[7].0,
            PNEUMONIA,
        ])
    }

    /// An emergency department visit of two to four hours, over before midnight.
    fn emergency(&mut self, date: NaiveDate, reason: Code, purpose: Purpose) -> usize {
        let hour = self.dice.range(0, 19) as u16;
        let start = Stamp::at(date, hour, self.dice.range(0, 59) as u16);
        let end = start.later_same_day(self.dice.range(120, 240) as u16);
        let index = self.push_visit(
            CLASS_EMERGENCY,
            vec![EMERGENCY_ROOM_ADMISSION],
            purpose,
            start,
            end,
        );
        self.chart.visits[index].reason = Some(reason);
        index
    }

    fn inpatient_stays(&mut self) {
        let profile = self.profile;
        if profile.story == Story::RecentDischarge {
            let days_ago = if profile.exemplary {
                10
            } else {
                self.dice.range(2, 28)
            };
            let discharge = days_before(self.as_of, days_ago).min(self.last_day);
            let reason = self.admission_reason();
            let home = profile.exemplary || self.dice.chance(0.9);
            self.inpatient(
                discharge,
                reason,
                if home {
                    DISCHARGED_HOME
                } else {
                    DISCHARGED_TO_NURSING_FACILITY
                },
            );
            if profile.exemplary || self.dice.chance(0.55) {
                let follow_up = days_after(discharge, self.dice.range(3, 8));
                if follow_up <= self.last_day {
                    self.ambulatory(
                        follow_up,
                        Purpose::TransitionalCare,
                        vec![FOLLOW_UP_VISIT, TRANSITIONAL_CARE],
                    );
                }
            }
            if profile.prior_transition_with_unplanned_follow_up {
                // An earlier stay followed within weeks by an unplanned emergency visit.
                let earlier = months_before(self.as_of, self.dice.range(4, 10));
                self.inpatient(earlier, reason, DISCHARGED_HOME);
                let bounce = days_after(earlier, self.dice.range(5, 20));
                if bounce <= self.last_day {
                    self.emergency(bounce, reason, Purpose::Emergency);
                }
            }
            return;
        }
        let age = profile.age();
        let burden = profile.diseases.len();
        if profile.attendance == Attendance::Lapsed {
            if age >= 50 && self.dice.chance(0.05) {
                let to = days_before(self.w12, 2).min(self.last_encounter_day);
                if let Some(discharge) = self.date_in(days_after(self.history_start, 14), to) {
                    let reason = self.admission_reason();
                    self.inpatient(discharge, reason, DISCHARGED_HOME);
                }
            }
            return;
        }
        if age >= 50 && burden >= 2 && self.dice.chance(0.10) {
            if let Some(discharge) = self.date_in(self.w12, days_before(self.as_of, 31)) {
                let reason = self.admission_reason();
                self.inpatient(discharge, reason, DISCHARGED_HOME);
            }
        } else if age >= 40 && self.dice.chance(0.05) {
            if let Some(discharge) =
                self.date_in(days_after(self.history_start, 14), days_before(self.w12, 1))
            {
                let reason = self.admission_reason();
                self.inpatient(discharge, reason, DISCHARGED_HOME);
            }
        }
        // Boundary cases of post_discharge_30d: discharged exactly 30 days ago (inside the
        // window) or 31 days ago (outside).
        if age >= 65 && burden >= 1 && self.dice.chance(0.015) {
            let discharge = days_before(self.as_of, if self.dice.chance(0.5) { 30 } else { 31 });
            if discharge <= self.last_day && discharge >= days_after(self.history_start, 14) {
                let reason = self.admission_reason();
                self.inpatient(discharge, reason, DISCHARGED_HOME);
            }
        }
    }

    fn admission_reason(&mut self) -> Code {
        let profile = self.profile;
        if profile.has(Disease::HeartFailure) && (profile.exemplary || self.dice.chance(0.6)) {
            HEART_FAILURE_EXACERBATION
        } else if profile.has(Disease::Copd) && self.dice.chance(0.6) {
            COPD_EXACERBATION
        } else if profile.has(Disease::Osteoporosis) && self.dice.chance(0.5) {
            HIP_FRACTURE
        } else {
            *self
                .dice
                .pick(&[PNEUMONIA, URINARY_TRACT_INFECTION, HIP_FRACTURE, CHEST_PAIN])
        }
    }

    /// An inpatient stay of 1-10 days ending on `discharge`, often admitted through the
    /// emergency department; medications change at discharge.
    fn inpatient(&mut self, discharge: NaiveDate, reason: Code, disposition: Code) {
        let stay = self.dice.range(1, 10);
        let admit = days_before(discharge, stay).max(self.history_start);
        let admit_hour = self.dice.range(0, 19) as u16;
        let admitted = Stamp::at(admit, admit_hour, self.dice.range(0, 59) as u16);
        if self.dice.chance(0.5) && admit_hour >= 4 {
            let ed_start = Stamp::at(admit, admit_hour - 4, self.dice.range(0, 59) as u16);
            let ed = self.push_visit(
                CLASS_EMERGENCY,
                vec![EMERGENCY_ROOM_ADMISSION],
                Purpose::Emergency,
                ed_start,
                admitted,
            );
            self.chart.visits[ed].reason = Some(reason);
        }
        let discharged = Stamp::at(
            discharge,
            self.dice.range(10, 16) as u16,
            self.dice.range(0, 59) as u16,
        );
        let index = self.push_visit(
            CLASS_INPATIENT,
            vec![EMERGENCY_HOSPITAL_ADMISSION],
            Purpose::Admission,
            admitted,
            discharged.max(admitted),
        );
        self.chart.visits[index].reason = Some(reason);
        self.chart.visits[index].disposition = Some(disposition);
        if self.chart.last_discharge.is_none_or(|d| d < discharge) {
            self.chart.last_discharge = Some(discharge);
        }
        if matches!(reason.code, "88805009" | "195951007" | "233604007") && self.dice.chance(0.6) {
            let id = self.id();
            let encounter = Some(self.chart.visits[index].id.clone());
            let uids = (
                self.dice.bits128(),
                self.dice.bits128(),
                self.dice.bits128(),
            );
            self.chart.imaging.push(ImagingEntry {
                id,
                started: admitted.later_same_day(90),
                modality: MODALITY_RADIOGRAPHY,
                procedure: Some(CHEST_XRAY),
                body_site: THORAX,
                instances: 2,
                study_uid: uids.0,
                series_uid: uids.1,
                instance_uid: uids.2,
                encounter,
            });
        }
    }

    // ---- Screening procedures -------------------------------------------------------

    fn screening_procedures(&mut self) {
        let profile = self.profile;
        let age = profile.age();
        let female = profile.person.sex == crate::demographics::Sex::Female;
        if female && (40..=79).contains(&age) {
            self.mammograms();
        }
        if (50..=75).contains(&age) && self.dice.chance(0.25) {
            if let Some(date) = self.date_in(self.history_start, self.last_encounter_day) {
                let visit = self.ambulatory(date, Purpose::Procedure, vec![OUTPATIENT_PROCEDURE]);
                let performed = self.chart.visits[visit].start;
                self.procedure(vec![COLONOSCOPY], performed, Some(visit));
            }
        }
    }

    fn mammograms(&mut self) {
        let latest = self.last_encounter_day;
        let roll = self.dice.real(0.0, 1.0);
        if roll < 0.04 {
            // Boundary case of breast_cancer_screening_gap: exactly on the first day of the
            // 27-month window (evidence) or the day before (a gap).
            let date = if self.dice.chance(0.5) {
                self.w27
            } else {
                days_before(self.w27, 1)
            };
            if date >= self.history_start && date <= latest {
                self.mammogram(date);
            }
        } else if roll < 0.70 {
            if let Some(date) = self.date_in(self.w27, latest) {
                self.mammogram(date);
                let previous = months_before(date, 24);
                if previous >= self.history_start && self.dice.chance(0.5) {
                    self.mammogram(previous);
                }
            }
        } else {
            if self.dice.chance(0.6) {
                if let Some(date) =
                    self.date_in(months_before(self.as_of, 70), days_before(self.w27, 1))
                {
                    self.mammogram(date);
                }
            }
            // A declined mammogram (status not-done) is no evidence.
            if self.dice.chance(0.08) {
                if let Some(date) = self.date_in(self.w27, latest) {
                    let visit =
                        self.ambulatory(date, Purpose::Procedure, vec![OUTPATIENT_PROCEDURE]);
                    let performed = self.chart.visits[visit].start;
                    let index = self.procedure(vec![SCREENING_MAMMOGRAPHY], performed, Some(visit));
                    self.chart.procedures[index].status = "not-done";
                    self.chart.procedures[index].status_reason = Some("Patient declined");
                }
            }
        }
    }

    fn mammogram(&mut self, date: NaiveDate) {
        let record = *self.dice.weighted(&[
            (MammogramRecord::Complete, 45),
            (MammogramRecord::ProcedureSnomedAndCpt, 20),
            (MammogramRecord::ProcedureCptOnly, 15),
            (MammogramRecord::ImagingOnly, 10),
            (MammogramRecord::ReportOnly, 10),
        ]);
        let visit = match record {
            MammogramRecord::ReportOnly => None,
            _ => Some(self.ambulatory(date, Purpose::Procedure, vec![OUTPATIENT_PROCEDURE])),
        };
        let performed = match visit {
            Some(index) => self.chart.visits[index].start,
            None => self.clinic_time(date),
        };
        match record {
            MammogramRecord::Complete => {
                let code = *self.dice.pick(&[MAMMOGRAPHY, SCREENING_MAMMOGRAPHY]);
                self.procedure(vec![code], performed, visit);
                self.mammography_imaging(performed, Some(MAMMOGRAPHY), visit);
                self.mammography_report(performed.later_same_day(120), visit);
            }
            MammogramRecord::ProcedureSnomedAndCpt => {
                self.procedure(
                    vec![SCREENING_MAMMOGRAPHY, SCREENING_MAMMOGRAPHY_CPT],
                    performed,
                    visit,
                );
            }
            MammogramRecord::ProcedureCptOnly => {
                self.procedure(vec![SCREENING_MAMMOGRAPHY_CPT], performed, visit);
            }
            MammogramRecord::ImagingOnly => self.mammography_imaging(performed, None, visit),
            MammogramRecord::ReportOnly => self.mammography_report(performed, None),
        }
    }

    fn procedure(&mut self, codes: Vec<Code>, performed: Stamp, visit: Option<usize>) -> usize {
        let id = self.id();
        let body_site = codes
            .iter()
            .any(|c| c.display.contains("ammograph"))
            .then_some(BREAST_STRUCTURE);
        let encounter = visit.map(|v| self.chart.visits[v].id.clone());
        self.chart.procedures.push(ProcedureEntry {
            id,
            codes,
            status: "completed",
            status_reason: None,
            performed,
            body_site,
            encounter,
        });
        self.chart.procedures.len() - 1
    }

    fn mammography_imaging(
        &mut self,
        started: Stamp,
        procedure: Option<Code>,
        visit: Option<usize>,
    ) {
        let id = self.id();
        let encounter = visit.map(|v| self.chart.visits[v].id.clone());
        let uids = (
            self.dice.bits128(),
            self.dice.bits128(),
            self.dice.bits128(),
        );
        self.chart.imaging.push(ImagingEntry {
            id,
            started,
            modality: MODALITY_MAMMOGRAPHY,
            procedure,
            body_site: BREAST_STRUCTURE,
            instances: 4,
            study_uid: uids.0,
            series_uid: uids.1,
            instance_uid: uids.2,
            encounter,
        });
    }

    fn mammography_report(&mut self, issued: Stamp, visit: Option<usize>) {
        let id = self.id();
        let encounter = visit.map(|v| self.chart.visits[v].id.clone());
        let conclusion = *self.dice.weighted(&[
            ("BI-RADS 1: Negative.", 70),
            ("BI-RADS 2: Benign finding.", 25),
            (
                "BI-RADS 0: Incomplete, additional imaging evaluation needed.",
                5,
            ),
        ]);
        self.chart.reports.push(ReportEntry {
            id,
            code: MAMMOGRAPHY_REPORT,
            service: ("RAD", "Radiology"),
            effective: issued,
            results: Vec::new(),
            conclusion: Some(conclusion),
            encounter,
        });
    }

    // ---- Acute problems -------------------------------------------------------------

    fn problems(&mut self) {
        for index in 0..self.chart.visits.len() {
            let visit = &self.chart.visits[index];
            if visit.purpose != Purpose::Problem || !self.dice.chance(0.6) {
                continue;
            }
            let date = visit.start;
            let encounter = visit.id.clone();
            let (code, medicine) = if self.profile.age() < 10 && self.dice.chance(0.5) {
                (OTITIS_MEDIA, Some(AMOXICILLIN))
            } else {
                *self.dice.pick(&ACUTE_ILLNESSES)
            };
            self.chart.visits[index].reason = Some(code);
            let resolved = days_after(date.date, self.dice.range(7, 21));
            let (abatement, status) = if resolved <= self.last_day {
                (Some(Stamp::at(resolved, 12, 0)), "resolved")
            } else {
                (None, "active")
            };
            let id = self.id();
            self.chart.conditions.push(ConditionEntry {
                id,
                code,
                disease: None,
                onset: date,
                abatement,
                clinical_status: status,
                verification: "confirmed",
                category: "encounter-diagnosis",
                encounter: Some(encounter.clone()),
            });
            if let Some(medication) = medicine {
                let id = self.id();
                self.chart.medications.push(MedicationEntry {
                    id,
                    medication,
                    status: if abatement.is_some() {
                        "completed"
                    } else {
                        "active"
                    },
                    authored: date.later_same_day(20),
                    at_discharge: false,
                    reason: Some(code),
                    encounter: Some(encounter),
                });
            }
        }
    }

    // ---- Observations -----------------------------------------------------------------

    fn observe(
        &mut self,
        code: Code,
        category: ObservationCategory,
        effective: Stamp,
        value: ObservationValue,
        encounter: Option<&str>,
    ) -> String {
        let id = self.id();
        self.chart.observations.push(ObservationEntry {
            id: id.clone(),
            code,
            category,
            effective,
            value,
            encounter: encounter.map(str::to_owned),
        });
        id
    }

    fn vitals(&mut self) {
        let profile = self.profile;
        let vitals_from = months_before(self.as_of, 24);
        let hypertensive = profile.has(Disease::Hypertension);
        for index in 0..self.chart.visits.len() {
            let visit = &self.chart.visits[index];
            let measured = matches!(
                visit.purpose,
                Purpose::Wellness
                    | Purpose::Review
                    | Purpose::Problem
                    | Purpose::TransitionalCare
                    | Purpose::Emergency
            );
            if !measured || visit.start.date < vitals_from {
                continue;
            }
            let (purpose, encounter, at) = (
                visit.purpose,
                visit.id.clone(),
                visit.start.later_same_day(5),
            );
            let age = crate::calendar::completed_years(profile.person.birth_date, at.date);
            let enc = Some(encounter.as_str());
            if age >= 18 {
                let (systolic, diastolic) = if hypertensive {
                    (
                        self.dice.bell(138.0, 14.0, 105.0, 195.0),
                        self.dice.bell(84.0, 9.0, 58.0, 118.0),
                    )
                } else {
                    (
                        self.dice.bell(118.0, 10.0, 92.0, 150.0),
                        self.dice.bell(75.0, 7.0, 52.0, 95.0),
                    )
                };
                let value = ObservationValue::BloodPressure {
                    systolic: systolic.round() as i64,
                    diastolic: diastolic.round() as i64,
                };
                self.observe(
                    BLOOD_PRESSURE_PANEL,
                    ObservationCategory::VitalSigns,
                    at,
                    value,
                    enc,
                );
            }
            if matches!(
                purpose,
                Purpose::Wellness | Purpose::Emergency | Purpose::TransitionalCare
            ) {
                let rate = self
                    .dice
                    .bell(if age < 12 { 95.0 } else { 76.0 }, 10.0, 48.0, 140.0)
                    .round() as i64;
                self.observe(
                    HEART_RATE,
                    ObservationCategory::VitalSigns,
                    at,
                    ObservationValue::Quantity {
                        tenths: rate * 10,
                        unit: "/min",
                    },
                    enc,
                );
            }
            if purpose == Purpose::Wellness {
                let weight = self.body.weight_tenths_kg + self.dice.range(0, 40) as i64 - 20;
                let height = self.body.height_tenths_cm;
                self.observe(
                    BODY_WEIGHT,
                    ObservationCategory::VitalSigns,
                    at,
                    ObservationValue::Quantity {
                        tenths: weight,
                        unit: "kg",
                    },
                    enc,
                );
                if age < 18 || self.dice.chance(0.3) {
                    self.observe(
                        BODY_HEIGHT,
                        ObservationCategory::VitalSigns,
                        at,
                        ObservationValue::Quantity {
                            tenths: height,
                            unit: "cm",
                        },
                        enc,
                    );
                }
                if age >= 2 {
                    // BMI = kg / m^2, in tenths: weight_tenths * 1000 / height_tenths^2 * 10.
                    let bmi = weight * 100_000 / (height * height).max(1);
                    self.observe(
                        BMI,
                        ObservationCategory::VitalSigns,
                        at,
                        ObservationValue::Quantity {
                            tenths: bmi,
                            unit: "kg/m2",
                        },
                        enc,
                    );
                }
                if age >= 13 {
                    self.observe(
                        SMOKING_STATUS,
                        ObservationCategory::SocialHistory,
                        at,
                        ObservationValue::Concept(profile.smoking),
                        enc,
                    );
                }
                if age >= 18 && self.dice.chance(0.3) {
                    self.procedure(
                        vec![DEPRESSION_SCREENING],
                        at.later_same_day(10),
                        Some(index),
                    );
                }
            }
            if purpose == Purpose::Review {
                let reason = self.chart.visits[index].reason;
                let behavioural = reason.is_some_and(|r| {
                    [
                        MAJOR_DEPRESSION,
                        DEPRESSIVE_DISORDER,
                        ANXIETY,
                        BIPOLAR,
                        SCHIZOPHRENIA,
                    ]
                    .contains(&r)
                });
                if behavioural {
                    let score = self.dice.bell(12.0, 5.0, 1.0, 27.0).round() as i64;
                    self.observe(
                        PHQ9_TOTAL,
                        ObservationCategory::Survey,
                        at,
                        ObservationValue::Integer(score),
                        enc,
                    );
                }
                if reason.is_some_and(|r| r == COPD || r == EMPHYSEMA) && self.dice.chance(0.3) {
                    self.procedure(vec![SPIROMETRY], at.later_same_day(15), Some(index));
                }
            }
            if purpose == Purpose::TransitionalCare {
                self.procedure(
                    vec![MEDICATION_RECONCILIATION],
                    at.later_same_day(10),
                    Some(index),
                );
            }
        }
    }

    /// Ambulatory visits (not procedures) in `from..=to`, by index.
    fn clinic_visits_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<usize> {
        self.chart
            .visits
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                v.class == CLASS_AMBULATORY
                    && v.purpose != Purpose::Procedure
                    && v.start.date >= from
                    && v.start.date <= to
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn laboratory(&mut self) {
        let profile = self.profile;
        let diabetic = profile.diseases.iter().any(|d| d.is_diabetes());
        let in_window = self.clinic_visits_between(self.w12, self.as_of);
        let earlier =
            self.clinic_visits_between(months_before(self.as_of, 30), days_before(self.w12, 1));
        if diabetic {
            // Monitored diabetics have an HbA1c in the last 12 months; the others had their
            // last one earlier, or never.
            let monitored = self.dice.chance(0.7);
            if monitored && !in_window.is_empty() {
                for _ in 0..self.dice.range(1, 3) {
                    let visit = *self.dice.pick(&in_window);
                    self.hba1c_at_visit(visit, 7.6, 1.1);
                }
            }
            if !earlier.is_empty() && self.dice.chance(0.6) {
                let visit = *self.dice.pick(&earlier);
                self.hba1c_at_visit(visit, 7.8, 1.2);
            }
            // Boundary cases of diabetes_hba1c_gap: a lab drawn exactly on the first day of
            // the 12-month window (inside) or on the day before (outside).
            if self.dice.chance(0.03) {
                let date = if self.dice.chance(0.5) {
                    self.w12
                } else {
                    days_before(self.w12, 1)
                };
                if date >= self.history_start && date <= self.last_day {
                    let at = Stamp::at(date, 7, self.dice.range(30, 59) as u16);
                    self.hba1c(at, 7.4, 1.0, None);
                }
            }
        } else if !in_window.is_empty() {
            let prediabetic = profile.has(Disease::Prediabetes);
            if self.dice.chance(if prediabetic { 0.4 } else { 0.08 }) {
                let visit = *self.dice.pick(&in_window);
                let (mean, sd) = if prediabetic { (6.0, 0.2) } else { (5.3, 0.2) };
                self.hba1c_at_visit(visit, mean, sd);
            }
        }
        let lipids = profile.has(Disease::Hyperlipidemia)
            || diabetic
            || profile.has(Disease::CoronaryArteriosclerosis);
        if lipids {
            for visits in [&in_window, &earlier] {
                if !visits.is_empty() && self.dice.chance(0.6) {
                    let visit = *self.dice.pick(visits);
                    self.lipid_panel(visit);
                }
            }
        }
        if let Some(stage) = self.ckd_stage() {
            let (low, high) = [(90.0, 115.0), (60.0, 89.0), (30.0, 59.0), (15.0, 29.0)][stage];
            for visits in [&in_window, &earlier] {
                if !visits.is_empty() && self.dice.chance(0.7) {
                    let visit = *self.dice.pick(visits);
                    let at = self.chart.visits[visit].start.later_same_day(10);
                    let encounter = self.chart.visits[visit].id.clone();
                    let value = self.dice.real(low, high).round() as i64;
                    self.observe(
                        EGFR,
                        ObservationCategory::Laboratory,
                        at,
                        ObservationValue::Quantity {
                            tenths: value * 10,
                            unit: "mL/min/{1.73_m2}",
                        },
                        Some(encounter.as_str()),
                    );
                }
            }
        }
    }

    fn ckd_stage(&self) -> Option<usize> {
        self.chart
            .conditions
            .iter()
            .find_map(|c| CKD_STAGES.iter().position(|s| *s == c.code))
    }

    fn hba1c_at_visit(&mut self, visit: usize, mean: f64, sd: f64) {
        let at = self.chart.visits[visit].start.later_same_day(10);
        let encounter = self.chart.visits[visit].id.clone();
        self.hba1c(at, mean, sd, Some(encounter.as_str()));
    }

    /// An HbA1c result, reported through a DiagnosticReport four times in ten.
    fn hba1c(&mut self, at: Stamp, mean: f64, sd: f64, encounter: Option<&str>) {
        let tenths = (self.dice.bell(mean, sd, 4.2, 14.0) * 10.0).round() as i64;
        let value = ObservationValue::Quantity { tenths, unit: "%" };
        let observation =
            self.observe(HBA1C, ObservationCategory::Laboratory, at, value, encounter);
        if self.dice.chance(0.4) {
            let id = self.id();
            self.chart.reports.push(ReportEntry {
                id,
                code: HBA1C,
                service: ("LAB", "Laboratory"),
                effective: at,
                results: vec![observation],
                conclusion: None,
                encounter: encounter.map(str::to_owned),
            });
        }
    }

    fn lipid_panel(&mut self, visit: usize) {
        let at = self.chart.visits[visit].start.later_same_day(10);
        let encounter = self.chart.visits[visit].id.clone();
        let mut results = Vec::with_capacity(4);
        for (code, mean, sd) in [
            (TOTAL_CHOLESTEROL, 195.0, 35.0),
            (TRIGLYCERIDES, 150.0, 55.0),
            (LDL_CHOLESTEROL, 115.0, 30.0),
            (HDL_CHOLESTEROL, 50.0, 12.0),
        ] {
            let value = self.dice.bell(mean, sd, 20.0, 500.0).round() as i64;
            let quantity = ObservationValue::Quantity {
                tenths: value * 10,
                unit: "mg/dL",
            };
            results.push(self.observe(
                code,
                ObservationCategory::Laboratory,
                at,
                quantity,
                Some(encounter.as_str()),
            ));
        }
        let id = self.id();
        self.chart.reports.push(ReportEntry {
            id,
            code: LIPID_PANEL,
            service: ("LAB", "Laboratory"),
            effective: at,
            results,
            conclusion: None,
            encounter: Some(encounter),
        });
    }

    // ---- Medications ----------------------------------------------------------------

    fn medications(&mut self) {
        let profile = self.profile;
        let chronic: Vec<(Disease, Code, NaiveDate)> = self
            .chart
            .conditions
            .iter()
            .filter(|c| {
                // A resolved myocardial infarction still calls for secondary prevention.
                c.verification == "confirmed"
                    && (c.abatement.is_none()
                        || c.disease == Some(Disease::PriorMyocardialInfarction))
            })
            .filter_map(|c| c.disease.map(|d| (d, c.code, c.onset.date)))
            .collect();
        let mut prescribed: Vec<Code> = Vec::new();
        for (disease, reason, onset) in chronic {
            for treatment in treatments(disease) {
                if !self.dice.chance(treatment.p) {
                    continue;
                }
                let medication = *self.dice.pick(treatment.options);
                if prescribed.contains(&medication) {
                    continue;
                }
                prescribed.push(medication);
                let (authored, encounter) = self.renewal_after(onset);
                let stopped = self.dice.chance(0.1);
                self.prescribe(
                    medication,
                    if stopped { "stopped" } else { "active" },
                    authored,
                    reason,
                    encounter,
                );
                if stopped && self.dice.chance(0.6) {
                    // Replaced by a new request for the same medicine (a dose change).
                    let (later, encounter) = self.renewal_after(days_after(authored.date, 1));
                    if later.date > authored.date {
                        self.prescribe(medication, "active", later, reason, encounter);
                    }
                }
            }
        }
        // Medication changes at discharge: new requests authored on the discharge date,
        // and one earlier medicine stopped.
        let discharges: Vec<(usize, NaiveDate)> = self
            .chart
            .visits
            .iter()
            .enumerate()
            .filter(|(_, v)| v.purpose == Purpose::Admission)
            .map(|(i, v)| (i, v.end.date))
            .collect();
        for (visit, discharge) in discharges {
            let recent = self.chart.last_discharge == Some(discharge)
                && profile.story == Story::RecentDischarge;
            if !recent && !self.dice.chance(0.4) {
                continue;
            }
            let reason = self.chart.visits[visit].reason.unwrap_or(PNEUMONIA);
            let options: &[Code] = match reason.code {
                "88805009" => &[FUROSEMIDE, CARVEDILOL, APIXABAN, LISINOPRIL],
                "195951007" => &[
                    PREDNISONE,
                    FLUTICASONE_SALMETEROL,
                    AMOXICILLIN_CLAVULANATE,
                    ALBUTEROL,
                ],
                "359817006" => &[OXYCODONE_ACETAMINOPHEN, ACETAMINOPHEN, ALENDRONATE],
                _ => &[
                    AMOXICILLIN_CLAVULANATE,
                    NITROFURANTOIN,
                    ACETAMINOPHEN,
                    INSULIN_70_30,
                ],
            };
            let count = if profile.exemplary && recent {
                self.dice.range(2, 3)
            } else {
                self.dice.range(1, 3)
            };
            let discharged = self.chart.visits[visit].end;
            let encounter = self.chart.visits[visit].id.clone();
            let mut chosen: Vec<Code> = Vec::new();
            for _ in 0..count {
                let medication = *self.dice.pick(options);
                if chosen.contains(&medication) {
                    continue;
                }
                chosen.push(medication);
                // The same medicine prescribed before is superseded (stopped) by the new order.
                for earlier in &mut self.chart.medications {
                    if earlier.medication == medication
                        && earlier.status == "active"
                        && earlier.authored.date < discharge
                    {
                        earlier.status = "stopped";
                    }
                }
                let id = self.id();
                self.chart.medications.push(MedicationEntry {
                    id,
                    medication,
                    status: "active",
                    authored: discharged,
                    at_discharge: true,
                    reason: Some(reason),
                    encounter: Some(encounter.clone()),
                });
            }
            if recent && (profile.exemplary || self.dice.chance(0.6)) {
                if let Some(earlier) = self.chart.medications.iter_mut().find(|m| {
                    m.status == "active"
                        && !m.at_discharge
                        && m.authored.date < discharge
                        && !chosen.contains(&m.medication)
                }) {
                    earlier.status = "stopped";
                }
            }
        }
    }

    /// When a chronic medicine was (last) prescribed: at the latest clinic visit after `from`
    /// most of the time, else at another one; at `from` itself when there is none.
    fn renewal_after(&mut self, from: NaiveDate) -> (Stamp, Option<String>) {
        let candidates: Vec<usize> = self
            .chart
            .visits
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                v.start.date >= from
                    && matches!(
                        v.purpose,
                        Purpose::Wellness | Purpose::Review | Purpose::Problem
                    )
            })
            .map(|(i, _)| i)
            .collect();
        match candidates.last() {
            None => (Stamp::at(from.min(self.last_day), 11, 0), None),
            Some(&latest) => {
                let index = if self.dice.chance(0.6) {
                    latest
                } else {
                    *self.dice.pick(&candidates)
                };
                let visit = &self.chart.visits[index];
                (visit.start.later_same_day(25), Some(visit.id.clone()))
            }
        }
    }

    fn prescribe(
        &mut self,
        medication: Code,
        status: &'static str,
        authored: Stamp,
        reason: Code,
        encounter: Option<String>,
    ) {
        let id = self.id();
        self.chart.medications.push(MedicationEntry {
            id,
            medication,
            status,
            authored,
            at_discharge: false,
            reason: Some(reason),
            encounter,
        });
    }

    // ---- Operational signals --------------------------------------------------------

    fn care_signals(&mut self) {
        let profile = self.profile;
        if profile.assisted_setup {
            let date = match (profile.story, self.chart.last_discharge) {
                (Story::RecentDischarge, Some(discharge)) => Some(discharge),
                _ => self.date_in(days_before(self.as_of, 180), self.last_day),
            };
            if let Some(date) = date {
                let at = Stamp::at(date, 15, self.dice.range(0, 59) as u16);
                self.observe(
                    ASSISTED_SETUP_NEEDED,
                    ObservationCategory::CareSignal,
                    at,
                    ObservationValue::Boolean(true),
                    None,
                );
            }
        }
        for n in 0..profile.incidents {
            let from = if profile.exemplary && n == 0 {
                days_before(self.as_of, 60)
            } else {
                months_before(self.as_of, 12)
            };
            if let Some(date) = self.date_in(from, self.last_day) {
                let what = if n == 0 {
                    INCIDENTS[0]
                } else {
                    *self.dice.pick(&INCIDENTS)
                };
                let at = Stamp::at(
                    date,
                    self.dice.range(7, 21) as u16,
                    self.dice.range(0, 59) as u16,
                );
                self.observe(
                    INCIDENT_REPORTED,
                    ObservationCategory::CareSignal,
                    at,
                    ObservationValue::Concept(what),
                    None,
                );
            }
        }
    }

    // ---- Social-needs screening -----------------------------------------------------

    fn screenings(&mut self) {
        let profile = self.profile;
        if !profile.screened {
            return;
        }
        let recent_visits = self.clinic_visits_between(self.w12, self.as_of);
        let (authored, encounter) = match (profile.story, self.chart.last_discharge) {
            (Story::RecentDischarge, Some(discharge)) => (
                Stamp::at(days_after(discharge, 1).min(self.last_day), 14, 30),
                None,
            ),
            _ if !recent_visits.is_empty() => {
                let index = if self.dice.chance(0.7) {
                    recent_visits[recent_visits.len() - 1]
                } else {
                    *self.dice.pick(&recent_visits)
                };
                let visit = &self.chart.visits[index];
                (visit.start.later_same_day(3), Some(visit.id.clone()))
            }
            _ => match self.date_in(days_before(self.as_of, 90), self.last_day) {
                // Screened by phone: no encounter.
                Some(date) => (Stamp::at(date, self.dice.range(9, 16) as u16, 0), None),
                None => return,
            },
        };
        if profile.rescreened {
            let earlier = months_before(authored.date, self.dice.range(6, 18));
            if earlier >= self.history_start {
                let previous = self.changed_needs(profile.needs);
                let at = Stamp::at(earlier, self.dice.range(9, 16) as u16, 15);
                self.screening(at, previous, None);
            }
        }
        self.screening(authored, profile.needs, encounter);
    }

    /// The answers of an earlier screening: some needs were different then.
    fn changed_needs(&mut self, now: SocialNeeds) -> SocialNeeds {
        let mut then = now;
        if self.dice.chance(0.5) {
            then.food_worry = if now.food_worry == NEVER_TRUE {
                SOMETIMES_TRUE
            } else {
                NEVER_TRUE
            };
        }
        if self.dice.chance(0.4) {
            then.housing = if now.housing == STEADY_HOUSING {
                HOUSING_AT_RISK
            } else {
                STEADY_HOUSING
            };
        }
        if self.dice.chance(0.3) {
            then.transport_barrier = !now.transport_barrier;
        }
        then
    }

    fn screening(&mut self, authored: Stamp, needs: SocialNeeds, encounter: Option<String>) {
        let profile = self.profile;
        let yes_no = |flag: bool| Answer::Coding(if flag { YES } else { NO });
        let mut items = vec![
            (HOUSING_STATUS, Answer::Coding(needs.housing)),
            (WORRIED_ABOUT_LOSING_HOUSING, yes_no(needs.eviction_risk)),
            (FOOD_WORRY, Answer::Coding(needs.food_worry)),
            (FOOD_DID_NOT_LAST, Answer::Coding(needs.food_did_not_last)),
            (TRANSPORTATION, yes_no(needs.transport_barrier)),
            (UTILITIES, Answer::Coding(needs.utilities)),
            (LONELINESS, Answer::Coding(needs.loneliness)),
            (
                HOUSEHOLD_SIZE,
                Answer::Integer(i64::from(profile.household_size)),
            ),
        ];
        if profile.age() >= 65 || profile.story == Story::FragileSupport || needs.caregiver_strain {
            items.push((CAREGIVER_STRAIN, yes_no(needs.caregiver_strain)));
        }
        let id = self.id();
        self.chart.screenings.push(ScreeningEntry {
            id,
            authored,
            items,
            encounter,
        });
    }

    // ---- Appointments ---------------------------------------------------------------

    fn appointments(&mut self) {
        let profile = self.profile;
        // Booked visits that took place.
        let recent = self.clinic_visits_between(self.w12, self.as_of);
        for index in recent {
            if !self.dice.chance(0.3) {
                continue;
            }
            let visit = &self.chart.visits[index];
            let (start, end) = (visit.start, visit.end);
            let kind = if visit.purpose == Purpose::Review {
                FOLLOW_UP_APPOINTMENT
            } else {
                ROUTINE_APPOINTMENT
            };
            let created = days_before(start.date, self.dice.range(7, 42));
            self.appointment(
                "fulfilled",
                CLINIC_VISIT,
                kind,
                "Clinic visit",
                start,
                end,
                created,
            );
        }
        // Missed reviews.
        for n in 0..profile.missed_reviews {
            let (service, description) = match profile.story {
                Story::CrisisContact => (BEHAVIOURAL_HEALTH_REVIEW, "Behavioural health review"),
                Story::FragileSupport => (CARE_PLAN_REVIEW, "Care plan review"),
                Story::RecentDischarge => (MEDICATION_REVIEW, "Post-discharge medication review"),
                _ => *self.dice.pick(&[
                    (MEDICATION_REVIEW, "Medication review"),
                    (CARE_PLAN_REVIEW, "Care plan review"),
                ]),
            };
            let from = if profile.exemplary && n == 0 {
                days_before(self.as_of, 30)
            } else {
                days_before(self.as_of, 120)
            };
            self.missed(from, service, description);
        }
        // Missed welfare tasks.
        for _ in 0..profile.missed_welfare_tasks {
            let (service, description) = *self.dice.pick(&[
                (WELFARE_VISIT, "Welfare visit at home"),
                (WELFARE_CALL, "Welfare phone call"),
            ]);
            self.missed(days_before(self.as_of, 60), service, description);
        }
        if self.dice.chance(0.03) {
            if let Some(date) = self.date_in(self.w12, self.last_day) {
                let start = self.clinic_time(date);
                let created = days_before(date, self.dice.range(7, 30));
                self.appointment(
                    "cancelled",
                    CLINIC_VISIT,
                    ROUTINE_APPOINTMENT,
                    "Clinic visit",
                    start,
                    start.later_same_day(20),
                    created,
                );
            }
        }
    }

    fn missed(&mut self, from: NaiveDate, service: Code, description: &'static str) {
        if let Some(date) = self.date_in(from, self.last_day) {
            let start = self.clinic_time(date);
            let created = days_before(date, self.dice.range(5, 28));
            self.appointment(
                "noshow",
                service,
                FOLLOW_UP_APPOINTMENT,
                description,
                start,
                start.later_same_day(30),
                created,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn appointment(
        &mut self,
        status: &'static str,
        service: Code,
        appointment_type: Code,
        description: &'static str,
        start: Stamp,
        end: Stamp,
        created: NaiveDate,
    ) {
        let id = self.id();
        self.chart.appointments.push(AppointmentEntry {
            id,
            status,
            service,
            appointment_type,
            description,
            start,
            end,
            created: created.max(self.history_start.min(start.date)),
        });
    }

    // ---- Immunizations ----------------------------------------------------------------

    fn immunizations(&mut self) {
        let profile = self.profile;
        let birth = profile.person.birth_date;
        let age = profile.age();
        let never_seen = profile.attendance == Attendance::NeverSeen;
        if age < 18 && !never_seen {
            for (vaccine, months) in CHILDHOOD_SCHEDULE {
                let due = months_after(birth, months);
                if due >= self.history_start && due <= self.last_day && self.dice.chance(0.9) {
                    let date = days_after(due, self.dice.range(0, 20)).min(self.last_day);
                    self.vaccinate(vaccine, date);
                }
            }
        }
        // Seasonal influenza: the last three seasons (September 15 to December 31).
        let flu_rate = match age {
            0 => 0.0,
            1..=17 => 0.5,
            18..=64 => 0.4,
            _ => 0.7,
        };
        for years_back in 0..3 {
            let year = self.as_of.year() - years_back;
            let (Some(from), Some(to)) = (
                NaiveDate::from_ymd_opt(year, 9, 15),
                NaiveDate::from_ymd_opt(year, 12, 31),
            ) else {
                continue;
            };
            if self.dice.chance(flu_rate) {
                if let Some(date) = self.date_in(from.max(days_after(birth, 183)), to) {
                    self.vaccinate(FLU_VACCINE, date);
                }
            }
        }
        if age >= 18 {
            // Vaccines exist only from their licensure on.
            if let Some(licensed) = NaiveDate::from_ymd_opt(2020, 12, 14) {
                if self.dice.chance(0.6) {
                    if let Some(date) = self.date_in(licensed, self.last_day) {
                        self.vaccinate(COVID_VACCINE, date);
                    }
                }
            }
            if self.dice.chance(0.3) {
                if let Some(date) = self.date_in(self.history_start, self.last_day) {
                    let vaccine = if self.dice.chance(0.5) {
                        TDAP
                    } else {
                        TD_ADULT
                    };
                    self.vaccinate(vaccine, date);
                }
            }
        }
        if age >= 50 && self.dice.chance(0.4) {
            let from = months_after(birth, 50 * 12)
                .max(NaiveDate::from_ymd_opt(2017, 10, 20).unwrap_or(birth));
            if let Some(first) = self.date_in(from, self.last_day) {
                self.vaccinate(ZOSTER_RECOMBINANT, first);
                let second = months_after(first, self.dice.range(2, 6));
                if second <= self.last_day {
                    self.vaccinate(ZOSTER_RECOMBINANT, second);
                }
            }
        }
        if age >= 65 && self.dice.chance(0.6) {
            if let Some(first) = self.date_in(months_after(birth, 65 * 12), self.last_day) {
                self.vaccinate(PNEUMOCOCCAL_CONJUGATE, first);
                let second = months_after(first, 12);
                if second <= self.last_day && self.dice.chance(0.6) {
                    self.vaccinate(PNEUMOCOCCAL_POLYSACCHARIDE, second);
                }
            }
        }
    }

    fn vaccinate(&mut self, vaccine: Code, date: NaiveDate) {
        let id = self.id();
        let given = self.clinic_time(date);
        self.chart
            .immunizations
            .push(ImmunizationEntry { id, vaccine, given });
    }
}

/// The check-in schedule of a patient (whether each scheduled check-in was done), used by the
/// engagement signals; kept here because it depends on the discharge date of the chart.
pub(crate) fn checkin_start(
    profile: &Profile,
    chart: &Chart,
    dice: &mut Dice,
) -> Option<NaiveDate> {
    let checkins = profile.checkins?;
    let adult_from = months_after(profile.person.birth_date, 18 * 12);
    let start = match (checkins.pattern, chart.last_discharge) {
        (CheckinPattern::MissedAfterDischarge, Some(discharge)) => days_after(discharge, 1),
        (_, Some(discharge)) if profile.story == Story::RecentDischarge => days_after(discharge, 1),
        _ => days_before(profile.as_of, dice.range(60, 240)),
    };
    let start = start.max(adult_from).max(chart.registered);
    (start <= profile.last_day).then_some(start)
}
