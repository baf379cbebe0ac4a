"""What the browser tests share: a lapor-local of their own, its JSON API for the officer's side,
the report form as a citizen fills it, axe-core, screenshots and the security headers."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE_SAMPLE = ROOT / "tests" / "data" / "evidence-sample.png"
SCREENSHOTS = Path(os.environ.get("LAPOR_SCREENSHOTS", ROOT / "docs" / "screenshots"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
DPUPR = "kota-cirebon-dpupr"
CIREBON = "32.74"
YEAR = time.gmtime().tm_year
# How long a test waits for what lapor-local does after a write (its in-process consumers, the
# evidence check) or for a page to load: long enough for a slow, loaded CI machine. A passing
# test stops waiting as soon as it sees the state it waits for.
PATIENCE = 30.0


def lapor_local_binary() -> Path:
    return Path(os.environ.get("LAPOR_LOCAL_BIN", ROOT / "target" / "debug" / "lapor-local"))


def axe_script() -> Path:
    default = ROOT / ".tools" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
    return Path(os.environ.get("LAPOR_AXE_JS", default))


def chromium_path() -> str:
    return os.environ.get("LAPOR_CHROMIUM", "/usr/bin/chromium")


def eventually(probe, done, what: str, pause: float = 0.05):
    """Calls `probe()` until `done` holds for what it returns, and returns that; fails naming
    `what` and the last value seen when PATIENCE runs out first."""
    deadline = time.monotonic() + PATIENCE
    while True:
        seen = probe()
        if done(seen):
            return seen
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {PATIENCE:.0f} s for {what}; last seen: {seen!r:.2000}")
        time.sleep(pause)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LaporLocal:
    """A lapor-local of the tests' own on a free loopback port, in a fresh data folder.

    Not `--ephemeral`: an ephemeral lapor-local signs officer tokens with a secret nobody else
    can read, so `lapor-local token` could not issue one it accepts. A fresh temporary data
    folder, removed at the end, is just as forgetful and lets `token --data-dir` share the secret.
    """

    def __init__(self, binary: Path):
        if not binary.is_file():
            raise RuntimeError(f"{binary} is missing: run `cargo build -p lapor-local` first")
        self.binary = binary
        self.data_dir = Path(tempfile.mkdtemp(prefix="lapor-browser-"))
        self.log_path = self.data_dir / "lapor-local.log"
        self._tokens: dict[tuple[str, str], str] = {}
        for attempt in range(5):
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            if self._start(port):
                return
        raise RuntimeError(f"lapor-local did not start: {self.log()}")

    def _start(self, port: int) -> bool:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(self.binary), "--addr", f"127.0.0.1:{port}", "--data-dir", str(self.data_dir)],
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "info")},
        )
        banner: list[str] = []
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            banner.append(line)
            found = re.search(r"http://[0-9.:]+", line)
            if found:
                served = found.group(0)
                if served != self.url:
                    raise RuntimeError(f"lapor-local serves {served}, not {self.url}")
                # Keep reading so a full pipe never blocks lapor-local.
                threading.Thread(target=self._drain, daemon=True).start()
                return True
        self.proc.wait()
        self._log.close()
        if "cannot listen" in self.log():
            return False
        raise RuntimeError(f"lapor-local exited: {''.join(banner)}\n{self.log()}")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for _ in self.proc.stdout:
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    # --- the JSON API -------------------------------------------------------------------------

    def token(self, agency: str = DPUPR, role: str = "officer") -> str:
        key = (agency, role)
        if key not in self._tokens:
            self._tokens[key] = subprocess.run(
                [str(self.binary), "token", "--agency", agency, "--role", role,
                 "--data-dir", str(self.data_dir)],
                check=True, capture_output=True, text=True,
            ).stdout.strip()
        return self._tokens[key]

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, bytes]:
        data = None
        headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict]:
        status, _, raw = self.request(method, path, body, headers)
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, {"raw": raw.decode("utf-8", "replace")}

    def officer(self, method: str, path: str, body=None, agency: str = DPUPR, role: str = "officer"):
        auth = {"Authorization": f"Bearer {self.token(agency, role)}"}
        return self.json(method, path, body, auth)

    def public_view(self, code: str) -> tuple[int, dict]:
        return self.json("GET", f"/reports/{code}")

    def own_view(self, code: str, key: str) -> dict:
        status, view = self.json("GET", f"/reports/{code}", headers={"X-Access-Key": key})
        assert status == 200, view
        return view

    def wait_routed(self, code: str, agency: str = DPUPR, timeout: float = PATIENCE) -> dict:
        """The in-process routing consumer forwards a Kota Cirebon report moments after it is
        received."""
        deadline = time.monotonic() + timeout
        view: dict = {}
        while time.monotonic() < deadline:
            _, view = self.public_view(code)
            if view.get("status") == "terdisposisi" and view.get("agency") == agency:
                return view
            time.sleep(0.1)
        raise AssertionError(f"{code} was not forwarded to {agency}: {view}")

    def follow_up(self, code: str, status: str, message: str, agency: str = DPUPR) -> dict:
        code_, body = self.officer(
            "POST", f"/reports/{code}/followups", {"status": status, "message": message}, agency
        )
        assert code_ == 200, body
        return body

    def outbox(self) -> list:
        status, body = self.json("GET", "/dev/outbox")
        assert status == 200, body
        return body["sent"]

    def inbox(self, agency: str = DPUPR, role: str = "officer") -> list:
        status, body = self.officer("GET", "/agency/reports?limit=100", agency=agency, role=role)
        assert status == 200, body
        return body["reports"]

    def triage(self) -> list:
        status, body = self.officer(
            "GET", "/admin/triage?limit=100", agency="kemenpanrb", role="admin_pusat"
        )
        assert status == 200, body
        return body["reports"]


# --- the citizen's side -----------------------------------------------------------------------


@dataclass
class Report:
    """What a citizen types into the report form."""

    title: str
    description: str = (
        "Lubang besar di depan Pasar Kanoman sudah dua minggu, membahayakan pengendara motor."
    )
    type: str = "pengaduan"
    category: str = "infrastruktur"
    region: str = CIREBON
    address: str = "Jl. Dr. Cipto Mangunkusumo, Kota Cirebon"
    privacy: str = "publik"
    name: str = "Siti Aminah"
    phone: str = "0812-3456-7890"
    email: str = "siti.aminah@example.id"
    notifications: bool = True
    files: list = field(default_factory=list)


def fill_report(page, report: Report) -> None:
    form = report_form(page)
    form.locator(f'input[name="type"][value="{report.type}"]').check()
    form.locator('select[name="category"]').select_option(report.category)
    form.locator('select[name="region"]').select_option(report.region)
    form.locator('[name="title"]').fill(report.title)
    form.locator('[name="description"]').fill(report.description)
    form.locator('[name="address"]').fill(report.address)
    privacy = form.locator(f'input[name="privacy"][value="{report.privacy}"]')
    # Whistleblowing forces secrecy: the form may fix the choice for the reporter.
    if privacy.is_enabled():
        privacy.check()
    form.locator('[name="name"]').fill(report.name)
    form.locator('[name="phone"]').fill(report.phone)
    form.locator('[name="email"]').fill(report.email)
    notifications = form.locator('input[name="notifications"]')
    if report.notifications:
        notifications.check()
    else:
        notifications.uncheck()
    if report.files:
        form.locator('input[name="evidence"]').set_input_files([str(f) for f in report.files])


def report_form(page):
    return page.locator('form:has([name="title"])')


def submit(page, form, path: str):
    """Clicks the form's submit button and returns the answer to its POST once the page shows
    it: a plain form post navigates to the answer (after a 303, to where it leads), or (the
    report form with files, when scripts run) the page's script sends the same POST, to show
    upload progress, and writes the answer over the page."""
    loads: list = []

    def on_load(loaded) -> None:
        loads.append(loaded)

    page.on("load", on_load)
    old = page.locator("html").element_handle()
    try:
        with page.expect_response(
            lambda r: r.request.method == "POST" and r.url.split("?")[0].endswith(path)
            and r.request.resource_type in ("document", "xhr", "fetch")
        ) as answer:
            form.locator('button[type="submit"]').first.click()
        response = answer.value
        if response.request.resource_type == "document":
            # The new document's own load event. Not wait_for_load_state("load"): it answers at
            # once while the old page, loaded long ago, is still the one shown.
            deadline = time.monotonic() + PATIENCE
            while not loads:
                assert time.monotonic() < deadline, f"the answer to POST {path} never loaded"
                page.wait_for_timeout(25)
        else:
            # The script writes the answer with document.open(): the old page's <html> goes.
            page.wait_for_function("html => !html.isConnected", arg=old, timeout=PATIENCE * 1000)
    finally:
        page.remove_listener("load", on_load)
    return response


def submit_report(page, report: Report):
    fill_report(page, report)
    return submit(page, report_form(page), "/lapor")


def receipt_of(page) -> tuple[str, str]:
    code = page.locator("#tracking-code").inner_text().strip()
    key = page.locator("#access-key").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{6,16}", code), code
    assert len(key) >= 16, key
    return code, key


def track(page, base: str, code: str, key: str):
    page.goto(f"{base}/lacak")
    form = page.locator('form:has([name="access_key"])')
    form.locator('[name="tracking_code"]').fill(code)
    form.locator('[name="access_key"]').fill(key)
    return submit(page, form, "/lacak")


def colour(page) -> str:
    return page.locator("#status").get_attribute("data-color") or ""


# --- axe-core, screenshots, headers -----------------------------------------------------------


def axe_violations(page) -> list[dict]:
    """Runs axe-core on the page (its context must bypass the CSP) and returns the serious and
    critical violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_script()))
    result = page.evaluate("axe.run()")
    return [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]


