"""End-to-end test of outreach in the real Careloop window through tauri-driver.

A coordinator (ana) opens the unassigned pool, opens a case with the keyboard, claims it, runs
the script in the person's language, is not offered an SMS with a sensitive template (the
reason shown beside the choices), documents a phone attempt whose outcome routes a clinician callback; the
clinician (cleo) documents the callback with the review sign-off; search finds the person by
part of an accented name typed without accents; and, left idle (CARELOOP_IDLE_LOCK_SECONDS is
short in tests/e2e/run.sh), the session locks and the record leaves the page. Each main screen
is saved under $CARELOOP_E2E_SCREENSHOTS; last, the supervisor (sue) previews a segment draft
and opens the weekly review of the last full week (the first run simulated the weeks before
today), drills into a cohort and exports the PDF.
"""

import os
import sys

from common import (
    STARTUP_TIMEOUT_S,
    accented_word,
    app_path,
    find,
    fold,
    open_session,
    run_in_window,
    screenshot,
    select_value,
    set_input_value,
    sign_in,
    verdict,
    wait_for,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

IDLE_LOCK_S = int(os.environ.get("CARELOOP_IDLE_LOCK_SECONDS", "900"))
# Segments whose scripts have a template flagged sensitive (schema/segments, schema/scripts).
SEGMENTS_WITH_SENSITIVE_TEMPLATES = [
    "post_discharge_30d",
    "post_discharge_followup",
    "diabetes_hba1c_gap",
    "breast_cancer_screening_gap",
    "medicare_awv_due",
    "polypharmacy",
    "frequent_ed",
    "bh_continuity_risk",
]


def open_a_pool_case(driver: WebDriver) -> str:
    find(driver, "[data-testid=tab-worklist]", "the worklist tab").click()
    select_value(driver, "#worklist-scope", "pool")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=worklist-row]"), "pool rows")
    segments = [o.get_attribute("value") for o in Select(find(driver, "#worklist-segment", "segment filter")).options]
    segment = next((s for s in SEGMENTS_WITH_SENSITIVE_TEMPLATES if s in segments), None)
    assert segment, f"no pool case in a segment with a sensitive template; segments: {segments}"
    select_value(driver, "#worklist-segment", segment)
    def filtered(d: WebDriver):
        rows = d.find_elements(By.CSS_SELECTOR, "[data-testid=worklist-row]")
        return rows if rows and all(r.get_attribute("data-segment") == segment for r in rows) else None

    first = wait_for(driver, filtered, f"only rows of {segment}")[0]
    # textContent: WebKitWebDriver reports no visible text for cells of the absolutely placed rows.
    summary = first.find_element(By.CSS_SELECTOR, "[data-testid=worklist-summary]").get_attribute("textContent")
    due = first.find_element(By.CSS_SELECTOR, "[data-testid=worklist-due]").get_attribute("textContent")
    assert summary.strip(), "a worklist row shows why the person is there"
    assert due.startswith("Due ") or due.startswith("Overdue"), f"due status in words: {due!r}"
    case_id = first.get_attribute("data-case-id")
    screenshot(driver, "01-worklist")
    # Keyboard: focus the table body, Enter opens the active (first) row.
    # (Focused without a click: a click would make the clicked row the active one.)
    body = driver.find_element(By.CSS_SELECTOR, "[data-testid=worklist-body]")
    driver.execute_script("arguments[0].focus()", body)
    wait_for(driver, lambda d: body.get_attribute("aria-activedescendant") == f"wl-{case_id}", "the first row to be active")
    body.send_keys("j")
    body.send_keys("k")
    assert body.get_attribute("aria-activedescendant") == f"wl-{case_id}", "j then k comes back to the first row"
    body.send_keys(Keys.ENTER)
    find(driver, "[data-testid=case-view]", "the case view")
    return case_id


def answer_script(driver: WebDriver) -> int:
    """Answers every shown question (branches appear as answers are given); returns how many."""
    answered: set[str] = set()
    for _ in range(30):
        pending = [
            q for q in driver.find_elements(By.CSS_SELECTOR, "[data-question-id]") if q.get_attribute("data-question-id") not in answered
        ]
        if not pending:
            return len(answered)
        q = pending[0]
        kind = q.get_attribute("data-kind")
        if kind in ("yes_no", "single_choice"):
            radios = q.find_elements(By.CSS_SELECTOR, "input[type=radio]")
            (radios[1] if kind == "yes_no" else radios[0]).click()
        elif kind == "multiple_choice":
            q.find_elements(By.CSS_SELECTOR, "input[type=checkbox]")[0].click()
        elif kind == "scale":
            Select(q.find_element(By.CSS_SELECTOR, "select")).select_by_index(1)
        elif kind == "date":
            set_input_value(driver, q.find_element(By.CSS_SELECTOR, "input"), "2026-12-01")
        else:
            q.find_element(By.CSS_SELECTOR, "textarea").send_keys("Feeling a little tired")
        answered.add(q.get_attribute("data-question-id"))
    raise AssertionError("the script kept showing new questions")


