//! Who the people of the panel are: age, sex, names from several cultural backgrounds (with
//! accented spellings, so that search can be tested), preferred language, OMB race and
//! ethnicity, address and phone in a fictional Massachusetts community, and payer.

use chrono::NaiveDate;

use crate::calendar::{completed_years, days_after, months_before};
use crate::dice::Dice;
use crate::vocabulary::{Code, CDC_RACE_ETHNICITY, NULL_FLAVOR, PAYMENT_TYPOLOGY};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sex {
    Female,
    Male,
}

impl Sex {
    pub fn fhir_gender(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
        }
    }
    pub fn birth_sex_code(self) -> &'static str {
        match self {
            Sex::Female => "F",
            Sex::Male => "M",
        }
    }
}

/// A preferred language: BCP 47 code and display.
#[derive(Debug)]
pub(crate) struct Language {
    pub code: &'static str,
    pub display: &'static str,
}

pub(crate) const ENGLISH: Language = Language {
    code: "en",
    display: "English",
};
const SPANISH: Language = Language {
    code: "es",
    display: "Spanish",
};
const VIETNAMESE: Language = Language {
    code: "vi",
    display: "Vietnamese",
};
const CHINESE: Language = Language {
    code: "zh",
    display: "Chinese",
};
const ARABIC: Language = Language {
    code: "ar",
    display: "Arabic",
};
const PORTUGUESE: Language = Language {
    code: "pt",
    display: "Portuguese",
};
const HAITIAN_CREOLE: Language = Language {
    code: "ht",
    display: "Haitian Creole",
};
const RUSSIAN: Language = Language {
    code: "ru",
    display: "Russian",
};
const KOREAN: Language = Language {
    code: "ko",
    display: "Korean",
};

/// An OMB race category or a null flavour.
const WHITE: Code = Code {
    system: CDC_RACE_ETHNICITY,
    code: "2106-3",
    display: "White",
};
const BLACK: Code = Code {
    system: CDC_RACE_ETHNICITY,
    code: "2054-5",
    display: "Black or African American",
};
const ASIAN: Code = Code {
    system: CDC_RACE_ETHNICITY,
    code: "2028-9",
    display: "Asian",
};
const AMERICAN_INDIAN: Code = Code {
    system: CDC_RACE_ETHNICITY,
    code: "1002-5",
    display: "American Indian or Alaska Native",
};
const PACIFIC_ISLANDER: Code = Code {
    system: CDC_RACE_ETHNICITY,
    code: "2076-8",
    display: "Native Hawaiian or Other Pacific Islander",
};
const UNKNOWN: Code = Code {
    system: NULL_FLAVOR,
    code: "UNK",
    display: "Unknown",
};
const DECLINED: Code = Code {
    system: NULL_FLAVOR,
    code: "ASKU",
    display: "Asked but no answer",
};
const HISPANIC: Code = Code {
    system: CDC_RACE_ETHNICITY,
    code: "2135-2",
    display: "Hispanic or Latino",
};
const NOT_HISPANIC: Code = Code {
    system: CDC_RACE_ETHNICITY,
    code: "2186-5",
    display: "Not Hispanic or Latino",
};

/// Race as written in the us-core-race extension: OMB categories and the text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Race {
    pub categories: &'static [Code],
    pub text: &'static str,
}

const RACE_WHITE: Race = Race {
    categories: &[WHITE],
    text: "White",
};
const RACE_BLACK: Race = Race {
    categories: &[BLACK],
    text: "Black or African American",
};
const RACE_ASIAN: Race = Race {
    categories: &[ASIAN],
    text: "Asian",
};
const RACE_AMERICAN_INDIAN: Race = Race {
    categories: &[AMERICAN_INDIAN],
    text: "American Indian or Alaska Native",
};
const RACE_PACIFIC_ISLANDER: Race = Race {
    categories: &[PACIFIC_ISLANDER],
    text: "Native Hawaiian or Other Pacific Islander",
};
const RACE_MULTIRACIAL: Race = Race {
    categories: &[BLACK, WHITE],
    text: "Black or African American and White",
};
const RACE_UNKNOWN: Race = Race {
    categories: &[UNKNOWN],
    text: "Unknown",
};
const RACE_DECLINED: Race = Race {
    categories: &[DECLINED],
    text: "Declined to answer",
};

