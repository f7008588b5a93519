//! The catalogue in force: the built-in definitions, with the latest published version of
//! each segment that can be evaluated here in their place.

use std::collections::BTreeMap;

use careloop_segment::{builtin_catalog, Catalog};
use careloop_store::PublishedDefinition;

use crate::Result;

/// A segment's label and definition text.
pub type Text = (String, String);
/// A segment's id and a sentence about a version passed over.
pub type Warning = (String, String);

/// The published definitions in force, as (label, text), and a warning for every version
/// passed over (segment id, sentence). Of each segment, the latest version that passes
/// [`careloop_segment::check_definition`] is in force: a version that cannot be evaluated
/// here (received through sync from a workstation with other checks, or stored before the
/// checks it fails existed) never reaches the engine; the previous one (or the built-in
/// definition) stays in force and the warning says so. Nothing here fails on a definition's
/// content.
pub fn in_force(published: Vec<PublishedDefinition>) -> Result<(Vec<Text>, Vec<Warning>)> {
    let mut by_id: BTreeMap<String, Vec<careloop_store::PublishedDefinition>> = BTreeMap::new();
    for published in published {
        by_id
            .entry(published.id.clone())
            .or_default()
            .push(published);
    }
    let builtin: Vec<String> = builtin_catalog()?
        .segments
        .iter()
        .map(|s| s.definition.id.clone())
        .collect();
    let mut texts = Vec::new();
    let mut warnings = Vec::new();
    for (id, mut versions) in by_id {
        versions.sort_by_key(|p| p.version);
        let mut skipped = Vec::new();
        let mut in_force = None;
        while let Some(p) = versions.pop() {
            let label = format!(
                "published:{}@{}",
                careloop_segment::excerpt(&p.id),
                p.version
            );
            match careloop_segment::check_definition(&label, &p.body) {
                // The id inside the text must be the one it was stored under, or the
                // version would replace another segment.
                Ok(segment) if segment.definition.id == p.id => {
                    in_force = Some((label, p));
                    break;
                }
                Ok(segment) => skipped.push((
                    p,
                    format!(
                        "{label}: the definition's id is {:?}",
                        careloop_segment::excerpt(&segment.definition.id)
                    ),
                )),
                Err(e) => skipped.push((p, e.to_string())),
            }
        }
        let instead = match &in_force {
            Some((_, p)) => format!("version {} stays in force", p.version),
            None if builtin.contains(&id) => "the built-in version stays in force".to_owned(),
            None => "the segment is not in force".to_owned(),
        };
        for (p, problem) in skipped {
            // The first error is enough to find the problem; the rest follows from it
            // or is found once that one is fixed.
            let first = problem.lines().next().unwrap_or_default().to_owned();
            warnings.push((
                id.clone(),
                format!(
                    "segment {:?} version {} (published by {} at {}) cannot be evaluated here \
                 and is not used; {instead}: {first}",
                    careloop_segment::excerpt(&id),
                    p.version,
                    careloop_segment::excerpt(&p.published_by),
                    careloop_segment::excerpt(&p.published_at),
                ),
            ));
        }
        if let Some((label, p)) = in_force {
            texts.push((label, p.body));
        }
    }
    Ok((texts, warnings))
}

/// The catalogue with the published definitions in force.
pub fn catalog(published: Vec<PublishedDefinition>) -> Result<Catalog> {
    let (texts, _) = in_force(published)?;
    Ok(careloop_segment::builtin_catalog_with(&texts)?)
}
