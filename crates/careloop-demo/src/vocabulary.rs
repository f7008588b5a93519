//! Every code the demo panel writes: code systems, clinical codes (SNOMED CT, LOINC, RxNorm,
//! CVX, CPT, HCPCS), social-needs screening items and answers, and the few Careloop-local codes
//! for operational signals that no standard code system covers.
//!
//! Codes that CARE_GAP_RULES.md names (diabetes, HbA1c, mammography, wellness visits, Charlson
//! categories) are taken from its value sets so the built-in segments find them.

/// One coding: system, code and display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Code {
    pub system: &'static str,
    pub code: &'static str,
    pub display: &'static str,
}

// ---- Code systems -------------------------------------------------------------------------

pub(crate) const SNOMED: &str = "http://snomed.info/sct";
pub(crate) const LOINC: &str = "http://loinc.org";
pub(crate) const CPT: &str = "http://www.ama-assn.org/go/cpt";
pub(crate) const HCPCS: &str = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";
pub(crate) const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
pub(crate) const CVX: &str = "http://hl7.org/fhir/sid/cvx";
pub(crate) const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
pub(crate) const BCP47: &str = "urn:ietf:bcp:47";
/// CDC Race & Ethnicity code system (OMB categories) used by the US Core extensions.
pub(crate) const CDC_RACE_ETHNICITY: &str = "urn:oid:2.16.840.1.113883.6.238";
pub(crate) const NULL_FLAVOR: &str = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor";
/// PHIN VADS Source of Payment Typology (the US Core Coverage.type binding).
pub(crate) const PAYMENT_TYPOLOGY: &str = "urn:oid:2.16.840.1.113883.3.221.5";
pub(crate) const SUBSCRIBER_RELATIONSHIP: &str =
    "http://terminology.hl7.org/CodeSystem/subscriber-relationship";
pub(crate) const CONDITION_CLINICAL: &str =
    "http://terminology.hl7.org/CodeSystem/condition-clinical";
pub(crate) const CONDITION_VERIFICATION: &str =
    "http://terminology.hl7.org/CodeSystem/condition-ver-status";
pub(crate) const CONDITION_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/condition-category";
pub(crate) const OBSERVATION_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/observation-category";
pub(crate) const MEDICATION_REQUEST_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/medicationrequest-category";
pub(crate) const DIAGNOSTIC_SERVICE: &str = "http://terminology.hl7.org/CodeSystem/v2-0074";
pub(crate) const APPOINTMENT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v2-0276";
pub(crate) const DISCHARGE_DISPOSITION: &str =
    "http://terminology.hl7.org/CodeSystem/discharge-disposition";
pub(crate) const IDENTIFIER_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
pub(crate) const DICOM: &str = "http://dicom.nema.org/resources/ontology/DCM";
pub(crate) const UCUM: &str = "http://unitsofmeasure.org";
/// Careloop-local codes for operational signals (assisted setup, incidents); see the crate doc.
pub(crate) const CARELOOP_SIGNAL: &str = "https://careloop.example/fhir/CodeSystem/care-signal";
/// Careloop-local service types of reviews and welfare tasks (Appointment.serviceType).
pub(crate) const CARELOOP_SERVICE: &str =
    "https://careloop.example/fhir/CodeSystem/outreach-service";
/// The panel's medical record numbers.
pub(crate) const CARELOOP_MRN: &str = "https://careloop.example/fhir/sid/mrn";

pub(crate) const US_CORE_RACE: &str =
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race";
pub(crate) const US_CORE_ETHNICITY: &str =
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity";
pub(crate) const US_CORE_BIRTH_SEX: &str =
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex";