/// Ethnicity as written in the us-core-ethnicity extension.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ethnicity {
    pub category: Code,
    pub text: &'static str,
}

const ETHNICITY_HISPANIC: Ethnicity = Ethnicity {
    category: HISPANIC,
    text: "Hispanic or Latino",
};
const ETHNICITY_NOT_HISPANIC: Ethnicity = Ethnicity {
    category: NOT_HISPANIC,
    text: "Not Hispanic or Latino",
};
const ETHNICITY_DECLINED: Ethnicity = Ethnicity {
    category: DECLINED,
    text: "Declined to answer",
};

/// A cultural background: the pool of names, the usual home language, and the race and
/// ethnicity mix of people who share it in the panel's community.
struct Background {
    female_given: &'static [&'static str],
    male_given: &'static [&'static str],
    family: &'static [&'static str],
    home_language: &'static Language,
    /// Probability that someone of this background prefers the home language over English.
    prefers_home_language: f64,
    races: &'static [(Race, u32)],
    ethnicities: &'static [(Ethnicity, u32)],
}

#[rustfmt::skip]
const GENERAL: Background = Background {
    female_given: &[
        "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
        "Sarah", "Karen", "Nancy", "Margaret", "Lisa", "Betty", "Dorothy", "Sandra", "Ashley",
        "Kimberly", "Donna", "Emily", "Michelle", "Carol", "Amanda", "Melissa", "Deborah",
        "Stephanie", "Rebecca", "Laura", "Sharon", "Kathleen", "Amy", "Shirley", "Angela", "Helen",
        "Anna", "Brenda", "Pamela", "Nicole", "Ruth", "Katherine", "Samantha", "Christine", "Emma",
        "Catherine", "Virginia", "Rachel", "Janet", "Heather", "Diane", "Julie", "Joyce",
        "Victoria", "Kelly", "Joan", "Evelyn", "Lauren", "Judith", "Olivia", "Martha", "Megan",
        "Hannah", "Alice", "Gloria", "Doris", "Grace", "Beverly", "Denise", "Marilyn", "Danielle",
        "Abigail", "Rose", "Diana", "Natalie", "Sophia", "Zoë", "Chloé", "Renée", "Siobhán",
        "Aoife", "Noémie", "Imani", "Aaliyah", "Keisha", "Latoya", "Ebony", "Precious", "Brianna",
        "Jasmine",
    ],
    male_given: &[
        "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas",
        "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven",
        "Paul", "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald",
        "Edward", "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan",
        "Stephen", "Larry", "Justin", "Scott", "Brandon", "Benjamin", "Samuel", "Gregory",
        "Alexander", "Frank", "Patrick", "Raymond", "Jack", "Dennis", "Jerry", "Tyler", "Aaron",
        "Henry", "Douglas", "Peter", "Walter", "Nathan", "Zachary", "Kyle", "Noah", "Ethan",
        "Keith", "Roger", "Sean", "Gerald", "Carl", "Harold", "Arthur", "Lawrence", "Jordan",
        "Bruce", "Gabriel", "Albert", "Willie", "Eugene", "Russell", "Vincent", "Philip", "Seán",
        "André", "Jérôme", "DeShawn", "Malik", "Jamal", "Tyrone", "Darnell", "Kwame",
    ],
    family: &[
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
        "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
        "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill",
        "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips",
        "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook",
        "Rogers", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ward",
        "Richardson", "Watson", "Brooks", "Bennett", "Gray", "Hughes", "Price", "Sanders", "Foster",
        "O'Brien", "O'Connor", "McCarthy", "Sullivan", "Fitzgerald", "Kowalski", "Nowak", "Müller",
        "Schröder", "Lefèvre", "Dubois", "Côté", "Gagné", "Bouchard", "Lévesque", "Smith-Jones",
        "Okafor", "Mensah", "Nwosu", "Haile", "Tesfaye", "Washington",
    ],
    home_language: &ENGLISH,
    prefers_home_language: 1.0,
    races: &[
        (RACE_WHITE, 700),
        (RACE_BLACK, 230),
        (RACE_MULTIRACIAL, 20),
        (RACE_AMERICAN_INDIAN, 10),
        (RACE_PACIFIC_ISLANDER, 5),
        (RACE_UNKNOWN, 15),
        (RACE_DECLINED, 20),
    ],
    ethnicities: &[
        (ETHNICITY_NOT_HISPANIC, 970),
        (ETHNICITY_HISPANIC, 10),
        (ETHNICITY_DECLINED, 20),
    ],
};

