"""Built-in strategies. Each trades one symbol (one instance per session symbol), sizes entries
all-in unless its ``fraction`` parameter says otherwise, and decides on closed bars, so that a
market order fills at the next bar's open."""

from __future__ import annotations

from collections import deque
from typing import Any

from pydantic import Field, model_validator

from papertape.domain.indicators import Ema, Indicator, Rsi, Sma, VolumeSurge
from papertape.domain.market import Candle
from papertape.domain.orders import SELL, Order
from papertape.domain.records import Fill
from papertape.domain.strategy import ParamConflict, Strategy, StrategyParams


class SmaCross(Strategy["SmaCross.Params"]):
    name = "sma_cross"
    description = (
        "Goes long when the fast simple moving average crosses above the slow one and closes "
        "when it crosses back below (optionally going short then, on perpetuals)."
    )

    class Params(StrategyParams):
        fast: int = Field(10, ge=1, le=10_000, description="fast SMA period, in bars")
        slow: int = Field(30, ge=2, le=10_000, description="slow SMA period, in bars")
        fraction: float = Field(1.0, gt=0, le=1, description="share of buying power per entry")
        allow_short: bool = Field(False, description="go short on a downward cross (swap only)")

        @model_validator(mode="after")
        def _fast_below_slow(self) -> SmaCross.Params:
            if self.fast >= self.slow:
                raise ParamConflict("slow", "slow must be larger than fast")
            return self

    @classmethod
    def can_short(cls, params: SmaCross.Params) -> bool:
        return params.allow_short

    @classmethod
    def chart_indicators(cls, params: SmaCross.Params) -> dict[str, tuple[Indicator, str]]:
        return {"fast": (Sma(params.fast), "close"), "slow": (Sma(params.slow), "close")}

    def on_start(self) -> None:
        self.fast = Sma(self.params.fast)
        self.slow = Sma(self.params.slow)
        self._prev_diff: float | None = None

    def on_bar(self, bar: Candle) -> None:
        fast = self.fast.update(bar.close)
        slow = self.slow.update(bar.close)
        if fast is None or slow is None:
            return
        diff = fast - slow
        prev = self._prev_diff
        self._prev_diff = diff
        if prev is None:
            return
        # a cross as backtesting.py defines it: strictly below, then strictly above
        if prev < 0 < diff:
            if self.position < 0:
                self.close()
            if self.position <= 0:
                self.buy(fraction=self.params.fraction)
        elif prev > 0 > diff:
            if self.position > 0:
                self.close()
            if self.params.allow_short and self.position >= 0:
                self.sell(fraction=self.params.fraction)

    def state(self) -> dict[str, Any]:
        return {"fast": self.fast.value, "slow": self.slow.value}


class RsiReversion(Strategy["RsiReversion.Params"]):
    name = "rsi_reversion"
    description = (
        "Buys when RSI falls below the oversold level and sells when it rises above "
        "the overbought level (mean reversion)."
    )

    class Params(StrategyParams):
        period: int = Field(14, ge=2, le=1_000)
        oversold: float = Field(30, gt=0, lt=100)
        overbought: float = Field(70, gt=0, lt=100)
        fraction: float = Field(1.0, gt=0, le=1)

        @model_validator(mode="after")
        def _levels(self) -> RsiReversion.Params:
            if self.oversold >= self.overbought:
                raise ParamConflict("overbought", "overbought must be above oversold")
            return self

    def on_start(self) -> None:
        self.rsi = Rsi(self.params.period)

    def on_bar(self, bar: Candle) -> None:
        value = self.rsi.update(bar.close)
        if value is None:
            return
        if value < self.params.oversold and self.position == 0:
            self.buy(fraction=self.params.fraction)
        elif value > self.params.overbought and self.position > 0:
            self.close()

    def state(self) -> dict[str, Any]:
        return {"rsi": self.rsi.value}


class Breakout(Strategy["Breakout.Params"]):
    name = "breakout"
    description = (
        "Volume-surge breakout (pump detector): buys when a bar's volume is `surge` times the "
        "average of the previous `lookback` bars and it closes above their highest high; exits "
        "below the exit EMA or at the stop-loss."
    )

    class Params(StrategyParams):
        lookback: int = Field(
            20, ge=2, le=1_000, description="bars for the volume average and the high to break"
        )
        surge: float = Field(3.0, gt=1, le=1_000, description="volume multiple that counts")
        exit_ema: int = Field(10, ge=2, le=1_000)
        stop_loss_pct: float = Field(3.0, gt=0, lt=100)
        fraction: float = Field(1.0, gt=0, le=1)

    def on_start(self) -> None:
        p = self.params
        self.volume = VolumeSurge(p.lookback)
        self.ema = Ema(p.exit_ema)
        self.highs: deque[float] = deque(maxlen=p.lookback)
        self.stop_order: Order | None = None

    def on_bar(self, bar: Candle) -> None:
        surge = self.volume.update(bar.volume)
        ema = self.ema.update(bar.close)
        highest = max(self.highs) if len(self.highs) == self.highs.maxlen else None
        self.highs.append(bar.high)
        if self.position > 0:
            if ema is not None and bar.close < ema:
                self.close(reason="breakout_exit")
            return
        if (
            surge is not None
            and highest is not None
            and surge >= self.params.surge
            and bar.close > highest
        ):
            self.buy(fraction=self.params.fraction)

    def on_fill(self, fill: Fill, order: Order) -> None:
        if order.reduce_only or self.position <= 0:
            if self.stop_order is not None and self.position == 0:
                self.cancel(self.stop_order)
                self.stop_order = None
            return
        if self.stop_order is None or not self.stop_order.is_live:
            entry = self.entry_price
            assert entry is not None  # a long position has an entry price
            stop = entry * (1 - self.params.stop_loss_pct / 100)
            self.stop_order = self.stop(SELL, None, stop, reduce_only=True, reason="stop_loss")

    def state(self) -> dict[str, Any]:
        return {"volume_surge": self.volume.value, "exit_ema": self.ema.value}


BUILTINS: tuple[type[Strategy[Any]], ...] = (SmaCross, RsiReversion, Breakout)
