"""What one run of the checks found, the rules that keep one cause to one failure, and the
report every output format reads.

The runner (snitch.engine.runner) hands every check's outcome to a Ledger, which decides it, so the
command, the fleet and `snitch.testing` report the same thing:

* a check whose prerequisite check (`@requires(...)`) did not pass is skipped, naming it;
* a file that cannot be used (missing, unreadable, unparsable) fails the first check that needs it;
  every later check that needs it is skipped with a reason naming that first failure;
* every failure message says what was found, what was expected and how to fix it (from the
  standards document), and where to read more.

Outcomes: passed, failed, skipped, error (a bug in snitch), waived (a failure a valid waiver in
the project's pyproject.toml covers; it does not fail the run)."""

from __future__ import annotations

from dataclasses import dataclass, field

from snitch import __version__
from snitch.standards.document import Standards, standard_id
from snitch.violation import FileProblem, Violation, printable

PASSED, FAILED, SKIPPED, ERROR, WAIVED = OUTCOMES = "passed", "failed", "skipped", "error", "waived"


@dataclass
class CheckResult:
    standard: int | str  # 4, or an installed standard's id ("acme-1")
    check: str
    outcome: str  # passed, failed, skipped or error
    message: str
    url: str
    file: str | None = None  # the file a failure is about, when there is one
    line: int | None = None  # the line in that file, when snitch knows it
    waiver: object | None = None  # the snitch.engine.waivers.Waiver that covers a waived failure
    subject: str = ""  # what in the check a finding is about, when one check can report several
    prerequisite: str = ""  # skipped because this check (its id) did not pass, or failed on a file this one needs

    @property
    def inherited(self) -> bool:
        return bool(self.prerequisite)

    @property
    def id(self) -> str:
        return f"{self.standard}.{self.check}"

    def as_dict(self) -> dict:
        data = {key: getattr(self, key) for key in ("standard", "check", "outcome", "message", "url")}
        if self.outcome in (FAILED, WAIVED) and self.file:
            data.update(file=self.file, line=self.line)
        if self.waiver is not None:
            data["waiver"] = self.waiver.as_dict()
        return data


class Ledger:
    def __init__(self, standards: Standards):
        self.standards = standards
        self.results: list[CheckResult] = []
        self._by_id: dict[str, CheckResult] = {}
        self._unusable: dict[str, CheckResult] = {}  # file -> the failure that reported it first
        self._causes: dict[str, str] = {}  # check id -> the root cause of its not passing, for skip reasons

    def result(self, standard: int, check: str) -> CheckResult | None:
        return self._by_id.get(f"{standard}.{check}")

    def blocked(self, standard: int, check: str, function) -> tuple[str, str, str] | None:
        """(skip reason, root cause, the prerequisite's id) when a check that `check` requires ran
        and did not pass."""
        for required in getattr(function, "snitch_requires", ()):
            number, _, name = required.rpartition(".")
            prerequisite = self.result(standard_id(number) if number else standard, name)
            if prerequisite is not None and prerequisite.outcome != PASSED:
                cause = self._causes[prerequisite.id]
                if prerequisite.outcome == FAILED:
                    return f"requires {prerequisite.id}, which failed ({_first_line(prerequisite)})", cause, prerequisite.id
                return f"requires {prerequisite.id}, which did not pass because {cause}", cause, prerequisite.id
        return None

    def violated(self, standard: int, check: str, violation: Violation) -> CheckResult:
        """Record the outcome of a check that raised `violation`: failed, or skipped when an earlier
        failure already reported the file it is about."""
        if isinstance(violation, FileProblem) and violation.file in self._unusable:
            first = self._unusable[violation.file]
            reason = f"{violation.file} cannot be used, reported by {first.id} ({_first_line(first)})"
            return self.record(
                CheckResult(standard, check, SKIPPED, reason, self.standards.url(standard), violation.file, prerequisite=first.id),
                reason,
            )
        result = CheckResult(
            standard, check, FAILED, self.describe(standard, check, violation), self.standards.url(standard),
            violation.file, violation.line,
        )
        unusable = (violation.file,) if isinstance(violation, FileProblem) else ()
        for file in (*unusable, *violation.accounts_for):
            self._unusable.setdefault(file, result)
        return self.record(result)

    def record(self, result: CheckResult, cause: str | None = None) -> CheckResult:
        """Keep `result`; `cause` is the root cause a skip inherited from a prerequisite."""
        result.message = printable(result.message)
        self.results.append(result)
        self._by_id[result.id] = result
        if result.outcome != PASSED:
            self._causes[result.id] = cause or f"{result.id} {result.outcome} ({_first_line(result)})"
        return result

    def describe(self, standard: int, check: str, violation: Violation) -> str:
        """The failure message: what was found, expected, how to fix it, where to read more."""
        if isinstance(violation, FileProblem):
            expected, fix = violation.expected, violation.fix
        else:
            doc = self.standards.check_doc(standard, check)
            expected, fix = doc.expected, doc.fix
        lines = [
            f"{violation.file}: {violation.found}",
            f"  standard:   {standard}. {self.standards[standard].title}",
            f"  expected:   {expected}",
            f"  how to fix: {fix}",
        ]
        if violation.detail:
            lines += [f"              {line}" for line in violation.detail.splitlines()]
        lines.append(f"  see:        {self.standards.url(standard)}")
        return "\n".join(lines)


def _first_line(result: CheckResult, limit: int = 120) -> str:
    first = result.message.splitlines()[0] if result.message else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


@dataclass
class Report:
    """A single project's run."""

    model: str
    path: str
    standards_version: str
    results: list[CheckResult]
    waivers_declared: int = 0
    stale_waivers: list = field(default_factory=list)  # snitch.engine.waivers.Waiver objects that waived nothing
    config: dict | None = None  # Standards.config_facts(): the config the run used

    @property
    def failed(self) -> bool:
        return any(result.outcome in ("failed", "error") for result in self.results)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for result in self.results:
            counts[result.outcome] += 1
        return counts

    def summary(self) -> dict:
        return {"total": len(self.results), **self.counts(), "waivers": self.waivers_declared}

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "path": self.path,
            "standards_version": self.standards_version,
            "snitch_version": __version__,
            "config": self.config,
            "summary": self.summary(),
            "checks": [result.as_dict() for result in self.results],
            "stale_waivers": [waiver.as_dict() for waiver in self.stale_waivers],
        }
