// The case view: minimum-necessary summary for the role, why the person is on the list,
// contact, timeline, the script runner in the person's language and the attempt form (the
// backend applies the channel rule and the over-contact guard; its refusals are shown with
// their code), the next action, and claiming or closing the case; and the case's sync
// conflicts (two workstations changed it at once) with a form to decide which change stands.
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { CaseConflicts } from "./bindings/CaseConflicts";
import type { CaseDetail } from "./bindings/CaseDetail";
import type { ChannelName } from "./bindings/ChannelName";
import type { CloseReasonName } from "./bindings/CloseReasonName";
import type { ConflictDto } from "./bindings/ConflictDto";
import type { EscalationKindName } from "./bindings/EscalationKindName";
import type { ExplanationDto } from "./bindings/ExplanationDto";
import type { NextActionDto } from "./bindings/NextActionDto";
import type { OutcomeName } from "./bindings/OutcomeName";
import type { PartnerServiceDto } from "./bindings/PartnerServiceDto";
import type { ScriptDto } from "./bindings/ScriptDto";
import type { ServiceTypeName } from "./bindings/ServiceTypeName";
import type { SessionInfo } from "./bindings/SessionInfo";
import { AssignForm } from "./AssignForm";
import type { PlanTarget } from "./CarePlanView";
import { formatApiError, formatChannel, formatDateTime, formatDay, formatLanguage, pickedDay } from "./format";
import { ScriptRunner } from "./ScriptRunner";
import { answersToSend, missingRequired, type Answers } from "./scriptModel";
import { dueLabel, humanize } from "./worklistModel";

export const CHANNELS: readonly ChannelName[] = ["phone", "sms", "portal", "email", "letter", "home_visit", "peer_contact"];
export const OUTCOMES: readonly OutcomeName[] = [
  "confirmed_stable",
  "emerging_deterioration",
  "needs_different_pathway",
  "declined",
  "unreachable",
  "wrong_number",
];
export const CLOSE_REASONS: readonly CloseReasonName[] = [
  "stable",
  "re_engaged",
  "gap_closed",
  "declined",
  "unreachable",
  "moved_or_deceased",
  "not_appropriate",
];
export const ESCALATION_KINDS: readonly EscalationKindName[] = ["clinical_concern", "safeguarding", "social_crisis", "no_contact", "overdue_referral"];
export const SERVICES: readonly ServiceTypeName[] = [
  "home_care",
  "meals",
  "transport",
  "follow_up_clinic",
  "benefits",
  "housing",
  "behavioural_health",
  "emergency_assistance",
];

type NextKind = NextActionDto["action"];

export type AttemptDraft = {
  channel: ChannelName;
  reached: boolean;
  messageId: string;
  outcome: OutcomeName;
  next: NextKind;
  followUpOn: string;
  callbackReason: string;
  escalationKind: EscalationKindName;
  referService: ServiceTypeName;
  actionNote: string;
  closeReason: CloseReasonName;
  override: string;
  note: string;
};

export const EMPTY_DRAFT: AttemptDraft = {
  channel: "phone",
  reached: true,
  messageId: "",
  outcome: "confirmed_stable",
  next: "follow_up",
  followUpOn: "",
  callbackReason: "",
  escalationKind: "clinical_concern",
  referService: "follow_up_clinic",
  actionNote: "",
  closeReason: "stable",
  override: "",
  note: "",
};

/** The next action the draft describes, or why it is incomplete. */
export function nextActionOf(d: AttemptDraft): NextActionDto | string {
  switch (d.next) {
    case "follow_up":
      return d.followUpOn ? { action: "follow_up", on: d.followUpOn } : "Choose the follow-up date.";
    case "clinician_callback":
      return d.callbackReason.trim() ? { action: "clinician_callback", reason: d.callbackReason.trim() } : "Say why a clinician should call back.";
    case "escalate":
      return { action: "escalate", kind: d.escalationKind, note: d.actionNote };
    case "refer":
      return { action: "refer", service: d.referService, note: d.actionNote };
    case "close":
      return { action: "close", reason: d.closeReason };
  }
}

