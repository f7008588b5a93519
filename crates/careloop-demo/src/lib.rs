//! Deterministic generator of a realistic demo panel for Careloop: FHIR R4 NDJSON files (one
//! compact JSON resource per line) plus an engagement-signal NDJSON file.
//!
//! The same [`DemoConfig`] (patients, seed, as-of date) always gives byte-identical output.
//! Every patient draws from their own ChaCha8 stream derived from the seed, so patient `i`
//! does not depend on the panel size or on the other patients; resource ids are UUIDs drawn
//! from that stream, never from the clock. Nothing is dated after the as-of date, which is
//! the panel's "today". Patients stream: one patient and all their resources are generated,
//! written and dropped before the next, so memory does not grow with the panel size.
//!
//! ```
//! use careloop_demo::{generate_in_memory, DemoConfig};
//!
//! let config = DemoConfig { patients: 20, seed: 7, as_of: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap() };
//! let (files, report) = generate_in_memory(&config).unwrap();
//! assert_eq!(report.patients, 20);
//! assert_eq!(files[0].0, "Patient.ndjson");
//! ```
//!
//! # What the panel contains
//!
//! A community panel in Massachusetts: ages 0-100 skewed to adults (many of 50-80), names of
//! several backgrounds (with accents: José, Núñez, Zoë, Chloé, Nguyễn...), preferred language
//! (about 70 % English, 20 % Spanish), US Core race and ethnicity, a payer mix (Medicare for most
//! people of 65+, Medicaid, commercial plans, self-pay), a few deceased patients, chronic and
//! acute conditions, visits of the three engagement tiers, vitals and labs, medications,
//! immunizations, screenings, social-needs screenings, appointments and engagement signals.
//!
//! The first four patients are *exemplars* of the situations of the outreach seeds, with every
//! signal of their situation present: (0) recently discharged, living alone, medication change
//! at discharge, missed check-ins, assisted setup needed; (1) behavioural-health crisis contacts
//! with housing instability, falling engagement and missed reviews; (2) long-term support
//! fragility with caregiver strain, missed welfare tasks and incidents; (3) social risk with
//! eviction risk, food insecurity and a utility shut-off threat. The rest of the panel has
//! these situations at realistic rates. A few events sit exactly on, or one day outside, the
//! window edges of the built-in care-gap segments.
//!
//! # Codes per signal
//!
//! | Signal | Representation |
//! | --- | --- |
//! | Preferred language | `Patient.communication` (`urn:ietf:bcp:47`: en, es, vi, zh, ar, pt, ht, ru, ko; `preferred: true`) |
//! | Race / ethnicity | US Core `us-core-race` / `us-core-ethnicity` extensions, `ombCategory` in `urn:oid:2.16.840.1.113883.6.238` (2106-3, 2054-5, 2028-9, 1002-5, 2076-8; 2135-2, 2186-5), unknown / declined as v3-NullFlavor UNK / ASKU |
//! | Payer | `Coverage.type` in Source of Payment Typology `urn:oid:2.16.840.1.113883.3.221.5`: 1 Medicare, 2 Medicaid, 5 private, 81 self-pay; `beneficiary` = the patient |
//! | Deceased | `Patient.deceasedDateTime` (always before the as-of date) |
//! | Encounter class | v3-ActCode AMB, EMER, IMP |
//! | Wellness visit | `Encounter.type` SNOMED 185349003 (+ CPT 99395 / 99396 / 99397), HCPCS G0438 / G0439 (Medicare annual wellness visit), SNOMED 410620009 + CPT 99393 (children) |
//! | Other visits | SNOMED 185347001 problem, 185345009 symptom, 390906007 follow-up (chronic review, `reasonCode` = the condition), CPT 99495 transitional care, 371883000 outpatient procedure, 50849002 emergency, 183452005 emergency hospital admission |
//! | Discharge | IMP encounter `period.end`, `hospitalization.dischargeDisposition` home / snf |
//! | Medication change at discharge | MedicationRequest `authoredOn` = the discharge date-time, `category` medicationrequest-category `discharge`; the superseded earlier request is `stopped` |
//! | Prior crisis contact | EMER encounter with `reasonCode` SNOMED 225444004 at risk for suicide, 6471006 suicidal thoughts, 225624000 panic attack or 69322001 psychotic disorder |
//! | Frequent ED | two or more EMER encounters in 12 months |
//! | Chronic conditions | SNOMED: 59621000 hypertension, 55822004 hyperlipidemia, 44054006 / 73211009 / 46635009 diabetes (+ complications 368581000119106, 1551000119108, 90781000119102, 127013003), 15777000 prediabetes, 13645005 / 87433001 COPD, 195967001 / 233678006 asthma, 88805009 heart failure, 53741008 coronary disease, 49436004 atrial fibrillation, 431855005 / 431856006 / 433144002 / 431857002 CKD, 370143000 / 35489007 depression, 197480006 anxiety, 13746004 bipolar, 58214004 schizophrenia, 7200002 alcohol use, 26929004 / 52448006 dementia, 239873007, 64859006, 40930008, 82423001, 69896004, 254837009 / 363406005 / 254637007 / 126906006 cancers, 230690007 stroke, 22298006 + 399211009 myocardial infarction, 162864005 obesity, 192127007 ADHD |
//! | HbA1c | Observation LOINC 4548-4 (`valueQuantity` %), sometimes with a DiagnosticReport 4548-4 |
//! | Blood pressure and vitals | Observation LOINC 85354-9 with components 8480-6 / 8462-4 (`mm[Hg]`); 8867-4, 29463-7, 8302-2, 39156-5; smoking status 72166-2; PHQ-9 44261-6; eGFR 33914-3; lipid panel DiagnosticReport 57698-3 (2093-3, 2571-8, 18262-6, 2085-9) |
//! | Mammography | Procedure SNOMED 71651007 / 24623002 and/or CPT 77067; ImagingStudy with series modality DICOM MG (procedureCode 71651007 or none); DiagnosticReport LOINC 24606-6; a declined one is a `not-done` Procedure |
//! | Medications | RxNorm clinical drugs (`http://www.nlm.nih.gov/research/umls/rxnorm`), status active / stopped / completed |
//! | Immunizations | CVX, status completed: 140 influenza, 208 COVID-19, 133 PCV13, 33 PPSV23, 187 zoster, 113 Td, 115 Tdap; children 08, 20, 10, 49, 133, 119, 03, 21, 83, 114, 165 |
//! | Social-needs screening | QuestionnaireResponse (completed, `authored`), one item per question, `linkId` = LOINC code, answers as LOINC answer codes (below) |
//! | Housing instability | item 71802-3 answered LA31994-9 (worried about losing it) or LA31995-6 (no steady place); steady is LA31993-1 |
//! | Eviction risk | item 93033-9 "Are you worried about losing your housing?" answered LA33-6 Yes |
//! | Food insecurity | items 88122-7 / 88123-5 answered LA28397-0 often true or LA6729-3 sometimes true (LA28398-8 never true) |
//! | Transportation barrier | item 93030-5 answered LA33-6 Yes |
//! | Utility shut-off | item 96779-4 answered LA33-6 Yes or LA32002-0 already shut off (LA32-8 No) |
//! | Loneliness | item 93159-1 answered LA6270-8 never, LA10066-1 rarely, LA10082-8 sometimes, LA10044-8 often, LA9933-8 always |
//! | Lives alone | item 63512-8 "How many people are living or staying at this address?" `valueInteger` 1 |
//! | Caregiver strain | item `careloop-caregiver-strain` (Careloop-local) answered LA33-6 Yes |
//! | Assisted setup needed | Observation, category and code in `https://careloop.example/fhir/CodeSystem/care-signal`: code `assisted-setup-needed`, `valueBoolean` true |
//! | Prior incident | Observation code `incident-reported` (same system), `valueCodeableConcept` = SNOMED 1912002 fall or care-signal `found-wandering`, `missed-medication-doses`, `kitchen-fire` |
//! | Missed review | Appointment `status` noshow, `serviceType` in `https://careloop.example/fhir/CodeSystem/outreach-service`: `behavioural-health-review`, `medication-review`, `care-plan-review`; `appointmentType` v2-0276 FOLLOWUP |
//! | Missed welfare task | Appointment noshow, `serviceType` `welfare-visit` or `welfare-call` |
//! | Check-ins, portal use | `engagement.ndjson`: `checkin_done` / `checkin_missed` (date, channel app / sms / portal), `portal_login` / `portal_message` (RFC 3339 date-time, channel portal) |
//!
//! Each resource names its patient with its R4 element: `subject`, Immunization `patient`,
//! Coverage `beneficiary`, Appointment `participant.actor`.

