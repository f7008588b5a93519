// Tests for the sync badge: its text for a local-only, offline and synced workstation, the
// last error in the tooltip, "Sync now", and polling every 5 s until unmounted, and telling the workspace when a sync brought others' work in.
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SyncStatus } from "./bindings/SyncStatus";
import { SYNC_POLL_MS, SYNC_PROGRESS_POLL_MS, SyncBadge, syncSummary } from "./SyncBadge";
import { fakeBackend, makeSyncStatus } from "./test/fakeBackend";

afterEach(() => {
  vi.useRealTimers();
});

/** Today at 09:05 local time, as the backend sends it (RFC 3339, UTC). */
function todayAt0905(): string {
  const at = new Date();
  at.setHours(9, 5, 0, 0);
  return at.toISOString();
}

const synced = (patch: Partial<SyncStatus> = {}) =>
  makeSyncStatus({ configured: true, server: "https://sync.example.org", last_sync_at: todayAt0905(), ...patch });

describe("syncSummary", () => {
  it("words each state, with pending events and open conflicts", () => {
    expect(syncSummary(makeSyncStatus())).toBe("Local only");
    expect(syncSummary(synced({ offline: true, pending: 3 }))).toBe("Offline · 3 pending");
    expect(syncSummary(synced({ last_sync_at: null, pending: 2 }))).toBe("Never synced · 2 pending");
    expect(syncSummary(synced({ pending: 1200, open_conflicts: 1 }))).toBe("Synced 09:05 · 1,200 pending · 1 conflict");
    expect(syncSummary(synced({ offline: true, pending: 5 }))).toBe("Offline · 5 pending");
  });
});

