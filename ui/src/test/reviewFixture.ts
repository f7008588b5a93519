// A small weekly review for tests: two segments, pending work, equity rows with flags and a
// missing ratio, contacts above the limit with an override, closure, response, retention and
// timeliness with some rates missing (no denominator).
import type { DrillRow } from "../bindings/DrillRow";
import type { EquityRow } from "../bindings/EquityRow";
import type { PendingItem } from "../bindings/PendingItem";
import type { WeeklyReview } from "../bindings/WeeklyReview";

const pending = (id: string, name: string, patch: Partial<PendingItem> = {}): PendingItem => ({
  id,
  case_id: `case-${id}`,
  patient_id: `p-${id}`,
  name,
  segment_id: "post_discharge_30d",
  owner: "ana",
  since: "2025-12-30T09:00:00Z",
  due: "2026-01-02T17:00:00Z",
  overdue: true,
  detail: "",
  ...patch,
});

const equity = (patch: Partial<EquityRow>): EquityRow => ({
  segment_id: "post_discharge_30d",
  population: "cohort",
  dimension: "sex",
  group: "female",
  count: 70,
  population_size: 120,
  share: 0.5833,
  panel_count: 5000,
  panel_share: 0.5,
  expected: 60,
  ratio: 1.1667,
  flag: "",
  drill: "equity:post_discharge_30d:cohort:sex:female",
  ...patch,
});

