// The weekly review without React: ISO weeks ("2026-W47"), number formatting (rates never
// turn a missing denominator into 0 %), headline figures, equity filtering and the series the
// charts draw. Everything here is pure, so the screen can memoize it per review.
import type { CurvePoint } from "./bindings/CurvePoint";
import type { EquityRow } from "./bindings/EquityRow";
import type { HorizonCell } from "./bindings/HorizonCell";
import type { TrendPoint } from "./bindings/TrendPoint";
import type { WeeklyReview } from "./bindings/WeeklyReview";
import { formatCount, formatDay, formatDayMonth, formatLanguage, formatShortDateTime } from "./format";

// ---- ISO 8601 weeks (UTC, as the backend computes them) ----

export type IsoWeek = { year: number; week: number };

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

function utcDay(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day); // unlike Date.UTC, years 0–99 stay themselves
  d.setUTCHours(0, 0, 0, 0);
  return d.getTime();
}

/** Monday 00:00 UTC of week 1: the week that holds 4 January. */
function mondayOfWeekOne(year: number): number {
  const jan4 = utcDay(year, 0, 4);
  const fromMonday = (new Date(jan4).getUTCDay() + 6) % 7;
  return jan4 - fromMonday * DAY_MS;
}

/** 52 or 53. */
export function weeksInYear(year: number): number {
  return Math.round((mondayOfWeekOne(year + 1) - mondayOfWeekOne(year)) / WEEK_MS);
}

/** "2026-W47" (also "2026-w47" and "2026-W7"); null when it is not a week that exists. */
export function parseIsoWeek(text: string): IsoWeek | null {
  const match = /^\s*(\d{4})-[Ww](\d{1,2})\s*$/.exec(text);
  if (!match) return null;
  const year = Number(match[1]);
  const week = Number(match[2]);
  if (year < 1000 || week < 1 || week > weeksInYear(year)) return null;
  return { year, week };
}

export function formatIsoWeek({ year, week }: IsoWeek): string {
  return `${String(year).padStart(4, "0")}-W${String(week).padStart(2, "0")}`;
}

/** The week's Monday, 00:00 UTC. */
export function mondayOf({ year, week }: IsoWeek): Date {
  return new Date(mondayOfWeekOne(year) + (week - 1) * WEEK_MS);
}

/** The ISO week holding `date` (its UTC day). */
export function isoWeekOf(date: Date): IsoWeek {
  const day = utcDay(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  const fromMonday = (new Date(day).getUTCDay() + 6) % 7;
  const thursday = day + (3 - fromMonday) * DAY_MS; // a week belongs to the year of its Thursday
  const year = new Date(thursday).getUTCFullYear();
  return { year, week: Math.floor((thursday - mondayOfWeekOne(year)) / WEEK_MS) + 1 };
}

/** The week `delta` weeks from `week` ("2026-W01", -1 → "2025-W52"); null for a malformed week. */
export function shiftWeek(week: string, delta: number): string | null {
  const parsed = parseIsoWeek(week);
  if (!parsed) return null;
  return formatIsoWeek(isoWeekOf(new Date(mondayOf(parsed).getTime() + delta * WEEK_MS)));
}

export function currentWeek(now: Date): string {
  return formatIsoWeek(isoWeekOf(now));
}

/** Orders two weeks in time (negative when `a` is earlier); malformed weeks sort first. */
export function compareWeeks(a: string, b: string): number {
  const pa = parseIsoWeek(a);
  const pb = parseIsoWeek(b);
  return (pa ? mondayOf(pa).getTime() : -Infinity) - (pb ? mondayOf(pb).getTime() : -Infinity) || 0;
}

/** "Week 47: 16 Nov – 22 Nov 2026" from the review's dates (shown as given if not dates). */
export function formatWeekRange(starts: string, ends: string): string {
  const s = Date.parse(starts);
  const e = Date.parse(ends);
  if (Number.isNaN(s) || Number.isNaN(e)) return `${starts} – ${ends}`;
  return `${formatDayMonth(starts)} – ${formatDay(ends)}`;
}


// ---- Numbers ----

export const NOT_AVAILABLE = "n/a";

/** 0.456 → "46%"; null (no denominator) → "n/a", never "0%". */
export function formatRate(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate)) return NOT_AVAILABLE;
  return `${Math.round(rate * 100)}%`;
}

/** An equity ratio with two decimals ("1.27"); null → "n/a". */
export function formatRatio(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return NOT_AVAILABLE;
  return ratio.toFixed(2);
}

/** Hours with one decimal ("12.5 h"); null (nothing answered) → "n/a". */
export function formatHours(hours: number | null): string {
  if (hours === null || !Number.isFinite(hours)) return NOT_AVAILABLE;
  return `${hours.toFixed(1)} h`;
}

/** "12/40 (30%)": part of a whole with its rate. */
export function formatFraction(part: number, whole: number, rate: number | null): string {
  return `${formatCount(part)}/${formatCount(whole)} (${formatRate(rate)})`;
}

/** A closure horizon cell: "closed/eligible (rate)". */
export function formatHorizon(cell: HorizonCell): string {
  return formatFraction(cell.closed, cell.eligible, cell.rate);
}

