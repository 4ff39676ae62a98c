"""Importers against every real file in the shared data folder, and users' own CSV/JSON files."""

from __future__ import annotations

import gzip
import json

import pytest

from papertape.domain.errors import InvalidDataFile
from papertape.domain.market import Candle, Trade
from papertape.market.importers import (
    candles_from_trades,
    parse_timestamps,
    read_market_file,
    symbol_from_text,
)
from tests.support.data import MARKET_DATA

DATA = MARKET_DATA

# file, kind, rows, first timestamp (µs), symbol the file names (None: the caller must)
REAL_FILES = [
    ("btc-perp_1m_2022-01.csv.gz", "candles", 45_031, 1_640_991_660_000_000, None),
    ("freqtrade-unittest_btc_1m_2017-11.json.gz", "candles", 13_681, 1_509_836_520_000_000, None),
    ("binance_btcusdt_trades_2021-01-08.parquet", "trades", 2_001, 1_610_064_000_278_000, None),
    ("binance_btcusdt_quotes_2021-01-08.parquet", "book", 451, 1_610_064_001_076_000, "BTC_USDT"),
    ("binance-futures_btcusdt_depth-snap.csv", "book", 1, 1_667_346_579_146_000, "BTC_USDT"),
    ("binance-futures_btcusdt_depth-update.csv", "book", 1, 1_667_347_199_939_000, "BTC_USDT"),
    ("binance-futures_btcusdt_book-snapshot-25.csv", "book", 10, 1_598_918_403_696_000, "BTC_USDT"),
    ("binance-futures_ethusdt_trades_2023-02-02.csv", "trades", 1_000, 1_675_329_600_138_000, None),
    ("binance_xrpeth_trades.json.gz", "trades", 12_477, 1_570_752_011_620_000, None),
    (
        "binance-futures_xrpusdt_funding-rate_8h_2021-11.csv",
        "funding",
        91,
        1_637_193_600_017_000,
        None,
    ),
]


@pytest.mark.parametrize(("name", "kind", "rows", "first_ts", "own_symbol"), REAL_FILES)
def test_reads_every_shared_file(name, kind, rows, first_ts, own_symbol):
    market = read_market_file(DATA / name, symbol=None if own_symbol else "X_USDT")
    assert market.kind == kind
    assert len(market.rows) == rows
    assert market.rows[0].ts == first_ts
    assert market.symbols == ((own_symbol,) if own_symbol else ("X_USDT",))
    timestamps = [r.ts for r in market.rows]
    assert timestamps == sorted(timestamps)


def test_candle_values_and_interval():
    market = read_market_file(DATA / "btc-perp_1m_2022-01.csv.gz", symbol="btc/usdt")
    first = market.rows[0]
    assert first == Candle(
        1_640_991_660_000_000, "BTC_USDT", 60, 46319.0, 46385.0, 46319.0, 46377.0, 2300413.7295
    )
    assert market.interval == 60


def test_binance_trades_side_from_buyer_maker():
    market = read_market_file(DATA / "binance_btcusdt_trades_2021-01-08.parquet", symbol="BTC_USDT")
    first, second = market.rows[:2]
    assert first == Trade(
        1_610_064_000_278_000, "BTC_USDT", 39432.48, 0.000263, "sell", "553287559"
    )
    assert second.side == "buy"


def test_freqtrade_trades_json():
    market = read_market_file(DATA / "binance_xrpeth_trades.json.gz", symbol="XRP_ETH")
    assert market.rows[0] == Trade(
        1_570_752_011_620_000, "XRP_ETH", 0.00141342, 23.0, "sell", "13519807"
    )


def test_tardis_book_levels():
    market = read_market_file(DATA / "binance-futures_btcusdt_book-snapshot-25.csv")
    book = market.rows[0]
    assert len(book.bids) == 25 and len(book.asks) == 25
    assert book.asks[0] == (11657.08, 1.714) and book.bids[0] == (11657.07, 10.896)
    assert all(a[0] < b[0] for a, b in zip(book.asks, book.asks[1:], strict=False))
    assert all(a[0] > b[0] for a, b in zip(book.bids, book.bids[1:], strict=False))


def test_depth_snapshot_is_sorted_and_capped():
    book = read_market_file(DATA / "binance-futures_btcusdt_depth-snap.csv").rows[0]
    assert book.bids[0] == (20377.0, 1.77)
    assert len(book.bids) == 25


def test_depth_diffs_remove_zero_levels(tmp_path):
    path = tmp_path / "depth.csv"
    path.write_text(
        "symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu\n"
        "BTCUSDT,1667346579146,1,1,b,snap,100.0,1.0,-1\n"
        "BTCUSDT,1667346579146,1,1,b,snap,99.0,2.0,-1\n"
        "BTCUSDT,1667346579146,1,1,a,snap,101.0,3.0,-1\n"
        "BTCUSDT,1667346580000,2,2,b,set,100.0,0,1\n"
        "BTCUSDT,1667346580000,2,2,a,set,100.5,4.0,1\n"
    )
    snap, update = read_market_file(path).rows
    assert snap.bids == ((100.0, 1.0), (99.0, 2.0)) and snap.asks == ((101.0, 3.0),)
    assert update.ts == 1_667_346_580_000_000
    assert update.bids == ((99.0, 2.0),) and update.asks == ((100.5, 4.0), (101.0, 3.0))


