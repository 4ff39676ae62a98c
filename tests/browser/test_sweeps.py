"""A researcher's sweep from the dashboard: start it, watch trials arrive, read the heatmap and the
sortable table, open a trial as a full backtest."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.ui import choose, expect_live, expect_state, session_id_from_url

pytestmark = pytest.mark.browser


def test_start_a_sweep_read_its_heatmap_and_open_a_trial(page, backend, console):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sweeps").click()
    expect(page).to_have_url(re.compile(r"/sweeps$"))
    expect_live(page)
    form = page.get_by_role("form", name="Start a sweep")
    choose(page, "Dataset", re.compile(r"^unittest-1m"), scope=form)
    form.get_by_label("parameter 1 values").fill("5,10,20")
    form.get_by_label("parameter 2 values").fill("10,30,60")
    choose(page, "Objective", "return", scope=form)
    form.get_by_role("button", name="Start sweep").click()

    expect(page).to_have_url(re.compile(r"/sweeps/exec_"), timeout=30_000)
    sweep_id = page.url.rsplit("/", 1)[-1]
    progress = page.get_by_test_id("sweep-progress")
    expect(progress).to_contain_text("9 of 9 trials", timeout=120_000)
    expect(progress).to_contain_text("2 refused")
    expect_state(page, "completed", timeout=30_000)

    with backend.api() as client:
        data = client.get(f"/sessions/{sweep_id}/trials").json()["data"]
    assert len(data["trials"]) == 7 and len(data["skipped"]) == 2
    best = data["best"]
    expect(page.get_by_test_id("sweep-best")).to_contain_text(
        f"fast={best['params']['fast']} slow={best['params']['slow']}"
    )

    cells = page.get_by_test_id("heatmap-cell")
    expect(cells).to_have_count(9)  # 7 trials and 2 refused sets
    top = max(data["trials"], key=lambda t: t["metrics"]["total_return_pct"])
    cell = page.locator(
        f"[data-testid=heatmap-cell][data-x='{top['params']['fast']}'][data-y='{top['params']['slow']}']"
    )
    cell.hover()
    hover = page.get_by_test_id("heatmap-hover")
    expect(hover).to_contain_text(f"trial#{top['number']}")
    expect(hover).to_contain_text("total_return_pct")

    table = page.get_by_test_id("trials-table")
    expect(table.locator("tbody tr")).to_have_count(7)
    # which engine ran each trial, as the API recorded it (sma_cross long only: the fast path)
    engines = table.get_by_test_id("trial-engine").all_inner_texts()
    assert engines == ["vectorised"] * 7 == [t["engine"] for t in data["trials"]]
    table.get_by_role("button", name="sort by trades").click()  # descending first
    shown = [int(t) for t in table.locator("tbody tr td:nth-child(9)").all_inner_texts()]
    assert shown == sorted((t["metrics"]["trades"] for t in data["trials"]), reverse=True)
    table.get_by_role("button", name="sort by trades").click()
    shown = [int(t) for t in table.locator("tbody tr td:nth-child(9)").all_inner_texts()]
    assert shown == sorted(t["metrics"]["trades"] for t in data["trials"])
    screenshot(page, "sweep-heatmap-1440x900")

    cell.click()  # the trial, opened as a full backtest
    expect(page).to_have_url(re.compile(r"/sessions/exec_"), timeout=30_000)
    backtest_id = session_id_from_url(page)
    expect_state(page, "completed", timeout=90_000)
    with backend.api() as client:
        detail = client.get(f"/sessions/{backtest_id}").json()["data"]
    assert detail["mode"] == "backtest"
    assert detail["config"]["strategies"][0]["params"] == top["params"]
    assert detail["metrics"]["trades"] == top["metrics"]["trades"]
    assert detail["metrics"]["final_equity"] == pytest.approx(
        top["metrics"]["final_equity"], rel=1e-9
    )
    screenshot(page, "sweep-trial-backtest-1440x900")

    # from the Sessions list, the sweep opens on its sweep page (trials, heatmap), not on the
    # trading page a backtest opens on
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sessions").click()
    page.get_by_role("link", name=sweep_id).click()
    expect(page).to_have_url(re.compile(rf"/sweeps/{sweep_id}$"))
    expect(page.get_by_test_id("sweep-progress")).to_contain_text("9 of 9 trials")
    assert not console.errors, console.errors
