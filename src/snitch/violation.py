"""What a check raises when a project breaks a standard or cannot be judged, and how a check names
its prerequisites."""

from __future__ import annotations

import re


class Violation(Exception):
    """A project breaks the check that raised it.

    `found` says what snitch saw in `file`; what was expected and how to fix it come from the
    check's entry in the standards document. `detail` adds specifics the document cannot know
    (the offending lines, the values to use). `line` (1-based), when known, lets CI reports
    (Code Quality, SARIF) point at the exact place. `accounts_for` names other files this failure
    already explains (a missing file, say), so later checks that need them are skipped rather
    than failed a second time for the same cause."""

    def __init__(
        self, file: str, found: str, detail: str | None = None, *, line: int | None = None, accounts_for=()
    ):
        super().__init__(f"{file}: {found}")
        self.file = file
        self.found = found
        self.detail = detail
        self.line = line
        self.accounts_for = tuple(accounts_for)


class FileProblem(Violation):
    """A file a check needs is missing or cannot be read or parsed.

    Unlike a plain Violation it carries its own expectation and fix, because the problem is the
    file itself, whichever standard needed it."""

    def __init__(self, file: str, found: str, expected: str, fix: str, *, line: int | None = None):
        super().__init__(file, found, line=line)
        self.expected = expected
        self.fix = fix


class Skipped(Exception):
    """The check cannot judge this project (offline, no image given, no git repository...); the
    message says why and how to make it run."""


def skip(reason: str):
    """Skip the running check with `reason`."""
    raise Skipped(reason)


def shown(value: object, limit: int = 80) -> str:
    """`value` for a message, cut short: a value from a project or a config may be anything, of
    any size (even an integer too long for repr)."""
    try:
        text = repr(value)
    except ValueError:
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Characters that reorder the text around them (Trojan Source): shown escaped here, refused in answers.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Characters a terminal would act on (escape sequences, carriage returns), that reorder or break
# what is shown (bidirectional overrides, line separators) and that XML 1.0 cannot hold (C0
# controls, surrogates, U+FFFE/U+FFFF); line breaks and tabs are text.
_UNPRINTABLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """`text` with every character a terminal would act on or XML cannot hold shown as an escape
    (`\\x01`): what a project holds is quoted in messages, never passed on as control codes."""
    return _UNPRINTABLE.sub(lambda match: f"\\x{ord(match[0]):02x}" if ord(match[0]) < 0x100 else f"\\u{ord(match[0]):04x}", text)


def requires(*checks: str):
    """Run the decorated check only if these checks passed; otherwise skip it, naming them.

    A name is a check of the same standard (`test_x`) or of another one (`4.test_x`), the way
    repo-review's `requires` keeps one cause to one failure."""

    def mark(function):
        function.snitch_requires = checks
        return function

    return mark
