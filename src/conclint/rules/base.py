"""What every rule declares: its code, name, message, documentation and examples."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any, ClassVar, Dict, Iterable, Optional, Tuple

from conclint.engine.findings import Finding

if TYPE_CHECKING:
    from conclint.engine.project import Project
    from conclint.model.facts import ModuleFacts

DOCS_BASE_URL = "https://conclint.readthedocs.io/en/latest/rules/"


class Rule:
    """A rule reads a module's facts (and the project's) and yields findings.

    ``bad`` snippets must produce the rule's code, ``good`` snippets must not; one
    parametrized test runs them all, and ``conclint rule CODE`` renders the docs.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line, for `conclint rules`
    explanation: ClassVar[str]  # markdown: what it finds, why it is a hazard, what to do instead
    bad: ClassVar[Tuple[str, ...]] = ()
    good: ClassVar[Tuple[str, ...]] = ()
    scenario: ClassVar[Optional[str]] = None  # the demo scenario that reproduces it
    example_settings: ClassVar[Dict[str, Any]] = {}  # `[tool.conclint]` keys the examples need

    def check(self, project: Project, facts: ModuleFacts) -> Iterable[Finding]:
        """Findings located in one module; the project answers cross-module questions."""
        return ()

    @classmethod
    def url(cls) -> str:
        return f"{DOCS_BASE_URL}{cls.code}/"

    @classmethod
    def documentation(cls) -> str:
        """The rule's full page, as markdown: shared by `conclint rule` and the docs site."""
        parts = [f"# {cls.code} `{cls.name}`", "", cls.summary, "", textwrap.dedent(cls.explanation).strip(), ""]
        for title, examples in (("Example (hazard)", cls.bad), ("Instead", cls.good)):
            for example in examples:
                parts += [f"## {title}", "", "```python", textwrap.dedent(example).strip(), "```", ""]
        if cls.example_settings:
            settings = "\n".join(f"{key} = {_toml(value)}" for key, value in cls.example_settings.items())
            parts += ["## Settings used by the examples", "", "```toml", "[tool.conclint]", settings, "```", ""]
        if cls.scenario:
            parts += ["## See it happen", "", f"`conclint demo reproduce {cls.scenario}`", ""]
        return "\n".join(parts)


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)
