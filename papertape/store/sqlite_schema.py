"""Versioned migrations of the SQLite store. Append new versions; never edit an applied one."""

# the market-data kinds a source can hold, and their tables
MARKET_KINDS = {
    "trades": "trades",
    "candles": "candles",
    "book": "books",
    "funding": "funding_rates",
    "mark": "mark_prices",
}

MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            """CREATE TABLE sessions (
                session_id TEXT PRIMARY KEY,
                mode TEXT NOT NULL,
                state TEXT NOT NULL,
                symbols TEXT NOT NULL,
                config TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                started_at INTEGER,
                ended_at INTEGER,
                stop_reason TEXT,
                error_code TEXT,
                error_message TEXT,
                idempotency_key TEXT UNIQUE,
                last_seq INTEGER NOT NULL DEFAULT 0,
                checkpoint TEXT NOT NULL DEFAULT '{}'
            )""",
            "CREATE INDEX sessions_by_created ON sessions (created_at DESC, session_id DESC)",
            "CREATE INDEX sessions_by_state ON sessions (state)",
            """CREATE TABLE events (
                session_id TEXT NOT NULL REFERENCES sessions (session_id),
                seq INTEGER NOT NULL,
                ts INTEGER NOT NULL,
                kind TEXT NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (session_id, seq)
            ) WITHOUT ROWID""",
            """CREATE TABLE orders (
                session_id TEXT NOT NULL, order_id TEXT NOT NULL, ts INTEGER NOT NULL,
                symbol TEXT NOT NULL, side TEXT NOT NULL, type TEXT NOT NULL, qty REAL NOT NULL,
                price REAL, stop_price REAL, status TEXT NOT NULL, filled_qty REAL NOT NULL,
                avg_fill_price REAL, created_ts INTEGER NOT NULL,
                client_order_id TEXT NOT NULL, reason TEXT NOT NULL,
                PRIMARY KEY (session_id, order_id)
            )""",
            """CREATE TABLE fills (
                session_id TEXT NOT NULL, fill_id TEXT NOT NULL, order_id TEXT NOT NULL,
                ts INTEGER NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL, qty REAL NOT NULL,
                price REAL NOT NULL, fee REAL NOT NULL, liquidity TEXT NOT NULL,
                PRIMARY KEY (session_id, fill_id)
            )""",
            """CREATE TABLE positions (
                session_id TEXT NOT NULL, ts INTEGER NOT NULL, symbol TEXT NOT NULL,
                qty REAL NOT NULL, avg_price REAL NOT NULL, mark_price REAL NOT NULL,
                realized_pnl REAL NOT NULL, unrealized_pnl REAL NOT NULL, fees REAL NOT NULL,
                PRIMARY KEY (session_id, symbol)
            )""",
            """CREATE TABLE equity (
                session_id TEXT NOT NULL, ts INTEGER NOT NULL, equity REAL NOT NULL,
                cash REAL NOT NULL, unrealized_pnl REAL NOT NULL, realized_pnl REAL NOT NULL,
                fees REAL NOT NULL,
                PRIMARY KEY (session_id, ts)
            ) WITHOUT ROWID""",
            """CREATE TABLE trades (
                source TEXT NOT NULL, symbol TEXT NOT NULL, ts INTEGER NOT NULL,
                trade_id TEXT NOT NULL, price REAL NOT NULL, qty REAL NOT NULL, side TEXT NOT NULL,
                PRIMARY KEY (source, symbol, ts, trade_id)
            ) WITHOUT ROWID""",
            """CREATE TABLE candles (
                source TEXT NOT NULL, symbol TEXT NOT NULL, interval INTEGER NOT NULL,
                ts INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,
                close REAL NOT NULL, volume REAL NOT NULL,
                PRIMARY KEY (source, symbol, interval, ts)
            ) WITHOUT ROWID""",
            """CREATE TABLE books (
                source TEXT NOT NULL, symbol TEXT NOT NULL, ts INTEGER NOT NULL,
                bids TEXT NOT NULL, asks TEXT NOT NULL,
                PRIMARY KEY (source, symbol, ts)
            ) WITHOUT ROWID""",
            """CREATE TABLE datasets (
                name TEXT PRIMARY KEY, kind TEXT NOT NULL, symbols TEXT NOT NULL,
                rows INTEGER NOT NULL, start_ts INTEGER, end_ts INTEGER,
                created_at INTEGER NOT NULL, interval INTEGER, origin TEXT NOT NULL
            )""",
            """CREATE TABLE strategies (
                name TEXT PRIMARY KEY, base TEXT NOT NULL, params TEXT NOT NULL,
                created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                description TEXT NOT NULL
            )""",
        ],
    ),
    (
        2,
        [
            # where each trading session's durable record ends (papertape.engine.snapshot):
            # written in the same transaction as the rows and events of each commit
            """CREATE TABLE resume_states (
                session_id TEXT PRIMARY KEY REFERENCES sessions (session_id),
                ts INTEGER NOT NULL, count INTEGER NOT NULL, engine BLOB NOT NULL,
                commits INTEGER NOT NULL
            ) WITHOUT ROWID""",
        ],
    ),
    (
        3,
        [
            """CREATE TABLE funding_rates (
                source TEXT NOT NULL, symbol TEXT NOT NULL, ts INTEGER NOT NULL,
                rate REAL NOT NULL, mark_price REAL,
                PRIMARY KEY (source, symbol, ts)
            ) WITHOUT ROWID""",
            """CREATE TABLE mark_prices (
                source TEXT NOT NULL, symbol TEXT NOT NULL, ts INTEGER NOT NULL,
                price REAL NOT NULL,
                PRIMARY KEY (source, symbol, ts)
            ) WITHOUT ROWID""",
            """CREATE TABLE funding (
                session_id TEXT NOT NULL, ts INTEGER NOT NULL, symbol TEXT NOT NULL,
                rate REAL NOT NULL, qty REAL NOT NULL, mark_price REAL NOT NULL,
                amount REAL NOT NULL, price_source TEXT NOT NULL,
                PRIMARY KEY (session_id, symbol, ts)
            ) WITHOUT ROWID""",
        ],
    ),
    (
        5,  # issue 13: a sweep session's trials
        [
            """CREATE TABLE trials (
                session_id TEXT NOT NULL, number INTEGER NOT NULL, ts INTEGER NOT NULL,
                params TEXT NOT NULL, metrics TEXT, error TEXT, score REAL,
                PRIMARY KEY (session_id, number)
            ) WITHOUT ROWID""",
        ],
    ),
    (
        9,  # issue 13: which engine ran a trial ("vectorised" or "event"); older trials: NULL
        ["ALTER TABLE trials ADD COLUMN engine TEXT"],
    ),
]
