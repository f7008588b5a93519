// An in-memory Backend for tests: patients, a worklist, one case with its script, callbacks,
// search and a weekly review, with spies on every call. Sign-in accepts the demo accounts with "demo".
import { vi, type Mock } from "vitest";
import type { Backend } from "../backend";
import type { AlertDto } from "../bindings/AlertDto";
import type { ListsChanged } from "../bindings/ListsChanged";
import type { ListsStatus } from "../bindings/ListsStatus";
import type { CaseConflicts } from "../bindings/CaseConflicts";
import type { CallSheet } from "../bindings/CallSheet";
import type { CarePlanDto } from "../bindings/CarePlanDto";
import type { PlanChoices } from "../bindings/PlanChoices";
import type { PlanWorkItem } from "../bindings/PlanWorkItem";
import type { CaseDetail } from "../bindings/CaseDetail";
import type { Done } from "../bindings/Done";
import type { ExplanationDto } from "../bindings/ExplanationDto";
import type { PatientPage } from "../bindings/PatientPage";
import type { PatientQuery } from "../bindings/PatientQuery";
import type { PatientRow } from "../bindings/PatientRow";
import type { Progress } from "../bindings/Progress";
import type { QueueItem } from "../bindings/QueueItem";
import type { RoleName } from "../bindings/RoleName";
import type { ScriptDto } from "../bindings/ScriptDto";
import type { SegmentDefinitionDto } from "../bindings/SegmentDefinitionDto";
import type { SessionInfo } from "../bindings/SessionInfo";
import type { StartupReport } from "../bindings/StartupReport";
import type { SyncStatus } from "../bindings/SyncStatus";
import type { TeamView } from "../bindings/TeamView";
import type { WorklistRow } from "../bindings/WorklistRow";
import { DRILL_ROWS, makeReview } from "./reviewFixture";

export function makePatients(count: number): PatientRow[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `p${String(i).padStart(4, "0")}`,
    name: `Patient ${String(i).padStart(4, "0")}`,
    birth_date: "1970-01-01",
    gender: i % 2 === 0 ? "female" : "male",
    preferred_language: i % 3 === 0 ? null : "es",
  }));
}

export function pageOf(patients: PatientRow[], query: PatientQuery): PatientPage {
  const needle = query.text?.toLowerCase() ?? "";
  const matching = patients.filter((p) => p.name.toLowerCase().includes(needle));
  return { total: matching.length, offset: query.offset, rows: matching.slice(query.offset, query.offset + query.limit) };
}

/** What "Refresh lists now" answers in the fake: everyone evaluated, something changed. */
export const LISTS_REFRESHED: ListsChanged = {
  as_of: "2026-07-01",
  full: true,
  evaluated: 1000,
  entered: 2,
  exited: 0,
  opened: 1,
  closed_by_new_data: 0,
  closed_left_segment: 0,
  kept_open: 0,
  alerts: 0,
  summary: "2 new in Post-discharge · 1 case opened",
};

export const LISTS_STATUS: ListsStatus = {
  as_of: "2026-07-01",
  last_change: "3 new in Post-discharge · 1 closed by new data · 1 new alert",
  last_change_on: "2026-07-01",
  open_alerts: 1,
  to_review: 2,
};

export const ALERT: AlertDto = {
  alert_id: "al1",
  kind: "ed_visit",
  title: "ED visit",
  patient_id: "p0001",
  name: "Patient 0001",
  occurred: "2026-07-01",
  due: "2026-07-02T11:00:00Z",
  status: "open",
  assignee: "lead",
  level: "lead",
  overdue: false,
  evidence: "emergency department visit on 2026-07-01 (class EMER)",
  acknowledged_by: null,
  note: null,
};

export const report: StartupReport = { created: false, demo_loaded: false, patients: 0, events: 0 };

const SEGMENTS = ["post_discharge_30d", "diabetes_hba1c_gap", "dormant"];
const SEGMENT_NAMES = ["Post-discharge follow-up", "Diabetes HbA1c gap", "Dormant patients"];
const STATUSES = ["assigned", "in_progress", "awaiting_callback"];

