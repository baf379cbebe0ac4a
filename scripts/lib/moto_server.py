"""moto's server, handling one request at a time, with transactions that back each table up once.

Three departures from `moto_server`, about moto 5.2.5's DynamoDB backend, none changing what an
answer says:

1. One thread. moto is not safe for concurrent transactions: under load its threaded server answers
   500 ("dictionary changed size during iteration"). Tests that race writers still race: each
   writer reads, then its conditional write is decided by the server in arrival order, as DynamoDB
   does.
2. `transact_write_items` backs up a table (a deep copy, stream history included) once per *item*
   of the transaction. Here a transaction copies each table it touches once: the same rollback
   state, since nothing is written before the backups are taken.
3. moto keeps a reference to every model object it creates (for its dashboard, which we do not
   use), so every backup above, with all its items, lived as long as the server: a 10k-report
   table swept by 100 escalations grew past 20 GB. Here nothing is tracked and backups are freed.

It also answers `GET /_lapor/sms-sent` with the SMS moto has "sent" (SNS Publish to a phone
number), as JSON `[{"id", "to", "text"}]`: the SMS sink the tests read replies from, since moto
keeps them only in memory. `GET /_lapor/mail-sent` does the same for e-mail (SES SendEmail, v1
or v2), as `[{"id", "region", "from", "to", "subject", "text"}]`: moto keeps sent mail in its SES
backend, and its `/moto-api/data.json` cannot show it (model tracking is off, see 3.).

And it injects faults, because moto never throttles or cancels a transaction for a conflict, and
DynamoDB, SNS and SES do. `POST /_lapor/faults` with a JSON rule makes matching calls fail with
the real error shape (or wait first):

    {"tag": "my-test",                      # DELETE /_lapor/faults?tag=my-test removes its rules
     "service": "dynamodb" | "sns" | "ses",
     "operation": "TransactWriteItems",     # X-Amz-Target action (DynamoDB), Action (SNS), or
                                            # SendEmail / CreateEmailIdentity (SES v2, by path)
     "contains": ["table-name", "MARK#"],   # substrings the request body must all contain
     "error": "TransactionConflict" | "Throttling" | "ProvisionedThroughputExceeded"
              | "InternalServerError" | "Delay",  # SES: Throttling, InternalServerError
              | "Unprocessed",                   # BatchGetItem / BatchWriteItem: a success that
                                                 # hands every key or item back unprocessed
     "conflict_on": "REPORT#",              # TransactionConflict: items whose JSON contains it
                                            # get the reason (default: the first item)
     "count": 3,                            # fail this many matching calls, then stop (optional)
     "share": 0.3, "seed": 7,               # or fail this share of them, reproducibly (optional)
     "delay_ms": 200}                       # Delay: answer normally after waiting

`GET /_lapor/faults` lists the rules with how often each fired.

Usage: python moto_server.py HOST PORT
"""

import copy
import io
import itertools
import json
import os
import random
import sys
import time
import urllib.parse

from werkzeug.serving import run_simple

import moto.dynamodb.models as dynamodb_models
from moto.core.common_models import BaseModel
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


class _CopyEachTableOnce:
    """Stands in for the `copy` module inside moto's DynamoDB backend during one transaction."""

    def __init__(self) -> None:
        self._tables: dict[int, Table] = {}

    def deepcopy(self, value, memo=None):
        if not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        # Tables stay alive (in the backend) for the whole transaction, so their ids are stable.
        if id(value) not in self._tables:
            self._tables[id(value)] = copy.deepcopy(value, memo)
        return self._tables[id(value)]

    def __getattr__(self, name):
        return getattr(copy, name)


def _patch_transactions() -> None:
    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        dynamodb_models.copy = _CopyEachTableOnce()
        try:
            return original(self, transact_items)
        finally:
            dynamodb_models.copy = copy

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


def _stop_tracking_instances() -> None:
    """moto keeps every model object it ever made (for its dashboard), backups included."""

    def new(cls, *args, **kwargs):
        return object.__new__(cls)

    BaseModel.__new__ = new


def _sms_sent():
    from moto.sns.models import sns_backends

    sent = []
    for regions in sns_backends.values():
        for backend in regions.values():
            for message_id, (to, text) in backend.sms_messages.items():
                sent.append({"id": message_id, "to": to, "text": text})
    return sent


def _mail_sent():
    from moto.ses.models import ses_backends

    sent = []
    for account in ses_backends.values():
        for region, backend in account.items():
            for message in backend.sent_messages:
                destinations = getattr(message, "destinations", None)
                if isinstance(destinations, dict):
                    to = [a for addresses in destinations.values() for a in addresses]
                else:
                    to = list(destinations or [])
                sent.append(
                    {
                        "id": message.id,
                        "region": region,
                        "from": message.source,
                        "to": to,
                        "subject": getattr(message, "subject", None),
                        "text": getattr(message, "body", None) or getattr(message, "raw_data", None),
                    }
                )
    return sent


SINKS = {"/_lapor/sms-sent": _sms_sent, "/_lapor/mail-sent": _mail_sent}


def _with_sms_sink(app):
    def serve(environ, start_response):
        sink = SINKS.get(environ.get("PATH_INFO"))
        if sink is not None:
            body = json.dumps(sink()).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        return app(environ, start_response)

    return serve


DYNAMODB_ERRORS = {
    "Throttling": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "ProvisionedThroughputExceeded": (
        400,
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    ),
    "InternalServerError": (500, "InternalServerError", "Internal server error"),
    "TransactionConflict": (
        400,
        "TransactionConflictException",
        "Transaction is ongoing for the item",
    ),
}

SNS_ERRORS = {
    "Throttling": (400, "Sender", "Throttling", "Rate exceeded"),
    "InternalServerError": (500, "Receiver", "InternalError", "Internal service error"),
}

