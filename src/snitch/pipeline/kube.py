"""Apply manifests with kubectl (the only part of the pipeline that touches a cluster)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from snitch.pipeline import settings
from snitch.pipeline.errors import CommandFailed, PipelineError


def kubectl_command() -> list[str]:
    """`$KUBECTL` (default `kubectl`), plus `--context $KUBE_CONTEXT` when that is set."""
    name = settings.get("KUBECTL", "kubectl")
    found = shutil.which(name)
    if not found:
        raise PipelineError(
            f"{name} was not found on PATH; the deploy jobs need kubectl and cluster credentials "
            "(use a `deploy_image` that has kubectl, and a KUBECONFIG file variable)"
        )
    command = [found]
    context = settings.get("KUBE_CONTEXT")
    if context:
        command += ["--context", context]
    return command


def apply(manifest: Path) -> str:
    """`kubectl apply -f MANIFEST`; returns kubectl's output, raises CommandFailed on failure."""
    command = [*kubectl_command(), "apply", "-f", str(manifest)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CommandFailed(f"`{' '.join(command)}` could not run: {error}") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise CommandFailed(f"`kubectl apply -f {manifest}` failed (exit {done.returncode}): {detail}")
    return done.stdout.strip()
