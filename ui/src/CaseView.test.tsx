// Tests for the case view: script in the person's language with branching and required
// answers, the attempt form's payload, backend refusals shown with their code, and claiming.
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { CaseView, nextActionOf, EMPTY_DRAFT } from "./CaseView";
import type { SessionInfo } from "./bindings/SessionInfo";
import { fakeBackend, makeCase } from "./test/fakeBackend";

const ana: SessionInfo = { user: "ana", role: "coordinator", locked: false, idle_lock_seconds: 900 };

describe("CaseView", () => {
  it("shows the summary, why, overdue in words and the script in the person's language", async () => {
    const backend = fakeBackend();
    render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} />);
    expect((await screen.findByTestId("case-name")).textContent).toBe("Zoë Lefèvre");
    expect(screen.getByTestId("case-why").textContent).toBe("Post-discharge: discharged 3 days ago");
    expect(screen.getByTestId("case-summary").textContent).toContain("Overdue · ");
    expect(screen.getByTestId("script-runner").getAttribute("lang")).toBe("es");
    expect(screen.getByTestId("script-intro").textContent).toBe("Hola Ana, le llamamos de su equipo.");
    const why = await screen.findByTestId("case-explanation");
    expect(why.textContent).toContain("Met: days_since_discharge <= 30");
    expect(why.textContent).toContain("Days since discharge: 3");
    expect(why.textContent).toContain("Evidence: Encounter on 2026-06-27");
    expect(why.textContent).toContain("Priority 12 points");
    expect(why.textContent).toContain("+10: Medicines changed at discharge");
  });

  it("requires shown answers, branches, and sends a callback attempt", async () => {
    const backend = fakeBackend();
    render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} />);
    await screen.findByTestId("script-runner");
    fireEvent.click(screen.getByTestId("record-attempt"));
    expect(screen.getByTestId("attempt-problem").textContent).toBe("Answer the required questions first (1 left).");
    expect(backend.recordAttempt).not.toHaveBeenCalled();

    expect(screen.queryByLabelText(/Qué ha empeorado/)).toBeNull();
    fireEvent.click(screen.getByLabelText("Peor"));
    fireEvent.change(screen.getByLabelText(/Qué ha empeorado/), { target: { value: "short of breath" } });
    fireEvent.change(screen.getByLabelText("Outcome"), { target: { value: "emerging_deterioration" } });
    fireEvent.change(screen.getByLabelText("Next action"), { target: { value: "clinician_callback" } });
    fireEvent.change(screen.getByLabelText("Reason for the callback"), { target: { value: "breathless" } });
    fireEvent.click(screen.getByTestId("record-attempt"));
    await waitFor(() => expect(backend.recordAttempt).toHaveBeenCalled());
    expect(backend.recordAttempt).toHaveBeenCalledWith({
      case_id: "c00000",
      channel: "phone",
      reached: true,
      message_id: null,
      answers: { feeling: { kind: "choice", value: "worse" }, worse_how: { kind: "text", value: "short of breath" } },
      outcome: "emerging_deterioration",
      next: { action: "clinician_callback", reason: "breathless" },
      contact_limit_override: null,
      note: null,
    });
    expect((await screen.findByTestId("case-notice")).textContent).toBe("Attempt recorded. The case is now awaiting callback.");
  });

  it("shows the channel rule's refusal with its code", async () => {
    const backend = fakeBackend();
    backend.recordAttempt.mockRejectedValueOnce({
      code: "refused",
      message: "message medicines_check is sensitive and may only go through the patient portal, not sms",
    });
    render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} />);
    await screen.findByTestId("script-runner");
    fireEvent.click(screen.getByLabelText("Mejor"));
    fireEvent.change(screen.getByLabelText("Channel"), { target: { value: "sms" } });
    fireEvent.change(screen.getByLabelText("Message template"), { target: { value: "medicines_check" } });
    expect(screen.getByRole("option", { name: "Medicines check (sensitive: portal only)" })).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Follow-up date"), { target: { value: "2026-07-03" } });
    fireEvent.click(screen.getByTestId("record-attempt"));
    expect((await screen.findByTestId("attempt-error")).textContent).toBe(
      "Cannot record the attempt (refused): message medicines_check is sensitive and may only go through the patient portal, not sms",
    );
  });

  it("offers to claim an unassigned case and hides the attempt form until then", async () => {
    const backend = fakeBackend();
    backend.caseDetail.mockResolvedValueOnce(makeCase("c00000", null));
    render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} />);
    fireEvent.click(await screen.findByTestId("claim-case"));
    await waitFor(() => expect(backend.claimCase).toHaveBeenCalledWith("c00000"));
    expect(await screen.findByTestId("record-attempt")).toBeTruthy();
  });

  it("says what a next action still needs", () => {
    expect(nextActionOf(EMPTY_DRAFT)).toBe("Choose the follow-up date.");
    expect(nextActionOf({ ...EMPTY_DRAFT, next: "close", closeReason: "gap_closed" })).toEqual({ action: "close", reason: "gap_closed" });
  });
});
