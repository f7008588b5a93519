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
    // One click asks for confirmation (and an optional note); nothing is sent yet.
    fireEvent.click(screen.getByRole("button", { name: "Acknowledge" }));
    expect(backend.escalationStep).not.toHaveBeenCalled();
    fireEvent.change(screen.getByLabelText("Note (optional)"), { target: { value: "calling her daughter" } });
    fireEvent.click(screen.getByRole("button", { name: "Acknowledge" }));
    await waitFor(() =>
      expect(backend.escalationStep).toHaveBeenCalledWith({ escalation_id: "x1", resolve: false, note: "calling her daughter" }),
    );
  });

  it("resolves only with a note, and Cancel sends nothing", async () => {
    const backend = fakeBackend();
    backend.escalations.mockResolvedValue([item({ status: "acknowledged" })]);
    render(<QueueBoard backend={backend} kind="escalations" onOpenCase={() => {}} />);
    fireEvent.click(await screen.findByRole("button", { name: "Resolve" }));
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByTestId("confirm-action")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Resolve" }));
    const confirm = screen.getByRole("button", { name: "Resolve" }) as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Note (required)"), { target: { value: "housing found" } });
    expect(confirm.disabled).toBe(false);
    fireEvent.click(confirm);
    await waitFor(() => expect(backend.escalationStep).toHaveBeenCalledWith({ escalation_id: "x1", resolve: true, note: "housing found" }));
  });

  it("leaves a partner's referral to the partner", async () => {
    const backend = fakeBackend();
    backend.referrals.mockResolvedValue([item({ kind: "Home care (Harbor Home Care)", status: "sent", owner: "Harbor Home Care" })]);
    render(<QueueBoard backend={backend} kind="referrals" onOpenCase={() => {}} />);
    expect((await screen.findByTestId("referrals-row")).textContent).toContain("Answered by Harbor Home Care");
    expect(screen.queryByRole("button", { name: "Accepted" })).toBeNull();
  });

  it("offers the referral steps of each state", async () => {
    expect(referralSteps("sent")).toEqual(["accepted", "declined"]);
    expect(referralSteps("started")).toEqual(["completed"]);
    expect(referralSteps("completed")).toEqual([]);
    const backend = fakeBackend();
    backend.referrals.mockResolvedValue([item({ kind: "housing", status: "sent", overdue: false })]);
    render(<QueueBoard backend={backend} kind="referrals" onOpenCase={() => {}} />);
    fireEvent.click(await screen.findByRole("button", { name: "Accepted" }));
    fireEvent.click(screen.getByRole("button", { name: "Accepted" }));
    await waitFor(() =>
      expect(backend.updateReferral).toHaveBeenCalledWith({ referral_id: "x1", status: "accepted", note: "", on: null }),
    );
  });
});
