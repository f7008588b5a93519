//! One resource: the few fields the importer reads (type, id, version, patient reference,
//! the Patient's listing fields), reference resolution, and compaction of the JSON text.

use careloop_store::PatientSummary;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::dates;

/// Resource types Careloop stores; every other type is counted and skipped.
pub const STORED_TYPES: &[&str] = &[
    "Appointment",
    "Condition",
    "Coverage",
    "DiagnosticReport",
    "Encounter",
    "ImagingStudy",
    "Immunization",
    "Medication",
    "MedicationRequest",
    "Observation",
    "Patient",
    "Procedure",
    "QuestionnaireResponse",
];

pub fn is_stored_type(resource_type: &str) -> bool {
    STORED_TYPES.binary_search(&resource_type).is_ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Head<'a> {
    pub resource_type: Option<String>,
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub subject: Option<Reference>,
    pub patient: Option<Reference>,
    pub beneficiary: Option<Reference>,
    /// Appointment (R4) names its patient only as a participant's actor.
    #[serde(default)]
    pub participant: Vec<Participant>,
    /// The date fields the segmentation reads, kept raw: they are checked only for the types
    /// Careloop stores (see [`Head::check_dates`]).
    #[serde(borrow)]
    birth_date: Option<&'a RawValue>,
    #[serde(borrow)]
    deceased_date_time: Option<&'a RawValue>,
    #[serde(borrow)]
    onset_date_time: Option<&'a RawValue>,
    #[serde(borrow)]
    onset_period: Option<&'a RawValue>,
    #[serde(borrow)]
    recorded_date: Option<&'a RawValue>,
    #[serde(borrow)]
    abatement_date_time: Option<&'a RawValue>,
    #[serde(borrow)]
    abatement_period: Option<&'a RawValue>,
    #[serde(borrow)]
    period: Option<&'a RawValue>,
    #[serde(borrow)]
    effective_date_time: Option<&'a RawValue>,
    #[serde(borrow)]
    effective_period: Option<&'a RawValue>,
    #[serde(borrow)]
    effective_instant: Option<&'a RawValue>,
    #[serde(borrow)]
    issued: Option<&'a RawValue>,
    #[serde(borrow)]
    performed_date_time: Option<&'a RawValue>,
    #[serde(borrow)]
    performed_period: Option<&'a RawValue>,
    #[serde(borrow)]
    occurrence_date_time: Option<&'a RawValue>,
    #[serde(borrow)]
    started: Option<&'a RawValue>,
    #[serde(borrow)]
    authored_on: Option<&'a RawValue>,
    #[serde(borrow)]
    authored: Option<&'a RawValue>,
    #[serde(borrow)]
    start: Option<&'a RawValue>,
    #[serde(borrow)]
    end: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub(crate) struct Participant {
    pub actor: Option<Reference>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Meta {
    pub version_id: Option<String>,
    pub last_updated: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Reference {
    pub reference: Option<String>,
}

#[derive(Deserialize)]
struct Period<'a> {
    #[serde(borrow)]
    start: Option<&'a RawValue>,
    #[serde(borrow)]
    end: Option<&'a RawValue>,
}

/// Checks one date field: a JSON string that is a FHIR `date` (or `dateTime`). The message
/// names the field, never the value.
fn check_date(
    resource_type: &str,
    field: &str,
    raw: Option<&RawValue>,
    date_only: bool,
) -> Result<(), String> {
    let Some(raw) = raw else {
        return Ok(());
    };
    let text: std::borrow::Cow<'_, str> = serde_json::from_str(raw.get())
        .map_err(|_| format!("{resource_type}.{field}: expected a string"))?;
    let valid = if date_only {
        dates::is_date(&text)
    } else {
        dates::is_date_time(&text)
    };
    if valid {
        Ok(())
    } else if date_only {
        Err(format!(
            "{resource_type}.{field}: not a valid FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)"
        ))
    } else {
        Err(format!(
            "{resource_type}.{field}: not a valid FHIR dateTime (a date, or YYYY-MM-DDThh:mm:ss with a zone)"
        ))
    }
}

fn check_period(resource_type: &str, field: &str, raw: Option<&RawValue>) -> Result<(), String> {
    let Some(raw) = raw else {
        return Ok(());
    };
    let period: Period<'_> = serde_json::from_str(raw.get())
        .map_err(|_| format!("{resource_type}.{field}: expected a Period (an object)"))?;
    check_date(
        resource_type,
        &format!("{field}.start"),
        period.start,
        false,
    )?;
    check_date(resource_type, &format!("{field}.end"), period.end, false)
}

impl Head<'_> {
    /// Checks the date fields the segmentation reads, and `meta.lastUpdated`, which orders
    /// versions: each present one must be a valid FHIR date or dateTime.
    pub fn check_dates(&self, resource_type: &str) -> Result<(), String> {
        let t = resource_type;
        check_date(t, "birthDate", self.birth_date, true)?;
        for (field, raw) in [
            ("deceasedDateTime", self.deceased_date_time),
            ("onsetDateTime", self.onset_date_time),
            ("recordedDate", self.recorded_date),
            ("abatementDateTime", self.abatement_date_time),
            ("effectiveDateTime", self.effective_date_time),
            ("effectiveInstant", self.effective_instant),
            ("issued", self.issued),
            ("performedDateTime", self.performed_date_time),
            ("occurrenceDateTime", self.occurrence_date_time),
            ("started", self.started),
            ("authoredOn", self.authored_on),
            ("authored", self.authored),
            ("start", self.start),
            ("end", self.end),
        ] {
            check_date(t, field, raw, false)?;
        }
        for (field, raw) in [
            ("onsetPeriod", self.onset_period),
            ("abatementPeriod", self.abatement_period),
            ("period", self.period),
            ("effectivePeriod", self.effective_period),
            ("performedPeriod", self.performed_period),
        ] {
            check_period(t, field, raw)?;
        }
        if let Some(last_updated) = self.meta.as_ref().and_then(|m| m.last_updated.as_deref()) {
            if !dates::is_date_time(last_updated) {
                return Err(format!(
                    "{t}.meta.lastUpdated: not a valid FHIR instant (YYYY-MM-DDThh:mm:ss with a zone)"
                ));
            }
        }
        Ok(())
    }

    /// The patient reference, if the resource has one: subject, patient or beneficiary, else
    /// (Appointment) the first participant whose actor is a `Patient/…` reference.
    pub fn patient_reference(&self) -> Option<(&'static str, &str)> {
        [
            ("subject", &self.subject),
            ("patient", &self.patient),
            ("beneficiary", &self.beneficiary),
        ]
        .into_iter()
        .find_map(|(field, r)| Some((field, r.as_ref()?.reference.as_deref()?)))
        .or_else(|| {
            self.participant
                .iter()
                .filter_map(|p| p.actor.as_ref()?.reference.as_deref())
                .find(|r| id_from_reference(r, Some("Patient")).is_some() && !r.starts_with("urn:"))
                .map(|r| ("participant.actor", r))
        })
    }
}

/// Checks the type and id read from a resource; returns them.
pub(crate) fn validate_identity<'a>(
    resource_type: Option<&'a str>,
    id: Option<&'a str>,
) -> Result<(&'a str, &'a str), String> {
    let resource_type = resource_type.ok_or("it has no resourceType")?;
    let well_formed_type = resource_type.len() <= 64
        && resource_type.starts_with(|c: char| c.is_ascii_uppercase())
        && resource_type.chars().all(|c| c.is_ascii_alphabetic());
    if !well_formed_type {
        return Err("its resourceType is not a FHIR resource type name".into());
    }
    let id = id.ok_or_else(|| {
        format!("the {resource_type} has no id (and no fullUrl to take one from)")
    })?;
    let well_formed_id = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !well_formed_id {
        return Err(format!(
            "the {resource_type} id is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)"
        ));
    }
    Ok((resource_type, id))
}

