// The worklist: the user's cases or the unassigned pool as a virtualised table (thousands of
// rows stay smooth), filtered by segment, status and due, sorted by any column. Keyboard:
// j/k or the arrow keys move, Enter opens, Home/End jump. Each row says why the person is
// there and when the case is due, with "Overdue" in words.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { WorklistRow } from "./bindings/WorklistRow";
import { formatApiError, formatCount } from "./format";
import { AssignForm } from "./AssignForm";
import { ListsBar } from "./ListsBar";
import {
  applyView,
  DEFAULT_VIEW,
  distinct,
  dueLabel,
  humanize,
  orderReason,
  toggleSort,
  type DueFilter,
  type SortKey,
  type WorklistView,
} from "./worklistModel";

export const WORKLIST_LIMIT = 5000;
export const ROW_HEIGHT = 64;
const systemNow = () => new Date();

type Scope = "mine" | "pool";

const COLUMNS: { key: SortKey; label: string }[] = [
  { key: "name", label: "Person" },
  { key: "segment", label: "Segment and why" },
  { key: "due", label: "Due" },
  { key: "status", label: "Status" },
  { key: "priority", label: "Priority" },
];

export function Worklist({
  backend,
  onOpenCase,
  now = systemNow,
  revision = 0,
  supervisor = false,
  onCallSheet,
}: {
  backend: Backend;
  onOpenCase: (caseId: string) => void;
  now?: () => Date;
  /** Supervisors may refresh the lists from here. */
  supervisor?: boolean;
  /** Opens today's printable call sheet (for those who make calls). */
  onCallSheet?: () => void;
  /** Grows when a sync brought others' work in: the rows reload. */
  revision?: number;
}) {
  const [scope, setScope] = useState<Scope>("mine");
  const [rows, setRows] = useState<WorklistRow[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [view, setView] = useState<WorklistView>(DEFAULT_VIEW);
  const [active, setActive] = useState(0);
  const [reloads, setReloads] = useState(0);
  const [assigned, setAssigned] = useState<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  // The scope whose rows are shown: another scope starts empty, while a reload after a sync
  // keeps the rows (and the scroll position) until the new ones arrive.
  const shownScope = useRef<Scope | null>(null);

  useEffect(() => {
    let current = true;
    if (shownScope.current !== scope) setRows(null);
    shownScope.current = scope;
    backend
      .worklist({
        owner: scope === "mine" ? null : "",
        segment: null,
        status: null,
        due_by: null,
        include_closed: false,
        offset: 0,
        limit: WORKLIST_LIMIT,
      })
      .then(
        (result) => {
          if (!current) return;
          setRows(result);
          setError(null);
        },
        (reason: unknown) => {
          if (current) setError(toApiError(reason));
        },
      );
    return () => {
      current = false;
    };
  }, [backend, scope, reloads, revision]);

  const all = rows ?? [];
  const shown = useMemo(() => applyView(all, view, now()), [all, view, now]);
  const segments = useMemo(() => distinct(all, "segment_id"), [all]);
  const statuses = useMemo(() => distinct(all, "status"), [all]);

  const virtualizer = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });

  useEffect(() => setActive(0), [view, scope]);

  const move = (to: number) => {
    if (shown.length === 0) return;
    const index = Math.max(0, Math.min(shown.length - 1, to));
    setActive(index);
    virtualizer.scrollToIndex(index, { align: "auto" });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === "j" || key === "ArrowDown") move(active + 1);
    else if (key === "k" || key === "ArrowUp") move(active - 1);
    else if (key === "Home") move(0);
    else if (key === "End") move(shown.length - 1);
    else if (key === "PageDown") move(active + 10);
    else if (key === "PageUp") move(active - 10);
    else if (key === "Enter" && shown[active]) onOpenCase(shown[active].case_id);
    else return;
    event.preventDefault();
  };

  const set = (patch: Partial<WorklistView>) => setView((v) => ({ ...v, ...patch }));
  const activeRow = shown[active];

  return (
    <section className="worklist" aria-labelledby="worklist-title">
      <div className="toolbar">
        <h2 id="worklist-title">Worklist</h2>
        <div className="field">
          <label htmlFor="worklist-scope">Cases</label>
          <select id="worklist-scope" value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
            <option value="mine">My cases</option>
            <option value="pool">Unassigned pool</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="worklist-segment">Segment</label>
          <select id="worklist-segment" value={view.segment} onChange={(e) => set({ segment: e.target.value })}>
            <option value="">All segments</option>
            {segments.map((s) => (
              <option key={s} value={s}>
                {all.find((r) => r.segment_id === s)?.segment_name ?? humanize(s)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="worklist-status">Status</label>
          <select id="worklist-status" value={view.status} onChange={(e) => set({ status: e.target.value })}>
            <option value="">All statuses</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {humanize(s)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="worklist-due">Due</label>
          <select id="worklist-due" value={view.due} onChange={(e) => set({ due: e.target.value as DueFilter })}>
            <option value="all">Any time</option>
            <option value="overdue">Overdue</option>
            <option value="today">By today</option>
            <option value="week">Within 7 days</option>
          </select>
        </div>
        <p className="count" aria-live="polite" data-testid="worklist-count">
          {rows === null && !error
            ? "Loading cases…"
            : `${formatCount(shown.length)} of ${formatCount(all.length)} cases${all.length >= WORKLIST_LIMIT ? " (first 5,000)" : ""}`}
        </p>
        {onCallSheet && (
          <button type="button" className="button" onClick={onCallSheet} data-testid="open-call-sheet">
            Today's call sheet
          </button>
        )}
      </div>

      <ListsBar
        backend={backend}
        revision={revision + reloads}
        canRefresh={supervisor}
        onRefreshed={() => setReloads((n) => n + 1)}
      />

      {supervisor && scope === "pool" && shown.length > 0 && (
        <AssignForm
          backend={backend}
          caseIds={shown.map((r) => r.case_id)}
          bulk
          onAssigned={(message) => {
            setAssigned(message);
            setReloads((n) => n + 1);
          }}
        />
      )}
      {assigned && (
        <p role="status" className="notice" data-testid="bulk-assigned">
          {assigned}
        </p>
      )}

      {error && (
        <div className="error-banner" role="alert">
          <p className="error-text">{formatApiError("Cannot load the worklist", error)}</p>
          <button type="button" className="button" onClick={() => setReloads((n) => n + 1)}>
            Retry
          </button>
        </div>
      )}

      <p className="hint" id="worklist-help">
        {view.sort === "action" ? (
          <span data-testid="worklist-order">Who to call first: cases waiting on you, overdue first, then by priority. </span>
        ) : (
          <button type="button" className="link" onClick={() => set({ sort: "action", direction: "asc" })} data-testid="worklist-order-reset">
            Back to who to call first
          </button>
        )}{" "}
        Keys: j/k or arrows move, Enter opens the case, / or Ctrl+K searches.
      </p>
      <div
        className="vtable"
        role="grid"
        aria-rowcount={shown.length + 1}
        aria-labelledby="worklist-title"
        tabIndex={0}
        aria-describedby="worklist-help"
        aria-activedescendant={activeRow ? `wl-${activeRow.case_id}` : undefined}
        onKeyDown={onKeyDown}
        data-testid="worklist-body"
      >
        <div className="vrow vhead" role="row" aria-rowindex={1}>
          {COLUMNS.map((c) => (
            <div
              key={c.key}
              role="columnheader"
              className={`vcell col-${c.key}`}
              aria-sort={view.sort === c.key ? (view.direction === "asc" ? "ascending" : "descending") : "none"}
            >
              <button type="button" className="sort" onClick={() => setView((v) => toggleSort(v, c.key))}>
                {c.label}
                <span aria-hidden="true">{view.sort === c.key ? (view.direction === "asc" ? " ▲" : " ▼") : ""}</span>
              </button>
            </div>
          ))}
        </div>
        {/* The grid holds the focus and the active row; this is only the scrolled rows. */}
        <div ref={scroller} className="vbody" role="rowgroup">
          <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {virtualizer.getVirtualItems().map((item) => {
              const row = shown[item.index];
              if (!row) return null;
              return (
                <div
                  key={row.case_id}
                  id={`wl-${row.case_id}`}
                  role="row"
                  aria-rowindex={item.index + 2}
                  aria-selected={item.index === active}
                  className={`vrow${item.index === active ? " active" : ""}${row.overdue ? " overdue" : ""}`}
                  data-testid="worklist-row"
                  title={orderReason(row)}
                  data-case-id={row.case_id}
                  data-segment={row.segment_id}
                  style={{ position: "absolute", top: 0, left: 0, right: 0, height: item.size, transform: `translateY(${item.start}px)` }}
                  onClick={() => setActive(item.index)}
                  onDoubleClick={() => onOpenCase(row.case_id)}
                >
                  <div role="gridcell" className="vcell col-name">
                    <button type="button" className="link" tabIndex={-1} onClick={() => onOpenCase(row.case_id)} data-testid="worklist-open">
                      {row.name || row.patient_id}
                    </button>
                  </div>
                  <div role="gridcell" className="vcell col-segment">
                    <span className="segment">{row.segment_name}</span>
                    <span className="summary" data-testid="worklist-summary">
                      {row.summary}
                    </span>
                  </div>
                  <div role="gridcell" className="vcell col-due" data-testid="worklist-due">
                    {row.overdue ? <strong className="overdue-text">{dueLabel(row.due, true)}</strong> : dueLabel(row.due, false)}
                  </div>
                  <div role="gridcell" className="vcell col-status">
                    {humanize(row.status)}
                  </div>
                  <div role="gridcell" className="vcell col-priority">
                    {row.priority}
                  </div>
                </div>
              );
            })}
          </div>
          {rows !== null && shown.length === 0 && (
            <p className="empty">
              {all.length === 0
                ? scope === "mine"
                  ? "No cases assigned to you. Choose “Unassigned pool” to claim one."
                  : "The unassigned pool is empty."
                : "No cases match these filters."}
            </p>
          )}
        </div>
      </div>
    </section>
  );
}
