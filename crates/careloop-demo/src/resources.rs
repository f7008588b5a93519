//! Writes one patient's profile and chart as FHIR R4 resources (compact JSON, one per line)
//! and their engagement signals, through a [`Sink`] that counts what it writes.
//!
//! Every resource has `id` and `meta.lastUpdated` and points at its patient: `subject`,
//! `patient` on Immunization, `beneficiary` on Coverage and `participant.actor` on Appointment
//! (their R4 elements).

use crate::calendar::{months_after, push_date, Stamp};
use crate::chart::{
    Answer, AppointmentEntry, Chart, ConditionEntry, ImagingEntry, ImmunizationEntry,
    MedicationEntry, ObservationCategory, ObservationEntry, ObservationValue, ProcedureEntry,
    ReportEntry, ScreeningEntry, Visit,
};
use crate::demographics::PayerKind;
use crate::engagement::{Signal, When};
use crate::json::{self, Obj};
use crate::story::Profile;
use crate::vocabulary::*;
use crate::{DemoError, DemoFile, PanelWriter};

/// The clinic that keeps the record (a display-only organization reference).
const CLINIC: &str = "Careloop Community Health Center";

/// Prescribers (display-only practitioner references), chosen from the request id.
const CLINICIANS: [&str; 6] = [
    "Dr. Amara Okafor",
    "Dr. Luis Medina",
    "Dr. Hannah Goldberg",
    "Dr. Minh Trần",
    "Dr. Rachel O'Neill",
    "Dr. Samir Haddad",
];

/// Where resource lines go: the panel writer, plus per-file line counts.
pub(crate) struct Sink<'w> {
    writer: &'w mut dyn PanelWriter,
    line: String,
    pub counts: [u64; DemoFile::ALL.len()],
}

impl<'w> Sink<'w> {
    pub fn new(writer: &'w mut dyn PanelWriter) -> Self {
        Sink {
            writer,
            line: String::with_capacity(4096),
            counts: [0; DemoFile::ALL.len()],
        }
    }

