"""End-to-end: a partner organisation's user answers a referral on the partner page, in a real
browser (headless Chromium driven by chromedriver, both from Debian's packages).

A real `careloop serve` on loopback holds team north's panel, the services directory and two
partners (Harbor, Meadow), each with a user. Ana (a `careloop` CLI workstation) sends a
referral of her case to Harbor's home care, with the person's consent. Lena (Harbor) signs in
at /partner (a wrong password first), sees the referral with its reason and consent, accepts
it, records the start and completes it. Mo (Meadow) sees none of it. Ana's next sync shows each
step on the case, by lena@harbor.

Usage: test_partner_page.py CARELOOP_CLI (the `careloop` binary); needs /usr/bin/chromium and
/usr/bin/chromedriver (apt-get install chromium chromium-driver).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from common import axe_scan, free_ports, wait_until

PASSWORD = "e2e partner password"
PANEL_DATE = "2026-11-20"
STEP_TIMEOUT_S = 20
SHOTS = os.environ.get("CARELOOP_E2E_SCREENSHOTS") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "e2e-screenshots"
)


class Careloop:
    def __init__(self, cli: str, tmp: str):
        self.cli, self.tmp = cli, tmp
        self.server_dir = os.path.join(tmp, "server")
        self.key = os.path.join(tmp, "ws.key")
        with open(self.key, "w") as f:
            os.chmod(f.name, 0o600)
            f.write("%064d\n" % 7)
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.pin = ""

    def run(self, *args: str) -> str:
        env = dict(os.environ, CARELOOP_PASSWORD=PASSWORD)
        done = subprocess.run([self.cli, *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise AssertionError(f"careloop {' '.join(args[2:5])} failed: {done.stderr.strip()}")
        return done.stdout

    def admin(self, *args: str) -> str:
        return self.run("--data-dir", self.server_dir, "admin", *args)

    def ws(self, user: str, *args: str) -> str:
        return self.run("--data-dir", os.path.join(self.tmp, f"ws-{user}"), "--key-file", self.key, *args)

    def acting(self, user: str, role: str, *args: str) -> str:
        return self.ws(user, *args, "--as-user", user, "--role", role)

    def serve(self) -> None:
        log_path = os.path.join(self.tmp, "serve.txt")
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen(
                [self.cli, "--data-dir", self.server_dir, "serve", "--listen", f"127.0.0.1:{free_ports(1)[0]}"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def ready():
            text = open(log_path).read()
            return "listening on" in text and "certificate SHA-256:" in text and text

        text = wait_until(ready, "the server to listen")
        self.url = text.split("listening on ")[1].split()[0]
        self.pin = text.split("certificate SHA-256: ")[1].split()[0]

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait()


def prepare(c: Careloop) -> tuple[str, str]:
    """The server with its panel, directory and users; Ana's referral sent. Returns (case, referral)."""
    panel = os.path.join(c.tmp, "panel")
    c.run("demo", "--patients", "40", "--seed", "3", "--as-of", PANEL_DATE, "--out", panel)
    for user, role in (("ana", "coordinator"), ("sue", "supervisor")):
        c.admin("user", "add", user, "--role", role, "--team", "north")
    c.admin("panel", "--team", "north", panel)
    c.admin("partner", "add", "harbor", "--name", "Harbor Home Care")
    c.admin("partner", "service", "harbor", "harbor-home", "--name", "Home care", "--type", "home_care",
            "--area", "North district", "--languages", "en,es", "--respond-within", "2", "--start-within", "10")
    c.admin("partner", "user", "harbor", "lena")
    c.admin("partner", "add", "meadow", "--name", "Meadow Food Bank")
    c.admin("partner", "user", "meadow", "mo")
    c.serve()
    for user in ("sue", "ana"):
        c.ws(user, "sync", "connect", c.url, "--pin", c.pin)
    c.ws("sue", "sync", "run", "--as-user", "sue")
    c.acting("sue", "supervisor", "case", "open", "--as-of", PANEL_DATE)
    c.ws("sue", "sync", "run", "--as-user", "sue")
    c.ws("ana", "sync", "run", "--as-user", "ana")
    pool = json.loads(c.acting("ana", "coordinator", "case", "list", "--pool", "--format", "json"))
    case = pool[0]["case_id"]
    c.acting("ana", "coordinator", "case", "claim", case)
    services = json.loads(c.acting("ana", "coordinator", "referral", "services", "--format", "json"))
    assert services["partners"][0]["services"][0]["id"] == "harbor-home", services
    done = json.loads(c.acting(
        "ana", "coordinator", "referral", "send", case, "--partner-service", "harbor-home",
        "--consent", "verbal consent to share with Harbor <recorded by ana>", "--note", "lives alone & struggles with bathing",
        "--format", "json",
    ))
    c.ws("ana", "sync", "run", "--as-user", "ana")
    return case, done["created"]


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                "--window-size=1280,900", "--disable-gpu"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def find(driver, css: str, what: str):
    return WebDriverWait(driver, STEP_TIMEOUT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, css), message=f"waiting for {what}"
    )


