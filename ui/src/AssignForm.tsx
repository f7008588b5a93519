// A supervisor assigns cases: the first N cases of the pool as shown (its filters and order)
// in bulk, or one case reassigned from its screen. Each case is assigned within the person's
// caseload; refusals are said, with the first reason.
import { useEffect, useState, type FormEvent } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { BulkAssigned } from "./bindings/BulkAssigned";
import { formatApiError, formatCount } from "./format";

/** "Assigned 8 of 10 to ana. 2 not assigned: ana already has 40 open cases (weekly capacity 40)". */
export function assignedLine(result: BulkAssigned, asked: number, to: string): string {
  const done = `Assigned ${formatCount(result.assigned)} of ${formatCount(asked)} to ${to}.`;
  const [first] = result.refused;
  if (!first) return done;
  return `${done} ${formatCount(result.refused.length)} not assigned: ${first}`;
}

export function AssignForm({
  backend,
  caseIds,
  bulk,
  exclude = null,
  onAssigned,
}: {
  backend: Backend;
  /** The cases to assign, in order (bulk: the first N of them are). */
  caseIds: string[];
  /** Assigning from the pool (how many is asked) rather than one case. */
  bulk: boolean;
  /** Not offered (the case's current owner). */
  exclude?: string | null;
  onAssigned: (message: string) => void;
}) {
  const [people, setPeople] = useState<string[]>([]);
  const [to, setTo] = useState("");
  const [count, setCount] = useState(10);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    backend.assignees().then(
      (names) => setPeople(names),
      (reason: unknown) => setError(toApiError(reason)),
    );
  }, [backend]);

  const offered = people.filter((p) => p !== exclude);
  const asked = bulk ? Math.max(0, Math.min(count, caseIds.length)) : caseIds.length;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (to === "" || asked === 0) return;
    setBusy(true);
    setError(null);
    backend.assignCases(caseIds.slice(0, asked), to).then(
      (result) => {
        setBusy(false);
        onAssigned(assignedLine(result, asked, to));
      },
      (reason: unknown) => {
        setBusy(false);
        setError(toApiError(reason));
      },
    );
  };

  const id = bulk ? "bulk-assign" : "reassign";
  return (
    <form className="assign-form" onSubmit={submit} aria-label={bulk ? "Assign cases from the pool" : "Reassign this case"} data-testid={id}>
      {bulk ? (
        <>
          <label htmlFor={`${id}-count`}>Assign the first</label>
          <input
            id={`${id}-count`}
            type="number"
            min={1}
            max={caseIds.length}
            value={count}
            onChange={(e) => setCount(Number(e.target.value))}
          />
          <span>of the {formatCount(caseIds.length)} shown, in this order,</span>
        </>
      ) : null}
      <label htmlFor={`${id}-to`}>{bulk ? "to" : "Reassign to"}</label>
      <select id={`${id}-to`} value={to} onChange={(e) => setTo(e.target.value)}>
        <option value="">Choose a person…</option>
        {offered.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      <button type="submit" className="button" disabled={busy || to === "" || asked === 0}>
        {bulk ? `Assign ${formatCount(asked)}` : "Reassign"}
      </button>
      {error && (
        <span role="alert" className="error-text">
          {formatApiError("Cannot assign", error)}
        </span>
      )}
    </form>
  );
}