describe("SyncBadge", () => {
  it("says Local only, without a Sync now button, when no server is set", async () => {
    const backend = fakeBackend();
    render(<SyncBadge backend={backend} />);
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Local only"));
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("stays neutral without a server, even when a background round said there is none", async () => {
    const backend = fakeBackend();
    backend.syncStatus.mockResolvedValue(makeSyncStatus({ last_error: "no server is set for this workstation" }));
    render(<SyncBadge backend={backend} />);
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Local only"));
    const badge = screen.getByTestId("sync-badge");
    expect(badge.className).not.toContain("attention");
    expect(badge.getAttribute("title")).toBe("This workstation works on its own: no sync server is set.");
  });

  it("shows offline with the events waiting, and the last error as the tooltip", async () => {
    const backend = fakeBackend();
    backend.syncStatus.mockResolvedValue(synced({ offline: true, pending: 3, last_error: "cannot reach https://sync.example.org" }));
    render(<SyncBadge backend={backend} />);
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Offline · 3 pending"));
    expect(screen.getByTestId("sync-badge").getAttribute("title")).toBe("Last sync failed: cannot reach https://sync.example.org");
    expect(screen.getByTestId("sync-badge").className).toContain("attention");
  });

  it("shows the last sync time, pending events and open conflicts", async () => {
    const backend = fakeBackend();
    backend.syncStatus.mockResolvedValue(synced({ pending: 0, open_conflicts: 2 }));
    render(<SyncBadge backend={backend} />);
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Synced 09:05 · 0 pending · 2 conflicts"));
    expect(screen.getByTestId("sync-badge").getAttribute("title")).toBe("Server: https://sync.example.org");
  });

  it("Sync now runs a round, disables itself while it runs, and shows the status after it", async () => {
    const backend = fakeBackend();
    backend.syncStatus.mockResolvedValue(synced({ pending: 2 }));
    let finish: (status: SyncStatus) => void = () => {};
    backend.syncNow.mockImplementationOnce(() => new Promise((resolve) => (finish = resolve)));
    render(<SyncBadge backend={backend} />);
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Synced 09:05 · 2 pending"));

    const button = screen.getByRole("button", { name: "Sync now with the server" });
    fireEvent.click(button);
    expect(backend.syncNow).toHaveBeenCalledTimes(1);
    expect(button.textContent).toBe("Syncing…");
    expect((button as HTMLButtonElement).disabled).toBe(true);

    await act(async () => finish(synced({ pending: 0 })));
    expect(screen.getByRole("status").textContent).toBe("Synced 09:05 · 0 pending");
    expect(button.textContent).toBe("Sync now");
    expect((button as HTMLButtonElement).disabled).toBe(false);
  });

  it("a workstation that has never synced syncs once, at once, without a click", async () => {
    const backend = fakeBackend();
    backend.syncStatus.mockResolvedValue(synced({ last_sync_at: null, pending: 0 }));
    backend.syncNow.mockResolvedValue(synced({ pending: 0 }));
    render(<SyncBadge backend={backend} />);
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Synced 09:05 · 0 pending"));
    expect(backend.syncNow).toHaveBeenCalledTimes(1);
  });

  it("says so when Sync now fails, with the code in the tooltip", async () => {
    const backend = fakeBackend();
    backend.syncStatus.mockResolvedValue(synced({ pending: 1 }));
    backend.syncNow.mockRejectedValueOnce({ code: "unauthorized", message: "the server no longer accepts this workstation's sign-in" });
    render(<SyncBadge backend={backend} />);
    fireEvent.click(await screen.findByRole("button", { name: "Sync now with the server" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Synced 09:05 · 1 pending · Sync failed"));
    expect(screen.getByTestId("sync-badge").getAttribute("title")).toBe(
      "Cannot sync (unauthorized): the server no longer accepts this workstation's sign-in",
    );
    expect((screen.getByTestId("sync-now") as HTMLButtonElement).disabled).toBe(false);
  });

  it("tells the workspace what syncs have brought in, again only when it grows", async () => {
    const backend = fakeBackend();
    backend.syncStatus.mockResolvedValue(synced({ received: 40 }));
    backend.syncNow.mockResolvedValueOnce(synced({ received: 40 })).mockResolvedValueOnce(synced({ received: 43 }));
    const onReceived = vi.fn();
    render(<SyncBadge backend={backend} onReceived={onReceived} />);
    await waitFor(() => expect(onReceived).toHaveBeenLastCalledWith(40));
    const button = screen.getByRole("button", { name: "Sync now with the server" });
    fireEvent.click(button);
    await waitFor(() => expect(backend.syncNow).toHaveBeenCalledTimes(1));
    await waitFor(() => expect((button as HTMLButtonElement).disabled).toBe(false));
    expect(onReceived).toHaveBeenCalledTimes(1);
    fireEvent.click(button);
    await waitFor(() => expect(onReceived).toHaveBeenLastCalledWith(43));
    expect(onReceived).toHaveBeenCalledTimes(2);
  });

  it("while a round runs, shows what it has brought in, polls every second, and reloads the screens at its end", async () => {
    vi.useFakeTimers();
    const backend = fakeBackend();
    backend.syncStatus
      .mockResolvedValueOnce(synced({ received: 100, syncing: true }))
      .mockResolvedValueOnce(synced({ received: 5_100, syncing: true }))
      .mockResolvedValue(synced({ received: 9_100 }));
    const onReceived = vi.fn();
    render(<SyncBadge backend={backend} onReceived={onReceived} />);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(screen.getByRole("status").textContent).toBe("Syncing…");
    expect((screen.getByTestId("sync-now") as HTMLButtonElement).disabled).toBe(true);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SYNC_PROGRESS_POLL_MS);
    });
    expect(screen.getByRole("status").textContent).toBe("Syncing · 5,000 received");
    expect(onReceived).not.toHaveBeenCalled();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SYNC_PROGRESS_POLL_MS);
    });
    expect(screen.getByRole("status").textContent).toBe("Synced 09:05 · 0 pending");
    expect(onReceived).toHaveBeenCalledExactlyOnceWith(9_100);
    // Back to the usual pace.
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SYNC_PROGRESS_POLL_MS);
    });
    expect(backend.syncStatus).toHaveBeenCalledTimes(3);
  });

  it("reads the status on mount and every 5 s, and stops when unmounted", async () => {
    vi.useFakeTimers();
    const backend = fakeBackend();
    backend.syncStatus.mockResolvedValueOnce(synced({ pending: 4 })).mockResolvedValue(synced({ offline: true, pending: 5 }));
    const { unmount } = render(<SyncBadge backend={backend} />);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(backend.syncStatus).toHaveBeenCalledTimes(1);
    expect(screen.getByRole("status").textContent).toBe("Synced 09:05 · 4 pending");

    await act(async () => {
      await vi.advanceTimersByTimeAsync(SYNC_POLL_MS);
    });
    expect(backend.syncStatus).toHaveBeenCalledTimes(2);
    expect(screen.getByRole("status").textContent).toBe("Offline · 5 pending");

    unmount();
    await vi.advanceTimersByTimeAsync(SYNC_POLL_MS * 3);
    expect(backend.syncStatus).toHaveBeenCalledTimes(2);
  });
});
