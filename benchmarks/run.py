"""Time conclint against flake8-async, ruff and a bare libcst parse on real projects.

    python benchmarks/run.py                 # every corpus, 5 rounds (an hour or more on 2 cores)
    python benchmarks/run.py --quick         # stdlib + sqlalchemy, 3 rounds, flake8 on a sample
    python benchmarks/run.py --corpus trio --corpus gunicorn --rounds 3 --chart

See benchmarks/README.md for what each column means. Writes benchmarks/RESULTS.md and
benchmarks/results.json (and benchmarks/ratios.png with --chart, when matplotlib imports).
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpora
from corpora import ALL_CORPORA, HERE, REPO, STDLIB, Corpus, log

QUICK_CORPORA = [STDLIB, "sqlalchemy"]
MEASURES = ["cold", "warm", "touch", "edit", "parse", "ruff", "flake8"]
LABELS = {
    "cold": "conclint cold",
    "warm": "conclint warm",
    "touch": "conclint, 1 file touched",
    "edit": "conclint, 1 file's code edited",
    "parse": "libcst parse only",
    "ruff": "ruff --select ASYNC",
    "flake8": "flake8 --select ASYNC",
}
TARGETS = {"flake8_ratio": 10.0, "warm_s": 1.0, "touch_s": 2.0, "memory_mb": 400.0}
POLL_SECONDS = 0.05


# --- measuring one command ---------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    returncode: int
    max_rss_mb: float  # the largest single process of the tree (the kernel's count, exact)
    tree_pss_mb: float  # the whole tree's proportional set size at its sampled peak
    tree_rss_mb: float  # the whole tree's resident sets summed (counts shared pages twice)
    output: str = ""
    cpu_seconds: Optional[float] = None  # user + system of the whole tree (0 in results written before)


# the columns of the wall-clock and CPU-time tables, one per measurement
MEASURE_COLUMNS = (
    "corpus",
    "conclint cold",
    "warm",
    "1 file touched",
    "1 file's code edited",
    "first run, empty cache",
    "libcst parse only",
    "flake8 --select ASYNC",
    "ruff --select ASYNC",
)


def _children(pid: int) -> List[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(c) for c in handle.read().split())
        except OSError:
            pass
    return found


def _memory_kb(pid: int) -> Tuple[int, int]:
    """(PSS, RSS) of one process in kB, from smaps_rollup (0, 0 once it is gone)."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return pss, rss


