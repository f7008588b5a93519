// The live lists' line above the worklist: what the lists last changed ("3 new in
// Post-discharge · 1 closed by new data"), the open alerts on key events (ED visit, admission,
// discharge, missed appointment, social risk) with who holds each and by when, each
// acknowledged from here, and how many entrants wait for a supervisor's review. Read when the
// worklist loads and after every sync that brought something in (`revision`). Supervisors
// also get "Refresh lists now": everyone evaluated again as of today, a progress bar while
// it runs (with the share of people evaluated so far, from the backend's progress events),
// then what it changed.
import { useCallback, useEffect, useState } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { AlertDto } from "./bindings/AlertDto";
import type { ListsChanged } from "./bindings/ListsChanged";
import type { ListsStatus } from "./bindings/ListsStatus";
import type { Progress } from "./bindings/Progress";
import { formatApiError, formatCount, formatDay } from "./format";
import { dueLabel } from "./worklistModel";

/** "Lists changed on 1 Jul 2026: 3 new in Post-discharge", or nothing before a change. */
export function listsLine(status: ListsStatus): string | null {
  if (!status.last_change) return null;
  const on = status.last_change_on === status.as_of ? "today" : `on ${formatDay(status.last_change_on ?? "")}`;
  return `Lists changed ${on}: ${status.last_change}`;
}

/** "Evaluating everyone as of today… 42,000 of 100,000 (42%)", or the message alone when the step cannot be measured. */
export function progressLine(progress: Progress): string {
  if (progress.total === null || progress.total === 0) return progress.message;
  const done = Math.min(progress.done, progress.total);
  return `${progress.message} ${formatCount(done)} of ${formatCount(progress.total)} (${Math.floor((100 * done) / progress.total)}%)`;
}

/** "Everyone evaluated as of today (1,000 people): 2 new in Post-discharge". */
export function refreshLine(changed: ListsChanged): string {
  const people = `${formatCount(changed.evaluated)} ${changed.evaluated === 1 ? "person" : "people"}`;
  return `Everyone evaluated as of today (${people}): ${changed.summary === "No changes" ? "no changes" : changed.summary}`;
}

export function ListsBar({
  backend,
  revision = 0,
  canRefresh = false,
  onRefreshed,
}: {
  backend: Backend;
  revision?: number;
  /** A supervisor: "Refresh lists now" is offered. */
  canRefresh?: boolean;
  /** The lists were refreshed: the worklist reloads. */
  onRefreshed?: () => void;
}) {
  const [status, setStatus] = useState<ListsStatus | null>(null);
  const [refreshing, setRefreshing] = useState(false);
  const [refreshed, setRefreshed] = useState<string | null>(null);
  // The refresh's last progress event (stage "lists"), while it runs.
  const [progress, setProgress] = useState<Progress | null>(null);
  useEffect(() => {
    if (!refreshing) {
      setProgress(null);
      return;
    }
    return backend.onProgress((p) => {
      if (p.stage === "lists") setProgress(p);
    });
  }, [backend, refreshing]);
  const [alerts, setAlerts] = useState<AlertDto[] | null>(null);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  const load = useCallback(() => {
    backend.listsStatus().then(
      (next) => {
        setStatus(next);
        setError(null);
      },
      (reason: unknown) => setError(toApiError(reason)),
    );
  }, [backend]);

  useEffect(load, [load, revision]);

  const showAlerts = () => {
    setOpen((was) => !was);
    backend.alerts(false).then(setAlerts, (reason: unknown) => setError(toApiError(reason)));
  };

  const acknowledge = (alert: AlertDto) => {
    backend.acknowledgeAlert(alert.alert_id, null).then(
      () => {
        setAlerts((list) => list?.filter((a) => a.alert_id !== alert.alert_id) ?? null);
        load();
      },
      (reason: unknown) => setError(toApiError(reason)),
    );
  };

  const refresh = () => {
    setRefreshing(true);
    setRefreshed(null);
    backend.refreshLists().then(
      (changed) => {
        setRefreshing(false);
        setRefreshed(refreshLine(changed));
        load();
        onRefreshed?.();
      },
      (reason: unknown) => {
        setRefreshing(false);
        setError(toApiError(reason));
      },
    );
  };

  if (error) return <p className="error-text" role="alert">{formatApiError("Cannot bring the lists up to date", error)}</p>;
  if (!status) return null;
  const line = listsLine(status);
  return (
    <div className="lists-bar" data-testid="lists-bar">
      {line && (
        <p className="hint" aria-live="polite" data-testid="lists-line">
          {line}
        </p>
      )}
      {status.to_review > 0 && (
        <p className="hint" data-testid="lists-to-review">
          {formatCount(status.to_review)} {status.to_review === 1 ? "person waits" : "people wait"} for a supervisor’s review
        </p>
      )}
      {canRefresh && (
        <button type="button" className="button" onClick={refresh} disabled={refreshing} data-testid="refresh-lists">
          {refreshing ? "Refreshing the lists…" : "Refresh lists now"}
        </button>
      )}
      {refreshing && (
        <span className="refresh-progress">
          {progress !== null && progress.total !== null && progress.total > 0 ? (
            <progress aria-label="Evaluating everyone as of today" data-testid="refresh-progress" value={Math.min(progress.done, progress.total)} max={progress.total} />
          ) : (
            <progress aria-label="Evaluating everyone as of today" data-testid="refresh-progress" />
          )}{" "}
          <span aria-live="polite" data-testid="refresh-progress-text">
            {progress ? progressLine(progress) : "Starting…"}
          </span>
        </span>
      )}
      {refreshed && (
        <p className="hint" aria-live="polite" data-testid="refresh-result">
          {refreshed}
        </p>
      )}
      <button
        type="button"
        className={`button${status.open_alerts > 0 ? " alert-badge" : ""}`}
        aria-expanded={open}
        onClick={showAlerts}
        data-testid="alert-badge"
      >
        {status.open_alerts === 0 ? "No alerts" : `${formatCount(status.open_alerts)} ${status.open_alerts === 1 ? "alert" : "alerts"}`}
      </button>
      {open && alerts && (
        <ul className="alert-list" aria-label="Alerts" data-testid="alert-list">
          {alerts.length === 0 && <li>No open alerts.</li>}
          {alerts.map((a) => (
            <li key={a.alert_id} className={a.overdue ? "overdue" : undefined} data-testid="alert-row">
              <strong>{a.title}</strong>: {a.name ?? "a person in the panel"} — {a.evidence}. {dueLabel(a.due, a.overdue)}
              {a.overdue ? ` (now with the ${a.level.replace("_", " ")})` : ""}.{" "}
              <button type="button" className="link" onClick={() => acknowledge(a)}>
                Acknowledge
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
