import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { TeamView } from "./TeamView";
import { landingTab } from "./Workspace";
import { fakeBackend } from "./test/fakeBackend";

describe("TeamView", () => {
  it("is where a supervisor lands; clinicians land on callbacks, coordinators on the worklist", () => {
    expect(landingTab("supervisor")).toBe("team");
    expect(landingTab("clinician")).toBe("callbacks");
    expect(landingTab("coordinator")).toBe("worklist");
  });

  it("shows caseloads against the capacity, the pool by list with titles, and what waits", async () => {
    const backend = fakeBackend();
    const onGo = vi.fn();
    render(<TeamView backend={backend} onGo={onGo} />);
    const caseloads = await screen.findByTestId("team-caseloads");
    const rows = within(caseloads).getAllByRole("row");
    expect(rows[1]?.textContent).toContain("ana");
    expect(rows[1]?.textContent).toContain("Full (40 of 40)");
    expect(rows[2]?.textContent).toContain("28 more possible");
    const pool = screen.getByTestId("team-unassigned");
    expect(pool.textContent).toContain("Post-discharge follow-up");
    expect(pool.textContent).not.toContain("post_discharge_30d");
    const waiting = screen.getByTestId("team-waiting");
    expect(waiting.textContent).toContain("37 unassigned cases (2 overdue)");
    expect(waiting.textContent).toContain("2 alerts not acknowledged (1 past due)");
    expect(waiting.textContent).toContain("1 callback waiting for a clinician");
    fireEvent.click(screen.getByRole("button", { name: "Assign from the pool" }));
    expect(onGo).toHaveBeenCalledWith("worklist");
  });

  it("says why it cannot load", async () => {
    const backend = fakeBackend();
    backend.teamView.mockRejectedValueOnce({ code: "forbidden", message: "supervisors only" });
    render(<TeamView backend={backend} onGo={() => {}} />);
    expect((await screen.findByText(/Cannot load the team view/)).textContent).toContain("supervisors only");
  });
});
