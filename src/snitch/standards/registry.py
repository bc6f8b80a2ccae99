"""The one registry of standards: snitch's own, one module per numbered section of the standards
document, and those an organisation installs.

A standard is one unit: its section of the standards document (its title, rationale and each
check's Expected and Fix), one module whose `test_*` functions are its checks, and its tests.

* A numbered standard N has its section `## N. Title` in `standards/MODEL_STANDARDS.md` and its
  module `snitch.standards.standard_N`, imported by that name (never found by listing files): adding
  standard 12 is its section, its module and its tests, and nothing here.
* An installed standard is a package that declares an entry point in the group `snitch.standards`:
  its name is the standard's id (an organisation prefix, a dash and a name: `acme-1`), its value
  the check module, which names its document section in `DOCUMENT` (the path of a Markdown file
  holding one `## acme-1. Title` section in the format of MODEL_STANDARDS.md).

Finding entry points costs more than a whole run of snitch (importlib.metadata and the
libraries it imports), so what was found is kept in snitch's cache under the folders Python
imports from and their modification times: installing or removing a package changes its
folder's time, and the next run looks again."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import json
import os
import re
import sys
from pathlib import Path

from snitch.read import cache, files
from snitch.standards.document import INSTALLED_ID, Standard, StandardId, StandardsError, parse_section

GROUP = "snitch.standards"

# A numbered standard's module: snitch.standards.standard_<N>.
BUILT_IN_MODULE = "snitch.standards.standard_{number}"

_CACHE_KIND = "entry-points"
# A section is a page of Markdown; anything larger is the wrong file.
MAX_SECTION_BYTES = 256 * 1024


def installed_standards() -> list[Standard]:
    """Every installed standard's section, parsed, in the order of their ids. A plugin that
    cannot be used (its module fails to import, its section is missing or malformed, its id is
    a number or taken) is a StandardsError naming it: snitch cannot judge by half the standards."""
    standards, owners = [], {}
    for name, module_name, distribution in _entry_points():
        plugin = f"the installed standard {name!r} (entry point {name} = {module_name} of {distribution})"
        if not re.fullmatch(INSTALLED_ID, name):
            raise StandardsError(
                f"{plugin} has an id snitch cannot give it: an installed standard's id is an organisation prefix, "
                "a dash and a name, like acme-1 (numbers belong to the Model Standards); rename its entry point"
            )
        if name in owners:
            raise StandardsError(
                f"{plugin}: {owners[name]} declares standard {name} too; uninstall one of them or give one another id"
            )
        owners[name] = distribution
        module = _import(plugin, module_name)
        standard = parse_section(_section_text(plugin, module), f"{plugin}: its section", distribution)
        if standard.number != name:
            raise StandardsError(f"{plugin}: its section is headed `## {standard.number}.`, not `## {name}.`")
        functions = [function.__name__ for function in check_functions(module)]
        if functions != list(standard.checks):
            raise StandardsError(
                f"{plugin}: its module's checks ({', '.join(functions) or 'none'}) and its section's "
                f"(`### test_...`: {', '.join(standard.checks)}) must be the same, in the same order"
            )
        standards.append(standard)
    return standards


def module_name(number: StandardId) -> str:
    """The module that holds standard `number`'s checks: snitch.standards.standard_<N> for a
    numbered standard, its entry point's module for an installed one."""
    if isinstance(number, int):
        return BUILT_IN_MODULE.format(number=number)
    modules = {name: module for name, module, _ in _entry_points()}
    if number not in modules:
        raise LookupError(f"no standard {number} is built in or installed")
    return modules[number]


def require_built_in(numbers) -> None:
    """Every numbered standard of the document has its module, or a StandardsError naming the
    missing ones, before anything runs (a run must not stop half-way, nor a fleet mark every
    project broken)."""
    missing = [name for name in map(module_name, numbers) if importlib.util.find_spec(name) is None]
    if missing:
        raise StandardsError(
            f"the standards document has standard(s) that snitch has no module for ({', '.join(missing)}); "
            "add the module or remove the section"
        )


@functools.cache
def checks(number: StandardId) -> tuple:
    """The check functions of standard `number`, in the order they are defined."""
    return check_functions(importlib.import_module(module_name(number)))


def check_functions(module) -> tuple:
    functions = [
        value for name, value in vars(module).items()
        if name.startswith("test_") and inspect.isfunction(value) and value.__module__ == module.__name__
    ]
    return tuple(sorted(functions, key=lambda function: function.__code__.co_firstlineno))


def _import(plugin: str, module_name: str):
    try:
        return importlib.import_module(module_name)
    except (Exception, SystemExit) as error:  # a plugin's bug is its own, never a traceback of snitch's
        raise StandardsError(f"{plugin} cannot be imported: {type(error).__name__}: {error}") from None


def _section_text(plugin: str, module) -> str:
    document = getattr(module, "DOCUMENT", None)
    if not isinstance(document, (str, os.PathLike)):
        raise StandardsError(f"{plugin}: its module names no document section (DOCUMENT = the path of its Markdown section)")
    try:
        return files.read_text(Path(document), MAX_SECTION_BYTES)
    except files.Unreadable as problem:
        raise StandardsError(f"{plugin}: its section {document} {problem}") from None


@functools.cache
def _entry_points() -> tuple[tuple[str, str, str], ...]:
    """(id, module, distribution) of every entry point in GROUP, sorted by id."""
    key = cache.key(cache.code_version(__file__), *(_stamp(folder).encode() for folder in sys.path))
    kept = _read_kept(cache.read(_CACHE_KIND, key))
    if kept is not None:
        return kept
    from importlib.metadata import entry_points

    found = tuple(sorted(
        (entry.name, entry.value, entry.dist.name if entry.dist else "an unknown distribution")
        for entry in entry_points(group=GROUP)
    ))
    cache.store(_CACHE_KIND, key, json.dumps(found))
    return found


def _stamp(folder: str) -> str:
    """A folder Python imports from, with its modification time (nothing when it is not one)."""
    try:
        return f"{folder}\0{os.stat(folder or '.').st_mtime_ns}"
    except OSError:
        return f"{folder}\0-"


def _read_kept(text: str | None) -> tuple[tuple[str, str, str], ...] | None:
    """A kept discovery, checked field by field (a cache is data from outside, never trusted)."""
    if text is None:
        return None
    try:
        entries = json.loads(text)
    except ValueError:
        return None
    if not isinstance(entries, list) or not all(
        isinstance(entry, list) and len(entry) == 3 and all(isinstance(part, str) for part in entry) for entry in entries
    ):
        return None
    return tuple(tuple(entry) for entry in entries)
