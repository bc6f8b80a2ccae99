"""What standards 4, 5 and 10 read of serve.py's analysis (snitch.facts.serve_analysis), as plain
data, and a cache of it between runs (snitch.read.cache), so that an unchanged project is not
parsed again.

The analysis is a function of the answers to the questions it asks of the project's files (the
text of each module it reads, whether each path it probes is a file, a folder or nothing: see
Modules.questions) and of snitch's own code. So two entries are kept:

- under serve.py's text (and snitch's code), the list of questions the last analysis of that text
  asked (its manifest);
- under the manifest and today's answers to it, the facts that analysis found.

A run asks the manifest's questions again (reading each module and probing each path: a small
fraction of parsing them) and finds the facts only if every answer is the same: then the
analysis would retrace the same steps and find the same facts. An analysis that could not read a
module is not stored (its messages name absolute paths), nor is anything that fails to come back
as it was written."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from snitch.facts import modules, serve_analysis, tracing
from snitch.read import cache, requirements

REQUIRED_METHODS = ("load", "predict")


@dataclass
class ServedClass:
    """A class serve.py serves, as the checks read it."""

    name: str
    api: str  # one of serve_analysis.SERVING_BASES' values
    declaration: str  # "class Iris (line 12)", "class NLLB (src/models/nllb.py, line 3)"
    line: int | None  # its line when it is defined in serve.py itself (reports point there)
    missing: list[str]  # the REQUIRED_METHODS Python would not find on it
    load: str | None  # where the load() Python finds is: "line 20", "base.py, line 4"
    load_sets_ready: bool  # that load() sets self.ready (see serve_analysis.load_sets_ready)


@dataclass
class ServeFacts:
    classes: list[ServedClass]
    other_classes: list[str]
    tracing: list[tracing.Tracing]
    deprecated_patch_all: list[int]
    server_start: str | None
    problems: dict[str, str]


def of(project) -> ServeFacts:
    """What standards 4, 5 and 10 read of the project's serve.py: found once per run (kept by the
    project until it forgets what it read) and between runs in the cache (see facts)."""
    return project.derived("serve_summary", facts)


def serving_pin(project) -> requirements.Line | None:
    """The requirements line of the serving library serve.py uses (kfserving or kserve);
    None when it is missing or pinned to several versions at once. Found once per run (standards
    5 and 10 both ask)."""
    return project.derived("serving_pin", _serving_pin)


def _serving_pin(project) -> requirements.Line | None:
    uses_kfserving = any(cls.api == "kfserving.KFModel" for cls in of(project).classes)
    wanted = "kfserving" if uses_kfserving else "kserve"
    lines = [line for line in project.requirements() if line.name == wanted]
    if requirements.conflicting_pins(lines):
        return None
    return lines[0] if lines else None


def summary(analysis: serve_analysis.ServeAnalysis) -> ServeFacts:
    """An analysis's facts as plain data."""
    classes = []
    for cls in analysis.classes:
        load = cls.method("load")
        classes.append(ServedClass(
            cls.name, cls.api, cls.declaration, cls.ref.node.lineno if cls.ref.path == cls.entry else None,
            [name for name in REQUIRED_METHODS if cls.method(name) is None],
            cls.place(load) if load else None, bool(load) and serve_analysis.load_sets_ready(cls),
        ))
    return ServeFacts(
        classes, analysis.other_classes, analysis.tracing, analysis.deprecated_patch_all, analysis.server_start,
        analysis.problems,
    )


def facts(project, entry: str = "serve.py") -> ServeFacts:
    """serve.py's facts: from the cache when every question of the last analysis of this serve.py
    has the same answer today, else from a new analysis (then stored)."""
    project.text(entry)  # a missing or unreadable serve.py is its own failure, never cached
    asking = modules.Modules(project, entry)  # serve.py's text is hashed once, for both keys
    manifest_key = cache.key(_code_version(), entry.encode(), asking.text_hash(entry).encode())
    questions = _manifest(manifest_key)
    if questions is not None:
        answers = [asking.text_hash(path) if kind == "text" else asking.kind(path) for kind, path in questions]
        found = _facts(_facts_key(manifest_key, questions, answers))
        if found is not None:
            return found
    analysis = serve_analysis.analyse(project, entry)
    found = summary(analysis)
    if not analysis.problems:
        asked = sorted(analysis.questions)
        cache.store("serving", manifest_key, json.dumps(asked))
        answers = [analysis.questions[question] for question in asked]
        cache.store("serving", _facts_key(manifest_key, asked, answers), json.dumps(asdict(found)))
    return found


def _facts_key(manifest_key: str, questions: list, answers: list) -> str:
    return cache.key(manifest_key.encode(), json.dumps([questions, answers]).encode())


def _manifest(manifest_key: str) -> list | None:
    try:
        questions = json.loads(cache.read("serving", manifest_key) or "null")
    except (ValueError, RecursionError):
        return None
    if not isinstance(questions, list) or not all(
        isinstance(question, list) and len(question) == 2 and question[0] in ("text", "kind") and isinstance(question[1], str)
        for question in questions
    ):
        return None
    return [tuple(question) for question in questions]


def _facts(facts_key: str) -> ServeFacts | None:
    """The stored facts, None when there are none or they are not as snitch writes them."""
    try:
        stored = json.loads(cache.read("serving", facts_key) or "null")
        found = ServeFacts(
            classes=[ServedClass(**cls) for cls in stored["classes"]],
            other_classes=stored["other_classes"],
            tracing=[tracing.Tracing(**{**way, "frameworks": tuple(way["frameworks"])}) for way in stored["tracing"]],
            deprecated_patch_all=stored["deprecated_patch_all"],
            server_start=stored["server_start"],
            problems={},
        )
    except (ValueError, RecursionError, TypeError, KeyError):
        return None
    return found if _well_typed(found) else None


def _well_typed(found: ServeFacts) -> bool:
    def texts(values, optional=False) -> bool:
        return all(isinstance(value, str) or (optional and value is None) for value in values)

    return (
        all(
            texts([cls.name, cls.api, cls.declaration]) and texts([cls.load], optional=True)
            and (cls.line is None or type(cls.line) is int) and isinstance(cls.missing, list) and texts(cls.missing)
            and type(cls.load_sets_ready) is bool
            for cls in found.classes
        )
        and isinstance(found.other_classes, list) and texts(found.other_classes)
        and all(
            texts([*way.frameworks, way.source, way.where, way.why_not]) and type(way.runs_before_server) is bool
            for way in found.tracing
        )
        and isinstance(found.deprecated_patch_all, list) and all(type(line) is int for line in found.deprecated_patch_all)
        and texts([found.server_start], optional=True)
    )


@functools.cache
def _code_version() -> bytes:
    """snitch's own code that the facts depend on: a new snitch never reads an older one's facts.
    Listed by name: the analysis (this module, serve_analysis, modules, tracing), how it reads the
    project (read.project, read.files, and read.dockerfile for `ddtrace-run`) and reports what it
    cannot read (violation)."""
    from snitch import violation
    from snitch.read import dockerfile, files, project

    sources = [Path(__file__)] + [Path(module.__file__) for module in (
        serve_analysis, modules, tracing, project, files, dockerfile, violation,
    )]
    return hashlib.sha256(b"".join(source.read_bytes() for source in sources)).digest()
