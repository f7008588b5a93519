//! Search benchmark on deterministic synthetic data: 100,000 people (names drawn from lists
//! with accented names, phones in several formats, MRNs, addresses) and 500,000 notes (short
//! sentences from a vocabulary), by default. Measured: building the index (one `add_all`),
//! memory (VmRSS before and after, VmHWM, the index's own size), the latency of ~2,000
//! as-you-type queries with limit 20 (name prefixes of 2–8 characters, full names, fuzzy
//! misspellings, phone fragments, identifiers, note words; half with a coordinator's kind
//! filter), and of 200 upserts each followed by a search that must find the new text.
//! Per-category latencies, the slowest queries and a few deliberately broad queries (one
//! letter, a word in every note title) go to stderr; the figures are the one line on stdout.
//!
//! `cargo bench -p careloop-search --bench search [-- PERSONS NOTES]`

use std::time::{Duration, Instant};

use careloop_search::{Doc, DocKind, Filter, SearchIndex};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FIRST_NAMES: &[&str] = &[
    "María",
    "José",
    "Adán",
    "Ana",
    "Luis",
    "Carmen",
    "Jesús",
    "Sofía",
    "Andrés",
    "Lucía",
    "Martín",
    "Inés",
    "Raúl",
    "Ángel",
    "Elena",
    "Óscar",
    "Begoña",
    "Iñaki",
    "Zoë",
    "Chloé",
    "Hélène",
    "François",
    "Björn",
    "Søren",
    "Jürgen",
    "Łukasz",
    "Małgorzata",
    "Nguyễn",
    "Thảo",
    "John",
    "Mary",
    "James",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Nancy",
    "Daniel",
    "Lisa",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Dorothy",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
    "George",
    "Melissa",
    "Timothy",
    "Deborah",
    "Ronald",
    "Stephanie",
    "Edward",
    "Rebecca",
    "Jason",
    "Sharon",
    "Jeffrey",
    "Laura",
    "Ryan",
    "Cynthia",
    "Jacob",
    "Kathleen",
    "Gary",
    "Amy",
    "Nicholas",
    "Angela",
    "Eric",
    "Shirley",
    "Jonathan",
    "Anna",
    "Stephen",
    "Brenda",
    "Larry",
    "Pamela",
    "Justin",
    "Emma",
    "Scott",
    "Nicole",
    "Brandon",
    "Helen",
    "Benjamin",
    "Samantha",
    "Samuel",
    "Katherine",
    "Gregory",
    "Christine",
    "Alexander",
    "Debra",
    "Fatima",
    "Mohammed",
    "Aisha",
    "Omar",
    "Yusuf",
    "Mei",
    "Wei",
    "Hiroshi",
    "Yuki",
    "Priya",
    "Arjun",
    "Olga",
    "Dmitri",
    "Siobhán",
    "Seán",
    "Niamh",
    "Ngozi",
    "Chidi",
    "Kwame",
    "Amara",
];

const LAST_NAMES: &[&str] = &[
    "García",
    "Martínez",
    "Rodríguez",
    "López",
    "Hernández",
    "González",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Núñez",
    "Muñoz",
    "Jiménez",
    "Álvarez",
    "Gómez",
    "Díaz",
    "Vázquez",
    "Castañeda",
    "Ibáñez",
    "Peña",
    "Ordóñez",
    "Müller",
    "Schäfer",
    "Böhm",
    "Dvořák",
    "Kowalski",
    "Wójcik",
    "Lefèvre",
    "Françoise",
    "Øster",
    "Nguyễn",
    "Trần",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Phillips",
    "Evans",
    "Turner",
    "Parker",
    "Collins",
    "Edwards",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Morgan",
    "Peterson",
    "Cooper",
    "Reed",
    "Bailey",
    "Bell",
    "Kelly",
    "Howard",
    "Ward",
    "Cox",
    "Richardson",
    "Wood",
    "Watson",
    "Brooks",
    "Bennett",
    "Gray",
    "James",
    "Reyes",
    "Cruz",
    "Hughes",
    "Price",
    "Myers",
    "Long",
    "Foster",
    "Sanders",
    "Ross",
    "Morales",
    "Powell",
    "Sullivan",
    "Russell",
    "Ortiz",
    "Jenkins",
    "Gutiérrez",
    "Perry",
    "Butler",
    "Barnes",
    "Fisher",
    "Henderson",
    "Coleman",
    "Simmons",
    "Patterson",
    "Jordan",
    "Reynolds",
    "O'Brien",
    "O'Connor",
    "McCarthy",
    "Okafor",
    "Mensah",
    "Tanaka",
    "Suzuki",
    "Wang",
    "Chen",
    "Patel",
    "Singh",
    "Khan",
    "Ivanov",
    "Petrova",
    "Haddad",
    "Nasser",
    "Yılmaz",
    "Şahin",
];

