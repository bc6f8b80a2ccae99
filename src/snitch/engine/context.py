"""What the checks of one run share: the project, the organisation's parameters, the options of
the run, and the Ledger (snitch.engine.results) that decides every check's outcome.

A check asks for what it needs by argument name (`project`, `parameters`, `online`,
`built_image`), the way a pytest test asks for fixtures."""

from __future__ import annotations

import functools

from snitch.engine.results import ERROR, CheckResult, Ledger
from snitch.read import image_labels
from snitch.read.project import Project
from snitch.standards.document import StandardId, Standards
from snitch.violation import skip

ARGUMENTS = ("project", "parameters", "online", "built_image")


class CheckContext:
    def __init__(self, target: Project, standards: Standards, image_source=None, online=False):
        self.target = target
        self.standards = standards
        self.image_source = image_source
        self.online_mode = online
        self.ledger = Ledger(standards)
        self.internal_errors: list[str] = []

    @property
    def results(self) -> list[CheckResult]:
        return self.ledger.results

    def argument(self, name: str, standard: StandardId):
        """The value a check of `standard` asks for by argument name."""
        if name == "project":
            return self.target
        if name == "parameters":
            return self.standards.parameters_of(standard)
        if name == "online":
            return self.online_mode
        if name == "built_image":
            if not self.image_source:
                skip("no built image given (pass --image to check a built image's labels)")
            return self._built_image
        raise LookupError(f"no check argument called {name!r}; checks may ask for {', '.join(ARGUMENTS)}")

    @functools.cached_property
    def _built_image(self) -> image_labels.BuiltImage:
        return image_labels.BuiltImage(self.image_source)

    def crashed(self, number: StandardId, check: str, error: BaseException) -> None:
        """A check crashed: that is a bug in snitch (or in the installed standard that ships the
        check, named so that its owners hear of it), never a verdict on the project."""
        distribution = self.standards[number].distribution
        where = f"the installed standard {number} ({distribution})" if distribution else "snitch"
        message = f"internal error in {where}: {type(error).__name__}: {error}"
        self.internal_errors.append(f"{number}.{check}: {message}")
        self.ledger.record(CheckResult(number, check, ERROR, message, self.standards.url(number)))
