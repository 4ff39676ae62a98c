"""The order state machine: ``ORDER_TRANSITIONS`` is the one place that says which status may
follow which, and the paper venue keeps to it whatever the orders and the market do
(hypothesis drives random orders, cancels and kill switches against trades, books and bars)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertape.domain.errors import IllegalTransition
from papertape.domain.market import BookSnapshot, Candle, Trade
from papertape.domain.orders import (
    LIVE_STATUSES,
    ORDER_TRANSITIONS,
    Order,
    OrderStatus,
    OrderType,
    Side,
)
from papertape.domain.portfolio import Portfolio, Position, RoundTrip
from papertape.domain.venue import PaperVenue, VenueListener

S = "BTC_USDT"
T0 = 1_700_000_000_000_000
FINAL = {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED}


def test_the_table_allows_only_forward_moves_and_final_states_are_final():
    for status in FINAL:
        assert ORDER_TRANSITIONS[status] == frozenset()
    for status in LIVE_STATUSES:
        assert ORDER_TRANSITIONS[status] >= FINAL
        assert OrderStatus.OPEN not in ORDER_TRANSITIONS[status]  # never back to open
    assert set(ORDER_TRANSITIONS) == set(OrderStatus)


@pytest.mark.parametrize("final", sorted(FINAL))
@pytest.mark.parametrize("target", sorted(OrderStatus))
def test_an_ended_order_refuses_every_move(final, target):
    order = Order("o1", S, "buy", "market", 1.0, T0, T0, status=final)
    with pytest.raises(IllegalTransition):
        order.move_to(target)
    assert order.status == final


def test_strings_become_enums_and_records_keep_plain_strings():
    order = Order("o1", S, "sell", "limit", 1.0, T0, T0, price=10.0, status="partially_filled")
    assert (order.side, order.type, order.status) == (
        Side.SELL,
        OrderType.LIMIT,
        OrderStatus.PARTIALLY_FILLED,
    )
    record = order.record("s")
    for value in (record.side, record.type, record.status):
        assert type(value) is str  # the QuestDB client takes exact str only
    assert (record.side, record.type, record.status) == ("sell", "limit", "partially_filled")


class Recorder(VenueListener):
    """Every status each order was seen in, in order."""

    def __init__(self) -> None:
        self.seen: dict[str, list[tuple[OrderStatus, float]]] = {}

    def order_changed(self, order: Order) -> None:
        self.seen.setdefault(order.order_id, []).append((order.status, order.filled_qty))

    def filled(self, order: Order, fill, position: Position, trip: RoundTrip | None) -> None:
        assert fill.qty > 0 and type(fill.side) is str


prices = st.floats(50, 150, allow_nan=False)
step = st.one_of(
    st.tuples(st.just("trade"), prices, st.floats(0.01, 5)),
    st.tuples(st.just("book"), prices, st.floats(0.01, 5)),
    st.tuples(st.just("bar"), prices, st.floats(0.0, 0.05)),
    st.tuples(
        st.just("order"),
        st.sampled_from(tuple(Side)),
        st.sampled_from(tuple(OrderType)),
        st.one_of(st.none(), st.floats(0.01, 200)),  # None: sized at the fill
        st.floats(0.8, 1.2),  # limit/stop price relative to the last price
        st.booleans(),  # reduce-only
    ),
    st.tuples(st.just("cancel"), st.integers(1, 40)),
    st.tuples(st.just("cancel_all")),
    st.tuples(st.just("close_now")),
)


def run(script: list[tuple], market_type: str) -> tuple[PaperVenue, Recorder]:
    recorder = Recorder()
    portfolio = Portfolio(1_000.0, market_type, leverage=3.0 if market_type == "swap" else 1.0)
    venue = PaperVenue(portfolio, recorder, taker=0.001, maker=0.0002, slippage_bps=5)
    last = 100.0
    for i, item in enumerate(script):
        ts = T0 + i * 1_000_000
        kind = item[0]
        if kind == "trade":
            last = item[1]
            portfolio.mark(S, last)
            venue.on_trade(Trade(ts, S, last, item[2], "buy"))
        elif kind == "book":
            last = item[1]
            portfolio.mark(S, last)
            bids = ((last * 0.999, item[2]), (last * 0.99, item[2] * 2))
            asks = ((last * 1.001, item[2]), (last * 1.01, item[2] * 2))
            venue.on_book(BookSnapshot(ts, S, bids, asks))
        elif kind == "bar":
            spread = item[1] * item[2]
            venue.on_bar(Candle(ts, S, 60, last, item[1] + spread, item[1] - spread, item[1], 5.0))
            last = item[1]
            portfolio.mark(S, last)
        elif kind == "order":
            _, side, type_, qty, rel, reduce_only = item
            venue.submit(
                Order(
                    venue.next_order_id(),
                    S,
                    side,
                    type_,
                    qty,
                    ts,
                    ts,
                    price=last * rel if type_ == OrderType.LIMIT else None,
                    stop_price=last * rel if type_ == OrderType.STOP else None,
                    reduce_only=reduce_only,
                )
            )
        elif kind == "cancel":
            venue.cancel(f"o{item[1]}", ts)
        elif kind == "cancel_all":
            venue.cancel_all(ts, "test")
        else:
            venue.close_now(S, last, ts, "kill_switch")
    return venue, recorder


@settings(max_examples=200, deadline=None)
@given(
    script=st.lists(step, min_size=5, max_size=60), market_type=st.sampled_from(("spot", "swap"))
)
def test_the_paper_venue_moves_orders_only_as_the_table_allows(script, market_type):
    venue, recorder = run(script, market_type)
    for order_id, seen in recorder.seen.items():
        assert seen[0][0] in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED)
        for (before, filled_before), (after, filled_after) in zip(seen, seen[1:], strict=False):
            assert after == before or after in ORDER_TRANSITIONS[before], (order_id, seen)
            assert filled_after >= filled_before  # executions are never taken back
        final, filled = seen[-1]
        if final in FINAL:
            assert order_id not in venue.orders  # an ended order leaves the venue's books
        if final == OrderStatus.REJECTED:
            assert filled == 0  # a part-filled order is cancelled, not rejected, by the venue
    assert all(o.is_live for o in venue.orders.values())
