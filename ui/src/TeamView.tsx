// A supervisor's landing: the team at a glance. Who carries what against the weekly capacity,
// what sits unassigned in which list, and what waits on the team now; each line leads to the
// screen where it is dealt with.
import { useCallback, useEffect, useState } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { TeamView as Team } from "./bindings/TeamView";
import type { Tab } from "./Workspace";
import { formatApiError, formatCount } from "./format";
import { ListsBar } from "./ListsBar";

export function TeamView({
  backend,
  onGo,
  revision = 0,
}: {
  backend: Backend;
  /** Opens another screen (the pool, the callbacks, the escalations). */
  onGo: (tab: Tab) => void;
  /** Grows when a sync brought others' work in: the view reloads. */
  revision?: number;
}) {
  const [team, setTeam] = useState<Team | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  const load = useCallback(() => {
    backend.teamView().then(
      (result) => {
        setTeam(result);
        setError(null);
      },
      (reason: unknown) => setError(toApiError(reason)),
    );
  }, [backend]);
  useEffect(load, [load, revision]);

  const unassigned = team?.unassigned.reduce((n, r) => n + r.open, 0) ?? 0;
  const unassignedOverdue = team?.unassigned.reduce((n, r) => n + r.overdue, 0) ?? 0;

  return (
    <section className="team" aria-labelledby="team-title">
      <div className="toolbar">
        <h2 id="team-title">Team</h2>
        <button type="button" onClick={load}>
          Refresh
        </button>
      </div>
      <ListsBar backend={backend} revision={revision} canRefresh onRefreshed={load} />
      {error && (
        <p role="alert" className="error-text">
          {formatApiError("Cannot load the team view", error)}
        </p>
      )}
      {!team && !error && <p className="count">Loading…</p>}
      {team && (
        <>
          <ul className="team-waiting" aria-label="Waiting on the team" data-testid="team-waiting">
            <li>
              <strong>{formatCount(unassigned)}</strong> unassigned {unassigned === 1 ? "case" : "cases"}
              {unassignedOverdue > 0 && <span className="overdue-text"> ({formatCount(unassignedOverdue)} overdue)</span>}{" "}
              <button type="button" className="link" onClick={() => onGo("worklist")}>
                Assign from the pool
              </button>
            </li>
            <li>
              <strong>{formatCount(team.waiting.alerts)}</strong> {team.waiting.alerts === 1 ? "alert" : "alerts"} not acknowledged
              {team.waiting.alerts_overdue > 0 && <span className="overdue-text"> ({formatCount(team.waiting.alerts_overdue)} past due)</span>}
            </li>
            <li>
              <strong>{formatCount(team.waiting.callbacks)}</strong> {team.waiting.callbacks === 1 ? "callback" : "callbacks"} waiting for a clinician
              {team.waiting.callbacks_overdue > 0 && <span className="overdue-text"> ({formatCount(team.waiting.callbacks_overdue)} past due)</span>}{" "}
              <button type="button" className="link" onClick={() => onGo("callbacks")}>
                Open callbacks
              </button>
            </li>
            <li>
              <strong>{formatCount(team.waiting.escalations)}</strong> {team.waiting.escalations === 1 ? "escalation" : "escalations"} not acknowledged
              {team.waiting.escalations_overdue > 0 && (
                <span className="overdue-text"> ({formatCount(team.waiting.escalations_overdue)} past the deadline)</span>
              )}{" "}
              <button type="button" className="link" onClick={() => onGo("escalations")}>
                Open escalations
              </button>
            </li>
          </ul>

          <h3 id="caseloads-title">Caseloads</h3>
          <p className="hint">Open cases per person; the weekly capacity is {formatCount(team.caseload_limit)} open cases each.</p>
          {team.owners.length === 0 ? (
            <p className="empty">Nobody holds an open case.</p>
          ) : (
            <table className="team-table" aria-labelledby="caseloads-title" data-testid="team-caseloads">
              <thead>
                <tr>
                  <th scope="col">Who</th>
                  <th scope="col">Open</th>
                  <th scope="col">Overdue</th>
                  <th scope="col">Due by end of today</th>
                  <th scope="col">Capacity</th>
                </tr>
              </thead>
              <tbody>
                {team.owners.map((row) => (
                  <tr key={row.owner} className={row.overdue > 0 ? "overdue" : undefined}>
                    <th scope="row">{row.owner}</th>
                    <td>{formatCount(row.open)}</td>
                    <td className={row.overdue > 0 ? "overdue-text" : undefined}>{formatCount(row.overdue)}</td>
                    <td>{formatCount(row.due_today)}</td>
                    <td>
                      {row.at_capacity ? (
                        <strong>Full ({formatCount(row.open)} of {formatCount(team.caseload_limit)})</strong>
                      ) : (
                        `${formatCount(team.caseload_limit - row.open)} more possible`
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}

          <h3 id="pool-title">Unassigned, by list</h3>
          {team.unassigned.length === 0 ? (
            <p className="empty">No case is waiting for an owner.</p>
          ) : (
            <table className="team-table" aria-labelledby="pool-title" data-testid="team-unassigned">
              <thead>
                <tr>
                  <th scope="col">List</th>
                  <th scope="col">Cases</th>
                  <th scope="col">Overdue</th>
                  <th scope="col">Highest priority</th>
                </tr>
              </thead>
              <tbody>
                {team.unassigned.map((row) => (
                  <tr key={row.segment_id} className={row.overdue > 0 ? "overdue" : undefined}>
                    <th scope="row">{row.segment_name}</th>
                    <td>{formatCount(row.open)}</td>
                    <td className={row.overdue > 0 ? "overdue-text" : undefined}>{formatCount(row.overdue)}</td>
                    <td>{formatCount(row.top_priority)} points</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
