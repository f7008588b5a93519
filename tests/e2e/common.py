"""Shared helpers of the end-to-end tests: the WebDriver session, sign-in, waits and screenshots."""

import os
import re
import socket
import sys
import time
import traceback
import unicodedata
from collections.abc import Callable

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

DRIVER_URL = os.environ.get("CARELOOP_E2E_DRIVER_URL", "http://127.0.0.1:4444")
STARTUP_TIMEOUT_S = 120
STEP_TIMEOUT_S = 20


def free_ports(n: int) -> list[int]:
    """`n` loopback ports free right now (for servers and drivers a test starts)."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_until(condition, what: str, timeout: float = 30.0):
    """Polls `condition` (outside a browser) until it returns something true; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")

def app_path(test_file: str) -> str | None:
    """The app binary the test drives (first argument or CARELOOP_APP), or None after a usage line."""
    app = os.environ.get("CARELOOP_APP") or (sys.argv[1] if len(sys.argv) > 1 else "")
    if not app:
        print(f"usage: {test_file} APP_BINARY (or set CARELOOP_APP)", file=sys.stderr)
        return None
    return os.path.abspath(app)


def run_in_window(
    start: Callable[[], WebDriver],
    body: Callable[[WebDriver], None],
    failure_shot: str,
    last_shot: str | None = None,
) -> bool:
    """Opens the window with `start`, runs `body` in it and closes the window; any failure is
    shown with its traceback and a screenshot named `failure_shot`. `last_shot`: a path to keep
    the last window at, pass or fail. Returns whether the test passed."""
    driver = None
    passed = False
    try:
        driver = start()
        body(driver)
        passed = True
    except Exception:  # noqa: BLE001 - any failure is a test failure; show it and carry on to cleanup
        traceback.print_exc()
        if driver is not None:
            try:
                screenshot(driver, failure_shot)
            except Exception:  # noqa: BLE001
                traceback.print_exc()
    finally:
        if driver is not None:
            try:
                if last_shot:
                    driver.save_screenshot(last_shot)
                    print(f"screenshot: {last_shot}")
                driver.quit()
            except Exception:  # noqa: BLE001
                traceback.print_exc()
    return passed


def verdict(passed: bool) -> int:
    """Prints the line run.sh counts and returns the exit code."""
    print("1 passed, 0 failed" if passed else "0 passed, 1 failed")
    return 0 if passed else 1


def open_session(app: str, driver_url: str = DRIVER_URL) -> WebDriver:
    options = ArgOptions()
    options.set_capability("browserName", "wry")
    options.set_capability("tauri:options", {"application": app})
    return webdriver.Remote(command_executor=driver_url, options=options)


def wait_for(driver: WebDriver, condition, what: str, timeout: float = STEP_TIMEOUT_S):
    """Waits until `condition(driver)` is truthy; fails saying what was awaited and what the page shows."""
    try:
        return WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(condition)
    except TimeoutException:
        body = driver.find_element(By.TAG_NAME, "body").text[:800]
        raise AssertionError(f"timed out waiting for {what}; the page shows: {body!r}") from None


def find(driver: WebDriver, css: str, what: str, timeout: float = STEP_TIMEOUT_S) -> WebElement:
    return wait_for(driver, lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, css)), None), what, timeout)


def sign_in(driver: WebDriver, user: str, password: str = "demo", timeout: float = STEP_TIMEOUT_S) -> None:
    """Signs in from the sign-in or lock screen and waits for the workspace."""
    user_box = find(driver, "#sign-in-user", "the sign-in form", timeout)
    user_box.clear()
    user_box.send_keys(user)
    driver.find_element(By.CSS_SELECTOR, "#sign-in-password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(
        driver,
        lambda d: any(e.text.startswith(f"{user} ·") for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=signed-in-as]")),
        f"{user} to be signed in",
    )


def set_input_value(driver: WebDriver, element: WebElement, value: str) -> None:
    """Sets an input's value the way React notices (date inputs do not take typed keys reliably in WebKit)."""
    driver.execute_script(
        """
        const [el, value] = arguments;
        const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
        Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
        """,
        element,
        value,
    )


def select_value(driver: WebDriver, css: str, value: str) -> None:
    from selenium.webdriver.support.select import Select

    Select(find(driver, css, css)).select_by_value(value)


def screenshot_dir() -> str:
    directory = os.environ.get("CARELOOP_E2E_SCREENSHOTS", "")
    if directory:
        os.makedirs(directory, exist_ok=True)
    return directory


AXE_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "ui", "node_modules", "axe-core", "axe.min.js")
# What an accessibility scan refuses: axe-core's serious and critical findings.
AXE_REFUSED = {"serious", "critical"}


def axe_scan(driver: WebDriver, name: str) -> None:
    """Scans the screen with axe-core (WCAG 2 A and AA rules); fails on a serious or critical
    violation, naming the rule, its help text and where (CSS selectors, never text)."""
    with open(AXE_JS, encoding="utf-8") as f:
        driver.execute_script(f.read())
    violations = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }, resultTypes: ["violations"] })
          .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, where: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }))))
          .catch((e) => done([{ id: "axe-error", impact: "critical", help: String(e), nodes: 0, where: [] }]));
        """
    )
    refused = [v for v in violations if v["impact"] in AXE_REFUSED]
    for v in violations:
        print(f"axe {name}: {v['impact']} {v['id']} ({v['nodes']}): {v['help']} at {v['where']}")
    assert not refused, f"accessibility: {len(refused)} serious or critical violations on {name}"


def screenshot(driver: WebDriver, name: str) -> None:
    """Keeps a picture of the screen (when a folder is set) and scans it for accessibility."""
    if os.path.exists(AXE_JS) and not name.startswith("failure"):
        axe_scan(driver, name)
    directory = screenshot_dir()
    if directory:
        # Two animation frames: what the DOM says has been painted (else the shot can lag).
        driver.execute_async_script("requestAnimationFrame(() => requestAnimationFrame(arguments[0]))")
        path = os.path.join(directory, f"{name}.png")
        driver.save_screenshot(path)
        print(f"screenshot: {path}")


def fold(text: str) -> str:
    """Lower case without accents: what a user types for 'Lefèvre'."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).casefold()


def accented_word(name: str) -> str | None:
    """A word of the name with an accent and at least four letters, if any."""
    for word in re.findall(r"[^\W\d_]+", name):
        if len(word) >= 4 and fold(word) != word.casefold():
            return word
    return None
