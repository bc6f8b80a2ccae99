"""The example standard's tests run where it is installed (`pip install -e .` in an environment of
its own), so that snitch finds it the way it will in production: through its entry point."""

from importlib.metadata import entry_points

import pytest


def pytest_sessionstart(session):
    if not any(entry.name == "acme-1" for entry in entry_points(group="snitch.standards")):
        raise pytest.UsageError("snitch-model-card is not installed here: pip install -e examples/snitch-model-card first")
