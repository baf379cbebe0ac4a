"""moto's server, handling one request at a time.

`moto_server` serves requests on many threads, and moto 5.2.5's DynamoDB backend is not safe for
concurrent transactions: under load it answers 500 ("dictionary changed size during iteration").
One thread keeps it correct. Tests that race writers still race: each writer reads, then its
conditional write is decided by the server in arrival order, as DynamoDB does.

Usage: python moto_server.py HOST PORT
"""

import os
import sys

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    run_simple(
        host,
        port,
        DomainDispatcherApplication(create_backend_app),
        threaded=False,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
