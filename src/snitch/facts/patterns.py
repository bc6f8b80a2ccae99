"""The organisation's regular expressions (readme_links, pipeline_ref_pattern): the one rule for
a pattern's cost (pattern_problem, applied when the config loads and to the schema patterns
`snitch-pipeline validate --schema` is given)
and the time budget a pattern gets on a project's text (pattern_budget)."""

from __future__ import annotations

import contextlib
import re
import signal
import threading

try:  # the parser of the `re` module, to read a pattern's structure (sre_parse before Python 3.11)
    from re import _constants, _parser as _regex_parser
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _constants
    import sre_parse as _regex_parser

_POSSESSIVE_REPEAT = getattr(_constants, "POSSESSIVE_REPEAT", None)
# What all of a check's organisation patterns together may spend on one project (see pattern_budget).
PATTERN_BUDGET_S = 2.0


class PatternTooSlow(Exception):
    """An organisation's pattern ran past its time budget on the project's text."""


@contextlib.contextmanager
def pattern_budget(seconds: float = PATTERN_BUDGET_S):
    """Bound the time the organisation's patterns may spend on a project's text.

    Patterns that backtrack exponentially are refused when the config loads, but a polynomial
    one (`.*a.*b.*x` needs minutes on a 1,000-character line) is only caught by running it: the
    regular-expression engine checks for signals as it goes, so a timer interrupts it with
    PatternTooSlow. Outside the main thread (where no timer can be set) patterns run unbounded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise PatternTooSlow()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be an organisation's regular expression: invalid, or able to take
    exponential time (a repetition inside a repetition, or alternatives inside a repetition,
    such as `(a+)+` or `(a|ab)*`), which a hostile README or ref would exploit to hang snitch."""
    try:
        parsed = _regex_parser.parse(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        return f"is not a valid regular expression: {error}"
    if _uses(parsed, _constants.GROUPREF_EXISTS):
        return (
            "uses a conditional group `(?(1)...)`, which RE2 and JavaScript do not know and which can "
            "backtrack without bound; write the alternatives out"
        )
    if _nested_repetition(parsed):
        return (
            "repeats a group that itself repeats or has alternatives (like `(a+)+` or `(a|b)*`), "
            "which can take exponential time on some inputs; write it without the nested repetition"
        )
    return None


_REPEATS = {_constants.MAX_REPEAT, _constants.MIN_REPEAT} | ({_POSSESSIVE_REPEAT} - {None})
_CATEGORIES = {
    _constants.CATEGORY_DIGIT: str.isdigit,
    _constants.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    _constants.CATEGORY_SPACE: str.isspace,
}


def _can_match(opcode, argument, character: str) -> bool:
    """Can this one-character item match `character`? True when unsure."""
    if opcode is _constants.LITERAL:
        return chr(argument) == character
    if opcode is _constants.NOT_LITERAL:
        return chr(argument) != character
    if opcode is _constants.IN:
        hit, negated = False, False
        for kind, value in argument:
            if kind is _constants.NEGATE:
                negated = True
            elif kind is _constants.LITERAL:
                hit |= chr(value) == character
            elif kind is _constants.RANGE:
                hit |= value[0] <= ord(character) <= value[1]
            elif kind is _constants.CATEGORY and value in _CATEGORIES:
                hit |= _CATEGORIES[value](character)
            else:
                return True
        return hit != negated
    return True  # ANY, and anything this reader does not model


def _characters(items):
    """Every one-character item inside `items`, at any depth."""
    for opcode, argument in items:
        if opcode in _REPEATS:
            yield from _characters(argument[2])
        elif opcode is _constants.SUBPATTERN:
            yield from _characters(argument[-1])
        elif opcode is _constants.BRANCH:
            for branch in argument[1]:
                yield from _characters(branch)
        elif opcode in (_constants.ASSERT, _constants.ASSERT_NOT):
            yield from _characters(argument[1])
        else:
            yield opcode, argument


def _uses(items, opcode) -> bool:
    """Does `opcode` occur anywhere in the parsed pattern `items`?"""
    for item_opcode, argument in items:
        if item_opcode is opcode:
            return True
        if item_opcode in _REPEATS:
            nested = [argument[2]]
        elif item_opcode is _constants.SUBPATTERN:
            nested = [argument[-1]]
        elif item_opcode is _constants.BRANCH:
            nested = argument[1]
        elif item_opcode in (_constants.ASSERT, _constants.ASSERT_NOT):
            nested = [argument[1]]
        else:
            nested = []
        if any(_uses(inner, opcode) for inner in nested):
            return True
    return False


def _alternatives_overlap(body) -> bool:
    """Does a choice in `body` offer the same text twice? The parser turns `a|a` into `a` then a
    choice between two empty alternatives, and `a|` into a choice with one empty alternative:
    inside a repetition either lets one input be split in exponentially many ways."""
    for opcode, argument in body:
        if opcode is _constants.BRANCH:
            alternatives = [list(branch) for branch in argument[1]]
            if any(not branch for branch in alternatives) or any(
                branch in alternatives[:index] for index, branch in enumerate(alternatives)
            ):
                return True
    return False


def _ambiguous_loop(body) -> bool:
    """Can one pass of a repeated `body` be split into passes in more than one way? Safe when
    the body starts with a literal that nothing repeated inside it can match, like `(\\.\\d+)*`."""
    if _alternatives_overlap(body):
        return True
    inner = [item for item in body if item[0] in _REPEATS or item[0] is _constants.BRANCH]
    if not inner and not any(item[0] is _constants.SUBPATTERN for item in body):
        return False
    if not body or body[0][0] is not _constants.LITERAL:
        return True
    first = chr(body[0][1])
    return any(_can_match(opcode, argument, first) for opcode, argument in _characters(body[1:]))


def _nested_repetition(items) -> bool:
    for opcode, argument in items:
        if opcode in _REPEATS:
            high, body = argument[1], argument[2]
            if (high is _constants.MAXREPEAT or high > 1) and _ambiguous_loop(_flatten(body)):
                return True
            if _nested_repetition(body):
                return True
        elif opcode is _constants.SUBPATTERN and _nested_repetition(argument[-1]):
            return True
        elif opcode is _constants.BRANCH and any(_nested_repetition(branch) for branch in argument[1]):
            return True
        elif opcode in (_constants.ASSERT, _constants.ASSERT_NOT) and _nested_repetition(argument[1]):
            return True
    return False


def _flatten(body) -> list:
    """A repeated group's items, without the group around them."""
    items = list(body)
    while len(items) == 1 and items[0][0] is _constants.SUBPATTERN:
        items = list(items[0][1][-1])
    return items
