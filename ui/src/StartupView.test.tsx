// Tests for the start-up progress and error views.
import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ProgressView, StartupErrorView } from "./StartupView";

describe("ProgressView", () => {
  it("shows the stage message and a determinate bar when the total is known", () => {
    render(<ProgressView progress={{ stage: "demo", done: 120, total: 300, message: "Loading demo patients" }} />);
    expect(screen.getByRole("status").textContent).toContain("Loading demo patients");
    expect(screen.getByRole("status").textContent).toContain("120 of 300");
    const bar = screen.getByRole("progressbar", { name: "Start-up progress" }) as HTMLProgressElement;
    expect(bar.getAttribute("value")).toBe("120");
    expect(bar.getAttribute("max")).toBe("300");
  });

  it("shows an indeterminate bar when the total is unknown", () => {
    render(<ProgressView progress={{ stage: "keys", done: 0, total: null, message: "Unlocking the cache" }} />);
    expect(screen.getByRole("status").textContent).toContain("Unlocking the cache");
    expect(screen.getByRole("progressbar").hasAttribute("value")).toBe(false);
  });

  it("has a default message before any progress arrives", () => {
    render(<ProgressView progress={null} />);
    expect(screen.getByRole("status").textContent).toContain("Opening the patient cache");
  });
});

describe("StartupErrorView", () => {
  it("shows the code and message, focuses Retry, and calls onRetry", () => {
    const onRetry = vi.fn();
    render(<StartupErrorView error={{ code: "cache_locked", message: "in use by another process" }} onRetry={onRetry} />);
    expect(screen.getByRole("alert").textContent).toBe("Cannot open the cache (cache_locked): in use by another process");
    const retry = screen.getByRole("button", { name: "Retry" });
    expect(document.activeElement).toBe(retry);
    fireEvent.click(retry);
    expect(onRetry).toHaveBeenCalledTimes(1);
  });
});
