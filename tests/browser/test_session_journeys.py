"""The dashboard's session journeys, in Chromium, against a real server."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.ui import choose, expect_live, expect_state, fill_number, session_id_from_url

pytestmark = pytest.mark.browser


def open_start_dialog(page):
    page.goto("/")
    expect_live(page)
    page.get_by_role("button", name="Start session").click()
    dialog = page.get_by_role("dialog", name="Start session")
    expect(dialog).to_be_visible()
    return dialog


def test_start_paper_session_watch_price_and_stop(page, backend, console):
    dialog = open_start_dialog(page)
    choose(page, "Dataset", "btc-trades", scope=dialog)
    expect(
        dialog.get_by_text("BTC_USDT", exact=True).first
    ).to_be_visible()  # symbol taken from the dataset
    fill_number(page, "Replay speed", "1", scope=dialog)
    screenshot(page, "start-session-dialog")
    dialog.get_by_role("button", name="Start", exact=True).click()

    page.wait_for_url("**/sessions/exec_*")
    session_id = session_id_from_url(page)
    expect_state(page, "running")
    price = page.get_by_test_id("live-price-value").first
    expect(price).not_to_have_text("no price yet", timeout=15_000)
    first = price.inner_text()
    deadline = time.monotonic() + 15
    while price.inner_text() == first and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert price.inner_text() != first, f"the price did not move from {first}"
    expect(page.get_by_test_id("price-chart").locator("canvas").first).to_be_visible()
    screenshot(page, "session-detail-running")

    page.get_by_test_id("stop-button").click()
    result = page.get_by_test_id("stop-result")
    expect(result).to_have_attribute("data-stopped-via", "controller")
    expect_state(page, "stopped")
    expect(page.get_by_test_id("error-notice")).to_have_count(0)
    with backend.api() as client:
        assert client.get(f"/sessions/{session_id}").json()["data"]["state"] == "stopped"
    page.get_by_role("tab", name="Timeline").click()
    expect(page.get_by_test_id("event-timeline")).to_contain_text("running → stopping")
    screenshot(page, "session-detail-stopped")

    page.goto("/")
    row = page.get_by_test_id("sessions-table").get_by_role("row").filter(has_text=session_id)
    expect(row.get_by_test_id("state-badge")).to_have_attribute("data-state", "stopped")
    screenshot(page, "sessions-list")
    assert console.errors == []


def test_stop_in_a_tab_after_another_tab_stopped_it_is_a_notice(new_tab, backend, console):
    session_id = backend.start_session(
        mode="paper",
        symbols=["BTC_USDT"],
        market={"source": "replay", "dataset": "btc-1m", "speed": 30},
    )
    first, second = new_tab(), new_tab()
    for tab in (first, second):
        tab.goto(f"/sessions/{session_id}")
        expect_state(tab, "running")
    second.get_by_test_id("stop-button").click()
    expect(second.get_by_test_id("stop-result")).to_have_attribute("data-stopped-via", "controller")

    # the other tab hears of it: stopped, with no Stop button left to press (a click that
    # races the news is answered "already stopped": StopControl.test.tsx)
    expect_state(first, "stopped")
    expect(first.get_by_test_id("stop-button")).to_have_count(0)
    expect(first.get_by_test_id("error-notice")).to_have_count(0)
    price = first.get_by_test_id("live-price").first
    expect(price).not_to_contain_text("live")
    expect(price).to_contain_text("last price seen")
    screenshot(first, "session-stopped-elsewhere")
    assert console.errors == []


def test_validation_error_is_shown_on_its_field(page, backend, console):
    dialog = open_start_dialog(page)
    choose(page, "Dataset", "btc-trades", scope=dialog)
    fill_number(page, "Replay speed", "-5", scope=dialog)
    dialog.get_by_label("Strategies", exact=True).click()
    page.get_by_role("option", name="sma_cross", exact=True).click()
    page.keyboard.press("Escape")
    fill_number(page, "sma_cross: fast", "30", scope=dialog)
    fill_number(page, "sma_cross: slow", "10", scope=dialog)
    dialog.get_by_role("button", name="Start", exact=True).click()

    speed = dialog.get_by_label("Replay speed", exact=True)
    expect(speed).to_have_attribute("aria-invalid", "true")
    # the cross-field rule, in the same answer, on the field to change
    slow = dialog.get_by_label("sma_cross: slow", exact=True)
    expect(slow).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_text("slow must be larger than fast")).to_have_count(1)
    field_error = dialog.locator(".mantine-InputWrapper-error").filter(
        has_text="greater than or equal"
    )
    expect(field_error).to_have_count(1)
    expect(dialog.get_by_test_id("form-error")).to_be_visible()
    screenshot(page, "start-session-validation-error")
    assert (
        page.url.rstrip("/").endswith(backend.url.split("//")[1])
        or "/sessions/exec_" not in page.url
    )
    # The refusal is logged with its details for whoever debugs it, as a warning: a form
    # error is not a failure of the dashboard (the browser's own resource line aside).
    assert any("papertape request failed" in w for w in console.warnings)
    assert [e for e in console.errors if "status of 422" not in e] == []


def test_keyboard_reaches_the_start_dialog_and_the_pages(page, backend, console):
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto("/")
    expect_live(page)
    start = page.get_by_role("button", name="Start session")
    for _ in range(30):  # Tab through the page until the button has focus
        page.keyboard.press("Tab")
        if start.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Start session is not reachable with Tab")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Start session")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Backtests").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/backtests$"))
    expect(page.get_by_role("heading", name="Backtests", exact=True)).to_be_visible()
    for name in ("Data", "Strategies", "Sessions"):
        page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect_live(page)
    assert len(sockets) == 1, f"one websocket per tab, saw {sockets}"
    assert console.errors == []


def test_session_list_follows_sessions_started_and_stopped_elsewhere(page, backend, console):
    page.goto("/")
    expect_live(page)
    session_id = backend.start_session(
        mode="paper",
        symbols=["BTC_USDT"],
        label="from-the-api",
        market={"source": "replay", "dataset": "btc-1m", "speed": 60},
    )
    row = page.get_by_test_id("sessions-table").get_by_role("row").filter(has_text=session_id)
    expect(row.get_by_test_id("state-badge")).to_have_attribute("data-state", "running")
    expect(row).to_contain_text("from-the-api")
    with backend.api() as client:
        assert (
            client.post(f"/sessions/{session_id}/stop").json()["data"]["stopped_via"]
            == "controller"
        )
    expect(row.get_by_test_id("state-badge")).to_have_attribute("data-state", "stopped")
    assert console.errors == []


def test_emergency_stop_all_from_the_sessions_page(page, backend, console):
    ids = [
        backend.start_session(
            mode="paper",
            symbols=["BTC_USDT"],
            market={"source": "replay", "dataset": "btc-1m", "speed": 30},
        )
        for _ in range(2)
    ]
    page.goto("/")
    expect_live(page)
    page.get_by_test_id("stop-all-button").click()
    dialog = page.get_by_role("dialog", name="Stop every session?")
    expect(dialog).to_be_visible()
    page.wait_for_timeout(400)  # let the dialog finish fading in for the screenshot
    screenshot(page, "stop-all-confirm")
    dialog.get_by_role("button", name="Stop all sessions").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text(re.compile(r"\d+ session\(s\) stopped\."))).to_be_visible()
    with backend.api() as client:
        for session_id in ids:
            detail = client.get(f"/sessions/{session_id}").json()["data"]
            assert detail["state"] == "stopped" and detail["stop_reason"] == "emergency"
        assert client.get("/sessions", params={"state": "running"}).json()["data"]["total"] == 0
    for session_id in ids:
        row = page.get_by_test_id("sessions-table").get_by_role("row").filter(has_text=session_id)
        expect(row.get_by_test_id("state-badge")).to_have_attribute("data-state", "stopped")
    expect(page.get_by_test_id("error-notice")).to_have_count(0)


def test_a_perpetual_backtest_shows_its_funding_payments(page, backend, console):
    session_id = backend.start_session(
        mode="backtest",
        symbols=["XRP_USDT"],
        strategies=[{"name": "sma_cross", "params": {"fast": 24, "slow": 96}}],
        fees={"taker": 0.0004, "maker": 0.0004},
        market={
            "source": "replay",
            "dataset": "xrp-perp-5m",
            "market_type": "swap",
            "funding": "xrp-funding",
        },
        margin={"liquidation_fee": 0.015, "liquidation_close": "liquidation"},
    )
    page.goto(f"/sessions/{session_id}")
    expect_state(page, "completed")
    with backend.api() as client:
        payments = client.get(f"/sessions/{session_id}/funding").json()["data"]["items"]
        counters = client.get(f"/sessions/{session_id}").json()["data"]["counters"]
    assert payments, "the strategy held its position across funding times"
    # how the positions were valued and would have been liquidated: no mark data, so the last
    # trade; the session's liquidation settings and the default (BTCUSDT) brackets
    assert counters["valued_at"] == {"XRP_USDT": "last"}
    assert counters["liquidation"]["close_at"] == "liquidation"
    rules = page.get_by_test_id("perpetual-rules")
    row = rules.locator("tr[data-symbol='XRP_USDT']")
    expect(row.get_by_test_id("valued-at")).to_have_attribute("data-valued-at", "last")
    expect(row).to_contain_text("last trade (no fresh mark price)")
    expect(row).to_contain_text("Binance BTCUSDT's (default)")
    expect(rules.get_by_test_id("liquidation-rule")).to_contain_text(
        "closes a position at its liquidation price and charges 1.5 % of the closed notional"
    )
    page.get_by_role("tab", name=re.compile(r"^Funding \(")).click()
    table = page.get_by_test_id("funding")
    expect(table.get_by_role("row")).to_have_count(len(payments) + 1)  # + the header
    total = sum(p["amount"] for p in payments)
    expect(page.get_by_test_id("funding-total")).to_contain_text(f"{total:.4f}"[:6])
    expect(table).to_contain_text("last")  # the price each payment was valued at
    screenshot(page, "session-funding")
    assert console.errors == []
