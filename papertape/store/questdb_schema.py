"""Versioned migrations of the QuestDB store. Append new versions; never edit an applied one.

Every statement is idempotent (``IF NOT EXISTS``), so a start-up that dies between a DDL and its
``schema_migrations`` row simply runs it again.

Two kinds of table, chosen for what QuestDB does with them:

- **Control tables** (sessions, checkpoints, events, datasets, strategies, schema_migrations) are
  ``BYPASS WAL`` (tables without a designated timestamp never use the WAL): an INSERT on a
  non-WAL table is applied by the statement itself, so it is visible to every reader the moment
  the call returns (read-your-writes, across processes). Sessions are insert-only versions (see
  ``papertape.store.questdb``). They are written at human rates, where the single-writer lock of
  a non-WAL table costs nothing.
- **Time-series tables** (trades, candles, books, funding_rates, mark_prices, orders, fills,
  positions,
  equity, funding) are WAL
  tables fed by ILP over HTTP, with a designated timestamp, ``SYMBOL`` columns for what queries
  filter on, and ``DEDUP UPSERT KEYS`` equal to the row's identity (the SQLite store's primary
  key plus the timestamp), so a retried batch can never duplicate rows.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "initial schema",
        [
            # one row per state of a session (created, then one per transition); the newest by
            # written_at is its state. Its last_seq is the one of that version's event; the
            # session's current last_seq is its newest event's (append_events adds no version).
            """CREATE TABLE IF NOT EXISTS sessions (
                session_id SYMBOL INDEX, mode SYMBOL, state SYMBOL, symbols VARCHAR,
                config VARCHAR, created_at LONG, updated_at LONG, started_at LONG, ended_at LONG,
                stop_reason VARCHAR, error_code VARCHAR, error_message VARCHAR,
                idempotency_key VARCHAR, last_seq LONG, checkpoint VARCHAR, written_at TIMESTAMP
            ) TIMESTAMP(written_at) PARTITION BY MONTH BYPASS WAL""",
            # a running session's progress, saved every few seconds; superseded rows expire
            """CREATE TABLE IF NOT EXISTS checkpoints (
                session_id SYMBOL INDEX, checkpoint VARCHAR, written_at TIMESTAMP
            ) TIMESTAMP(written_at) PARTITION BY DAY TTL 7 DAYS BYPASS WAL""",
            # ``snapshot`` holds the session record a state event moved it to: the events table is
            # the store's write-ahead log for sessions (see QuestDBStore._recover).
            # ``ts`` is the event's own time (µs); ``written_at`` orders the rows of a session
            # as the store wrote them, so its newest event (its last seq) is found by index
            """CREATE TABLE IF NOT EXISTS events (
                session_id SYMBOL INDEX, seq LONG, ts LONG, kind SYMBOL, data VARCHAR,
                snapshot VARCHAR, written_at TIMESTAMP
            ) TIMESTAMP(written_at) PARTITION BY MONTH BYPASS WAL""",
            """CREATE TABLE IF NOT EXISTS datasets (
                name VARCHAR, kind SYMBOL, symbols VARCHAR, rows LONG, start_ts LONG, end_ts LONG,
                created_at LONG, interval LONG, origin VARCHAR
            )""",
            """CREATE TABLE IF NOT EXISTS strategies (
                name VARCHAR, base VARCHAR, params VARCHAR, created_at LONG, updated_at LONG,
                description VARCHAR
            )""",
            """CREATE TABLE IF NOT EXISTS trades (
                ts TIMESTAMP, source SYMBOL, symbol SYMBOL, trade_id VARCHAR, price DOUBLE,
                qty DOUBLE, side SYMBOL
            ) TIMESTAMP(ts) PARTITION BY DAY WAL
            DEDUP UPSERT KEYS(ts, source, symbol, trade_id)""",
            """CREATE TABLE IF NOT EXISTS candles (
                ts TIMESTAMP, source SYMBOL, symbol SYMBOL, interval LONG, open DOUBLE,
                high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE
            ) TIMESTAMP(ts) PARTITION BY MONTH WAL
            DEDUP UPSERT KEYS(ts, source, symbol, interval)""",
            """CREATE TABLE IF NOT EXISTS books (
                ts TIMESTAMP, source SYMBOL, symbol SYMBOL, bids VARCHAR, asks VARCHAR
            ) TIMESTAMP(ts) PARTITION BY DAY WAL
            DEDUP UPSERT KEYS(ts, source, symbol)""",
            """CREATE TABLE IF NOT EXISTS orders (
                ts TIMESTAMP, session_id SYMBOL, order_id VARCHAR, symbol SYMBOL, side SYMBOL,
                type SYMBOL, qty DOUBLE, price DOUBLE, stop_price DOUBLE, status SYMBOL,
                filled_qty DOUBLE, avg_fill_price DOUBLE, created_ts LONG,
                client_order_id VARCHAR, reason VARCHAR
            ) TIMESTAMP(ts) PARTITION BY MONTH WAL
            DEDUP UPSERT KEYS(ts, session_id, order_id)""",
            """CREATE TABLE IF NOT EXISTS fills (
                ts TIMESTAMP, session_id SYMBOL, fill_id VARCHAR, order_id VARCHAR, symbol SYMBOL,
                side SYMBOL, qty DOUBLE, price DOUBLE, fee DOUBLE, liquidity SYMBOL
            ) TIMESTAMP(ts) PARTITION BY MONTH WAL
            DEDUP UPSERT KEYS(ts, session_id, fill_id)""",
            """CREATE TABLE IF NOT EXISTS positions (
                ts TIMESTAMP, session_id SYMBOL, symbol SYMBOL, qty DOUBLE, avg_price DOUBLE,
                mark_price DOUBLE, realized_pnl DOUBLE, unrealized_pnl DOUBLE, fees DOUBLE
            ) TIMESTAMP(ts) PARTITION BY MONTH WAL
            DEDUP UPSERT KEYS(ts, session_id, symbol)""",
            """CREATE TABLE IF NOT EXISTS equity (
                ts TIMESTAMP, session_id SYMBOL, equity DOUBLE, cash DOUBLE,
                unrealized_pnl DOUBLE, realized_pnl DOUBLE, fees DOUBLE
            ) TIMESTAMP(ts) PARTITION BY MONTH WAL
            DEDUP UPSERT KEYS(ts, session_id)""",
        ],
    ),
    (
        2,
        "resume states: the trading record's commit log",
        [
            # One row per commit of a trading session (papertape.store.questdb: "Exactly
            # once"): the stream position and engine state to resume from, and the commit's
            # rows and numbered events (``payload``), so a commit interrupted between this row
            # and its rows is finished at the next open. The newest row per session is what
            # counts; older ones expire (TTL, relative to the newest row of the table; an idle
            # running session re-commits hourly and open re-writes unfinished sessions' rows).
            """CREATE TABLE IF NOT EXISTS resume_states (
                session_id SYMBOL INDEX, commit_no LONG, ts LONG, count LONG, engine VARCHAR,
                payload VARCHAR, written_at TIMESTAMP
            ) TIMESTAMP(written_at) PARTITION BY DAY TTL 3 DAYS BYPASS WAL""",
        ],
    ),
    (
        3,
        "funding rates, mark prices and funding payments",
        [
            """CREATE TABLE IF NOT EXISTS funding_rates (
                ts TIMESTAMP, source SYMBOL, symbol SYMBOL, rate DOUBLE, mark_price DOUBLE
            ) TIMESTAMP(ts) PARTITION BY MONTH WAL
            DEDUP UPSERT KEYS(ts, source, symbol)""",
            """CREATE TABLE IF NOT EXISTS mark_prices (
                ts TIMESTAMP, source SYMBOL, symbol SYMBOL, price DOUBLE
            ) TIMESTAMP(ts) PARTITION BY MONTH WAL
            DEDUP UPSERT KEYS(ts, source, symbol)""",
            """CREATE TABLE IF NOT EXISTS funding (
                ts TIMESTAMP, session_id SYMBOL, symbol SYMBOL, rate DOUBLE, qty DOUBLE,
                mark_price DOUBLE, amount DOUBLE, price_source SYMBOL
            ) TIMESTAMP(ts) PARTITION BY MONTH WAL
            DEDUP UPSERT KEYS(ts, session_id, symbol)""",
        ],
    ),
    (
        5,  # issue 13
        "sweep trials",
        [
            # a control table: a sweep records its trials at human rates and reads them back at
            # once (a resumed sweep skips them); a trial written twice is read once (by number)
            """CREATE TABLE IF NOT EXISTS trials (
                session_id SYMBOL INDEX, number LONG, ts LONG, params VARCHAR, metrics VARCHAR,
                error VARCHAR, score DOUBLE, written_at TIMESTAMP
            ) TIMESTAMP(written_at) PARTITION BY MONTH BYPASS WAL""",
        ],
    ),
    (
        9,  # issue 13
        "the engine of a sweep trial",
        # "vectorised" or "event"; trials recorded before read as null
        ["ALTER TABLE trials ADD COLUMN IF NOT EXISTS engine SYMBOL"],
    ),
    (
        10,  # issue 13
        "the tie key of a trade",
        # the order of prints that share a timestamp, as a number (papertape.store.trade_ties);
        # trades written before read as null and are ordered by their ids
        ["ALTER TABLE trades ADD COLUMN IF NOT EXISTS tie_key LONG"],
    ),
]

MIGRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INT, name VARCHAR, applied_at TIMESTAMP
) TIMESTAMP(applied_at) PARTITION BY NONE BYPASS WAL"""

# WAL tables of market data (the others are the sessions' trading record); each group has its own
# ILP sender.
MARKET_TABLES = frozenset({"trades", "candles", "books", "funding_rates", "mark_prices"})
WAL_TABLES = MARKET_TABLES | {"orders", "fills", "positions", "equity", "funding"}
# the market-data kinds a source can hold, and their tables
MARKET_KINDS = {
    "trades": "trades",
    "candles": "candles",
    "book": "books",
    "funding": "funding_rates",
    "mark": "mark_prices",
}
