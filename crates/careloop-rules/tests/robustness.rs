//! Nothing panics, whatever the input: prefixes of real rules, garbage, and random mixtures
//! of rule fragments. Every error is inside the text, and every accepted rule round-trips.

mod common;

use careloop_rules::{check, line_column, parse, RuleError};
use common::{assert_round_trip, schema};

const LONG_RULES: &[&str] = &[
    "sex == \"female\" and age >= 50 and age <= 74\n  and not exists(procedure, observation, report, imaging in MAMMOGRAPHY within 27 months)",
    "# Recently discharged and alone\nexists(encounter class in INPATIENT_CLASS discharged within 30 days)\n  and (lives_alone or housing_instability) # either\n  and count(encounter class in EMERGENCY_CLASS within 12 months) >= 2",
    "language not in ('es', \"vi\", 'it\\'s', \"a\\\\b\") or not (age > -1.5 and birth_date < '1960-01-01')\n  or exists(active condition, medication code in DIABETES within 1 year) or false",
    "name == 'Adán Núñez' and not not (a or (b and c)) and x in (1, 2.5, -3, true) and count(imaging modality in MAMMOGRAPHY) in (0)",
];

const GARBAGE: &[&str] = &[
    "",
    " ",
    "\n\n\n",
    "#",
    "(",
    ")",
    "((",
    "))",
    "()",
    "(()",
    ",",
    "-",
    "--",
    "- -",
    "-)",
    "\"",
    "'",
    "\\",
    "\"\\",
    "'\\'",
    "\"\\\"",
    "==",
    "= =",
    "!",
    "!=",
    "<",
    ">=>",
    "&",
    "|",
    "&&&",
    "|||",
    "@#$%^",
    "é",
    "日本語",
    "\u{0}",
    "\u{FEFF}",
    "\u{200B}",
    "\r\n",
    "\t",
    "🙂 and 🙂",
    "a\u{301}",
    "AND",
    "NOT NOT",
    "and or not",
    "exists",
    "exists(",
    "exists()",
    "exists(,)",
    "exists(in)",
    "count(((",
    "count) > 1",
    "in",
    "in (",
    "not in",
    "within 5 days",
    "active",
    "discharged",
    "true true",
    "1 2 3",
    "1.2.3.4",
    "99999999999999999999999999999",
    "0.0000000000000000000000001",
    "a in (",
    "a in (1,",
    "a in (1,,)",
    "a not",
    "a not in",
    "x == 'a\nb'",
    "exists(encounter in X within)",
    "exists(encounter in X within 5)",
    "exists(encounter in X within 5 days",
    "exists(encounter, in X)",
    "exists(active)",
    "exists(active active condition in X)",
    "ÀÉÎ",
    "a_",
    "_",
    "9a",
    "a9",
    "A",
    "Z_",
    "exists(encounter class in INPATIENT_CLASS discharged discharged)",
];

/// Parses, and for an accepted rule also checks and round-trips it; for a rejected one
/// checks that the error lies inside the text and agrees with [`line_column`].
fn exercise(text: &str) {
    match parse(text) {
        Ok(expr) => {
            assert_round_trip(&expr);
            if let Err(errors) = check(&expr, text, &schema()) {
                errors.iter().for_each(|error| assert_inside(text, error));
            }
        }
        Err(error) => assert_inside(text, &error),
    }
}

fn assert_inside(text: &str, error: &RuleError) {
    assert!(error.span.start <= error.span.end, "{text:?}: {error:?}");
    assert!(error.span.end <= text.len(), "{text:?}: {error:?}");
    assert!(
        text.is_char_boundary(error.span.start) && text.is_char_boundary(error.span.end),
        "{text:?}: {error:?}"
    );
    assert_eq!(
        line_column(text, error.span.start),
        (error.line, error.column),
        "{text:?}"
    );
    assert!(!error.message.is_empty(), "{text:?}");
}

#[test]
fn every_prefix_of_long_rules_parses_or_fails_cleanly() {
    for rule in LONG_RULES {
        assert!(
            parse(rule).is_ok(),
            "{rule:?} should parse: {:?}",
            parse(rule)
        );
        for (end, _) in rule.char_indices().chain([(rule.len(), ' ')]) {
            exercise(&rule[..end]);
        }
    }
}

#[test]
fn every_suffix_of_long_rules_parses_or_fails_cleanly() {
    for rule in LONG_RULES {
        for (start, _) in rule.char_indices() {
            exercise(&rule[start..]);
        }
    }
}

#[test]
fn garbage_parses_or_fails_cleanly() {
    for text in GARBAGE {
        exercise(text);
        for rule in LONG_RULES {
            exercise(&format!("{rule}{text}"));
            exercise(&format!("{text}{rule}"));
        }
    }
}

/// A small deterministic generator (xorshift64*), so the test needs no dependency and
/// always sees the same inputs.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_mixtures_of_fragments_parse_or_fail_cleanly() {
    const FRAGMENTS: &[&str] = &[
        "age",
        "sex",
        "lives_alone",
        "agee",
        "birth_date",
        " and ",
        " or ",
        "not ",
        "(",
        ")",
        ",",
        " ",
        "\n",
        "# c\n",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "-",
        "5",
        "7.5",
        "0",
        "'female'",
        "\"Adán\"",
        "'",
        "\"",
        "\\",
        "true",
        "false",
        " in ",
        " not in ",
        "(1, 2)",
        "exists(",
        "count(",
        "active ",
        "condition",
        "encounter",
        "imaging",
        "procedure",
        " class",
        " type",
        " modality",
        " in MAMMOGRAPHY",
        " in X",
        " discharged",
        " within ",
        "30 days",
        "1 year",
        "12 months",
        "&&",
        "=",
        "@",
        "é",
        "AND",
        ") >= 2",
    ];
    let mut random = Random(0x5EED_CA4E_100F);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let length = 1 + random.below(14);
        let text: String = (0..length)
            .map(|_| FRAGMENTS[random.below(FRAGMENTS.len())])
            .collect();
        if parse(&text).is_ok() {
            accepted += 1;
        }
        exercise(&text);
    }
    // The generator is only useful if it also produces valid rules to round-trip.
    assert!(accepted > 100, "only {accepted} random rules parsed");
}
