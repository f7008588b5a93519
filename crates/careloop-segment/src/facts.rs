//! One patient's clinical facts, read from the stored FHIR bodies: what the rules and signals
//! need, with the status filters and event-date precedence of CARE_GAP_RULES.md applied once
//! here. Facts are still undated by the as-of date: `signals` and `eval` look at them as of D.

use std::collections::HashMap;

use chrono::NaiveDate;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codes::{Coding, System};
use crate::dates::fhir_date;

/// A coded fact with a date (observations, reports, procedures, immunizations).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatedFact {
    pub id: ResourceId,
    pub codes: Vec<Coding>,
    #[serde(with = "day")]
    pub date: Option<NaiveDate>,
    /// Observation.valueQuantity.value.
    pub value: Option<f64>,
    pub unit: Option<CompactString>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConditionFact {
    pub id: ResourceId,
    pub codes: Vec<Coding>,
    #[serde(with = "day")]
    pub onset: Option<NaiveDate>,
    #[serde(with = "day")]
    pub abatement: Option<NaiveDate>,
    /// clinicalStatus is resolved, inactive or remission.
    pub resolved_status: bool,
    /// abatementBoolean == true or abatementString present.
    pub abated_without_date: bool,
}

impl ConditionFact {
    /// Active at D: onset known and on or before D; then, with an abatement date, active iff it
    /// is after D; without one, active unless the status or an undated abatement says not.
    pub fn active_at(&self, d: NaiveDate) -> bool {
        match self.onset {
            Some(onset) if onset <= d => match self.abatement {
                Some(abatement) => abatement > d,
                None => !self.resolved_status && !self.abated_without_date,
            },
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EncounterFact {
    pub id: ResourceId,
    /// Encounter.class code (matched on the code alone).
    pub class: Option<CompactString>,
    pub types: Vec<Coding>,
    pub reasons: Vec<Coding>,
    #[serde(with = "day")]
    pub start: Option<NaiveDate>,
    #[serde(with = "day")]
    pub end: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MedicationFact {
    pub id: ResourceId,
    pub status: Option<CompactString>,
    #[serde(with = "day")]
    pub authored: Option<NaiveDate>,
    /// What makes two requests the same medication: the RxNorm code, else the text, else the
    /// request id.
    pub key: CompactString,
    pub codes: Vec<Coding>,
    pub at_discharge: bool,
}

impl MedicationFact {
    /// Active at D: status active and authored (if known) on or before D.
    pub fn active_at(&self, d: NaiveDate) -> bool {
        self.status.as_deref() == Some("active") && self.authored.is_none_or(|a| a <= d)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImagingFact {
    pub id: ResourceId,
    pub procedure_codes: Vec<Coding>,
    pub modalities: Vec<CompactString>,
    #[serde(with = "day")]
    pub date: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppointmentFact {
    pub id: ResourceId,
    pub status: Option<CompactString>,
    pub service_types: Vec<Coding>,
    #[serde(with = "day")]
    pub date: Option<NaiveDate>,
}

/// One answer of a QuestionnaireResponse (social-needs screening and the like).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnswerFact {
    pub id: ResourceId,
    /// The item's linkId (a LOINC code for AHC HRSN screenings) as a LOINC coding, plus the
    /// answer's coding, so value sets can name either.
    pub codes: Vec<Coding>,
    pub link_id: CompactString,
    pub answer_code: Option<CompactString>,
    pub answer_number: Option<f64>,
    pub answer_bool: Option<bool>,
    #[serde(with = "day")]
    pub date: Option<NaiveDate>,
}

/// An engagement signal from the service (check-ins, portal use).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementFact {
    pub kind: CompactString,
    #[serde(with = "day")]
    pub date: Option<NaiveDate>,
}

/// A resource's id as the facts keep it: a UUID in its canonical lower-case form (what
/// Synthea and most bulk exports use) as its 16 bytes, any other id as text. Shown and
/// compared as the text it was read from.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResourceId {
    Uuid([u8; 16]),
    Text(Box<str>),
}

impl From<&str> for ResourceId {
    fn from(text: &str) -> ResourceId {
        parse_uuid(text).map_or_else(|| ResourceId::Text(text.into()), ResourceId::Uuid)
    }
}

/// The 16 bytes of `8-4-4-4-12` lower-case hex, only when printing them gives `text` back.
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut nibbles = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b != b'-' {
                return None;
            }
            continue;
        }
        let v = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        out[nibbles / 2] |= if nibbles % 2 == 0 { v << 4 } else { v };
        nibbles += 1;
    }
    Some(out)
}

impl std::fmt::Display for ResourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResourceId::Text(text) => f.write_str(text),
            ResourceId::Uuid(bytes) => {
                for (i, b) in bytes.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        f.write_str("-")?;
                    }
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::fmt::Debug for ResourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

/// Everything known about one patient.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientFacts {
    pub id: String,
    #[serde(with = "day")]
    pub birth_date: Option<NaiveDate>,
    pub gender: Option<String>,
    pub deceased_boolean: bool,
    #[serde(with = "day")]
    pub deceased_date: Option<NaiveDate>,
    pub language: Option<String>,
    pub payer: Option<String>,
    /// The text of the us-core-race and us-core-ethnicity extensions (else the first OMB
    /// category's display): for equity reporting only, never for segmentation.
    pub race: Option<String>,
    pub ethnicity: Option<String>,
    pub conditions: Vec<ConditionFact>,
    pub encounters: Vec<EncounterFact>,
    pub observations: Vec<DatedFact>,
    pub reports: Vec<DatedFact>,
    pub procedures: Vec<DatedFact>,
    pub immunizations: Vec<DatedFact>,
    pub imaging: Vec<ImagingFact>,
    pub medications: Vec<MedicationFact>,
    pub appointments: Vec<AppointmentFact>,
    pub answers: Vec<AnswerFact>,
    pub engagement: Vec<EngagementFact>,
}

