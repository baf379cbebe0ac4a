"""Issue 18, done-when 2 and 3: axe-core finds no serious or critical violation on any console
page, in Bahasa Indonesia and in English; and a screenshot of every console page at phone width
(390 × 844) and desktop width (1280 × 800) goes to docs/screenshots/ (or $LAPOR_SCREENSHOTS),
taken on a lapor-local of their own with reports in every colour."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lapor import (
    CONSOLE_PAGES,
    DESKTOP,
    PHONE,
    LaporLocal,
    axe_violations,
    describe_violations,
    lapor_local_binary,
    screenshot,
    seed_console,
    visit_every_console_page,
)


@pytest.fixture(scope="module")
def showcase():
    server = LaporLocal(lapor_local_binary())
    seeded = seed_console(server)
    # Two weeks on, the report nobody answered is overdue: the sweep flags it red.
    later = (datetime.now(timezone(timedelta(hours=7))) + timedelta(days=14)).replace(microsecond=0)
    status, body = server.officer(
        "POST", "/admin/sweep", {"now": later.isoformat()},
        agency="kemenpanrb", role="admin_pusat",
    )
    assert status == 200, body
    yield server, seeded
    server.stop()


@pytest.mark.parametrize("lang,size", [("id", "desktop"), ("en", "desktop"), ("id", "phone")])
def test_axe_finds_no_serious_or_critical_violation_on_any_console_page(
    lang, size, new_context, showcase
):
    lapor, seeded = showcase
    viewport = {"phone": PHONE, "desktop": DESKTOP}[size]
    found: dict[str, list] = {}

    def check(page, name, _response):
        found[name] = axe_violations(page)

    # axe is injected as a script of its own: the console's CSP allows none but its own.
    visit_every_console_page(
        lambda: new_context(viewport=viewport, bypass_csp=True).new_page(), lapor, lang, seeded, check
    )
    assert sorted(found) == sorted(CONSOLE_PAGES)
    report = [describe_violations(f"{name} ({lang}, {size})", v) for name, v in found.items() if v]
    print("\n".join(report))
    assert not report, "\n" + "\n".join(report)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_console_page_has_a_screenshot_and_none_scrolls_sideways(size, new_context, showcase):
    lapor, seeded = showcase
    viewport = {"phone": PHONE, "desktop": DESKTOP}[size]
    taken = {}
    sideways = []

    def shoot(page, name, _response):
        taken[name] = screenshot(page, name, size)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            sideways.append(f"{name}: {width}px")
        # An inbox and a dashboard are read on a phone as well: their reports and agencies are
        # cards there, not a table that scrolls inside its frame, and each card still says what
        # each of its lines is.
        for table in page.locator("table.stack").all():
            frame = table.locator("xpath=..")
            scroll, client = frame.evaluate("e => [e.scrollWidth, e.clientWidth]")
            if scroll > client:
                sideways.append(f"{name}: the reports table scrolls ({scroll} > {client}px)")
            if size == "phone" and table.locator("tbody tr").count():
                labels = table.locator("tbody tr").first.evaluate(
                    "row => [...row.cells].map(c => getComputedStyle(c, '::before').content)"
                )
                dashboard = table.get_attribute("id") in ("departments", "ranking")
                expected = "Merah (lewat batas)" if dashboard else "Batas waktu"
                assert any(expected in label for label in labels), f"{name}: {labels}"

    visit_every_console_page(lambda: new_context(viewport=viewport).new_page(), lapor, "id", seeded, shoot)
    assert sorted(taken) == sorted(CONSOLE_PAGES)
    for name, path in taken.items():
        assert path.stat().st_size > 5_000, f"{name}: {path} looks empty"
    assert not sideways, sideways
