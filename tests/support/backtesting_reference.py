"""The reference papertape's bar engine is compared with: ``sma_cross`` written for
backtesting.py (SMA(10)/SMA(30) of the close, long on an upward cross, flat on a downward one,
next-open fills, no commission). Used by the golden test and by ``bench/engine_bars.py``."""

from __future__ import annotations

from collections.abc import Sequence

from papertape.domain.market import Candle


def sma_cross_backtest(bars: Sequence[Candle], fast: int = 10, slow: int = 30):
    """A ready-to-run ``backtesting.Backtest`` of the strategy on ``bars``."""
    import pandas as pd
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    frame = pd.DataFrame(
        {
            "Open": [b.open for b in bars],
            "High": [b.high for b in bars],
            "Low": [b.low for b in bars],
            "Close": [b.close for b in bars],
            "Volume": [b.volume for b in bars],
        },
        index=pd.to_datetime([b.ts for b in bars], unit="us"),
    )

    def sma(values, n):
        return pd.Series(values).rolling(n).mean()

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(sma, self.data.Close, fast)
            self.slow = self.I(sma, self.data.Close, slow)

        def next(self):
            if crossover(self.fast, self.slow) and not self.position:
                self.buy()
            elif crossover(self.slow, self.fast) and self.position:
                self.position.close()

    return Backtest(frame, SmaCross, cash=1e9, commission=0.0)


def round_trips(stats) -> list[tuple[int, int, float, float]]:
    """``(entry µs, exit µs, entry price, exit price)`` of each trade in a run's stats."""
    return [
        (int(r.EntryTime.value // 1_000), int(r.ExitTime.value // 1_000), r.EntryPrice, r.ExitPrice)
        for r in stats._trades.itertuples()
    ]
