// Patient list screen: count, debounced search, the patient table and paging.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { PatientPage } from "./bindings/PatientPage";
import type { PatientRow } from "./bindings/PatientRow";
import { formatApiError, formatDay, formatLanguage, formatPatientCount, formatRange, formatSex } from "./format";

export const PAGE_SIZE = 100;
export const SEARCH_DEBOUNCE_MS = 150;

type Query = { text: string; offset: number };

export function PatientList({
  backend,
  onOpenPerson,
}: {
  backend: Backend;
  /** Opens a person's cases (roles that work cases; absent for administrators). */
  onOpenPerson?: (person: { id: string; name: string }) => void;
}) {
  const [searchText, setSearchText] = useState("");
  const [query, setQuery] = useState<Query>({ text: "", offset: 0 });
  const [page, setPage] = useState<PatientPage | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [reloads, setReloads] = useState(0);
  const latestRequest = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);

  // Debounce: the query follows the search box once typing pauses, back on the first page.
  useEffect(() => {
    const timer = setTimeout(() => {
      setQuery((current) => (current.text === searchText ? current : { text: searchText, offset: 0 }));
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [searchText]);

  useEffect(() => {
    const request = ++latestRequest.current;
    const text = query.text.trim();
    setLoading(true);
    backend
      .listPatients({ text: text === "" ? null : text, offset: query.offset, limit: PAGE_SIZE })
      .then(
        (result) => {
          if (request !== latestRequest.current) return;
          setPage(result);
          setError(null);
        },
        (reason: unknown) => {
          if (request !== latestRequest.current) return;
          setError(toApiError(reason));
        },
      )
      .finally(() => {
        if (request === latestRequest.current) setLoading(false);
      });
  }, [backend, query, reloads]);

  // A new page starts at its top row.
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
  }, [page]);

  const total = page?.total ?? 0;
  const offset = page?.offset ?? query.offset;
  const rows = page?.rows ?? [];
  const hasPrevious = offset > 0;
  const hasNext = offset + PAGE_SIZE < total;

  const goTo = (newOffset: number) => setQuery((current) => ({ ...current, offset: Math.max(0, newOffset) }));

  return (
    <div className="app">
      <header className="app-header">
        <h1>Careloop</h1>
        <p className="patient-count" data-testid="patient-count">
          {page ? formatPatientCount(total) : "Loading patients…"}
        </p>
      </header>

      <main className="patients">
        <div className="toolbar">
          <div className="search">
            <label htmlFor="patient-search">Search patients</label>
            <input
              id="patient-search"
              type="search"
              autoComplete="off"
              spellCheck={false}
              placeholder="Name"
              value={searchText}
              onChange={(event) => setSearchText(event.target.value)}
            />
          </div>
          <nav className="pager" aria-label="Patient pages">
            <span className="range" aria-live="polite" data-testid="patient-range">
              {page ? formatRange(offset, rows.length, total) : ""}
            </span>
            <PagerButton label="Previous" enabled={hasPrevious} onClick={() => goTo(offset - PAGE_SIZE)} />
            <PagerButton label="Next" enabled={hasNext} onClick={() => goTo(offset + PAGE_SIZE)} />
          </nav>
        </div>

        {error && (
          <div className="error-banner" role="alert">
            <p className="error-text">{formatApiError("Cannot load patients", error)}</p>
            <button type="button" className="button" onClick={() => setReloads((n) => n + 1)}>
              Retry
            </button>
          </div>
        )}

        {/* The region scrolls on its own so the search and paging stay in view; tabIndex lets the keyboard scroll it. */}
        <div ref={scroller} className="table-scroll" role="region" aria-labelledby="patient-caption" tabIndex={0}>
          <table className="patient-table" aria-busy={loading}>
            <caption id="patient-caption">Patients, sorted by name</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Birth date</th>
              <th scope="col">Sex</th>
              <th scope="col">Language</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <PatientTableRow key={row.id} row={row} onOpen={onOpenPerson} />
            ))}
            {page && rows.length === 0 && (
              <tr>
                <td colSpan={4} className="empty">
                  {query.text.trim() ? `No patients match “${query.text.trim()}”.` : "No patients yet."}
                </td>
              </tr>
            )}
          </tbody>
          </table>
        </div>
      </main>
    </div>
  );
}

// aria-disabled rather than disabled, so a focused button keeps focus at the first or last page.
function PagerButton({ label, enabled, onClick }: { label: string; enabled: boolean; onClick: () => void }) {
  return (
    <button type="button" className="button" aria-disabled={!enabled} onClick={enabled ? onClick : undefined}>
      {label}
    </button>
  );
}

function PatientTableRow({ row, onOpen }: { row: PatientRow; onOpen?: (person: { id: string; name: string }) => void }) {
  return (
    <tr data-testid="patient-row" data-patient-id={row.id}>
      <th scope="row" data-testid="patient-name">
        {onOpen ? (
          <button type="button" className="link" onClick={() => onOpen({ id: row.id, name: row.name })}>
            {row.name}
          </button>
        ) : (
          row.name
        )}
      </th>
      <td>{orMissing(row.birth_date && formatDay(row.birth_date))}</td>
      <td>{orMissing(row.gender && formatSex(row.gender))}</td>
      <td>{orMissing(row.preferred_language && formatLanguage(row.preferred_language))}</td>
    </tr>
  );
}

function orMissing(value: string | null): ReactNode {
  if (value) return value;
  return (
    <>
      <span aria-hidden="true" className="missing">
        —
      </span>
      <span className="visually-hidden">Not recorded</span>
    </>
  );
}
