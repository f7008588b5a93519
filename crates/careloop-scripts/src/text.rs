//! Localized text: translations keyed by language code, the fallback from a regional language
//! to its base language and then to English, and placeholder substitution.

use std::collections::BTreeMap;

use serde::Serialize;

/// The only placeholders a script text may contain, each written `{name}`.
pub const PLACEHOLDER_NAMES: [&str; 3] = ["first_name", "clinic_name", "clinic_phone"];

/// The language every [`Text`] has, and the last fallback.
pub const ENGLISH: &str = "en";

/// One text in several languages: language code (BCP 47, e.g. `en`, `es`, `es-MX`) to text.
///
/// English (`en`) is always present: [`Text::new`] refuses a map without it and the script
/// loader refuses a file without it, so [`Text::get`] always finds something. Serializes as the
/// map itself, as in the script files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(BTreeMap<String, String>);

impl Text {
    /// A text from its translations; `None` when English (`en`) is not among them.
    ///
    /// The texts are taken as they are: placeholders are checked only when a script is loaded.
    pub fn new(translations: BTreeMap<String, String>) -> Option<Text> {
        translations
            .contains_key(ENGLISH)
            .then_some(Text(translations))
    }

    /// Built from a map the loader has already checked.
    pub(crate) fn checked(translations: BTreeMap<String, String>) -> Text {
        Text(translations)
    }

    /// The text in `language` and the language actually used: the exact language if present,
    /// then the language with its last subtag removed, repeatedly (`es-MX` → `es`), then
    /// English. Codes compare without regard to case, and `_` is read as `-` (`es_mx` finds
    /// `es-MX`); the language reported is the code as the script spells it.
    pub fn get(&self, language: &str) -> (&str, &str) {
        let wanted = language.trim().replace('_', "-");
        let mut tag = wanted.as_str();
        while !tag.is_empty() {
            if let Some((code, text)) = self.0.iter().find(|(c, _)| c.eq_ignore_ascii_case(tag)) {
                return (text, code);
            }
            tag = match tag.rfind('-') {
                Some(dash) => &tag[..dash],
                None => "",
            };
        }
        match self.0.get_key_value(ENGLISH) {
            Some((code, text)) => (text, code),
            // Unreachable for a `Text` built by this crate (English is checked); kept total
            // rather than panicking.
            None => self
                .0
                .iter()
                .next()
                .map_or(("", ""), |(c, t)| (t.as_str(), c.as_str())),
        }
    }

    /// The text in exactly `language`, without fallback.
    pub fn translation(&self, language: &str) -> Option<&str> {
        self.0.get(language).map(String::as_str)
    }

    /// The language codes present, in code order.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The text in `language` (with [`Text::get`]'s fallback) with the placeholders filled in
    /// (a clinic name or phone that is not set reads as [`clinic_defaults`] in the text's own
    /// language, so a text never mixes languages).
    pub fn render(&self, language: &str, placeholders: &Placeholders) -> RenderedText {
        let (text, used) = self.get(language);
        RenderedText {
            text: placeholders.with_defaults(used).fill(text),
            language: used.to_owned(),
        }
    }
}

/// The values substituted for `{first_name}`, `{clinic_name}` and `{clinic_phone}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placeholders {
    pub first_name: String,
    pub clinic_name: String,
    pub clinic_phone: String,
}

/// What `{clinic_name}` and `{clinic_phone}` read as when the workstation has not set them,
/// per language (English for a language without its own).
pub fn clinic_defaults(language: &str) -> (&'static str, &'static str) {
    match language {
        "es" => ("su centro de salud", "número de su carta de cita"),
        _ => ("your clinic", "the number on your appointment letter"),
    }
}

impl Placeholders {
    /// These values, with the clinic's name and phone defaulted in `language` when unset.
    pub fn with_defaults(&self, language: &str) -> Placeholders {
        let (name, phone) = clinic_defaults(language);
        let or = |value: &str, default: &str| {
            if value.trim().is_empty() {
                default.to_owned()
            } else {
                value.to_owned()
            }
        };
        Placeholders {
            first_name: self.first_name.clone(),
            clinic_name: or(&self.clinic_name, name),
            clinic_phone: or(&self.clinic_phone, phone),
        }
    }

