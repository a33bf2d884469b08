"""The `conclint` command, modelled on `ruff check`."""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from conclint import __version__
from conclint.adapters.output import FORMATTERS, format_statistics
from conclint.engine.cache import CACHE_DIR_NAME
from conclint.engine.fixes import apply_edits, edits_by_path, unified_diff
from conclint.engine.run import run
from conclint.engine.settings import ConfigError, check_codes, load_settings
from conclint.engine.source import SourceError, SourceText, read_source
from conclint.rules import ALL_RULES, RULES_BY_CODE

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
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
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    check.add_argument("--select", type=_codes, help="comma-separated codes or prefixes to enable")
    check.add_argument("--extend-select", type=_codes, help="codes or prefixes to enable on top of select")
    check.add_argument("--ignore", type=_codes, help="codes or prefixes to disable")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--fix", action="store_true", help="apply safe fixes, then report what remains")
    check.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    check.add_argument("--statistics", action="store_true", help="print the count of findings per code")
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
    check.add_argument(
        "--output-format",
        choices=sorted(FORMATTERS),
        default="text",
        help="text lines, ruff-compatible JSON, SARIF 2.1.0, or GitHub annotations",
    )
    check.add_argument("-o", "--output-file", metavar="PATH", help="write the report to this file")
    check.add_argument("--config", metavar="PATH", help="a pyproject.toml (or conclint TOML) to read settings from")
    check.add_argument("--no-respect-gitignore", action="store_true", help="also check files .gitignore ignores")
    check.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    check.add_argument(
        "--cache-dir",
        metavar="PATH",
        help="where to keep the cache (default: .conclint_cache beside the configuration)",
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

    commands.add_parser("rules", help="list every rule")
    rule = commands.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code", metavar="CODE")
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
            return _list_rules()
        if args.command == "rule":
            return _show_rule(args.code)
        if args.command == "demo":
            return _demo_cli().run(args)
        return _check(args)
    except UsageError as exc:
        print(f"conclint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except ConfigError as exc:
        print(f"conclint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("conclint: interrupted", file=sys.stderr)
        return EXIT_ERROR


def _demo_cli():
    """The demo's own command line (imported only when asked for)."""
    from conclint.demo import cli as demo_cli

    return demo_cli


def _list_rules() -> int:
    width = max(len(rule.name) for rule in ALL_RULES)
    for rule in ALL_RULES:
        print(f"{rule.code}  {rule.name:<{width}}  {rule.summary}")
    return EXIT_CLEAN


def _show_rule(code: str) -> int:
    rule = RULES_BY_CODE.get(code.upper())
    if rule is None:
        raise UsageError(f"unknown rule code '{code}' (see `conclint rules`)")
    print(rule.documentation())
    return EXIT_CLEAN


def _check(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, RULES_BY_CODE)
    for option in ("select", "extend_select", "ignore"):
        value = getattr(args, option)
        if value is not None:
            check_codes(value, f"--{option.replace('_', '-')}", RULES_BY_CODE)
    if args.select is not None:
        settings.select = args.select
    if args.extend_select:
        settings.extend_select = [*settings.extend_select, *args.extend_select]
    if args.ignore:
        settings.ignore = [*settings.ignore, *args.ignore]
    if args.no_respect_gitignore:
        settings.respect_gitignore = False

    cache_dir = (
        None if args.no_cache else (args.cache_dir or settings.cache_dir or os.path.join(settings.root, CACHE_DIR_NAME))
    )
    result = run(args.paths, settings, jobs=args.jobs, cache_dir=cache_dir)
    cwd = os.getcwd()
    if args.diff:
        return _print_diff(result.findings, cwd)
    if args.fix and _apply_fixes(result.findings):
        result = run(args.paths, settings, jobs=args.jobs, cache_dir=cache_dir)
    if args.write_baseline:
        from conclint.engine.baseline import write_baseline

        write_baseline(result.findings, args.write_baseline)
        print(f"Recorded {len(result.findings)} findings in {args.write_baseline}.", file=sys.stderr)
        return EXIT_CLEAN
    if args.baseline:
        from conclint.engine.baseline import filter_baseline

        result.findings = filter_baseline(result.findings, args.baseline)
    report = FORMATTERS[args.output_format](result.findings, cwd)
    if args.output_format == "text" and args.quiet:
        report = "".join(line + "\n" for line in report.splitlines()[:-1])
    if args.statistics and args.output_format in ("text", "json"):
        # like ruff: the count table, or JSON counts; SARIF and annotations stay whole for their readers
        report = format_statistics(result.findings, args.output_format)
    _write(report, args.output_file)

    for path, error in sorted(result.internal_errors.items()):
        from conclint.adapters.output import display_path

        print(f"conclint: internal error in {display_path(path, cwd)}: {error}", file=sys.stderr)
    if result.internal_errors:
        print(REPORT_HINT, file=sys.stderr)
        return EXIT_ERROR
    if result.findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


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
        after = apply_edits(source.text, edits)
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
    from conclint.adapters.output import display_path

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
