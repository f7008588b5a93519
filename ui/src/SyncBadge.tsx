// The sync badge in the workspace header: whether this workstation syncs, when it last did,
// how many events wait in the outbox, and open conflicts; "Sync now" runs a round at once.
// The status is read on mount and every SYNC_POLL_MS (reading it never runs a round: the
// backend syncs in the background on its own); while a round runs, every
// SYNC_PROGRESS_POLL_MS, and the badge shows how much has come in so far (a first sync of a
// large panel takes seconds). When a round has ended and brought others' work in
// (`received` grew), `onReceived` tells the workspace, which reloads the screen shown.
import { useCallback, useEffect, useRef, useState } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { SyncStatus } from "./bindings/SyncStatus";
import { formatApiError, formatClock, formatCount } from "./format";

export const SYNC_POLL_MS = 5_000;
export const SYNC_PROGRESS_POLL_MS = 1_000;

/** Events waiting in the outbox. */
export function pendingCount(status: SyncStatus): number {
  return status.pending;
}

/** The badge's text: "Local only", "Offline · 3 pending", "Synced 14:05 · 0 pending · 2 conflicts"… */
export function syncSummary(status: SyncStatus, now: Date = new Date()): string {
  const conflicts =
    status.open_conflicts > 0 ? ` · ${formatCount(status.open_conflicts)} ${status.open_conflicts === 1 ? "conflict" : "conflicts"}` : "";
  if (!status.configured) return `Local only${conflicts}`;
  const pending = `${formatCount(pendingCount(status))} pending`;
  if (status.offline) return `Offline · ${pending}${conflicts}`;
  if (status.last_sync_at === null) return `Never synced · ${pending}${conflicts}`;
  return `Synced ${formatClock(status.last_sync_at, now)} · ${pending}${conflicts}`;
}

/** The badge's text while a round runs: what it has brought in since it began. */
export function syncProgress(status: SyncStatus | null, since: number): string {
  const received = (status?.received ?? since) - since;
  return received > 0 ? `Syncing · ${formatCount(received)} received` : "Syncing…";
}

/** The tooltip: the last round's error (it names no patient), else the server. */
function syncDetail(status: SyncStatus | null, error: UiError | null): string | undefined {
  if (error) return formatApiError("Cannot sync", error);
  if (!status) return undefined;
  // Working without a server is a setting, not a failure.
  if (!status.configured) return "This workstation works on its own: no sync server is set.";
  if (status.last_error) return `Last sync failed: ${status.last_error}`;
  return status.server ? `Server: ${status.server}` : undefined;
}

export function SyncBadge({ backend, onReceived }: { backend: Backend; onReceived?: (received: number) => void }) {
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [syncing, setSyncing] = useState(false);
  const mounted = useRef(true);
  // A round runs: started here ("Sync now", the first sync) or in the background.
  const busy = syncing || status?.syncing === true;

  const refresh = useCallback(
    () =>
      backend.syncStatus().then(
        (next) => {
          if (!mounted.current) return;
          setStatus(next);
          setError(null);
        },
        (reason: unknown) => {
          if (mounted.current) setError(toApiError(reason));
        },
      ),
    [backend],
  );
  useEffect(() => {
    mounted.current = true;
    void refresh();
    return () => {
      mounted.current = false;
    };
  }, [refresh]);
  useEffect(() => {
    const timer = window.setInterval(() => void refresh(), busy ? SYNC_PROGRESS_POLL_MS : SYNC_POLL_MS);
    return () => window.clearInterval(timer);
  }, [refresh, busy]);

  // What had come in when the round began, to count its progress from.
  const since = useRef<number | null>(null);
  if (!busy) since.current = null;
  else if (since.current === null) since.current = status?.received ?? 0;

  const received = status?.received;
  const reported = useRef<number | null>(null);
  useEffect(() => {
    if (received === undefined || busy || received === reported.current) return;
    reported.current = received;
    onReceived?.(received);
  }, [received, busy, onReceived]);

  const syncNow = () => {
    setSyncing(true);
    backend.syncNow().then(
      (next) => {
        if (!mounted.current) return;
        setStatus(next);
        setError(null);
        setSyncing(false);
      },
      (reason: unknown) => {
        if (!mounted.current) return;
        setError(toApiError(reason));
        setSyncing(false);
      },
    );
  };

  // A workstation that has never synced (just signed in through the server for the first
  // time) fetches its panel at once instead of waiting for the background timer.
  const autoSynced = useRef(false);
  useEffect(() => {
    if (status?.configured && status.last_sync_at === null && !status.offline && !autoSynced.current) {
      autoSynced.current = true;
      syncNow();
    }
  });

  const text = busy
    ? syncProgress(status, since.current ?? 0)
    : status
      ? `${syncSummary(status)}${error ? " · Sync failed" : ""}`
      : error
        ? "Sync status unavailable"
        : "Checking sync…";
  // A workstation without a server is neutral, whatever a background round last said.
  const attention =
    error !== null ||
    (status !== null && (status.open_conflicts > 0 || (status.configured && (status.offline || status.last_error !== null))));

  return (
    <div className={`sync-badge${attention ? " attention" : ""}${status?.configured ? "" : " local"}`} title={syncDetail(status, error)} data-testid="sync-badge">
      <span role="status" data-testid="sync-status">
        {text}
      </span>
      {status?.configured && (
        <button
          type="button"
          className="sync-now"
          onClick={syncNow}
          disabled={busy}
          aria-label={busy ? "Syncing with the server" : "Sync now with the server"}
          data-testid="sync-now"
        >
          {busy ? "Syncing…" : "Sync now"}
        </button>
      )}
    </div>
  );
}