    /// Writes one JSON object as one line of `file`.
    fn emit(&mut self, file: DemoFile, fill: impl FnOnce(&mut Obj<'_>)) -> Result<(), DemoError> {
        self.line.clear();
        json::object(&mut self.line, fill);
        self.writer
            .write_line(file, &self.line)
            .map_err(|source| DemoError::Io {
                path: file.file_name().to_owned(),
                source,
            })?;
        self.counts[file as usize] += 1;
        Ok(())
    }
}

/// Writes every resource and signal of one patient.
pub(crate) fn write_patient(
    sink: &mut Sink<'_>,
    profile: &Profile,
    chart: &Chart,
    signals: &[Signal],
) -> Result<(), DemoError> {
    let subject = format!("Patient/{}", profile.person.id);
    let subject = subject.as_str();
    sink.emit(DemoFile::Patient, |o| patient(o, profile, chart))?;
    for (n, payer) in profile
        .person
        .payers
        .iter()
        .enumerate()
        .take(chart.coverage_ids.len())
    {
        sink.emit(DemoFile::Coverage, |o| {
            coverage(o, profile, chart, n, payer.kind, payer.name, subject)
        })?;
    }
    for visit in &chart.visits {
        sink.emit(DemoFile::Encounter, |o| encounter(o, visit, subject))?;
    }
    for condition in &chart.conditions {
        sink.emit(DemoFile::Condition, |o| {
            write_condition(o, condition, subject)
        })?;
    }
    for observation in &chart.observations {
        sink.emit(DemoFile::Observation, |o| {
            write_observation(o, observation, subject)
        })?;
    }
    for medication in &chart.medications {
        sink.emit(DemoFile::MedicationRequest, |o| {
            medication_request(o, medication, subject)
        })?;
    }
    for procedure in &chart.procedures {
        sink.emit(DemoFile::Procedure, |o| {
            write_procedure(o, procedure, subject)
        })?;
    }
    for immunization in &chart.immunizations {
        sink.emit(DemoFile::Immunization, |o| {
            write_immunization(o, immunization, subject)
        })?;
    }
    for study in &chart.imaging {
        sink.emit(DemoFile::ImagingStudy, |o| imaging_study(o, study, subject))?;
    }
    for report in &chart.reports {
        sink.emit(DemoFile::DiagnosticReport, |o| {
            diagnostic_report(o, report, subject)
        })?;
    }
    for screening in &chart.screenings {
        sink.emit(DemoFile::QuestionnaireResponse, |o| {
            questionnaire_response(o, screening, subject)
        })?;
    }
    for appointment in &chart.appointments {
        sink.emit(DemoFile::Appointment, |o| {
            write_appointment(o, appointment, subject)
        })?;
    }
    for signal in signals {
        sink.emit(DemoFile::Engagement, |o| {
            engagement(o, signal, &profile.person.id)
        })?;
    }
    Ok(())
}

// ---- Shared pieces ----------------------------------------------------------------------

fn head(o: &mut Obj<'_>, resource_type: &str, id: &str, last_updated: Stamp) {
    o.str("resourceType", resource_type).str("id", id);
    o.obj("meta", |m| {
        m.str_with("lastUpdated", |s| last_updated.push_to(s));
    });
}

fn coding(o: &mut Obj<'_>, code: &Code) {
    o.str("system", code.system)
        .str("code", code.code)
        .str("display", code.display);
}

/// `key: {"coding": [code], "text": display}`.
fn concept(o: &mut Obj<'_>, key: &str, code: &Code) {
    o.obj(key, |c| concept_body(c, std::slice::from_ref(code)));
}

fn concept_body(o: &mut Obj<'_>, codes: &[Code]) {
    o.arr("coding", |a| {
        for code in codes {
            a.obj(|c| coding(c, code));
        }
    });
    if let Some(first) = codes.first() {
        o.str("text", first.display);
    }
}

/// `key: [{"coding": [code], "text": display}]`.
fn concepts(o: &mut Obj<'_>, key: &str, codes: &[Code]) {
    o.arr(key, |a| {
        for code in codes {
            a.obj(|c| concept_body(c, std::slice::from_ref(code)));
        }
    });
}

/// A status-like CodeableConcept with code only: `{"coding":[{"system","code"}]}`.
fn status_concept(o: &mut Obj<'_>, key: &str, system: &str, code: &str) {
    o.obj(key, |c| {
        c.arr("coding", |a| {
            a.obj(|x| {
                x.str("system", system).str("code", code);
            });
        });
    });
}

fn reference(o: &mut Obj<'_>, key: &str, target: &str) {
    o.obj(key, |r| {
        r.str("reference", target);
    });
}

fn encounter_reference(o: &mut Obj<'_>, encounter: &Option<String>) {
    if let Some(id) = encounter {
        o.obj("encounter", |r| {
            r.str_with("reference", |s| {
                s.push_str("Encounter/");
                s.push_str(id);
            });
        });
    }
}

fn stamp(o: &mut Obj<'_>, key: &str, at: Stamp) {
    o.str_with(key, |s| at.push_to(s));
}

fn clinician(id: &str) -> &'static str {
    let pick = id.bytes().fold(0usize, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    CLINICIANS[pick % CLINICIANS.len()]
}

// ---- Patient and Coverage ---------------------------------------------------------------

fn patient(o: &mut Obj<'_>, profile: &Profile, chart: &Chart) {
    let person = &profile.person;
    let updated = chart
        .latest_activity()
        .unwrap_or_else(|| Stamp::at(chart.registered, 9, 0))
        .max(Stamp::at(chart.registered, 9, 0))
        .later_same_day(45);
    head(o, "Patient", &person.id, updated);
    o.arr("extension", |a| {
        a.obj(|e| {
            e.str("url", US_CORE_RACE);
            e.arr("extension", |x| {
                for category in person.race.categories {
                    x.obj(|c| {
                        c.str("url", "ombCategory")
                            .obj("valueCoding", |v| coding(v, category));
                    });
                }
                x.obj(|c| {
                    c.str("url", "text").str("valueString", person.race.text);
                });
            });
        });
        a.obj(|e| {
            e.str("url", US_CORE_ETHNICITY);
            e.arr("extension", |x| {
                x.obj(|c| {
                    c.str("url", "ombCategory")
                        .obj("valueCoding", |v| coding(v, &person.ethnicity.category));
                });
                x.obj(|c| {
                    c.str("url", "text")
                        .str("valueString", person.ethnicity.text);
                });
            });
        });
        a.obj(|e| {
            e.str("url", US_CORE_BIRTH_SEX)
                .str("valueCode", person.sex.birth_sex_code());
        });
    });
    o.arr("identifier", |a| {
        a.obj(|i| {
            i.obj("type", |t| {
                t.arr("coding", |c| {
                    c.obj(|x| {
                        x.str("system", IDENTIFIER_TYPE)
                            .str("code", "MR")
                            .str("display", "Medical record number");
                    });
                });
            });
            i.str("system", CARELOOP_MRN).str("value", &person.mrn);
        });
    });
    o.bool("active", profile.death.is_none());
    o.arr("name", |a| {
        a.obj(|n| {
            n.str("use", "official").str("family", person.family);
            n.arr("given", |g| {
                g.str(person.given);
            });
        });
    });
    o.arr("telecom", |a| {
        a.obj(|t| {
            t.str("system", "phone").str("value", &person.phone);
            t.str(
                "use",
                if person.phone_is_mobile {
                    "mobile"
                } else {
                    "home"
                },
            )
            .int("rank", 1);
        });
        if let Some(email) = &person.email {
            a.obj(|t| {
                t.str("system", "email")
                    .str("value", email)
                    .str("use", "home")
                    .int("rank", 2);
            });
        }
    });
    o.str("gender", person.sex.fhir_gender());
    o.str_with("birthDate", |s| push_date(s, person.birth_date));
    if let Some(death) = profile.death {
        stamp(o, "deceasedDateTime", Stamp::at(death, 4, 30));
    }
    o.arr("address", |a| {
        a.obj(|ad| {
            ad.str("use", "home");
            ad.arr("line", |l| {
                l.str(&person.street_line);
            });
            ad.str("city", person.town.name)
                .str("state", "MA")
                .str("postalCode", person.town.postal_code);
            ad.str("country", "US");
        });
    });
    o.arr("communication", |a| {
        a.obj(|c| {
            c.obj("language", |l| {
                l.arr("coding", |x| {
                    x.obj(|k| {
                        k.str("system", BCP47)
                            .str("code", person.language.code)
                            .str("display", person.language.display);
                    });
                });
                l.str("text", person.language.display);
            });
            c.bool("preferred", true);
        });
        if person.speaks_english_too {
            a.obj(|c| {
                c.obj("language", |l| {
                    l.arr("coding", |x| {
                        x.obj(|k| {
                            k.str("system", BCP47)
                                .str("code", "en")
                                .str("display", "English");
                        });
                    });
                    l.str("text", "English");
                });
                c.bool("preferred", false);
            });
        }
    });
}

fn coverage(
    o: &mut Obj<'_>,
    profile: &Profile,
    chart: &Chart,
    n: usize,
    kind: PayerKind,
    name: &str,
    subject: &str,
) {
    let person = &profile.person;
    let mut start = chart.registered;
    if kind == PayerKind::Medicare && person.age >= 65 {
        start = start
            .max(months_after(person.birth_date, 65 * 12))
            .min(profile.last_day);
    }
    let id_seed = &person.id[..8];
    head(
        o,
        "Coverage",
        &chart.coverage_ids[n],
        Stamp::at(start, 8, 0),
    );
    o.str(
        "status",
        if profile.death.is_some() {
            "cancelled"
        } else {
            "active"
        },
    );
    let type_code = kind.type_code();
    concept(o, "type", &type_code);
    o.str_with("subscriberId", |s| {
        s.push_str(match kind {
            PayerKind::Medicare => "MBI",
            PayerKind::Medicaid => "MH",
            PayerKind::Commercial => "SUB",
            PayerKind::SelfPay => "SELF",
        });
        s.push_str(&id_seed.to_ascii_uppercase());
    });
    reference(o, "beneficiary", subject);
    let (relationship, display) = if person.age < 18 {
        ("child", "Child")
    } else {
        ("self", "Self")
    };
    o.obj("relationship", |r| {
        r.arr("coding", |c| {
            c.obj(|x| {
                x.str("system", SUBSCRIBER_RELATIONSHIP)
                    .str("code", relationship)
                    .str("display", display);
            });
        });
    });
    o.obj("period", |p| {
        p.str_with("start", |s| push_date(s, start));
        if let Some(death) = profile.death {
            p.str_with("end", |s| push_date(s, death));
        }
    });
    o.arr("payor", |a| {
        a.obj(|p| {
            if kind == PayerKind::SelfPay {
                p.str("reference", subject);
            }
            p.str("display", name);
        });
    });
}

// ---- Encounter ------------------------------------------------------------------------------

fn encounter(o: &mut Obj<'_>, visit: &Visit, subject: &str) {
    head(o, "Encounter", &visit.id, visit.end.later_same_day(30));
    o.str("status", "finished");
    o.obj("class", |c| coding(c, &visit.class));
    concepts(o, "type", &visit.types);
    reference(o, "subject", subject);
    o.obj("period", |p| {
        stamp(p, "start", visit.start);
        stamp(p, "end", visit.end);
    });
    if let Some(reason) = &visit.reason {
        concepts(o, "reasonCode", std::slice::from_ref(reason));
    }
    if let Some(disposition) = &visit.disposition {
        o.obj("hospitalization", |h| {
            concept(h, "dischargeDisposition", disposition)
        });
    }
    o.obj("serviceProvider", |s| {
        s.str("display", CLINIC);
    });
}

// ---- Condition -------------------------------------------------------------------------------

fn write_condition(o: &mut Obj<'_>, condition: &ConditionEntry, subject: &str) {
    let updated = condition
        .abatement
        .unwrap_or(condition.onset)
        .later_same_day(60);
    head(o, "Condition", &condition.id, updated);
    status_concept(
        o,
        "clinicalStatus",
        CONDITION_CLINICAL,
        condition.clinical_status,
    );
    status_concept(
        o,
        "verificationStatus",
        CONDITION_VERIFICATION,
        condition.verification,
    );
    o.arr("category", |a| {
        a.obj(|c| {
            c.arr("coding", |x| {
                x.obj(|k| {
                    let display = if condition.category == "encounter-diagnosis" {
                        "Encounter Diagnosis"
                    } else {
                        "Problem List Item"
                    };
                    k.str("system", CONDITION_CATEGORY)
                        .str("code", condition.category)
                        .str("display", display);
                });
            });
        });
    });
    concept(o, "code", &condition.code);
    reference(o, "subject", subject);
    encounter_reference(o, &condition.encounter);
    stamp(o, "onsetDateTime", condition.onset);
    if let Some(abatement) = condition.abatement {
        stamp(o, "abatementDateTime", abatement);
    }
    stamp(o, "recordedDate", condition.onset.later_same_day(30));
}

// ---- Observation ---------------------------------------------------------------------------

fn quantity(o: &mut Obj<'_>, key: &str, tenths: i64, unit: &str) {
    o.obj(key, |q| {
        q.tenths("value", tenths)
            .str("unit", unit)
            .str("system", UCUM)
            .str("code", unit);
    });
}

fn write_observation(o: &mut Obj<'_>, observation: &ObservationEntry, subject: &str) {
    head(
        o,
        "Observation",
        &observation.id,
        observation.effective.later_same_day(60),
    );
    o.str("status", "final");
    let (system, code, display) = match observation.category {
        ObservationCategory::VitalSigns => (OBSERVATION_CATEGORY, "vital-signs", "Vital Signs"),
        ObservationCategory::Laboratory => (OBSERVATION_CATEGORY, "laboratory", "Laboratory"),
        ObservationCategory::SocialHistory => {
            (OBSERVATION_CATEGORY, "social-history", "Social History")
        }
        ObservationCategory::Survey => (OBSERVATION_CATEGORY, "survey", "Survey"),
        ObservationCategory::CareSignal => (
            CARE_SIGNAL_CATEGORY.system,
            CARE_SIGNAL_CATEGORY.code,
            CARE_SIGNAL_CATEGORY.display,
        ),
    };
    o.arr("category", |a| {
        a.obj(|c| {
            c.arr("coding", |x| {
                x.obj(|k| {
                    k.str("system", system)
                        .str("code", code)
                        .str("display", display);
                });
            });
        });
    });
    concept(o, "code", &observation.code);
    reference(o, "subject", subject);
    encounter_reference(o, &observation.encounter);
    stamp(o, "effectiveDateTime", observation.effective);
    stamp(o, "issued", observation.effective.later_same_day(45));
    match observation.value {
        ObservationValue::Quantity { tenths, unit } => quantity(o, "valueQuantity", tenths, unit),
        ObservationValue::Integer(value) => {
            o.int("valueInteger", value);
        }
        ObservationValue::Concept(code) => concept(o, "valueCodeableConcept", &code),
        ObservationValue::Boolean(value) => {
            o.bool("valueBoolean", value);
        }
        ObservationValue::BloodPressure {
            systolic,
            diastolic,
        } => {
            o.arr("component", |a| {
                for (code, value) in [(SYSTOLIC, systolic), (DIASTOLIC, diastolic)] {
                    a.obj(|c| {
                        concept(c, "code", &code);
                        quantity(c, "valueQuantity", value * 10, "mm[Hg]");
                    });
                }
            });
        }
    }
}

// ---- MedicationRequest ------------------------------------------------------------------

/// Dosage text of a medicine.
fn sig(medication: &Code) -> &'static str {
    let name = medication.display;
    if name.contains("Inhaler") {
        "Inhale 2 puffs as directed"
    } else if name.contains("Injectable") {
        "Inject subcutaneously as directed, twice daily before meals"
    } else if name.contains("Mucosal Spray") {
        "1 spray under the tongue as needed for chest pain; may repeat every 5 minutes, up to 3 sprays"
    } else if name.contains("Oral Solution") {
        "Take 5 mL by mouth twice daily"
    } else if medication.code == "1049221"
        || medication.code == "310965"
        || medication.code == "849574"
    {
        "Take 1 tablet by mouth every 6 hours as needed for pain"
    } else if ["562251", "308182", "834061", "311995"].contains(&medication.code) {
        "Take 1 dose by mouth every 8 hours for 7 days"
    } else if medication.code == "312617" {
        "Take 8 tablets by mouth once daily for 5 days"
    } else {
        "Take 1 tablet by mouth once daily"
    }
}

