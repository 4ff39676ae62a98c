"""The live feed adapter (``ExchangeSource``) driven through the recorded-data exchange double:
normal streaming, outages, reconnects, stale feeds, duplicates, out-of-order prints, bad symbols."""

from __future__ import annotations

import asyncio
import time

import pytest

from papertape.domain.errors import UnknownExchange, UnknownSymbol
from papertape.domain.market import BookSnapshot, Trade
from papertape.market.exchange.connector import ExchangeHub
from papertape.market.exchange.feed import ExchangeSource, FeedOptions
from tests.support import market_tapes
from tests.support.exchange_double import DoubleWorld

FAST = dict(backoff_initial=0.02, backoff_max=0.1, stale_after=5.0)


class Collector:
    """Consumes a source in the background, like the session runner does."""

    def __init__(self, source: ExchangeSource, delay: float = 0.0):
        self.source = source
        self.events: list = []
        self.batches = 0
        self.error: BaseException | None = None
        self._delay = delay
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for batch in self.source.batches():
                assert [e.ts for e in batch] == sorted(e.ts for e in batch)
                self.events.extend(batch)
                self.batches += 1
                if self._delay:
                    await asyncio.sleep(self._delay)
        except Exception as exc:  # surfaced to the test through .error
            self.error = exc

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    async def until(self, predicate, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.error is not None:
                raise self.error
            assert time.monotonic() < deadline, f"timed out; status={self.source.status.as_dict()}"
            await asyncio.sleep(0.01)


async def test_streams_real_trades_and_books(hub: ExchangeHub):
    source = ExchangeSource(
        ["BTC_USDT"],
        "mexc",
        "spot",
        hub=hub,
        options=FeedOptions(book_interval=0.05, **FAST),
    )
    run = Collector(source)
    try:
        await run.until(lambda: len(run.of(Trade)) >= 200 and run.of(BookSnapshot))
        assert source.status.state == "live"
        tape = market_tapes.btc_spot_trades()
        recorded = {t.trade_id: t for t in tape}
        id_span = tape[-1].trade_id - tape[0].trade_id + 1
        for trade in run.of(Trade)[:50]:
            loop_id = int(trade.trade_id)
            original = recorded[tape[0].trade_id + (loop_id - tape[0].trade_id) % id_span]
            assert (trade.price, trade.qty, trade.side) == (
                original.price,
                original.amount,
                original.side,
            )
            assert trade.symbol == "BTC_USDT"
        book = run.of(BookSnapshot)[0]
        assert book.bids[0][0] < book.asks[0][0]
        assert source.status.symbols["BTC_USDT"]["trades"] == len(run.of(Trade))
    finally:
        await source.close()
    await asyncio.wait_for(run.task, 1)


async def test_book_depth_is_configurable_up_to_the_full_local_book(hub: ExchangeHub):
    full = len(market_tapes.btc_swap_books()[0].bids)
    for depth, expected in ((20, 20), (None, full)):
        source = ExchangeSource(
            ["BTC_USDT"],
            "mexc",
            "swap",
            hub=hub,
            options=FeedOptions(book_depth=depth, book_interval=0, **FAST),
        )
        run = Collector(source)
        try:
            await run.until(lambda run=run: run.of(BookSnapshot))
            assert len(run.of(BookSnapshot)[0].bids) == expected
            # the double claims watchMarkPrice and refuses it: the mark stream is dropped, the
            # feed goes on (valued at the last trade) and says why
            detail = source.status.symbols["BTC_USDT"]
            assert detail["marks_unavailable"].startswith("NotSupported: mexc watchMarkPrice()")
            assert detail["marks"] == 0 and source.status.state == "live"
        finally:
            await source.close()


async def test_unreachable_exchange_keeps_retrying_and_close_is_prompt(
    world: DoubleWorld, hub: ExchangeHub
):
    world.set_unreachable("network is unreachable")
    source = ExchangeSource(
        ["BTC_USDT"],
        "mexc",
        "spot",
        hub=hub,
        options=FeedOptions(backoff_initial=0.02, backoff_max=30),
    )
    run = Collector(source)
    await run.until(lambda: source.status.reconnects >= 3, timeout=10)
    assert source.status.state == "reconnecting"
    assert source.status.message.startswith("mexc unreachable:")
    assert run.error is None and not run.task.done()  # an outage never ends the feed
    started = time.monotonic()
    await source.close()  # mid-backoff (the delays have grown toward 30 s)
    assert time.monotonic() - started < 1.0
    await asyncio.wait_for(run.task, 1)
    assert run.error is None


async def test_comes_back_when_the_network_returns(world: DoubleWorld, hub: ExchangeHub):
    world.set_unreachable()
    source = ExchangeSource(["BTC_USDT"], "mexc", "spot", hub=hub, options=FeedOptions(**FAST))
    run = Collector(source)
    try:
        await run.until(lambda: source.status.reconnects >= 2)
        world.set_unreachable(None)
        await run.until(lambda: source.status.state == "live" and run.of(Trade))
    finally:
        await source.close()


async def test_disconnect_reconnects_resubscribes_and_counts_the_gap(
    world: DoubleWorld, hub: ExchangeHub
):
    source = ExchangeSource(["BTC_USDT"], "mexc", "spot", hub=hub, options=FeedOptions(**FAST))
    run = Collector(source)
    try:
        await run.until(lambda: len(run.of(Trade)) > 20)
        subscriptions = world.calls["watch_trades"]
        world.set_unreachable("connection reset by peer")
        await run.until(lambda: source.status.state == "reconnecting")
        await asyncio.sleep(0.3)
        world.set_unreachable(None)
        before = len(run.of(Trade))
        await run.until(lambda: source.status.state == "live" and len(run.of(Trade)) > before + 20)
        assert source.status.reconnects >= 1
        assert source.status.gaps >= 1
        span = source.status.symbols["BTC_USDT"]["gap_spans"][0]
        assert span["end_ts"] - span["start_ts"] >= 250_000  # µs: the outage lasted ≥ 0.3 s
        assert world.calls["watch_trades"] > subscriptions
        ids = [t.trade_id for t in run.of(Trade)]
        assert len(ids) == len(set(ids))
    finally:
        await source.close()


async def test_a_dropped_socket_is_a_reconnect_not_an_error(world: DoubleWorld, hub: ExchangeHub):
    source = ExchangeSource(["BTC_USDT"], "mexc", "spot", hub=hub, options=FeedOptions(**FAST))
    run = Collector(source)
    try:
        await run.until(lambda: len(run.of(Trade)) > 10)
        world.disconnect()
        await run.until(lambda: source.status.gaps >= 1 and source.status.state == "live")
        assert run.error is None
    finally:
        await source.close()


async def test_a_silent_symbol_goes_stale_then_live_again(world: DoubleWorld, hub: ExchangeHub):
    source = ExchangeSource(
        ["BTC_USDT"],
        "mexc",
        "spot",
        hub=hub,
        options=FeedOptions(backoff_initial=0.02, backoff_max=0.1, stale_after=0.4),
    )
    run = Collector(source)
    try:
        await run.until(lambda: source.status.state == "live")
        world.silence("BTC/USDT")
        await run.until(lambda: source.status.state == "stale")
        assert source.status.message == "no data for 0.4 s: BTC_USDT"
        assert source.status.symbols["BTC_USDT"]["state"] == "stale"
        world.silence("BTC/USDT", False)
        await run.until(lambda: source.status.state == "live", timeout=3)
        assert source.status.symbols["BTC_USDT"]["state"] == "live"
        assert source.status.reconnects == 0  # silence is not a disconnect
    finally:
        await source.close()


async def test_duplicates_are_dropped_and_counted(world: DoubleWorld, hub: ExchangeHub):
    source = ExchangeSource(["BTC_USDT"], "mexc", "spot", hub=hub, options=FeedOptions(**FAST))
    run = Collector(source)
    try:
        await run.until(lambda: len(run.of(Trade)) > 10)
        world.redeliver_last("BTC/USDT", 5)
        await run.until(lambda: source.status.duplicates == 5)
        ids = [t.trade_id for t in run.of(Trade)]
        assert len(ids) == len(set(ids))
    finally:
        await source.close()


async def test_out_of_order_prints_are_delivered_and_counted(world: DoubleWorld, hub: ExchangeHub):
    source = ExchangeSource(["BTC_USDT"], "mexc", "spot", hub=hub, options=FeedOptions(**FAST))
    run = Collector(source)
    try:
        await run.until(lambda: len(run.of(Trade)) > 10)
        world.hold_back("BTC/USDT", 1)
        await run.until(lambda: source.status.out_of_order >= 1)
        await run.until(lambda: len(run.of(Trade)) > 60)
        ids = sorted(int(t.trade_id) for t in run.of(Trade))
        assert ids == list(range(ids[0], ids[0] + len(ids)))  # nothing lost: the late one arrived
    finally:
        await source.close()


async def test_slow_consumer_gets_backpressure_not_losses():
    world = DoubleWorld(speed=0)  # the tape as fast as it can go
    source = ExchangeSource(
        ["BTC_USDT"],
        "mexc",
        "spot",
        hub=ExchangeHub(world.factory),
        options=FeedOptions(watch_book=False, queue_size=2, **FAST),
    )
    run = Collector(source, delay=0.002)
    try:
        await run.until(lambda: len(run.events) >= 5_000, timeout=20)
        ids = [int(t.trade_id) for t in run.events]
        assert ids == list(range(ids[0], ids[0] + len(ids)))
    finally:
        await source.close()


async def test_unknown_symbol_fails_once_the_market_list_loads(hub: ExchangeHub):
    source = ExchangeSource(
        ["DOGE_USDT", "BTC_USDT"], "mexc", "spot", hub=hub, options=FeedOptions(**FAST)
    )
    with pytest.raises(UnknownSymbol) as failure:
        async for _ in source.batches():
            pass
    assert "DOGE_USDT" in failure.value.message and failure.value.code == "unknown_symbol"
    assert source.status.state == "failed"
    await source.close()


async def test_resume_after_skips_what_was_already_delivered(hub: ExchangeHub):
    first = ExchangeSource(["BTC_USDT"], "mexc", "spot", hub=hub, options=FeedOptions(**FAST))
    run = Collector(first)
    await run.until(lambda: len(run.of(Trade)) > 5)
    await first.close()
    last = first.status.last_event_ts
    second = ExchangeSource(
        ["BTC_USDT"], "mexc", "spot", resume_after=last, hub=hub, options=FeedOptions(**FAST)
    )
    resumed = Collector(second)
    try:
        await resumed.until(lambda: len(resumed.events) > 5)
        assert min(e.ts for e in resumed.events) > last
    finally:
        await second.close()


async def test_validate_symbols_cached_deferred_and_unknown_exchange(
    world: DoubleWorld, hub: ExchangeHub
):
    with pytest.raises(UnknownExchange):
        await hub.validate_symbols("nosuchexchange", "spot", ["BTC_USDT"])
    world.set_unreachable()
    started = time.monotonic()
    assert await hub.validate_symbols("mexc", "spot", ["DOGE_USDT"], wait=0.3) is False  # deferred
    assert time.monotonic() - started < 1.0
    started = time.monotonic()  # moments after a failed load, starts are not held up again
    assert await hub.validate_symbols("mexc", "spot", ["DOGE_USDT"], wait=2.0) is False
    assert time.monotonic() - started < 0.2
    world.set_unreachable(None)
    await hub.markets("mexc")  # what the session's feed does while it runs
    assert await hub.validate_symbols("mexc", "spot", ["BTC_USDT"]) is True
    loads = world.calls["load_markets"]
    with pytest.raises(UnknownSymbol) as bad:
        await hub.validate_symbols("mexc", "swap", ["BTC_USDT", "XRP_ETH"])
    assert bad.value.details == [
        {"field": "symbols", "message": "XRP_ETH is not a swap market on mexc"}
    ]
    assert world.calls["load_markets"] == loads  # the list was loaded once and cached


async def test_a_long_stale_symbol_makes_the_feed_subscribe_afresh(
    world: DoubleWorld, hub: ExchangeHub
):
    source = ExchangeSource(
        ["BTC_USDT"],
        "mexc",
        "spot",
        hub=hub,
        options=FeedOptions(
            backoff_initial=0.02, backoff_max=0.1, stale_after=0.2, resubscribe_after=0.4
        ),
    )
    run = Collector(source)
    try:
        await run.until(lambda: source.status.state == "live")
        clients = len(world.instances)
        world.silence("BTC/USDT")
        await run.until(
            lambda: len(world.instances) > clients, timeout=5
        )  # a fresh exchange object
        assert source.status.reconnects >= 1
        world.silence("BTC/USDT", False)
        before = len(run.of(Trade))
        await run.until(lambda: source.status.state == "live" and len(run.of(Trade)) > before)
        assert source.status.gaps >= 1  # what was published while it hung is counted as a gap
        assert world.instances[clients - 1].closed  # the old connections were closed
    finally:
        await source.close()


async def test_prints_lost_without_a_disconnect_are_counted_as_gaps():
    # A consumer far slower than the feed: ccxt's trade cache (1,000 prints) overflows between
    # two reads, and the jump in Binance's consecutive trade ids says how many were lost.
    world = DoubleWorld(speed=400)
    source = ExchangeSource(
        ["BTC_USDT"],
        "mexc",
        "spot",
        hub=ExchangeHub(world.factory),
        options=FeedOptions(watch_book=False, queue_size=1, **FAST),
    )
    run = Collector(source, delay=0.5)
    try:
        await run.until(lambda: source.status.gaps >= 1, timeout=10)
        span = source.status.symbols["BTC_USDT"]["gap_spans"][0]
        assert span["stream"] == "trades" and span["missing_trades"] > 0
        assert source.status.reconnects == 0
    finally:
        await source.close()


async def test_no_gap_is_reported_for_an_uninterrupted_feed(hub: ExchangeHub):
    source = ExchangeSource(["BTC_USDT"], "mexc", "spot", hub=hub, options=FeedOptions(**FAST))
    run = Collector(source)
    try:
        await run.until(lambda: len(run.of(Trade)) > 300)
        assert source.status.gaps == 0
    finally:
        await source.close()


async def test_a_message_the_adapter_cannot_read_fails_the_feed_loudly(
    world: DoubleWorld, hub: ExchangeHub
):
    from papertape.domain.errors import FeedError

    source = ExchangeSource(["BTC_USDT"], "mexc", "spot", hub=hub, options=FeedOptions(**FAST))
    run = Collector(source)
    await run.until(lambda: len(run.of(Trade)) > 5)
    world.corrupt_next_trade("BTC/USDT")
    await asyncio.wait_for(run.task, 5)
    assert isinstance(run.error, FeedError) and run.error.code == "feed_error"
    assert "crashed" in run.error.message and "TypeError" in run.error.message
    assert source.status.state == "failed"
    await source.close()


async def test_starts_do_not_queue_up_behind_a_hanging_market_load():
    class HangingExchange:
        """What an exchange whose requests hang looks like to the hub: ``load_markets`` that
        never answers (the real client would time out after 10 s)."""

        def __init__(self, *_):
            self.hang = asyncio.Event()

        async def load_markets(self):
            await self.hang.wait()

        async def close(self):
            pass

    hub = ExchangeHub(factory=lambda exchange_id, config: HangingExchange())
    first = time.monotonic()
    assert await hub.validate_symbols("mexc", "spot", ["BTC_USDT"], wait=0.3) is False
    assert 0.25 < time.monotonic() - first < 0.6
    later = time.monotonic()
    assert await hub.validate_symbols("mexc", "spot", ["BTC_USDT"], wait=0.3) is False
    assert time.monotonic() - later < 0.05  # the load in flight already outlived the wait
    hub._loading["mexc"].cancel()
