"""The floor conclint is measured against: parse every file with libcst, nothing else.

    python benchmarks/parse_libcst.py FILE_LIST [--jobs N]

FILE_LIST holds one path a line (the files conclint discovered). Each file is read as
bytes and handed to ``libcst.parse_module`` (which decodes it as Python does), in a pool
of N processes (default: the CPU count), the same number conclint gets with ``--jobs``.
A file libcst cannot parse counts as done: the benchmark times the attempt, as conclint
must make it too. Prints ``parsed N failed M`` and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import List

import libcst


def parse(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            libcst.parse_module(handle.read())
        return True
    except Exception:  # syntax errors, undecodable bytes, libcst's own limits
        return False


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file_list")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    with open(args.file_list, encoding="utf-8", errors="surrogateescape") as handle:
        paths = [line.rstrip("\n") for line in handle if line.strip()]
    if args.jobs <= 1:
        outcomes = [parse(path) for path in paths]
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            outcomes = list(pool.map(parse, paths, chunksize=8))
    parsed = sum(outcomes)
    print(f"parsed {parsed} failed {len(outcomes) - parsed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
