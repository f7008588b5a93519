//! Each team's live lists on the server, kept the way a workstation keeps its own (one
//! `careloop_lists::plan` and `careloop_lists::evaluate`): in the team's cache
//! (`teams/<team>/`), with the catalogue in force from the definitions the team's
//! supervisors published, the re-contact cooldown from the team's recorded attempts, and
//! the panel's facts from the fact store. After a panel is published only the people it
//! touched are evaluated again; on a new day (the server looks every few minutes while it
//! runs, see [`crate::start`]) everyone is, as of that day. Each entry and exit is recorded
//! with its evidence, as on a workstation.
//!
//! Cases are not opened here: a case is opened by a coordinator's or supervisor's
//! workstation (its id derived from team, person, segment and episode, so every place that
//! opens it makes the same case); the server's lists are what each team's panel holds as of
//! today, for operators (`careloop admin lists`) and for what comes next.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use careloop_store::{PublishedDefinition, Store};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::error::{Result, ServerError};
use crate::storage::Storage;

/// A team's lists after [`bring_current`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TeamLists {
    pub team: String,
    /// The day the lists are current for (YYYY-MM-DD).
    pub as_of: String,
    /// Everyone was evaluated (a new day, new definitions, asked for, or the first time).
    pub full: bool,
    /// Nothing had changed since the lists last looked.
    pub idle: bool,
    pub evaluated: u32,
    pub entered: u32,
    pub exited: u32,
    /// Each segment in force with members now, in catalogue order.
    pub segments: Vec<SegmentCount>,
}

/// How many people a segment holds, by placement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SegmentCount {
    pub segment_id: String,
    pub members: u32,
    pub worklist: u32,
    pub overflow: u32,
    pub held_back: u32,
}

impl From<careloop_lists::ListsError> for ServerError {
    fn from(e: careloop_lists::ListsError) -> ServerError {
        match e {
            careloop_lists::ListsError::Store(e) => e.into(),
            e => ServerError::Internal(format!("the team's lists: {e}")),
        }
    }
}

/// Visits the team's recorded attempts after server event `after`, in server order;
/// returns the team's last server event seen (`after` when there is none later).
fn attempts_after(
    storage: &dyn Storage,
    team: &str,
    after: i64,
    mut visit: impl FnMut(&careloop_wire::WireEvent),
) -> Result<i64> {
    let mut cursor = after;
    loop {
        let (page, more) = storage.pull(team, cursor, 10_000)?;
        for pulled in &page {
            cursor = cursor.max(pulled.server_seq);
            if pulled.event.kind == careloop_ops::events::ATTEMPT_KIND {
                visit(&pulled.event);
            }
        }
        if !more || page.is_empty() {
            return Ok(cursor);
        }
    }
}

/// Each person's last recorded attempt (the re-contact cooldown): read only when an
/// evaluation is due.
fn last_contacts(storage: &dyn Storage, team: &str) -> Result<HashMap<String, NaiveDate>> {
    let mut last: HashMap<String, NaiveDate> = HashMap::new();
    attempts_after(storage, team, 0, |event| {
        let day = event.occurred_at.date_naive();
        let entry = last.entry(event.subject.clone()).or_insert(day);
        *entry = (*entry).max(day);
    })?;
    Ok(last)
}

/// The definitions the team's supervisors published, as the fact store's catalogue reads them.
fn published(storage: &dyn Storage, team: &str) -> Result<Vec<PublishedDefinition>> {
    Ok(storage
        .panel_segments(team)?
        .into_iter()
        .map(|s| PublishedDefinition {
            id: s.id,
            version: s.version,
            body: s.body,
            published_by: s.published_by,
            published_at: s.published_at,
        })
        .collect())
}

/// Brings a team's lists current as of `at` in its cache (`everyone`: evaluate the whole
/// panel even when nothing changed).
pub fn bring_current(
    data_dir: &Path,
    storage: &dyn Storage,
    team: &str,
    at: DateTime<Utc>,
    everyone: bool,
) -> Result<TeamLists> {
    let mut cache = crate::admin::team_cache(data_dir, team)?;
    bring_cache_current(&mut cache, storage, team, at, everyone)
}

