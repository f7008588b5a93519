// A person's cases, reached from a search result or a row of the Patients list: every case
// with its list, status, owner and due time, each one opening; a person with none is told in
// words, not a dead end.
import { useEffect, useState } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { PersonCase } from "./bindings/PersonCase";
import { formatApiError } from "./format";
import { dueLabel, humanize } from "./worklistModel";

export type Person = { id: string; name: string };

export function PersonCases({
  backend,
  person,
  onOpenCase,
  onBack,
}: {
  backend: Backend;
  person: Person;
  onOpenCase: (caseId: string) => void;
  onBack: () => void;
}) {
  const [cases, setCases] = useState<PersonCase[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    let live = true;
    backend.casesOfPerson(person.id).then(
      (result) => live && setCases(result),
      (reason: unknown) => live && setError(toApiError(reason)),
    );
    return () => {
      live = false;
    };
  }, [backend, person.id]);

  return (
    <section className="person-cases" aria-labelledby="person-title">
      <div className="toolbar">
        <button type="button" onClick={onBack}>
          Back
        </button>
        <h2 id="person-title">{person.name}</h2>
      </div>
      {error && (
        <p role="alert" className="error-text">
          {formatApiError("Cannot load this person's cases", error)}
        </p>
      )}
      {!cases && !error && <p className="count">Loading…</p>}
      {cases?.length === 0 && (
        <p className="empty" data-testid="person-no-case">
          {person.name} has no case: they are not on a worklist with a case opened for them. The live lists open one when
          they enter a list.
        </p>
      )}
      {cases && cases.length > 0 && (
        <ul className="person-case-list" aria-label={`Cases of ${person.name}`}>
          {cases.map((c) => (
            <li key={c.case_id} data-testid="person-case">
              <button type="button" className="link" onClick={() => onOpenCase(c.case_id)}>
                {c.segment_name}
              </button>{" "}
              · {humanize(c.status)}
              {c.owner ? ` · ${c.owner}` : " · unassigned"}
              {c.status !== "closed" && (
                <>
                  {" "}
                  · <span className={c.overdue ? "overdue-text" : undefined}>{dueLabel(c.due, c.overdue)}</span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
