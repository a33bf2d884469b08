"""The single pass over a module's CST that gathers every fact the rules need.

The libcst visit records scopes, bindings, definitions and calls; names are resolved
once the module is complete (a function may use an import written below it), and
then each function body is read once more by the state analyser, a small walk of our
own that knows the finished scopes.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from conclint.engine.findings import Span
from conclint.model.annotations import (
    annotation_parts,
    element_annotation_parts,
    is_annotated,
    literal,
    literal_is_falsy,
    string_value,
)
from conclint.model.facts import MODULE_SCOPE, CallSite, ClassInfo, FunctionInfo, ModuleFacts, Ref
from conclint.model.guards import SELF, UNKNOWN, condition, constant, forget, is_constant, mentions, negate, subject
from conclint.model.positions import SpanMarker, node_positions
from conclint.model.scopes import (
    DEFINITION,
    IMPORT,
    VALUE,
    Binding,
    Scope,
    block_ends_with,
    caught_names,
    dotted_name_of,
    dotted_parts,
    import_module_name,
    resolve_dotted,
)
from conclint.model.small_files import is_small_path
from conclint.model.walk import NodeWalker

FUNCTION_NODES = (cst.FunctionDef, cst.Lambda)
METHOD_RESULT = "@method:"  # a type still to be read from a method's ``returns`` (see ConcurrencyModel.realize)


class _Pending:
    """Work that waits for the module's bindings to be complete."""

    def __init__(self) -> None:
        self.varies: List[
            Tuple[CallSite, Tuple[Optional[str], ...], Set[str]]
        ] = []  # call, argument names, names varying there
        self.global_elements: List[Tuple[str, List[str]]] = []  # module dict and what an entry is built from
        self.calls: List[Tuple[CallSite, Scope, Optional[List[str]], cst.Call, int]] = []  # with bindings seen
        self.types: List[Tuple[Binding, Scope, List[str]]] = []
        self.attribute_types: List[Tuple[ClassInfo, str, Scope, List[str]]] = []
        self.attribute_name_types: List[Tuple[ClassInfo, str, Scope, str]] = []
        self.copies: List[Tuple[Binding, Scope, str]] = []
        self.decorators: List[Tuple[FunctionInfo, Scope, List[cst.Decorator]]] = []
        self.bases: List[Tuple[ClassInfo, Scope, Sequence[cst.Arg]]] = []
        self.bodies: List[Tuple[FunctionInfo, cst.CSTNode, Scope]] = []