mod calendar;
mod chart;
mod demographics;
mod dice;
mod engagement;
mod json;
mod resources;
mod story;
mod vocabulary;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::NaiveDate;

use crate::resources::Sink;

/// What to generate: how many patients, from which seed, as of which date ("today").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemoConfig {
    pub patients: u32,
    pub seed: u64,
    pub as_of: NaiveDate,
}

/// One output file of the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DemoFile {
    Patient,
    Coverage,
    Encounter,
    Condition,
    Observation,
    MedicationRequest,
    Procedure,
    Immunization,
    ImagingStudy,
    DiagnosticReport,
    QuestionnaireResponse,
    Appointment,
    Engagement,
}

impl DemoFile {
    /// Every file, in output order.
    pub const ALL: [DemoFile; 13] = [
        DemoFile::Patient,
        DemoFile::Coverage,
        DemoFile::Encounter,
        DemoFile::Condition,
        DemoFile::Observation,
        DemoFile::MedicationRequest,
        DemoFile::Procedure,
        DemoFile::Immunization,
        DemoFile::ImagingStudy,
        DemoFile::DiagnosticReport,
        DemoFile::QuestionnaireResponse,
        DemoFile::Appointment,
        DemoFile::Engagement,
    ];

    /// The file name: `<resourceType>.ndjson`, or `engagement.ndjson` for the signals.
    pub fn file_name(self) -> &'static str {
        match self {
            DemoFile::Patient => "Patient.ndjson",
            DemoFile::Coverage => "Coverage.ndjson",
            DemoFile::Encounter => "Encounter.ndjson",
            DemoFile::Condition => "Condition.ndjson",
            DemoFile::Observation => "Observation.ndjson",
            DemoFile::MedicationRequest => "MedicationRequest.ndjson",
            DemoFile::Procedure => "Procedure.ndjson",
            DemoFile::Immunization => "Immunization.ndjson",
            DemoFile::ImagingStudy => "ImagingStudy.ndjson",
            DemoFile::DiagnosticReport => "DiagnosticReport.ndjson",
            DemoFile::QuestionnaireResponse => "QuestionnaireResponse.ndjson",
            DemoFile::Appointment => "Appointment.ndjson",
            DemoFile::Engagement => "engagement.ndjson",
        }
    }

    /// The FHIR resource type the file holds (None for the engagement signals).
    fn resource_type(self) -> Option<&'static str> {
        match self {
            DemoFile::Engagement => None,
            other => other.file_name().strip_suffix(".ndjson"),
        }
    }
}