const fn snomed(code: &'static str, display: &'static str) -> Code {
    Code {
        system: SNOMED,
        code,
        display,
    }
}
const fn loinc(code: &'static str, display: &'static str) -> Code {
    Code {
        system: LOINC,
        code,
        display,
    }
}
const fn rxnorm(code: &'static str, display: &'static str) -> Code {
    Code {
        system: RXNORM,
        code,
        display,
    }
}
const fn cvx(code: &'static str, display: &'static str) -> Code {
    Code {
        system: CVX,
        code,
        display,
    }
}
const fn cpt(code: &'static str, display: &'static str) -> Code {
    Code {
        system: CPT,
        code,
        display,
    }
}
const fn hcpcs(code: &'static str, display: &'static str) -> Code {
    Code {
        system: HCPCS,
        code,
        display,
    }
}
const fn signal(code: &'static str, display: &'static str) -> Code {
    Code {
        system: CARELOOP_SIGNAL,
        code,
        display,
    }
}
const fn service(code: &'static str, display: &'static str) -> Code {
    Code {
        system: CARELOOP_SERVICE,
        code,
        display,
    }
}

// ---- Encounters ---------------------------------------------------------------------------

pub(crate) const CLASS_AMBULATORY: Code = Code {
    system: ACT_CODE,
    code: "AMB",
    display: "ambulatory",
};
pub(crate) const CLASS_EMERGENCY: Code = Code {
    system: ACT_CODE,
    code: "EMER",
    display: "emergency",
};
pub(crate) const CLASS_INPATIENT: Code = Code {
    system: ACT_CODE,
    code: "IMP",
    display: "inpatient encounter",
};

pub(crate) const CHECK_UP: Code = snomed("185349003", "Encounter for check up (procedure)");
pub(crate) const WELL_CHILD_VISIT: Code = snomed("410620009", "Well child visit (procedure)");
pub(crate) const PREVENTIVE_VISIT_18_39: Code = cpt(
    "99395",
    "Periodic preventive medicine visit, established patient, 18-39 years",
);
pub(crate) const PREVENTIVE_VISIT_40_64: Code = cpt(
    "99396",
    "Periodic preventive medicine visit, established patient, 40-64 years",
);
pub(crate) const PREVENTIVE_VISIT_65_PLUS: Code = cpt(
    "99397",
    "Periodic preventive medicine visit, established patient, 65 years and older",
);
pub(crate) const PREVENTIVE_VISIT_CHILD: Code = cpt(
    "99393",
    "Periodic preventive medicine visit, established patient, 5-11 years",
);
pub(crate) const ANNUAL_WELLNESS_INITIAL: Code = hcpcs(
    "G0438",
    "Annual wellness visit, personalized prevention plan, initial visit",
);
pub(crate) const ANNUAL_WELLNESS_SUBSEQUENT: Code = hcpcs(
    "G0439",
    "Annual wellness visit, personalized prevention plan, subsequent visit",
);
pub(crate) const PROBLEM_VISIT: Code = snomed("185347001", "Encounter for problem (procedure)");
pub(crate) const SYMPTOM_VISIT: Code = snomed("185345009", "Encounter for symptom (procedure)");
pub(crate) const FOLLOW_UP_VISIT: Code = snomed("390906007", "Follow-up encounter (procedure)");
pub(crate) const TRANSITIONAL_CARE: Code = cpt(
    "99495",
    "Transitional care management services, moderate complexity",
);
pub(crate) const OUTPATIENT_PROCEDURE: Code =
    snomed("371883000", "Outpatient procedure (procedure)");
pub(crate) const EMERGENCY_ROOM_ADMISSION: Code =
    snomed("50849002", "Emergency room admission (procedure)");
pub(crate) const EMERGENCY_HOSPITAL_ADMISSION: Code =
    snomed("183452005", "Emergency hospital admission (procedure)");

pub(crate) const DISCHARGED_HOME: Code = Code {
    system: DISCHARGE_DISPOSITION,
    code: "home",
    display: "Home",
};
pub(crate) const DISCHARGED_TO_NURSING_FACILITY: Code = Code {
    system: DISCHARGE_DISPOSITION,
    code: "snf",
    display: "Skilled nursing facility",
};

/// Reasons for an unplanned admission, by the chronic condition that usually drives it.
pub(crate) const HEART_FAILURE_EXACERBATION: Code =
    snomed("88805009", "Chronic congestive heart failure (disorder)");