class FactCollector(NodeWalker):
    def __init__(self, facts: ModuleFacts, is_package: bool) -> None:
        super().__init__()
        self.facts = facts
        self.is_package = is_package
        self.module_scope = Scope("module", None)
        self.scope = self.module_scope
        self._name_stack: List[str] = []
        self._function_stack: List[FunctionInfo] = []
        self._class_stack: List[Optional[ClassInfo]] = []
        self._loop_depth: List[int] = [0]
        self._varying: List[Set[str]] = [set()]  # per function: names bound anew in a loop
        self._comprehension_depth = 0
        self._main_guard_depth = 0
        self._module_branches = 0  # module-level ``if`` bodies and ``except`` handlers around the current node
        self._import_time_imports: Set[str] = set()
        self._main_guards: set = set()
        self._catching: List[Tuple[str, ...]] = []
        self._exit_blocks: Dict[int, int] = {}  # id of an if-body that ends in return/raise -> its number
        self._exit_stack: List[int] = []
        self._awaited: set = set()
        self._waited_at_once: set = set()  # ids of calls whose result is waited for at once
        self._entered_async: set = set()  # ids of calls entered by ``async with`` or iterated by ``async for``
        self._lambda_count = 0
        self._imported: set = set()
        self._positioned: List[Tuple[object, cst.CSTNode]] = []
        self._definitions: Dict[int, Tuple[str, bool]] = {}  # id of a def -> (its name in qualnames, alternative)
        self._guards: List[List[tuple]] = [[]]  # per function: the conditions on its parameters holding here
        self._guard_params: List[Set[str]] = [set()]  # per function: its parameters (``self`` left out)
        self._guard_blocks: Dict[int, tuple] = {}  # id of an if's body, else or elif -> the condition inside it
        self._small_names: Dict[Tuple[int, str], bool] = {}  # (scope, name) -> bound to a small file or its path
        self._top_line: List[bool] = []  # per simple statement line being visited: directly in a function's body
        self._call_index: Dict[int, int] = {}  # id of a call node -> its index in facts.calls
        self._tests_in_loops: Set[int] = set()  # ids of conditions tested inside a loop (see _settle_guards)
        self._top_statements: Set[int] = set()  # ids of statements directly in a function's body
        self.pending = _Pending()

    # ---- helpers -------------------------------------------------------
    def _qualname(self, name: str) -> str:
        return ".".join(p for p in [self.facts.module, *self._name_stack, name] if p)

    def _push_scope(self, kind: str) -> None:
        self.scope = Scope(kind, self.scope)

    def _pop_scope(self) -> None:
        assert self.scope.parent is not None
        self.scope = self.scope.parent

    def _current_function(self) -> str:
        return self._function_stack[-1].qualname if self._function_stack else MODULE_SCOPE

    def _current_class(self) -> Optional[ClassInfo]:
        """The class whose method we are directly in (for ``self`` and ``cls``)."""
        if not self._function_stack:
            return None
        owner = self._function_stack[-1].class_qualname
        return self.facts.classes.get(owner) if owner else None

    def _bind_target(self, target: cst.BaseExpression, value: Optional[cst.BaseExpression] = None) -> None:
        if isinstance(target, cst.Name):
            self._small_names[(id(self.scope), target.value)] = value is not None and is_small_path(
                value, self._is_small_name
            )
            binding = self.scope.bind(target.value, VALUE)
            self._record_type(binding, value)
            if self._loop_depth[-1] > 0:
                self._varying[-1].add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            owner = self._current_class()
            if owner is not None and self._is_self(target.value.value) and value is not None:
                parts = _constructor_parts(value)
                if parts:
                    self.pending.attribute_types.append((owner, target.attr.value, self.scope, parts))
                elif isinstance(value, cst.Name):  # ``self.gate = gate`` with ``gate: asyncio.Lock``
                    self.pending.attribute_name_types.append((owner, target.attr.value, self.scope, value.value))
        elif isinstance(target, cst.Subscript) and value is not None:
            attribute = self._self_attribute(target.value)
            parts = _constructor_parts(value)
            if attribute is not None and parts:  # ``self.browsers[key] = Browser(...)``
                self.pending.attribute_types.append((attribute[0], element_of(attribute[1]), self.scope, parts))
            elif parts and self.scope is self.module_scope and isinstance(target.value, cst.Name):
                self.pending.global_elements.append((target.value.value, parts))  # ``REGISTRY["main"] = Registry()``

    def _self_attribute(self, node: cst.BaseExpression) -> Optional[Tuple[ClassInfo, str]]:
        """``self.x`` inside a method of a class: that class and ``x``."""
        owner = self._current_class()
        if (
            owner is not None
            and isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and self._is_self(node.value.value)
        ):
            return owner, node.attr.value
        return None

    def _captured_self_class(self, name: str) -> Optional[ClassInfo]:
        """In a lambda or nested function, the class of the enclosing method whose ``self``
        (or ``cls``) ``name`` is, captured: ``lambda: self._store(beats)``."""
        for function in reversed(self._function_stack[:-1]):
            if function.class_qualname:
                return self.facts.classes.get(function.class_qualname) if function.self_name == name else None
            if name in function.params:
                return None
        return None

    def _is_small_name(self, name: str) -> bool:
        """A local (else module-level) name last bound to a file of known small size or its path."""
        known = self._small_names.get((id(self.scope), name))
        return known if known is not None else self._small_names.get((id(self.module_scope), name), False)

    def _is_self(self, name: str) -> bool:
        function = self._function_stack[-1] if self._function_stack else None
        return function is not None and function.self_name == name

    def _record_type(self, binding: Binding, value: Optional[cst.BaseExpression]) -> None:
        if value is None:
            return
        binding.type_alias = is_annotated(value)
        parts = _constructor_parts(value) or (annotation_parts(value) if binding.type_alias else None)
        if parts:  # a constructor, or an alias ``SessionDep = Annotated[Session, Depends(get_session)]``
            self.pending.types.append((binding, self.scope, parts))
        elif isinstance(value, cst.Name):  # ``f = opened``: the copy has the original's type
            self.pending.copies.append((binding, self.scope, value.value))

    def _bind_params(self, params: cst.Parameters) -> None:
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            binding = self.scope.bind(param.name.value, VALUE)
            if param.annotation is not None:
                parts = annotation_parts(param.annotation.annotation)
                if parts:
                    self.pending.types.append((binding, self.scope, parts))
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self.scope.bind(star.name.value, VALUE)

    def _enter_function(self, node, anchor: cst.CSTNode, name: str, is_async: bool, is_lambda: bool) -> FunctionInfo:
        unique, alternative = self._definitions.get(id(node), (name, False))
        qualname = self._qualname(unique)
        owner = self._class_stack[-1] if self._class_stack and self.scope.kind == "class" else None
        info = FunctionInfo(
            qualname=qualname,
            name=name,
            is_async=is_async,
            is_lambda=is_lambda,
            parent=self._current_function() if self._function_stack else None,
            class_qualname=owner.qualname if owner else None,
        )
        if unique != name:
            info.replaced_by = self._qualname(name)
            info.alternative = alternative
        if owner is not None:
            info.self_name = _self_name(node)
        info.params = tuple(p.name.value for p in [*node.params.posonly_params, *node.params.params])
        info.off_by_default = tuple(
            p.name.value
            for p in [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
            if p.default is not None and literal_is_falsy(p.default)
        )
        every = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
        for param in every:
            value = constant(param.default) if param.default is not None else None
            if param.default is not None and is_constant(value):
                info.defaults[param.name.value] = value
        self._guards.append([])
        self._guard_params.append({p.name.value for p in every if p.name.value != info.self_name})
        self.facts.functions[qualname] = info
        self._positioned.append((info, anchor))
        self._function_stack.append(info)
        self._name_stack.extend([unique, "<locals>"])
        self._loop_depth.append(0)
        self._varying.append(set())
        return info

    def _leave_function(self) -> None:
        self._guards.pop()
        self._guard_params.pop()
        self._function_stack.pop()
        self._loop_depth.pop()
        self._varying.pop()
        del self._name_stack[-2:]

    def _plan_definitions(self, body) -> None:
        """Name every ``def`` of one scope by its definition: a name defined twice (a redefinition,
        ``if``/``else`` alternatives, overload stubs, a property's setter) keeps its plain qualname
        for the last definition, the one later code calls; earlier ones get ``name#n``, and are
        marked alternatives when they sit in another branch of an ``if``/``try``/``match`` than it."""
        found: Dict[str, List[Tuple[cst.FunctionDef, Tuple[Tuple[int, int], ...]]]] = {}
        for node, branches in _scope_definitions(body, ()):
            found.setdefault(node.name.value, []).append((node, branches))
        for name, definitions in found.items():
            if len(definitions) < 2:
                continue
            last_branches = dict(definitions[-1][1])
            for number, (node, branches) in enumerate(definitions[:-1], start=1):
                alternative = any(last_branches.get(point, arm) != arm for point, arm in branches)
                self._definitions[id(node)] = (f"{name}#{number}", alternative)

    # ---- definitions ----------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        unique = self._definitions.get(id(node), (node.name.value, False))[0]
        self.scope.bind(node.name.value, DEFINITION, self._qualname(unique))
        self._plan_definitions(node.body)
        for decorator in node.decorators:
            self.walk(decorator)
        for default in _param_defaults(node.params):
            self.walk(default)
        info = self._enter_function(node, node.name, node.name.value, node.asynchronous is not None, False)
        self.pending.decorators.append((info, self.scope, list(node.decorators)))
        self._class_stack.append(None)
        self._push_scope("function")
        self.scope.function = info
        self._bind_params(node.params)
        self.pending.bodies.append((info, node, self.scope))
        if isinstance(node.body, cst.IndentedBlock):
            self._top_statements.update(id(statement) for statement in node.body.body)
        self.walk(node.body)
        return False

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._pop_scope()
        self._class_stack.pop()
        self._leave_function()

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self._lambda_count += 1
        for default in _param_defaults(node.params):
            self.walk(default)
        info = self._enter_function(node, node, f"<lambda{self._lambda_count}>", False, True)
        self._push_scope("lambda")
        self.scope.function = info
        self._bind_params(node.params)
        self.pending.bodies.append((info, node, self.scope))
        self.walk(node.body)
        return False

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._pop_scope()
        self._leave_function()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qualname = self._qualname(node.name.value)
        self.scope.bind(node.name.value, DEFINITION, qualname)
        info = ClassInfo(qualname=qualname, name=node.name.value, bases=())
        line = node.body.header if isinstance(node.body, cst.IndentedBlock) else node.body.trailing_whitespace
        info.thread_safety = _declared_thread_safety(line.comment, _docstring(node.body))
        self.facts.classes[qualname] = info
        self._plan_definitions(node.body)
        self._positioned.append((info, node.name))
        self.pending.bases.append((info, self.scope, node.bases))
        self._class_stack.append(info)
        self._name_stack.append(node.name.value)
        self._push_scope("class")

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._pop_scope()
        self._name_stack.pop()
        self._class_stack.pop()

    def _visit_comprehension(self, node) -> None:
        self._push_scope("comprehension")
        self._loop_depth[-1] += 1
        self._comprehension_depth += 1
        clause = node.for_in  # its targets are bound before the element runs, though visited after it
        names: Set[str] = set()
        while clause is not None:
            names.update(_target_names(clause.target))
            clause = clause.inner_for_in
        self._varying.append(self._varying[-1] | names)  # a comprehension's names vary in it, not after it

    def _leave_comprehension(self, original_node) -> None:
        self._varying.pop()
        self._pop_scope()
        self._loop_depth[-1] -= 1
        self._comprehension_depth -= 1

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave_comprehension

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target)

    def _enter_loop(self, node) -> None:
        self._loop_depth[-1] += 1

    def _leave_loop(self, original_node) -> None:
        self._loop_depth[-1] -= 1

    visit_While = _enter_loop
    leave_While = _leave_loop

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None:  # ``async with x.request(...)``: the loop awaits it
            self._entered_async.update(id(item.item) for item in node.items)

    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is not None:
            self._entered_async.add(id(node.iter))
        self._loop_depth[-1] += 1  # the target is bound anew each time round: it varies
        self._bind_target(node.target)

    leave_For = _leave_loop

    def visit_Yield(self, node: cst.Yield) -> None:
        if self._function_stack:
            self._function_stack[-1].is_generator = True

    # ---- control flow the fork rule needs ----------------------------------
    def _at_import(self) -> bool:
        """This node runs whenever the module is imported: a module-level statement, outside any if, loop,
        except handler, class body or ``__main__`` guard."""
        return (
            self.scope is self.module_scope
            and not self._function_stack
            and self._module_branches == 0
            and self._loop_depth[0] == 0
            and self._main_guard_depth == 0
        )

    def visit_If(self, node: cst.If) -> None:
        if self.scope is self.module_scope and not self._function_stack:
            self._module_branches += 1
        if self.scope is self.module_scope and _is_main_guard(node.test):
            self._main_guard_depth += 1
            self._main_guards.add(id(node))
            guard = SpanMarker()
            self.position_later(guard, node)
            self.facts.main_guards.append(guard)
        for branch in (node.body, node.orelse.body if isinstance(node.orelse, cst.Else) else None):
            if branch is not None and block_ends_with(branch, (cst.Return, cst.Raise)):
                self._exit_blocks[id(branch)] = len(self._exit_blocks) + 1
        self._enter_guard(node)
        self_name = self._function_stack[-1].self_name if self._function_stack else None
        # a flag the function declares ``global`` (``if not _started: _started = True; ...``): see model/import_time.py
        declared = (
            {name: f"global:{self.facts.module}.{name}" for name in self.scope.globals} if self._function_stack else {}
        )
        test = (
            condition(node.test, self._guard_params[-1], self_name, declared)
            if self._guard_params[-1] or self_name or declared
            else UNKNOWN
        )
        in_loop = self._loop_depth[-1] > 0
        if not in_loop:
            test = forget(test, self._still_passed)  # later bindings of a parameter do not change what it tested
        if mentions(test):
            self._guard_blocks[id(node.body)] = test
            if isinstance(node.orelse, cst.Else):
                self._guard_blocks[id(node.orelse.body)] = negate(test)
            elif isinstance(node.orelse, cst.If):
                self._guard_blocks[id(node.orelse)] = negate(test)
            if in_loop:  # a binding later in the loop body reaches the test the next time round
                self._tests_in_loops.update(id(tree) for tree in (test, *self._guard_blocks_of(node)))

    def _guard_blocks_of(self, node: cst.If) -> List[tuple]:
        branch = node.orelse.body if isinstance(node.orelse, cst.Else) else node.orelse
        return [self._guard_blocks[id(branch)]] if branch is not None and id(branch) in self._guard_blocks else []

    def _still_passed(self, name: str) -> bool:
        """The parameter (or ``self.x``) still holds what the caller passed here: nothing bound it again before."""
        return name.startswith(SELF) or len(self.scope.bindings.get(name, ())) <= 1

    def leave_If(self, original_node: cst.If) -> None:
        if self.scope is self.module_scope and not self._function_stack:
            self._module_branches -= 1
        if id(original_node) in self._main_guards:
            self._main_guard_depth -= 1
        self._leave_guard(original_node)
        test = self._guard_blocks.get(id(original_node.body))
        if (
            test is not None
            and id(original_node) in self._top_statements
            and original_node.orelse is None
            and block_ends_with(original_node.body, (cst.Return, cst.Raise))
        ):
            self._guards[-1].append(negate(test))  # ``if not path: return`` at the top: the rest needs ``path``
        if (
            self._function_stack
            and id(original_node) in self._top_statements
            and original_node.orelse is None
            and block_ends_with(original_node.body, (cst.Return,))
        ):
            info = self._function_stack[-1]
            info.early_returns = (*info.early_returns, (test or UNKNOWN, _returned_literal(original_node.body)))

    def _enter_guard(self, node) -> None:
        if id(node) in self._guard_blocks:
            self._guards[-1].append(self._guard_blocks[id(node)])

    def _leave_guard(self, node) -> None:
        if id(node) in self._guard_blocks:
            self._guards[-1].pop()

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._enter_guard(node)

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite) -> None:
        self._leave_guard(original_node)

    def visit_Try(self, node: cst.Try) -> bool:
        """Calls in the ``try`` body know what is caught around them (a non-blocking socket's
        ``BlockingIOError``)."""
        self._catching.append(tuple(name for handler in node.handlers for name in caught_names(handler)))
        self.walk(node.body)
        self._catching.pop()
        at_module = self.scope is self.module_scope and not self._function_stack
        self._module_branches += at_module  # a handler runs only when the body raised
        for part in node.handlers:
            self.walk(part)
        self._module_branches -= at_module
        for part in (node.orelse, node.finalbody):
            if part is not None:
                self.walk(part)
        return False

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if id(node) in self._exit_blocks:
            self._exit_stack.append(self._exit_blocks[id(node)])
        self._enter_guard(node)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        if id(original_node) in self._exit_blocks:
            self._exit_stack.pop()
        self._leave_guard(original_node)

    # ---- bindings -------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted_name_of(alias.name)
            self._imported.add(full)
            if self._at_import():
                self._import_time_imports.add(full)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind_import(alias.asname.name.value, full)
            else:
                head = full.split(".")[0]
                self._bind_import(head, head)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = import_module_name(node, self.facts.module, self.is_package)
        if module is None or isinstance(node.names, cst.ImportStar):
            return
        self._imported.add(module)
        if self._at_import():
            self._import_time_imports.add(module)
        for alias in node.names:
            name = dotted_name_of(alias.name)
            local = (
                alias.asname.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
                else name
            )
            target = f"{module}.{name}" if module else name
            self._imported.add(target)
            if self._at_import():
                self._import_time_imports.add(target)  # ``from pkg import mod`` imports a submodule
            self._bind_import(local, target)

    def _bind_import(self, local: str, target: str) -> None:
        self.scope.bind(local, IMPORT, target)
        if self.scope is self.module_scope:
            self.facts.module_imports[local] = target

    def visit_Global(self, node: cst.Global) -> None:
        self.scope.globals.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.scope.nonlocals.update(item.name.value for item in node.names)

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.scope is self.module_scope and isinstance(node.value, cst.Dict):  # ``REGISTRY = {"main": Registry()}``
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    for element in node.value.elements:
                        parts = _constructor_parts(element.value) if isinstance(element, cst.DictElement) else None
                        if parts:
                            self.pending.global_elements.append((target.target.value, parts))
        for target in node.targets:
            self._bind_target(target.target, node.value)
            self._class_attribute(target.target, node.value)
            self._module_constant(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind_target(node.target, node.value)
            self._class_attribute(node.target, node.value)
        parts = annotation_parts(node.annotation.annotation)
        elements = element_annotation_parts(node.annotation.annotation)
        if elements:  # ``self.browsers: dict[str, Browser] = {}``, or the same in the class body
            attribute = self._self_attribute(node.target)
            if (
                attribute is None
                and self.scope.kind == "class"
                and isinstance(node.target, cst.Name)
                and self._class_stack
                and self._class_stack[-1] is not None
            ):
                attribute = self._class_stack[-1], node.target.value
            if attribute is not None:
                self.pending.attribute_types.append((attribute[0], element_of(attribute[1]), self.scope, elements))
        if parts and isinstance(node.target, cst.Name):
            binding = self.scope.bind(node.target.value, VALUE)
            self.pending.types.append((binding, self.scope, parts))
            if self.scope.kind == "class" and self._class_stack and self._class_stack[-1] is not None:
                self.pending.attribute_types.append((self._class_stack[-1], node.target.value, self.scope, parts))
        elif parts and isinstance(node.target, cst.Attribute):
            owner = self._current_class()
            if owner is not None and isinstance(node.target.value, cst.Name) and self._is_self(node.target.value.value):
                self.pending.attribute_types.append((owner, node.target.attr.value, self.scope, parts))

    def _module_constant(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if self.scope is self.module_scope and isinstance(target, cst.Name):
            constant = literal(value)
            if constant is not None:
                self.facts.constants[target.value] = constant
            else:
                self.facts.constants.pop(target.value, None)

    def _class_attribute(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if (
            self.scope.kind == "class"
            and isinstance(target, cst.Name)
            and self._class_stack
            and self._class_stack[-1] is not None
        ):
            parts = _constructor_parts(value)
            if parts:
                self.pending.attribute_types.append((self._class_stack[-1], target.value, self.scope, parts))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target)
        self._self_value(node.target, None, False)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._top_line.append(id(node) in self._top_statements)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._top_line.pop()

    def leave_Assign(self, original_node: cst.Assign) -> None:
        for target in original_node.targets:
            self._self_value(target.target, original_node.value, len(original_node.targets) == 1)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._self_value(original_node.target, original_node.value, True)

    def _self_value(self, target: cst.BaseExpression, value: Optional[cst.BaseExpression], plain: bool) -> None:
        """``self.x = ...`` in a method: what it stores, for the constructor's path sensitivity
        (see FunctionInfo.self_values); only a top-level statement's plain value is known."""
        info = self._function_stack[-1] if self._function_stack else None
        if info is None or info.self_name is None or not isinstance(target, cst.Attribute):
            return
        if not (isinstance(target.value, cst.Name) and target.value.value == info.self_name):
            return
        source = UNKNOWN
        if plain and value is not None and self._top_line and self._top_line[-1] and not self._loop_depth[-1]:
            literal_value = constant(value)
            if is_constant(literal_value):
                source = ("value", literal_value)
            elif (
                isinstance(value, cst.Name)
                and value.value in self._guard_params[-1]
                and self._still_passed(value.value)
            ):
                source = ("param", value.value)
            elif isinstance(value, cst.Call) and id(value) in self._call_index:
                source = ("call", self._call_index[id(value)])
        info.self_values = (*info.self_values, (target.attr.value, source, len(self.facts.calls)))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        if isinstance(node.target, cst.Name):
            scope.bind(node.target.value, VALUE)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, node.item)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.scope.bind(node.name.name.value, VALUE)

    def visit_Module(self, node: cst.Module) -> None:
        """Find where autofix would add an import: before the first import, after docstring and __future__."""
        self._module_node = node
        self._plan_definitions(node)
        self.facts.thread_safety = _declared_thread_safety(None, _docstring(node))
        self._module_info = FunctionInfo(MODULE_SCOPE, MODULE_SCOPE, False, False, None, None)
        anchor = None
        for statement in node.body:
            if isinstance(statement, cst.SimpleStatementLine) and statement.body:
                small = statement.body[0]
                if (
                    isinstance(small, cst.Expr)
                    and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))
                    and anchor is None
                ):
                    continue
                if (
                    isinstance(small, cst.ImportFrom)
                    and isinstance(small.module, cst.Name)
                    and small.module.value == "__future__"
                ):
                    continue
            anchor = statement
            break
        if anchor is not None:
            decorators = getattr(anchor, "decorators", ())
            self._positioned.append((_ImportAnchor(self.facts), decorators[0] if decorators else anchor))

    # ---- calls ----------------------------------------------------------
    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))

    def visit_Call(self, node: cst.Call) -> None:
        parts = dotted_parts(node.func)
        owner = self._current_class()
        if (
            owner is None
            and parts
            and len(parts) == 2
            and self._function_stack
            and parts[0] not in self._function_stack[-1].params
        ):
            owner = self._captured_self_class(parts[0])
        call = CallSite(
            callee=None,
            text=".".join(parts) if parts else "",
            function=self._current_function(),
            awaited=id(node) in self._awaited,
            in_loop=self._loop_depth[-1] > 0,
            in_comprehension=self._comprehension_depth > 0,
            receiver_varies=bool(parts) and len(parts) > 1 and parts[0] in self._varying[-1],
            in_main_guard=self._main_guard_depth > 0,
            exit_branch=self._exit_stack[-1] if self._exit_stack else None,
            catches=tuple(name for caught in self._catching for name in caught),
            class_context=owner.qualname if owner else None,
        )
        call.keywords = tuple(_keyword_text(arg) for arg in node.args if arg.keyword is not None)
        for arg in node.args:
            if arg.keyword is not None:
                value = literal(arg.value)
                if value is not None or (isinstance(arg.value, cst.Name) and arg.value.value == "None"):
                    call.literal_keywords[arg.keyword.value] = value
        call.result_at_once = id(node) in self._waited_at_once
        call.small_file = is_small_path(node, self._is_small_name)
        call.entered_async = id(node) in self._entered_async
        call.requires = tuple(self._guards[-1])
        call.at_import = self._at_import()
        position = 0
        for arg in node.args:
            if arg.star:
                break
            where = arg.keyword.value if arg.keyword is not None else position
            position += arg.keyword is None
            value = constant(arg.value)
            if is_constant(value):
                call.constants[where] = value
            elif isinstance(arg.value, cst.Name):
                call.passes[where] = arg.value.value
            else:
                attribute = subject(
                    arg.value, set(), self._function_stack[-1].self_name if self._function_stack else None
                )
                if attribute is not None:
                    call.passes[where] = attribute  # ``self._load(self.path)``: "self.path"
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "result" and not node.args:
            self._waited_at_once.add(id(node.func.value))  # ``pool.submit(f).result()``
        call.unpacks = any(arg.star for arg in node.args)
        names = tuple(
            arg.value.value if isinstance(arg.value, cst.Name) else None for arg in node.args if arg.keyword is None
        )
        self.pending.varies.append((call, names, self._varying[-1]))  # the set grows until the function ends
        if isinstance(node.func, cst.Attribute):
            call.method = node.func.attr.value
        if not parts:
            call.display = _rendered(node.func)
        if node.args and node.args[0].keyword is None and not node.args[0].star:
            call.literal = literal(node.args[0].value)
        self._call_index[id(node)] = len(self.facts.calls)
        self.facts.calls.append(call)
        self._positioned.append((call, node))
        self._positioned.append((_CalleeAnchor(call), node.func))
        seen = len(self.scope.bindings.get(parts[0], ())) if parts else 0
        call.receiver_rebound = len(parts or ()) > 1 and seen > 1
        self.pending.calls.append((call, self.scope, parts, node, seen))

    # ---- finishing ------------------------------------------------------
    def finish(self, module: cst.Module) -> None:
        from conclint.model.accesses import analyse_function_state

        pending = self.pending
        for binding, scope, parts in pending.types:
            binding.value_type = self.resolve_type(scope, parts)
        for binding, scope, name in pending.copies:
            binding.value_type = binding.value_type or scope.value_type(name)
        for owner, attribute, scope, parts in pending.attribute_types:
            resolved = self.resolve_type(scope, parts)
            if resolved and attribute.endswith("[]") and owner.attribute_types.get(attribute, resolved) != resolved:
                owner.attribute_types[attribute] = ""  # a container of two kinds of object: neither is known
            elif resolved:
                owner.attribute_types.setdefault(attribute, resolved)
        for owner, attribute, scope, name in pending.attribute_name_types:
            resolved = scope.value_type(name)
            if resolved:
                owner.attribute_types.setdefault(attribute, resolved)
        for info, scope, bases in pending.bases:
            info.bases = tuple(
                b
                for b in (resolve_dotted(scope, dotted_parts(arg.value) or []) for arg in bases if arg.keyword is None)
                if b
            )
        for info, scope, decorators in pending.decorators:
            names, receivers = [], []
            info.decorator_flags = tuple(
                tuple(
                    arg.keyword.value
                    for arg in decorator.decorator.args
                    if arg.keyword is not None and isinstance(arg.value, cst.Name) and arg.value.value == "True"
                )
                if isinstance(decorator.decorator, cst.Call)
                else ()
                for decorator in decorators
            )
            for decorator in decorators:
                expression = (
                    decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
                )
                parts = dotted_parts(expression) or []
                names.append(resolve_dotted(scope, parts) or ".".join(parts))
                # ``@app.route``: what ``app`` is, or (imported) which module variable it is
                receiver = None
                if len(parts) == 2:
                    receiver = scope.value_type(parts[0]) or resolve_dotted(scope, parts[:1])
                receivers.append(receiver)
            info.decorators = tuple(names)
            info.decorator_receivers = tuple(receivers)
        aliases = set()
        for name, bindings in self.module_scope.bindings.items():
            types = {b.value_type for b in bindings if b.value_type}
            if len(types) == 1:
                self.facts.global_types[name] = types.pop()
                if all(b.type_alias for b in bindings if b.value_type):
                    aliases.add(name)
        self.facts.type_aliases = frozenset(aliases)
        for name, parts in pending.global_elements:  # instances kept in a module dict: one per kind
            resolved = self.resolve_type(self.module_scope, parts)
            if resolved:
                self.facts.global_types.setdefault(element_of(name), resolved)
        for call, scope, parts, node, seen in pending.calls:
            self._resolve_call(call, scope, parts, node, seen)
        for call, names, varying in pending.varies:
            call.arg_varies = tuple(name is not None and name in varying for name in names)
        self.facts.imported_modules = frozenset(self._imported)
        self.facts.import_time_imports = frozenset(self._import_time_imports)
        self._settle_guards()
        for info, node, scope in [(self._module_info, self._module_node, self.module_scope), *pending.bodies]:
            state = analyse_function_state(self, info, node, scope)
            if state is not None:
                self.facts.state[info.qualname] = state
        if self._positioned:
            positions = node_positions(module)
            for fact, node in self._positioned:
                fact.span = _span(positions[node])
        for state in self.facts.state.values():
            for escape in state.escapes:
                start, end, after = escape.region
                begin = (start.span.end_row, start.span.end_col) if after else (start.span.row, start.span.col)
                escape.region = Span(*begin, end.span.end_row, end.span.end_col)
            state.suspension_targets = [marker.target for marker in state.suspension_spans]
            state.suspension_requires = [marker.requires for marker in state.suspension_spans]
            state.suspension_spans = [marker.span for marker in state.suspension_spans]
            state.locked_calls = [marker.span for marker in state.locked_calls]
            state.async_locked_calls = [marker.span for marker in state.async_locked_calls]
            state.child_calls = [marker.span for marker in state.child_calls]
            state.forks_exec_at_once = [marker.span for marker in state.forks_exec_at_once]
            state.owned_calls = [marker.span for marker in state.owned_calls]
            state.scoped_pools = [marker.span for marker in state.scoped_pools]
        self.facts.main_guards = [marker.span for marker in self.facts.main_guards]
        self._positioned.clear()

    def _settle_guards(self) -> None:
        """A parameter assigned again in its function no longer holds what the caller passed: the names
        passed on from it say nothing, nor do tests of it inside a loop (the binding may come round
        before them). A test outside loops was already settled where it stands (``_still_passed``)."""
        held: Dict[str, Set[str]] = {}  # function -> parameters never bound again
        for info, node, scope in self.pending.bodies:
            params = node.params if isinstance(node, (cst.FunctionDef, cst.Lambda)) else None
            names = [p.name.value for p in [*params.posonly_params, *params.params, *params.kwonly_params]]
            held[info.qualname] = {name for name in names if len(scope.bindings.get(name, ())) == 1}

        def holds(names: Set[str], kept: Set[str]) -> bool:
            return all(name in kept or name.startswith(SELF) for name in names)

        for call in self.facts.calls:
            kept = held.get(call.function, set())
            if call.requires:
                forgotten = (
                    forget(tree, lambda name, kept=kept: holds({name}, kept))
                    if id(tree) in self._tests_in_loops
                    else tree
                    for tree in call.requires
                )
                call.requires = tuple(tree for tree in forgotten if tree != UNKNOWN)
            if call.passes:
                call.passes = {where: name for where, name in call.passes.items() if holds({name}, kept)}

    def resolve_type(self, scope: Scope, parts: List[str]) -> Optional[str]:
        """What a constructor or factory call builds: ``sqlite3.connect``, or a method of a
        typed receiver (``conn.cursor()`` -> ``sqlite3.connect.cursor``)."""
        resolved = resolve_dotted(scope, parts)
        if resolved is None and len(parts) == 1:
            alias = scope.lookup(parts[0])  # ``db: DB`` with ``DB = Annotated[Session, ...]`` in this module
            return alias.value_type if alias is not None and alias.type_alias else None
        if resolved is None and len(parts) >= 2:
            function = scope.enclosing_function()
            if len(parts) == 2 and function is not None and function.self_name == parts[0] and function.class_qualname:
                return f"{METHOD_RESULT}{function.class_qualname}.{parts[1]}"  # ``self.make_pool()``: the model knows
            receiver = self.receiver_type(scope, parts[:-1])
            if receiver:
                return f"{receiver}.{parts[-1]}"
        return resolved

    def position_later(self, fact: object, node: cst.CSTNode) -> None:
        self._positioned.append((fact, node))

    def receiver_type(self, scope: Scope, receiver: Optional[List[str]], seen: Optional[int] = None) -> Optional[str]:
        """The type a dotted receiver was built from: a variable, ``self.attr`` or a constructor."""
        if not receiver:
            return None
        if len(receiver) == 1:
            return scope.value_type(receiver[0], seen)
        if len(receiver) == 2:
            function = scope.enclosing_function()
            if function is not None and function.self_name == receiver[0] and function.class_qualname:
                owner = self.facts.classes.get(function.class_qualname)
                if owner is not None:
                    return owner.attribute_types.get(receiver[1])
        return None

    def _resolve_call(
        self, call: CallSite, scope: Scope, parts: Optional[List[str]], node: cst.Call, seen: int
    ) -> None:
        call.callee = resolve_dotted(scope, parts) if parts else None
        if parts and len(parts) >= 2:
            call.receiver_type = self.receiver_type(scope, parts[:-1], seen)
            if call.receiver_type is None:
                head = scope.lookup(parts[0])
                if head is not None and head.kind == IMPORT:
                    call.receiver_object = resolve_dotted(scope, parts[:-1])
        elif isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Subscript):
            # ``self.browsers[key].cancel()``: a method of what the container holds
            container = dotted_parts(node.func.value.value)
            if container and len(container) == 2:
                call.receiver_type = self.receiver_type(scope, [container[0], element_of(container[1])])
        elif isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Call):
            # ThreadPoolExecutor().submit(...), asyncio.get_event_loop().call_soon(...)
            inner = dotted_parts(node.func.value.func)
            if inner:
                call.receiver_type = self.resolve_type(scope, inner)  # ``pool.submit(f).add_done_callback``
        args: List[Optional[Ref]] = []
        for arg in node.args:
            ref = self.reference(arg.value, scope)
            if arg.keyword is not None:
                if ref is not None:
                    call.kwargs[arg.keyword.value] = ref
            elif arg.star:
                break
            else:
                args.append(ref)
        call.args = tuple(args)

    def reference(self, value: cst.BaseExpression, scope: Scope) -> Optional[Ref]:
        """A function (or class) an argument names: ``worker``, ``self.run``, a lambda, a partial."""
        if isinstance(value, cst.Lambda):
            target = self._lambda_names.get(id(value))
            return Ref(target=target, text="lambda") if target else None
        if isinstance(value, cst.Call):
            inner = dotted_parts(value.func)
            if inner and resolve_dotted(scope, inner) == "functools.partial" and value.args:
                return self.reference(value.args[0].value, scope)
            return None
        parts = dotted_parts(value)
        if not parts:
            return None
        ref = Ref(target=resolve_dotted(scope, parts), text=".".join(parts))
        if len(parts) >= 2:
            ref.receiver_type = self.receiver_type(scope, parts[:-1])
        else:
            ref.value_type = scope.value_type(parts[0])
        return ref

    @property
    def _lambda_names(self) -> Dict[int, str]:
        cache = getattr(self, "_lambda_cache", None)
        if cache is None:
            cache = {id(node): info.qualname for info, node, _ in self.pending.bodies if isinstance(node, cst.Lambda)}
            self._lambda_cache = cache
        return cache


