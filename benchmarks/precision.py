"""Precision corpora: conclint's findings on real projects nobody here tuned on, and their reviewed verdicts.

    python benchmarks/precision.py fetch [FAMILY ...]              # download and unpack the pins (once)
    python benchmarks/precision.py run [FAMILY ...] [--jobs N]     # findings -> benchmarks/precision/FAMILY.json
    python benchmarks/precision.py diff OLD.json NEW.json          # findings gone and new, counts per project
    python benchmarks/precision.py packet FAMILY [--sample N --seed S]   # a review packet (markdown)
    python benchmarks/precision.py record FAMILY VERDICTS.json --reviewer SESSION
    python benchmarks/precision.py table FAMILY                    # the table for PRECISION.md

The families and their pins are in ``precision_corpora.py``. Downloads go to ``$CONCLINT_CORPORA`` if set,
else ``benchmarks/.corpora/precision`` (git-ignored), so several checkouts can share them. conclint is the
one the running interpreter imports (``python -m conclint``), else the ``conclint`` on PATH: the script
measures the checkout it is run from.

A finding is matched across runs by its ``match`` key: project, code, path, the enclosing function and the
stripped text of its line (not the line number), so verdicts survive line moves and tool versions.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import hashlib
import importlib.util
import io
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import tokenize
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from precision_corpora import EXCLUDED, FAMILIES, Family, Pin

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "precision")
INPUT_ERRORS = "CCL0"  # CCL001/CCL002 (files conclint could not analyse): selected too, reported apart
VERDICTS = ("T", "D", "F")
# Wheels are fetched for one fixed target, so every checkout unpacks the same files whatever Python runs this.
WHEEL_TARGET = [
    "--only-binary",
    ":all:",
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
    "--abi",
    "abi3",
    "--abi",
    "none",
    "--platform",
    "manylinux_2_28_x86_64",
    "--platform",
    "manylinux_2_17_x86_64",
    "--platform",
    "manylinux2014_x86_64",
]
ID_PREFIX = {"threads": "thr", "fork": "frk", "loop": "loop", "blocking": "blk"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def corpora_root() -> str:
    """Where downloads and unpacked trees live: shared between checkouts through ``$CONCLINT_CORPORA``."""
    return os.path.abspath(os.environ.get("CONCLINT_CORPORA") or os.path.join(HERE, ".corpora", "precision"))


def families(names: Sequence[str]) -> List[Family]:
    """The families named (all of them when none is)."""
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise SystemExit(f"unknown family {', '.join(unknown)}: choose from {', '.join(FAMILIES)}")
    return [FAMILIES[n] for n in (names or FAMILIES)]


# --- fetching ---------------------------------------------------------------------------------------------------------


def slug(pin: Pin) -> str:
    return f"{pin.name.lower()}-{pin.version}-{pin.kind}"


def publish(staging: str, final: str) -> None:
    """Move a finished ``staging`` folder to ``final`` in one step, so that checkouts sharing the corpora never
    see a half-written one; if another got there first, its copy stays and ours goes."""
    if os.path.isdir(final) and not os.listdir(final):
        os.rmdir(final)
    try:
        os.rename(staging, final)
    except OSError:
        if not os.path.isdir(final):
            raise
        shutil.rmtree(staging, ignore_errors=True)


def download(pin: Pin) -> str:
    """The archive of ``pin``, downloaded once (``pip download --no-deps``) into its own folder."""
    folder = os.path.join(corpora_root(), "downloads", slug(pin))
    if os.path.isdir(folder) and len(os.listdir(folder)) == 1:
        return os.path.join(folder, os.listdir(folder)[0])
    log(f"fetching {pin.name}=={pin.version} ({pin.kind})")
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".fetch-", dir=os.path.dirname(folder))  # beside it: one filesystem
    kind_args = WHEEL_TARGET if pin.kind == "wheel" else ["--no-binary", ":all:"]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--ignore-requires-python", *kind_args]
    done = subprocess.run([*command, f"{pin.name}=={pin.version}", "-d", staging], capture_output=True, text=True)
    got = os.listdir(staging)
    if done.returncode != 0 or len(got) != 1:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"could not download {pin.name}=={pin.version} ({pin.kind}): {done.stderr.strip()[-800:]}")
    publish(staging, folder)
    return os.path.join(folder, os.listdir(folder)[0])


def unpack(pin: Pin, archive: str) -> str:
    """Unpack ``archive`` once into its own folder (tar members through the ``data`` filter); the folder."""
    target = os.path.join(corpora_root(), "src", slug(pin))
    marker = os.path.join(target, ".unpacked")
    if os.path.exists(marker):
        return target
    if not hasattr(tarfile, "data_filter") and not archive.endswith((".whl", ".zip")):
        raise SystemExit("unpacking sdists safely needs a Python with tarfile's data filter (3.9.17, 3.10.12, 3.11.4)")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".unpack-", dir=os.path.dirname(target))
    if archive.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as bundle:  # zipfile drops absolute and ".." parts of member names
            bundle.extractall(staging)
    else:
        with tarfile.open(archive) as bundle:
            bundle.extractall(staging, filter="data")
    with open(os.path.join(staging, ".unpacked"), "w", encoding="utf-8") as handle:
        handle.write(os.path.basename(archive) + "\n")
    if os.path.isdir(target) and not os.path.exists(marker):
        shutil.rmtree(target, ignore_errors=True)  # left half-unpacked by an interrupted run
    publish(staging, target)
    return target


def project_root(unpacked: str) -> str:
    """The folder conclint checks: an sdist's single top folder, or the unpacked wheel itself."""
    tops = [e for e in os.listdir(unpacked) if not e.startswith(".")]
    if len(tops) == 1 and os.path.isdir(os.path.join(unpacked, tops[0])):
        return os.path.join(unpacked, tops[0])
    return unpacked