class TreeSampler(threading.Thread):
    """Polls the memory of a process and all its descendants until told to stop."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = threading.Event()
        self.peak_pss_kb = 0
        self.peak_rss_kb = 0

    def run(self) -> None:
        while not self.stop.is_set():
            pids, pending = [], [self.pid]
            while pending:
                pid = pending.pop()
                pids.append(pid)
                pending.extend(_children(pid))
            pss = rss = 0
            for pid in pids:
                p, r = _memory_kb(pid)
                pss, rss = pss + p, rss + r
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            self.stop.wait(POLL_SECONDS)


def measure(command: Sequence[str], cwd: str) -> Sample:
    """One run of ``command``: its wall time, its CPU time and its memory.

    The CPU time is that of the whole process tree (conclint and its workers, waited for when
    the pool shuts down), from ``RUSAGE_CHILDREN`` before and after: on a shared machine, wall
    time also counts the other sessions' work, CPU time much less so.
    """
    with tempfile.TemporaryFile() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        sampler = TreeSampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        sampler.stop.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return Sample(
        seconds=seconds,
        returncode=process.returncode,
        max_rss_mb=usage.ru_maxrss / 1024,  # kB on Linux
        tree_pss_mb=sampler.peak_pss_kb / 1024,
        tree_rss_mb=sampler.peak_rss_kb / 1024,
        output=text,
        cpu_seconds=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
    )


# --- one corpus ----------------------------------------------------------------------------------------


@dataclass
class CorpusResult:
    name: str
    version: str
    files: int
    lines: int
    touched: str
    flake8_files: int
    flake8_lines: int
    samples: Dict[str, List[Sample]] = field(default_factory=dict)
    first_cached_run: Optional[Sample] = None
    findings_line: str = ""
    problems: List[str] = field(default_factory=list)


def touch_target(corpus: Corpus, chosen: Optional[str] = None) -> str:
    """The file to edit: ``chosen`` (relative to the corpus), else a big but ordinary module
    that conclint analyses in full: the 90th percentile by size of the files whose text holds
    a trigger word (the largest is often a data file, such as the stdlib's pydoc topics)."""
    from conclint.engine.demand import trigger_pattern

    if chosen:
        path = os.path.join(corpus.tree, chosen)
        if path not in corpus.files:
            raise SystemExit(f"--touch {chosen}: not one of the files conclint checks in {corpus.name}")
        return path
    triggers = trigger_pattern(corpus_settings(corpus))
    sized = []
    for path in corpus.files:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        if triggers.search(data.decode("utf-8", "replace")):
            sized.append((len(data), path))
    if not sized:
        return corpus.files[0]
    sized.sort()
    return sized[min(len(sized) - 1, int(len(sized) * 0.9))][1]


def corpus_settings(corpus: Corpus):
    return corpora.settings_for(corpus.config)


def flake8_sample(corpus: Corpus, fraction: float) -> List[str]:
    """Every k-th file of the sorted list (a deterministic, evenly spread sample), less the
    files flake8 cannot check (corpora.FLAKE8_SKIP)."""
    skip = {os.path.join(corpus.tree, path) for path in corpora.FLAKE8_SKIP.get(corpus.name, [])}
    step = 1 if fraction >= 1 else max(1, round(1 / fraction))
    return [path for path in corpus.files[::step] if path not in skip]


def first_difference(before: str, after: str) -> str:
    """The first lines that differ (removed, added), each cut short."""
    removed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:2] in ("- ", "+ ")]
    return "; ".join(f"`` {line[:2]}{line[2:300]} ``" for line in removed[:2])


def summary_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith(("Found ", "All checks passed"))]
    return lines[-1] if lines else ""


