"""A session whose exchange cannot be reached, and a collect session, as a trader sees them:
the reason on the page, "never connected" after the stop, no Stop on an ended session, no
trading panels on a collection, and no console errors (no 404s before the first price)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.ui import expect_live, expect_state
from tests.support.server import ServerProcess, double_server

pytestmark = pytest.mark.browser

REASON = "network is unreachable (test)"


@pytest.fixture(scope="module")
def offline(
    chromium_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("offline")
    server = double_server(
        f"sqlite:///{folder / 'papertape.db'}", folder / "server.log", unreachable=REASON
    )
    server.start()
    yield server
    server.stop()


def start(server: ServerProcess, **body) -> str:
    with server.client() as client:
        response = client.post("/sessions/start", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]["session_id"]


def test_unreachable_exchange_says_why_then_never_connected(page, offline, console):
    session_id = start(offline, mode="paper", symbols=["BTC_USDT"])
    page.goto(f"{offline.url}/sessions/{session_id}")
    expect_live(page)
    expect_state(page, "running")
    notice = page.get_by_test_id("feed-notice")
    expect(notice).to_contain_text(
        re.compile(r"Market data (reconnecting|connecting)"), timeout=30_000
    )
    expect(notice).to_contain_text("unreachable")
    expect(notice).to_contain_text("never connected")
    # since when: the time the feed entered this state, and how long ago
    since = re.compile(r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d+ (s|min)")
    expect(notice).to_contain_text(since)
    expect(page.get_by_test_id("live-price-value")).to_have_text("no price yet")
    screenshot(page, "session-feed-unreachable")

    page.get_by_test_id("stop-button").click()
    expect_state(page, "stopped")
    expect(page.get_by_test_id("stop-button")).to_have_count(0)
    expect(page.get_by_test_id("feed-badge")).to_have_text("feed: never connected")
    expect(page.get_by_test_id("feed-notice")).to_contain_text("never connected")
    expect(page.get_by_test_id("live-price").first).not_to_contain_text("live")
    screenshot(page, "session-feed-never-connected")
    assert console.errors == [] and console.warnings == []  # no 404 before a first price


def test_collect_session_shows_what_it_records_not_equity(page, offline, console):
    session_id = start(offline, mode="collect", symbols=["BTC_USDT"], market={"source": "exchange"})
    page.goto(f"{offline.url}/sessions/{session_id}")
    expect_live(page)
    expect_state(page, "running")
    stats = page.get_by_test_id("collect-stats")
    expect(stats.locator("[data-rows=trades]")).to_have_text("0")  # rows recorded (none offline)
    expect(stats).to_contain_text("Trades recorded")
    expect(stats).to_contain_text("1m candles recorded")
    expect(stats).to_contain_text("/ s on average")  # rates
    expect(stats).to_contain_text("20 levels / side")  # book depth
    expect(stats).to_contain_text("Feed gaps")
    expect(stats).to_contain_text("Over ")  # the recording's duration
    for absent in ("equity-chart", "drawdown-chart", "metrics", "manual-order"):
        expect(page.get_by_test_id(absent)).to_have_count(0)
    for tab in ("Positions", "Open orders", "Fills"):
        expect(page.get_by_role("tab", name=re.compile(f"^{tab}"))).to_have_count(0)
    expect(page.get_by_role("tab", name=re.compile("^Timeline"))).to_be_visible()
    screenshot(page, "collect-session")
    page.get_by_test_id("stop-button").click()
    expect_state(page, "stopped")
    assert console.errors == [] and console.warnings == []
