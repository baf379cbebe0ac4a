"""Bahasa Indonesia first; English by a visible switch or the browser's Accept-Language; the
choice sticks, and the form's errors follow it."""

from __future__ import annotations

from playwright.sync_api import expect

from lapor import Report, submit_report


def test_the_language_switch_sticks_and_errors_follow_it(new_context, lapor):
    base = lapor.url
    page = new_context().new_page()
    page.goto(f"{base}/")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    switch = page.locator("#lang-switch")
    expect(switch).to_be_visible()
    switch.click()
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert {c["name"]: c["value"] for c in page.context.cookies()}.get("lang") == "en"

    # Kept on the next page, and in the form's errors.
    page.goto(f"{base}/lapor")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert submit_report(page, Report(title="")).status == 422
    english = page.locator("#title-error").inner_text()

    page.goto(f"{base}/lapor?lang=id")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    assert submit_report(page, Report(title="")).status == 422
    expect(page.locator("html")).to_have_attribute("lang", "id")
    indonesian = page.locator("#title-error").inner_text()
    assert english.strip() and indonesian.strip() and english != indonesian


def test_a_browser_asking_for_english_gets_english_until_it_chooses(new_context, lapor):
    page = new_context(locale="en-US").new_page()
    page.goto(f"{lapor.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{lapor.url}/?lang=id")
    page.goto(f"{lapor.url}/lacak")
    expect(page.locator("html")).to_have_attribute("lang", "id")
