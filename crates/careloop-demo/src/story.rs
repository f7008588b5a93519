//! The profile of one patient before any date is chosen: the story they live (an everyday
//! patient or one of the situations the outreach seeds describe), chronic diseases, how often
//! they come in, social needs, operational signals and digital engagement.
//!
//! The first patients of every panel are *exemplars*: each lives one story with every one of
//! its signals present, so even a 20-patient demo shows every seed-described segment.

use chrono::NaiveDate;

use crate::calendar::{days_before, months_before};
use crate::demographics::{draw_age, draw_person, AgeRange, Person, Sex};
use crate::dice::Dice;
use crate::vocabulary::{
    Code, ALREADY_SHUT_OFF, ALWAYS, DAILY_SMOKER, EX_SMOKER, HOUSING_AT_RISK, NEVER, NEVER_SMOKED,
    NEVER_TRUE, NO, NO_STEADY_HOUSING, OFTEN, OFTEN_TRUE, RARELY, SOMETIMES, SOMETIMES_TRUE,
    STEADY_HOUSING, YES,
};

/// The situation a patient is in, as the outreach seeds describe them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Story {
    /// A patient of the panel without a particular situation (most people).
    Everyday,
    /// Discharged in the last weeks, often living alone, with medication changes at discharge,
    /// missed early check-ins and a need for assisted setup.
    RecentDischarge,
    /// Behavioural-health continuity risk: prior crisis contacts, falling digital engagement,
    /// missed reviews, often housing instability.
    CrisisContact,
    /// Long-term support fragility: frail, caregiver strain, missed welfare tasks, incidents.
    FragileSupport,
    /// Social risk escalation: eviction risk, food insecurity, utility shut-off.
    SocialRisk,
}

/// The exemplars, in patient order (patient 0 is the first).
const EXEMPLARS: [Story; 4] = [
    Story::RecentDischarge,
    Story::CrisisContact,
    Story::FragileSupport,
    Story::SocialRisk,
];

/// Story mix of the rest of the panel, in tenths of a percent.
const STORY_MIX: [(Story, u32); 5] = [
    (Story::Everyday, 870),
    (Story::RecentDischarge, 25),
    (Story::CrisisContact, 30),
    (Story::FragileSupport, 35),
    (Story::SocialRisk, 40),
];

impl Story {
    fn ages(self) -> Option<AgeRange> {
        match self {
            Story::Everyday => None,
            Story::RecentDischarge => Some(AgeRange { min: 58, max: 93 }),
            Story::CrisisContact => Some(AgeRange { min: 18, max: 62 }),
            Story::FragileSupport => Some(AgeRange { min: 76, max: 96 }),
            Story::SocialRisk => Some(AgeRange { min: 21, max: 70 }),
        }
    }
}

/// A chronic disease the panel knows about; the exact code is chosen with the dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Disease {
    Hypertension,
    Hyperlipidemia,
    Type2Diabetes,
    Type1Diabetes,
    Prediabetes,
    Obesity,
    Copd,
    Asthma,
    HeartFailure,
    CoronaryArteriosclerosis,
    AtrialFibrillation,
    /// Chronic kidney disease (stage chosen with the dates).
    Ckd,
    Depression,
    Anxiety,
    Bipolar,
    Schizophrenia,
    AlcoholUse,
    Dementia,
    Osteoarthritis,
    Osteoporosis,
    Hypothyroidism,
    ChronicPain,
    RheumatoidArthritis,
    BreastCancer,
    ColonCancer,
    LungCancer,
    ProstateNeoplasm,
    Stroke,
    PriorMyocardialInfarction,
    Adhd,
}

/// Prevalence in percent by age band: <18, 18-34, 35-49, 50-64, 65-79, 80+.
struct Prevalence {
    disease: Disease,
    female: [f64; 6],
    male: [f64; 6],
}

const fn both(disease: Disease, percent: [f64; 6]) -> Prevalence {
    Prevalence {
        disease,
        female: percent,
        male: percent,
    }
}

