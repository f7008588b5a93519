// The supervisor's weekly review, made to be read on a projector in the weekly meeting:
// headline figures, cohorts, pending work, caseloads, equity, over-contact and outcomes for
// one ISO week, with charts. Every number that has a `drill` key opens the cases behind it
// (and from there the case); the review exports as CSV tables or a PDF report.
// PHI: names are only rendered; nothing goes to web storage, the URL or the console.
import { memo, useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from "react";
import { toApiError, type Backend, type ReviewExportFormat, type UiError } from "./backend";
import type { Bucket } from "./bindings/Bucket";
import type { CarePlansReview } from "./bindings/CarePlansReview";
import type { CaseloadRow } from "./bindings/CaseloadRow";
import type { ClosureRow } from "./bindings/ClosureRow";
import type { DrillRow } from "./bindings/DrillRow";
import type { Equity } from "./bindings/Equity";
import type { OverContact } from "./bindings/OverContact";
import type { PartnerRow } from "./bindings/PartnerRow";
import type { Pending } from "./bindings/Pending";
import type { PendingItem } from "./bindings/PendingItem";
import type { PersonRef } from "./bindings/PersonRef";
import type { ResponseRow } from "./bindings/ResponseRow";
import type { RetentionRow } from "./bindings/RetentionRow";
import type { SegmentRow } from "./bindings/SegmentRow";
import type { TimelinessRow } from "./bindings/TimelinessRow";
import type { WeeklyReview } from "./bindings/WeeklyReview";
import { formatApiError, formatCount } from "./format";
import { ClosureCurveChart, ContactsChart, EquityChart, TrendMultiples } from "./reviewCharts";
import {
  compareWeeks,
  currentWeek,
  curveSeries,
  defaultEquityFilter,
  equityChoices,
  filterEquity,
  formatExpected,
  formatFraction,
  formatHorizon,
  formatHours,
  formatIsoWeek,
  formatRate,
  formatRatio,
  formatWeekRange,
  formatWhen,
  groupLabel,
  headline,
  parseIsoWeek,
  segmentNames,
  segmentOrder,
  shiftWeek,
  trendSeries,
  type EquityFilter,
  type Series,
} from "./reviewModel";
import { dueLabel, humanize } from "./worklistModel";

const systemNow = () => new Date();

/** Opens the cases behind a number: its drill key, what the panel is titled, and the button (focus returns there). */
type OnDrill = (key: string, title: string, origin: HTMLElement) => void;
/** Lists people the review names itself (entered, exited). */
type OnPeople = (title: string, people: PersonRef[], segmentId: string, origin: HTMLElement) => void;
type Names = ReadonlyMap<string, string>;

type DrillState = { title: string; rows: DrillRow[] | null; error: UiError | null };
type ExportState = { busy: ReviewExportFormat | null; done: { week: string; format: ReviewExportFormat; path: string } | null; error: UiError | null };

/** More equity bars than this are not charted (choose a segment and a population). */
const EQUITY_CHART_LIMIT = 60;

export function ReviewScreen({
  backend,
  onOpenCase,
  week: initialWeek = null,
  onWeekChange,
  now = systemNow,
}: {
  backend: Backend;
  onOpenCase: (caseId: string) => void;
  /** The week to show first ("2026-W47"); null: the current week. */
  week?: string | null;
  /** Told the week the user moved to, so that coming back from a case shows the same week. */
  onWeekChange?: (week: string | null) => void;
  now?: () => Date;
}) {
  const [requested, setRequested] = useState<string | null>(initialWeek);
  const [attempt, setAttempt] = useState(0);
  const [review, setReview] = useState<WeeklyReview | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<UiError | null>(null);
  const [weekText, setWeekText] = useState(initialWeek ?? "");
  const [weekError, setWeekError] = useState<string | null>(null);
  const [drill, setDrill] = useState<DrillState | null>(null);
  const [exported, setExported] = useState<ExportState>({ busy: null, done: null, error: null });
  const drillRequest = useRef(0);
  const returnFocus = useRef<HTMLElement | null>(null);

  useEffect(() => {
    let current = true;
    setLoading(true);
    backend.weeklyReview(requested).then(
      (result) => {
        if (!current) return;
        setReview(result);
        setWeekText(result.week);
        setError(null);
        setLoading(false);
      },
      (reason: unknown) => {
        if (!current) return;
        // Nothing of another week stays on screen under this week's picker.
        setReview(null);
        setError(toApiError(reason));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [backend, requested, attempt]);

  const thisWeek = currentWeek(now());
  // While another week loads, the picker names it; the tables still show the last one, dimmed.
  const shown = (loading ? requested : null) ?? review?.week ?? requested ?? thisWeek;

  const go = (target: string | null) => {
    setWeekError(null);
    if (target !== null) setWeekText(target);
    if (!error && (target === requested || (review !== null && target === review.week))) return;
    drillRequest.current++;
    setDrill(null);
    setExported({ busy: null, done: null, error: null });
    if (target === requested) setAttempt((n) => n + 1);
    else {
      setRequested(target);
      onWeekChange?.(target);
    }
  };

  const submitWeek = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseIsoWeek(weekText);
    if (!parsed) {
      setWeekError("Enter a week as YYYY-Www, e.g. 2026-W47.");
      return;
    }
    go(formatIsoWeek(parsed));
  };

  const week = review?.week ?? null;
  const openDrill = useCallback<OnDrill>(
    (key, title, origin) => {
      if (week === null) return;
      const request = ++drillRequest.current;
      returnFocus.current = origin;
      setDrill({ title, rows: null, error: null });
      backend.reviewDrill(week, key).then(
        (rows) => {
          if (request === drillRequest.current) setDrill({ title, rows, error: null });
        },
        (reason: unknown) => {
          if (request === drillRequest.current) setDrill({ title, rows: null, error: toApiError(reason) });
        },
      );
    },
    [backend, week],
  );
  const showPeople = useCallback<OnPeople>((title, people, segmentId, origin) => {
    drillRequest.current++;
    returnFocus.current = origin;
    setDrill({
      title,
      rows: people.map((p) => ({ case_id: null, patient_id: p.patient_id, name: p.name, segment_id: segmentId, status: null, owner: null })),
      error: null,
    });
  }, []);
  const closeDrill = useCallback(() => {
    drillRequest.current++;
    setDrill(null);
    returnFocus.current?.focus();
  }, []);

  const runExport = (format: ReviewExportFormat) => {
    if (!review) return;
    const exportedWeek = review.week;
    setExported({ busy: format, done: null, error: null });
    backend.exportReview(exportedWeek, format).then(
      (path) => setExported({ busy: null, done: { week: exportedWeek, format, path }, error: null }),
      (reason: unknown) => setExported({ busy: null, done: null, error: toApiError(reason) }),
    );
  };

  // Everything derived from the review is computed once per review, not per render.
  const derived = useMemo(() => {
    if (!review) return null;
    const names = segmentNames(review);
    const curve = curveSeries(review.closure_curve, names);
    return {
      names,
      headline: headline(review),
      trend: trendSeries(review.trend, segmentOrder(review), names),
      curve,
    };
  }, [review]);

  return (
    <section className="review" aria-labelledby="review-title" aria-busy={loading}>
      <div className="review-toolbar">
        <h2 id="review-title">
          Weekly review <span data-testid="review-week">{shown}</span>
        </h2>
        <form className="review-week" onSubmit={submitWeek} aria-label="Choose the week">
          <button type="button" onClick={() => go(shiftWeek(shown, -1))} disabled={loading || shiftWeek(shown, -1) === null}>
            ← Previous week
          </button>
          <label htmlFor="review-week-input" className="visually-hidden">
            Week (YYYY-Www)
          </label>
          <input
            id="review-week-input"
            value={weekText}
            onChange={(e) => setWeekText(e.target.value)}
            placeholder="2026-W47"
            size={9}
            spellCheck={false}
            autoComplete="off"
            aria-invalid={weekError !== null}
            aria-describedby={weekError ? "review-week-error" : undefined}
          />
          <button type="submit" disabled={loading}>
            Show
          </button>
          <button type="button" onClick={() => go(shiftWeek(shown, 1))} disabled={loading || compareWeeks(shown, thisWeek) >= 0}>
            Next week →
          </button>
          <button type="button" onClick={() => go(null)} disabled={loading || (requested === null && !error) || shown === thisWeek}>
            This week
          </button>
        </form>
        <div className="review-export">
          <button type="button" onClick={() => runExport("csv")} disabled={!review || exported.busy !== null}>
            Export CSV
          </button>
          <button type="button" onClick={() => runExport("pdf")} disabled={!review || exported.busy !== null}>
            Export PDF
          </button>
        </div>
      </div>
      {weekError && (
        <p role="alert" className="error-text" id="review-week-error">
          {weekError}
        </p>
      )}
      {loading && (
        <p role="status" className="muted" data-testid="review-loading">
          Loading the review…
        </p>
      )}
      {error && (
        <div className="error-banner">
          <p role="alert" className="error-text" data-testid="review-error">
            {formatApiError(`Cannot load the review of ${shown}`, error)}
          </p>
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Retry
          </button>
        </div>
      )}
      {exported.busy && (
        <p role="status" className="muted">
          Writing the {exported.busy.toUpperCase()}…
        </p>
      )}
      {exported.done && (
        <p role="status" className="notice" data-testid="export-path">
          Saved the {exported.done.week} review ({exported.done.format.toUpperCase()}) to <code>{exported.done.path}</code>
        </p>
      )}
      {exported.error && (
        <p role="alert" className="error-text">
          {formatApiError("Cannot export the review", exported.error)}
        </p>
      )}
      {review && derived && (
        <div className="review-body">
          <p className="review-period">
            {formatWeekRange(review.starts, review.ends)} ·{" "}
            {review.run
              ? `segmentation run #${review.run.id} of ${review.run.as_of}${review.previous_run ? `, compared with run #${review.previous_run.id} of ${review.previous_run.as_of}` : ", no earlier run to compare with"}`
              : "no segmentation run recorded yet"}
          </p>
          <dl className="review-headline">
            {derived.headline.map((h) => (
              <div key={h.key} className="review-figure" data-testid={`headline-${h.key}`}>
                <dt>{h.label}</dt>
                <dd>{formatCount(h.value)}</dd>
              </div>
            ))}
          </dl>
          <CohortSection segments={review.segments} trend={derived.trend} onDrill={openDrill} onPeople={showPeople} />
          <PendingSection pending={review.pending} names={derived.names} onOpenCase={onOpenCase} />
          <CaseloadSection rows={review.caseload} onDrill={openDrill} />
          <EquitySection equity={review.equity} names={derived.names} onDrill={openDrill} />
          <ContactsSection contacts={review.contacts} onDrill={openDrill} onOpenCase={onOpenCase} />
          <OutcomesSection review={review} names={derived.names} curve={derived.curve} onDrill={openDrill} />
        </div>
      )}
      {drill && <DrillPanel drill={drill} names={derived?.names ?? new Map()} onClose={closeDrill} onOpenCase={onOpenCase} />}
    </section>
  );
}

/** A number with a drill key: a button that lists the cases behind it. */
function DrillNumber({ drill, title, onDrill, children }: { drill: string; title: string; onDrill: OnDrill; children: ReactNode }) {
  if (drill === "") return <>{children}</>;
  return (
    <button type="button" className="link drill" data-drill={drill} title={`Show the cases: ${title}`} onClick={(e) => onDrill(drill, title, e.currentTarget)}>
      {children}
    </button>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section className="review-section" aria-labelledby={`review-${id}`} data-testid={`review-${id}`}>
      <h3 id={`review-${id}`}>{title}</h3>
      {children}
    </section>
  );
}

function EmptyRow({ columns, text = "None." }: { columns: number; text?: string }) {
  return (
    <tr>
      <td colSpan={columns} className="empty">
        {text}
      </td>
    </tr>
  );
}

const CohortSection = memo(function CohortSection({
  segments,
  trend,
  onDrill,
  onPeople,
}: {
  segments: SegmentRow[];
  trend: Series[];
  onDrill: OnDrill;
  onPeople: OnPeople;
}) {
  const people = (row: SegmentRow, which: "entered" | "exited") => {
    const list = row[which];
    if (list.length === 0) return "0";
    return (
      <button
        type="button"
        className="link drill"
        data-people={`${row.segment_id}:${which}`}
        title={`Show who ${which}`}
        onClick={(e) => onPeople(`${row.name}: ${which} (${formatCount(list.length)})`, list, row.segment_id, e.currentTarget)}
      >
        {formatCount(list.length)}
      </button>
    );
  };
  return (
    <Section id="cohorts" title="Cohorts">
      <table className="review-table" data-testid="cohort-table">
        <thead>
          <tr>
            <th scope="col">Segment</th>
            <th scope="col" className="num">Size</th>
            <th scope="col" className="num">Entered</th>
            <th scope="col" className="num">Exited</th>
            <th scope="col" className="num">Worklist</th>
            <th scope="col" className="num">Overflow</th>
            <th scope="col" className="num">Held back</th>
            <th scope="col" className="num">Contacted / capacity</th>
            <th scope="col" className="num">Capacity use</th>
            <th scope="col" className="num">Open cases</th>
          </tr>
        </thead>
        <tbody>
          {segments.length === 0 && <EmptyRow columns={10} text="No segment has members this week." />}
          {segments.map((row) => (
            <tr key={row.segment_id} data-testid="cohort-row">
              <th scope="row">{row.name || row.segment_id}</th>
              <td className="num">
                <DrillNumber drill={row.drill} title={`${row.name}: members (${formatCount(row.size)})`} onDrill={onDrill}>
                  {formatCount(row.size)}
                </DrillNumber>
              </td>
              <td className="num">{people(row, "entered")}</td>
              <td className="num">{people(row, "exited")}</td>
              <td className="num">{formatCount(row.worklist)}</td>
              <td className="num">{formatCount(row.overflow)}</td>
              <td className="num">{formatCount(row.held_back)}</td>
              <td className="num">
                {formatCount(row.contacted)}/{formatCount(row.capacity)}
              </td>
              <td className="num">{formatRate(row.capacity_use)}</td>
              <td className="num">{formatCount(row.open_cases)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <TrendMultiples series={trend} />
    </Section>
  );
});

/** The lists of `Pending` (every field but the superseded count). */
type PendingListKey = { [K in keyof Pending]: Pending[K] extends PendingItem[] ? K : never }[keyof Pending];

const PENDING_LISTS: { key: PendingListKey; title: string; since: string }[] = [
  { key: "overdue_cases", title: "Overdue cases", since: "Opened" },
  { key: "unacknowledged_escalations", title: "Unacknowledged escalations", since: "Raised" },
  { key: "overdue_referrals", title: "Overdue referrals", since: "Sent" },
  { key: "waiting_callbacks", title: "Waiting callbacks", since: "Requested" },
  { key: "open_conflicts", title: "Conflicting outcomes to resolve", since: "Recorded" },
];

const PendingSection = memo(function PendingSection({
  pending,
  names,
  onOpenCase,
}: {
  pending: Pending;
  names: Names;
  onOpenCase: (caseId: string) => void;
}) {
  return (
    <Section id="pending" title="Pending work">
      <div className="review-grid">
        {PENDING_LISTS.map((list) => (
          <PendingTable key={list.key} id={list.key} title={list.title} since={list.since} items={pending[list.key]} names={names} onOpenCase={onOpenCase} />
        ))}
      </div>
      {pending.superseded_events > 0 && (
        <p className="muted" data-testid="pending-superseded">
          {formatCount(pending.superseded_events)} recorded {pending.superseded_events === 1 ? "action" : "actions"} changed nothing because
          someone else's came first (for example two claims of one case); they are kept in the case timeline and not counted here.
        </p>
      )}
    </Section>
  );
});

function PendingTable({
  id,
  title,
  since,
  items,
  names,
  onOpenCase,
}: {
  id: string;
  title: string;
  since: string;
  items: PendingItem[];
  names: Names;
  onOpenCase: (caseId: string) => void;
}) {
  return (
    <table className="review-table" data-testid={`pending-${id}`}>
      <caption>
        {title} ({formatCount(items.length)})
      </caption>
      <thead>
        <tr>
          <th scope="col">Person</th>
          <th scope="col">Segment</th>
          <th scope="col">With</th>
          <th scope="col">{since}</th>
          <th scope="col">Due</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        {items.length === 0 && <EmptyRow columns={6} />}
        {items.map((item) => (
          <tr key={item.id} className={item.overdue ? "overdue" : undefined}>
            <th scope="row">
              <button type="button" className="link" onClick={() => onOpenCase(item.case_id)}>
                {item.name || item.patient_id}
              </button>
            </th>
            <td>{names.get(item.segment_id) ?? item.segment_id}</td>
            <td>{item.owner ?? "Nobody"}</td>
            <td>{formatWhen(item.since)}</td>
            <td className={item.overdue ? "overdue-text" : undefined}>
              {item.due ? dueLabel(item.due, item.overdue) : item.overdue ? "Overdue" : "—"}
            </td>
            <td>{item.detail}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const CaseloadSection = memo(function CaseloadSection({ rows, onDrill }: { rows: CaseloadRow[]; onDrill: OnDrill }) {
  return (
    <Section id="caseload" title="Caseload per coordinator">
      <table className="review-table" data-testid="caseload-table">
        <thead>
          <tr>
            <th scope="col">Coordinator</th>
            <th scope="col" className="num">Open cases</th>
            <th scope="col" className="num">Capacity</th>
            <th scope="col" className="num">Load</th>
            <th scope="col" className="num">Overdue</th>
            <th scope="col" className="num">Attempts</th>
            <th scope="col" className="num">Reached</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && <EmptyRow columns={7} />}
          {rows.map((row) => (
            <tr key={row.user}>
              <th scope="row">{row.user}</th>
              <td className="num">
                <DrillNumber drill={row.drill} title={`${row.user}: open cases (${formatCount(row.open_cases)})`} onDrill={onDrill}>
                  {formatCount(row.open_cases)}
                </DrillNumber>
              </td>
              <td className="num">{formatCount(row.capacity)}</td>
              <td className="num">{formatRate(row.use_share)}</td>
              <td className="num">{formatCount(row.overdue)}</td>
              <td className="num">{formatCount(row.attempts)}</td>
              <td className="num">{formatCount(row.reached)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
});

const POPULATIONS: Record<string, string> = { cohort: "Cohort members", contacted: "Contacted in the week" };

const EquitySection = memo(function EquitySection({ equity, names, onDrill }: { equity: Equity; names: Names; onDrill: OnDrill }) {
  const choices = useMemo(() => equityChoices(equity.rows), [equity.rows]);
  const [chosen, setFilter] = useState<EquityFilter>(() => defaultEquityFilter(choices));
  // Another week may lack the chosen segment or population: start again from the default.
  const filter = useMemo(
    () =>
      (chosen.segment === "" || choices.segments.includes(chosen.segment)) && (chosen.population === "" || choices.populations.includes(chosen.population))
        ? chosen
        : { ...defaultEquityFilter(choices), flaggedOnly: chosen.flaggedOnly },
    [chosen, choices],
  );
  const rows = useMemo(() => filterEquity(equity.rows, filter), [equity.rows, filter]);
  const segmentLabel = (id: string) => (id === "all" ? "Everyone contacted" : (names.get(id) ?? id));
  const flagged = useMemo(() => rows.reduce((n, r) => n + (r.flag ? 1 : 0), 0), [rows]);

  return (
    <Section id="equity" title="Equity">
      <p className="review-note">
        A group is flagged when its share of the population is at least {formatRatio(equity.threshold)} times its share of the panel (over) or
        at most {formatRatio(1 / equity.threshold)} times (under), and at least {formatExpected(equity.min_expected)} people are expected. Panel:{" "}
        {formatCount(equity.panel_size)} people.
      </p>
      <div className="review-filters">
        <div className="field">
          <label htmlFor="equity-segment">Segment</label>
          <select id="equity-segment" value={filter.segment} onChange={(e) => setFilter({ ...filter, segment: e.target.value })}>
            <option value="">Every segment</option>
            {choices.segments.map((s) => (
              <option key={s} value={s}>
                {segmentLabel(s)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="equity-population">Population</label>
          <select id="equity-population" value={filter.population} onChange={(e) => setFilter({ ...filter, population: e.target.value })}>
            <option value="">Every population</option>
            {choices.populations.map((p) => (
              <option key={p} value={p}>
                {POPULATIONS[p] ?? humanize(p)}
              </option>
            ))}
          </select>
        </div>
        <label className="choice">
          <input type="checkbox" checked={filter.flaggedOnly} onChange={(e) => setFilter({ ...filter, flaggedOnly: e.target.checked })} />
          Flagged only
        </label>
        <p className="count" data-testid="equity-count">
          {formatCount(rows.length)} groups, {formatCount(flagged)} flagged
        </p>
      </div>
      {rows.length <= EQUITY_CHART_LIMIT ? (
        <EquityChart rows={rows} threshold={equity.threshold} />
      ) : (
        <p className="hint">Choose a segment and a population to chart the ratios.</p>
      )}
      <table className="review-table" data-testid="equity-table">
        <thead>
          <tr>
            {filter.segment === "" && <th scope="col">Segment</th>}
            {filter.population === "" && <th scope="col">Population</th>}
            <th scope="col">Dimension</th>
            <th scope="col">Group</th>
            <th scope="col" className="num">People</th>
            <th scope="col" className="num">Share</th>
            <th scope="col" className="num">Panel share</th>
            <th scope="col" className="num">Expected</th>
            <th scope="col" className="num">Ratio</th>
            <th scope="col">Flag</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && <EmptyRow columns={10} text="No groups for this choice." />}
          {rows.map((row) => (
            <tr
              key={`${row.segment_id}|${row.population}|${row.dimension}|${row.group}`}
              className={row.flag ? `flagged flag-${row.flag}` : undefined}
              data-testid="equity-row"
              data-flag={row.flag || undefined}
            >
              {filter.segment === "" && <td>{segmentLabel(row.segment_id)}</td>}
              {filter.population === "" && <td>{POPULATIONS[row.population] ?? humanize(row.population)}</td>}
              <td>{humanize(row.dimension)}</td>
              <th scope="row">{groupLabel(row.dimension, row.group)}</th>
              <td className="num">
                <DrillNumber
                  drill={row.drill}
                  title={`${segmentLabel(row.segment_id)}, ${humanize(row.dimension).toLowerCase()} ${groupLabel(row.dimension, row.group)} (${formatCount(row.count)})`}
                  onDrill={onDrill}
                >
                  {formatCount(row.count)}
                </DrillNumber>
                <span className="muted"> of {formatCount(row.population_size)}</span>
              </td>
              <td className="num">{formatRate(row.share)}</td>
              <td className="num">{formatRate(row.panel_share)}</td>
              <td className="num">{formatExpected(row.expected)}</td>
              <td className="num" data-testid="equity-ratio">
                {formatRatio(row.ratio)}
              </td>
              <td>{row.flag === "over" ? "Over" : row.flag === "under" ? "Under" : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
});

const ContactsSection = memo(function ContactsSection({
  contacts,
  onDrill,
  onOpenCase,
}: {
  contacts: OverContact;
  onDrill: OnDrill;
  onOpenCase: (caseId: string) => void;
}) {
  const buckets = useMemo(() => {
    const labels = [...new Set([...contacts.per_week.map((b) => b.contacts), ...contacts.per_month.map((b) => b.contacts)])];
    const week = new Map(contacts.per_week.map((b) => [b.contacts, b]));
    const month = new Map(contacts.per_month.map((b) => [b.contacts, b]));
    return labels.map((label) => ({ label, week: week.get(label), month: month.get(label) }));
  }, [contacts.per_week, contacts.per_month]);
  const cell = (bucket: Bucket | undefined, period: string) =>
    bucket ? (
      <DrillNumber drill={bucket.drill} title={`${bucket.contacts} contacts ${period} (${formatCount(bucket.people)} people)`} onDrill={onDrill}>
        {formatCount(bucket.people)}
      </DrillNumber>
    ) : (
      "—"
    );

  return (
    <Section id="contacts" title="Over-contact">
      <p className="review-note">
        The guard allows {formatCount(contacts.limit)} outbound contacts per person in 7 days; a supervisor may override it with a written reason.
      </p>
      <div className="review-grid">
        <ContactsChart perWeek={contacts.per_week} perMonth={contacts.per_month} />
        <table className="review-table" data-testid="bucket-table">
          <caption>People by contacts received</caption>
          <thead>
            <tr>
              <th scope="col">Contacts</th>
              <th scope="col" className="num">In the week</th>
              <th scope="col" className="num">In 28 days</th>
            </tr>
          </thead>
          <tbody>
            {buckets.length === 0 && <EmptyRow columns={3} />}
            {buckets.map((b) => (
              <tr key={b.label}>
                <th scope="row">{b.label}</th>
                <td className="num">{cell(b.week, "in the week")}</td>
                <td className="num">{cell(b.month, "in 28 days")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="review-grid">
        <table className="review-table" data-testid="above-limit-table">
          <caption>
            Above the limit in some 7 days ({formatCount(contacts.above_limit.length)})
          </caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col" className="num">Contacts in the week</th>
              <th scope="col" className="num">Most in 7 days</th>
            </tr>
          </thead>
          <tbody>
            {contacts.above_limit.length === 0 && <EmptyRow columns={3} />}
            {contacts.above_limit.map((p) => (
              <tr key={p.patient_id}>
                <th scope="row">{p.name || p.patient_id}</th>
                <td className="num">
                  <DrillNumber drill={p.drill} title={`${p.name || p.patient_id}: contacts in the week`} onDrill={onDrill}>
                    {formatCount(p.contacts_in_week)}
                  </DrillNumber>
                </td>
                <td className="num">{formatCount(p.most_in_7_days)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table className="review-table" data-testid="override-table">
          <caption>
            Overrides ({formatCount(contacts.overrides.length)})
            {contacts.overrides_by_user.length > 0 &&
              ` · by ${contacts.overrides_by_user.map((u) => `${u.user}: ${formatCount(u.count)}`).join(", ")}`}
          </caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Person</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {contacts.overrides.length === 0 && <EmptyRow columns={4} />}
            {contacts.overrides.map((o) => (
              <tr key={`${o.at}|${o.case_id}|${o.by}`}>
                <td>{formatWhen(o.at)}</td>
                <td>
                  {o.by} ({humanize(o.role)})
                </td>
                <th scope="row">
                  <button type="button" className="link" onClick={() => onOpenCase(o.case_id)}>
                    {o.name || o.patient_id}
                  </button>
                </th>
                <td>{o.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
});

const OutcomesSection = memo(function OutcomesSection({
  review,
  names,
  curve,
  onDrill,
}: {
  review: WeeklyReview;
  names: Names;
  curve: Series[];
  onDrill: OnDrill;
}) {
  return (
    <Section id="outcomes" title="Outcomes">
      <ClosureTable rows={review.closure} onDrill={onDrill} />
      <ClosureCurveChart series={curve} />
      <div className="review-grid">
        <ResponseTable title="Response by channel" testId="response-channel" rows={review.response_by_channel} label={humanize} onDrill={onDrill} />
        <ResponseTable
          title="Response by segment"
          testId="response-segment"
          rows={review.response_by_segment}
          label={(key) => names.get(key) ?? key}
          onDrill={onDrill}
        />
      </div>
      <RetentionTable rows={review.retention} onDrill={onDrill} />
      <TimelinessTable rows={review.timeliness} onDrill={onDrill} />
      <PartnerTable rows={review.referrals_by_partner} onDrill={onDrill} />
      <CarePlansTable plans={review.care_plans} onDrill={onDrill} />
    </Section>
  );
});

function ClosureTable({ rows, onDrill }: { rows: ClosureRow[]; onDrill: OnDrill }) {
  const horizons = [...new Set(rows.flatMap((r) => r.horizons.map((h) => h.days)))].sort((a, b) => a - b);
  const days = horizons.length > 0 ? horizons : [30, 60, 90];
  return (
    <table className="review-table" data-testid="closure-table">
      <caption>Care-gap closure after the first attempt (closed/eligible)</caption>
      <thead>
        <tr>
          <th scope="col">Segment</th>
          <th scope="col" className="num">Outreached</th>
          {days.map((d) => (
            <th key={d} scope="col" className="num">
              {d} days
            </th>
          ))}
          <th scope="col" className="num">Closed so far</th>
          <th scope="col" className="num">Closed by new data this week</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && <EmptyRow columns={days.length + 4} />}
        {rows.map((row) => (
          <tr key={row.segment_id}>
            <th scope="row">{row.name || row.segment_id}</th>
            <td className="num">
              <DrillNumber drill={row.drill} title={`${row.name}: outreached (${formatCount(row.outreached)})`} onDrill={onDrill}>
                {formatCount(row.outreached)}
              </DrillNumber>
            </td>
            {days.map((d) => {
              const cell = row.horizons.find((h) => h.days === d);
              return (
                <td key={d} className="num" data-testid={`closure-${row.segment_id}-${d}`}>
                  {cell ? (
                    <DrillNumber drill={cell.drill} title={`${row.name}: closed within ${d} days (${formatHorizon(cell)})`} onDrill={onDrill}>
                      {formatHorizon(cell)}
                    </DrillNumber>
                  ) : (
                    "—"
                  )}
                </td>
              );
            })}
            <td className="num">{formatCount(row.closed_so_far)}</td>
            <td className="num" data-testid={`closed-by-data-${row.segment_id}`}>
              <DrillNumber
                drill={row.closed_by_new_data_drill}
                title={`${row.name}: closed by new data this week (${formatCount(row.closed_by_new_data)})`}
                onDrill={onDrill}
              >
                {formatCount(row.closed_by_new_data)}
              </DrillNumber>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ResponseTable({
  title,
  testId,
  rows,
  label,
  onDrill,
}: {
  title: string;
  testId: string;
  rows: ResponseRow[];
  label: (key: string) => string;
  onDrill: OnDrill;
}) {
  return (
    <table className="review-table" data-testid={testId}>
      <caption>{title} (reached/attempts)</caption>
      <thead>
        <tr>
          <th scope="col">{title.replace("Response by ", "").replace(/^./, (c) => c.toUpperCase())}</th>
          <th scope="col" className="num">This week</th>
          <th scope="col" className="num">To date</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && <EmptyRow columns={3} />}
        {rows.map((row) => (
          <tr key={row.key}>
            <th scope="row">{label(row.key)}</th>
            <td className="num">
              <DrillNumber drill={row.drill} title={`${label(row.key)}: attempts this week (${formatCount(row.attempts_week)})`} onDrill={onDrill}>
                {formatFraction(row.reached_week, row.attempts_week, row.rate_week)}
              </DrillNumber>
            </td>
            <td className="num">{formatFraction(row.reached_to_date, row.attempts_to_date, row.rate_to_date)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RetentionTable({ rows, onDrill }: { rows: RetentionRow[]; onDrill: OnDrill }) {
  return (
    <table className="review-table" data-testid="retention-table">
      <caption>Retention: a visit in the 12 months after the first attempt</caption>
      <thead>
        <tr>
          <th scope="col">Segment</th>
          <th scope="col" className="num">Contacted</th>
          <th scope="col" className="num">12 months passed</th>
          <th scope="col" className="num">Retained</th>
          <th scope="col" className="num">Rate</th>
          <th scope="col" className="num">Visit so far</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && <EmptyRow columns={6} />}
        {rows.map((row) => (
          <tr key={row.segment_id}>
            <th scope="row">{row.name || row.segment_id}</th>
            <td className="num">
              <DrillNumber drill={row.drill} title={`${row.name}: contacted (${formatCount(row.contacted)})`} onDrill={onDrill}>
                {formatCount(row.contacted)}
              </DrillNumber>
            </td>
            <td className="num">{formatCount(row.window_complete)}</td>
            <td className="num">{formatCount(row.retained)}</td>
            <td className="num" data-testid="retention-rate">
              {formatRate(row.rate)}
            </td>
            <td className="num">{formatCount(row.retained_so_far)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TimelinessTable({ rows, onDrill }: { rows: TimelinessRow[]; onDrill: OnDrill }) {
  return (
    <table className="review-table" data-testid="timeliness-table">
      <caption>Timeliness of clocks started in the week</caption>
      <thead>
        <tr>
          <th scope="col">Measure</th>
          <th scope="col" className="num">Started</th>
          <th scope="col" className="num">Answered</th>
          <th scope="col" className="num">Median</th>
          <th scope="col" className="num">90th percentile</th>
          <th scope="col" className="num">Within deadline</th>
          <th scope="col" className="num">Overdue</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && <EmptyRow columns={7} />}
        {rows.map((row) => (
          <tr key={row.measure} data-testid={`timeliness-${row.measure}`}>
            <th scope="row">{row.label || humanize(row.measure)}</th>
            <td className="num">
              <DrillNumber drill={row.drill} title={`${row.label}: started in the week (${formatCount(row.started)})`} onDrill={onDrill}>
                {formatCount(row.started)}
              </DrillNumber>
            </td>
            <td className="num">{formatCount(row.answered)}</td>
            <td className="num">{formatHours(row.median_hours)}</td>
            <td className="num">{formatHours(row.p90_hours)}</td>
            <td className="num">{formatFraction(row.within_deadline, row.started, row.rate_within)}</td>
            <td className="num">{formatCount(row.overdue)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PartnerTable({ rows, onDrill }: { rows: PartnerRow[]; onDrill: OnDrill }) {
  return (
    <table className="review-table" data-testid="partners-table">
      <caption>Referrals by partner and service (sent in the last four weeks)</caption>
      <thead>
        <tr>
          <th scope="col">Partner</th>
          <th scope="col">Service</th>
          <th scope="col" className="num">Sent</th>
          <th scope="col" className="num">Median answer</th>
          <th scope="col" className="num">Answered in time</th>
          <th scope="col" className="num">Declined</th>
          <th scope="col" className="num">Started in time</th>
          <th scope="col" className="num">Completed</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && <EmptyRow columns={8} />}
        {rows.map((row) => (
          <tr key={`${row.partner}/${row.service}`} data-testid="partner-row">
            <th scope="row">{row.partner}</th>
            <td>{row.service}</td>
            <td className="num">
              <DrillNumber drill={row.drill} title={`${row.partner}, ${row.service}: referrals sent (${formatCount(row.sent)})`} onDrill={onDrill}>
                {formatCount(row.sent)}
              </DrillNumber>
            </td>
            <td className="num">{formatHours(row.median_response_hours)}</td>
            <td className="num">{formatFraction(row.answered_in_time, row.answered, row.rate_answered_in_time)}</td>
            <td className="num" title={row.decline_reasons.join("; ")}>
              {formatCount(row.declined)}
            </td>
            <td className="num">{formatFraction(row.started_in_time, row.started, row.rate_started_in_time)}</td>
            <td className="num">{formatCount(row.completed)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CarePlansTable({ plans, onDrill }: { plans: CarePlansReview; onDrill: OnDrill }) {
  return (
    <table className="review-table" data-testid="care-plans-table">
      <caption>
        Care plan actions by owner: {formatCount(plans.active_plans)} plans, {formatCount(plans.reviews_held)} case reviews held this week,{" "}
        {formatCount(plans.reviews_upcoming)} upcoming
      </caption>
      <thead>
        <tr>
          <th scope="col">Owner</th>
          <th scope="col" className="num">Open</th>
          <th scope="col" className="num">Overdue</th>
          <th scope="col" className="num">Done this week</th>
        </tr>
      </thead>
      <tbody>
        {plans.actions_by_owner.length === 0 && <EmptyRow columns={4} />}
        {plans.actions_by_owner.map((row) => (
          <tr key={row.owner} data-testid="plan-owner-row">
            <th scope="row">{row.owner}</th>
            <td className="num">{formatCount(row.open)}</td>
            <td className="num">
              <DrillNumber drill={row.drill} title={`${row.owner}: overdue actions (${formatCount(row.overdue)})`} onDrill={onDrill}>
                {formatCount(row.overdue)}
              </DrillNumber>
            </td>
            <td className="num">{formatCount(row.done_in_week)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The cases behind a number, beside the review; Escape or Close returns to the number. */
function DrillPanel({
  drill,
  names,
  onClose,
  onOpenCase,
}: {
  drill: DrillState;
  names: Names;
  onClose: () => void;
  onOpenCase: (caseId: string) => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [drill.title]);
  return (
    <aside
      className="review-drill"
      role="dialog"
      aria-modal="false"
      aria-labelledby="review-drill-title"
      data-testid="drill-panel"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div className="toolbar">
        <h3 id="review-drill-title" ref={heading} tabIndex={-1}>
          {drill.title}
        </h3>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {drill.error && (
        <p role="alert" className="error-text">
          {formatApiError("Cannot list the cases", drill.error)}
        </p>
      )}
      {drill.rows === null && !drill.error && (
        <p role="status" className="muted">
          Loading the cases…
        </p>
      )}
      {drill.rows && (
        <table className="review-table" data-testid="drill-table">
          <caption>{formatCount(drill.rows.length)} listed</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Segment</th>
              <th scope="col">Status</th>
              <th scope="col">With</th>
              <th scope="col">
                <span className="visually-hidden">Open</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {drill.rows.length === 0 && <EmptyRow columns={5} text="Nobody." />}
            {drill.rows.map((row, i) => (
              <tr key={`${row.case_id ?? ""}|${row.patient_id}|${i}`} data-testid="drill-row">
                <th scope="row">{row.name || row.patient_id}</th>
                <td>{row.segment_id === null ? "—" : (names.get(row.segment_id) ?? row.segment_id)}</td>
                <td>{row.status === null ? "—" : humanize(row.status)}</td>
                <td>{row.owner ?? "—"}</td>
                <td>
                  {row.case_id !== null && (
                    <button type="button" className="link" onClick={() => onOpenCase(row.case_id as string)}>
                      Open case
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </aside>
  );
}
