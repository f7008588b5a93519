// Tests for the supervisor's weekly review: headline figures and tables from a review, "n/a"
// for missing rates, week navigation across year ends, drill-down to the cases and on to a
// case, charts, export, errors, and the tab only supervisors get.
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SessionInfo } from "./bindings/SessionInfo";
import { ReviewScreen } from "./ReviewScreen";
import { fakeBackend } from "./test/fakeBackend";
import { makeReview } from "./test/reviewFixture";
import { tabsFor, Workspace } from "./Workspace";

const now = () => new Date("2026-06-30T08:00:00Z");

async function renderReview(backend = fakeBackend(), onOpenCase = vi.fn()) {
  const view = render(<ReviewScreen backend={backend} onOpenCase={onOpenCase} now={now} />);
  await screen.findByTestId("cohort-table");
  return { backend, onOpenCase, ...view };
}

const text = (testId: string) => screen.getByTestId(testId).textContent;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("ReviewScreen", () => {
  it("shows the current week's headline figures and tables", async () => {
    const { backend } = await renderReview();
    expect(backend.weeklyReview).toHaveBeenCalledWith(null);
    expect(text("review-week")).toBe("2026-W01");
    expect(text("headline-cohort_members")).toBe("List memberships (a person in two lists counts twice)420");
    expect(within(screen.getByTestId("headline-overdue_cases")).getByRole("definition").textContent).toBe("2");
    expect(within(screen.getByTestId("headline-unacknowledged_escalations")).getByRole("definition").textContent).toBe("1");
    expect(within(screen.getByTestId("headline-overdue_referrals")).getByRole("definition").textContent).toBe("0");
    expect(within(screen.getByTestId("headline-waiting_callbacks")).getByRole("definition").textContent).toBe("3");
    expect(within(screen.getByTestId("headline-overrides")).getByRole("definition").textContent).toBe("1");

    const cohorts = screen.getAllByTestId("cohort-row");
    expect(cohorts).toHaveLength(2);
    expect([...(cohorts[0] as HTMLElement).querySelectorAll("th, td")].map((c) => c.textContent)).toEqual([
      "Post-discharge (30 days)",
      "120",
      "2",
      "1",
      "40",
      "70",
      "10",
      "35/50",
      "70%",
      "38",
    ]);
    expect(screen.getByTestId("pending-overdue_cases").textContent).toContain("Zoë Lefèvre");
    expect(screen.getByTestId("pending-overdue_referrals").textContent).toContain("None.");
    expect(screen.getByTestId("caseload-table").textContent).toContain("80%");
    expect(text("closure-diabetes_hba1c_gap-30")).toBe("12/40 (30%)");
    expect(screen.getByTestId("response-channel").textContent).toContain("22/40 (55%)");
    expect(screen.getByTestId("response-segment").textContent).toContain("Post-discharge (30 days)");
    expect(screen.getByTestId("timeliness-first_attempt").textContent).toContain("20.5 h");
    expect(screen.getByTestId("timeliness-first_attempt").textContent).toContain("22/30 (73%)");
    expect(screen.getByTestId("override-table").textContent).toContain("Asked to be called again today");
    expect(screen.getByTestId("override-table").textContent).toContain("sue (Supervisor)");
  });

  it("shows n/a, never 0 %, where a rate has no denominator", async () => {
    await renderReview();
    const [, diabetes] = screen.getAllByTestId("cohort-row") as [HTMLElement, HTMLElement];
    expect(diabetes.textContent).toContain("n/a");
    expect(diabetes.textContent).not.toContain("0%");
    expect(screen.getByTestId("caseload-table").querySelectorAll("tbody tr")[1]?.textContent).toContain("n/a");
    expect(text("closure-diabetes_hba1c_gap-90")).toBe("0/0 (n/a)");
    expect(text("retention-rate")).toBe("n/a");
    expect(screen.getByTestId("timeliness-callback").textContent).toBe("Callback requested → documented00n/an/a0/0 (n/a)0");
    expect(screen.getByTestId("response-channel").textContent).toContain("0/0 (n/a)");
    const ratios = screen.getAllByTestId("equity-ratio").map((c) => c.textContent);
    expect(ratios).toEqual(["1.40", "0.60", "n/a", "1.00"]);
  });

  it("moves to the previous and next ISO week across year ends", async () => {
    const { backend } = await renderReview();
    fireEvent.click(screen.getByRole("button", { name: "← Previous week" }));
    await waitFor(() => expect(backend.weeklyReview).toHaveBeenLastCalledWith("2025-W52"));
    await waitFor(() => expect(text("review-week")).toBe("2025-W52"));
    const input = screen.getByLabelText("Week (YYYY-Www)") as HTMLInputElement;
    expect(input.value).toBe("2025-W52");
    fireEvent.change(input, { target: { value: "2020-W53" } });
    fireEvent.click(screen.getByRole("button", { name: "Show" }));
    await waitFor(() => expect(text("review-week")).toBe("2020-W53"));
    fireEvent.click(screen.getByRole("button", { name: "Next week →" }));
    await waitFor(() => expect(backend.weeklyReview).toHaveBeenLastCalledWith("2021-W01"));
    await waitFor(() => expect(text("review-week")).toBe("2021-W01"));

    // A week that does not exist is refused before asking the backend.
    const calls = backend.weeklyReview.mock.calls.length;
    fireEvent.change(input, { target: { value: "2025-W53" } });
    fireEvent.click(screen.getByRole("button", { name: "Show" }));
    expect(screen.getByRole("alert").textContent).toBe("Enter a week as YYYY-Www, e.g. 2026-W47.");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(backend.weeklyReview).toHaveBeenCalledTimes(calls);

    fireEvent.click(screen.getByRole("button", { name: "This week" }));
    await waitFor(() => expect(backend.weeklyReview).toHaveBeenLastCalledWith(null));
  });

  it("does not go past the current week", async () => {
    const backend = fakeBackend();
    backend.weeklyReview.mockResolvedValue(makeReview({ week: "2026-W27" }));
    await renderReview(backend);
    expect((screen.getByRole("button", { name: "Next week →" }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole("button", { name: "← Previous week" }) as HTMLButtonElement).disabled).toBe(false);
  });

  it("lists the cases behind a number and opens one", async () => {
    const { backend, onOpenCase } = await renderReview();
    const size = screen.getByRole("button", { name: "120" });
    expect(size.getAttribute("data-drill")).toBe("segment:post_discharge_30d");
    fireEvent.click(size);
    expect(backend.reviewDrill).toHaveBeenCalledWith("2026-W01", "segment:post_discharge_30d");
    const panel = await screen.findByRole("dialog", { name: "Post-discharge (30 days): members (120)" });
    const rows = await within(panel).findAllByTestId("drill-row");
    expect(rows.map((r) => [...r.querySelectorAll("th, td")].slice(0, 4).map((c) => c.textContent))).toEqual([
      ["Zoë Lefèvre", "Post-discharge (30 days)", "In progress", "ana"],
      ["Ida Novak", "Post-discharge (30 days)", "—", "—"],
    ]);
    // Only a row with a case can be opened.
    const open = within(panel).getAllByRole("button", { name: "Open case" });
    expect(open).toHaveLength(1);
    fireEvent.click(open[0] as HTMLElement);
    expect(onOpenCase).toHaveBeenCalledWith("case-c1");

    fireEvent.keyDown(panel, { key: "Escape" });
    expect(screen.queryByTestId("drill-panel")).toBeNull();
    expect(document.activeElement).toBe(size);

    // Cells, buckets and rows of the other tables drill with their own keys.
    fireEvent.click(screen.getByRole("button", { name: "12/40 (30%)" }));
    expect(backend.reviewDrill).toHaveBeenLastCalledWith("2026-W01", "closure:diabetes_hba1c_gap:30");
    fireEvent.click(screen.getByRole("button", { name: "84" }));
    expect(backend.reviewDrill).toHaveBeenLastCalledWith("2026-W01", "equity:post_discharge_30d:cohort:sex:female");
    const drillable = [...document.querySelectorAll("[data-drill]")].map((b) => b.getAttribute("data-drill"));
    expect(drillable).toEqual(
      expect.arrayContaining(["caseload:ana", "contacts:week:4", "contacts:month:5+", "response:channel:phone", "retention:diabetes_hba1c_gap", "timeliness:first_attempt"]),
    );
  });

  it("shows a drill-down error in the panel", async () => {
    const backend = fakeBackend();
    backend.reviewDrill.mockRejectedValueOnce({ code: "not_found", message: "no drill-down \"x\" in this review" });
    await renderReview(backend);
    fireEvent.click(screen.getByRole("button", { name: "20" }));
    expect((await within(screen.getByTestId("drill-panel")).findByRole("alert")).textContent).toBe(
      'Cannot list the cases (not_found): no drill-down "x" in this review',
    );
    fireEvent.click(within(screen.getByTestId("drill-panel")).getByRole("button", { name: "Close" }));
    expect(screen.queryByTestId("drill-panel")).toBeNull();
  });

  it("lists who entered and exited from the review itself", async () => {
    const { backend } = await renderReview();
    fireEvent.click(document.querySelector('[data-people="post_discharge_30d:entered"]') as HTMLElement);
    const panel = screen.getByRole("dialog", { name: "Post-discharge (30 days): entered (2)" });
    expect(within(panel).getAllByTestId("drill-row").map((r) => r.querySelector("th")?.textContent)).toEqual(["Zoë Lefèvre", "Ana Ruiz"]);
    expect(within(panel).queryByRole("button", { name: "Open case" })).toBeNull();
    expect(backend.reviewDrill).not.toHaveBeenCalled();
  });

  it("filters the equity table and highlights flagged groups", async () => {
    await renderReview();
    expect(screen.getAllByTestId("equity-row")).toHaveLength(4);
    expect(screen.getAllByTestId("equity-row").filter((r) => r.classList.contains("flagged"))).toHaveLength(2);
    fireEvent.click(screen.getByLabelText("Flagged only"));
    expect(screen.getAllByTestId("equity-row").map((r) => r.getAttribute("data-flag"))).toEqual(["over", "under"]);
    fireEvent.click(screen.getByLabelText("Flagged only"));
    fireEvent.change(screen.getByLabelText("Segment"), { target: { value: "" } });
    fireEvent.change(screen.getByLabelText("Population"), { target: { value: "contacted" } });
    const rows = screen.getAllByTestId("equity-row");
    expect(rows).toHaveLength(1);
    expect(rows[0]?.textContent).toContain("Everyone contacted");
    expect(text("equity-count")).toBe("1 groups, 0 flagged");
  });

  it("draws the charts from the review", async () => {
    const { container } = await renderReview();
    // A small chart per segment rather than every line in one plot.
    expect(screen.getByTestId("trend-multiples").querySelectorAll("[data-series]")).toHaveLength(2);
    expect(screen.getByTestId("chart-closure").querySelectorAll("[data-series]")).toHaveLength(1);
    expect(screen.getByTestId("chart-contacts").querySelectorAll("rect.bar")).toHaveLength(10);
    // Four groups in the default selection; the one without a ratio has no bar.
    expect(screen.getByTestId("chart-equity").querySelectorAll("rect.bar")).toHaveLength(3);
    expect(container.querySelectorAll("svg[role=img] > title")).toHaveLength(5);
  });

  it("lists conflicting outcomes to resolve and says how many actions changed nothing", async () => {
    const backend = fakeBackend();
    const base = makeReview();
    backend.weeklyReview.mockResolvedValue(
      makeReview({
        pending: {
          ...base.pending,
          open_conflicts: [
            {
              id: "e1+e2",
              case_id: "case-k1",
              patient_id: "p-k1",
              name: "Kim Lee",
              segment_id: "post_discharge_30d",
              owner: "ana",
              since: "2025-12-30T09:00:00Z",
              due: null,
              overdue: false,
              detail: "attempt.recorded by ana and case.closed by sue: both kept until someone resolves it",
            },
          ],
          superseded_events: 2,
        },
      }),
    );
    await renderReview(backend);
    const conflicts = screen.getByTestId("pending-open_conflicts");
    expect(conflicts.querySelector("caption")?.textContent).toBe("Conflicting outcomes to resolve (1)");
    expect(within(conflicts).getByText(/both kept until someone resolves it/)).toBeTruthy();
    expect(text("pending-superseded")).toContain("2 recorded actions changed nothing");
  });

  it("says nothing of superseded actions when there are none", async () => {
    await renderReview();
    expect(screen.queryByTestId("pending-superseded")).toBeNull();
    expect(screen.getByTestId("pending-open_conflicts").querySelector("caption")?.textContent).toBe(
      "Conflicting outcomes to resolve (0)",
    );
  });

  it("says No data yet for charts without data", async () => {
    const backend = fakeBackend();
    backend.weeklyReview.mockResolvedValue(
      makeReview({
        trend: [],
        closure_curve: [],
        contacts: { limit: 3, per_week: [], per_month: [], above_limit: [], overrides: [], overrides_by_user: [] },
        equity: { threshold: 1.25, min_expected: 5, panel_size: 0, rows: [] },
      }),
    );
    await renderReview(backend);
    for (const chart of ["chart-trend", "chart-closure", "chart-contacts", "chart-equity"]) {
      expect(text(`${chart}-empty`)).toBe("No data yet");
    }
    expect(text("headline-overrides")).toBe("Over-contact overrides0");
  });

  it("exports the review and shows where it was written", async () => {
    const { backend } = await renderReview();
    fireEvent.click(screen.getByRole("button", { name: "Export PDF" }));
    expect(backend.exportReview).toHaveBeenCalledWith("2026-W01", "pdf");
    expect((await screen.findByTestId("export-path")).textContent).toBe(
      "Saved the 2026-W01 review (PDF) to /home/sue/Downloads/careloop-review-2026-W01.pdf",
    );
    backend.exportReview.mockRejectedValueOnce({ code: "io", message: "disk full" });
    fireEvent.click(screen.getByRole("button", { name: "Export CSV" }));
    expect(backend.exportReview).toHaveBeenLastCalledWith("2026-W01", "csv");
    expect((await screen.findByRole("alert")).textContent).toBe("Cannot export the review (io): disk full");
  });

  it("shows a loading state, then the backend's error with a retry", async () => {
    const backend = fakeBackend();
    backend.weeklyReview.mockRejectedValueOnce({ code: "forbidden", message: "supervisors only" });
    render(<ReviewScreen backend={backend} onOpenCase={() => {}} now={now} />);
    expect(screen.getByTestId("review-loading").textContent).toBe("Loading the review…");
    expect((await screen.findByTestId("review-error")).textContent).toBe(
      "Cannot load the review of 2026-W27 (forbidden): supervisors only",
    );
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByTestId("cohort-table")).toBeTruthy();
    expect(screen.queryByTestId("review-error")).toBeNull();
    expect(backend.weeklyReview).toHaveBeenCalledTimes(2);
  });

  it("keeps names out of web storage, the URL and the console", async () => {
    localStorage.clear();
    sessionStorage.clear();
    const logged = ["log", "info", "warn", "error", "debug"].map((m) => vi.spyOn(console, m as "log"));
    const href = window.location.href;
    await renderReview();
    fireEvent.click(screen.getByRole("button", { name: "120" }));
    await screen.findAllByTestId("drill-row");
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(window.location.href).toBe(href);
    for (const spy of logged) expect(spy).not.toHaveBeenCalled();
  });
});

