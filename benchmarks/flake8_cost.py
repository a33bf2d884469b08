"""What the flake8 plugin costs: `flake8 --select E9` with conclint installed and without it, and
`flake8 --select CCL` next to `conclint check` of the same project.

    python benchmarks/flake8_cost.py                  # conclint's own src/ as the project, 5 rounds
    python benchmarks/flake8_cost.py --project PATH   # any project folder (copied first)

The project is copied to a temporary folder marked as a project (`.git`), so every cold run
starts without a cache. "Without conclint" is flake8 of the same version in a virtualenv of
its own (`benchmarks/.venv-flake8/`, made on the first run, git-ignored). Each time is the
median of the whole command, interpreter start included: wall clock and CPU time. Writes FLAKE8.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from typing import List, Sequence, Tuple

from conclint.engine.cache import default_cache_dir

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BARE_VENV = os.path.join(HERE, ".venv-flake8")


def bare_flake8() -> str:
    """flake8 of the version installed here, with no plugin at all."""
    python = os.path.join(BARE_VENV, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", BARE_VENV], check=True)
        version = metadata.version("flake8")
        subprocess.run([python, "-m", "pip", "install", "-q", f"flake8=={version}"], check=True)
    return python


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: Sequence[str], cwd: str, rounds: int, before=None) -> List[Tuple[float, float]]:
    """(wall clock, CPU time of the command and its processes) per round."""
    samples = []
    for _ in range(rounds):
        if before is not None:
            before()
        start, cpu = time.perf_counter(), _children_cpu()
        subprocess.run(list(command), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append((time.perf_counter() - start, _children_cpu() - cpu))
    return samples


def row(name: str, command: str, samples: List[Tuple[float, float]]) -> str:
    wall = [w for w, _ in samples]
    cpu = statistics.median(c for _, c in samples)
    return (
        f"| {name} | `{command}` | {statistics.median(wall):.2f} s | {min(wall):.2f}–{max(wall):.2f} s | {cpu:.2f} s |"
    )


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=os.path.join(REPO, "src", "conclint"), help="the folder to check")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", default=os.path.join(HERE, "FLAKE8.md"))
    args = parser.parse_args(argv)

    bare = bare_flake8()
    conclint = shutil.which("conclint", path=os.path.dirname(sys.executable)) or "conclint"
    with tempfile.TemporaryDirectory() as folder:
        tree = os.path.join(folder, "project")
        shutil.copytree(args.project, tree, ignore=shutil.ignore_patterns("__pycache__", ".conclint_cache"))
        os.mkdir(os.path.join(tree, ".git"))
        files = sum(1 for _, _, names in os.walk(tree) for name in names if name.endswith(".py"))
        cache = default_cache_dir(tree)  # where `conclint check` and the plugin keep it when not told

        def cold() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        flake8 = [sys.executable, "-m", "flake8"]
        results = [
            row(
                "flake8 --select E9, without conclint",
                "flake8 --select E9 .",
                timed([bare, "-m", "flake8", "--select", "E9", "."], tree, args.rounds),
            ),
            row(
                "flake8 --select E9, conclint installed",
                "flake8 --select E9 .",
                timed([*flake8, "--select", "E9", "."], tree, args.rounds),
            ),
            row(
                "flake8 --select CCL, cold",
                "flake8 --select CCL .",
                timed([*flake8, "--select", "CCL", "."], tree, args.rounds, cold),
            ),
            row(
                "flake8 --select CCL, warm",
                "flake8 --select CCL .",
                timed([*flake8, "--select", "CCL", "."], tree, args.rounds),
            ),
            row("conclint check, cold", "conclint check .", timed([conclint, "check", "."], tree, args.rounds, cold)),
            row("conclint check, warm", "conclint check .", timed([conclint, "check", "."], tree, args.rounds)),
        ]
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    text = "\n".join(
        [
            "# The flake8 plugin's cost",
            "",
            f"`python benchmarks/flake8_cost.py` on {os.path.relpath(args.project, REPO)} ({files} files), "
            f"flake8 {metadata.version('flake8')}, {args.rounds} rounds, {os.cpu_count()} CPUs, "
            f"load average before {' '.join(f'{v:.2f}' if isinstance(v, float) else v for v in load)}, "
            f"{time.strftime('%Y-%m-%d')}. Cold: no cache; warm: nothing changed since the last run. The CPU "
            "time (user and system, of every process of the command) is what a shared machine measures best: "
            "the wall clock there depends on the load.",
            "",
            "| run | command | median wall clock | range | median CPU time |",
            "|---|---|---|---|---|",
            *results,
            "",
        ]
    )
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