/// The id a reference or a fullUrl names: `urn:uuid:X`, `Type/X`, `http://…/Type/X`, with an
/// optional `/_history/n`. `want_type` restricts `Type` (None accepts any).
pub(crate) fn id_from_reference<'a>(
    reference: &'a str,
    want_type: Option<&str>,
) -> Option<&'a str> {
    if let Some(id) = reference.strip_prefix("urn:uuid:") {
        return (!id.is_empty()).then_some(id);
    }
    let path = match reference.find("/_history/") {
        Some(i) => &reference[..i],
        None => reference,
    };
    let mut parts = path.rsplit('/');
    let id = parts.next()?;
    let resource_type = parts.next()?;
    if id.is_empty() || !resource_type.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    match want_type {
        Some(t) if t != resource_type => None,
        _ => Some(id),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatientFields {
    #[serde(default)]
    name: Vec<HumanName>,
    birth_date: Option<String>,
    gender: Option<String>,
    deceased_boolean: Option<bool>,
    deceased_date_time: Option<String>,
    #[serde(default)]
    communication: Vec<Communication>,
    #[serde(default)]
    telecom: Vec<ContactPoint>,
    #[serde(default)]
    identifier: Vec<Identifier>,
    #[serde(default)]
    address: Vec<Address>,
}

#[derive(Deserialize)]
struct ContactPoint {
    system: Option<String>,
    value: Option<String>,
    rank: Option<u32>,
}

#[derive(Deserialize)]
struct Identifier {
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Address {
    #[serde(default)]
    line: Vec<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
}

/// What Careloop reads of a FHIR Patient, read in this one place: the patient list, the
/// search index and the case view show the same name, phone and address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatientRecord {
    /// The official name (else the first), given names then family; "(no name)" if none.
    pub name: String,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub deceased: bool,
    /// The preferred communication language's display (else text, else code).
    pub preferred_language: Option<String>,
    /// The system of the best-ranked contact point a channel can use: phone, sms or email.
    pub preferred_channel: Option<String>,
    /// Every identifier value.
    pub identifiers: Vec<String>,
    /// Every phone and SMS number, best-ranked first (unranked after ranked, in order).
    pub phones: Vec<String>,
    /// The number to call: the best-ranked `phone`, else the best-ranked `sms`.
    pub phone: Option<String>,
    /// The first address: its lines, city, state and postal code, comma-separated.
    pub address: Option<String>,
}

/// Reads a Patient resource's JSON. A value of the wrong type is an error naming its field.
pub fn read_patient(
    json: &str,
) -> Result<PatientRecord, serde_path_to_error::Error<serde_json::Error>> {
    // The plain parse first; a failure again with the field's path tracked, for the message.
    let p: PatientFields = match serde_json::from_str(json) {
        Ok(p) => p,
        Err(_) => serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(json))?,
    };
    let summary = summarize(&p);
    let mut ranked: Vec<(u32, usize, &ContactPoint)> = p
        .telecom
        .iter()
        .enumerate()
        .map(|(i, t)| (t.rank.unwrap_or(u32::MAX), i, t))
        .collect();
    ranked.sort_by_key(|(rank, i, _)| (*rank, *i));
    let numbers = |system: &'static str| {
        ranked
            .iter()
            .filter(move |(_, _, t)| t.system.as_deref() == Some(system))
            .filter_map(|(_, _, t)| t.value.clone())
    };
    let phones = ranked
        .iter()
        .filter(|(_, _, t)| matches!(t.system.as_deref(), Some("phone" | "sms")))
        .filter_map(|(_, _, t)| t.value.clone())
        .collect();
    let phone = numbers("phone").next().or_else(|| numbers("sms").next());
    let address = p.address.first().map(|a| {
        let mut parts: Vec<&str> = a.line.iter().map(String::as_str).collect();
        parts.extend(
            [&a.city, &a.state, &a.postal_code]
                .into_iter()
                .filter_map(|v| v.as_deref()),
        );
        parts.join(", ")
    });
    Ok(PatientRecord {
        name: summary.name,
        birth_date: summary.birth_date,
        gender: summary.gender,
        deceased: summary.deceased,
        preferred_language: summary.preferred_language,
        preferred_channel: summary.preferred_channel,
        identifiers: p.identifier.into_iter().filter_map(|i| i.value).collect(),
        phones,
        phone,
        address: address.filter(|a| !a.is_empty()),
    })
}