def coordinator_documents_attempt(driver: WebDriver) -> str:
    find(driver, "[data-testid=claim-case]", "the Claim button").click()
    find(driver, "[data-testid=record-attempt]", "the attempt form after claiming")
    name = driver.find_element(By.CSS_SELECTOR, "[data-testid=case-name]").text
    intro = driver.find_element(By.CSS_SELECTOR, "[data-testid=script-intro]").text
    assert intro and "{" not in intro, f"the script's introduction is rendered: {intro!r}"
    count = answer_script(driver)
    print(f"answered {count} questions for the case of {len(name)}-letter name")

    # The channel rule is in the choices: by SMS a sensitive template cannot be picked, and the
    # form says why; by portal it can, and then SMS is the choice not offered.
    select_value(driver, "#attempt-channel", "sms")
    sensitive = [o for o in Select(driver.find_element(By.CSS_SELECTOR, "#attempt-message")).options if "sensitive" in o.text]
    assert sensitive, "the script has a sensitive template"
    assert not sensitive[0].is_enabled(), "a sensitive template is not offered by SMS"
    rule = find(driver, "[data-testid=channel-rule]", "the channel rule beside the choices").text
    assert "portal only" in rule, f"the form says why: {rule!r}"
    select_value(driver, "#attempt-channel", "portal")
    select_value(driver, "#attempt-message", sensitive[0].get_attribute("value"))
    sms = [o for o in Select(driver.find_element(By.CSS_SELECTOR, "#attempt-channel")).options if o.get_attribute("value") == "sms"]
    assert sms and not sms[0].is_enabled(), "SMS is not offered for a sensitive template"
    screenshot(driver, "02-case-channel-rule")
    select_value(driver, "#attempt-message", "")

    # A phone attempt whose outcome routes a clinician callback.
    select_value(driver, "#attempt-channel", "phone")
    select_value(driver, "#attempt-message", "")
    select_value(driver, "#attempt-outcome", "emerging_deterioration")
    select_value(driver, "#attempt-next", "clinician_callback")
    find(driver, "#attempt-callback-reason", "the callback reason").send_keys("New breathlessness since discharge")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=record-attempt]").click()
    notice = wait_for(
        driver,
        lambda d: next((e.text for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=case-notice]") if "awaiting callback" in e.text), None),
        "the attempt to be recorded",
    )
    assert "awaiting callback" in notice
    # The notice comes first; the status follows when the case reloads.
    wait_for(
        driver,
        lambda d: any("Awaiting callback" in e.text for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=case-status]")),
        "the case's status to be awaiting callback",
    )
    screenshot(driver, "03-case-callback-routed")
    return name


def clinician_documents_callback(driver: WebDriver, case_id: str) -> None:
    driver.find_element(By.CSS_SELECTOR, "[data-testid=lock-button]").click()
    find(driver, "[data-testid=lock-screen]", "the lock screen")
    sign_in(driver, "cleo")
    find(driver, "[data-testid=tab-callbacks]", "the callbacks tab").click()
    item = find(driver, f"[data-testid=callback-item][data-case-id='{case_id}']", "the routed callback in the queue")
    item.click()
    find(driver, "#callback-outcome", "the callback form").send_keys("Reviewed by phone; GP appointment tomorrow")
    driver.find_element(By.CSS_SELECTOR, "#callback-next").send_keys("Follow up after the GP visit")
    driver.find_element(By.CSS_SELECTOR, "#callback-reviewed").click()
    screenshot(driver, "04-callback-queue")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=document-callback]").click()
    find(driver, "[data-testid=callback-notice]", "the callback to be documented")
    assert not driver.find_elements(By.CSS_SELECTOR, f"[data-testid=callback-item][data-case-id='{case_id}']"), "documented: off the queue"


def search_by_accented_name(driver: WebDriver, case_name: str) -> str:
    """Types four letters of an accented name without accents; returns the name found."""
    name = case_name if accented_word(case_name) else None
    if name is None:
        find(driver, "[data-testid=tab-patients]", "the patients tab").click()
        for _ in range(10):
            names = [e.text for e in wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=patient-name]"), "patients")]
            name = next((n for n in names if accented_word(n)), None)
            if name:
                break
            buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, "nav.pager button") if b.text == "Next"]
            if not buttons or buttons[0].get_attribute("aria-disabled") == "true":
                break
            first = names[0]
            buttons[0].click()
            wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=patient-name]")[0].text != first, "the next page")
    assert name, "the demo panel has a person with an accented name"
    typed = fold(accented_word(name) or "")[:4]
    box = driver.find_element(By.CSS_SELECTOR, "#global-search")
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(typed)
    wait_for(
        driver,
        lambda d: any(
            e.text == name
            for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=search-group-person] [data-testid=search-hit-title]")
        ),
        f"{name!r} among the people found for {typed!r}",
    )
    print(f"search {typed!r} found an accented name")
    screenshot(driver, "05-search")
    return name


