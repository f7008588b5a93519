// Escalation queue and referral board: open items by state, overdue first (the backend's
// order), with the step each allows: acknowledge or resolve an escalation; accept, decline,
// start or complete a referral.
import { useCallback, useEffect, useState } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { QueueItem } from "./bindings/QueueItem";
import type { ReferralStatusName } from "./bindings/ReferralStatusName";
import { formatApiError, pickedDay } from "./format";
import { dueLabel, humanize } from "./worklistModel";

type Kind = "escalations" | "referrals";

/** An action waiting for its confirmation (and note). */
type Confirming = {
  id: string;
  label: string;
  done: string;
  noteRequired: boolean;
  dateLabel: string | null;
  run: (note: string, on: string | null) => Promise<unknown>;
};

/** The referral steps that may follow a status. */
export function referralSteps(status: string): ReferralStatusName[] {
  switch (status) {
    case "sent":
      return ["accepted", "declined"];
    case "accepted":
      return ["started", "declined"];
    case "started":
      return ["completed"];
    default:
      return [];
  }
}

export function QueueBoard({
  backend,
  kind,
  onOpenCase,
  revision = 0,
}: {
  backend: Backend;
  kind: Kind;
  onOpenCase: (caseId: string) => void;
  /** Grows when a sync brought others' work in: the board reloads. */
  revision?: number;
}) {
  const [items, setItems] = useState<QueueItem[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(() => {
    (kind === "escalations" ? backend.escalations() : backend.referrals()).then(
      (result) => {
        setItems(result);
        setError(null);
      },
      (reason: unknown) => setError(toApiError(reason)),
    );
  }, [backend, kind]);
  useEffect(load, [load, revision]);

  const act = (what: Promise<unknown>, message: string) =>
    what.then(
      () => {
        setConfirming(null);
        setNotice(message);
        load();
      },
      (reason: unknown) => setError(toApiError(reason)),
    );

  // An action that closes, declines or moves something on is confirmed first, with a note
  // (required where the note is the record: resolving, declining, completing).
  const [confirming, setConfirming] = useState<Confirming | null>(null);
  const [note, setNote] = useState("");
  const [on, setOn] = useState("");
  const ask = (c: Confirming) => {
    setNote("");
    setOn("");
    setConfirming(c);
  };

  const title = kind === "escalations" ? "Escalations" : "Referrals";
  return (
    <section className="queue" aria-labelledby="board-title">
      <div className="toolbar">
        <h2 id="board-title">{title}</h2>
        <p className="count">{items ? `${items.length} open` : "Loading…"}</p>
      </div>
      {error && (
        <p role="alert" className="error-text">
          {formatApiError(`Cannot update ${title.toLowerCase()}`, error)}
        </p>
      )}
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      <table className="patient-table">
        <thead>
          <tr>
            <th scope="col">Person</th>
            <th scope="col">{kind === "escalations" ? "Kind" : "Service"}</th>
            <th scope="col">State</th>
            <th scope="col">With</th>
            <th scope="col">Deadline</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {items?.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                Nothing open.
              </td>
            </tr>
          )}
          {items?.map((item) => (
            <tr key={item.id} data-testid={`${kind}-row`}>
              <th scope="row">
                <button type="button" className="link" onClick={() => onOpenCase(item.case_id)}>
                  {item.name || item.patient_id}
                </button>
              </th>
              <td>{humanize(item.kind)}</td>
              <td>{humanize(item.status)}</td>
              <td>{humanize(item.owner)}</td>
              <td>{item.deadline ? dueLabel(item.deadline, item.overdue) : item.overdue ? "Overdue" : "—"}</td>
              <td className="actions">
                {confirming?.id === item.id ? (
                  <form
                    className="confirm"
                    data-testid="confirm-action"
                    onSubmit={(e) => {
                      e.preventDefault();
                      void act(confirming.run(note.trim(), on || null), confirming.done);
                    }}
                  >
                    <label htmlFor={`note-${item.id}`}>{confirming.noteRequired ? "Note (required)" : "Note (optional)"}</label>
                    <input id={`note-${item.id}`} value={note} required={confirming.noteRequired} onChange={(e) => setNote(e.target.value)} />
                    {confirming.dateLabel && (
                      <>
                        <label htmlFor={`on-${item.id}`}>{confirming.dateLabel}</label>
                        <input id={`on-${item.id}`} type="date" value={on} required onChange={(e) => setOn(e.target.value)} />
                        <span className="picked-day" aria-live="polite">{pickedDay(on)}</span>
                      </>
                    )}
                    <button type="submit" className="primary" disabled={(confirming.noteRequired && note.trim() === "") || (confirming.dateLabel !== null && on === "")}>
                      {confirming.label}
                    </button>
                    <button type="button" onClick={() => setConfirming(null)}>
                      Cancel
                    </button>
                  </form>
                ) : kind === "escalations" ? (
                  item.status === "raised" ? (
                    <button
                      type="button"
                      onClick={() =>
                        ask({
                          id: item.id,
                          label: "Acknowledge",
                          done: "Acknowledged.",
                          noteRequired: false,
                          dateLabel: null,
                          run: (n) => backend.escalationStep({ escalation_id: item.id, resolve: false, note: n }),
                        })
                      }
                    >
                      Acknowledge
                    </button>
                  ) : (
                    <button
                      type="button"
                      onClick={() =>
                        ask({
                          id: item.id,
                          label: "Resolve",
                          done: "Resolved.",
                          noteRequired: true,
                          dateLabel: null,
                          run: (n) => backend.escalationStep({ escalation_id: item.id, resolve: true, note: n }),
                        })
                      }
                    >
                      Resolve
                    </button>
                  )
                ) : item.owner !== "coordinator" ? (
                  // A referral of the exchange: the partner answers it itself.
                  <span className="muted">Answered by {item.owner}</span>
                ) : (
                  referralSteps(item.status).map((step) => (
                    <button
                      key={step}
                      type="button"
                      onClick={() =>
                        ask({
                          id: item.id,
                          label: humanize(step),
                          done: `Referral ${step}.`,
                          noteRequired: step === "declined" || step === "completed",
                          dateLabel: step === "started" ? "Started on" : null,
                          run: (n, date) => backend.updateReferral({ referral_id: item.id, status: step, note: n, on: date }),
                        })
                      }
                    >
                      {humanize(step)}
                    </button>
                  ))
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