#[rustfmt::skip]
const HISPANIC_LATINO: Background = Background {
    female_given: &[
        "María", "Guadalupe", "Rosa", "Ana", "Carmen", "Lucía", "Sofía", "Valentina", "Isabel",
        "Camila", "Ximena", "Daniela", "Mariana", "Fernanda", "Gabriela", "Alejandra", "Verónica",
        "Beatriz", "Inés", "Mónica", "Raquel", "Yesenia", "Maricela", "Leticia", "Araceli",
        "Dolores", "Consuelo", "Socorro", "Elena", "Paola", "Marisol", "Yolanda",
    ],
    male_given: &[
        "José", "Juan", "Luis", "Carlos", "Jesús", "Miguel", "Jorge", "Antonio", "Francisco",
        "Alejandro", "Manuel", "Pedro", "Ricardo", "Roberto", "Fernando", "Rafael", "Adán",
        "Andrés", "Héctor", "Raúl", "Óscar", "Sergio", "Javier", "Martín", "Ramón", "Joaquín",
        "Iván", "Julián", "Tomás", "Sebastián", "Mateo", "Santiago", "Diego", "Emilio", "Ángel",
        "Efraín",
    ],
    family: &[
        "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez",
        "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Cruz", "Morales", "Reyes",
        "Gutiérrez", "Ortiz", "Chávez", "Ruiz", "Mendoza", "Álvarez", "Castillo", "Jiménez",
        "Vásquez", "Romero", "Herrera", "Medina", "Aguilar", "Vargas", "Castro", "Muñoz", "Núñez",
        "Ibáñez", "Peña", "Orozco", "Alcántar", "Colón", "Fuentes", "Delgado", "Santiago",
        "Rosario", "Meléndez", "Nunez", "Garcia",
    ],
    home_language: &SPANISH,
    prefers_home_language: 0.75,
    races: &[
        (RACE_WHITE, 520),
        (RACE_BLACK, 80),
        (RACE_AMERICAN_INDIAN, 30),
        (RACE_MULTIRACIAL, 20),
        (RACE_UNKNOWN, 250),
        (RACE_DECLINED, 100),
    ],
    ethnicities: &[(ETHNICITY_HISPANIC, 970), (ETHNICITY_DECLINED, 30)],
};

#[rustfmt::skip]
const VIETNAMESE_BACKGROUND: Background = Background {
    female_given: &[
        "Lan", "Thảo", "Hương", "Linh", "Mai", "Ngọc", "Trang", "Hạnh", "Phương", "Thủy", "Thao",
        "Huong",
    ],
    male_given: &[
        "Minh", "Đức", "Tuấn", "Hùng", "Nam", "Quang", "Thành", "Long", "Huy", "Bảo", "Duc", "Tuan",
    ],
    family: &[
        "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
        "Ngô", "Nguyen", "Tran", "Le", "Pham", "Hoang",
    ],
    home_language: &VIETNAMESE,
    prefers_home_language: 0.65,
    races: &[(RACE_ASIAN, 980), (RACE_DECLINED, 20)],
    ethnicities: &[(ETHNICITY_NOT_HISPANIC, 990), (ETHNICITY_DECLINED, 10)],
};

