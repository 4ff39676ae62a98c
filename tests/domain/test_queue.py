"""Queue position of resting limit orders on book data, by model, worked by hand."""

from __future__ import annotations

import pytest

from papertape.domain.market import BookSnapshot, Trade
from papertape.domain.portfolio import SWAP
from papertape.domain.queue import QueueModel
from papertape.engine.core import Engine, EngineConfig

SYMBOL = "BTC_USDT"
ASKS = ((101.0, 50.0),)


def _engine(model: str) -> Engine:
    config = EngineConfig(
        "s", (SYMBOL,), cash=1e6, market_type=SWAP, taker=0.0, maker=0.0, queue_model=model
    )
    return Engine(config)


def _bid_level(ts: int, qty: float) -> BookSnapshot:
    return BookSnapshot(ts, SYMBOL, ((100.0, qty), (99.0, 20.0)), ASKS)


def _filled(engine: Engine) -> float:
    return sum(f.qty for f in engine.record.fills)


def _resting_bid(model: str, level: float = 5.0) -> tuple[Engine, object]:
    """A buy limit of 1 at 100 that joins a bid level of ``level``."""
    engine = _engine(model)
    engine.process([_bid_level(1, level)])
    order = engine.place_manual_order(SYMBOL, "buy", "limit", 1.0, price=100.0)
    engine.process([_bid_level(2, level)])  # reaches the venue: 5 ahead of it
    return engine, order


@pytest.mark.parametrize("model", ["risk_averse", "probabilistic"])
def test_trades_at_the_price_work_through_the_queue_then_fill(model):
    engine, order = _resting_bid(model)
    assert engine.queue_models() == {SYMBOL: model}
    engine.process([Trade(3, SYMBOL, 100.0, 3.0, "sell")])  # 5 → 2 ahead
    assert _filled(engine) == 0
    engine.process([Trade(4, SYMBOL, 100.0, 2.4, "sell")])  # 2 ahead gone, 0.4 reaches it
    assert _filled(engine) == pytest.approx(0.4)
    engine.process([Trade(5, SYMBOL, 100.0, 0.1, "buy")])  # a buyer's print does not fill a bid
    engine.process([Trade(6, SYMBOL, 100.0, 5.0, "sell")])
    assert _filled(engine) == pytest.approx(1.0) and order.status == "filled"
    assert {f.liquidity for f in engine.record.fills} == {"maker"}


def test_trade_through_model_ignores_prints_at_the_price():
    engine, _ = _resting_bid("trade_through")
    engine.process([Trade(3, SYMBOL, 100.0, 30.0, "sell")])
    assert _filled(engine) == 0
    engine.process([Trade(4, SYMBOL, 99.9, 0.3, "sell")])  # through it: fills
    assert _filled(engine) == pytest.approx(0.3)


def test_a_print_through_the_price_fills_whatever_the_queue():
    engine, _ = _resting_bid("risk_averse", level=50.0)
    engine.process([Trade(3, SYMBOL, 99.0, 0.7, "sell")])
    assert _filled(engine) == pytest.approx(0.7)


def test_cancels_advance_the_order_as_the_model_says():
    """Joined behind 5; 4 more join behind it (9); 3 are cancelled (6)."""
    risk_averse, prob = QueueModel("risk_averse"), QueueModel("probabilistic", power=2)
    spots = [risk_averse.join(5.0), prob.join(5.0)]
    for model, spot in zip((risk_averse, prob), spots, strict=True):
        model.on_level(spot, 9.0)
        model.on_level(spot, 6.0)
    assert spots[0].ahead == 5.0  # risk averse: the cancels were behind it
    # probabilistic: 5² / (5² + 4²) = 25/41 of the 3 cancelled were in front
    assert spots[1].ahead == pytest.approx(5 - 3 * 25 / 41)
    risk_averse.on_level(spots[0], 2.0)  # the level shrinks below the queue ahead
    assert spots[0].ahead == 2.0


def test_traded_quantity_is_not_counted_again_as_a_cancel():
    model = QueueModel("probabilistic")
    spot = model.join(5.0)
    assert model.on_trade_at_price(spot, 2.0) == 0.0
    model.on_level(spot, 3.0)  # the 2 traded, nothing cancelled
    assert spot.ahead == 3.0


def test_without_a_book_the_session_says_trade_through():
    engine = _engine("probabilistic")
    engine.process([Trade(1, SYMBOL, 100.0, 1.0, "buy")])
    assert engine.queue_models() == {SYMBOL: "trade_through"}
    with pytest.raises(ValueError, match="queue model"):
        QueueModel("optimistic")