/// Receives the panel, one line (one compact JSON object, without newline) at a time.
pub trait PanelWriter {
    fn write_line(&mut self, file: DemoFile, line: &str) -> std::io::Result<()>;
}

/// What was generated.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoReport {
    pub patients: u64,
    /// Resources written, by resourceType (types with none are absent).
    pub resources: BTreeMap<String, u64>,
    pub engagement_signals: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid demo settings: {0}")]
    Invalid(String),
}

/// Generates the panel of `config` into `writer`, patient by patient.
pub fn generate(
    config: &DemoConfig,
    writer: &mut dyn PanelWriter,
) -> Result<DemoReport, DemoError> {
    validate(config)?;
    let mut sink = Sink::new(writer);
    for index in 0..config.patients {
        let mut dice = dice::Dice::for_patient(config.seed, index);
        let profile = story::draw_profile(&mut dice, index, config.as_of);
        let chart = chart::draw_chart(&mut dice, &profile);
        let signals = engagement::draw_signals(&mut dice, &profile, &chart);
        resources::write_patient(&mut sink, &profile, &chart, &signals)?;
    }
    let mut report = DemoReport {
        patients: u64::from(config.patients),
        ..DemoReport::default()
    };
    for file in DemoFile::ALL {
        let count = sink.counts[file as usize];
        match file.resource_type() {
            None => report.engagement_signals = count,
            Some(resource_type) if count > 0 => {
                report.resources.insert(resource_type.to_owned(), count);
            }
            Some(_) => {}
        }
    }
    Ok(report)
}