def sign_in(driver, url: str, user: str, password: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{url}/partner")
    form = find(driver, "[data-testid=sign-in]", "the sign-in form")
    form.find_element(By.NAME, "user").send_keys(user)
    form.find_element(By.NAME, "password").send_keys(password)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def expect_notice(driver, expected: str) -> None:
    """Waits for the page after a form to say `expected` (the page before may still show the
    previous notice for a moment)."""

    def says(d):
        try:
            return any(e.text == expected for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=notice]"))
        except StaleElementReferenceException:
            return False

    WebDriverWait(driver, STEP_TIMEOUT_S).until(says, message=f"waiting for the notice {expected!r}")


def shot(driver, name: str) -> None:
    """Scans the page for accessibility (axe-core), then keeps a picture of it."""
    if not name.startswith("failure"):
        axe_scan(driver, name)
    os.makedirs(SHOTS, exist_ok=True)
    driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def run(c: Careloop, driver, case: str, referral: str) -> None:
    sign_in(driver, c.url, "lena", "not the password")
    error = find(driver, "[data-testid=error]", "the sign-in error").text
    assert "password" in error, error
    sign_in(driver, c.url, "lena", PASSWORD)
    card = find(driver, f"[data-task-id='{referral}']", "Ana's referral on Harbor's page")
    text = card.text
    assert "lives alone & struggles with bathing" in text, text
    assert "verbal consent to share with Harbor <recorded by ana>" in text, text
    assert "Home care" in text and "New: accept or decline" in text, text
    shot(driver, "12-partner-page")
    print("the partner sees the referral, its reason and consent")

    card.find_element(By.CSS_SELECTOR, "[data-testid=accept] button").click()
    expect_notice(driver, "Referral accepted.")
    card = find(driver, f"[data-task-id='{referral}']", "the accepted referral")
    assert "Accepted: record the start" in card.text, card.text
    start = card.find_element(By.CSS_SELECTOR, "[data-testid=start]")
    date = start.find_element(By.NAME, "start")
    driver.execute_script("arguments[0].value = '2026-11-24'", date)
    start.find_element(By.NAME, "note").send_keys("first visit booked")
    start.find_element(By.CSS_SELECTOR, "button").click()
    expect_notice(driver, "Start recorded.")
    card = find(driver, f"[data-task-id='{referral}']", "the started referral")
    complete = card.find_element(By.CSS_SELECTOR, "[data-testid=complete]")
    complete.find_element(By.NAME, "outcome").send_keys("daily home care in place")
    complete.find_element(By.CSS_SELECTOR, "button").click()
    expect_notice(driver, "Referral completed.")
    find(driver, "[data-testid=empty]", "no referral left waiting")
    print("accepted, started and completed on the page")

    sign_in(driver, c.url, "mo", PASSWORD)
    find(driver, "[data-testid=empty]", "Meadow's empty queue")
    assert "lives alone" not in driver.page_source
    print("another partner sees none of it")

    c.ws("ana", "sync", "run", "--as-user", "ana")
    detail = json.loads(c.acting("ana", "coordinator", "case", "show", case, "--format", "json"))
    steps = [(t["actor"], t["detail"]) for t in detail["timeline"] if t["kind"] == "referral.updated"]
    assert steps == [
        ("lena@harbor", "referral accepted"),
        ("lena@harbor", "referral started on 2026-11-24: first visit booked"),
        ("lena@harbor", "referral completed: daily home care in place"),
    ], steps
    log = c.admin("partner", "access-log")
    assert "lena" in log and "answer" in log, log
    print("the coordinator's case shows each step, by lena@harbor")


def main() -> int:
    cli = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARELOOP_CLI", "")
    if not cli:
        print("usage: test_partner_page.py CARELOOP_CLI", file=sys.stderr)
        return 2
    cli = os.path.abspath(cli)
    tmp = tempfile.mkdtemp(prefix="careloop-e2e-partner.")
    c = Careloop(cli, tmp)
    driver = None
    passed = False
    try:
        case, referral = prepare(c)
        driver = browser()
        run(c, driver, case, referral)
        passed = True
    except Exception:  # noqa: BLE001 - any failure is a test failure; show it
        traceback.print_exc()
        if driver is not None:
            shot(driver, "failure-partner-page")
        log = os.path.join(tmp, "serve.txt")
        if os.path.exists(log):
            print("--- serve.txt (last 30 lines) ---", file=sys.stderr)
            print("".join(open(log).readlines()[-30:]), file=sys.stderr)
    finally:
        if driver is not None:
            driver.quit()
        c.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("partner page e2e:", "1 passed, 0 failed" if passed else "0 passed, 1 failed")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