#[rustfmt::skip]
const CHINESE_BACKGROUND: Background = Background {
    female_given: &[
        "Mei", "Fang", "Jing", "Li Na", "Xiu Ying", "Hui", "Yan", "Ling", "Xin", "Ying",
    ],
    male_given: &[
        "Wei", "Jun", "Lei", "Tao", "Ming", "Hao", "Qiang", "Jian", "Zhi Wei", "Yu",
    ],
    family: &[
        "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Lin",
        "Chan", "Wong", "Leung", "Cheung", "Lam",
    ],
    home_language: &CHINESE,
    prefers_home_language: 0.6,
    races: &[(RACE_ASIAN, 980), (RACE_DECLINED, 20)],
    ethnicities: &[(ETHNICITY_NOT_HISPANIC, 990), (ETHNICITY_DECLINED, 10)],
};

#[rustfmt::skip]
const ARAB_BACKGROUND: Background = Background {
    female_given: &[
        "Fatima", "Layla", "Mariam", "Noor", "Aisha", "Yasmin", "Huda", "Rania", "Salma", "Zeinab",
    ],
    male_given: &[
        "Mohammed", "Ahmed", "Omar", "Youssef", "Ali", "Khaled", "Hassan", "Karim", "Tariq",
        "Samir",
    ],
    family: &[
        "Haddad", "Khalil", "Mansour", "Nasser", "Saleh", "Hassan", "Ibrahim", "Abdallah", "Farah",
        "Aziz", "El-Amin", "Al-Sayed", "Darwish", "Hamdan", "Shaheen",
    ],
    home_language: &ARABIC,
    prefers_home_language: 0.55,
    races: &[(RACE_WHITE, 850), (RACE_BLACK, 50), (RACE_UNKNOWN, 100)],
    ethnicities: &[(ETHNICITY_NOT_HISPANIC, 980), (ETHNICITY_DECLINED, 20)],
};

#[rustfmt::skip]
const LUSOPHONE_BACKGROUND: Background = Background {
    female_given: &[
        "Ana", "Maria", "Inês", "Beatriz", "Joana", "Luíza", "Conceição", "Fernanda", "Júlia",
        "Letícia",
    ],
    male_given: &[
        "João", "José", "Antônio", "Francisco", "Paulo", "Pedro", "Luís", "Tiago", "Gonçalo",
        "Sérgio",
    ],
    family: &[
        "Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida",
        "Nascimento", "Gonçalves", "Araújo", "Ferreira", "Carvalho", "Medeiros", "Tavares",
        "Pacheco", "Furtado", "Sousa",
    ],
    home_language: &PORTUGUESE,
    prefers_home_language: 0.6,
    races: &[
        (RACE_WHITE, 750),
        (RACE_BLACK, 100),
        (RACE_MULTIRACIAL, 50),
        (RACE_UNKNOWN, 100),
    ],
    ethnicities: &[
        (ETHNICITY_NOT_HISPANIC, 800),
        (ETHNICITY_HISPANIC, 180),
        (ETHNICITY_DECLINED, 20),
    ],
};

#[rustfmt::skip]
const HAITIAN_BACKGROUND: Background = Background {
    female_given: &[
        "Marie", "Nadège", "Roseline", "Guerline", "Mirlande", "Fabienne", "Judeline", "Islande",
    ],
    male_given: &[
        "Jean", "Wilner", "Frantz", "Jean-Claude", "Fritz", "Lesly", "Réginald", "Jacques",
    ],
    family: &[
        "Jean-Baptiste", "Pierre", "Joseph", "Louis", "Charles", "Saint-Fleur", "Désir",
        "Toussaint", "Célestin", "Étienne", "Dorvil", "Augustin",
    ],
    home_language: &HAITIAN_CREOLE,
    prefers_home_language: 0.5,
    races: &[(RACE_BLACK, 970), (RACE_DECLINED, 30)],
    ethnicities: &[(ETHNICITY_NOT_HISPANIC, 980), (ETHNICITY_DECLINED, 20)],
};

#[rustfmt::skip]
const RUSSIAN_BACKGROUND: Background = Background {
    female_given: &[
        "Olga", "Natalia", "Svetlana", "Irina", "Tatiana", "Yelena", "Galina",
    ],
    male_given: &[
        "Dmitri", "Sergei", "Alexei", "Ivan", "Mikhail", "Yuri", "Boris",
    ],
    family: &[
        "Ivanenko", "Petrenko", "Kuznetsov", "Volkov", "Sokolov", "Morozov", "Novak", "Levin",
        "Orlov",
    ],
    home_language: &RUSSIAN,
    prefers_home_language: 0.55,
    races: &[(RACE_WHITE, 980), (RACE_DECLINED, 20)],
    ethnicities: &[(ETHNICITY_NOT_HISPANIC, 990), (ETHNICITY_DECLINED, 10)],
};

