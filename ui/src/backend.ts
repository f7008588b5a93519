// The one gateway to the Rust backend: every Tauri command and event the UI uses goes through here.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { PatientPage } from "./bindings/PatientPage";
import type { PatientQuery } from "./bindings/PatientQuery";
import type { Progress } from "./bindings/Progress";
import type { StartupReport } from "./bindings/StartupReport";

/** What the UI needs from the backend; components receive one so tests can pass a fake. */
export interface Backend {
  /** Unlocks (or on first run creates) the encrypted cache. Rejects with an ApiError. */
  openCache(): Promise<StartupReport>;
  /** One page of patients sorted by name. Rejects with an ApiError. */
  listPatients(query: PatientQuery): Promise<PatientPage>;
  /** Subscribes to start-up progress events; returns a function that unsubscribes. */
  onProgress(callback: (progress: Progress) => void): () => void;
}

/**
 * An error as the UI shows it: the backend's ApiError (`{code, message}`, generated from Rust),
 * or one of the two failures that happen before the backend answers.
 */
export type UiError = { code: ErrorCode | "no_backend" | "unknown"; message: string };

const ERROR_CODES: readonly string[] = [
  "cache_locked", "schema_too_new", "key_file", "keyring", "bad_input", "io", "internal",
] satisfies readonly ErrorCode[];

export const PROGRESS_EVENT = "careloop://progress";

/** Turns whatever a rejected call gave us into an ApiError, so the UI never shows a raw stack. */
export function toApiError(reason: unknown): UiError {
  if (typeof reason === "object" && reason !== null) {
    const { code, message } = reason as Record<string, unknown>;
    if (typeof code === "string" && typeof message === "string") {
      return { code: ERROR_CODES.includes(code) || code === "no_backend" ? (code as UiError["code"]) : "unknown", message };
    }
  }
  if (typeof reason === "string") return { code: "unknown", message: reason };
  if (reason instanceof Error) return { code: "unknown", message: reason.message };
  return { code: "unknown", message: "An unexpected error occurred." };
}

// Event subscriptions are registered asynchronously; openCache waits for them so that
// progress emitted right at the start of open_cache is not lost.
const pendingSubscriptions = new Set<Promise<unknown>>();

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  if (!("__TAURI_INTERNALS__" in window)) {
    throw { code: "no_backend", message: "The Careloop backend is not available. Start the desktop app." } satisfies UiError;
  }
  try {
    return await invoke<T>(command, args);
  } catch (reason) {
    throw toApiError(reason);
  }
}

export const tauriBackend: Backend = {
  async openCache() {
    await Promise.all(pendingSubscriptions);
    return call<StartupReport>("open_cache");
  },

  listPatients(query) {
    return call<PatientPage>("list_patients", { query });
  },

  onProgress(callback) {
    let active = true;
    let unlisten: UnlistenFn | undefined;
    const subscribed = listen<Progress>(PROGRESS_EVENT, (event) => {
      if (active) callback(event.payload);
    })
      .then((stop) => {
        if (active) unlisten = stop;
        else stop();
      })
      .catch(() => {
        // Outside Tauri there are no events; openCache reports the real problem.
      })
      .finally(() => pendingSubscriptions.delete(subscribed));
    pendingSubscriptions.add(subscribed);
    return () => {
      active = false;
      unlisten?.();
    };
  },
};