export function CaseView({
  backend,
  caseId,
  session,
  onBack,
  onOpenPlan,
  revision = 0,
}: {
  backend: Backend;
  caseId: string;
  session: SessionInfo;
  onBack: () => void;
  /** Opens the person's shared care plan (or the form to start one from this case). */
  onOpenPlan?: (target: PlanTarget) => void;
  /** Grows when a sync brought others' work in: the case reloads (a form being filled in stays). */
  revision?: number;
}) {
  const [detail, setDetail] = useState<CaseDetail | null>(null);
  const [script, setScript] = useState<ScriptDto | null>(null);
  const [explanation, setExplanation] = useState<ExplanationDto | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [actionError, setActionError] = useState<UiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const noticeRef = useRef<HTMLParagraphElement>(null);
  // A confirmation is brought into view and focused (the form that caused it may be far below).
  useEffect(() => {
    if (notice) noticeRef.current?.focus();
  }, [notice]);

  // A confirmation ("You claimed this case.") no longer holds once a sync brought others'
  // work in: the case shown may say otherwise ("already claimed by ben").
  const shownRevision = useRef(revision);
  useEffect(() => {
    if (revision !== shownRevision.current) setNotice(null);
    shownRevision.current = revision;
  }, [revision]);

  const [conflicts, setConflicts] = useState<CaseConflicts | null>(null);
  const [conflictsError, setConflictsError] = useState<UiError | null>(null);

  const load = useCallback(() => {
    // The explanation is secondary: the case opens without it.
    backend.caseExplanation(caseId).then(setExplanation, () => setExplanation(null));
    // So are sync conflicts, but a failure to load them is shown.
    backend.caseConflicts(caseId).then(
      (c) => {
        setConflicts(c);
        setConflictsError(null);
      },
      (reason: unknown) => setConflictsError(toApiError(reason)),
    );
    return Promise.all([backend.caseDetail(caseId), backend.caseScript(caseId)]).then(
      ([d, s]) => {
        setDetail(d);
        setScript(s);
        setError(null);
      },
      (reason: unknown) => setError(toApiError(reason)),
    );
  }, [backend, caseId]);

  useEffect(() => {
    void load();
  }, [load, revision]);

  const canWork = session.role === "coordinator" || session.role === "supervisor";
  const mine = detail !== null && (detail.owner === session.user || session.role === "supervisor");

  const claim = () => {
    setActionError(null);
    backend.claimCase(caseId).then(
      () => {
        setNotice("You claimed this case.");
        void load();
      },
      (reason: unknown) => setActionError(toApiError(reason)),
    );
  };

  return (
    <article className="case-view" aria-labelledby="case-title" data-testid="case-view">
      <div className="toolbar">
        <button type="button" onClick={onBack}>
          ← Back
        </button>
        <h2 id="case-title" data-testid="case-name">
          {detail ? (detail.name ?? detail.patient_id) : "Loading case…"}
        </h2>
        {detail && canWork && detail.owner === null && detail.status !== "closed" && (
          <button type="button" className="primary" onClick={claim} data-testid="claim-case">
            Claim case
          </button>
        )}
        {detail && onOpenPlan && session.role !== "admin" && (
          <button
            type="button"
            data-testid="open-care-plan"
            onClick={() => onOpenPlan({ patientId: detail.patient_id, name: detail.name, caseId: detail.status === "closed" ? null : caseId })}
          >
            Care plan
          </button>
        )}
        {detail && session.role === "supervisor" && detail.status !== "closed" && (
          <AssignForm
            backend={backend}
            caseIds={[caseId]}
            bulk={false}
            exclude={detail.owner}
            onAssigned={(message) => {
              setNotice(message);
              void load();
            }}
          />
        )}
      </div>
      {error && (
        <p role="alert" className="error-text">
          {formatApiError("Cannot open the case", error)}
        </p>
      )}
      {notice && (
        <p role="status" className="notice" data-testid="case-notice" tabIndex={-1} ref={noticeRef}>
          {notice}
        </p>
      )}
      {actionError && (
        <p role="alert" className="error-text" data-testid="case-action-error">
          {formatApiError("Cannot do that", actionError)}
        </p>
      )}
      {detail && (
        <SyncConflicts
          backend={backend}
          caseId={caseId}
          conflicts={conflicts}
          error={conflictsError}
          canResolve={canWork}
          onResolved={() => {
            setNotice("Conflict resolved.");
            void load();
          }}
        />
      )}
      {detail && (
        <div className="case-grid">
          <div className="case-column">
            <CaseSummary detail={detail} />
            {explanation && <Explanation explanation={explanation} />}
            <Timeline detail={detail} />
          </div>
          <div className="case-column">
            {canWork && mine && detail.status !== "closed" && (
              <PartnerReferral
                backend={backend}
                caseId={caseId}
                onSent={(message) => {
                  setNotice(message);
                  void load();
                }}
              />
            )}
            {script && canWork && mine && detail.status !== "closed" ? (
              <AttemptPanel
                backend={backend}
                detail={detail}
                script={script}
                isSupervisor={session.role === "supervisor"}
                onRecorded={(message) => {
                  setNotice(message);
                  void load();
                }}
              />
            ) : (
              script && (
                <>
                  <ScriptRunner script={script} answers={{}} onChange={() => {}} missing={[]} />
                  {canWork && detail.status !== "closed" && <p className="muted">Claim the case to document an attempt.</p>}
                </>
              )
            )}
          </div>
        </div>
      )}
    </article>
  );
}

