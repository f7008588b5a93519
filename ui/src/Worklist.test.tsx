// Tests for the virtualised worklist: 5,000 rows render a window, keyboard moves and opens,
// filters and sorting, and overdue said in words.
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { Worklist } from "./Worklist";
import { applyView, DEFAULT_VIEW } from "./worklistModel";
import { fakeBackend, makePatients, makeWorklist } from "./test/fakeBackend";
import { withLayout } from "./test/layout";

withLayout();
const now = () => new Date("2026-06-30T08:00:00Z");

describe("Worklist", () => {
  it("renders only a window of 5,000 rows, with why and due in words", async () => {
    const backend = fakeBackend(makePatients(1), makeWorklist(5000));
    render(<Worklist backend={backend} onOpenCase={() => {}} now={now} />);
    const rows = await screen.findAllByTestId("worklist-row");
    expect(screen.getByTestId("worklist-count").textContent).toBe("5,000 of 5,000 cases (first 5,000)");
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(40);
    const first = rows[0] as HTMLElement;
    // Who to call first: an overdue case of mine with the highest priority (row 7: priority 49).
    expect(within(first).getByTestId("worklist-summary").textContent).toBe("Reason 7: discharged recently");
    expect(first.getAttribute("title")).toBe("Yours to act on, overdue");
    // The segment by its title, not its id.
    expect(first.querySelector(".segment")?.textContent).toBe("Diabetes HbA1c gap");
    expect(screen.getByRole("option", { name: "Diabetes HbA1c gap" })).toBeTruthy();
    expect(within(first).getByTestId("worklist-due").textContent).toMatch(/^Overdue · /);
    expect(backend.worklist).toHaveBeenCalledWith(expect.objectContaining({ owner: null, limit: 5000 }));
  });

  it("moves with j/k and arrows and opens with Enter", async () => {
    const onOpen = vi.fn();
    const backend = fakeBackend(makePatients(1), makeWorklist(50));
    render(<Worklist backend={backend} onOpenCase={onOpen} now={now} />);
    await screen.findAllByTestId("worklist-row");
    const body = screen.getByTestId("worklist-body");
    fireEvent.keyDown(body, { key: "j" });
    fireEvent.keyDown(body, { key: "ArrowDown" });
    fireEvent.keyDown(body, { key: "k" });
    const second = applyView(makeWorklist(50), DEFAULT_VIEW, now())[1]!.case_id;
    expect(body.getAttribute("aria-activedescendant")).toBe(`wl-${second}`);
    fireEvent.keyDown(body, { key: "Enter" });
    expect(onOpen).toHaveBeenCalledWith(second);
  });

  it("filters by segment and sorts by a column header", async () => {
    const backend = fakeBackend(makePatients(1), makeWorklist(60));
    render(<Worklist backend={backend} onOpenCase={() => {}} now={now} />);
    await screen.findAllByTestId("worklist-row");
    fireEvent.change(screen.getByLabelText("Segment"), { target: { value: "dormant" } });
    expect(screen.getByTestId("worklist-count").textContent).toBe("20 of 60 cases");
    fireEvent.click(screen.getByRole("button", { name: /Priority/ }));
    expect(screen.getByRole("columnheader", { name: /Priority/ }).getAttribute("aria-sort")).toBe("descending");
    const priorities = screen.getAllByTestId("worklist-row").map((r) => Number(r.lastElementChild?.textContent));
    expect(priorities).toEqual([...priorities].sort((a, b) => b - a));
    fireEvent.change(screen.getByLabelText("Due"), { target: { value: "overdue" } });
    expect(screen.getAllByTestId("worklist-due").every((d) => d.textContent?.startsWith("Overdue"))).toBe(true);
  });

  it("reloads when a sync brought others' work in, keeping the rows shown until the new ones arrive", async () => {
    const backend = fakeBackend(makePatients(1), makeWorklist(30));
    const { rerender } = render(<Worklist backend={backend} onOpenCase={() => {}} now={now} revision={0} />);
    await screen.findAllByTestId("worklist-row");
    expect(backend.worklist).toHaveBeenCalledTimes(1);
    let answer: (rows: ReturnType<typeof makeWorklist>) => void = () => {};
    backend.worklist.mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
    rerender(<Worklist backend={backend} onOpenCase={() => {}} now={now} revision={1} />);
    expect(backend.worklist).toHaveBeenCalledTimes(2);
    // While the reload runs, the old rows stay (no "Loading", no jump to the top).
    expect(screen.getByTestId("worklist-count").textContent).toBe("30 of 30 cases");
    await act(async () => answer(makeWorklist(29)));
    expect(screen.getByTestId("worklist-count").textContent).toBe("29 of 29 cases");
  });

  it("asks the backend for the unassigned pool", async () => {
    const backend = fakeBackend(makePatients(1), []);
    render(<Worklist backend={backend} onOpenCase={() => {}} now={now} />);
    expect(await screen.findByText(/No cases assigned to you/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Cases"), { target: { value: "pool" } });
    expect(backend.worklist).toHaveBeenLastCalledWith(expect.objectContaining({ owner: "" }));
  });
});