pub(crate) const COPD_EXACERBATION: Code = snomed(
    "195951007",
    "Acute exacerbation of chronic obstructive airways disease (disorder)",
);
pub(crate) const PNEUMONIA: Code = snomed("233604007", "Pneumonia (disorder)");
pub(crate) const HIP_FRACTURE: Code = snomed("359817006", "Closed fracture of hip (disorder)");
pub(crate) const URINARY_TRACT_INFECTION: Code =
    snomed("68566005", "Urinary tract infectious disease (disorder)");
pub(crate) const CHEST_PAIN: Code = snomed("29857009", "Chest pain (finding)");
pub(crate) const ABDOMINAL_PAIN: Code = snomed("21522001", "Abdominal pain (finding)");

/// Behavioural-health crisis reasons on EMER encounters (the "prior crisis contact" signal).
pub(crate) const CRISIS_REASONS: [Code; 4] = [
    snomed("225444004", "At risk for suicide (finding)"),
    snomed("6471006", "Suicidal thoughts (finding)"),
    snomed("225624000", "Panic attack (finding)"),
    snomed("69322001", "Psychotic disorder (disorder)"),
];

// ---- Conditions ---------------------------------------------------------------------------

pub(crate) const ESSENTIAL_HYPERTENSION: Code =
    snomed("59621000", "Essential hypertension (disorder)");
pub(crate) const HYPERLIPIDEMIA: Code = snomed("55822004", "Hyperlipidemia (disorder)");
pub(crate) const TYPE_2_DIABETES: Code = snomed("44054006", "Diabetes mellitus type 2 (disorder)");
pub(crate) const TYPE_1_DIABETES: Code = snomed("46635009", "Diabetes mellitus type 1 (disorder)");
pub(crate) const DIABETES_UNSPECIFIED: Code = snomed("73211009", "Diabetes mellitus (disorder)");
pub(crate) const PREDIABETES: Code = snomed("15777000", "Prediabetes (finding)");
pub(crate) const DIABETIC_COMPLICATIONS: [Code; 4] = [
    snomed(
        "368581000119106",
        "Neuropathy due to type 2 diabetes mellitus (disorder)",
    ),
    snomed(
        "1551000119108",
        "Nonproliferative diabetic retinopathy due to type 2 diabetes mellitus (disorder)",
    ),
    snomed(
        "90781000119102",
        "Microalbuminuria due to type 2 diabetes mellitus (disorder)",
    ),
    snomed(
        "127013003",
        "Disorder of kidney due to diabetes mellitus (disorder)",
    ),
];
pub(crate) const OBESITY: Code = snomed("162864005", "Body mass index 30+ - obesity (finding)");
pub(crate) const COPD: Code = snomed("13645005", "Chronic obstructive lung disease (disorder)");
pub(crate) const EMPHYSEMA: Code = snomed("87433001", "Pulmonary emphysema (disorder)");
pub(crate) const ASTHMA: Code = snomed("195967001", "Asthma (disorder)");
pub(crate) const CHILDHOOD_ASTHMA: Code = snomed("233678006", "Childhood asthma (disorder)");
pub(crate) const HEART_FAILURE: Code =
    snomed("88805009", "Chronic congestive heart failure (disorder)");
pub(crate) const CORONARY_DISEASE: Code =
    snomed("53741008", "Coronary arteriosclerosis (disorder)");
pub(crate) const ATRIAL_FIBRILLATION: Code = snomed("49436004", "Atrial fibrillation (disorder)");
pub(crate) const CKD_STAGES: [Code; 4] = [
    snomed("431855005", "Chronic kidney disease stage 1 (disorder)"),
    snomed("431856006", "Chronic kidney disease stage 2 (disorder)"),
    snomed("433144002", "Chronic kidney disease stage 3 (disorder)"),
    snomed("431857002", "Chronic kidney disease stage 4 (disorder)"),
];
pub(crate) const MAJOR_DEPRESSION: Code =
    snomed("370143000", "Major depressive disorder (disorder)");
