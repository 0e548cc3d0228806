"""End-to-end tests in real headless OBS. They need `obs` and `Xvfb`; without them
they skip, except where CI=true: there a skipped OBS test, for whatever reason, is a
failure (these tests must never be skipped in CI)."""

import os

import pytest

from tests.obs.harness import missing_tools


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module", autouse=True)
def obs_available():
    missing = missing_tools()
    if missing:
        pytest.skip(f"real OBS tests need {', '.join(missing)} (apt-get install obs-studio xvfb xauth)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped where CI=true, and OBS tests must run in CI: {reason}"