/** `count` worklist rows; every seventh is overdue. Row i is due i hours after 2026-06-30T09:00Z. */
export function makeWorklist(count: number): WorklistRow[] {
  const start = Date.parse("2026-06-30T09:00:00Z");
  return Array.from({ length: count }, (_, i) => ({
    case_id: `c${String(i).padStart(5, "0")}`,
    patient_id: `p${String(i).padStart(5, "0")}`,
    name: `Person ${String(i).padStart(5, "0")}`,
    segment_id: SEGMENTS[i % 3] as string,
    segment_name: SEGMENT_NAMES[i % 3] as string,
    status: STATUSES[i % 3] as string,
    owner: "ana",
    priority: (i * 7) % 50,
    due: new Date(start + i * 3600_000).toISOString().replace(".000Z", "Z"),
    overdue: i % 7 === 0,
    summary: `Reason ${i}: discharged recently`,
    preferred_language: null,
    preferred_channel: null,
    last_contact: null,
    attempts: 0,
    suggestion: null,
  }));
}

export const SCRIPT: ScriptDto = {
  id: "post_discharge",
  version: 1,
  language: "es",
  title: { text: "Seguimiento", language: "es" },
  introduction: { text: "Hola Ana, le llamamos de su equipo.", language: "es" },
  questions: [
    {
      id: "feeling",
      kind: "single_choice",
      required: true,
      text: { text: "¿Cómo se siente?", language: "es" },
      options: [
        { value: "better", text: { text: "Mejor", language: "es" } },
        { value: "worse", text: { text: "Peor", language: "es" } },
      ],
      min: null,
      max: null,
      min_label: null,
      max_label: null,
      show_if: null,
    },
    {
      id: "worse_how",
      kind: "free_text",
      required: true,
      text: { text: "¿Qué ha empeorado?", language: "es" },
      options: [],
      min: null,
      max: null,
      min_label: null,
      max_label: null,
      show_if: { question: "feeling", any_of: ["worse"], at_least: null, at_most: null },
    },
    {
      id: "pain",
      kind: "scale",
      required: false,
      text: { text: "Dolor", language: "es" },
      options: [],
      min: 0,
      max: 3,
      min_label: null,
      max_label: null,
      show_if: null,
    },
  ],
  messages: [
    { id: "appointment_reminder", sensitive: false, text: { text: "Recordatorio", language: "es" } },
    { id: "medicines_check", sensitive: true, text: { text: "Sus medicamentos", language: "es" } },
  ],
};

export const EXPLANATION: ExplanationDto = {
  segment_id: "post_discharge_30d",
  member: true,
  rule: "days_since_discharge <= 30",
  conditions: [
    {
      text: "days_since_discharge <= 30",
      held: true,
      signals: [{ name: "days_since_discharge", value: 3 }],
      evidence: [{ resource_type: "Encounter", id: "e1", code: "", date: "2026-06-27" }],
    },
  ],
  why_not: null,
  priority: { total: 12, points: [{ points: 10, reason: "Medicines changed at discharge" }, { points: 2, reason: "Lives alone" }] },
  held_back: null,
};

export const DEFINITION: SegmentDefinitionDto = {
  id: "dormant",
  name: "Dormant",
  version: 3,
  published: false,
  text: '{\n  "id": "dormant",\n  "version": 3,\n  "rule": "days_since_contact > 365"\n}',
  history: [],
  problems: [],
};

export function makeCase(caseId = "c00000", owner: string | null = "ana"): CaseDetail {
  return {
    case_id: caseId,
    patient_id: "p00000",
    name: "Zoë Lefèvre",
    birth_date: "1950-02-03",
    preferred_language: "es",
    segment_id: "post_discharge_30d",
    segment_name: "Post-discharge follow-up",
    status: owner ? "assigned" : "open",
    owner,
    priority: 12,
    due: "2026-06-29T17:00:00Z",
    overdue: true,
    summary: "Post-discharge: discharged 3 days ago",
    attempts: 0,
    script_id: "post_discharge",
    script_language: "es",
    contacts_in_last_7_days: 0,
    contact: { phone: "555-0101", address: "1 Main St" },
    clinical: null,
    timeline: [{ at: "2026-06-28T09:00:00Z", actor: "sue", role: "supervisor", kind: "case.opened", detail: "opened in post_discharge_30d" }],
    callbacks: [],
    escalations: [],
    referrals: [],
  };
}

export const CALLBACK: QueueItem = {
  id: "cb1",
  case_id: "c00000",
  patient_id: "p00000",
  name: "Zoë Lefèvre",
  kind: "callback",
  status: "waiting",
  owner: "clinician",
  deadline: "2026-06-30T17:00:00Z",
  overdue: false,
  detail: "new breathlessness",
};