pub(crate) const DEPRESSIVE_DISORDER: Code = snomed("35489007", "Depressive disorder (disorder)");
pub(crate) const ANXIETY: Code = snomed("197480006", "Anxiety disorder (disorder)");
pub(crate) const BIPOLAR: Code = snomed("13746004", "Bipolar disorder (disorder)");
pub(crate) const SCHIZOPHRENIA: Code = snomed("58214004", "Schizophrenia (disorder)");
pub(crate) const ALCOHOL_USE_DISORDER: Code = snomed("7200002", "Alcoholism (disorder)");
pub(crate) const ALZHEIMERS: Code = snomed("26929004", "Alzheimer's disease (disorder)");
pub(crate) const DEMENTIA: Code = snomed("52448006", "Dementia (disorder)");
pub(crate) const OSTEOARTHRITIS_KNEE: Code =
    snomed("239873007", "Osteoarthritis of knee (disorder)");
pub(crate) const OSTEOPOROSIS: Code = snomed("64859006", "Osteoporosis (disorder)");
pub(crate) const HYPOTHYROIDISM: Code = snomed("40930008", "Hypothyroidism (disorder)");
pub(crate) const CHRONIC_PAIN: Code = snomed("82423001", "Chronic pain (finding)");
pub(crate) const RHEUMATOID_ARTHRITIS: Code = snomed("69896004", "Rheumatoid arthritis (disorder)");
pub(crate) const BREAST_CANCER: Code =
    snomed("254837009", "Malignant neoplasm of breast (disorder)");
pub(crate) const COLON_CANCER: Code = snomed("363406005", "Malignant neoplasm of colon (disorder)");
pub(crate) const LUNG_CANCER: Code = snomed("254637007", "Non-small cell lung cancer (disorder)");
pub(crate) const PROSTATE_NEOPLASM: Code = snomed("126906006", "Neoplasm of prostate (disorder)");
pub(crate) const STROKE: Code = snomed("230690007", "Cerebrovascular accident (disorder)");
pub(crate) const MYOCARDIAL_INFARCTION: Code =
    snomed("22298006", "Myocardial infarction (disorder)");
pub(crate) const HISTORY_OF_MI: Code =
    snomed("399211009", "History of myocardial infarction (situation)");
pub(crate) const ADHD: Code = snomed("192127007", "Child attention deficit disorder (disorder)");
pub(crate) const METHYLPHENIDATE: Code =
    rxnorm("1091392", "methylphenidate hydrochloride 20 MG Oral Tablet");

/// Short illnesses diagnosed at problem visits; most resolve (abatementDateTime) within weeks.
pub(crate) const ACUTE_ILLNESSES: [(Code, Option<Code>); 8] = [
    (snomed("444814009", "Viral sinusitis (disorder)"), None),
    (
        snomed("195662009", "Acute viral pharyngitis (disorder)"),
        None,
    ),
    (snomed("10509002", "Acute bronchitis (disorder)"), None),
    (
        snomed("43878008", "Streptococcal sore throat (disorder)"),
        Some(PENICILLIN_V),
    ),
    (
        snomed("75498004", "Acute bacterial sinusitis (disorder)"),
        Some(AMOXICILLIN_CLAVULANATE),
    ),
    (
        snomed("38822007", "Cystitis (disorder)"),
        Some(NITROFURANTOIN),
    ),
    (
        snomed("44465007", "Sprain of ankle (disorder)"),
        Some(IBUPROFEN),
    ),
    (
        snomed("279039007", "Low back pain (finding)"),
        Some(NAPROXEN),
    ),
];
pub(crate) const OTITIS_MEDIA: Code = snomed("65363002", "Otitis media (disorder)");

// ---- Medications (RxNorm clinical drugs) ----------------------------------------------------

pub(crate) const LISINOPRIL: Code = rxnorm("314076", "lisinopril 10 MG Oral Tablet");
pub(crate) const AMLODIPINE: Code = rxnorm("197361", "amlodipine 5 MG Oral Tablet");
pub(crate) const HYDROCHLOROTHIAZIDE: Code =
    rxnorm("310798", "hydrochlorothiazide 25 MG Oral Tablet");
