"""Issue 17, security headers and CSRF: every page forbids framing and inline script and sends
no Referer; every form's POST without its CSRF token, or with a wrong one, is refused with 403
and writes nothing."""

from __future__ import annotations

import time
import uuid

import pytest

from lapor import (
    CIREBON,
    EVIDENCE_SAMPLE,
    PAGES,
    YEAR,
    eventually,
    security_header_problems,
    visit_every_page,
)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_page_sends_the_security_headers(lang, new_context, lapor):
    page = new_context().new_page()
    problems: list[str] = []
    seen = []

    def check(name, response):
        seen.append(name)
        problems.extend(security_header_problems(f"{name} {response.url}", response.all_headers()))

    visit_every_page(page, lapor, lang, check)
    assert seen == PAGES
    assert not problems, "\n".join(problems)


def what_is_written(lapor) -> dict:
    """Everything a forged POST could change: reports in any inbox or the triage queue, the
    statistics, the notifications sent, the evidence files kept."""
    evidence = lapor.data_dir / "evidence"
    _, stats = lapor.json("GET", f"/stats?region={CIREBON}&year={YEAR}")
    return {
        "reports": sorted(r["tracking_code"] for r in lapor.inbox("kota-cirebon", "agency_admin"))
        + sorted(r["tracking_code"] for r in lapor.triage()),
        "stats": stats,
        "outbox": len(lapor.outbox()),
        "files": sorted(str(p) for p in evidence.rglob("*")) if evidence.exists() else [],
    }


def report_fields(title: str, idempotency_key: str) -> dict:
    return {
        "type": "pengaduan",
        "category": "infrastruktur",
        "region": CIREBON,
        "title": title,
        "description": "Lubang besar di depan Pasar Kanoman sudah dua minggu, membahayakan.",
        "address": "Jl. Dr. Cipto Mangunkusumo, Kota Cirebon",
        "privacy": "publik",
        "name": "Siti Aminah",
        "phone": "0812-3456-7890",
        "email": "siti.aminah@example.id",
        "notifications": "1",
        "idempotency_key": idempotency_key,
    }


def told_of_answer(lapor, code: str) -> None:
    """Waits for the reporter's mail about the agency's last answer on `code`. lapor-local's
    stream consumers take every change in turn, routing, statistics then notify: once notify
    has mailed this, every change written before it went through all three."""
    subject = f"Tanggapan baru untuk laporan {code}"
    eventually(
        lambda: lapor.json("GET", "/dev/outbox")[1].get("mail", []),
        lambda mails: any(subject in m.get("subject", "") for m in mails),
        f"the mail about the answer on {code}",
    )


def settled(lapor) -> dict:
    """What is written once nothing more comes: the same twice in a row, half a second apart.
    Only for after the refused POSTs, which should write nothing, so there is no last effect to
    wait for; everything written before them was waited for (`told_of_answer`)."""
    last = what_is_written(lapor)
    for _ in range(20):
        time.sleep(0.5)
        now = what_is_written(lapor)
        if now == last:
            return now
        last = now
    raise AssertionError("lapor-local never settled")


def test_forms_refuse_a_post_without_a_valid_csrf_token_and_write_nothing(new_context, lapor):
    context = new_context()
    page = context.new_page()
    base = lapor.url
    page.goto(f"{base}/lapor")
    token = page.locator('input[name="csrf"]').first.input_value()
    assert len(token) >= 16, token
    evidence = {"name": EVIDENCE_SAMPLE.name, "mimeType": "image/png",
                "buffer": EVIDENCE_SAMPLE.read_bytes()}

    # A report and its key, for the tracking forms. An address of its own: notify mails one
    # address at most ten times a day, and the answer mail is what `told_of_answer` waits for.
    email = f"siti.{uuid.uuid4().hex[:8]}@example.id"
    status, receipt = lapor.json("POST", "/reports", {
        "type": "pengaduan", "title": "Trotoar rusak di Jalan Siliwangi",
        "description": "Trotoar amblas sepanjang lima meter di depan sekolah, berbahaya.",
        "category": "infrastruktur", "region": CIREBON, "privacy": "publik",
        "reporter": {"name": "Siti Aminah", "email": email},
    })
    assert status == 201, receipt
    code, key = receipt["tracking_code"], receipt["access_key"]
    lapor.wait_routed(code)
    lapor.follow_up(code, "selesai", "Trotoar sudah diperbaiki.")
    timeline = lapor.own_view(code, key)["timeline"]

    title = f"Laporan palsu {uuid.uuid4().hex[:8]}"
    forms = {
        "/lapor": ("multipart", {**report_fields(title, str(uuid.uuid4())), "evidence": evidence}),
        "/lapor/kunci": ("form", {"tracking_code": code, "access_key": key, "email": email}),
        "/lacak": ("form", {"tracking_code": code, "access_key": key}),
        "/lacak/balas": ("form", {"tracking_code": code, "access_key": key,
                                  "message": "Balasan palsu dari situs lain.", "not_solved": "1"}),
        "/lacak/nilai": ("form", {"tracking_code": code, "access_key": key, "stars": "1",
                                  "comment": "Penilaian palsu."}),
        "/lacak/berkas": ("multipart", {"tracking_code": code, "access_key": key,
                                        "evidence": evidence}),
    }
    told_of_answer(lapor, code)
    before = what_is_written(lapor)
    refused = []
    for path, (kind, fields) in forms.items():
        for csrf in (None, "salah-" + token[6:], ""):
            data = dict(fields)
            if csrf is not None:
                data["csrf"] = csrf
            response = context.request.post(f"{base}{path}", **{kind: data}, max_redirects=0)
            refused.append((path, csrf, response.status))
    wrong = [r for r in refused if r[2] != 403]
    assert not wrong, f"answered other than 403: {wrong}"
    after = settled(lapor)
    assert after == before, "a refused POST wrote something"
    assert lapor.own_view(code, key)["timeline"] == timeline

    # A form posted from another site, even with the right token, is refused too.
    forged = context.request.post(
        f"{base}/lacak/balas",
        form={**forms["/lacak/balas"][1], "csrf": token},
        headers={"Origin": "http://evil.example"},
        max_redirects=0,
    )
    assert forged.status == 403, forged.status
    assert lapor.own_view(code, key)["timeline"] == timeline

    # The same POST with the page's token is taken: the 403s above were the token's doing.
    accepted = context.request.post(
        f"{base}/lapor",
        multipart={**forms["/lapor"][1], "csrf": token},
        max_redirects=0,
    )
    assert accepted.status == 200, (accepted.status, accepted.text()[:2000])
    assert 'id="tracking-code"' in accepted.text()