const PREVALENCE: [Prevalence; 30] = [
    both(Disease::Hypertension, [0.5, 6.0, 18.0, 38.0, 58.0, 68.0]),
    both(Disease::Hyperlipidemia, [0.0, 4.0, 14.0, 30.0, 42.0, 38.0]),
    both(Disease::Type2Diabetes, [0.2, 2.0, 7.0, 15.0, 22.0, 20.0]),
    both(Disease::Type1Diabetes, [0.3, 0.5, 0.4, 0.4, 0.3, 0.2]),
    both(Disease::Prediabetes, [1.0, 6.0, 11.0, 15.0, 15.0, 10.0]),
    both(Disease::Obesity, [15.0, 22.0, 30.0, 33.0, 28.0, 15.0]),
    both(Disease::Copd, [0.0, 0.3, 1.5, 6.0, 11.0, 13.0]),
    both(Disease::Asthma, [9.0, 8.0, 8.0, 7.0, 6.0, 5.0]),
    both(Disease::HeartFailure, [0.0, 0.1, 0.6, 2.5, 7.0, 13.0]),
    both(
        Disease::CoronaryArteriosclerosis,
        [0.0, 0.2, 1.5, 6.0, 13.0, 19.0],
    ),
    both(Disease::AtrialFibrillation, [0.0, 0.1, 0.5, 2.5, 8.0, 14.0]),
    both(Disease::Ckd, [0.1, 0.6, 2.0, 6.0, 15.0, 28.0]),
    both(Disease::Depression, [2.0, 9.0, 9.0, 8.0, 6.0, 6.0]),
    both(Disease::Anxiety, [4.0, 11.0, 10.0, 8.0, 5.0, 4.0]),
    both(Disease::Bipolar, [0.2, 1.2, 1.2, 0.8, 0.5, 0.3]),
    both(Disease::Schizophrenia, [0.0, 0.6, 0.6, 0.5, 0.4, 0.2]),
    both(Disease::AlcoholUse, [0.0, 2.5, 3.0, 3.0, 1.5, 0.5]),
    both(Disease::Dementia, [0.0, 0.0, 0.0, 0.6, 4.0, 16.0]),
    both(Disease::Osteoarthritis, [0.0, 1.0, 5.0, 14.0, 25.0, 32.0]),
    Prevalence {
        disease: Disease::Osteoporosis,
        female: [0.0, 0.2, 1.0, 7.0, 16.0, 26.0],
        male: [0.0, 0.0, 0.3, 2.0, 4.0, 7.0],
    },
    Prevalence {
        disease: Disease::Hypothyroidism,
        female: [0.3, 3.0, 5.0, 8.0, 11.0, 12.0],
        male: [0.1, 1.0, 1.7, 2.7, 3.7, 4.0],
    },
    both(Disease::ChronicPain, [0.5, 4.0, 7.0, 10.0, 10.0, 9.0]),
    both(Disease::RheumatoidArthritis, [0.0, 0.3, 0.7, 1.2, 1.5, 1.5]),
    Prevalence {
        disease: Disease::BreastCancer,
        female: [0.0, 0.05, 0.6, 2.0, 4.0, 5.0],
        male: [0.0; 6],
    },
    both(Disease::ColonCancer, [0.0, 0.02, 0.2, 0.8, 1.5, 2.0]),
    both(Disease::LungCancer, [0.0, 0.0, 0.1, 0.4, 1.0, 1.0]),
    Prevalence {
        disease: Disease::ProstateNeoplasm,
        female: [0.0; 6],
        male: [0.0, 0.0, 0.3, 3.0, 8.0, 10.0],
    },
    both(Disease::Stroke, [0.0, 0.1, 0.4, 1.5, 4.0, 7.0]),
    both(
        Disease::PriorMyocardialInfarction,
        [0.0, 0.05, 0.5, 2.5, 5.0, 7.0],
    ),
    both(Disease::Adhd, [8.0, 3.0, 1.0, 0.0, 0.0, 0.0]),
];

fn age_band(age: u32) -> usize {
    match age {
        0..=17 => 0,
        18..=34 => 1,
        35..=49 => 2,
        50..=64 => 3,
        65..=79 => 4,
        _ => 5,
    }
}

impl Disease {
    /// Diseases that count towards "chronic burden" (drives visit frequency).
    fn is_burden(self) -> bool {
        !matches!(
            self,
            Disease::Obesity | Disease::Prediabetes | Disease::Adhd
        )
    }