def run_corpus(name: str, args, conclint: str) -> CorpusResult:
    log(f"[{name}] preparing the working copy")
    corpus = corpora.prepare(name)
    rel = lambda paths: [os.path.relpath(p, corpus.tree) for p in paths]  # noqa: E731 - shorter command lines
    touched = touch_target(corpus, (args.touch or {}).get(name))
    sample = flake8_sample(corpus, args.flake8_sample)
    result = CorpusResult(
        name,
        corpus.version,
        len(corpus.files),
        corpus.lines,
        os.path.relpath(touched, corpus.tree),
        len(sample),
        corpora.count_lines(sample),
    )
    log(f"[{name}] {result.files} files, {result.lines} lines; touching {result.touched}")
    list_file = os.path.join(corpora.WORK, f"{name}.files.txt")
    with open(list_file, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write("".join(p + "\n" for p in corpus.files))

    jobs = ["--jobs", str(args.jobs)]
    check = [conclint, "check", ".", *corpora.conclint_args(corpus), *jobs]
    commands = {
        "cold": [*check, "--no-cache"],
        "warm": [*check, "--cache-dir", corpus.cache_dir],
        "touch": [*check, "--cache-dir", corpus.cache_dir],
        "edit": [*check, "--cache-dir", corpus.cache_dir],
        "parse": [sys.executable, os.path.join(HERE, "parse_libcst.py"), list_file, *jobs],
        "ruff": [
            corpora.peer_bin("ruff"),
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "ASYNC",
            "--exit-zero",
            *rel(corpus.files),
        ],
        # flake8's own default for --jobs ("auto": the CPU count)
        "flake8": [corpora.peer_bin("flake8"), "--isolated", "--select", "ASYNC", "--exit-zero", *rel(sample)],
    }
    measures = [m for m in MEASURES if m not in args.skip]

    log(f"[{name}] first run with an empty cache")
    result.first_cached_run = measure(commands["warm"], corpus.tree)
    reference = result.first_cached_run.output
    result.findings_line = summary_line(reference)
    with open(touched, "rb") as handle:
        original = handle.read()
    stat = os.stat(touched)

    for round_number in range(args.rounds):
        for key in measures:
            if key == "flake8" and round_number >= args.flake8_rounds:
                continue
            if key in ("touch", "edit"):
                nonce = f"{round_number}_{time.time_ns()}"  # new bytes each round: no cached run can match
                # touch: a comment (the rules see the same file); edit: a new function (they do not)
                added = (
                    f"# touched by the benchmark {nonce}\n"
                    if key == "touch"
                    else f"\n\ndef _edited_by_the_benchmark_{nonce}():\n    return {round_number}\n"
                )
                with open(touched, "ab") as handle:
                    handle.write((b"" if original.endswith(b"\n") or not original else b"\n") + added.encode())
            try:
                sample_ = measure(commands[key], corpus.tree)
            finally:
                if key in ("touch", "edit"):
                    with open(touched, "wb") as handle:
                        handle.write(original)
                    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            result.samples.setdefault(key, []).append(sample_)
            log(
                f"[{name}] round {round_number + 1}/{args.rounds} {LABELS[key]}: {sample_.seconds:.2f} s, "
                f"peak {sample_.tree_pss_mb:.0f} MB (rc {sample_.returncode})"
            )
            if key in ("cold", "warm", "touch", "edit"):
                if sample_.returncode not in (0, 1):
                    result.problems.append(f"{LABELS[key]} exited {sample_.returncode}: {sample_.output[-500:]}")
                elif sample_.output != reference:
                    result.problems.append(
                        f"{LABELS[key]} (round {round_number + 1}) printed other findings than the first run: "
                        + first_difference(reference, sample_.output)
                    )
            elif key == "parse" and not sample_.output.startswith("parsed "):
                result.problems.append(f"the libcst parse failed: {sample_.output[-500:]}")
            elif key in ("ruff", "flake8") and sample_.returncode != 0:
                result.problems.append(f"{LABELS[key]} exited {sample_.returncode}: {sample_.output[-500:]}")
            sample_.output = sample_.output[-300:] if key == "parse" else ""  # keep the JSON small
    result.first_cached_run.output = ""
    return result


# --- reporting -------------------------------------------------------------------------------------------


def median(samples: List[Sample], attribute: str = "seconds") -> Optional[float]:
    values = [getattr(s, attribute) for s in samples if getattr(s, attribute) is not None]
    return statistics.median(values) if values else None


def cpu_spread(samples: List[Sample]) -> str:
    return spread(samples, "cpu_seconds")


def corpus_medians(result: CorpusResult) -> Dict[str, Optional[float]]:
    out = {key: median(result.samples.get(key, [])) for key in MEASURES}
    out.update({f"{key}_cpu": median(result.samples.get(key, []), "cpu_seconds") for key in MEASURES})
    if out["flake8"] is not None and result.flake8_lines and result.flake8_lines < result.lines:
        out["flake8_measured"] = out["flake8"]
        out["flake8"] = out["flake8"] * result.lines / result.flake8_lines  # scaled by lines
        if out["flake8_cpu"] is not None:
            out["flake8_cpu"] = out["flake8_cpu"] * result.lines / result.flake8_lines
    conclint_runs = [s for key in ("cold", "warm", "touch", "edit") for s in result.samples.get(key, [])]
    conclint_runs += [result.first_cached_run] if result.first_cached_run else []
    out["memory_mb"] = max((s.tree_pss_mb for s in conclint_runs), default=None)
    out["memory_rss_sum_mb"] = max((s.tree_rss_mb for s in conclint_runs), default=None)
    out["max_process_rss_mb"] = max((s.max_rss_mb for s in conclint_runs), default=None)
    return out


def seconds(value: Optional[float]) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def spread(samples: List[Sample], attribute: str = "seconds") -> str:
    values = [getattr(s, attribute) for s in samples if getattr(s, attribute) is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{seconds(values[0])} (1 run)"
    return f"{seconds(statistics.median(values))} ({seconds(min(values))}–{seconds(max(values))})"


def ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    return numerator / denominator if numerator is not None and denominator else None


def times_text(value: Optional[float]) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}×" if value >= 1 else f"{value:.2f}×" if value >= 0.1 else f"{value:.3f}×"


def machine() -> Dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            models = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        cpu = models[0] if models else cpu
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
    }


