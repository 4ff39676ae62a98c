"""Orders as the paper venue and the portfolio see them.

An ``Order`` is mutable while it lives (fills change it) and is written to the tape as an
``OrderRecord`` on every change. Quantities are in the base currency. ``qty=None`` means
"size it when it fills": all of the buying power for an entry (``fraction`` of it), or the whole
position for an exit — so that an order decided at a bar's close and filled at the next bar's open
is sized at the price it really gets, as backtesting.py and Freqtrade do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from papertape.domain.errors import IllegalTransition
from papertape.domain.records import OrderRecord


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"  # stop-market: a market order once the price reaches the stop price


class OrderStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def live(self) -> bool:
        """Still working: it may fill, and may be cancelled."""
        return self in LIVE_STATUSES


# An order's life, the one place that says which status may follow which:
#
#     open ─► partially_filled ─► filled
#       │            │  ▲  │
#       │            └──┘  ├─► cancelled (by its owner, a rule, or the rest is unaffordable)
#       ├─► filled         └─► rejected (an exchange refusing the rest)
#       └─► cancelled | rejected (refused by a rule, the venue or the exchange)
#
# A partially filled order may fill partially again; filled, cancelled and rejected are final.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.OPEN: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.REJECTED,
        }
    ),
    OrderStatus.PARTIALLY_FILLED: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.REJECTED,
        }
    ),
    OrderStatus.FILLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
}

# the short names every module uses
BUY, SELL = Side.BUY, Side.SELL
SIDES = tuple(Side)
MARKET, LIMIT, STOP = OrderType.MARKET, OrderType.LIMIT, OrderType.STOP
ORDER_TYPES = tuple(OrderType)
OPEN, PARTIAL, FILLED, CANCELLED, REJECTED = (
    OrderStatus.OPEN,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.FILLED,
    OrderStatus.CANCELLED,
    OrderStatus.REJECTED,
)
LIVE_STATUSES = frozenset({OPEN, PARTIAL})
QTY_EPSILON = 1e-12  # quantities below this are treated as zero (float dust)


class ManualOrder(NamedTuple):
    """What a user asks for with the dashboard's buy/sell buttons or ``POST
    /sessions/{id}/orders``."""

    symbol: str
    side: str
    type: str
    qty: float | None
    price: float | None = None
    stop_price: float | None = None
    client_order_id: str = ""


@dataclass(slots=True, eq=False)
class Order:
    order_id: str
    symbol: str
    side: Side
    type: OrderType
    qty: float | None  # None: sized at the first fill (see the module docstring)
    created_ts: int
    active_ts: int  # the venue sees it from this time on (decision-to-fill latency)
    price: float | None = None  # limit price
    stop_price: float | None = None
    fraction: float = 1.0  # of the buying power, when ``qty`` is None and it opens a position
    reduce_only: bool = False  # may only shrink a position (exits, stop-loss, take-profit)
    client_order_id: str = ""
    reason: str = ""  # who placed it ("sma_cross", "manual", "stop_loss") or why it ended
    status: OrderStatus = OPEN  # changed through ``move_to`` only
    filled_qty: float = 0.0
    notional: float = 0.0  # Σ fill qty × price, for the average price
    fees: float = 0.0
    triggered: bool = False  # a stop order whose stop price was reached
    maker: bool = False  # a limit order that rested (was not marketable when it arrived)
    owner: object = None  # the strategy instance to tell about its fills (not recorded)
    updated_ts: int = 0

    def __post_init__(self) -> None:
        # callers may pass the plain strings (a strategy, a stored record): one type from here on
        self.side = Side(self.side)
        self.type = OrderType(self.type)
        self.status = OrderStatus(self.status)

    @property
    def sign(self) -> int:
        return 1 if self.side == BUY else -1

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    def move_to(self, status: OrderStatus) -> None:
        """Change the status as ``ORDER_TRANSITIONS`` allows; anything else is a venue bug."""
        if status not in ORDER_TRANSITIONS[self.status]:
            raise IllegalTransition(
                f"order {self.order_id} cannot go from {self.status} to {status}"
            )
        self.status = status

    @property
    def avg_fill_price(self) -> float | None:
        return self.notional / self.filled_qty if self.filled_qty > 0 else None

    def record(self, session_id: str) -> OrderRecord:
        return OrderRecord(
            session_id=session_id,
            order_id=self.order_id,
            ts=self.updated_ts or self.created_ts,
            symbol=self.symbol,
            side=self.side.value,  # records hold the plain strings (stores need exact str)
            type=self.type.value,
            qty=self.qty if self.qty is not None else self.filled_qty,
            price=self.price,
            stop_price=self.stop_price,
            status=self.status.value,
            filled_qty=self.filled_qty,
            avg_fill_price=self.avg_fill_price,
            created_ts=self.created_ts,
            client_order_id=self.client_order_id,
            reason=self.reason,
        )
