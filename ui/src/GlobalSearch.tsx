// Global search as you type: results grouped by kind (people, notes, scripts); opening a
// result is audited and opens the person's case (their open case first).
import { useEffect, useRef, useState, type RefObject } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { SearchHit } from "./bindings/SearchHit";
import { formatApiError, formatDay } from "./format";

export const SEARCH_DEBOUNCE_MS = 150;

const KIND_LABELS: Record<string, string> = {
  person: "People",
  attempt_note: "Attempt notes",
  answer: "Script answers",
  referral_note: "Referral notes",
  escalation_note: "Escalation notes",
  callback_note: "Callback notes",
  script: "Scripts",
};

/** Hits grouped by kind, people first, in the backend's order within a kind. */
export function groupHits(hits: readonly SearchHit[]): { kind: string; label: string; hits: SearchHit[] }[] {
  const order = Object.keys(KIND_LABELS);
  const groups = new Map<string, SearchHit[]>();
  for (const hit of hits) groups.set(hit.kind, [...(groups.get(hit.kind) ?? []), hit]);
  return [...groups.entries()]
    .sort(([a], [b]) => (order.indexOf(a) + 100 * Number(!order.includes(a))) - (order.indexOf(b) + 100 * Number(!order.includes(b))))
    .map(([kind, hits]) => ({ kind, label: KIND_LABELS[kind] ?? kind, hits }));
}

/** The snippet's text without markup (the highlight is shown by <mark> around matched words). */
function Snippet({ html }: { html: string }) {
  // The backend escapes everything except <b>…</b>; rebuild it as React nodes rather than innerHTML.
  const parts = html.split(/<b>|<\/b>/);
  const decode = (s: string) =>
    s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
  return (
    <span className="snippet">
      {parts.map((p, i) => (i % 2 === 1 ? <mark key={i}>{decode(p)}</mark> : <span key={i}>{decode(p)}</span>))}
    </span>
  );
}

export function GlobalSearch({
  backend,
  inputRef,
  onOpenCase,
  onOpenPerson,
}: {
  backend: Backend;
  inputRef: RefObject<HTMLInputElement>;
  onOpenCase: (caseId: string) => void;
  /** A person with no case or several: their cases are listed. */
  onOpenPerson?: (person: { id: string; name: string }) => void;
}) {
  const [text, setText] = useState("");
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const latest = useRef(0);

  useEffect(() => {
    const query = text.trim();
    if (query === "") {
      setHits(null);
      return;
    }
    const timer = setTimeout(() => {
      const request = ++latest.current;
      backend.search({ text: query, limit: 30, segment: null, status: null, owner: null }).then(
        (result) => {
          if (request !== latest.current) return;
          setHits(result);
          setError(null);
        },
        (reason: unknown) => {
          if (request === latest.current) setError(toApiError(reason));
        },
      );
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [backend, text]);

  const open = async (hit: SearchHit) => {
    setMessage(null);
    try {
      await backend.openSearchResult(hit);
      if (!hit.patient_id) {
        setMessage("Scripts open from a case.");
        return;
      }
      const cases = await backend.casesOfPerson(hit.patient_id);
      const [first] = cases;
      if (cases.length === 1 && first) {
        setText("");
        setHits(null);
        onOpenCase(first.case_id);
        return;
      }
      if (!onOpenPerson) {
        setMessage(cases.length === 0 ? `${hit.title} has no case.` : `${hit.title} has ${cases.length} cases.`);
        return;
      }
      setText("");
      setHits(null);
      // A person hit's title is their name; another hit (a note) names them through its person.
      onOpenPerson({ id: hit.patient_id, name: hit.kind === "person" ? hit.title : hit.patient_id });
    } catch (reason) {
      setError(toApiError(reason));
    }
  };

  const groups = hits ? groupHits(hits) : [];
  return (
    <div className="global-search" role="search">
      <label htmlFor="global-search" className="visually-hidden">
        Search people, notes and scripts
      </label>
      <input
        id="global-search"
        ref={inputRef}
        type="search"
        autoComplete="off"
        spellCheck={false}
        placeholder="Search (/ or Ctrl+K)"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") setText("");
        }}
        aria-controls={hits !== null || error || message ? "global-search-results" : undefined}
      />
      {(hits !== null || error || message) && (
        <div id="global-search-results" className="search-results" data-testid="search-results" aria-live="polite">
          {error && <p className="error-text">{formatApiError("Cannot search", error)}</p>}
          {message && <p className="muted">{message}</p>}
          {hits !== null && hits.length === 0 && <p className="muted">Nothing found.</p>}
          {groups.map((g) => (
            <section key={g.kind} aria-label={g.label} data-testid={`search-group-${g.kind}`}>
              <h3>{g.label}</h3>
              <ul className="plain">
                {g.hits.map((hit) => (
                  <li key={`${hit.kind}:${hit.id}`}>
                    <button type="button" className="search-hit" data-testid="search-hit" data-kind={hit.kind} onClick={() => void open(hit)}>
                      <strong data-testid="search-hit-title">{hit.title}</strong>
                      {hit.birth_date && <span className="muted" data-testid="search-hit-born"> · born {formatDay(hit.birth_date)}</span>}
                      <Snippet html={hit.snippet} />
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
    </div>
  );
}
