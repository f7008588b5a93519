//! Segmentation through the API: loads the panel's facts from the store, runs the catalogue
//! (built-in or from a directory) as of a date, and returns DTOs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use careloop_segment::facts;
use careloop_segment::{builtin_catalog, engine, Catalog, PatientFacts};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::sync::Arc;

use crate::dto::{
    CohortDto, ConditionDto, DiffDto, EvidenceDto, ExplanationDto, HeldBackDto, PointsDto,
    PreviewDto, PublishedDto, RunDto, SegmentDiffDto, SegmentRun, SignalDto,
};
use crate::{ApiError, Careloop, ErrorCode, Result};

/// Event kind of a recorded outreach attempt; its subject is the patient id. The re-contact
/// cooldown reads the latest one per person.
pub const ATTEMPT_EVENT: &str = careloop_ops::events::ATTEMPT_KIND;

impl From<careloop_segment::SegmentError> for ApiError {
    fn from(e: careloop_segment::SegmentError) -> ApiError {
        let code = match e {
            careloop_segment::SegmentError::Io { .. } => ErrorCode::Io,
            _ => ErrorCode::BadInput,
        };
        ApiError::new(code, e.to_string())
    }
}

/// Who runs or publishes, and when: passed in, never read from a clock here.
#[derive(Clone, Debug)]
pub struct Actor {
    pub name: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Actor {
    fn at_text(&self) -> String {
        self.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

fn run_dto(run: careloop_store::CohortRun) -> RunDto {
    RunDto {
        id: run.id,
        as_of: run.as_of,
        definitions_version: run.definitions_version,
        run_at: run.run_at,
        run_by: run.run_by,
    }
}

impl Careloop {
    /// The catalogue in force: the definitions in `definitions` when given, else the built-in
    /// ones with the latest published version of each segment in their place (see
    /// [`Careloop::published_in_force`]: a version that cannot be evaluated is passed over).
    pub(crate) fn catalog(&self, definitions: Option<&Path>) -> Result<Catalog> {
        if let Some(dir) = definitions {
            return Ok(careloop_segment::load_catalog(dir)?);
        }
        let (texts, _) = self.published_in_force()?;
        Ok(careloop_segment::builtin_catalog_with(&texts)?)
    }

    /// The published definitions in force, as (label, text), and a warning for every stored
    /// version passed over (see [`careloop_lists::catalog::in_force`]).
    #[allow(clippy::type_complexity)]
    pub(crate) fn published_in_force(
        &self,
    ) -> Result<(Vec<(String, String)>, Vec<(String, String)>)> {
        Ok(careloop_lists::catalog::in_force(
            self.store.published_definitions()?,
        )?)
    }

    /// Warnings about the segment definitions stored here: published versions that cannot be
    /// evaluated and are passed over (see [`Careloop::published_in_force`]). Empty when every
    /// stored version is in use or superseded.
    pub fn segment_definition_warnings(&self) -> Result<Vec<String>> {
        Ok(self
            .published_in_force()?
            .1
            .into_iter()
            .map(|(_, warning)| warning)
            .collect())
    }

    /// Every stored patient's facts, for benchmarks.
    #[doc(hidden)]
    pub fn load_panel_for_benchmark(&mut self) -> Result<Arc<Vec<PatientFacts>>> {
        self.panel_facts()
    }

    /// Derives the facts of everyone on the fact store's stale list (after an import, a
    /// panel page from the server, or a build with another fact encoding: then everyone),
    /// writes them and takes them off the list, a batch per transaction; reports
    /// (done, total). Returns the people derived again, with their new facts (`None`: no
    /// data left).
    pub fn refresh_facts(
        &mut self,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Vec<(String, Option<PatientFacts>)>> {
        let before = self.store.fact_generation()?;
        let careloop_lists::facts::Refreshed {
            changed,
            writes: writes_made,
        } = careloop_lists::facts::refresh(&mut self.store, progress)?;
        if changed.is_empty() {
            self.derived.people_changed(&self.store, &[])?;
            return Ok(changed);
        }
        // What is resident follows: the panel's facts (when nobody else wrote facts
        // meanwhile: each write moves the generation by one) and the people of the fold.
        let after = self.store.fact_generation()?;
        self.derived
            .facts_changed(&changed, before, writes_made, after);
        let ids: Vec<&str> = changed.iter().map(|(id, _)| id.as_str()).collect();
        self.derived.people_changed(&self.store, &ids)?;
        Ok(changed)
    }

    /// Every stored patient's facts (in id order), engagement signals included, from the
    /// fact store: resident after the first use, and brought up to date from the stale list
    /// (only the people who changed are derived again) before each use.
    pub(crate) fn panel_facts(&mut self) -> Result<Arc<Vec<PatientFacts>>> {
        self.panel_facts_reporting(&mut |_, _| {})
    }

    /// [`Careloop::panel_facts`], reporting (done, total) of the people derived again.
    pub(crate) fn panel_facts_reporting(
        &mut self,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Arc<Vec<PatientFacts>>> {
        let generation = self.store.fact_generation()?;
        if self
            .derived
            .panel
            .as_ref()
            .is_some_and(|p| p.generation != generation)
        {
            // Facts written by another connection to this cache: read them again.
            self.derived.panel = None;
        }
        // Patches the resident panel with whoever changed.
        self.refresh_facts(progress)?;
        if let Some(resident) = self.derived.panel.as_ref() {
            return Ok(Arc::clone(&resident.facts));
        }
        let generation = self.store.fact_generation()?;
        let facts = Arc::new(careloop_lists::facts::load(&self.store)?);
        self.derived.panel = Some(crate::derived::ResidentPanel {
            facts: Arc::clone(&facts),
            generation,
        });
        Ok(facts)
    }

    /// Everyone's summary fields ([`PatientFacts::summary`]: groups and engagement), brought
    /// up to date first: the resident panel itself when there is one (its facts hold those
    /// fields too), else the fact store's summaries (a few hundred bytes a person, with
    /// empty clinical lists), read without the facts.
    pub(crate) fn panel_summaries(&mut self) -> Result<Arc<Vec<PatientFacts>>> {
        let generation = self.store.fact_generation()?;
        if self
            .derived
            .panel
            .as_ref()
            .is_some_and(|p| p.generation == generation)
            || self.store.stale_fact_count()? > 0
        {
            return self.panel_facts();
        }
        let mut blobs: Vec<Vec<u8>> = Vec::new();
        self.store.for_each_fact_summary(|_, blob| {
            blobs.push(blob.to_vec());
            Ok(())
        })?;
        let summaries = blobs
            .par_iter()
            .map(|blob| facts::decode(blob).map_err(ApiError::from))
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(summaries))
    }

    /// The latest recorded attempt per person, from the event log.
    pub(crate) fn last_contacts(&self) -> Result<HashMap<String, NaiveDate>> {
        let mut last: HashMap<String, NaiveDate> = HashMap::new();
        self.for_each_attempt_after(0, |event| {
            let day = event.occurred_at.date_naive();
            let entry = last.entry(event.subject.clone()).or_insert(day);
            *entry = (*entry).max(day);
        })?;
        Ok(last)
    }

    /// Calls `visit` with each attempt event after local event `after`, in log order.
    pub(crate) fn for_each_attempt_after(
        &self,
        after: i64,
        mut visit: impl FnMut(&careloop_store::Event),
    ) -> Result<()> {
        let mut cursor = after;
        loop {
            let batch = self.store.events_after(cursor, 10_000)?;
            let Some(tail) = batch.last() else { break };
            cursor = tail.seq;
            batch
                .iter()
                .filter(|e| e.kind == ATTEMPT_EVENT)
                .for_each(&mut visit);
        }
        Ok(())
    }

    /// Evaluates the catalogue and records the run; the cohorts keep their priorities.
    /// `panel`: the panel's facts when the caller holds them (they must be the stored ones,
    /// see [`Careloop::panel_facts`]); `None` reads them from the store.
    pub(crate) fn run_segments(
        &mut self,
        as_of: NaiveDate,
        definitions: Option<&Path>,
        actor: &Actor,
        panel: Option<&[PatientFacts]>,
    ) -> Result<(Catalog, Vec<careloop_segment::Cohort>)> {
        let started = std::time::Instant::now();
        let catalog = self.catalog(definitions)?;
        let loaded;
        let panel = match panel {
            Some(panel) => panel,
            None => {
                loaded = self.panel_facts()?;
                &loaded[..]
            }
        };
        let contacts = self.last_contacts()?;
        let loaded_ms = started.elapsed().as_millis() as u64;
        let cohorts = engine::run(&catalog, panel, &contacts, as_of);
        let evaluated_ms = started.elapsed().as_millis() as u64 - loaded_ms;
        let mut members = Vec::new();
        for c in &cohorts {
            let placed = |ids: &[String], placement: &str| {
                ids.iter()
                    .map(|id| careloop_store::CohortMember {
                        segment_id: c.segment_id.clone(),
                        patient_id: id.clone(),
                        placement: placement.to_owned(),
                    })
                    .collect::<Vec<_>>()
            };
            members.extend(placed(&c.worklist, "worklist"));
            members.extend(placed(&c.overflow, "overflow"));
            let held: Vec<String> = c.held_back.iter().map(|(id, _)| id.clone()).collect();
            members.extend(placed(&held, "held_back"));
        }
        let recording = std::time::Instant::now();
        self.store.record_cohort_run(
            &as_of.to_string(),
            &catalog.version,
            &actor.at_text(),
            &actor.name,
            &members,
        )?;
        tracing::debug!(
            people = panel.len(),
            memberships = members.len(),
            loaded_ms,
            evaluated_ms,
            recorded_ms = recording.elapsed().as_millis() as u64,
            "segmentation run"
        );
        Ok((catalog, cohorts))
    }

    /// Evaluates every segment as of `as_of` and records the run in the cohort history.
    pub fn segment(
        &mut self,
        as_of: NaiveDate,
        definitions: Option<&Path>,
        actor: &Actor,
    ) -> Result<SegmentRun> {
        let (catalog, cohorts) = self.run_segments(as_of, definitions, actor, None)?;
        let warnings = match definitions {
            Some(_) => Vec::new(),
            None => self.segment_definition_warnings()?,
        };
        Ok(SegmentRun {
            as_of: as_of.to_string(),
            definitions_version: catalog.version.clone(),
            warnings,
            segments: cohorts
                .into_iter()
                .map(|c| {
                    (
                        c.segment_id.clone(),
                        CohortDto {
                            count: c.members.len() as u32,
                            members: c.members,
                            worklist: c.worklist,
                            overflow: c.overflow,
                            held_back: c
                                .held_back
                                .into_iter()
                                .map(|(id, reason)| HeldBackDto { id, reason })
                                .collect(),
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        })
    }

    /// Charlson and LACE for one patient as of a date.
    pub fn scores(&self, patient_id: &str, as_of: NaiveDate) -> Result<crate::dto::ScoresDto> {
        use careloop_segment::scores;
        let catalog = builtin_catalog()?;
        let facts = self.patient_facts(patient_id)?;
        let charlson = scores::charlson(&facts, as_of);
        let in_set = |name: &str, code: &str| {
            catalog
                .value_sets
                .get(name)
                .is_some_and(|vs| vs.contains_bare(code))
        };
        let lace = scores::lace(
            &facts,
            as_of,
            |c| in_set("INPATIENT_CLASS", c),
            |c| in_set("EMERGENCY_CLASS", c),
        );
        Ok(crate::dto::ScoresDto {
            patient_id: patient_id.to_owned(),
            as_of: as_of.to_string(),
            charlson: crate::dto::CharlsonDto {
                categories: charlson
                    .categories
                    .into_iter()
                    .map(|(reason, weight)| crate::dto::PointDto {
                        points: weight as i32,
                        reason,
                    })
                    .collect(),
                superseded: charlson.superseded,
                count: charlson.count,
                weighted: charlson.weighted,
            },
            lace: lace.map(|l| crate::dto::LaceDto {
                admission_id: l.admission_id,
                admitted: l.admitted.to_string(),
                discharged: l.discharged.to_string(),
                length_of_stay_days: l.length_of_stay_days.max(0) as u32,
                emergent: l.emergent,
                charlson: l.charlson,
                ed_visits_6m: l.ed_visits_6m,
                length_points: l.points.0,
                acuity_points: l.points.1,
                comorbidity_points: l.points.2,
                ed_points: l.points.3,
                total: l.total,
            }),
        })
    }

    /// One patient's facts: from the fact store, or derived from that patient's rows when
    /// they are on the stale list (nothing is written: a read).
    pub(crate) fn patient_facts(&self, patient_id: &str) -> Result<PatientFacts> {
        if self.store.resource_body("Patient", patient_id)?.is_none() {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no patient with id {patient_id:?}"),
            ));
        }
        self.person_facts(patient_id)
    }

    /// [`Careloop::patient_facts`] of anyone with data, a Patient resource or not (empty
    /// facts for no data).
    pub(crate) fn person_facts(&self, patient_id: &str) -> Result<PatientFacts> {
        if !self.store.facts_stale(patient_id)? {
            if let Some(blob) = self.store.fact_of(patient_id)? {
                return Ok(facts::decode(&blob)?);
            }
        }
        let sources = careloop_store::PersonSources {
            patient_id: patient_id.to_owned(),
            resources: self.store.patient_resources(patient_id)?,
            signals: self.store.patient_engagement_signals(patient_id)?,
        };
        Ok(
            careloop_lists::facts::derive(&sources, &careloop_lists::facts::shared(&self.store)?)
                .unwrap_or_else(|| PatientFacts {
                    id: patient_id.to_owned(),
                    ..PatientFacts::default()
                }),
        )
    }

    /// Why one patient is or is not in each segment (or in one).
    pub fn explain(
        &self,
        patient_id: &str,
        as_of: NaiveDate,
        segment: Option<&str>,
        definitions: Option<&Path>,
    ) -> Result<Vec<ExplanationDto>> {
        let catalog = self.catalog(definitions)?;
        let facts = self.patient_facts(patient_id)?;
        let segments: Vec<_> = catalog
            .segments
            .iter()
            .filter(|s| segment.is_none_or(|id| s.definition.id == id))
            .collect();
        if segments.is_empty() {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no segment with id {:?}", segment.unwrap_or_default()),
            ));
        }
        let last_contact = self.last_contacts()?.get(patient_id).copied();
        Ok(segments
            .into_iter()
            .map(|s| {
                let e = engine::explain(&catalog, s, &facts, last_contact, as_of);
                ExplanationDto {
                    segment_id: e.segment_id,
                    member: e.member,
                    rule: e.rule,
                    conditions: e
                        .conditions
                        .into_iter()
                        .map(|c| ConditionDto {
                            text: c.text,
                            held: c.held,
                            signals: c
                                .signals
                                .into_iter()
                                .map(|(name, value)| SignalDto {
                                    name,
                                    value: value.into(),
                                })
                                .collect(),
                            evidence: c
                                .evidence
                                .into_iter()
                                .map(|ev| EvidenceDto {
                                    resource_type: ev.resource_type.to_owned(),
                                    id: ev.id,
                                    code: ev.code,
                                    date: ev.date.map(|d| d.to_string()),
                                })
                                .collect(),
                        })
                        .collect(),
                    why_not: e.why_not,
                    priority: e.priority.map(|p| PointsDto {
                        total: p.total,
                        points: p
                            .points
                            .into_iter()
                            .map(|(points, reason)| crate::dto::PointDto { points, reason })
                            .collect(),
                    }),
                    held_back: e.held_back,
                }
            })
            .collect())
    }
}

impl Careloop {
    /// The recorded runs, oldest first.
    pub fn cohort_runs(&self) -> Result<Vec<RunDto>> {
        Ok(self.store.cohort_runs()?.into_iter().map(run_dto).collect())
    }

    /// Who entered and who left each segment between two recorded runs (by default the last
    /// two).
    pub fn segment_diff(&self, from: Option<i64>, to: Option<i64>) -> Result<DiffDto> {
        let runs = self.store.cohort_runs()?;
        let find = |id: i64| {
            runs.iter().find(|r| r.id == id).cloned().ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, format!("no segmentation run {id}"))
            })
        };
        let (from, to) = match (from, to) {
            (Some(f), Some(t)) => (find(f)?, find(t)?),
            (Some(f), None) => (find(f)?, runs.last().cloned().expect("find(f) found a run")),
            (None, Some(t)) => {
                let before = runs.iter().rev().find(|r| r.id < t).cloned();
                let before = before.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no run recorded before run {t}")))?;
                (before, find(t)?)
            }
            (None, None) => match runs.as_slice() {
                [.., previous, last] => (previous.clone(), last.clone()),
                _ => {
                    return Err(ApiError::new(
                        ErrorCode::NotFound,
                        "a diff needs two recorded runs: run `careloop segment --as-of …` for two dates first",
                    ))
                }
            },
        };
        let by_segment =
            |run: i64| -> Result<BTreeMap<String, std::collections::BTreeSet<String>>> {
                let mut map: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
                for m in self.store.cohort_members(run)? {
                    map.entry(m.segment_id).or_default().insert(m.patient_id);
                }
                Ok(map)
            };
        let (old, new) = (by_segment(from.id)?, by_segment(to.id)?);
        let empty = std::collections::BTreeSet::new();
        let ids: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        let segments = ids
            .into_iter()
            .map(|id| {
                let (o, n) = (old.get(id).unwrap_or(&empty), new.get(id).unwrap_or(&empty));
                (
                    id.clone(),
                    SegmentDiffDto {
                        entered: n.difference(o).cloned().collect(),
                        left: o.difference(n).cloned().collect(),
                    },
                )
            })
            .collect();
        Ok(DiffDto {
            from: run_dto(from),
            to: run_dto(to),
            segments,
        })
    }

    /// Publishes a segment definition file as a new version (checked first; versions only go
    /// up). Runs use the latest published version of each segment.
    pub fn publish_segment(&mut self, file: &Path, actor: &Actor) -> Result<PublishedDto> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| ApiError::new(ErrorCode::Io, format!("{}: {e}", file.display())))?;
        self.publish_segment_text(&file.display().to_string(), text, actor)
    }

    /// Publishes a definition given as text (`label` names it in errors, e.g. "draft").
    pub(crate) fn publish_segment_text(
        &mut self,
        label: &str,
        text: String,
        actor: &Actor,
    ) -> Result<PublishedDto> {
        let file = std::path::Path::new(label);
        let segment = careloop_segment::check_definition(label, &text)?;
        let builtin_version = builtin_catalog()?
            .segments
            .iter()
            .find(|s| s.definition.id == segment.definition.id)
            .map(|s| s.definition.version);
        if let Some(v) = builtin_version.filter(|v| *v >= segment.definition.version) {
            return Err(ApiError::new(
                ErrorCode::BadInput,
                format!(
                    "{}: version {} is not newer than the built-in version {v}",
                    file.display(),
                    segment.definition.version
                ),
            ));
        }
        let published = careloop_store::PublishedDefinition {
            id: segment.definition.id.clone(),
            version: segment.definition.version,
            body: text,
            published_by: actor.name.clone(),
            published_at: actor.at_text(),
        };
        self.store.publish_definition(&published)?;
        Ok(PublishedDto {
            id: published.id,
            version: published.version,
            published_by: published.published_by,
            published_at: published.published_at,
        })
    }

    /// Evaluates a draft definition on the panel without publishing it: who it would add and
    /// remove against the segment in force.
    pub fn preview_segment(&mut self, file: &Path, as_of: NaiveDate) -> Result<PreviewDto> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| ApiError::new(ErrorCode::Io, format!("{}: {e}", file.display())))?;
        self.preview_segment_text(&file.display().to_string(), &text, as_of)
    }

    /// Previews a draft given as text (`label` names it in errors).
    pub(crate) fn preview_segment_text(
        &mut self,
        label: &str,
        text: &str,
        as_of: NaiveDate,
    ) -> Result<PreviewDto> {
        let draft = careloop_segment::check_definition(label, text)?;
        let current = self.catalog(None)?;
        let published = current
            .segments
            .iter()
            .find(|s| s.definition.id == draft.definition.id)
            .cloned();
        let panel = self.panel_facts()?;
        let contacts = self.last_contacts()?;
        let members = |segment: careloop_segment::Segment| -> std::collections::BTreeSet<String> {
            let one = Catalog {
                value_sets: current.value_sets.clone(),
                segments: vec![segment],
                version: String::new(),
            };
            engine::run(&one, &panel, &contacts, as_of)
                .remove(0)
                .members
                .into_iter()
                .collect()
        };
        let published_version = published.as_ref().map(|s| s.definition.version);
        let now = published.map(members).unwrap_or_default();
        let draft_version = draft.definition.version;
        let segment_id = draft.definition.id.clone();
        let then = members(draft);
        Ok(PreviewDto {
            segment_id,
            as_of: as_of.to_string(),
            draft_version,
            published_version,
            draft_count: then.len() as u32,
            published_count: now.len() as u32,
            added: then.difference(&now).cloned().collect(),
            removed: now.difference(&then).cloned().collect(),
        })
    }
}