#[rustfmt::skip]
const KOREAN_BACKGROUND: Background = Background {
    female_given: &[
        "Ji-woo", "Seo-yeon", "Min-ji", "Eun-ji", "Soo-jin", "Hye-jin",
    ],
    male_given: &[
        "Min-jun", "Hyun-woo", "Ji-hoon", "Sung-min", "Dong-hyun", "Jae-won",
    ],
    family: &["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon"],
    home_language: &KOREAN,
    prefers_home_language: 0.55,
    races: &[(RACE_ASIAN, 990), (RACE_DECLINED, 10)],
    ethnicities: &[(ETHNICITY_NOT_HISPANIC, 990), (ETHNICITY_DECLINED, 10)],
};

/// Background mix of the community, in tenths of a percent: about 70 % of people prefer
/// English and 20 % Spanish.
const BACKGROUNDS: [(&Background, u32); 9] = [
    (&GENERAL, 550),
    (&HISPANIC_LATINO, 270),
    (&VIETNAMESE_BACKGROUND, 30),
    (&CHINESE_BACKGROUND, 40),
    (&ARAB_BACKGROUND, 20),
    (&LUSOPHONE_BACKGROUND, 30),
    (&HAITIAN_BACKGROUND, 30),
    (&RUSSIAN_BACKGROUND, 15),
    (&KOREAN_BACKGROUND, 15),
];

/// A town of the panel's catchment: name, ZIP code and telephone area code.
#[derive(Debug)]
pub(crate) struct Town {
    pub name: &'static str,
    pub postal_code: &'static str,
    pub area_code: &'static str,
}

const TOWNS: [(Town, u32); 12] = [
    (
        Town {
            name: "Springfield",
            postal_code: "01103",
            area_code: "413",
        },
        18,
    ),
    (
        Town {
            name: "Holyoke",
            postal_code: "01040",
            area_code: "413",
        },
        8,
    ),
    (
        Town {
            name: "Chicopee",
            postal_code: "01013",
            area_code: "413",
        },
        8,
    ),
    (
        Town {
            name: "Worcester",
            postal_code: "01604",
            area_code: "508",
        },
        14,
    ),
    (
        Town {
            name: "Lowell",
            postal_code: "01852",
            area_code: "978",
        },
        10,
    ),
    (
        Town {
            name: "Lawrence",
            postal_code: "01841",
            area_code: "978",
        },
        8,
    ),
    (
        Town {
            name: "Lynn",
            postal_code: "01902",
            area_code: "781",
        },
        7,
    ),
    (
        Town {
            name: "Brockton",
            postal_code: "02301",
            area_code: "508",
        },
        8,
    ),
    (
        Town {
            name: "Chelsea",
            postal_code: "02150",
            area_code: "617",
        },
        5,
    ),
    (
        Town {
            name: "New Bedford",
            postal_code: "02740",
            area_code: "508",
        },
        6,
    ),
    (
        Town {
            name: "Fall River",
            postal_code: "02720",
            area_code: "508",
        },
        5,
    ),
    (
        Town {
            name: "Dorchester",
            postal_code: "02124",
            area_code: "617",
        },
        3,
    ),
];

const STREETS: [&str; 26] = [
    "Main St",
    "Elm St",
    "Maple Ave",
    "Oak St",
    "Pleasant St",
    "Washington St",
    "Chestnut St",
    "Union St",
    "High St",
    "School St",
    "Park Ave",
    "Walnut St",
    "Center St",
    "Highland Ave",
    "Summer St",
    "Prospect St",
    "Water St",
    "Church St",
    "Franklin St",
    "Spring St",
    "Cedar St",
    "Beacon St",
    "Broadway",
    "Mill St",
    "Liberty St",
    "Columbus Ave",
];

/// A payer of the panel's payer mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayerKind {
    Medicare,
    Medicaid,
    Commercial,
    SelfPay,
}

