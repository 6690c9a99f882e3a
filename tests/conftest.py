"""Suite-wide rules.

The grader's security tests need the bubblewrap sandbox. Where it is missing they would skip, and a green run would
then have tested nothing of the grader's security: so a skip for want of the sandbox counts as a failure, unless the
maintainer opts out explicitly with ``COURSE_ALLOW_NO_SANDBOX=1``; the summary then says how many were skipped.
"""

import os

import pytest

pytest_plugins = ["pytester"]  # tests/test_setup.py runs small suites under these rules

ALLOW_NO_SANDBOX = "COURSE_ALLOW_NO_SANDBOX"
_SANDBOX_WORDS = ("sandbox", "bubblewrap", "bwrap")
_skipped_security = []


def _skip_reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def is_missing_sandbox_skip(reason):
    """True iff a skip reason says that the sandbox is missing or unusable."""
    reason = reason.lower()
    return any(word in reason for word in _SANDBOX_WORDS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or not is_missing_sandbox_skip(_skip_reason(report)):
        return
    if os.environ.get(ALLOW_NO_SANDBOX) == "1":
        return
    report.outcome = "failed"
    report.longrepr = (
        f"{_skip_reason(report)}\nThe grader's security tests need the bubblewrap sandbox: install it (`make "
        f"system-packages`, or `apt-get install bubblewrap`), or set {ALLOW_NO_SANDBOX}=1 to skip them knowingly."
    )


def pytest_runtest_logreport(report):
    # Runs where the results are gathered (the controller, under xdist), unlike pytest_runtest_makereport.
    if report.skipped and is_missing_sandbox_skip(_skip_reason(report)):
        _skipped_security.append(report.nodeid)


def pytest_terminal_summary(terminalreporter):
    if _skipped_security:
        terminalreporter.write_sep(
            "=", f"{len(_skipped_security)} security tests SKIPPED: no sandbox ({ALLOW_NO_SANDBOX}=1)", yellow=True
        )