class _CalleeAnchor:
    """Receives the callee's span for its call (the autofix replaces just the callee)."""

    def __init__(self, call: CallSite) -> None:
        self.call = call

    @property
    def span(self):
        return self.call.callee_span

    @span.setter
    def span(self, value) -> None:
        self.call.callee_span = value


class _ImportAnchor:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts

    @property
    def span(self):
        return self.facts.import_insertion

    @span.setter
    def span(self, value) -> None:
        self.facts.import_insertion = value


def _docstring(body) -> Optional[str]:
    """The docstring of a module or an indented class body, if it has one."""
    statements = body.body if isinstance(body, (cst.Module, cst.IndentedBlock)) else ()
    first = statements[0] if statements else None
    if isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr):
        value = first.body[0].value
        if isinstance(value, cst.SimpleString):
            return string_value(value)
        if isinstance(value, cst.ConcatenatedString):
            return value.evaluated_value if isinstance(value.evaluated_value, str) else None
    return None


_THREAD_SAFE = re.compile(r"\bthread[- _]?safe(ty)?\b", re.IGNORECASE)
_NOT_THREAD_SAFE = re.compile(
    r"\b(not|n't|never|isn't|aren't|no|non|un)[- ]?(\w+ ){0,2}thread[- _]?safe\b|\bthread[- _]?unsafe\b", re.IGNORECASE
)


