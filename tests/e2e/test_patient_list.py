"""End-to-end test of the real Careloop window through tauri-driver: sign-in, then the patient list and its search."""

import os
import re
import sys

from common import STARTUP_TIMEOUT_S, app_path, open_session, run_in_window, screenshot, sign_in, verdict
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

EXPECTED_PATIENTS = int(os.environ.get("CARELOOP_DEMO_PATIENTS", "300"))
PAGE_SIZE = 100
SEARCH_TIMEOUT_S = 15

COUNT = "[data-testid=patient-count]"
ROW = "[data-testid=patient-row]"
NAME = "[data-testid=patient-name]"
SEARCH = "#patient-search"


def count_text(n: int) -> str:
    return f"{n:,} patients"


def parse_count(text: str) -> int:
    match = re.fullmatch(r"([\d,]+) patients?", text.strip())
    assert match, f"patient count reads {text!r}, expected '<n> patients'"
    return int(match.group(1).replace(",", ""))


def row_names(driver: WebDriver) -> list[str]:
    return [row.find_element(By.CSS_SELECTOR, NAME).text.strip() for row in driver.find_elements(By.CSS_SELECTOR, ROW)]


def search_letters(name: str) -> str:
    """A few letters from the start of a name: the first run of at least three letters, else its start."""
    match = re.search(r"[^\W\d_]{3,}", name)
    return match.group(0)[:3] if match else name[:3]


def check_patient_list(driver: WebDriver) -> None:
    # Everything is behind sign-in (a demo account of the first run), then one tab away.
    sign_in(driver, "ana", timeout=STARTUP_TIMEOUT_S)
    driver.find_element(By.CSS_SELECTOR, "[data-testid=tab-patients]").click()
    wait = WebDriverWait(driver, STARTUP_TIMEOUT_S, ignored_exceptions=[StaleElementReferenceException])
    expected = count_text(EXPECTED_PATIENTS)
    try:
        wait.until(lambda d: any(e.text.strip() == expected for e in d.find_elements(By.CSS_SELECTOR, COUNT)))
    except TimeoutException:
        counts = [e.text for e in driver.find_elements(By.CSS_SELECTOR, COUNT)]
        body = driver.find_element(By.TAG_NAME, "body").text[:500]
        raise AssertionError(f"count never read {expected!r} (count: {counts}, page: {body!r})") from None

    names = row_names(driver)
    assert len(names) == min(PAGE_SIZE, EXPECTED_PATIENTS), f"expected {PAGE_SIZE} rows, got {len(names)}"
    assert all(names), f"some rows have an empty name: {names}"
    for row in driver.find_elements(By.CSS_SELECTOR, ROW)[:5]:
        assert row.get_attribute("data-patient-id"), "a row has no data-patient-id"

    letters = search_letters(names[0])
    search = driver.find_element(By.CSS_SELECTOR, SEARCH)
    label = driver.find_element(By.CSS_SELECTOR, f"label[for={search.get_attribute('id')}]")
    assert label.text.strip(), "the search box has no visible label"
    search.click()
    search.send_keys(letters)

    def filtered(d: WebDriver) -> bool:
        text = d.find_element(By.CSS_SELECTOR, COUNT).text
        if text.strip() == expected:
            return False
        n = parse_count(text)
        shown = row_names(d)
        return len(shown) == min(n, PAGE_SIZE) and all(letters.casefold() in s.casefold() for s in shown)

    try:
        WebDriverWait(driver, SEARCH_TIMEOUT_S, ignored_exceptions=[StaleElementReferenceException]).until(filtered)
    except TimeoutException:
        raise AssertionError(
            f"after typing {letters!r}: count {driver.find_element(By.CSS_SELECTOR, COUNT).text!r}, "
            f"rows {row_names(driver)[:10]}"
        ) from None

    after = parse_count(driver.find_element(By.CSS_SELECTOR, COUNT).text)
    assert 1 <= after < EXPECTED_PATIENTS, f"count after searching {letters!r} is {after}"
    shown = row_names(driver)
    bad = [s for s in shown if letters.casefold() not in s.casefold()]
    assert not bad, f"rows not containing {letters!r}: {bad}"
    print(f"search {letters!r}: {EXPECTED_PATIENTS} -> {after} patients, {len(shown)} rows shown")
    screenshot(driver, "patients")


def main() -> int:
    app = app_path("test_patient_list.py")
    if app is None:
        return verdict(False)
    passed = run_in_window(
        lambda: open_session(app),
        check_patient_list,
        "failure-patients",
        last_shot=os.environ.get("CARELOOP_E2E_SCREENSHOT"),
    )
    return verdict(passed)


if __name__ == "__main__":
    sys.exit(main())
