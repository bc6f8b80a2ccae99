"""What serve.py serves, read from syntax trees: which classes are KServe models (their bases
followed into the project's own modules), which methods they have, inherited ones included, and
how tracing is enabled (see snitch.facts.tracing). Nothing is imported or run."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from snitch.facts import tracing
from snitch.facts.modules import DefinitionRef, External, Modules

# Fully qualified base classes a serving class may derive from, and the API each one means
# (standard 5 checks that the pinned library has it).
SERVING_BASES = {
    "kserve.Model": "kserve.Model",
    "kserve.model.Model": "kserve.Model",
    "kserve.KFModel": "kserve.KFModel",
    "kserve.kfmodel.KFModel": "kserve.KFModel",
    "kfserving.KFModel": "kfserving.KFModel",
    "kfserving.kfmodel.KFModel": "kfserving.KFModel",
    "kfserving.model.KFModel": "kfserving.KFModel",  # kfserving 0.2
    "kfserving.server.KFModel": "kfserving.KFModel",  # kfserving 0.2
    "kfserving.transformer.Transformer": "kfserving.KFModel",  # kfserving 0.2's transformer base
}
# A message names at most this many classes, methods or patches; a hostile file can hold 10,000.
LISTED = 10

Method = DefinitionRef  # a method: the file it is in, and its FunctionDef


@dataclass(eq=False)
class ServingClass:
    ref: DefinitionRef
    api: str  # one of SERVING_BASES' values
    hierarchy: Hierarchy
    entry: str

    @property
    def name(self) -> str:
        return self.ref.node.name

    @property
    def declaration(self) -> str:
        return f"class {self.name} ({self.place(self.ref)})"

    def place(self, ref: DefinitionRef) -> str:
        """"line 12" in serve.py, "src/models/base.py, line 12" elsewhere."""
        return f"line {ref.node.lineno}" if ref.path == self.entry else ref.where

    def method(self, name: str) -> Method | None:
        """The method `name` as Python finds it: the class's own, else the first base's, left to right."""
        return self.hierarchy.method(self.ref, name)

    @property
    def methods(self) -> dict[str, Method]:
        """Every method the class has, own and inherited, first definition winning."""
        found: dict[str, Method] = {}
        for ancestor in self.hierarchy.ancestry(self.ref):
            for name, method in _own_methods(ancestor).items():
                found.setdefault(name, method)
        return found


@dataclass
class ServeAnalysis:
    classes: list[ServingClass]
    other_classes: list[str]
    tracing: list[tracing.Tracing]  # ddtrace-run first, then serve.py's in source order, then other modules'
    deprecated_patch_all: list[int]
    server_start: str | None  # where the server starts: "line 40" or "app/main.py, line 12"
    problems: dict[str, str] = field(default_factory=dict)  # project modules that could not be read
    questions: dict = field(default_factory=dict)  # what was asked of the project's files (Modules.questions)


class Hierarchy:
    """Class facts that follow the bases, memoised and computed without recursion, so a chain of
    10,000 classes costs linear time and no stack."""

    def __init__(self, modules: Modules):
        self.modules = modules
        self._bases: dict[DefinitionRef, list] = {}
        self._answers: dict[str, dict[DefinitionRef, object]] = {}

    def bases(self, cls: DefinitionRef) -> list:
        if cls not in self._bases:
            module = self.modules.module(cls.path)
            self._bases[cls] = [self.modules.resolve(module, base) for base in cls.node.bases] if module else []
        return self._bases[cls]

    def class_bases(self, cls: DefinitionRef) -> list[DefinitionRef]:
        return [base for base in self.bases(cls) if _is_class(base)]

    def first_along_bases(self, question: str, cls: DefinitionRef, own: Callable[[DefinitionRef], object]):
        """own(cls) if it is not None, else the first base's answer that is not None, bases taken
        left to right, depth first. Memoised per question; a base cycle counts as no answer."""
        memo = self._answers.setdefault(question, {})
        stack, waiting = [cls], set()
        while stack:
            current = stack[-1]
            if current in memo:
                stack.pop()
                continue
            answer = own(current)
            if answer is None:
                bases = self.class_bases(current)
                pending = [base for base in bases if base not in memo and base not in waiting]
                if pending and current not in waiting:
                    waiting.add(current)
                    stack.extend(reversed(pending))
                    continue
                answer = next((memo[base] for base in bases if memo.get(base) is not None), None)
            memo[current] = answer
            waiting.discard(current)
            stack.pop()
        return memo[cls]

    def api(self, cls: DefinitionRef) -> str | None:
        return self.first_along_bases("api", cls, self._own_api)

    def _own_api(self, cls: DefinitionRef) -> str | None:
        for base in self.bases(cls):
            if isinstance(base, External) and base.name in SERVING_BASES:
                return SERVING_BASES[base.name]
        return None

    def method_owner(self, cls: DefinitionRef, name: str) -> tuple[DefinitionRef, Method] | None:
        """The class that defines the method `name` Python finds for `cls`, and the method."""

        def own(current: DefinitionRef):
            method = _own_methods(current).get(name)
            return (current, method) if method else None

        return self.first_along_bases(f"method {name}", cls, own)

    def method(self, cls: DefinitionRef, name: str) -> Method | None:
        found = self.method_owner(cls, name)
        return found[1] if found else None

    def ancestry(self, cls: DefinitionRef) -> list[DefinitionRef]:
        """The class and its project ancestors in lookup order (depth first, left to right)."""
        order, seen, pending = [], set(), [cls]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            order.append(current)
            pending.extend(reversed(self.class_bases(current)))
        return order


def _is_class(reference) -> bool:
    return isinstance(reference, DefinitionRef) and isinstance(reference.node, ast.ClassDef)


def _own_methods(cls: DefinitionRef) -> dict[str, Method]:
    methods: dict[str, Method] = {}
    for item in cls.node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods.setdefault(item.name, Method(cls.path, item))
    return methods


def serving_classes(modules: Modules, hierarchy: Hierarchy, entry: str) -> tuple[list[ServingClass], list[str]]:
    """The classes serve.py serves: the serving classes it defines, except those another of them
    extends, and the serving classes of other project modules that it uses (instantiates, lists)."""
    module = modules.module(entry)
    defined = [DefinitionRef(entry, node) for node in module.index.classes]
    serving = [cls for cls in defined if hierarchy.api(cls)]
    extended = {base for cls in serving for base in hierarchy.class_bases(cls)}
    chosen = {cls: None for cls in serving if cls not in extended}  # a dict: ordered, and a set
    for reference in _used_classes(modules, module, defined):
        if reference.path != entry and hierarchy.api(reference):
            chosen.setdefault(reference)
    others = [cls for cls in defined if not hierarchy.api(cls)]
    listed = [f"{cls.node.name}({_bases_text(modules, module, cls.node)})" for cls in others[:LISTED]]
    return [ServingClass(cls, hierarchy.api(cls), hierarchy, entry) for cls in chosen], listing(listed, len(others))


def listing(items: list[str], total: int | None = None) -> list[str]:
    """The first LISTED items, and how many more there are (of `total`, when only some were made)."""
    total = len(items) if total is None else total
    return items[:LISTED] + ([f"and {total - LISTED} more"] if total > LISTED else [])


def _used_classes(modules: Modules, module, defined: list[DefinitionRef]):
    """Project classes serve.py refers to outside class statements' base lists."""
    base_expressions = {id(base) for cls in defined for base in cls.node.bases}
    used = [name for name in module.index.names if id(name) not in base_expressions]
    used += [call.func for call in module.index.calls if isinstance(call.func, ast.Attribute)]
    leads_in: dict[str, bool] = {}  # root name -> may_lead_into_project(), asked once per name
    for expression in used:
        root = expression
        while type(root) is ast.Attribute:
            root = root.value
        if type(root) is not ast.Name:
            continue  # resolve() answers None
        if root.id not in leads_in:
            leads_in[root.id] = may_lead_into_project(modules, module, root.id)
        if leads_in[root.id]:
            reference = modules.resolve(module, expression)
            if _is_class(reference):
                yield reference


