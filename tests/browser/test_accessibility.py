"""Issue 17, done-when 2: axe-core finds no serious or critical violation on any page, in
Bahasa Indonesia and in English."""

from __future__ import annotations

import pytest

from lapor import PAGES, axe_violations, describe_violations, visit_every_page


@pytest.mark.parametrize("lang", ["id", "en"])
def test_axe_finds_no_serious_or_critical_violation_on_any_page(lang, new_context, lapor):
    # axe is injected as a script of its own: the portal's CSP allows none but its own.
    page = new_context(bypass_csp=True).new_page()
    found: dict[str, list] = {}

    def check(name, _response):
        found[name] = axe_violations(page)

    visit_every_page(page, lapor, lang, check)
    assert sorted(found) == sorted(PAGES)
    report = [describe_violations(f"{name} ({lang})", v) for name, v in found.items() if v]
    print("\n".join(report))
    assert not report, "\n" + "\n".join(report)
