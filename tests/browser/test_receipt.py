"""The receipt: the key is shown once and goes by e-mail only when the reporter asks for it
("send to my e-mail", offered only when an e-mail was given); lapor-local keeps the mails it
would have sent in /dev/outbox."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import expect

from lapor import Report, eventually, receipt_of, submit, submit_report


def outbox_text(lapor) -> str:
    status, body = lapor.json("GET", "/dev/outbox")
    assert status == 200, body
    return json.dumps(body, ensure_ascii=False)


def test_the_key_goes_by_email_only_when_asked(new_context, lapor):
    page, base = new_context(java_script_enabled=False).new_page(), lapor.url
    page.goto(f"{base}/lapor")
    # An address of its own: notify mails one address at most ten times a day, and this test
    # waits for the receipt mail.
    report = Report(title="Jalan berlubang di Jalan Kesambi",
                    email=f"siti.{uuid.uuid4().hex[:8]}@example.id")
    assert submit_report(page, report).status == 200
    code, key = receipt_of(page)
    # The notify consumer runs right after the write; the receipt mail is the last it sends.
    receipt = f"Laporan {code} diterima / Report {code} received"
    eventually(
        lambda: lapor.json("GET", "/dev/outbox")[1].get("mail", []),
        lambda mails: any(m.get("subject") == receipt for m in mails),
        f"the receipt mail for {code} in /dev/outbox",
    )
    assert key not in outbox_text(lapor), "the key went out before the reporter asked"

    answer = submit(page, page.locator("form#send-key"), "/lapor/kunci")
    assert answer.status == 200, (answer.status, page.locator("main").inner_text()[:300])
    expect(page.locator("#notice")).to_be_visible()
    sent = eventually(lambda: outbox_text(lapor), lambda sent: key in sent,
                      "an e-mail with the key in /dev/outbox")
    assert f"Kunci akses laporan {code}" in sent


def test_no_email_no_offer_to_send_the_key(new_context, lapor):
    page, base = new_context(java_script_enabled=False).new_page(), lapor.url
    page.goto(f"{base}/lapor")
    report = Report(title="Jalan berlubang di Jalan Tuparev", email="")
    assert submit_report(page, report).status == 200
    receipt_of(page)
    expect(page.locator("form#send-key")).to_have_count(0)
