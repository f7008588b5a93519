// Worklist interactions on 5,000 rows, as the screen runs them on every sort or filter
// click: `npx vitest bench --run src/worklist.bench.ts` (figures in the desktop issue's note).
import { bench, describe } from "vitest";
import type { WorklistRow } from "./bindings/WorklistRow";
import { applyView, DEFAULT_VIEW } from "./worklistModel";

const SEGMENTS = ["post_discharge_30d", "dormant", "diabetes_hba1c_gap", "frequent_ed", "polypharmacy"];
const STATUSES = ["assigned", "in_progress", "awaiting_callback", "escalated", "referred"];

function rows(n: number): WorklistRow[] {
  const base = Date.UTC(2026, 10, 23, 18);
  return Array.from({ length: n }, (_, i) => ({
    case_id: `case-${i}`,
    patient_id: `p${i}`,
    name: `Person ${(i * 7919) % n}`,
    segment_id: SEGMENTS[i % SEGMENTS.length] ?? "dormant",
    segment_name: "Segment",
    status: STATUSES[(i * 3) % STATUSES.length] ?? "assigned",
    owner: "ana",
    priority: (i * 31) % 12,
    due: new Date(base + ((i * 104729) % 20) * 86_400_000 - 10 * 86_400_000).toISOString(),
    overdue: (i * 104729) % 20 < 10,
    summary: "Post-discharge: missed a check-in in the first two weeks at home.",
    preferred_language: i % 4 === 0 ? "es" : "en",
    preferred_channel: "phone",
    last_contact: null,
    attempts: i % 3,
    suggestion: null,
  }));
}

const data = rows(5000);
const now = new Date(Date.UTC(2026, 10, 23, 9));

describe("worklist of 5,000 cases", () => {
  bench("sort by due (default view)", () => {
    applyView(data, DEFAULT_VIEW, now);
  });
  bench("sort by name, descending", () => {
    applyView(data, { ...DEFAULT_VIEW, sort: "name", direction: "desc" }, now);
  });
  bench("filter by segment and overdue, sorted by priority", () => {
    applyView(data, { ...DEFAULT_VIEW, segment: "dormant", due: "overdue", sort: "priority" }, now);
  });
});
