"""Conditions on a function's parameters that a call inside it needs, and their value for the
constants a caller passes: a helper's ``if not path: return`` cannot let ``f(None)`` reach the
I/O below it.

A condition is a small tree of tuples (picklable facts): ``("truthy", p)``, ``("none", p)``,
``("eq", p, value)``, ``("cmp", p, ">", 0)``, ``("not", c)``, ``("and", a, b)``, ``("or", a, b)``, ``("unknown",)``.
"""

from __future__ import annotations

from typing import Dict, Iterable, Optional, Set, Tuple

import libcst as cst

from conclint.model.annotations import literal
from conclint.model.facts import CallSite, FunctionInfo

UNKNOWN = ("unknown",)
_NO_VALUE = object()


def constant(node: cst.BaseExpression):
    """The value of a literal argument or default (``None``, ``False``, ``0``, ``"x"``, ``[]``), else _NO_VALUE."""
    if isinstance(node, cst.Name) and node.value == "None":
        return None
    if isinstance(node, (cst.List, cst.Dict, cst.Tuple, cst.Set)) and not getattr(node, "elements", None):
        return ()  # an empty container: falsy, and nothing else is known of it
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = literal(node.expression)
        return -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) else _NO_VALUE
    value = literal(node)
    return _NO_VALUE if value is None else value


def is_constant(value) -> bool:
    return value is not _NO_VALUE


SELF = "self."  # the key prefix of an attribute of the method's own object: ``self.path`` -> "self.path"


def subject(
    node: cst.BaseExpression,
    params: Set[str],
    self_name: Optional[str] = None,
    module_globals: Optional[Dict[str, str]] = None,
) -> Optional[str]:
    """What a condition can be on: a parameter by name, (in a method) ``self.x`` as "self.x", or a module
    global the function declares ``global`` by its key ("global:mod.x", in ``module_globals``)."""
    if isinstance(node, cst.Name):
        if node.value in params:
            return node.value
        return (module_globals or {}).get(node.value)
    if (
        self_name is not None
        and isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == self_name
    ):
        return SELF + node.attr.value
    return None


def condition(
    test: cst.BaseExpression,
    params: Set[str],
    self_name: Optional[str] = None,
    module_globals: Optional[Dict[str, str]] = None,
):
    """The test as a condition on ``params`` (and on ``self.x`` when ``self_name`` is given, on the globals
    of ``module_globals``); UNKNOWN for whatever else it reads."""
    names = (params, self_name, module_globals)
    key = subject(test, *names)
    if key is not None:
        return ("truthy", key)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return negate(condition(test.expression, *names))
    if isinstance(test, cst.BooleanOperation):
        kind = "and" if isinstance(test.operator, cst.And) else "or"
        return (kind, condition(test.left, *names), condition(test.right, *names))
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        left, right = test.left, target.comparator
        if subject(right, *names) is not None and subject(left, *names) is None:
            left, right = right, left  # ``None is x``
        key = subject(left, *names)
        if key is None:
            return UNKNOWN
        value = constant(right)
        if not is_constant(value):
            return UNKNOWN
        operator = target.operator
        if isinstance(operator, (cst.Is, cst.IsNot)) and value is None:
            tree = ("none", key)
            return tree if isinstance(operator, cst.Is) else negate(tree)
        if isinstance(operator, (cst.Equal, cst.NotEqual)) and value != ():
            tree = ("eq", key, value)
            return tree if isinstance(operator, cst.Equal) else negate(tree)
        order = _ORDER.get(type(operator))
        if order and isinstance(value, (int, float)) and not isinstance(value, bool):
            if left is not test.left:  # ``0 < retries``: the same test the other way round
                order = _SWAPPED[order]
            return ("cmp", key, order, value)
    return UNKNOWN


_ORDER = {cst.LessThan: "<", cst.LessThanEqual: "<=", cst.GreaterThan: ">", cst.GreaterThanEqual: ">="}
_SWAPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def negate(tree):
    if tree == UNKNOWN:
        return UNKNOWN
    if tree[0] == "not":
        return tree[1]
    return ("not", tree)