# SES API v2 is REST-JSON: the error's name travels in `x-amzn-ErrorType`, the body holds only
# its message. A throttled SendEmail is 429 TooManyRequestsException, "Maximum sending rate
# exceeded." (what SES answers past the account's sending rate).
SES_ERRORS = {
    "Throttling": (429, "TooManyRequestsException", "Maximum sending rate exceeded."),
    "InternalServerError": (500, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure."),
}

SES_OPERATIONS = {
    ("POST", "/v2/email/outbound-emails"): "SendEmail",
    ("POST", "/v2/email/identities"): "CreateEmailIdentity",
}

_faults: list[dict] = []
_next_fault_id = itertools.count(1)


def _json_response(start_response, status: int, body) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        f"{status} {'OK' if status == 200 else 'Error'}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def _operation(environ, body: bytes) -> tuple[str, str]:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("DynamoDB_"):
        return "dynamodb", target.split(".", 1)[-1]
    path = environ.get("PATH_INFO", "")
    if path.startswith("/v2/email/"):
        return "ses", SES_OPERATIONS.get((environ.get("REQUEST_METHOD", ""), path), path)
    if b"Action=" in body:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        return "sns", form.get("Action", [""])[0]
    return "", ""


def _fires(rule: dict) -> bool:
    if "count" in rule and rule["fired"] >= rule["count"]:
        return False
    if "share" in rule:
        return rule["rng"].random() < rule["share"]
    return True


def _dynamodb_error(rule: dict, operation: str, body: bytes):
    name = rule["error"]
    if name == "Unprocessed":  # only accepted for BatchGetItem and BatchWriteItem
        # What DynamoDB answers when a batch's reads or writes exceed what a partition can
        # serve at once: HTTP 200, nothing done, everything handed back to be sent again.
        asked = json.loads(body or b"{}").get("RequestItems", {})
        if operation == "BatchGetItem":
            return 200, {"Responses": {table: [] for table in asked}, "UnprocessedKeys": asked}
        return 200, {"UnprocessedItems": asked}
    if name == "TransactionConflict" and operation == "TransactWriteItems":
        items = json.loads(body or b"{}").get("TransactItems", [])
        marker = rule.get("conflict_on")
        hits = [marker is not None and marker in json.dumps(item) for item in items]
        if not any(hits) and items:
            hits[0] = True
        reasons = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
            if hit
            else {"Code": "None"}
            for hit in hits
        ]
        listed = ", ".join(r["Code"] for r in reasons)
        return 400, {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{listed}]",
            "CancellationReasons": reasons,
        }
    status, code, message = DYNAMODB_ERRORS[name]
    return status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}


def _fault_response(start_response, rule: dict, service: str, operation: str, body: bytes):
    if service == "dynamodb":
        status, payload = _dynamodb_error(rule, operation, body)
        data = json.dumps(payload).encode()
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", "lapor-fault")]
    elif service == "ses":
        status, code, message = SES_ERRORS[rule["error"]]
        data = json.dumps({"message": message}).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", code),
            ("x-amzn-RequestId", "lapor-fault"),
        ]
    else:
        status, kind, code, message = SNS_ERRORS[rule["error"]]
        data = (
            '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
            f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>lapor-fault</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", "lapor-fault")]
    headers.append(("Content-Length", str(len(data))))
    start_response(f"{status} Error", headers)
    return [data]


def _manage_faults(environ, start_response):
    method = environ.get("REQUEST_METHOD")
    if method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        rule = json.loads(environ["wsgi.input"].read(length) or b"{}")
        known = {
            "dynamodb": set(DYNAMODB_ERRORS) | {"Unprocessed"},
            "sns": set(SNS_ERRORS),
            "ses": set(SES_ERRORS),
        }.get(rule.get("service"))
        if known is None or rule.get("error") not in known | {"Delay"}:
            return _json_response(start_response, 400, {"error": "service or error unknown"})
        if rule["error"] == "Unprocessed" and rule.get("operation") not in ("BatchGetItem", "BatchWriteItem"):
            return _json_response(start_response, 400, {"error": "Unprocessed needs operation BatchGetItem or BatchWriteItem"})
        rule["id"] = next(_next_fault_id)
        rule["fired"] = 0
        rule["rng"] = random.Random(rule.get("seed", 0))
        _faults.append(rule)
        return _json_response(start_response, 200, {"id": rule["id"]})
    if method == "DELETE":
        tag = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("tag", [None])[0]
        _faults[:] = [r for r in _faults if tag is not None and r.get("tag") != tag]
        return _json_response(start_response, 200, {"rules": len(_faults)})
    listed = [{k: v for k, v in r.items() if k != "rng"} for r in _faults]
    return _json_response(start_response, 200, listed)


def _with_faults(app):
    def serve(environ, start_response):
        if environ.get("PATH_INFO") == "/_lapor/faults":
            return _manage_faults(environ, start_response)
        if not _faults:
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, operation = _operation(environ, body)
        text = body.decode("utf-8", "replace")
        for rule in _faults:
            matches = (
                rule["service"] == service
                and rule.get("operation", operation) == operation
                and all(part in text for part in rule.get("contains", []))
            )
            if not matches or not _fires(rule):
                continue
            rule["fired"] += 1
            if rule["error"] == "Delay":
                time.sleep(rule.get("delay_ms", 0) / 1000)
                break
            return _fault_response(start_response, rule, service, operation, body)
        return app(environ, start_response)

    return serve


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    _stop_tracking_instances()
    _patch_transactions()
    run_simple(
        host,
        port,
        _with_faults(_with_sms_sink(DomainDispatcherApplication(create_backend_app))),
        threaded=False,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