def load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def conclint_default_jobs(conclint: str) -> str:
    """What `conclint check --help` says --jobs defaults to."""
    text = subprocess.run([conclint, "check", "--help"], capture_output=True, text=True).stdout
    match = re.search(
        r"--jobs N\s+processes to analyse files with\s*(?:\(default:\s*([^)]*)\))?", " ".join(text.split())
    )
    return (match.group(1) or "1") if match else "?"


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=REPO, capture_output=True, text=True)
    return done.stdout.strip() + (" + uncommitted changes in src/" if dirty.stdout.strip() else "")


def src_state() -> str:
    """What conclint's source is: src/'s tree in HEAD and any uncommitted change to it."""
    tree = subprocess.run(["git", "rev-parse", "HEAD:src"], cwd=REPO, capture_output=True, text=True).stdout
    diff = subprocess.run(["git", "diff", "HEAD", "--", "src"], cwd=REPO, capture_output=True, text=True).stdout
    return tree + diff


def targets(results: List[CorpusResult]) -> List[List[str]]:
    rows = []
    for result in results:
        m = corpus_medians(result)
        flake8 = ratio(m["flake8"], m["cold"])
        rows.append(
            [
                f"cold ≥ {TARGETS['flake8_ratio']:.0f}× faster than flake8 --select ASYNC",
                result.name,
                times_text(flake8),
                verdict(flake8 is not None and flake8 >= TARGETS["flake8_ratio"], flake8),
            ]
        )
        rows.append(
            [
                "cold < libcst parse of every file (same processes)",
                result.name,
                f"{seconds(m['cold'])} s vs {seconds(m['parse'])} s",
                verdict(m["cold"] is not None and m["parse"] is not None and m["cold"] < m["parse"], m["parse"]),
            ]
        )
        if result.name == STDLIB:
            rows.append(
                [
                    f"warm, nothing changed < {TARGETS['warm_s']:.0f} s",
                    result.name,
                    f"{seconds(m['warm'])} s",
                    verdict(m["warm"] is not None and m["warm"] < TARGETS["warm_s"], m["warm"]),
                ]
            )
            rows.append(
                [
                    f"warm, one file touched < {TARGETS['touch_s']:.0f} s",
                    result.name,
                    f"{seconds(m['touch'])} s",
                    verdict(m["touch"] is not None and m["touch"] < TARGETS["touch_s"], m["touch"]),
                ]
            )
            rows.append(
                [
                    f"(not a target) warm, one file's code edited, vs {TARGETS['touch_s']:.0f} s",
                    result.name,
                    f"{seconds(m['edit'])} s",
                    "info" if m["edit"] is None or m["edit"] >= TARGETS["touch_s"] else "under",
                ]
            )
        rows.append(
            [
                f"peak memory of the whole run < {TARGETS['memory_mb']:.0f} MB",
                result.name,
                f"{m['memory_mb']:.0f} MB" if m["memory_mb"] is not None else "–",
                verdict(m["memory_mb"] is not None and m["memory_mb"] < TARGETS["memory_mb"], m["memory_mb"]),
            ]
        )
    return rows


def verdict(met: bool, value) -> str:
    return "not measured" if value is None else "met" if met else "**missed**"


