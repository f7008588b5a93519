// A person's shared care plan: its lead, the domains with their owners and goals, the actions
// with due dates (done or cancelled with a note), time-bound monitoring, multidisciplinary case
// reviews (scheduled, then held with decisions that become actions), the plan's timeline, and
// its export as FHIR. Started from one of the person's cases. Every change is an event the
// backend checks (rights, owners, dates) and answers with the plan as it now stands.
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { CarePlanDto } from "./bindings/CarePlanDto";
import type { CaseReviewDto } from "./bindings/CaseReviewDto";
import type { PlanActionForm } from "./bindings/PlanActionForm";
import type { PlanChoices } from "./bindings/PlanChoices";
import type { PlanDomainKind } from "./bindings/PlanDomainKind";
import type { SessionInfo } from "./bindings/SessionInfo";
import { formatApiError, formatDateTime, formatDay, pickedDay } from "./format";
import { humanize } from "./worklistModel";

export type PlanTarget = { patientId: string; name: string | null; caseId: string | null };

/** An owner as people read it: the choice's label ("Harbor Home Care (partner)"), else as stored. */
export function ownerLabel(choices: PlanChoices | null, owner: string): string {
  return choices?.owners.find((o) => o.value === owner)?.label ?? owner;
}

/** A domain's title from the choices, else from the plan's own domains, else in words. */
function domainTitle(choices: PlanChoices | null, plan: CarePlanDto, domain: string): string {
  return (
    choices?.domains.find((d) => d.domain === domain)?.title ?? plan.domains.find((d) => d.domain === domain)?.title ?? humanize(domain)
  );
}

/** What is missing from an action before it can be sent, or null. */
export function actionProblem(a: PlanActionForm): string | null {
  if (!a.domain) return "Choose the action's domain.";
  if (!a.text.trim()) return "Say what is to be done.";
  if (!a.owner.trim()) return "Choose who does it.";
  if (!a.due) return "Choose the due date.";
  return null;
}

