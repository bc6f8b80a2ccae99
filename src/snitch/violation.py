"""What a check raises when a project breaks a standard."""

from __future__ import annotations


class Violation(Exception):
    """A project breaks the check that raised it.

    `found` says what snitch saw in `file`; what was expected and how to fix it come from the
    check's entry in the standards document. `detail` adds specifics the document cannot know
    (the offending lines, the values to use). `line` (1-based), when known, lets CI reports
    (Code Quality, SARIF) point at the exact place."""

    def __init__(self, file: str, found: str, detail: str | None = None, *, line: int | None = None):
        super().__init__(f"{file}: {found}")
        self.file = file
        self.found = found
        self.detail = detail
        self.line = line


class FileProblem(Violation):
    """A file a check needs is missing or cannot be read or parsed.

    Unlike a plain Violation it carries its own expectation and fix, because the problem is the
    file itself, whichever standard needed it."""

    def __init__(self, file: str, found: str, expected: str, fix: str):
        super().__init__(file, found)
        self.expected = expected
        self.fix = fix
