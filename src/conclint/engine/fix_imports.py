"""Tidy the imports a fix touched, so a fixed file passes ruff and isort as it did before.

- An import the fixes left unused is removed (`import time` once every `time.sleep` became
  `await asyncio.sleep`; `sleep` from `from time import sleep, monotonic`). Only names that
  were used before the fixes and are not after: an import that was unused already is not ours
  to judge.
- An import a fix added goes where the file's own sorted block of `import x` lines puts it,
  when that block is sorted (`import abc`, `import asyncio`, `import time`); elsewhere it stays
  where the fix put it, before the first import.

Formatting, comments and line ends of everything else are kept (libcst round-trips the file).
"""

from __future__ import annotations

import ast
from collections import Counter
from typing import List, Optional, Sequence, Set

import libcst as cst


def _used_names(tree: ast.Module) -> Counter:
    """How often each name is read (or deleted) anywhere, plus the names `__all__` lists."""
    used: Counter = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
            used[node.id] += 1
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            if isinstance(node.value, (ast.List, ast.Tuple)):
                for element in node.value.elts:
                    if isinstance(element, ast.Constant) and isinstance(element.value, str):
                        used[element.value] += 1
    return used


def _bound(alias: cst.ImportAlias) -> Optional[str]:
    """The name an import alias binds (``import a.b`` binds ``a``)."""
    if alias.asname is not None:
        name = alias.asname.name
        return name.value if isinstance(name, cst.Name) else None
    dotted = cst.Module([]).code_for_node(alias.name)
    return dotted.split(".")[0]


def _import_key(statement: cst.BaseStatement) -> Optional[str]:
    """The sort key of ``import x`` (one plain module, no alias), None for any other statement."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    node = statement.body[0]
    if not isinstance(node, cst.Import) or len(node.names) != 1 or node.names[0].asname is not None:
        return None
    return cst.Module([]).code_for_node(node.names[0].name).lower()


def _without(names: Sequence[cst.ImportAlias], dropped: Set[str]) -> List[cst.ImportAlias]:
    kept = [alias for alias in names if _bound(alias) not in dropped]
    if kept and kept[-1].comma is not cst.MaybeSentinel.DEFAULT:
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return kept


def _blank_runs(lines: Sequence[cst.EmptyLine]) -> List[int]:
    runs, current = [0], 0
    for line in lines:
        current = current + 1 if line.comment is None else 0
        runs.append(current)
    return runs


def _merged(carried: Sequence[cst.EmptyLine], following: Sequence[cst.EmptyLine], at_start: bool):
    """The lines above a removed statement joined with those above the next one: no run of blank
    lines longer than either side had (one blank line between sections stays one), none at the top."""
    longest = max(_blank_runs(carried) + _blank_runs(following))
    merged: List[cst.EmptyLine] = []
    run = 0
    for line in [*carried, *following]:
        run = run + 1 if line.comment is None else 0
        if (run and at_start and not merged) or run > longest:
            continue
        merged.append(line)
    return merged


def _remove_unused(module: cst.Module, dropped: Set[str]) -> cst.Module:
    """Drop the module-level import names in ``dropped``; a line left with no import goes, and the
    blank lines and comments above it move to the next statement."""
    body: List[cst.BaseStatement] = []
    carried: Optional[Sequence[cst.EmptyLine]] = None
    for statement in module.body:
        if carried is not None:
            statement = statement.with_changes(
                leading_lines=_merged(carried, statement.leading_lines, at_start=not body and not module.header)
            )
            carried = None
        if isinstance(statement, cst.SimpleStatementLine):
            small = []
            for node in statement.body:
                if isinstance(node, (cst.Import, cst.ImportFrom)) and not isinstance(node.names, cst.ImportStar):
                    kept = _without(node.names, dropped)
                    if not kept:
                        continue
                    node = node.with_changes(names=kept) if len(kept) != len(node.names) else node
                small.append(node)
            if not small:
                carried = statement.leading_lines
                continue
            if len(small) != len(statement.body):
                last = small[-1]
                small[-1] = last.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
            statement = statement.with_changes(body=small)
        body.append(statement)
    return module.with_changes(body=body)


def _module_import_names(tree: ast.Module) -> Set[str]:
    names: Set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
    return names


def _sort_added(module: cst.Module, before: ast.Module) -> cst.Module:
    """Move each `import x` line the fixes added into the sorted block of `import` lines it heads."""
    existing = {
        alias.name for node in before.body if isinstance(node, ast.Import) for alias in node.names if not alias.asname
    }
    body = list(module.body)
    for index, statement in enumerate(list(body)):
        key = _import_key(statement)
        if key is None or key in existing:
            continue
        block_end = index + 1
        while block_end < len(body) and _import_key(body[block_end]) is not None and not body[block_end].leading_lines:
            block_end += 1
        keys = [_import_key(s) for s in body[index + 1 : block_end]]
        if not keys or keys != sorted(keys):
            continue  # no block after it, or one that is not sorted: leave it where the fix put it
        position = index + 1 + sum(1 for k in keys if k < key)
        if position == index + 1:
            continue
        moved = body.pop(index)
        follower = body[index]
        # the block's first line keeps the blank lines above it
        body[index] = follower.with_changes(leading_lines=moved.leading_lines)
        body.insert(position - 1, moved.with_changes(leading_lines=()))
        break
    return module.with_changes(body=body)


def tidy_imports(before: str, after: str) -> str:
    """``after`` (``before`` with fixes applied) with the imports the fixes made unused removed and
    the imports they added sorted in; ``after`` unchanged when either text does not parse."""
    try:
        old_tree, new_tree = ast.parse(before), ast.parse(after)
        module = cst.parse_module(after)
    except (SyntaxError, ValueError, cst.ParserSyntaxError):
        return after
    used_before, used_after = _used_names(old_tree), _used_names(new_tree)
    dropped = {name for name in _module_import_names(new_tree) if used_before[name] and not used_after[name]}
    if dropped:
        module = _remove_unused(module, dropped)
    return _sort_added(module, old_tree).code
