// Top-level screen flow: open the cache (with progress), then show the patient list.
import { useEffect, useState } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { Progress } from "./bindings/Progress";
import { PatientList } from "./PatientList";
import { ProgressView, StartupErrorView } from "./StartupView";

type Phase =
  | { kind: "opening"; progress: Progress | null }
  | { kind: "failed"; error: UiError }
  | { kind: "ready" };

export function App({ backend }: { backend: Backend }) {
  const [phase, setPhase] = useState<Phase>({ kind: "opening", progress: null });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true;
    setPhase({ kind: "opening", progress: null });
    const unsubscribe = backend.onProgress((progress) => {
      if (current) setPhase((phase) => (phase.kind === "opening" ? { kind: "opening", progress } : phase));
    });
    backend.openCache().then(
      () => {
        if (current) setPhase({ kind: "ready" });
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

  switch (phase.kind) {
    case "opening":
      return <ProgressView progress={phase.progress} />;
    case "failed":
      return <StartupErrorView error={phase.error} onRetry={() => setAttempt((n) => n + 1)} />;
    case "ready":
      return <PatientList backend={backend} />;
  }
}