/// One coverage of a person.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Payer {
    pub kind: PayerKind,
    pub name: &'static str,
}

impl PayerKind {
    pub fn type_code(self) -> Code {
        let (code, display) = match self {
            PayerKind::Medicare => ("1", "MEDICARE"),
            PayerKind::Medicaid => ("2", "MEDICAID"),
            PayerKind::Commercial => ("5", "PRIVATE HEALTH INSURANCE"),
            PayerKind::SelfPay => ("81", "Self-pay"),
        };
        Code {
            system: PAYMENT_TYPOLOGY,
            code,
            display,
        }
    }
}

const COMMERCIAL_PLANS: [&str; 7] = [
    "Blue Cross Blue Shield of Massachusetts",
    "Harvard Pilgrim Health Care",
    "Tufts Health Plan",
    "Aetna",
    "UnitedHealthcare",
    "Cigna",
    "Fallon Health",
];

/// The person at the heart of one patient record.
#[derive(Debug)]
pub(crate) struct Person {
    pub id: String,
    pub mrn: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    /// Age in completed years at the panel's as-of date (or at death).
    pub age: u32,
    pub given: &'static str,
    pub family: &'static str,
    pub language: &'static Language,
    pub speaks_english_too: bool,
    pub race: Race,
    pub ethnicity: Ethnicity,
    pub street_line: String,
    pub town: &'static Town,
    pub phone: String,
    pub phone_is_mobile: bool,
    pub email: Option<String>,
    pub payers: Vec<Payer>,
}

/// Age constraints a story puts on the person it happens to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AgeRange {
    pub min: u32,
    pub max: u32,
}

/// Age bands of a community panel, skewed to adults with many people of 50-80.
const AGE_BANDS: [((u32, u32), u32); 7] = [
    ((0, 17), 140),
    ((18, 34), 130),
    ((35, 49), 150),
    ((50, 64), 240),
    ((65, 79), 240),
    ((80, 89), 75),
    ((90, 100), 25),
];

pub(crate) fn draw_age(dice: &mut Dice, range: Option<AgeRange>) -> u32 {
    match range {
        Some(range) => dice.range(range.min, range.max),
        None => {
            let (low, high) = *dice.weighted(&AGE_BANDS);
            dice.range(low, high)
        }
    }
}

/// A birth date giving exactly `age` completed years on `as_of`.
pub(crate) fn birth_date_for_age(dice: &mut Dice, age: u32, as_of: NaiveDate) -> NaiveDate {
    let latest = months_before(as_of, 12 * age);
    let earliest = days_after(months_before(as_of, 12 * (age + 1)), 1);
    let birth = dice.date_between(earliest, latest);
    debug_assert_eq!(completed_years(birth, as_of), age);
    birth
}

/// Draws a person of the given sex and age (on `as_of`).
pub(crate) fn draw_person(
    dice: &mut Dice,
    index: u32,
    sex: Sex,
    age: u32,
    as_of: NaiveDate,
) -> Person {
    let id = dice.uuid();
    let birth_date = birth_date_for_age(dice, age, as_of);
    let background = *dice.weighted(&BACKGROUNDS);
    let given = *dice.pick(match sex {
        Sex::Female => background.female_given,
        Sex::Male => background.male_given,
    });
    let family = *dice.pick(background.family);
    let prefers_home = dice.chance(background.prefers_home_language);
    let language = if prefers_home {
        background.home_language
    } else {
        &ENGLISH
    };
    let speaks_english_too = language.code != "en" && dice.chance(0.35);
    let race = *dice.weighted(background.races);
    let ethnicity = *dice.weighted(background.ethnicities);
    let town = dice.weighted(&TOWNS);
    let mut street_line = format!("{} {}", dice.range(2, 1480), dice.pick(&STREETS));
    if dice.chance(0.3) {
        street_line.push_str(&format!(" Apt {}", dice.range(1, 24)));
    }
    // 555 exchange numbers: fictional, never a real subscriber.
    let phone = format!("({}) 555-{:04}", town.area_code, dice.range(100, 9999));
    let phone_is_mobile = age >= 14 && dice.chance(if age >= 80 { 0.45 } else { 0.85 });
    let email = (age >= 16 && dice.chance(if age >= 75 { 0.3 } else { 0.7 })).then(|| {
        format!(
            "{}.{}{}@example.com",
            ascii_fold(given),
            ascii_fold(family),
            dice.range(1, 99)
        )
    });
    let payers = draw_payers(dice, age);
    Person {
        id,
        mrn: format!("CL{:07}", index + 1),
        sex,
        birth_date,
        age,
        given,
        family,
        language,
        speaks_english_too,
        race,
        ethnicity,
        street_line,
        town,
        phone,
        phone_is_mobile,
        email,
        payers,
    }
}