@dataclass
class Fetched:
    pin: Pin
    archive: str = ""
    root: str = ""
    error: str = ""


def fetch(pins: Iterable[Pin]) -> List[Fetched]:
    """Download and unpack every pin; one that fails is reported, not fatal."""
    fetched = []
    for pin in pins:
        try:
            archive = download(pin)
            fetched.append(Fetched(pin, archive, project_root(unpack(pin, archive))))
        except (RuntimeError, OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            log(f"  {exc}")
            fetched.append(Fetched(pin, error=str(exc)))
    return fetched


def fetch_command(args: argparse.Namespace) -> int:
    """``fetch``: download and unpack, then list what is there with its size."""
    failed = 0
    for family in families(args.family):
        print(f"\n{family.name}: {len(family.pins)} projects in {corpora_root()}")
        print("| project | version | kind | archive | MB |")
        print("|---|---|---|---|---|")
        total = 0
        for item in fetch(family.pins):
            if item.error:
                failed += 1
                print(f"| {item.pin.name} | {item.pin.version} | {item.pin.kind} | FAILED | |")
                continue
            size = os.path.getsize(item.archive)
            total += size
            print(
                f"| {item.pin.name} | {item.pin.version} | {item.pin.kind} | {os.path.basename(item.archive)} | "
                f"{size / 1e6:.1f} |"
            )
        print(f"total {total / 1e6:.1f} MB")
    return 1 if failed else 0


# --- running conclint -------------------------------------------------------------------------------------------------


def conclint_command() -> List[str]:
    """``python -m conclint`` of this interpreter if it has conclint, else the ``conclint`` on PATH."""
    if importlib.util.find_spec("conclint") is not None:
        return [sys.executable, "-m", "conclint"]
    script = shutil.which("conclint")
    if script is None:
        raise SystemExit("conclint is neither importable here nor on PATH: pip install -e . first")
    return [script]


def conclint_identity(command: List[str]) -> Dict[str, str]:
    """conclint's version, and the git commit of the checkout this interpreter imports it from (``-dirty`` when
    it has local changes; empty for a ``conclint`` found on PATH)."""
    version = subprocess.run([*command, "--version"], capture_output=True, text=True).stdout.strip()
    spec = importlib.util.find_spec("conclint")
    commit = ""
    if command[0] == sys.executable and spec is not None and spec.origin:
        package = os.path.dirname(spec.origin)
        head = subprocess.run(["git", "-C", package, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "-C", package, "status", "--porcelain", "--", "."], capture_output=True, text=True
        )
        commit = head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    return {"version": version, "commit": commit}


def write_config() -> str:
    """The configuration every run uses: tests, docs and examples excluded; .gitignore files not read (the
    trees lie in a git-ignored folder, and a project's .gitignore says nothing about what it ships). Named by
    its content, so checkouts sharing the corpora with other excludes never change each other's."""
    text = f"extend-exclude = {json.dumps(EXCLUDED)}\nrespect-gitignore = false\n"
    path = os.path.join(corpora_root(), f"precision-{hashlib.sha1(text.encode()).hexdigest()[:8]}.conclint.toml")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, staging = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".toml")
        with os.fdopen(handle, "w", encoding="utf-8") as config:
            config.write(text)
        os.replace(staging, path)
    return path


