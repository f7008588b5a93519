// The printable call sheet: the user's calls for today (their open cases due by tonight,
// overdue first), each with the phone number, language, suggested channel and time, why the
// person is on the list, and the script's opening line and first questions in the person's
// language, with room to write the outcome, for a day without the app. Printing keeps only
// the sheet (styles.css, @media print).
import { useEffect, useState } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { CallSheet as CallSheetDto } from "./bindings/CallSheet";
import { formatApiError, formatChannel, formatDay, formatLanguage } from "./format";
import { dueLabel } from "./worklistModel";

export function CallSheet({ backend, onBack, print = () => window.print() }: { backend: Backend; onBack: () => void; print?: () => void }) {
  const [sheet, setSheet] = useState<CallSheetDto | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  useEffect(() => {
    backend.callSheet().then(setSheet, (reason: unknown) => setError(toApiError(reason)));
  }, [backend]);
  return (
    <article className="call-sheet" aria-labelledby="call-sheet-title" data-testid="call-sheet">
      <div className="toolbar no-print">
        <button type="button" onClick={onBack}>
          ← Back
        </button>
        <button type="button" className="primary" onClick={print} disabled={sheet === null || sheet.calls.length === 0} data-testid="print-call-sheet">
          Print
        </button>
      </div>
      <h2 id="call-sheet-title">{sheet ? `Calls for ${formatDay(sheet.day)} · ${sheet.user}` : "Today's calls"}</h2>
      {error && (
        <p role="alert" className="error-text">
          {formatApiError("Cannot make the call sheet", error)}
        </p>
      )}
      {sheet === null && !error && <p className="muted">Preparing the call sheet…</p>}
      {sheet !== null && sheet.calls.length === 0 && <p data-testid="call-sheet-empty">No calls are due today: nothing to print.</p>}
      {sheet !== null && sheet.calls.length > 0 && (
        <ol className="call-list">
          {sheet.calls.map((call) => (
            <li key={call.case_id} className="call" data-testid="call-sheet-call">
              <h3>
                {call.name}
                {call.birth_date && <span className="muted"> · born {formatDay(call.birth_date)}</span>}
              </h3>
              <p>
                <strong>{call.phone ?? "No phone number"}</strong>
                {call.preferred_language && ` · ${formatLanguage(call.preferred_language)}`} · {call.segment_name} ·{" "}
                {call.overdue ? <strong>{dueLabel(call.due, true)}</strong> : dueLabel(call.due, false)}
                {call.attempts > 0 && ` · ${call.attempts} attempt${call.attempts === 1 ? "" : "s"} so far`}
              </p>
              {call.suggestion && (
                <p>
                  Try: {formatChannel(call.suggestion.channel)}, {call.suggestion.when} ({call.suggestion.reason})
                </p>
              )}
              <p className="muted">{call.summary}</p>
              <p lang={call.script_language}>
                <em>{call.opening}</em>
              </p>
              <ul lang={call.script_language}>
                {call.questions.map((q, i) => (
                  <li key={i}>{q}</li>
                ))}
              </ul>
              <p className="write-in">Reached: yes / no · Outcome: ______________________ · Next: ______________________</p>
            </li>
          ))}
        </ol>
      )}
      {sheet !== null && sheet.more > 0 && (
        <p className="muted" data-testid="call-sheet-more">
          {sheet.more} more calls are due today; they are on the worklist.
        </p>
      )}
    </article>
  );
}
