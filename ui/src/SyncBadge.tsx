// The sync badge in the workspace header: whether this workstation syncs, when it last did,
// how many events wait in the outbox, and open conflicts; "Sync now" runs a round at once.
// The status is read on mount and every SYNC_POLL_MS (reading it never runs a round: the
// backend syncs in the background on its own). When a status shows that a sync brought
// others' work in (`received` grew), `onReceived` tells the workspace, which reloads the
// screen shown.
import { useEffect, useRef, useState } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { SyncStatus } from "./bindings/SyncStatus";
import { formatApiError, formatClock, formatCount } from "./format";

export const SYNC_POLL_MS = 5_000;

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

/** The tooltip: the last round's error (it names no patient), else the server. */
function syncDetail(status: SyncStatus | null, error: UiError | null): string | undefined {
  if (error) return formatApiError("Cannot sync", error);
  if (!status) return undefined;
  if (status.last_error) return `Last sync failed: ${status.last_error}`;
  if (!status.configured) return "No sync server is set for this workstation.";
  return status.server ? `Server: ${status.server}` : undefined;
}

export function SyncBadge({ backend, onReceived }: { backend: Backend; onReceived?: (received: number) => void }) {
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [syncing, setSyncing] = useState(false);
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    const refresh = () =>
      backend.syncStatus().then(
        (next) => {
          if (!mounted.current) return;
          setStatus(next);
          setError(null);
        },
        (reason: unknown) => {
          if (mounted.current) setError(toApiError(reason));
        },
      );
    void refresh();
    const timer = window.setInterval(() => void refresh(), SYNC_POLL_MS);
    return () => {
      mounted.current = false;
      window.clearInterval(timer);
    };
  }, [backend]);

  const received = status?.received;
  useEffect(() => {
    if (received !== undefined) onReceived?.(received);
  }, [received, onReceived]);

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

  const text = status ? `${syncSummary(status)}${error ? " · Sync failed" : ""}` : error ? "Sync status unavailable" : "Checking sync…";
  const attention = error !== null || (status !== null && (status.offline || status.last_error !== null || status.open_conflicts > 0));

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
          disabled={syncing}
          aria-label={syncing ? "Syncing with the server" : "Sync now with the server"}
          data-testid="sync-now"
        >
          {syncing ? "Syncing…" : "Sync now"}
        </button>
      )}
    </div>
  );
}