@dataclass
class ProjectRun:
    name: str
    version: str
    kind: str
    archive: str
    seconds: float = 0.0
    exit_code: Optional[int] = None
    error: str = ""  # why the run failed (exit 2, timeout, unreadable output, failed download)
    findings: List[Dict[str, Any]] = field(default_factory=list, repr=False)
    input_errors: List[Dict[str, Any]] = field(default_factory=list)


def run_conclint(command: List[str], root: str, select: str, config: str, jobs: int, timeout: float):
    """One ``conclint check`` over ``root`` (run from it, so paths in messages are the project's own);
    returns (exit code or None on timeout, stdout, stderr). A run that times out is killed with its workers."""
    args = [*command, "check", ".", "--select", select, "--output-format", "json", "--no-cache"]
    args += ["--config", config, "--jobs", str(jobs)]
    process = subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None, b"", b""
    return process.returncode, out, err


def run_project(item: Fetched, family: Family, command: List[str], config: str, jobs: int, timeout: float):
    """conclint on one project: its findings as records, or why it failed."""
    pin = item.pin
    run = ProjectRun(pin.name, pin.version, pin.kind, os.path.basename(item.archive))
    if item.error:
        run.error = f"not fetched: {item.error}"
        return run
    select = ",".join((*family.select, INPUT_ERRORS))
    started = time.monotonic()
    code, out, err = run_conclint(command, item.root, select, config, jobs, timeout)
    run.seconds = round(time.monotonic() - started, 1)
    run.exit_code = code
    if code is None:
        run.error = f"timed out after {timeout:.0f} s"
    elif code not in (0, 1):
        run.error = f"exit {code}: {err.decode(errors='replace').strip()[-1500:]}"
    else:
        try:
            raw = json.loads(out.decode("utf-8", errors="replace") or "[]")
        except ValueError as exc:
            run.error = f"unreadable JSON output: {exc}"
            return run
        records = finding_records(pin, item.root, raw)
        run.findings = [r for r in records if not r["code"].startswith(INPUT_ERRORS)]
        run.input_errors = [r for r in records if r["code"].startswith(INPUT_ERRORS)]
    log(f"  {pin.name} {pin.version}: {run.error or f'{len(run.findings)} findings'} ({run.seconds} s)")
    return run


# --- findings as records with match keys ------------------------------------------------------------------------------

_SCOPE = re.compile(r"^(\s*)(?:async\s+def|def|class)\s+(\w+)")


def statement_rows(text: str) -> Optional[Set[int]]:
    """The rows where a statement starts (not a continuation line, not inside a string); None if the text
    does not tokenize."""
    rows: Set[int] = set()
    at_start = True
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NEWLINE:
                at_start = True
            elif token.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT) and at_start:
                rows.add(token.start[0])
                at_start = False
    except (tokenize.TokenError, SyntaxError):
        return None
    return rows