    pub fn is_behavioural(self) -> bool {
        matches!(
            self,
            Disease::Depression | Disease::Anxiety | Disease::Bipolar | Disease::Schizophrenia
        )
    }

    pub fn is_diabetes(self) -> bool {
        matches!(self, Disease::Type2Diabetes | Disease::Type1Diabetes)
    }

    /// Youngest age at which the disease is usually diagnosed.
    pub fn earliest_onset_age(self) -> u32 {
        match self {
            Disease::Asthma | Disease::Type1Diabetes => 2,
            Disease::Adhd => 5,
            Disease::Obesity
            | Disease::Anxiety
            | Disease::Depression
            | Disease::Hypertension
            | Disease::Prediabetes => 10,
            Disease::Dementia => 60,
            Disease::ProstateNeoplasm | Disease::Osteoporosis => 45,
            _ => 18,
        }
    }
}

/// How often the patient comes in, as planned (the engagement tier is derived from the
/// encounters actually written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Attendance {
    /// Three or more visits in the last 12 months.
    Frequent,
    /// One or two visits in the last 12 months.
    Occasional,
    /// Seen before, but not in the last 12 months.
    Lapsed,
    /// Registered, never seen.
    NeverSeen,
}

/// The answers a social-needs screening gives (the latest screening).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SocialNeeds {
    pub housing: Code,
    pub eviction_risk: bool,
    pub food_worry: Code,
    pub food_did_not_last: Code,
    pub transport_barrier: bool,
    pub utilities: Code,
    pub loneliness: Code,
    pub caregiver_strain: bool,
}

/// How the patient's scheduled digital check-ins go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CheckinPattern {
    /// Most check-ins done.
    Steady,
    /// Done at first, then missed more and more (falling engagement).
    Falling,
    /// Done until two weeks ago, then mostly missed.
    RecentlyMissing,
    /// Started at discharge; the first days after discharge missed.
    MissedAfterDischarge,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Checkins {
    pub channel: &'static str,
    pub pattern: CheckinPattern,
}

/// Everything decided about one patient before dates are drawn.
#[derive(Debug)]
pub(crate) struct Profile {
    pub story: Story,
    pub exemplary: bool,
    pub person: Person,
    pub as_of: NaiveDate,
    pub death: Option<NaiveDate>,
    /// The last day anything can happen: the as-of date, or the day of death.
    pub last_day: NaiveDate,
    pub household_size: u32,
    pub diseases: Vec<Disease>,
    pub attendance: Attendance,
    pub screened: bool,
    pub needs: SocialNeeds,
    /// A second, older screening whose answers differ (needs that changed).
    pub rescreened: bool,
    pub smoking: Code,
    pub crisis_contacts: u32,
    pub missed_reviews: u32,
    pub missed_welfare_tasks: u32,
    pub incidents: u32,
    pub assisted_setup: bool,
    pub prior_transition_with_unplanned_follow_up: bool,
    pub checkins: Option<Checkins>,
    pub portal_user: bool,
}

impl Profile {
    pub fn has(&self, disease: Disease) -> bool {
        self.diseases.contains(&disease)
    }

    pub fn age(&self) -> u32 {
        self.person.age
    }
}

