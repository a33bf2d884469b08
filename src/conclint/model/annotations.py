"""What annotations and literals say: the type an annotation names (``Optional[Lock]``,
``"Session | None"``), what a container annotation holds (``dict[str, Browser]``), and the
value of a plain literal, read from the CST without evaluating anything."""

from __future__ import annotations

from typing import List, Optional

import libcst as cst

from conclint.model.scopes import dotted_parts

# container annotations whose last argument types the values they hold (``dict[str, Browser]``)
MAPPING_ANNOTATIONS = frozenset(
    {"dict", "Dict", "Mapping", "MutableMapping", "defaultdict", "DefaultDict", "OrderedDict", "WeakValueDictionary"}
)
SEQUENCE_ANNOTATIONS = frozenset(
    {"list", "List", "Sequence", "MutableSequence", "set", "Set", "frozenset", "FrozenSet", "deque", "Deque", "WeakSet"}
)


def element_annotation_parts(annotation: cst.BaseExpression) -> Optional[List[str]]:
    """What a container annotation holds: ``Browser`` for ``dict[str, Browser]``,
    ``list[Browser]``, ``Optional[Dict[str, Browser]]``."""
    if isinstance(annotation, cst.SimpleString):
        parsed = _forward_reference(annotation)
        return element_annotation_parts(parsed) if parsed is not None else None
    if not isinstance(annotation, cst.Subscript):
        return None
    wrapper = (dotted_parts(annotation.value) or [""])[-1]
    items = [element.slice.value for element in annotation.slice if isinstance(element.slice, cst.Index)]
    if wrapper == "Optional" and len(items) == 1:
        return element_annotation_parts(items[0])
    if wrapper in MAPPING_ANNOTATIONS and len(items) == 2:
        return annotation_parts(items[1])
    if wrapper in SEQUENCE_ANNOTATIONS and len(items) == 1:
        return annotation_parts(items[0])
    return None


def annotation_parts(annotation: cst.BaseExpression) -> Optional[List[str]]:
    """The type an annotation names: ``Lock``, ``Optional[Lock]``, ``Lock | None``, ``"Lock"``."""
    if isinstance(annotation, cst.SimpleString):
        text = string_value(annotation)
        if text and all(part.isidentifier() for part in text.split(".")):
            return text.split(".")
        parsed = _forward_reference(annotation)  # written as an expression: "Session | None"
        return annotation_parts(parsed) if parsed is not None else None
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        sides = [annotation.left, annotation.right]
        kept = [side for side in sides if not (isinstance(side, cst.Name) and side.value == "None")]
        return annotation_parts(kept[0]) if len(kept) == 1 else None
    if isinstance(annotation, cst.Subscript) and is_annotated(annotation):
        first = annotation.slice[0].slice  # ``Annotated[Session, Depends(get_session)]``: a Session
        return annotation_parts(first.value) if isinstance(first, cst.Index) else None
    if isinstance(annotation, cst.Subscript) and len(annotation.slice) == 1:
        wrapper = dotted_parts(annotation.value)
        inner = annotation.slice[0].slice
        if wrapper and wrapper[-1] == "Optional" and isinstance(inner, cst.Index):
            return annotation_parts(inner.value)
        return wrapper if wrapper and wrapper[-1] not in ("Union", "Optional") else None
    return dotted_parts(annotation)


def is_annotated(node: cst.BaseExpression) -> bool:
    """``Annotated[T, ...]`` (typing's or typing_extensions')."""
    if not isinstance(node, cst.Subscript) or len(node.slice) < 2:
        return False
    wrapper = dotted_parts(node.value)
    return bool(wrapper) and wrapper[-1] == "Annotated"


def _forward_reference(annotation: cst.SimpleString) -> Optional[cst.BaseExpression]:
    """The expression a string annotation holds, or None when it is not one (or too long to bother)."""
    text = string_value(annotation)
    try:
        return cst.parse_expression(text) if text and len(text) < 200 else None
    except Exception:
        return None


def string_value(node: cst.SimpleString) -> Optional[str]:
    """A plain string literal's value. ``evaluated_value`` runs ``ast.literal_eval`` (a
    compile) on every call; strings without escapes need no more than their quotes removed."""
    if "\\" not in node.value and "b" not in node.prefix.lower():
        return node.raw_value
    evaluated = node.evaluated_value
    return evaluated if isinstance(evaluated, str) else None


def literal(value: cst.BaseExpression):
    if isinstance(value, (cst.Integer, cst.Float)):
        return value.evaluated_value
    if isinstance(value, cst.SimpleString):
        return string_value(value)
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return value.value == "True"
    return None


def literal_is_falsy(node: cst.BaseExpression) -> bool:
    """``False``, ``None``, ``0``: a default that leaves an ``if flag:`` branch out."""
    return (isinstance(node, cst.Name) and node.value in ("False", "None")) or (
        isinstance(node, cst.Integer) and node.value == "0"
    )