export function CarePlanView({
  backend,
  session,
  target,
  onBack,
  revision = 0,
}: {
  backend: Backend;
  session: SessionInfo;
  target: PlanTarget;
  onBack: () => void;
  revision?: number;
}) {
  const [plan, setPlan] = useState<CarePlanDto | null | undefined>(undefined);
  const [choices, setChoices] = useState<PlanChoices | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [actionError, setActionError] = useState<UiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const canManage = session.role === "coordinator" || session.role === "clinician" || session.role === "supervisor";

  const load = useCallback(() => {
    backend.carePlanOfPerson(target.patientId).then(
      (p) => {
        setPlan(p);
        setError(null);
      },
      (reason: unknown) => setError(toApiError(reason)),
    );
  }, [backend, target.patientId]);
  useEffect(() => load(), [load, revision]);
  useEffect(() => {
    backend.carePlanChoices().then(setChoices, () => setChoices(null));
  }, [backend]);

  /** Sends a change; the plan shown becomes the backend's answer. */
  const change = (send: () => Promise<CarePlanDto>, done: string): Promise<boolean> => {
    setActionError(null);
    return send().then(
      (p) => {
        setPlan(p);
        setNotice(done);
        return true;
      },
      (reason: unknown) => {
        setActionError(toApiError(reason));
        return false;
      },
    );
  };

  const title = plan?.name || target.name || target.patientId;
  const reviewer = plan !== null && plan !== undefined && (session.role === "supervisor" || session.user === plan.lead);
  return (
    <article className="case-view" aria-labelledby="plan-title" data-testid="care-plan">
      <div className="toolbar">
        <button type="button" onClick={onBack}>
          ← Back
        </button>
        <h2 id="plan-title">Shared care plan · {title}</h2>
        {plan && (
          <button
            type="button"
            data-testid="export-plan"
            onClick={() => {
              setActionError(null);
              backend.exportCarePlan(plan.plan_id).then(
                (path) => setNotice(`Exported as FHIR (CarePlan, goals and tasks) to ${path}`),
                (reason: unknown) => setActionError(toApiError(reason)),
              );
            }}
          >
            Export as FHIR
          </button>
        )}
      </div>
      {error && (
        <p role="alert" className="error-text">
          {formatApiError("Cannot open the care plan", error)}
        </p>
      )}
      {notice && (
        <p role="status" className="notice" data-testid="plan-notice">
          {notice}
        </p>
      )}
      {actionError && (
        <p role="alert" className="error-text" data-testid="plan-error">
          {formatApiError("Cannot change the plan", actionError)}
        </p>
      )}
      {plan === undefined && !error && <p className="muted">Loading the care plan…</p>}
      {plan === null && (
        <StartPlan
          canStart={canManage && target.caseId !== null}
          choices={choices}
          me={session.user ?? ""}
          onStart={(lead) => change(() => backend.startCarePlan(target.caseId ?? "", lead || null), "Care plan started.")}
        />
      )}
      {plan && (
        <div className="case-grid">
          <div className="case-column">
            <section className="panel" aria-labelledby="plan-summary-title">
              <h3 id="plan-summary-title">Plan</h3>
              <dl className="summary">
                <dt>Lead</dt>
                <dd data-testid="plan-lead">{ownerLabel(choices, plan.lead)}</dd>
                <dt>Started</dt>
                <dd>{formatDay(plan.started_on)}</dd>
              </dl>
            </section>
            <Domains plan={plan} choices={choices} />
            <Actions
              plan={plan}
              choices={choices}
              me={session.user ?? ""}
              canManage={canManage}
              onClose={(actionId, done, note) =>
                change(
                  () => backend.closeCarePlanAction({ plan_id: plan.plan_id, action_id: actionId, done, note }),
                  done ? "Action marked done." : "Action cancelled.",
                )
              }
            />
            <Monitoring plan={plan} choices={choices} />
            <Reviews
              plan={plan}
              choices={choices}
              reviewer={reviewer}
              onRecord={(review, decisions, actions) =>
                change(
                  () => backend.recordCaseReview({ plan_id: plan.plan_id, review_id: review.review_id, decisions, actions }),
                  `Case review of ${formatDay(review.on)} recorded${actions.length ? ` with ${actions.length} new action${actions.length === 1 ? "" : "s"}` : ""}.`,
                )
              }
            />
            <section className="panel" aria-labelledby="plan-timeline-title">
              <h3 id="plan-timeline-title">Timeline</h3>
              <ol className="timeline" data-testid="plan-timeline">
                {plan.timeline.map((t, i) => (
                  <li key={i}>
                    <span className="muted">{formatDateTime(t.at)}</span> · {t.actor} ({t.role}): {t.detail}
                  </li>
                ))}
              </ol>
            </section>
          </div>
          {canManage && (
            <div className="case-column">
              <DomainForm
                choices={choices}
                onSave={(domain, owner, goal) =>
                  change(
                    () => backend.setCarePlanDomain({ plan_id: plan.plan_id, domain, owner, goal }),
                    `${domainTitle(choices, plan, domain)}: owner and goal saved.`,
                  )
                }
              />
              <FormPanel id="add-action" title="Add an action">
                {plan.domains.length === 0 && <p className="muted">Set a domain's owner and goal first: each action belongs to a domain.</p>}
                <ActionFields
                  choices={choices}
                  domains={plan.domains}
                  submitLabel="Add the action"
                  onSubmit={(action) => change(() => backend.addCarePlanAction(plan.plan_id, action), "Action added.")}
                />
              </FormPanel>
              <MonitoringForm
                choices={choices}
                onSave={(everyDays, until, owner) =>
                  change(
                    () => backend.setCarePlanMonitoring({ plan_id: plan.plan_id, every_days: everyDays, until, owner }),
                    `Monitoring set: every ${everyDays} days until ${formatDay(until)}.`,
                  )
                }
              />
              {reviewer && (
                <ScheduleReview
                  onSchedule={(on, participants) =>
                    change(
                      () => backend.scheduleCaseReview({ plan_id: plan.plan_id, on, participants }),
                      `Case review scheduled for ${formatDay(on)}.`,
                    )
                  }
                />
              )}
            </div>
          )}
        </div>
      )}
    </article>
  );
}

function FormPanel({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section className="panel" aria-labelledby={`${id}-title`} data-testid={id}>
      <h3 id={`${id}-title`}>{title}</h3>
      {children}
    </section>
  );
}

function OwnerSelect({ id, choices, value, onChange }: { id: string; choices: PlanChoices | null; value: string; onChange: (v: string) => void }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">Choose…</option>
      {choices?.owners.map((o) => (
        <option key={o.value} value={o.value}>
          {o.label}
        </option>
      ))}
    </select>
  );
}

