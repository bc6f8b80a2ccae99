"""The fleet's page model and its Markdown and HTML renderings, in-process on fleets built by hand:
hostile names, paths, messages, waiver reasons and config values stay text, and the headline
counts every project."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from fixtures.fleet import HOSTILE, STANDARDS, Page, make_fleet, report

from snitch.fleet import check as fleets
from snitch.fleet.check import Entry
from snitch.fleet.pages import LEGEND, html, link, markdown, md


def table_rows(text: str) -> list[str]:
    """The rows of the projects × standards table (the first table), header and compliance included."""
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("| "))
    end = next((index for index in range(start, len(lines)) if not lines[index].startswith("|")), len(lines))
    return [line for line in lines[start:end] if line.startswith("| ")]


def test_markdown_table_survives_control_characters_and_markup_in_paths():
    odd = "/srv/models/a\rb|c\nd`e`"
    text = markdown(make_fleet(Entry(odd, report("iris", odd, {4: "serve.py: no class"}))))
    rows = table_rows(text)
    assert len(rows) == 3  # the header, the project's row and the compliance row: nothing split the table
    cells = re.split(r"(?<!\\)\|", rows[1])
    assert len(cells) == 2 + 2 + len(STANDARDS.standards)  # the edges, project, team, one a standard
    assert "\r" not in text and "\\|c" in rows[1] and "\\`e\\`" in rows[1]


def test_markdown_escapes_markup_in_waiver_reasons_names_and_messages():
    reason = "see [the wiki](javascript:alert(1)) <b onmouseover=x>now</b> *soon*"
    entry = Entry(f"/srv/{HOSTILE}", report("iris", "/srv/x", {10: f"serve.py: {HOSTILE}"}, waived={3: reason}))
    text = markdown(make_fleet(entry))
    assert "<" not in text.replace("\\<", "") and "[the wiki]" not in text and "*soon*" not in text
    assert md(reason) in text and "\\<script\\>" in text


def test_the_legend_explains_every_symbol_the_table_uses():
    text = markdown(make_fleet(Entry("/srv/a", report("a", "/srv/a", {1: "x"}, {3: "r"})), Entry("/srv/b", problem="no such folder")))
    symbols = {cell.strip() for row in table_rows(text)[1:-1] for cell in row.split("|")[3:-1]}
    assert "?" in symbols and "?" in LEGEND
    assert all(f"{symbol} " in LEGEND for symbol in symbols)


def test_unreadable_projects_count_against_compliance():
    """Half the fleet unreadable: the headline and each standard say 50 %, not 100 %."""
    fleet = make_fleet(Entry("/srv/a", report("a", "/srv/a")), Entry("/srv/b", problem="no such folder"))
    summary = fleet.summary()
    assert summary["compliance"] == 0.5 and summary["standards"]["4"]["compliance"] == 0.5
    assert "1 of 2 project(s) pass every standard (50%)" in markdown(fleet)
    assert "1 could not be checked" in markdown(fleet) and "1 could not be checked" in html(fleet)
    assert "| **compliance** | | " + " | ".join(["50%"] * len(STANDARDS.standards)) + " |" in markdown(fleet)


def test_copies_of_one_model_are_told_apart_by_where_they_are():
    fleet = make_fleet(*(Entry(path, report("iris", path, {4: "serve.py: no class"})) for path in ("/srv/team-a/iris", "/srv/team-b/iris")))
    findings = [line for line in markdown(fleet).splitlines() if line.startswith("- ")]
    assert len(findings) == 2 and "team-a" in findings[0] and "team-b" in findings[1]
    page = html(fleet)
    assert "iris (/srv/team-a/iris) — 4. Serving class" in page and "iris (/srv/team-b/iris) — 4. Serving class" in page


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<b>x</b>", " javascript:x",
                                 "https://ok.example/\njavascript:x", "vbscript:x", "//evil.example/x"])
def test_only_http_links_are_live(url):
    assert link(url, "text") == "text"
    standards = dataclasses.replace(STANDARDS, parameters={**STANDARDS.parameters, "docs_url": url})
    fleet = make_fleet(Entry("/srv/a", report("a", "/srv/a", {4: "serve.py: no class"}, standards=standards)), standards=standards)
    page = Page(html(fleet))
    assert all(href.startswith(("#", "https://", "http://")) for href in page.hrefs), page.hrefs
    assert not any(href.lower().startswith(("javascript", "data", "vbscript", "//")) for href in page.hrefs)


def test_no_markup_from_a_project_renders_in_the_page():
    source = f"https://user:pw@git.example/{HOSTILE}.git"
    shown = fleets.redact(source)
    entry = Entry(shown, report(HOSTILE, shown, {4: f"serve.py: {HOSTILE}"}, {3: HOSTILE}), team=None)
    broken = Entry(f"/srv/{HOSTILE}", problem=f"cannot read {HOSTILE}")
    page = Page(html(make_fleet(entry, broken)))
    assert [tag for tag, _ in page.tags].count("script") == 1  # the page's own
    assert not any(tag == "img" or any(name.startswith("on") for name in attrs) for tag, attrs in page.tags)
    assert HOSTILE in "".join(page.text)  # shown as text
    assert "pw@" not in "".join(page.text) and not any("pw@" in href for href in page.hrefs)


def test_the_page_allows_only_its_own_script():
    """A Content-Security-Policy names the page's script by its hash: markup that slipped past the
    escaping could still not run a script of its own, load anything, or send a form."""
    text = html(make_fleet(Entry("/srv/a", report("a", "/srv/a"))))
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    script = re.search(r"<script>(.*)</script>", text, re.DOTALL).group(1)
    assert f"sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}" in policy


def test_the_page_is_dated_shows_its_config_and_each_projects_team_and_repository():
    standards = dataclasses.replace(STANDARDS, config=Path("/etc/acme/snitch.yaml"),
                                    parameters={**STANDARDS.parameters, "bucket": "acme-models"})
    entries = (
        Entry("https://git.example/vision/detector.git", report("detector", "x", {10: "no tracing"}), team="vision"),
        Entry("/srv/nlp/intent", report("intent", "/srv/nlp/intent"), team="nlp"),
        Entry("ssh://git@git.example/nlp/other.git", problem="git clone failed"),
    )
    fleet = make_fleet(*entries, standards=standards)
    text = html(fleet)
    page = Page(text)
    assert '<time datetime="2026-12-06T07:30:00Z">2026-12-06 07:30 UTC</time>' in text
    assert "/etc/acme/snitch.yaml" in text and "acme-models" in text and f"<dd>{STANDARDS.version}</dd>" in text
    assert "Checked" in text
    assert "https://git.example/vision/detector.git" in page.hrefs  # linked to its repository
    assert not any("ssh:" in href or href.startswith("/srv") for href in page.hrefs)  # not for a browser: text
    assert 'data-team="vision"' in text and 'data-team="nlp"' in text and 'data-team="(no team)"' in text
    assert fleet.summary()["teams"] == {
        "(no team)": {"projects": 1, "passed": 0, "failed": 0, "not_checkable": 1},
        "nlp": {"projects": 1, "passed": 1, "failed": 0, "not_checkable": 0},
        "vision": {"projects": 1, "passed": 0, "failed": 1, "not_checkable": 0},
    }
    markdown_text = markdown(fleet)
    assert "Checked 2026-12-06 07:30 UTC" in markdown_text and "acme-models" in markdown_text
    assert "| vision | 1 | 0 | 1 | 0 | 0% |" in markdown_text and "| nlp | 1 | 1 | 0 | 0 | 100% |" in markdown_text


def test_every_failed_cell_links_to_its_message_and_the_standards_section():
    fleet = make_fleet(Entry("/srv/a", report("a", "/srv/a", {4: "serve.py: no class", 10: "serve.py: no tracing"})),
                       Entry("/srv/b", problem="no such folder"))
    text = html(fleet)
    page = Page(text)
    failed = [attrs["href"] for tag, attrs in page.tags if tag == "a" and attrs.get("title", "").endswith(": failed")]
    assert failed == ["#p0-s4", "#p0-s10"] and {"p0-s4", "p0-s10", "p1"} <= page.ids
    assert STANDARDS.url(4) in page.hrefs and STANDARDS.url(10) in page.hrefs
    unknown = [attrs["href"] for tag, attrs in page.tags if tag == "a" and "not checked" in attrs.get("title", "")]
    assert set(unknown) == {"#p1"} and len(unknown) == len(STANDARDS.standards)


@pytest.mark.parametrize("source, shown, repository", [
    ("https://user:secret@git.example/g/m.git", "https://git.example/g/m.git", "https://git.example/g/m.git"),
    ("https://oauth2:tok@en@git.example/g/m.git", "https://git.example/g/m.git", "https://git.example/g/m.git"),
    ("ssh://git:pw@git.example/g/m.git", "ssh://git.example/g/m.git", None),
    ("git@git.example:g/m.git", "git@git.example:g/m.git", None),
    ("/srv/models/m", "/srv/models/m", None),
])
def test_credentials_are_removed_and_only_http_repositories_are_linked(source, shown, repository):
    assert fleets.redact(source) == shown and fleets.repository_link(source) == repository
    assert fleets.redact(f"git clone {source} failed: fatal: unable to access '{source}/'") == \
        f"git clone {shown} failed: fatal: unable to access '{shown}/'"


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    [HOSTILE, "a|b", "\r\n", "`x`", "[l](javascript:x)", "&amp;", "]]>", "<!--", "\u2028", "\\|"])


@settings(max_examples=60, deadline=None)
@given(source=_TEXT, message=_TEXT, reason=_TEXT, problem=_TEXT)
def test_any_text_from_a_project_stays_text_in_both_formats(source, message, reason, problem):
    fleet = make_fleet(Entry(source, report("iris", source, {4: message}, {3: reason})), Entry(source, problem=problem))
    rows = table_rows(markdown(fleet))
    assert len(rows) == 4 and all(len(re.split(r"(?<!\\)\|", row)) == len(re.split(r"(?<!\\)\|", rows[0])) for row in rows[1:3])
    page = Page(html(fleet))
    assert [tag for tag, _ in page.tags].count("script") == 1 and not any(tag == "img" for tag, _ in page.tags)
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
