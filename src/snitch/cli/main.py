"""The `snitch` command: runs the standards' checks on a model project and reports them.

Exit status: 0 every check passed (skips allowed), 1 at least one standard failed, 2 the run
could not be done (bad arguments, no such project folder, bad config, internal error)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import click

from snitch import __version__
from snitch.cli import streams
from snitch.facts.names import model_name_problem
from snitch.read import cache, files
from snitch.standards.config import CONFIG_ENV, load_standards
from snitch.standards.document import StandardsError, standard_id

EXIT_PASSED, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2

_config_option = click.option(
    "--config",
    type=click.Path(dir_okay=False),
    help=f"YAML file overriding the standards' parameters (default: ${CONFIG_ENV}).",
)


class _Group(click.Group):
    """Turns every error snitch did not foresee into exit status 2 with a short message, never 0."""

    def main(self, *args, **kwargs):
        streams.guard()
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.Abort:
            click.echo("snitch: aborted", err=True)
            sys.exit(EXIT_UNUSABLE)
        except click.ClickException as error:
            error.show()
            sys.exit(EXIT_UNUSABLE)
        except StandardsError as error:
            click.echo(f"snitch: error: {error}", err=True)
            sys.exit(EXIT_UNUSABLE)
        except Exception as error:  # a bug in snitch: say so, and never exit 0
            click.echo(f"snitch: internal error: {type(error).__name__}: {error}", err=True)
            click.echo("Please report this to the ML platform team with the command you ran.", err=True)
            sys.exit(EXIT_UNUSABLE)


@click.group(cls=_Group, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-n",
    "--name",
    "model",
    metavar="NAME",
    help="The model's name, a KServe InferenceService name (default: the model_name input in .gitlab-ci.yml).",
)
@click.option(
    "-p",
    "--path",
    default=".",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, resolve_path=True, path_type=Path),
    help="The model project's folder.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "codequality", "sarif"]),
    default="text",
    show_default=True,
    help="text: a line per standard, then the failures; json: snitch's report; codequality: GitLab Code Quality; sarif: SARIF 2.1.0 (on stdout).",
)
@click.option("--junitxml", type=click.Path(dir_okay=False), help="Also write a JUnit XML report to this file.")
@click.option(
    "--codequality",
    "codequality_file",
    type=click.Path(dir_okay=False),
    help="Also write a GitLab Code Quality report to this file.",
)
@_config_option
@click.option(
    "--image",
    metavar="SOURCE",
    help="Also check a built image's labels: an OCI layout (oci:DIR[:TAG]) or `skopeo inspect` JSON.",
)
@click.option(
    "-s", "--standard", "selected", multiple=True, metavar="N",
    help="Run only standard N, a number or an installed standard's id like acme-1 (repeatable).",
)
@click.option("--online", is_flag=True, help="Also check that the declared weights exist in S3 (needs credentials).")
@click.option("--fix", is_flag=True, help="Repair what is mechanical and safe (.gitignore, image labels, the pipeline's ref, tracing), then check again.")
@click.option("--diff", is_flag=True, help="With --fix: print the repairs as a unified diff and write nothing.")
@click.version_option(__version__, prog_name="snitch")
@click.pass_context
def main(ctx, model, path, output_format, junitxml, codequality_file, config, image, selected, online, fix, diff):
    """Check that a model project follows the Model Standards.

    \b
    snitch -n iris-classifier               check the project in the current folder
    snitch -n iris-classifier -p ../iris    check another folder
    snitch list                             list the standards
    snitch explain 4                        explain standard 4 and how to pass it
    snitch explain 4.test_load_marks_model_ready   explain one check, by the id a failure prints
    """
    _cache_key_checked()
    if ctx.invoked_subcommand:
        return
    if diff and not fix:
        raise click.UsageError("--diff shows what --fix would change: use them together (snitch --fix --diff)")
    from snitch.read.project import Project

    project = Project(path, model or "")  # one reader for the whole run: .gitlab-ci.yml is parsed once
    if model:
        problem = model_name_problem(model)
        if problem:
            raise click.BadParameter(problem, param_hint="-n/--name")
    # A declared name that breaks the rule is the project's failure: standard 9 reports it (exit 1).
    project.model = model or declared_model_name(project)
    standards = load_standards(config, project)
    selected = tuple(standard_id(text) for text in selected)
    unknown = [str(number) for number in selected if number not in standards.standards]
    if unknown:
        raise click.BadParameter(
            f"no standard {', '.join(unknown)}; the standards are {standards.ids()}", param_hint="-s/--standard"
        )
    outputs = {"junitxml": junitxml, "codequality": codequality_file}
    for option, output in outputs.items():
        _writable(output, f"--{option}")
    if fix:
        from snitch.fixes import repair

        repaired = repair(project, standards, selected=selected, image=image, online=online, diff=diff, notes_to_stderr=output_format != "text")
        if diff:
            sys.exit(repaired)
        project = Project(path, project.model)  # read again (the files it checks have changed), same model
    sys.exit(_run(project, standards, output_format, outputs, image, selected, online))


_REPORTS = {"--junitxml": "the JUnit report", "--codequality": "the Code Quality report", "--html": "the HTML page"}


def _writable(path: str | None, option: str) -> None:
    """A report that cannot be written is said before any work, not after it."""
    if path:
        try:
            files.prepare_output(path)
        except files.Unwritable as problem:
            raise click.BadParameter(f"cannot write {_REPORTS[option]}: {problem}", param_hint=option) from None


def _cache_key_checked() -> None:
    """A $SNITCH_CACHE_KEY too short to be a secret stops the run; a per-user key that cannot be
    used (a symlink, open to other users) is said, and the run goes on without the cache."""
    try:
        warning = cache.key_warning()
    except cache.BadCacheKey as problem:
        raise click.UsageError(str(problem)) from None
    if warning:
        click.echo(f"snitch: warning: {warning}", err=True)


def declared_model_name(project) -> str:
    """Without -n, the model name the project gives the shared pipeline (so a bare `snitch` works
    in a compliant repository, e.g. from `pre-commit try-repo`)."""
    from snitch.engine.runner import declared_model_name, no_model_name_reason

    declared = declared_model_name(project)
    if declared is None:
        raise click.UsageError(
            "give the model's name with -n NAME (for example: snitch -n iris-classifier); "
            f"{project.root}: {no_model_name_reason(project)}"
        )
    return declared


def _run(project, standards, output_format, outputs, image, selected, online) -> int:
    from snitch.engine.runner import run_checks

    progress = None
    if output_format == "text":
        from snitch.reports.text import TextSession

        session = TextSession(standards, selected)
        session.header(project.model, project.root)
        progress = session.standard_done
    run = run_checks(project, standards, selected=selected, image=image, online=online, progress=progress)
    report = run.report
    if output_format == "text":
        session.summary(report, run.waivers)
    _reports(report, standards, output_format, outputs)
    for error in run.errors:
        click.echo(f"snitch: {error}", err=True)
    if run.errors:
        return EXIT_UNUSABLE
    return EXIT_FAILED if report.failed else EXIT_PASSED


def _reports(report, standards, output_format, outputs) -> None:
    """The machine-readable reports asked for, on stdout and in files (imported only then: a
    text run in pre-commit needs none of them)."""
    if output_format == "text" and not any(outputs.values()):
        return
    from snitch.reports import formats

    if outputs["junitxml"]:
        _write(outputs["junitxml"], formats.junit(report))
    if outputs["codequality"] or output_format == "codequality":
        codequality = json.dumps(formats.codequality(report, standards.parameters["mandatory"]), indent=2)
        if outputs["codequality"]:
            _write(outputs["codequality"], codequality.encode("utf-8"))
        if output_format == "codequality":
            click.echo(codequality)
    if output_format == "json":
        click.echo(formats.as_json(report))
    elif output_format == "sarif":
        click.echo(json.dumps(formats.sarif(report, standards), indent=2))


def _warn(message: str) -> None:
    click.echo(f"snitch: warning: {message}", err=True)


def _write(path: str, data: bytes) -> None:
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as error:
        raise click.ClickException(f"cannot write {target}: {error.strerror or error}") from None


def run() -> None:
    """The `snitch` command's entry point (console script and `python -m snitch`)."""
    try:
        main(prog_name="snitch")
    except SystemExit as done:
        if done.code is not None and not isinstance(done.code, int):
            raise
        streams.exit_at_once(done.code or 0)
    streams.exit_at_once(EXIT_PASSED)


