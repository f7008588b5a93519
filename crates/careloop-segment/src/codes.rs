//! Codings and value sets: systems normalised by their aliases, and the named value sets of
//! `schema/valuesets/` that rules refer to.

use serde::Deserialize;
use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::SegmentError;

/// A code system, its aliases folded together.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, Deserialize)]
pub enum System {
    Snomed,
    Loinc,
    Cpt,
    Hcpcs,
    Icd10,
    RxNorm,
    Other(String),
}

impl System {
    /// The system of a FHIR `Coding.system` URI, by the aliases of CARE_GAP_RULES.md.
    pub fn from_uri(uri: &str) -> System {
        match uri {
            "http://snomed.info/sct" | "urn:oid:2.16.840.1.113883.6.96" => System::Snomed,
            "http://loinc.org" | "urn:oid:2.16.840.1.113883.6.1" => System::Loinc,
            "http://www.ama-assn.org/go/cpt" | "urn:oid:2.16.840.1.113883.6.12" => System::Cpt,
            "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
            | "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
            | "urn:oid:2.16.840.1.113883.6.285" => System::Hcpcs,
            "http://hl7.org/fhir/sid/icd-10-cm" | "http://hl7.org/fhir/sid/icd-10" => System::Icd10,
            "http://www.nlm.nih.gov/research/umls/rxnorm" => System::RxNorm,
            other => System::Other(other.to_owned()),
        }
    }

    /// The system of a value-set file's `system` name.
    fn from_name(name: &str) -> Option<System> {
        Some(match name {
            "SNOMED" => System::Snomed,
            "LOINC" => System::Loinc,
            "CPT" => System::Cpt,
            "HCPCS" => System::Hcpcs,
            "ICD10" => System::Icd10,
            "RXNORM" => System::RxNorm,
            _ => return None,
        })
    }
}

/// One coding: a normalised system and a code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
pub struct Coding {
    pub system: System,
    /// Inline up to 24 bytes (every code of the value sets we ship): no allocation per code.
    pub code: compact_str::CompactString,
}

/// A named set of codes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValueSet {
    pub name: String,
    /// Codes by system: looked up with borrowed strings, so a check allocates nothing (it runs
    /// for every coding of every fact of every patient).
    codes: HashMap<System, HashSet<String>>,
    icd10_prefixes: Vec<String>,
    /// Codes matched on the code alone, whatever the system: Encounter.class codes and
    /// imaging series modalities.
    bare_codes: HashSet<String>,
    /// A one-word Bloom filter over the `codes`: a coding whose [`code_bit`] is not set is
    /// not in the set, decided without hashing. Most codings of a panel are in no value set
    /// (vital signs, routine procedures), so most checks end here.
    bloom: u64,
}

/// The filter bit of a code: from its length and its last two bytes, which differ most among
/// codes (check digits of LOINC and SNOMED, the last letters of the rest).
#[inline]
fn code_bit(code: &str) -> u64 {
    let bytes = code.as_bytes();
    let last = bytes.last().copied().unwrap_or(0) as u64;
    let before = bytes.len().checked_sub(2).map_or(0, |i| bytes[i]) as u64;
    1 << ((last * 7 + before * 3 + bytes.len() as u64) % 64)
}

impl ValueSet {
    /// Whether a coding is in the set (system and code, or an ICD-10 code under a listed
    /// prefix).
    #[inline]
    pub fn contains(&self, coding: &Coding) -> bool {
        if self.bloom & code_bit(&coding.code) == 0 && self.icd10_prefixes.is_empty() {
            return false;
        }
        self.contains_slow(coding)
    }

    fn contains_slow(&self, coding: &Coding) -> bool {
        if self
            .codes
            .get(&coding.system)
            .is_some_and(|codes| codes.contains(coding.code.as_str()))
        {
            return true;
        }
        coding.system == System::Icd10
            && self
                .icd10_prefixes
                .iter()
                .any(|p| coding.code.starts_with(p.as_str()))
    }

    /// Whether a code matched on its own (an encounter class, a modality) is in the set.
    pub fn contains_bare(&self, code: &str) -> bool {
        self.bare_codes.contains(code)
    }
}

/// The value-set file format (`schema/valuesets/NAME.json`, see valueset.schema.json).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueSetFile {
    name: String,
    #[allow(dead_code)]
    title: String,
    #[allow(dead_code)]
    description: String,
    include: Vec<Include>,
    #[serde(default)]
    #[allow(dead_code)]
    excluded_on_purpose: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Include {
    system: String,
    #[serde(default)]
    codes: Vec<String>,
    #[serde(default)]
    prefixes: Vec<String>,
}

/// Value sets by name.
pub type ValueSets = BTreeMap<String, ValueSet>;

/// Parses value-set files given as (file name, text).
pub fn parse_value_sets<'a>(
    files: impl IntoIterator<Item = (String, &'a str)>,
) -> Result<ValueSets, SegmentError> {
    let mut sets = ValueSets::new();
    for (file_name, text) in files {
        let file: ValueSetFile =
            serde_json::from_str(text).map_err(|e| SegmentError::Definition {
                file: file_name.clone(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })?;
        let located = |message: String| SegmentError::Definition {
            file: file_name.clone(),
            line: 1,
            column: 1,
            message,
        };
        let mut set = ValueSet {
            name: file.name.clone(),
            ..ValueSet::default()
        };
        for include in file.include {
            match include.system.as_str() {
                "ENCOUNTER_CLASS" | "DICOM_MODALITY" => set.bare_codes.extend(include.codes),
                "ICD10_PREFIX" => set.icd10_prefixes.extend(include.prefixes),
                name => {
                    let system = System::from_name(name).ok_or_else(|| {
                        located(format!(
                            "unknown system {name:?} (expected SNOMED, LOINC, CPT, HCPCS, ICD10, ICD10_PREFIX, RXNORM, ENCOUNTER_CLASS or DICOM_MODALITY)"
                        ))
                    })?;
                    for code in &include.codes {
                        set.bloom |= code_bit(code);
                    }
                    set.codes.entry(system).or_default().extend(include.codes);
                }
            }
        }
        if sets.insert(file.name.clone(), set).is_some() {
            return Err(located(format!(
                "value set {:?} is defined twice",
                file.name
            )));
        }
    }
    Ok(sets)
}
