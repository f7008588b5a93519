// Tests for the patient list: debounced search and paging against a fake backend.
import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PatientList, SEARCH_DEBOUNCE_MS } from "./PatientList";
import { fakeBackend, makePatients } from "./test/fakeBackend";

/** Lets pending backend promises settle and React re-render. */
async function settle() {
  await act(async () => {});
}

afterEach(() => {
  vi.useRealTimers();
});

describe("PatientList", () => {
  it("searches through the backend after the debounce and re-renders", async () => {
    vi.useFakeTimers();
    const backend = fakeBackend(makePatients(250));
    render(<PatientList backend={backend} />);
    await settle();
    expect(screen.getByTestId("patient-count").textContent).toBe("250 patients");

    const search = screen.getByLabelText("Search patients");
    fireEvent.change(search, { target: { value: "Patient 01" } });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS - 10);
    });
    expect(backend.listPatients).not.toHaveBeenCalledWith(expect.objectContaining({ text: "Patient 01" }));

    await act(async () => {
      await vi.advanceTimersByTimeAsync(10);
    });
    expect(backend.listPatients).toHaveBeenLastCalledWith({ text: "Patient 01", offset: 0, limit: 100 });
    expect(screen.getByTestId("patient-count").textContent).toBe("100 patients");
    const rows = screen.getAllByTestId("patient-row");
    expect(rows).toHaveLength(100);
    expect(rows.every((row) => row.textContent?.includes("Patient 01"))).toBe(true);
  });

  it("only queries once for a burst of typing", async () => {
    vi.useFakeTimers();
    const backend = fakeBackend(makePatients(250));
    render(<PatientList backend={backend} />);
    await settle();
    const search = screen.getByLabelText("Search patients");
    for (const value of ["P", "Pa", "Pat"]) {
      fireEvent.change(search, { target: { value } });
      await act(async () => {
        await vi.advanceTimersByTimeAsync(50);
      });
    }
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS);
    });
    const texts = backend.listPatients.mock.calls.map(([query]) => query.text);
    expect(texts).toEqual([null, "Pat"]);
  });

  it("shows an empty state when nothing matches", async () => {
    vi.useFakeTimers();
    const backend = fakeBackend(makePatients(5));
    render(<PatientList backend={backend} />);
    await settle();
    fireEvent.change(screen.getByLabelText("Search patients"), { target: { value: "zzz" } });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS);
    });
    expect(screen.getByTestId("patient-count").textContent).toBe("0 patients");
    expect(screen.queryAllByTestId("patient-row")).toHaveLength(0);
    expect(screen.getByText("No patients match “zzz”.")).toBeTruthy();
    expect(screen.getByTestId("patient-range").textContent).toBe("0 of 0");
  });

  it("requests the right offsets with Next and Previous", async () => {
    const backend = fakeBackend(makePatients(250));
    render(<PatientList backend={backend} />);
    await settle();
    const next = screen.getByRole("button", { name: "Next" });
    const previous = screen.getByRole("button", { name: "Previous" });
    expect(previous.getAttribute("aria-disabled")).toBe("true");

    fireEvent.click(next);
    await settle();
    expect(backend.listPatients).toHaveBeenLastCalledWith({ text: null, offset: 100, limit: 100 });
    expect(screen.getByTestId("patient-range").textContent).toBe("101–200 of 250");

    fireEvent.click(next);
    await settle();
    expect(backend.listPatients).toHaveBeenLastCalledWith({ text: null, offset: 200, limit: 100 });
    expect(screen.getByTestId("patient-range").textContent).toBe("201–250 of 250");
    expect(screen.getAllByTestId("patient-row")).toHaveLength(50);
    expect(next.getAttribute("aria-disabled")).toBe("true");

    const calls = backend.listPatients.mock.calls.length;
    fireEvent.click(next); // at the last page: does nothing
    await settle();
    expect(backend.listPatients).toHaveBeenCalledTimes(calls);

    fireEvent.click(previous);
    await settle();
    expect(backend.listPatients).toHaveBeenLastCalledWith({ text: null, offset: 100, limit: 100 });
    expect(screen.getByTestId("patient-range").textContent).toBe("101–200 of 250");
  });

  it("shows a list error with its code and retries", async () => {
    const backend = fakeBackend(makePatients(3));
    backend.listPatients.mockRejectedValueOnce({ code: "cache_locked", message: "The cache is not open." });
    render(<PatientList backend={backend} />);
    await settle();
    expect(screen.getByRole("alert").textContent).toContain("Cannot load patients (cache_locked): The cache is not open.");
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    await settle();
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.getByTestId("patient-count").textContent).toBe("3 patients");
  });
});
