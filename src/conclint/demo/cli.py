"""`conclint demo serve`, `reproduce` and `compare`: the demo's command line."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from conclint.demo.limits import IDLE_TIMEOUT, MAX_CONNECTIONS, READ_TIMEOUT

MODELS = ("prefork", "threaded", "evented")
SERVERS = ("builtin", "gunicorn", "uvicorn")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="demo_command", parser_class=type(parser))
    commands.required = True
    serve = commands.add_parser("serve", help="serve the demo app under one concurrency model")
    serve.add_argument("--model", choices=MODELS, required=True)
    serve.add_argument("--workers", type=int, default=4, help="worker processes or threads (default 4)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--server", choices=SERVERS, default="builtin", help="run under gunicorn or uvicorn when installed"
    )
    serve.add_argument(
        "--scenario", metavar="SCENARIO", help="serve one scenario's handlers at / (as `reproduce` does)"
    )
    serve.add_argument(
        "--read-timeout",
        type=float,
        default=READ_TIMEOUT,
        metavar="SECONDS",
        help=f"a request must arrive within this long once begun, or it is answered 408 (default {READ_TIMEOUT:g})",
    )
    serve.add_argument(
        "--idle-timeout",
        type=float,
        default=IDLE_TIMEOUT,
        metavar="SECONDS",
        help=f"a connection that sends nothing is closed after this long (default {IDLE_TIMEOUT:g})",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=MAX_CONNECTIONS,
        metavar="N",
        help=f"open connections each accepting process holds; past that a new one gets 503 (default {MAX_CONNECTIONS})",
    )
    serve.add_argument("--no-access-log", action="store_true", help="do not log one line per request on stderr")
    serve.add_argument("--events", action="store_true", help=argparse.SUPPRESS)  # JSON lifecycle lines on stdout
    serve.add_argument("--workload", action="store_true", help=argparse.SUPPRESS)  # the app `demo compare` drives
    reproduce = commands.add_parser("reproduce", help="start servers, drive them, and show each hazard and its fix")
    reproduce.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario names (default: all)")
    reproduce.add_argument("--json", action="store_true", help="print a JSON list of results")
    reproduce.add_argument(
        "--html", metavar="FILE", help="also write a page with a chart per scenario (needs conclint[demo])"
    )
    compare = commands.add_parser(
        "compare", help="the same app under prefork, threaded and evented, driven by 1 to 500 concurrent clients"
    )
    compare.add_argument("--workers", type=int, default=8, help="worker processes and pool threads (default 8)")
    compare.add_argument(
        "--clients",
        default="1,10,100,500",
        metavar="N,N,...",
        help="how many concurrent clients at each level (default 1,10,100,500; at most 500)",
    )
    compare.add_argument("--json", action="store_true", help="print the measurements as JSON")
    compare.add_argument("--html", metavar="FILE", help="also write a page with the charts (needs conclint[demo])")


def run(args: argparse.Namespace) -> int:
    if args.demo_command == "serve":
        from conclint.demo.http import Timeouts
        from conclint.demo.serve import serve

        return serve(
            args.model,
            workers=args.workers,
            host=args.host,
            port=args.port,
            server=args.server,
            scenario=args.scenario,
            events=args.events,
            timeouts=Timeouts(read=args.read_timeout, idle=args.idle_timeout),
            access_log=not args.no_access_log,
            workload=args.workload,
            max_connections=args.max_connections,
        )
    if args.demo_command == "compare":
        from conclint.demo.compare import compare

        return compare(workers=args.workers, clients=args.clients, as_json=args.json, html=args.html)
    from conclint.demo.reproduce import reproduce

    return reproduce(args.scenarios, as_json=args.json, html=args.html)


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m conclint.demo.cli serve ...``: the demo's commands without the linter's imports
    (the orchestrator starts its servers this way)."""
    parser = argparse.ArgumentParser(prog="conclint demo")
    add_arguments(parser)
    return run(parser.parse_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(main())