/** A sync status: by default a workstation with no server (local only). */
export function makeSyncStatus(patch: Partial<SyncStatus> = {}): SyncStatus {
  return {
    configured: false,
    server: null,
    last_sync_at: null,
    pending: 0,
    offline: false,
    last_error: null,
    open_conflicts: 0,
    received: 0,
    syncing: false,
    ...patch,
  };
}

/**
 * A case's sync state: one open conflict (two attempts recorded on two workstations), one
 * resolved, and a claim that lost because another workstation claimed first.
 */
export function makeConflicts(caseId = "c00000"): CaseConflicts {
  return {
    conflicts: [
      {
        case_id: caseId,
        patient_id: "p00000",
        events: ["ev-a", "ev-b"],
        kinds: ["attempt.recorded", "case.closed"],
        actors: ["ana", "sue"],
        resolved_by: null,
        kept: null,
        note: null,
      },
      {
        case_id: caseId,
        patient_id: "p00000",
        events: ["ev-c", "ev-d"],
        kinds: ["attempt.recorded", "attempt.recorded"],
        actors: ["ana", "ben"],
        resolved_by: "sue",
        kept: "ev-d",
        note: "Ben spoke to her last",
      },
    ],
    superseded: [{ event_id: "ev-e", case_id: caseId, actor: "ben", kind: "case.claimed", why: "claimed by ana" }],
  };
}

const DONE: Done = { event_ids: ["e1"], created: null, case_status: "in_progress" };

const ROLES: Record<string, RoleName> = { ana: "coordinator", cleo: "clinician", sue: "supervisor" };

type Method = Exclude<keyof Backend, "onProgress">;
type Mocked<T> = { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? Mock<T[K]> : T[K] };

/** A spy with the method's full signature. */
function mock<K extends Method>(impl: Backend[K]): Mock<Backend[K]> {
  return vi.fn(impl);
}

/** The team view of the fake backend: two owners (one full), two lists in the pool. */
export const TEAM: TeamView = {
  caseload_limit: 40,
  owners: [
    { owner: "ana", open: 40, overdue: 3, due_today: 5, at_capacity: true },
    { owner: "ben", open: 12, overdue: 0, due_today: 1, at_capacity: false },
  ],
  unassigned: [
    { segment_id: "post_discharge_30d", segment_name: "Post-discharge follow-up", open: 7, overdue: 2, top_priority: 12 },
    { segment_id: "breast_cancer_screening_gap", segment_name: "Breast cancer screening gap", open: 30, overdue: 0, top_priority: 4 },
  ],
  waiting: { alerts: 2, alerts_overdue: 1, callbacks: 1, callbacks_overdue: 0, escalations: 0, escalations_overdue: 0 },
};

export const CALL_SHEET: CallSheet = {
  user: "ana",
  day: "2026-07-01",
  more: 0,
  calls: [
    {
      case_id: "c1",
      name: "Zoë Lefèvre",
      birth_date: "1956-03-12",
      phone: "555-0142",
      preferred_language: "es",
      segment_name: "Post-discharge follow-up",
      due: "2026-06-30T17:00:00Z",
      overdue: true,
      attempts: 1,
      suggestion: { channel: "phone", when: "morning", reason: "answered in the morning before" },
      summary: "Discharged on 28 Jun",
      opening: "Hola, le llamo de la clínica",
      questions: ["¿Cómo se encuentra?", "¿Tiene sus medicamentos?"],
      script_language: "es",
    },
  ],
};

export const PLAN_CHOICES: PlanChoices = {
  domains: [
    { domain: "health", title: "Health" },
    { domain: "housing", title: "Housing" },
  ],
  owners: [
    { value: "ana", label: "ana (coordinator)" },
    { value: "carl", label: "carl (clinician)" },
    { value: "partner:harbor", label: "Harbor Home Care (partner)" },
  ],
};

