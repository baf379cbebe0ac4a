"""Issue 17, done-when 3: a screenshot of every page, in Bahasa Indonesia, at phone width
(390 × 844) and desktop width (1280 × 800), whole pages, into docs/screenshots/ (or
$LAPOR_SCREENSHOTS). On a lapor-local of their own with a few reports in every colour, so the
pictures show what a citizen sees rather than the other tests' leftovers."""

from __future__ import annotations

import pytest

from lapor import (
    CIREBON,
    DESKTOP,
    PAGES,
    PHONE,
    LaporLocal,
    lapor_local_binary,
    screenshot,
    visit_every_page,
)

SEED = [
    ("Lampu jalan mati di Jalan Siliwangi",
     "Tiga lampu jalan mati sejak seminggu, jalan gelap dan rawan kecelakaan pada malam hari.",
     "infrastruktur", "anonim", ["selesai"]),
    ("Saluran air tersumbat di Jalan Pekiringan",
     "Saluran air tersumbat sampah sehingga jalan tergenang setiap kali hujan turun deras.",
     "infrastruktur", "publik", ["diproses"]),
    ("Trotoar rusak di depan SD Negeri Kebonbaru",
     "Trotoar amblas sepanjang lima meter di depan sekolah, anak-anak terpaksa berjalan di jalan.",
     "infrastruktur", "publik", []),
]


@pytest.fixture(scope="module")
def showcase():
    server = LaporLocal(lapor_local_binary())
    for title, description, category, privacy, answers in SEED:
        status, receipt = server.json("POST", "/reports", {
            "type": "pengaduan", "title": title, "description": description,
            "category": category, "region": CIREBON, "privacy": privacy,
        })
        assert status == 201, receipt
        server.wait_routed(receipt["tracking_code"])
        for answer in answers:
            server.follow_up(receipt["tracking_code"], answer, "Sudah ditangani oleh tim lapangan.")
    yield server
    server.stop()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_page_has_a_screenshot_and_none_scrolls_sideways(size, new_context, showcase):
    viewport = {"phone": PHONE, "desktop": DESKTOP}[size]
    page = new_context(viewport=viewport).new_page()
    taken = {}
    sideways = []

    def shoot(name, _response):
        taken[name] = screenshot(page, name, size)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            sideways.append(f"{name}: {width} px wide")

    visit_every_page(page, showcase, "id", shoot)
    assert sorted(taken) == sorted(PAGES)
    assert not sideways, f"pages wider than {viewport['width']} px: {sideways}"
    for path in taken.values():
        # Readable, and small enough to keep in the repository.
        assert 2_000 < path.stat().st_size < 1_000_000, f"{path}: {path.stat().st_size} bytes"