/// The version of the fact store's encoding ([`encode`]): a new one when any type of this
/// module changes shape, so caches written by an older build derive their facts again.
pub const FACTS_SCHEMA: i64 = 2;

/// One person's facts as the fact store keeps them: postcard (varints, no field names),
/// dates as day numbers.
pub fn encode(facts: &PatientFacts) -> Result<Vec<u8>, crate::SegmentError> {
    postcard::to_stdvec(facts).map_err(|e| crate::SegmentError::Facts(e.to_string()))
}

/// The facts [`encode`] wrote (with this build's [`FACTS_SCHEMA`]).
pub fn decode(bytes: &[u8]) -> Result<PatientFacts, crate::SegmentError> {
    postcard::from_bytes(bytes).map_err(|e| crate::SegmentError::Facts(e.to_string()))
}

/// Optional dates as optional day numbers (days since 1 January of year 1): four bytes or
/// fewer instead of a string to parse.
mod day {
    use chrono::{Datelike, NaiveDate};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        d.map(|d| d.num_days_from_ce()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        Option::<i32>::deserialize(d)?
            .map(|n| {
                NaiveDate::from_num_days_from_ce_opt(n)
                    .ok_or_else(|| serde::de::Error::custom("day number out of range"))
            })
            .transpose()
    }
}

/// Shared resources that patients' resources point at (Medication, by id).
#[derive(Clone, Debug, Default)]
pub struct SharedFacts {
    /// Medication id -> its RxNorm code, else its text.
    pub medication_keys: HashMap<String, String>,
}

impl SharedFacts {
    /// Reads Medication bodies.
    pub fn from_medications<'a>(
        medications: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> SharedFacts {
        let mut keys = HashMap::new();
        for (id, body) in medications {
            if let Ok(json) = serde_json::from_str::<Value>(body) {
                if let Some(key) = medication_key(&json["code"]) {
                    keys.insert(id.to_owned(), key);
                }
            }
        }
        SharedFacts {
            medication_keys: keys,
        }
    }
}

