"""The checked project, read once: every file is read and parsed at most once per run and shared
by all checks. Nothing here imports or executes the project's code."""

from __future__ import annotations

import ast
import errno
import functools
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from snitch.read import cache, dockerfile, files, requirements
from snitch.read.safe_yaml import YamlProblem, load_documents_cached
from snitch.violation import FileProblem

# No file a standard looks at is legitimately this large; refuse rather than read 50 MB into memory.
MAX_FILE_BYTES = files.MAX_BYTES
# What pathlib's exists() takes for "not there" (anything else, e.g. permission denied, is raised).
_ABSENT = {errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP}
# Syntax nested deeper than this is no hand-written code, and walking it recursively (as ast's
# visitors do) would exhaust Python's stack; CPython's own parser stops at 200 nested brackets.
MAX_PYTHON_NESTING = 200
# Python sources parsed in this process, shared by every Project: the projects of a fleet rendered
# from one template keep many Python files unchanged (serve.py, train.py, tests/...), and no
# check changes a syntax tree. A tree takes some 40 bytes of memory per character of source, so
# only a source seen a second time is kept (a file every project has its own copy of, such as
# model.py with the model's name in it, never is), only if it passed every check, and up to this
# many characters of source in all (the oldest go first).
_PARSED_SOURCE_BUDGET = 2 * 1024 * 1024  # about 80 MB of trees
_SEEN_SOURCES_KEPT = 100_000  # hashes of the sources seen once, forgotten all at once past this
_seen_once: set[int] = set()
_parsed: dict[str, ast.Module] = {}


# Nodes whose height never varies: leaves, and a name with its Load, Store or Del below it.
_FIXED_HEIGHT = {
    kind: 1
    for kind in (ast.Constant, ast.Load, ast.Store, ast.Del, ast.Pass, ast.Break, ast.Continue, ast.alias)
    + tuple(op for base in (ast.operator, ast.unaryop, ast.cmpop, ast.boolop) for op in base.__subclasses__())
} | {ast.Name: 2}


def nests_deeper_than(tree: ast.AST, limit: int = MAX_PYTHON_NESTING) -> bool:
    """Does the syntax tree nest more than `limit` levels deep? Walked without recursion, reading the
    fields directly (three times faster than ast.iter_child_nodes), and stopping at the first node
    past `limit`. Leaves and statements too short to reach past `limit` (see _short) are judged
    without being queued."""
    pending = [(tree, 1)]
    while pending:
        node, level = pending.pop()
        if level > limit:
            return True
        below = level + 1
        room = limit - below  # levels a child may hold below itself
        for name in node._fields:
            value = getattr(node, name, None)
            for child in value if isinstance(value, list) else (value,):
                height = _FIXED_HEIGHT.get(type(child))
                if height is not None:
                    if height > room + 1:
                        return True
                elif isinstance(child, ast.AST) and not _short(child, room):
                    pending.append((child, below))
    return False


def _short(node: ast.AST, room: int) -> bool:
    """Is `node` a statement on one line too short to hold more than `room` levels below itself?
    A statement of n bytes holds at most 2n + 1: every child's source is shorter than its parent's
    except an expression statement's value, a `with` item's expression and a lone parameter
    (never two such steps in a row), and the leaves without source (Load, Store, Del, an empty
    parameter list) sit below a node with at least one byte. A decorator lies outside its
    statement's span, so a decorated statement is never short."""
    return (
        isinstance(node, ast.stmt)
        and node.lineno == node.end_lineno
        and 2 * (node.end_col_offset - node.col_offset) + 1 <= room
        and not getattr(node, "decorator_list", None)
    )


def _remember_parsed(source: str, tree: ast.Module) -> None:
    if len(source) > _PARSED_SOURCE_BUDGET:
        return
    if hash(source) not in _seen_once:
        if len(_seen_once) >= _SEEN_SOURCES_KEPT:
            _seen_once.clear()
        _seen_once.add(hash(source))
        return
    _parsed[source] = tree
    while sum(map(len, _parsed)) > _PARSED_SOURCE_BUDGET:
        del _parsed[next(iter(_parsed))]