/** Refers the case to a service of the directory: the partner organisation answers it itself
 * (accept or decline, start, outcome), and each answer shows in the timeline after a sync. */
function PartnerReferral({ backend, caseId, onSent }: { backend: Backend; caseId: string; onSent: (message: string) => void }) {
  const [services, setServices] = useState<PartnerServiceDto[] | null>(null);
  const [serviceId, setServiceId] = useState("");
  const [note, setNote] = useState("");
  const [consent, setConsent] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  useEffect(() => {
    backend.partnerServices().then(
      (list) => {
        setServices(list);
        setServiceId((current) => current || (list[0]?.service_id ?? ""));
      },
      () => setServices([]),
    );
  }, [backend]);
  if (!services || services.length === 0) return null;
  const chosen = services.find((s) => s.service_id === serviceId);
  const send = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    backend.sendPartnerReferral({ case_id: caseId, service_id: serviceId, note, consent }).then(
      () => {
        setBusy(false);
        setNote("");
        setConsent("");
        onSent(`Referred to ${chosen ? `${chosen.name} (${chosen.partner})` : "the partner"}: they answer within ${chosen?.respond_within_working_days ?? "?"} working days.`);
      },
      (reason: unknown) => {
        setBusy(false);
        setError(toApiError(reason));
      },
    );
  };
  return (
    <form className="panel" aria-labelledby="partner-referral-title" onSubmit={send} data-testid="partner-referral">
      <h3 id="partner-referral-title">Refer to a partner</h3>
      <div className="form-grid">
        <label htmlFor="partner-service">Service</label>
        <select id="partner-service" value={serviceId} onChange={(e) => setServiceId(e.target.value)}>
          {services.map((s) => (
            <option key={s.service_id} value={s.service_id}>
              {s.name} — {s.partner}
            </option>
          ))}
        </select>
        {chosen && (
          <p className="muted" data-testid="partner-service-detail">
            {[chosen.area || "Any area", chosen.languages.length > 0 ? `languages: ${chosen.languages.join(", ")}` : "", chosen.eligibility]
              .filter((x) => x)
              .join(" · ")}
          </p>
        )}
        <label htmlFor="partner-note">Reason for the referral</label>
        <input id="partner-note" value={note} onChange={(e) => setNote(e.target.value)} />
        <label htmlFor="partner-consent">Consent to share (as recorded)</label>
        <input id="partner-consent" value={consent} required placeholder="e.g. verbal consent, today" onChange={(e) => setConsent(e.target.value)} />
      </div>
      <button type="submit" disabled={busy || consent.trim() === ""} data-testid="send-partner-referral">
        {busy ? "Sending…" : "Send referral"}
      </button>
      {error && (
        <p role="alert" className="error-text" data-testid="partner-referral-error">
          {formatApiError("Cannot send the referral", error)}
        </p>
      )}
    </form>
  );
}