def test_quotes_become_one_level_books():
    book = read_market_file(DATA / "binance_btcusdt_quotes_2021-01-08.parquet").rows[0]
    assert book.bids == ((39432.99, 0.0031),) and book.asks == ((39433.62, 0.066851),)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("1700000000", 1_700_000_000_000_000),
        ("1700000000.5", 1_700_000_000_500_000),
        ("1700000000123", 1_700_000_000_123_000),
        ("1700000000123456", 1_700_000_000_123_456),
        ("1700000000123456789", 1_700_000_000_123_456),
        ("2023-11-14T22:13:20Z", 1_700_000_000_000_000),
        ("2023-11-14 22:13:20.25", 1_700_000_000_250_000),
        ("2023-11-14T23:13:20+01:00", 1_700_000_000_000_000),
    ],
)
def test_timestamp_forms(stamp, expected):
    assert parse_timestamps([stamp]) == [expected]


def test_users_trades_csv_gzip(tmp_path):
    path = tmp_path / "mine.csv.gz"
    path.write_bytes(
        gzip.compress(
            b"timestamp,price,qty,side,trade_id\n1700000001,10.5,2,buy,a\n1700000000,10,1,sell,b\n"
        )
    )
    market = read_market_file(path, symbol="eth-usdt")
    assert market.kind == "trades"
    assert market.rows == [
        Trade(1_700_000_000_000_000, "ETH_USDT", 10.0, 1.0, "sell", "b"),
        Trade(1_700_000_001_000_000, "ETH_USDT", 10.5, 2.0, "buy", "a"),
    ]


def test_users_candles_json_objects_with_symbol(tmp_path):
    path = tmp_path / "bars.json"
    rows = [
        {
            "timestamp": 1_700_000_000_000 + i * 300_000,
            "open": 1,
            "high": 2,
            "low": 0.5,
            "close": 1.5,
            "volume": 10,
            "symbol": "SOLUSDT",
        }
        for i in range(3)
    ]
    path.write_text(json.dumps(rows))
    market = read_market_file(path)
    assert market.kind == "candles" and market.interval == 300
    assert market.symbols == ("SOL_USDT",)


def test_kind_override_and_undetectable(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("timestamp,foo\n1,2\n")
    with pytest.raises(InvalidDataFile, match="cannot tell trades, candles, book or funding"):
        read_market_file(path, symbol="BTC_USDT")
    with pytest.raises(InvalidDataFile, match="needs a 'price' column"):
        read_market_file(path, symbol="BTC_USDT", kind="trades")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"price,qty\n1,2\n", "no timestamp column"),
        (b"timestamp,price,qty,side\n1,abc,1,buy\n", "'price' holds a value that is not a number"),
        (b"timestamp,price,qty,side\n1,2,1,up\n", "side must be 'buy' or 'sell'"),
        (b"timestamp,price,qty,side\n1,2,1\n", "line 2 has 3 fields"),
        (b"timestamp,price,qty,side\n1,nan,1,buy\n", "'price', row 1: nan is not a positive"),
        (b"timestamp,price,qty,side\n1,0,1,buy\n", "'price', row 1: 0.0 is not a positive"),
        (b"timestamp,price,qty,side\n1,5,-1,buy\n", "'qty', row 1: -1.0 is not a non-negative"),
        (b"timestamp,open,high,low,close\n1,1,1,inf,1\n", "'low', row 1: inf"),
        (b'[{"timestamp": {"a": 1}, "price": 1, "qty": 1, "side": "buy"}]', "not a timestamp"),
        (b"[null]", "rows must be objects or arrays"),
        (b"[]", "holds no rows"),
        (b"[[1, 2, 3]]", "cannot tell what the JSON arrays hold"),
        (b"\x00\xff\xfe binary", "not CSV, JSON or Parquet"),
        (b"[1, 2", "invalid JSON"),
        (b"\x1f\x8b\x08 truncated", "broken gzip"),
    ],
)
def test_bad_files_say_why(tmp_path, content, message):
    path = tmp_path / "bad.dat"
    path.write_bytes(content)
    with pytest.raises(InvalidDataFile, match=message) as info:
        read_market_file(path, symbol="BTC_USDT")
    assert info.value.code == "invalid_data_file"


def test_missing_file_and_missing_symbol(tmp_path):
    with pytest.raises(InvalidDataFile, match="no such file"):
        read_market_file(tmp_path / "nope.csv")
    with pytest.raises(InvalidDataFile, match="names no symbol"):
        read_market_file(DATA / "btc-perp_1m_2022-01.csv.gz")


