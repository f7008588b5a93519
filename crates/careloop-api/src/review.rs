//! The weekly review through the API: gathers what `careloop_review::compute` reads (the
//! event log, the cohort history, the panel's groups, closing evidence and visits of the
//! people contacted) from the store, checks the role, audits, and keeps the last review so
//! that drill-downs answer at once.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use careloop_ops::rbac::Operation;
use careloop_ops::OpEvent;
use careloop_review::{CohortRun, Demographics, Drills, Member, Person, SegmentInfo};
use careloop_segment::eval::{closing_evidence, closing_queries};
use chrono::NaiveDate;

use crate::operations::Session;
use crate::{ApiError, Careloop, ErrorCode, Result};

pub use careloop_review::export::tables;
pub use careloop_review::{DrillRow, Week, WeeklyReview};

impl From<careloop_review::ReviewError> for ApiError {
    fn from(e: careloop_review::ReviewError) -> ApiError {
        use careloop_review::ReviewError as E;
        let code = match e {
            E::BadWeek { .. } => ErrorCode::BadInput,
            E::UnknownDrill(_) => ErrorCode::NotFound,
            E::Io { .. } => ErrorCode::Io,
            E::Log { .. } => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

/// The formats a review is exported in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewFormat {
    Json,
    /// One file per table, in a directory.
    Csv,
    Pdf,
}

/// What the desktop app's review export writes: CSV tables (a folder) or a PDF report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ReviewExportFormat {
    Csv,
    Pdf,
}

/// The last review computed, valid while the log and the cohort history are unchanged.
#[derive(Debug)]
pub(crate) struct CachedReview {
    week: Week,
    last_event: i64,
    runs: usize,
    /// The live lists' last recorded change it read.
    list_changes: i64,
    review: WeeklyReview,
    drills: Drills,
}

/// What the review reads from the panel's clinical facts, kept across weeks until the next
/// import: everyone's demographics, and the visits and closing evidence of each person
/// contacted (all dates; the review cuts them at its week).
#[derive(Debug, Default)]
pub(crate) struct ReviewFacts {
    /// Everyone, with birth and death dates (in the panel at a date: born by then and alive).
    people: Vec<(Person, Option<NaiveDate>, Option<NaiveDate>, bool)>,
    /// The catalogue version the evidence was found with.
    catalog_version: String,
    contacted: HashMap<String, ContactedFacts>,
}

/// A contacted person's visit dates and closing-evidence dates by care-gap segment.
#[derive(Debug)]
struct ContactedFacts {
    visits: Vec<NaiveDate>,
    closing: HashMap<String, Vec<NaiveDate>>,
}

/// Digital contact a person makes: counted for the digital engagement tier.
const DIGITAL_KINDS: [&str; 3] = ["portal_login", "portal_message", "checkin_done"];

/// Parses a week (`YYYY-Www`).
pub fn parse_week(text: &str) -> Result<Week> {
    Ok(Week::parse(text)?)
}

/// The week that contains a date.
pub fn week_of(date: NaiveDate) -> Week {
    Week::containing(date)
}

impl Careloop {
    /// The weekly review of `week` (supervisors only; audited).
    pub fn weekly_review(&mut self, session: &Session, week: Week) -> Result<WeeklyReview> {
        self.authorize_review(session, "see the weekly review", week.to_string())?;
        Ok(self.cached_review(week)?.review.clone())
    }

    /// The cases behind one number of a week's review.
    pub fn review_drill(
        &mut self,
        session: &Session,
        week: Week,
        key: &str,
    ) -> Result<Vec<DrillRow>> {
        self.authorize_review(session, "open a review drill-down", format!("{week} {key}"))?;
        Ok(self.cached_review(week)?.drills.rows(key)?)
    }

    /// Writes the review of `week` to `out`: a JSON file, a PDF file, or a directory of CSV
    /// files (one per table). Returns the files written.
    pub fn export_review(
        &mut self,
        session: &Session,
        week: Week,
        format: ReviewFormat,
        out: &Path,
    ) -> Result<Vec<PathBuf>> {
        self.authorize_review(session, "export the weekly review", week.to_string())?;
        let review = &self.cached_review(week)?.review;
        let io = |e: std::io::Error| {
            ApiError::new(ErrorCode::Io, format!("writing {}: {e}", out.display()))
        };
        // No folder is made on the way (the caller makes the export folder it configured):
        // files go into an existing folder, are new (0600) and never written through a link.
        match format {
            ReviewFormat::Csv => Ok(careloop_review::export::write_csv_dir(review, out)?),
            ReviewFormat::Json => {
                let json = serde_json::to_vec_pretty(review).map_err(ApiError::internal)?;
                careloop_review::export::write_atomically(out, &json).map_err(io)?;
                Ok(vec![out.to_owned()])
            }
            ReviewFormat::Pdf => {
                let pdf = careloop_review::pdf::render(review);
                careloop_review::export::write_atomically(out, &pdf).map_err(io)?;
                Ok(vec![out.to_owned()])
            }
        }
    }