/** One decimal for an expected count ("4.5"). */
export function formatExpected(expected: number): string {
  return Number.isFinite(expected) ? expected.toFixed(1) : NOT_AVAILABLE;
}

/** "3 Jun, 17:00" (local time), or the text as given when it is not a timestamp. */
export function formatWhen(iso: string | null): string {
  if (iso === null || iso === "") return "—";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : formatShortDateTime(iso);
}

// ---- Derived data ----

export type Headline = {
  key: "cohort_members" | "overdue_cases" | "unacknowledged_escalations" | "overdue_referrals" | "waiting_callbacks" | "overrides";
  label: string;
  value: number;
};

/** The six figures the meeting starts with. */
export function headline(review: WeeklyReview): Headline[] {
  return [
    { key: "cohort_members", label: "List memberships (a person in two lists counts twice)", value: review.segments.reduce((sum, s) => sum + s.size, 0) },
    { key: "overdue_cases", label: "Overdue cases", value: review.pending.overdue_cases.length },
    { key: "unacknowledged_escalations", label: "Unacknowledged escalations", value: review.pending.unacknowledged_escalations.length },
    { key: "overdue_referrals", label: "Overdue referrals", value: review.pending.overdue_referrals.length },
    { key: "waiting_callbacks", label: "Waiting callbacks", value: review.pending.waiting_callbacks.length },
    { key: "overrides", label: "Over-contact overrides", value: review.contacts.overrides.length },
  ];
}

/** An equity group as people read it: a language by its name ("Haitian Creole", not "ht"). */
export function groupLabel(dimension: string, group: string): string {
  return dimension === "language" ? formatLanguage(group) : group;
}

/** Segment id → display name, from every table that names segments. */
export function segmentNames(review: WeeklyReview): Map<string, string> {
  const names = new Map<string, string>();
  for (const row of [...review.segments, ...review.closure, ...review.retention]) {
    if (row.name && !names.has(row.segment_id)) names.set(row.segment_id, row.name);
  }
  return names;
}

/** The segment ids in display order: the review's segments first, then any other seen in `more`. */
export function segmentOrder(review: WeeklyReview, more: readonly string[] = []): string[] {
  return [...new Set([...review.segments.map((s) => s.segment_id), ...more])];
}

export type EquityFilter = {
  segment: string; // "" = every segment
  population: string; // "" = every population
  flaggedOnly: boolean;
};

export type EquityChoices = { segments: string[]; populations: string[] };

/** The segments and populations the equity rows have, in first-seen order. */
export function equityChoices(rows: readonly EquityRow[]): EquityChoices {
  const segments = new Set<string>();
  const populations = new Set<string>();
  for (const row of rows) {
    segments.add(row.segment_id);
    populations.add(row.population);
  }
  return { segments: [...segments], populations: [...populations] };
}

/** Where the equity table starts: the first segment, its cohort. */
export function defaultEquityFilter(choices: EquityChoices): EquityFilter {
  const segment = choices.segments.find((s) => s !== "all") ?? choices.segments[0] ?? "";
  const population = choices.populations.includes("cohort") ? "cohort" : (choices.populations[0] ?? "");
  return { segment, population, flaggedOnly: false };
}

export function filterEquity(rows: readonly EquityRow[], filter: EquityFilter): EquityRow[] {
  return rows.filter(
    (r) =>
      (filter.segment === "" || r.segment_id === filter.segment) &&
      (filter.population === "" || r.population === filter.population) &&
      (!filter.flaggedOnly || r.flag !== ""),
  );
}

export type Point = { x: number; y: number };
export type Series = { id: string; label: string; points: Point[] };

/** Cohort size per segment over the recorded runs (x: the run's date, ms). */
export function trendSeries(trend: readonly TrendPoint[], order: readonly string[], names: ReadonlyMap<string, string>): Series[] {
  const bySegment = new Map<string, Point[]>();
  for (const id of order) bySegment.set(id, []);
  const runs = [...trend].sort((a, b) => a.as_of.localeCompare(b.as_of) || a.run_id - b.run_id);
  for (const run of runs) {
    const x = Date.parse(run.as_of);
    if (Number.isNaN(x)) continue;
    for (const size of run.sizes) {
      let points = bySegment.get(size.segment_id);
      if (!points) bySegment.set(size.segment_id, (points = []));
      points.push({ x, y: size.count });
    }
  }
  return [...bySegment]
    .filter(([, points]) => points.length > 0)
    .map(([id, points]) => ({ id, label: names.get(id) ?? id, points }));
}

/** Cumulative closure per segment (x: days after the first attempt, y: share 0–1). */
export function curveSeries(curve: readonly CurvePoint[], names: ReadonlyMap<string, string>): Series[] {
  const bySegment = new Map<string, Point[]>();
  for (const p of curve) {
    let points = bySegment.get(p.segment_id);
    if (!points) bySegment.set(p.segment_id, (points = []));
    points.push({ x: p.day, y: p.closed_share });
  }
  return [...bySegment].map(([id, points]) => ({
    id,
    label: names.get(id) ?? id,
    points: points.sort((a, b) => a.x - b.x),
  }));
}
