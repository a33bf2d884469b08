"""Files of known small size, whose reads are bounded: kernel pseudo-files (a path under ``/proc`` or
``/sys``, such as a cgroup's one-integer ``cpuacct.usage``) and files shipped inside the package next to
the module (a path built from ``__file__``: a template, a bundled script, a tutorial).

A path or file object is small when it is such a literal or ``__file__``, a name bound to one, or is
built from one: ``Path(p)``, ``os.path.join(p, ...)``, ``open(p)``, ``p / "x"``, ``p.parent``,
``p.with_name(...)`` (the first argument, or the receiver, is small).
"""

from __future__ import annotations

from typing import Callable

import libcst as cst

from conclint.model.annotations import literal

PSEUDO_FILE_PREFIXES = ("/proc/", "/sys/")


def _pseudo_file_text(text: object) -> bool:
    return isinstance(text, str) and text.startswith(PSEUDO_FILE_PREFIXES)


def is_small_path(node: cst.BaseExpression, known: Callable[[str], bool], depth: int = 0) -> bool:
    """``node`` names a file of known small size (see the module docstring); ``known(name)``: a name bound to one."""
    if depth > 12:
        return False
    if isinstance(node, cst.Name):
        return node.value == "__file__" or known(node.value)
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return _pseudo_file_text(literal(node))
    if isinstance(node, cst.FormattedString):
        head = node.parts[0] if node.parts else None
        return isinstance(head, cst.FormattedStringText) and _pseudo_file_text(head.value)
    if isinstance(node, cst.Attribute):
        return is_small_path(node.value, known, depth + 1)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
        return is_small_path(node.left, known, depth + 1)
    if isinstance(node, cst.Call):
        positional = [arg for arg in node.args if arg.keyword is None and not arg.star]
        if positional and is_small_path(positional[0].value, known, depth + 1):
            return True
        return isinstance(node.func, cst.Attribute) and is_small_path(node.func.value, known, depth + 1)
    return False
