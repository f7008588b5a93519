// What the user owes on shared care plans today: their actions due, the contacts their
// monitoring rhythms ask for and, for a plan's lead, every owner's overdue actions, the
// person's open alerts and a case review to schedule after an alert of high concern.
import { useEffect, useState } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { PlanWorkItem } from "./bindings/PlanWorkItem";
import { formatApiError, formatDay, formatShortDateTime } from "./format";
import type { PlanTarget } from "./CarePlanView";

const KINDS: Record<string, string> = {
  overdue_action: "Overdue action",
  action_due: "Your action",
  monitoring_due: "Monitoring contact",
  alert: "Alert",
  review_proposed: "Case review proposed",
};

/** A work item's kind in words. */
export function workKind(kind: string): string {
  return KINDS[kind] ?? kind.replace(/_/g, " ");
}

/** A due day ("2026-07-01") or instant, in words. */
function due(value: string): string {
  return value.length === 10 ? formatDay(value) : formatShortDateTime(value);
}

export function CarePlanWork({ backend, onOpenPlan, revision = 0 }: { backend: Backend; onOpenPlan: (target: PlanTarget) => void; revision?: number }) {
  const [items, setItems] = useState<PlanWorkItem[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  useEffect(() => {
    backend.carePlanWork().then(
      (list) => {
        setItems(list);
        setError(null);
      },
      (reason: unknown) => setError(toApiError(reason)),
    );
  }, [backend, revision]);
  return (
    <section aria-labelledby="plan-work-title" data-testid="plan-work">
      <h2 id="plan-work-title">Care plans: what is due</h2>
      {error && (
        <p role="alert" className="error-text">
          {formatApiError("Cannot load the care plans' work", error)}
        </p>
      )}
      {items === null && !error && <p className="muted">Loading…</p>}
      {items !== null && items.length === 0 && <p className="muted">Nothing is due on the care plans you own or lead.</p>}
      {items !== null && items.length > 0 && (
        <table className="patient-table">
          <thead>
            <tr>
              <th scope="col">Due</th>
              <th scope="col">What</th>
              <th scope="col">Person</th>
              <th scope="col">Detail</th>
              <th scope="col">Owner</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item, i) => (
              <tr key={i} data-testid={`plan-work-${item.kind}`}>
                <td>{due(item.due)}</td>
                <td>{workKind(item.kind)}</td>
                <td>
                  <button type="button" className="link" onClick={() => onOpenPlan({ patientId: item.patient_id, name: item.name || null, caseId: null })}>
                    {item.name || item.patient_id}
                  </button>
                </td>
                <td>{item.detail}</td>
                <td>{item.owner}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
