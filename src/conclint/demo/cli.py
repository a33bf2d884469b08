"""`conclint demo serve` and `conclint demo reproduce`: the demo's command line."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

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
    serve.add_argument("--events", action="store_true", help=argparse.SUPPRESS)  # JSON lifecycle lines on stdout
    reproduce = commands.add_parser("reproduce", help="start servers, drive them, and show each hazard and its fix")
    reproduce.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario names (default: all)")
    reproduce.add_argument("--json", action="store_true", help="print a JSON list of results")


def run(args: argparse.Namespace) -> int:
    if args.demo_command == "serve":
        from conclint.demo.serve import serve

        return serve(
            args.model,
            workers=args.workers,
            host=args.host,
            port=args.port,
            server=args.server,
            scenario=args.scenario,
            events=args.events,
        )
    from conclint.demo.reproduce import reproduce

    return reproduce(args.scenarios, as_json=args.json)


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m conclint.demo.cli serve ...``: the demo's commands without the linter's imports
    (the orchestrator starts its servers this way)."""
    parser = argparse.ArgumentParser(prog="conclint demo")
    add_arguments(parser)
    return run(parser.parse_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(main())
