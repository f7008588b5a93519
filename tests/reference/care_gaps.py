#!/usr/bin/env python3
"""An independent reading of CARE_GAP_RULES.md, written from the rule text without looking at
the Rust engine: computes the members of the seven care-gap segments straight from FHIR
Bundles (a .tar.gz of .json files) and compares them with `careloop segment --format json`.

Usage: care_gaps.py ARCHIVE AS_OF CARELOOP_JSON
Prints one line per segment and '7 passed, 0 failed' (or the differences) at the end.
"""
import calendar, datetime as dt, json, sys, tarfile

SYS = {
    "http://snomed.info/sct": "SNOMED", "urn:oid:2.16.840.1.113883.6.96": "SNOMED",
    "http://loinc.org": "LOINC", "urn:oid:2.16.840.1.113883.6.1": "LOINC",
    "http://www.ama-assn.org/go/cpt": "CPT", "urn:oid:2.16.840.1.113883.6.12": "CPT",
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "HCPCS",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "HCPCS", "urn:oid:2.16.840.1.113883.6.285": "HCPCS",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD10", "http://hl7.org/fhir/sid/icd-10": "ICD10",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RXNORM",
}
def S(system, *codes): return {(system, c) for c in codes}
MAMMO = (S("SNOMED", "241055006", "24623002", "43204002", "450566007", "566571000119105", "572701000119102", "71651007")
         | S("LOINC", "24604-1", "24605-8", "24606-6", "24610-8", "26175-0", "26176-8", "26177-6", "36319-2")
         | S("CPT", "77055", "77056", "77057", "77061", "77062", "77063", "77065", "77066", "77067") | S("HCPCS", "G0202", "G0204", "G0206"))
DIABETES = S("SNOMED", "127013003", "1501000119109", "1551000119108", "157141000119108", "368581000119106", "422034002",
             "44054006", "46635009", "60951000119105", "73211009", "90781000119102", "97331000119101")
HBA1C = S("LOINC", "17855-8", "17856-6", "41995-2", "4548-4", "4549-2", "59261-8", "62388-4", "71875-9") | S("CPT", "83036", "83037")
WELLNESS = (S("SNOMED", "162673000", "185349003", "410620009", "444971000124105", "456201000124103", "86013001")
            | S("CPT", *[str(c) for c in list(range(99381, 99388)) + list(range(99391, 99398))]) | S("HCPCS", "G0402", "G0438", "G0439"))

def day(v):
    if not isinstance(v, str): return None
    try:
        if len(v) == 4: return dt.date(int(v), 1, 1)
        if len(v) == 7: return dt.date(int(v[:4]), int(v[5:7]), 1)
        return dt.date.fromisoformat(v[:10])
    except ValueError:
        return None
def months_before(d, n):
    m = d.year * 12 + d.month - 1 - n
    y, mo = divmod(m, 12)
    return dt.date(y, mo + 1, min(d.day, calendar.monthrange(y, mo + 1)[1]))
def codings(cc): return [(SYS.get(c.get("system"), c.get("system")), c.get("code")) for c in (cc or {}).get("coding", [])]
def in_set(cc, vs, icd_prefixes=()):
    return any(c in vs or (c[0] == "ICD10" and any(str(c[1]).startswith(p) for p in icd_prefixes)) for c in codings(cc))
def first(r, paths):
    for p in paths:
        v = r
        for k in p.split("."):
            v = v.get(k) if isinstance(v, dict) else None
        if v is not None: return day(v)
    return None
def age(b, d): return d.year - b.year - ((d.month, d.day) < (b.month, b.day))

def patient_of(r, full_urls):
    for k in ("subject", "patient", "beneficiary"):
        ref = (r.get(k) or {}).get("reference")
        if ref:
            if ref in full_urls: return full_urls[ref]
            if ref.startswith("urn:uuid:"): return ref[9:]
            parts = ref.split("/")
            if len(parts) >= 2 and parts[-2] == "Patient": return parts[-1]
    return None