def evaluate(tree, values: Dict[str, object]) -> Optional[bool]:
    """True or False when the constants decide the condition, None when they do not."""
    kind = tree[0]
    if kind == "cmp":
        value = values.get(tree[1])
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return None
        bound = tree[3]
        return {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound}[tree[2]]
    if kind in ("truthy", "none", "eq"):
        if tree[1] not in values:
            return None
        value = values[tree[1]]
        if kind == "truthy":
            return bool(value)
        if kind == "none":
            return value is None
        return value == tree[2]
    if kind == "not":
        inner = evaluate(tree[1], values)
        return None if inner is None else not inner
    if kind in ("and", "or"):
        left, right = evaluate(tree[1], values), evaluate(tree[2], values)
        decisive = kind == "or"  # True decides an ``or``, False an ``and``
        if decisive in (left, right):
            return decisive
        return None if None in (left, right) else not decisive
    return None


def mentions(tree) -> Set[str]:
    kind = tree[0]
    if kind in ("truthy", "none", "eq", "cmp"):
        return {tree[1]}
    if kind == "not":
        return mentions(tree[1])
    if kind in ("and", "or"):
        return mentions(tree[1]) | mentions(tree[2])
    return set()


def forget(tree, known) -> tuple:
    """The condition with every test on a name ``known(name)`` rejects made UNKNOWN (a parameter bound
    again in its function): ``filename is not None and position is None`` with ``position`` rebound still
    fails for ``filename=None``."""
    kind = tree[0]
    if kind in ("truthy", "none", "eq", "cmp"):
        return tree if known(tree[1]) else UNKNOWN
    if kind == "not":
        inner = forget(tree[1], known)
        return UNKNOWN if inner == UNKNOWN else ("not", inner)
    if kind in ("and", "or"):
        left, right = forget(tree[1], known), forget(tree[2], known)
        return UNKNOWN if left == UNKNOWN and right == UNKNOWN else (kind, left, right)
    return tree


def returned(early_returns: Iterable[Tuple[tuple, tuple]], values: Dict[str, object]):
    """What a function returns for these values when one of its early returns at the top decides it
    (``if path is None: return None``): ``("value", v)``; ``UNKNOWN`` when they do not.
    ``early_returns``: (condition, ``("value", v)`` or UNKNOWN for a value that is not a literal), in order."""
    for test, value in early_returns:
        decided = evaluate(test, values)
        if decided is None:
            return UNKNOWN
        if decided:
            return value
    return UNKNOWN


def reachable(requires: Iterable[Tuple], values: Dict[str, object]) -> bool:
    """A call whose conditions are ``requires`` can run for these parameter values."""
    return not values or all(evaluate(tree, values) is not False for tree in requires)


def passed_values(call: CallSite, callee: FunctionInfo, caller_values: Dict[str, object]) -> Dict[str, object]:
    """The constants ``call`` gives ``callee``'s parameters: literal arguments, the caller's own
    known parameters passed on by name, and the literal defaults of parameters it leaves out."""
    if call.unpacks:
        return {}
    bound = callee.self_name is not None and (
        call.callee is None or call.callee != callee.qualname or "classmethod" in callee.decorators
    )
    positional = callee.params[1:] if bound else callee.params
    values: Dict[str, object] = {}
    for where, value in call.constants.items():
        name = positional[where] if isinstance(where, int) and where < len(positional) else where
        if isinstance(name, str):
            values[name] = value
    for where, passed in call.passes.items():
        name = positional[where] if isinstance(where, int) and where < len(positional) else where
        if isinstance(name, str) and passed in caller_values:
            values[name] = caller_values[passed]
    given = set(positional[: len(call.args)]) | {keyword.split("=", 1)[0] for keyword in call.keywords}
    for name, default in callee.defaults.items():
        if name not in given:
            values[name] = default
    return values
