// Tests for the weekly review's logic: ISO weeks across year ends, rate and ratio formatting
// (missing rates are "n/a", never 0 %), headline figures, equity filtering and chart series.
import { describe, expect, it } from "vitest";
import {
  compareWeeks,
  currentWeek,
  curveSeries,
  defaultEquityFilter,
  equityChoices,
  filterEquity,
  formatExpected,
  formatFraction,
  formatHorizon,
  formatHours,
  formatIsoWeek,
  formatRate,
  formatRatio,
  formatWeekRange,
  groupLabel,
  headline,
  isoWeekOf,
  mondayOf,
  parseIsoWeek,
  segmentNames,
  segmentOrder,
  shiftWeek,
  trendSeries,
  weeksInYear,
} from "./reviewModel";
import { makeReview } from "./test/reviewFixture";

describe("ISO weeks", () => {
  it("parses and prints YYYY-Www, refusing weeks that do not exist", () => {
    expect(parseIsoWeek("2026-W47")).toEqual({ year: 2026, week: 47 });
    expect(parseIsoWeek(" 2020-w53 ")).toEqual({ year: 2020, week: 53 });
    expect(parseIsoWeek("2026-W7")).toEqual({ year: 2026, week: 7 });
    expect(parseIsoWeek("2025-W53")).toBeNull(); // 2025 has 52 weeks
    expect(parseIsoWeek("2026-W00")).toBeNull();
    expect(parseIsoWeek("2026W47")).toBeNull();
    expect(parseIsoWeek("2026-47")).toBeNull();
    expect(parseIsoWeek("")).toBeNull();
    expect(formatIsoWeek({ year: 2026, week: 7 })).toBe("2026-W07");
  });

  it("knows which years have 53 weeks", () => {
    expect(weeksInYear(2020)).toBe(53);
    expect(weeksInYear(2021)).toBe(52);
    expect(weeksInYear(2025)).toBe(52);
    expect(weeksInYear(2026)).toBe(53);
    expect(weeksInYear(2015)).toBe(53);
  });

  it("finds a week's Monday and a date's week in UTC", () => {
    expect(mondayOf({ year: 2026, week: 1 }).toISOString()).toBe("2025-12-29T00:00:00.000Z");
    expect(mondayOf({ year: 2026, week: 47 }).toISOString()).toBe("2026-11-16T00:00:00.000Z");
    expect(mondayOf({ year: 2020, week: 53 }).toISOString()).toBe("2020-12-28T00:00:00.000Z");
    expect(isoWeekOf(new Date("2026-11-22T23:59:59Z"))).toEqual({ year: 2026, week: 47 });
    expect(isoWeekOf(new Date("2021-01-03T12:00:00Z"))).toEqual({ year: 2020, week: 53 });
    expect(isoWeekOf(new Date("2024-12-30T00:00:00Z"))).toEqual({ year: 2025, week: 1 });
    expect(isoWeekOf(new Date("2027-01-01T00:00:00Z"))).toEqual({ year: 2026, week: 53 });
    expect(currentWeek(new Date("2026-01-01T08:00:00Z"))).toBe("2026-W01");
  });

  it("steps across year boundaries", () => {
    expect(shiftWeek("2026-W01", -1)).toBe("2025-W52");
    expect(shiftWeek("2025-W52", 1)).toBe("2026-W01");
    expect(shiftWeek("2020-W53", 1)).toBe("2021-W01");
    expect(shiftWeek("2021-W01", -1)).toBe("2020-W53");
    expect(shiftWeek("2026-W53", 1)).toBe("2027-W01");
    expect(shiftWeek("2026-W47", -1)).toBe("2026-W46");
    expect(shiftWeek("2026-W47", 52)).toBe("2027-W46");
    expect(shiftWeek("not a week", 1)).toBeNull();
  });

  it("orders weeks in time", () => {
    expect(compareWeeks("2025-W52", "2026-W01")).toBeLessThan(0);
    expect(compareWeeks("2026-W01", "2026-W01")).toBe(0);
    expect(compareWeeks("2026-W10", "2026-W09")).toBeGreaterThan(0);
  });

  it("names the week's dates", () => {
    expect(formatWeekRange("2025-12-29", "2026-01-04")).toBe("29 Dec – 4 Jan 2026");
    expect(formatWeekRange("x", "y")).toBe("x – y");
  });
});