function CaseSummary({ detail }: { detail: CaseDetail }) {
  return (
    <section className="panel" aria-labelledby="summary-title" data-testid="case-summary">
      <h3 id="summary-title">Summary</h3>
      <dl className="facts">
        <dt>Segment</dt>
        <dd>{detail.segment_name}</dd>
        <dt>Why</dt>
        <dd data-testid="case-why">{detail.summary}</dd>
        <dt>Status</dt>
        <dd data-testid="case-status">{humanize(detail.status)}</dd>
        <dt>Owner</dt>
        <dd>{detail.owner ?? "Unassigned"}</dd>
        <dt>Due</dt>
        <dd>{detail.overdue ? <strong className="overdue-text">{dueLabel(detail.due, true)}</strong> : dueLabel(detail.due, false)}</dd>
        <dt>Priority</dt>
        <dd>{detail.priority}</dd>
        {detail.birth_date && (
          <>
            <dt>Birth date</dt>
            <dd>{formatDay(detail.birth_date)}</dd>
          </>
        )}
        <dt>Language</dt>
        <dd>{detail.preferred_language ? formatLanguage(detail.preferred_language) : "Not recorded"}</dd>
        <dt>Contacts in 7 days</dt>
        <dd>{detail.contacts_in_last_7_days}</dd>
        {detail.contact && (
          <>
            <dt>Phone</dt>
            <dd>{detail.contact.phone ?? "Not recorded"}</dd>
            <dt>Address</dt>
            <dd>{detail.contact.address ?? "Not recorded"}</dd>
          </>
        )}
      </dl>
      {detail.clinical && (
        <>
          <h4>Clinical (active)</h4>
          <ul className="plain">
            {detail.clinical.length === 0 ? <li>Nothing active recorded.</li> : detail.clinical.map((c) => <li key={c}>{c}</li>)}
          </ul>
        </>
      )}
    </section>
  );
}

/** An event kind as words: "case.claimed" → "Case claimed". */
export function eventKindLabel(kind: string): string {
  return humanize(kind.replace(/\./g, " "));
}

/** "Attempt recorded by ana": the `index`th event of a conflict. */
function conflictEventLabel(conflict: ConflictDto, index: number): string {
  return `${eventKindLabel(conflict.kinds[index] ?? "change")} by ${conflict.actors[index] ?? "someone"}`;
}

/** What a resolved conflict kept, as words (the event id when it is not one of the two). */
export function keptLabel(conflict: ConflictDto): string {
  const index = conflict.kept === null ? -1 : conflict.events.indexOf(conflict.kept);
  return index < 0 ? (conflict.kept ?? "nothing") : conflictEventLabel(conflict, index);
}

