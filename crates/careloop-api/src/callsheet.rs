//! The printable call sheet: the caller's calls for the day (their open cases due by the end
//! of it), overdue first, each with the phone number, the language, the suggested channel and
//! time, and the script's opening line and first questions in the person's language, for a
//! day without the app. Each case on it is read as the case screen reads it (audited).

use careloop_ops::CaseStatus;
use serde::Serialize;
use uuid::Uuid;

use crate::operations::{Session, SuggestionDto, WorklistFilter};
use crate::{Careloop, Result};

/// Questions of each script printed on the sheet.
const QUESTIONS: usize = 3;
/// Calls on one sheet at most.
const CALLS: usize = 60;

/// A day's call sheet.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CallSheet {
    /// Whose calls.
    pub user: String,
    /// The day (YYYY-MM-DD).
    pub day: String,
    pub calls: Vec<CallSheetRow>,
    /// Calls due that did not fit on the sheet.
    pub more: u32,
}

/// One call of the sheet.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CallSheetRow {
    pub case_id: String,
    pub name: String,
    pub birth_date: Option<String>,
    pub phone: Option<String>,
    pub preferred_language: Option<String>,
    pub segment_name: String,
    /// RFC 3339.
    pub due: String,
    pub overdue: bool,
    pub attempts: u32,
    pub suggestion: Option<SuggestionDto>,
    /// Why the person is on the list.
    pub summary: String,
    /// The script's opening line, in the language it is given in.
    pub opening: String,
    /// Its first questions.
    pub questions: Vec<String>,
    /// The language the script is given in.
    pub script_language: String,
}

impl Careloop {
    /// The caller's call sheet for the session's day.
    pub fn call_sheet(
        &mut self,
        session: &Session,
        clinic_name: &str,
        clinic_phone: &str,
    ) -> Result<CallSheet> {
        let day = session.at.date_naive();
        let mut rows = self.worklist(
            session,
            &WorklistFilter {
                due_by: Some(day),
                ..WorklistFilter::default()
            },
        )?;
        // Waiting on someone else (a clinician, an escalation, a partner) is not a call to make.
        rows.retain(|r| {
            !matches!(
                r.status.parse::<CaseStatus>(),
                Ok(CaseStatus::AwaitingCallback | CaseStatus::Escalated | CaseStatus::Referred)
            )
        });
        rows.sort_by(|a, b| {
            b.overdue
                .cmp(&a.overdue)
                .then_with(|| a.due.cmp(&b.due))
                .then_with(|| b.priority.cmp(&a.priority))
                .then_with(|| a.name.cmp(&b.name))
        });
        let more = rows.len().saturating_sub(CALLS) as u32;
        let mut calls = Vec::new();
        for row in rows.into_iter().take(CALLS) {
            let case_id: Uuid = row
                .case_id
                .parse()
                .map_err(|e| crate::ApiError::internal(format!("a case id: {e}")))?;
            let detail = self.case_detail(session, case_id)?;
            let script = self.case_script(session, case_id, clinic_name, clinic_phone)?;
            calls.push(CallSheetRow {
                case_id: row.case_id,
                name: row.name,
                birth_date: detail.birth_date,
                phone: detail.contact.and_then(|c| c.phone),
                preferred_language: row.preferred_language,
                segment_name: row.segment_name,
                due: row.due,
                overdue: row.overdue,
                attempts: row.attempts,
                suggestion: row.suggestion,
                summary: row.summary,
                opening: script.introduction.text,
                questions: script
                    .questions
                    .into_iter()
                    .take(QUESTIONS)
                    .map(|q| q.text.text)
                    .collect(),
                script_language: script.language,
            });
        }
        Ok(CallSheet {
            user: session.user.clone(),
            day: day.to_string(),
            calls,
            more,
        })
    }
}