/// Draws the profile of patient `index`.
pub(crate) fn draw_profile(dice: &mut Dice, index: u32, as_of: NaiveDate) -> Profile {
    let (story, exemplary) = match EXEMPLARS.get(index as usize) {
        Some(story) => (*story, true),
        None => (*dice.weighted(&STORY_MIX), false),
    };
    // `certain(p)`: always true for an exemplar, else true with probability p.
    let certain = |dice: &mut Dice, p: f64| exemplary || dice.chance(p);

    let sex = if dice.chance(0.52) {
        Sex::Female
    } else {
        Sex::Male
    };
    let age = draw_age(dice, story.ages());
    let person = draw_person(dice, index, sex, age, as_of);

    let death = draw_death(dice, story, age, as_of);
    let last_day = death.unwrap_or(as_of);

    let mut diseases = draw_diseases(dice, sex, age);
    match story {
        Story::Everyday => {}
        Story::RecentDischarge => {
            let driver = *dice.weighted(&[
                (Disease::HeartFailure, 40),
                (Disease::Copd, 35),
                (Disease::Type2Diabetes, 15),
                (Disease::Osteoporosis, 10),
            ]);
            add(
                &mut diseases,
                if exemplary {
                    Disease::HeartFailure
                } else {
                    driver
                },
            );
            if dice.chance(0.7) {
                add(&mut diseases, Disease::Hypertension);
            }
        }
        Story::CrisisContact => {
            let condition = *dice.weighted(&[
                (Disease::Depression, 50),
                (Disease::Bipolar, 20),
                (Disease::Schizophrenia, 12),
                (Disease::Anxiety, 18),
            ]);
            add(
                &mut diseases,
                if exemplary {
                    Disease::Depression
                } else {
                    condition
                },
            );
            if dice.chance(0.25) {
                add(&mut diseases, Disease::AlcoholUse);
            }
        }
        Story::FragileSupport => {
            if certain(dice, 0.6) {
                add(&mut diseases, Disease::Dementia);
            }
            if dice.chance(0.25) {
                add(&mut diseases, Disease::HeartFailure);
            }
            if dice.chance(0.2) {
                add(&mut diseases, Disease::Stroke);
            }
        }
        Story::SocialRisk => {
            if dice.chance(0.25) {
                add(&mut diseases, Disease::Depression);
            }
        }
    }
    if diseases.iter().any(|d| d.is_diabetes()) {
        diseases.retain(|d| *d != Disease::Prediabetes);
    }

    let burden = diseases.iter().filter(|d| d.is_burden()).count();
    let attendance = draw_attendance(dice, story, age, burden);

    let household_size = draw_household(dice, story, exemplary, age);
    let screened = age >= 18
        && attendance != Attendance::NeverSeen
        && match story {
            Story::Everyday => dice.chance(0.55),
            _ => certain(dice, 0.95),
        };
    let needs = draw_needs(dice, story, exemplary, age, household_size);
    let rescreened = screened && dice.chance(0.15);
    let smoking = draw_smoking(dice, age, diseases.contains(&Disease::Copd));

    let behavioural = diseases.iter().any(|d| d.is_behavioural());
    let crisis_contacts = match story {
        Story::CrisisContact if exemplary => 2,
        Story::CrisisContact => dice.range(1, 3),
        _ if behavioural && attendance != Attendance::Lapsed && dice.chance(0.03) => 1,
        _ => 0,
    };
    let missed_reviews = match story {
        Story::CrisisContact if exemplary => 2,
        Story::CrisisContact => dice.range(0, 3),
        Story::FragileSupport => u32::from(certain(dice, 0.4)),
        Story::RecentDischarge => u32::from(dice.chance(0.25)),
        _ => u32::from(age >= 18 && attendance != Attendance::NeverSeen && dice.chance(0.04)),
    };
    let missed_welfare_tasks = match story {
        Story::FragileSupport if exemplary => 2,
        Story::FragileSupport if dice.chance(0.5) => dice.range(1, 3),
        _ => 0,
    };
    let incidents = match story {
        Story::FragileSupport if exemplary => 2,
        Story::FragileSupport if dice.chance(0.5) => dice.range(1, 2),
        _ => u32::from(age >= 80 && dice.chance(0.03)),
    };
    let assisted_setup = match story {
        Story::RecentDischarge => certain(dice, 0.45),
        Story::FragileSupport => dice.chance(0.5),
        _ => age >= 80 && dice.chance(0.1),
    };
    let prior_transition_with_unplanned_follow_up =
        story == Story::RecentDischarge && certain(dice, 0.4);

    let checkins = draw_checkins(dice, story, exemplary, age, burden);
    let portal_user = age >= 18
        && dice.chance(match age {
            18..=64 => 0.45,
            65..=79 => 0.3,
            _ => 0.1,
        });

    Profile {
        story,
        exemplary,
        person,
        as_of,
        death,
        last_day,
        household_size,
        diseases,
        attendance,
        screened,
        needs,
        rescreened,
        smoking,
        crisis_contacts,
        missed_reviews,
        missed_welfare_tasks,
        incidents,
        assisted_setup,
        prior_transition_with_unplanned_follow_up,
        checkins,
        portal_user,
    }
}

fn add(diseases: &mut Vec<Disease>, disease: Disease) {
    if !diseases.contains(&disease) {
        diseases.push(disease);
    }
}