def idle_lock_hides_the_record(driver: WebDriver, case_name: str) -> None:
    # The demo panel can hold two people of that name (their hits read alike): open each in
    # turn until the one with the case.
    opened = None
    for attempt in range(5):
        box = driver.find_element(By.CSS_SELECTOR, "#global-search")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(fold(case_name))
        hits = wait_for(
            driver,
            lambda d: [
                e
                for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=search-group-person] [data-testid=search-hit]")
                if case_name in e.text
            ],
            "the case's person in search",
        )
        if attempt >= len(hits):
            break
        hits[attempt].click()
        # A person with one case opens it; with several, their cases are listed: open the first.
        outcome = wait_for(
            driver,
            lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=person-case] button")
            or [e for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=case-name]") if case_name in e.text]
            or d.find_elements(By.CSS_SELECTOR, "[data-testid=person-no-case]"),
            "the case, or the person's cases, opened from search",
        )
        if outcome[0].get_attribute("data-testid") != "person-no-case":
            opened = outcome
            break
    assert opened, f"none of the people named {case_name!r} found by search has the case"
    if opened[0].tag_name.lower() == "button":
        opened[0].click()
    # The case view may still show the previous case while this one loads: wait for its name.
    wait_for(
        driver,
        lambda d: any(case_name in e.text for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=case-name]")),
        "the case opened from search",
    )
    # Hands off: the lock engages after the idle time.
    find(driver, "[data-testid=lock-screen]", "the idle lock", timeout=IDLE_LOCK_S + 20)
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-testid=case-view]"), "the record is gone from the page"
    assert case_name not in driver.find_element(By.TAG_NAME, "body").text, "no name on the lock screen"
    assert case_name not in driver.page_source, "no name anywhere in the DOM"
    stored = driver.execute_script("return [localStorage.length, sessionStorage.length]")
    assert stored == [0, 0], f"nothing in web storage: {stored}"
    screenshot(driver, "06-idle-lock")


def supervisor_previews_a_segment(driver: WebDriver) -> None:
    sign_in(driver, "sue")
    find(driver, "[data-testid=tab-segments]", "the segments tab (supervisors)").click()
    editor = find(driver, "#segment-text", "the segment editor")
    wait_for(driver, lambda d: '"id"' in editor.get_attribute("value"), "a definition in the editor")
    buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, "button") if b.text == "Check and preview"]
    buttons[0].click()
    impact = find(driver, "[data-testid=segment-impact]", "the draft's impact").text
    assert "added" in impact and "removed" in impact, impact
    screenshot(driver, "07-segment-editor")


def supervisor_reviews_the_week(driver: WebDriver) -> None:
    find(driver, "[data-testid=tab-review]", "the weekly review tab (supervisors)").click()
    find(driver, "[data-testid=cohort-row]", "the current week's cohorts")
    previous = [b for b in driver.find_elements(By.CSS_SELECTOR, "button") if "Previous week" in b.text]
    shown = find(driver, "[data-testid=review-week]", "the week shown").text
    previous[0].click()
    wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=review-week]").text != shown, "the previous week")
    wait_for(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-testid=review-loading]"), "the review loaded")
    # Simulated outreach: attempts in the week and people contacted per bucket.
    timeliness = find(driver, "[data-testid=timeliness-first_attempt]", "time to first attempt").get_attribute("textContent")
    buckets = find(driver, "[data-testid=bucket-table]", "contacts per person").get_attribute("textContent")
    assert any(ch.isdigit() and ch != "0" for ch in buckets), buckets
    screenshot(driver, "08-weekly-review")
    drill = find(driver, "[data-testid=cohort-row] button.drill", "a cohort size to drill into")
    drill.click()
    rows = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=drill-row]"), "the cases behind the number")
    assert rows, timeliness
    screenshot(driver, "09-review-drill-down")
    for b in driver.find_elements(By.CSS_SELECTOR, "[data-testid=drill-panel] button"):
        if b.text.strip() in ("Close", "×"):
            b.click()
            break
    export = [b for b in driver.find_elements(By.CSS_SELECTOR, "button") if b.text == "Export PDF"]
    export[0].click()
    def exported(d: WebDriver):
        done = d.find_elements(By.CSS_SELECTOR, "[data-testid=export-path] code")
        failed = d.find_elements(By.CSS_SELECTOR, ".review [role=alert]")
        return done or failed or None

    shown = wait_for(driver, exported, "the export's outcome")[0]
    assert shown.tag_name == "code", f"the export failed: {shown.text}"
    path = shown.text
    with open(path, "rb") as f:
        assert f.read(8) == b"%PDF-1.7", path


def run(driver: WebDriver) -> None:
    sign_in(driver, "ana", timeout=STARTUP_TIMEOUT_S)
    case_id = open_a_pool_case(driver)
    case_name = coordinator_documents_attempt(driver)
    clinician_documents_callback(driver, case_id)
    search_by_accented_name(driver, case_name)
    idle_lock_hides_the_record(driver, case_name)
    supervisor_previews_a_segment(driver)
    supervisor_reviews_the_week(driver)


def main() -> int:
    app = app_path("test_outreach.py")
    if app is None:
        return verdict(False)
    return verdict(run_in_window(lambda: open_session(app), run, "failure-outreach"))


if __name__ == "__main__":
    sys.exit(main())
