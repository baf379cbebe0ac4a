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
keeps them only in memory.

Usage: python moto_server.py HOST PORT
"""

import copy
import json
import os
import sys

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


def _with_sms_sink(app):
    def serve(environ, start_response):
        if environ.get("PATH_INFO") == "/_lapor/sms-sent":
            body = json.dumps(_sms_sent()).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
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
        _with_sms_sink(DomainDispatcherApplication(create_backend_app)),
        threaded=False,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
