import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { CarePlanView, actionProblem, ownerLabel } from "./CarePlanView";
import { CarePlanWork, workKind } from "./CarePlanWork";
import { CaseView } from "./CaseView";
import type { SessionInfo } from "./bindings/SessionInfo";
import { PLAN_CHOICES, fakeBackend, makePlan } from "./test/fakeBackend";

const ana: SessionInfo = { user: "ana", role: "coordinator", locked: false, idle_lock_seconds: 900 };
const ben: SessionInfo = { user: "ben", role: "coordinator", locked: false, idle_lock_seconds: 900 };
const target = { patientId: "p0001", name: "Patient 0001", caseId: "c1" };

function select(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

describe("CarePlanView", () => {
  it("shows owners, dates and statuses in words, never the stored ids", async () => {
    const backend = fakeBackend();
    render(<CarePlanView backend={backend} session={ana} target={target} onBack={() => {}} />);
    const domains = await screen.findByTestId("plan-domains");
    expect(domains.textContent).toContain("Harbor Home Care (partner)");
    expect(domains.textContent).not.toContain("partner:harbor");
    const actions = screen.getByTestId("plan-actions");
    expect(actions.textContent).toContain("Overdue · 20 Jun 2026");
    expect(actions.textContent).toContain("ana (coordinator) (you)");
    expect(screen.getByTestId("plan-reviews").textContent).toContain("10 Jul 2026 · ana, carl · scheduled by ana · not held yet");
    expect(screen.getByTestId("plan-timeline").textContent).toContain("care plan started, led by ana");
  });

  it("starts a plan from the case, led by whoever is chosen", async () => {
    const backend = fakeBackend();
    backend.carePlanOfPerson.mockResolvedValue(null);
    render(<CarePlanView backend={backend} session={ana} target={target} onBack={() => {}} />);
    await screen.findByTestId("start-plan");
    await screen.findByRole("option", { name: "carl (clinician)" });
    select("Lead coordinator", "carl");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Start a shared care plan" }));
    });
    expect(backend.startCarePlan).toHaveBeenCalledWith("c1", "carl");
    expect(screen.getByTestId("plan-lead").textContent).toBe("carl (clinician)");
    expect(screen.getByTestId("plan-notice").textContent).toBe("Care plan started.");
  });

  it("cannot be started without a case to start it from", async () => {
    const backend = fakeBackend();
    backend.carePlanOfPerson.mockResolvedValue(null);
    render(<CarePlanView backend={backend} session={ana} target={{ ...target, caseId: null }} onBack={() => {}} />);
    expect((await screen.findByTestId("no-plan")).textContent).toContain("started from one of their cases");
    expect(screen.queryByRole("button", { name: "Start a shared care plan" })).toBeNull();
  });

  it("adds an action only once it says what, who and by when", async () => {
    const backend = fakeBackend();
    render(<CarePlanView backend={backend} session={ana} target={target} onBack={() => {}} />);
    const form = await screen.findByTestId("add-action");
    await within(form).findByRole("option", { name: "Housing" });
    await act(async () => {
      fireEvent.click(within(form).getByRole("button", { name: "Add the action" }));
    });
    expect(within(form).getByRole("alert").textContent).toBe("Choose the action's domain.");
    expect(backend.addCarePlanAction).not.toHaveBeenCalled();
    fireEvent.change(within(form).getByLabelText("Domain"), { target: { value: "housing" } });
    fireEvent.change(within(form).getByLabelText("Action"), { target: { value: "  Visit the flat  " } });
    fireEvent.change(within(form).getByLabelText("Who"), { target: { value: "partner:harbor" } });
    fireEvent.change(within(form).getByLabelText("Due"), { target: { value: "2026-07-15" } });
    expect(form.textContent).toContain("(15 Jul 2026)");
    await act(async () => {
      fireEvent.click(within(form).getByRole("button", { name: "Add the action" }));
    });
    expect(backend.addCarePlanAction).toHaveBeenCalledWith(makePlan().plan_id, {
      domain: "housing",
      text: "Visit the flat",
      owner: "partner:harbor",
      due: "2026-07-15",
    });
    expect((within(form).getByLabelText("Action") as HTMLInputElement).value).toBe("");
  });

  it("marks an action done with what was done, and shows the backend's refusal when there is one", async () => {
    const backend = fakeBackend();
    backend.closeCarePlanAction.mockRejectedValueOnce({ code: "conflict", message: "the action is already done" });
    render(<CarePlanView backend={backend} session={ana} target={target} onBack={() => {}} />);
    fireEvent.click(await screen.findByRole("button", { name: "Done…" }));
    fireEvent.change(screen.getByLabelText("What was done"), { target: { value: "form sent" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Mark done" }));
    });
    expect(screen.getByTestId("plan-error").textContent).toContain("the action is already done");
    expect(screen.getByTestId("close-action")).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Mark done" }));
    });
    expect(backend.closeCarePlanAction).toHaveBeenLastCalledWith({
      plan_id: makePlan().plan_id,
      action_id: makePlan().actions[0]?.action_id,
      done: true,
      note: "form sent",
    });
    expect(screen.queryByTestId("close-action")).toBeNull();
    expect(screen.getByTestId("plan-notice").textContent).toBe("Action marked done.");
  });

  it("records a case review's decisions with the actions they make (the lead)", async () => {
    const backend = fakeBackend();
    render(<CarePlanView backend={backend} session={ana} target={target} onBack={() => {}} />);
    fireEvent.click(await screen.findByRole("button", { name: "Record the review…" }));
    const review = screen.getByTestId("record-review");
    await within(review).findAllByRole("option", { name: "carl (clinician)" });
    fireEvent.change(within(review).getByLabelText("Decisions"), { target: { value: "More frequent monitoring" } });
    fireEvent.change(within(review).getByLabelText("Domain"), { target: { value: "housing" } });
    fireEvent.change(within(review).getByLabelText("Action"), { target: { value: "Weekly call" } });
    fireEvent.change(within(review).getByLabelText("Who"), { target: { value: "carl" } });
    fireEvent.change(within(review).getByLabelText("Due"), { target: { value: "2026-07-20" } });
    await act(async () => {
      fireEvent.click(within(review).getByRole("button", { name: "Add to the decisions" }));
    });
    expect(within(review).getByTestId("review-actions").textContent).toContain("Weekly call · carl (clinician) · by 20 Jul 2026");
    await act(async () => {
      fireEvent.click(within(review).getByRole("button", { name: "Record the review" }));
    });
    expect(backend.recordCaseReview).toHaveBeenCalledWith({
      plan_id: makePlan().plan_id,
      review_id: makePlan().reviews[0]?.review_id,
      decisions: "More frequent monitoring",
      actions: [{ domain: "housing", text: "Weekly call", owner: "carl", due: "2026-07-20" }],
    });
    expect(screen.getByTestId("plan-notice").textContent).toBe("Case review of 10 Jul 2026 recorded with 1 new action.");
  });

  it("offers case reviews only to a supervisor or the plan's lead", async () => {
    const backend = fakeBackend();
    render(<CarePlanView backend={backend} session={ben} target={target} onBack={() => {}} />);
    await screen.findByTestId("plan-reviews");
    expect(screen.queryByRole("button", { name: "Record the review…" })).toBeNull();
    expect(screen.queryByTestId("schedule-review")).toBeNull();
    expect(screen.getByTestId("add-action")).toBeTruthy();
  });

  it("sets monitoring and says the rhythm back in words", async () => {
    const backend = fakeBackend();
    render(<CarePlanView backend={backend} session={ana} target={target} onBack={() => {}} />);
    const form = await screen.findByTestId("set-monitoring");
    await within(form).findByRole("option", { name: "ana (coordinator)" });
    fireEvent.change(within(form).getByLabelText("Contact every (days)"), { target: { value: "14" } });
    fireEvent.change(within(form).getByLabelText("Until"), { target: { value: "2026-09-30" } });
    fireEvent.change(within(form).getByLabelText("By"), { target: { value: "ana" } });
    await act(async () => {
      fireEvent.click(within(form).getByRole("button", { name: "Set monitoring" }));
    });
    expect(backend.setCarePlanMonitoring).toHaveBeenCalledWith({ plan_id: makePlan().plan_id, every_days: 14, until: "2026-09-30", owner: "ana" });
    expect(screen.getByTestId("plan-monitoring").textContent).toBe(
      "ana (coordinator) contacts the person every 14 days from 1 Jul 2026 until 30 Sept 2026. Next contact due 1 Jul 2026.",
    );
  });

  it("exports the plan as FHIR and says where", async () => {
    const backend = fakeBackend();
    render(<CarePlanView backend={backend} session={ana} target={target} onBack={() => {}} />);
    const button = await screen.findByTestId("export-plan");
    await act(async () => {
      fireEvent.click(button);
    });
    expect(screen.getByTestId("plan-notice").textContent).toContain(`careloop-care-plan-${makePlan().plan_id}.json`);
  });

  it("is opened from the case with the case to start it from", async () => {
    const backend = fakeBackend();
    const onOpenPlan = vi.fn();
    render(<CaseView backend={backend} caseId="c1" session={ana} onBack={() => {}} onOpenPlan={onOpenPlan} />);
    fireEvent.click(await screen.findByTestId("open-care-plan"));
    expect(onOpenPlan).toHaveBeenCalledWith(expect.objectContaining({ caseId: "c1" }));
  });
});

