//! The rules enforced when an attempt is documented: the channel rule for sensitive
//! content, the person's language, and the over-contact guard.

use careloop_scripts::{Message, Script};

use crate::model::{Channel, Role};
use crate::OpsError;

/// A message that reveals a diagnosis, medication or result goes only through the patient
/// portal; on a written channel a template is required.
pub fn check_channel(channel: Channel, message: Option<&Message>) -> Result<(), OpsError> {
    match message {
        Some(message) if message.sensitive && !channel.is_secure() => Err(OpsError::Refused(format!(
            "message \"{}\" reveals clinical information (a diagnosis, medication or result): it may go only through the patient portal, not {channel}",
            message.id
        ))),
        None if channel.is_written() => Err(OpsError::Refused(format!(
            "a {channel} contact sends a message: name the template (message id)"
        ))),
        _ => Ok(()),
    }
}

/// The language the script is given in: the person's preferred language when the script has
/// it (exactly, or its base language: "es-MX" → "es"), else English. The preference may be a
/// BCP 47 code or, as FHIR displays give it, an English language name ("Spanish").
pub fn script_language(script: &Script, preferred: Option<&str>) -> String {
    let code = preferred.map_or_else(|| "en".to_owned(), language_code);
    let (_, used) = script.introduction.get(&code);
    used.to_owned()
}

/// A BCP 47 code for a language given as a code or by its English name; unknown names are
/// returned lower-cased (and then match no script text, so English is used).
pub fn language_code(language: &str) -> String {
    let trimmed = language.trim();
    let lower = trimmed.to_ascii_lowercase();
    let looks_like_code = lower.split(['-', '_']).next().is_some_and(|base| {
        (2..=3).contains(&base.len()) && base.chars().all(|c| c.is_ascii_alphabetic())
    });
    if looks_like_code {
        return lower.replace('_', "-");
    }
    const NAMES: &[(&str, &str)] = &[
        ("english", "en"),
        ("spanish", "es"),
        ("español", "es"),
        ("vietnamese", "vi"),
        ("chinese", "zh"),
        ("mandarin", "zh"),
        ("cantonese", "zh"),
        ("arabic", "ar"),
        ("portuguese", "pt"),
        ("haitian creole", "ht"),
        ("russian", "ru"),
        ("korean", "ko"),
        ("french", "fr"),
        ("tagalog", "tl"),
        ("polish", "pl"),
        ("italian", "it"),
        ("german", "de"),
        ("hindi", "hi"),
        ("japanese", "ja"),
    ];
    let base = lower.split(['(', ',']).next().unwrap_or("").trim();
    NAMES
        .iter()
        .find(|(name, _)| *name == base)
        .map_or(lower.clone(), |(_, code)| (*code).to_owned())
}

/// The over-contact guard: a new outbound contact is refused when the person already had
/// `max` in the last 7 days, unless a supervisor overrides with a written reason.
pub fn check_contact_limit(
    contacts_in_week: u32,
    max: u32,
    role: Role,
    override_reason: Option<&str>,
) -> Result<(), OpsError> {
    if contacts_in_week < max {
        return Ok(());
    }
    match override_reason.map(str::trim) {
        Some(reason) if !reason.is_empty() && role == Role::Supervisor => Ok(()),
        Some(reason) if !reason.is_empty() => Err(OpsError::Refused(format!(
            "{contacts_in_week} contacts in the last 7 days (limit {max}): only a supervisor may override, and a {role} is signed in"
        ))),
        _ => Err(OpsError::Refused(format!(
            "{contacts_in_week} contacts in the last 7 days already (limit {max}): a supervisor may override with a written reason"
        ))),
    }
}
