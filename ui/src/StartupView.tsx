// Start-up screens: progress while the cache opens, and the error view with Retry.
import type { UiError } from "./backend";
import { useEffect, useRef } from "react";
import type { Progress } from "./bindings/Progress";
import { formatApiError, formatCount } from "./format";

export function ProgressView({ progress }: { progress: Progress | null }) {
  const total = progress?.total ?? null;
  const determinate = progress !== null && total !== null && total > 0;
  return (
    <main className="startup">
      <section className="startup-card" aria-labelledby="startup-title">
        <h1 id="startup-title">Careloop</h1>
        <div role="status" aria-live="polite">
          <p className="startup-message" data-testid="progress-message">
            {progress?.message || "Opening the patient cache…"}
          </p>
          {determinate && (
            <p className="startup-detail">
              {formatCount(progress.done)} of {formatCount(total)}
            </p>
          )}
        </div>
        {determinate ? (
          <progress aria-label="Start-up progress" value={Math.min(progress.done, total)} max={total} />
        ) : (
          <progress aria-label="Start-up progress" />
        )}
      </section>
    </main>
  );
}

export function StartupErrorView({ error, onRetry }: { error: UiError; onRetry: () => void }) {
  const retry = useRef<HTMLButtonElement>(null);
  // Move focus to the only action so a keyboard user can retry at once.
  useEffect(() => retry.current?.focus(), []);
  return (
    <main className="startup">
      <section className="startup-card" aria-labelledby="startup-error-title">
        <h1 id="startup-error-title">Careloop could not start</h1>
        <p role="alert" className="error-text" data-testid="startup-error">
          {formatApiError("Cannot open the cache", error)}
        </p>
        <button ref={retry} type="button" className="button primary" onClick={onRetry}>
          Retry
        </button>
      </section>
    </main>
  );
}
