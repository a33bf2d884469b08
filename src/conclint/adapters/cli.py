"""The `conclint` command, modelled on `ruff check`."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from conclint import __version__
from conclint.adapters.output import FORMATTERS, HUMAN_FORMATS, format_statistics
from conclint.adapters.report import ReportContext, color_wanted, display_path, plural, severity
from conclint.engine.cache import default_cache_dir
from conclint.engine.config_files import ConfigResolver
from conclint.engine.discovery import discover, walk_excludes
from conclint.engine.findings import Finding
from conclint.engine.fixes import edits_by_path, fixed_text, unified_diff
from conclint.engine.run import RunResult, run
from conclint.engine.settings import SETTINGS, ConfigError, Settings, check_codes
from conclint.engine.source import SourceError, SourceText, read_source
from conclint.rules import ALL_RULES, RULES_BY_CODE
from conclint.rules.base import _toml as toml_value

FIXABLE_CODES = ("CCL201",)  # the rules whose findings carry a safe fix

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 128 + 2  # killed by SIGINT, as shells report it
REPORT_HINT = "conclint: this is a bug in conclint; please report it with the file that triggers it"


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str):
        raise UsageError(message)


def _codes(value: str) -> List[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: '{value}'") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="conclint", description="Find concurrency hazards in Python code.")
    parser.add_argument("--version", action="version", version=f"conclint {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    check = commands.add_parser("check", help="check files and directories for concurrency hazards")
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or directories (default: .); `-` reads the source from stdin"
    )
    check.add_argument("--select", type=_codes, help="comma-separated codes or prefixes to enable")
    check.add_argument("--extend-select", type=_codes, help="codes or prefixes to enable on top of select")
    check.add_argument("--ignore", type=_codes, help="codes or prefixes to disable")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--fix", action="store_true", help="apply safe fixes, then report what remains")
    check.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    check.add_argument(
        "--show-fixes", action="store_true", help="list the fixes --fix applied; without --fix, mark fixable findings"
    )
    check.add_argument(
        "--add-noqa", action="store_true", help="add `# noqa: CODE` to every line with a finding, and exit 0"
    )
    check.add_argument("--statistics", action="store_true", help="print the count of findings per code")
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
    check.add_argument(
        "--output-format",
        choices=sorted(FORMATTERS),
        default="text",
        help="text (= concise) lines, the source with related places (full), by file (grouped), ruff-compatible "
        "JSON or JSON lines, SARIF 2.1.0, GitHub annotations, GitLab code quality, JUnit XML, pylint lines",
    )
    check.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text formats (auto: on a terminal, unless NO_COLOR is set)",
    )
    check.add_argument("-o", "--output-file", metavar="PATH", help="write the report to this file")
    check.add_argument(
        "--config", metavar="PATH", help="one configuration for every file: a pyproject.toml or a conclint.toml"
    )
    check.add_argument(
        "--isolated", action="store_true", help="ignore every configuration file (project and user-level)"
    )
    check.add_argument(
        "--show-settings", action="store_true", help="print the settings that apply to the first PATH, and exit"
    )
    check.add_argument(
        "--stdin-filename",
        metavar="PATH",
        help="the path the source read from stdin (`-`) is checked as, in that file's project",
    )
    check.add_argument("--no-respect-gitignore", action="store_true", help="also check files .gitignore ignores")
    check.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    check.add_argument(
        "--cache-dir",
        metavar="PATH",
        help="where to keep the cache (default: a folder per project in $XDG_CACHE_HOME/conclint or ~/.cache/conclint)",
    )
    check.add_argument(
        "--jobs",
        type=_positive_int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="processes to analyse files with (default: the CPU count); the output is the same for every N",
    )
    check.add_argument("--write-baseline", metavar="FILE", help="record the current findings in FILE and exit 0")
    check.add_argument("--baseline", metavar="FILE", help="report only findings that FILE does not record")

    demo = commands.add_parser("demo", help="run the demo servers that reproduce each hazard")
    _demo_cli().add_arguments(demo)

    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument("--output-format", choices=("text", "json"), default="text", help="lines, or a JSON list")
    rule = commands.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code", metavar="CODE|NAME", nargs="?", help="a rule code (CCL201) or name")
    rule.add_argument("--all", action="store_true", help="every rule's documentation, one after the other")
    rule.add_argument("--output-format", choices=("text", "json"), default="text", help="markdown, or JSON")

    commands.add_parser("server", help="run the language server (LSP over stdio) for editors")
    return parser


def entry() -> None:
    """The `conclint` command: main(), then a quick exit. A run leaves millions of small
    objects behind, and the interpreter freeing them one by one at exit cost a tenth of a
    second or more of every run; everything is written and flushed by then."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it anyway
            pass
    os._exit(code)


