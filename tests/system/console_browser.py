#!/usr/bin/python3
"""The support console in a real browser (Debian's chromium and chromedriver,
Selenium from python3-selenium), headless. Run by ConsoleTest
(console_test.cc), which starts the services and the gateway and makes the
cards; this script only drives the page, asserts what a person would see,
and saves a screenshot of each page into --shots.

Exit status 0 when every check holds; otherwise the first failed check is
printed and the status is 1.
"""
import argparse
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True, help="http://127.0.0.1:PORT")
    p.add_argument("--support-token", required=True)
    p.add_argument("--admin-token", required=True)
    p.add_argument("--redeemed-serial", required=True)
    p.add_argument("--account", required=True)
    p.add_argument("--invoice", required=True)
    p.add_argument("--active-serial", required=True)
    p.add_argument("--redeemed-pin", required=True,
                   help="the redeemed card's PIN, typed where a serial belongs")
    p.add_argument("--shots", required=True, help="directory for the screenshots")
    return p.parse_args()


class Check(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Check(what)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--no-first-run", "--window-size=1280,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    args = parse_args()
    os.makedirs(args.shots, exist_ok=True)
    driver = browser()
    wait = WebDriverWait(driver, 15)
    by_id = lambda i: driver.find_element(By.ID, i)

    def shot(name):
        path = os.path.join(args.shots, name)
        check(driver.save_screenshot(path), f"screenshot {name}")
        print(f"screenshot: {path}")

    def text_is(element_id, want):
        wait.until(EC.text_to_be_present_in_element((By.ID, element_id), want))
        check(by_id(element_id).text == want, f"#{element_id} is {by_id(element_id).text!r}, not {want!r}")

    def sign_in(token, principal):
        field = wait.until(EC.visibility_of_element_located((By.ID, "token")))
        field.clear()
        field.send_keys(token, Keys.ENTER)  # The keyboard alone signs in.
        text_is("principal", principal)

    def look_up(serial):
        field = by_id("serial")
        field.clear()
        field.send_keys(serial)
        by_id("lookup").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "result-title"), serial))

    try:
        driver.get(args.url + "/console/")
        check(driver.title == "Gift-card support console", f"title {driver.title!r}")
        # Every input has a label; nothing is stored outside the page.
        unlabelled = driver.execute_script(
            "return [...document.querySelectorAll('input')].filter(i => !i.labels.length)"
            ".map(i => i.id)")
        check(unlabelled == [], f"inputs without a label: {unlabelled}")
        shot("01-sign-in.png")

        # A wrong token is refused, with the reason.
        sign_in_field = by_id("token")
        sign_in_field.send_keys("not-a-token", Keys.ENTER)
        wait.until(EC.text_to_be_present_in_element((By.ID, "error"), "CALLER_UNKNOWN"))
        check(by_id("lookup-view").get_attribute("hidden") is not None, "lookup shown to a stranger")

        # Support: the redeemed card, its account's statement, an invoice.
        sign_in(args.support_token, "support")
        storage = driver.execute_script(
            "return [localStorage.length, sessionStorage.length, document.cookie]")
        check(storage == [0, 0, ""], f"the token left the page's memory: {storage}")
        look_up(args.redeemed_serial)
        text_is("code-state", "REDEEMED")
        text_is("code-account", args.account)
        # Who did what and why: the last change, then the whole history,
        # the redemption's steps named by the storefront that asked.
        check("REDEEMING → REDEEMED" in by_id("code-last-change").text
              and "by storefront" in by_id("code-last-change").text,
              f"last change: {by_id('code-last-change').text!r}")
        history = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#code-history tbody tr")]
        check(any("REDEEMING" in r and "storefront" in r for r in history),
              f"no redemption by the storefront in the history: {history}")
        # At 1280×900 what support is asked first is above the fold.
        below = driver.execute_script(
            "return ['code-state', 'code-value', 'code-last-change', 'code-account']"
            ".filter(i => document.getElementById(i).getBoundingClientRect().bottom > innerHeight)")
        check(below == [], f"below the fold at 1280x900: {below}")
        shot("02-support-card.png")
        # An active card, which an admin could block: support gets no button.
        look_up(args.active_serial)
        text_is("code-state", "ACTIVE")
        check(not driver.find_elements(By.ID, "block") and not driver.find_elements(By.ID, "unblock"),
              "support sees a block button")
        # Its PIN typed into the serial box, as a hurried agent would (in
        # lower case, with spaces): the card is found, and the PIN is in no
        # URL, no history entry, no request line, nor left in the field.
        field = by_id("serial")
        field.clear()
        typed = args.redeemed_pin.lower().replace("-", " ")
        field.send_keys(typed, Keys.ENTER)
        wait.until(EC.text_to_be_present_in_element((By.ID, "result-title"), args.redeemed_serial))
        text_is("code-state", "REDEEMED")
        pin = args.redeemed_pin.replace("-", "").upper()
        seen = driver.execute_script(
            "return [location.href, document.getElementById('serial').value,"
            " performance.getEntriesByType('resource').map((e) => e.name).join(' ')]")
        for where, value in zip(("the address bar", "the serial box", "a request line"), seen):
            flat = value.upper().replace("-", "").replace("%20", "").replace(" ", "")
            check(pin not in flat, f"the PIN is in {where}")
        check("PIN" in by_id("status").text, "no word that a PIN was recognized")
        driver.back()  # The history holds serials only: back to the active card.
        wait.until(EC.text_to_be_present_in_element((By.ID, "result-title"), args.active_serial))
        check(pin not in driver.current_url.upper().replace("-", ""), "the PIN is in the history")
        look_up(args.redeemed_serial)
        text_is("code-state", "REDEEMED")
        by_id("code-account").click()
        wait.until(EC.presence_of_element_located((By.ID, "statement")))
        check(by_id("serial").get_attribute("value") == "",
              "the serial box still names the card on the account's page")
        rows = driver.find_elements(By.CSS_SELECTOR, "#statement tbody tr")
        check(len(rows) >= 2, f"statement has {len(rows)} rows")
        check("REDEMPTION" in rows[-1].text or "REDEMPTION" in rows[0].text,
              "no redemption in the statement")
        shot("03-support-statement.png")
        driver.find_element(By.LINK_TEXT, args.invoice).click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "result-title"), args.invoice))
        text_is("invoice-state", "APPLIED")
        shot("04-support-invoice.png")
        driver.back()  # History works: back to the statement.
        wait.until(EC.presence_of_element_located((By.ID, "statement")))
        by_id("sign-out").click()
        wait.until(EC.visibility_of_element_located((By.ID, "token")))

        # Admin: block, then unblock, an active card.
        sign_in(args.admin_token, "admin")
        look_up(args.active_serial)
        text_is("code-state", "ACTIVE")
        by_id("block-reason").send_keys("console test: fraud report")
        by_id("block").click()
        text_is("code-state", "BLOCKED")
        text_is("status", "Card blocked.")
        history = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#code-history tbody tr")]
        check(any("BLOCKED" in r and "admin" in r and "console test: fraud report" in r
                  for r in history), f"the block is not in the history: {history}")
        shot("05-admin-blocked.png")
        by_id("unblock-reason").send_keys("console test: case closed")
        by_id("unblock").click()
        text_is("code-state", "ACTIVE")
        text_is("status", "Card unblocked.")
        shot("06-admin-unblocked.png")

        # On a phone: no sideways scrolling.
        driver.set_window_size(390, 844)
        look_up(args.redeemed_serial)
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        check(overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone")
        shot("07-phone-card.png")
    except Check as failed:
        print(f"console check failed: {failed}", file=sys.stderr)
        try:
            shot("failure.png")
        except Exception:  # noqa: BLE001 - the failure itself is what matters
            pass
        return 1
    finally:
        driver.quit()
    print("console: every check held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