pub(crate) const LOSARTAN: Code = rxnorm("979492", "losartan potassium 50 MG Oral Tablet");
pub(crate) const SIMVASTATIN: Code = rxnorm("312961", "simvastatin 20 MG Oral Tablet");
pub(crate) const ATORVASTATIN: Code = rxnorm("259255", "atorvastatin 80 MG Oral Tablet");
pub(crate) const METFORMIN: Code = rxnorm(
    "860975",
    "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
);
pub(crate) const INSULIN_70_30: Code = rxnorm(
    "106892",
    "insulin isophane, human 70 UNT/ML / insulin, regular, human 30 UNT/ML Injectable Suspension [Humulin]",
);
pub(crate) const FUROSEMIDE: Code = rxnorm("313988", "furosemide 40 MG Oral Tablet");
pub(crate) const CARVEDILOL: Code = rxnorm("200031", "carvedilol 6.25 MG Oral Tablet");
pub(crate) const METOPROLOL: Code = rxnorm(
    "866414",
    "24 HR metoprolol succinate 100 MG Extended Release Oral Tablet [Toprol]",
);
pub(crate) const ASPIRIN: Code = rxnorm("243670", "aspirin 81 MG Oral Tablet");
pub(crate) const CLOPIDOGREL: Code = rxnorm("309362", "clopidogrel 75 MG Oral Tablet");
pub(crate) const NITROGLYCERIN: Code =
    rxnorm("705129", "nitroglycerin 0.4 MG/ACTUAT Mucosal Spray");
pub(crate) const WARFARIN: Code = rxnorm("855332", "warfarin sodium 5 MG Oral Tablet");
pub(crate) const APIXABAN: Code = rxnorm("1364445", "apixaban 5 MG Oral Tablet");
pub(crate) const DIGOXIN: Code = rxnorm("197604", "digoxin 0.125 MG Oral Tablet");
pub(crate) const ALBUTEROL: Code = rxnorm(
    "745679",
    "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
);
pub(crate) const FLUTICASONE_SALMETEROL: Code = rxnorm(
    "896209",
    "60 ACTUAT fluticasone propionate 0.25 MG/ACTUAT / salmeterol 0.05 MG/ACTUAT Dry Powder Inhaler",
);
pub(crate) const FLUTICASONE: Code = rxnorm(
    "895994",
    "120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
);
pub(crate) const SERTRALINE: Code = rxnorm("312941", "sertraline 50 MG Oral Tablet");
pub(crate) const FLUOXETINE: Code = rxnorm("310385", "fluoxetine 20 MG Oral Capsule");
pub(crate) const QUETIAPINE: Code = rxnorm("312743", "quetiapine 100 MG Oral Tablet");
pub(crate) const DONEPEZIL: Code = rxnorm("997223", "donepezil hydrochloride 10 MG Oral Tablet");
pub(crate) const MEMANTINE: Code =
    rxnorm("996740", "memantine hydrochloride 2 MG/ML Oral Solution");
pub(crate) const ACETAMINOPHEN: Code = rxnorm("313782", "acetaminophen 325 MG Oral Tablet");
pub(crate) const NAPROXEN: Code = rxnorm("849574", "naproxen sodium 220 MG Oral Tablet");
pub(crate) const IBUPROFEN: Code = rxnorm("310965", "ibuprofen 200 MG Oral Tablet");
pub(crate) const GABAPENTIN: Code = rxnorm("310431", "gabapentin 300 MG Oral Capsule");
pub(crate) const ALENDRONATE: Code = rxnorm("904419", "alendronic acid 10 MG Oral Tablet");
pub(crate) const LEVOTHYROXINE: Code =
    rxnorm("966222", "levothyroxine sodium 0.075 MG Oral Tablet");
pub(crate) const FERROUS_SULFATE: Code = rxnorm("310325", "ferrous sulfate 325 MG Oral Tablet");
pub(crate) const PREDNISONE: Code = rxnorm("312617", "predniSONE 5 MG Oral Tablet");
pub(crate) const OXYCODONE_ACETAMINOPHEN: Code = rxnorm(
    "1049221",
    "acetaminophen 325 MG / oxyCODONE hydrochloride 5 MG Oral Tablet",
);
pub(crate) const AMOXICILLIN_CLAVULANATE: Code = rxnorm(
    "562251",
    "amoxicillin 250 MG / clavulanate 125 MG Oral Tablet",
);
pub(crate) const AMOXICILLIN: Code = rxnorm("308182", "amoxicillin 250 MG Oral Capsule");
pub(crate) const PENICILLIN_V: Code = rxnorm("834061", "penicillin V potassium 250 MG Oral Tablet");
pub(crate) const NITROFURANTOIN: Code =
    rxnorm("311995", "nitrofurantoin, macrocrystals 50 MG Oral Capsule");