pub(crate) fn bring_cache_current(
    cache: &mut Store,
    storage: &dyn Storage,
    team: &str,
    at: DateTime<Utc>,
    everyone: bool,
) -> Result<TeamLists> {
    let catalog = careloop_lists::catalog::catalog(published(storage, team)?)?;
    // Only the events since the lists last looked: a tick with nothing new reads no more.
    let before = cache.list_state()?.event_seq;
    let mut contacted = BTreeSet::new();
    let last_seq = attempts_after(storage, team, before, |event| {
        contacted.insert(event.subject.clone());
    })?;
    let plan = careloop_lists::plan(cache, &catalog, at, last_seq, everyone)?;
    let mut counts = careloop_lists::Counts::default();
    if !plan.idle {
        careloop_lists::facts::refresh(cache, &mut |_, _| {})?;
        let panel = careloop_lists::facts::load(cache)?;
        let dirty = plan.dirty(cache)?;
        let people = plan.people(&dirty, || Ok::<_, ServerError>(contacted))?;
        if plan.must_evaluate(people.as_ref()) {
            let contacts = last_contacts(storage, team)?;
            let memberships = careloop_lists::evaluate::memberships(cache)?;
            let (update, evaluated) = careloop_lists::evaluate(
                careloop_lists::Evaluation {
                    catalog: &catalog,
                    panel: &panel,
                    people: people.as_ref(),
                    contacts: &contacts,
                    today: plan.today,
                    at,
                    baseline: plan.baseline,
                    memberships: &memberships,
                },
                plan.next.clone(),
            );
            cache.apply_list_update(&update)?;
            counts = evaluated;
        }
    }
    let memberships = careloop_lists::evaluate::memberships(cache)?;
    let segments = catalog
        .segments
        .iter()
        .filter_map(|s| {
            let members = memberships.get(&s.definition.id)?;
            let placed = |p: &str| members.values().filter(|m| m.placement == p).count() as u32;
            Some(SegmentCount {
                segment_id: s.definition.id.clone(),
                members: members.len() as u32,
                worklist: placed("worklist"),
                overflow: placed("overflow"),
                held_back: placed("held_back"),
            })
        })
        .collect();
    let lists = TeamLists {
        team: team.to_owned(),
        as_of: plan.today.to_string(),
        full: plan.full,
        idle: plan.idle,
        evaluated: counts.evaluated,
        entered: counts.entered,
        exited: counts.exited,
        segments,
    };
    if lists.entered + lists.exited > 0 || lists.full {
        // Counts only; the team's name is checked (letters, digits, '-', '_', '.').
        tracing::info!(
            target: "careloop_server::lists",
            team,
            full = lists.full,
            evaluated = lists.evaluated,
            entered = lists.entered,
            exited = lists.exited,
            "team lists brought current"
        );
    }
    Ok(lists)
}

/// The teams with a cache (a published panel) under `data_dir`.
pub fn teams(data_dir: &Path) -> Result<Vec<String>> {
    let dir = data_dir.join("teams");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut teams: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    teams.sort();
    Ok(teams)
}

/// Every team's lists brought current as of `at`; a team that fails is logged (without its
/// data) and the others go on. Returns the teams brought current.
pub fn bring_all_current(data_dir: &Path, storage: &dyn Storage, at: DateTime<Utc>) -> u32 {
    let mut done = 0;
    for team in teams(data_dir).unwrap_or_default() {
        match bring_current(data_dir, storage, &team, at, false) {
            Ok(_) => done += 1,
            Err(e) => tracing::warn!(
                target: "careloop_server::lists",
                team = team.as_str(),
                error = e.status_and_code().1,
                "a team's lists could not be brought current"
            ),
        }
    }
    done
}
