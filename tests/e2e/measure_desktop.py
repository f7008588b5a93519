"""Measures the real desktop app on a prepared panel (tests/e2e/measure.sh makes it): cold start
to an interactive sign-in screen, sign-in to a filled worklist, worklist sort and filter clicks
on the unassigned pool, search-as-you-type latency, and idle memory (the app and its WebKit
processes). Prints one line of figures. Not a pass/fail test: figures for the issue notes."""

import os
import statistics
import sys
import time

from selenium.webdriver.common.by import By

from common import find, open_session, select_value, sign_in, wait_for


def rss_kib(names: tuple[str, ...]) -> dict[str, int]:
    """Resident memory of this run's processes (they carry its CARELOOP_DATA_DIR) whose
    command name starts with one of `names`."""
    marker = f"CARELOOP_DATA_DIR={os.environ['CARELOOP_DATA_DIR']}".encode()
    out: dict[str, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            if not comm.startswith(names):
                continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                if marker not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        out[f"{comm}[{pid}]"] = int(line.split()[1])
        except OSError:
            continue
    return out


def row_count(driver) -> int:
    text = driver.find_element(By.CSS_SELECTOR, "[data-testid=worklist-count]").text
    digits = "".join(c for c in text.split(" ")[0] if c.isdigit())
    return int(digits or 0)


def main(app: str) -> None:
    started = time.monotonic()
    driver = open_session(app)
    try:
        find(driver, "#sign-in-user", "the sign-in form", timeout=180)
        interactive_s = time.monotonic() - started

        started = time.monotonic()
        sign_in(driver, "sue", timeout=180)
        # A supervisor lands on the team view; the pool is on the worklist.
        find(driver, "[data-testid=tab-worklist]", "the worklist tab", timeout=180).click()
        find(driver, "#worklist-scope", "the worklist", timeout=180)
        select_value(driver, "#worklist-scope", "pool")
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=worklist-row]"), "pool rows", timeout=180)
        worklist_s = time.monotonic() - started
        rows = row_count(driver)

        # Sort clicks: time from the click until the header shows the new order (the rows are
        # re-sorted in the same render).
        clicks = []
        headers = "[role=columnheader]"
        for i in range(8):
            cell = driver.find_elements(By.CSS_SELECTOR, headers)[i % 4]
            before = cell.get_attribute("aria-sort")
            t = time.monotonic()
            cell.find_element(By.CSS_SELECTOR, "button.sort").click()
            wait_for(
                driver,
                lambda d: d.find_elements(By.CSS_SELECTOR, headers)[i % 4].get_attribute("aria-sort") != before,
                "the new sort order",
                timeout=10,
            )
            clicks.append((time.monotonic() - t) * 1000)

        # Search as you type: each keystroke until the results list reflects it.
        box = find(driver, "#global-search", "the search box")
        keystrokes = []
        for query in ("mar", "gar", "lop", "jos", "ana"):
            box.clear()
            for i, ch in enumerate(query):
                t = time.monotonic()
                box.send_keys(ch)
                if i >= 1:
                    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=search-hit]"), "search hits", timeout=30)
                    keystrokes.append((time.monotonic() - t) * 1000)
        box.clear()

        time.sleep(10)
        memory = rss_kib(("careloop-app", "WebKitWebProces", "WebKitNetworkPr"))
        total_mib = sum(memory.values()) / 1024
        app_mib = sum(v for k, v in memory.items() if k.startswith("careloop-app")) / 1024
        print(
            f"desktop: cold start to sign-in {interactive_s:.2f} s; sign-in to {rows:,}-row pool {worklist_s:.2f} s; "
            f"sort/filter click median {statistics.median(clicks):.0f} ms (max {max(clicks):.0f}); "
            f"search keystroke median {statistics.median(keystrokes):.0f} ms (first {keystrokes[0]:.0f}, max {max(keystrokes):.0f}, n={len(keystrokes)}); "
            f"idle RSS app {app_mib:.0f} MiB, app + WebKit {total_mib:.0f} MiB ({', '.join(f'{k} {v // 1024} MiB' for k, v in sorted(memory.items()))})"
        )
    finally:
        driver.quit()


if __name__ == "__main__":
    main(sys.argv[1])
