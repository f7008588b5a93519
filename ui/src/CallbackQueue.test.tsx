// Tests for the clinician callback queue: documentation needs the outcome, next step and sign-off.
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { CallbackQueue } from "./CallbackQueue";
import { fakeBackend } from "./test/fakeBackend";

describe("CallbackQueue", () => {
  it("documents a callback only with the review sign-off", async () => {
    const backend = fakeBackend();
    render(<CallbackQueue backend={backend} role="clinician" onOpenCase={() => {}} />);
    fireEvent.click(await screen.findByTestId("callback-item"));
    fireEvent.change(screen.getByLabelText("Clinical outcome"), { target: { value: "GP tomorrow" } });
    fireEvent.change(screen.getByLabelText("Next step"), { target: { value: "follow up" } });
    fireEvent.click(screen.getByTestId("document-callback"));
    expect(screen.getByRole("alert").textContent).toBe("Confirm that you reviewed the decision-support output.");
    expect(backend.documentCallback).not.toHaveBeenCalled();

    fireEvent.click(screen.getByLabelText(/reviewed the decision-support output/));
    fireEvent.click(screen.getByTestId("document-callback"));
    await waitFor(() =>
      expect(backend.documentCallback).toHaveBeenCalledWith({
        callback_id: "cb1",
        clinical_outcome: "GP tomorrow",
        next_step: "follow up",
        decision_support_reviewed: true,
      }),
    );
    expect((await screen.findByTestId("callback-notice")).textContent).toBe("Callback for Zoë Lefèvre documented.");
  });

  it("lets a supervisor see the queue but not document", async () => {
    render(<CallbackQueue backend={fakeBackend()} role="supervisor" onOpenCase={() => {}} />);
    fireEvent.click(await screen.findByTestId("callback-item"));
    expect(screen.getByText("Only a clinician documents callbacks.")).toBeTruthy();
    expect(screen.queryByTestId("document-callback")).toBeNull();
  });
});
