"""The project's own Python modules as the interpreter would find them, resolved statically.

Given a name used in a module (`kserve.Model`, `LLM`, `models.base.Base`), say what it refers to:
a class or function defined in one of the project's files, one of the project's modules, or
something outside the project (by its fully qualified name). Imports are followed through
packages (`__init__.py` or namespace folders), relative imports and re-exports, from the roots
Python would search when `serve.py` runs: serve.py's folder (and the folder above the package it
is in, if any), the project root and `src/`.

Every file is read and parsed through `Project` (once per run), nothing is imported or run, and
the work is bounded: at most MAX_MODULES files are read, and every loop is iterative (an
inheritance or re-export chain thousands long does not exhaust the interpreter's stack).
It is also cheap: each module is walked once (its Index), every search and answer is memoised
for the run, and what provably cannot matter is skipped (a constant assignment, a path under a
folder that does not exist), so a 25,000-statement serve.py costs little more than its parse.
"""

from __future__ import annotations

import ast
import hashlib
import os
import weakref
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from snitch.violation import FileProblem

# A model server imports a handful of its own modules; a run that reads more is hostile input.
MAX_MODULES = 200
# A folder is listed to answer "is X there?" only if it holds at most this many entries.
MAX_LISTED = 10_000
# `Alias = other_module.Name` chains are followed this deep, no deeper.
MAX_ALIAS_NESTING = 50
# Only a module's first `from x import *` lines are searched for names it does not bind (each
# unknown name costs a pass over them).
MAX_STAR_IMPORTS = 32
# Libraries snitch knows are installed, never the project's: a folder of the same name in the
# project (say `kserve/` holding manifests) is not what `import kserve` loads.
INSTALLED = frozenset({"kserve", "kfserving", "ddtrace"})

Definition = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class External:
    """Something outside the project, by its fully qualified name ("kserve.Model")."""

    name: str


@dataclass(frozen=True)
class ModuleRef:
    path: str  # relative to the project root: "pkg/mod.py", "pkg/__init__.py", or "pkg" for a namespace package


@dataclass(frozen=True)
class DefinitionRef:
    """A class or function defined at the top level (or under if/try/with) of a project module."""

    path: str
    node: Definition

    @property
    def where(self) -> str:
        return f"{self.path}, line {self.node.lineno}"


Reference = External | ModuleRef | DefinitionRef


@dataclass(frozen=True)
class Scope:
    """The function a node sits in: None at module level (class bodies included)."""

    label: str | None  # "setup()", "Classifier.predict()"
    kind: str  # "module", "function", "method" or "test"


MODULE_SCOPE = Scope(None, "module")


@dataclass
class Index:
    """The nodes of one module the analyses look at, gathered in a single walk of its tree."""

    classes: list[ast.ClassDef] = field(default_factory=list)
    imports: list[ast.Import | ast.ImportFrom] = field(default_factory=list)
    calls: list[ast.Call] = field(default_factory=list)
    names: list[ast.Name] = field(default_factory=list)  # names read (Load context)
    assignments: list[ast.Assign | ast.AnnAssign] = field(default_factory=list)
    scopes: dict[int, Scope] = field(default_factory=dict)  # id(call or import) -> its scope
    calling_statements: set[int] = field(default_factory=set)  # id of each statement nearest above a call


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Fields that never hold a node the index records, nor one above such a node.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "names", "id", "attr", "arg", "name", "kind", "type_comment", "module",
                          "level", "conversion", "simple", "is_async", "asname", "tag"})


def _node_classes(base: type = ast.AST):
    for kind in base.__subclasses__():
        yield kind
        yield from _node_classes(kind)


# Each node class's fields to walk, last first (the walk's stack pops them in order).
_WALKED = {kind: tuple(name for name in reversed(kind._fields) if name not in _LEAF_FIELDS) for kind in _node_classes()}


def _holds_nothing_indexed(statement: ast.stmt) -> bool:
    """`NAME = constant` (a generated table can hold thousands): no call, name read, import or class."""
    return (
        type(statement) is ast.Assign
        and type(statement.value) is ast.Constant
        and not [target for target in statement.targets if type(target) is not ast.Name]
    )


