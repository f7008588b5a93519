// Tests for the Tauri backend module: command names, arguments, error mapping and event subscription.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
const unlisten = vi.fn();
let emit: ((payload: unknown) => void) | undefined;
let resolveListen: () => void = () => {};
vi.mock("@tauri-apps/api/core", () => ({ invoke }));
vi.mock("@tauri-apps/api/event", () => ({
  listen: vi.fn((_event: string, handler: (event: { payload: unknown }) => void) => {
    emit = (payload) => handler({ payload });
    return new Promise((resolve) => (resolveListen = () => resolve(unlisten)));
  }),
}));

const { ERROR_CODES, PROGRESS_EVENT, tauriBackend, toApiError, watchingForLock } = await import("./backend");
const { listen } = await import("@tauri-apps/api/event");

beforeEach(() => {
  Object.assign(window, { __TAURI_INTERNALS__: {} });
});

afterEach(() => {
  delete (window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__;
  vi.clearAllMocks();
});

describe("tauriBackend", () => {
  it("calls list_patients with the query", async () => {
    const page = { total: 0, offset: 0, rows: [] };
    invoke.mockResolvedValueOnce(page);
    const query = { text: "ann", offset: 100, limit: 100 };
    await expect(tauriBackend.listPatients(query)).resolves.toBe(page);
    expect(invoke).toHaveBeenCalledWith("list_patients", { query });
  });

  it("opens the cache only after progress listeners are registered", async () => {
    invoke.mockResolvedValueOnce({ created: true, demo_loaded: true, patients: 3, events: 0 });
    const seen: string[] = [];
    const stop = tauriBackend.onProgress((p) => seen.push(p.message));
    expect(listen).toHaveBeenCalledWith(PROGRESS_EVENT, expect.any(Function));

    const opened = tauriBackend.openCache();
    await Promise.resolve();
    expect(invoke).not.toHaveBeenCalled();
    resolveListen();
    await opened;
    expect(invoke).toHaveBeenCalledWith("open_cache", undefined);

    emit?.({ stage: "demo", done: 1, total: 3, message: "Loading" });
    expect(seen).toEqual(["Loading"]);
    stop();
    expect(unlisten).toHaveBeenCalledTimes(1);
    emit?.({ stage: "demo", done: 2, total: 3, message: "Late" });
    expect(seen).toEqual(["Loading"]);
  });

  it("names the commands and arguments as src-tauri registers them", async () => {
    invoke.mockResolvedValue(null);
    await tauriBackend.signIn({ user: "ana", password: "demo" });
    expect(invoke).toHaveBeenLastCalledWith("sign_in", { form: { user: "ana", password: "demo" } });
    await tauriBackend.caseDetail("c1");
    expect(invoke).toHaveBeenLastCalledWith("case_detail", { caseId: "c1" });
    await tauriBackend.callbacks(true);
    expect(invoke).toHaveBeenLastCalledWith("callbacks", { includeDone: true });
    await tauriBackend.casesOfPerson("p1");
    expect(invoke).toHaveBeenLastCalledWith("cases_of_person", { patientId: "p1" });
    await tauriBackend.lock();
    expect(invoke).toHaveBeenLastCalledWith("lock", undefined);
    await tauriBackend.weeklyReview(null);
    expect(invoke).toHaveBeenLastCalledWith("weekly_review", { week: null });
    await tauriBackend.weeklyReview("2026-W01");
    expect(invoke).toHaveBeenLastCalledWith("weekly_review", { week: "2026-W01" });
    await tauriBackend.reviewDrill("2026-W01", "segment:dormant");
    expect(invoke).toHaveBeenLastCalledWith("review_drill", { week: "2026-W01", key: "segment:dormant" });
    await tauriBackend.exportReview("2026-W01", "pdf");
    expect(invoke).toHaveBeenLastCalledWith("export_review", { week: "2026-W01", format: "pdf" });
    await tauriBackend.syncStatus();
    expect(invoke).toHaveBeenLastCalledWith("sync_status", undefined);
    await tauriBackend.syncNow();
    expect(invoke).toHaveBeenLastCalledWith("sync_now", undefined);
    await tauriBackend.caseConflicts("c1");
    expect(invoke).toHaveBeenLastCalledWith("case_conflicts", { caseId: "c1" });
    const form = { case_id: "c1", events: ["e1", "e2"], kept: "e2", note: "called back" };
    await tauriBackend.resolveConflict(form);
    expect(invoke).toHaveBeenLastCalledWith("resolve_conflict", { form });
  });

  it("rejects with the backend's ApiError", async () => {
    invoke.mockRejectedValueOnce({ code: "cache_locked", message: "in use" });
    await expect(tauriBackend.openCache()).rejects.toEqual({ code: "cache_locked", message: "in use" });
  });

  it("reports a missing backend outside Tauri", async () => {
    delete (window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__;
    await expect(tauriBackend.openCache()).rejects.toMatchObject({ code: "no_backend" });
    expect(invoke).not.toHaveBeenCalled();
  });
});

describe("toApiError", () => {
  it("keeps ApiErrors and wraps anything else", () => {
    expect(toApiError({ code: "bad_input", message: "y", extra: 1 })).toEqual({ code: "bad_input", message: "y" });
    expect(toApiError({ code: "made_up", message: "y" })).toEqual({ code: "unknown", message: "y" });
    expect(toApiError("plain")).toEqual({ code: "unknown", message: "plain" });
    expect(toApiError(new Error("bad"))).toEqual({ code: "unknown", message: "bad" });
    expect(toApiError(42)).toEqual({ code: "unknown", message: "An unexpected error occurred." });
  });
});

describe("error codes", () => {
  it("knows every code of the binding, session_locked included", () => {
    for (const code of ["forbidden", "conflict", "refused", "not_found", "session_locked", "offline", "unauthorized"]) {
      expect(toApiError({ code, message: "m" })).toEqual({ code, message: "m" });
    }
    expect(ERROR_CODES).toHaveLength(14);
  });

  it("reports session_locked from any call and still rejects", async () => {
    const onLocked = vi.fn();
    const base = { ...tauriBackend, worklist: vi.fn(() => Promise.reject({ code: "session_locked", message: "locked" })) };
    const watched = watchingForLock(base, onLocked);
    await expect(watched.worklist({ owner: null, segment: null, status: null, due_by: null, include_closed: false, offset: 0, limit: null })).rejects.toEqual({
      code: "session_locked",
      message: "locked",
    });
    expect(onLocked).toHaveBeenCalledTimes(1);
  });
});
