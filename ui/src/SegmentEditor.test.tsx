// Tests for the segment editor: errors at their line and column, preview before publish.
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { errorPosition, offsetOf, SegmentEditor } from "./SegmentEditor";
import { DEFINITION, fakeBackend } from "./test/fakeBackend";

describe("SegmentEditor", () => {
  it("finds an error's position in the draft", () => {
    expect(errorPosition("draft:3:12: unknown signal 'x'")).toEqual({ line: 3, column: 12 });
    expect(errorPosition("no position")).toBeNull();
    expect(offsetOf("ab\ncd\nef", 2, 2)).toBe(4);
  });

  it("shows a validation error in place and moves the cursor there", async () => {
    const backend = fakeBackend();
    backend.previewSegment.mockRejectedValueOnce({ code: "bad_input", message: "draft:4:12: unknown signal `days_since_contactt` (did you mean `days_since_contact`?)" });
    render(<SegmentEditor backend={backend} />);
    const editor = (await screen.findByLabelText(/Definition/)) as HTMLTextAreaElement;
    await waitFor(() => expect(editor.value).toContain('"dormant"'));
    fireEvent.click(screen.getByRole("button", { name: "Check and preview" }));
    const error = await screen.findByTestId("segment-error");
    expect(error.textContent).toMatch(/^Line 4, column 12: The definition has a problem \(bad_input\): draft:4:12: unknown signal/);
    expect(editor.getAttribute("aria-invalid")).toBe("true");
    expect(editor.selectionStart).toBe(offsetOf(editor.value, 4, 12));
    expect((screen.getByTestId("publish-segment") as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows a received version that cannot be evaluated and stays out of force", async () => {
    const backend = fakeBackend();
    const problem = 'segment "dormant" version 4 (published by sam at 2026-06-30T10:00:00Z) cannot be evaluated here and is not used; version 3 stays in force: published:dormant@4:5:40: segment "dormant", in rule: "within 100000000 days" is too long';
    backend.segmentDefinitions.mockResolvedValueOnce([{ ...DEFINITION, problems: [problem] }]);
    render(<SegmentEditor backend={backend} />);
    expect((await screen.findByTestId("segment-problems")).textContent).toBe(problem);
  });

  it("shows no problems when every version can be evaluated", async () => {
    const backend = fakeBackend();
    render(<SegmentEditor backend={backend} />);
    const editor = (await screen.findByLabelText(/Definition/)) as HTMLTextAreaElement;
    await waitFor(() => expect(editor.value).toContain('"dormant"'));
    expect(screen.queryByTestId("segment-problems")).toBeNull();
  });

  it("publishes only after previewing the same text", async () => {
    const backend = fakeBackend();
    render(<SegmentEditor backend={backend} />);
    const editor = (await screen.findByLabelText(/Definition/)) as HTMLTextAreaElement;
    await waitFor(() => expect(editor.value).toContain('"dormant"'));
    fireEvent.click(screen.getByRole("button", { name: "Check and preview" }));
    expect((await screen.findByTestId("segment-impact")).textContent).toContain("3 added, 1 removed");
    fireEvent.change(editor, { target: { value: editor.value + " " } });
    expect((screen.getByTestId("publish-segment") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Check and preview" }));
    await screen.findByTestId("segment-impact");
    fireEvent.click(screen.getByTestId("publish-segment"));
    expect((await screen.findByTestId("segment-notice")).textContent).toBe("Published dormant version 4.");
    expect(backend.publishSegment).toHaveBeenCalledWith({ text: expect.stringContaining('"dormant"') });
  });
});
