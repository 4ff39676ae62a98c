"""The garbage collector is paused while rows are built, and comes back exactly when it should."""

from __future__ import annotations

import gc
import threading

from papertape.domain.market import Trade
from papertape.store.bulk_rows import build_rows, collector_paused


def test_rows_are_built_with_the_collector_paused_then_resumed() -> None:
    seen: list[bool] = []

    def rows():  # reports the collector's state while the rows are being built
        seen.append(gc.isenabled())
        yield (1, "BTC_USDT", 100.0, 0.5, "buy", "7")

    assert gc.isenabled()
    assert build_rows(Trade, rows()) == [Trade(1, "BTC_USDT", 100.0, 0.5, "buy", "7")]
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_resumes_when_the_last_overlapping_pause_ends() -> None:
    inside, release = threading.Event(), threading.Event()

    def other_thread() -> None:
        with collector_paused():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other_thread)
    with collector_paused():
        thread.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread is still building its rows
    release.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_application_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
