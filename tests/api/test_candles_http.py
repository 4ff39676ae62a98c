"""Charts at any interval over real HTTP: 1m candles resampled to 1h/1d equal the bars computed
by hand from the shared file; pages walk back through the whole month; trades are bucketed."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.api.test_datasets_http import upload
from tests.conftest import module_server, shared_file
from tests.support.server import ServerProcess

FILE = "btc-perp_1m_2022-01.csv.gz"


@pytest.fixture(scope="module")
def server(
    module_store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    yield from module_server(module_store_url, tmp_path_factory)


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        assert upload(client, FILE, "perp", symbol="BTC_USDT").status_code == 201
        yield client


def minute_rows() -> list[tuple[int, float, float, float, float, float]]:
    with gzip.open(shared_file(FILE), "rt") as handle:
        return [
            (
                int(datetime.fromisoformat(r["timestamp"]).replace(tzinfo=UTC).timestamp()),
                *(float(r[k]) for k in ("open", "high", "low", "close", "volume")),
            )
            for r in csv.DictReader(handle)
        ]


def by_hand(rows: list, interval: int) -> dict[int, tuple]:
    bars: dict[int, list] = {}
    for ts, o, h, low, c, v in rows:
        start = ts - ts % interval
        bar = bars.get(start)
        if bar is None:
            bars[start] = [o, h, low, c, v]
        else:
            bar[1], bar[2], bar[3], bar[4] = max(bar[1], h), min(bar[2], low), c, bar[4] + v
    return {t: tuple(b) for t, b in bars.items()}


def chart(http: httpx.Client, **params: object) -> dict:
    response = http.get("/data/perp/candles", params={"symbol": "BTC_USDT", **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_one_hour_bars_from_minutes_equal_the_hand_computed_ones(http: httpx.Client) -> None:
    data = chart(http, interval=3600)
    assert data["built_from"] == "candles_60s" and data["next_end_us"] is None
    expected = by_hand(minute_rows(), 3600)
    got = {
        b["time"]: (b["open"], b["high"], b["low"], b["close"], b["volume"]) for b in data["items"]
    }
    assert got.keys() == expected.keys()  # the whole month, 745 hours, in one page
    for t, bar in expected.items():
        assert got[t][:4] == bar[:4] and got[t][4] == pytest.approx(bar[4], rel=1e-12)
    # one hour read off the file with awk: 2022-01-10 13:00, 60 minutes
    assert got[1641819600][:4] == (40979.0, 41066.0, 40735.0, 40827.0)
    assert got[1641819600][4] == pytest.approx(259924622.7390)


def test_daily_and_four_hour_bars_cover_the_month(http: httpx.Client) -> None:
    rows = minute_rows()
    for interval in (14_400, 86_400):
        items = chart(http, interval=interval)["items"]
        expected = by_hand(rows, interval)
        assert [b["time"] for b in items] == sorted(expected)
        assert all(
            (b["open"], b["high"], b["low"], b["close"]) == expected[b["time"]][:4] for b in items
        )


def test_pages_walk_back_through_the_whole_month(http: httpx.Client) -> None:
    seen: list[int] = []
    end_us: int | None = None
    for _ in range(20):
        data = chart(http, interval=60, limit=10_000, **({"end_us": end_us} if end_us else {}))
        assert len(data["items"]) <= 10_000
        seen = [b["time"] for b in data["items"]] + seen
        end_us = data["next_end_us"]
        if end_us is None:
            break
    assert seen == sorted(set(seen)) and len(seen) == 45_031  # every minute once, in order
    assert chart(http, interval=60)["items"][-1]["time"] == seen[-1]  # newest page by default


def test_a_replay_position_cuts_the_last_bar(http: httpx.Client) -> None:
    # up to 13:30 of 2022-01-10: the 13:00 hour holds its first 30 minutes only
    end_us = (1641819600 + 1800) * 1_000_000
    data = chart(http, interval=3600, end_us=end_us, limit=3)
    assert [b["time"] for b in data["items"]] == [1641812400, 1641816000, 1641819600]
    half = by_hand([r for r in minute_rows() if 1641819600 <= r[0] < 1641819600 + 1800], 3600)
    last = data["items"][-1]
    assert (last["open"], last["high"], last["low"], last["close"]) == half[1641819600][:4]
    assert data["next_end_us"] == 1641812400 * 1_000_000


def test_unknown_symbol_has_no_bars_and_bad_symbol_names_the_field(http: httpx.Client) -> None:
    assert chart(http, symbol="ETH_USDT")["items"] == []
    bad = http.get("/data/perp/candles", params={"symbol": "???"})
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "symbol"
