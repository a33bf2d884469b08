"""The single pass over a module's CST that gathers every fact the rules need."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from conclint.engine.findings import Span
from conclint.model.facts import MODULE_SCOPE, CallSite, FunctionInfo, ModuleFacts
from conclint.model.scopes import (
    DEFINITION,
    IMPORT,
    VALUE,
    Scope,
    dotted_name_of,
    dotted_parts,
    import_module_name,
    resolve_dotted,
)


class FactCollector(cst.CSTVisitor):
    def __init__(self, facts: ModuleFacts, is_package: bool) -> None:
        super().__init__()
        self.facts = facts
        self.is_package = is_package
        self.scope = Scope("module", None)
        self._name_stack: List[str] = []  # qualname pieces, "<locals>" after functions
        self._function_stack: List[str] = []
        self._class_stack: List[Optional[str]] = []
        self._awaited: set = set()
        self._lambda_count = 0
        self._imported: set = set()
        # (fact, node) pairs whose spans are filled once positions are known
        self._positioned: List[Tuple[object, cst.CSTNode]] = []
        # calls waiting for name resolution: (call, scope, parts)
        self._unresolved: List[Tuple[CallSite, Scope, Optional[List[str]]]] = []

    # ---- helpers -------------------------------------------------------
    def _qualname(self, name: str) -> str:
        return ".".join([self.facts.module, *self._name_stack, name]) if self.facts.module else ".".join([*self._name_stack, name])

    def _push_scope(self, kind: str) -> None:
        self.scope = Scope(kind, self.scope)

    def _pop_scope(self) -> None:
        assert self.scope.parent is not None
        self.scope = self.scope.parent

    def _current_function(self) -> str:
        return self._function_stack[-1] if self._function_stack else MODULE_SCOPE

    def _bind_target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.scope.bind(target.value, VALUE)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value)

    def _bind_params(self, params: cst.Parameters) -> None:
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            self.scope.bind(param.name.value, VALUE)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self.scope.bind(star.name.value, VALUE)

    def _enter_function(self, anchor: cst.CSTNode, name: str, is_async: bool, is_lambda: bool) -> None:
        qualname = self._qualname(name)
        in_class = bool(self._class_stack) and self.scope.kind == "class"
        info = FunctionInfo(
            qualname=qualname,
            name=name,
            is_async=is_async,
            is_lambda=is_lambda,
            parent=self._function_stack[-1] if self._function_stack else None,
            class_qualname=self._class_stack[-1] if in_class else None,
        )
        self.facts.functions[qualname] = info
        self._positioned.append((info, anchor))
        self._function_stack.append(qualname)
        self._name_stack.extend([name, "<locals>"])

    def _leave_function(self) -> None:
        self._function_stack.pop()
        del self._name_stack[-2:]

    # ---- definitions ----------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.bind(node.name.value, DEFINITION, self._qualname(node.name.value))
        for decorator in node.decorators:
            decorator.visit(self)
        for param in _param_defaults(node.params):
            param.visit(self)
        self._enter_function(node.name, node.name.value, node.asynchronous is not None, False)
        self._class_stack.append(None)
        self._push_scope("function")
        self._bind_params(node.params)
        node.body.visit(self)
        return False

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._pop_scope()
        self._class_stack.pop()
        self._leave_function()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._lambda_count += 1
        for param in _param_defaults(node.params):
            param.visit(self)
        self._enter_function(node, f"<lambda{self._lambda_count}>", False, True)
        self._push_scope("lambda")
        self._bind_params(node.params)
        node.body.visit(self)
        return False

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._pop_scope()
        self._leave_function()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qualname = self._qualname(node.name.value)
        self.scope.bind(node.name.value, DEFINITION, qualname)
        self._class_stack.append(qualname)
        self._name_stack.append(node.name.value)
        self._push_scope("class")

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._pop_scope()
        self._name_stack.pop()
        self._class_stack.pop()

    def _visit_comprehension(self, node) -> None:
        self._push_scope("comprehension")

    def _leave_comprehension(self, original_node) -> None:
        self._pop_scope()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave_comprehension

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target)

    # ---- bindings -------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted_name_of(alias.name)
            self._imported.add(full)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.scope.bind(alias.asname.name.value, IMPORT, full)
            else:
                head = full.split(".")[0]
                self.scope.bind(head, IMPORT, head)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = import_module_name(node, self.facts.module, self.is_package)
        if module is None or isinstance(node.names, cst.ImportStar):
            return
        self._imported.add(module)
        for alias in node.names:
            name = dotted_name_of(alias.name)
            local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
            self._imported.add(f"{module}.{name}" if module else name)
            self.scope.bind(local, IMPORT, f"{module}.{name}" if module else name)

    def visit_Global(self, node: cst.Global) -> None:
        self.scope.globals.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.scope.nonlocals.update(item.name.value for item in node.names)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind_target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        if isinstance(node.target, cst.Name):
            scope.bind(node.target.value, VALUE)

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.scope.bind(node.name.name.value, VALUE)

    # ---- calls ----------------------------------------------------------
    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))

    def visit_Call(self, node: cst.Call) -> None:
        parts = dotted_parts(node.func)
        call = CallSite(
            callee=None,
            text=".".join(parts) if parts else "",
            function=self._current_function(),
            awaited=id(node) in self._awaited,
        )
        self.facts.calls.append(call)
        self._positioned.append((call, node))
        self._unresolved.append((call, self.scope, parts))

    # ---- finishing ------------------------------------------------------
    def finish(self, wrapper: MetadataWrapper) -> None:
        for call, scope, parts in self._unresolved:
            call.callee = resolve_dotted(scope, parts) if parts else None
        self.facts.imported_modules = frozenset(self._imported)
        if self._positioned:
            positions = wrapper.resolve(PositionProvider)
            for fact, node in self._positioned:
                fact.span = _span(positions[node])
        self._positioned.clear()
        self._unresolved.clear()


def _param_defaults(params: cst.Parameters) -> Sequence[cst.CSTNode]:
    """Defaults and annotations are evaluated in the enclosing scope."""
    found: List[cst.CSTNode] = []
    for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
        if param.default is not None:
            found.append(param.default)
    return found


def _span(code_range) -> Span:
    return Span(code_range.start.line, code_range.start.column + 1, code_range.end.line, code_range.end.column + 1)


def collect_facts(module: cst.Module, path: str, module_name: str, is_package: bool) -> ModuleFacts:
    facts = ModuleFacts(path=path, module=module_name)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    collector = FactCollector(facts, is_package)
    wrapper.module.visit(collector)
    collector.finish(wrapper)
    return facts