@dataclass
class Source:
    lines: List[str]
    statements: Optional[Set[int]]  # statement_rows() of the file

    def scope(self, row: int) -> str:
        """``Class.method`` around line ``row`` (1-based), read from indentation: cheap, and stable across line
        moves. Walking up, every statement indented less than the current block opens the block around it (an
        ``if``, a ``with``, a ``def``); the ``def`` and ``class`` lines among them name the scope."""
        names = []
        depth = 1 << 30
        for number in range(min(row, len(self.lines)), 0, -1):
            text = self.lines[number - 1]
            stripped = text.lstrip()
            indent = len(text) - len(stripped)
            if not stripped or indent >= depth or (self.statements is not None and number not in self.statements):
                continue
            found = _SCOPE.match(text)
            if found:
                names.append(found.group(2))
            depth = indent
            if depth == 0:
                break
        return ".".join(reversed(names))

    def text(self, row: int) -> str:
        return self.lines[row - 1].strip() if 0 < row <= len(self.lines) else ""


class Sources:
    """The files findings point into, read and tokenized once each."""

    def __init__(self) -> None:
        self._files: Dict[str, Source] = {}

    def __call__(self, path: str) -> Source:
        if path not in self._files:
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                text = ""
            self._files[path] = Source(text.splitlines(), statement_rows(text))
        return self._files[path]


def relative(path: str, root: str) -> str:
    """``path`` relative to the project root when it lies inside it (absolute otherwise), with ``/``."""
    full = os.path.normpath(os.path.join(root, path))
    inside = os.path.relpath(full, root)
    return (full if inside.startswith(os.pardir) else inside).replace(os.sep, "/")


def subject(message: str) -> str:
    """What a message is about: its first `quoted` name (the state, or the call), to tell apart findings of one
    line (two globals changed by one statement)."""
    found = re.search(r"`([^`]+)`", message)
    return found.group(1) if found else ""


def finding_records(pin: Pin, root: str, raw: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """conclint's JSON findings as this benchmark's records, sorted, each with its ``match`` key."""
    sources = Sources()
    records = []
    for finding in raw:
        path = relative(finding["filename"], root)
        row, col = finding["location"]["row"], finding["location"]["column"]
        source = sources(os.path.join(root, path))
        related = [
            {
                "message": r.get("message", ""),
                "path": relative(r["filename"], root),
                "row": r["location"]["row"],
                "col": r["location"]["column"],
            }
            for r in finding.get("related") or []
        ]
        records.append(
            {
                "project": pin.name,
                "version": pin.version,
                "code": finding["code"],
                "path": path,
                "row": row,
                "col": col,
                "function": source.scope(row),
                "text": source.text(row),
                "message": finding["message"],
                "related": related,
            }
        )
    records.sort(key=lambda r: (r["path"], r["row"], r["col"], r["code"], r["message"]))
    assign_match_keys(records)
    return records


def assign_match_keys(records: List[Dict[str, Any]]) -> None:
    """Give each record its ``match`` key: project, code, path, function and line text. Records that would
    share one get the subject of their message added, then ``#2``, ``#3`` if that is not enough."""
    bases = [" | ".join((r["project"], r["code"], r["path"], r["function"], r["text"])) for r in records]
    shared = {base for base, count in collections.Counter(bases).items() if count > 1}
    keys = [f"{base} | {subject(r['message'])}" if base in shared else base for base, r in zip(bases, records)]
    seen: Dict[str, int] = collections.Counter()
    for record, key in zip(records, keys):
        seen[key] += 1
        record["match"] = key if seen[key] == 1 else f"{key} | #{seen[key]}"


def finding_id(family: str, match: str) -> str:
    """A short id derived from the match key, so it stays the same for an unchanged finding."""
    return f"{ID_PREFIX.get(family, family)}-{hashlib.sha1(match.encode()).hexdigest()[:8]}"


def results_path(family: str, suffix: str = "") -> str:
    return os.path.join(RESULTS, f"{family}{suffix}.json")


def write_json(path: str, data: Any) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, ensure_ascii=False, sort_keys=isinstance(data, dict))
        handle.write("\n")


def read_json(path: str, default: Any = None) -> Any:
    """The JSON in ``path``; ``default`` if given and there is no such file; a one-line exit if it is unreadable."""
    if default is not None and not os.path.exists(path):
        return default
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{path}: {exc}") from None