_SELF_CLAIM = re.compile(
    r"\b(this|the|it|which)\b[^.]{0,40}\b(is|are)\s+(fully\s+|completely\s+|entirely\s+)?thread[- _]?safe\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(not|never|unsafe)\b|n't\b", re.IGNORECASE)


def _declared_thread_safety(comment: Optional[cst.Comment], docstring: Optional[str]) -> Optional[str]:
    """What a class (or module) says of its own thread safety: ``# conclint: thread-safe`` on
    its line, or its docstring saying it is (or is not) thread-safe."""
    if comment is not None and re.search(r"#\s*conclint:\s*thread-safe\b", comment.value):
        return "thread-safe (# conclint: thread-safe)"
    if docstring:
        if _NOT_THREAD_SAFE.search(docstring):
            return "not thread-safe (its docstring)"
        # a claim about the class itself: in its first sentence ("A thread-safe registry."), or
        # "This class is thread-safe"; not a word about something else ("a (thread safe) write
        # function"), nor "thread safety" alone, nor a docstring that also negates something
        first = re.split(r"\.\s|\n\s*\n", docstring.strip(), maxsplit=1)[0]
        match = _THREAD_SAFE.search(first) or _SELF_CLAIM.search(docstring)
        if match and not _NEGATION.search(docstring) and "safety" not in match.group(0).lower():
            return "thread-safe (its docstring says so)"
    return None


