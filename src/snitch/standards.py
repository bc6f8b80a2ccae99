"""The Model Standards document, parsed: the single source of every number, title, rationale,
check expectation, fix and organisation parameter that snitch prints or enforces."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_PACKAGE_DIR = Path(__file__).resolve().parent
# An installed wheel carries the document inside the package; a source checkout has it at the top.
_DOCUMENT_CANDIDATES = (
    _PACKAGE_DIR / "MODEL_STANDARDS.md",
    _PACKAGE_DIR.parent.parent / "standards" / "MODEL_STANDARDS.md",
)

_STANDARD_HEADING = re.compile(r"^## (\d+)\. (.+)$", re.MULTILINE)
_CHECK_HEADING = re.compile(r"^### (test_\w+)$", re.MULTILINE)
_VERSION_LINE = re.compile(r"^Standards version: (\S+)$", re.MULTILINE)
_PARAMETERS_BLOCK = re.compile(r"^## Parameters\n.*?^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
_RATIONALE = re.compile(r"\*\*Rationale\.\*\*\s+(.*?)(?=^### |\Z)", re.MULTILINE | re.DOTALL)
_FIELD = re.compile(r"^(Expected|Fix): (.*?)(?=^(?:Expected|Fix): |\Z)", re.MULTILINE | re.DOTALL)


class StandardsError(Exception):
    """The standards document or an organisation's override of it cannot be used."""


def document_path() -> Path:
    for candidate in _DOCUMENT_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise StandardsError(
        "the Model Standards document (MODEL_STANDARDS.md) is missing from the snitch installation; "
        "reinstall model-snitch"
    )


@dataclass(frozen=True)
class CheckDoc:
    name: str
    expected: str
    fix: str


@dataclass(frozen=True)
class Standard:
    number: int
    title: str
    rationale: str
    checks: dict[str, CheckDoc]

    @property
    def anchor(self) -> str:
        """The heading's anchor as GitLab and GitHub render it ("## 4. Serving class" -> 4-serving-class)."""
        words = re.sub(r"[^\w\- ]", "", f"{self.number}. {self.title}".lower())
        return words.replace(" ", "-")


@dataclass
class Standards:
    version: str
    source: Path
    parameters: dict
    standards: dict[int, Standard] = field(default_factory=dict)
    config: Path | None = None  # the override file in force, when one is used
    config_source: str = ""  # how it was chosen: --config, $SNITCH_CONFIG, the default place, the project's
    project_copy_note: str = ""  # how the project's own config differs from the one in force, if it does

    def config_facts(self) -> dict:
        """Which config a run used, for reports: its path and how it was chosen, and a note when
        the project's own copy differs from it."""
        return {
            "path": str(self.config) if self.config else None,
            "source": self.config_source or "the standards' defaults",
            "project_copy_note": self.project_copy_note or None,
        }

    def __getitem__(self, number: int) -> Standard:
        return self.standards[number]

    def url(self, number: int) -> str:
        return f"{self.parameters['docs_url']}#{self[number].anchor}"

    def fill(self, text: str) -> str:
        """Substitute ${parameter} references with this organisation's values."""
        values = {key: _display(value) for key, value in self.parameters.items()}
        return string.Template(text).safe_substitute(values)

    def check_doc(self, number: int, check: str) -> CheckDoc:
        doc = self[number].checks[check]
        return CheckDoc(doc.name, self.fill(doc.expected), self.fill(doc.fix))


def _display(value) -> str:
    if isinstance(value, list):
        return ", ".join(f"`{item}`" for item in value)
    if isinstance(value, dict):
        return ", ".join(str(key) for key in value)
    return str(value)


def _unwrap(paragraph: str) -> str:
    return " ".join(paragraph.split())


def parse(text: str, source: Path) -> Standards:
    version = _VERSION_LINE.search(text)
    parameters = _PARAMETERS_BLOCK.search(text)
    if not version or not parameters:
        raise StandardsError(f"{source} has no 'Standards version:' line or no '## Parameters' YAML block")
    result = Standards(version.group(1), source, yaml.safe_load(parameters.group(1)))
    headings = list(_STANDARD_HEADING.finditer(text))
    for heading, following in zip(headings, headings[1:] + [None]):
        body = text[heading.end() : following.start() if following else len(text)]
        number = int(heading.group(1))
        rationale = _RATIONALE.search(body)
        result.standards[number] = Standard(
            number=number,
            title=heading.group(2).strip(),
            rationale=_unwrap(rationale.group(1)) if rationale else "",
            checks=_parse_checks(body),
        )
    return result


def _parse_checks(body: str) -> dict[str, CheckDoc]:
    checks = {}
    headings = list(_CHECK_HEADING.finditer(body))
    for heading, following in zip(headings, headings[1:] + [None]):
        section = body[heading.end() : following.start() if following else len(body)]
        fields = {name: _unwrap(value) for name, value in _FIELD.findall(section)}
        name = heading.group(1)
        checks[name] = CheckDoc(name, fields.get("Expected", ""), fields.get("Fix", ""))
    return checks


def load() -> Standards:
    """The standards document with its default parameters."""
    path = document_path()
    return parse(path.read_text(encoding="utf-8"), path)