const STREETS: &[&str] = &[
    "Elm",
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Main",
    "Church",
    "Mill",
    "Park",
    "Washington",
    "Lincoln",
    "Jefferson",
    "Madison",
    "Highland",
    "Sunset",
    "Lakeview",
    "Río Grande",
    "Alamo",
];
const SUFFIXES: &[&str] = &["St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way"];
const LANGUAGES: &[&str] = &["en", "es", "vi", "zh", "ar", "fr", "ru", "pl", "ht"];
const SEGMENTS: &[&str] = &[
    "colorectal",
    "breast",
    "cervical",
    "diabetes-a1c",
    "hypertension",
    "flu-vaccine",
    "readmission",
];
const STATUSES: &[&str] = &["open", "in_progress", "waiting", "closed"];

const VOCABULARY: &[&str] = &[
    "called",
    "left",
    "voicemail",
    "spoke",
    "with",
    "patient",
    "daughter",
    "son",
    "spouse",
    "caregiver",
    "no",
    "answer",
    "busy",
    "signal",
    "wrong",
    "number",
    "disconnected",
    "asked",
    "to",
    "call",
    "back",
    "tomorrow",
    "morning",
    "afternoon",
    "evening",
    "after",
    "work",
    "prefers",
    "text",
    "messages",
    "spanish",
    "interpreter",
    "needed",
    "scheduled",
    "appointment",
    "colonoscopy",
    "mammogram",
    "screening",
    "lab",
    "a1c",
    "blood",
    "pressure",
    "check",
    "clinic",
    "pharmacy",
    "refill",
    "medication",
    "insulin",
    "metformin",
    "declined",
    "not",
    "interested",
    "already",
    "done",
    "elsewhere",
    "records",
    "requested",
    "transportation",
    "barrier",
    "bus",
    "ride",
    "voucher",
    "food",
    "insecurity",
    "referral",
    "sent",
    "community",
    "health",
    "worker",
    "social",
    "housing",
    "unstable",
    "shelter",
    "phone",
    "minutes",
    "low",
    "battery",
    "deaf",
    "hard",
    "of",
    "hearing",
    "mailed",
    "letter",
    "reminder",
    "postcard",
    "confirmed",
    "address",
    "moved",
    "new",
    "provider",
    "insurance",
    "lapsed",
    "medicaid",
    "renewal",
    "copay",
    "concern",
    "cost",
    "fear",
    "anxiety",
    "pain",
    "fall",
    "hospital",
    "discharge",
    "follow",
    "up",
    "visit",
    "primary",
    "care",
    "doctor",
    "nurse",
    "escalated",
    "supervisor",
    "urgent",
    "symptoms",
    "chest",
    "shortness",
    "breath",
    "dizzy",
    "fever",
    "cough",
    "vaccine",
    "flu",
    "covid",
    "booster",
    "consent",
    "given",
    "kit",
    "fit",
    "returned",
    "positive",
    "negative",
    "result",
    "discussed",
    "education",
    "diet",
    "exercise",
    "glucose",
    "meter",
    "strips",
    "supplies",
    "ordered",
    "delivered",
    "week",
    "month",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "the",
    "a",
    "and",
    "for",
    "about",
    "on",
];

const NOTE_KINDS: &[(DocKind, &str)] = &[
    (DocKind::AttemptNote, "Attempt"),
    (DocKind::AttemptNote, "Attempt"),
    (DocKind::AttemptNote, "Attempt"),
    (DocKind::Answer, "Answer"),
    (DocKind::ReferralNote, "Referral"),
    (DocKind::EscalationNote, "Escalation"),
    (DocKind::CallbackNote, "Callback"),
];
const CHANNELS: &[&str] = &["phone", "sms", "letter", "visit"];