def table(header: List[str], rows: List[List[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results: List[CorpusResult], meta: Dict) -> str:
    m = meta["machine"]
    out = [
        "# Benchmark results",
        "",
        f"Written by `python benchmarks/run.py {' '.join(meta['argv'])}` on {meta['date']}; see README.md in this "
        "folder.",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; {m['os']}; {m['python']}.",
        f"- Load average (1 / 5 / 15 min) at start {meta['load_start']}, at end {meta['load_end']}: "
        "other work shared the machine, so each time is the median of several rounds (min–max in brackets).",
        f"- conclint {meta['conclint_version']} (commit {meta['commit']}) with `--jobs {meta['jobs']}` "
        f"(its own default: {meta.get('conclint_default_jobs', '?')}); {meta['flake8_version']}, with flake8's "
        "default `--jobs` (auto: the CPU count); "
        f"{meta['ruff_version']}. The libcst parse uses {meta['jobs']} processes too.",
        f"- Rounds: {meta['rounds']} ({meta['flake8_rounds']} for flake8). Whole benchmark: "
        f"{meta['wall_minutes']:.1f} min.",
        "",
        "## Corpora",
        "",
        table(
            ["corpus", "version", "files", "lines", "file touched", "conclint's findings"],
            [
                [
                    r.name,
                    r.version,
                    str(r.files),
                    f"{r.lines:,}",
                    f"`{r.touched}`",
                    r.findings_line.replace("Found ", ""),
                ]
                for r in results
            ],
        ),
        "",
        "Every tool checks the same files: those conclint discovers in a copy of the corpus (flake8 and ruff get them "
        "by name, with `--isolated`). The touched file is a big but ordinary module conclint analyses in full "
        "(the 90th percentile by size of those whose text holds a trigger word); each round appends a new comment "
        "line to it, runs, and restores it.",
        "",
        "## Times (seconds, wall clock: median (min–max))",
        "",
    ]
    rows, notes = [], []
    for r in results:
        md = corpus_medians(r)
        flake8 = spread(r.samples.get("flake8", []))
        if "flake8_measured" in md:
            flake8 = (
                f"≈ {seconds(md['flake8'])} (scaled from {r.flake8_files} files, {r.flake8_lines:,} lines: {flake8})"
            )
            skipped = corpora.FLAKE8_SKIP.get(r.name, [])
            notes.extend(
                f"- {r.name}: flake8 --select ASYNC aborts the whole run on `{path}` (a RecursionError in "
                "flake8-async), "
                "so flake8 checks the other files and its time is scaled by lines."
                for path in skipped
            )
        rows.append(
            [
                r.name,
                spread(r.samples.get("cold", [])),
                spread(r.samples.get("warm", [])),
                spread(r.samples.get("touch", [])),
                spread(r.samples.get("edit", [])),
                seconds(r.first_cached_run.seconds) if r.first_cached_run else "–",
                spread(r.samples.get("parse", [])),
                flake8,
                spread(r.samples.get("ruff", [])),
            ]
        )
    out.append(
        table(
            list(MEASURE_COLUMNS),
            rows,
        )
    )
    out += ["", *notes] if notes else []
    out += [
        "",
        "## CPU time (seconds of the whole process tree: median (min–max))",
        "",
        "User plus system time of the command and every process it starts (conclint's workers, flake8's), "
        "from `getrusage(RUSAGE_CHILDREN)` around each run: on a shared machine the wall clock also counts "
        "the waits for other work, CPU time much less. flake8's is scaled by lines like its wall time.",
        "",
    ]
    rows = []
    for r in results:
        md = corpus_medians(r)
        first = r.first_cached_run
        rows.append(
            [
                r.name,
                *(cpu_spread(r.samples.get(key, [])) for key in ("cold", "warm", "touch", "edit")),
                seconds(first.cpu_seconds) if first and first.cpu_seconds is not None else "–",
                cpu_spread(r.samples.get("parse", [])),
                seconds(md["flake8_cpu"]) if "flake8_measured" in md else cpu_spread(r.samples.get("flake8", [])),
                cpu_spread(r.samples.get("ruff", [])),
                times_text(ratio(md["parse_cpu"], md["cold_cpu"])),
            ]
        )
    out.append(
        table(
            [*MEASURE_COLUMNS, "libcst parse ÷ conclint cold"],
            rows,
        )
    )
    out += ["", "## Throughput, ratios, memory", ""]
    rows = []
    for r in results:
        md = corpus_medians(r)
        rows.append(
            [
                r.name,
                f"{r.lines / md['cold']:,.0f}" if md["cold"] else "–",
                times_text(ratio(md["flake8"], md["cold"])),
                times_text(ratio(md["ruff"], md["cold"])),
                times_text(ratio(md["parse"], md["cold"])),
                f"{md['memory_mb']:.0f}" if md["memory_mb"] is not None else "–",
                f"{md['memory_rss_sum_mb']:.0f}" if md["memory_rss_sum_mb"] is not None else "–",
                f"{md['max_process_rss_mb']:.0f}" if md["max_process_rss_mb"] is not None else "–",
            ]
        )
    out.append(
        table(
            [
                "corpus",
                "cold lines/s",
                "flake8 ÷ conclint",
                "ruff ÷ conclint",
                "libcst parse ÷ conclint",
                "peak MB (tree PSS)",
                "peak MB (tree RSS sum)",
                "largest process RSS MB",
            ],
            rows,
        )
    )
    out += [
        "",
        "A ratio above 1× means conclint (cold) is faster. Peak memory covers every conclint run of the corpus "
        "(cold, warm, touched, first): the whole process tree (main process and workers) sampled every "
        f"{POLL_SECONDS * 1000:.0f} ms; "
        "PSS shares the pages forked workers share with their parent, the RSS sum counts them in each; "
        "the largest process's RSS is the kernel's exact peak (getrusage).",
        "",
        "## Targets",
        "",
        table(["target", "corpus", "measured", "verdict"], targets(results)),
    ]
    problems = [line for r in results for line in grouped_problems(r)]
    out += ["", "## Problems seen during the run", ""] + (
        problems or ["None: every conclint run printed the same findings, no tool failed."]
    )
    if meta.get("chart"):
        out += ["", f"![ratios]({meta['chart']})"]
    return "\n".join(out) + "\n"


DIFFERENT = re.compile(
    r"^(?P<label>.*) \(round (?P<round>\d+)\) printed other findings than the first run: (?P<diff>.*)$", re.S
)
DIFF_LINE = re.compile(r"``? ?([-+] .*?) ?``?(?:; |$)")


def grouped_problems(result: CorpusResult) -> List[str]:
    """One entry per distinct problem: "cold (rounds 1, 3)", the differing lines in a code block."""
    groups: Dict[Tuple[str, str], List[str]] = {}
    lines = []
    for problem in result.problems:
        match = DIFFERENT.match(problem)
        if match is None:
            lines += [f"- {result.name}: {problem.splitlines()[0]}", "", "```", *problem.splitlines()[1:], "```", ""]
            continue
        groups.setdefault((match["label"], match["diff"]), []).append(match["round"])
    for (label, diff), rounds in groups.items():
        lines += [
            f"- {result.name}: {label} (round{'s' if len(rounds) > 1 else ''} {', '.join(rounds)}) printed other "
            "findings "
            "than the first run (first differing lines, cut short):",
            "",
            "```diff",
            *DIFF_LINE.findall(diff),
            "```",
            "",
        ]
    return lines


def draw_chart(data: Dict, path: str) -> Optional[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("--chart: matplotlib does not import in this Python; no chart drawn")
        return None
    names = [c["name"] for c in data["corpora"]]
    series = [("flake8 ÷ conclint", "flake8"), ("libcst parse ÷ conclint", "parse"), ("ruff ÷ conclint", "ruff")]
    figure, axes = plt.subplots(figsize=(max(6, 1.6 * len(names) + 2), 4.5))
    width = 0.8 / len(series)
    for i, (label, key) in enumerate(series):
        values = [ratio(c["medians"][key], c["medians"]["cold"]) or 0 for c in data["corpora"]]
        bars = axes.bar([x + (i - 1) * width for x in range(len(names))], values, width, label=label)
        axes.bar_label(bars, labels=[times_text(v) if v else "" for v in values], fontsize=7)
    axes.axhline(1, color="black", linewidth=0.8)
    axes.axhline(TARGETS["flake8_ratio"], color="grey", linestyle="--", linewidth=0.8, label="10× (target vs flake8)")
    axes.set_yscale("log")
    axes.set_xticks(range(len(names)), names)
    axes.set_ylabel("other tool's time ÷ conclint cold (log)")
    axes.set_title(f"conclint --jobs {data['meta']['jobs']}, cold: above 1× it is faster")
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    log(f"chart written to {path}")
    return path


def to_json(results: List[CorpusResult], meta: Dict) -> Dict:
    return {
        "meta": meta,
        "corpora": [{**asdict(r), "medians": corpus_medians(r)} for r in results],
    }


def from_json(data: Dict) -> List[CorpusResult]:
    results = []
    for corpus in data["corpora"]:
        fields = {k: v for k, v in corpus.items() if k != "medians"}
        fields["samples"] = {key: [Sample(**s) for s in samples] for key, samples in fields["samples"].items()}
        if fields["first_cached_run"]:
            fields["first_cached_run"] = Sample(**fields["first_cached_run"])
        results.append(CorpusResult(**fields))
    return results


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark conclint against flake8-async, ruff and a bare libcst parse."
    )
    parser.add_argument(
        "--corpus",
        action="append",
        choices=ALL_CORPORA,
        help="a corpus to run (repeat; default: all, or stdlib and sqlalchemy with --quick)",
    )
    parser.add_argument(
        "--rounds", type=int, help="rounds per measurement; the median is reported (default 5, --quick 3)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="stdlib + sqlalchemy, 3 rounds, flake8 once on a quarter of the files (scaled by lines)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="conclint --jobs and the parse pool (default: the CPU count)",
    )
    parser.add_argument(
        "--flake8-sample",
        type=float,
        help="fraction of the files flake8 checks, its time scaled by lines (default 1, --quick 0.25)",
    )
    parser.add_argument("--flake8-rounds", type=int, help="rounds for flake8, minutes a corpus on 2 cores (default 1)")
    parser.add_argument(
        "--skip", action="append", default=[], choices=MEASURES, help="leave a measurement out (repeat)"
    )
    parser.add_argument(
        "--touch",
        action="append",
        default=[],
        metavar="CORPUS=PATH",
        help="the file the touched run edits, relative to the corpus (default: see README)",
    )
    parser.add_argument("--chart", action="store_true", help="also draw benchmarks/ratios.png (needs matplotlib)")
    parser.add_argument(
        "--chart-from",
        metavar="JSON",
        help="only draw the chart from an earlier results.json, and rewrite the report with it",
    )
    parser.add_argument(
        "--output",
        default=os.path.join(HERE, "RESULTS.md"),
        help="the markdown report (default benchmarks/RESULTS.md); results.json and ratios.png go beside it",
    )
    args = parser.parse_args(argv)
    if args.chart_from:  # needs matplotlib, not conclint: any Python that has it will do
        with open(args.chart_from, encoding="utf-8") as handle:
            data = json.load(handle)
        if not draw_chart(data, os.path.join(os.path.dirname(os.path.abspath(args.output)), "ratios.png")):
            return 1
        data["meta"]["chart"] = "ratios.png"
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(markdown(from_json(data), data["meta"]))
        log(f"rewrote {args.output} with the chart")
        return 0
    args.touch = dict(item.split("=", 1) for item in args.touch)
    args.corpus = args.corpus or (QUICK_CORPORA if args.quick else ALL_CORPORA)
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.flake8_sample = args.flake8_sample or (0.25 if args.quick else 1.0)
    args.flake8_rounds = args.flake8_rounds or 1

    started = time.time()
    load_start = load_average()
    commit_start, src_start = git_commit(), src_state()
    corpora.ensure_peers()
    conclint = corpora.conclint_script()
    from conclint import __version__

    results = [run_corpus(name, args, conclint) for name in args.corpus]
    meta = {
        "argv": list(argv),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": load_start,
        "load_end": load_average(),
        "conclint_version": __version__,
        "conclint_default_jobs": conclint_default_jobs(conclint),
        "commit": commit_start
        if src_state() == src_start
        else f"{commit_start}, then {git_commit()} before the end (src/ changed during the run)",
        "jobs": args.jobs,
        "rounds": args.rounds,
        "flake8_rounds": args.flake8_rounds,
        "flake8_version": "flake8 " + corpora.peer_version("flake8"),
        "ruff_version": corpora.peer_version("ruff"),
        "wall_minutes": (time.time() - started) / 60,
    }
    data = to_json(results, meta)
    folder = os.path.dirname(os.path.abspath(args.output))  # results.json and ratios.png go beside the report
    if args.chart and draw_chart(data, os.path.join(folder, "ratios.png")):
        meta["chart"] = "ratios.png"
    with open(os.path.join(folder, "results.json"), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(markdown(results, meta))
    log(f"wrote {args.output} ({meta['wall_minutes']:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
