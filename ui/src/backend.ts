// The one gateway to the Rust backend: every Tauri command and event the UI uses goes through here.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AttemptForm } from "./bindings/AttemptForm";
import type { CallbackForm } from "./bindings/CallbackForm";
import type { CaseConflicts } from "./bindings/CaseConflicts";
import type { CaseDetail } from "./bindings/CaseDetail";
import type { CloseCaseForm } from "./bindings/CloseCaseForm";
import type { Done } from "./bindings/Done";
import type { DrillRow } from "./bindings/DrillRow";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { ExplanationDto } from "./bindings/ExplanationDto";
import type { EscalationStepForm } from "./bindings/EscalationStepForm";
import type { PatientPage } from "./bindings/PatientPage";
import type { PatientQuery } from "./bindings/PatientQuery";
import type { PersonCase } from "./bindings/PersonCase";
import type { PreviewDto } from "./bindings/PreviewDto";
import type { Progress } from "./bindings/Progress";
import type { PublishedDto } from "./bindings/PublishedDto";
import type { QueueItem } from "./bindings/QueueItem";
import type { ReferralUpdateForm } from "./bindings/ReferralUpdateForm";
import type { ResolveConflictForm } from "./bindings/ResolveConflictForm";
import type { ScriptDto } from "./bindings/ScriptDto";
import type { SearchHit } from "./bindings/SearchHit";
import type { SearchRequest } from "./bindings/SearchRequest";
import type { SegmentDefinitionDto } from "./bindings/SegmentDefinitionDto";
import type { SegmentDraft } from "./bindings/SegmentDraft";
import type { SessionInfo } from "./bindings/SessionInfo";
import type { SignInForm } from "./bindings/SignInForm";
import type { StartupReport } from "./bindings/StartupReport";
import type { SyncStatus } from "./bindings/SyncStatus";
import type { WeeklyReview } from "./bindings/WeeklyReview";
import type { WorklistQuery } from "./bindings/WorklistQuery";
import type { WorklistRow } from "./bindings/WorklistRow";

/** What the UI needs from the backend; components receive one so tests can pass a fake. */
export interface Backend {
  /** Unlocks (or on first run creates) the encrypted cache. Rejects with an ApiError. */
  openCache(): Promise<StartupReport>;
  /** One page of patients sorted by name. Rejects with an ApiError. */
  listPatients(query: PatientQuery): Promise<PatientPage>;
  /** Signs in with a local account (wrong user or password: `forbidden`). */
  signIn(form: SignInForm): Promise<SessionInfo>;
  /** Locks the session; every data call answers `session_locked` until the next sign-in. */
  lock(): Promise<SessionInfo>;
  /** Who is signed in and whether the session is locked (not counted as activity). */
  sessionInfo(): Promise<SessionInfo>;
  /** The user is still there (typing, reading): counts as activity for the idle lock. */
  keepAlive(): Promise<SessionInfo>;
  // Every call below needs a signed-in, unlocked session, else rejects with `session_locked`.
  worklist(query: WorklistQuery): Promise<WorklistRow[]>;
  caseDetail(caseId: string): Promise<CaseDetail>;
  caseScript(caseId: string): Promise<ScriptDto>;
  /** Why the case's person is in its segment (evidence codes only for clinical roles). */
  caseExplanation(caseId: string): Promise<ExplanationDto>;
  claimCase(caseId: string): Promise<Done>;
  recordAttempt(form: AttemptForm): Promise<Done>;
  closeCase(form: CloseCaseForm): Promise<Done>;
  callbacks(includeDone: boolean): Promise<QueueItem[]>;
  documentCallback(form: CallbackForm): Promise<Done>;
  escalations(): Promise<QueueItem[]>;
  escalationStep(form: EscalationStepForm): Promise<Done>;
  referrals(): Promise<QueueItem[]>;
  updateReferral(form: ReferralUpdateForm): Promise<Done>;
  search(request: SearchRequest): Promise<SearchHit[]>;
  openSearchResult(hit: SearchHit): Promise<null>;
  /** Segment definitions in force with their published versions (supervisors). */
  segmentDefinitions(): Promise<SegmentDefinitionDto[]>;
  /** Who a draft would add and remove; nothing is published. Errors name the draft's line and column. */
  previewSegment(draft: SegmentDraft): Promise<PreviewDto>;
  /** Publishes a draft as the segment's new version. */
  publishSegment(draft: SegmentDraft): Promise<PublishedDto>;
  /** A person's cases, open ones first (to open one from a search result about the person). */
  casesOfPerson(patientId: string): Promise<PersonCase[]>;
  /** The weekly review (supervisors) of an ISO week ("2026-W47"), or of the current week when null. */
  weeklyReview(week: string | null): Promise<WeeklyReview>;
  /** The cases behind a number of a week's review: `key` is the number's `drill`. */
  reviewDrill(week: string, key: string): Promise<DrillRow[]>;
  /** Writes the week's review as CSV tables or a PDF report; resolves with the path written. */
  exportReview(week: string, format: ReviewExportFormat): Promise<string>;
  /** Last sync, events waiting in the outbox, offline, open conflicts (a sync round never runs here). */
  syncStatus(): Promise<SyncStatus>;
  /** Runs a sync round now (nothing without a server) and resolves with the status after it. */
  syncNow(): Promise<SyncStatus>;
  /** A case's sync conflicts (open and resolved) and its events that changed nothing. */
  caseConflicts(caseId: string): Promise<CaseConflicts>;
  /** Records which of a conflict's two events stands, with a required note; resolves with the new event's id. */
  resolveConflict(form: ResolveConflictForm): Promise<string>;
  /** Subscribes to start-up progress events; returns a function that unsubscribes. */
  onProgress(callback: (progress: Progress) => void): () => void;
}