struct Person {
    first: &'static str,
    last: &'static str,
    phone_digits: String,
    mrn: String,
}

fn phone_as_written(rng: &mut ChaCha8Rng, digits: &str) -> String {
    let (area, exchange, line) = (&digits[0..3], &digits[3..6], &digits[6..10]);
    match rng.gen_range(0..4) {
        0 => format!("+1 {area}-{exchange}-{line}"),
        1 => format!("({area}) {exchange}-{line}"),
        2 => format!("{area}.{exchange}.{line}"),
        _ => format!("{area}{exchange}{line}"),
    }
}

fn make_people(rng: &mut ChaCha8Rng, count: usize) -> Vec<Person> {
    (0..count)
        .map(|i| Person {
            first: FIRST_NAMES.choose(rng).unwrap(),
            last: LAST_NAMES.choose(rng).unwrap(),
            phone_digits: format!(
                "{}{:07}",
                rng.gen_range(200..1000),
                rng.gen_range(0..10_000_000)
            ),
            mrn: format!("MRN-{:07}", 1_000_000 + i),
        })
        .collect()
}

fn person_doc(rng: &mut ChaCha8Rng, i: usize, person: &Person) -> Doc {
    let middle = if rng.gen_bool(0.2) {
        format!(" {}", FIRST_NAMES.choose(rng).unwrap())
    } else {
        String::new()
    };
    let mut phones = vec![phone_as_written(rng, &person.phone_digits)];
    if rng.gen_bool(0.3) {
        let other = format!(
            "{}{:07}",
            rng.gen_range(200..1000),
            rng.gen_range(0..10_000_000)
        );
        phones.push(phone_as_written(rng, &other));
    }
    Doc {
        kind: DocKind::Person,
        id: format!("patient-{i}"),
        patient_id: Some(format!("patient-{i}")),
        title: format!("{}{middle} {}", person.first, person.last),
        text: String::new(),
        identifiers: vec![person.mrn.clone(), format!("{:016x}", rng.gen::<u64>())],
        phones,
        address: Some(format!(
            "{} {} {}",
            rng.gen_range(1..9999),
            STREETS.choose(rng).unwrap(),
            SUFFIXES.choose(rng).unwrap()
        )),
        language: Some(LANGUAGES.choose(rng).unwrap().to_string()),
        segment: Some(SEGMENTS.choose(rng).unwrap().to_string()),
        status: Some(STATUSES.choose(rng).unwrap().to_string()),
        owner: Some(format!("coord-{}", rng.gen_range(1..40))),
    }
}

fn sentence(rng: &mut ChaCha8Rng) -> String {
    let words = rng.gen_range(6..=20);
    let mut text = String::new();
    for i in 0..words {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(VOCABULARY.choose(rng).unwrap());
    }
    text.push('.');
    text
}

fn note_doc(rng: &mut ChaCha8Rng, i: usize, persons: usize) -> Doc {
    let (kind, label) = *NOTE_KINDS.choose(rng).unwrap();
    let patient = rng.gen_range(0..persons);
    Doc {
        kind,
        id: format!("note-{i}"),
        patient_id: Some(format!("patient-{patient}")),
        title: format!(
            "{label} 2026-{:02}-{:02} {}",
            rng.gen_range(1..=12),
            rng.gen_range(1..=28),
            CHANNELS.choose(rng).unwrap()
        ),
        text: sentence(rng),
        segment: Some(SEGMENTS.choose(rng).unwrap().to_string()),
        status: Some(STATUSES.choose(rng).unwrap().to_string()),
        owner: Some(format!("coord-{}", rng.gen_range(1..40))),
        ..Doc::default()
    }
}

/// All documents, generated lazily in a fixed order from `seed`.
fn documents(seed: u64, people: &[Person], notes: usize) -> impl Iterator<Item = Doc> + '_ {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let persons = people.len();
    (0..persons + notes).map(move |i| {
        if i < persons {
            person_doc(&mut rng, i, &people[i])
        } else {
            note_doc(&mut rng, i - persons, persons)
        }
    })
}

/// Removes accents the way a hurried typist does, for some queries.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ï' => 'i',
            'ó' | 'ö' | 'ø' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            'Á' => 'A',
            'Ó' => 'O',
            c => c,
        })
        .collect()
}