def _is_main_guard(test: cst.BaseExpression) -> bool:
    """``if __name__ == "__main__":``"""
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        sides = [test.left, test.comparisons[0].comparator]
        names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
        strings = [s for s in sides if isinstance(s, cst.SimpleString) and string_value(s) == "__main__"]
        return bool(names and strings)
    return False


def element_of(attribute: str) -> str:
    """The pseudo-attribute that types what the container ``attribute`` holds."""
    return f"{attribute}[]"


def _keyword_text(arg: cst.Arg) -> str:
    name = arg.keyword.value
    if isinstance(arg.value, cst.Name) and arg.value.value in ("False", "None"):
        return f"{name}={arg.value.value}"
    return name


def _self_name(node) -> Optional[str]:
    """The first parameter of a method (``self``/``cls``), unless it is a staticmethod."""
    if isinstance(node, cst.FunctionDef):
        for decorator in node.decorators:
            if isinstance(decorator.decorator, cst.Name) and decorator.decorator.value == "staticmethod":
                return None
    params = [*node.params.posonly_params, *node.params.params]
    return params[0].name.value if params else None


def _constructor_parts(value: cst.BaseExpression) -> Optional[List[str]]:
    """``threading.Lock()`` -> ["threading", "Lock"]; a method of a call's result,
    ``multiprocessing.get_context("spawn").Pool()`` -> ["multiprocessing", "get_context", "Pool"];
    ``await make()`` and others -> None."""
    if isinstance(value, cst.Call):
        func = value.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            inner = dotted_parts(func.value.func)
            return [*inner, func.attr.value] if inner else None
        return dotted_parts(func)
    return None


