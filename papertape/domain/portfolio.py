"""Portfolio accounting for spot and linear (USDT-margined) perpetuals.

Everything follows from the fills, so that these identities hold after any sequence of them
(``tests/domain/test_portfolio.py`` checks them with hypothesis):

    equity = starting cash + realized PnL + unrealized PnL − fees + funding
    spot:  cash = starting cash − Σ buy notional + Σ sell notional − fees
    swap:  cash = starting cash + realized PnL − fees + funding   (the wallet; positions hold margin)

A position's average price is the weighted entry price; a fill against the position realizes
``(price − avg) × closed qty × direction``; a fill that crosses zero closes the position and opens
the remainder at the fill price. Spot positions are long only (a spot sell cannot exceed what is
held). Funding (``apply_funding``, swaps only) is a cash flow into the wallet, counted in the
round trip during which it was paid. Linear perpetuals use cross margin: a position ties up
``|qty| × avg / leverage`` and the account is liquidated when equity falls to the maintenance
margin, which each symbol's notional tiers give (``papertape.domain.liquidation``; Binance's
BTCUSDT brackets unless the session brings the market's own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from papertape.domain.funding import funding_amount
from papertape.domain.liquidation import (
    DEFAULT_TIERS,
    Settlement,
    Tiers,
    maintenance_margin,
    max_notional,
    settle,
)
from papertape.domain.liquidation import liquidation_price as tiered_liquidation_price
from papertape.domain.orders import BUY, QTY_EPSILON
from papertape.domain.records import EquityPoint, Fill, PositionRecord

SPOT, SWAP = "spot", "swap"


class RoundTrip(NamedTuple):
    """A closed trade: from flat to flat (or to a flip). ``pnl`` is net of every fee paid
    during it; ``return_pct`` is that PnL relative to the entry notional."""

    symbol: str
    direction: str  # "long" | "short"
    entry_ts: int
    exit_ts: int
    qty: float  # the largest size held
    entry_price: float  # volume-weighted
    exit_price: float  # volume-weighted
    pnl: float
    fees: float
    return_pct: float
    funding: float = 0.0  # received (negative = paid) while the trip was open; part of pnl

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


@dataclass(slots=True)
class Position:
    symbol: str
    qty: float = 0.0  # signed: negative = short
    avg_price: float = 0.0
    mark: float = 0.0
    realized_pnl: float = 0.0
    fees: float = 0.0
    funding: float = 0.0  # received (negative = paid) over the position's life
    updated_ts: int = 0
    # the round trip in progress
    trip_start: int = 0
    trip_max_qty: float = 0.0
    trip_entry_notional: float = 0.0
    trip_entry_qty: float = 0.0
    trip_exit_notional: float = 0.0
    trip_exit_qty: float = 0.0
    trip_pnl: float = 0.0
    trip_fees: float = 0.0
    trip_funding: float = 0.0

    @property
    def unrealized_pnl(self) -> float:
        return self.qty * (self.mark - self.avg_price) if self.qty else 0.0

    @property
    def is_open(self) -> bool:
        return abs(self.qty) > QTY_EPSILON

    def record(self, session_id: str, ts: int) -> PositionRecord:
        return PositionRecord(
            session_id=session_id,
            ts=ts,
            symbol=self.symbol,
            qty=self.qty,
            avg_price=self.avg_price,
            mark_price=self.mark,
            realized_pnl=self.realized_pnl,
            unrealized_pnl=self.unrealized_pnl,
            fees=self.fees,
        )


class Portfolio:
    def __init__(
        self,
        cash: float,
        market_type: str = SPOT,
        leverage: float = 1.0,
        tiers: Mapping[str, Tiers] | None = None,
    ):
        if market_type not in (SPOT, SWAP):
            raise ValueError(f"market_type must be spot or swap, not {market_type!r}")
        if market_type == SPOT and leverage != 1:
            raise ValueError("spot trading has no leverage: use market_type 'swap'")
        if leverage < 1:
            raise ValueError("leverage must be at least 1")
        self.initial_cash = cash
        self.cash = cash
        self.market_type = market_type
        self.leverage = leverage
        self.tiers: dict[str, Tiers] = dict(tiers or {})  # per symbol; others: DEFAULT_TIERS
        self.positions: dict[str, Position] = {}
        self.realized_pnl = 0.0
        self.fees = 0.0
        self.funding = 0.0
        self.trips: list[RoundTrip] = []
        self.fill_count = 0

    # --- reading ---------------------------------------------------------------------------
    def position(self, symbol: str) -> Position:
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position(symbol)
        return pos

    def qty(self, symbol: str) -> float:
        pos = self.positions.get(symbol)
        return pos.qty if pos is not None else 0.0

    def mark(self, symbol: str, price: float) -> None:
        self.position(symbol).mark = price

    def unrealized_pnl(self) -> float:
        return sum(p.qty * (p.mark - p.avg_price) for p in self.positions.values() if p.qty)

    def equity(self) -> float:
        if self.market_type == SPOT:
            return self.cash + sum(p.qty * p.mark for p in self.positions.values() if p.qty)
        return self.cash + self.unrealized_pnl()

    def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if p.is_open]

    def exposure(self) -> float:
        """Gross notional of the open positions at their marks."""
        return sum(abs(p.qty) * p.mark for p in self.positions.values() if p.qty)

    def used_margin(self, exclude: str | None = None) -> float:
        return (
            sum(
                abs(p.qty) * p.avg_price
                for p in self.positions.values()
                if p.qty and p.symbol != exclude
            )
            / self.leverage
        )

    def equity_point(self, session_id: str, ts: int) -> EquityPoint:
        unrealized = held = 0.0
        for p in self.positions.values():
            if p.qty:
                unrealized += p.qty * (p.mark - p.avg_price)
                held += p.qty * p.mark
        equity = self.cash + (held if self.market_type == SPOT else unrealized)
        return EquityPoint(
            session_id, ts, equity, self.cash, unrealized, self.realized_pnl, self.fees
        )

    # --- what an order may still do --------------------------------------------------------
    def fillable(self, symbol: str, sign: int, qty: float, price: float, fee_rate: float) -> float:
        """How much of ``qty`` (at ``price``, paying ``fee_rate``) the account can take now:
        the part that reduces the position always; the part that opens or grows it as far as
        cash (spot) or free margin (swap) allows. Spot can never go short."""
        pos_qty = self.qty(symbol)
        reducing = min(qty, abs(pos_qty)) if pos_qty * sign < 0 else 0.0
        opening = qty - reducing
        if opening <= QTY_EPSILON or price <= 0:
            return reducing
        return reducing + min(opening, self.max_open_qty(symbol, sign, price, fee_rate, reducing))

    def max_open_qty(
        self, symbol: str, sign: int, price: float, fee_rate: float, reducing: float = 0.0
    ) -> float:
        """The largest quantity that can be opened in direction ``sign`` after ``reducing``
        closes part of an opposite position."""
        if self.market_type == SPOT:
            if sign < 0:
                return 0.0
            return max(self.cash, 0.0) / (price * (1 + fee_rate))
        pos = self.positions.get(symbol)
        still_held = 0.0
        if pos is not None and pos.qty:
            still_held = abs(pos.qty) - reducing if pos.qty * sign < 0 else abs(pos.qty)
        free = (
            self.equity()
            - self.used_margin(exclude=symbol)
            - max(still_held, 0.0) * (pos.avg_price if pos else 0.0) / self.leverage
            - reducing * price * fee_rate
        )
        # the tiers cap the position's size at this leverage (an exchange's leverage brackets)
        same_side = abs(pos.qty) if pos is not None and pos.qty * sign > 0 else 0.0
        cap = max_notional(self.margin_tiers(symbol), self.leverage) / price - same_side
        return max(min(max(free, 0.0) / (price * (1 / self.leverage + fee_rate)), cap), 0.0)

    def margin_tiers(self, symbol: str) -> Tiers:
        return self.tiers.get(symbol, DEFAULT_TIERS)

    def maintenance(self, position: Position) -> float:
        """The position's maintenance margin at its mark."""
        notional = abs(position.qty) * position.mark
        return maintenance_margin(self.margin_tiers(position.symbol), notional)

    def _backing(self, symbol: str) -> tuple[float, float]:
        """What backs ``symbol``'s position in cross margin: the wallet plus the other
        positions' unrealized PnL, and the same less their maintenance margin."""
        wallet = reserved = 0.0
        for p in self.positions.values():
            if p.qty and p.symbol != symbol:
                wallet += p.qty * (p.mark - p.avg_price)
                reserved += self.maintenance(p)
        return self.cash + wallet, self.cash + wallet - reserved

    def liquidation_price(self, symbol: str) -> float | None:
        """The mark at which the account reaches maintenance margin through this position,
        other positions held at their marks. ``None`` for spot, flat, or never."""
        pos = self.positions.get(symbol)
        if self.market_type == SPOT or pos is None or not pos.is_open:
            return None
        _, backing = self._backing(symbol)
        return tiered_liquidation_price(pos.qty, pos.avg_price, backing, self.margin_tiers(symbol))

    def liquidation_settlement(
        self, symbol: str, close_at: str, fee_rate: float
    ) -> Settlement | None:
        """Where ``symbol``'s position closes if it is liquidated now, and the fee it pays
        (``papertape.domain.liquidation.settle``); ``None`` for spot or flat."""
        pos = self.positions.get(symbol)
        if self.market_type == SPOT or pos is None or not pos.is_open:
            return None
        wallet, backing = self._backing(symbol)
        return settle(
            pos.qty,
            pos.avg_price,
            wallet,
            backing,
            self.margin_tiers(symbol),
            close_at,
            fee_rate,
        )

    def below_maintenance(self) -> bool:
        if self.market_type == SPOT:
            return False
        required = sum(self.maintenance(p) for p in self.positions.values() if p.qty)
        return required > 0 and self.equity() <= required

    # --- changing ---------------------------------------------------------------------------
    def apply_funding(self, symbol: str, rate: float, mark_price: float) -> float | None:
        """Pay or receive one funding of ``symbol``'s open perpetual position valued at
        ``mark_price``; returns the cash flow, or ``None`` when nothing is held (or on spot)."""
        pos = self.positions.get(symbol)
        if self.market_type != SWAP or pos is None or not pos.is_open:
            return None
        amount = funding_amount(pos.qty, mark_price, rate)
        self.book_funding(symbol, amount)
        return amount

    def book_funding(self, symbol: str, amount: float) -> None:
        """Book a funding cash flow already computed (a resumed session's recorded payment)."""
        pos = self.position(symbol)
        self.cash += amount
        self.funding += amount
        pos.funding += amount
        pos.trip_funding += amount

    def apply_fill(self, fill: Fill) -> tuple[Position, RoundTrip | None]:
        """Book one fill; returns the position and the round trip it closed, if any."""
        pos = self.position(fill.symbol)
        sign = 1 if fill.side == BUY else -1
        qty, price, fee = fill.qty, fill.price, fill.fee
        if self.market_type == SPOT:
            if sign < 0 and qty > pos.qty + QTY_EPSILON * max(1.0, qty):
                raise ValueError(f"spot sell of {qty} exceeds the {pos.qty} held")
            self.cash -= sign * qty * price
        self.cash -= fee
        self.fees += fee
        pos.fees += fee
        pos.mark = price if not pos.mark else pos.mark
        pos.updated_ts = fill.ts
        self.fill_count += 1

        closed_trip = None
        old = pos.qty
        if old == 0 or old * sign > 0:  # opening or adding
            if old == 0:
                self._start_trip(pos, fill.ts)
            pos.avg_price = (abs(old) * pos.avg_price + qty * price) / (abs(old) + qty)
            pos.qty = old + sign * qty
            pos.trip_entry_notional += qty * price
            pos.trip_entry_qty += qty
            pos.trip_fees += fee
        else:  # reducing, closing or flipping
            closing = min(qty, abs(old))
            realized = (price - pos.avg_price) * closing * (1 if old > 0 else -1)
            if self.market_type == SWAP:
                self.cash += realized
            self.realized_pnl += realized
            pos.realized_pnl += realized
            closing_fee = fee * closing / qty
            pos.trip_pnl += realized
            pos.trip_fees += closing_fee
            pos.trip_exit_notional += closing * price
            pos.trip_exit_qty += closing
            remainder = qty - closing
            new_qty = old + sign * closing
            if abs(new_qty) <= QTY_EPSILON * max(1.0, abs(old)):
                new_qty = 0.0
            pos.qty = new_qty
            if new_qty == 0.0:
                closed_trip = self._close_trip(pos, fill.ts, old)
                pos.avg_price = 0.0
            if remainder > QTY_EPSILON:  # the flip: open the rest at this price
                self._start_trip(pos, fill.ts)
                pos.qty = sign * remainder
                pos.avg_price = price
                pos.trip_entry_notional = remainder * price
                pos.trip_entry_qty = remainder
                pos.trip_fees = fee - closing_fee
        pos.trip_max_qty = max(pos.trip_max_qty, abs(pos.qty))
        return pos, closed_trip

    @staticmethod
    def _start_trip(pos: Position, ts: int) -> None:
        pos.trip_start = ts
        pos.trip_max_qty = 0.0
        pos.trip_entry_notional = pos.trip_entry_qty = 0.0
        pos.trip_exit_notional = pos.trip_exit_qty = 0.0
        pos.trip_pnl = pos.trip_fees = pos.trip_funding = 0.0

    def _close_trip(self, pos: Position, ts: int, old_qty: float) -> RoundTrip:
        entry = pos.trip_entry_notional / pos.trip_entry_qty if pos.trip_entry_qty else 0.0
        exit_ = pos.trip_exit_notional / pos.trip_exit_qty if pos.trip_exit_qty else 0.0
        net = pos.trip_pnl - pos.trip_fees + pos.trip_funding
        trip = RoundTrip(
            symbol=pos.symbol,
            direction="long" if old_qty > 0 else "short",
            entry_ts=pos.trip_start,
            exit_ts=ts,
            qty=max(pos.trip_max_qty, abs(old_qty)),
            entry_price=entry,
            exit_price=exit_,
            pnl=net,
            fees=pos.trip_fees,
            return_pct=net / pos.trip_entry_notional * 100 if pos.trip_entry_notional else 0.0,
            funding=pos.trip_funding,
        )
        self.trips.append(trip)
        return trip
