"""snitch's machine-readable reports of one project's run: JSON, JUnit XML, GitLab Code Quality
and SARIF 2.1.0. Each shows a waived failure as waived, with its reason and expiry."""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath
from urllib.parse import quote
from xml.etree import ElementTree

from snitch import __version__
from snitch.engine.results import Report, CheckResult
from snitch.engine.waivers import WAIVER_CHECK, waivers_url
from snitch.standards.document import Standards
from snitch.violation import printable

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_FINDINGS = ("failed", "waived")


def as_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2)


def headline(result: CheckResult) -> str:
    """The first line of a finding's message: `file: what was found`."""
    return result.message.splitlines()[0] if result.message else f"{result.standard}.{result.check}"


def waiver_note(result: CheckResult) -> str:
    waiver = result.waiver
    return f"waived until {waiver.expires.isoformat()}: {waiver.reason}" if waiver else ""


def fingerprint(report: Report, result: CheckResult) -> str:
    """Stable across runs (no line numbers or timestamps), unique per finding within a project."""
    identity = "\0".join((report.model, f"{result.standard}.{result.check}", result.subject, result.file or ""))
    return hashlib.sha256(identity.encode()).hexdigest()


def _relative_path(file: str | None) -> str | None:
    """`file` if it is a path inside the project (not an image source like oci:DIR or /abs/path)."""
    if not file or ":" in file or PurePosixPath(file).is_absolute() or ".." in PurePosixPath(file).parts:
        return None
    return file


def junit(report: Report) -> bytes:
    """JUnit XML as GitLab reads it: a waived failure is a skipped test case that says why. Every
    text and attribute is printable: XML 1.0 cannot hold a control character a project may hold
    (in a file name, a waiver's reason), and ElementTree would write it as it is."""
    counts = report.counts()
    suites = ElementTree.Element("testsuites")
    suite = ElementTree.SubElement(
        suites,
        "testsuite",
        name="snitch",
        tests=str(len(report.results)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"] + counts["waived"]),
    )

    def element(parent, tag: str, text: str | None = None, **attributes: str):
        made = ElementTree.SubElement(parent, tag, {name: printable(value) for name, value in attributes.items()})
        made.text = printable(text) if text is not None else None
        return made

    for result in report.results:
        case = element(suite, "testcase", classname=f"snitch.standard_{result.standard}", name=_case_name(result))
        if result.file:
            case.set("file", printable(result.file))
        if result.outcome == "failed":
            element(case, "failure", result.message, message=headline(result), type="Violation")
        elif result.outcome == "error":
            element(case, "error", result.message, message=headline(result), type="InternalError")
        elif result.outcome == "skipped":
            element(case, "skipped", message=result.message)
        elif result.outcome == "waived":
            element(case, "skipped", result.message, message=waiver_note(result), type="waived")
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)


def _case_name(result: CheckResult) -> str:
    return f"{result.check} {result.subject}" if result.subject else result.check


def codequality(report: Report, mandatory=()) -> list[dict]:
    """GitLab Code Quality issues, one per failed or waived check."""
    issues = []
    for result in report.results:
        if result.outcome not in _FINDINGS:
            continue
        description = headline(result)
        if result.outcome == "waived":
            description = f"[{waiver_note(result)}] {description}"
        severity = "info" if result.outcome == "waived" else "critical" if result.standard in mandatory else "major"
        issues.append(
            {
                "type": "issue",
                "description": description,
                "check_name": f"snitch/{result.standard}.{result.check}",
                "fingerprint": fingerprint(report, result),
                "severity": severity,
                "location": {"path": _relative_path(result.file) or ".", "lines": {"begin": result.line or 1}},
            }
        )
    return issues


def _rule_id(standard: int, check: str) -> str:
    return f"SNITCH{standard}/{check}"


def _rules(standards: Standards) -> list[dict]:
    rules = []
    for number in standards.standards:
        standard = standards[number]
        for name in standard.checks:
            doc = standards.check_doc(number, name)
            rules.append(
                {
                    "id": _rule_id(number, name),
                    "name": _pascal(name),
                    "shortDescription": {"text": f"Standard {number}. {standard.title}: {doc.expected}"},
                    "fullDescription": {"text": doc.expected},
                    "help": {"text": doc.fix},
                    "helpUri": standards.url(number),
                    "defaultConfiguration": {"level": "error"},
                    "properties": {"tags": [f"standard-{number}"]},
                }
            )
    rules.append(
        {
            "id": _rule_id(0, WAIVER_CHECK),
            "name": "ValidWaiver",
            "shortDescription": {"text": "A waiver in pyproject.toml is valid."},
            "fullDescription": {
                "text": "A waiver names an existing standard or check, has a reason and an expiry date not in the "
                "past, and does not waive a mandatory standard."
            },
            "help": {"text": "Fix the standard or check it waives, or remove the waiver from [tool.snitch.waivers]."},
            "helpUri": waivers_url(standards),
            "defaultConfiguration": {"level": "error"},
        }
    )
    return rules


def _pascal(name: str) -> str:
    return "".join(word.capitalize() for word in name.removeprefix("test_").split("_"))


def sarif(report: Report, standards: Standards) -> dict:
    """A SARIF 2.1.0 log: the standards' checks as rules, failed and waived checks as results
    (a waived one carries an accepted suppression with the waiver's reason and expiry)."""
    rules = _rules(standards)
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = []
    for result in report.results:
        if result.outcome not in _FINDINGS:
            continue
        rule = _rule_id(0 if result.check == WAIVER_CHECK else result.standard, result.check)
        entry = {
            "ruleId": rule,
            "ruleIndex": index[rule],
            "level": "error",
            "message": {"text": result.message},
            "partialFingerprints": {"snitchFinding/v1": fingerprint(report, result)},
        }
        path = _relative_path(result.file)
        if path:
            location = {"artifactLocation": {"uri": quote(path), "uriBaseId": "PROJECTROOT"}}
            location["region"] = {"startLine": result.line or 1}
            entry["locations"] = [{"physicalLocation": location}]
        if result.outcome == "waived":
            entry["suppressions"] = [{"kind": "external", "status": "accepted", "justification": waiver_note(result)}]
        results.append(entry)
    root = report.path.rstrip("/") + "/"
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "snitch",
                        "semanticVersion": __version__,
                        "informationUri": standards.parameters["docs_url"],
                        "rules": rules,
                    }
                },
                # a URI: a folder named `team #1` is `team%20%231` (a bare # would start a fragment)
                "originalUriBaseIds": {"PROJECTROOT": {"uri": f"file://{quote(root)}"}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
