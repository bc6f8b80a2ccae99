"""The Model Standards document, parsed: the single source of every number, title, rationale,
check expectation, fix and organisation parameter that snitch prints or enforces."""

from __future__ import annotations

import copy
import functools
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/snitch (this module is snitch/standards/document.py)
# An installed wheel carries the document at the top of the package (snitch/MODEL_STANDARDS.md, see
# pyproject.toml's force-include); a source checkout has it in standards/ beside src/.
_DOCUMENT_CANDIDATES = (
    _PACKAGE_DIR / "MODEL_STANDARDS.md",
    _PACKAGE_DIR.parent.parent / "standards" / "MODEL_STANDARDS.md",
)

# An installed standard's id: the organisation's prefix, a dash, then its own number or word
# ("acme-1"), so it can never be taken for one of the numbered standards.
INSTALLED_ID = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+"
_STANDARD_HEADING = re.compile(rf"^## (\d+|{INSTALLED_ID})\. (.+)$", re.MULTILINE)
_CHECK_HEADING = re.compile(r"^### (test_\w+)$", re.MULTILINE)
_VERSION_LINE = re.compile(r"^Standards version: (\S+)$", re.MULTILINE)
_PARAMETERS_BLOCK = re.compile(r"^## Parameters\n.*?^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
_RATIONALE = re.compile(r"\*\*Rationale\.\*\*\s+(.*?)(?=^### |^\*\*Parameters\.\*\*|\Z)", re.MULTILINE | re.DOTALL)
# An installed standard's own parameters and their defaults, in its section.
_OWN_PARAMETERS = re.compile(r"^\*\*Parameters\.\*\*.*?^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
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


StandardId = int | str  # 4 for a numbered standard, "acme-1" for an installed one


def standard_id(text: str) -> StandardId:
    """The id written in `text` as snitch keys it: "4" is standard 4, "acme-1" stays a string."""
    return int(text) if text.isascii() and text.isdigit() else text


@dataclass(frozen=True)
class CheckDoc:
    name: str
    expected: str
    fix: str

    @property
    def title(self) -> str:
        """What the check requires, in words: its name as the document's heading gives it."""
        return self.name.removeprefix("test_").replace("_", " ")


@dataclass(frozen=True)
class Standard:
    number: StandardId
    title: str
    rationale: str
    checks: dict[str, CheckDoc]
    # An installed standard's own parameters (its section's defaults, then the organisation's
    # values from the config's `standards:` mapping) and the distribution that ships it.
    parameters: dict = field(default_factory=dict)
    distribution: str = ""

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
    standards: dict[StandardId, Standard] = field(default_factory=dict)  # numbered ones first, in order
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

    def __getitem__(self, number: StandardId) -> Standard:
        return self.standards[number]

    def ids(self) -> str:
        """Every standard's id, for a message that lists what exists."""
        return ", ".join(str(number) for number in self.standards)

    def parameters_of(self, number: StandardId) -> dict:
        """The parameters standard `number`'s checks and text see: the organisation's, and an
        installed standard's own on top."""
        own = self[number].parameters
        return {**self.parameters, **own} if own else self.parameters

    def url(self, number: StandardId) -> str:
        return f"{self.parameters_of(number)['docs_url']}#{self[number].anchor}"

    def fill(self, text: str, number: StandardId | None = None) -> str:
        """Substitute ${parameter} references with this organisation's values (and, for an
        installed standard `number`, its own)."""
        parameters = self.parameters if number is None else self.parameters_of(number)
        values = {key: _display(value) for key, value in parameters.items()}
        return string.Template(text).safe_substitute(values)

    def check_doc(self, number: StandardId, check: str) -> CheckDoc:
        doc = self[number].checks[check]
        return CheckDoc(doc.name, self.fill(doc.expected, number), self.fill(doc.fix, number))


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
    for standard in _sections(text):
        result.standards[standard.number] = standard
    return result


def _sections(text: str, distribution: str = ""):
    """Every `## N. Title` section of `text`, parsed."""
    headings = list(_STANDARD_HEADING.finditer(text))
    for heading, following in zip(headings, headings[1:] + [None]):
        body = text[heading.end() : following.start() if following else len(text)]
        rationale = _RATIONALE.search(body)
        own = _OWN_PARAMETERS.search(body)
        yield Standard(
            number=standard_id(heading.group(1)),
            title=heading.group(2).strip(),
            rationale=_unwrap(rationale.group(1)) if rationale else "",
            checks=_parse_checks(body),
            parameters=yaml.safe_load(own.group(1)) if own else {},
            distribution=distribution,
        )


def parse_section(text: str, source: str, distribution: str) -> Standard:
    """An installed standard's document section: one `## id. Title` section in the format of
    MODEL_STANDARDS.md, read by the same parser, optionally with its own `**Parameters.**`."""
    try:
        sections = list(_sections(text, distribution))
    except yaml.YAMLError as error:
        raise StandardsError(f"{source}: its **Parameters.** block is not valid YAML ({error})") from None
    if len(sections) != 1:
        raise StandardsError(f"{source} must hold exactly one `## <id>. <Title>` section, found {len(sections)}")
    standard = sections[0]
    if not isinstance(standard.parameters, dict):
        raise StandardsError(f"{source}: its **Parameters.** block must be a YAML mapping of parameter: default")
    if not standard.rationale or not standard.checks:
        raise StandardsError(f"{source} needs a **Rationale.** paragraph and at least one `### test_...` check")
    undocumented = [name for name, doc in standard.checks.items() if not (doc.expected and doc.fix)]
    if undocumented:
        raise StandardsError(f"{source}: {', '.join(undocumented)} lacks an Expected: or a Fix: paragraph")
    return standard


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
    """The standards document with its default parameters, and every installed standard."""
    from snitch.standards import registry  # the registry reads sections with this module's parser

    path = document_path()
    # Each load is changed by its caller (a config's parameters), so it gets its own copy of the
    # parsed document: a run under an organisation config that compares the project's copy, and a
    # fleet, load it once per config, and a copy costs a tenth of a parse.
    standards = copy.deepcopy(_parsed(path.read_text(encoding="utf-8"), path))
    registry.require_built_in(number for number in standards.standards if isinstance(number, int))
    for standard in registry.installed_standards():
        standards.standards[standard.number] = standard
    return standards


@functools.lru_cache(maxsize=4)
def _parsed(text: str, path: Path) -> Standards:
    return parse(text, path)