def _index(tree: ast.Module) -> Index:
    index = Index()
    for top in tree.body:
        if _holds_nothing_indexed(top):
            index.assignments.append(top)
        else:
            _index_statement(index, top)
    return index


def _index_statement(index: Index, top: ast.stmt) -> None:
    """Depth first, in field order, without recursion. The function, class and statement a node
    sits in change only at statements: entering one pushes the ones around it, restored when the
    walk gets back to them (a tuple on the stack)."""
    calls, names, scopes = index.calls, index.names, index.scopes
    scope, class_name, statement = MODULE_SCOPE, None, top
    pending: list = [top]
    while pending:
        node = pending.pop()
        kind = type(node)
        if kind is tuple:
            scope, class_name, statement = node
            continue
        if kind is ast.Name:
            if type(node.ctx) is ast.Load:
                names.append(node)
            continue
        if kind is ast.Constant:
            continue
        if kind is ast.Call:
            calls.append(node)
            scopes[id(node)] = scope
            index.calling_statements.add(id(statement))
        elif isinstance(node, ast.stmt):
            if kind is ast.Import or kind is ast.ImportFrom:
                index.imports.append(node)
                scopes[id(node)] = scope
                continue  # holds only the imported names
            if kind is ast.Assign or kind is ast.AnnAssign:
                index.assignments.append(node)
                if _holds_nothing_indexed(node):
                    continue
            pending.append((scope, class_name, statement))
            statement = node
            if kind in _FUNCTIONS:
                if class_name:
                    scope = Scope(f"{class_name}.{node.name}()", "method")
                else:
                    scope = Scope(f"{node.name}()", "test" if node.name.startswith("test") else "function")
            if kind is ast.ClassDef:
                index.classes.append(node)
                class_name = node.name  # a method is a function right in the class's body
            else:
                class_name = None
        for name in _WALKED.get(kind, ()):  # nothing for a None or str a list field holds
            value = getattr(node, name, None)
            if type(value) is list:
                pending.extend(reversed(value))
            elif value is not None:
                pending.append(value)


@dataclass
class Summary:
    """What the analyses read of one module's tree: its Index and its top-level bindings. It
    depends on the tree alone, and the projects of a fleet share the trees of identical sources
    (snitch.read.project), so it is made once per tree and shared with them."""

    index: Index
    bindings: dict[str, tuple] = field(default_factory=dict)  # name -> how it is bound, see _bind
    star_imports: list[tuple] = field(default_factory=list)  # (dotted, level) of each `import *`
    # What snitch.facts.tracing derives from the tree alone, filled as it asks.
    own_calls: dict[int, list[ast.Call]] = field(default_factory=dict)  # statement id -> its own calls
    tracing_candidates: list | None = None  # the imports and calls that may turn ddtrace on


# Each tree's Summary, for as long as the tree lives.
_summaries: weakref.WeakKeyDictionary[ast.Module, Summary] = weakref.WeakKeyDictionary()


def summary(tree: ast.Module) -> Summary:
    found = _summaries.get(tree)
    if found is None:
        found = _summaries[tree] = Summary(_index(tree))
        _bind(tree, found)
    return found


@dataclass
class Module:
    path: str
    tree: ast.Module | None  # None for a namespace package (a folder without __init__.py)

    def __post_init__(self):
        self.summary = summary(self.tree) if self.tree is not None else Summary(Index())
        self.index, self.bindings, self.star_imports = self.summary.index, self.summary.bindings, self.summary.star_imports

    @property
    def folder(self) -> PurePosixPath:
        """The package relative imports start from: the file's folder (a package's own folder)."""
        return PurePosixPath(self.path) if self.tree is None else PurePosixPath(self.path).parent


# The statements that hold statements which run with them.
_BLOCKS = frozenset(
    {ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match}
    | ({ast.TryStar} if hasattr(ast, "TryStar") else set())
)

# The statements that bind a module-level name (an assignment only when it aliases a dotted name).
_BINDING = frozenset({ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Import, ast.ImportFrom})
_DOTTED = frozenset({ast.Name, ast.Attribute})