describe("Weekly review tab", () => {
  const session = (role: SessionInfo["role"], user: string): SessionInfo => ({ user, role, locked: false, idle_lock_seconds: 900 });

  it("is offered to supervisors only", () => {
    expect(tabsFor("supervisor")).toContain("review");
    for (const role of ["coordinator", "clinician", "admin"] as const) expect(tabsFor(role)).not.toContain("review");
    expect(tabsFor(null)).toEqual([]);
  });

  it("shows the review to a supervisor and keeps its week while a case is open", async () => {
    const backend = fakeBackend();
    const onRoute = vi.fn();
    const { rerender } = render(
      <Workspace backend={backend} session={session("supervisor", "sue")} route={{ tab: "review", caseId: null }} onRoute={onRoute} onLock={() => {}} />,
    );
    expect(screen.getByTestId("tab-review").textContent).toBe("Weekly review");
    await screen.findByTestId("cohort-table");
    fireEvent.click(screen.getByRole("button", { name: "← Previous week" }));
    await waitFor(() => expect(text("review-week")).toBe("2025-W52"));
    fireEvent.click(within(screen.getByTestId("pending-overdue_cases")).getByRole("button", { name: "Zoë Lefèvre" }));
    expect(onRoute).toHaveBeenCalledWith({ tab: "review", caseId: "case-c1" });

    rerender(<Workspace backend={backend} session={session("supervisor", "sue")} route={{ tab: "review", caseId: "case-c1" }} onRoute={onRoute} onLock={() => {}} />);
    await screen.findByTestId("case-name");
    rerender(<Workspace backend={backend} session={session("supervisor", "sue")} route={{ tab: "review", caseId: null }} onRoute={onRoute} onLock={() => {}} />);
    await screen.findByTestId("cohort-table");
    expect(backend.weeklyReview).toHaveBeenLastCalledWith("2025-W52");
    expect(text("review-week")).toBe("2025-W52");
  });

  it("is not there for a coordinator, even when asked for", async () => {
    const backend = fakeBackend();
    render(<Workspace backend={backend} session={session("coordinator", "ana")} route={{ tab: "review", caseId: null }} onRoute={() => {}} onLock={() => {}} />);
    expect(screen.queryByTestId("tab-review")).toBeNull();
    await waitFor(() => expect(backend.worklist).toHaveBeenCalled());
    expect(backend.weeklyReview).not.toHaveBeenCalled();
  });
});
