// Tests for the case view: script in the person's language with branching and required
// answers, the attempt form's payload, backend refusals shown with their code, claiming, and
// sync conflicts (deciding which change stands, with a note) and changes that lost.
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { CaseView, nextActionOf, EMPTY_DRAFT } from "./CaseView";
import type { SessionInfo } from "./bindings/SessionInfo";
import { fakeBackend, makeCase, makeConflicts } from "./test/fakeBackend";

const ana: SessionInfo = { user: "ana", role: "coordinator", locked: false, idle_lock_seconds: 900 };
const cleo: SessionInfo = { user: "cleo", role: "clinician", locked: false, idle_lock_seconds: 900 };

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
    expect(why.textContent).toContain("Evidence: Encounter on 27 Jun 2026");
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

  it("refers the case to a partner's service of the directory, with the person's consent", async () => {
    const backend = fakeBackend();
    render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} />);
    const form = await screen.findByTestId("partner-referral");
    expect(screen.getByLabelText("Service").closest("form")).toBe(form);
    expect(screen.getByTestId("partner-service-detail").textContent).toBe("North district · languages: en, es · adults in the district");
    const send = screen.getByTestId("send-partner-referral") as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Reason for the referral"), { target: { value: "help with bathing" } });
    fireEvent.change(screen.getByLabelText("Consent to share (as recorded)"), { target: { value: "verbal, today" } });
    expect(send.disabled).toBe(false);
    fireEvent.click(send);
    await waitFor(() =>
      expect(backend.sendPartnerReferral).toHaveBeenCalledWith({
        case_id: "c00000",
        service_id: "harbor-home",
        note: "help with bathing",
        consent: "verbal, today",
      }),
    );
    expect((await screen.findByTestId("case-notice")).textContent).toBe(
      "Referred to Home care (Harbor Home Care): they answer within 2 working days.",
    );
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
    expect(screen.getByRole("option", { name: "Medicines check (sensitive: portal only, not by this channel)" })).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Follow-up date"), { target: { value: "2026-07-03" } });
    fireEvent.click(screen.getByTestId("record-attempt"));
    expect((await screen.findByTestId("attempt-error")).textContent).toBe(
      "Cannot record the attempt (refused): message medicines_check is sensitive and may only go through the patient portal, not sms",
    );
  });

  it("offers only the channels and templates the channel rule allows, saying why", async () => {
    const backend = fakeBackend();
    render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} />);
    await screen.findByTestId("script-runner");
    fireEvent.change(screen.getByLabelText("Channel"), { target: { value: "sms" } });
    const sensitive = screen.getByRole("option", { name: "Medicines check (sensitive: portal only, not by this channel)" }) as HTMLOptionElement;
    expect(sensitive.disabled).toBe(true);
    expect(screen.getByTestId("channel-rule").textContent).toContain("portal only");
    // By portal the template can be chosen; then the other channels are the ones not offered.
    fireEvent.change(screen.getByLabelText("Channel"), { target: { value: "portal" } });
    expect((screen.getByRole("option", { name: "Medicines check (sensitive: portal only)" }) as HTMLOptionElement).disabled).toBe(false);
    fireEvent.change(screen.getByLabelText("Message template"), { target: { value: "medicines_check" } });
    expect((screen.getByRole("option", { name: "SMS (not for a sensitive template)" }) as HTMLOptionElement).disabled).toBe(true);
    expect((screen.getByRole("option", { name: "Portal" }) as HTMLOptionElement).disabled).toBe(false);
    expect(screen.queryByTestId("channel-rule")).toBeNull();
  });

  it("offers to claim an unassigned case and hides the attempt form until then", async () => {
    const backend = fakeBackend();
    backend.caseDetail.mockResolvedValueOnce(makeCase("c00000", null));
    render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} />);
    fireEvent.click(await screen.findByTestId("claim-case"));
    await waitFor(() => expect(backend.claimCase).toHaveBeenCalledWith("c00000"));
    expect(await screen.findByTestId("record-attempt")).toBeTruthy();
  });

  it("reloads when a sync brought others' work in, keeping a form being filled in", async () => {
    const backend = fakeBackend();
    const { rerender } = render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} revision={0} />);
    await screen.findByTestId("script-runner");
    fireEvent.change(screen.getByLabelText("Follow-up date"), { target: { value: "2026-07-03" } });
    rerender(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} revision={1} />);
    await waitFor(() => expect(backend.caseDetail).toHaveBeenCalledTimes(2));
    expect(backend.caseConflicts).toHaveBeenCalledTimes(2);
    expect((screen.getByLabelText("Follow-up date") as HTMLInputElement).value).toBe("2026-07-03");

    // The next sync shows that Ben has the case: the attempt form goes, his name shows.
    backend.caseDetail.mockResolvedValueOnce(makeCase("c00000", "ben"));
    rerender(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} revision={2} />);
    await waitFor(() => expect(screen.queryByTestId("record-attempt")).toBeNull());
    expect(screen.getByTestId("case-summary").textContent).toContain("ben");
  });

  it("drops its confirmation when a sync brought others' work in", async () => {
    const backend = fakeBackend();
    backend.caseDetail.mockResolvedValueOnce(makeCase("c00000", null));
    const { rerender } = render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} revision={4} />);
    fireEvent.click(await screen.findByTestId("claim-case"));
    expect((await screen.findByTestId("case-notice")).textContent).toBe("You claimed this case.");
    rerender(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} revision={5} />);
    await waitFor(() => expect(screen.queryByTestId("case-notice")).toBeNull());
  });

  it("says what a next action still needs", () => {
    expect(nextActionOf(EMPTY_DRAFT)).toBe("Choose the follow-up date.");
    expect(nextActionOf({ ...EMPTY_DRAFT, next: "close", closeReason: "gap_closed" })).toEqual({ action: "close", reason: "gap_closed" });
  });

  it("shows no sync conflicts section when the case has none", async () => {
    const backend = fakeBackend();
    render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} />);
    await screen.findByTestId("case-summary");
    expect(backend.caseConflicts).toHaveBeenCalledWith("c00000");
    expect(screen.queryByTestId("sync-conflicts")).toBeNull();
  });

  it("shows resolved conflicts and the changes that lost, such as a claim made elsewhere first", async () => {
    const backend = fakeBackend();
    backend.caseConflicts.mockResolvedValue(makeConflicts());
    render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} />);
    const section = await screen.findByTestId("sync-conflicts");
    expect(section.querySelector("h3")?.textContent).toBe("Sync conflicts");
    expect(screen.getByTestId("resolved-conflicts").textContent).toBe("Resolved by sue: kept Attempt recorded by ben — Ben spoke to her last");
    expect(screen.getByTestId("superseded-events").textContent).toBe("Case claimed by ben changed nothing: claimed by ana");
  });

  it("resolves an open conflict with the chosen event and a required note, then reloads", async () => {
    const backend = fakeBackend();
    backend.caseConflicts.mockResolvedValueOnce(makeConflicts()).mockResolvedValue({ conflicts: [], superseded: [] });
    render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} />);
    const resolve = (await screen.findByTestId("resolve-conflict")) as HTMLButtonElement;
    expect(screen.getByLabelText(/Attempt recorded by ana/)).toBeTruthy();
    expect(resolve.disabled).toBe(true);

    fireEvent.click(screen.getByLabelText(/Case closed by sue/));
    expect(resolve.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Why (kept in the record)"), { target: { value: "   " } });
    expect(resolve.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Why (kept in the record)"), { target: { value: " Sue closed it after the call " } });
    expect(resolve.disabled).toBe(false);

    fireEvent.click(resolve);
    await waitFor(() =>
      expect(backend.resolveConflict).toHaveBeenCalledWith({
        case_id: "c00000",
        events: ["ev-a", "ev-b"],
        kept: "ev-b",
        note: "Sue closed it after the call",
      }),
    );
    expect((await screen.findByTestId("case-notice")).textContent).toBe("Conflict resolved.");
    await waitFor(() => expect(screen.queryByTestId("sync-conflicts")).toBeNull());
    expect(backend.caseConflicts).toHaveBeenCalledTimes(2);
    expect(backend.caseDetail).toHaveBeenCalledTimes(2);
  });

  it("shows a refused resolution with its code", async () => {
    const backend = fakeBackend();
    backend.caseConflicts.mockResolvedValue(makeConflicts());
    backend.resolveConflict.mockRejectedValueOnce({ code: "conflict", message: "it is already resolved" });
    render(<CaseView backend={backend} caseId="c00000" session={ana} onBack={() => {}} />);
    fireEvent.click(await screen.findByLabelText(/Attempt recorded by ana/));
    fireEvent.change(screen.getByLabelText("Why (kept in the record)"), { target: { value: "spoke to her" } });
    fireEvent.click(screen.getByTestId("resolve-conflict"));
    expect((await screen.findByTestId("conflict-error")).textContent).toBe("Cannot resolve the conflict (conflict): it is already resolved");
  });

  it("shows why conflicts could not be loaded, and lists them without a form for a clinician", async () => {
    const failing = fakeBackend();
    failing.caseConflicts.mockRejectedValueOnce({ code: "internal", message: "the sync tables are missing" });
    const { unmount } = render(<CaseView backend={failing} caseId="c00000" session={ana} onBack={() => {}} />);
    expect((await screen.findByTestId("conflicts-error")).textContent).toBe("Cannot load sync conflicts (internal): the sync tables are missing");
    unmount();

    const backend = fakeBackend();
    backend.caseConflicts.mockResolvedValue(makeConflicts());
    render(<CaseView backend={backend} caseId="c00000" session={cleo} onBack={() => {}} />);
    expect((await screen.findByTestId("open-conflict")).textContent).toBe(
      "Attempt recorded by ana / Case closed by sue: waiting for a coordinator or supervisor to decide.",
    );
    expect(screen.queryByTestId("resolve-conflict")).toBeNull();
  });
});
