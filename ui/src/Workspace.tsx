// The signed-in workspace: header (who, global search, sync state, lock), the tabs the role
// may use, and the open case. `/` or Ctrl+K focuses the global search from anywhere.
import { useEffect, useRef, useState } from "react";
import type { Backend } from "./backend";
import type { RoleName } from "./bindings/RoleName";
import type { SessionInfo } from "./bindings/SessionInfo";
import { CallbackQueue } from "./CallbackQueue";
import { CallSheet } from "./CallSheet";
import { CarePlanView, type PlanTarget } from "./CarePlanView";
import { CarePlanWork } from "./CarePlanWork";
import { CaseView } from "./CaseView";
import { GlobalSearch } from "./GlobalSearch";
import { PatientList } from "./PatientList";
import { PersonCases, type Person } from "./PersonCases";
import { QueueBoard } from "./QueueBoard";
import { ReviewScreen } from "./ReviewScreen";
import { SegmentEditor } from "./SegmentEditor";
import { SyncBadge } from "./SyncBadge";
import { TeamView } from "./TeamView";
import { Worklist } from "./Worklist";
import { humanize } from "./worklistModel";

export type Tab = "team" | "worklist" | "callbacks" | "escalations" | "referrals" | "plans" | "segments" | "review" | "patients";
export type Route = { tab: Tab; caseId: string | null };

const TABS: { tab: Tab; label: string; roles: RoleName[] }[] = [
  { tab: "team", label: "Team", roles: ["supervisor"] },
  { tab: "worklist", label: "Worklist", roles: ["coordinator", "clinician", "supervisor"] },
  { tab: "callbacks", label: "Callbacks", roles: ["clinician", "supervisor"] },
  { tab: "escalations", label: "Escalations", roles: ["coordinator", "clinician", "supervisor"] },
  { tab: "referrals", label: "Referrals", roles: ["coordinator", "clinician", "supervisor"] },
  { tab: "plans", label: "Care plans", roles: ["coordinator", "clinician", "supervisor"] },
  { tab: "segments", label: "Segments", roles: ["supervisor"] },
  { tab: "review", label: "Weekly review", roles: ["supervisor"] },
  { tab: "patients", label: "Patients", roles: ["coordinator", "clinician", "supervisor", "admin"] },
];

/**
 * Where a role starts: a clinician's work is the callback queue, a supervisor's the team
 * view; everyone else's the worklist.
 */
export function landingTab(role: RoleName | null): Tab {
  if (role === "clinician") return "callbacks";
  if (role === "supervisor") return "team";
  return "worklist";
}

export function tabsFor(role: RoleName | null): Tab[] {
  return TABS.filter((t) => role !== null && t.roles.includes(role)).map((t) => t.tab);
}

/** Whether a key press should focus the global search: `/` outside text fields, or Ctrl/Cmd+K. */
export function isSearchShortcut(event: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "target">): boolean {
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") return true;
  if (event.key !== "/") return false;
  const target = event.target as HTMLElement | null;
  const tag = target?.tagName;
  return !(tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target?.isContentEditable);
}

