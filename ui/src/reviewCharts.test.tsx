// Tests for the review's SVG charts: a series or bar per datum, a marker for a single point,
// "No data yet" when there is nothing to draw, and an accessible name.
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { EquityRow } from "./bindings/EquityRow";
import { ClosureCurveChart, ContactsChart, EquityChart, niceTicks, seriesStyle, TrendChart, TrendMultiples } from "./reviewCharts";
import type { Series } from "./reviewModel";

const day = (d: string) => Date.parse(d);

const row = (group: string, ratio: number | null, flag = ""): EquityRow => ({
  segment_id: "s",
  population: "cohort",
  dimension: "sex",
  group,
  count: 1,
  population_size: 10,
  share: 0.1,
  panel_count: 1,
  panel_share: 0.1,
  expected: 1,
  ratio,
  flag,
  drill: `d:${group}`,
});

describe("charts", () => {
  it("draws a line per segment with an accessible name", () => {
    const series: Series[] = [
      { id: "a", label: "A", points: [{ x: day("2026-01-01"), y: 3 }, { x: day("2026-01-08"), y: 5 }] },
      { id: "b", label: "B", points: [{ x: day("2026-01-01"), y: 7 }, { x: day("2026-01-08"), y: 2 }] },
      { id: "c", label: "C", points: [{ x: day("2026-01-08"), y: 1 }] },
    ];
    const { container } = render(<TrendChart series={series} />);
    const svg = screen.getByRole("img", { name: "Cohort size by run" });
    expect(svg.querySelector("title")?.textContent).toBe("Cohort size by run");
    expect(container.querySelectorAll("[data-series]")).toHaveLength(3);
    expect(container.querySelectorAll("polyline")).toHaveLength(2);
    // The one-point series is a marker; the legend names every series.
    expect(container.querySelector('[data-series="c"] circle')).not.toBeNull();
    expect(container.querySelector(".chart-legend")?.textContent).toBe("ABC");
  });

  it("draws one small chart per segment on the same time axis", () => {
    const series: Series[] = [
      { id: "a", label: "Post-discharge", points: [{ x: day("2026-01-01"), y: 3 }, { x: day("2026-01-08"), y: 5 }] },
      { id: "b", label: "Dormant", points: [{ x: day("2026-01-08"), y: 200 }] },
    ];
    render(<TrendMultiples series={series} />);
    expect(screen.getByRole("img", { name: "Post-discharge: size by run" })).not.toBeNull();
    expect(screen.getByRole("img", { name: "Dormant: size by run" })).not.toBeNull();
    expect(screen.getByTestId("trend-multiples").querySelectorAll("svg[role=img]")).toHaveLength(2);
    // Both use both runs' dates: the x ticks are the same.
    const ticks = (id: string) => [...screen.getByTestId(id).querySelectorAll("text")].map((t) => t.textContent).filter((t) => /Jan/.test(t ?? ""));
    expect(ticks("chart-trend-a")).toEqual(ticks("chart-trend-b"));
  });

  it("copes with a single run and with nothing at all", () => {
    const { container, unmount } = render(<TrendChart series={[{ id: "a", label: "A", points: [{ x: day("2026-01-01"), y: 4 }] }]} />);
    const circle = container.querySelector("circle");
    expect(circle).not.toBeNull();
    expect(Number(circle?.getAttribute("cx"))).toBeGreaterThan(0);
    expect(Number.isFinite(Number(circle?.getAttribute("cy")))).toBe(true);
    unmount();
    render(<TrendChart series={[]} />);
    expect(screen.getByTestId("chart-trend-empty").textContent).toBe("No data yet");
    expect(screen.queryByRole("img")).toBeNull();
  });

  it("draws closure curves from 0 to 90 days and 0 to 100 %", () => {
    const { container } = render(
      <ClosureCurveChart
        series={[
          { id: "a", label: "A", points: [{ x: 0, y: 0 }, { x: 30, y: 0.3 }, { x: 90, y: 0.6 }] },
          { id: "b", label: "B", points: [{ x: 0, y: 0 }, { x: 90, y: 1 }] },
        ]}
      />,
    );
    expect(screen.getByRole("img", { name: "Care-gap closure after the first attempt" })).toBeTruthy();
    expect(container.querySelectorAll("[data-series]")).toHaveLength(2);
    expect(screen.getByText("100%")).toBeTruthy();
    expect(screen.getByText("90 d")).toBeTruthy();
  });

  it("draws a bar per bucket for the week and the 28 days", () => {
    const bucket = (contacts: string, people: number) => ({ contacts, people, drill: contacts });
    const { container, unmount } = render(
      <ContactsChart perWeek={[bucket("1", 5), bucket("2", 2), bucket("3+", 0)]} perMonth={[bucket("1", 9), bucket("2", 4), bucket("3+", 1)]} />,
    );
    expect(screen.getByRole("img", { name: "People by number of contacts" })).toBeTruthy();
    expect(container.querySelectorAll('[data-series="week"] rect.bar')).toHaveLength(3);
    expect(container.querySelectorAll('[data-series="month"] rect.bar')).toHaveLength(3);
    unmount();
    render(<ContactsChart perWeek={[]} perMonth={[]} />);
    expect(screen.getByTestId("chart-contacts-empty").textContent).toBe("No data yet");
  });

  it("draws equity ratios around 1.0 with the threshold band, leaving out missing ratios", () => {
    const { container, unmount } = render(
      <EquityChart rows={[row("female", 1.4, "over"), row("male", 0.6, "under"), row("other", 1.02), row("unknown", null), row("x", 0)]} threshold={1.25} />,
    );
    expect(screen.getByRole("img", { name: "Share against panel share (ratio)" })).toBeTruthy();
    const bars = container.querySelectorAll("rect.bar");
    expect(bars).toHaveLength(4);
    expect([...bars].map((b) => b.getAttribute("data-flag"))).toEqual(["over", "under", "none", "none"]);
    expect(container.querySelector(".chart-band")).not.toBeNull();
    expect(container.querySelector(".chart-reference")).not.toBeNull();
    // Over reaches right of 1.0, under left of it.
    const x1 = Number(container.querySelector(".chart-reference")?.getAttribute("x1"));
    const [over, under] = [...bars] as [Element, Element];
    expect(Number(over.getAttribute("x"))).toBeCloseTo(x1, 5);
    expect(Number(under.getAttribute("x")) + Number(under.getAttribute("width"))).toBeCloseTo(x1, 5);
    expect(screen.getByText("n/a")).toBeTruthy();
    unmount();
    render(<EquityChart rows={[]} threshold={1.25} />);
    expect(screen.getByTestId("chart-equity-empty").textContent).toBe("No data yet");
  });

  it("picks round ticks and distinct series styles", () => {
    expect(niceTicks(0, 100, 4)).toEqual([0, 25, 50, 75, 100]);
    expect(niceTicks(0, 7, 4)).toEqual([0, 2, 4, 6]);
    expect(niceTicks(3, 3)).toEqual([3]);
    const styles = Array.from({ length: 28 }, (_, i) => JSON.stringify(seriesStyle(i)));
    expect(new Set(styles).size).toBe(28);
  });
});