/// A few people of the panel have died (always before the as-of date).
fn draw_death(dice: &mut Dice, story: Story, age: u32, as_of: NaiveDate) -> Option<NaiveDate> {
    if story != Story::Everyday {
        return None;
    }
    let p = match age {
        80.. => 0.06,
        65..=79 => 0.02,
        _ => 0.003,
    };
    if !dice.chance(p) {
        return None;
    }
    // Died in the last three years; never on or after the as-of date. Age stays that at the
    // as-of date, so the person was at most three years younger at death.
    let died = dice.date_between(months_before(as_of, 36), days_before(as_of, 1));
    Some(died)
}

fn draw_diseases(dice: &mut Dice, sex: Sex, age: u32) -> Vec<Disease> {
    let band = age_band(age);
    let mut diseases = Vec::new();
    for row in &PREVALENCE {
        let percent = match sex {
            Sex::Female => row.female[band],
            Sex::Male => row.male[band],
        };
        if percent > 0.0 && age >= row.disease.earliest_onset_age() && dice.chance(percent / 100.0)
        {
            diseases.push(row.disease);
        }
    }
    diseases
}

fn draw_attendance(dice: &mut Dice, story: Story, age: u32, burden: usize) -> Attendance {
    use Attendance::*;
    let weights: [(Attendance, u32); 4] = match (story, burden) {
        (Story::RecentDischarge | Story::FragileSupport, _) => [
            (Frequent, 65),
            (Occasional, 35),
            (Lapsed, 0),
            (NeverSeen, 0),
        ],
        (Story::CrisisContact, _) => [
            (Frequent, 50),
            (Occasional, 50),
            (Lapsed, 0),
            (NeverSeen, 0),
        ],
        (Story::SocialRisk, _) => [
            (Frequent, 30),
            (Occasional, 50),
            (Lapsed, 20),
            (NeverSeen, 0),
        ],
        _ if age < 18 => [
            (Frequent, 14),
            (Occasional, 60),
            (Lapsed, 23),
            (NeverSeen, 3),
        ],
        (_, 0) => [
            (Frequent, 7),
            (Occasional, 52),
            (Lapsed, 37),
            (NeverSeen, 4),
        ],
        (_, 1) => [
            (Frequent, 20),
            (Occasional, 52),
            (Lapsed, 27),
            (NeverSeen, 1),
        ],
        _ => [
            (Frequent, 40),
            (Occasional, 42),
            (Lapsed, 18),
            (NeverSeen, 0),
        ],
    };
    *dice.weighted(&weights)
}

fn draw_household(dice: &mut Dice, story: Story, exemplary: bool, age: u32) -> u32 {
    let alone = match story {
        Story::RecentDischarge => exemplary || dice.chance(0.55),
        Story::FragileSupport => dice.chance(0.5),
        Story::CrisisContact => dice.chance(0.3),
        _ => match age {
            0..=17 => false,
            18..=34 => dice.chance(0.10),
            35..=64 => dice.chance(0.12),
            _ => dice.chance(0.28),
        },
    };
    if alone {
        1
    } else {
        dice.range(2, if age < 18 { 6 } else { 5 })
    }
}