fn medication_request(o: &mut Obj<'_>, medication: &MedicationEntry, subject: &str) {
    head(
        o,
        "MedicationRequest",
        &medication.id,
        medication.authored.later_same_day(5),
    );
    o.str("status", medication.status).str("intent", "order");
    let (category, display) = if medication.at_discharge {
        ("discharge", "Discharge")
    } else {
        ("community", "Community")
    };
    o.arr("category", |a| {
        a.obj(|c| {
            c.arr("coding", |x| {
                x.obj(|k| {
                    k.str("system", MEDICATION_REQUEST_CATEGORY)
                        .str("code", category)
                        .str("display", display);
                });
            });
        });
    });
    concept(o, "medicationCodeableConcept", &medication.medication);
    reference(o, "subject", subject);
    encounter_reference(o, &medication.encounter);
    stamp(o, "authoredOn", medication.authored);
    o.obj("requester", |r| {
        r.str("display", clinician(&medication.id));
    });
    if let Some(reason) = &medication.reason {
        concepts(o, "reasonCode", std::slice::from_ref(reason));
    }
    o.arr("dosageInstruction", |a| {
        a.obj(|d| {
            d.str("text", sig(&medication.medication));
        });
    });
}

// ---- Procedure, ImagingStudy, DiagnosticReport, Immunization -------------------------------