/** What `export_review` writes: CSV tables or a PDF report. */
export type ReviewExportFormat = "csv" | "pdf";

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
  async openCache() {
    await Promise.all(pendingSubscriptions);
    return call<StartupReport>("open_cache");
  },

  listPatients(query) {
    return call<PatientPage>("list_patients", { query });
  },
  signIn: (form) => call("sign_in", { form }),
  lock: () => call("lock"),
  sessionInfo: () => call("session_info"),
  keepAlive: () => call("keep_alive"),
  worklist: (query) => call("worklist", { query }),
  caseDetail: (caseId) => call("case_detail", { caseId }),
  caseScript: (caseId) => call("case_script", { caseId }),
  caseExplanation: (caseId) => call("case_explanation", { caseId }),
  claimCase: (caseId) => call("claim_case", { caseId }),
  recordAttempt: (form) => call("record_attempt", { form }),
  closeCase: (form) => call("close_case", { form }),
  callbacks: (includeDone) => call("callbacks", { includeDone }),
  documentCallback: (form) => call("document_callback", { form }),
  escalations: () => call("escalations"),
  escalationStep: (form) => call("escalation_step", { form }),
  referrals: () => call("referrals"),
  updateReferral: (form) => call("update_referral", { form }),
  search: (request) => call("search", { request }),
  openSearchResult: (hit) => call("open_search_result", { hit }),
  casesOfPerson: (patientId) => call("cases_of_person", { patientId }),
  segmentDefinitions: () => call("segment_definitions"),
  previewSegment: (draft) => call("preview_segment", { draft }),
  publishSegment: (draft) => call("publish_segment", { draft }),
  weeklyReview: (week) => call("weekly_review", { week }),
  reviewDrill: (week, key) => call("review_drill", { week, key }),
  exportReview: (week, format) => call("export_review", { week, format }),
  syncStatus: () => call("sync_status"),
  syncNow: () => call("sync_now"),
  caseConflicts: (caseId) => call("case_conflicts", { caseId }),
  resolveConflict: (form) => call("resolve_conflict", { form }),

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