/// The `text` of a US Core race or ethnicity extension, else its first `ombCategory` display.
fn us_core_text(patient: &Value, name: &str) -> Option<String> {
    let extension = patient["extension"]
        .as_array()?
        .iter()
        .find(|e| str_of(e, "url").is_some_and(|u| u.ends_with(name)))?;
    let parts = extension["extension"].as_array()?;
    let part = |url: &str| parts.iter().find(|p| str_of(p, "url") == Some(url));
    part("text")
        .and_then(|p| str_of(p, "valueString"))
        .or_else(|| part("ombCategory").and_then(|p| str_of(&p["valueCoding"], "display")))
        .map(str::to_owned)
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn date_of(v: &Value, key: &str) -> Option<NaiveDate> {
    str_of(v, key).and_then(fhir_date)
}

/// The first of several date paths that is present, as the rules list them.
fn first_date(v: &Value, paths: &[(&str, Option<&str>)]) -> Option<NaiveDate> {
    paths.iter().find_map(|(key, sub)| {
        let value = v.get(*key)?;
        let text = match sub {
            Some(sub) => value.get(*sub)?.as_str()?,
            None => value.as_str()?,
        };
        // A present but malformed value still counts as "present" for precedence; it
        // simply gives no date.
        Some(fhir_date(text))
    })?
}

fn codings(concept: &Value) -> impl Iterator<Item = Coding> + '_ {
    concept
        .get("coding")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some(Coding {
                system: System::from_uri(str_of(c, "system").unwrap_or("")),
                code: str_of(c, "code")?.into(),
            })
        })
}

fn concepts(list: &Value) -> Vec<Coding> {
    list.as_array()
        .into_iter()
        .flatten()
        .flat_map(codings)
        .collect()
}

fn status_in(v: &Value, key: &str, excluded: &[&str]) -> bool {
    str_of(v, key).is_some_and(|s| excluded.contains(&s))
}

fn concept_code_in(concept: &Value, codes: &[&str]) -> bool {
    concept
        .get("coding")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| str_of(c, "code").is_some_and(|code| codes.contains(&code)))
}

/// The distinct-medication key of a CodeableConcept: its RxNorm code, else its text.
fn medication_key(concept: &Value) -> Option<String> {
    codings(concept)
        .find(|c| c.system == System::RxNorm)
        .map(|c| format!("rxnorm:{}", c.code))
        .or_else(|| str_of(concept, "text").map(|t| format!("text:{t}")))
}

impl PatientFacts {
    /// Who the person is, without their clinical record: the demographic fields and the
    /// engagement signals, every clinical list empty. What the weekly review's groups read;
    /// the fact store keeps it beside the facts.
    pub fn summary(&self) -> PatientFacts {
        PatientFacts {
            id: self.id.clone(),
            birth_date: self.birth_date,
            gender: self.gender.clone(),
            deceased_boolean: self.deceased_boolean,
            deceased_date: self.deceased_date,
            language: self.language.clone(),
            payer: self.payer.clone(),
            race: self.race.clone(),
            ethnicity: self.ethnicity.clone(),
            engagement: self.engagement.clone(),
            ..PatientFacts::default()
        }
    }

    /// Reads one patient's stored resources (type, body). Bodies that are not JSON are passed
    /// over: the importer only stores valid JSON.
    pub fn from_resources(
        id: &str,
        resources: &[(String, String)],
        shared: &SharedFacts,
    ) -> PatientFacts {
        let mut facts = PatientFacts {
            id: id.to_owned(),
            ..PatientFacts::default()
        };
        for (resource_type, body) in resources {
            let Ok(json) = serde_json::from_str::<Value>(body) else {
                continue;
            };
            facts.add(resource_type, &json, shared);
        }
        facts
    }

    /// Adds one resource's facts (as `from_resources` does for each).
    pub fn add_resource(&mut self, resource_type: &str, r: &Value, shared: &SharedFacts) {
        self.add(resource_type, r, shared);
    }

