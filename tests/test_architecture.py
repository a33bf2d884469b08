"""The tree's shape: no import cycles between conclint's modules, and the layers in docs/architecture.md."""

from __future__ import annotations

import ast
import pathlib
from typing import Dict, List, Set

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> Dict[str, Set[str]]:
    """Every conclint module and the conclint modules it imports, wherever the import stands
    (a function-level import is a cycle postponed, not removed)."""
    modules = {_module_name(path): path for path in SRC.rglob("*.py")}
    graph: Dict[str, Set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: Set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: List[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith("conclint"):
                    edges.add(target)
        graph[name] = edges
    return graph


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _packages_importing(graph: Dict[str, Set[str]], importer: str, imported: str) -> List[str]:
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.startswith(importer + ".") or module == importer
        for target in targets
        if target.startswith(imported + ".")
    )


def test_no_import_cycles():
    assert _cycles(import_graph()) == []


def test_rules_do_not_borrow_from_each_other():
    """Helpers rules share live in the model, not in a sibling rule module."""
    graph = import_graph()
    borrowed = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.startswith("conclint.rules.")
        for target in targets
        if target.startswith("conclint.rules.") and target != "conclint.rules.base"
    )
    assert borrowed == []


def test_the_model_and_the_engine_know_nothing_of_adapters():
    graph = import_graph()
    for layer in ("conclint.engine", "conclint.model", "conclint.rules"):
        assert _packages_importing(graph, layer, "conclint.adapters") == []
    assert _packages_importing(graph, "conclint.model", "conclint.rules") == []