def evaluate(archive, D):
    W12, W27, W30 = months_before(D, 12), months_before(D, 27), D - dt.timedelta(days=30)
    out = {k: set() for k in ["breast_cancer_screening_gap", "diabetes_hba1c_gap", "dormant", "post_discharge_30d",
                              "frequent_ed", "medicare_awv_due", "polypharmacy"]}
    with tarfile.open(archive) as tar:
        for m in tar:
            if not m.isfile() or not m.name.endswith(".json"): continue
            bundle = json.load(tar.extractfile(m))
            entries = [e for e in bundle.get("entry", []) if (e.get("request") or {}).get("method") != "DELETE" and "resource" in e]
            full_urls = {}
            for e in entries:
                r = e["resource"]
                if r.get("resourceType") == "Patient":
                    pid = r.get("id") or (e.get("fullUrl") or "").split(":")[-1].split("/")[-1]
                    full_urls[e.get("fullUrl")] = pid
            patients = {pid: None for pid in full_urls.values()}
            facts = {pid: [] for pid in patients}
            for e in entries:
                r = e["resource"]
                if r.get("resourceType") == "Patient":
                    pid = r.get("id") or full_urls[e.get("fullUrl")]
                    patients[pid] = r
                    continue
                pid = patient_of(r, full_urls)
                if pid is None and len(patients) == 1: pid = next(iter(patients))
                if pid in facts: facts[pid].append((r, e))
            for pid, p in patients.items():
                b = day(p.get("birthDate"))
                if b is None or b > D: continue
                if p.get("deceasedBoolean") is True: continue
                dd = day(p.get("deceasedDateTime"))
                if dd is not None and dd <= D: continue
                a = age(b, D)
                mammo = hba1c = wellness = False
                diabetes = False
                ever = overlap = 0
                ed = set(); discharge = False; meds = set()
                for r, e in facts[pid]:
                    t = r.get("resourceType"); st = r.get("status")
                    if t == "Encounter":
                        if st in ("cancelled", "entered-in-error", "planned"): continue
                        s, en = day((r.get("period") or {}).get("start")), day((r.get("period") or {}).get("end"))
                        cls = (r.get("class") or {}).get("code")
                        if s is not None and s <= D:
                            ever += 1
                            if (en or s) >= W12: overlap += 1
                            if W12 <= s and cls == "EMER": ed.add(r.get("id") or e.get("fullUrl"))
                            if W12 <= s and any(in_set(cc, WELLNESS) for cc in r.get("type", [])): wellness = True
                        if cls in ("ACUTE", "IMP", "NONAC") and en is not None and W30 <= en <= D: discharge = True
                    elif t in ("Observation", "DiagnosticReport"):
                        if st in ("cancelled", "entered-in-error"): continue
                        paths = ["effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued"] if t == "Observation" else ["effectiveDateTime", "effectivePeriod.start", "issued"]
                        d = first(r, paths)
                        if d is None or d > D: continue
                        if W27 <= d and in_set(r.get("code"), MAMMO): mammo = True
                        if W12 <= d and in_set(r.get("code"), HBA1C): hba1c = True
                    elif t == "Procedure":
                        if st in ("entered-in-error", "not-done"): continue
                        d = first(r, ["performedDateTime", "performedPeriod.start"])
                        if d is not None and W27 <= d <= D and in_set(r.get("code"), MAMMO): mammo = True
                    elif t == "ImagingStudy":
                        if st in ("cancelled", "entered-in-error"): continue
                        d = day(r.get("started"))
                        if d is None or not (W27 <= d <= D): continue
                        if any(in_set(cc, MAMMO) for cc in r.get("procedureCode", [])) or any((s.get("modality") or {}).get("code") == "MG" for s in r.get("series", [])):
                            mammo = True
                    elif t == "Condition":
                        ver = [c.get("code") for c in (r.get("verificationStatus") or {}).get("coding", [])]
                        if "refuted" in ver or "entered-in-error" in ver: continue
                        if not in_set(r.get("code"), DIABETES, ("E10", "E11", "E13")): continue
                        onset = first(r, ["onsetDateTime", "onsetPeriod.start", "recordedDate"])
                        if onset is None or onset > D: continue
                        ab = first(r, ["abatementDateTime", "abatementPeriod.end", "abatementPeriod.start"])
                        if ab is not None: active = ab > D
                        else:
                            cs = [c.get("code") for c in (r.get("clinicalStatus") or {}).get("coding", [])]
                            active = not (set(cs) & {"resolved", "inactive", "remission"} or r.get("abatementBoolean") is True or "abatementString" in r)
                        diabetes = diabetes or active
                    elif t == "MedicationRequest":
                        au = day(r.get("authoredOn"))
                        if st != "active" or (au is not None and au > D): continue
                        cc = r.get("medicationCodeableConcept") or {}
                        rx = [c for c in codings(cc) if c[0] == "RXNORM"]
                        meds.add(("rx", rx[0][1]) if rx else ("text", cc["text"]) if cc.get("text") else ("id", r.get("id") or e.get("fullUrl")))
                if p.get("gender") == "female" and 50 <= a <= 74 and not mammo: out["breast_cancer_screening_gap"].add(pid)
                if diabetes and not hba1c: out["diabetes_hba1c_gap"].add(pid)
                if ever >= 1 and overlap == 0: out["dormant"].add(pid)
                if discharge: out["post_discharge_30d"].add(pid)
                if len(ed) >= 2: out["frequent_ed"].add(pid)
                if a >= 65 and not wellness: out["medicare_awv_due"].add(pid)
                if len(meds) >= 5: out["polypharmacy"].add(pid)
    return out

def main():
    archive, as_of, careloop_json = sys.argv[1:4]
    expected = evaluate(archive, dt.date.fromisoformat(as_of))
    got = json.load(open(careloop_json))["segments"]
    passed = failed = 0
    for seg, members in sorted(expected.items()):
        theirs = set(got[seg]["members"])
        if theirs == members:
            passed += 1
            print(f"{seg}: {len(members)} members, same")
        else:
            failed += 1
            print(f"{seg}: reference {len(members)}, careloop {len(theirs)}; only reference: {sorted(members - theirs)[:5]}; only careloop: {sorted(theirs - members)[:5]}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

main()