def main(argv: Optional[Sequence[str]] = None) -> int:
    # A file name that is not valid UTF-8 reaches us with surrogate escapes: print it
    # escaped, as stderr already does, rather than die writing the report.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_ERROR
        if args.command == "rules":
            return _list_rules(args.output_format)
        if args.command == "rule":
            return _show_rule(args)
        if args.command == "demo":
            return _demo_cli().run(args)
        if args.command == "server":
            from conclint.adapters.lsp import serve

            return serve()
        return _check(args)
    except UsageError as exc:
        print(f"conclint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except ConfigError as exc:
        print(f"conclint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:  # the run's workers are already stopped (engine/workers.py)
        print("conclint: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `conclint check | head`: the reader left; nothing more can reach it
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR


def _demo_cli():
    """The demo's own command line (imported only when asked for)."""
    from conclint.demo import cli as demo_cli

    return demo_cli


def _rule_entry(rule) -> Dict[str, object]:
    """A rule as `rules --output-format json` lists it (ruff's keys where they fit)."""
    return {
        "code": rule.code,
        "name": rule.name,
        "summary": rule.summary,
        "linter": "conclint",
        "fix": "safe" if rule.code in FIXABLE_CODES else "none",
        "severity": severity(rule.code),
        "url": rule.url(),
    }


def _list_rules(output_format: str) -> int:
    if output_format == "json":
        print(json.dumps([_rule_entry(rule) for rule in ALL_RULES], indent=2))
        return EXIT_CLEAN
    width = max(len(rule.name) for rule in ALL_RULES)
    for rule in ALL_RULES:
        print(f"{rule.code}  {rule.name:<{width}}  {rule.summary}")
    return EXIT_CLEAN


def find_rule(selector: str):
    """A rule by its code (any case) or its name (`blocking-sleep-in-async`, underscores allowed)."""
    by_name = {rule.name: rule for rule in ALL_RULES}
    return RULES_BY_CODE.get(selector.upper()) or by_name.get(selector.lower().replace("_", "-"))


def _show_rule(args: argparse.Namespace) -> int:
    if args.all == bool(args.code):
        raise UsageError("name one rule (`conclint rule CCL201`) or give --all")
    if args.all:
        chosen = list(ALL_RULES)
    else:
        rule = find_rule(args.code)
        if rule is None:
            raise UsageError(f"unknown rule '{args.code}' (see `conclint rules`)")
        chosen = [rule]
    if args.output_format == "json":
        entries = [{**_rule_entry(rule), "explanation": rule.documentation()} for rule in chosen]
        print(json.dumps(entries if args.all else entries[0], indent=2))
    else:
        print("\n".join(rule.documentation() for rule in chosen))
    return EXIT_CLEAN


def _apply_cli_overrides(args: argparse.Namespace) -> Callable[[Settings], None]:
    def adjust(settings: Settings) -> None:
        if args.select is not None:
            settings.select = list(args.select)
        if args.extend_select:
            settings.extend_select = [*settings.extend_select, *args.extend_select]
        if args.ignore:
            settings.ignore = [*settings.ignore, *args.ignore]
        if args.no_respect_gitignore:
            settings.respect_gitignore = False

    return adjust


def _is_our_stdin(path: str) -> bool:
    """``/dev/stdin``, ``/proc/self/fd/0`` and the like: a pipe, read once and never cached as a file."""
    try:
        return os.path.samestat(os.stat(path), os.fstat(0)) and not os.path.isfile(path)
    except (OSError, ValueError):
        return False


def _targets(args: argparse.Namespace) -> Tuple[List[str], Dict[str, bytes]]:
    """The paths to check, and the sources read from stdin (by the path they are checked as)."""
    paths = list(args.paths) or (["-"] if args.stdin_filename else ["."])
    sources: Dict[str, bytes] = {}
    if args.stdin_filename and "-" not in paths:
        raise UsageError("--stdin-filename names the source read from stdin: give `-` as the path")
    for index, path in enumerate(paths):
        if path == "-" or _is_our_stdin(path):
            if sources:
                raise UsageError("stdin can be read only once: give `-` once")
            name = os.path.abspath(args.stdin_filename or ("-" if path == "-" else path))
            sources[name] = sys.stdin.buffer.read()
            paths[index] = name
        elif not os.path.lexists(path):
            raise UsageError(f"{path}: no such file or directory")
    return paths, sources


@dataclass
class _Group:
    """Files that share one configuration and one project: one run."""

    settings: Settings
    project_root: Optional[str]
    files: List[str] = field(default_factory=list)


def _groups(paths: Sequence[str], resolver: ConfigResolver, sources: Dict[str, bytes]) -> List[_Group]:
    """Every file to check, by the configuration that applies to it (ruff's closest configuration)
    and its project. A folder is walked with its own settings; a file under it whose closest
    configuration is another one follows that one, excludes included."""
    groups: Dict[Tuple[int, Optional[str]], _Group] = {}
    excluded_by: Dict[int, Callable[[str], bool]] = {}

    def add(path: str, walked: bool) -> None:
        settings = resolver.settings_for(path)
        if walked:
            check = excluded_by.setdefault(id(settings), walk_excludes(settings))
            if check(path):
                return
        root = resolver.project_root_for(path)
        group = groups.setdefault((id(settings), root), _Group(settings, root))
        group.files.append(path)

    for path in paths:
        if path in sources or not os.path.isdir(path):
            add(os.path.abspath(path), walked=False)
            continue
        outer = resolver.settings_for(path)
        for found in discover([path], outer):
            add(found, walked=resolver.settings_for(found) is not outer)
    return list(groups.values())


def _run_groups(groups: Sequence[_Group], args: argparse.Namespace, sources: Dict[str, bytes]) -> RunResult:
    merged = RunResult()
    for group in groups:
        settings = group.settings
        cache_dir = None
        if not args.no_cache:
            cache_dir = args.cache_dir or settings.cache_dir or default_cache_dir(settings.root)
        outcome = run(
            sorted(set(group.files)),
            settings,
            jobs=args.jobs,
            cache_dir=cache_dir,
            project_root=group.project_root,
            sources={path: data for path, data in sources.items() if path in group.files} or None,
        )
        merged.findings.extend(outcome.findings)
        merged.files_checked += outcome.files_checked
        merged.internal_errors.update(outcome.internal_errors)
    merged.findings.sort(key=Finding.sort_key)
    return merged


def _check(args: argparse.Namespace) -> int:
    for option in ("select", "extend_select", "ignore"):
        value = getattr(args, option)
        if value is not None:
            check_codes(value, f"--{option.replace('_', '-')}", RULES_BY_CODE)
    if args.config and args.isolated:
        raise UsageError("--config and --isolated exclude each other")
    resolver = ConfigResolver(RULES_BY_CODE, args.config, args.isolated, _apply_cli_overrides(args))
    if args.show_settings:
        return _show_settings(args, resolver)
    paths, sources = _targets(args)
    if sources and (args.fix or args.add_noqa):
        raise UsageError("--fix and --add-noqa write files: they cannot take the source from stdin")
    groups = _groups(paths, resolver, sources)
    result = _run_groups(groups, args, sources)
    cwd = os.getcwd()
    if args.diff:
        return _print_diff(result.findings, cwd)
    if args.add_noqa:
        from conclint.adapters.add_noqa import add_noqa

        added = add_noqa(result.findings)
        print(f"Added {plural(added, 'noqa directive')}.", file=sys.stderr)
        return EXIT_CLEAN
    before = result.findings
    if args.fix and _apply_fixes(result.findings):
        result = _run_groups(_groups(paths, resolver, sources), args, sources)
        if args.show_fixes:
            _print_fixed(before, result.findings, cwd)
    if args.write_baseline:
        from conclint.engine.baseline import write_baseline

        write_baseline(result.findings, args.write_baseline)
        print(f"Recorded {len(result.findings)} findings in {args.write_baseline}.", file=sys.stderr)
        return EXIT_CLEAN
    if args.baseline:
        from conclint.engine.baseline import filter_baseline

        result.findings = filter_baseline(result.findings, args.baseline)
    context = ReportContext(
        internal_errors=result.internal_errors,
        color=color_wanted(args.color, sys.stdout if args.output_file is None else io.StringIO()),
        show_fix_hint=not args.fix,
        show_fixes=args.show_fixes and not args.fix,
        quiet=args.quiet,
    )
    report = FORMATTERS[args.output_format](result.findings, cwd, context)
    if args.statistics and args.output_format in (*HUMAN_FORMATS, "json"):
        # like ruff: the count table, or JSON counts; the other machine formats stay whole for their readers
        report = format_statistics(result.findings, "json" if args.output_format == "json" else "text")
    _write(report, args.output_file)

    for path, error in sorted(result.internal_errors.items()):
        print(f"conclint: internal error in {display_path(path, cwd)}: {error}", file=sys.stderr)
    if result.internal_errors:
        print(REPORT_HINT, file=sys.stderr)
        return EXIT_ERROR
    if result.findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _show_settings(args: argparse.Namespace, resolver: ConfigResolver) -> int:
    """Which configuration applies to the first path, and what it resolves to (ruff's --show-settings)."""
    if len(args.paths) > 1:
        raise UsageError("--show-settings takes one PATH")
    path = os.path.abspath(args.stdin_filename or (args.paths[0] if args.paths else "."))
    config, role = resolver.config_for(path)
    settings = resolver.settings_for(path)
    lines = [
        f"Resolved settings for: {display_path(path, os.getcwd())}",
        f"Settings path: {config or '(none: the defaults)'} ({role})",
        f"Project root: {resolver.project_root_for(path) or '(none: only the files named are analysed)'}",
        "",
    ]
    for setting in SETTINGS:
        value = getattr(settings, setting.key.replace("-", "_"))
        lines.append(f"{setting.key} = {toml_value(value)}")
    print("\n".join(lines))
    return EXIT_CLEAN


def _print_fixed(before: Sequence[Finding], after: Sequence[Finding], cwd: str) -> None:
    """ruff's --show-fixes: the findings --fix removed, per file and code."""
    fixed = Counter((f.path, f.code) for f in before if f.fix is not None and f.fix.applicability == "safe")
    fixed.subtract(Counter((f.path, f.code) for f in after))
    fixed = +fixed
    if not fixed:
        return
    lines = [f"Fixed {plural(sum(fixed.values()), 'hazard')}:"]
    for path in sorted({path for path, _ in fixed}):
        lines.append(f"- {display_path(path, cwd)}:")
        for (where, code), count in sorted(fixed.items()):
            if where == path:
                lines.append(f"    {count} × {code} ({RULES_BY_CODE[code].name})")
    print("\n".join(lines), file=sys.stderr)


def _fixed_texts(findings) -> Dict[str, Tuple[SourceText, str]]:
    """path -> (source, text after the fixes) for every file a safe fix changes.

    Read as the analysis read it (coding cookie, BOM), so that the fixes' positions line
    up and the file is written back in its own encoding.
    """
    changed = {}
    for path, edits in edits_by_path(findings).items():
        source = read_source(path)
        if isinstance(source, SourceError):
            continue  # it changed after the analysis read it
        after = fixed_text(source.text, edits)
        if after != source.text:
            changed[path] = (source, after)
    return changed


def _apply_fixes(findings) -> bool:
    changed = _fixed_texts(findings)
    for path, (source, after) in changed.items():
        with open(path, "w", encoding=source.encoding, newline="") as handle:
            handle.write(after)
    if changed:
        print(f"Fixed {len(changed)} file{'s' if len(changed) != 1 else ''}.", file=sys.stderr)
    return bool(changed)


def _print_diff(findings, cwd: str) -> int:
    changed = _fixed_texts(findings)
    for path, (source, after) in sorted(changed.items()):
        sys.stdout.write(unified_diff(display_path(path, cwd), source.text, after))
    return EXIT_FINDINGS if changed else EXIT_CLEAN


def _write(report: str, output_file: Optional[str]) -> None:
    if output_file is None:
        sys.stdout.write(report)
        return
    try:
        with open(output_file, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(report)
    except OSError as exc:
        raise UsageError(f"cannot write --output-file {output_file}: {exc.strerror or exc}") from None
