"""Drives `sam local` against moto for scripts/sam-local.

    sam_local.py setup  OUT_DIR              table, topics and directory on moto; env-vars file
    sam_local.py invoke OUT_DIR              `sam local invoke` of every event under events/
    sam_local.py api    OUT_DIR PORT         a citizen flow with curl through `sam local start-api`

moto's address comes from AWS_ENDPOINT_URL (scripts/sam-local starts it on the Docker bridge's
host address, which the function containers reach). The table is created
from the ReportsTable definition in infra/template.yaml, so the emulated functions run against the
layout a deploy creates. Every check prints one line; the script exits 1 if any failed.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from samcli.yamlhelper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
BUILT = ROOT / ".aws-sam" / "build" / "template.yaml"
TABLE = "lapor-sam-local"
PEPPER = "sam-local-pepper-not-a-secret-0123456789abcdef"
# The sample report the events in events/ name, and its access key: each invocation is pointed at
# the report this run filed instead.
SAMPLE_CODES = ("K7M2QX9PRR", "7KXQ2M9BHR")
SAMPLE_KEY = "gpmyjzqcydt0nv2p5z2s3wn5fb"
REPORTER_PHONE = "+6281234567890"
BUCKET = "lapor-sam-local-evidence"
# The evidence the sample attach event announces (105 bytes): a 2 × 2 PNG whose tEXt chunk names
# its author, which the evidence function must remove.
EVIDENCE_PNG = (ROOT / "tests" / "data" / "evidence-sample.png").read_bytes()
SAMPLE_ATTACHMENT = "01KBCZ3X8WJ4Y7N1T5Q2R6M9VE"

failures = []


def check(ok, what, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f"  [{detail}]" if detail and not ok else ""))
    sys.stdout.flush()
    if not ok:
        failures.append(what)


def setup(out):
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    resources = yaml_parse(TEMPLATE.read_text())["Resources"]
    spec = resources["ReportsTable"]["Properties"]
    dynamodb = boto3.client("dynamodb")
    table = {
        "TableName": TABLE,
        "BillingMode": spec["BillingMode"],
        "AttributeDefinitions": spec["AttributeDefinitions"],
        "KeySchema": spec["KeySchema"],
        "GlobalSecondaryIndexes": spec.get("GlobalSecondaryIndexes", []),
    }
    if "StreamSpecification" in spec:
        table["StreamSpecification"] = {"StreamEnabled": True, **spec["StreamSpecification"]}
    dynamodb.create_table(**table)
    ttl = spec.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=ttl)
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="lapor-sam-local-notifications")["TopicArn"]
    boto3.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_REGION"]})
    # The functions read the pepper from Secrets Manager, as in AWS.
    committed = json.loads((ROOT / "infra" / "sam-local-env.json").read_text())
    boto3.client("secretsmanager").create_secret(
        Name=committed["Parameters"]["ACCESS_KEY_PEPPER_SECRET"], SecretString=PEPPER)
    subprocess.run(
        [str(ROOT / "target" / "debug" / "lapor-admin"), "agencies", "import",
         str(ROOT / "crates" / "lapor-core" / "data" / "agencies.json"), "--table", TABLE],
        check=True,
    )
    # The committed file names moto's default port; this run's moto may be elsewhere.
    params = committed["Parameters"]
    params.update({"LAPOR_LOCAL_ENDPOINT": endpoint, "TABLE_NAME": TABLE, "TOPIC_ARN": topic,
                   "EVIDENCE_BUCKET": BUCKET})
    (Path(out) / "env.json").write_text(json.dumps(committed, indent=2))
    print(f"table {TABLE} and topic {topic} on {endpoint}; env-vars in {out}/env.json")


def state(out):
    path = Path(out) / "state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_state(out, values):
    (Path(out) / "state.json").write_text(json.dumps(values))


def pointed(event_file, live):
    """The event with the sample report replaced by this run's own. A stream record's new image
    becomes the report as it is stored now (what the stream would carry), and an old image is
    made the version before it, so no consumer writes the sample's made-up fields back."""
    text = Path(event_file).read_text()
    for code in SAMPLE_CODES:
        text = text.replace(code, live.get("code", code))
    text = text.replace(SAMPLE_KEY, live.get("key", SAMPLE_KEY))
    text = text.replace(SAMPLE_ATTACHMENT, live.get("attachment", SAMPLE_ATTACHMENT))
    text = text.replace("lapor-evidencebucket-1a2b3c4d5e6f", BUCKET)
    event = json.loads(text)
    for record in event.get("Records", []):
        change = record.get("dynamodb")
        if not change or "code" not in live:
            continue
        item = boto3.client("dynamodb").get_item(
            TableName=TABLE, Key=change["Keys"], ConsistentRead=True).get("Item")
        if not item:
            continue
        change["NewImage"] = item
        if "OldImage" in change:
            change["OldImage"]["version"] = {"N": str(int(item["version"]["N"]) - 1)}
            change["OldImage"]["access_key_hash"] = item["access_key_hash"]
    return json.dumps(event)