fn misspell(rng: &mut ChaCha8Rng, word: &str) -> String {
    let mut chars: Vec<char> = plain(word).to_lowercase().chars().collect();
    let at = rng.gen_range(1..chars.len() - 1);
    match rng.gen_range(0..3) {
        0 => chars.swap(at, at + 1),
        1 => chars[at] = 'x',
        _ => {
            chars.remove(at);
        }
    }
    chars.into_iter().collect()
}

fn prefix(word: &str, chars: usize) -> String {
    word.chars().take(chars).collect()
}

/// ~2,000 queries as coordinators type them, with their category.
fn queries(rng: &mut ChaCha8Rng, people: &[Person], count: usize) -> Vec<(&'static str, String)> {
    (0..count)
        .map(|_| {
            let person = people.choose(rng).unwrap();
            let category = rng.gen_range(0..10);
            match category {
                0..=2 => {
                    let name = if rng.gen_bool(0.5) {
                        person.first
                    } else {
                        person.last
                    };
                    let name = if rng.gen_bool(0.5) {
                        plain(name)
                    } else {
                        name.to_owned()
                    };
                    (
                        "name prefix",
                        prefix(&name.to_lowercase(), rng.gen_range(2..=8)),
                    )
                }
                3 => ("full name", format!("{} {}", person.first, person.last)),
                4 => {
                    let typed = rng.gen_range(1..=5);
                    (
                        "first + last prefix",
                        format!("{} {}", plain(person.first), prefix(person.last, typed)),
                    )
                }
                5 => {
                    let name = [person.first, person.last]
                        .into_iter()
                        .filter(|n| n.chars().count() >= 5)
                        .max_by_key(|n| n.len())
                        .unwrap_or("Martínez");
                    ("fuzzy", misspell(rng, name))
                }
                6 => {
                    let d = &person.phone_digits;
                    let query = match rng.gen_range(0..4) {
                        0 => d[3..].to_owned(),
                        1 => format!("{}-{}", &d[3..6], &d[6..]),
                        2 => format!("({}) {}", &d[..3], &d[3..rng.gen_range(4..=6)]),
                        _ => d[rng.gen_range(4..=6)..].to_owned(),
                    };
                    ("phone", query)
                }
                7 => (
                    "mrn",
                    prefix(&person.mrn, rng.gen_range(6..=11)).to_lowercase(),
                ),
                _ => {
                    let first = VOCABULARY.choose(rng).unwrap();
                    let second = VOCABULARY.choose(rng).unwrap();
                    let typed = rng.gen_range(3..=second.len().max(3));
                    ("note words", format!("{first} {}", prefix(second, typed)))
                }
            }
        })
        .collect()
}

fn status_kib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