#[derive(Deserialize)]
struct HumanName {
    #[serde(rename = "use")]
    name_use: Option<String>,
    text: Option<String>,
    family: Option<String>,
    #[serde(default)]
    given: Vec<String>,
}

#[derive(Deserialize)]
struct Communication {
    language: Option<CodeableConcept>,
    preferred: Option<bool>,
}

#[derive(Deserialize)]
struct CodeableConcept {
    text: Option<String>,
    #[serde(default)]
    coding: Vec<Coding>,
}

#[derive(Deserialize)]
struct Coding {
    code: Option<String>,
    display: Option<String>,
}

/// What the patient list shows, read from a Patient resource's JSON ([`read_patient`]).
pub(crate) fn patient_summary(
    json: &str,
) -> Result<PatientSummary, serde_path_to_error::Error<serde_json::Error>> {
    let p = read_patient(json)?;
    Ok(PatientSummary {
        preferred_channel: p.preferred_channel,
        name: p.name,
        birth_date: p.birth_date,
        gender: p.gender,
        deceased: p.deceased,
        preferred_language: p.preferred_language,
    })
}

fn summarize(p: &PatientFields) -> PatientSummary {
    let name = p
        .name
        .iter()
        .find(|n| n.name_use.as_deref() == Some("official"))
        .or_else(|| p.name.first())
        .map(|n| match &n.text {
            Some(text) if n.family.is_none() && n.given.is_empty() => text.clone(),
            _ => {
                let mut parts: Vec<&str> = n.given.iter().map(String::as_str).collect();
                parts.extend(n.family.as_deref());
                parts.join(" ")
            }
        })
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "(no name)".to_owned());
    let language = p
        .communication
        .iter()
        .find(|c| c.preferred == Some(true))
        .or_else(|| p.communication.first())
        .and_then(|c| c.language.as_ref())
        .and_then(|l| {
            l.coding
                .iter()
                .find_map(|c| c.display.clone())
                .or_else(|| l.text.clone())
                .or_else(|| l.coding.iter().find_map(|c| c.code.clone()))
        });
    // The documented preferred channel: the best-ranked contact point a channel can use (an
    // unranked one comes after every ranked one; the first wins a tie).
    let preferred_channel = p
        .telecom
        .iter()
        .filter_map(|t| {
            let channel = match t.system.as_deref()? {
                "phone" => "phone",
                "sms" => "sms",
                "email" => "email",
                _ => return None,
            };
            Some((t.rank.unwrap_or(u32::MAX), channel))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, channel)| channel.to_owned());
    PatientSummary {
        preferred_channel,
        name,
        birth_date: p.birth_date.clone(),
        gender: p.gender.clone(),
        deceased: p.deceased_boolean == Some(true) || p.deceased_date_time.is_some(),
        preferred_language: language,
    }
}