describe("number formatting", () => {
  it("shows rates as whole percentages and a missing rate as n/a, never 0%", () => {
    expect(formatRate(null)).toBe("n/a");
    expect(formatRate(Number.NaN)).toBe("n/a");
    expect(formatRate(0)).toBe("0%");
    expect(formatRate(0.456)).toBe("46%");
    expect(formatRate(0.7333)).toBe("73%");
    expect(formatRate(1)).toBe("100%");
  });

  it("shows ratios with two decimals and hours with one", () => {
    expect(formatRatio(1.4)).toBe("1.40");
    expect(formatRatio(0.6)).toBe("0.60");
    expect(formatRatio(1.2549)).toBe("1.25");
    expect(formatRatio(null)).toBe("n/a");
    expect(formatHours(20.5)).toBe("20.5 h");
    expect(formatHours(70.25)).toBe("70.3 h");
    expect(formatHours(null)).toBe("n/a");
    expect(formatExpected(4.25)).toBe("4.3");
  });

  it("shows a part of a whole with its rate", () => {
    expect(formatHorizon({ days: 30, eligible: 40, closed: 12, rate: 0.3, drill: "k" })).toBe("12/40 (30%)");
    expect(formatHorizon({ days: 90, eligible: 0, closed: 0, rate: null, drill: "k" })).toBe("0/0 (n/a)");
    expect(formatFraction(1200, 4000, 0.3)).toBe("1,200/4,000 (30%)");
  });
});

describe("derived data", () => {
  const review = makeReview();

  it("computes the headline figures", () => {
    expect(Object.fromEntries(headline(review).map((h) => [h.key, h.value]))).toEqual({
      cohort_members: 420,
      overdue_cases: 2,
      unacknowledged_escalations: 1,
      overdue_referrals: 0,
      waiting_callbacks: 3,
      overrides: 1,
    });
  });

  it("filters equity rows by segment, population and flag", () => {
    const choices = equityChoices(review.equity.rows);
    expect(choices).toEqual({ segments: ["post_discharge_30d", "diabetes_hba1c_gap", "all"], populations: ["cohort", "contacted"] });
    const filter = defaultEquityFilter(choices);
    expect(filter).toEqual({ segment: "post_discharge_30d", population: "cohort", flaggedOnly: false });
    expect(filterEquity(review.equity.rows, filter)).toHaveLength(4);
    expect(filterEquity(review.equity.rows, { ...filter, flaggedOnly: true }).map((r) => r.group)).toEqual(["female", "male"]);
    expect(filterEquity(review.equity.rows, { segment: "", population: "contacted", flaggedOnly: false })).toHaveLength(1);
    expect(filterEquity(review.equity.rows, { segment: "", population: "", flaggedOnly: false })).toHaveLength(6);
    expect(defaultEquityFilter({ segments: [], populations: [] })).toEqual({ segment: "", population: "", flaggedOnly: false });
  });

  it("builds a series per segment for the trend and the closure curve", () => {
    const names = segmentNames(review);
    expect(names.get("diabetes_hba1c_gap")).toBe("Diabetes: HbA1c overdue");
    const trend = trendSeries(review.trend, segmentOrder(review), names);
    expect(trend.map((s) => [s.label, s.points.map((p) => p.y)])).toEqual([
      ["Post-discharge (30 days)", [100, 110, 120]],
      ["Diabetes: HbA1c overdue", [290, 295, 300]],
    ]);
    expect(trend[0]?.points[0]?.x).toBe(Date.parse("2025-12-19"));
    // Segments without any run are left out; unknown ones keep their id.
    expect(trendSeries([{ run_id: 1, as_of: "2026-01-01", sizes: [{ segment_id: "x", count: 3 }] }], ["a"], names)).toEqual([
      { id: "x", label: "x", points: [{ x: Date.parse("2026-01-01"), y: 3 }] },
    ]);
    const curve = curveSeries([...review.closure_curve].reverse(), names);
    expect(curve).toHaveLength(1);
    expect(curve[0]?.points.map((p) => p.x)).toEqual([0, 30, 60]);
  });
});

describe("equity groups", () => {
  it("names languages by their name, other groups as given", () => {
    expect(groupLabel("language", "ht")).toBe("Haitian Creole");
    expect(groupLabel("language", "ar")).toBe("Arabic");
    expect(groupLabel("sex", "female")).toBe("female");
  });
});
