"""Run backtests from the dashboard, see their results, compare them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.ui import choose, expect_fitted, expect_live, expect_state, fill_number

pytestmark = pytest.mark.browser


def run_backtest(page, fast: str, slow: str, *, first: bool) -> str:
    form = page.get_by_role("form", name="Run backtest")
    if first:  # the form keeps its dataset and strategy for the next run
        choose(page, "Dataset", "unittest-1m", scope=form)
        form.get_by_label("Strategies", exact=True).click()
        page.get_by_role("option", name="sma_cross", exact=True).click()
        page.keyboard.press("Escape")
    fill_number(page, "sma_cross: fast", fast, scope=form)
    fill_number(page, "sma_cross: slow", slow, scope=form)
    run = page.get_by_test_id("backtest-run")
    previous = run.get_attribute("data-session-id") if run.count() else None
    form.get_by_role("button", name="Run backtest").click()
    expect(run).to_have_attribute("data-session-id", re.compile(r"^exec_"))
    if previous:
        expect(run).not_to_have_attribute("data-session-id", previous)
    expect(run).to_have_attribute("data-state", "completed", timeout=90_000)
    return run.get_attribute("data-session-id")


def test_run_backtests_see_results_and_compare(page, backend, console):
    page.goto("/backtests")
    expect_live(page)
    first = run_backtest(page, "10", "30", first=True)
    run = page.get_by_test_id("backtest-run")
    metrics = run.get_by_test_id("metrics")
    expect(metrics.locator("[data-metric=total_return_pct]")).to_be_visible()
    expect(metrics.locator("[data-metric=trades]")).not_to_have_text("—")
    expect(run.get_by_test_id("backtest-equity-chart").locator("canvas").first).to_be_visible()
    with backend.api() as client:
        detail = client.get(f"/sessions/{first}").json()["data"]
        equity = client.get(f"/sessions/{first}/equity").json()["data"]["items"]
        events = client.get(f"/sessions/{first}/events", params={"limit": 10000}).json()["data"][
            "events"
        ]
    assert detail["state"] == "completed"
    assert len(equity) > 1, "the server recorded no equity curve for the backtest"
    results = [e["data"] for e in events if e["kind"] == "results"]
    assert results, "the backtest's tape holds no results event"

    def shown(key):
        return float(metrics.locator(f"[data-metric={key}]").inner_text().replace(",", ""))

    assert shown("trades") == results[-1]["trades"]
    # money at 2 decimals, percentages with their unit, the ended run's "Final equity"
    assert shown("final_equity") == pytest.approx(results[-1]["final_equity"], abs=0.006)
    assert shown("final_equity") == pytest.approx(equity[-1]["equity"], abs=0.006)
    assert re.fullmatch(
        r"-?[\d,]+\.\d\d", metrics.locator("[data-metric=final_equity]").inner_text()
    )
    expect(metrics).to_contain_text("Final equity")
    expect(metrics.locator("[data-metric=win_rate_pct]")).to_have_text(re.compile(r"^\d+\.\d\d %$"))
    expect(metrics).to_contain_text("Realized PnL (before fees)")
    expect(metrics).to_contain_text("Realized PnL (after fees)")
    screenshot(page, "backtest-results")

    second = run_backtest(page, "5", "20", first=False)
    assert second != first
    for run_id in (first, second):
        page.get_by_role("checkbox", name=f"Compare {run_id}").check()
    runs = page.get_by_test_id("sessions-table")
    row = runs.get_by_role("row").filter(has_text=first)
    expect(row.get_by_test_id("run-strategy")).to_contain_text("sma_cross")
    expect(row.get_by_test_id("run-strategy")).to_contain_text("fast=10")
    expect(row.get_by_test_id("run-strategy")).to_contain_text("slow=30")
    expect(row.locator("[data-metric=total_return_pct]")).to_have_text(re.compile(r" %$"))
    expect(row.locator("[data-metric=trades]")).to_have_text(str(results[-1]["trades"]))
    expect(row.locator("[data-metric=max_drawdown_pct]")).to_have_text(
        f"{results[-1]['max_drawdown_pct']:,.2f} %"
    )
    sharpe = results[-1]["sharpe"]  # ten days of minutes: long enough to be shown
    expect(row.locator("[data-metric=sharpe]")).to_have_text(f"{sharpe:,.2f}")
    table = page.get_by_test_id("compare-table")
    expect(table.get_by_role("columnheader")).to_have_count(3)
    expect(table).to_contain_text("Total return")
    compared = page.get_by_test_id("compare-equity-chart")
    expect(compared.locator("canvas").first).to_be_visible()
    expect(compared).to_have_attribute("data-starts", "0.00,0.00")  # % from each run's start
    expect_fitted(compared, max(int(n) for n in compared.get_attribute("data-points").split(",")))
    screenshot(page, "backtests-compare")
    assert console.errors == []


def test_a_backtest_page_lists_its_closed_trades_with_totals(page, backend, console):
    session_id = backend.start_session(
        mode="backtest",
        symbols=["UNITTEST_BTC"],
        market={"source": "replay", "dataset": "unittest-1m"},
        strategies=[{"name": "sma_cross", "params": {"fast": 10, "slow": 30}}],
    )
    page.goto(f"/sessions/{session_id}")
    expect_state(page, "completed", timeout=90_000)
    expect(page.get_by_test_id("stop-button")).to_have_count(0)  # nothing to stop
    with backend.api() as client:
        trades = client.get(f"/sessions/{session_id}/trades").json()["data"]["items"]
        fills = client.get(f"/sessions/{session_id}/fills").json()["data"]["items"]
    page.get_by_role("tab", name=re.compile(r"Closed trades")).click()
    table = page.get_by_test_id("closed-trades")
    expect(table.locator("tbody tr")).to_have_count(len(trades))
    headers = table.locator("thead th")
    for column in ("Entry (UTC)", "Exit (UTC)", "Side", "Qty", "Entry price", "Exit price"):
        expect(headers.filter(has_text=column).first).to_be_visible()
    for column in ("PnL before fees", "Fees", "PnL after fees", "Return", "Duration"):
        expect(headers.filter(has_text=column).first).to_be_visible()
    net = sum(t["pnl"] for t in trades)
    expect(page.get_by_test_id("closed-trades-net")).to_have_text(f"{net:,.2f}")
    expect(page.get_by_test_id("closed-trades-totals")).to_contain_text(f"{len(trades)} trades")
    # sorted by PnL (largest first) on a click of its header
    table.get_by_role("button", name="PnL after fees").click()
    best = max(t["pnl"] for t in trades)
    expect(table.locator("tbody tr").first).to_contain_text(f"{best:,.2f}")
    duration = table.locator("tbody tr").first.locator("td").last.inner_text()
    assert re.fullmatch(r"\d+ (d|h|min|s)( \d+ (h|min|s))?", duration), duration
    screenshot(page, "backtest-closed-trades")
    # the chart shows the whole run (the page was opened while it ran), labels short
    chart = page.get_by_test_id("price-chart")
    expect(chart).to_have_attribute("data-bars", re.compile(r"^\d{3,4}$"))
    expect_fitted(chart, int(chart.get_attribute("data-bars")))
    expect(chart).to_have_attribute("data-overlays", "fast,slow")  # the strategy's SMAs
    assert int(chart.get_attribute("data-markers")) > 0
    assert len(fills) > 0
    page.get_by_role("tab", name=re.compile(r"^Fills")).click()
    qty = page.get_by_test_id("fills").locator("tbody tr").first.locator("td").nth(3).inner_text()
    assert len(qty.replace(",", "").replace(".", "")) <= 7, f"quantity not rounded: {qty}"
    screenshot(page, "backtest-session-page")
    assert console.errors == []
