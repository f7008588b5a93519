// Tests for the app flow: start-up progress and errors, sign-in, the workspace after it, and
// the idle lock (by time, by request, or when the backend answers session_locked), which
// removes the record from the page and needs the password again.
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "./App";
import type { StartupReport } from "./bindings/StartupReport";
import { fakeBackend, makePatients, report } from "./test/fakeBackend";
import { withLayout } from "./test/layout";

withLayout();

afterEach(() => {
  vi.useRealTimers();
});

async function signIn(user = "ana", password = "demo") {
  fireEvent.change(await screen.findByLabelText("User name"), { target: { value: user } });
  fireEvent.change(screen.getByLabelText("Password"), { target: { value: password } });
  fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("App", () => {
  it("shows progress events while the cache opens, then the sign-in screen", async () => {
    const backend = fakeBackend();
    let finish: (value: StartupReport) => void = () => {};
    backend.openCache.mockImplementation(() => new Promise((resolve) => (finish = resolve)));
    render(<App backend={backend} />);

    act(() => backend.emitProgress({ stage: "demo", done: 50, total: 300, message: "Loading demo patients" }));
    expect(screen.getByRole("status").textContent).toContain("Loading demo patients");
    expect(screen.getByRole("progressbar").getAttribute("value")).toBe("50");

    await act(async () => finish(report));
    expect(await screen.findByTestId("sign-in-screen")).toBeTruthy();
    expect(backend.worklist).not.toHaveBeenCalled();
  });

  it("refuses a wrong password with the code, then signs in to the worklist", async () => {
    const backend = fakeBackend();
    render(<App backend={backend} />);
    await signIn("ana", "wrong");
    expect((await screen.findByTestId("sign-in-error")).textContent).toBe(
      "Cannot sign in (forbidden): unknown user or wrong password",
    );
    await signIn();
    expect((await screen.findByTestId("signed-in-as")).textContent).toBe("ana · Coordinator");
    expect(await screen.findAllByTestId("worklist-row")).not.toHaveLength(0);
    expect(screen.queryByTestId("tab-callbacks")).toBeNull();
  });

  it("lands a clinician on the callback queue, not on a worklist they cannot claim from", async () => {
    const backend = fakeBackend();
    render(<App backend={backend} />);
    await signIn("cleo");
    expect((await screen.findByTestId("signed-in-as")).textContent).toBe("cleo · Clinician");
    expect(await screen.findAllByTestId("callback-item")).not.toHaveLength(0);
    expect(screen.getByTestId("tab-callbacks").getAttribute("aria-current")).toBe("page");
  });

  it("keeps the patient list one tab away", async () => {
    const backend = fakeBackend(makePatients(1000));
    render(<App backend={backend} />);
    await signIn();
    fireEvent.click(await screen.findByTestId("tab-patients"));
    expect((await screen.findByText("1,000 patients")).dataset.testid).toBe("patient-count");
    expect(screen.getAllByTestId("patient-row")).toHaveLength(100);
    expect(backend.listPatients).toHaveBeenCalledWith({ text: null, offset: 0, limit: 100 });
  });

  it("shows an UiError with its code and message, and Retry opens the cache again", async () => {
    const backend = fakeBackend();
    backend.openCache.mockRejectedValueOnce({ code: "cache_locked", message: "The cache is in use." });
    render(<App backend={backend} />);

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("Cannot open the cache (cache_locked): The cache is in use.");
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByTestId("sign-in-screen")).toBeTruthy();
    expect(backend.openCache).toHaveBeenCalledTimes(2);
  });

  it("never shows a raw stack for an unexpected rejection", async () => {
    const backend = fakeBackend();
    backend.openCache.mockRejectedValueOnce(new TypeError("boom"));
    render(<App backend={backend} />);
    expect((await screen.findByRole("alert")).textContent).toBe("Cannot open the cache (unknown): boom");
  });

  it("locks after the idle time: the record leaves the page, and unlocking returns to it", async () => {
    const backend = fakeBackend();
    backend.session = { ...backend.session, idle_lock_seconds: 2 };
    render(<App backend={backend} />);
    await signIn();
    fireEvent.click((await screen.findAllByTestId("worklist-open"))[0] as HTMLElement);
    expect((await screen.findByTestId("case-name")).textContent).toBe("Zoë Lefèvre");

    await waitFor(() => expect(screen.queryByTestId("lock-screen")).not.toBeNull(), { timeout: 4000 });
    expect(backend.lock).toHaveBeenCalled();
    expect(document.body.textContent).not.toContain("Zoë");
    expect(document.body.textContent).not.toContain("555-0101");
    expect((screen.getByLabelText("User name") as HTMLInputElement).value).toBe("ana");

    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "demo" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByTestId("case-name")).textContent).toBe("Zoë Lefèvre");
  });

  it("locks when the backend answers session_locked, and on the Lock button", async () => {
    const backend = fakeBackend();
    render(<App backend={backend} />);
    await signIn();
    await screen.findAllByTestId("worklist-row");
    backend.caseDetail.mockRejectedValueOnce({ code: "session_locked", message: "the session is locked; sign in again" });
    fireEvent.click((await screen.findAllByTestId("worklist-open"))[0] as HTMLElement);
    expect(await screen.findByTestId("lock-screen")).toBeTruthy();

    await signIn("ana", "demo");
    expect(await screen.findByTestId("case-name")).toBeTruthy();
    fireEvent.click(screen.getByTestId("lock-button"));
    expect(await screen.findByTestId("lock-screen")).toBeTruthy();
    expect(screen.queryByTestId("case-view")).toBeNull();
  });

  it("keeps nothing in web storage", async () => {
    localStorage.clear();
    sessionStorage.clear();
    const backend = fakeBackend();
    render(<App backend={backend} />);
    await signIn();
    fireEvent.click((await screen.findAllByTestId("worklist-open"))[0] as HTMLElement);
    await screen.findByTestId("case-name");
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
  });
});
