// Tests for the idle clock: activity postpones the lock; the lock fires once.
import { afterEach, describe, expect, it, vi } from "vitest";
import { watchIdle } from "./idle";

afterEach(() => vi.useRealTimers());

describe("watchIdle", () => {
  it("fires once after the limit without activity, and activity postpones it", () => {
    vi.useFakeTimers();
    const target = new EventTarget() as unknown as Window;
    const onIdle = vi.fn();
    const onActive = vi.fn();
    const watch = watchIdle({ target, limitMs: 10_000, onIdle, onActive, keepAliveMs: 3000, now: () => Date.now() });
    vi.advanceTimersByTime(8000);
    target.dispatchEvent(new Event("keydown"));
    expect(onActive).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(8000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(3000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(30_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    watch.stop();
  });

  it("throttles keep-alives", () => {
    vi.useFakeTimers();
    const target = new EventTarget() as unknown as Window;
    const onActive = vi.fn();
    const watch = watchIdle({ target, limitMs: 60_000, onIdle: () => {}, onActive, keepAliveMs: 5000 });
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(500);
      target.dispatchEvent(new Event("mousemove"));
    }
    expect(onActive).toHaveBeenCalledTimes(2);
    watch.stop();
  });
});