fn write_procedure(o: &mut Obj<'_>, procedure: &ProcedureEntry, subject: &str) {
    head(
        o,
        "Procedure",
        &procedure.id,
        procedure.performed.later_same_day(60),
    );
    o.str("status", procedure.status);
    if let Some(reason) = procedure.status_reason {
        o.obj("statusReason", |r| {
            r.str("text", reason);
        });
    }
    o.obj("code", |c| concept_body(c, &procedure.codes));
    reference(o, "subject", subject);
    encounter_reference(o, &procedure.encounter);
    stamp(o, "performedDateTime", procedure.performed);
    if let Some(site) = &procedure.body_site {
        concepts(o, "bodySite", std::slice::from_ref(site));
    }
}

fn dicom_uid(s: &mut String, uid: u128) {
    use std::fmt::Write as _;
    let _ = write!(s, "2.25.{uid}");
}

fn imaging_study(o: &mut Obj<'_>, study: &ImagingEntry, subject: &str) {
    head(
        o,
        "ImagingStudy",
        &study.id,
        study.started.later_same_day(90),
    );
    o.arr("identifier", |a| {
        a.obj(|i| {
            i.str("system", "urn:dicom:uid").str_with("value", |s| {
                s.push_str("urn:oid:");
                dicom_uid(s, study.study_uid);
            });
        });
    });
    o.str("status", "available");
    o.arr("modality", |a| {
        a.obj(|m| coding(m, &study.modality));
    });
    reference(o, "subject", subject);
    encounter_reference(o, &study.encounter);
    stamp(o, "started", study.started);
    o.int("numberOfSeries", 1)
        .int("numberOfInstances", i64::from(study.instances));
    if let Some(procedure) = &study.procedure {
        concepts(o, "procedureCode", std::slice::from_ref(procedure));
    }
    let sop_class = if study.modality.code == "MG" {
        "urn:oid:1.2.840.10008.5.1.4.1.1.1.2"
    } else {
        "urn:oid:1.2.840.10008.5.1.4.1.1.1.1"
    };
    o.arr("series", |a| {
        a.obj(|s| {
            s.str_with("uid", |x| dicom_uid(x, study.series_uid));
            s.int("number", 1);
            s.obj("modality", |m| coding(m, &study.modality));
            s.int("numberOfInstances", i64::from(study.instances));
            s.obj("bodySite", |b| coding(b, &study.body_site));
            stamp(s, "started", study.started);
            s.arr("instance", |i| {
                i.obj(|x| {
                    x.str_with("uid", |u| dicom_uid(u, study.instance_uid));
                    x.obj("sopClass", |c| {
                        c.str("system", "urn:ietf:rfc:3986").str("code", sop_class);
                    });
                    x.int("number", 1);
                });
            });
        });
    });
}

