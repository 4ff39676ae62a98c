"""Run backtests from the dashboard, see their results, compare them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.ui import choose, expect_live, fill_number

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
    assert shown("final_equity") == pytest.approx(results[-1]["final_equity"], abs=1e-3)
    assert shown("final_equity") == pytest.approx(equity[-1]["equity"], abs=1e-3)
    screenshot(page, "backtest-results")

    second = run_backtest(page, "5", "20", first=False)
    assert second != first
    for run_id in (first, second):
        page.get_by_role("checkbox", name=f"Compare {run_id}").check()
    table = page.get_by_test_id("compare-table")
    expect(table.get_by_role("columnheader")).to_have_count(3)
    expect(table).to_contain_text("Total return")
    expect(page.get_by_test_id("compare-equity-chart").locator("canvas").first).to_be_visible()
    screenshot(page, "backtests-compare")
    assert console.errors == []