def run_family(family: Family, jobs: int, conclint_jobs: int, timeout: float) -> Dict[str, Any]:
    """Fetch and check every project of ``family``; write ``FAMILY.json`` (the findings) and ``FAMILY-run.json``
    (how the run went: versions, times, failures, files conclint could not analyse)."""
    command = conclint_command()
    config = write_config()
    log(f"{family.name}: {len(family.pins)} projects, --select {','.join(family.select)}")
    fetched = fetch(family.pins)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = list(pool.map(lambda item: run_project(item, family, command, config, conclint_jobs, timeout), fetched))
    seconds = round(time.monotonic() - started, 1)
    findings = [f for run in runs for f in run.findings]
    write_json(results_path(family.name), findings)
    summary = {
        "family": family.name,
        "select": list(family.select),
        "excluded": EXCLUDED,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "conclint": conclint_identity(command),
        "python": platform.python_version(),
        "jobs": jobs,
        "conclint_jobs": conclint_jobs,
        "seconds": seconds,
        "findings": len(findings),
        "per_code": dict(sorted(collections.Counter(f["code"] for f in findings).items())),
        "failed": [{"project": r.name, "error": r.error} for r in runs if r.error],
        "projects": [
            {k: v for k, v in asdict(r).items() if k != "findings"} | {"findings": len(r.findings)} for r in runs
        ],
    }
    write_json(results_path(family.name, "-run"), summary)
    return summary


def run_command(args: argparse.Namespace) -> int:
    """``run``: check each family, print its counts, exit 1 if a project failed."""
    failed = 0
    for family in families(args.family):
        summary = run_family(family, args.jobs, args.conclint_jobs, args.timeout)
        failed += len(summary["failed"])
        print(
            f"\n{family.name}: {summary['findings']} findings in {summary['seconds']} s "
            f"({len(family.pins)} projects) -> {os.path.relpath(results_path(family.name))}"
        )
        for code, count in summary["per_code"].items():
            print(f"  {code}: {count}")
        for problem in summary["failed"]:
            print(f"  FAILED {problem['project']}: {problem['error']}")
        for project in summary["projects"]:
            for error in project["input_errors"]:
                print(f"  {error['code']} {project['name']}/{error['path']}:{error['row']}: {error['message']}")
    return 1 if failed else 0


# --- diff -------------------------------------------------------------------------------------------------------------


def describe(record: Dict[str, Any]) -> str:
    where = f"{record['project']} {record['path']}:{record['row']}"
    return f"{record['code']} {where} in {record['function'] or '<module>'}: {record['text']}"


def diff_command(args: argparse.Namespace) -> int:
    """``diff``: the findings gone and the new ones (by match key), and the count per project and code."""
    old = {r["match"]: r for r in read_json(args.old)}
    new = {r["match"]: r for r in read_json(args.new)}
    gone = [old[k] for k in old if k not in new]
    added = [new[k] for k in new if k not in old]
    print(f"{len(old)} -> {len(new)} findings: {len(gone)} gone, {len(added)} new, {len(old) - len(gone)} kept\n")
    for title, records in (("gone", gone), ("new", added)):
        print(f"## {title} ({len(records)})")
        for record in records:
            print(f"- {describe(record)}")
        print()
    before = collections.Counter((r["project"], r["code"]) for r in old.values())
    after = collections.Counter((r["project"], r["code"]) for r in new.values())
    print("| project | code | old | new |")
    print("|---|---|---|---|")
    for project, code in sorted(set(before) | set(after)):
        was, now = before[(project, code)], after[(project, code)]
        print(f"| {project} | {code} | {was} | {now}{' (changed)' if was != now else ''} |")
    for code in sorted({code for _, code in set(before) | set(after)}):
        was = sum(n for (_, c), n in before.items() if c == code)
        now = sum(n for (_, c), n in after.items() if c == code)
        print(f"| **all** | {code} | {was} | {now} |")
    return 0


# --- verdicts: packets, recording, tables -----------------------------------------------------------------------------


def verdicts_path(family: str) -> str:
    return os.path.join(RESULTS, f"verdicts-{family}.json")


def locate(family: Family) -> Dict[Tuple[str, str], str]:
    """Each project's unpacked root, by (name, version), for the absolute paths a reviewer opens."""
    return {(p.name, p.version): project_root(os.path.join(corpora_root(), "src", slug(p))) for p in family.pins}