fn draw_needs(
    dice: &mut Dice,
    story: Story,
    exemplary: bool,
    age: u32,
    household_size: u32,
) -> SocialNeeds {
    let story_is = |s: Story| story == s;
    let sure = |dice: &mut Dice, p: f64, for_story: Story| {
        (exemplary && story == for_story) || dice.chance(p)
    };

    let unstable_housing_p = match story {
        Story::CrisisContact | Story::SocialRisk => 0.5,
        Story::FragileSupport => 0.12,
        _ => 0.06,
    };
    let eviction_risk = sure(
        dice,
        match story {
            Story::SocialRisk => 0.5,
            Story::CrisisContact => 0.2,
            _ => 0.03,
        },
        Story::SocialRisk,
    );
    let housing = if sure(dice, unstable_housing_p, Story::CrisisContact) || eviction_risk {
        if eviction_risk || dice.chance(0.65) {
            HOUSING_AT_RISK
        } else {
            NO_STEADY_HOUSING
        }
    } else {
        STEADY_HOUSING
    };
    let food_p = match story {
        Story::SocialRisk => 0.7,
        Story::CrisisContact => 0.3,
        _ => 0.1,
    };
    let (food_worry, food_did_not_last) = if sure(dice, food_p, Story::SocialRisk) {
        let worry = if dice.chance(0.4) {
            OFTEN_TRUE
        } else {
            SOMETIMES_TRUE
        };
        let did_not_last = *dice.pick(&[OFTEN_TRUE, SOMETIMES_TRUE, NEVER_TRUE]);
        (worry, did_not_last)
    } else {
        (
            NEVER_TRUE,
            if dice.chance(0.03) {
                SOMETIMES_TRUE
            } else {
                NEVER_TRUE
            },
        )
    };
    let transport_barrier = dice.chance(if story_is(Story::Everyday) { 0.08 } else { 0.3 });
    let utilities_p = match story {
        Story::SocialRisk => 0.45,
        Story::CrisisContact => 0.15,
        _ => 0.05,
    };
    let utilities = if sure(dice, utilities_p, Story::SocialRisk) {
        if dice.chance(0.2) {
            ALREADY_SHUT_OFF
        } else {
            YES
        }
    } else {
        NO
    };
    let lonely_weights: [(Code, u32); 5] = if household_size == 1 || story_is(Story::FragileSupport)
    {
        [
            (NEVER, 20),
            (RARELY, 20),
            (SOMETIMES, 25),
            (OFTEN, 25),
            (ALWAYS, 10),
        ]
    } else {
        [
            (NEVER, 40),
            (RARELY, 25),
            (SOMETIMES, 20),
            (OFTEN, 10),
            (ALWAYS, 5),
        ]
    };
    let loneliness = *dice.weighted(&lonely_weights);
    let caregiver_strain = match story {
        Story::FragileSupport => sure(dice, 0.6, Story::FragileSupport),
        _ if age >= 75 => dice.chance(0.06),
        _ => dice.chance(0.01),
    };
    SocialNeeds {
        housing,
        eviction_risk,
        food_worry,
        food_did_not_last,
        transport_barrier,
        utilities,
        loneliness,
        caregiver_strain,
    }
}

fn draw_smoking(dice: &mut Dice, age: u32, copd: bool) -> Code {
    if age < 18 {
        return NEVER_SMOKED;
    }
    let weights: [(Code, u32); 3] = if copd {
        [(NEVER_SMOKED, 5), (EX_SMOKER, 60), (DAILY_SMOKER, 35)]
    } else {
        [(NEVER_SMOKED, 60), (EX_SMOKER, 25), (DAILY_SMOKER, 15)]
    };
    *dice.weighted(&weights)
}

fn draw_checkins(
    dice: &mut Dice,
    story: Story,
    exemplary: bool,
    age: u32,
    burden: usize,
) -> Option<Checkins> {
    use CheckinPattern::*;
    if age < 18 {
        return None;
    }
    let enrolled = match story {
        Story::RecentDischarge => true,
        Story::CrisisContact => exemplary || dice.chance(0.85),
        Story::FragileSupport => exemplary || dice.chance(0.6),
        Story::SocialRisk => dice.chance(0.35),
        Story::Everyday => dice.chance((0.2 + 0.1 * burden as f64).min(0.6)),
    };
    if !enrolled {
        return None;
    }
    let channel = if age >= 80 {
        *dice.weighted(&[("app", 30), ("sms", 60), ("portal", 10)])
    } else {
        *dice.weighted(&[("app", 50), ("sms", 40), ("portal", 10)])
    };
    let pattern = match story {
        Story::RecentDischarge if exemplary => MissedAfterDischarge,
        Story::RecentDischarge => *dice.weighted(&[(MissedAfterDischarge, 65), (Steady, 35)]),
        Story::CrisisContact if exemplary => Falling,
        Story::CrisisContact => *dice.weighted(&[(Falling, 75), (Steady, 25)]),
        Story::FragileSupport if exemplary => RecentlyMissing,
        Story::FragileSupport => {
            *dice.weighted(&[(RecentlyMissing, 45), (Steady, 40), (Falling, 15)])
        }
        _ => *dice.weighted(&[(Steady, 80), (Falling, 10), (RecentlyMissing, 10)]),
    };
    Some(Checkins { channel, pattern })
}
