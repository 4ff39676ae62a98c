"""Manual Buy/Sell on a paper session's page, in Chromium, against a real server: disabled, saying
why, while the session has no market price (the server would refuse a market order with 409
``no_market_price``); enabled once it has one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.ui import expect_state, fill_number
from tests.support.server import free_port

pytestmark = pytest.mark.browser


def order_buttons(page):
    form = page.get_by_test_id("manual-order")
    return form, form.get_by_role("button", name="Buy"), form.get_by_role("button", name="Sell")


def test_buy_and_sell_wait_for_the_sessions_first_price(page, backend, console):
    # an exchange feed that never connects (its exchange is a closed loopback port): running,
    # with no price
    unpriced = backend.start_session(
        mode="paper",
        symbols=["BTC_USDT"],
        market={"source": "exchange", "exchange_url": f"http://127.0.0.1:{free_port()}"},
    )
    page.goto(f"/sessions/{unpriced}")
    expect_state(page, "running")
    form, buy, sell = order_buttons(page)
    fill_number(page, "Quantity", "0.01", scope=form)  # the quantity is not what is missing
    expect(buy).to_be_disabled()
    expect(sell).to_be_disabled()
    expect(form.get_by_test_id("order-waits-for-price")).to_have_text(
        "No market price for BTC_USDT yet: Buy and Sell are enabled once the session has seen one."
    )
    page.wait_for_timeout(1_500)  # a few pushes later: still no price, still disabled
    expect(buy).to_be_disabled()
    screenshot(page, "manual-order-waits-for-price")
    with backend.api() as client:
        refused = client.post(
            f"/sessions/{unpriced}/orders",
            json={"symbol": "BTC_USDT", "side": "buy", "type": "market", "qty": 0.01},
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["error_code"] == "no_market_price"
        client.post(f"/sessions/{unpriced}/stop")

    priced = backend.start_session(
        mode="paper",
        symbols=["BTC_USDT"],
        market={"source": "replay", "dataset": "btc-trades", "speed": 1},
    )
    page.goto(f"/sessions/{priced}")
    expect_state(page, "running")
    form, buy, sell = order_buttons(page)
    fill_number(page, "Quantity", "0.01", scope=form)
    expect(buy).to_be_enabled(timeout=15_000)
    expect(sell).to_be_enabled()
    expect(form.get_by_test_id("order-waits-for-price")).to_have_count(0)
    buy.click()
    expect(page.get_by_text("buy 0.01 BTC_USDT")).to_be_visible()
    with backend.api() as client:
        client.post(f"/sessions/{priced}/stop")
    assert console.errors == []
