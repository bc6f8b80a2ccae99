"""When serve.py turns Datadog tracing on, compared with when its server starts.

serve.py's run as a script is followed statically, in order: its module-level statements (also
under if/try/with/for/while, both branches of an `if`, `if __name__ == "__main__":` included),
the top level of the project modules it imports, and the bodies of the functions that code calls
(transitively, each function at its first call). Method calls are not followed: which object a
call goes to is not known without running the code. Nothing is imported or run.

A `ddtrace.patch(...)` or `import ddtrace.auto` counts only if this run reaches it before the
first `ModelServer(...).start(...)`. `ddtrace-run` in the Dockerfile's command counts too: it
turns tracing on before serve.py's first line runs."""

from __future__ import annotations

import ast
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath

from snitch.facts.modules import DefinitionRef, External, Modules, Scope, top_level_statements
from snitch.violation import FileProblem

# The classes whose .start() starts a KServe (or kfserving) server.
SERVER_CLASSES = frozenset({"ModelServer", "KFServer"})
PATCH = "ddtrace.patch"
PATCH_ALL = "ddtrace.patch_all"
_IMPORTS = frozenset({ast.Import, ast.ImportFrom})


@dataclass
class Tracing:
    """One way the project turns on ddtrace, and whether it happens before the server starts."""

    frameworks: tuple[str, ...]  # ("fastapi",), ("tornado",), or ("*",) for ddtrace.auto / ddtrace-run
    source: str
    where: str  # "line 12" in serve.py, "tracing.py, line 3" or "Dockerfile, line 30" elsewhere
    runs_before_server: bool = False
    why_not: str = ""  # what keeps it from running before the server starts

    def __str__(self) -> str:
        return f"`{self.source}` ({self.where}) {self.why_not}"


