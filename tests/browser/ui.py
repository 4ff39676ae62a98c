"""Small helpers for driving the dashboard's controls (Mantine) the way a keyboard/mouse user does."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect


def choose(page: Page, label: str, option: str | re.Pattern[str], *, scope=None) -> None:
    """Pick an option of a Mantine Select by its label."""
    root = scope or page
    root.get_by_role("textbox", name=label, exact=True).click()
    page.get_by_role("option", name=option).first.click()


def fill_number(page: Page, label: str, value: str, *, scope=None) -> None:
    field = (scope or page).get_by_label(label, exact=True)
    field.fill(value)


def session_id_from_url(page: Page) -> str:
    match = re.search(r"/sessions/(exec_[0-9a-z_]+)", page.url)
    assert match, f"not on a session page: {page.url}"
    return match.group(1)


def expect_state(page: Page, state: str, timeout: float = 20_000) -> None:
    """The state badge of the page shown says ``state``. On a session's or a sweep's page, that
    page first: a route's code loads in a transition, and until it has, the previous page (and
    its badges) is still what is shown under the new URL."""
    match = re.search(r"/(?:sessions|sweeps)/(exec_[0-9a-z_]+)", page.url)
    if match:
        expect(page.get_by_role("heading", name=match.group(1))).to_be_visible(timeout=timeout)
    expect(page.get_by_test_id("state-badge").first).to_have_attribute(
        "data-state", state, timeout=timeout
    )


def expect_live(page: Page, timeout: float = 20_000) -> None:
    expect(page.get_by_test_id("connection-indicator")).to_have_attribute(
        "data-status", "open", timeout=timeout
    )


def expect_fitted(chart, count: int, timeout: float = 5.0) -> None:
    """The chart shows from its first data point to its last (fitted, not zoomed in). The
    visible range is said on the element when the chart reports it, a moment after the data is
    drawn: read until it says so, or the time is up."""
    expect(chart).to_have_attribute("data-visible-from", re.compile(r"^-?\d+\.\d$"))
    deadline = time.monotonic() + timeout
    while True:
        start = float(chart.get_attribute("data-visible-from"))
        end = float(chart.get_attribute("data-visible-to"))
        if (start <= 0.5 and end >= count - 1.5) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert start <= 0.5 and end >= count - 1.5, f"shows {start}..{end} of {count} points"
