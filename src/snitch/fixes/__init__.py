"""`snitch --fix`: repair what is mechanical and safe, and say what is left.

A fix belongs to one check of one standard and lives beside it conceptually: one module per
standard (`snitch/fixes/standard_N.py`, listed in FIXERS), each naming the file it edits (`FILE`)
and, per check id, a function `(text, project, parameters) -> new text` that returns the file's
text repaired, or raises CannotFix saying why it will not guess. A fix edits the text around what
it adds and leaves every other byte as it was; the new text is checked again by the checks, so
a fix that did not repair is reported, never hidden.

Writing is careful: only the files a fix changed, only inside the project, never through a
symlink (anywhere on the path), each replaced atomically (a new file renamed over the old one,
with its permissions); the encoding (UTF-8, with its byte-order mark if it had one) and the
newline style (LF or CRLF) are kept. With `--diff` nothing is written: the changes are printed
as a unified diff.

May import: `snitch.violation`, `snitch.read`, `snitch.facts`, `snitch.standards` (a fix reuses
its check's reading) and `snitch.engine` (to check again)."""

from __future__ import annotations

import codecs
import difflib
import importlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from snitch.engine.results import FAILED, Report
from snitch.read import files
from snitch.standards.document import Standards

FIXERS = {
    2: "snitch.fixes.standard_2",
    6: "snitch.fixes.standard_6",
    9: "snitch.fixes.standard_9",
    10: "snitch.fixes.standard_10",
}


class CannotFix(Exception):
    """A fix that would have to guess: the message says why, and what to do by hand."""


@dataclass
class Change:
    file: str
    before: bytes | None  # None: the file does not exist yet
    after: bytes
    checks: list[str] = field(default_factory=list)  # the ids of the checks it repairs

    def diff(self) -> str:
        old = _decode(self.before)[0].splitlines(keepends=True) if self.before is not None else []
        new = _decode(self.after)[0].splitlines(keepends=True)
        lines = difflib.unified_diff(old, new, f"a/{self.file}" if self.before is not None else "/dev/null", f"b/{self.file}")
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    not_fixed: list[tuple[str, str]] = field(default_factory=list)  # (check id, why)


def plan(project, standards: Standards, report: Report) -> Plan:
    """The changes that repair the failed checks of `report` that have a fix, and for every other
    failure the reason it is left to the team."""
    # per file: its bytes as read, their text and newline style, and that text as the fixes change it
    result, originals, unchanged, texts, edited = Plan(), {}, {}, {}, {}
    for failure in [r for r in report.results if r.outcome == FAILED]:
        fix, file = _fix_for(failure.standard, failure.check)
        if fix is None:
            result.not_fixed.append((failure.id, "no automatic fix: it needs a decision only the team can make"))
            continue
        try:
            if file not in texts:
                originals[file] = _original(project, file)
                unchanged[file] = texts[file] = _read(file, originals[file])
            text, newline = texts[file]
            texts[file] = (fix(text, project, standards.parameters_of(failure.standard)), newline)
        except CannotFix as why:
            result.not_fixed.append((failure.id, str(why)))
            continue
        if texts[file] == unchanged[file]:  # no fix so far changed the file: this one cannot
            result.not_fixed.append((failure.id, "what it found is not something snitch can change safely"))
            continue
        edited.setdefault(file, []).append(failure.id)
    for file, checks in edited.items():
        text, newline = texts[file]
        before = originals[file]
        after = _encode(text, newline, before)
        if after != before:
            result.changes.append(Change(file, before, after, checks))
    return result


def _fix_for(standard, check: str):
    if standard not in FIXERS:
        return None, None
    module = importlib.import_module(FIXERS[standard])
    return module.FIXES.get(check), module.FILE


def apply(project, change: Change) -> None:
    """Write one change: inside the project, never through a symlink, atomically."""
    path = _writable_path(project, change.file)
    mode = stat.S_IMODE(os.lstat(path).st_mode) if change.before is not None else 0o644
    handle = tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=f".{path.name}.", delete=False)
    try:
        with handle:
            handle.write(change.after)
        os.chmod(handle.name, mode)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _writable_path(project, relative: str) -> Path:
    path = project.root / relative
    for part in [path, *path.parents]:
        if part == project.root.parent:
            break
        if part.is_symlink():
            raise CannotFix(f"{relative}: {part.relative_to(project.root) if part != project.root else 'the project'} "
                            "is a symlink; snitch --fix writes only real files inside the project")
    if not path.resolve().is_relative_to(project.root):
        raise CannotFix(f"{relative} is outside the project")
    return path


def _original(project, relative: str) -> bytes | None:
    _writable_path(project, relative)
    try:
        return files.read_bytes(project.root / relative)
    except files.Unreadable as problem:
        if not (project.root / relative).exists():
            return None
        raise CannotFix(f"{relative} {problem}") from None


def _read(relative: str, data: bytes | None) -> tuple[str, str]:
    """The file's text with LF newlines, and the newline style to write it back with."""
    if data is None:
        return "", "\n"
    text, _ = _decode(data)
    crlf, lines = text.count("\r\n"), text.count("\n")
    if crlf and crlf != lines:
        raise CannotFix(f"{relative} mixes LF and CRLF line endings; make them one style first")
    return text.replace("\r\n", "\n"), "\r\n" if crlf else "\n"


def _decode(data: bytes) -> tuple[str, bool]:
    try:
        return files.decode(data), data.startswith(codecs.BOM_UTF8)
    except files.Unreadable as problem:
        raise CannotFix(f"the file {problem}") from None


def _encode(text: str, newline: str, before: bytes | None) -> bytes:
    bom = codecs.BOM_UTF8 if before is not None and before.startswith(codecs.BOM_UTF8) else b""
    return bom + text.replace("\n", newline).encode("utf-8")


def ensure_final_newline(text: str) -> str:
    """`text` ready for lines to be appended: empty, or ending with a newline."""
    return text if not text or text.endswith("\n") else text + "\n"


def repair(project, standards: Standards, *, selected=(), image=None, online=False, diff=False, notes_to_stderr=False) -> int:
    """`snitch --fix`: check, repair what has a fix, and say what was done and what was not.
    With `diff`, print the repairs as a unified diff, write nothing and return the exit status
    of the check as it stands (1 when a standard failed); otherwise write them and return 0
    (the caller checks again and exits with that verdict)."""
    import click

    from snitch.engine.runner import run_checks

    checked = run_checks(project, standards, selected=selected, image=image, online=online)
    if checked.errors:  # a bug in snitch: never repair on a verdict it could not reach
        for error in checked.errors:
            click.echo(f"snitch: {error}", err=True)
        return 2
    repairs = plan(project, standards, checked.report)
    for change in repairs.changes:
        if diff:
            click.echo(change.diff(), nl=False)
            continue
        try:
            apply(project, change)
        except (CannotFix, OSError) as why:
            reason = why if isinstance(why, CannotFix) else f"{change.file} cannot be written ({why.strerror or why})"
            repairs.not_fixed += [(check, str(reason)) for check in change.checks]
            continue
        click.echo(f"fixed {change.file}: {', '.join(change.checks)}", err=notes_to_stderr)
    for check, why in repairs.not_fixed:
        click.echo(f"not fixed {check}: {why}", err=notes_to_stderr or diff)
    if not diff and repairs.changes:
        click.echo("", err=notes_to_stderr)
    return 1 if checked.report.failed else 0
