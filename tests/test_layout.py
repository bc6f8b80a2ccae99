"""The source layout is the architecture (docs/extending.md, "The layout"): each folder of
src/snitch is a layer and imports only the layers below it. Read from the source with `ast`, so
an import inside a function counts as much as one at the top."""

import ast
import importlib.util
from pathlib import Path

import pytest

from snitch.standards.document import load

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "snitch"

# What each layer may import, besides itself and the base (`snitch`, `snitch.violation`), which
# every module may use. Lower layers first.
MAY_IMPORT = {
    "read": set(),
    "facts": {"read"},
    "standards": {"read", "facts"},
    "engine": {"read", "facts", "standards"},
    "reports": {"read", "facts", "standards", "engine"},
    "fixes": {"read", "facts", "standards", "engine"},
    "fleet": {"read", "facts", "standards", "engine", "reports"},
    # The shared pipeline's command shares the snitch command's handling of its output streams.
    "pipeline": {"read", "facts", "standards", "snitch.cli.streams"},
    "cli": {"read", "facts", "standards", "engine", "reports", "fixes", "fleet", "pipeline"},
    "testing": {"read", "facts", "standards", "engine"},  # snitch.testing: the API a standard's tests use
    "__main__": {"cli"},
}
BASE = ("__version__", "violation")  # snitch itself (its version) and snitch.violation


def layer_of(module: str) -> str:
    """The layer of a module (or a name in it) under `snitch`: its folder, or its own name at
    the top; "base" for snitch itself and snitch.violation."""
    parts = module.split(".")
    return "base" if len(parts) == 1 or parts[1] in BASE else parts[1]


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(tree: ast.Module, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every snitch module `tree` imports, with its line: `from snitch.read import files` imports
    snitch.read.files, `from snitch import violation` snitch.violation."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name == "snitch" or name.startswith("snitch.")]


def problems_of(module: str, source: str, is_package: bool = False) -> list[str]:
    """Each import of `module` (its source) that reaches a layer it may not use."""
    own = layer_of(module)
    allowed = MAY_IMPORT.get(own, set())
    problems = []
    for line, target in imported(ast.parse(source), module, is_package):
        layer = layer_of(target)
        if layer in ("base", own) or layer in allowed:
            continue
        if any(target == exact or target.startswith(exact + ".") for exact in allowed if "." in exact):
            continue  # one module of a layer above, named in MAY_IMPORT
        problems.append(f"{module} (line {line}) imports {target}: the {own} layer may import itself, "
                        f"snitch.violation{''.join(', ' + name for name in sorted(allowed))}")
    return problems


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_imports_only_the_layers_below_it():
    problems = []
    for path in sources():
        problems += problems_of(module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py")
    assert problems == [], "\n".join(problems)


def test_every_module_is_in_a_known_layer():
    """A new folder (or a new module at the top) is a decision: add it to MAY_IMPORT and to the
    layout in docs/extending.md."""
    layers = {layer_of(module_name(path)) for path in sources()}
    unknown = sorted(layers - set(MAY_IMPORT) - {"base"})
    assert unknown == []


@pytest.mark.parametrize(("module", "source", "allowed"), [
    ("snitch.read.project", "from snitch.facts import serve_summary\n", False),
    ("snitch.read.project", "def f():\n    from snitch.engine.runner import run_checks\n", False),
    ("snitch.facts.release", "import snitch.standards.config\n", False),
    ("snitch.standards.standard_4", "from snitch.engine import results\n", False),
    ("snitch.pipeline.cli", "from snitch.cli import main\n", False),
    ("snitch.pipeline.cli", "from snitch.cli import streams\n", True),
    ("snitch.read.files", "from snitch import violation\nfrom snitch.violation import FileProblem\n", True),
    ("snitch.facts.names", "from snitch.read import files\nfrom snitch import __version__\n", True),
    ("snitch.read.project", "from . import files\n", True),
    ("snitch.read.project", "from ..facts import names\n", False),
])
def test_a_broken_layering_is_found(module, source, allowed):
    """The rule itself: an import of a higher layer, at the top or inside a function, absolute
    or relative, is reported; what a layer may use is not."""
    assert (problems_of(module, source) == []) is allowed


def test_no_module_is_named_like_a_test():
    """pytest collects test_*.py: a module of snitch named so would be run as tests (the checks
    are the test_* functions of snitch.standards.standard_N, in modules not named test_*)."""
    assert [str(path.relative_to(PACKAGE)) for path in sources() if path.name.startswith("test_")] == []


def test_every_numbered_standard_has_its_module():
    """Standard N: its section in the standards document, its module snitch.standards.standard_N
    (imported by that name), its tests. No module without a section either."""
    numbered = [number for number in load().standards if isinstance(number, int)]
    missing = [number for number in numbered if importlib.util.find_spec(f"snitch.standards.standard_{number}") is None]
    assert missing == [], f"no snitch.standards.standard_N module for standard(s) {missing}"
    modules = sorted(int(path.stem.removeprefix("standard_")) for path in (PACKAGE / "standards").glob("standard_*.py"))
    assert modules == numbered