fn mib(kib: f64) -> f64 {
    kib / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(|a| a.parse().expect("PERSONS NOTES are numbers"))
        .collect();
    let persons = args.first().copied().unwrap_or(100_000);
    let notes = args.get(1).copied().unwrap_or(500_000);
    let seed = 20_260_701;

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let people = make_people(&mut rng, persons);

    // Generating documents alone, to subtract from the build time.
    let generating = Instant::now();
    let generated = documents(seed, &people, notes).count();
    let generate_s = generating.elapsed().as_secs_f64();

    let rss_before = status_kib("VmRSS:");
    let building = Instant::now();
    let mut index = SearchIndex::new().unwrap();
    let added = index.add_all(documents(seed, &people, notes)).unwrap();
    let build_s = building.elapsed().as_secs_f64() - generate_s;
    assert_eq!(added as usize, generated);
    assert_eq!(index.len() as usize, generated);
    let rss_after = status_kib("VmRSS:");
    let hwm = status_kib("VmHWM:");
    // What glibc keeps of the indexing arenas after they are freed is not the index.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    let rss_trimmed = {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim only returns free heap memory to the system.
        unsafe { malloc_trim(0) };
        status_kib("VmRSS:")
    };
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let rss_trimmed = rss_after;
    let index_bytes = index.memory_bytes();

    let mut query_rng = ChaCha8Rng::seed_from_u64(seed + 1);
    let queries = queries(&mut query_rng, &people, 2_000);
    let coordinator = Filter {
        kinds: Some(
            DocKind::ALL
                .into_iter()
                .filter(|k| *k != DocKind::CallbackNote)
                .collect(),
        ),
        ..Filter::default()
    };
    // Warm up (the first searches touch every segment's dictionaries).
    for (_, query) in queries.iter().take(200) {
        index.search(query, &Filter::default(), 20).unwrap();
    }
    let mut latencies = Vec::with_capacity(queries.len());
    let mut by_category: Vec<(&str, Vec<Duration>)> = Vec::new();
    let mut empty = 0;
    for (i, (category, query)) in queries.iter().enumerate() {
        let filter = if i % 2 == 0 {
            &coordinator
        } else {
            &Filter::default()
        };
        let started = Instant::now();
        let hits = index.search(query, filter, 20).unwrap();
        let took = started.elapsed();
        empty += usize::from(hits.is_empty());
        latencies.push(took);
        match by_category.iter_mut().find(|(c, _)| c == category) {
            Some((_, list)) => list.push(took),
            None => by_category.push((category, vec![took])),
        }
    }
    latencies.sort();
    let slowest: Vec<(f64, &String)> = {
        let mut timed: Vec<(f64, &String)> = Vec::new();
        for (i, (_, query)) in queries.iter().enumerate().take(400) {
            let filter = if i % 2 == 0 {
                &coordinator
            } else {
                &Filter::default()
            };
            let started = Instant::now();
            index.search(query, filter, 20).unwrap();
            timed.push((started.elapsed().as_secs_f64() * 1e3, query));
        }
        timed.sort_by(|a, b| b.0.total_cmp(&a.0));
        timed.into_iter().take(5).collect()
    };

    // Not typical, so not in the figures above: the broadest queries there are.
    for query in [
        "a",
        "m",
        "2",
        "ma",
        "at",
        "the",
        "2026",
        "attempt",
        "attempt phone",
        "5555",
        "mrn",
    ] {
        let started = Instant::now();
        for _ in 0..20 {
            index.search(query, &coordinator, 20).unwrap();
        }
        eprintln!(
            "  broad: {:.2} ms {query:?}",
            started.elapsed().as_secs_f64() * 1e3 / 20.0
        );
    }

    let mut upserts = Vec::with_capacity(200);
    let mut visible = Vec::with_capacity(200);
    let mut upsert_rng = ChaCha8Rng::seed_from_u64(seed + 2);
    for i in 0..200 {
        let replaced = upsert_rng.gen_range(0..notes.max(1));
        let mut doc = note_doc(&mut upsert_rng, replaced, persons);
        let marker = format!("zqmarker{i}");
        doc.text = format!("{} {marker}", doc.text);
        let id = doc.id.clone();
        let started = Instant::now();
        index.upsert(doc).unwrap();
        let upserted = started.elapsed();
        let hits = index.search(&marker, &Filter::default(), 20).unwrap();
        let total = started.elapsed();
        // Earlier markers one edit away match too (fuzzy), below the exact match.
        assert_eq!(hits[0].id, id, "an upsert is searchable when it returns");
        upserts.push(upserted);
        visible.push(total);
    }
    upserts.sort();
    visible.sort();

    for (category, list) in &mut by_category {
        list.sort();
        eprintln!(
            "  {category:<20} n={:<4} p50={:.2} ms p99={:.2} ms max={:.2} ms",
            list.len(),
            percentile(list, 0.5),
            percentile(list, 0.99),
            percentile(list, 1.0)
        );
    }
    for (ms, query) in slowest {
        eprintln!("  slow: {ms:.2} ms {query:?}");
    }
    println!(
        "search bench: {persons} persons + {notes} notes | build {build_s:.2} s (generation {generate_s:.2} s excluded) | index {:.0} MiB, RSS {:.0} -> {:.0} MiB ({:.0} MiB after malloc_trim), peak {:.0} MiB | query (n={}, limit 20, {empty} empty) p50 {:.2} ms p99 {:.2} ms max {:.2} ms | upsert p50 {:.2} ms p99 {:.2} ms; upsert+search p50 {:.2} ms p99 {:.2} ms (n=200)",
        index_bytes as f64 / (1 << 20) as f64,
        mib(rss_before),
        mib(rss_after),
        mib(rss_trimmed),
        mib(hwm),
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        percentile(&upserts, 0.5),
        percentile(&upserts, 0.99),
        percentile(&visible, 0.5),
        percentile(&visible, 0.99),
    );
}