def top_level_statements(body: list[ast.stmt], into_classes: bool = False, imported: bool = False):
    """Statements that run when a module's (or function's) body runs, in order: descends into
    if/try/with/for/while/match, not into functions, and into class bodies only if asked (they
    run, but the names they bind are the class's, not the module's). In an `imported` module the
    body of `if __name__ == "__main__":` does not run."""
    bodies = [iter(body)]  # a stack of the statement lists being run, innermost last
    while bodies:
        for statement in bodies[-1]:
            yield statement
            kind = type(statement)
            if kind is ast.ClassDef and into_classes:
                bodies.append(iter(statement.body))
                break
            if kind in _BLOCKS:
                bodies.append(iter(_nested_statements(statement, imported)))
                break
        else:
            bodies.pop()


def _nested_statements(statement: ast.stmt, imported: bool) -> list[ast.stmt]:
    nested = []
    skipped = ("body",) if imported and _is_main_guard(statement) else ()
    for name in ("body", "orelse", "finalbody"):
        if name in skipped:
            continue
        nested += getattr(statement, name, None) or []
    for handler in getattr(statement, "handlers", None) or []:
        nested += handler.body
    for case in getattr(statement, "cases", None) or []:
        nested += case.body
    return nested


class Modules:
    """The project's modules reachable from one entry file, read on demand."""

    def __init__(self, project, entry: str):
        self.project = project
        self.entry = entry
        self._modules: dict[str, Module | None] = {}
        self.problems: dict[str, str] = {}  # path -> why it could not be read
        # Every question asked of the project's files, and its answer: ("kind", path) -> "file",
        # "folder", "other" or None (nothing there); ("text", path) -> the text's hash, or None.
        # The analysis is a function of these answers alone (snitch.facts.serve_analysis caches it on them).
        self.questions: dict[tuple[str, str], str | None] = {}
        self._absences: dict[str, bool] = {}  # path -> nothing there
        self._listings: dict[str, frozenset[str] | None] = {}  # folder -> the names in it, see _names_in
        entry_folder = PurePosixPath(entry).parent
        roots = [entry_folder, self._above_package(entry_folder), PurePosixPath("."), PurePosixPath("src")]
        self.roots = list(dict.fromkeys(roots))
        self._nesting = 0
        self._looked_up: dict[tuple[str, str], Reference] = {}
        self._resolved: dict[tuple[str, ...], Reference | None] = {}  # (path, name, attributes reversed) -> resolve()
        self._found: dict[tuple, str | None] = {}  # find()'s answers
        self._searched: dict[tuple, str | None] = {}  # _find_in()'s answers
        self._lines: dict[str, list[str]] = {}

    # Finding and reading files.

    def module(self, path: str) -> Module | None:
        """The parsed module at `path`, None if it cannot be read (the reason is in `problems`)."""
        if path in self._modules:
            return self._modules[path]
        if len(self._modules) >= MAX_MODULES:
            self.problems[path] = f"not read: snitch follows at most {MAX_MODULES} modules"
            return None
        module = None
        if path.endswith(".py"):
            try:
                self.text_hash(path)
                module = Module(path, self.project.python(path))
            except FileProblem as problem:
                self.problems[path] = problem.found
        else:
            module = Module(path, None)
        self._modules[path] = module
        return module

    def text_hash(self, path: str) -> str | None:
        """The hash of the file's text, None when it cannot be read (recorded as a question)."""
        key = ("text", path)
        if key not in self.questions:
            try:
                self.questions[key] = hashlib.sha256(self.project.text(path).encode()).hexdigest()
            except FileProblem:
                self.questions[key] = None
        return self.questions[key]

    def kind(self, relative: PurePosixPath | str) -> str | None:
        """"file", "folder" or "other" when `relative` exists inside the project, else None (a
        symlink out of it is None too, with its reason in `problems`)."""
        key = ("kind", str(relative))
        if key not in self.questions:
            try:
                located = None if self._absent(key[1]) else self.project.locate(key[1])
            except FileProblem as problem:
                self.problems[key[1]] = problem.found
                located = None
            if located is None:
                self.questions[key] = None
            else:
                self.questions[key] = "file" if located.is_file() else "folder" if located.is_dir() else "other"
        return self.questions[key]

    def _absent(self, relative: str) -> bool:
        """Is there no file, folder or symlink at all at `relative` (so none below it either)? Then
        project.locate() would answer None; the folder's listing (or an lstat), and nothing below
        a folder already absent, is cheaper. Any other error is left for locate() to meet."""
        unknown = []
        while relative not in ("", ".") and relative not in self._absences:
            unknown.append(relative)
            relative = os.path.dirname(relative)
        absent = self._absences.get(relative, False)
        for path in reversed(unknown):  # outermost folder first
            if not absent:
                folder, name = os.path.split(path)
                names = self._names_in(folder)
                if names is not None:
                    absent = name not in names
                else:
                    try:
                        os.lstat(os.path.join(self.project.root, path))
                    except (FileNotFoundError, NotADirectoryError):
                        absent = True
                    except OSError:
                        pass
            self._absences[path] = absent
        return absent

    def _names_in(self, folder: str) -> frozenset[str] | None:
        """The names in a project folder, listed once: the listing answers every probe there (an
        import is looked for as a package, a file and a folder, under each root). None for a
        folder that cannot be listed or holds more than MAX_LISTED entries (then lstat answers)."""
        if folder not in self._listings:
            names = set()
            try:
                with os.scandir(os.path.join(self.project.root, folder)) as entries:
                    for entry in entries:
                        names.add(entry.name)
                        if len(names) > MAX_LISTED:
                            names = None
                            break
            except OSError:
                names = None
            self._listings[folder] = frozenset(names) if names is not None else None
        return self._listings[folder]

    def _above_package(self, folder: PurePosixPath) -> PurePosixPath:
        """The folder holding the outermost package around `folder`: where `python -m pkg` runs,
        and what an installed package puts on the path (`pkg/__main__.py` importing `pkg.model`)."""
        while folder != PurePosixPath(".") and self.kind(folder / "__init__.py") is not None:
            folder = folder.parent
        return folder

    def _find_in(self, folder: PurePosixPath, parts: list[str]) -> str | None:
        """The module `parts` below `folder` (the folder itself without parts): a package's
        __init__.py, a .py file, or a namespace folder, in the order Python's finder tries them."""
        key = (folder, *parts)
        if key not in self._searched:
            self._searched[key] = self._search(folder, parts)
        return self._searched[key]

    def _search(self, folder: PurePosixPath, parts: list[str]) -> str | None:
        target = _below(str(folder), *parts)  # strings, not PurePosixPath: this runs for every import
        candidates = [_below(target, "__init__.py")]
        if parts:
            candidates.append(target + ".py")
        for candidate in candidates:
            if self.kind(candidate) == "file":
                return candidate
        return target if self.kind(target) == "folder" else None

    def find(self, dotted: str, level: int = 0, importer: Module | None = None) -> str | None:
        """The project path of module `dotted` imported (with `level` leading dots) from `importer`;
        None for a module outside the project."""
        key = (dotted, level, importer.folder if level and importer else None)
        if key not in self._found:
            self._found[key] = self._find(dotted, level, importer)
        return self._found[key]

    def _find(self, dotted: str, level: int, importer: Module | None) -> str | None:
        parts = [part for part in dotted.split(".") if part]
        if level:
            if importer is None:
                return None
            folder = importer.folder
            for _ in range(level - 1):
                if folder == PurePosixPath("."):
                    return None  # above the project root
                folder = folder.parent
            return self._find_in(folder, parts)
        if not parts or parts[0] in INSTALLED:
            return None
        for root in self.roots:
            found = self._find_in(root, parts)
            if found:
                return found
        return None

    def snippet(self, module: Module, node: ast.AST, limit: int = 80) -> str:
        """The node's source text on one line, shortened. (ast.unparse recurses, and
        ast.get_source_segment splits the whole file on every call; this does neither.)"""
        if module.path not in self._lines:
            self._lines[module.path] = self.project.text(module.path).splitlines()
        last = node.end_lineno - 1
        shown = [line.encode() for line in self._lines[module.path][node.lineno - 1 : min(last, node.lineno + 3) + 1]]
        if node.lineno - 1 + len(shown) - 1 == last:
            shown[-1] = shown[-1][: node.end_col_offset]
        shown[0] = shown[0][node.col_offset :]
        text = " ".join(b" ".join(shown).decode(errors="replace").split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    # Resolving names.

    def resolve(self, module: Module, expression: ast.expr) -> Reference | None:
        """What a dotted name (`a`, `a.b.c`) used in `module` refers to; None if not a dotted name."""
        parts = []
        while isinstance(expression, ast.Attribute):
            parts.append(expression.attr)
            expression = expression.value
        if not isinstance(expression, ast.Name):
            return None
        key = (module.path, expression.id, *parts)
        if not self._nesting and key in self._resolved:
            return self._resolved[key]
        reference = self.lookup(module, expression.id)
        for attribute in reversed(parts):
            reference = self.member(reference, attribute)
        if not self._nesting:  # inside an alias chain the answer may be cut short at MAX_ALIAS_NESTING
            self._resolved[key] = reference
        return reference

    def _resolve_nested(self, module: Module, expression: ast.expr) -> Reference | None:
        """resolve() from inside a lookup: aliases of aliases across modules nest, so bound them."""
        if self._nesting >= MAX_ALIAS_NESTING:
            return None
        self._nesting += 1
        try:
            return self.resolve(module, expression)
        finally:
            self._nesting -= 1

    def lookup(self, module: Module, name: str) -> Reference:
        """What `name` means at the top level of `module`, following aliases and re-exports.

        Every name passed on the way redirects to the same answer, so all of them are memoised:
        a chain of n aliases costs n steps once, not n steps per name."""
        chain = []
        while (module.path, name) not in self._looked_up:
            if (module.path, name) in chain:
                answer = External(name)  # a cycle: nothing the interpreter could import either
                break
            chain.append((module.path, name))
            step = self._step(module, name)
            if not isinstance(step, tuple):
                answer = step
                break
            module, name = step
        else:
            answer = self._looked_up[(module.path, name)]
        for key in chain:
            self._looked_up[key] = answer
        return answer

    def _step(self, module: Module, name: str) -> Reference | tuple[Module, str]:
        """What `name` is bound to in `module`: an answer, or the (module, name) it redirects to."""
        binding = module.bindings.get(name) or self._star_binding(module, name)
        if binding is None:
            return External(name)  # a builtin, or a name snitch cannot see defined
        kind = binding[0]
        if kind == "definition":
            return DefinitionRef(module.path, binding[1])
        if kind == "module":  # import a.b.c as x: x is a.b.c; import a.b.c: a
            path = self.find(binding[1])
            return ModuleRef(path) if path else External(binding[1])
        if kind == "expression":  # Alias = Name or Alias = package.Name
            if isinstance(binding[1], ast.Name):
                return module, binding[1].id
            return self._resolve_nested(module, binding[1]) or External(name)
        _, dotted, level, imported = binding  # from dotted import imported
        source = self.find(dotted, level, module)
        if source is None:
            return External(f"{dotted}.{imported}" if dotted else imported)
        source_module = self.module(source)
        if source_module is None:
            return ModuleRef(source)  # unreadable: the caller reports it through `problems`
        if imported not in source_module.bindings and not source_module.star_imports:
            submodule = self._find_in(source_module.folder, [imported]) if _is_package(source) else None
            if submodule:
                return ModuleRef(submodule)
        return source_module, imported

    def member(self, reference: Reference | None, attribute: str) -> Reference | None:
        """What `reference.attribute` is; None when snitch does not follow it (attributes of
        classes and functions, names a module does not define)."""
        if isinstance(reference, External):
            return External(f"{reference.name}.{attribute}")
        if not isinstance(reference, ModuleRef):
            return None
        module = self.module(reference.path)
        if module is None:
            return None
        if attribute in module.bindings or module.star_imports:
            return self.lookup(module, attribute)
        submodule = self._find_in(module.folder, [attribute]) if _is_package(reference.path) else None
        return ModuleRef(submodule) if submodule else None

    def _star_binding(self, module: Module, name: str) -> tuple | None:
        for dotted, level in module.star_imports:
            source = self.find(dotted, level, module)
            if source is None:
                return ("from", dotted, 0, name)  # `from kserve import *` then `Model`
            source_module = self.module(source)
            if source_module is not None and name in source_module.bindings:
                return ("from", dotted, level, name)
        return None



def _bind(tree: ast.Module, into: Summary) -> None:
    """Record what each top-level name is bound to, as Python leaves it once the module has run:
    a later binding replaces an earlier one (`from keras.models import Model` then `from kserve
    import Model` is kserve's), except one that runs only instead of another: an `except`
    handler's (the `try` branch of `try: import new / except ImportError: import old` counts), an
    `else` of an `if` or a later `match` case, which never replace what an earlier branch bound.

    Imports inside functions are recorded too (after the top-level ones, never replacing them),
    since serve.py often imports what `main()` uses inside `main()`."""
    at_top = set()
    for statement, alternative in _statements_in_order(tree.body):
        kind = type(statement)
        if kind in _BINDING or (kind is ast.Assign and type(statement.value) in _DOTTED):
            if kind is ast.Import or kind is ast.ImportFrom:
                at_top.add(id(statement))
            _bind_statement(into, statement, replaces=not alternative)
    for statement in into.index.imports:
        if id(statement) not in at_top:
            _bind_statement(into, statement, replaces=False)


def _statements_in_order(body: list[ast.stmt]):
    """(statement, alternative) for each statement top_level_statements yields, in the same
    order; `alternative` when it runs only instead of an earlier branch (see _bind)."""
    runs = [iter([(statement, False) for statement in body])]
    while runs:
        for statement, alternative in runs[-1]:
            yield statement, alternative
            if type(statement) in _BLOCKS:
                runs.append(iter(_branches(statement, alternative)))
                break
        else:
            runs.pop()


def _branches(statement: ast.stmt, alternative: bool) -> list[tuple[ast.stmt, bool]]:
    if isinstance(statement, ast.If):
        first, instead = statement.body, statement.orelse
    elif isinstance(statement, ast.Match):
        first = statement.cases[0].body if statement.cases else []
        instead = [inner for case in statement.cases[1:] for inner in case.body]
    else:  # try (its handlers run instead of its body), loops and with: in order
        first = [*statement.body, *getattr(statement, "orelse", []), *getattr(statement, "finalbody", [])]
        instead = [inner for handler in getattr(statement, "handlers", None) or [] for inner in handler.body]
    return [(inner, alternative) for inner in first] + [(inner, True) for inner in instead]


def _bind_statement(into: Summary, statement: ast.stmt, replaces: bool) -> None:
    bindings = into.bindings

    def bind(name: str, value: tuple) -> None:
        if replaces or name not in bindings:
            bindings[name] = value

    if isinstance(statement, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        bind(statement.name, ("definition", statement))
    elif isinstance(statement, ast.Import):
        for alias in statement.names:
            bound = alias.name if alias.asname else alias.name.split(".")[0]
            bind(alias.asname or bound, ("module", bound))
    elif isinstance(statement, ast.ImportFrom):
        for alias in statement.names:
            if alias.name != "*":
                bind(alias.asname or alias.name, ("from", statement.module or "", statement.level, alias.name))
            elif len(into.star_imports) < MAX_STAR_IMPORTS:
                into.star_imports.append((statement.module or "", statement.level))
    elif isinstance(statement, ast.Assign) and _is_dotted_name(statement.value):
        for target in statement.targets:
            if isinstance(target, ast.Name):
                bind(target.id, ("expression", statement.value))


def _is_main_guard(statement: ast.stmt) -> bool:
    """`if __name__ == "__main__":`"""
    test = getattr(statement, "test", None) if isinstance(statement, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _is_dotted_name(expression: ast.expr) -> bool:
    while isinstance(expression, ast.Attribute):
        expression = expression.value
    return isinstance(expression, ast.Name)


def _below(folder: str, *names: str) -> str:
    """`folder/names...` spelled as str(PurePosixPath(folder, *names)) spells it."""
    return "/".join(names if folder == "." else (folder, *names)) or folder


def _is_package(path: str) -> bool:
    return path.endswith("__init__.py") or not path.endswith(".py")
