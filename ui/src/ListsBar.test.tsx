import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ListsBar, listsLine } from "./ListsBar";
import { fakeBackend, LISTS_REFRESHED, LISTS_STATUS } from "./test/fakeBackend";

describe("ListsBar", () => {
  it("says what the lists last changed, in words, and when", () => {
    expect(listsLine(LISTS_STATUS)).toBe("Lists changed today: 3 new in Post-discharge · 1 closed by new data · 1 new alert");
    expect(listsLine({ ...LISTS_STATUS, as_of: "2026-07-02" })).toBe(
      "Lists changed on 1 Jul 2026: 3 new in Post-discharge · 1 closed by new data · 1 new alert",
    );
    expect(listsLine({ ...LISTS_STATUS, last_change: null, last_change_on: null })).toBeNull();
  });

  it("shows the alerts with the person's name and acknowledges one", async () => {
    const backend = fakeBackend();
    render(<ListsBar backend={backend} />);
    expect((await screen.findByTestId("lists-line")).textContent).toContain("3 new in Post-discharge");
    expect(screen.getByTestId("lists-to-review").textContent).toBe("2 people wait for a supervisor’s review");
    fireEvent.click(screen.getByTestId("alert-badge"));
    const row = await screen.findByTestId("alert-row");
    expect(row.textContent).toContain("ED visit: Patient 0001");
    expect(row.textContent).not.toContain("p0001");
    fireEvent.click(screen.getByRole("button", { name: "Acknowledge" }));
    await waitFor(() => expect(backend.acknowledgeAlert).toHaveBeenCalledWith("al1", null));
    await waitFor(() => expect(screen.queryByTestId("alert-row")).toBeNull());
  });

  it("reloads when a sync brought something in", async () => {
    const backend = fakeBackend();
    const { rerender } = render(<ListsBar backend={backend} revision={0} />);
    await screen.findByTestId("lists-bar");
    rerender(<ListsBar backend={backend} revision={1} />);
    await waitFor(() => expect(backend.listsStatus).toHaveBeenCalledTimes(2));
  });

  it("offers a supervisor Refresh lists now, with progress, then says what it changed", async () => {
    const backend = fakeBackend();
    let finish: (value: Awaited<ReturnType<typeof backend.refreshLists>>) => void = () => {};
    backend.refreshLists.mockImplementationOnce(() => new Promise((resolve) => (finish = resolve)));
    const onRefreshed = vi.fn();
    render(<ListsBar backend={backend} canRefresh onRefreshed={onRefreshed} />);
    fireEvent.click(await screen.findByTestId("refresh-lists"));
    expect(screen.getByTestId("refresh-progress")).toBeTruthy();
    expect((screen.getByTestId("refresh-lists") as HTMLButtonElement).disabled).toBe(true);
    // The backend's progress: a step it cannot measure, then the share evaluated; other
    // stages (the start-up's) are not the refresh's.
    act(() => backend.emitProgress({ stage: "lists", done: 0, total: null, message: "Reading everyone's facts…" }));
    expect(screen.getByTestId("refresh-progress-text").textContent).toBe("Reading everyone's facts…");
    expect(screen.getByTestId("refresh-progress").hasAttribute("value")).toBe(false);
    act(() => backend.emitProgress({ stage: "lists", done: 250, total: 1000, message: "Evaluating everyone as of today…" }));
    act(() => backend.emitProgress({ stage: "facts", done: 1, total: 2, message: "something else" }));
    expect(screen.getByTestId("refresh-progress-text").textContent).toBe("Evaluating everyone as of today… 250 of 1,000 (25%)");
    const bar = screen.getByTestId("refresh-progress") as HTMLProgressElement;
    expect([bar.value, bar.max]).toEqual([250, 1000]);
    finish({ ...LISTS_REFRESHED });
    expect((await screen.findByTestId("refresh-result")).textContent).toBe(
      "Everyone evaluated as of today (1,000 people): 2 new in Post-discharge · 1 case opened",
    );
    expect(screen.queryByTestId("refresh-progress")).toBeNull();
    expect(onRefreshed).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(backend.listsStatus).toHaveBeenCalledTimes(2));
  });

  it("does not offer Refresh lists now to others", async () => {
    render(<ListsBar backend={fakeBackend()} />);
    await screen.findByTestId("lists-bar");
    expect(screen.queryByTestId("refresh-lists")).toBeNull();
  });
});
