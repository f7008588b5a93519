// Tests for global search: as-you-type with a debounce, results grouped by kind, opening a
// person's case (audited through openSearchResult), and the `/` / Ctrl+K shortcut rule.
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { createRef } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GlobalSearch, groupHits, SEARCH_DEBOUNCE_MS } from "./GlobalSearch";
import type { SearchHit } from "./bindings/SearchHit";
import { fakeBackend } from "./test/fakeBackend";
import { isSearchShortcut } from "./Workspace";

afterEach(() => vi.useRealTimers());

const person: SearchHit = { kind: "person", id: "p1", patient_id: "p1", title: "Zoë Lefèvre", score: 3, snippet: "<b>Zoë</b> Lefèvre &amp; co", birth_date: "1956-03-12" };
const note: SearchHit = { kind: "attempt_note", id: "a1", patient_id: "p1", title: "Attempt 2026-06-30 phone", score: 2, snippet: "asked for <b>zoe</b>", birth_date: null };
const script: SearchHit = { kind: "script", id: "s1", patient_id: null, title: "Post discharge", score: 1, snippet: "x", birth_date: null };

describe("GlobalSearch", () => {
  it("groups results by kind with people first", () => {
    expect(groupHits([script, note, person]).map((g) => g.label)).toEqual(["People", "Attempt notes", "Scripts"]);
  });

  it("searches as the user types and opens the person's case", async () => {
    vi.useFakeTimers();
    const backend = fakeBackend();
    backend.search.mockResolvedValue([note, person]);
    backend.casesOfPerson.mockResolvedValue([
      { case_id: "c9", segment_id: "dormant", segment_name: "Dormant", status: "assigned", owner: "ana", due: "2026-07-01T17:00:00Z", overdue: false },
    ]);
    const onOpen = vi.fn();
    render(<GlobalSearch backend={backend} inputRef={createRef()} onOpenCase={onOpen} />);
    fireEvent.change(screen.getByLabelText("Search people, notes and scripts"), { target: { value: "zoe lef" } });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS);
    });
    expect(backend.search).toHaveBeenCalledTimes(1);
    expect(backend.search).toHaveBeenCalledWith(expect.objectContaining({ text: "zoe lef" }));
    const people = screen.getByTestId("search-group-person");
    expect(within(people).getByTestId("search-hit-title").textContent).toBe("Zoë Lefèvre");
    expect(people.querySelector("mark")?.textContent).toBe("Zoë");
    expect(people.textContent).toContain("Lefèvre & co");
    // People of one name are told apart by their birth date, in words.
    expect(within(people).getByTestId("search-hit-born").textContent).toBe(" · born 12 Mar 1956");
    expect(screen.getByTestId("search-group-attempt_note").querySelector("[data-testid=search-hit-born]")).toBeNull();
    await act(async () => {
      fireEvent.click(within(people).getByTestId("search-hit"));
    });
    expect(backend.openSearchResult).toHaveBeenCalledWith(person);
    expect(onOpen).toHaveBeenCalledWith("c9");
  });

  it("focuses on / outside text fields and on Ctrl+K anywhere", () => {
    const input = document.createElement("input");
    const div = document.createElement("div");
    expect(isSearchShortcut({ key: "/", ctrlKey: false, metaKey: false, target: div })).toBe(true);
    expect(isSearchShortcut({ key: "/", ctrlKey: false, metaKey: false, target: input })).toBe(false);
    expect(isSearchShortcut({ key: "k", ctrlKey: true, metaKey: false, target: input })).toBe(true);
  });
});
