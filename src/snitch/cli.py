"""The `snitch` command: runs the standards' checks on a model project through pytest.

Exit status: 0 every check passed (skips allowed), 1 at least one standard failed, 2 the run
could not be done (bad arguments, no such project folder, bad config, internal error)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import click

from snitch import __version__, files, streams
from snitch.config import CONFIG_ENV, load_standards
from snitch.names import is_dns_label
from snitch.standards import Standards, StandardsError

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
    help="The model's name, a DNS label (default: the model_name input in .gitlab-ci.yml).",
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
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: a pytest session; json: a machine-readable report on stdout.",
)
@click.option("--junitxml", type=click.Path(dir_okay=False), help="Also write a JUnit XML report to this file.")
@_config_option
@click.option(
    "--image",
    metavar="SOURCE",
    help="Also check a built image's labels: an OCI layout (oci:DIR[:TAG]) or `skopeo inspect` JSON.",
)
@click.option(
    "-s", "--standard", "selected", type=int, multiple=True, metavar="N", help="Run only standard N (repeatable)."
)
@click.option("--online", is_flag=True, help="Also check that the declared weights exist in S3 (needs credentials).")
@click.version_option(__version__, prog_name="snitch")
@click.pass_context
def main(ctx, model, path, output_format, junitxml, config, image, selected, online):
    """Check that a model project follows the Model Standards.

    \b
    snitch -n iris-classifier               check the project in the current folder
    snitch -n iris-classifier -p ../iris    check another folder
    snitch list                             list the standards
    snitch explain 4                        explain standard 4 and how to pass it
    """
    if ctx.invoked_subcommand:
        return
    from snitch.project import Project

    project = Project(path, model or "")  # one reader for the whole run: .gitlab-ci.yml is parsed once
    model = project.model = model or _declared_model_name(project)
    if not is_dns_label(model):
        raise click.BadParameter(
            f"{model!r} is not a valid model name: use lower-case letters, digits and '-', "
            "at most 63 characters, starting and ending with a letter or digit (a Kubernetes DNS label)",
            param_hint="-n/--name",
        )
    standards = load_standards(config)
    unknown = sorted(set(selected) - set(standards.standards))
    if unknown:
        raise click.BadParameter(
            f"no standard {', '.join(map(str, unknown))}; the standards are {_numbers(standards)}",
            param_hint="-s/--standard",
        )
    sys.exit(_run(project, standards, output_format, junitxml, image, selected, online))


def _declared_model_name(project) -> str:
    """Without -n, the model name the project gives the shared pipeline (so a bare `snitch` works
    in a compliant repository, e.g. from `pre-commit try-repo`)."""
    from snitch import gitlab_ci
    from snitch.violation import FileProblem

    try:
        declared = gitlab_ci.setting(project.yaml_mapping(".gitlab-ci.yml"), "model_name", "MODEL_NAME")
    except FileProblem:
        declared = None
    if declared is None or not isinstance(declared.value, str):
        raise click.UsageError(
            "give the model's name with -n NAME (for example: snitch -n iris-classifier); "
            f"{project.root}/.gitlab-ci.yml declares no model_name input to fall back on"
        )
    return declared.value


def _numbers(standards: Standards) -> str:
    return ", ".join(str(number) for number in sorted(standards.standards))


def _run(project, standards, output_format, junitxml, image, selected, online) -> int:
    import pytest  # deferred so that `snitch list` and `--help` start instantly

    from snitch import plugin as fixtures
    from snitch.plugin import SnitchPlugin, checks_dir

    # The checked project must not change how snitch runs: no plugins from the environment,
    # no options from PYTEST_ADDOPTS, no ini file or conftest.py from the project.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    for variable in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        os.environ.pop(variable, None)
    checks = checks_dir()
    args = [
        str(checks),
        "-c", str(checks / "pytest.ini"),
        "--rootdir", str(checks.parent),
        "--noconftest",
        "--import-mode=importlib",
        "--assert=plain",
        "-p", "no:cacheprovider",
        "-p", "no:doctest",
        # These two call gc.collect() several times per session: a fifth of snitch's run time.
        "-p", "no:unraisableexception",
        "-p", "no:threadexception",
    ]
    if junitxml:
        try:
            files.prepare_output(junitxml)
        except files.Unwritable as problem:
            raise click.BadParameter(f"cannot write the JUnit report: {problem}", param_hint="--junitxml") from None
        args.append(f"--junitxml={Path(junitxml).resolve()}")
    if output_format == "json":
        args += ["-p", "no:terminal"]
    else:
        args.append("-rfEs")  # the summary names every failure, and says why each skipped check was skipped
        source = f"Model Standards version {standards.version} from {standards.source}"
        if standards.config:
            source += f" with parameters from {standards.config}"
        click.echo(f"Running snitch on the {project.model} model at {project.root}, using {source}")
        sys.stdout.flush()
    if image:
        from snitch.image import absolute

        image = absolute(image)  # the checks run from snitch's own folder: a relative path must not move
    plugin = SnitchPlugin(project, standards, tuple(selected), image, online)
    # Run from snitch's own folder so the session lists checks/test_standard_N.py, not long relative paths.
    here = os.getcwd()
    os.chdir(checks.parent)
    try:
        code = pytest.main(args, plugins=[plugin, fixtures])
    finally:
        os.chdir(here)
    if output_format == "json":
        click.echo(json.dumps(_report(project, standards, plugin), indent=2))
    if plugin.internal_errors or code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        for error in plugin.internal_errors:
            click.echo(f"snitch: {error}", err=True)
        if code == pytest.ExitCode.NO_TESTS_COLLECTED:
            click.echo("snitch: error: no checks were run", err=True)
        return EXIT_UNUSABLE
    return EXIT_FAILED if any(result.outcome == "failed" for result in plugin.results) else EXIT_PASSED


def _report(project, standards: Standards, plugin) -> dict:
    counts = {outcome: 0 for outcome in ("passed", "failed", "skipped", "error")}
    for result in plugin.results:
        counts[result.outcome] += 1
    return {
        "model": project.model,
        "path": str(project.root),
        "standards_version": standards.version,
        "snitch_version": __version__,
        "summary": {"total": len(plugin.results), **counts},
        "checks": [result.as_dict() for result in plugin.results],
    }


@main.command(name="list")
@_config_option
def list_standards(config):
    """List the standards and their checks."""
    standards = load_standards(config)
    click.echo(f"Model Standards version {standards.version} ({standards.parameters['docs_url']})")
    for number in sorted(standards.standards):
        standard = standards[number]
        click.echo(f"{number:>3}. {standard.title} ({len(standard.checks)} checks)")


@main.command()
@click.argument("number", type=int)
@_config_option
def explain(number, config):
    """Explain standard NUMBER: why it exists, what passes, how to fix a failure."""
    standards = load_standards(config)
    if number not in standards.standards:
        raise click.BadParameter(f"no standard {number}; the standards are {_numbers(standards)}", param_hint="NUMBER")
    standard = standards[number]
    wrap = textwrap.TextWrapper(width=100, subsequent_indent="    ")
    click.echo(f"Standard {number}: {standard.title}\n")
    click.echo(textwrap.fill(standards.fill(standard.rationale), width=100))
    for name in standard.checks:
        doc = standards.check_doc(number, name)
        click.echo(f"\n  {name}")
        click.echo(wrap.fill(f"    expected: {doc.expected}"))
        click.echo(wrap.fill(f"    fix:      {doc.fix}"))
    click.echo(f"\nMore: {standards.url(number)}")
