// Top-level screen flow: open the cache (with progress), then sign in; while signed in, the
// workspace, with the idle lock (after the configured idle time, or on request) replacing it by
// the lock screen so that nothing of a person's record stays on screen or in the DOM.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { toApiError, watchingForLock, type Backend, type UiError } from "./backend";
import type { Progress } from "./bindings/Progress";
import type { SessionInfo } from "./bindings/SessionInfo";
import { watchIdle } from "./idle";
import { SignIn } from "./SignIn";
import { landingTab, Workspace, type Route } from "./Workspace";
import { ProgressView, StartupErrorView } from "./StartupView";

type Phase =
  | { kind: "opening"; progress: Progress | null }
  | { kind: "failed"; error: UiError }
  | { kind: "ready" };

export function App({ backend, idleTarget = window }: { backend: Backend; idleTarget?: Window }) {
  const [phase, setPhase] = useState<Phase>({ kind: "opening", progress: null });
  const [attempt, setAttempt] = useState(0);
  const [session, setSession] = useState<SessionInfo | null>(null);
  // Where the user was (ids only, no PHI), to return there after unlocking.
  const [route, setRoute] = useState<Route>({ tab: "worklist", caseId: null });

  useEffect(() => {
    let current = true;
    setPhase({ kind: "opening", progress: null });
    const unsubscribe = backend.onProgress((progress) => {
      if (current) setPhase((phase) => (phase.kind === "opening" ? { kind: "opening", progress } : phase));
    });
    backend
      .openCache()
      .then(() => backend.sessionInfo())
      .then(
        (info) => {
          if (!current) return;
          setSession(info);
          setPhase({ kind: "ready" });
        },
        (reason: unknown) => {
          if (current) setPhase({ kind: "failed", error: toApiError(reason) });
        },
      );
    return () => {
      current = false;
      unsubscribe();
    };
  }, [backend, attempt]);

  const markLocked = useCallback(() => {
    setSession((s) => (s && !s.locked ? { ...s, locked: true } : s));
  }, []);
  const watched = useMemo(() => watchingForLock(backend, markLocked), [backend, markLocked]);

  const lockNow = useCallback(() => {
    markLocked();
    backend.lock().then(setSession, () => {});
  }, [backend, markLocked]);

  const unlocked = session !== null && !session.locked;
  const idleSeconds = session?.idle_lock_seconds ?? 900;
  const keepAlive = useRef(() => {});
  keepAlive.current = () => {
    watched.keepAlive().then(
      (info) => setSession(info),
      () => {},
    );
  };
  useEffect(() => {
    if (!unlocked) return;
    const watch = watchIdle({
      target: idleTarget,
      limitMs: idleSeconds * 1000,
      onIdle: lockNow,
      onActive: () => keepAlive.current(),
    });
    return () => watch.stop();
  }, [unlocked, idleSeconds, idleTarget, lockNow]);

  switch (phase.kind) {
    case "opening":
      return <ProgressView progress={phase.progress} />;
    case "failed":
      return <StartupErrorView error={phase.error} onRetry={() => setAttempt((n) => n + 1)} />;
    case "ready":
      if (!session || session.locked) {
        return (
          <SignIn
            backend={backend}
            lockedUser={session?.user ?? null}
            onSignedIn={(info) => {
              // Someone else signing in starts from their own landing (a clinician's is the
              // callback queue: clinicians answer callbacks, they do not claim cases).
              if (info.user !== session?.user) setRoute({ tab: landingTab(info.role), caseId: null });
              setSession(info);
            }}
          />
        );
      }
      return <Workspace backend={watched} session={session} route={route} onRoute={setRoute} onLock={lockNow} />;
  }
}
