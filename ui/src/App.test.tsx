// Tests for the start-up flow: progress, the patient list after open, and errors with Retry.
import { act, fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import type { StartupReport } from "./bindings/StartupReport";
import { fakeBackend, makePatients, report } from "./test/fakeBackend";

describe("App", () => {
  it("shows progress events while the cache opens", async () => {
    const backend = fakeBackend();
    let finish: (value: StartupReport) => void = () => {};
    backend.openCache.mockImplementation(() => new Promise((resolve) => (finish = resolve)));
    render(<App backend={backend} />);

    act(() => backend.emitProgress({ stage: "demo", done: 50, total: 300, message: "Loading demo patients" }));
    expect(screen.getByRole("status").textContent).toContain("Loading demo patients");
    expect(screen.getByRole("progressbar").getAttribute("value")).toBe("50");

    await act(async () => finish(report));
    expect(await screen.findByTestId("patient-count")).toBeTruthy();
  });

  it("renders the count and rows from the backend's page after open", async () => {
    const backend = fakeBackend(makePatients(1000));
    render(<App backend={backend} />);

    expect((await screen.findByText("1,000 patients")).dataset.testid).toBe("patient-count");
    const rows = screen.getAllByTestId("patient-row");
    expect(rows).toHaveLength(100);
    expect(rows[0]?.dataset.patientId).toBe("p0000");
    expect(rows[0]?.textContent).toContain("Patient 0000");
    expect(rows[0]?.textContent).toContain("Female");
    expect(screen.getByTestId("patient-range").textContent).toBe("1–100 of 1,000");
    expect(backend.openCache).toHaveBeenCalledTimes(1);
    expect(backend.listPatients).toHaveBeenCalledWith({ text: null, offset: 0, limit: 100 });
  });

  it("shows an UiError with its code and message, and Retry opens the cache again", async () => {
    const backend = fakeBackend();
    backend.openCache.mockRejectedValueOnce({ code: "cache_locked", message: "The cache is in use." });
    render(<App backend={backend} />);

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("Cannot open the cache (cache_locked): The cache is in use.");
    expect(backend.openCache).toHaveBeenCalledTimes(1);

    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByText("250 patients")).toBeTruthy();
    expect(backend.openCache).toHaveBeenCalledTimes(2);
  });

  it("never shows a raw stack for an unexpected rejection", async () => {
    const backend = fakeBackend();
    backend.openCache.mockRejectedValueOnce(new TypeError("boom"));
    render(<App backend={backend} />);
    expect((await screen.findByRole("alert")).textContent).toBe("Cannot open the cache (unknown): boom");
  });
});
