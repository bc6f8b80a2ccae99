"""Shared fixtures for snitch's own test-suite; each area keeps its fixtures in tests/fixtures/."""

pytest_plugins = [
    "fixtures.checker",
    "fixtures.template",
    "fixtures.pipeline",
    "fixtures.s3",
]