// ---- Observations -------------------------------------------------------------------------

pub(crate) const HBA1C: Code = loinc("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood");
pub(crate) const BLOOD_PRESSURE_PANEL: Code =
    loinc("85354-9", "Blood pressure panel with all children optional");
pub(crate) const SYSTOLIC: Code = loinc("8480-6", "Systolic blood pressure");
pub(crate) const DIASTOLIC: Code = loinc("8462-4", "Diastolic blood pressure");
pub(crate) const HEART_RATE: Code = loinc("8867-4", "Heart rate");
pub(crate) const BODY_WEIGHT: Code = loinc("29463-7", "Body weight");
pub(crate) const BODY_HEIGHT: Code = loinc("8302-2", "Body height");
pub(crate) const BMI: Code = loinc("39156-5", "Body mass index (BMI) [Ratio]");
pub(crate) const SMOKING_STATUS: Code = loinc("72166-2", "Tobacco smoking status");
pub(crate) const NEVER_SMOKED: Code = snomed("266919005", "Never smoked tobacco (finding)");
pub(crate) const EX_SMOKER: Code = snomed("8517006", "Ex-smoker (finding)");
pub(crate) const DAILY_SMOKER: Code = snomed("449868002", "Smokes tobacco daily (finding)");
pub(crate) const PHQ9_TOTAL: Code = loinc(
    "44261-6",
    "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
);
pub(crate) const EGFR: Code = loinc(
    "33914-3",
    "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by Creatinine-based formula (MDRD)",
);
pub(crate) const LIPID_PANEL: Code =
    loinc("57698-3", "Lipid panel with direct LDL - Serum or Plasma");
pub(crate) const TOTAL_CHOLESTEROL: Code =
    loinc("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma");
pub(crate) const TRIGLYCERIDES: Code =
    loinc("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma");
pub(crate) const LDL_CHOLESTEROL: Code = loinc(
    "18262-6",
    "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay",
);
pub(crate) const HDL_CHOLESTEROL: Code = loinc(
    "2085-9",
    "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
);
pub(crate) const MAMMOGRAPHY_REPORT: Code = loinc("24606-6", "MG Breast Screening");

/// Observation (Careloop-local code, valueBoolean true): the person needs someone to set up
/// digital check-ins with them (assisted setup).
pub(crate) const ASSISTED_SETUP_NEEDED: Code = signal(
    "assisted-setup-needed",
    "Needs assisted setup for digital check-ins",
);
/// Observation (Careloop-local code, valueCodeableConcept = what happened): a prior incident
/// reported by the person, a carer or a professional.
pub(crate) const INCIDENT_REPORTED: Code = signal("incident-reported", "Prior incident reported");
pub(crate) const CARE_SIGNAL_CATEGORY: Code = signal("care-signal", "Care signal");
pub(crate) const INCIDENTS: [Code; 4] = [
    snomed("1912002", "Fall (event)"),
    signal("found-wandering", "Found wandering outside the home"),
    signal(
        "missed-medication-doses",
        "Missed medication doses reported by carer",
    ),
    signal("kitchen-fire", "Kitchen fire or smoke alarm at home"),
];

// ---- Procedures, imaging and reports ------------------------------------------------------

pub(crate) const MAMMOGRAPHY: Code = snomed("71651007", "Mammography (procedure)");
pub(crate) const SCREENING_MAMMOGRAPHY: Code =
    snomed("24623002", "Screening mammography (procedure)");
