"""Shared fixtures for snitch's own test-suite; each area keeps its fixtures in tests/fixtures/."""

import os
import secrets
import shutil

import pytest

pytest_plugins = [
    "fixtures.checker",
    "fixtures.template",
    "fixtures.pipeline",
    "fixtures.s3",
]


@pytest.fixture(scope="session", autouse=True)
def _private_snitch_cache(tmp_path_factory):
    """snitch caches OpenAPI verdicts in the user's cache folder, under a per-user key it makes on
    first use: keep the tests' runs out of both (tests of the key file choose their own)."""
    os.environ["SNITCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("snitch-cache"))
    os.environ["SNITCH_CACHE_KEY"] = secrets.token_hex(32)

# Outside tools some tests need (scripts/setup installs them). On a developer's machine a missing one skips those tests with a
# reason; in CI (CI=true), where scripts/setup installs them all, a missing one fails the whole
# run: a test suite that skips its way to green proves nothing.
CI_TOOLS = (
    "git", "rsync", "buildah", "skopeo", "gitlab-ci-local", "sarif-multitool", "check-jsonschema", "pre-commit", "cruft",
    "chromium", "chromedriver",
)


def pytest_sessionstart(session):
    if os.environ.get("CI", "").lower() in ("", "0", "false"):
        return
    missing = [tool for tool in CI_TOOLS if shutil.which(tool) is None]
    if missing:
        raise pytest.UsageError(f"CI=true but {', '.join(missing)} not installed: scripts/setup installs them")