def sam_invoke(out, function, event_file, live):
    event_path = Path(out) / "events" / Path(event_file).relative_to(ROOT / "events")
    event_path.parent.mkdir(parents=True, exist_ok=True)
    event_path.write_text(pointed(event_file, live))
    started = time.monotonic()
    run = subprocess.run(
        ["sam", "local", "invoke", function, "-t", str(BUILT), "-e", str(event_path),
         "--skip-pull-image", "--env-vars", str(Path(out) / "env.json")],
        capture_output=True, text=True, timeout=300,
    )
    seconds = time.monotonic() - started
    with open(Path(out) / "invoke.log", "a") as log:
        log.write(f"== {function} {event_file}\n{run.stderr}\n{run.stdout}\n")
    answer = None
    for line in reversed(run.stdout.strip().splitlines()):
        try:
            answer = json.loads(line)
            break
        except ValueError:
            continue
    return answer, seconds


def http(answer):
    if not isinstance(answer, dict) or "statusCode" not in answer:
        return None, None
    try:
        body = json.loads(answer.get("body") or "null")
    except ValueError:
        body = answer.get("body")
    return answer["statusCode"], body


def sms_sent():
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    out = subprocess.run(["curl", "-sf", f"{endpoint}/_lapor/sms-sent"], capture_output=True, text=True)
    return json.loads(out.stdout or "[]")


# Every file under events/, the function it is for, and what its answer must be. Order matters:
# the citizen files a report first, and the later events are pointed at it.
HTTP = "http"
STREAM = "stream"
PLAN = [
    ("IntakeFunction", "intake/list-categories.json", HTTP, 200, lambda b: len(b["categories"]) > 5),
    ("IntakeFunction", "intake/list-regions.json", HTTP, 200, lambda b: len(b["regions"]) > 0),
    ("IntakeFunction", "intake/submit-malformed-json.json", HTTP, 400, lambda b: b["error"]["code"]),
    ("IntakeFunction", "intake/submit-wrong-content-type.json", HTTP, 415, lambda b: b["error"]["code"]),
    ("IntakeFunction", "intake/submit-report.json", HTTP, 201,
     lambda b: re.fullmatch(r"[0-9A-Z]{10}", b["tracking_code"]) and b["access_key"]),
    ("IntakeFunction", "intake/submit-anonim.json", HTTP, 201, lambda b: b["tracking_code"]),
    ("IntakeFunction", "intake/submit-whistleblowing.json", HTTP, 201, lambda b: b["tracking_code"]),
    ("IntakeFunction", "intake/get-report.json", HTTP, 200,
     lambda b: b["status"] == "diterima" and "Siti" not in json.dumps(b)),
    # The portal: its pages, a form filed as a browser without JavaScript sends it (multipart,
    # base64 in the event, the __Host- cookie), and the public page of the report filed above.
    ("WebFunction", "web/home.json", HTTP, 200, lambda b: "<html" in b and "/lapor" in b),
    ("WebFunction", "web/report-form.json", HTTP, 200, lambda b: 'name="csrf"' in b),
    ("WebFunction", "web/submit-form.json", HTTP, 200,
     lambda b: 'id="tracking-code"' in b and 'id="access-key"' in b),
    ("WebFunction", "web/public-report.json", HTTP, 200,
     lambda b: "Jalan berlubang" in b and "Siti" not in b),
    ("StatsFunction", "stats/new-report.json", STREAM, None, None),
    ("IntakeFunction", "intake/stats.json", HTTP, 200, lambda b: b["totals"]["total"] >= 1),
    ("WebFunction", "web/statistics.json", HTTP, 200, lambda b: "<table" in b),
    ("RoutingFunction", "routing/new-report.json", STREAM, None, None),
    ("NotifyFunction", "notify/report-received.json", STREAM, None, None),
    ("NotifyFunction", "notify/report-forwarded.json", STREAM, None, None),
    ("OfficerFunction", "officer/triage-queue.json", HTTP, 200, lambda b: isinstance(b["reports"], list)),
    ("OfficerFunction", "officer/list-inbox.json", HTTP, 200,
     lambda b: any(r["tracking_code"] == LIVE["code"] for r in b["reports"])),
    ("OfficerFunction", "officer/agency-view.json", HTTP, 200,
     lambda b: b["tracking_code"] == LIVE["code"]),
    ("OfficerFunction", "officer/followup.json", HTTP, 200, lambda b: b["status"] == "diproses"),
    # The sample reply says "not solved", which reopens only a report marked done: this one is
    # in process.
    ("IntakeFunction", "intake/reply.json", HTTP, 409, lambda b: b["error"]["code"] == "cannot_reopen"),
    # The city's admin may not take a report its department is already handling.
    ("OfficerFunction", "officer/forward-report.json", HTTP, 403, lambda b: b["error"]["code"]),
    # A report in process is no longer the department's to return.
    ("OfficerFunction", "officer/return-report.json", HTTP, 409, lambda b: b["error"]["code"]),
    # Evidence: an upload URL, the upload (done by this script), the evidence function's work.
    ("IntakeFunction", "intake/attach-evidence.json", HTTP, 201,
     lambda b: b["upload"]["method"] == "PUT" and b["status"] == "processing"),
    ("EvidenceFunction", "evidence/object-created.json", "evidence", None, None),
    # A late malware verdict on a file already handled changes nothing (and fails nothing).
    ("EvidenceFunction", "evidence/scan-result.json", "evidence", None, None),
    # Rating waits until the report is done.
    ("IntakeFunction", "intake/rating.json", HTTP, 409, lambda b: b["error"]["code"]),
    ("EscalationFunction", "escalation/scheduled.json", "sweep", None, None),
    ("SmsFunction", "sms/bantuan.json", "sms", "BALAS", None),
    ("SmsFunction", "sms/cek-status.json", "sms", "CODE", None),
    ("SmsFunction", "sms/lapor-new-report.json", "sms", "Kode", None),
]
LIVE = {}