def _scope_definitions(body, branches: Tuple[Tuple[int, int], ...]):
    """The ``def`` statements of one scope, in order, each with the branches it sits in:
    (id of the ``if``/``try``/``match``, which arm). Nested functions and classes are scopes of their own."""
    statements = body.body if isinstance(body, (cst.Module, cst.IndentedBlock)) else ()
    for statement in statements:
        if isinstance(statement, cst.FunctionDef):
            yield statement, branches
        elif isinstance(statement, cst.If):
            yield from _if_definitions(statement, branches)
        elif isinstance(statement, (cst.Try, cst.TryStar)):
            point = id(statement)
            yield from _scope_definitions(statement.body, (*branches, (point, 0)))
            for arm, handler in enumerate(statement.handlers, start=1):
                yield from _scope_definitions(handler.body, (*branches, (point, arm)))
            if statement.orelse is not None:  # runs after the body: its arm
                yield from _scope_definitions(statement.orelse.body, (*branches, (point, 0)))
            if statement.finalbody is not None:  # runs after either
                yield from _scope_definitions(statement.finalbody.body, branches)
        elif isinstance(statement, cst.Match):
            for arm, case in enumerate(statement.cases):
                yield from _scope_definitions(case.body, (*branches, (id(statement), arm)))
        elif isinstance(statement, (cst.With, cst.For, cst.While)):
            yield from _scope_definitions(statement.body, branches)
            orelse = getattr(statement, "orelse", None)
            if orelse is not None:
                yield from _scope_definitions(orelse.body, branches)


