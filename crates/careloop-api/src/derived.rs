//! What an open cache derives from its store and keeps in memory (the operations fold, the
//! search index, the last weekly review, the review's clinical facts), held by one owner with
//! one rule for what each change to the store invalidates: [`Derived::changed`]. Everything
//! here can be rebuilt from the store; dropping a part only costs time on its next use.
//!
//! | change                        | fold                 | search index            | review | review facts |
//! |-------------------------------|----------------------|-------------------------|--------|--------------|
//! | panel data imported or pulled | kept; its people     | drop                    | drop   | drop         |
//! |                               | follow the stale list|                         |        |              |
//! | own events committed          | kept (applied)       | kept (indexed)          | kept*  | kept         |
//! | a commit failed midway        | drop                 | kept                    | kept*  | kept         |
//! | others' events pulled         | drop (server order)  | falls behind: indexes   | drop   | kept         |
//! |                               |                      | just those before the   |        |              |
//! |                               |                      | next search             |        |              |
//! | a conflict resolved           | drop                 | kept                    | kept*  | kept         |
//! | an acknowledged place before  | drop                 | drop                    | drop   | kept         |
//! | the pull cursor (reordered)   |                      |                         |        |              |
//! | the search index failed       | kept                 | drop                    | kept   | kept         |
//!
//! \* The cached review carries the last event and the number of cohort runs it was computed
//! from, and is recomputed when either moved; a new segmentation run does not touch the rest.
//!
//! The resident panel facts are not in the table: the fact store's stale list (kept by
//! triggers in the database, in the transaction of each change) says exactly who changed;
//! each time it is worked off ([`Careloop::refresh_facts`]: after an import, before each
//! use of the panel or of the fold after new panel data), the people derived again are
//! patched into the resident panel and into the fold's people. A write of facts by
//! another connection moves the store's fact generation past ours, and the resident copy
//! is read again.
//!
//! [`Careloop::refresh_facts`]: crate::Careloop::refresh_facts

use careloop_ops::Recorded;

use crate::operations::Ops;
use crate::review::{CachedReview, ReviewFacts};
use crate::search::Search;

/// The derived state of one open cache.
#[derive(Debug, Default)]
pub(crate) struct Derived {
    /// Operations state, folded from the event log on first use.
    pub ops: Option<Ops>,
    /// The search index (in RAM), built on first use.
    pub search: Option<Search>,
    /// The last weekly review computed, for its drill-downs.
    pub review: Option<CachedReview>,
    /// What reviews read from the clinical facts, kept until the next import.
    pub review_facts: Option<ReviewFacts>,
    /// The panel's facts, resident after the first segmentation; brought up to date from
    /// the fact store's stale list before each use (see `Careloop::panel_facts`), so no
    /// change here drops it.
    pub panel: Option<ResidentPanel>,
    /// The live lists' memberships, resident after the first evaluation; a copy of a store
    /// table, current while the store's list generation is the one read (so no change here
    /// drops it either).
    pub memberships: Option<ResidentMemberships>,
}

/// The memberships in memory, and the list generation they match.
#[derive(Debug)]
pub(crate) struct ResidentMemberships {
    pub by_segment: std::sync::Arc<crate::lists::Memberships>,
    pub generation: i64,
}

/// The panel's facts in memory, and the fact store's generation they match.
#[derive(Debug)]
pub(crate) struct ResidentPanel {
    pub facts: std::sync::Arc<Vec<careloop_segment::PatientFacts>>,
    pub generation: i64,
}

/// A change to the store, as far as what is derived from it is concerned.
#[derive(Debug)]
pub(crate) enum Change {
    /// People or clinical data came in (a file import, a panel page from the server).
    Panel,
    /// This workstation's events were appended and already applied to the fold and index.
    Committed,
    /// A commit failed after the fold had taken some of its events.
    CommitFailed,
    /// Others' events were pulled from the server (they may sit before ours in its order).
    /// `None`: some could not be read for the index, which is then rebuilt.
    Pulled(Option<Vec<Recorded>>),
    /// A conflict resolution was appended.
    Resolved,
    /// The server placed an acknowledged event at or before the pull cursor: the fold's
    /// order changed under everything derived from it.
    Reordered,
    /// Keeping the search index current failed: it is rebuilt from the log when next used.
    SearchFailed,
}

