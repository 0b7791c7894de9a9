#!/usr/bin/env python3
"""The local AWS API (moto) answering one request at a time.

moto_server serves each request on a thread of its own, and moto's conditional writes are
not atomic across threads: two racing `attribute_not_exists` writes can both succeed there,
which DynamoDB never allows. Tests that prove exactly-once behaviour of concurrent function
processes (the crash-loop test) run this instead: the same application, one request at a time,
so each conditional write is atomic as it is in DynamoDB. Same arguments as moto_server
(-H host, -p port).
"""

import argparse
import os

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, app, threaded=False)


if __name__ == "__main__":
    main()
