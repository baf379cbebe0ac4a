"""Issue 17, done-when 1: a whistleblower reports secretly and the public pages show nothing of
it; the reporter alone can follow it with the code and the key."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from lapor import CIREBON, YEAR, Report, eventually, receipt_of, submit_report, track


def confidential_total(lapor) -> int:
    status, stats = lapor.json("GET", f"/stats?region={CIREBON}&year={YEAR}")
    assert status == 200, stats
    return stats["confidential"]["total"]


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_a_whistleblower_reports_secretly_and_no_public_page_shows_it(js, new_context, lapor):
    page, base = new_context(java_script_enabled=js).new_page(), lapor.url
    marker = uuid.uuid4().hex[:8]
    shown = uuid.uuid4().hex[:8]
    secret = Report(
        type="whistleblowing",
        category="korupsi",
        # The page's script fixes the choice to rahasia; without scripts the reporter may leave
        # "publik" chosen, and the report must be secret all the same.
        privacy="rahasia" if js else "publik",
        title=f"Pungutan liar pengurusan KTP di kelurahan {marker}",
        description=(
            "Petugas meminta uang tambahan Rp200.000 untuk mempercepat pengurusan KTP elektronik "
            f"setiap hari Senin. Kode saksi {marker}."
        ),
        address="Kantor Kelurahan Pekalangan, Kota Cirebon",
        name="Rahmat Hidayat",
        phone="0813-9876-5432",
        email="rahmat.hidayat@example.id",
    )
    # A public report beside it, so that the feed and the statistics are not merely empty.
    status, public = lapor.json("POST", "/reports", {
        "type": "pengaduan",
        "title": f"Lampu jalan mati di Jalan Siliwangi {shown}",
        "description": "Tiga lampu jalan mati sejak seminggu, jalan gelap dan rawan kecelakaan.",
        "category": "infrastruktur",
        "region": CIREBON,
        "privacy": "publik",
    })
    assert status == 201, public
    before = confidential_total(lapor)

    page.goto(f"{base}/lapor")
    answer = submit_report(page, secret)
    assert answer.status == 200, answer.status
    code, key = receipt_of(page)
    forbidden = [code, secret.title, marker, secret.name, secret.phone, secret.email]

    # Counted only as confidential in the statistics, once the stream got there.
    counted = eventually(lambda: confidential_total(lapor), lambda total: total > before,
                         "statistics to count the whistleblowing report")
    assert counted == before + 1

    # Its own public page is a 404, exactly like a code that does not exist.
    response = page.goto(f"{base}/laporan/{code}")
    assert response.status == 404, response.status
    missing = page.goto(f"{base}/laporan/ZZZZZZZZZZ")
    assert missing.status == 404
    status, _ = lapor.public_view(code)
    assert status == 404

    # Every public page, in both languages: nothing of it, while the public report shows.
    public_pages = [
        "/",
        "/lapor",
        "/lacak",
        f"/statistik?region={CIREBON}&year={YEAR}",
        f"/statistik?region=32&year={YEAR}",
        f"/statistik.csv?region={CIREBON}&year={YEAR}",
        f"/laporan/{public['tracking_code']}",
    ]
    for lang in ("id", "en"):
        for path in public_pages:
            sep = "&" if "?" in path else "?"
            if "/statistik.csv" in path:
                status, _, raw = lapor.request("GET", path)
                text = raw.decode("utf-8", "replace")
            else:
                response = page.goto(f"{base}{path}{sep}lang={lang}")
                status, text = response.status, page.content()
            assert status == 200, f"{path}: {status}"
            for word in forbidden:
                assert word not in text, f"{path} ({lang}) shows {word!r}"
    page.goto(f"{base}/")
    expect(page.locator("#recent")).to_contain_text(f"Lampu jalan mati di Jalan Siliwangi {shown}")
    recent = page.locator("#recent").inner_text()
    assert secret.title not in recent and code not in recent

    # The whistleblower follows it with the code and the key.
    answer = track(page, base, code, key)
    assert answer.status == 200, answer.status
    expect(page.locator("#timeline")).to_be_visible()
    expect(page.locator("body")).to_contain_text(secret.title)
