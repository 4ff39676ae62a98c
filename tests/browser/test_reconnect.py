"""The server goes away mid-session and comes back: the page says so, reconnects and catches up
on what it missed, showing every event once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.ui import expect_live, expect_state

pytestmark = pytest.mark.browser


def timeline_seqs(page) -> list[int]:
    return [
        int(s)
        for s in page.get_by_test_id("event-timeline")
        .locator("tr[data-seq]")
        .evaluate_all("rows => rows.map(r => r.dataset.seq)")
    ]


@pytest.mark.parametrize("crash", [True, False], ids=["kill-9", "graceful"])
def test_server_restart_mid_session_reconnects_and_catches_up(page, backend, crash):
    session_id = backend.start_session(
        mode="paper",
        symbols=["BTC_USDT"],
        market={"source": "replay", "dataset": "btc-1m", "speed": 60},
    )
    page.goto(f"/sessions/{session_id}")
    expect_live(page)
    expect_state(page, "running")
    page.get_by_role("tab", name="Timeline").click()
    expect(page.get_by_test_id("event-timeline")).to_contain_text("starting → running")
    before = timeline_seqs(page)

    if crash:
        backend.process.kill()
    else:
        backend.process.stop()
    indicator = page.get_by_test_id("connection-indicator")
    expect(indicator).to_have_attribute("data-status", "reconnecting", timeout=30_000)
    expect(indicator).to_contain_text("Reconnecting")
    screenshot(page, f"reconnecting-{'crash' if crash else 'graceful'}")
    backend.process.start()
    expect_live(page, timeout=30_000)

    with backend.api() as client:
        state = client.get(f"/sessions/{session_id}").json()["data"]["state"]
        events = client.get(f"/sessions/{session_id}/events").json()["data"]["events"]
    # Whatever the restart recorded (resumed, or failed as interrupted) reaches the page.
    server_seqs = [e["seq"] for e in events]
    assert len(server_seqs) > len(before), "the restart recorded no event"
    expect(
        page.get_by_test_id("event-timeline").locator(f"tr[data-seq='{server_seqs[-1]}']")
    ).to_have_count(1, timeout=20_000)
    shown = timeline_seqs(page)
    assert len(shown) == len(set(shown)), f"an event is shown twice: {shown}"
    assert sorted(shown) == sorted(s for s in server_seqs if s <= max(shown)), "an event is missing"
    expect_state(page, state)
    screenshot(page, f"caught-up-after-{'crash' if crash else 'graceful'}-restart")

    with backend.api() as client:
        assert client.post(f"/sessions/{session_id}/stop").status_code == 200
