import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { AssignForm, assignedLine } from "./AssignForm";
import { fakeBackend } from "./test/fakeBackend";

describe("AssignForm", () => {
  it("says what was assigned and why the rest was not", () => {
    expect(assignedLine({ assigned: 3, refused: [] }, 3, "ana")).toBe("Assigned 3 of 3 to ana.");
    expect(assignedLine({ assigned: 1, refused: ["ana already has 40 open cases (weekly capacity 40)", "x"] }, 3, "ana")).toBe(
      "Assigned 1 of 3 to ana. 2 not assigned: ana already has 40 open cases (weekly capacity 40)",
    );
  });

  it("assigns the first N cases shown, in order, to the chosen person", async () => {
    const backend = fakeBackend();
    const onAssigned = vi.fn();
    render(<AssignForm backend={backend} caseIds={["c1", "c2", "c3", "c4"]} bulk onAssigned={onAssigned} />);
    await screen.findByRole("option", { name: "ben" });
    fireEvent.change(screen.getByLabelText("Assign the first"), { target: { value: "2" } });
    fireEvent.change(screen.getByLabelText("to"), { target: { value: "ben" } });
    fireEvent.click(screen.getByRole("button", { name: "Assign 2" }));
    await waitFor(() => expect(backend.assignCases).toHaveBeenCalledWith(["c1", "c2"], "ben"));
    await waitFor(() => expect(onAssigned).toHaveBeenCalledWith("Assigned 2 of 2 to ben."));
  });

  it("reassigns one case to anyone but its owner", async () => {
    const backend = fakeBackend();
    render(<AssignForm backend={backend} caseIds={["c9"]} bulk={false} exclude="ana" onAssigned={() => {}} />);
    await screen.findByRole("option", { name: "ben" });
    expect(screen.queryByRole("option", { name: "ana" })).toBeNull();
    expect((screen.getByRole("button", { name: "Reassign" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Reassign to"), { target: { value: "ben" } });
    fireEvent.click(screen.getByRole("button", { name: "Reassign" }));
    await waitFor(() => expect(backend.assignCases).toHaveBeenCalledWith(["c9"], "ben"));
  });
});
