"""Browser tests: Debian's Chromium, driven by Playwright, against a real ``papertape serve``
on a temporary SQLite store holding replay datasets imported from ../shared/data/market/.

No browser is ever downloaded. Without /usr/bin/chromium the tests skip with how to install it
(``tools/ensure_chromium.sh``), or fail the run under ``CI=true``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import shared_file
from tests.support.server import ServerProcess

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "web" / "dist" / "index.html"
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("PAPERTAPE_CHROMIUM", "/usr/bin/chromium"))
ON_CI = os.environ.get("CI") == "true"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# name → (file under ../shared/data/market, symbol)
DATASETS = {
    "btc-trades": ("binance_btcusdt_trades_2021-01-08.parquet", "BTC_USDT"),
    "btc-1m": ("btc-perp_1m_2022-01.csv.gz", "BTC_USDT"),
    "unittest-1m": ("freqtrade-unittest_btc_1m_2017-11.json.gz", "UNITTEST_BTC"),
    "xrp-perp-5m": ("binance-futures_xrpusdt_5m_2021-11.csv", "XRP_USDT"),
    "xrp-funding": ("binance-futures_xrpusdt_funding-rate_8h_2021-11.csv", "XRP_USDT"),
}


def _require(condition: bool, message: str) -> None:
    if condition:
        return
    if ON_CI:
        pytest.fail(message + " (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    _require(
        CHROMIUM.exists(),
        f"Chromium not found at {CHROMIUM}: install Debian's package with "
        "`sudo tools/ensure_chromium.sh` (apt-get install chromium)",
    )
    _require(
        DIST.exists(),
        f"the dashboard is not built ({DIST} missing): run `cd web && npm ci && npm run build`",
    )
    return CHROMIUM


@dataclass
class Backend:
    """A real server on a temporary store, restartable on the same port and store."""

    process: ServerProcess
    workdir: Path
    datasets: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.process.url

    def api(self) -> httpx.Client:
        return self.process.client()

    def start_session(self, **body) -> str:
        with self.api() as client:
            response = client.post("/sessions/start", json=body)
        assert response.status_code == 201, response.text
        return response.json()["data"]["session_id"]

    def restart(self, *, crash: bool) -> None:
        if crash:
            self.process.kill()
        else:
            self.process.stop()
        self.process.start()


def _papertape(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "papertape", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
    )


@pytest.fixture(scope="session")
def backend(chromium_path: Path) -> Iterator[Backend]:
    workdir = Path(tempfile.mkdtemp(prefix="papertape-browser-"))
    store = f"sqlite:///{workdir / 'papertape.db'}"
    for name, (file, symbol) in DATASETS.items():
        result = _papertape(
            "data",
            "import",
            str(shared_file(file)),
            "--name",
            name,
            "--symbol",
            symbol,
            "--store",
            store,
        )
        assert result.returncode == 0, (
            f"papertape data import failed:\n{result.stdout}\n{result.stderr}"
        )
    process = ServerProcess(store, workdir / "server.log")
    process.start()
    yield Backend(process, workdir, {name: symbol for name, (_, symbol) in DATASETS.items()})
    process.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser_context(chromium_path: Path, backend: Backend):
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="papertape-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(chromium_path),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1440, "height": 900},
            base_url=backend.url,
        )
        context.set_default_timeout(15_000)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


class ConsoleLog:
    """console.error (and console.warn) lines of every tab, with the URL of a failed resource
    when there is one. A refused request (4xx) is a warning; only failures are errors."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def _on_console(self, message) -> None:
        if message.type in ("error", "warning"):
            url = (message.location or {}).get("url", "")
            args = " ".join(str(a.json_value()) for a in message.args) if message.args else ""
            line = f"{message.text} {args} [{url}]"
            (self.errors if message.type == "error" else self.warnings).append(line)

    def about(self, *needles: str) -> list[str]:
        return [e for e in self.errors if any(n in e for n in needles)]

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture
def page(request, browser_context, backend: Backend, console: ConsoleLog):
    tab = browser_context.new_page()
    console.attach(tab)
    yield tab
    if getattr(request.node, "call_failed", False):
        screenshot(tab, f"FAILED-{request.node.name}")
    tab.close()
    died = backend.process.died()  # no test leaves the shared server down on purpose
    if died is not None:
        backend.process.start()  # for the tests after this one
        pytest.fail(died)


@pytest.fixture
def new_tab(browser_context, console: ConsoleLog):
    opened = []

    def open_tab():
        tab = browser_context.new_page()
        console.attach(tab)
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        tab.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate(
        "window.scrollTo(0, 0)"
    )  # the header is fixed: a scrolled full-page shot misplaces it
    page.screenshot(path=str(path), full_page=True)
    return path
