"""Standard 3 — README."""

from fixtures.checker import assert_only_failure, edit, passed_on_compliant, run_checks

README = "README.md"


def link_line(project, words):
    return next(line for line in (project / README).read_text().splitlines() if words in line and "](" in line)


def test_readme_links_every_resource(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_readme_links_every_resource")
    edit(compliant / README, link_line(compliant, "staging"), "")
    edit(compliant / README, link_line(compliant, "Jira"), "")
    run = run_checks(compliant, 3)
    assert_only_failure(run, 3, "test_readme_links_every_resource", README,
                        "no link to: staging deployment, Jira ticket or epic")


def test_readme_link_forms(compliant):
    """Reference-style links and autolinks count; a link inside a code block does not."""
    line = link_line(compliant, "Jira")
    url = line.split("](")[1].rstrip(")")
    edit(compliant / README, line, "- Jira epic: [the epic][jira]")
    (compliant / README).write_text((compliant / README).read_text() + f"\n[jira]: {url}\n")
    assert run_checks(compliant, 3).code == 0
    edit(compliant / README, "- Jira epic: [the epic][jira]", f"- Jira epic: <{url}>")
    assert run_checks(compliant, 3).code == 0
    edit(compliant / README, f"- Jira epic: <{url}>", f"```\n- Jira epic: [x]({url})\n```")
    assert run_checks(compliant, 3).failed() == {"test_readme_links_every_resource"}


def test_readme_links_are_well_formed(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_readme_links_are_well_formed")
    (compliant / README).write_text(
        (compliant / README).read_text()
        + "\nSee also [the wiki](https://wiki) and [a dashboard](htps://example.org/x) and [docs](docs/usage.md).\n"
    )
    run = run_checks(compliant, 3)
    result = assert_only_failure(run, 3, "test_readme_links_are_well_formed", README, "2 malformed link(s)")
    assert "https://wiki host 'wiki' is not a full domain name" in result["message"]
    assert "htps://example.org/x uses the scheme 'htps'" in result["message"]
    assert "docs/usage.md" not in result["message"]  # relative links are fine


def test_readme_has_no_placeholders(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_readme_has_no_placeholders")
    (compliant / README).write_text(
        (compliant / README).read_text() + "\nOwner: {{ cookiecutter.author_email }}\nOn call: <ONCALL_EMAIL>\nTODO: dashboards\n"
    )
    run = run_checks(compliant, 3)
    result = assert_only_failure(run, 3, "test_readme_has_no_placeholders", README, "unfilled placeholder(s)")
    for text in ("{{", "}}", "<ONCALL_EMAIL>", "TODO"):
        assert text in result["message"]


def test_merge_conflict_markers_fail(compliant):
    """`cruft update` leaves conflicts in the README as markers."""
    text = (compliant / README).read_text().splitlines()
    text[3:3] = ["<<<<<<< ours", "Owner: team A", "=======", "Owner: team B", ">>>>>>> theirs"]
    (compliant / README).write_text("\n".join(text) + "\n")
    run = run_checks(compliant, 3)
    result = assert_only_failure(run, 3, "test_readme_has_no_conflict_markers", README, "3 merge-conflict marker(s)")
    assert result["line"] == 4 and "line 4: <<<<<<< ours" in result["message"]


def test_a_setext_heading_is_not_a_conflict_marker(compliant):
    with (compliant / README).open("a") as handle:
        handle.write("\nMore\n=======\n\nText\n")
    assert run_checks(compliant, 3).code == 0