/// Payer mix: Medicare for most people of 65 and over (some also Medicaid), Medicaid,
/// commercial plans and self-pay below 65.
fn draw_payers(dice: &mut Dice, age: u32) -> Vec<Payer> {
    let medicaid = Payer {
        kind: PayerKind::Medicaid,
        name: "MassHealth",
    };
    let commercial = |dice: &mut Dice| {
        let plan = *dice.pick(&COMMERCIAL_PLANS);
        Payer {
            kind: PayerKind::Commercial,
            name: plan,
        }
    };
    let medicare = Payer {
        kind: PayerKind::Medicare,
        name: "Medicare",
    };
    let self_pay = Payer {
        kind: PayerKind::SelfPay,
        name: "Self-pay",
    };
    if age >= 65 {
        let roll = dice.real(0.0, 1.0);
        if roll < 0.72 {
            vec![medicare]
        } else if roll < 0.88 {
            vec![medicare, medicaid]
        } else if roll < 0.97 {
            vec![commercial(dice)]
        } else {
            vec![self_pay]
        }
    } else if age < 18 {
        if dice.chance(0.45) {
            vec![medicaid]
        } else {
            vec![commercial(dice)]
        }
    } else {
        let roll = dice.real(0.0, 1.0);
        if roll < 0.26 {
            vec![medicaid]
        } else if roll < 0.89 {
            vec![commercial(dice)]
        } else if roll < 0.92 {
            // Medicare before 65 through disability.
            vec![medicare]
        } else {
            vec![self_pay]
        }
    }
}

/// Lower-case ASCII spelling of a name for an e-mail address ("Núñez" -> "nunez").
fn ascii_fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for ch in name.chars() {
        let folded = match ch {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'ạ' | 'ả' | 'Á' | 'À' | 'Â' | 'Ä' | 'Ã' => {
                'a'
            }
            'é' | 'è' | 'ê' | 'ë' | 'ệ' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ọ' | 'ố' | 'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' => {
                'o'
            }
            'ú' | 'ù' | 'û' | 'ü' | 'ủ' | 'ũ' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
            'ñ' | 'Ñ' => 'n',
            'ç' | 'Ç' => 'c',
            'đ' | 'Đ' => 'd',
            'ễ' | 'ế' | 'ể' => 'e',
            'ơ' | 'ờ' | 'ớ' | 'ồ' | 'ổ' | 'ộ' => 'o',
            'ư' | 'ứ' | 'ừ' | 'ụ' => 'u',
            'ỳ' | 'ý' | 'ỹ' => 'y',
            'ặ' | 'ắ' | 'ầ' | 'ấ' => 'a',
            'ị' | 'ỉ' => 'i',
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            _ => continue,
        };
        out.push(folded);
    }
    if out.is_empty() {
        out.push('x');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_fold_makes_mail_safe_names() {
        assert_eq!(ascii_fold("Núñez"), "nunez");
        assert_eq!(ascii_fold("O'Brien"), "obrien");
        assert_eq!(ascii_fold("Nguyễn"), "nguyen");
        assert_eq!(ascii_fold("Zoë"), "zoe");
    }

    #[test]
    fn birth_dates_give_the_requested_age() {
        let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
        let mut dice = Dice::for_patient(5, 5);
        for age in [0, 1, 49, 50, 74, 100] {
            for _ in 0..50 {
                let birth = birth_date_for_age(&mut dice, age, as_of);
                assert_eq!(completed_years(birth, as_of), age);
            }
        }
    }
}