pub(crate) const SCREENING_MAMMOGRAPHY_CPT: Code = cpt(
    "77067",
    "Screening mammography, bilateral (2-view study of each breast), including computer-aided detection",
);
pub(crate) const BREAST_STRUCTURE: Code = snomed("76752008", "Breast structure (body structure)");
pub(crate) const MODALITY_MAMMOGRAPHY: Code = Code {
    system: DICOM,
    code: "MG",
    display: "Mammography",
};
pub(crate) const MODALITY_RADIOGRAPHY: Code = Code {
    system: DICOM,
    code: "DX",
    display: "Digital Radiography",
};
pub(crate) const CHEST_XRAY: Code = snomed("399208008", "Plain chest X-ray (procedure)");
pub(crate) const THORAX: Code = snomed("51185008", "Thoracic structure (body structure)");
pub(crate) const COLONOSCOPY: Code = snomed("73761001", "Colonoscopy (procedure)");
pub(crate) const MEDICATION_RECONCILIATION: Code =
    snomed("430193006", "Medication reconciliation (procedure)");
pub(crate) const DEPRESSION_SCREENING: Code =
    snomed("171207006", "Depression screening (procedure)");
pub(crate) const SPIROMETRY: Code = snomed("127783003", "Spirometry (procedure)");

// ---- Immunizations (CVX) --------------------------------------------------------------------

pub(crate) const FLU_VACCINE: Code =
    cvx("140", "Influenza, seasonal, injectable, preservative free");
pub(crate) const COVID_VACCINE: Code = cvx(
    "208",
    "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose",
);
pub(crate) const PNEUMOCOCCAL_CONJUGATE: Code = cvx("133", "Pneumococcal conjugate PCV 13");
pub(crate) const PNEUMOCOCCAL_POLYSACCHARIDE: Code =
    cvx("33", "pneumococcal polysaccharide vaccine, 23 valent");
pub(crate) const ZOSTER_RECOMBINANT: Code = cvx("187", "zoster vaccine recombinant");
pub(crate) const TD_ADULT: Code = cvx("113", "Td (adult) preservative free");
pub(crate) const TDAP: Code = cvx("115", "Tdap");
/// Childhood schedule: (vaccine, age in months at the dose).
pub(crate) const CHILDHOOD_SCHEDULE: [(Code, u32); 27] = [
    (cvx("08", "Hep B, adolescent or pediatric"), 0),
    (cvx("08", "Hep B, adolescent or pediatric"), 1),
    (cvx("08", "Hep B, adolescent or pediatric"), 6),
    (cvx("20", "DTaP"), 2),
    (cvx("20", "DTaP"), 4),
    (cvx("20", "DTaP"), 6),
    (cvx("20", "DTaP"), 15),
    (cvx("20", "DTaP"), 48),
    (cvx("10", "IPV"), 2),
    (cvx("10", "IPV"), 4),
    (cvx("10", "IPV"), 6),
    (cvx("10", "IPV"), 48),
    (cvx("49", "Hib (PRP-OMP)"), 2),
    (cvx("49", "Hib (PRP-OMP)"), 4),
    (cvx("49", "Hib (PRP-OMP)"), 12),
    (cvx("133", "Pneumococcal conjugate PCV 13"), 2),
    (cvx("133", "Pneumococcal conjugate PCV 13"), 4),
    (cvx("133", "Pneumococcal conjugate PCV 13"), 12),
    (cvx("119", "rotavirus, monovalent"), 2),
    (cvx("119", "rotavirus, monovalent"), 4),
    (cvx("03", "MMR"), 12),
    (cvx("03", "MMR"), 48),
    (cvx("21", "varicella"), 12),
    (cvx("21", "varicella"), 48),
    (cvx("83", "Hep A, ped/adol, 2 dose"), 12),
    (cvx("114", "meningococcal MCV4P"), 132),
    (cvx("165", "HPV9"), 132),
];

// ---- Social-needs screening (QuestionnaireResponse items) ---------------------------------

/// One screening question: linkId (a LOINC code where one exists) and its text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Question {
    pub link_id: &'static str,
    pub text: &'static str,
}