export function makePlan(overrides: Partial<CarePlanDto> = {}): CarePlanDto {
  return {
    plan_id: "0190a000-0000-7000-8000-0000000000aa",
    case_id: "c1",
    patient_id: "p0001",
    name: "Patient 0001",
    lead: "ana",
    started_on: "2026-06-01",
    domains: [{ domain: "housing", title: "Housing", owner: "partner:harbor", goal: "Stable housing by autumn" }],
    actions: [
      {
        action_id: "0190a000-0000-7000-8000-0000000000b1",
        domain: "housing",
        text: "Apply for the housing benefit",
        owner: "ana",
        due: "2026-06-20",
        status: "open",
        overdue: true,
        note: "",
        from_review: null,
      },
    ],
    monitoring: null,
    reviews: [
      {
        review_id: "0190a000-0000-7000-8000-0000000000c1",
        on: "2026-07-10",
        participants: ["ana", "carl"],
        scheduled_by: "ana",
        held: false,
        decisions: null,
      },
    ],
    timeline: [{ at: "2026-06-01T09:00:00Z", actor: "ana", role: "coordinator", kind: "care_plan.started", detail: "care plan started, led by ana" }],
    ...overrides,
  };
}

export const PLAN_WORK: PlanWorkItem[] = [
  {
    kind: "overdue_action",
    plan_id: "0190a000-0000-7000-8000-0000000000aa",
    patient_id: "p0001",
    name: "Patient 0001",
    owner: "ben",
    due: "2026-06-20",
    detail: "Housing: Apply for the housing benefit",
  },
];

export type FakeBackend = Mocked<Backend> & {
  /** Sends a progress event to the current subscribers. */
  emitProgress(progress: Progress): void;
  /** What sessionInfo answers now. */
  session: SessionInfo;
};