def packet_entry(family: Family, record: Dict[str, Any], root: str) -> List[str]:
    """One finding in a packet: its id, what it says, and every place a reviewer must open."""

    def absolute(path: str) -> str:
        return path if os.path.isabs(path) else os.path.join(root, path)

    lines = [
        f"### {finding_id(family.name, record['match'])}: {record['code']} in {record['project']} {record['version']}",
        "",
        f"- open: `{absolute(record['path'])}:{record['row']}` (col {record['col']}), in "
        f"`{record['function'] or '<module>'}`: `{record['text']}`",
        f"- message: {record['message']}",
    ]
    for related in record["related"]:
        lines.append(f"- related: `{absolute(related['path'])}:{related['row']}`: {related['message']}")
    lines.append(f"- match: `{record['match']}`")
    return [*lines, ""]


def packet_command(args: argparse.Namespace) -> int:
    """``packet``: the findings without a verdict yet (or a seeded sample of them) for independent reviewers."""
    family = families([args.family])[0]
    findings = read_json(results_path(family.name))
    judged = read_json(verdicts_path(family.name), {})
    reviewed = sum(r["match"] in judged for r in findings)
    todo = [r for r in findings if args.include_reviewed or r["match"] not in judged]
    if args.sample and args.sample < len(todo):
        chosen = set(random.Random(args.seed).sample(range(len(todo)), args.sample))
        todo = [r for i, r in enumerate(todo) if i in chosen]
    roots = locate(family)
    missing = sorted({r["project"] for r in todo if not os.path.isdir(roots[(r["project"], r["version"])])})
    if missing:
        raise SystemExit(f"not unpacked here: {', '.join(missing)}; run `precision.py fetch {family.name}` first")
    chosen = f"a sample of {len(todo)} (seed {args.seed})" if args.sample else f"all {len(todo)}"
    text = [
        f"# Review packet: {family.title} ({', '.join(family.select)}), issue {family.issue}",
        "",
        f"{len(findings)} findings on {len(family.pins)} projects in `benchmarks/precision/{family.name}.json`; "
        f"{reviewed} have a verdict. This packet: {chosen} of those "
        f"{'(reviewed ones included)' if args.include_reviewed else 'without one'}.",
        "",
        "Read the cited code, its callers and what the related locations point at, in the unpacked trees (absolute",
        "paths below; tests, docs and examples were not checked). Do not run it. Judge each finding on its own.",
        "",
        "## Verdicts",
        "",
        family.verdicts,
        "## How to answer",
        "",
        "A JSON list, one object per finding: "
        '`{"id": "...", "verdict": "T" | "D" | "F", "reason": "what in the code decides it, with file:line"}`'
        + (', plus `"cost": "right" | "wrong"`' if family.name == "blocking" else "")
        + f". It is recorded with `python benchmarks/precision.py record {family.name} FILE --reviewer SESSION`.",
        "",
        "## Findings",
        "",
    ]
    for record in todo:
        text += packet_entry(family, record, roots[(record["project"], record["version"])])
    output = args.output or os.path.join(corpora_root(), "packets", f"{family.name}-{args.seed}-{len(todo)}.md")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w", encoding="utf-8") as handle:
        handle.write("\n".join(text))
    print(output)
    return 0


def record_command(args: argparse.Namespace) -> int:
    """``record``: add reviewers' verdicts (by finding id) to ``verdicts-FAMILY.json``, keyed by match key."""
    family = families([args.family])[0]
    by_id = {finding_id(family.name, r["match"]): r for r in read_json(results_path(family.name))}
    judged = read_json(verdicts_path(family.name), {})
    answers = read_json(args.answers)
    if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
        raise SystemExit(f"{args.answers}: expected a JSON list of objects with id, verdict and reason")
    problems = []
    for answer in answers:
        record = by_id.get(answer.get("id", ""))
        verdict = str(answer.get("verdict", "")).upper()
        if record is None or verdict not in VERDICTS or answer.get("cost", "right") not in ("right", "wrong"):
            why = "unknown id" if record is None else f"verdict {verdict!r}, cost {answer.get('cost')!r}"
            problems.append(f"{answer.get('id')}: {why}")
            continue
        entry = {"id": answer["id"], "verdict": verdict, "reason": answer.get("reason", ""), "reviewer": args.reviewer}
        entry.update({k: record[k] for k in ("project", "version", "code", "path", "row")})
        if "cost" in answer:
            entry["cost"] = answer["cost"]
        judged[record["match"]] = entry
    write_json(verdicts_path(family.name), judged)
    print(f"{len(answers) - len(problems)} verdicts recorded in {os.path.relpath(verdicts_path(family.name))}")
    for problem in problems:
        print(f"  skipped {problem}")
    return 1 if problems else 0


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "–"