def describe_violations(name: str, violations: list[dict]) -> str:
    lines = [f"{name}:"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", [])[:5]:
            lines.append(f"      {' '.join(map(str, node.get('target', [])))}: "
                         f"{(node.get('failureSummary') or '').splitlines()[-1:]}")
    return "\n".join(lines)


def screenshot(page, name: str, size: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{size}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    return path


def security_header_problems(url: str, headers: dict) -> list[str]:
    """What the portal's security headers miss on one page response."""
    h = {k.lower(): v for k, v in headers.items()}
    problems = []
    csp = h.get("content-security-policy", "")
    if not csp:
        problems.append(f"{url}: no Content-Security-Policy")
    else:
        directives = {}
        for part in csp.split(";"):
            words = part.split()
            if words:
                directives[words[0].lower()] = words[1:]
        if directives.get("frame-ancestors") != ["'none'"]:
            problems.append(f"{url}: CSP frame-ancestors is {directives.get('frame-ancestors')}")
        script = directives.get("script-src", directives.get("default-src"))
        if script is None:
            problems.append(f"{url}: CSP has neither script-src nor default-src")
        elif "'unsafe-inline'" in script or "'unsafe-eval'" in script or "*" in script:
            problems.append(f"{url}: CSP script-src allows {script}")
    if h.get("referrer-policy", "").lower() != "no-referrer":
        problems.append(f"{url}: Referrer-Policy is {h.get('referrer-policy')!r}")
    return problems


# --- every page, in order ---------------------------------------------------------------------

PAGES = [
    "home",
    "report-form",
    "report-form-errors",
    "receipt",
    "track-form",
    "track",
    "public-report",
    "statistics",
    "not-found",
]


def visit_every_page(page, lapor: LaporLocal, lang: str, on_page) -> None:
    """Walks a citizen through every page in `lang` (chosen once on the home page, then kept by
    the cookie), calling `on_page(name, response)` on each: the report form, its errors, the
    receipt of a report with a photo, its track page once the agency answered, its public page,
    the statistics and a 404."""
    base = lapor.url

    def seen(name, response):
        assert response is not None, name
        lang_attr = page.locator("html").get_attribute("lang")
        assert lang_attr == lang, f"{name}: <html lang={lang_attr!r}>, chose {lang!r}"
        on_page(name, response)

    seen("home", page.goto(f"{base}/?lang={lang}"))
    seen("report-form", page.goto(f"{base}/lapor"))
    report = Report(
        title="Jalan berlubang di depan Pasar Kanoman",
        files=[EVIDENCE_SAMPLE],
    )
    fill_report(page, Report(title="", files=[]))
    answer = submit(page, report_form(page), "/lapor")
    assert answer.status == 422, answer.status
    seen("report-form-errors", answer)
    page.goto(f"{base}/lapor")
    answer = submit_report(page, report)
    assert answer.status == 200, answer.status
    code, key = receipt_of(page)
    seen("receipt", answer)
    lapor.wait_routed(code)
    lapor.follow_up(code, "diproses", "Tim sudah meninjau lokasi; penambalan dijadwalkan Kamis.")
    seen("track-form", page.goto(f"{base}/lacak"))
    answer = track(page, base, code, key)
    assert answer.status == 200, answer.status
    seen("track", answer)
    response = page.goto(f"{base}/laporan/{code}")
    assert response.status == 200, response.status
    seen("public-report", response)
    response = page.goto(f"{base}/statistik?region={CIREBON}&year={YEAR}")
    assert response.status == 200, response.status
    seen("statistics", response)
    response = page.goto(f"{base}/laporan/ZZZZZZZZZZ")
    assert response.status == 404, response.status
    seen("not-found", response)


# --- the officer console ----------------------------------------------------------------------

CENTRAL = "kemenpanrb"
KOTA_CIREBON = "kota-cirebon"
OTHER_AGENCY = "kab-cirebon-dpupr"


def console_sign_in(page, base: str, agency: str, role: str, subject: str = "petugas-lokal"):
    """Signs in on lapor-local's local sign-in page as `role` of `agency`; returns the answer
    to the sign-in form (a redirect to the officer's first page, followed)."""
    page.goto(f"{base}/console/masuk")
    form = page.locator('form[action="/console/masuk"]')
    form.locator('select[name="agency"]').select_option(agency)
    form.locator(f'input[name="role"][value="{role}"]').check()
    form.locator('[name="subject"]').fill(subject)
    answer = submit(page, form, "/console/masuk")
    try:
        expect(page.locator("#signed-in-as")).to_have_count(1)
    except AssertionError as e:
        raise AssertionError(f"not signed in: {page.content()[:2000]}") from e
    return answer


def console_submit(page, form_id: str, path_end: str):
    """Sends one of the report page's action forms and returns the answer to its POST."""
    return submit(page, page.locator(f"form#{form_id}"), path_end)


def file_triaged_report(lapor: "LaporLocal", title: str, **extra) -> tuple[str, str]:
    """A report no rule can route and whose text the classifier cannot place: it waits in the
    central admin's triage queue. Returns its code and access key."""
    body = {
        "type": "pengaduan", "title": title,
        "description": "Sudah tiga kali saya datang ke kantor tetapi belum ada kejelasan, mohon dibantu.",
        "category": "lainnya", "region": CIREBON, "privacy": "publik",
        "reporter": {"name": "Siti Aminah", "phone": "081234567890",
                     "email": "siti.aminah@example.id"},
    }
    body.update(extra)
    status, receipt = lapor.json("POST", "/reports", body)
    assert status == 201, receipt
    code = receipt["tracking_code"]
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if any(r["tracking_code"] == code for r in lapor.triage()):
            return code, receipt["access_key"]
        time.sleep(0.1)
    raise AssertionError(f"{code} never reached triage: {lapor.public_view(code)}")


CONSOLE_PAGES = [
    "console-sign-in",
    "console-triage",
    "console-report-triaged",
    "console-inbox",
    "console-inbox-red-first",
    "console-report",
    "console-report-conflict",
    "console-report-not-yours",
    "console-dashboard-agency",
    "console-dashboard-central",
    "console-signed-out",
]


def seed_console(lapor: "LaporLocal") -> dict:
    """Reports for the console's pages: one in triage, a few with Dinas PUPR in every colour
    (red ones flagged by a sweep run as if two weeks had passed)."""
    triaged, _ = file_triaged_report(lapor, "Keluhan pelayanan di kantor kelurahan")
    codes = []
    for title, privacy, answers in [
        ("Lampu jalan mati di Jalan Siliwangi", "anonim", ["selesai"]),
        ("Saluran air tersumbat di Jalan Pekiringan", "publik", ["diproses"]),
        (WAITING_TITLE, "rahasia", []),
        ("Lampu lalu lintas mati di simpang Gunungsari", "publik", []),
    ]:
        code = file_dpupr_report(lapor, title, privacy)
        for answer in answers:
            lapor.follow_up(code, answer, "Sudah ditangani oleh tim lapangan.")
        codes.append(code)
    return {"triaged": triaged, "answered": codes[1]}


WAITING_TITLE = "Trotoar rusak di depan SD Negeri Kebonbaru"


def file_dpupr_report(lapor: "LaporLocal", title: str, privacy: str) -> str:
    """A report in Kota Cirebon that routing hands to Dinas PUPR; its tracking code once there."""
    status, receipt = lapor.json("POST", "/reports", {
        "type": "pengaduan", "title": title,
        "description": f"{title}: sudah dua minggu dan membahayakan warga yang lewat.",
        "category": "infrastruktur", "region": CIREBON, "privacy": privacy,
        "reporter": {"name": "Budi Santoso", "phone": "081298765432"},
    })
    assert status == 201, receipt
    code = receipt["tracking_code"]
    wait_in_inbox(lapor, code)
    return code


def wait_in_inbox(lapor: "LaporLocal", code: str, agency: str = DPUPR, timeout: float = PATIENCE):
    """Like `wait_routed`, through the officer API: it sees confidential reports too."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        status, body = lapor.officer("GET", f"/agency/reports/{code}", agency=agency)
        if status == 200 and body.get("status") == "terdisposisi":
            return body
        time.sleep(0.1)
    raise AssertionError(f"{code} did not reach {agency}: {body}")


def visit_every_console_page(new_page, lapor: "LaporLocal", lang: str, seeded: dict, on_page) -> None:
    """Walks the console's pages in `lang`, as the role each belongs to: the central admin's
    triage, report and ranking; an agency admin's inbox and dashboard; an officer's report page
    and a conflict; another agency's refusal; the sign-in and signed-out pages. `new_page()`
    gives a page in a fresh browser context (one per officer, as their cookies differ)."""
    base = lapor.url

    refused = {"console-report-conflict": 409, "console-report-not-yours": 404}

    def seen(page, name, response):
        assert response is not None, name
        assert response.status == refused.get(name, 200), f"{name}: {response.status}"
        lang_attr = page.locator("html").get_attribute("lang")
        assert lang_attr == lang, f"{name}: <html lang={lang_attr!r}>, chose {lang!r}"
        on_page(page, name, response)

    def signed_in(agency, role, subject="petugas-lokal"):
        page = new_page()
        page.goto(f"{base}/console/masuk?lang={lang}")
        console_sign_in(page, base, agency, role, subject)
        return page

    admin = new_page()
    seen(admin, "console-sign-in", admin.goto(f"{base}/console/masuk?lang={lang}"))
    console_sign_in(admin, base, CENTRAL, "admin_pusat", "admin-pusat-1")
    seen(admin, "console-triage", admin.goto(f"{base}/console/triase"))
    seen(admin, "console-report-triaged", admin.goto(f"{base}/console/laporan/{seeded['triaged']}"))
    seen(admin, "console-dashboard-central", admin.goto(f"{base}/console/dasbor?hari=90"))

    city = signed_in(KOTA_CIREBON, "agency_admin", "admin-kota")
    seen(city, "console-inbox", city.goto(f"{base}/console/kotak-masuk"))
    seen(city, "console-inbox-red-first", city.goto(f"{base}/console/kotak-masuk?merah=1"))
    seen(city, "console-dashboard-agency", city.goto(f"{base}/console/dasbor"))

    first = signed_in(DPUPR, "officer", "petugas-a")
    second = signed_in(DPUPR, "officer", "petugas-b")
    # Every walk answers a report of its own, so that a conflict page shows one answer, not one
    # per earlier walk over the same server.
    code = file_dpupr_report(lapor, WAITING_TITLE, "rahasia")
    for page in (first, second):
        page.goto(f"{base}/console/laporan/{code}")
    seen(first, "console-report", first.goto(f"{base}/console/laporan/{seeded['answered']}"))
    first.goto(f"{base}/console/laporan/{code}")
    for page in (first, second):
        form = page.locator("form#follow-up")
        form.locator('input[name="status"][value="diproses"]').check()
        form.locator("textarea[name=message]").fill(
            "Petugas A: tim sudah ke lokasi." if page is first else "Petugas B: kami jadwalkan besok."
        )
    assert console_submit(first, "follow-up", "/tindak-lanjut").status == 303
    answer = console_submit(second, "follow-up", "/tindak-lanjut")
    assert answer.status == 409, answer.status
    seen(second, "console-report-conflict", answer)

    other = signed_in(OTHER_AGENCY, "officer", "petugas-kab")
    response = other.goto(f"{base}/console/laporan/{code}")
    assert response.status == 404, response.status
    seen(other, "console-report-not-yours", response)
    with other.expect_navigation():
        other.locator('form[action="/console/keluar"] button').click()
    seen(other, "console-signed-out", other.goto(f"{base}/console/masuk?keluar=1"))
