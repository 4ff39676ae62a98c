"""Liquidation of linear (USDT-margined) perpetuals by the exchange's rules: maintenance margin
in notional tiers, the liquidation price, the bankruptcy price, and the price a liquidated
position is closed at.

**Tiers.** An exchange asks a position for a maintenance margin that grows with its notional
``N = |qty| × mark``: in the bracket ``min_notional ≤ N < max_notional`` it is
``N × mmr − maintenance_amount``. The maintenance amount (Binance's ``cum``) makes the margin
continuous across brackets: ``cum[i] = cum[i−1] + min_notional[i] × (mmr[i] − mmr[i−1])``.
ccxt returns the brackets in one shape for every exchange (``fetchLeverageTiers``:
``minNotional``, ``maxNotional``, ``maintenanceMarginRate``, ``maxLeverage``, the exchange's raw
row in ``info``); ``tiers_from_ccxt`` reads that shape, taking the maintenance amount from
``info['cum']`` when the exchange sends it (Binance does) and deriving it as above otherwise.
Each bracket also caps the leverage (``maxLeverage``; ``1 / mmr`` when the exchange gives none,
the leverage at which a new position would start at its maintenance margin): a position may only
grow as far as the largest bracket that allows the session's leverage (``max_notional``), so it
can never open below its maintenance margin.

**Prices.** A position of signed ``qty`` entered at ``entry`` is backed by a wallet ``W``: its
isolated margin, or (cross margin) the account's cash plus the other positions' unrealized PnL,
less their maintenance margin when the liquidation price is wanted. Its equity at mark ``p`` is
``W + qty × (p − entry)``.

- liquidation price: equity = maintenance margin, i.e. with side ``s = sign(qty)``, in the tier
  whose bracket holds ``|qty| × p``: ``p = (W + cum − s|qty|·entry) / (|qty|·mmr − s|qty|)``
  (Binance's published formula for one position in one-way mode);
- bankruptcy price: equity = 0, ``p = entry − W / qty``.

A liquidated position is closed at its bankruptcy price (the exchange's liquidation engine takes
it over there, and the insurance fund keeps what was left above it or pays a gap below it) or,
if the session says so, at its liquidation price; either way a liquidation fee of
``fee_rate × |qty| × close price`` is charged. Closed at the bankruptcy price the position's
wallet ends at exactly ``−fee``; at the liquidation price, at the maintenance margin less the fee.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple

BANKRUPTCY, LIQUIDATION = "bankruptcy", "liquidation"
ClosePrice = Literal["bankruptcy", "liquidation"]
CLOSE_PRICES: tuple[ClosePrice, ...] = ("bankruptcy", "liquidation")
DEFAULT_LIQUIDATION_FEE = 0.0125  # of the notional: Binance BTCUSDT's exchangeInfo liquidationFee


class MarginTier(NamedTuple):
    """One notional bracket: ``min_notional ≤ |qty| × mark < max_notional``."""

    min_notional: float
    max_notional: float
    mmr: float  # maintenance margin rate
    maintenance_amount: float  # Binance's ``cum``
    max_leverage: float | None = None


Tiers = tuple[MarginTier, ...]

# Binance USD-M BTCUSDT perpetual, as ``GET /fapi/v1/leverageBracket`` returned it through ccxt's
# ``fetch_leverage_tiers`` (the copy freqtrade ships in freqtrade/exchange/
# binance_leverage_tiers.json, commit 01d10aeb): (floor, cap, maintMarginRatio, initialLeverage).
# The maintenance amounts are derived (0, 50, 950, 11 450, 131 450, … — the ``cum`` Binance sends).
BINANCE_BTCUSDT_BRACKETS: tuple[tuple[float, float, float, float], ...] = (
    (0, 50_000, 0.004, 125),
    (50_000, 600_000, 0.005, 100),
    (600_000, 3_000_000, 0.0065, 75),
    (3_000_000, 12_000_000, 0.01, 50),
    (12_000_000, 70_000_000, 0.02, 25),
    (70_000_000, 100_000_000, 0.025, 20),
    (100_000_000, 230_000_000, 0.05, 10),
    (230_000_000, 480_000_000, 0.1, 5),
    (480_000_000, 600_000_000, 0.125, 4),
    (600_000_000, 800_000_000, 0.15, 3),
    (800_000_000, 1_200_000_000, 0.25, 2),
    (1_200_000_000, 1_800_000_000, 0.5, 1),
)


def _checked(tiers: list[MarginTier]) -> Tiers:
    if not tiers:
        raise ValueError("margin tiers: at least one bracket")
    if tiers[0].min_notional != 0:
        raise ValueError("margin tiers: the first bracket starts at notional 0")
    for before, after in zip(tiers, tiers[1:], strict=False):
        if after.min_notional != before.max_notional:
            raise ValueError(
                f"margin tiers: bracket at {after.min_notional} does not start where the one "
                f"before ends ({before.max_notional})"
            )
    for tier in tiers:
        if not 0 <= tier.mmr < 1 or tier.max_notional <= tier.min_notional:
            raise ValueError(f"margin tiers: bad bracket {tier}")
    return tuple(tiers)


def tiers_from_brackets(brackets: Sequence[tuple[float, float, float, float | None]]) -> Tiers:
    """Tiers from ``(min_notional, max_notional, mmr, max_leverage)`` rows in notional order,
    with the maintenance amounts that make the margin continuous."""
    tiers: list[MarginTier] = []
    for low, high, mmr, max_leverage in brackets:
        cum = tiers[-1].maintenance_amount + low * (mmr - tiers[-1].mmr) if tiers else 0.0
        tiers.append(MarginTier(float(low), float(high), float(mmr), cum, max_leverage))
    return _checked(tiers)


DEFAULT_TIERS: Tiers = tiers_from_brackets(BINANCE_BTCUSDT_BRACKETS)


def tiers_from_ccxt(rows: Sequence[Mapping[str, Any]]) -> Tiers:
    """Tiers from ccxt's ``fetchLeverageTiers`` rows of one market (any order)."""
    ordered = sorted(rows, key=lambda r: float(r.get("minNotional") or 0.0))
    derived = tiers_from_brackets(
        [
            (
                float(r.get("minNotional") or 0.0),
                math.inf if r.get("maxNotional") is None else float(r["maxNotional"]),
                float(r["maintenanceMarginRate"]),
                None if r.get("maxLeverage") is None else float(r["maxLeverage"]),
            )
            for r in ordered
        ]
    )
    tiers = []
    for row, tier in zip(ordered, derived, strict=True):
        cum = (row.get("info") or {}).get("cum")
        tiers.append(tier if cum is None else tier._replace(maintenance_amount=float(cum)))
    return _checked(tiers)


