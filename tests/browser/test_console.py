"""Issue 18, done-when 1 and 5: the officer console in a real browser against lapor-local.

The central admin signs in, forwards a triaged report to Kota Cirebon; the city's agency admin
forwards it to its public-works department (Dinas PUPR); an officer there answers `diproses`,
then `selesai` with a photo; the citizen's track page shows each step. An officer of another
agency can neither see nor act on the report. Two officers answering at once: the second is told
plainly that someone acted first. A city's dashboard counts the reports its departments hold.
Throughout, no token, access key or reporter identity appears
in a URL, a browser console line or lapor-local's log."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from lapor import (
    CENTRAL,
    DESKTOP,
    DPUPR,
    EVIDENCE_SAMPLE,
    KOTA_CIREBON,
    OTHER_AGENCY,
    colour,
    console_sign_in,
    console_submit,
    eventually,
    file_dpupr_report,
    file_triaged_report,
    track,
)


def _watch(page, seen_urls: list, console_lines: list):
    page.on("request", lambda r: seen_urls.append(r.url))
    page.on("console", lambda m: console_lines.append(m.text))


def _session_token(context) -> str:
    cookies = [c for c in context.cookies() if c["name"] == "console"]
    assert cookies, context.cookies()
    cookie = cookies[0]
    assert cookie["httpOnly"], cookie
    assert cookie["path"] == "/console", cookie
    assert cookie["expires"] == -1, f"the session cookie must end with the browser: {cookie}"
    return cookie["value"]


def test_a_triaged_pothole_goes_from_the_central_admin_to_an_officer_who_answers_it(
    new_context, lapor
):
    base = lapor.url
    title = f"Keluhan warga Kota Cirebon {uuid.uuid4().hex[:6]}"
    code, key = file_triaged_report(lapor, title)
    urls: list[str] = []
    lines: list[str] = []
    tokens: list[str] = []

    # The central admin: triage queue → the report → forward to Kota Cirebon.
    admin_ctx = new_context(viewport=DESKTOP)
    admin = admin_ctx.new_page()
    _watch(admin, urls, lines)
    console_sign_in(admin, base, CENTRAL, "admin_pusat", "admin-pusat-1")
    tokens.append(_session_token(admin_ctx))
    assert admin.url == f"{base}/console/triase", admin.url
    card = admin.locator(f'#triage li[data-code="{code}"]')
    expect(card).to_be_visible()
    card.locator("a").click()
    admin.wait_for_url(f"{base}/console/laporan/{code}")
    expect(admin.locator("#reporter")).to_contain_text("Siti Aminah")
    admin.locator('form#forward select[name="agency"]').select_option(KOTA_CIREBON)
    admin.locator("form#forward textarea[name=message]").fill("Mohon ditangani pemerintah kota.")
    answer = console_submit(admin, "forward", "/teruskan")
    assert answer.status == 303, answer.status
    expect(admin.locator("#notice")).to_contain_text("diteruskan")
    expect(admin.locator("#holder")).to_contain_text("Pemerintah Kota Cirebon")

    # The city's agency admin: inbox → the report → forward to its Dinas PUPR.
    city_ctx = new_context(viewport=DESKTOP)
    city = city_ctx.new_page()
    _watch(city, urls, lines)
    console_sign_in(city, base, KOTA_CIREBON, "agency_admin", "admin-kota")
    tokens.append(_session_token(city_ctx))
    row = city.locator(f'#reports tr[data-code="{code}"]')
    expect(row).to_be_visible()
    row.locator("a").click()
    city.wait_for_url(f"{base}/console/laporan/{code}")
    options = city.locator('form#forward select[name="agency"] option')
    # An agency admin forwards only to its own departments.
    values = options.evaluate_all("os => os.map(o => o.value)")
    assert DPUPR in values and CENTRAL not in values and OTHER_AGENCY not in values, values
    city.locator('form#forward select[name="agency"]').select_option(DPUPR)
    console_submit(city, "forward", "/teruskan")
    expect(city.locator("#notice")).to_contain_text("diteruskan")
    expect(city.locator("#holder")).to_contain_text("Dinas Pekerjaan Umum")

    # An officer of Dinas PUPR: inbox → answer `diproses`, then `selesai` with a photo.
    officer_ctx = new_context(viewport=DESKTOP)
    officer = officer_ctx.new_page()
    _watch(officer, urls, lines)
    console_sign_in(officer, base, DPUPR, "officer", "petugas-dpupr")
    tokens.append(_session_token(officer_ctx))
    officer.locator(f'#reports tr[data-code="{code}"] a').click()
    officer.wait_for_url(f"{base}/console/laporan/{code}")
    # The officer may not forward (only admins do) and sees the follow-up form.
    expect(officer.locator("form#forward")).to_have_count(0)
    form = officer.locator("form#follow-up")
    form.locator('input[name="status"][value="diproses"]').check()
    form.locator("textarea[name=message]").fill("Tim sudah meninjau lokasi; perbaikan dijadwalkan.")
    console_submit(officer, "follow-up", "/tindak-lanjut")
    expect(officer.locator("#notice")).to_contain_text("Tindak lanjut tersimpan")
    expect(officer.locator("#status")).to_have_attribute("data-status", "diproses")
    assert colour(officer) == "yellow"
    form = officer.locator("form#follow-up")
    form.locator('input[name="status"][value="selesai"]').check()
    form.locator("textarea[name=message]").fill("Lubang sudah ditambal. Foto terlampir.")
    form.locator('input[name="evidence"]').set_input_files(str(EVIDENCE_SAMPLE))
    console_submit(officer, "follow-up", "/tindak-lanjut")
    expect(officer.locator("#notice")).to_contain_text("Tindak lanjut tersimpan")
    expect(officer.locator("#status")).to_have_attribute("data-status", "selesai")
    assert colour(officer) == "green"
    expect(officer.locator("#attachments li")).to_have_count(1)

    # The citizen's track page shows every step, the agency's photo among the files.
    citizen = new_context().new_page()
    _watch(citizen, urls, lines)
    assert track(citizen, base, code, key).status == 200
    timeline = citizen.locator("#timeline")
    expect(timeline.locator("li.forwarded")).to_have_count(2)
    expect(timeline.locator("li.follow_up")).to_have_count(2)
    expect(timeline).to_contain_text("Tim sudah meninjau lokasi")
    expect(timeline).to_contain_text("Lubang sudah ditambal")
    expect(citizen.locator("#status")).to_have_attribute("data-color", "green")
    expect(citizen.locator("#attachments")).to_contain_text("dari instansi")

    # An officer of another agency: not in their inbox, and the report page says it is not
    # theirs, exactly as for a report that does not exist; the API refused the same way.
    other_ctx = new_context(viewport=DESKTOP)
    other = other_ctx.new_page()
    _watch(other, urls, lines)
    console_sign_in(other, base, OTHER_AGENCY, "agency_admin", "admin-kab")
    tokens.append(_session_token(other_ctx))
    expect(other.locator(f'#reports tr[data-code="{code}"]')).to_have_count(0)
    response = other.goto(f"{base}/console/laporan/{code}")
    assert response.status == 404, response.status
    expect(other.locator("#message")).to_contain_text("bukan laporan instansi Anda")
    expect(other.locator("form#follow-up")).to_have_count(0)
    status, body = lapor.officer("GET", f"/agency/reports/{code}", agency=OTHER_AGENCY)
    assert status == 404, body
    status, body = lapor.officer(
        "POST", f"/reports/{code}/followups", {"status": "diproses", "message": "Bukan kami."},
        agency=OTHER_AGENCY,
    )
    assert status == 404, body

    # Done-when 5: nothing secret in any URL, browser console line or server log.
    secrets = [key, "Siti Aminah", "081234567890", "6281234567890", "siti.aminah@example.id"]
    secrets += tokens
    log = lapor.log()
    for secret in secrets:
        assert not [u for u in urls if secret in u], f"{secret[:12]}… in a URL"
        assert not [m for m in lines if secret in m], f"{secret[:12]}… in the browser console"
        assert secret not in log, f"{secret[:12]}… in lapor-local's log"


def test_two_officers_answering_at_once_the_second_is_told_someone_acted_first(
    new_context, lapor
):
    base = lapor.url
    code = file_dpupr_report(lapor, f"Jalan berlubang di Jalan Cipto {uuid.uuid4().hex[:6]}", "anonim")
    pages = []
    for name in ("petugas-a", "petugas-b"):
        page = new_context(viewport=DESKTOP).new_page()
        console_sign_in(page, base, DPUPR, "officer", name)
        page.goto(f"{base}/console/laporan/{code}")
        # Anonymous: the page says why the reporter is hidden.
        expect(page.locator("#reporter-hidden")).to_contain_text("anonim")
        pages.append(page)
    first, second = pages
    for page, message in ((first, "Petugas A: tim berangkat ke lokasi."),
                          (second, "Petugas B: sudah kami jadwalkan.")):
        form = page.locator("form#follow-up")
        form.locator('input[name="status"][value="diproses"]').check()
        form.locator("textarea[name=message]").fill(message)
    console_submit(first, "follow-up", "/tindak-lanjut")
    expect(first.locator("#notice")).to_be_visible()
    answer = console_submit(second, "follow-up", "/tindak-lanjut")
    assert answer.status == 409, answer.status
    conflict = second.locator("#conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Laporan berubah sejak Anda membukanya")
    expect(conflict).to_contain_text("Diproses")
    # What the second officer typed is still there, and nothing of theirs was written.
    expect(second.locator("form#follow-up textarea[name=message]")).to_have_value(
        "Petugas B: sudah kami jadwalkan."
    )
    expect(second.locator("#timeline")).to_contain_text("Petugas A")
    expect(second.locator("#timeline")).not_to_contain_text("Petugas B")
    status, view = lapor.officer("GET", f"/agency/reports/{code}")
    assert status == 200, view
    assert [e["message"] for e in view["timeline"] if e["kind"] == "follow_up"] == [
        "Petugas A: tim berangkat ke lokasi."
    ], view["timeline"]


def test_signing_out_ends_the_session(new_context, lapor):
    base = lapor.url
    context = new_context(viewport=DESKTOP)
    page = context.new_page()
    console_sign_in(page, base, DPUPR, "officer")
    page.locator('form[action="/console/keluar"] button').click()
    page.wait_for_url(f"{base}/console/masuk?keluar=1")
    expect(page.locator("h1")).to_contain_text("Anda sudah keluar")
    assert not [c for c in context.cookies() if c["name"] == "console" and c["value"]]
    page.goto(f"{base}/console/kotak-masuk")
    assert page.url == f"{base}/console/masuk", page.url


def test_a_forged_console_form_changes_nothing(new_context, lapor):
    base = lapor.url
    context = new_context(viewport=DESKTOP)
    page = context.new_page()
    console_sign_in(page, base, DPUPR, "officer")
    status, receipt = lapor.json("POST", "/reports", {
        "type": "pengaduan", "title": "Drainase tersumbat di Jalan Pekiringan",
        "description": "Saluran air tersumbat sampah sehingga jalan tergenang setiap hujan.",
        "category": "infrastruktur", "region": "32.74", "privacy": "publik",
    })
    assert status == 201, receipt
    code = receipt["tracking_code"]
    lapor.wait_routed(code)
    response = page.request.post(
        f"{base}/console/laporan/{code}/teruskan",
        form={"agency": OTHER_AGENCY, "csrf": "0" * 32},
    )
    assert response.status == 403, response.status
    assert lapor.public_view(code)[1]["agency"] == DPUPR


COLOURS = ("red", "yellow", "grey", "green")


def _dashboard(page, base: str) -> dict:
    """The tiles and the rows of the breakdown table, as numbers, from one load of the page."""
    page.goto(f"{base}/console/dasbor")
    tiles = {c: int(page.locator(f"#colors li[data-color={c}] .tile-number").inner_text()) for c in COLOURS}
    rows = {}
    for row in page.locator("#departments tbody tr").all():
        rows[row.get_attribute("data-agency")] = {
            c: int(row.locator(f"td[data-color={c}]").inner_text()) for c in COLOURS
        }
    return {"tiles": tiles, "rows": rows}


def test_a_citys_dashboard_counts_the_reports_its_departments_hold(new_context, lapor):
    base = lapor.url
    page = new_context(viewport=DESKTOP).new_page()
    console_sign_in(page, base, KOTA_CIREBON, "agency_admin", "admin-kota")
    before = _dashboard(page, base)
    code = file_dpupr_report(lapor, f"Drainase meluap di Jalan Kesambi {uuid.uuid4().hex[:6]}", "publik")
    lapor.follow_up(code, "diproses", "Tim sudah menjadwalkan pembersihan saluran.")
    # Statistics follow the stream: the page shows the report once the counter has it.
    seen = eventually(
        lambda: _dashboard(page, base),
        lambda d: d["rows"].get(DPUPR, {}).get("yellow", 0) > before["rows"].get(DPUPR, {}).get("yellow", 0),
        "the public-works department's yellow count to grow on the city's dashboard",
        pause=0.2,
    )
    # The report is the department's, not the city's own, yet the city's tiles count it: the
    # tiles are the sum of the rows, the city's own desk first among them.
    rows = seen["rows"]
    assert list(rows)[0] == KOTA_CIREBON, list(rows)
    expect(page.locator(f"#departments tr[data-agency={KOTA_CIREBON}] th")).to_contain_text("ditangani langsung")
    assert DPUPR in rows, rows
    for c in COLOURS:
        assert seen["tiles"][c] == sum(r[c] for r in rows.values()), (c, seen)
    assert seen["tiles"]["yellow"] > before["tiles"]["yellow"], (before, seen)
    expect(page.locator("#scope")).to_contain_text("unit kerjanya")