export function fakeBackend(patients: PatientRow[] = makePatients(250), worklistRows: WorklistRow[] = makeWorklist(40)): FakeBackend {
  const listeners = new Set<(progress: Progress) => void>();
  const fake: FakeBackend = {
    session: { user: null, role: null, locked: true, idle_lock_seconds: 900 },
    openCache: mock<"openCache">(() => Promise.resolve({ ...report, patients: patients.length })),
    listPatients: mock<"listPatients">((query: PatientQuery) => Promise.resolve(pageOf(patients, query))),
    onProgress: vi.fn((callback: (progress: Progress) => void) => {
      listeners.add(callback);
      return () => {
        listeners.delete(callback);
      };
    }),
    emitProgress(progress) {
      listeners.forEach((listener) => listener(progress));
    },
    signIn: mock<"signIn">(({ user, password }) => {
      const role = ROLES[user];
      if (!role || password !== "demo") return Promise.reject({ code: "forbidden", message: "unknown user or wrong password" });
      fake.session = { user, role, locked: false, idle_lock_seconds: fake.session.idle_lock_seconds };
      return Promise.resolve(fake.session);
    }),
    lock: mock<"lock">(() => {
      fake.session = { ...fake.session, locked: true };
      return Promise.resolve(fake.session);
    }),
    sessionInfo: mock<"sessionInfo">(() => Promise.resolve(fake.session)),
    keepAlive: mock<"keepAlive">(() => Promise.resolve(fake.session)),
    worklist: mock<"worklist">(() => Promise.resolve(worklistRows)),
    teamView: mock<"teamView">(() => Promise.resolve(TEAM)),
    assignees: mock<"assignees">(() => Promise.resolve(["ana", "ben"])),
    assignCases: mock<"assignCases">((caseIds: string[]) => Promise.resolve({ assigned: caseIds.length, refused: [] })),
    caseDetail: mock<"caseDetail">((caseId: string) => Promise.resolve(makeCase(caseId))),
    caseScript: mock<"caseScript">(() => Promise.resolve(SCRIPT)),
    caseExplanation: mock<"caseExplanation">(() => Promise.resolve(EXPLANATION)),
    claimCase: mock<"claimCase">(() => Promise.resolve(DONE)),
    recordAttempt: mock<"recordAttempt">(() => Promise.resolve({ ...DONE, case_status: "awaiting_callback", created: "cb1" })),
    closeCase: mock<"closeCase">(() => Promise.resolve(DONE)),
    callbacks: mock<"callbacks">(() => Promise.resolve([CALLBACK])),
    documentCallback: mock<"documentCallback">(() => Promise.resolve(DONE)),
    escalations: mock<"escalations">(() => Promise.resolve([])),
    escalationStep: mock<"escalationStep">(() => Promise.resolve(DONE)),
    referrals: mock<"referrals">(() => Promise.resolve([])),
    updateReferral: mock<"updateReferral">(() => Promise.resolve(DONE)),
    partnerServices: mock<"partnerServices">(() =>
      Promise.resolve([
        {
          service_id: "harbor-home",
          name: "Home care",
          partner: "Harbor Home Care",
          service_type: "home_care",
          area: "North district",
          languages: ["en", "es"],
          eligibility: "adults in the district",
          respond_within_working_days: 2,
        },
      ]),
    ),
    sendPartnerReferral: mock<"sendPartnerReferral">(() => Promise.resolve({ ...DONE, case_status: "referred", created: "r1" })),
    search: mock<"search">(() => Promise.resolve([])),
    openSearchResult: mock<"openSearchResult">(() => Promise.resolve(null)),
    casesOfPerson: mock<"casesOfPerson">(() => Promise.resolve([])),
    segmentDefinitions: mock<"segmentDefinitions">(() => Promise.resolve([DEFINITION])),
    previewSegment: mock<"previewSegment">(() =>
      Promise.resolve({
        segment_id: "dormant",
        as_of: "2026-06-30",
        draft_version: 4,
        published_version: 3,
        draft_count: 12,
        published_count: 10,
        added: ["p1", "p2", "p3"],
        removed: ["p9"],
      }),
    ),
    publishSegment: mock<"publishSegment">(() =>
      Promise.resolve({ id: "dormant", version: 4, published_by: "sue", published_at: "2026-06-30T10:00:00Z" }),
    ),
    weeklyReview: mock<"weeklyReview">((week) => Promise.resolve(makeReview(week === null ? {} : { week }))),
    reviewDrill: mock<"reviewDrill">(() => Promise.resolve(DRILL_ROWS)),
    exportReview: mock<"exportReview">((week, format) => Promise.resolve(`/home/sue/Downloads/careloop-review-${week}.${format}`)),
    syncStatus: mock<"syncStatus">(() => Promise.resolve(makeSyncStatus())),
    syncNow: mock<"syncNow">(() => Promise.resolve(makeSyncStatus())),
    caseConflicts: mock<"caseConflicts">(() => Promise.resolve({ conflicts: [], superseded: [] })),
    resolveConflict: mock<"resolveConflict">(() => Promise.resolve("ev-resolution")),
    listsStatus: mock<"listsStatus">(() => Promise.resolve({ ...LISTS_STATUS })),
    refreshLists: mock<"refreshLists">(() => Promise.resolve({ ...LISTS_REFRESHED })),
    alerts: mock<"alerts">(() => Promise.resolve([ALERT])),
    callSheet: mock<"callSheet">(() => Promise.resolve(CALL_SHEET)),
    carePlanOfPerson: mock<"carePlanOfPerson">(() => Promise.resolve(makePlan())),
    carePlanChoices: mock<"carePlanChoices">(() => Promise.resolve(PLAN_CHOICES)),
    startCarePlan: mock<"startCarePlan">((_caseId, lead) => Promise.resolve(makePlan({ lead: lead ?? "ana", domains: [], actions: [], reviews: [] }))),
    setCarePlanDomain: mock<"setCarePlanDomain">((form) =>
      Promise.resolve(makePlan({ domains: [{ domain: form.domain, title: form.domain, owner: form.owner, goal: form.goal }] })),
    ),
    addCarePlanAction: mock<"addCarePlanAction">(() => Promise.resolve(makePlan())),
    closeCarePlanAction: mock<"closeCarePlanAction">(() => Promise.resolve(makePlan())),
    setCarePlanMonitoring: mock<"setCarePlanMonitoring">((form) =>
      Promise.resolve(makePlan({ monitoring: { every_days: form.every_days, from: "2026-07-01", until: form.until, owner: form.owner, next_due: "2026-07-01" } })),
    ),
    scheduleCaseReview: mock<"scheduleCaseReview">(() => Promise.resolve(makePlan())),
    recordCaseReview: mock<"recordCaseReview">(() => Promise.resolve(makePlan())),
    carePlanWork: mock<"carePlanWork">(() => Promise.resolve(PLAN_WORK)),
    exportCarePlan: mock<"exportCarePlan">((planId) => Promise.resolve(`/home/ana/Downloads/careloop-care-plan-${planId}.json`)),
    acknowledgeAlert: mock<"acknowledgeAlert">(() =>
      Promise.resolve({ ...ALERT, status: "acknowledged", acknowledged_by: "ana", note: null }),
    ),
  };
  return fake;
}