    fn authorize_review(&mut self, session: &Session, action: &str, target: String) -> Result<()> {
        self.authorize(
            session,
            Operation::WeeklyReview,
            action,
            None,
            Some(target.clone()),
        )?;
        // The review names people (entered, exited, pending work): its reading is audited.
        self.audit_read(session, action, None, Some(target))
    }

    fn cached_review(&mut self, week: Week) -> Result<&CachedReview> {
        let last_event = self.store.last_event_seq()?;
        let runs = self.store.cohort_runs()?.len();
        let list_changes = self.store.last_membership_seq()?;
        let fresh = self.derived.review.as_ref().is_some_and(|c| {
            c.week == week
                && c.last_event == last_event
                && c.runs == runs
                && c.list_changes == list_changes
        });
        if !fresh {
            let (review, drills) = self.compute_review(week)?;
            self.derived.review = Some(CachedReview {
                week,
                last_event,
                runs,
                list_changes,
                review,
                drills,
            });
        }
        Ok(self.derived.review.as_ref().expect("just set"))
    }

    /// Gathers the input and computes (no role check: callers check).
    #[doc(hidden)]
    pub fn compute_review(&mut self, week: Week) -> Result<(WeeklyReview, Drills)> {
        let sunday = week.sunday();
        let catalog = self.catalog(None)?;
        let segments: Vec<SegmentInfo> = catalog
            .segments
            .iter()
            .map(|s| SegmentInfo {
                id: s.definition.id.clone(),
                name: s.definition.name.clone(),
                capacity: s.definition.weekly_capacity,
                care_gap: !closing_queries(&s.rule).is_empty(),
            })
            .collect();

        // The cohort history: sizes of every run, members of the two compared.
        let mut runs: Vec<CohortRun> = self
            .store
            .cohort_runs()?
            .into_iter()
            .filter_map(|r| {
                Some(CohortRun {
                    id: r.id,
                    as_of: r.as_of.parse().ok()?,
                    ..CohortRun::default()
                })
            })
            .collect();
        let index: HashMap<i64, usize> = runs.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        for (run, segment, count) in self.store.cohort_sizes()? {
            if let Some(i) = index.get(&run) {
                runs[*i].sizes.insert(segment, count);
            }
        }
        let (current_id, previous_id) = careloop_review::compute::select_runs(&runs, week);
        let with_members =
            |id: Option<i64>, store: &careloop_store::Store| -> Result<Option<CohortRun>> {
                let Some(id) = id else { return Ok(None) };
                let mut run = runs[index[&id]].clone();
                run.members = store
                    .cohort_members(id)?
                    .into_iter()
                    .map(|m| Member {
                        segment_id: m.segment_id,
                        patient_id: m.patient_id,
                        placement: m.placement,
                    })
                    .collect();
                Ok(Some(run))
            };
        let current = with_members(current_id, &self.store)?;
        let previous = with_members(previous_id, &self.store)?;

        if self.derived.review_facts.is_none() {
            let names: HashMap<String, String> = self
                .ops()?
                .people
                .iter()
                .map(|(id, p)| (id.clone(), p.name.clone()))
                .collect();
            self.derived.review_facts = Some(ReviewFacts {
                people: self.review_people(&names)?,
                ..ReviewFacts::default()
            });
        }

        // The people with an attempt by the end of the week: their visits and closing
        // evidence.
        let end = week.end();
        let ops = self.ops()?;
        let log = ops.log.clone();
        let policy = ops.policy.clone();
        let contacted: BTreeSet<String> = log
            .iter()
            .filter_map(careloop_ops::sync::LogEntry::recorded)
            .filter(|r| r.at < end && matches!(r.event, OpEvent::AttemptRecorded(_)))
            .map(|r| r.patient_id.clone())
            .collect();
        let cache = self.derived.review_facts.as_mut().expect("just set");
        if cache.catalog_version != catalog.version {
            cache.contacted.clear();
            cache.catalog_version = catalog.version.clone();
        }
        let missing: Vec<&String> = contacted
            .iter()
            .filter(|p| !cache.contacted.contains_key(*p))
            .collect();
        if !missing.is_empty() {
            let gaps: Vec<(&str, Vec<_>)> = catalog
                .segments
                .iter()
                .map(|s| (s.definition.id.as_str(), closing_queries(&s.rule)))
                .filter(|(_, q)| !q.is_empty())
                .collect();
            let mut found = Vec::new();
            for patient in missing {
                let facts = self.person_facts(patient)?;
                let visits: Vec<NaiveDate> =
                    facts.encounters.iter().filter_map(|e| e.start).collect();
                let evidence = gaps
                    .iter()
                    .map(|(id, queries)| {
                        let dates =
                            closing_evidence(queries, &facts, &catalog.value_sets, NaiveDate::MAX);
                        ((*id).to_owned(), dates)
                    })
                    .collect();
                found.push((
                    patient.clone(),
                    ContactedFacts {
                        visits,
                        closing: evidence,
                    },
                ));
            }
            let cache = self.derived.review_facts.as_mut().expect("just set");
            cache.contacted.extend(found);
        }
        let cache = self.derived.review_facts.as_ref().expect("just set");
        let people: Vec<Person> = cache
            .people
            .iter()
            .map(|(p, born, died, deceased)| Person {
                in_panel: born.is_some_and(|b| b <= sunday)
                    && !deceased
                    && died.is_none_or(|d| d > sunday),
                ..p.clone()
            })
            .collect();
        let mut evidence: HashMap<(String, String), Vec<NaiveDate>> = HashMap::new();
        let mut visits: HashMap<String, Vec<NaiveDate>> = HashMap::new();
        for patient in &contacted {
            let facts = &cache.contacted[patient];
            visits.insert(patient.clone(), facts.visits.clone());
            for (segment, dates) in &facts.closing {
                evidence.insert((patient.clone(), segment.clone()), dates.clone());
            }
        }

        // The live lists' entries and exits of the week, and since when they keep them.
        let lists_since = self.store.lists_kept_since()?.and_then(|d| d.parse().ok());
        let mut list_changes = Vec::new();
        for day in week.monday().iter_days().take(7) {
            for c in self.store.membership_changes_of_day(&day.to_string())? {
                list_changes.push(careloop_review::ListChange {
                    day,
                    segment_id: c.segment_id,
                    patient_id: c.patient_id,
                    entered: c.change == "entered",
                    reason: c.reason,
                });
            }
        }
        let input = careloop_review::Input {
            week,
            people: &people,
            segments: &segments,
            runs: &runs,
            current: current.as_ref(),
            previous: previous.as_ref(),
            log: &log,
            policy: &policy,
            evidence: &evidence,
            visits: &visits,
            list_changes: &list_changes,
            lists_since,
            settings: careloop_review::Settings::default(),
        };
        Ok(careloop_review::compute(&input)?)
    }