def may_lead_into_project(modules: Modules, module, name: str) -> bool:
    """Could `name` or `name.attribute...`, read at the top level of `module`, resolve to something
    another project module defines? Not when the name is unbound (a builtin or a local: External),
    a definition of this module (its own class or function, whose attributes are not followed),
    or outside the project (External, and so are its attributes): resolve() would find nothing
    there, and read no module to find it."""
    binding = module.bindings.get(name)
    if (binding is None and not module.star_imports) or (binding and binding[0] == "definition"):
        return False
    return not isinstance(modules.lookup(module, name), External)


def _bases_text(modules: Modules, module, node: ast.ClassDef) -> str:
    return ", ".join(modules.snippet(module, base) for base in node.bases) or "object"


def sets_ready(method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Does the method assign `self.ready` a value that is not a false constant? A bare
    annotation (`self.ready: bool`) assigns nothing."""
    for node in ast.walk(method):
        if isinstance(node, ast.Assign):
            pairs = [(target, node.value) for target in node.targets]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            pairs = [(node.target, node.value)]
        else:
            continue
        for target, value in pairs:
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
                pairs += list(zip(target.elts, value.elts))
            elif _is_self_ready(target) and not (isinstance(value, ast.Constant) and not value.value):
                return True
    return False


def _is_self_ready(target: ast.expr) -> bool:
    return (
        isinstance(target, ast.Attribute)
        and target.attr == "ready"
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    )


def _calls_super_load(method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for node in ast.walk(method):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "load"
            and isinstance(node.func.value, ast.Call)
            and isinstance(node.func.value.func, ast.Name)
            and node.func.value.func.id == "super"
        ):
            return True
    return False


def load_sets_ready(cls: ServingClass) -> bool:
    """Does the load() Python finds for the class set self.ready? A load() that calls
    `super().load()` counts when the next load() up the bases does, or when it reaches the
    library's own Model.load() (kserve's and kfserving's set ready)."""
    hierarchy = cls.hierarchy
    found, seen = hierarchy.method_owner(cls.ref, "load"), set()
    while found is not None and found[0] not in seen:
        owner, method = found
        seen.add(owner)
        if sets_ready(method.node):
            return True
        if not _calls_super_load(method.node):
            return False
        found = next(filter(None, (hierarchy.method_owner(base, "load") for base in hierarchy.class_bases(owner))), None)
    return found is None


def analyse(project, entry: str = "serve.py") -> ServeAnalysis:
    project.python(entry)  # a missing or broken serve.py fails the checks with its own FileProblem
    modules = Modules(project, entry)
    hierarchy = Hierarchy(modules)
    classes, others = serving_classes(modules, hierarchy, entry)
    ways, patch_all, start = tracing.entry_tracing(modules, hierarchy, entry)
    modules.text_hash("Dockerfile")  # its command may be ddtrace-run
    launcher = tracing.ddtrace_run(project, entry)
    return ServeAnalysis(
        classes, others, [launcher] * bool(launcher) + ways, patch_all, start, dict(modules.problems), modules.questions
    )