fn diagnostic_report(o: &mut Obj<'_>, report: &ReportEntry, subject: &str) {
    head(
        o,
        "DiagnosticReport",
        &report.id,
        report.effective.later_same_day(120),
    );
    o.str("status", "final");
    o.arr("category", |a| {
        a.obj(|c| {
            c.arr("coding", |x| {
                x.obj(|k| {
                    k.str("system", DIAGNOSTIC_SERVICE)
                        .str("code", report.service.0)
                        .str("display", report.service.1);
                });
            });
        });
    });
    concept(o, "code", &report.code);
    reference(o, "subject", subject);
    encounter_reference(o, &report.encounter);
    stamp(o, "effectiveDateTime", report.effective);
    stamp(o, "issued", report.effective.later_same_day(90));
    if !report.results.is_empty() {
        o.arr("result", |a| {
            for id in &report.results {
                a.obj(|r| {
                    r.str_with("reference", |s| {
                        s.push_str("Observation/");
                        s.push_str(id);
                    });
                });
            }
        });
    }
    if let Some(conclusion) = report.conclusion {
        o.str("conclusion", conclusion);
    }
}

fn write_immunization(o: &mut Obj<'_>, immunization: &ImmunizationEntry, subject: &str) {
    head(
        o,
        "Immunization",
        &immunization.id,
        immunization.given.later_same_day(15),
    );
    o.str("status", "completed");
    concept(o, "vaccineCode", &immunization.vaccine);
    reference(o, "patient", subject);
    stamp(o, "occurrenceDateTime", immunization.given);
    o.bool("primarySource", true);
}

