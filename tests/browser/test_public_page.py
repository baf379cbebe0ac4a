"""The public report page: linkable for `publik` and `anonim` reports, never with the reporter's
identity, and without the place for `anonim` ones."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from lapor import Report, receipt_of, submit_report


@pytest.mark.parametrize("privacy", ["publik", "anonim"])
def test_the_public_page_shows_the_report_but_not_who_sent_it(privacy, new_context, lapor):
    page, base = new_context(java_script_enabled=False).new_page(), lapor.url
    report = Report(
        title=f"Sampah menumpuk di Pasar Kanoman {uuid.uuid4().hex[:6]}",
        description="Sampah tidak diangkut selama lima hari, baunya sampai ke rumah warga.",
        category="lingkungan_hidup",
        privacy=privacy,
        address="Jl. Kanoman No. 12, Lemahwungkuk, Kota Cirebon",
        name="Dewi Lestari",
        phone="0857-1122-3344",
        email="dewi.lestari@example.id",
    )
    page.goto(f"{base}/lapor")
    assert submit_report(page, report).status == 200
    code, key = receipt_of(page)

    response = page.goto(f"{base}/laporan/{code}")
    assert response.status == 200, response.status
    expect(page.locator("main")).to_contain_text(report.title)
    expect(page.locator("main")).to_contain_text(code)
    text = page.content()
    hidden = [report.name, report.phone, "1122-3344", report.email, key]
    if privacy == "anonim":
        hidden.append("Jl. Kanoman No. 12")
    for word in hidden:
        assert word not in text, f"the {privacy} report's public page shows {word!r}"