def invoke(out):
    LIVE.update(state(out))
    listed = {str(p.relative_to(ROOT / "events")) for p in (ROOT / "events").glob("*/*.json")}
    planned = {entry[1] for entry in PLAN}
    check(listed == planned, "every file under events/ is in the plan",
          f"unplanned {sorted(listed - planned)}, missing {sorted(planned - listed)}")
    times = []
    for function, name, kind, expected, predicate in PLAN:
        before = len(sms_sent()) if kind == "sms" else 0
        answer, seconds = sam_invoke(out, function, ROOT / "events" / name, LIVE)
        times.append(seconds)
        label = f"{function} {name} ({seconds:.1f} s)"
        if kind == HTTP:
            status, body = http(answer)
            try:
                ok = status == expected and (predicate is None or bool(predicate(body)))
            except (KeyError, TypeError, IndexError):
                ok = False
            check(ok, f"{label}: {expected}", f"got {status} {json.dumps(body)[:300]}")
            if name == "intake/submit-report.json" and status == 201:
                LIVE.update(code=body["tracking_code"], key=body["access_key"])
            if name == "intake/attach-evidence.json" and status == 201:
                LIVE.update(attachment=body["id"])
                check(upload(body["upload"]), "the upload URL takes the file", body["upload"]["url"])
        elif kind == "evidence":
            clean = f"evidence/{LIVE.get('code')}/{LIVE.get('attachment')}"
            try:
                kept = boto3.client("s3").get_object(Bucket=BUCKET, Key=clean)["Body"].read()
            except Exception as e:  # noqa: BLE001 - any failure is the check's failure
                kept = None
                print(f"   {e}")
            ok = kept is not None and kept.startswith(b"\x89PNG") and b"Budi Santoso" not in kept
            check(ok, f"{label}: the clean copy is kept, without its author", f"got {kept!r:.80}")
        elif kind == STREAM:
            ok = isinstance(answer, dict) and answer.get("batchItemFailures") == []
            check(ok, f"{label}: no batch item failures", f"got {answer}")
        elif kind == "sweep":
            ok = isinstance(answer, dict) and answer.get("failed") == 0 and answer.get("unreadable") == 0 \
                and "scanned" in answer
            check(ok, f"{label}: a sweep summary without failures ({answer})", f"got {answer}")
        elif kind == "sms":
            sent = sms_sent()[before:]
            replies = [m["text"] for m in sent if m["to"] == REPORTER_PHONE]
            want = LIVE.get("code", "") if expected == "CODE" else expected
            ok = answer is None or answer == {} or answer == [] or isinstance(answer, (dict, list))
            ok = ok and any(want in text for text in replies)
            check(ok, f"{label}: a reply SMS containing {want!r}", f"replies {replies}, answer {answer}")
    save_state(out, LIVE)
    print(f"sam local invoke: {len(times)} invocations, {sum(times):.0f} s in all, "
          f"{min(times):.1f}-{max(times):.1f} s each")


