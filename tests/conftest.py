"""Suite-wide rules. Fixtures for one app live in tests/<app>/conftest.py.

- In CI (env CI=true) a skipped test fails the run: CI has PostgreSQL, Redis and Chromium, so
  nothing has a reason to be skipped there.
- Tests marked ``postgres`` (COPY, `UPDATE … FROM unnest`, row locks, triggers, a worker on another
  connection) are not collected on SQLite, and the summary says how many were left out; CI runs on
  PostgreSQL, where every test runs. Nothing is ever skipped.
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


_needs_postgres: list[str] = []


def pytest_collection_modifyitems(config, items):
    if _on_postgres():
        return
    kept = []
    for item in items:
        (_needs_postgres if item.get_closest_marker("postgres") else kept).append(item)
    if _needs_postgres:
        config.hook.pytest_deselected(items=[i for i in items if i.get_closest_marker("postgres")])
        _needs_postgres[:] = [i.nodeid for i in items if i.get_closest_marker("postgres")]
        items[:] = kept


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
    if _needs_postgres:
        terminalreporter.line(
            f"{len(_needs_postgres)} tests need PostgreSQL and were left out on SQLite; they run with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> (as CI does).", yellow=True)
    if IN_CI and _skipped:
        terminalreporter.section("CI forbids skipped tests", sep="=", red=True, bold=True)
        for nodeid, reason in _skipped:
            terminalreporter.line(f"SKIPPED {nodeid}: {reason}", red=True)
        terminalreporter.line(f"{len(_skipped)} skipped under CI=true: the run fails.", red=True, bold=True)
