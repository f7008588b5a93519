// The one gateway to the Rust backend: every Tauri command and event the UI uses goes through here.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { commandClient, type Commands } from "./bindings/commands";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { Progress } from "./bindings/Progress";
import type { StartupReport } from "./bindings/StartupReport";

export type { ReviewExportFormat } from "./bindings/ReviewExportFormat";

/**
 * What the UI needs from the backend; components receive one so tests can pass a fake.
 * The commands (and their docs) are generated from careloop-api's declarations; the two
 * members below are the shell's own: start-up with progress events.
 */
export interface Backend extends Commands {
  /** Unlocks (or on first run creates) the encrypted cache. Rejects with an ApiError. */
  openCache(): Promise<StartupReport>;
  /** Subscribes to start-up progress events; returns a function that unsubscribes. */
  onProgress(callback: (progress: Progress) => void): () => void;
}

/**
 * An error as the UI shows it: the backend's ApiError (`{code, message}`, generated from Rust),
 * or one of the two failures that happen before the backend answers.
 */
export type UiError = { code: ErrorCode | "no_backend" | "unknown"; message: string };

// Every ErrorCode of the generated binding, exactly: a code added in Rust fails to compile here
// until it is listed (a Record over the union needs every key, and no other).
const ERROR_CODE_SET: Record<ErrorCode, true> = {
  cache_locked: true,
  schema_too_new: true,
  key_file: true,
  keyring: true,
  bad_input: true,
  io: true,
  not_found: true,
  forbidden: true,
  conflict: true,
  refused: true,
  session_locked: true,
  offline: true,
  unauthorized: true,
  internal: true,
};
export const ERROR_CODES: readonly ErrorCode[] = Object.keys(ERROR_CODE_SET) as ErrorCode[];

export const PROGRESS_EVENT = "careloop://progress";

/** Turns whatever a rejected call gave us into an ApiError, so the UI never shows a raw stack. */
export function toApiError(reason: unknown): UiError {
  if (typeof reason === "object" && reason !== null) {
    const { code, message } = reason as Record<string, unknown>;
    if (typeof code === "string" && typeof message === "string") {
      return { code: (ERROR_CODES as readonly string[]).includes(code) || code === "no_backend" ? (code as UiError["code"]) : "unknown", message };
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
  ...commandClient(call),

  async openCache() {
    await Promise.all(pendingSubscriptions);
    return call<StartupReport>("open_cache");
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

/**
 * The same backend, except that a `session_locked` rejection from any call also tells the app
 * (which then shows the lock screen and hides the record). The rejection still reaches the caller.
 */
export function watchingForLock(backend: Backend, onLocked: () => void): Backend {
  const watched = { ...backend } as Record<string, unknown>;
  for (const [name, value] of Object.entries(backend)) {
    if (typeof value !== "function" || name === "onProgress") continue;
    watched[name] = (...args: unknown[]) =>
      (value as (...a: unknown[]) => Promise<unknown>).apply(backend, args).catch((reason: unknown) => {
        if (toApiError(reason).code === "session_locked") onLocked();
        throw reason;
      });
  }
  return watched as unknown as Backend;
}