def _if_definitions(node: cst.If, branches: Tuple[Tuple[int, int], ...]):
    point = id(node)
    yield from _scope_definitions(node.body, (*branches, (point, 0)))
    if isinstance(node.orelse, cst.If):
        yield from _if_definitions(node.orelse, (*branches, (point, 1)))
    elif isinstance(node.orelse, cst.Else):
        yield from _scope_definitions(node.orelse.body, (*branches, (point, 1)))


def _rendered(node: cst.BaseExpression) -> str:
    """An expression as a reader knows it, with arguments and subscripts elided: ``open(...).read``."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_rendered(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return f"{_rendered(node.func)}({'...' if node.args else ''})"
    if isinstance(node, cst.Subscript):
        return f"{_rendered(node.value)}[...]"
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return "'...'"
    return "(...)"


def _param_defaults(params: cst.Parameters) -> Sequence[cst.CSTNode]:
    """Defaults are evaluated in the enclosing scope."""
    return [p.default for p in [*params.posonly_params, *params.params, *params.kwonly_params] if p.default is not None]


def _span(position) -> Span:
    (row, col), (end_row, end_col) = position
    return Span(row, col + 1, end_row, end_col + 1)


def collect_facts(module: cst.Module, path: str, module_name: str, is_package: bool) -> ModuleFacts:
    facts = ModuleFacts(path=path, module=module_name)
    collector = FactCollector(facts, is_package)
    collector.walk(module)
    collector.finish(module)
    return facts


def _target_names(target: cst.BaseExpression) -> List[str]:
    """The names a ``for`` target binds: ``x``, ``(k, v)``, ``[a, *rest]``."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in _target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


def _returned_literal(body) -> tuple:
    """``if ...: return None`` (or a bare ``return``, or any literal): ``("value", v)``; UNKNOWN otherwise."""
    statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return UNKNOWN
    smalls = statements[0].body
    if len(smalls) != 1 or not isinstance(smalls[0], cst.Return):
        return UNKNOWN
    value = smalls[0].value
    if value is None:
        return ("value", None)
    literal_value = constant(value)
    return ("value", literal_value) if is_constant(literal_value) else UNKNOWN
