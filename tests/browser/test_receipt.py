"""The receipt: the key is shown once and goes by e-mail only when the reporter asks for it
("send to my e-mail", offered only when an e-mail was given); lapor-local keeps the mails it
would have sent in /dev/outbox."""

from __future__ import annotations

import json
import time

from playwright.sync_api import expect

from lapor import Report, receipt_of, submit, submit_report


def outbox_text(lapor) -> str:
    status, body = lapor.json("GET", "/dev/outbox")
    assert status == 200, body
    return json.dumps(body, ensure_ascii=False)


def test_the_key_goes_by_email_only_when_asked(new_context, lapor):
    page, base = new_context(java_script_enabled=False).new_page(), lapor.url
    page.goto(f"{base}/lapor")
    assert submit_report(page, Report(title="Jalan berlubang di Jalan Kesambi")).status == 200
    code, key = receipt_of(page)
    time.sleep(1)  # the notify consumer runs right after the write
    assert key not in outbox_text(lapor), "the key went out before the reporter asked"

    answer = submit(page, page.locator("form#send-key"), "/lapor/kunci")
    assert answer.status == 200, (answer.status, page.locator("main").inner_text()[:300])
    expect(page.locator("#notice")).to_be_visible()
    for _ in range(20):
        sent = outbox_text(lapor)
        if key in sent:
            break
        time.sleep(0.25)
    assert key in sent, "no e-mail with the key in /dev/outbox"
    assert f"Kunci akses laporan {code}" in sent


def test_no_email_no_offer_to_send_the_key(new_context, lapor):
    page, base = new_context(java_script_enabled=False).new_page(), lapor.url
    page.goto(f"{base}/lapor")
    report = Report(title="Jalan berlubang di Jalan Tuparev", email="")
    assert submit_report(page, report).status == 200
    receipt_of(page)
    expect(page.locator("form#send-key")).to_have_count(0)