fn validate(config: &DemoConfig) -> Result<(), DemoError> {
    if config.patients == 0 {
        return Err(DemoError::Invalid(
            "the panel needs at least one patient".into(),
        ));
    }
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1);
    let latest = NaiveDate::from_ymd_opt(9999, 12, 31);
    if earliest.is_some_and(|d| config.as_of < d) || latest.is_some_and(|d| config.as_of > d) {
        return Err(DemoError::Invalid(format!(
            "the as-of date {} is outside 1900-01-01..9999-12-31",
            config.as_of
        )));
    }
    Ok(())
}

/// Writes DIR/<file_name> for every DemoFile (creating DIR), buffered.
pub fn write_to_dir(config: &DemoConfig, dir: &Path) -> Result<DemoReport, DemoError> {
    validate(config)?;
    let io_error = |path: &Path, source| DemoError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let mut files = Vec::with_capacity(DemoFile::ALL.len());
    for file in DemoFile::ALL {
        let path = dir.join(file.file_name());
        let handle = File::create(&path).map_err(|e| io_error(&path, e))?;
        files.push(BufWriter::with_capacity(1 << 16, handle));
    }
    let mut writer = DirWriter { files };
    let report = generate(config, &mut writer).map_err(|error| match error {
        DemoError::Io { path, source } => DemoError::Io {
            path: dir.join(path).display().to_string(),
            source,
        },
        other => other,
    })?;
    for (file, buffered) in DemoFile::ALL.iter().zip(writer.files) {
        let path = dir.join(file.file_name());
        let handle = buffered
            .into_inner()
            .map_err(|e| io_error(&path, e.into_error()))?;
        handle.sync_all().map_err(|e| io_error(&path, e))?;
    }
    Ok(report)
}

/// The same files in memory: (file_name, bytes), in DemoFile::ALL order.
#[allow(clippy::type_complexity)] // the signature is the crate's published API
pub fn generate_in_memory(
    config: &DemoConfig,
) -> Result<(Vec<(String, Vec<u8>)>, DemoReport), DemoError> {
    let mut writer = MemoryWriter {
        files: vec![Vec::new(); DemoFile::ALL.len()],
    };
    let report = generate(config, &mut writer)?;
    let files = DemoFile::ALL
        .iter()
        .zip(writer.files)
        .map(|(file, bytes)| (file.file_name().to_owned(), bytes))
        .collect();
    Ok((files, report))
}

struct DirWriter {
    files: Vec<BufWriter<File>>,
}

impl PanelWriter for DirWriter {
    fn write_line(&mut self, file: DemoFile, line: &str) -> std::io::Result<()> {
        let out = &mut self.files[file as usize];
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")
    }
}

struct MemoryWriter {
    files: Vec<Vec<u8>>,
}

impl PanelWriter for MemoryWriter {
    fn write_line(&mut self, file: DemoFile, line: &str) -> std::io::Result<()> {
        let out = &mut self.files[file as usize];
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_order_matches_discriminants() {
        for (index, file) in DemoFile::ALL.iter().enumerate() {
            assert_eq!(
                *file as usize, index,
                "{file:?} indexes the per-file tables"
            );
        }
        assert_eq!(DemoFile::Engagement.file_name(), "engagement.ndjson");
        assert_eq!(
            DemoFile::QuestionnaireResponse.resource_type(),
            Some("QuestionnaireResponse")
        );
    }

    #[test]
    fn an_empty_panel_is_invalid() {
        let config = DemoConfig {
            patients: 0,
            seed: 1,
            as_of: NaiveDate::from_ymd_opt(2026, 6, 30).expect("date"),
        };
        assert!(matches!(
            generate_in_memory(&config),
            Err(DemoError::Invalid(_))
        ));
    }
}