describe("CarePlanWork", () => {
  it("lists what is due in words and opens the person's plan", async () => {
    const backend = fakeBackend();
    const onOpenPlan = vi.fn();
    render(<CarePlanWork backend={backend} onOpenPlan={onOpenPlan} />);
    const row = await screen.findByTestId("plan-work-overdue_action");
    expect(row.textContent).toContain("20 Jun 2026");
    expect(row.textContent).toContain("Overdue action");
    fireEvent.click(within(row).getByRole("button", { name: "Patient 0001" }));
    expect(onOpenPlan).toHaveBeenCalledWith({ patientId: "p0001", name: "Patient 0001", caseId: null });
  });

  it("says when nothing is due", async () => {
    const backend = fakeBackend();
    backend.carePlanWork.mockResolvedValue([]);
    render(<CarePlanWork backend={backend} onOpenPlan={() => {}} />);
    expect((await screen.findByTestId("plan-work")).textContent).toContain("Nothing is due");
  });
});

describe("care plan helpers", () => {
  it("name owners and kinds and find what an action lacks", () => {
    expect(ownerLabel(PLAN_CHOICES, "partner:harbor")).toBe("Harbor Home Care (partner)");
    expect(ownerLabel(PLAN_CHOICES, "zed")).toBe("zed");
    expect(workKind("review_proposed")).toBe("Case review proposed");
    expect(actionProblem({ domain: "health", text: " ", owner: "ana", due: "2026-07-01" })).toBe("Say what is to be done.");
    expect(actionProblem({ domain: "health", text: "x", owner: "ana", due: "2026-07-01" })).toBeNull();
  });
});
