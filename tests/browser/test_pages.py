"""The Data and Strategies pages, and manual paper orders, against the real server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.ui import choose, expect_live, expect_state, fill_number
from tests.conftest import shared_file

pytestmark = pytest.mark.browser


def test_data_page_lists_imports_and_charts_datasets(page, backend, console):
    page.goto("/data")
    expect_live(page)
    table = page.get_by_test_id("datasets")
    for name in backend.datasets:
        expect(table.get_by_role("row").filter(has_text=name)).to_have_count(1)

    form = page.get_by_role("form", name="Import a dataset")
    file = shared_file("binance-futures_ethusdt_trades_2023-02-02.csv")
    form.locator("input[type=file]").set_input_files(str(file))
    name = form.get_by_label("Name", exact=True)
    expect(name).to_have_value("binance-futures_ethusdt_trades_2023-02-02")  # from the file
    form.get_by_role("button", name="Import").click()  # no symbol: the file names none
    symbol = form.get_by_label("Symbol", exact=True)
    expect(symbol).to_have_attribute("aria-invalid", "true")
    expect(form).to_contain_text("binance-futures_ethusdt_trades_2023-02-02.csv: the file names")
    expect(form.get_by_label("File", exact=True)).not_to_have_attribute("aria-invalid", "true")
    screenshot(page, "data-import-symbol-error")
    name.fill("eth-trades")
    symbol.fill("ETH_USDT")
    form.get_by_role("button", name="Import").click()
    row = table.get_by_role("row").filter(has_text="eth-trades")
    expect(row).to_contain_text("1,000")
    expect(row).to_contain_text("ETH_USDT")

    # a month of 1m candles opens whole, at 1h (resampled by the server)
    choose(page, "Recorded source", "dataset btc-1m")
    chart = page.get_by_test_id("price-chart")
    expect(chart.locator("canvas").first).to_be_visible()
    coverage = page.get_by_test_id("chart-coverage")
    expect(coverage).to_contain_text("751 bars of 1h, 2021-12-31 23:00:00Z to 2022-02-01 05:00:00Z")
    expect(coverage).to_contain_text("the whole recorded range")
    screenshot(page, "data-page")
    for interval, bars in (("4h", "189 bars of 4h"), ("1d", "33 bars of 1d")):
        choose(page, "Interval", interval)
        expect(coverage).to_contain_text(bars)
    choose(page, "Interval", "1m")
    expect(coverage).to_contain_text("5,000 bars of 1m")
    expect(coverage).to_contain_text("older bars load as you scroll back")
    chart.scroll_into_view_if_needed()  # mouse events land where the chart is on screen
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(20):  # zoom in, then scroll back in time: older bars load
        page.mouse.wheel(0, -300)
    for _ in range(40):
        page.mouse.wheel(-600, 0)
        if "10,000 bars" in coverage.inner_text():
            break
    expect(coverage).to_contain_text("10,000 bars of 1m")
    screenshot(page, "data-page-1m-scrolled-back")
    # the browser itself reports the refused import; the dashboard logs nothing as an error
    assert [e for e in console.errors if "status of 422" not in e] == []


def test_rule_builder_shows_server_validation_then_saves(page, backend, console):
    page.goto("/strategies")
    expect_live(page)
    strategies = page.get_by_test_id("strategies")
    expect(strategies.get_by_role("row").filter(has_text="sma_cross")).to_have_count(1)
    builder = page.get_by_test_id("rule-builder")
    builder.get_by_label("Strategy name", exact=True).fill("ui_ema_cross")
    fill_number(page, "Stop-loss %", "150", scope=builder)
    builder.get_by_role("button", name="Validate and save").click()
    stop_loss = builder.get_by_label("Stop-loss %", exact=True)
    expect(stop_loss).to_have_attribute("aria-invalid", "true")
    expect(builder.get_by_test_id("rule-error")).to_be_visible()
    screenshot(page, "strategies-rule-validation-error")

    fill_number(page, "Stop-loss %", "2", scope=builder)
    # an operand no indicator defines: the error is on that condition's operand, once
    builder.get_by_label("Entry, condition 1: right", exact=True).fill("slowest")
    builder.get_by_role("button", name="Validate and save").click()
    right = builder.get_by_label("Entry, condition 1: right", exact=True)
    expect(right).to_have_attribute("aria-invalid", "true")
    expect(builder.get_by_test_id("rule-error")).to_contain_text("Fix the fields marked in red")
    expect(builder.get_by_text(re.compile("operand 'slowest' is neither"))).to_have_count(1)
    screenshot(page, "strategies-rule-error-on-condition")
    right.fill("slow")

    # an indicator switched to RSI starts at RSI's period, not the EMA's 12
    choose(page, "Indicator 1 type", "rsi", scope=builder)
    expect(builder.get_by_label("period").first).to_have_value("14")
    choose(page, "Indicator 1 type", "ema", scope=builder)
    expect(builder.get_by_label("period").first).to_have_value("12")
    # removing an indicator the conditions read asks first
    builder.get_by_role("button", name="Remove indicator 2").click()
    warning = builder.get_by_test_id("indicator-in-use")
    expect(warning).to_contain_text("entry and exit conditions read slow")
    screenshot(page, "strategies-remove-used-indicator")
    warning.get_by_role("button", name="Keep it").click()
    expect(builder.get_by_label("Indicator 2 name", exact=True)).to_have_value("slow")

    builder.get_by_role("button", name="Validate and save").click()
    expect(strategies.get_by_role("row").filter(has_text="ui_ema_cross")).to_have_count(1)
    expect(builder.get_by_test_id("rule-error")).to_have_count(0)
    screenshot(page, "strategies-page")
    assert [e for e in console.errors if "status of 422" not in e] == []

    # the saved rule strategy's values are typed controls in the backtest form
    page.goto("/backtests")
    form = page.get_by_role("form", name="Run backtest")
    form.get_by_label("Strategies", exact=True).click()
    page.get_by_role("option", name="ui_ema_cross", exact=True).click()
    page.keyboard.press("Escape")
    period = form.get_by_label("ui_ema_cross: indicators.fast.period", exact=True)
    expect(period).to_have_value("12")
    expect(form.get_by_label("ui_ema_cross: stop_loss_pct", exact=True)).to_have_value("2")
    expect(form.get_by_label("ui_ema_cross: direction", exact=True)).to_have_value("long")
    screenshot(page, "backtest-form-rule-params")


def test_manual_buy_in_a_paper_session_fills(page, backend, console):
    session_id = backend.start_session(
        mode="paper",
        symbols=["BTC_USDT"],
        market={"source": "replay", "dataset": "btc-1m", "speed": 60},
    )
    page.goto(f"/sessions/{session_id}")
    expect_state(page, "running")
    expect(page.get_by_test_id("live-price-value").first).not_to_have_text(
        "no price yet", timeout=15_000
    )
    order = page.get_by_test_id("manual-order")
    fill_number(page, "Quantity", "0.01", scope=order)
    order.get_by_role("button", name="Buy").click()
    page.get_by_role("tab", name="Fills").click()
    fills = page.get_by_test_id("fills")
    expect(fills.get_by_role("row").filter(has_text="buy")).to_have_count(1, timeout=20_000)
    page.get_by_role("tab", name="Positions").click()
    expect(
        page.get_by_test_id("positions").get_by_role("row").filter(has_text="BTC_USDT")
    ).to_have_count(1)
    # on the chart: the buy's marker with a short label, the position's entry line
    chart = page.get_by_test_id("price-chart")
    expect(chart).to_have_attribute("data-marker-labels", "B 0.01")
    expect(chart).to_have_attribute("data-lines", re.compile(r"^long 0\.01 @ [\d,.]+$"))
    with backend.api() as client:
        recorded = client.get(f"/sessions/{session_id}/fills").json()["data"]["items"]
    assert len(recorded) == 1 and recorded[0]["side"] == "buy"
    screenshot(page, "session-manual-buy")
    with backend.api() as client:
        assert client.post(f"/sessions/{session_id}/stop").status_code == 200
    assert console.errors == []