def upload(offer):
    """PUTs the sample PNG with the offered URL and headers, as a browser or an app would."""
    request = urllib.request.Request(offer["url"], data=EVIDENCE_PNG, method=offer["method"])
    for name, value in offer["headers"].items():
        if name != "content-length":
            request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return 200 <= answer.status < 300
    except (urllib.error.URLError, OSError) as e:
        print(f"   upload failed: {e}")
        return False


def curl(method, url, body=None, headers=()):
    cmd = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method, url, "--max-time", "120"]
    for h in headers:
        cmd += ["-H", h]
    if body is not None:
        cmd += ["-H", "content-type: application/json", "--data-binary", json.dumps(body)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    text, _, status = out.stdout.rpartition("\n")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return int(status or 0), parsed


def api(out, port):
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    status, body = curl("GET", f"{base}/categories")
    check(status == 200 and len(body["categories"]) > 5, "start-api GET /categories: 200", f"{status} {body}")
    report = json.loads(json.loads((ROOT / "events/intake/submit-report.json").read_text())["body"])
    status, filed = curl("POST", f"{base}/reports", report)
    check(status == 201, "start-api POST /reports: 201", f"{status} {filed}")
    if status != 201:
        return
    code, key = filed["tracking_code"], filed["access_key"]
    status, public = curl("GET", f"{base}/reports/{code}")
    check(status == 200 and public["tracking_code"] == code and "Siti" not in json.dumps(public)
          and "0812" not in json.dumps(public),
          "start-api GET /reports/{code}: 200, the public view without the reporter", f"{status} {public}")
    status, own = curl("GET", f"{base}/reports/{code}", headers=[f"x-access-key: {key}"])
    check(status == 200 and own["tracking_code"] == code and json.dumps(own) != json.dumps(public),
          "start-api GET /reports/{code} with the access key: 200, the reporter's view", f"{status} {own}")
    status, wrong = curl("GET", f"{base}/reports/{code}", headers=["x-access-key: " + "x" * 26])
    # A wrong key answers as if there were no such report: nothing to probe.
    check(status == 404, "start-api GET /reports/{code} with a wrong key: 404", f"{status} {wrong}")
    status, reply = curl("POST", f"{base}/reports/{code}/replies",
                         {"message": "Lubangnya makin besar setelah hujan semalam."},
                         headers=[f"x-access-key: {key}"])
    check(status == 200 and reply["tracking_code"] == code
          and any("Lubangnya makin besar" in json.dumps(entry) for entry in reply.get("timeline", [])),
          "start-api POST /reports/{code}/replies with the key: 200, the reply in the timeline",
          f"{status} {json.dumps(reply)[:400]}")
    # sam local does not emulate the HTTP API's JWT authorizer: it mounts officer routes without
    # it, so the function itself must refuse a request that has no verified claims, a forged
    # bearer token included.
    log = (Path(out) / "start-api.log").read_text(errors="replace")
    check("Authorizer 'OfficerJwt' for route '/admin/triage' was not found, skipping" in log,
          "start-api mounted the officer routes without the JWT authorizer (as SAM documents)")
    for path in ("/admin/triage", "/agency/reports", f"/agency/reports/{code}"):
        status, refused = curl("GET", f"{base}{path}")
        check(status == 401, f"start-api GET {path} without a token: 401", f"{status} {refused}")
    forged = "Bearer eyJhbGciOiJub25lIn0.eyJjdXN0b206cm9sZSI6ImFkbWluX3B1c2F0In0."
    status, refused = curl("GET", f"{base}/admin/triage", headers=[f"authorization: {forged}"])
    check(status == 401, "start-api GET /admin/triage with a forged token: 401", f"{status} {refused}")
    status, refused = curl("POST", f"{base}/reports/{code}/followups",
                           {"status": "selesai", "message": "Ditutup tanpa hak."},
                           headers=[f"authorization: {forged}"])
    check(status == 401, "start-api POST /reports/{code}/followups with a forged token: 401",
          f"{status} {refused}")
    print(f"sam local start-api: citizen flow and officer refusals in {time.monotonic() - started:.0f} s")


def main():
    command, out = sys.argv[1], sys.argv[2]
    Path(out).mkdir(parents=True, exist_ok=True)
    if command == "setup":
        setup(out)
    elif command == "invoke":
        invoke(out)
    elif command == "api":
        api(out, sys.argv[3])
    else:
        sys.exit(f"unknown command {command}")
    if failures:
        print(f"{len(failures)} check(s) failed: {failures}")
        sys.exit(1)


if __name__ == "__main__":
    main()
