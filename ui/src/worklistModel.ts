// Worklist logic without React: filtering by segment, status and due, sorting, and due labels.
import type { WorklistRow } from "./bindings/WorklistRow";
import { formatShortDateTime } from "./format";

export type SortKey = "action" | "due" | "priority" | "name" | "segment" | "status";
export type SortDirection = "asc" | "desc";
export type DueFilter = "all" | "overdue" | "today" | "week";

export type WorklistView = {
  segment: string; // "" = every segment
  status: string; // "" = every status
  due: DueFilter;
  sort: SortKey;
  direction: SortDirection;
};

/** Who to call first: the default order. */
export const DEFAULT_VIEW: WorklistView = { segment: "", status: "", due: "all", sort: "action", direction: "asc" };

/** Statuses whose next step is someone else's: a clinician's callback, an escalation's owner, a service. */
export const WAITING_ON_OTHERS: ReadonlySet<string> = new Set(["awaiting_callback", "escalated", "referred"]);

/** Why a row stands where it does in the default order, in words. */
export function orderReason(row: WorklistRow): string {
  if (WAITING_ON_OTHERS.has(row.status)) return `Waiting: ${humanize(row.status).toLowerCase()}`;
  return row.overdue ? "Yours to act on, overdue" : "Yours to act on";
}

function endOfDay(now: Date, days: number): number {
  const end = new Date(now);
  end.setHours(23, 59, 59, 999);
  end.setDate(end.getDate() + days);
  return end.getTime();
}

/** Whether a row passes the due filter at `now`. */
export function matchesDue(row: WorklistRow, due: DueFilter, now: Date): boolean {
  switch (due) {
    case "all":
      return true;
    case "overdue":
      return row.overdue;
    case "today":
      return row.overdue || Date.parse(row.due) <= endOfDay(now, 0);
    case "week":
      return row.overdue || Date.parse(row.due) <= endOfDay(now, 7);
  }
}

const collator = new Intl.Collator("en", { sensitivity: "base" });

function compare(a: WorklistRow, b: WorklistRow, key: SortKey): number {
  switch (key) {
    case "action":
      // Cases waiting on me first, then overdue first, then the highest priority.
      return (
        Number(WAITING_ON_OTHERS.has(a.status)) - Number(WAITING_ON_OTHERS.has(b.status)) ||
        Number(b.overdue) - Number(a.overdue) ||
        b.priority - a.priority
      );
    case "due":
      return a.due.localeCompare(b.due);
    case "priority":
      return a.priority - b.priority;
    case "name":
      return collator.compare(a.name, b.name);
    case "segment":
      return a.segment_id.localeCompare(b.segment_id);
    case "status":
      return a.status.localeCompare(b.status);
  }
}

/**
 * The rows the view shows, in order. Ties fall back to due date, then priority (highest
 * first), then name, so the order is stable whatever the sort key.
 */
export function applyView(rows: readonly WorklistRow[], view: WorklistView, now: Date): WorklistRow[] {
  const sign = view.direction === "asc" ? 1 : -1;
  return rows
    .filter((r) => (view.segment === "" || r.segment_id === view.segment) && (view.status === "" || r.status === view.status))
    .filter((r) => matchesDue(r, view.due, now))
    .sort(
      (a, b) =>
        sign * compare(a, b, view.sort) ||
        compare(a, b, "due") ||
        compare(b, a, "priority") ||
        compare(a, b, "name") ||
        a.case_id.localeCompare(b.case_id),
    );
}

/** The distinct values of a field, sorted, for a filter's options. */
export function distinct(rows: readonly WorklistRow[], field: "segment_id" | "status"): string[] {
  return [...new Set(rows.map((r) => r[field]))].sort();
}

/** Clicking a column: the same column flips direction, another starts ascending (priority: highest first). */
export function toggleSort(view: WorklistView, key: SortKey): WorklistView {
  if (view.sort === key) return { ...view, direction: view.direction === "asc" ? "desc" : "asc" };
  return { ...view, sort: key, direction: key === "priority" ? "desc" : "asc" };
}


/** "Overdue · 3 Jun, 17:00" or "Due 3 Jun, 17:00": the word says it, colour only repeats it. */
export function dueLabel(due: string, overdue: boolean): string {
  const when = formatShortDateTime(due);
  return overdue ? `Overdue · ${when}` : `Due ${when}`;
}

/** "in_progress" → "In progress". */
export function humanize(name: string): string {
  const text = name.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
