"""End-to-end: the real window against a real `careloop serve` on loopback.

Ana's desktop has no demo panel: her first sign-in goes to the server, and the first sync
brings the team's panel and the cases Sue opened. Ben (a `careloop` CLI workstation) claims
the case at the top of the pool while Ana has not synced; Ana claims it too. "Sync now" shows
the server's answer in the open case: Ben has it, and Ana's claim "changed nothing: already
claimed by ben". Then the server goes away: Ana's next claim waits ("Offline · 1 pending"),
and reaches Ben once the server is back. Last, the team's panel gets an ED visit: Ana's next
sync changes the lists line and the alert badge above her worklist, without a restart.

The test starts its own server, CLI workstations and tauri-driver (in a private D-Bus
session with gnome-keyring: the desktop keeps its refresh token in the OS keyring).
Usage: test_sync.py APP_BINARY (the `careloop` CLI is taken from beside it, or CARELOOP_CLI);
run by tests/e2e/run.sh inside Xvfb.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from common import STARTUP_TIMEOUT_S, app_path, find, free_ports, open_session, run_in_window, screenshot, sign_in, verdict, wait_for, wait_until

PASSWORD = "e2e sync password"
PANEL_DATE = "2026-11-20"
KEYRING_PASSWORD = "careloop-e2e"


class Server:
    """`careloop serve` on a fixed loopback port, so that it can stop and come back."""

    def __init__(self, cli: str, tmp: str):
        self.cli = cli
        self.dir = os.path.join(tmp, "server")
        self.log = os.path.join(tmp, "serve.txt")
        self.port = free_ports(1)[0]
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.pin = ""

    def admin(self, *args: str) -> str:
        env = dict(os.environ, CARELOOP_PASSWORD=PASSWORD)
        return subprocess.run([self.cli, "--data-dir", self.dir, "admin", *args], env=env, check=True, capture_output=True, text=True).stdout

    def start(self) -> None:
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([self.cli, "--data-dir", self.dir, "serve", "--listen", f"127.0.0.1:{self.port}"], stdout=log, stderr=subprocess.STDOUT)

        def ready():
            text = open(self.log).read()
            return "listening on" in text and "certificate SHA-256:" in text and text

        text = wait_until(ready, "the server to listen")
        self.url = text.split("listening on ")[1].split()[0]
        self.pin = text.split("certificate SHA-256: ")[1].split()[0]

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None


class CliWorkstation:
    """A workstation driven through the `careloop` CLI (its own encrypted cache)."""

    def __init__(self, cli: str, tmp: str, user: str, role: str, server: Server):
        self.cli, self.user, self.role = cli, user, role
        self.dir = os.path.join(tmp, f"ws-{user}")
        self.key = os.path.join(tmp, "ws.key")
        self.run("sync", "connect", server.url, "--pin", server.pin)

    def run(self, *args: str) -> str:
        env = dict(os.environ, CARELOOP_PASSWORD=PASSWORD)
        done = subprocess.run([self.cli, "--data-dir", self.dir, "--key-file", self.key, *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise AssertionError(f"careloop {' '.join(args[:2])} as {self.user} failed: {done.stderr.strip()}")
        return done.stdout

    def acting(self, *args: str) -> str:
        return self.run(*args, "--as-user", self.user, "--role", self.role)

    def sync(self) -> None:
        self.run("sync", "run", "--as-user", self.user)


def start_driver(tmp: str, server: Server) -> tuple[subprocess.Popen, str]:
    """tauri-driver in a private D-Bus session with an unlocked gnome-keyring; the app it starts
    syncs with `server` (and only when asked: the background interval is an hour)."""
    port, native = free_ports(2)
    data = os.path.join(tmp, "desktop")
    os.makedirs(os.path.join(tmp, "keyring"), exist_ok=True)
    env = dict(
        os.environ,
        CARELOOP_DATA_DIR=data,
        CARELOOP_SERVER_URL=server.url,
        CARELOOP_SERVER_PIN=server.pin,
        CARELOOP_SYNC_SECONDS="3600",
        XDG_DATA_HOME=os.path.join(tmp, "keyring"),
    )
    env.pop("CARELOOP_DEMO_PATIENTS", None)
    script = (
        f"echo -n {KEYRING_PASSWORD} | gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
        f"exec tauri-driver --port {port} --native-port {native} --native-driver /usr/bin/WebKitWebDriver"
    )
    log = open(os.path.join(tmp, "tauri-driver.log"), "w")
    proc = subprocess.Popen(["dbus-run-session", "--", "bash", "-c", script], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def listening():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, "tauri-driver to listen")
    return proc, f"http://127.0.0.1:{port}"


def badge(driver: WebDriver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "[data-testid=sync-status]").text


def wait_badge(driver: WebDriver, *parts: str) -> str:
    return wait_for(driver, lambda d: (lambda t: t if all(p in t for p in parts) else None)(badge(d)), f"the sync badge to say {' · '.join(parts)}")


def open_first_pool_case(driver: WebDriver) -> str:
    """Shows the unassigned pool and opens its first row (keyboard: the row is virtualised)."""
    find(driver, "[data-testid=tab-worklist]", "the worklist tab").click()
    Select(find(driver, "#worklist-scope", "the worklist's scope")).select_by_value("pool")
    rows = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=worklist-row]"), "the pool's cases")
    case_id = rows[0].get_attribute("data-case-id")
    body = driver.find_element(By.CSS_SELECTOR, "[data-testid=worklist-body]")
    driver.execute_script("arguments[0].focus()", body)
    wait_for(driver, lambda d: body.get_attribute("aria-activedescendant") == f"wl-{case_id}", "the first row to be active")
    body.send_keys(Keys.ENTER)
    find(driver, "[data-testid=claim-case]", "the case's Claim button")
    return case_id


def run(driver: WebDriver, server: Server, ben: CliWorkstation) -> None:
    # The first sign-in goes to the server; the first sync brings the panel and Sue's cases.
    sign_in(driver, "ana", PASSWORD, timeout=STARTUP_TIMEOUT_S)
    wait_badge(driver, "Synced", "0 pending")
    contested = open_first_pool_case(driver)

    # Ben claims the same case first, on his workstation, and syncs.
    ben.sync()
    ben.acting("case", "claim", contested)
    ben.sync()

    # Ana has not seen it: she claims it too. The claim waits in her outbox.
    driver.find_element(By.CSS_SELECTOR, "[data-testid=claim-case]").click()
    find(driver, "[data-testid=record-attempt]", "the attempt form after claiming")
    wait_badge(driver, "1 pending")

    # Sync now: the server says Ben was first; the open case shows it without reopening.
    find(driver, "[data-testid=sync-now]", "the Sync now button").click()
    wait_badge(driver, "Synced", "0 pending")
    lost = wait_for(
        driver,
        lambda d: next((e.text for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=superseded-events]") if "ben" in e.text), None),
        "the case to say Ben has it",
    )
    assert "ana" in lost and "claimed by ben" in lost, lost
    assert "ben" in driver.find_element(By.CSS_SELECTOR, "[data-testid=case-summary]").text
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-testid=record-attempt]"), "not Ana's case: no attempt form"
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-testid=case-notice]"), "'You claimed this case' no longer holds"
    print("a claim that lost says who was first")
    screenshot(driver, "10-sync-claimed-by-ben")

    # The server goes away: Ana's next claim waits, and the badge says so.
    server.stop()
    driver.find_element(By.XPATH, "//button[contains(., 'Back')]").click()
    offline_case = open_first_pool_case(driver)
    assert offline_case != contested, "Ben's case left the pool"
    driver.find_element(By.CSS_SELECTOR, "[data-testid=claim-case]").click()
    find(driver, "[data-testid=record-attempt]", "the attempt form after claiming offline")
    find(driver, "[data-testid=sync-now]", "the Sync now button").click()
    wait_badge(driver, "Offline", "1 pending")
    screenshot(driver, "11-sync-offline")

    # Back: the claim is delivered, and Ben's workstation sees it.
    server.start()
    find(driver, "[data-testid=sync-now]", "the Sync now button").click()
    wait_badge(driver, "Synced", "0 pending")
    ben.sync()
    shown = json.loads(ben.acting("case", "list", "--owner", "ana", "--format", "json"))
    assert offline_case in [c["case_id"] for c in shown], f"Ben sees Ana's offline claim: {shown}"
    print("an offline claim reached another workstation after reconnecting")

    # New data for the team's panel: yesterday's ED visit for one of its people. Ana's next
    # sync brings it in; the lists line and the alert badge above her worklist change
    # without a restart or a refresh.
    find(driver, "[data-testid=tab-worklist]", "the worklist tab").click()
    assert "No alerts" in find(driver, "[data-testid=alert-badge]", "the alert badge").text
    server.stop()
    server.admin("panel", "--team", "north", ed_visit_delta(os.path.dirname(server.dir)))
    server.start()
    clicked = time.monotonic()
    find(driver, "[data-testid=sync-now]", "the Sync now button").click()
    wait_for(driver, lambda d: "1 alert" in d.find_element(By.CSS_SELECTOR, "[data-testid=alert-badge]").text, "the alert badge to say 1 alert")
    # Sign-in after the restart, the round trip, the import, the lists and the screen.
    print(f"Sync now to the alert on screen: {time.monotonic() - clicked:.2f} s")
    line = wait_for(driver, lambda d: next((e.text for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=lists-line]") if "today" in e.text), None), "the lists line to say what changed today")
    assert "alert" in line, line
    # What the lists opened on the way went out in the same sync.
    wait_badge(driver, "Synced", "0 pending")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=alert-badge]").click()
    row = find(driver, "[data-testid=alert-row]", "the alert in the list")
    assert "ED visit" in row.text, row.text
    screenshot(driver, "12-sync-alert")
    print("new data from a sync changed the lists line and the alert badge without a restart")


def ed_visit_delta(tmp: str) -> str:
    """An NDJSON file with an ED visit yesterday for the first person of the demo panel."""
    with open(os.path.join(tmp, "panel", "Patient.ndjson")) as f:
        patient = json.loads(f.readline())["id"]
    yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    encounter = {
        "resourceType": "Encounter",
        "id": "e2e-ed-visit",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
        "subject": {"reference": f"Patient/{patient}"},
        "period": {"start": f"{yesterday}T03:00:00Z", "end": f"{yesterday}T06:00:00Z"},
    }
    path = os.path.join(tmp, "ed-visit.ndjson")
    with open(path, "w") as f:
        f.write(json.dumps(encounter) + "\n")
    return path


def prepare(cli: str, tmp: str, server: Server) -> CliWorkstation:
    """The team's server with its panel, the cases Sue opened on her workstation, and Ben's."""
    with open(os.path.join(tmp, "ws.key"), "w") as f:
        os.chmod(f.name, 0o600)
        f.write("%064d\n" % 7)
    panel = os.path.join(tmp, "panel")
    subprocess.run([cli, "demo", "--patients", "40", "--seed", "3", "--as-of", PANEL_DATE, "--out", panel], check=True, capture_output=True)
    for user, role in (("ana", "coordinator"), ("ben", "coordinator"), ("sue", "supervisor")):
        server.admin("user", "add", user, "--role", role, "--team", "north")
    server.admin("panel", "--team", "north", panel)
    server.start()
    sue = CliWorkstation(cli, tmp, "sue", "supervisor", server)
    sue.sync()
    sue.acting("case", "open", "--as-of", PANEL_DATE)
    sue.sync()
    return CliWorkstation(cli, tmp, "ben", "coordinator", server)


def show_logs(tmp: str) -> None:
    for name in ("serve.txt", "tauri-driver.log"):
        path = os.path.join(tmp, name)
        if os.path.exists(path):
            print(f"--- {name} (panics, then the last 30 lines) ---", file=sys.stderr)
            lines = open(path).readlines()
            print("".join([line for line in lines if "panicked" in line] + lines[-30:]), file=sys.stderr)


def main() -> int:
    app = app_path("test_sync.py")
    if app is None:
        return verdict(False)
    cli = os.environ.get("CARELOOP_CLI") or os.path.join(os.path.dirname(app), "careloop")
    tmp = tempfile.mkdtemp(prefix="careloop-e2e-sync.")
    server = Server(cli, tmp)
    drivers: list[subprocess.Popen] = []

    def start() -> WebDriver:
        proc, url = start_driver(tmp, server)
        drivers.append(proc)
        return open_session(app, url)

    passed = False
    try:
        ben = prepare(cli, tmp, server)
        passed = run_in_window(start, lambda driver: run(driver, server, ben), "failure-sync")
    except Exception:  # noqa: BLE001 - a failure while setting up is a test failure too
        traceback.print_exc()
    finally:
        if not passed:
            show_logs(tmp)
        for proc in drivers:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            proc.wait()
        server.stop()
        if os.environ.get("CARELOOP_E2E_KEEP"):
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return verdict(passed)


if __name__ == "__main__":
    sys.exit(main())
