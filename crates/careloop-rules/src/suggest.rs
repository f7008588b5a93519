//! "Did you mean" suggestions: the closest known name by edit distance.

/// The largest edit distance at which a known name is offered as a suggestion. Two catches
/// a dropped and a doubled letter (`mamography`) without suggesting unrelated short names.
const MAX_DISTANCE: usize = 2;

/// The Levenshtein distance between two strings, counted in characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Two rows of the classic dynamic-programming table are enough.
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate closest to `name` within [`MAX_DISTANCE`]; on a tie, the first candidate.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(name, candidate);
        if distance <= MAX_DISTANCE
            && best.is_none_or(|(best_distance, _)| distance < best_distance)
        {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// ` (did you mean "x"?)` when a close candidate exists, or nothing.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    match closest(name, candidates) {
        Some(candidate) => format!(" (did you mean \"{candidate}\"?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("age", "age"), 0);
        assert_eq!(edit_distance("agee", "age"), 1);
        assert_eq!(edit_distance("MAMOGRAPHY", "MAMMOGRAPHY"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("adán", "adan"), 1);
    }

    #[test]
    fn closest_picks_the_nearest_within_two() {
        assert_eq!(closest("agee", ["sex", "age", "ages"]), Some("age"));
        assert_eq!(closest("xyz", ["age", "sex"]), None);
        assert_eq!(
            did_you_mean("procedur", ["condition", "procedure"]),
            " (did you mean \"procedure\"?)"
        );
        assert_eq!(did_you_mean("zzzzzz", ["condition"]), "");
    }
}