def test_symbol_spellings():
    assert symbol_from_text("BTCUSDT") == "BTC_USDT"
    assert symbol_from_text("BTC/USDT:USDT") == "BTC_USDT"
    assert symbol_from_text("XRPETH") == "XRP_ETH"
    with pytest.raises(ValueError):
        symbol_from_text("NOPE")


def test_candles_from_trades_by_hand():
    base = 1_700_000_000_000_000
    trades = [
        Trade(base + 1, "A_B", 10.0, 1.0, "buy"),
        Trade(base + 2, "A_B", 12.0, 2.0, "buy"),
        Trade(base + 3, "A_B", 9.0, 0.5, "sell"),
        Trade(base + 70_000_000, "A_B", 11.0, 1.0, "buy"),
    ]
    assert candles_from_trades(trades, 60) == [
        Candle(base - base % 60_000_000, "A_B", 60, 10.0, 12.0, 9.0, 9.0, 3.5),
        Candle(base - base % 60_000_000 + 60_000_000, "A_B", 60, 11.0, 11.0, 11.0, 11.0, 1.0),
    ]


def test_candles_from_real_trades_match_totals():
    trades = read_market_file(
        DATA / "binance_btcusdt_trades_2021-01-08.parquet", symbol="BTC_USDT"
    ).rows
    bars = candles_from_trades(trades, 10)
    assert sum(b.volume for b in bars) == pytest.approx(sum(t.qty for t in trades))
    assert bars[0].open == trades[0].price and bars[-1].close == trades[-1].price
    assert max(b.high for b in bars) == max(t.price for t in trades)


def test_funding_rates_csv_with_negative_rates():
    market = read_market_file(
        DATA / "binance-futures_xrpusdt_funding-rate_8h_2021-11.csv", symbol="XRP/USDT:USDT"
    )
    assert market.kind == "funding" and market.symbols == ("XRP_USDT",)
    rates = [r.rate for r in market.rows]
    assert min(rates) == -0.00219334 and max(rates) == 0.00058316  # SOURCES.md: max 0.000583
    assert market.rows[-1].ts == 1_639_785_600_014_000 and market.rows[0].mark_price is None


def test_funding_from_ccxt_objects_and_freqtrade_arrays(tmp_path):
    ccxt_rows = [  # what ccxt's fetchFundingRateHistory returns, as JSON
        {
            "info": {"symbol": "XRPUSDT", "fundingTime": 1637193600017 + i * 28_800_000},
            "symbol": "XRP/USDT:USDT",
            "fundingRate": rate,
            "timestamp": 1637193600017 + i * 28_800_000,
            "datetime": "ignored",
        }
        for i, rate in enumerate((0.0001, -0.0005))
    ]
    path = tmp_path / "ccxt.json"
    path.write_text(json.dumps(ccxt_rows))
    market = read_market_file(path)
    assert market.kind == "funding" and market.symbols == ("XRP_USDT",)
    assert [(r.ts, r.rate) for r in market.rows] == [
        (1_637_193_600_017_000, 0.0001),
        (1_637_222_400_017_000, -0.0005),
    ]
    freqtrade = tmp_path / "ft.json"
    freqtrade.write_text(json.dumps([[1637193600017, 0.0001, 0, 0, 0, 0]]))
    with pytest.raises(InvalidDataFile, match="look like freqtrade funding rates"):
        read_market_file(freqtrade, symbol="XRP_USDT")
    rows = read_market_file(freqtrade, symbol="XRP_USDT", kind="funding").rows
    assert [(r.ts, r.rate) for r in rows] == [(1_637_193_600_017_000, 0.0001)]


def test_funding_with_mark_and_bad_rates(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("timestamp,funding_rate,mark_price\n1637193600000,0.0001,1.1\n")
    (row,) = read_market_file(path, symbol="XRP_USDT").rows
    assert row.mark_price == 1.1
    path.write_text("timestamp,funding_rate\n1637193600000,1.5\n")
    with pytest.raises(InvalidDataFile, match="is not a funding rate"):
        read_market_file(path, symbol="XRP_USDT")


def test_mark_candles_become_their_intrabar_path():
    marks = read_market_file(
        DATA / "xrp-usdt-perp_mark_1h_2021-11.csv", symbol="XRP_USDT", kind="mark"
    )
    assert marks.kind == "mark" and len(marks.rows) == 4 * 100
    # the first candle 1.20932 / 1.21787 / 1.20763 / 1.21431 rises: open, low, high, close
    hour = 3_600_000_000
    t0 = 1_636_956_000_000_000
    assert [(m.ts - t0, m.price) for m in marks.rows[:4]] == [
        (0, 1.20932),
        (hour // 3, 1.20763),
        (2 * hour // 3, 1.21787),
        (hour - 1, 1.21431),
    ]


def test_mark_points_csv(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("timestamp,mark_price,symbol\n1637193600000,1.1,XRPUSDT\n")
    market = read_market_file(path)
    assert market.kind == "mark" and [(r.ts, r.symbol, r.price) for r in market.rows] == [
        (1_637_193_600_000_000, "XRP_USDT", 1.1)
    ]