    /// Everyone stored, with their groups' raw values and their birth and death dates, from
    /// the fact store (the one reader of Patient and Coverage: the facts): the resident
    /// panel's, else the stored summaries.
    #[allow(clippy::type_complexity)]
    fn review_people(
        &mut self,
        names: &HashMap<String, String>,
    ) -> Result<Vec<(Person, Option<NaiveDate>, Option<NaiveDate>, bool)>> {
        let panel = self.panel_summaries()?;
        Ok(panel
            .iter()
            // People with a Patient resource (the patient list's), as the review counts them.
            .filter_map(|facts| Some((facts, names.get(&facts.id)?)))
            .map(|(facts, name)| {
                let person = Person {
                    id: facts.id.clone(),
                    name: name.clone(),
                    demographics: Demographics {
                        birth_date: facts.birth_date,
                        sex: facts.gender.clone(),
                        language: facts.language.clone(),
                        payer: facts.payer.clone(),
                        race: facts.race.clone(),
                        ethnicity: facts.ethnicity.clone(),
                        digital_uses: facts
                            .engagement
                            .iter()
                            .filter(|e| DIGITAL_KINDS.contains(&e.kind.as_str()))
                            .filter_map(|e| e.date)
                            .collect(),
                    },
                    // Set per week (see compute_review).
                    in_panel: false,
                };
                (
                    person,
                    facts.birth_date,
                    facts.deceased_date,
                    facts.deceased_boolean,
                )
            })
            .collect())
    }
}