    /// `template` with every placeholder replaced by its value, in one pass: a value that
    /// itself contains `{clinic_name}` (a name typed by someone) is not expanded again. Braces
    /// that are not a placeholder are kept as they are.
    pub fn fill(&self, template: &str) -> String {
        let values = [
            ("{first_name}", &self.first_name),
            ("{clinic_name}", &self.clinic_name),
            ("{clinic_phone}", &self.clinic_phone),
        ];
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(brace) = rest.find('{') {
            out.push_str(&rest[..brace]);
            rest = &rest[brace..];
            match values.iter().find(|(name, _)| rest.starts_with(name)) {
                Some((name, value)) => {
                    out.push_str(value);
                    rest = &rest[name.len()..];
                }
                None => {
                    out.push('{');
                    rest = &rest[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// A text in one language with its placeholders filled in, and the language it is in (which
/// differs from the one asked for when the script has no translation for it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RenderedText {
    pub text: String,
    pub language: String,
}

/// Why a script text's braces are wrong, if they are: braces are allowed only around the
/// three placeholder names.
pub(crate) fn placeholder_problem(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(brace) = rest.find(['{', '}']) {
        if rest[brace..].starts_with('}') {
            return Some(
                "a \"}\" without a \"{\" before it (braces are only for placeholders)".to_owned(),
            );
        }
        let after = &rest[brace + 1..];
        match after.find(['{', '}']) {
            Some(end) if after[end..].starts_with('}') => {
                let name = &after[..end];
                if !PLACEHOLDER_NAMES.contains(&name) {
                    return Some(format!(
                        "unknown placeholder {{{name}}} (the only placeholders are \
                         {{first_name}}, {{clinic_name}} and {{clinic_phone}})"
                    ));
                }
                rest = &after[end + 1..];
            }
            _ => {
                return Some(
                    "a \"{\" without a \"}\" after it (braces are only for placeholders)"
                        .to_owned(),
                )
            }
        }
    }
    None
}

/// Whether `code` looks like a language code of the script files: `en`, `es`, `es-MX`,
/// `zh-Hant`.
pub(crate) fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pairs: &[(&str, &str)]) -> Text {
        Text::new(
            pairs
                .iter()
                .map(|(l, t)| (l.to_string(), t.to_string()))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn get_falls_back_from_region_to_language_to_english() {
        let t = text(&[("en", "Hello"), ("es", "Hola"), ("es-MX", "Qué onda")]);
        assert_eq!(t.get("es-MX"), ("Qué onda", "es-MX"));
        assert_eq!(
            t.get("es-AR"),
            ("Hola", "es"),
            "region missing: base language"
        );
        assert_eq!(t.get("es"), ("Hola", "es"));
        assert_eq!(t.get("fr"), ("Hello", "en"), "no French: English, reported");
        assert_eq!(t.get("fr-CA"), ("Hello", "en"));
        assert_eq!(t.get(""), ("Hello", "en"));
        assert_eq!(t.get("ES-mx"), ("Qué onda", "es-MX"), "codes ignore case");
        assert_eq!(t.get("es_MX"), ("Qué onda", "es-MX"), "POSIX-style locale");
        assert_eq!(t.get("zh-Hant-TW"), ("Hello", "en"));
        let t = text(&[("en", "Hello"), ("zh-Hant", "你好")]);
        assert_eq!(
            t.get("zh-Hant-TW"),
            ("你好", "zh-Hant"),
            "subtags drop one at a time"
        );
        assert_eq!(
            t.get("zh"),
            ("Hello", "en"),
            "a more specific code is never used"
        );
    }

    #[test]
    fn new_requires_english() {
        let only_spanish: BTreeMap<String, String> = [("es".into(), "Hola".into())].into();
        assert_eq!(Text::new(only_spanish), None);
    }

    #[test]
    fn placeholders_are_filled_once_and_other_braces_kept() {
        let p = Placeholders {
            first_name: "Ana {clinic_name}".into(),
            clinic_name: "Riverside".into(),
            clinic_phone: "555-0100".into(),
        };
        assert_eq!(
            p.fill("Hi {first_name}, {clinic_name} at {clinic_phone}. {x} {"),
            "Hi Ana {clinic_name}, Riverside at 555-0100. {x} {"
        );
        assert_eq!(p.fill("no placeholders"), "no placeholders");
        assert_eq!(
            p.fill("{first_name}{first_name}"),
            "Ana {clinic_name}Ana {clinic_name}"
        );
    }

    #[test]
    fn placeholder_problems() {
        assert_eq!(
            placeholder_problem("Hi {first_name} at {clinic_phone}"),
            None
        );
        assert_eq!(placeholder_problem("plain"), None);
        assert!(placeholder_problem("Hi {name}")
            .unwrap()
            .starts_with("unknown placeholder {name}"));
        assert!(placeholder_problem("Hi {}")
            .unwrap()
            .contains("unknown placeholder {}"));
        assert!(placeholder_problem("Hi {first_name")
            .unwrap()
            .contains("without a \"}\""));
        assert!(placeholder_problem("Hi {first_{name}}")
            .unwrap()
            .contains("without a \"}\""));
        assert!(placeholder_problem("Hi first_name}")
            .unwrap()
            .contains("without a \"{\""));
    }

    #[test]
    fn language_codes() {
        for ok in [
            "en",
            "es",
            "es-MX",
            "zh-Hant",
            "zh-Hant-TW",
            "yue",
            "es-419",
        ] {
            assert!(is_language_code(ok), "{ok}");
        }
        for bad in ["", "e", "EN", "english", "es_MX", "es-", "es-M", "-es"] {
            assert!(!is_language_code(bad), "{bad}");
        }
    }

    #[test]
    fn an_unset_clinic_reads_in_the_texts_own_language() {
        let text = text(&[
            ("en", "Call {clinic_phone}, {clinic_name}."),
            ("es", "Llame al {clinic_phone}, {clinic_name}."),
        ]);
        let unset = Placeholders::default();
        assert_eq!(
            text.render("es", &unset).text,
            "Llame al número de su carta de cita, su centro de salud."
        );
        assert_eq!(
            text.render("en", &unset).text,
            "Call the number on your appointment letter, your clinic."
        );
        // A language without a translation falls back to English, defaults included.
        assert_eq!(text.render("vi", &unset).language, "en");
        assert!(text.render("vi", &unset).text.contains("your clinic"));
        let set = Placeholders {
            clinic_name: "Riverside".into(),
            ..Placeholders::default()
        };
        assert!(text.render("es", &set).text.ends_with("Riverside."));
    }
}