impl Derived {
    /// Applies the rule of the table above.
    pub fn changed(&mut self, change: Change) {
        match change {
            Change::Panel => {
                let panel = self.panel.take();
                let memberships = self.memberships.take();
                let mut ops = self.ops.take();
                if let Some(ops) = ops.as_mut() {
                    ops.people_stale = true;
                }
                *self = Derived {
                    panel,
                    memberships,
                    ops,
                    ..Derived::default()
                };
            }
            Change::Committed => {}
            Change::CommitFailed => self.ops = None,
            Change::Pulled(recorded) => {
                self.ops = None;
                self.review = None;
                match (recorded, self.search.as_mut()) {
                    (Some(recorded), Some(search)) => search.fall_behind(recorded),
                    (None, _) => self.search = None,
                    (Some(_), None) => {}
                }
            }
            Change::Resolved => self.ops = None,
            Change::Reordered => {
                self.ops = None;
                self.search = None;
                self.review = None;
            }
            Change::SearchFailed => self.search = None,
        }
    }
}

impl Derived {
    /// The fact store wrote `changed` in `writes` transactions, moving its generation from
    /// `before` to `after`: the resident panel takes the changes when it was current before
    /// and nobody else wrote in between, and is dropped (read again when next used)
    /// otherwise.
    pub fn facts_changed(
        &mut self,
        changed: &[(String, Option<careloop_segment::PatientFacts>)],
        before: i64,
        writes: i64,
        after: i64,
    ) {
        let Some(resident) = self.panel.as_mut() else {
            return;
        };
        if resident.generation != before || after != before + writes {
            self.panel = None;
            return;
        }
        if !changed.is_empty() {
            // Copied only when a caller still holds the previous panel.
            let panel = std::sync::Arc::make_mut(&mut resident.facts);
            for (id, facts) in changed {
                match (panel.binary_search_by(|p| p.id.as_str().cmp(id)), facts) {
                    (Ok(i), Some(facts)) => panel[i] = facts.clone(),
                    (Ok(i), None) => {
                        panel.remove(i);
                    }
                    (Err(i), Some(facts)) => panel.insert(i, facts.clone()),
                    (Err(_), None) => {}
                }
            }
        }
        resident.generation = after;
    }

    /// The fact store's stale list was worked off and `ids` were derived again: the fold's
    /// people (names, languages) follow. Every change to a patient row changes one of
    /// their resources, which puts them on that list, so after new panel data
    /// ([`Change::Panel`]) these are exactly the people whose rows may differ.
    pub fn people_changed(
        &mut self,
        store: &careloop_store::Store,
        ids: &[&str],
    ) -> crate::Result<()> {
        let Some(ops) = self.ops.as_mut() else {
            return Ok(());
        };
        if ids.len() > PATCH_PEOPLE_UP_TO {
            let (_, people) = store.patients_page(None, 0, i64::MAX as u64)?;
            ops.people = people.into_iter().map(|p| (p.id.clone(), p)).collect();
        } else {
            for id in ids {
                match store.patient(id)? {
                    Some(row) => {
                        ops.people.insert(row.id.clone(), row);
                    }
                    None => {
                        ops.people.remove(*id);
                    }
                }
            }
        }
        ops.people_stale = false;
        Ok(())
    }
}

/// Beyond this many people changed, the fold's people are read again whole.
const PATCH_PEOPLE_UP_TO: usize = 5_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn with_facts() -> Derived {
        Derived {
            review_facts: Some(ReviewFacts::default()),
            ..Derived::default()
        }
    }

    #[test]
    fn the_review_facts_outlive_everything_but_new_panel_data() {
        for change in [
            Change::Committed,
            Change::CommitFailed,
            Change::Pulled(Some(Vec::new())),
            Change::Pulled(None),
            Change::Resolved,
            Change::Reordered,
            Change::SearchFailed,
        ] {
            let mut derived = with_facts();
            let name = format!("{change:?}");
            derived.changed(change);
            assert!(
                derived.review_facts.is_some(),
                "{name} dropped the review facts"
            );
        }
        let mut derived = with_facts();
        derived.changed(Change::Panel);
        assert!(derived.review_facts.is_none());
    }
}