def _memoised(method):
    """Cache a reader's result, or the FileProblem it raised, per project and arguments."""

    @functools.wraps(method)
    def reader(self, *args):
        return self._kept((method.__name__, *args), lambda: method(self, *args))

    return reader


@functools.cache
def _parser_version() -> bytes:
    """What decides whether a text parses: this module (the nesting bound) and Python's grammar."""
    return cache.code_version(__file__, sys.version)


def _unusable(relative: str, problem: files.Unreadable) -> FileProblem:
    return FileProblem(
        relative, str(problem), f"a UTF-8 text file under {MAX_FILE_BYTES // 1024 // 1024} MiB", problem.fix.format(file=relative),
    )


class Project:
    def __init__(self, root: Path, model: str):
        self.root = root.resolve()
        self.model = model
        self._cache: dict = {}
        self._real_folders: dict[str, bool] = {}  # folder -> a real folder, not a symlink (see locate)

    def forget(self) -> None:
        """Drop everything read, parsed and derived. What refers back to the project (a serving
        analysis) forms a cycle only the garbage collector frees, after walking all the trees it
        keeps alive."""
        self._cache.clear()

    def derived(self, key: str, compute: Callable[[Project], object]):
        """A fact a layer above derives from this project's files (serve.py's summary, see
        snitch.facts.serve_summary.of), computed once per run like every reader's result: the
        first ask calls `compute(self)`; later asks get its result, or its FileProblem again,
        until forget(). This module reads; it never knows what is derived."""
        return self._kept(("derived", key), lambda: compute(self))

    def _kept(self, key: tuple, read: Callable[[], object]):
        if key not in self._cache:
            try:
                self._cache[key] = (True, read())
            except FileProblem as problem:
                self._cache[key] = (False, problem)
        ok, value = self._cache[key]
        if not ok:
            try:
                raise value.with_traceback(None)  # else every re-raise lengthens the same traceback
            finally:
                del value  # the traceback holds this frame: it must not hold the problem in turn
        return value

    def locate(self, relative: str) -> Path | None:
        """The file's path if it exists inside the project, None if it does not exist.

        A symlink that leads outside the project is a FileProblem: following it would let a
        repository make snitch read (and report) files that are not part of it."""
        try:  # one lstat answers "neither a file nor a symlink" for most asks (import resolution probes)
            mode = os.lstat(os.path.join(self.root, relative)).st_mode
        except OSError as error:
            if error.errno in _ABSENT:
                return None
            raise FileProblem(  # e.g. a folder on the way that cannot be read (chmod 000 tests/)
                relative, f"cannot be reached ({(error.strerror or str(error)).lower()})", "a readable file",
                f"make {relative} and the folders above it readable",
            ) from None
        except ValueError:  # a NUL in the name: no such file can exist
            return None
        path = self.root / relative
        if not stat.S_ISLNK(mode) and self._no_symlink_above(relative):
            return path  # what resolve() would answer, without its lstat of every folder up to /
        try:
            resolved = path.resolve()
        except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError on a loop, later ones OSError
            raise FileProblem(
                relative, "is a symlink loop", "an existing file", f"replace the symlink {relative} with the real file"
            ) from None
        if not resolved.is_relative_to(self.root):
            raise FileProblem(
                relative,
                f"is a symlink that points outside the project (to {resolved})",
                "every file a standard looks at lives inside the project",
                f"replace the symlink with the real file: `cp --remove-destination {resolved} {relative}`",
            )
        if not resolved.exists():
            raise FileProblem(
                relative, "is a broken symlink", "an existing file", f"restore its target or replace {relative}"
            )
        return resolved

    def _no_symlink_above(self, relative: str) -> bool:
        """Is every folder between the project root and `relative` a real folder (no symlink, no
        `..` or `.`)? Then `root/relative` is the resolved path. Each folder is asked once."""
        parts = relative.split("/")
        if relative.startswith("/") or any(part in ("", ".", "..") for part in parts):
            return False
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in self._real_folders:
                try:
                    self._real_folders[folder] = stat.S_ISDIR(os.lstat(os.path.join(self.root, folder)).st_mode)
                except (OSError, ValueError):
                    self._real_folders[folder] = False
            if not self._real_folders[folder]:
                return False
        return True

    def exists(self, relative: str) -> bool:
        try:
            return self.locate(relative) is not None
        except FileProblem:
            return True  # it is there; the check that reads it reports the problem

    @_memoised
    def data(self, relative: str) -> bytes:
        """The file's bytes (for files a tool reads as bytes, as git reads .gitignore)."""
        path = self.locate(relative)
        if path is None:
            raise FileProblem(
                relative,
                "does not exist",
                f"the project has {relative} (standard 2 lists the required files)",
                f"create {relative}; a freshly rendered model-project-template project has a working one",
            )
        try:
            return files.read_bytes(path, MAX_FILE_BYTES)
        except files.Unreadable as problem:
            raise _unusable(relative, problem) from None

    @_memoised
    def text(self, relative: str) -> str:
        try:
            return files.decode(self.data(relative))
        except files.Unreadable as problem:
            raise _unusable(relative, problem) from None

    @_memoised
    def python(self, relative: str) -> ast.Module:
        source = self.text(relative)
        if source in _parsed:
            return _parsed[source]
        try:
            tree = ast.parse(source, filename=relative)
        except SyntaxError as error:
            raise FileProblem(
                relative,
                f"has a syntax error at line {error.lineno}: {error.msg}",
                "valid Python",
                f"fix the syntax error (`python -m py_compile {relative}` shows it)",
                line=error.lineno,
            ) from None
        except (RecursionError, MemoryError):
            tree = None  # nested too deeply for the parser itself: reported below like any deep tree
        except ValueError as error:
            raise FileProblem(relative, f"cannot be parsed: {error}", "valid Python", f"fix {relative}") from None
        if tree is None or nests_deeper_than(tree):
            raise FileProblem(
                relative,
                f"nests expressions or statements more than {MAX_PYTHON_NESTING} levels deep",
                "Python a person can read and a parser can walk",
                f"split the deeply nested expression in {relative} into named parts",
            )
        _remember_parsed(source, tree)
        return tree

    def check_parses(self, relative: str) -> None:
        """python(relative)'s FileProblem when the module does not parse. A text that parsed before
        (with this snitch and this Python) is not parsed again: its yes is in snitch's cache."""
        entry_key = cache.key(_parser_version(), self.text(relative).encode())
        if cache.read("parsed", entry_key) is None:
            self.python(relative)
            cache.store("parsed", entry_key, "true")

    @_memoised
    def yaml(self, relative: str):
        """The file's main document: the last one, since GitLab puts a `spec:` header document first."""
        try:
            documents = load_documents_cached(self.text(relative))
        except YamlProblem as problem:
            raise FileProblem(relative, str(problem), "valid, plain YAML", f"correct {relative}") from None
        return documents[-1] if documents else None

    def yaml_mapping(self, relative: str) -> dict:
        document = self.yaml(relative)
        if not isinstance(document, dict):
            raise FileProblem(
                relative,
                f"holds a YAML {type(document).__name__}, not a mapping",
                "a YAML mapping at the top level",
                f"correct {relative}",
            )
        return document

    @_memoised
    def requirements(self) -> list[requirements.Line]:
        return requirements.parse(self.text("requirements.txt"))

    @_memoised
    def dockerfile(self) -> dockerfile.FinalStage:
        try:
            return dockerfile.final_stage(self.text("Dockerfile"))
        except dockerfile.DockerfileProblem as problem:
            raise FileProblem(
                "Dockerfile", str(problem), "a Dockerfile that `buildah build` accepts", "correct the Dockerfile"
            ) from None

    @_memoised
    def git(self):
        """The project's git repository (GitInfo), or None outside one."""
        from snitch.read.git import open_repository

        return open_repository(self.root)