pub(crate) const HOUSING_STATUS: Question = Question {
    link_id: "71802-3",
    text: "What is your living situation today?",
};
pub(crate) const WORRIED_ABOUT_LOSING_HOUSING: Question = Question {
    link_id: "93033-9",
    text: "Are you worried about losing your housing?",
};
pub(crate) const FOOD_WORRY: Question = Question {
    link_id: "88122-7",
    text: "Within the past 12 months, you worried that your food would run out before you got money to buy more.",
};
pub(crate) const FOOD_DID_NOT_LAST: Question = Question {
    link_id: "88123-5",
    text: "Within the past 12 months, the food you bought just didn't last and you didn't have money to get more.",
};
pub(crate) const TRANSPORTATION: Question = Question {
    link_id: "93030-5",
    text: "In the past 12 months, has lack of reliable transportation kept you from medical appointments, meetings, work or from getting things needed for daily living?",
};
pub(crate) const UTILITIES: Question = Question {
    link_id: "96779-4",
    text: "In the past 12 months has the electric, gas, oil, or water company threatened to shut off services in your home?",
};
pub(crate) const LONELINESS: Question = Question {
    link_id: "93159-1",
    text: "How often do you feel lonely or isolated from those around you?",
};
pub(crate) const HOUSEHOLD_SIZE: Question = Question {
    link_id: "63512-8",
    text: "How many people are living or staying at this address?",
};
/// Careloop-local item: strain of the informal carer who supports the person at home.
pub(crate) const CAREGIVER_STRAIN: Question = Question {
    link_id: "careloop-caregiver-strain",
    text: "Is the person who helps you at home finding it hard to keep caring for you?",
};

pub(crate) const STEADY_HOUSING: Code = loinc("LA31993-1", "I have a steady place to live");
pub(crate) const HOUSING_AT_RISK: Code = loinc(
    "LA31994-9",
    "I have a place to live today, but I am worried about losing it in the future",
);
pub(crate) const NO_STEADY_HOUSING: Code = loinc(
    "LA31995-6",
    "I do not have a steady place to live (I am temporarily staying with others, in a hotel, in a shelter, living outside on the street, on a beach, in a car, abandoned building, bus or train station, or in a park)",
);
pub(crate) const OFTEN_TRUE: Code = loinc("LA28397-0", "Often true");
pub(crate) const SOMETIMES_TRUE: Code = loinc("LA6729-3", "Sometimes true");
pub(crate) const NEVER_TRUE: Code = loinc("LA28398-8", "Never true");
pub(crate) const YES: Code = loinc("LA33-6", "Yes");
pub(crate) const NO: Code = loinc("LA32-8", "No");
pub(crate) const ALREADY_SHUT_OFF: Code = loinc("LA32002-0", "Already shut off");
pub(crate) const NEVER: Code = loinc("LA6270-8", "Never");
pub(crate) const RARELY: Code = loinc("LA10066-1", "Rarely");
pub(crate) const SOMETIMES: Code = loinc("LA10082-8", "Sometimes");
pub(crate) const OFTEN: Code = loinc("LA10044-8", "Often");
pub(crate) const ALWAYS: Code = loinc("LA9933-8", "Always");

// ---- Appointments (reviews and welfare tasks) ---------------------------------------------

pub(crate) const FOLLOW_UP_APPOINTMENT: Code = Code {
    system: APPOINTMENT_REASON,
    code: "FOLLOWUP",
    display: "A follow up visit from a previous appointment",
};
pub(crate) const ROUTINE_APPOINTMENT: Code = Code {
    system: APPOINTMENT_REASON,
    code: "ROUTINE",
    display: "Routine appointment - default if not valued",
};
pub(crate) const BEHAVIOURAL_HEALTH_REVIEW: Code =
    service("behavioural-health-review", "Behavioural health review");
pub(crate) const MEDICATION_REVIEW: Code = service("medication-review", "Medication review");
pub(crate) const CARE_PLAN_REVIEW: Code = service("care-plan-review", "Care plan review");
pub(crate) const WELFARE_VISIT: Code = service("welfare-visit", "Welfare visit at home");
pub(crate) const WELFARE_CALL: Code = service("welfare-call", "Welfare phone call");
pub(crate) const CLINIC_VISIT: Code = service("clinic-visit", "Clinic visit");
