"""The Pythons `ci/run-local` needs, built from the standard library alone.

run-local must start from any Python 3 with `venv` and `pip` (a freshly created virtualenv, as
docs/pipeline.md tells a user), before snitch's own dependencies are importable. So this module
imports nothing outside the standard library and `snitch.read.cache` / `snitch.pipeline.errors`
(stdlib-only themselves), and builds, once per content, in the user's cache folder
($SNITCH_CACHE_DIR, else ~/.cache/snitch) under `run-local/`:

* `checkout_wheel(checkout)`: the wheel of this checkout (`pip wheel --no-deps`), what every
  job installs as `SNITCH_PIP_SPEC`, the way a runner installs the released package;
* `tool_python(checkout)`: a virtualenv with that wheel and its dependencies, in which run-local
  itself runs when the Python that started it lacks them.

Each is built in a staging folder and renamed into place, so two run-locals started at once
never see a half-built one (the loser of the rename discards its copy).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from snitch.pipeline.errors import PipelineError
from snitch.read.cache import cache_dir

# What goes into the wheel (hatch's wheel target and the project metadata): its content decides
# whether a cached wheel is still this checkout's.
WHEEL_SOURCES = ("pyproject.toml", "README.md", "standards/MODEL_STANDARDS.md", "model-project-template", "src/snitch")
PIP_TIMEOUT_S = 900
_PIP_QUIET = ["--quiet", "--disable-pip-version-check", "--no-input"]


def _content_key(checkout: Path, sources: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for source in sources:
        root = checkout / source
        paths = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if root.is_dir() else [root]
        for path in paths:
            digest.update(path.relative_to(checkout).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() if path.is_file() else b"(missing)")
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def _build_once(final: Path, build: Callable[[Path], None]) -> Path:
    """`final`, made by `build(staging_folder)` unless it already exists."""
    if final.exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        build(staging)
        try:
            os.rename(staging, final)
        except OSError:
            if not final.exists():  # not a lost race: a real failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _run(argv: list[str], what: str) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, env=env)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PipelineError(f"run-local could not {what}: {error}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise PipelineError(f"run-local could not {what} (exit {done.returncode}):\n{tail}\n"
                            "Check that this Python has venv and pip and that the package index is reachable "
                            "(PIP_INDEX_URL).")


def checkout_wheel(checkout: Path) -> Path:
    """The wheel of `checkout` as it is now (built on first use, then reused while unchanged)."""
    folder = cache_dir() / "run-local" / f"wheel-{_content_key(checkout, WHEEL_SOURCES)}"

    def build(staging: Path) -> None:
        _run([sys.executable, "-m", "pip", "wheel", *_PIP_QUIET, "--no-deps", "--wheel-dir", str(staging), str(checkout)],
             f"build the wheel of {checkout}")

    (wheel,) = _build_once(folder, build).glob("model_snitch-*.whl")
    return wheel


def tool_python(checkout: Path) -> Path:
    """A Python with snitch's dependencies (those of `checkout`'s pyproject.toml) installed."""
    version = "{}.{}".format(*sys.version_info[:2])
    folder = cache_dir() / "run-local" / f"tool-py{version}-{_content_key(checkout, ('pyproject.toml',))}"
    wheel = checkout_wheel(checkout)

    def build(staging: Path) -> None:
        _run([sys.executable, "-m", "venv", str(staging)], f"create a virtualenv in {staging}")
        _run([str(staging / "bin" / "python"), "-m", "pip", "install", *_PIP_QUIET, str(wheel)],
             "install snitch's dependencies for run-local")

    return _build_once(folder, build) / "bin" / "python"
