"""requirements.txt, line by line, as pip reads it (continuations, comments, options, hashes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

# Options that change where pip looks, not what it installs: harmless to pinning.
_HARMLESS_OPTIONS = re.compile(
    r"^(-i|--index-url|--extra-index-url|--trusted-host|-f|--find-links|--prefer-binary|"
    r"--require-hashes|--only-binary|--no-binary|--pre)\b"
)
# Options that pull in requirements snitch cannot see or pin-check.
_HIDING_OPTIONS = re.compile(r"^(-r|--requirement|-c|--constraint|-e|--editable)\b")
_HASH_OPTION = re.compile(r"\s--hash[= ]\S+")
_COMMIT = re.compile(r"@[0-9a-f]{40}\b")
_FILE_HASH = re.compile(r"#(sha256|sha384|sha512)=[0-9a-f]+")


@dataclass
class Line:
    number: int
    text: str
    requirement: Requirement | None = None
    problem: str | None = None  # why the line is not a valid requirement

    @property
    def name(self) -> str | None:
        return self.requirement.name.lower().replace("_", "-") if self.requirement else None

    @property
    def pinned_version(self) -> Version | None:
        """The exact version of a single `==` pin (no wildcard), else None."""
        if not self.requirement or self.requirement.url:
            return None
        specifiers = list(self.requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            return None
        try:
            return Version(specifiers[0].version)
        except InvalidVersion:
            return None

    @property
    def pinned(self) -> bool:
        if self.requirement and self.requirement.url:
            return bool(_COMMIT.search(self.requirement.url) or _FILE_HASH.search(self.requirement.url))
        return self.pinned_version is not None


def parse(text: str) -> list[Line]:
    lines: list[Line] = []
    logical, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not logical:
            start = number
        stripped = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical = (logical + stripped).strip()
        if logical:
            lines.append(_parse_line(start, logical))
        logical = ""
    if logical.strip():
        lines.append(_parse_line(start, logical.strip()))
    return lines


def _parse_line(number: int, text: str) -> Line:
    if _HIDING_OPTIONS.match(text):
        return Line(number, text, problem="hides requirements in another file or a checkout")
    if text.startswith("-"):
        if _HARMLESS_OPTIONS.match(text):
            return Line(number, text)
        return Line(number, text, problem="is a pip option snitch does not recognise")
    try:
        return Line(number, text, requirement=Requirement(_HASH_OPTION.sub("", text)))
    except InvalidRequirement as error:
        return Line(number, text, problem=f"is not a valid requirement ({error})")


def conflicting_pins(lines: list[Line]) -> list[list[Line]]:
    """Groups of lines that pin one package, for the same environment markers, to different
    versions (pip refuses to install such a file)."""
    groups: dict[tuple, list[Line]] = {}
    for line in lines:
        if line.pinned_version is not None:
            groups.setdefault((line.name, str(line.requirement.marker)), []).append(line)
    return [group for group in groups.values() if len({line.pinned_version for line in group}) > 1]
