"""`python -m snitch.pipeline COMMAND` (console script `snitch-pipeline`): the pipeline's jobs."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from snitch.cli import streams
from snitch.pipeline import settings
from snitch.pipeline.errors import EXIT_FAILED, EXIT_UNUSABLE, CheckFailed, PipelineError, read_text, writable
from snitch.read.safe_yaml import YamlProblem, load_documents

PROG = "snitch-pipeline"


def _setting(name: str) -> str | None:
    """A CLI default taken from a CI/CD variable (None when it is unset)."""
    return settings.get(name) or None


def _schema_default() -> str | None:
    return _setting("SNITCH_ISVC_SCHEMA")


def _environment(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-e", "--environment", default=_setting("CI_ENVIRONMENT_NAME"),
                        help="dev, staging or production (default: $CI_ENVIRONMENT_NAME)")
    parser.add_argument("--schema", default=_schema_default(),
                        help="InferenceService CRD schema (JSON) to validate against (default: $SNITCH_ISVC_SCHEMA)")


def _project(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-p", "--path", default=".", type=Path,
                        help="the model project whose .gitlab-ci.yml gives the include's inputs "
                             "(model_name, weights_uri, team...); variables that are set win (default: .)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Job logic of the Model Promotion Pipeline.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    render = commands.add_parser("render", help="print the InferenceService of an environment (YAML)")
    _environment(render)
    _project(render)
    render.add_argument("-o", "--output", help="write it to this file instead of stdout")

    validate = commands.add_parser("validate", help="validate an InferenceService manifest file")
    validate.add_argument("manifest", help="YAML or JSON file")
    validate.add_argument("--schema", default=_schema_default(), help="CRD schema (JSON) to validate against too")
    validate.add_argument("--no-kserve", action="store_true", help="do not use kserve's Python models even if installed")

    deploy = commands.add_parser("deploy", help="render, validate, kubectl apply and write the promotion record")
    _environment(deploy)
    deploy.add_argument("--output-dir", default="promotion", help="where the manifest and record go (default: promotion)")
    deploy.add_argument("--metrics", default=_setting("SNITCH_METRICS_FILE"),
                        help="evaluation metrics JSON (default: $SNITCH_METRICS_FILE, else metrics.json if present)")
    deploy.add_argument("--dry-run", action="store_true",
                        help="render and validate, write only the manifest: nothing is applied, no promotion record")

    rollback = commands.add_parser("rollback", help="re-apply the previous promotion record's manifest")
    _environment(rollback)
    rollback.add_argument("--output-dir", default="promotion")
    rollback.add_argument("--to", default=_setting("ROLLBACK_TO"),
                          help="commit SHA, version or image digest to roll back to (default: $ROLLBACK_TO, else the previous one)")
    rollback.add_argument("--records-dir", default=None, help="records directory (default: $SNITCH_RECORDS_DIR, else the GitLab API)")
    rollback.add_argument("--dry-run", action="store_true",
                          help="find and validate the manifest to re-apply, write only it: nothing is applied, no record")

    history = commands.add_parser("history", help="list the promotion records of an environment")
    _environment(history)
    _project(history)
    history.add_argument("--records-dir", default=None)

    experiment = commands.add_parser(
        "experiment", help="train on the datasets in S3, evaluate, publish the new weights and hand on their URI")
    experiment.add_argument("-p", "--path", default=".", help="the model project (default: .)")
    experiment.add_argument("--output-dir", default="experiment", help="where the dotenv, patch and metrics go (default: experiment)")
    experiment.add_argument("--fine-tune", action=argparse.BooleanOptionalAction,
                            default=settings.flag("EXPERIMENT_FINE_TUNE"),
                            help="start from the declared weights_uri instead of from scratch (default: $EXPERIMENT_FINE_TUNE)")

    build = commands.add_parser("build", help="build and push the model image with buildah, write build.env")
    build.add_argument("--context", default=".")
    build.add_argument("--dockerfile", default="Dockerfile")
    build.add_argument("--labels-only", action="store_true",
                       default=settings.flag("SNITCH_BUILD_LABELS_ONLY"),
                       help="build FROM scratch with only the final stage's ARG/LABEL lines (offline; $SNITCH_BUILD_LABELS_ONLY)")
    build.add_argument("--push", default=None, help="docker://... or oci:DIR (default: $SNITCH_IMAGE_PUSH, else the registry)")
    build.add_argument("--output-dir", default="image")

    check_image = commands.add_parser("check-image", help="snitch standard 6 on the built image's labels")
    check_image.add_argument("--image", default=settings.get("IMAGE_SOURCE"), help="default: $IMAGE_SOURCE from build.env")
    check_image.add_argument("--junitxml", default="image-labels.xml")
    check_image.add_argument("-p", "--path", default=".")

    labels = commands.add_parser("labels-dockerfile", help="print the FROM-scratch labels-only Dockerfile of a Dockerfile")
    labels.add_argument("dockerfile")

    local = commands.add_parser("run-local", help="run the pipeline on a project with gitlab-ci-local (ci/run-local)")
    local.add_argument("project")
    local.add_argument("jobs", nargs="*")
    return parser


def _need_environment(args) -> str:
    if not args.environment:
        raise PipelineError("no environment: pass --environment dev|staging|production (or set CI_ENVIRONMENT_NAME)")
    return args.environment


def _load_manifest(path: str) -> dict:
    try:
        documents = load_documents(read_text(path))
    except YamlProblem as problem:
        raise PipelineError(f"{path} cannot be read as YAML/JSON: it {problem}") from None
    data = documents[0] if len(documents) == 1 else None
    if not isinstance(data, dict):
        raise PipelineError(f"{path} does not hold a Kubernetes object")
    return data


def dispatch(args, passthrough: list[str]) -> int:
    from snitch.pipeline import build, deploy, local, records
    from snitch.pipeline.manifest import render

    if args.command == "render":
        manifest = render(deploy.release_from_environment(_need_environment(args), settings.with_project(args.path)))
        text = deploy.dump(manifest)
        if args.output:
            writable(args.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    if args.command == "validate":
        layers = deploy.check(_load_manifest(args.manifest), args.schema, use_kserve=not args.no_kserve)
        print(f"{args.manifest}: valid InferenceService (checked: {', '.join(layers)})")
        return 0
    if args.command == "deploy":
        deploy.deploy(_need_environment(args), Path(args.output_dir), args.schema, args.metrics, args.dry_run)
        return 0
    if args.command == "rollback":
        deploy.rollback(_need_environment(args), Path(args.output_dir), args.schema, args.to, args.records_dir, args.dry_run)
        return 0
    if args.command == "history":
        environ = settings.with_project(args.path)
        found, source = records.history(settings.get("MODEL_NAME", required=True, environ=environ),
                                        _need_environment(args), args.records_dir, environ)
        print(f"# {len(found)} record(s) from {source}")
        for record in found:
            print(json.dumps({k: record.get(k) for k in (
                "deployed_at", "action", "version", "commit", "image", "weights_uri", "service", "deployed_by")}))
        return 0
    if args.command == "experiment":
        from snitch.pipeline import experiment

        experiment.run(Path(args.path), Path(args.output_dir), args.fine_tune)
        return 0
    if args.command == "build":
        build.build(Path(args.context), args.dockerfile, args.labels_only, args.push, Path(args.output_dir))
        return 0
    if args.command == "check-image":
        return build.check_image(settings.get("MODEL_NAME", required=True), args.image, args.junitxml, Path(args.path))
    if args.command == "labels-dockerfile":
        sys.stdout.write(build.labels_only_dockerfile(read_text(args.dockerfile)))
        return 0
    if args.command == "run-local":
        return local.run(args.project, args.jobs, passthrough)
    raise PipelineError(f"unknown command {args.command}")


def main(argv: list[str] | None = None) -> int:
    streams.guard()
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] = []
    if "--" in argv:
        index = argv.index("--")
        argv, passthrough = argv[:index], argv[index + 1:]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_UNUSABLE if exit_.code else 0
    try:
        return dispatch(args, passthrough)
    except CheckFailed as error:
        print(f"{PROG} {args.command}: FAILED: {error}", file=sys.stderr)
        return EXIT_FAILED
    except PipelineError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_UNUSABLE
    except Exception as error:  # never a bare traceback in a CI log; SNITCH_DEBUG=1 shows it
        if settings.get("SNITCH_DEBUG"):
            traceback.print_exc()
        print(f"{PROG} {args.command}: internal error: {type(error).__name__}: {error} "
              "(set SNITCH_DEBUG=1 for the traceback and report it to the ML platform team)", file=sys.stderr)
        return EXIT_UNUSABLE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
