"""Suite-wide rules. Fixtures for one app live in tests/<app>/conftest.py.

- In CI (env CI=true) a skipped test fails the run: CI has PostgreSQL, Redis and Chromium, so
  nothing has a reason to be skipped there.
- Tests marked ``postgres`` are skipped on SQLite (and so fail a CI run, which always has PostgreSQL).
- Hypothesis profiles: "ci" (derandomized, no deadline) under CI, "dev" otherwise;
  HYPOTHESIS_PROFILE overrides.
"""

import os

import pytest
from hypothesis import settings as hypothesis_settings

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}

hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def _on_postgres() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config, items):
    if _on_postgres():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: running on SQLite; set DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db>"
    )
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


_skipped: list[tuple[str, str]] = []


def _record_skip(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append((report.nodeid, reason))


def pytest_runtest_logreport(report):
    _record_skip(report)


def pytest_collectreport(report):
    _record_skip(report)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if IN_CI and _skipped and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if IN_CI and _skipped:
        terminalreporter.section("CI forbids skipped tests", sep="=", red=True, bold=True)
        for nodeid, reason in _skipped:
            terminalreporter.line(f"SKIPPED {nodeid}: {reason}", red=True)
        terminalreporter.line(f"{len(_skipped)} skipped under CI=true: the run fails.", red=True, bold=True)
