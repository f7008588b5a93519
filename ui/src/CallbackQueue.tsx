// The clinician callback queue (overdue first) and the documentation form with the
// decision-support review sign-off.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { QueueItem } from "./bindings/QueueItem";
import type { RoleName } from "./bindings/RoleName";
import { formatApiError } from "./format";
import { dueLabel } from "./worklistModel";

export function CallbackQueue({
  backend,
  role,
  onOpenCase,
  revision = 0,
}: {
  backend: Backend;
  role: RoleName | null;
  onOpenCase: (caseId: string) => void;
  /** Grows when a sync brought others' work in: the queue reloads. */
  revision?: number;
}) {
  const [items, setItems] = useState<QueueItem[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(() => {
    backend.callbacks(false).then(
      (result) => {
        setItems(result);
        setError(null);
      },
      (reason: unknown) => setError(toApiError(reason)),
    );
  }, [backend]);
  useEffect(load, [load, revision]);

  const current = items?.find((i) => i.id === selected) ?? null;

  return (
    <section className="queue" aria-labelledby="callbacks-title">
      <div className="toolbar">
        <h2 id="callbacks-title">Clinician callbacks</h2>
        <p className="count" data-testid="callback-count">
          {items ? `${items.length} waiting` : "Loading…"}
        </p>
      </div>
      {error && (
        <p role="alert" className="error-text">
          {formatApiError("Cannot load callbacks", error)}
        </p>
      )}
      {notice && (
        <p role="status" className="notice" data-testid="callback-notice">
          {notice}
        </p>
      )}
      <div className="queue-grid">
        <ul className="queue-list" aria-label="Waiting callbacks">
          {items?.length === 0 && <li className="empty">No callbacks are waiting.</li>}
          {items?.map((item) => (
            <li key={item.id} className={item.overdue ? "overdue" : undefined}>
              <button
                type="button"
                className="queue-item"
                aria-pressed={item.id === selected}
                data-testid="callback-item"
                data-callback-id={item.id}
                data-case-id={item.case_id}
                onClick={() => {
                  setSelected(item.id);
                  setNotice(null);
                }}
              >
                <strong>{item.name || item.patient_id}</strong>
                <span>{item.detail}</span>
                <span className={item.overdue ? "overdue-text" : undefined}>{dueLabel(item.deadline, item.overdue)}</span>
              </button>
            </li>
          ))}
        </ul>
        {current && (
          <CallbackDocumentation
            key={current.id}
            backend={backend}
            item={current}
            canDocument={role === "clinician"}
            onOpenCase={onOpenCase}
            onDone={() => {
              setSelected(null);
              setNotice(`Callback for ${current.name || current.patient_id} documented.`);
              load();
            }}
          />
        )}
      </div>
    </section>
  );
}

function CallbackDocumentation({
  backend,
  item,
  canDocument,
  onOpenCase,
  onDone,
}: {
  backend: Backend;
  item: QueueItem;
  canDocument: boolean;
  onOpenCase: (caseId: string) => void;
  onDone: () => void;
}) {
  const [outcome, setOutcome] = useState("");
  const [nextStep, setNextStep] = useState("");
  const [reviewed, setReviewed] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (!outcome.trim() || !nextStep.trim()) return setProblem("Write the clinical outcome and the next step.");
    if (!reviewed) return setProblem("Confirm that you reviewed the decision-support output.");
    setProblem(null);
    backend
      .documentCallback({
        callback_id: item.id,
        clinical_outcome: outcome.trim(),
        next_step: nextStep.trim(),
        decision_support_reviewed: reviewed,
      })
      .then(onDone, (reason: unknown) => setError(toApiError(reason)));
  };

  return (
    <form className="panel callback-form" onSubmit={submit} aria-labelledby="callback-form-title" noValidate data-testid="callback-form">
      <h3 id="callback-form-title">Callback: {item.name || item.patient_id}</h3>
      <p>
        Reason: {item.detail} · {dueLabel(item.deadline, item.overdue)}
      </p>
      <button type="button" onClick={() => onOpenCase(item.case_id)}>
        Open the case
      </button>
      {canDocument ? (
        <>
          <label htmlFor="callback-outcome">Clinical outcome</label>
          <textarea id="callback-outcome" rows={3} value={outcome} onChange={(e) => setOutcome(e.target.value)} />
          <label htmlFor="callback-next">Next step</label>
          <input id="callback-next" value={nextStep} onChange={(e) => setNextStep(e.target.value)} />
          <label className="choice">
            <input type="checkbox" id="callback-reviewed" checked={reviewed} onChange={(e) => setReviewed(e.target.checked)} />I reviewed the
            decision-support output (sign-off)
          </label>
          <button type="submit" className="primary" data-testid="document-callback">
            Document callback
          </button>
        </>
      ) : (
        <p className="muted">Only a clinician documents callbacks.</p>
      )}
      {problem && (
        <p role="alert" className="error-text">
          {problem}
        </p>
      )}
      {error && (
        <p role="alert" className="error-text" data-testid="callback-error">
          {formatApiError("Cannot document the callback", error)}
        </p>
      )}
    </form>
  );
}