export function Workspace({
  backend,
  session,
  route,
  onRoute,
  onLock,
}: {
  backend: Backend;
  session: SessionInfo;
  route: Route;
  onRoute: (route: Route) => void;
  onLock: () => void;
}) {
  const searchBox = useRef<HTMLInputElement>(null);
  // The week the review shows (null: the current one), kept while a case opened from it is open.
  const [reviewWeek, setReviewWeek] = useState<string | null>(null);
  const tabs = tabsFor(session.role);
  // What syncs have brought in so far: the screen shown reloads (quietly) when it grows.
  const [received, setReceived] = useState(0);
  const tab = tabs.includes(route.tab) ? route.tab : (tabs[0] ?? "patients");
  // A person opened from search or the Patients list (their cases), until a case or a tab is chosen.
  const [person, setPerson] = useState<Person | null>(null);
  // A person's shared care plan (from a case or the care plans' work), until a case or a tab is chosen.
  const [plan, setPlan] = useState<PlanTarget | null>(null);
  // Today's call sheet, shown until Back or a tab is chosen.
  const [callSheet, setCallSheet] = useState(false);
  const worksCases = session.role !== "admin" && session.role !== null;

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isSearchShortcut(event)) {
        event.preventDefault();
        searchBox.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const openPerson = (p: Person) => {
    setPlan(null);
    setPerson(p);
    if (route.caseId !== null) onRoute({ tab, caseId: null });
  };
  const openCase = (caseId: string) => {
    setPerson(null);
    setPlan(null);
    onRoute({ tab, caseId });
  };

  return (
    <div className="app">
      <header className="app-header workspace-header">
        <h1>Careloop</h1>
        <GlobalSearch backend={backend} inputRef={searchBox} onOpenCase={openCase} onOpenPerson={openPerson} />
        <p className="who" data-testid="signed-in-as">
          {session.user} · {humanize(session.role ?? "")}
        </p>
        <SyncBadge backend={backend} onReceived={setReceived} />
        <button type="button" onClick={onLock} data-testid="lock-button">
          Lock
        </button>
      </header>
      <nav className="tabs" aria-label="Screens">
        {tabs.map((t) => (
          <button
            key={t}
            type="button"
            className="tab"
            aria-current={t === tab && route.caseId === null ? "page" : undefined}
            data-testid={`tab-${t}`}
            onClick={() => {
              setPerson(null);
              setPlan(null);
              setCallSheet(false);
              onRoute({ tab: t, caseId: null });
            }}
          >
            {TABS.find((x) => x.tab === t)?.label}
          </button>
        ))}
      </nav>
      <main className="workspace-main">
        {callSheet && route.caseId === null ? (
          <CallSheet backend={backend} onBack={() => setCallSheet(false)} />
        ) : plan !== null ? (
          <CarePlanView
            key={plan.patientId}
            backend={backend}
            session={session}
            target={plan}
            revision={received}
            onBack={() => setPlan(null)}
          />
        ) : person !== null && route.caseId === null ? (
          <PersonCases backend={backend} person={person} onOpenCase={openCase} onBack={() => setPerson(null)} />
        ) : route.caseId !== null ? (
          <CaseView
            key={route.caseId}
            backend={backend}
            revision={received}
            caseId={route.caseId}
            session={session}
            onBack={() => onRoute({ tab, caseId: null })}
            onOpenPlan={setPlan}
          />
        ) : tab === "team" ? (
          <TeamView backend={backend} onGo={(t) => onRoute({ tab: t, caseId: null })} revision={received} />
        ) : tab === "worklist" ? (
          <Worklist
            backend={backend}
            onOpenCase={openCase}
            revision={received}
            supervisor={session.role === "supervisor"}
            onCallSheet={session.role === "clinician" ? undefined : () => setCallSheet(true)}
          />
        ) : tab === "callbacks" ? (
          <CallbackQueue backend={backend} role={session.role} onOpenCase={openCase} revision={received} />
        ) : tab === "escalations" ? (
          <QueueBoard backend={backend} kind="escalations" onOpenCase={openCase} revision={received} />
        ) : tab === "referrals" ? (
          <QueueBoard backend={backend} kind="referrals" onOpenCase={openCase} revision={received} />
        ) : tab === "plans" ? (
          <CarePlanWork backend={backend} onOpenPlan={setPlan} revision={received} />
        ) : tab === "segments" ? (
          <SegmentEditor backend={backend} />
        ) : tab === "review" ? (
          <ReviewScreen backend={backend} week={reviewWeek} onWeekChange={setReviewWeek} onOpenCase={openCase} />
        ) : (
          <PatientList backend={backend} onOpenPerson={worksCases ? openPerson : undefined} />
        )}
      </main>
    </div>
  );
}