// ---- QuestionnaireResponse and Appointment ----------------------------------------------

fn questionnaire_response(o: &mut Obj<'_>, screening: &ScreeningEntry, subject: &str) {
    head(
        o,
        "QuestionnaireResponse",
        &screening.id,
        screening.authored.later_same_day(20),
    );
    o.str("status", "completed");
    reference(o, "subject", subject);
    encounter_reference(o, &screening.encounter);
    stamp(o, "authored", screening.authored);
    o.arr("item", |a| {
        for (question, answer) in &screening.items {
            a.obj(|i| {
                i.str("linkId", question.link_id).str("text", question.text);
                i.arr("answer", |x| {
                    x.obj(|v| match answer {
                        Answer::Coding(code) => {
                            v.obj("valueCoding", |c| coding(c, code));
                        }
                        Answer::Integer(n) => {
                            v.int("valueInteger", *n);
                        }
                    });
                });
            });
        }
    });
}

fn write_appointment(o: &mut Obj<'_>, appointment: &AppointmentEntry, subject: &str) {
    head(
        o,
        "Appointment",
        &appointment.id,
        appointment.end.later_same_day(60),
    );
    o.str("status", appointment.status);
    concepts(o, "serviceType", std::slice::from_ref(&appointment.service));
    concept(o, "appointmentType", &appointment.appointment_type);
    o.str("description", appointment.description);
    stamp(o, "start", appointment.start);
    stamp(o, "end", appointment.end);
    o.str_with("created", |s| push_date(s, appointment.created));
    // R4 Appointment names the patient only as a participant's actor.
    o.arr("participant", |a| {
        a.obj(|p| {
            reference(p, "actor", subject);
            p.str("required", "required").str("status", "accepted");
        });
    });
}

// ---- Engagement ---------------------------------------------------------------------------

fn engagement(o: &mut Obj<'_>, signal: &Signal, patient_id: &str) {
    o.str("patient", patient_id).str("kind", signal.kind);
    match signal.at {
        When::Day(date) => {
            o.str_with("at", |s| push_date(s, date));
        }
        When::Moment(at) => stamp(o, "at", at),
    }
    if let Some(channel) = signal.channel {
        o.str("channel", channel);
    }
}
