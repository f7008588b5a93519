import { act, fireEvent, render, screen } from "@testing-library/react";
import { createRef } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GlobalSearch, SEARCH_DEBOUNCE_MS } from "./GlobalSearch";
import { PatientList } from "./PatientList";
import { PersonCases } from "./PersonCases";
import type { SearchHit } from "./bindings/SearchHit";
import { fakeBackend } from "./test/fakeBackend";

afterEach(() => vi.useRealTimers());

const person = { id: "p1", name: "Zoë Lefèvre" };

describe("PersonCases", () => {
  it("lists every case of the person by its list's title, each one opening", async () => {
    const backend = fakeBackend();
    backend.casesOfPerson.mockResolvedValue([
      { case_id: "c1", segment_id: "post_discharge_30d", segment_name: "Post-discharge follow-up", status: "assigned", owner: "ana", due: "2026-07-01T17:00:00Z", overdue: true },
      { case_id: "c2", segment_id: "dormant", segment_name: "Dormant patients", status: "closed", owner: null, due: "2026-05-01T17:00:00Z", overdue: false },
    ]);
    const onOpen = vi.fn();
    render(<PersonCases backend={backend} person={person} onOpenCase={onOpen} onBack={() => {}} />);
    const rows = await screen.findAllByTestId("person-case");
    expect(rows).toHaveLength(2);
    expect(rows[0]?.textContent).toContain("Post-discharge follow-up · Assigned · ana · Overdue · 1 Jul");
    expect(rows[1]?.textContent).toBe("Dormant patients · Closed · unassigned");
    expect(screen.queryByText(/post_discharge_30d/)).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Dormant patients" }));
    expect(onOpen).toHaveBeenCalledWith("c2");
  });

  it("says in words that a person has no case", async () => {
    const backend = fakeBackend();
    render(<PersonCases backend={backend} person={person} onOpenCase={() => {}} onBack={() => {}} />);
    expect((await screen.findByTestId("person-no-case")).textContent).toContain("Zoë Lefèvre has no case");
  });

  it("is where a search result leads for a person without exactly one case", async () => {
    vi.useFakeTimers();
    const backend = fakeBackend();
    const hit: SearchHit = { kind: "person", id: "p1", patient_id: "p1", title: "Zoë Lefèvre", score: 3, snippet: "Zoë", birth_date: "1956-03-12" };
    backend.search.mockResolvedValue([hit]);
    const onOpenPerson = vi.fn();
    const onOpenCase = vi.fn();
    render(<GlobalSearch backend={backend} inputRef={createRef()} onOpenCase={onOpenCase} onOpenPerson={onOpenPerson} />);
    fireEvent.change(screen.getByLabelText("Search people, notes and scripts"), { target: { value: "zoe" } });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS);
    });
    await act(async () => {
      fireEvent.click(screen.getByTestId("search-hit"));
    });
    expect(onOpenPerson).toHaveBeenCalledWith({ id: "p1", name: "Zoë Lefèvre" });
    expect(onOpenCase).not.toHaveBeenCalled();
  });

  it("opens from a row of the Patients list, for roles that work cases", async () => {
    const backend = fakeBackend();
    const onOpenPerson = vi.fn();
    render(<PatientList backend={backend} onOpenPerson={onOpenPerson} />);
    const [first] = await screen.findAllByTestId("patient-name");
    fireEvent.click(first!.querySelector("button")!);
    expect(onOpenPerson).toHaveBeenCalledWith({ id: "p0000", name: "Patient 0000" });
  });
});