function SyncConflicts({
  backend,
  caseId,
  conflicts,
  error,
  canResolve,
  onResolved,
}: {
  backend: Backend;
  caseId: string;
  conflicts: CaseConflicts | null;
  error: UiError | null;
  canResolve: boolean;
  onResolved: () => void;
}) {
  if (error) {
    return (
      <p role="alert" className="error-text" data-testid="conflicts-error">
        {formatApiError("Cannot load sync conflicts", error)}
      </p>
    );
  }
  if (!conflicts || (conflicts.conflicts.length === 0 && conflicts.superseded.length === 0)) return null;
  const open = conflicts.conflicts.filter((c) => c.resolved_by === null);
  const resolved = conflicts.conflicts.filter((c) => c.resolved_by !== null);
  return (
    <section className="panel sync-conflicts" aria-labelledby="conflicts-title" data-testid="sync-conflicts">
      <h3 id="conflicts-title">Sync conflicts</h3>
      {open.length > 0 && (
        <>
          <p className="muted">Two workstations changed this case before they synced. Decide which change stands.</p>
          <ul className="conflict-list">
            {open.map((c) => (
              <li key={c.events.join(":")}>
                <ConflictForm backend={backend} caseId={caseId} conflict={c} canResolve={canResolve} onResolved={onResolved} />
              </li>
            ))}
          </ul>
        </>
      )}
      {resolved.length > 0 && (
        <ul className="plain conflict-outcomes" data-testid="resolved-conflicts">
          {resolved.map((c) => (
            <li key={c.events.join(":")}>
              Resolved by {c.resolved_by}: kept {keptLabel(c)}
              {c.note ? ` — ${c.note}` : ""}
            </li>
          ))}
        </ul>
      )}
      {conflicts.superseded.length > 0 && (
        <ul className="plain conflict-outcomes" data-testid="superseded-events">
          {conflicts.superseded.map((e) => (
            <li key={e.event_id}>
              {eventKindLabel(e.kind)} by {e.actor} changed nothing: {e.why}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ConflictForm({
  backend,
  caseId,
  conflict,
  canResolve,
  onResolved,
}: {
  backend: Backend;
  caseId: string;
  conflict: ConflictDto;
  canResolve: boolean;
  onResolved: () => void;
}) {
  const [kept, setKept] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const id = `conflict-${conflict.events.join("-")}`;

  if (!canResolve) {
    return (
      <p data-testid="open-conflict">
        {conflictEventLabel(conflict, 0)} / {conflictEventLabel(conflict, 1)}: waiting for a coordinator or supervisor to decide.
      </p>
    );
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (kept === null || !note.trim()) return;
    setBusy(true);
    setError(null);
    backend.resolveConflict({ case_id: caseId, events: conflict.events, kept, note: note.trim() }).then(
      () => {
        setBusy(false);
        onResolved();
      },
      (reason: unknown) => {
        setBusy(false);
        setError(toApiError(reason));
      },
    );
  };

  return (
    <form className="conflict-form" onSubmit={submit} data-testid="open-conflict" noValidate>
      <fieldset>
        <legend>Which change stands?</legend>
        {conflict.events.map((eventId, i) => (
          <label key={eventId} className="choice">
            <input type="radio" name={id} value={eventId} checked={kept === eventId} onChange={() => setKept(eventId)} />
            {conflictEventLabel(conflict, i)} <code className="muted">{eventId}</code>
          </label>
        ))}
      </fieldset>
      <label htmlFor={`${id}-note`}>Why (kept in the record)</label>
      <textarea id={`${id}-note`} rows={2} required aria-required="true" value={note} onChange={(e) => setNote(e.target.value)} />
      <button type="submit" className="primary" disabled={busy || kept === null || !note.trim()} data-testid="resolve-conflict">
        {busy ? "Resolving…" : "Resolve"}
      </button>
      {error && (
        <p role="alert" className="error-text" data-testid="conflict-error">
          {formatApiError("Cannot resolve the conflict", error)}
        </p>
      )}
    </form>
  );
}

/** A signal's value as text ("unknown" for null). */
export function formatSignal(value: number | string | boolean | null): string {
  if (value === null) return "unknown";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

function Explanation({ explanation }: { explanation: ExplanationDto }) {
  return (
    <section className="panel" aria-labelledby="why-title" data-testid="case-explanation">
      <h3 id="why-title">Why this person is on the list</h3>
      <ul className="conditions">
        {explanation.conditions.map((c, i) => (
          <li key={i}>
            <span className="condition-state">{c.held ? "Met:" : "Not met:"}</span> <code>{c.text}</code>
            {c.signals.length > 0 && (
              <ul>
                {c.signals.map((s) => (
                  <li key={s.name}>
                    {humanize(s.name)}: {formatSignal(s.value)}
                  </li>
                ))}
              </ul>
            )}
            {c.evidence.length > 0 && (
              <ul>
                {c.evidence.map((e) => (
                  <li key={`${e.resource_type}/${e.id}`}>
                    Evidence: {e.resource_type}
                    {e.code ? ` ${e.code}` : ""}
                    {e.date ? ` on ${formatDay(e.date)}` : ""}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
      {explanation.priority && (
        <>
          <h4>Priority {explanation.priority.total} points</h4>
          <ul>
            {explanation.priority.points.map((p, i) => (
              <li key={i}>
                +{p.points}: {p.reason}
              </li>
            ))}
          </ul>
        </>
      )}
      {explanation.held_back && <p className="muted">Held back: {explanation.held_back}</p>}
    </section>
  );
}

function Timeline({ detail }: { detail: CaseDetail }) {
  return (
    <section className="panel" aria-labelledby="timeline-title">
      <h3 id="timeline-title">Timeline</h3>
      <ol className="timeline" data-testid="timeline">
        {detail.timeline.map((t, i) => (
          <li key={i}>
            <time dateTime={t.at}>{formatDateTime(t.at)}</time> · {t.actor} ({t.role}): {t.detail}
          </li>
        ))}
      </ol>
    </section>
  );
}

function AttemptPanel({
  backend,
  detail,
  script,
  isSupervisor,
  onRecorded,
}: {
  backend: Backend;
  detail: CaseDetail;
  script: ScriptDto;
  isSupervisor: boolean;
  onRecorded: (message: string) => void;
}) {
  const [answers, setAnswers] = useState<Answers>({});
  const [draft, setDraft] = useState<AttemptDraft>(EMPTY_DRAFT);
  const [missing, setMissing] = useState<string[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const errorRef = useRef<HTMLParagraphElement>(null);
  // A refusal (channel rule, contact limit) is brought into view next to the button.
  useEffect(() => {
    if (error) errorRef.current?.scrollIntoView?.({ block: "nearest" });
  }, [error]);
  const set = (patch: Partial<AttemptDraft>) => setDraft((d) => ({ ...d, ...patch }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setProblem(null);
    const missingNow = draft.reached ? missingRequired(script, answers).map((q) => q.id) : [];
    setMissing(missingNow);
    if (missingNow.length > 0) {
      setProblem(`Answer the required questions first (${missingNow.length} left).`);
      return;
    }
    const next = nextActionOf(draft);
    if (typeof next === "string") {
      setProblem(next);
      return;
    }
    setBusy(true);
    backend
      .recordAttempt({
        case_id: detail.case_id,
        channel: draft.channel,
        reached: draft.reached,
        message_id: draft.messageId || null,
        answers: draft.reached ? answersToSend(script, answers) : {},
        outcome: draft.outcome,
        next,
        contact_limit_override: draft.override.trim() || null,
        note: draft.note.trim() || null,
      })
      .then(
        (done) => {
          setBusy(false);
          setAnswers({});
          setDraft(EMPTY_DRAFT);
          setMissing([]);
          onRecorded(`Attempt recorded. The case is now ${humanize(done.case_status ?? "updated").toLowerCase()}.`);
        },
        (reason: unknown) => {
          setBusy(false);
          setError(toApiError(reason));
        },
      );
  };

  const sensitiveChosen = script.messages.some((m) => m.id === draft.messageId && m.sensitive);

  return (
    <form className="attempt-form" onSubmit={submit} aria-labelledby="attempt-title" noValidate>
      <ScriptRunner script={script} answers={answers} onChange={setAnswers} missing={missing} />
      <section className="panel">
        <h3 id="attempt-title">Document the attempt</h3>
        <div className="form-grid">
          <label htmlFor="attempt-channel">Channel</label>
          <select id="attempt-channel" value={draft.channel} onChange={(e) => set({ channel: e.target.value as ChannelName })}>
            {CHANNELS.map((c) => (
              // The channel rule in the choices: a sensitive template goes by portal only.
              <option key={c} value={c} disabled={sensitiveChosen && c !== "portal"}>
                {formatChannel(c)}
                {sensitiveChosen && c !== "portal" ? " (not for a sensitive template)" : ""}
              </option>
            ))}
          </select>
          <label htmlFor="attempt-message">Message template</label>
          <select id="attempt-message" value={draft.messageId} onChange={(e) => set({ messageId: e.target.value })}>
            <option value="">None</option>
            {script.messages.map((m) => (
              <option key={m.id} value={m.id} disabled={m.sensitive && draft.channel !== "portal"}>
                {humanize(m.id)}
                {m.sensitive ? (draft.channel === "portal" ? " (sensitive: portal only)" : " (sensitive: portal only, not by this channel)") : ""}
              </option>
            ))}
          </select>
          {script.messages.some((m) => m.sensitive) && draft.channel !== "portal" && (
            <p className="hint form-note" data-testid="channel-rule">
              Sensitive templates go by portal only: choose Portal to send one.
            </p>
          )}
          <span />
          <label className="choice">
            <input type="checkbox" id="attempt-reached" checked={draft.reached} onChange={(e) => set({ reached: e.target.checked })} />
            Reached the person
          </label>
          <label htmlFor="attempt-outcome">Outcome</label>
          <select id="attempt-outcome" value={draft.outcome} onChange={(e) => set({ outcome: e.target.value as OutcomeName })}>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {humanize(o)}
              </option>
            ))}
          </select>
          <label htmlFor="attempt-next">Next action</label>
          <select id="attempt-next" value={draft.next} onChange={(e) => set({ next: e.target.value as NextKind })}>
            <option value="follow_up">Follow up on a date</option>
            <option value="clinician_callback">Clinician callback</option>
            <option value="escalate">Escalate</option>
            <option value="refer">Refer to a service</option>
            <option value="close">Close the case</option>
          </select>
          {draft.next === "follow_up" && (
            <>
              <label htmlFor="attempt-follow-up">Follow-up date</label>
              <input id="attempt-follow-up" type="date" value={draft.followUpOn} onChange={(e) => set({ followUpOn: e.target.value })} />
              <span className="picked-day" aria-live="polite">{pickedDay(draft.followUpOn)}</span>
            </>
          )}
          {draft.next === "clinician_callback" && (
            <>
              <label htmlFor="attempt-callback-reason">Reason for the callback</label>
              <input id="attempt-callback-reason" value={draft.callbackReason} onChange={(e) => set({ callbackReason: e.target.value })} />
            </>
          )}
          {draft.next === "escalate" && (
            <>
              <label htmlFor="attempt-escalation-kind">Escalation</label>
              <select
                id="attempt-escalation-kind"
                value={draft.escalationKind}
                onChange={(e) => set({ escalationKind: e.target.value as EscalationKindName })}
              >
                {ESCALATION_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {humanize(k)}
                  </option>
                ))}
              </select>
            </>
          )}
          {draft.next === "refer" && (
            <>
              <label htmlFor="attempt-service">Service</label>
              <select id="attempt-service" value={draft.referService} onChange={(e) => set({ referService: e.target.value as ServiceTypeName })}>
                {SERVICES.map((k) => (
                  <option key={k} value={k}>
                    {humanize(k)}
                  </option>
                ))}
              </select>
            </>
          )}
          {(draft.next === "escalate" || draft.next === "refer") && (
            <>
              <label htmlFor="attempt-action-note">Note for the {draft.next === "escalate" ? "escalation" : "referral"}</label>
              <input id="attempt-action-note" value={draft.actionNote} onChange={(e) => set({ actionNote: e.target.value })} />
            </>
          )}
          {draft.next === "close" && (
            <>
              <label htmlFor="attempt-close-reason">Close reason</label>
              <select id="attempt-close-reason" value={draft.closeReason} onChange={(e) => set({ closeReason: e.target.value as CloseReasonName })}>
                {CLOSE_REASONS.map((r) => (
                  <option key={r} value={r}>
                    {humanize(r)}
                  </option>
                ))}
              </select>
            </>
          )}
          <label htmlFor="attempt-note">Note</label>
          <textarea id="attempt-note" rows={2} value={draft.note} onChange={(e) => set({ note: e.target.value })} />
          {isSupervisor && (
            <>
              <label htmlFor="attempt-override">Contact-limit override (reason)</label>
              <input id="attempt-override" value={draft.override} onChange={(e) => set({ override: e.target.value })} />
            </>
          )}
        </div>
        <button type="submit" className="primary" disabled={busy} data-testid="record-attempt">
          {busy ? "Recording…" : "Record attempt"}
        </button>
        {problem && (
          <p role="alert" className="error-text" data-testid="attempt-problem">
            {problem}
          </p>
        )}
        {error && (
          <p role="alert" className="error-text" data-testid="attempt-error" ref={errorRef}>
            {formatApiError("Cannot record the attempt", error)}
          </p>
        )}
      </section>
    </form>
  );
}
