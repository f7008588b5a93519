// The idle lock's clock in the UI: activity resets it; when the limit passes, onIdle runs once.
// The backend enforces the same limit on every call; this only makes the lock visible on time.

export const ACTIVITY_EVENTS = ["keydown", "mousedown", "mousemove", "wheel", "touchstart", "focusin"] as const;

export type IdleWatch = { stop(): void };

/**
 * Watches `target` for activity; calls `onIdle` once `limitMs` pass without any, and
 * `onActive` (throttled to once per `keepAliveMs`) while the user is active.
 */
export function watchIdle(options: {
  target: Pick<Window, "addEventListener" | "removeEventListener">;
  limitMs: number;
  onIdle: () => void;
  onActive?: () => void;
  keepAliveMs?: number;
  now?: () => number;
  checkEveryMs?: number;
}): IdleWatch {
  const now = options.now ?? Date.now;
  const keepAliveMs = options.keepAliveMs ?? Math.max(1000, Math.floor(options.limitMs / 3));
  let last = now();
  let lastKeepAlive = last;
  let fired = false;
  const onActivity = () => {
    if (fired) return;
    last = now();
    if (options.onActive && last - lastKeepAlive >= keepAliveMs) {
      lastKeepAlive = last;
      options.onActive();
    }
  };
  for (const e of ACTIVITY_EVENTS) options.target.addEventListener(e, onActivity, { passive: true });
  const timer = setInterval(
    () => {
      if (!fired && now() - last >= options.limitMs) {
        fired = true;
        options.onIdle();
      }
    },
    options.checkEveryMs ?? Math.min(1000, Math.max(100, Math.floor(options.limitMs / 10))),
  );
  return {
    stop() {
      clearInterval(timer);
      for (const e of ACTIVITY_EVENTS) options.target.removeEventListener(e, onActivity);
    },
  };
}
