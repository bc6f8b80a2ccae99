"""What serve.py does, read from its syntax tree: which names mean which kserve/kfserving/ddtrace
objects (any import form or alias), which classes are serving classes, and how tracing is enabled."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

# Fully qualified base classes a serving class may derive from, and the API each one means.
SERVING_BASES = {
    "kserve.Model": "kserve.Model",
    "kserve.model.Model": "kserve.Model",
    "kserve.KFModel": "kserve.KFModel",
    "kserve.kfmodel.KFModel": "kserve.KFModel",
    "kfserving.KFModel": "kfserving.KFModel",
    "kfserving.kfmodel.KFModel": "kfserving.KFModel",
}


@dataclass
class ServingClass:
    node: ast.ClassDef
    api: str  # one of SERVING_BASES' values
    methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)

    @property
    def declaration(self) -> str:
        return f"class {self.node.name} (line {self.node.lineno})"


@dataclass
class Tracing:
    """One way serve.py turns on ddtrace."""

    line: int
    frameworks: tuple[str, ...]  # ("fastapi",), ("tornado",), or ("*",) for ddtrace.auto
    source: str
    inside: str | None  # the enclosing function's name, None at module level


@dataclass
class ServeAnalysis:
    classes: list[ServingClass]
    other_classes: list[str]
    tracing: list[Tracing]
    deprecated_patch_all: list[int]
    server_start_lines: list[int]


def _import_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> fully qualified name, for every import anywhere in the module."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    aliases[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def qualified_name(expression: ast.expr, aliases: dict[str, str]) -> str | None:
    """`ks.Model` with `import kserve as ks` -> "kserve.Model"; None for anything not a dotted name."""
    parts = []
    while isinstance(expression, ast.Attribute):
        parts.append(expression.attr)
        expression = expression.value
    if not isinstance(expression, ast.Name):
        return None
    parts.append(aliases.get(expression.id, expression.id))
    return ".".join(reversed(parts))


def _serving_classes(tree: ast.Module, aliases: dict[str, str]) -> tuple[list[ServingClass], list[str]]:
    """Classes deriving from a serving base, directly or through another class in the file."""
    definitions = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    api_of: dict[str, str] = {}
    changed = True
    while changed:  # propagate through in-file inheritance chains
        changed = False
        for cls in definitions:
            if cls.name in api_of:
                continue
            for base in cls.bases:
                name = qualified_name(base, aliases)
                api = SERVING_BASES.get(name) or api_of.get(name)
                if api:
                    api_of[cls.name] = api
                    changed = True
                    break
    by_name = {cls.name: cls for cls in definitions}
    # A base class that another serving class extends is not served itself: check the leaves.
    extended = {
        ancestor.name
        for cls in definitions
        if cls.name in api_of
        for ancestor in _in_file_ancestry(cls, by_name, aliases)[1:]
    }
    serving = []
    for cls in definitions:
        if cls.name not in api_of or cls.name in extended:
            continue
        methods: dict = {}
        for ancestor in _in_file_ancestry(cls, by_name, aliases):
            for item in ancestor.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    methods.setdefault(item.name, item)
        serving.append(ServingClass(cls, api_of[cls.name], methods))
    others = [
        f"{cls.name}({', '.join(ast.unparse(base) for base in cls.bases) or 'object'})"
        for cls in definitions
        if cls.name not in api_of
    ]
    return serving, others


def _in_file_ancestry(cls: ast.ClassDef, by_name: dict, aliases: dict) -> list[ast.ClassDef]:
    chain, seen = [cls], {cls.name}
    for current in chain:
        for base in current.bases:
            name = qualified_name(base, aliases)
            if name in by_name and name not in seen:
                seen.add(name)
                chain.append(by_name[name])
    return chain


def _enclosing_functions(tree: ast.Module) -> dict[int, str]:
    """id(node) -> name of the innermost function containing it."""
    owner: dict[int, str] = {}
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if node is not function:
                    owner[id(node)] = function.name  # inner functions are walked later and win
    return owner


def _tracing(tree: ast.Module, aliases: dict[str, str]) -> tuple[list[Tracing], list[int]]:
    owner = _enclosing_functions(tree)
    found, patch_all = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "ddtrace.auto" for a in node.names):
            found.append(Tracing(node.lineno, ("*",), "import ddtrace.auto", owner.get(id(node))))
        elif isinstance(node, ast.ImportFrom) and node.module == "ddtrace" and any(
            a.name == "auto" for a in node.names
        ):
            found.append(Tracing(node.lineno, ("*",), "from ddtrace import auto", owner.get(id(node))))
        elif isinstance(node, ast.Call):
            name = qualified_name(node.func, aliases)
            if name == "ddtrace.patch":
                frameworks = tuple(
                    keyword.arg
                    for keyword in node.keywords
                    if keyword.arg and isinstance(keyword.value, ast.Constant) and keyword.value.value is True
                )
                found.append(Tracing(node.lineno, frameworks, ast.unparse(node), owner.get(id(node))))
            elif name == "ddtrace.patch_all":
                patch_all.append(node.lineno)
    return found, patch_all


def _server_starts(tree: ast.Module, aliases: dict[str, str]) -> list[int]:
    """Lines that call .start() on a ModelServer (directly, or on a variable assigned one)."""
    servers: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            if (qualified_name(node.value.func, aliases) or "").endswith("ModelServer"):
                servers.update(t.id for t in node.targets if isinstance(t, ast.Name))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "start":
            receiver = node.func.value
            if isinstance(receiver, ast.Call):
                receiver = receiver.func
            name = qualified_name(receiver, aliases) or ""
            if name.endswith("ModelServer") or name in servers:
                lines.append(node.lineno)
    return sorted(lines)


def analyse(tree: ast.Module) -> ServeAnalysis:
    aliases = _import_aliases(tree)
    classes, others = _serving_classes(tree, aliases)
    tracing, patch_all = _tracing(tree, aliases)
    return ServeAnalysis(classes, others, tracing, patch_all, _server_starts(tree, aliases))


def sets_ready(method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Does the method assign `self.ready = True` (or a truthy expression) somewhere?"""
    for node in ast.walk(method):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "ready"
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and not (isinstance(node.value, ast.Constant) and not node.value.value)
            ):
                return True
    return False