function DomainSelect({ id, domains, value, onChange }: { id: string; domains: PlanDomainKind[]; value: string; onChange: (v: string) => void }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">Choose…</option>
      {domains.map((d) => (
        <option key={d.domain} value={d.domain}>
          {d.title}
        </option>
      ))}
    </select>
  );
}

function StartPlan({
  canStart,
  choices,
  me,
  onStart,
}: {
  canStart: boolean;
  choices: PlanChoices | null;
  me: string;
  onStart: (lead: string) => Promise<boolean>;
}) {
  const [lead, setLead] = useState(me);
  if (!canStart) {
    return (
      <p className="muted" data-testid="no-plan">
        This person has no shared care plan. One is started from one of their cases.
      </p>
    );
  }
  return (
    <form
      className="panel"
      data-testid="start-plan"
      onSubmit={(e) => {
        e.preventDefault();
        void onStart(lead);
      }}
    >
      <h3>No shared care plan yet</h3>
      <p className="muted">A plan brings the health, housing, social and caregiver sides together, each with an owner, goals and actions.</p>
      <div className="form-grid">
        <label htmlFor="plan-lead">Lead coordinator</label>
        <OwnerSelect id="plan-lead" choices={choices} value={lead} onChange={setLead} />
      </div>
      <button type="submit" className="primary" disabled={!lead}>
        Start a shared care plan
      </button>
    </form>
  );
}