def table_command(args: argparse.Namespace) -> int:
    """``table``: per code, the findings, how many have a verdict, and the verdicts, as markdown."""
    family = families([args.family])[0]
    findings = read_json(results_path(family.name))
    judged = read_json(verdicts_path(family.name), {})
    codes = sorted({r["code"] for r in findings})
    print("| code | findings | reviewed | T | D | F | % T | % F |")
    print("|---|---|---|---|---|---|---|---|")
    for code in [*codes, "all"]:
        mine = [r for r in findings if code in ("all", r["code"])]
        verdicts = collections.Counter(judged[r["match"]]["verdict"] for r in mine if r["match"] in judged)
        reviewed = sum(verdicts.values())
        name = "**all**" if code == "all" else code
        print(
            f"| {name} | {len(mine)} | {reviewed} | {verdicts['T']} | {verdicts['D']} | {verdicts['F']} | "
            f"{percent(verdicts['T'], reviewed)} | {percent(verdicts['F'], reviewed)} |"
        )
    current = {r["match"] for r in findings}
    costs = collections.Counter(v["cost"] for k, v in judged.items() if k in current and "cost" in v)
    if costs:
        print(f"\nCost class right on {costs['right']} of {sum(costs.values())} judged.")
    stale = len(set(judged) - current)
    if stale:
        print(f"\n{stale} recorded verdicts are for findings the latest run no longer has (kept in the file).")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fetching = sub.add_parser("fetch", help="download and unpack the pinned projects")
    fetching.add_argument("family", nargs="*", help=f"families (default: all): {', '.join(FAMILIES)}")
    running = sub.add_parser("run", help="run conclint on each project of the families")
    running.add_argument("family", nargs="*", help=f"families (default: all): {', '.join(FAMILIES)}")
    running.add_argument("--jobs", type=int, default=1, help="projects checked at once (default 1)")
    running.add_argument("--conclint-jobs", type=int, default=2, help="conclint's own --jobs (default 2)")
    running.add_argument("--timeout", type=float, default=1800, help="seconds one project may take (default 1800)")
    diffing = sub.add_parser("diff", help="findings gone and new between two runs")
    diffing.add_argument("old")
    diffing.add_argument("new")
    packet = sub.add_parser("packet", help="write a review packet (markdown)")
    packet.add_argument("family", choices=sorted(FAMILIES))
    packet.add_argument("--sample", type=int, default=0, help="a seeded sample of this many findings")
    packet.add_argument("--seed", type=int, default=2026)
    packet.add_argument("--include-reviewed", action="store_true", help="also findings that have a verdict")
    packet.add_argument("--output", help="where to write it (default: CORPORA/packets/FAMILY-SEED-N.md)")
    recording = sub.add_parser("record", help="record reviewers' verdicts")
    recording.add_argument("family", choices=sorted(FAMILIES))
    recording.add_argument("answers", help='a JSON list of {"id", "verdict", "reason"[, "cost"]}')
    recording.add_argument("--reviewer", required=True, help="who reviewed (a session name)")
    table = sub.add_parser("table", help="the verdict table per code, for PRECISION.md")
    table.add_argument("family", choices=sorted(FAMILIES))
    args = parser.parse_args(argv)
    commands = {
        "fetch": fetch_command,
        "run": run_command,
        "diff": diff_command,
        "packet": packet_command,
        "record": record_command,
        "table": table_command,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
