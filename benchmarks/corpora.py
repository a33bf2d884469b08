"""The corpora the benchmark and the sweep run on, and what both need around them.

Each corpus is a pinned source release from PyPI (``pip download --no-deps --no-binary
:all: NAME==VERSION``, unpacked under ``benchmarks/.corpora/``, which git ignores), or the
standard library of the running Python (less its ``test/`` and ``tests/`` folders).

Every tool runs on a *working copy* (``benchmarks/.corpora/work/NAME``), so that the
"touch one file" measurement can edit a file without touching the pristine tree, and so
that each benchmark starts from a tree no earlier run left a cache in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CORPORA_DIR = os.path.join(HERE, ".corpora")
DOWNLOADS = os.path.join(CORPORA_DIR, "downloads")
SOURCES = os.path.join(CORPORA_DIR, "src")
WORK = os.path.join(CORPORA_DIR, "work")
PEERS_VENV = os.path.join(HERE, ".venv-peers")

# Pinned: the newest release of each on the day the benchmark was written. Bump them
# together and re-run; RESULTS.md names the versions it measured.
RELEASES: Dict[str, str] = {
    "django": "5.2.19",
    "sqlalchemy": "2.1.9",
    "aiohttp": "3.14.5",
    "tornado": "6.6.1",
    "celery": "5.7.0",
    "gunicorn": "27.0.1",
    "trio": "0.35.0",
}
STDLIB = "stdlib"
ALL_CORPORA: List[str] = [STDLIB, *RELEASES]
# Files flake8 --select ASYNC cannot check: it aborts the whole run (flake8-async 26.8.1 on
# pydoc's 15,000-line table of strings: RecursionError). flake8 gets the rest, and its time is
# scaled by lines; RESULTS.md says so.
FLAKE8_SKIP: Dict[str, List[str]] = {STDLIB: ["pydoc_data/topics.py"]}
# The peers, installed into their own virtualenv so they never meet the test environment.
PEERS = ["flake8==7.5.0", "flake8-async==26.8.1", "ruff==0.17.6"]


@dataclass
class Corpus:
    name: str
    version: str
    tree: str  # the working copy every tool runs on
    config: str  # a conclint configuration made for this corpus
    cache_dir: str  # conclint's cache for this corpus
    files: List[str]  # what conclint discovers there: every tool checks exactly these
    lines: int


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- fetching --------------------------------------------------------------------------------------


def _archive(name: str, version: str) -> Optional[str]:
    """The downloaded sdist of NAME==VERSION, if there is one (names are normalised by PyPI)."""
    if not os.path.isdir(DOWNLOADS):
        return None
    wanted = re.compile(
        rf"^{re.escape(name).replace('_', '[-_.]').replace('-', '[-_.]')}-{re.escape(version)}\.(tar\.gz|zip)$", re.I
    )
    for entry in sorted(os.listdir(DOWNLOADS)):
        if wanted.match(entry):
            return os.path.join(DOWNLOADS, entry)
    return None


def fetch(name: str, version: str) -> str:
    """Download (once) and unpack (once) NAME==VERSION; the pristine tree's path."""
    target = os.path.join(SOURCES, f"{name}-{version}")
    marker = os.path.join(target, ".unpacked")
    if os.path.exists(marker):
        return target
    archive = _archive(name, version)
    if archive is None:
        os.makedirs(DOWNLOADS, exist_ok=True)
        log(f"fetching {name}=={version} from PyPI (pip download; a package that compiles extensions can take minutes)")
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"{name}=={version}",
            "-d",
            DOWNLOADS,
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        archive = _archive(name, version)
        if done.returncode != 0 or archive is None:
            raise SystemExit(f"could not download {name}=={version}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(target)
    else:
        with tarfile.open(archive) as bundle:
            if hasattr(tarfile, "data_filter"):
                bundle.extractall(target, filter="data")
            else:  # pragma: no cover - Pythons before the tarfile filters
                bundle.extractall(target)
    with open(marker, "w", encoding="utf-8") as handle:
        handle.write(os.path.basename(archive) + "\n")
    return target


def stdlib_dir() -> str:
    return sysconfig.get_paths()["stdlib"]


def pristine(name: str) -> str:
    """The folder to copy from: the unpacked sdist's top folder, or the stdlib."""
    if name == STDLIB:
        return stdlib_dir()
    unpacked = fetch(name, RELEASES[name])
    tops = [e for e in os.listdir(unpacked) if os.path.isdir(os.path.join(unpacked, e))]
    return os.path.join(unpacked, tops[0]) if len(tops) == 1 else unpacked


# --- the working copy ----------------------------------------------------------------------------


def _copy_ignore(directory: str, names: Sequence[str]) -> List[str]:
    # compiled caches are not source; the stdlib's site-packages holds whatever is installed
    return [n for n in names if n in ("__pycache__", "site-packages") or n.endswith((".pyc", ".so"))]


def conclint_config(name: str) -> str:
    """A configuration of our own, so no pyproject.toml above the tree (this repository's)
    applies. The stdlib's own tests are left out, as the contract says."""
    lines = ["[tool.conclint]"]
    if name == STDLIB:
        lines.append('extend-exclude = ["test/", "tests/"]')
    return "\n".join(lines) + "\n"


def prepare(name: str, fresh: bool = True) -> Corpus:
    """Copy the corpus to its working folder and list what conclint will check there.

    Every conclint run on it uses ``--config CONFIG --no-respect-gitignore``: the copies
    sit in a folder this repository's .gitignore ignores (and pyenv gitignores its own
    versions), and conclint walks what a user of that project would.
    """
    version = RELEASES.get(name, "{}.{}.{}".format(*sys.version_info[:3]))
    source = pristine(name)
    os.makedirs(WORK, exist_ok=True)
    tree = os.path.join(WORK, name)
    config = os.path.join(WORK, f"{name}.conclint.toml")
    cache_dir = os.path.join(WORK, f"{name}.cache")
    if fresh or not os.path.isdir(tree):
        shutil.rmtree(tree, ignore_errors=True)
        shutil.rmtree(cache_dir, ignore_errors=True)
        shutil.copytree(source, tree, symlinks=True, ignore=_copy_ignore)
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(conclint_config(name))
    files = discovered(tree, config)
    return Corpus(name, version, tree, config, cache_dir, files, count_lines(files))


def settings_for(config: str):
    from conclint.engine.settings import load_settings
    from conclint.rules import RULES_BY_CODE

    settings = load_settings(config, RULES_BY_CODE)
    settings.respect_gitignore = False
    return settings


def discovered(tree: str, config: str) -> List[str]:
    from conclint.engine.discovery import discover

    return discover([tree], settings_for(config))


def count_lines(files: Sequence[str]) -> int:
    total = 0
    for path in files:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        total += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return total


def conclint_args(corpus: Corpus) -> List[str]:
    return ["--config", corpus.config, "--no-respect-gitignore"]


# --- the peers' virtualenv -----------------------------------------------------------------------


def peer_bin(tool: str) -> str:
    folder = "Scripts" if os.name == "nt" else "bin"
    return os.path.join(PEERS_VENV, folder, tool)


def ensure_peers() -> None:
    """flake8, flake8-async and ruff in benchmarks/.venv-peers (created once)."""
    python = peer_bin("python")
    if not os.path.exists(python):
        log("creating benchmarks/.venv-peers")
        subprocess.run([sys.executable, "-m", "venv", PEERS_VENV], check=True)
    have = subprocess.run([python, "-m", "pip", "freeze"], capture_output=True, text=True).stdout.lower()
    missing = [p for p in PEERS if p.lower() not in have]
    if missing:
        log(f"installing {' '.join(missing)} into benchmarks/.venv-peers")
        subprocess.run([python, "-m", "pip", "install", "-q", *PEERS], check=True)


def peer_version(tool: str) -> str:
    done = subprocess.run([peer_bin(tool), "--version"], capture_output=True, text=True)
    return " ".join(done.stdout.split())


def conclint_script() -> str:
    script = shutil.which("conclint", path=os.path.dirname(sys.executable)) or shutil.which("conclint")
    if script is None:
        raise SystemExit("conclint is not installed in this Python: pip install -e . first")
    return script
