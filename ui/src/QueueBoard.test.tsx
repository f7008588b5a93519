// Tests for the escalation queue and referral board: the steps each state allows.
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { QueueBoard, referralSteps } from "./QueueBoard";
import type { QueueItem } from "./bindings/QueueItem";
import { fakeBackend } from "./test/fakeBackend";

const item = (patch: Partial<QueueItem>): QueueItem => ({
  id: "x1",
  case_id: "c1",
  patient_id: "p1",
  name: "Zoë Lefèvre",
  kind: "social_crisis",
  status: "raised",
  owner: "coordinator",
  deadline: "2026-06-30T13:00:00Z",
  overdue: true,
  detail: "",
  ...patch,
});

describe("QueueBoard", () => {
  it("acknowledges a raised escalation and says overdue in words", async () => {
    const backend = fakeBackend();
    backend.escalations.mockResolvedValue([item({})]);
    render(<QueueBoard backend={backend} kind="escalations" onOpenCase={() => {}} />);
    const row = await screen.findByTestId("escalations-row");
    expect(row.textContent).toContain("Overdue · ");
    fireEvent.click(screen.getByRole("button", { name: "Acknowledge" }));
    await waitFor(() => expect(backend.escalationStep).toHaveBeenCalledWith({ escalation_id: "x1", resolve: false, note: "" }));
  });

  it("offers the referral steps of each state", async () => {
    expect(referralSteps("sent")).toEqual(["accepted", "declined"]);
    expect(referralSteps("started")).toEqual(["completed"]);
    expect(referralSteps("completed")).toEqual([]);
    const backend = fakeBackend();
    backend.referrals.mockResolvedValue([item({ kind: "housing", status: "sent", overdue: false })]);
    render(<QueueBoard backend={backend} kind="referrals" onOpenCase={() => {}} />);
    fireEvent.click(await screen.findByRole("button", { name: "Accepted" }));
    await waitFor(() =>
      expect(backend.updateReferral).toHaveBeenCalledWith({ referral_id: "x1", status: "accepted", note: "", on: null }),
    );
  });
});