def tier_for(tiers: Tiers, notional: float) -> MarginTier:
    """The bracket that holds ``notional`` (the last one beyond the table)."""
    for tier in tiers:
        if notional < tier.max_notional:
            return tier
    return tiers[-1]


def allowed_leverage(tier: MarginTier) -> float:
    return tier.max_leverage if tier.max_leverage is not None else 1 / max(tier.mmr, 1e-12)


def max_notional(tiers: Tiers, leverage: float) -> float:
    """The largest notional a position may reach at ``leverage`` (0: the leverage is more
    than even the first bracket allows)."""
    allowed = [t.max_notional for t in tiers if allowed_leverage(t) >= leverage]
    return max(allowed, default=0.0)


def maintenance_margin(tiers: Tiers, notional: float) -> float:
    tier = tier_for(tiers, notional)
    return notional * tier.mmr - tier.maintenance_amount


def liquidation_price(qty: float, entry: float, wallet: float, tiers: Tiers) -> float | None:
    """The mark at which a position of signed ``qty`` entered at ``entry`` and backed by
    ``wallet`` reaches its maintenance margin; ``None`` if no positive price does (a long the
    wallet fully pays for). Equity minus maintenance margin is monotonic in the mark, so
    exactly one bracket holds a solution."""
    size = abs(qty)
    if size == 0:
        return None
    side = 1.0 if qty > 0 else -1.0
    last = len(tiers) - 1
    for i, tier in enumerate(tiers):
        price = (wallet + tier.maintenance_amount - side * size * entry) / (
            size * tier.mmr - side * size
        )
        notional = size * price
        top = math.inf if i == last else tier.max_notional
        if tier.min_notional * (1 - 1e-12) <= notional <= top * (1 + 1e-12):
            return price if price > 0 else None
    return None


def bankruptcy_price(qty: float, entry: float, wallet: float) -> float:
    """The mark at which the position's equity is zero (0 when even a price of 0 leaves a long
    something)."""
    return max(entry - wallet / qty, 0.0)


class Settlement(NamedTuple):
    """How a liquidated position is closed: at ``price``, paying ``fee``."""

    price: float
    fee: float


def settle(
    qty: float,
    entry: float,
    wallet: float,
    liquidation_wallet: float,
    tiers: Tiers,
    close_at: str,
    fee_rate: float,
) -> Settlement:
    """The close of a liquidated position. ``wallet`` backs it for the bankruptcy price,
    ``liquidation_wallet`` (the same less other positions' maintenance margin) for the
    liquidation price; without one (nothing to liquidate at), the bankruptcy price stands."""
    price = bankruptcy_price(qty, entry, wallet)
    if close_at == LIQUIDATION:
        price = liquidation_price(qty, entry, liquidation_wallet, tiers) or price
    elif close_at != BANKRUPTCY:
        raise ValueError(f"close_at must be one of {CLOSE_PRICES}, not {close_at!r}")
    return Settlement(price, abs(qty) * price * fee_rate)
