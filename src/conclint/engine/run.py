"""One run: discover files, analyse each once, run the enabled rules, filter what is shown."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import traceback
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Pattern, Sequence, Tuple

from conclint.engine.analysis import FAIL_ON_ENV, FILE_RESULT_CODEC, FileResult, analyse_file, file_size, size_refusal
from conclint.engine.cache import Cache, digest
from conclint.engine.codec import Codec
from conclint.engine.demand import declared_paths, reached_paths, trigger_pattern
from conclint.engine.deployment import COMMAND_FILES, GUNICORN_CONFIGS
from conclint.engine.discovery import discover
from conclint.engine.findings import Finding
from conclint.engine.limits import Limits
from conclint.engine.modules import ModuleIndex
from conclint.engine.parsing import run_with_deep_stack
from conclint.engine.project import Project
from conclint.engine.selection import PerFileIgnores, enabled_codes, is_enabled, suppressed_by_noqa
from conclint.engine.settings import Settings
from conclint.engine.source import read_regular_file
from conclint.engine.workers import Workers, gc_paused
from conclint.rules import ALL_RULES
from conclint.rules.base import Rule


@dataclass
class RunResult:
    findings: List[Finding] = field(default_factory=list)
    files_checked: int = 0
    internal_errors: Dict[str, str] = field(default_factory=dict)  # path -> one-line description
    reused: str = ""  # "" (computed), "same files" or "equivalent files": answered from the cache


RUN_RESULT_CODEC = Codec(RunResult)
INDEX_CODEC = Codec(Dict[str, Tuple[str, str]])  # path -> (its file key, its first-round component)


def analyse_files(
    paths: Sequence[str],
    jobs: int = 1,
    triggers: Optional[Pattern[str]] = None,
    timeout: Optional[float] = None,
    limits: Optional[Limits] = None,
) -> List[FileResult]:
    with Workers(jobs, limits) as workers:
        return workers.analyse(paths, triggers, timeout)


def _cached_analysis(
    paths: Sequence[str],
    workers: Workers,
    triggers,
    cache: Optional[Cache],
    contents,
    timeout: Optional[float],
    sources: Optional[Dict[str, bytes]] = None,
) -> List[FileResult]:
    """Analyse ``paths``; those in ``sources`` (an editor's buffer, stdin) from the bytes given, in
    this process and never cached: the file on disk, if any, is not what was analysed."""
    given = {
        path: run_with_deep_stack(lambda path=path: analyse_file(path, triggers, timeout, data=sources[path]))
        for path in paths
        if sources and path in sources
    }
    on_disk = [path for path in paths if path not in given]
    found = dict(zip(on_disk, _cached_disk_analysis(on_disk, workers, triggers, cache, contents, timeout)))
    return [given[path] if path in given else found[path] for path in paths]


def _cached_disk_analysis(
    paths: Sequence[str], workers: Workers, triggers, cache: Optional[Cache], contents, timeout: Optional[float]
) -> List[FileResult]:
    """Analyse ``paths``, reusing the cached result of every file whose bytes did not change
    (``contents``: each file's bytes as ``bytes_tag`` gave them, read at the start of the run)."""
    if cache is None:
        return workers.analyse(paths, triggers, timeout)
    keys = {
        path: file_key(path, triggers, timeout, contents[path])
        for path in paths
        if contents.get(path, UNREADABLE) != UNREADABLE
    }
    found = {path: cache.load("files", key, FILE_RESULT_CODEC) for path, key in keys.items()}
    # an entry of another file (a crafted or mixed-up cache) is not this file's result
    found = {path: result for path, result in found.items() if result is not None and result.path == path}
    missing = [path for path in paths if path not in found]
    for result in workers.analyse(missing, triggers, timeout) if missing else ():
        found[result.path] = result
        unreadable = any(f.code == "CCL002" for f in result.findings)  # it changed under us: do not remember it
        final = result.internal_error is None and not unreadable and not result.stopped
        if result.path in keys and final:
            cache.store("files", keys[result.path], result, FILE_RESULT_CODEC)
    return [found[path] for path in paths]


@dataclass
class Analysis:
    results: List[FileResult]  # in the order of the files
    project: Project  # over the analysed modules, with its model already built
    first_round: Dict[str, FileResult]  # what the first round (trigger words decide) made of each file


def analyse(
    files: Sequence[str],
    settings: Settings,
    jobs: int = 1,
    cache: Optional[Cache] = None,
    contents=None,
    folders: Sequence[str] = (),
    sources: Optional[Dict[str, bytes]] = None,
) -> Analysis:
    """Analyse what can matter (see engine/demand.py): the files that hold entry points or
    hazards, then, round by round, the files their facts reach. The last round's project
    (and its model) is the one the rules query."""
    contents = contents if contents is not None else {}
    limits = Limits.of(settings)
    timeout = limits.timeout
    index = ModuleIndex(files)
    # too large: reported from its size alone, whatever the cache holds (a limit lowered since must hold)
    results: Dict[str, FileResult] = _size_refusals(files, limits, sources)
    with Workers(jobs, limits) as workers:
        wanted = [path for path in files if path not in results]
        for result in _cached_analysis(wanted, workers, trigger_pattern(settings), cache, contents, timeout, sources):
            results[result.path] = result
        first_round = dict(results)
        while True:
            done = {path for path, result in results.items() if not result.light}
            ordered = [results[path] for path in files]
            analysed = [r.facts for r in ordered if r.facts is not None]
            project = Project(analysed, settings, folders)
            # the model types receivers in place, the same way every time: building it again is safe
            model = project.model
            running = (
                set(model.contexts.by_function)
                | set(model.calls.reachable_from(model.entries.request_handlers))
                | set(model.threads.reaches)
            )
            reached = reached_paths(analysed, index, done, running) + declared_paths(index, settings.thread_safe, done)
            pending = [path for path in dict.fromkeys(reached) if path in results]
            if not pending:
                return Analysis(ordered, project, first_round)
            for result in _cached_analysis(pending, workers, None, cache, contents, timeout, sources):
                results[result.path] = result


def _size_refusals(files: Sequence[str], limits: Limits, sources: Optional[Dict[str, bytes]]) -> Dict[str, FileResult]:
    """The files over max-file-size (by ``stat``, or the length of their given source), each with its CCL001:
    final for these settings (a run's key holds them), so a run with such a file is cached like any other."""
    refusals = {}
    for path in files:
        refused = size_refusal(path, file_size(path, (sources or {}).get(path)), limits.max_file_size)
        if refused is not None:
            refusals[path] = dataclasses.replace(refused, stopped=False)
    return refusals


def analyse_project(
    files: Sequence[str], settings: Settings, jobs: int = 1, cache: Optional[Cache] = None, contents=None
) -> List[FileResult]:
    return analyse(files, settings, jobs, cache, contents).results


def _read_bytes(path: str) -> Optional[bytes]:
    try:
        return read_regular_file(path)
    except OSError:  # a FIFO or device is not read: it could wait forever
        return None


def _context_key(paths: Sequence[str], settings: Settings, folders: Sequence[str]) -> str:
    """What a run's findings depend on besides the files: the settings, the deployment files
    beside them (prefork evidence), the working directory (messages), the paths asked for."""
    deployment = []
    for folder in {os.path.abspath(settings.root), *map(os.path.abspath, folders)}:
        for name in (*GUNICORN_CONFIGS, *COMMAND_FILES):
            candidate = os.path.join(folder, name)
            deployment.append((candidate, _read_bytes(candidate)))
    return digest(os.getcwd(), list(paths), repr(settings), sorted(deployment, key=lambda d: d[0]))


UNREADABLE = ("unreadable",)


def _contents_tag(path: str, max_size: Optional[float]) -> Tuple[str, ...]:
    """``bytes_tag`` of the file; for one over ``max_size``, its size (it is never read: the run
    depends on nothing else of it)."""
    size = file_size(path)
    if max_size and size is not None and size > max_size:
        return ("size", str(size))
    return bytes_tag(_read_bytes(path))


def bytes_tag(data: Optional[bytes]) -> Tuple[str, ...]:
    """A file's bytes for a key (a digest: the run need not keep every file's bytes); an
    unreadable file is neither an empty one nor one holding `None`."""
    return UNREADABLE if data is None else ("bytes", hashlib.sha256(data).hexdigest())


def file_key(path: str, triggers: Optional[Pattern[str]], timeout: Optional[float], tag: Tuple[str, ...]) -> str:
    """The cache key of one file's analysis: its path, bytes (``bytes_tag``), the trigger words and the time limit."""
    return digest(path, triggers.pattern if triggers is not None else None, timeout, tag)


def _run_key(context: str, files: Sequence[str], contents) -> str:
    """The run over exactly these bytes."""
    return digest(context, *[(path, contents[path]) for path in files])


class _Equivalence:
    """Recognises a run whose files changed only in ways the rules cannot see.

    A run's findings are a function of what the first round of analysis made of every file
    (the full result of each file that holds a trigger word, the bytes of each other one, from
    which anything that reaches it later is computed) plus the run's context. The digests of
    those first-round results are kept per file; an edit that leaves a file's result the same
    (a comment, a docstring, spacing within a line) then finds the last run's findings again
    after re-analysing only that file.
    """

    MAX_CHANGED = 16  # more changed files than that: the full run costs about the same

    def __init__(self, cache: Cache, context: str, files: Sequence[str], contents, settings: Settings) -> None:
        self.cache = cache
        self.files = files
        self.triggers = trigger_pattern(settings)
        self.limits = Limits.of(settings)
        self.timeout = self.limits.timeout
        self.keys = {path: file_key(path, self.triggers, self.timeout, contents[path]) for path in files}
        self.index_key = digest("index", context, list(files))
        self.context = context
        self.contents = contents

    def key(self, components: Dict[str, str]) -> str:
        return digest("equivalent", self.context, *[(path, components[path]) for path in self.files])

    def known_key(self) -> Optional[str]:
        """The key of this run's equivalence class, when few enough files changed since the last run."""
        index = self.cache.load("index", self.index_key, INDEX_CODEC)
        if index is None:
            return None
        components = {path: index[path][1] for path in self.files if index.get(path, (None,))[0] == self.keys[path]}
        changed = [path for path in self.files if path not in components]
        if len(changed) > self.MAX_CHANGED:
            return None
        with Workers(1, self.limits) as workers:
            for result in _cached_analysis(changed, workers, self.triggers, self.cache, self.contents, self.timeout):
                components[result.path] = self.component(result)
        return self.key(components)

    def component(self, first_round: FileResult) -> str:
        if first_round.light or first_round.digest is None:
            return self.keys[first_round.path]  # its bytes decide
        return first_round.digest

    def remember(self, components: Dict[str, str]) -> str:
        index = {path: (self.keys[path], components[path]) for path in self.files}
        self.cache.store("index", self.index_key, index, INDEX_CODEC)
        return self.key(components)


def _apply_rules(project: Project, rules: Sequence[Rule], outcome: RunResult) -> List[Finding]:
    found: List[Finding] = []
    for facts in project.modules():
        for rule in rules:
            try:
                found.extend(rule.check(project, facts))
            except Exception as exc:  # a rule's bug costs one module, not the run
                outcome.internal_errors.setdefault(facts.path, f"{rule.code}: {type(exc).__name__}: {exc}")
                if os.environ.get("CONCLINT_DEBUG"):
                    traceback.print_exc()
    return found


def raw_findings(
    results: Sequence[FileResult],
    settings: Settings,
    folders: Sequence[str],
    outcome: RunResult,
    project: Optional[Project] = None,
) -> List[Finding]:
    """Every finding of the enabled rules over these analysed files, before per-file ignores and `# noqa`.

    Internal errors land in ``outcome``. ``project``: one already built over these results.
    """
    select = [*settings.select, *settings.extend_select]
    active_rules = [rule() for rule in ALL_RULES if rule.code in enabled_codes([rule.code], select, settings.ignore)]
    if project is None:
        project = Project([r.facts for r in results if r.facts is not None], settings, folders)
    raw: List[Finding] = []
    for result in results:
        raw.extend(result.findings)
        if result.internal_error:
            outcome.internal_errors[result.path] = result.internal_error
    raw.extend(run_with_deep_stack(lambda: _apply_rules(project, active_rules, outcome)))
    return raw


def run(
    paths: Sequence[str],
    settings: Settings,
    jobs: int = 1,
    cache_dir: Optional[str] = None,
    project_root: Optional[str] = None,
    sources: Optional[Dict[str, bytes]] = None,
    apply_noqa: bool = True,
) -> RunResult:
    """Check ``paths``. With ``cache_dir``, reuse what earlier runs computed (see engine/cache.py).

    With ``project_root``, every file of the project is analysed with them (from the cache when
    unchanged), so a hazard reaching into a module not named is found; only the findings in
    ``paths`` are reported. ``sources``: file bytes to analyse instead of what is on disk (stdin,
    an editor's buffer); such a run is not cached. ``apply_noqa=False`` leaves `# noqa` to the
    caller (the flake8 plugin: flake8 applies its own, and `--disable-noqa`).
    """
    with gc_paused():
        reported = discover(paths or ["."], settings)
        if project_root is None:
            return _run(paths, reported, settings, jobs, cache_dir, [], sources, apply_noqa)
        named = {os.path.realpath(path) for path in reported}  # a file named through a symlink is not indexed twice
        indexed = [path for path in discover([project_root], settings) if os.path.realpath(path) not in named]
        files = sorted({*reported, *indexed})
        outcome = _run([project_root], files, settings, jobs, cache_dir, [project_root], sources, apply_noqa)
        return only_in(outcome, reported) if files != reported else outcome


def only_in(outcome: RunResult, paths: Sequence[str]) -> RunResult:
    """The part of a run's outcome located in ``paths``."""
    wanted = set(paths)
    return dataclasses.replace(
        outcome,
        findings=[f for f in outcome.findings if f.path in wanted],
        files_checked=len(wanted),
        internal_errors={path: error for path, error in outcome.internal_errors.items() if path in wanted},
    )


def _run(
    paths: Sequence[str],
    files: List[str],
    settings: Settings,
    jobs: int,
    cache_dir: Optional[str],
    folders: List[str],
    sources: Optional[Dict[str, bytes]],
    apply_noqa: bool,
) -> RunResult:
    folders = [*folders, *(path for path in (paths or ["."]) if os.path.isdir(path))]
    cache = Cache(cache_dir) if cache_dir and not os.environ.get(FAIL_ON_ENV) else None
    if cache is None:
        analysis = analyse(files, settings, jobs, None, {}, folders, sources)
        return run_rules(analysis.results, settings, folders, len(files), analysis.project, apply_noqa)
    max_size = Limits.of(settings).max_file_size
    contents = {path: _contents_tag(path, max_size) for path in files if not (sources and path in sources)}
    if sources:  # the files on disk come from the cache; the run as a whole is not cached
        analysis = analyse(files, settings, jobs, cache, contents, folders, sources)
        return run_rules(analysis.results, settings, folders, len(files), analysis.project, apply_noqa)
    context = _context_key(paths, settings, folders) + ("" if apply_noqa else " without noqa")
    run_key = _run_key(context, files, contents)
    previous = cache.load("runs", run_key, RUN_RESULT_CODEC)
    if previous is not None:
        return dataclasses.replace(previous, reused="same files")
    equivalence = _Equivalence(cache, context, files, contents, settings)
    equivalent_key = equivalence.known_key()
    previous = cache.load("runs", equivalent_key, RUN_RESULT_CODEC) if equivalent_key else None
    if previous is not None:
        cache.store("runs", run_key, previous, RUN_RESULT_CODEC)
        return dataclasses.replace(previous, reused="equivalent files")
    analysis = analyse(files, settings, jobs, cache, contents, folders)
    outcome = run_rules(analysis.results, settings, folders, len(files), analysis.project, apply_noqa)
    stopped = any(result.stopped for result in (*analysis.results, *analysis.first_round.values()))
    if not outcome.internal_errors and not stopped:  # a stopped file's CCL001 is not the run's final answer
        cache.store("runs", run_key, outcome, RUN_RESULT_CODEC)
        components = {path: equivalence.component(result) for path, result in analysis.first_round.items()}
        cache.store("runs", equivalence.remember(components), outcome, RUN_RESULT_CODEC)
    return outcome


def run_rules(
    results: Sequence[FileResult],
    settings: Settings,
    folders: Sequence[str],
    files_checked: int,
    project: Optional[Project] = None,
    apply_noqa: bool = True,
) -> RunResult:
    """The rules over analysed files, then selection, per-file ignores and ``# noqa``."""
    outcome = RunResult(files_checked=files_checked)
    select = [*settings.select, *settings.extend_select]
    raw = raw_findings(results, settings, folders, outcome, project)
    noqa_by_path = {r.path: r.noqa for r in results}
    per_file = PerFileIgnores(settings.per_file_ignores, settings.root)
    ignored_by_path: Dict[str, List[str]] = {}
    for finding in raw:
        if not is_enabled(finding.code, select, settings.ignore):
            continue
        if finding.path not in ignored_by_path:
            ignored_by_path[finding.path] = per_file.ignored_codes(finding.path)
        if any(finding.code.startswith(code) for code in ignored_by_path[finding.path]):
            continue
        if apply_noqa and suppressed_by_noqa(finding.code, finding.span.row, noqa_by_path.get(finding.path, {})):
            continue
        outcome.findings.append(finding)
    outcome.findings.sort(key=Finding.sort_key)
    return outcome


def check_source(text: str, path: str = "snippet.py", overrides: Optional[Dict[str, object]] = None) -> List[Finding]:
    """Analyse one in-memory snippet (rule examples and tests) through the same pipeline.

    ``overrides`` are `[tool.conclint]` keys (``{"blocking-calls": {...}}``).
    """
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        file_path = os.path.join(folder, path)
        with open(file_path, "w", encoding="utf-8") as handle:
            handle.write(text)
        settings = Settings(root=folder)
        for key, value in (overrides or {}).items():
            setattr(settings, key.replace("-", "_"), value)
        return run([file_path], settings).findings
