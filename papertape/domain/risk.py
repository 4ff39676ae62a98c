"""Risk rules: pre-trade checks on every order, and kill switches watched on every equity point.

A rejected order names the rule that refused it; a kill switch (``daily_loss_limit``,
``max_drawdown``) returns the rule's name, and the engine then cancels every order, closes
every position and asks for the session to stop with ``stop_reason`` = that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from papertape.domain.market import MICROS
from papertape.domain.orders import Order
from papertape.domain.portfolio import Portfolio

DAY_US = 86_400 * MICROS


@dataclass(frozen=True, slots=True)
class RiskRules:
    max_position_notional: float | None = None  # per symbol, quote currency
    max_open_positions: int | None = None
    daily_loss_limit: float | None = None  # quote currency, from the UTC day's first equity
    max_drawdown_pct: float | None = None  # from the equity peak


class RiskManager:
    def __init__(self, rules: RiskRules, initial_equity: float):
        self.rules = rules
        self.peak = initial_equity
        self.day: int | None = None
        self.day_start = initial_equity
        self.rejections = 0
        self.tripped: str | None = None

    def check_order(self, order: Order, portfolio: Portfolio, price: float | None) -> str | None:
        """The rule that refuses ``order``, or ``None``. Orders that only reduce a position
        always pass; an auto-sized order (``qty=None``) is capped by the venue instead."""
        if self.tripped:
            return self.tripped
        held = portfolio.qty(order.symbol)
        reduces = held * order.sign < 0 and (order.qty is None or order.qty <= abs(held))
        if order.reduce_only or reduces:
            return None
        rules = self.rules
        if rules.max_open_positions is not None and not held:
            open_count = sum(1 for p in portfolio.open_positions() if p.symbol != order.symbol)
            if open_count >= rules.max_open_positions:
                self.rejections += 1
                return "max_open_positions"
        if rules.max_position_notional is not None and order.qty is not None and price:
            after = abs(held + order.sign * order.qty) * price
            if after > rules.max_position_notional * (1 + 1e-9):
                self.rejections += 1
                return "max_position_notional"
        return None

    def on_equity(self, ts: int, equity: float) -> str | None:
        """Watch an equity point; the kill-switch rule that fires, or ``None``."""
        if self.tripped:
            return None
        day = ts // DAY_US
        if day != self.day:
            self.day = day
            self.day_start = equity
        if equity > self.peak:
            self.peak = equity
        rules = self.rules
        if rules.daily_loss_limit is not None and self.day_start - equity >= rules.daily_loss_limit:
            self.tripped = "daily_loss_limit"
        elif (
            rules.max_drawdown_pct is not None
            and self.peak > 0
            and (self.peak - equity) / self.peak * 100 >= rules.max_drawdown_pct
        ):
            self.tripped = "max_drawdown"
        return self.tripped

    def state(self) -> dict[str, Any]:
        return {
            "peak_equity": self.peak,
            "day_start_equity": self.day_start,
            "rejections": self.rejections,
            "tripped": self.tripped,
        }