def _own_expressions(statement: ast.stmt) -> list[ast.AST]:
    """The parts of a statement that run when the statement itself runs (not its nested blocks)."""
    if isinstance(statement, (ast.If, ast.While)):
        return [statement.test]
    if isinstance(statement, (ast.For, ast.AsyncFor)):
        return [statement.iter]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in statement.items]
    if isinstance(statement, ast.Match):
        return [statement.subject]
    if isinstance(statement, (ast.Try, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
        return []
    if hasattr(ast, "TryStar") and isinstance(statement, ast.TryStar):
        return []
    return [statement]


def _calls_in(module, statement: ast.stmt) -> list[ast.Call]:
    """The calls of the statement's own expressions, in source order (once per tree: see Summary)."""
    calls = module.summary.own_calls.get(id(statement))
    if calls is None:
        calls = [node for part in _own_expressions(statement) for node in ast.walk(part) if isinstance(node, ast.Call)]
        calls = module.summary.own_calls[id(statement)] = sorted(calls, key=lambda call: (call.lineno, call.col_offset))
    return calls


def _tracing_kind(modules: Modules, module, node: ast.AST) -> tuple[str, tuple[str, ...]] | None:
    """("patch", frameworks), ("auto", ("*",)) or ("patch_all", ()) for a node that turns ddtrace on."""
    if isinstance(node, ast.Import) and any(alias.name == "ddtrace.auto" for alias in node.names):
        return "auto", ("*",)
    if isinstance(node, ast.ImportFrom) and node.module == "ddtrace" and not node.level:
        if any(alias.name == "auto" for alias in node.names):
            return "auto", ("*",)
    if isinstance(node, ast.Call) and _may_be_ddtrace(module, node.func):
        reference = modules.resolve(module, node.func)
        if reference == External(PATCH):
            frameworks = tuple(
                keyword.arg
                for keyword in node.keywords
                if keyword.arg and isinstance(keyword.value, ast.Constant) and keyword.value.value is True
            )
            return "patch", frameworks
        if reference == External(PATCH_ALL):
            return "patch_all", ()
    return None


def _may_be_ddtrace(module, function: ast.expr) -> bool:
    """Could the called expression resolve to ddtrace's patch or patch_all? Only if it is a dotted
    name whose first name is not a definition of this module, and, when the module does not bind
    that name at all (a builtin, a local: it means itself), only if the name is `ddtrace`."""
    root = function
    while type(root) is ast.Attribute:
        root = root.value
    if type(root) is not ast.Name:
        return False
    binding = module.bindings.get(root.id)
    if binding is None and not module.star_imports:
        return root.id == "ddtrace"
    return binding is None or binding[0] != "definition"


def _written(modules: Modules, module) -> list[tuple[ast.AST, tuple, Scope]]:
    """Every tracing node in the module, with the function or method it sits in."""
    index, summary = module.index, module.summary
    if summary.tracing_candidates is None:  # what _tracing_kind can tell from the tree alone, once per tree
        summary.tracing_candidates = [
            node for node in index.imports + index.calls
            if not isinstance(node, ast.Call) or _may_be_ddtrace(module, node.func)
        ]
    found = []
    for node in summary.tracing_candidates:
        kind = _tracing_kind(modules, module, node)
        if kind:
            found.append((node, kind, index.scopes[id(node)]))
    return sorted(found, key=lambda item: (item[0].lineno, item[0].col_offset))


class StartupRun:
    """serve.py's run as a script, followed statically up to and past the first server start."""

    def __init__(self, modules: Modules, hierarchy, entry: str):
        self.modules = modules
        self.hierarchy = hierarchy
        self.entry = entry
        self.start: tuple[str, int] | None = None
        self.before: set[int] = set()  # ids of tracing nodes reached before the server starts
        self.after: set[int] = set()
        self.elsewhere: list[Tracing] = []  # tracing reached in other project modules
        self._entered: set[int] = set()  # functions and modules whose body has been followed
        self._server_variables: dict[str, set[str]] = {}

    def follow(self) -> None:
        module = self.modules.module(self.entry)
        self._entered.add(id(module.tree))
        frames = [self._actions(module, module.tree.body)]
        while frames:  # a stack of generators, not recursion: call chains may be thousands deep
            action = next(frames[-1], None)
            if action is None:
                frames.pop()
                continue
            module, node = action
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._reached(module, node)
                frames.extend(self._imported_bodies(module, node))
            else:
                frames.extend(self._call(module, node))

    def place(self, path: str, line: int) -> str:
        return f"line {line}" if path == self.entry else f"{path}, line {line}"

    @property
    def start_place(self) -> str | None:
        return self.place(*self.start) if self.start else None

    def _actions(self, module, body):
        imported = module.path != self.entry and body is module.tree.body
        calling = module.index.calling_statements
        for statement in top_level_statements(body, into_classes=True, imported=imported):
            if type(statement) in _IMPORTS:
                yield module, statement
            elif id(statement) in calling:  # else no call in it has it as nearest statement: none of its own
                for call in _calls_in(module, statement):
                    yield module, call

    def _imported_bodies(self, module, statement):
        """Generators over the top level of the project modules an import statement runs."""
        if isinstance(statement, ast.Import):
            paths = [self.modules.find(alias.name) for alias in statement.names]
        else:
            package = self.modules.find(statement.module or "", statement.level, module)
            paths = [package] + [  # a package outside the project has its submodules there too
                self.modules.find(f"{statement.module or ''}.{alias.name}", statement.level, module)
                for alias in statement.names
                if alias.name != "*" and package is not None
            ]
        for path in paths:
            imported = self.modules.module(path) if path and path.endswith(".py") else None
            if imported is not None and id(imported.tree) not in self._entered:
                self._entered.add(id(imported.tree))
                yield self._actions(imported, imported.tree.body)

    def _call(self, module, call: ast.Call) -> list:
        """Note what the call does; the frame to follow if it calls a project function first."""
        self._reached(module, call)
        if self.start is None and self._starts_server(module, call):
            self.start = (module.path, call.lineno)
        reference = self.modules.resolve(module, call.func)
        if (
            isinstance(reference, DefinitionRef)
            and isinstance(reference.node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and id(reference.node) not in self._entered
        ):
            self._entered.add(id(reference.node))
            function_module = self.modules.module(reference.path)
            if function_module is not None:
                return [self._actions(function_module, reference.node.body)]
        return []

    def _reached(self, module, node) -> None:
        kind = _tracing_kind(self.modules, module, node)
        if kind is None:
            return
        name, frameworks = kind
        if name == "patch_all":
            return
        (self.before if self.start is None else self.after).add(id(node))
        if module.path != self.entry:
            way = Tracing(frameworks, self.modules.snippet(module, node), self.place(module.path, node.lineno))
            way.runs_before_server = self.start is None
            if not way.runs_before_server:
                way.why_not = f"runs after the server starts at {self.start_place}"
            self.elsewhere.append(way)

    def _starts_server(self, module, call: ast.Call) -> bool:
        """`ModelServer(...).start(...)`, or `.start(...)` on a name assigned a ModelServer."""
        function = call.func
        if not (isinstance(function, ast.Attribute) and function.attr == "start"):
            return False
        receiver = function.value
        if isinstance(receiver, ast.Call):
            return self._is_server_class(module, receiver.func)
        return isinstance(receiver, ast.Name) and receiver.id in self._servers_assigned(module)

    def _is_server_class(self, module, expression: ast.expr) -> bool:
        reference = self.modules.resolve(module, expression)
        if isinstance(reference, External):
            return reference.name.rsplit(".", 1)[-1] in SERVER_CLASSES
        if isinstance(reference, DefinitionRef) and isinstance(reference.node, ast.ClassDef):
            return bool(self.hierarchy.first_along_bases("server", reference, self._own_server_base))
        return False

    def _own_server_base(self, cls: DefinitionRef) -> bool | None:
        bases = self.hierarchy.bases(cls)
        return any(isinstance(b, External) and b.name.rsplit(".", 1)[-1] in SERVER_CLASSES for b in bases) or None

    def _servers_assigned(self, module) -> set[str]:
        if module.path not in self._server_variables:
            names = set()
            for node in module.index.assignments:
                if isinstance(node.value, ast.Call) and self._is_server_class(module, node.value.func):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names.update(target.id for target in targets if isinstance(target, ast.Name))
            self._server_variables[module.path] = names
        return self._server_variables[module.path]


def _why_not(scope: Scope, run: StartupRun, reached_after: bool) -> str:
    start = run.start_place
    if reached_after:
        if scope.label:
            return f"is inside {scope.label}, which runs only after the server starts at {start}"
        return f"runs after the server starts at {start}"
    before = f"before the server starts at {start}" if start else f"when {run.entry} runs"
    if scope.kind == "method":
        return f"is inside the method {scope.label}: snitch cannot see it run {before}"
    if scope.kind == "test":
        return f"is inside {scope.label}, a test function: pytest runs it, not {run.entry}"
    if scope.label:
        return f"is inside {scope.label}, which nothing calls {before}"
    return f"does not run {before}"


def entry_tracing(modules: Modules, hierarchy, entry: str) -> tuple[list[Tracing], list[int], str | None]:
    """Every way serve.py turns ddtrace on (and the project modules it runs do), each judged;
    the lines that call the deprecated patch_all(); where the server starts."""
    run = StartupRun(modules, hierarchy, entry)
    run.follow()
    module = modules.module(entry)
    ways, patch_all = [], []
    for node, (name, frameworks), scope in _written(modules, module):
        if name == "patch_all":
            patch_all.append(node.lineno)
            continue
        way = Tracing(frameworks, modules.snippet(module, node), run.place(entry, node.lineno))
        way.runs_before_server = id(node) in run.before
        if not way.runs_before_server:
            way.why_not = _why_not(scope, run, id(node) in run.after)
        ways.append(way)
    return ways + run.elsewhere, patch_all, run.start_place


def ddtrace_run(project, entry: str) -> Tracing | None:
    """`ddtrace-run ... serve.py` as the image's command (ENTRYPOINT + CMD of the final stage)."""
    try:
        stage = project.dockerfile()
    except FileProblem:
        return None  # standard 6 reports a broken Dockerfile
    words, line = [], None
    for instruction in (stage.entrypoint, stage.cmd):
        if instruction:
            line = line or instruction[0]
            words += [part for word in instruction[1] for part in _shell_words(word)]
    names = [PurePosixPath(word).name for word in words]
    if "ddtrace-run" in names and PurePosixPath(entry).name in names[names.index("ddtrace-run") :]:
        return Tracing(("*",), "ddtrace-run", f"Dockerfile, line {line}", runs_before_server=True)
    return None


def _shell_words(word: str) -> list[str]:
    """A word, or the words of a shell command line (`sh -c "ddtrace-run python serve.py"`)."""
    if " " not in word:
        return [word]
    try:
        return shlex.split(word)
    except ValueError:
        return word.split()
