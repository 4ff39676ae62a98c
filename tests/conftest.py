"""Shared fixtures: both stores for integration tests, real servers for black-box tests.

Under ``CI=true`` a skipped test fails the run: a QuestDB or browser test that cannot run in CI
is a broken CI, not a pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import no_network
from tests.support.data import MARKET_DATA
from tests.support.server import ServerProcess

pytest_plugins = ["papertape.devtools.pytest_questdb"]

ON_CI = os.environ.get("CI") == "true"


def pytest_configure(config: pytest.Config) -> None:
    no_network.point_exchanges_at_a_closed_port()
    no_network.install()


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    """Fail any test that tried to reach a non-loopback address (see tests/support/no_network)."""
    no_network.take_attempts()
    yield
    attempts = no_network.take_attempts()
    if attempts:
        pytest.fail(f"the test tried to reach the network: {', '.join(attempts[:5])}")


def shared_file(name: str) -> Path:
    path = MARKET_DATA / name
    if not path.exists():
        pytest.fail(f"shared market data missing: {path} (tests read ../shared/data/market)")
    return path


@pytest.fixture(params=["sqlite", "questdb"])
def any_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs once on SQLite and once on a real QuestDB server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'papertape.db'}"
    return request.getfixturevalue("questdb_url")


def fresh_store_url(kind: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty store of ``kind`` (``sqlite`` or ``questdb``) for a module's tests."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'papertape.db'}"
    from papertape.devtools.pytest_questdb import drop_all_tables, require_questdb

    server = require_questdb()
    drop_all_tables(server)
    return server.url


@pytest.fixture(scope="module", params=["sqlite", "questdb"])
def module_store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """An empty store shared by one test module, once per store."""
    return fresh_store_url(request.param, tmp_path_factory)


def module_server(
    store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """Body of a module-scoped fixture: one real server on ``store_url`` for the module."""
    process = ServerProcess(store_url, tmp_path_factory.mktemp("logs") / "server.log").start()
    yield process
    process.stop()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(store_url: str, **kwargs) -> ServerProcess:
        server = ServerProcess(store_url, tmp_path / f"server-{len(started)}.log", **kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def _run_order(nodeid: str) -> int:
    if nodeid.startswith("tests/browser/"):
        return 2
    return 0 if nodeid.startswith("tests/crash/") else 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for as long as its session-wide browser lives, and no asyncio test can run after
    it starts.

    Under ``pytest -n N --dist loadgroup --no-loadscope-reorder`` (``make test``) each test module
    runs whole in one worker, so its module-wide servers start once; the workers take the modules
    in this order, the crash tests (the longest) first, and all browser tests last, in one worker
    with one backend and one Chromium."""
    items.sort(key=lambda item: _run_order(item.nodeid))
    for item in items:
        module = item.nodeid.split("::")[0]
        group = "browser" if module.startswith("tests/browser/") else module
        item.add_marker(pytest.mark.xdist_group(group))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if ON_CI and skipped:
        reporter.write_line(
            f"CI=true: {len(skipped)} test(s) skipped; in CI every test must run:", red=True
        )
        for report in skipped[:20]:
            reporter.write_line(
                f"  {report.nodeid}: {report.longrepr[-1] if report.longrepr else ''}"
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