@main.command(name="list")
@_config_option
def list_standards(config):
    """List the standards and every check, by the id a failure prints."""
    standards = load_standards(config)
    click.echo(f"Model Standards version {standards.version} ({standards.parameters['docs_url']})")
    for number, standard in standards.standards.items():
        origin = f" [installed: {standard.distribution}]" if standard.distribution else ""
        click.echo(f"{number:>3}. {standard.title} ({len(standard.checks)} checks){origin}")
        for name, doc in standard.checks.items():
            click.echo(f"       {number}.{name}  — {doc.title}")


@main.command()
@click.argument("wanted", metavar="ID")
@_config_option
def explain(wanted, config):
    """Explain a standard (ID: its number, or an installed one's id like acme-1) or one check
    (ID as a failure names it, like 4.test_model_subclass_implements_predict): why, what passes,
    how to fix a failure."""
    standards = load_standards(config)
    if wanted.startswith("test_"):  # a check's name alone, as in a waiver or a JUnit report
        owners = [f"{number}.{wanted}" for number, standard in standards.standards.items() if wanted in standard.checks]
        if len(owners) != 1:
            raise click.BadParameter(
                f"no standard has a check {wanted}" if not owners else f"{wanted} is a check of more than one standard: "
                f"{', '.join(owners)}; give one of these ids", param_hint="ID",
            )
        wanted = owners[0]
    number_text, _, check = wanted.partition(".")
    number = standard_id(number_text)
    if number not in standards.standards:
        raise click.BadParameter(f"no standard {number_text}; the standards are {standards.ids()}", param_hint="ID")
    standard = standards[number]
    if check and check not in standard.checks:
        raise click.BadParameter(
            f"standard {number} has no check {check}; its checks are {', '.join(standard.checks)}", param_hint="ID"
        )
    wrap = textwrap.TextWrapper(width=100, subsequent_indent="    ")
    click.echo(f"Standard {number}: {standard.title}")
    if not check:
        click.echo("\n" + textwrap.fill(standards.fill(standard.rationale, number), width=100))
    for name in [check] if check else standard.checks:
        doc = standards.check_doc(number, name)
        click.echo(f"\n  {number}.{name}  — {doc.title}")
        click.echo(wrap.fill(f"    expected: {doc.expected}"))
        click.echo(wrap.fill(f"    fix:      {doc.fix}"))
    click.echo(f"\nMore: {standards.url(number)}")