export function makeReview(patch: Partial<WeeklyReview> = {}): WeeklyReview {
  return {
    week: "2026-W01",
    starts: "2025-12-29",
    ends: "2026-01-04",
    as_of: "2026-01-05T00:00:00Z",
    run: { id: 12, as_of: "2026-01-02" },
    previous_run: { id: 11, as_of: "2025-12-26" },
    segments: [
      {
        segment_id: "post_discharge_30d",
        name: "Post-discharge (30 days)",
        size: 120,
        entered: [
          { patient_id: "p1", name: "Zoë Lefèvre" },
          { patient_id: "p2", name: "Ana Ruiz" },
        ],
        exited: [{ patient_id: "p3", name: "Ben Okafor" }],
        worklist: 40,
        overflow: 70,
        held_back: 10,
        capacity: 50,
        contacted: 35,
        capacity_use: 0.7,
        open_cases: 38,
        drill: "segment:post_discharge_30d",
      },
      {
        segment_id: "diabetes_hba1c_gap",
        name: "Diabetes: HbA1c overdue",
        size: 300,
        entered: [],
        exited: [],
        worklist: 0,
        overflow: 0,
        held_back: 0,
        capacity: 0,
        contacted: 0,
        capacity_use: null,
        open_cases: 12,
        drill: "segment:diabetes_hba1c_gap",
      },
    ],
    trend: [
      {
        run_id: 10,
        as_of: "2025-12-19",
        sizes: [
          { segment_id: "post_discharge_30d", count: 100 },
          { segment_id: "diabetes_hba1c_gap", count: 290 },
        ],
      },
      {
        run_id: 11,
        as_of: "2025-12-26",
        sizes: [
          { segment_id: "post_discharge_30d", count: 110 },
          { segment_id: "diabetes_hba1c_gap", count: 295 },
        ],
      },
      {
        run_id: 12,
        as_of: "2026-01-02",
        sizes: [
          { segment_id: "post_discharge_30d", count: 120 },
          { segment_id: "diabetes_hba1c_gap", count: 300 },
        ],
      },
    ],
    pending: {
      overdue_cases: [pending("c1", "Zoë Lefèvre"), pending("c2", "Ana Ruiz", { owner: null })],
      unacknowledged_escalations: [pending("x1", "Ben Okafor", { detail: "social crisis" })],
      overdue_referrals: [],
      waiting_callbacks: [
        pending("cb1", "Carla Mendes", { due: null, overdue: false, detail: "new breathlessness" }),
        pending("cb2", "Dev Patel", { overdue: false }),
        pending("cb3", "Eve Adams", { overdue: false }),
      ],
      open_conflicts: [],
      superseded_events: 0,
    },
    caseload: [
      { user: "ana", open_cases: 20, capacity: 25, use_share: 0.8, overdue: 3, attempts: 40, reached: 22, drill: "caseload:ana" },
      { user: "ben", open_cases: 0, capacity: 0, use_share: null, overdue: 0, attempts: 0, reached: 0, drill: "caseload:ben" },
    ],
    equity: {
      threshold: 1.25,
      min_expected: 5,
      panel_size: 10000,
      rows: [
        equity({ group: "female", count: 84, ratio: 1.4, flag: "over" }),
        equity({ group: "male", count: 36, ratio: 0.6, flag: "under", drill: "equity:post_discharge_30d:cohort:sex:male" }),
        equity({ group: "unknown", count: 0, share: 0, panel_count: 0, panel_share: 0, expected: 0, ratio: null, drill: "equity:post_discharge_30d:cohort:sex:unknown" }),
        equity({ dimension: "language", group: "es", count: 12, ratio: 1, drill: "equity:post_discharge_30d:cohort:language:es" }),
        equity({ segment_id: "diabetes_hba1c_gap", group: "female", ratio: 1.02, drill: "equity:diabetes_hba1c_gap:cohort:sex:female" }),
        equity({ segment_id: "all", population: "contacted", group: "female", ratio: 0.9, drill: "equity:all:contacted:sex:female" }),
      ],
    },
    contacts: {
      limit: 3,
      per_week: [
        { contacts: "1", people: 30, drill: "contacts:week:1" },
        { contacts: "2", people: 12, drill: "contacts:week:2" },
        { contacts: "3", people: 4, drill: "contacts:week:3" },
        { contacts: "4", people: 1, drill: "contacts:week:4" },
        { contacts: "5+", people: 0, drill: "contacts:week:5+" },
      ],
      per_month: [
        { contacts: "1", people: 50, drill: "contacts:month:1" },
        { contacts: "2", people: 25, drill: "contacts:month:2" },
        { contacts: "3", people: 9, drill: "contacts:month:3" },
        { contacts: "4", people: 3, drill: "contacts:month:4" },
        { contacts: "5+", people: 2, drill: "contacts:month:5+" },
      ],
      above_limit: [{ patient_id: "p7", name: "Gus Tran", contacts_in_week: 4, most_in_7_days: 4, drill: "above_limit:p7" }],
      overrides: [
        {
          at: "2026-01-02T10:00:00Z",
          by: "sue",
          role: "supervisor",
          case_id: "case-o1",
          patient_id: "p7",
          name: "Gus Tran",
          reason: "Asked to be called again today",
        },
      ],
      overrides_by_user: [{ user: "sue", count: 1 }],
    },
    closure: [
      {
        segment_id: "diabetes_hba1c_gap",
        name: "Diabetes: HbA1c overdue",
        outreached: 50,
        horizons: [
          { days: 30, eligible: 40, closed: 12, rate: 0.3, drill: "closure:diabetes_hba1c_gap:30" },
          { days: 60, eligible: 20, closed: 9, rate: 0.45, drill: "closure:diabetes_hba1c_gap:60" },
          { days: 90, eligible: 0, closed: 0, rate: null, drill: "closure:diabetes_hba1c_gap:90" },
        ],
        closed_so_far: 15,
        drill: "closure:diabetes_hba1c_gap",
        closed_by_new_data: 4,
        closed_by_new_data_drill: "closed-by-data:diabetes_hba1c_gap",
      },
    ],
    closure_curve: [
      { segment_id: "diabetes_hba1c_gap", day: 0, closed_share: 0 },
      { segment_id: "diabetes_hba1c_gap", day: 30, closed_share: 0.3 },
      { segment_id: "diabetes_hba1c_gap", day: 60, closed_share: 0.45 },
    ],
    response_by_channel: [
      { key: "phone", attempts_week: 40, reached_week: 22, rate_week: 0.55, attempts_to_date: 400, reached_to_date: 210, rate_to_date: 0.525, drill: "response:channel:phone" },
      { key: "portal", attempts_week: 0, reached_week: 0, rate_week: null, attempts_to_date: 10, reached_to_date: 3, rate_to_date: 0.3, drill: "response:channel:portal" },
    ],
    response_by_segment: [
      { key: "post_discharge_30d", attempts_week: 40, reached_week: 22, rate_week: 0.55, attempts_to_date: 300, reached_to_date: 150, rate_to_date: 0.5, drill: "response:segment:post_discharge_30d" },
    ],
    retention: [
      {
        segment_id: "diabetes_hba1c_gap",
        name: "Diabetes: HbA1c overdue",
        contacted: 50,
        window_complete: 0,
        retained: 0,
        rate: null,
        retained_so_far: 8,
        drill: "retention:diabetes_hba1c_gap",
      },
    ],
    timeliness: [
      {
        measure: "first_attempt",
        label: "Case opened → first attempt",
        started: 30,
        answered: 25,
        median_hours: 20.5,
        p90_hours: 70.25,
        within_deadline: 22,
        rate_within: 0.7333,
        overdue: 3,
        drill: "timeliness:first_attempt",
      },
      {
        measure: "callback",
        label: "Callback requested → documented",
        started: 0,
        answered: 0,
        median_hours: null,
        p90_hours: null,
        within_deadline: 0,
        rate_within: null,
        overdue: 0,
        drill: "timeliness:callback",
      },
    ],
    referrals_by_partner: [
      {
        partner: "Harbor Home Care",
        service: "Home care",
        sent: 4,
        answered: 3,
        median_response_hours: 26,
        answered_in_time: 2,
        rate_answered_in_time: 0.6667,
        accepted: 2,
        declined: 1,
        decline_reasons: ["no capacity until January"],
        started: 1,
        started_in_time: 1,
        rate_started_in_time: 1,
        completed: 0,
        drill: "referrals:Harbor Home Care:Home care",
      },
    ],
    care_plans: {
      active_plans: 2,
      actions_by_owner: [{ owner: "partner:harbor", open: 2, overdue: 1, done_in_week: 0, drill: "plan-overdue:partner:harbor" }],
      reviews_held: 1,
      reviews_upcoming: 0,
    },
    ...patch,
  };
}

export const DRILL_ROWS: DrillRow[] = [
  { case_id: "case-c1", patient_id: "p-c1", name: "Zoë Lefèvre", segment_id: "post_discharge_30d", status: "in_progress", owner: "ana" },
  { case_id: null, patient_id: "p9", name: "Ida Novak", segment_id: "post_discharge_30d", status: null, owner: null },
];