/// Removes the insignificant white space of a JSON text (input known to be valid JSON).
/// Returns how deeply arrays and objects nest in it (`{}` is 1).
pub(crate) fn compact_json(json: &str, out: &mut String) -> usize {
    out.clear();
    out.reserve(json.len());
    let bytes = json.as_bytes();
    let mut depth = 0usize;
    let mut max_depth = 0usize;
    let mut in_string = false;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b' ' | b'\n' | b'\r' | b'\t' => {
                    out.push_str(&json[start..i]);
                    start = i + 1;
                }
                b'[' | b'{' => {
                    depth += 1;
                    max_depth = max_depth.max(depth);
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        i += 1;
    }
    out.push_str(&json[start..]);
    max_depth
}

#[cfg(test)]
mod tests {

    #[test]
    fn one_reader_gives_the_number_to_call_the_phones_and_the_address() {
        let p = read_patient(
            r#"{"resourceType":"Patient","id":"p1",
                "identifier":[{"system":"mrn","value":"MRN-1"},{"value":"SSN-2"},{"system":"x"}],
                "name":[{"given":["Ana"],"family":"Ruiz"}],
                "telecom":[{"system":"email","value":"a@x.org","rank":1},
                           {"system":"sms","value":"555-0100","rank":2},
                           {"system":"phone","value":"555-0199"},
                           {"system":"phone","value":"555-0111","rank":3}],
                "address":[{"line":["1 Main St","Apt 2"],"city":"Boston","state":"MA","postalCode":"02110"},
                           {"line":["old"]}]}"#,
        )
        .unwrap();
        assert_eq!(p.name, "Ana Ruiz");
        assert_eq!(p.identifiers, ["MRN-1", "SSN-2"]);
        assert_eq!(
            p.phones,
            ["555-0100", "555-0111", "555-0199"],
            "by rank, unranked last"
        );
        assert_eq!(
            p.phone.as_deref(),
            Some("555-0111"),
            "the best-ranked phone"
        );
        assert_eq!(p.preferred_channel.as_deref(), Some("email"));
        assert_eq!(
            p.address.as_deref(),
            Some("1 Main St, Apt 2, Boston, MA, 02110")
        );
        let sms_only = read_patient(
            r#"{"resourceType":"Patient","telecom":[{"system":"sms","value":"555-0100"}],"address":[{}]}"#,
        )
        .unwrap();
        assert_eq!(sms_only.phone.as_deref(), Some("555-0100"));
        assert_eq!(sms_only.address, None);
        assert_eq!(sms_only.name, "(no name)");
    }

    use super::*;

    #[test]
    fn references_resolve_in_every_documented_form() {
        assert_eq!(
            id_from_reference("urn:uuid:abc-1", Some("Patient")),
            Some("abc-1")
        );
        assert_eq!(id_from_reference("Patient/p1", Some("Patient")), Some("p1"));
        assert_eq!(
            id_from_reference("https://fhir.example.org/r4/Patient/p1", Some("Patient")),
            Some("p1")
        );
        assert_eq!(
            id_from_reference("Patient/p1/_history/3", Some("Patient")),
            Some("p1")
        );
        assert_eq!(id_from_reference("Group/g1", Some("Patient")), None);
        assert_eq!(id_from_reference("#contained", Some("Patient")), None);
    }

    #[test]
    fn compaction_keeps_white_space_inside_strings() {
        let mut out = String::new();
        let depth = compact_json(
            "{\n  \"a\" : \"x  y\\\" z\",\n  \"b\": [ 1, [2, \"[[[\"] ]\n}",
            &mut out,
        );
        assert_eq!(depth, 3, "brackets inside strings do not count");
        assert_eq!(out, r#"{"a":"x  y\" z","b":[1,[2,"[[["]]}"#);
    }

    #[test]
    fn the_preferred_channel_is_the_best_ranked_usable_contact_point() {
        let summary = |telecom: &str| {
            patient_summary(&format!(
                r#"{{"resourceType":"Patient","telecom":{telecom}}}"#
            ))
            .unwrap()
            .preferred_channel
        };
        assert_eq!(
            summary(r#"[{"system":"phone","rank":2},{"system":"email","rank":1}]"#).as_deref(),
            Some("email")
        );
        // Unranked comes after ranked; a fax is no channel.
        assert_eq!(
            summary(r#"[{"system":"fax","rank":1},{"system":"phone"},{"system":"sms","rank":3}]"#)
                .as_deref(),
            Some("sms")
        );
        assert_eq!(summary(r#"[{"system":"phone"}]"#).as_deref(), Some("phone"));
        assert_eq!(summary("[]"), None);
    }

    #[test]
    fn patient_summary_prefers_official_name_and_preferred_language() {
        let s = patient_summary(
            r#"{"resourceType":"Patient","name":[{"use":"usual","given":["Al"]},{"use":"official","given":["Adán","José"],"family":"Núñez"}],
               "birthDate":"1950-02-03","gender":"male","deceasedDateTime":"2020-01-01",
               "communication":[{"language":{"coding":[{"code":"en"}]}},{"preferred":true,"language":{"coding":[{"code":"es","display":"Spanish"}]}}]}"#,
        )
        .unwrap();
        assert_eq!(s.name, "Adán José Núñez");
        assert_eq!(s.preferred_language.as_deref(), Some("Spanish"));
        assert!(s.deceased);
    }
}
