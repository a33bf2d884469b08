"""Run conclint over every corpus and over generated programs, looking for its own failures.

    python benchmarks/sweep.py                        # every corpus, 500 + 100 generated programs
    python benchmarks/sweep.py --corpus trio --hypothesis-examples 0
    python benchmarks/sweep.py --output sweep.md      # also write the report to a file

Reports, per corpus:
- internal errors of a whole run (``conclint.engine.run.run``, as ``conclint check`` does);
  there must be none, each is printed with its file;
- per-file time: every file analysed in full, on its own (``analyse_file(path)``, no demand
  filter, so every file pays for the full analysis), timed in the process that ran it; the
  ten slowest overall and any file over 30 s (the per-file time limit turns a file that runs
  out of time into a CCL001, listed too);
- the count of findings per code.
Then a larger budget of hypothesmith-generated programs than the test suite's: each must
give findings or a parse error, never an internal error.

Exits 1 if any internal error was found. Reads the pristine trees (it never edits them),
fetching the corpora as ``run.py`` does.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpora
from corpora import ALL_CORPORA, log

SLOW_SECONDS = 30.0


@dataclass
class FileTime:
    corpus: str
    path: str  # relative to the corpus
    wall: float
    cpu: float
    lines: int
    internal_error: Optional[str]
    timed_out: bool


@dataclass
class CorpusSweep:
    name: str
    version: str
    files: int
    lines: int
    run_seconds: float
    internal_errors: Dict[str, str]  # path relative to the corpus -> description (whole run)
    file_errors: Dict[str, str]  # the same, from the per-file full analysis
    codes: Dict[str, int]
    times: List[FileTime] = field(default_factory=list)


# --- per-file time, in worker processes ------------------------------------------------------------------


def _warm_up() -> None:
    """Imports and first-call costs, paid before any file is timed."""
    from conclint.engine.run import check_source

    check_source(
        "import asyncio, threading, time\n\n\nasync def f(self):\n    time.sleep(1)\n    self.x = self.x + 1\n"
    )


def _time_one(path: str) -> Tuple[str, float, float, Optional[str], bool]:
    from conclint.engine.analysis import analyse_file
    from conclint.engine.parsing import run_with_deep_stack

    wall, cpu = time.perf_counter(), time.process_time()
    result = run_with_deep_stack(lambda: analyse_file(path))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    timed_out = any(f.code == "CCL001" and "file-timeout" in f.message for f in result.findings)
    return path, wall, cpu, result.internal_error, timed_out


def sweep_corpus(name: str, jobs: int) -> CorpusSweep:
    from conclint.engine.run import run

    tree = corpora.pristine(name)
    os.makedirs(corpora.WORK, exist_ok=True)
    config = os.path.join(corpora.WORK, f"{name}.sweep.toml")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(corpora.conclint_config(name))
    files = corpora.discovered(tree, config)
    version = corpora.RELEASES.get(name, "{}.{}.{}".format(*sys.version_info[:3]))
    log(f"[{name}] {len(files)} files: a whole run, --jobs {jobs}")
    relative = lambda path: os.path.relpath(path, tree)  # noqa: E731
    started = time.perf_counter()
    outcome = run([tree], corpora.settings_for(config), jobs=jobs)
    run_seconds = time.perf_counter() - started
    codes = collections.Counter(f.code for f in outcome.findings)
    sweep = CorpusSweep(
        name,
        version,
        len(files),
        corpora.count_lines(files),
        run_seconds,
        {relative(p): e for p, e in outcome.internal_errors.items()},
        {},
        dict(sorted(codes.items())),
    )
    log(
        f"[{name}] run: {run_seconds:.1f} s, {len(outcome.findings)} findings, {len(outcome.internal_errors)} "
        "internal errors; "
        "now every file in full, one at a time"
    )
    lines = {path: corpora.count_lines([path]) for path in files}
    del outcome
    # fresh workers ("spawn"): forked ones would inherit the whole run's objects, and their
    # garbage collections, walking that heap, would show up as seconds in some small file
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_warm_up, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        for path, wall, cpu, error, timed_out in pool.map(_time_one, files, chunksize=4):
            sweep.times.append(FileTime(name, relative(path), wall, cpu, lines[path], error, timed_out))
            if error:
                sweep.file_errors[relative(path)] = error
    return sweep


# --- generated programs -------------------------------------------------------------------------------------


@dataclass
class Generated:
    strategy: str
    examples: int = 0
    parse_errors: int = 0
    with_findings: int = 0
    slowest: float = 0.0
    internal_errors: List[Tuple[str, str]] = field(default_factory=list)  # (description, source)


def sweep_generated(strategy_name: str, examples: int, seed: int) -> Generated:
    import hypothesmith
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as fixed_seed

    from conclint.engine.analysis import analyse_file
    from conclint.engine.parsing import run_with_deep_stack
    from conclint.engine.run import run, run_rules
    from conclint.engine.settings import Settings

    strategy = hypothesmith.from_grammar() if strategy_name == "from_grammar" else hypothesmith.from_node()
    report = Generated(f"hypothesmith.{strategy_name}()")

    @fixed_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def check(source: str) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "generated.py")
            with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
                handle.write(source)
            settings_ = Settings(root=folder)
            started = time.perf_counter()
            outcome = run([path], settings_)  # as `conclint check` runs it: most get only a syntax check
            full = run_with_deep_stack(lambda: analyse_file(path))  # so each is analysed in full too
            ruled = run_rules([full], settings_, [folder], 1)
            report.slowest = max(report.slowest, time.perf_counter() - started)
        report.examples += 1
        errors = [
            *outcome.internal_errors.values(),
            *([full.internal_error] if full.internal_error else []),
            *ruled.internal_errors.values(),
        ]
        if errors:  # recorded, not raised: the whole budget runs, every failure is listed
            report.internal_errors.extend((error, source) for error in errors)
        elif any(f.code in ("CCL001", "CCL002") for f in outcome.findings):
            report.parse_errors += 1
        elif outcome.findings or ruled.findings:
            report.with_findings += 1

    log(f"[hypothesmith] {examples} programs from {report.strategy}")
    check()
    return report


# --- the report ------------------------------------------------------------------------------------------------


def table(header: List[str], rows: List[List[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def report(sweeps: List[CorpusSweep], generated: List[Generated], top: int) -> str:
    out = ["# conclint sweep", ""]
    errors = [(s.name, path, error) for s in sweeps for path, error in {**s.file_errors, **s.internal_errors}.items()]
    errors += [(g.strategy, "generated program", error) for g in generated for error, _ in g.internal_errors]
    out += [f"## Internal errors: {len(errors)}", ""]
    out += [f"- {corpus}: `{path}`: {error}" for corpus, path, error in errors] or ["None."]
    for g in generated:
        for error, source in g.internal_errors[:5]:
            out += ["", f"{g.strategy}: {error}", "", "```python", source.rstrip()[:2000], "```"]
    out += ["", "## Corpora", ""]
    out.append(
        table(
            [
                "corpus",
                "version",
                "files",
                "lines",
                "whole run (s)",
                "full analysis, CPU s: sum / median per file / max",
            ],
            [
                [
                    s.name,
                    s.version,
                    str(s.files),
                    f"{s.lines:,}",
                    f"{s.run_seconds:.1f}",
                    f"{sum(t.cpu for t in s.times):.0f} / {statistics.median([t.cpu for t in s.times]) * 1000:.0f} "
                    f"ms / {max(t.cpu for t in s.times):.1f}"
                    if s.times
                    else "–",
                ]
                for s in sweeps
            ],
        )
    )
    times = sorted((t for s in sweeps for t in s.times), key=lambda t: t.cpu, reverse=True)
    out += [
        "",
        f"## The {top} slowest files (each analysed in full on its own; CPU seconds rank them, the machine is shared)",
        "",
    ]
    out.append(
        table(
            ["corpus", "file", "lines", "CPU s", "wall s", "lines/s"],
            [
                [
                    t.corpus,
                    f"`{t.path}`",
                    f"{t.lines:,}",
                    f"{t.cpu:.2f}",
                    f"{t.wall:.2f}",
                    f"{t.lines / t.cpu:,.0f}" if t.cpu else "–",
                ]
                for t in times[:top]
            ],
        )
    )
    slow = [t for t in times if t.wall > SLOW_SECONDS or t.timed_out]
    out += [
        "",
        f"Files over {SLOW_SECONDS:.0f} s or stopped by the per-file time limit: "
        + (
            ", ".join(f"{t.corpus}:`{t.path}` ({t.wall:.1f} s{', timed out' if t.timed_out else ''})" for t in slow)
            or "none"
        )
        + ".",
    ]
    codes = sorted({code for s in sweeps for code in s.codes})
    out += ["", "## Findings per code", ""]
    out.append(
        table(
            ["code", *[s.name for s in sweeps]],
            [[code, *[str(s.codes.get(code, 0)) for s in sweeps]] for code in codes]
            + [["total", *[str(sum(s.codes.values())) for s in sweeps]]],
        )
    )
    if generated:
        out += ["", "## Generated programs (hypothesmith)", ""]
        out.append(
            table(
                [
                    "strategy",
                    "programs",
                    "with findings",
                    "parse errors (CCL001/CCL002)",
                    "internal errors",
                    "slowest (s)",
                ],
                [
                    [
                        g.strategy,
                        str(g.examples),
                        str(g.with_findings),
                        str(g.parse_errors),
                        str(len(g.internal_errors)),
                        f"{g.slowest:.2f}",
                    ]
                    for g in generated
                ],
            )
        )
    return "\n".join(out) + "\n"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Look for conclint's own failures on real projects and generated programs."
    )
    parser.add_argument(
        "--corpus", action="append", choices=ALL_CORPORA, help="a corpus to sweep (repeat; default: all)"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--hypothesis-examples", type=int, default=500, help="programs from hypothesmith.from_grammar() (0: none)"
    )
    parser.add_argument(
        "--node-examples", type=int, default=100, help="programs from hypothesmith.from_node(), slower to make"
    )
    parser.add_argument("--seed", type=int, default=20240601, help="hypothesis seed, so a sweep can be repeated")
    parser.add_argument("--top", type=int, default=10, help="how many of the slowest files to list")
    parser.add_argument("--output", help="also write the report to this file")
    args = parser.parse_args(argv)
    started = time.time()
    sweeps = [sweep_corpus(name, args.jobs) for name in (args.corpus or ALL_CORPORA)]
    generated = []
    if args.hypothesis_examples:
        generated.append(sweep_generated("from_grammar", args.hypothesis_examples, args.seed))
    if args.node_examples:
        generated.append(sweep_generated("from_node", args.node_examples, args.seed))
    import datetime
    import platform

    from conclint import __version__

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=corpora.REPO, capture_output=True, text=True
    ).stdout.strip()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = report(sweeps, generated, args.top) + (
        f"\nSwept in {(time.time() - started) / 60:.1f} min on {when}: conclint {__version__} (commit {commit}), "
        f"{platform.python_implementation()} {platform.python_version()}, --jobs {args.jobs}, hypothesis seed "
        f"{args.seed}.\n"
    )
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    internal = sum(len(s.internal_errors) + len(s.file_errors) for s in sweeps) + sum(
        len(g.internal_errors) for g in generated
    )
    return 1 if internal else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
