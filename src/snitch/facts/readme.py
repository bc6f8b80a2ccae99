"""Links and placeholders in a Markdown README."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from snitch.facts import names

# Every pattern here runs in linear time on any line: a label never spans another `[`, an
# autolink never spans another `<`, so no match attempt rescans the rest of a hostile line.
_INLINE = re.compile(r"\[(?P<label>[^\[\]]*)\]\(\s*<?(?P<url>[^()\s<>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE_USE = re.compile(r"\[(?P<label>[^\[\]]+)\]\[(?P<ref>[^\[\]]*)\]")
# One definition per line: `[ \t]`, not `\s`, so a definition never swallows the next line.
_REFERENCE_DEF = re.compile(r"^[ \t]{0,3}\[(?P<ref>[^\[\]]+)\]:[ \t]*<?(?P<url>[^\s<>]+)>?(?:[ \t].*)?$", re.MULTILINE)
_AUTOLINK = re.compile(r"<(?P<url>[a-z][a-z0-9+.-]*://[^<>\s]*)>", re.IGNORECASE)
_HAS_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_PLACEHOLDERS = re.compile(r"\{\{|\}\}|\{%|<[A-Z][A-Z0-9_]*>|\b(TODO|TBD|FIXME|CHANGEME)\b")
_FENCE = re.compile(r"^\s*(```|~~~)")
# git's conflict markers: seven of one character at the start of a line, then a space or nothing.
_CONFLICT = re.compile(r"([<>=|])\1{6}(?: |$)")


@dataclass(frozen=True)
class Link:
    line: int
    url: str
    context: str  # the whole line the link stands on, used to tell what it links to


def _prose_lines(text: str):
    """(number, line) outside fenced code blocks, where links are not links."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


@functools.lru_cache(maxsize=4)  # two checks of standard 3 ask for the same README's links
def links(text: str) -> tuple[Link, ...]:
    references = {m.group("ref").lower(): m.group("url") for m in _REFERENCE_DEF.finditer(text)}
    found = []
    for number, line in _prose_lines(text):
        for match in _INLINE.finditer(line):
            found.append(Link(number, match.group("url"), line.strip()))
        for match in _REFERENCE_USE.finditer(line):
            url = references.get((match.group("ref") or match.group("label")).lower())
            if url:
                found.append(Link(number, url, line.strip()))
        for match in _AUTOLINK.finditer(line):
            found.append(Link(number, match.group("url"), line.strip()))
    return tuple(found)


def is_absolute(url: str) -> bool:
    return bool(_HAS_SCHEME.match(url))


def malformed_reason(url: str) -> str | None:
    """Why an absolute URL is not well formed, or None when it is."""
    if any(character.isspace() for character in url):
        return "contains white space"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        host = parts.hostname or ""
        if not host or not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?", host, re.IGNORECASE):
            return "has no valid host"
        if "." not in host and host != "localhost":
            return f"host {host!r} is not a full domain name"
        return None
    if scheme == "s3":
        if names.bucket_problem(parts.netloc or ""):
            return "has no valid S3 bucket name"
        return None
    if scheme == "mailto":
        return None if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", parts.path) else "is not an e-mail address"
    return f"uses the scheme {scheme!r}; use https:// or s3://"


def placeholders(text: str) -> list[tuple[int, str]]:
    return [
        (number, match.group(0))
        for number, line in enumerate(text.splitlines(), start=1)
        for match in _PLACEHOLDERS.finditer(line)
    ]


def conflict_markers(text: str) -> list[tuple[int, str]]:
    """Lines a merge (or `cruft update`) leaves around a conflict: `<<<<<<<` and `>>>>>>>` lines
    anywhere, and `=======` or `|||||||` between them (alone, `=======` underlines a heading)."""
    found, open_conflict = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        marker = _CONFLICT.match(line)
        if marker is None:
            continue
        kind = marker.group(1)
        if kind in "<>" or open_conflict:
            found.append((number, line))
        open_conflict = kind == "<" or (open_conflict and kind != ">")
    return found
