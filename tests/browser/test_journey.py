"""Issue 17, done-when 1: a citizen reports a pothole with a photo from a phone, keeps the code,
an officer answers through the API, the citizen tracks it, sees the answer and its colour,
replies, reopens and rates; with JavaScript and without. On the way: the access key never
travels in a URL, a Referer or a log line."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from lapor import (
    EVIDENCE_SAMPLE,
    Report,
    eventually,
    receipt_of,
    report_form,
    submit,
    submit_report,
    track,
)

COLOUR_WORDS = {"grey": "abu-abu", "red": "merah", "yellow": "kuning", "green": "hijau"}


def wait_for_downloads(page, base: str, code: str, key: str, files: int) -> None:
    """Tracks the report again until its `files` attachments are all cleaned and offered for
    download: a file still being checked is listed too ("sedang diperiksa"), without a link."""

    def offered() -> int:
        track(page, base, code, key)
        return page.locator("#attachments li a").count()

    eventually(offered, lambda n: n >= files, f"{files} cleaned files offered for download")
    expect(page.locator("#attachments li")).to_have_count(files)


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_a_citizen_reports_a_pothole_and_follows_it_to_the_end(js, new_context, lapor):
    # A phone, with the portal's scripts enhancing the pages and without any script at all.
    phone = {"java_script_enabled": js}
    if js:
        phone.update(geolocation={"latitude": -6.7153, "longitude": 108.5505},
                     permissions=["geolocation"])
    page, base = new_context(**phone).new_page(), lapor.url
    requested = []
    page.on("request", lambda request: requested.append(request))
    mode = "js" if js else "nojs"
    title = f"Jalan berlubang di Jalan Cipto {mode} {uuid.uuid4().hex[:6]}"

    # Home, in Bahasa Indonesia, to the report form.
    page.goto(base + "/")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    page.locator('a[href="/lapor"]').first.click()
    page.wait_for_url(base + "/lapor")

    # The first try forgets the title but attaches a photo: the form comes back with the error
    # beside the field, everything typed and the photo kept.
    typed = Report(title="", files=[EVIDENCE_SAMPLE])
    if js:
        # "Use my location" fills the hidden coordinates from the phone's position.
        page.locator("#use-location").click()
        expect(page.locator('input[name="lat"]')).to_have_value("-6.715300")
        expect(page.locator('input[name="lon"]')).to_have_value("108.550500")
    answer = submit_report(page, typed)
    assert answer.status == 422, answer.status
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#title-error")).to_be_visible()
    form = report_form(page)
    expect(form.locator('[name="title"]')).to_have_attribute("aria-invalid", "true")
    expect(form.locator(f'input[name="type"][value="{typed.type}"]')).to_be_checked()
    expect(form.locator('select[name="category"]')).to_have_value(typed.category)
    expect(form.locator('select[name="region"]')).to_have_value(typed.region)
    expect(form.locator('[name="description"]')).to_have_value(typed.description)
    expect(form.locator('[name="address"]')).to_have_value(typed.address)
    expect(form.locator(f'input[name="privacy"][value="{typed.privacy}"]')).to_be_checked()
    expect(form.locator('[name="name"]')).to_have_value(typed.name)
    expect(form.locator('[name="phone"]')).to_have_value(typed.phone)
    expect(form.locator('[name="email"]')).to_have_value(typed.email)
    expect(form.locator('input[name="notifications"]')).to_be_checked()
    expect(page.locator("#kept-files li")).to_have_count(1)
    expect(page.locator("#kept-files li").first).to_contain_text(EVIDENCE_SAMPLE.name)

    # Fixed and sent again, without choosing the photo again: the receipt, with the code and
    # the key shown once.
    form.locator('[name="title"]').fill(title)
    answer = submit(page, form, "/lapor")
    assert answer.status == 200, answer.status
    code, key = receipt_of(page)
    expect(page.locator("form#send-key")).to_have_count(1)
    location = lapor.own_view(code, key)["location"]
    assert location["address"] == typed.address, location
    if js:
        assert (location["lat"], location["lon"]) == (-6.7153, 108.5505), location

    # An officer of Kota Cirebon's public works answers through the API: in process, then done.
    lapor.wait_routed(code)
    lapor.follow_up(code, "diproses", "Tim sudah meninjau lokasi; penambalan dijadwalkan Kamis.")
    lapor.follow_up(code, "selesai", "Lubang sudah ditambal aspal pada hari Kamis.")

    # The citizen tracks it with the code and the key: the answer, green.
    page.goto(base + "/")
    page.locator('a[href="/lacak"]').first.click()
    page.wait_for_url(base + "/lacak")
    answer = track(page, base, code, key)
    assert answer.status == 200, answer.status
    expect(page.locator("#status")).to_have_attribute("data-color", "green")
    expect(page.locator("#status")).to_contain_text(re.compile(COLOUR_WORDS["green"], re.I))
    expect(page.locator("#timeline")).to_contain_text("Lubang sudah ditambal aspal pada hari Kamis.")
    expect(page.locator("#timeline")).to_contain_text("penambalan dijadwalkan Kamis")

    # The photo, cleaned in-process after its upload, is among the attachments.
    wait_for_downloads(page, base, code, key, 1)

    # One more photo from the track page, as a plain form too.
    attach = page.locator("form#attach")
    attach.locator('input[name="evidence"]').set_input_files(str(EVIDENCE_SAMPLE))
    answer = submit(page, attach, "/lacak/berkas")
    assert answer.status == 200, answer.status
    expect(page.locator("#notice")).to_be_visible()
    wait_for_downloads(page, base, code, key, 2)

    # A reply: a message for the agency, the colour stays.
    reply = page.locator("form#reply")
    reply.locator('[name="message"]').fill("Terima kasih, jalannya sudah bisa dilewati.")
    answer = submit(page, reply, "/lacak/balas")
    assert answer.status == 200, answer.status
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("Terima kasih, jalannya sudah bisa dilewati.")
    expect(page.locator("#status")).to_have_attribute("data-color", "green")

    # Not solved after all: reopened, yellow again.
    reply = page.locator("form#reply")
    reply.locator('[name="message"]').fill("Sisi kiri jalan masih berlubang di depan pasar.")
    reply.locator('input[name="not_solved"]').check()
    answer = submit(page, reply, "/lacak/balas")
    assert answer.status == 200, answer.status
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator("#status")).to_have_attribute("data-color", "yellow")
    expect(page.locator("#status")).to_contain_text(re.compile(COLOUR_WORDS["yellow"], re.I))
    assert lapor.own_view(code, key)["status"] == "diproses"

    # A rating is taken once the agency says it is done again.
    lapor.follow_up(code, "selesai", "Sisi kiri juga sudah ditambal.")
    track(page, base, code, key)
    expect(page.locator("#status")).to_have_attribute("data-color", "green")
    expect(page.locator("#timeline")).to_contain_text("Sisi kiri juga sudah ditambal.")
    rate = page.locator("form#rate")
    rate.locator('input[name="stars"][value="5"]').check()
    rate.locator('[name="comment"]').fill("Cepat, terima kasih.")
    answer = submit(page, rate, "/lacak/nilai")
    assert answer.status == 200, answer.status
    expect(page.locator("#notice")).to_be_visible()
    own = lapor.own_view(code, key)
    assert own["rating"]["stars"] == 5, own
    kinds = [event["kind"] for event in own["timeline"]]
    assert kinds.count("reply") == 2 and kinds.count("rating") == 1, kinds
    assert own["status"] == "selesai"

    # The key travelled in form bodies only: never in a URL the browser asked for, never in a
    # Referer, never in lapor-local's log.
    assert requested, "no request recorded"
    for request in requested:
        assert key not in request.url, f"access key in {request.method} {request.url}"
        headers = request.all_headers()
        assert key not in headers.get("referer", ""), f"access key in the Referer of {request.url}"
        assert not headers.get("referer"), f"{request.url} was sent a Referer: {headers['referer']}"
    assert key not in page.url
    assert key not in lapor.log(), "access key in lapor-local's log"