    fn add(&mut self, resource_type: &str, r: &Value, shared: &SharedFacts) {
        let id = ResourceId::from(str_of(r, "id").unwrap_or_default());
        match resource_type {
            "Patient" => {
                self.birth_date = date_of(r, "birthDate");
                self.gender = str_of(r, "gender").map(str::to_owned);
                self.deceased_boolean =
                    r.get("deceasedBoolean").and_then(Value::as_bool) == Some(true);
                self.deceased_date = date_of(r, "deceasedDateTime");
                self.language = r["communication"].as_array().and_then(|list| {
                    let preferred = list
                        .iter()
                        .find(|c| c["preferred"].as_bool() == Some(true))
                        .or(list.first())?;
                    codings(&preferred["language"])
                        .next()
                        .map(|c| c.code.into())
                });
                self.race = us_core_text(r, "us-core-race");
                self.ethnicity = us_core_text(r, "us-core-ethnicity");
            }
            "Condition" => {
                if concept_code_in(&r["verificationStatus"], &["refuted", "entered-in-error"]) {
                    return;
                }
                self.conditions.push(ConditionFact {
                    id,
                    codes: codings(&r["code"]).collect(),
                    onset: first_date(
                        r,
                        &[
                            ("onsetDateTime", None),
                            ("onsetPeriod", Some("start")),
                            ("recordedDate", None),
                        ],
                    ),
                    abatement: first_date(
                        r,
                        &[
                            ("abatementDateTime", None),
                            ("abatementPeriod", Some("end")),
                            ("abatementPeriod", Some("start")),
                        ],
                    ),
                    resolved_status: concept_code_in(
                        &r["clinicalStatus"],
                        &["resolved", "inactive", "remission"],
                    ),
                    abated_without_date: r.get("abatementBoolean").and_then(Value::as_bool)
                        == Some(true)
                        || r.get("abatementString").is_some(),
                });
            }
            "Encounter" => {
                if status_in(r, "status", &["cancelled", "entered-in-error", "planned"]) {
                    return;
                }
                // R4 Encounter.class is a Coding; older data may carry a CodeableConcept list.
                let class = str_of(&r["class"], "code")
                    .map(CompactString::from)
                    .or_else(|| {
                        r["class"]
                            .as_array()
                            .and_then(|l| l.iter().flat_map(codings).next())
                            .map(|c| c.code)
                    });
                self.encounters.push(EncounterFact {
                    id,
                    class,
                    types: concepts(&r["type"]),
                    reasons: concepts(&r["reasonCode"]),
                    start: date_of(&r["period"], "start"),
                    end: date_of(&r["period"], "end"),
                });
            }
            "Observation" => {
                if status_in(r, "status", &["cancelled", "entered-in-error"]) {
                    return;
                }
                self.observations.push(DatedFact {
                    id,
                    codes: codings(&r["code"]).collect(),
                    date: first_date(
                        r,
                        &[
                            ("effectiveDateTime", None),
                            ("effectivePeriod", Some("start")),
                            ("effectiveInstant", None),
                            ("issued", None),
                        ],
                    ),
                    value: r["valueQuantity"]["value"].as_f64(),
                    unit: str_of(&r["valueQuantity"], "unit").map(CompactString::from),
                });
            }
            "DiagnosticReport" => {
                if status_in(r, "status", &["cancelled", "entered-in-error"]) {
                    return;
                }
                self.reports.push(DatedFact {
                    id,
                    codes: codings(&r["code"]).collect(),
                    date: first_date(
                        r,
                        &[
                            ("effectiveDateTime", None),
                            ("effectivePeriod", Some("start")),
                            ("issued", None),
                        ],
                    ),
                    value: None,
                    unit: None,
                });
            }
            "Procedure" => {
                if status_in(r, "status", &["entered-in-error", "not-done"]) {
                    return;
                }
                self.procedures.push(DatedFact {
                    id,
                    codes: codings(&r["code"]).collect(),
                    date: first_date(
                        r,
                        &[
                            ("performedDateTime", None),
                            ("performedPeriod", Some("start")),
                        ],
                    ),
                    value: None,
                    unit: None,
                });
            }
            "Immunization" => {
                if status_in(r, "status", &["entered-in-error", "not-done"]) {
                    return;
                }
                self.immunizations.push(DatedFact {
                    id,
                    codes: codings(&r["vaccineCode"]).collect(),
                    date: first_date(r, &[("occurrenceDateTime", None)]),
                    value: None,
                    unit: None,
                });
            }
            "ImagingStudy" => {
                if status_in(r, "status", &["cancelled", "entered-in-error"]) {
                    return;
                }
                self.imaging.push(ImagingFact {
                    id,
                    procedure_codes: concepts(&r["procedureCode"]),
                    modalities: r["series"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| str_of(&s["modality"], "code").map(CompactString::from))
                        .collect(),
                    date: date_of(r, "started"),
                });
            }
            "MedicationRequest" => {
                let concept = &r["medicationCodeableConcept"];
                let referenced =
                    str_of(&r["medicationReference"], "reference").and_then(|reference| {
                        if let Some(local) = reference.strip_prefix('#') {
                            // A contained Medication.
                            r["contained"]
                                .as_array()?
                                .iter()
                                .find(|c| str_of(c, "id") == Some(local))
                                .and_then(|m| medication_key(&m["code"]))
                        } else {
                            let target = reference.rsplit('/').next().unwrap_or(reference);
                            let target = target.strip_prefix("urn:uuid:").unwrap_or(target);
                            shared.medication_keys.get(target).cloned()
                        }
                    });
                let key = codings(concept)
                    .find(|c| c.system == System::RxNorm)
                    .map(|c| format!("rxnorm:{}", c.code))
                    .or_else(|| referenced.filter(|k| k.starts_with("rxnorm:")))
                    .or_else(|| str_of(concept, "text").map(|t| format!("text:{t}")))
                    .unwrap_or_else(|| format!("id:{id}"));
                self.medications.push(MedicationFact {
                    key: key.into(),
                    status: str_of(r, "status").map(CompactString::from),
                    authored: date_of(r, "authoredOn"),
                    codes: codings(concept).collect(),
                    at_discharge: r["category"]
                        .as_array()
                        .is_some_and(|l| l.iter().any(|c| concept_code_in(c, &["discharge"]))),
                    id,
                });
            }
            "Appointment" => {
                self.appointments.push(AppointmentFact {
                    id,
                    status: str_of(r, "status").map(CompactString::from),
                    service_types: concepts(&r["serviceType"]),
                    date: date_of(r, "start"),
                });
            }
            "QuestionnaireResponse" => {
                if status_in(r, "status", &["entered-in-error", "stopped"]) {
                    return;
                }
                let date = date_of(r, "authored");
                let mut items: Vec<&Value> = r["item"]
                    .as_array()
                    .map(|l| l.iter().collect())
                    .unwrap_or_default();
                while let Some(item) = items.pop() {
                    items.extend(item["item"].as_array().into_iter().flatten());
                    let Some(link_id) = str_of(item, "linkId") else {
                        continue;
                    };
                    for answer in item["answer"].as_array().into_iter().flatten() {
                        let coding = answer.get("valueCoding");
                        let mut codes = vec![Coding {
                            system: System::Loinc,
                            code: link_id.into(),
                        }];
                        codes.extend(coding.and_then(|c| {
                            Some(Coding {
                                system: System::from_uri(str_of(c, "system").unwrap_or("")),
                                code: str_of(c, "code")?.into(),
                            })
                        }));
                        self.answers.push(AnswerFact {
                            id: id.clone(),
                            codes,
                            link_id: link_id.into(),
                            answer_code: coding
                                .and_then(|c| str_of(c, "code"))
                                .map(CompactString::from),
                            answer_number: answer
                                .get("valueInteger")
                                .or(answer.get("valueDecimal"))
                                .and_then(Value::as_f64),
                            answer_bool: answer.get("valueBoolean").and_then(Value::as_bool),
                            date,
                        });
                    }
                }
            }
            "Coverage" if self.payer.is_none() || str_of(r, "status") == Some("active") => {
                self.payer = r["type"]["coding"]
                    .as_array()
                    .and_then(|l| l.first())
                    .and_then(|c| str_of(c, "display").or(str_of(c, "code")))
                    .or_else(|| {
                        r["payor"]
                            .as_array()?
                            .first()
                            .and_then(|p| str_of(p, "display"))
                    })
                    .map(str::to_owned);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_read_back_as_the_text_they_were_read_from() {
        let uuid = "829efb6f-6708-49b5-a7eb-9e6d17ff141f";
        assert!(matches!(ResourceId::from(uuid), ResourceId::Uuid(_)));
        for text in [
            uuid,
            "829EFB6F-6708-49B5-A7EB-9E6D17FF141F",
            "829efb6f6708-49b5-a7eb-9e6d17ff141f-",
            "829efb6f-6708-49b5-a7eb-9e6d17ff141g",
            "obs-1",
            "",
        ] {
            let id = ResourceId::from(text);
            assert_eq!(id.to_string(), text);
            assert_eq!(
                matches!(id, ResourceId::Uuid(_)),
                text == uuid,
                "{text:?} is kept as {id:?}"
            );
            let facts = PatientFacts {
                id: "p".into(),
                observations: vec![DatedFact {
                    id: id.clone(),
                    codes: Vec::new(),
                    date: None,
                    value: None,
                    unit: None,
                }],
                ..PatientFacts::default()
            };
            assert_eq!(decode(&encode(&facts).unwrap()).unwrap(), facts);
        }
    }
}