#[cfg(test)]
mod fact_store_tests {
    use super::*;
    use careloop_fhir::ImportOptions;
    use careloop_lists::facts::FACT_BATCH;
    use careloop_segment::facts::EngagementFact;

    fn open(dir: &Path) -> Careloop {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.join("key");
        if !key.exists() {
            std::fs::write(&key, format!("{}\n", "5a".repeat(32))).unwrap();
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        Careloop::open(&crate::Config {
            data_dir: dir.join("data"),
            key: careloop_store::KeySource::KeyFile(dir.join("key")),
        })
        .unwrap()
    }

    fn import_demo(careloop: &mut Careloop, patients: u32, seed: u64) {
        let demo = careloop_demo::DemoConfig {
            patients,
            seed,
            as_of: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        };
        let (inputs, _) = careloop_demo::generate_in_memory(&demo).unwrap();
        careloop.derived.changed(crate::derived::Change::Panel);
        careloop_fhir::import_named_inputs(
            &mut careloop.store,
            &inputs,
            ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap();
    }

    /// The facts as every run derived them before the fact store: every stored body parsed.
    fn reference(careloop: &Careloop) -> Vec<PatientFacts> {
        let shared = careloop_lists::facts::shared(&careloop.store).unwrap();
        let mut engagement: HashMap<String, Vec<EngagementFact>> = HashMap::new();
        for (patient, kind, at) in careloop.store.engagement_signals().unwrap() {
            engagement.entry(patient).or_default().push(EngagementFact {
                date: careloop_segment::dates::fhir_date(&at),
                kind: kind.into(),
            });
        }
        let mut panel = Vec::new();
        careloop
            .store
            .for_each_patient(|id, resources| {
                let mut facts = PatientFacts::from_resources(id, resources, &shared);
                facts.engagement = engagement.remove(id).unwrap_or_default();
                panel.push(facts);
                Ok(())
            })
            .unwrap();
        panel
    }

    #[test]
    fn stored_facts_equal_the_facts_of_the_bodies_and_follow_each_import() {
        let dir = tempfile::tempdir().unwrap();
        let mut careloop = open(dir.path());
        import_demo(&mut careloop, 150, 7);
        assert_eq!(careloop.store.stale_fact_count().unwrap(), 150);
        let panel = careloop.panel_facts().unwrap();
        assert_eq!(panel.len(), 150);
        assert_eq!(*panel, reference(&careloop));
        assert_eq!(careloop.store.stale_fact_count().unwrap(), 0);
        for p in panel.iter().take(5) {
            assert_eq!(&careloop.patient_facts(&p.id).unwrap(), p);
        }

        // A second panel with other people and the same file names: only they are derived,
        // and the resident panel takes them in without a reload.
        import_demo(&mut careloop, 40, 8);
        let stale = careloop.store.stale_fact_count().unwrap();
        assert!(stale > 0 && stale < 190, "{stale} stale");
        let generation = careloop.store.fact_generation().unwrap();
        let panel = careloop.panel_facts().unwrap();
        assert_eq!(*panel, reference(&careloop));
        assert!(careloop.store.fact_generation().unwrap() > generation);

        // A fresh connection reads the same summaries and facts from the store.
        drop(careloop);
        let mut again = open(dir.path());
        let summaries: Vec<PatientFacts> = panel.iter().map(PatientFacts::summary).collect();
        assert!(summaries
            .iter()
            .any(|s| s.birth_date.is_some() && !s.engagement.is_empty()));
        assert_eq!(*again.panel_summaries().unwrap(), summaries);
        assert!(
            again.derived.panel.is_none(),
            "summaries alone, not the facts"
        );
        assert_eq!(*again.panel_facts().unwrap(), *panel);
        // Once the panel is resident, its facts serve (they hold the summaries' fields).
        let resident: Vec<PatientFacts> = again
            .panel_summaries()
            .unwrap()
            .iter()
            .map(PatientFacts::summary)
            .collect();
        assert_eq!(resident, summaries);
    }

    #[test]
    fn a_rebuild_stopped_midway_is_finished_on_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut careloop = open(dir.path());
        import_demo(&mut careloop, 2 * FACT_BATCH as u32 + 10, 3);
        let expected = reference(&careloop);
        // The process dies after the first batch was written (a panic in the progress report
        // stands for the kill): that batch is stored, the rest is still listed.
        let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            careloop
                .refresh_facts(&mut |done, _| {
                    if done >= FACT_BATCH as u64 {
                        panic!("killed");
                    }
                })
                .unwrap();
        }));
        assert!(stopped.is_err());
        drop(careloop);
        let mut reopened = open(dir.path());
        assert_eq!(
            reopened.store.stale_fact_count().unwrap(),
            FACT_BATCH as u64 + 10
        );
        assert_eq!(*reopened.panel_facts().unwrap(), expected);
        assert_eq!(reopened.store.stale_fact_count().unwrap(), 0);
    }

    /// Every segment's cohort (members, worklist, overflow, held back, priorities) and a
    /// sample of explanations, as of D, on `threads` worker threads.
    fn outcomes(
        catalog: &Catalog,
        panel: &[PatientFacts],
        threads: usize,
    ) -> (Vec<careloop_segment::Cohort>, Vec<engine::Explanation>) {
        let d = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let cohorts = engine::run(catalog, panel, &HashMap::new(), d);
            let explanations = catalog
                .segments
                .iter()
                .flat_map(|segment| {
                    panel
                        .iter()
                        .step_by(97)
                        .map(|p| engine::explain(catalog, segment, p, None, d))
                })
                .collect();
            (cohorts, explanations)
        })
    }

    /// The check on a 10,000-person demo panel: segmentation from the fact store
    /// gives the members, explanations and priorities that parsing every body gave, and the
    /// same on one worker thread as on four.
    #[test]
    fn a_10k_panel_segments_the_same_from_the_fact_store_on_any_number_of_threads() {
        let dir = tempfile::tempdir().unwrap();
        let mut careloop = open(dir.path());
        import_demo(&mut careloop, 10_000, 11);
        let catalog = builtin_catalog().unwrap();
        let stored = careloop.panel_facts().unwrap();
        let parsed = reference(&careloop);
        assert_eq!(stored.len(), 10_000);
        let (cohorts, explanations) = outcomes(&catalog, &stored, 4);
        assert!(
            cohorts.iter().all(|c| !c.members.is_empty()),
            "every built-in segment has members on the demo panel"
        );
        assert!(explanations.iter().any(|e| e.member));
        assert_eq!(
            (cohorts.clone(), explanations.clone()),
            outcomes(&catalog, &parsed, 4)
        );
        assert_eq!((cohorts, explanations), outcomes(&catalog, &stored, 1));
    }

    /// A cache in `dir` as the release at cache schema `schema` made it, holding a demo panel
    /// of `patients` people (seed `seed`).
    fn older_cache(dir: &Path, schema: i64, patients: u32, seed: u64) -> careloop_store::Store {
        drop(open(dir));
        std::fs::remove_dir_all(dir.join("data")).unwrap();
        let key = careloop_store::CacheKey::read_key_file(&dir.join("key")).unwrap();
        let mut old =
            careloop_store::Store::open_at_schema_for_tests(&dir.join("data"), &key, schema)
                .unwrap();
        assert_eq!(old.schema_version().unwrap(), schema);
        let demo = careloop_demo::DemoConfig {
            patients,
            seed,
            as_of: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        };
        let (inputs, _) = careloop_demo::generate_in_memory(&demo).unwrap();
        careloop_fhir::import_named_inputs(
            &mut old,
            &inputs,
            ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        old
    }

    /// A cache the release before the fact store made (schema 7: resources, no fact table)
    /// opens in this build, which adds the fact store and derives everyone's facts.
    #[test]
    fn a_cache_from_the_release_before_the_fact_store_gets_its_facts() {
        let dir = tempfile::tempdir().unwrap();
        drop(older_cache(dir.path(), 7, 60, 9));

        let mut careloop = open(dir.path());
        assert_eq!(
            careloop.store.schema_version().unwrap(),
            careloop_store::LATEST_SCHEMA_VERSION
        );
        let panel = careloop.panel_facts().unwrap();
        assert_eq!(panel.len(), 60);
        assert_eq!(*panel, reference(&careloop));
        assert_eq!(careloop.store.fact_schema().unwrap(), facts::FACTS_SCHEMA);
    }

    /// A cache from the release before compressed bodies (schema 13, bodies as plain JSON)
    /// opens in this build; its bodies are compressed in batches, read back byte for byte,
    /// and nobody's facts become stale for it (one person listed before stays listed).
    #[test]
    fn plain_bodies_of_an_older_cache_are_compressed_without_staling_facts() {
        let dir = tempfile::tempdir().unwrap();
        let old = older_cache(dir.path(), 13, 40, 3);
        let bodies = |store: &careloop_store::Store| {
            let mut all = Vec::new();
            store
                .for_each_stored_resource(|kind, id, patient, body| {
                    all.push((
                        kind.to_owned(),
                        id.to_owned(),
                        patient.map(str::to_owned),
                        body.to_owned(),
                    ));
                    Ok(())
                })
                .unwrap();
            all
        };
        drop(old);

        let mut careloop = open(dir.path());
        let before = bodies(&careloop.store);
        assert!(before.len() > 1_000);
        careloop.refresh_facts(&mut |_, _| {}).unwrap();
        assert_eq!(careloop.store.stale_fact_count().unwrap(), 0);
        let total = careloop.store.plain_body_count().unwrap();
        assert_eq!(total, before.len() as u64, "every old row is plain");
        // One person with a real change waiting stays listed.
        let waiting = careloop.panel_facts().unwrap()[0].id.to_string();
        careloop
            .store
            .begin_import()
            .and_then(|mut tx| {
                tx.put_engagement_signal(&waiting, "portal_login", "2026-06-01", None)?;
                tx.commit()
            })
            .unwrap();
        let mut seen = Vec::new();
        careloop
            .compress_stored_bodies(&mut |done, total| seen.push((done, total)))
            .unwrap();
        assert_eq!(seen.last(), Some(&(total, total)));
        assert_eq!(careloop.store.plain_body_count().unwrap(), 0);
        assert_eq!(
            bodies(&careloop.store),
            before,
            "compressed rows read the same"
        );
        let stale: Vec<String> = careloop
            .store
            .stale_fact_sources(100)
            .unwrap()
            .into_iter()
            .map(|p| p.patient_id)
            .collect();
        assert_eq!(stale, vec![waiting]);
        // New rows are compressed as they are written.
        import_demo(&mut careloop, 10, 77);
        assert_eq!(careloop.store.plain_body_count().unwrap(), 0);
    }

    #[test]
    fn another_fact_encoding_derives_everyone_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut careloop = open(dir.path());
        import_demo(&mut careloop, 30, 5);
        let panel = careloop.panel_facts().unwrap();
        // As a cache written by a build with another encoding looks to this one.
        assert_eq!(
            careloop
                .store
                .prepare_facts(facts::FACTS_SCHEMA + 1)
                .unwrap(),
            30
        );
        careloop.store.put_facts(&[]).unwrap();
        assert_eq!(
            careloop.store.prepare_facts(facts::FACTS_SCHEMA).unwrap(),
            30
        );
        careloop.derived.panel = None;
        assert_eq!(*careloop.panel_facts().unwrap(), *panel);
        assert_eq!(careloop.store.fact_schema().unwrap(), facts::FACTS_SCHEMA);
    }
}
