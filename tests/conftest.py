"""Shared fixtures for snitch's own test-suite; each area keeps its fixtures in tests/fixtures/."""

import os

import pytest

pytest_plugins = [
    "fixtures.checker",
    "fixtures.template",
    "fixtures.pipeline",
]


@pytest.fixture(scope="session", autouse=True)
def _private_snitch_cache(tmp_path_factory):
    """snitch caches OpenAPI verdicts in the user's cache folder: keep the tests' runs out of it."""
    os.environ["SNITCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("snitch-cache"))