function Domains({ plan, choices }: { plan: CarePlanDto; choices: PlanChoices | null }) {
  return (
    <section className="panel" aria-labelledby="plan-domains-title">
      <h3 id="plan-domains-title">Domains</h3>
      {plan.domains.length === 0 ? (
        <p className="muted">No domain has an owner yet.</p>
      ) : (
        <table className="patient-table" data-testid="plan-domains">
          <thead>
            <tr>
              <th scope="col">Domain</th>
              <th scope="col">Owner</th>
              <th scope="col">Goal</th>
            </tr>
          </thead>
          <tbody>
            {plan.domains.map((d) => (
              <tr key={d.domain}>
                <td>{d.title}</td>
                <td>{ownerLabel(choices, d.owner)}</td>
                <td>{d.goal}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Actions({
  plan,
  choices,
  me,
  canManage,
  onClose,
}: {
  plan: CarePlanDto;
  choices: PlanChoices | null;
  me: string;
  canManage: boolean;
  onClose: (actionId: string, done: boolean, note: string) => Promise<boolean>;
}) {
  const [closing, setClosing] = useState<{ id: string; done: boolean } | null>(null);
  const [note, setNote] = useState("");
  const actions = [...plan.actions].sort((a, b) => Number(a.status !== "open") - Number(b.status !== "open") || a.due.localeCompare(b.due));
  return (
    <section className="panel" aria-labelledby="plan-actions-title">
      <h3 id="plan-actions-title">Actions</h3>
      {actions.length === 0 ? (
        <p className="muted">No actions yet.</p>
      ) : (
        <table className="patient-table" data-testid="plan-actions">
          <thead>
            <tr>
              <th scope="col">Due</th>
              <th scope="col">Domain</th>
              <th scope="col">Action</th>
              <th scope="col">Owner</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {actions.map((a) => (
              <tr key={a.action_id} data-testid={`action-${a.action_id}`}>
                <td>{a.overdue ? <strong className="overdue-text">Overdue · {formatDay(a.due)}</strong> : formatDay(a.due)}</td>
                <td>{domainTitle(choices, plan, a.domain)}</td>
                <td>
                  {a.text}
                  {a.from_review && <span className="muted"> (from a case review)</span>}
                  {a.note && <div className="muted">Note: {a.note}</div>}
                </td>
                <td>
                  {ownerLabel(choices, a.owner)}
                  {a.owner === me && <span className="muted"> (you)</span>}
                </td>
                <td>
                  {humanize(a.status)}
                  {canManage && a.status === "open" && closing?.id !== a.action_id && (
                    <span className="row-actions">
                      {" "}
                      <button type="button" onClick={() => setClosing({ id: a.action_id, done: true })}>
                        Done…
                      </button>{" "}
                      <button type="button" onClick={() => setClosing({ id: a.action_id, done: false })}>
                        Cancel…
                      </button>
                    </span>
                  )}
                  {closing?.id === a.action_id && (
                    <form
                      data-testid="close-action"
                      onSubmit={(e) => {
                        e.preventDefault();
                        void onClose(a.action_id, closing.done, note).then((ok) => {
                          if (ok) {
                            setClosing(null);
                            setNote("");
                          }
                        });
                      }}
                    >
                      <label htmlFor="action-note">{closing.done ? "What was done" : "Why it is cancelled"}</label>
                      <input id="action-note" value={note} onChange={(e) => setNote(e.target.value)} />
                      <button type="submit" className="primary">
                        {closing.done ? "Mark done" : "Cancel the action"}
                      </button>
                      <button type="button" onClick={() => setClosing(null)}>
                        Keep open
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Monitoring({ plan, choices }: { plan: CarePlanDto; choices: PlanChoices | null }) {
  const m = plan.monitoring;
  return (
    <section className="panel" aria-labelledby="plan-monitoring-title">
      <h3 id="plan-monitoring-title">Monitoring</h3>
      {m ? (
        <p data-testid="plan-monitoring">
          {ownerLabel(choices, m.owner)} contacts the person every {m.every_days} days from {formatDay(m.from)} until {formatDay(m.until)}.{" "}
          {m.next_due ? `Next contact due ${formatDay(m.next_due)}.` : "The rhythm has ended."}
        </p>
      ) : (
        <p className="muted">No time-bound monitoring.</p>
      )}
    </section>
  );
}

function Reviews({
  plan,
  choices,
  reviewer,
  onRecord,
}: {
  plan: CarePlanDto;
  choices: PlanChoices | null;
  reviewer: boolean;
  onRecord: (review: CaseReviewDto, decisions: string, actions: PlanActionForm[]) => Promise<boolean>;
}) {
  const [recording, setRecording] = useState<string | null>(null);
  return (
    <section className="panel" aria-labelledby="plan-reviews-title">
      <h3 id="plan-reviews-title">Case reviews</h3>
      {plan.reviews.length === 0 && <p className="muted">No multidisciplinary case review yet.</p>}
      <ul className="plain-list" data-testid="plan-reviews">
        {plan.reviews.map((r) => (
          <li key={r.review_id}>
            <strong>{formatDay(r.on)}</strong> · {r.participants.join(", ") || "no participants named"} · scheduled by {r.scheduled_by} ·{" "}
            {r.held ? `held: ${r.decisions ?? ""}` : "not held yet"}
            {reviewer && !r.held && recording !== r.review_id && (
              <>
                {" "}
                <button type="button" onClick={() => setRecording(r.review_id)}>
                  Record the review…
                </button>
              </>
            )}
            {recording === r.review_id && (
              <RecordReview
                choices={choices}
                domains={plan.domains}
                onCancel={() => setRecording(null)}
                onRecord={(decisions, actions) =>
                  onRecord(r, decisions, actions).then((ok) => {
                    if (ok) setRecording(null);
                    return ok;
                  })
                }
              />
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function RecordReview({
  choices,
  domains,
  onRecord,
  onCancel,
}: {
  choices: PlanChoices | null;
  domains: PlanDomainKind[];
  onRecord: (decisions: string, actions: PlanActionForm[]) => Promise<boolean>;
  onCancel: () => void;
}) {
  const [decisions, setDecisions] = useState("");
  const [actions, setActions] = useState<PlanActionForm[]>([]);
  return (
    <div className="panel" data-testid="record-review">
      <label htmlFor="review-decisions">Decisions</label>
      <textarea id="review-decisions" rows={3} value={decisions} onChange={(e) => setDecisions(e.target.value)} />
      {actions.length > 0 && (
        <ul className="plain-list" data-testid="review-actions">
          {actions.map((a, i) => (
            <li key={i}>
              {a.text} · {ownerLabel(choices, a.owner)} · by {formatDay(a.due)}{" "}
              <button type="button" onClick={() => setActions(actions.filter((_, j) => j !== i))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <p className="muted">Actions the review decided (each becomes an action of the plan):</p>
      <ActionFields
        choices={choices}
        domains={domains}
        submitLabel="Add to the decisions"
        onSubmit={(a) => {
          setActions([...actions, a]);
          return Promise.resolve(true);
        }}
      />
      <button type="button" className="primary" disabled={!decisions.trim()} onClick={() => void onRecord(decisions, actions)}>
        Record the review
      </button>{" "}
      <button type="button" onClick={onCancel}>
        Not now
      </button>
    </div>
  );
}

let fieldIds = 0;

/** Domain, what, who and by when; cleared once sent. */
function ActionFields({
  choices,
  domains,
  submitLabel,
  onSubmit,
}: {
  choices: PlanChoices | null;
  /** The plan's domains: an action belongs to a domain that has an owner. */
  domains: PlanDomainKind[];
  submitLabel: string;
  onSubmit: (action: PlanActionForm) => Promise<boolean>;
}) {
  const [prefix] = useState(() => `action-${++fieldIds}`);
  const empty: PlanActionForm = { domain: "", text: "", owner: "", due: "" };
  const [draft, setDraft] = useState<PlanActionForm>(empty);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const missing = actionProblem(draft);
    setProblem(missing);
    if (missing) return;
    void onSubmit({ ...draft, text: draft.text.trim() }).then((ok) => ok && setDraft(empty));
  };
  return (
    <form onSubmit={submit} data-testid={`${prefix}-form`}>
      <div className="form-grid">
        <label htmlFor={`${prefix}-domain`}>Domain</label>
        <DomainSelect id={`${prefix}-domain`} domains={domains} value={draft.domain} onChange={(domain) => setDraft({ ...draft, domain })} />
        <label htmlFor={`${prefix}-text`}>Action</label>
        <input id={`${prefix}-text`} value={draft.text} maxLength={2000} onChange={(e) => setDraft({ ...draft, text: e.target.value })} />
        <label htmlFor={`${prefix}-owner`}>Who</label>
        <OwnerSelect id={`${prefix}-owner`} choices={choices} value={draft.owner} onChange={(owner) => setDraft({ ...draft, owner })} />
        <label htmlFor={`${prefix}-due`}>Due</label>
        <span>
          <input id={`${prefix}-due`} type="date" value={draft.due} onChange={(e) => setDraft({ ...draft, due: e.target.value })} /> {pickedDay(draft.due)}
        </span>
      </div>
      {problem && (
        <p role="alert" className="error-text">
          {problem}
        </p>
      )}
      <button type="submit">{submitLabel}</button>
    </form>
  );
}

function DomainForm({ choices, onSave }: { choices: PlanChoices | null; onSave: (domain: string, owner: string, goal: string) => Promise<boolean> }) {
  const [domain, setDomain] = useState("");
  const [owner, setOwner] = useState("");
  const [goal, setGoal] = useState("");
  return (
    <FormPanel id="set-domain" title="A domain's owner and goal">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void onSave(domain, owner, goal).then((ok) => {
            if (ok) {
              setDomain("");
              setOwner("");
              setGoal("");
            }
          });
        }}
      >
        <div className="form-grid">
          <label htmlFor="domain-domain">Domain</label>
          <DomainSelect id="domain-domain" domains={choices?.domains ?? []} value={domain} onChange={setDomain} />
          <label htmlFor="domain-owner">Owner</label>
          <OwnerSelect id="domain-owner" choices={choices} value={owner} onChange={setOwner} />
          <label htmlFor="domain-goal">Goal</label>
          <input id="domain-goal" value={goal} maxLength={2000} onChange={(e) => setGoal(e.target.value)} />
        </div>
        <button type="submit" disabled={!domain || !owner || !goal.trim()}>
          Save the domain
        </button>
      </form>
    </FormPanel>
  );
}

function MonitoringForm({ choices, onSave }: { choices: PlanChoices | null; onSave: (everyDays: number, until: string, owner: string) => Promise<boolean> }) {
  const [every, setEvery] = useState("7");
  const [until, setUntil] = useState("");
  const [owner, setOwner] = useState("");
  const days = Number.parseInt(every, 10);
  const valid = Number.isInteger(days) && days >= 1 && until !== "" && owner !== "";
  return (
    <FormPanel id="set-monitoring" title="Time-bound monitoring">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (valid) void onSave(days, until, owner);
        }}
      >
        <div className="form-grid">
          <label htmlFor="monitoring-every">Contact every (days)</label>
          <input id="monitoring-every" type="number" min={1} max={365} value={every} onChange={(e) => setEvery(e.target.value)} />
          <label htmlFor="monitoring-until">Until</label>
          <span>
            <input id="monitoring-until" type="date" value={until} onChange={(e) => setUntil(e.target.value)} /> {pickedDay(until)}
          </span>
          <label htmlFor="monitoring-owner">By</label>
          <OwnerSelect id="monitoring-owner" choices={choices} value={owner} onChange={setOwner} />
        </div>
        <p className="muted">The person comes up on the owner's care-plan work on that rhythm, and the rhythm ends by itself.</p>
        <button type="submit" disabled={!valid}>
          Set monitoring
        </button>
      </form>
    </FormPanel>
  );
}

function ScheduleReview({ onSchedule }: { onSchedule: (on: string, participants: string[]) => Promise<boolean> }) {
  const [on, setOn] = useState("");
  const [participants, setParticipants] = useState("");
  return (
    <FormPanel id="schedule-review" title="Schedule a case review">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const names = participants
            .split(",")
            .map((p) => p.trim())
            .filter((p) => p !== "");
          void onSchedule(on, names).then((ok) => {
            if (ok) {
              setOn("");
              setParticipants("");
            }
          });
        }}
      >
        <div className="form-grid">
          <label htmlFor="review-on">On</label>
          <span>
            <input id="review-on" type="date" value={on} onChange={(e) => setOn(e.target.value)} /> {pickedDay(on)}
          </span>
          <label htmlFor="review-participants">Participants (comma-separated)</label>
          <input id="review-participants" value={participants} onChange={(e) => setParticipants(e.target.value)} />
        </div>
        <p className="muted">The plan is the review's agenda.</p>
        <button type="submit" disabled={!on}>
          Schedule
        </button>
      </form>
    </FormPanel>
  );
}
