"""Daemonless image build (buildah) with the labels of Model Standard 6, and the image check."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from snitch.pipeline import settings
from snitch.pipeline.errors import CommandFailed, PipelineError, read_text, writable
from snitch.pipeline.manifest import check_digest, check_repository
from snitch.read import dockerfile, files
from snitch.read.image_labels import build_argument_labels

def labels_only_dockerfile(text: str) -> str:
    """A FROM-scratch Dockerfile with the final stage's ARG and LABEL lines of `text`.

    Offline there is no registry to pull the real base image from; this image carries exactly
    the labels the real one would, so the label check (Model Standard 6) runs on a real build."""
    steps = list(dockerfile.instructions(text))  # snitch's own reader, as standard 6 uses it
    starts = [index for index, (_, keyword, _) in enumerate(steps) if keyword == "FROM"]
    if not starts:
        raise PipelineError("the Dockerfile has no FROM instruction")
    global_args = [f"ARG {arguments}" for _, keyword, arguments in steps[:starts[0]] if keyword == "ARG"]
    final = steps[starts[-1] + 1:]
    kept = [f"{keyword} {arguments}" for _, keyword, arguments in final if keyword in ("ARG", "LABEL")]
    if not any(line.startswith("LABEL") for line in kept):
        raise PipelineError("the Dockerfile's final stage sets no LABEL (Model Standard 6)")
    # global ARGs stay before FROM: a stage's bare `ARG NAME` takes their defaults
    return "".join(line + "\n" for line in global_args) + "FROM scratch\n" + "\n".join(kept) + "\n"


def build_metadata(environ=None) -> dict[str, str]:
    """The build args of Model Standard 6, from CI variables."""
    job = settings.Settings(environ)
    return {
        "VERSION": job.version(),
        "BUILD_DATE": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "VCS_REF": job.get("CI_COMMIT_SHA", required=True),
        "VCS_URL": job.get("CI_PROJECT_URL", required=True),
    }


def _buildah() -> list[str]:
    found = shutil.which(settings.get("BUILDAH", "buildah"))
    if not found:
        raise PipelineError("buildah was not found on PATH; the build job needs an image with buildah (the `build_image` input)")
    command = [found]
    root = settings.get("SNITCH_BUILDAH_ROOT")
    if root:
        command += ["--root", f"{root}/storage", "--runroot", f"{root}/run"]
    return command + ["--storage-driver", settings.get("STORAGE_DRIVER", "vfs")]


def _run(command: list[str], what: str, input_text: str | None = None, echo: bool = True) -> str:
    print("$ " + " ".join(command), flush=True)
    try:
        done = subprocess.run(command, capture_output=True, text=True, input=input_text)
    except OSError as error:
        raise CommandFailed(f"{what} could not run: {error}") from None
    if done.stdout and echo:
        print(done.stdout, end="" if done.stdout.endswith("\n") else "\n")
    if done.returncode != 0:
        raise CommandFailed(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def build(context: Path, dockerfile: str, labels_only: bool, push: str | None, output_dir: Path) -> dict[str, str]:
    """Build, push and describe the image; returns the dotenv facts written to build.env."""
    repository = check_repository(settings.get("IMAGE_REPOSITORY", required=True))
    metadata = build_metadata()
    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", metadata["VERSION"])[:128]
    reference = f"{repository}:{tag}"
    dockerfile_path = context / dockerfile
    if not dockerfile_path.is_file():
        raise PipelineError(f"{dockerfile_path} does not exist; the build job builds the project's Dockerfile")
    writable(output_dir / "image-inspect.json")  # the folder exists and takes files, before the long build
    if labels_only:
        derived = output_dir / "Dockerfile.labels-only"
        derived.write_text(labels_only_dockerfile(read_text(dockerfile_path)), encoding="utf-8")
        dockerfile_path = derived
    command = [*_buildah(), "build", "--isolation", settings.get("BUILDAH_ISOLATION", "chroot"),
               "-f", str(dockerfile_path), "-t", reference]
    for name, value in metadata.items():
        command += ["--build-arg", f"{name}={value}"]
    # CI facts override stale literals in a Dockerfile (name: a key of build_metadata)
    for label, name in build_argument_labels(settings.parameters()).items():
        command += ["--label", f"{label}={metadata[name]}"]
    _run([*command, str(context)], "buildah build")

    destination = push or settings.get("SNITCH_IMAGE_PUSH") or f"docker://{reference}"
    if destination.startswith("oci:"):
        layout = destination[4:].split(":", 1)[0]
        destination = f"oci:{Path(layout).resolve()}:{tag}"
        source = destination
    elif destination.startswith("docker://"):
        source = None
        user, password = settings.get("CI_REGISTRY_USER"), settings.get("CI_REGISTRY_PASSWORD")
        registry = settings.get("CI_REGISTRY")
        if user and password and registry:
            _run([*_buildah(), "login", "--username", user, "--password-stdin", registry], "buildah login", password)
    else:
        raise PipelineError(f"SNITCH_IMAGE_PUSH {destination!r} must start with docker:// or oci:")
    digest_file = output_dir / "image.digest"
    _run([*_buildah(), "push", "--digestfile", str(digest_file), reference, destination], "buildah push")
    digest = check_digest(read_text(digest_file).strip())
    inspect = _run([*_buildah(), "inspect", "--type", "image", reference], "buildah inspect", echo=False)
    (output_dir / "image-inspect.json").write_text(inspect, encoding="utf-8")
    facts = {
        "IMAGE_REPOSITORY": repository,
        "IMAGE_TAG": tag,
        "IMAGE_VERSION": metadata["VERSION"],
        "IMAGE_DIGEST": digest,
        "IMAGE_REF": f"{repository}@{digest}",
        "IMAGE_SOURCE": source or f"docker://{repository}@{digest}",
        "IMAGE_BUILD_DATE": metadata["BUILD_DATE"],
    }
    (Path("build.env")).write_text("".join(f"{key}={value}\n" for key, value in facts.items()), encoding="utf-8")
    print(f"built {reference} -> {facts['IMAGE_REF']}")
    return facts


def snitch_command() -> list[str]:
    found = shutil.which("snitch")
    return [found] if found else [sys.executable, "-m", "snitch"]


def check_image(model: str, source: str, junitxml: str | None, project: Path) -> int:
    """Run snitch's standard 6 on the built image; returns snitch's exit status."""
    if not source:
        raise PipelineError("no built image to check: IMAGE_SOURCE comes from the build job's build.env")
    if source.startswith("docker://"):
        skopeo = shutil.which("skopeo")
        if not skopeo:
            raise PipelineError("skopeo is needed to read a registry image's labels; use a `build_image` with skopeo")
        config = _run([skopeo, "inspect", "--config", source], "skopeo inspect --config")
        target = Path("image-config.json").resolve()
        target.write_text(config, encoding="utf-8")
        try:
            files.parse_json(config)
        except files.Unreadable:
            raise CommandFailed(f"skopeo inspect --config {source} did not print JSON") from None
        source = str(target)
    command = [*snitch_command(), "-n", model, "-p", str(project), "--image", source, "-s", "6"]
    if junitxml:
        command += ["--junitxml", junitxml]
    print("$ " + " ".join(command), flush=True)
    return subprocess.run(command).returncode
