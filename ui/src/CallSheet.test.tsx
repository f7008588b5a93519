import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { CallSheet } from "./CallSheet";
import { Worklist } from "./Worklist";
import { CALL_SHEET, fakeBackend } from "./test/fakeBackend";

describe("CallSheet", () => {
  it("lists today's calls with what a call needs, in words, and prints", async () => {
    const backend = fakeBackend();
    const print = vi.fn();
    render(<CallSheet backend={backend} onBack={() => {}} print={print} />);
    const call = await screen.findByTestId("call-sheet-call");
    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Calls for 1 Jul 2026 · ana");
    expect(call.textContent).toContain("Zoë Lefèvre · born 12 Mar 1956");
    expect(call.textContent).toContain("555-0142");
    expect(call.textContent).toContain("Spanish");
    expect(call.textContent).toContain("Overdue · 30 Jun");
    expect(call.textContent).toContain("Try: Phone, morning (answered in the morning before)");
    expect(call.textContent).toContain("Hola, le llamo de la clínica");
    expect(call.textContent).toContain("¿Tiene sus medicamentos?");
    expect(call.querySelector("ul")?.getAttribute("lang")).toBe("es");
    fireEvent.click(screen.getByTestId("print-call-sheet"));
    expect(print).toHaveBeenCalledTimes(1);
  });

  it("says when there is nothing to call, and does not offer to print it", async () => {
    const backend = fakeBackend();
    backend.callSheet.mockResolvedValue({ ...CALL_SHEET, calls: [] });
    render(<CallSheet backend={backend} onBack={() => {}} print={() => {}} />);
    expect((await screen.findByTestId("call-sheet-empty")).textContent).toContain("No calls are due today");
    expect((screen.getByTestId("print-call-sheet") as HTMLButtonElement).disabled).toBe(true);
  });

  it("is opened from the worklist", async () => {
    const onCallSheet = vi.fn();
    render(<Worklist backend={fakeBackend()} onOpenCase={() => {}} onCallSheet={onCallSheet} />);
    fireEvent.click(await screen.findByTestId("open-call-sheet"));
    expect(onCallSheet).toHaveBeenCalledTimes(1);
  });
});
