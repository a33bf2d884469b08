"""Which code runs in the child after ``os.fork()``: the branch of ``if pid == 0:`` (or its
``else``), and whether the child replaces itself at once (``os.execv``, ``os._exit``)."""

from __future__ import annotations

from typing import Optional, Tuple

import libcst as cst

from conclint.model.apis import FORK_CALLS
from conclint.model.positions import SpanMarker
from conclint.model.scopes import Scope, dotted_parts, resolve_dotted

EXEC_CALLS = frozenset(
    {"os._exit", "os.execv", "os.execve", "os.execl", "os.execle", "os.execlp", "os.execlpe", "os.execvp", "os.execvpe"}
)


class ForkBranches:
    """The fork-branch part of the access walker (mixed into ``AccessWalker``): it keeps
    ``self.in_child`` (inside a child branch) and ``self.fork_vars`` (``pid = os.fork()``)."""

    in_child: int

    def _branch(self, body, is_child: bool, fork: Optional[cst.Call]) -> None:
        if is_child:
            self.in_child += 1
            if fork is not None and _starts_with_exec(body, self.scope):
                marker = SpanMarker()
                self.collector.position_later(marker, fork)
                self.state.forks_exec_at_once.append(marker)
        self.block(body)
        if is_child:
            self.in_child -= 1

    def _fork_test(self, test: cst.BaseExpression) -> Tuple[Optional[str], Optional[cst.Call]]:
        """Which branch of ``if`` runs in the child after ``os.fork()``: "body", "orelse" or None."""
        negated = False
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, negated = test.expression, True
        fork = None
        compared_to_zero = None
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            target = test.comparisons[0]
            left, right = test.left, target.comparator
            if isinstance(right, cst.Integer) and right.value == "0":
                subject = left
            elif isinstance(left, cst.Integer) and left.value == "0":
                subject = right
            else:
                return None, None
            fork = self._fork_of(subject)
            if isinstance(target.operator, cst.Equal):
                compared_to_zero = True
            elif isinstance(target.operator, (cst.NotEqual, cst.GreaterThan, cst.LessThan)):
                compared_to_zero = False
            else:
                return None, None
        else:
            fork = self._fork_of(test)
            compared_to_zero = False  # ``if pid:`` is true in the parent
        if fork is None:
            return None, None
        child_in_body = compared_to_zero != negated
        return ("body" if child_in_body else "orelse"), fork

    def _fork_of(self, expression: cst.BaseExpression) -> Optional[cst.Call]:
        if isinstance(expression, cst.Name):
            return self.fork_vars.get(expression.value)
        return self._fork_call(expression)

    def _fork_call(self, value: cst.BaseExpression) -> Optional[cst.Call]:
        if isinstance(value, cst.Call):
            parts = dotted_parts(value.func)
            if parts and resolve_dotted(self.scope, parts) in FORK_CALLS:
                return value
        return None


def _starts_with_exec(body, scope: Scope) -> bool:
    """The child's first statement replaces or ends the process: no Python runs in it."""
    statements = body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else []
    first = statements[0] if statements else None
    if isinstance(first, cst.SimpleStatementLine):
        first = first.body[0]
    if isinstance(first, cst.Expr) and isinstance(first.value, cst.Call):
        parts = dotted_parts(first.value.func)
        return bool(parts) and resolve_dotted(scope, parts) in EXEC_CALLS
    return False