@main.command(name="new")
@click.option("--answers", "answers_file", required=True, metavar="FILE",
              help="A JSON object of the template's questions and their answers ('-': standard input); the rest take their defaults.")
@click.option("-o", "--output-dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The folder the project folder is created in.")
@_config_option
def new(answers_file, output_dir, config):
    """Create a model project from the template with answers from a file: the safe way for
    answers nobody typed (a portal, a scaffolder). Private keys (_..., __...), unknown questions,
    template markup and control characters are refused before the template sees them, then every
    answer is judged by the template's rules before anything is written.

    Exit status: 0 created, 1 answers refused (nothing written), 2 the run could not be done."""
    from snitch.cli import new as new_project

    try:
        project = new_project.render(new_project.read_answers(answers_file), output_dir, config)
    except new_project.AnswersRefused as refused:
        click.echo(f"snitch new: {refused}", err=True)
        sys.exit(EXIT_FAILED)
    except new_project.ScaffoldError as error:
        click.echo(f"snitch new: error: {error}", err=True)
        sys.exit(EXIT_UNUSABLE)
    click.echo(f"Created {project}")


@main.command()
@click.argument("paths", nargs=-1, type=str)
@click.option("--from", "from_file", type=click.Path(dir_okay=False), help="A file listing project folders or git URLs, one a line.")
@click.option(
    "--merge", is_flag=True,
    help="PATHS are JSON reports of `snitch fleet --format json` (the shards of a sharded run): make them one report.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "json", "html"]),
    default="markdown",
    show_default=True,
    help="What to print on stdout.",
)
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Also write the HTML page to this file.")
@click.option(
    "--history", "history_dir", type=click.Path(file_okay=False),
    help="Keep this run's summary in this folder (one small JSON a run) and chart compliance over time in the page.",
)
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="the number of CPUs",
    help="Check this many projects at once, each in a worker process.",
)
@_config_option
def fleet(paths, from_file, merge, output_format, html_file, history_dir, jobs, config):
    """Check many model projects (folders or git URLs) and report which break which standard.

    Each project is checked with the model_name its .gitlab-ci.yml declares and its own waivers.
    With --merge, PATHS are JSON reports of earlier runs (shards), made into one report.
    Exit status 1 when any project fails or cannot be checked.
    """
    from snitch.fleet import check as fleets
    from snitch.fleet import history as fleet_history, pages as fleet_pages, shards as fleet_shards

    standards = load_standards(config)
    if merge and from_file:
        raise click.UsageError("--merge reads the JSON reports named as arguments; --from lists projects to check: use one")
    try:
        sources = list(paths) + (fleets.read_list(from_file) if from_file else [])
    except fleets.FleetError as error:
        raise click.BadParameter(str(error), param_hint="--from") from None
    if not sources:
        raise click.UsageError("name the projects to check: snitch fleet PATH... or snitch fleet --from FILE "
                               "(or the reports to merge: snitch fleet --merge SHARD.json...)")
    _writable(html_file, "--html")
    try:
        history = fleet_history.prepare(history_dir) if history_dir else None
    except fleet_history.HistoryError as error:
        raise click.BadParameter(str(error), param_hint="--history") from None
    encode = output_format == "json"
    if merge:
        try:
            result = fleet_shards.merge(sources, standards)
        except fleets.FleetError as error:
            raise click.BadParameter(str(error), param_hint="SHARD") from None
    elif sys.stderr.isatty():
        with click.progressbar(length=len(sources), label="checking projects", file=sys.stderr) as bar:
            result = fleets.check_fleet(sources, standards, progress=lambda entry: bar.update(1), jobs=jobs, encode=encode)
    else:
        result = fleets.check_fleet(sources, standards, jobs=jobs, encode=encode)
    try:
        runs = fleet_history.record(history, result, _warn) if history else []
    except fleet_history.HistoryError as error:
        raise click.ClickException(str(error)) from None
    page = fleet_pages.html(result, fleet_history.section(runs, result)) if html_file or output_format == "html" else None
    if html_file:
        _write(html_file, page.encode("utf-8"))
    if output_format == "json":
        click.echo(result.json())
    elif output_format == "html":
        click.echo(page)
    else:
        click.echo(fleet_pages.markdown(result), nl=False)
    sys.exit(EXIT_FAILED if result.failed else EXIT_PASSED)
