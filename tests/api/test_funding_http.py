"""Funding over real HTTP on both stores: the shared XRP perpetual's candles and funding rates
uploaded as datasets, a backtest session replaying both, its payments at
``GET /sessions/{id}/funding`` and its ``funding`` metric equal to the same backtest run in
process."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import httpx
import pytest

from papertape.domain.funding import merge_funding
from papertape.engine.backtest import run_backtest
from papertape.market.importers import read_market_file
from papertape.sessions.strategy_catalog import build_plan
from tests.conftest import module_server, shared_file
from tests.support.server import ServerProcess

CANDLES = "binance-futures_xrpusdt_5m_2021-11.csv"
FUNDING = "binance-futures_xrpusdt_funding-rate_8h_2021-11.csv"
PARAMS = {"fast": 24, "slow": 96}
FEE = 0.0004


@pytest.fixture(scope="module")
def server(
    module_store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    yield from module_server(module_store_url, tmp_path_factory)


@pytest.fixture(scope="module")
def uploads(server: ServerProcess) -> dict[str, dict]:
    """The perpetual's candles and funding rates, uploaded once for the module's tests (so that
    none depends on another having run first)."""
    with server.client() as http:
        return {
            "xrp_5m": _upload(http, CANDLES, "xrp_5m"),
            "xrp_funding": _upload(http, FUNDING, "xrp_funding"),
        }


@pytest.fixture
def http(server: ServerProcess, uploads: dict[str, dict]) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def _upload(http: httpx.Client, file_name: str, name: str, **form: str) -> dict:
    path = shared_file(file_name)
    with path.open("rb") as handle:
        response = http.post(
            "/datasets",
            data={"name": name, "symbol": "XRP/USDT:USDT", **form},
            files={"file": (path.name, handle)},
        )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def _config(**market: object) -> dict:
    return {
        "mode": "backtest",
        "symbols": ["XRP_USDT"],
        "strategies": [{"name": "sma_cross", "params": PARAMS}],
        "fees": {"taker": FEE, "maker": FEE},
        "market": {
            "source": "replay",
            "dataset": "xrp_5m",
            "market_type": "swap",
            "funding": "xrp_funding",
            **market,
        },
    }


def _completed(http: httpx.Client, session_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        detail = http.get(f"/sessions/{session_id}").json()["data"]
        if detail["state"] in ("completed", "failed"):
            return detail
        time.sleep(0.05)
    raise AssertionError(f"{session_id} did not finish: {detail['state']}")


def test_backtest_session_pays_funding_and_lists_it(
    http: httpx.Client, uploads: dict[str, dict]
) -> None:
    assert uploads["xrp_5m"]["kind"] == "candles"
    funding = uploads["xrp_funding"]
    assert (funding["kind"], funding["rows"], funding["symbols"]) == ("funding", 91, ["XRP_USDT"])

    started = http.post("/sessions/start", json=_config())
    assert started.status_code == 201, started.text
    session_id = started.json()["data"]["session_id"]
    detail = _completed(http, session_id)
    assert detail["state"] == "completed", detail

    listed = http.get(f"/sessions/{session_id}/funding")
    assert listed.status_code == 200 and listed.json()["status"] == "funding_listed"
    items = listed.json()["data"]["items"]
    assert items and all(i["price_source"] == "last" for i in items)
    assert all(i["ts"].startswith("2021-11-") and i["ts_us"] > 0 for i in items)
    for item in items:
        assert item["amount"] == pytest.approx(-item["rate"] * item["qty"] * item["mark_price"])

    candles = read_market_file(shared_file(CANDLES), symbol="XRP_USDT").rows
    rates = read_market_file(shared_file(FUNDING), symbol="XRP_USDT").rows
    local = run_backtest(
        merge_funding(candles, rates),
        ["XRP_USDT"],
        [build_plan("sma_cross", "sma_cross", PARAMS)],
        taker=FEE,
        market_type="swap",
    )
    paid = local.engine.record.funding
    assert [i["ts_us"] for i in items] == [p.ts for p in paid]
    total = math.fsum(i["amount"] for i in items)
    assert total == pytest.approx(local.metrics["funding"], rel=1e-9)
    results = [e for e in _events(http, session_id) if e["kind"] == "results"]
    assert results[-1]["data"]["funding"] == pytest.approx(total, rel=1e-9)
    assert len([e for e in _events(http, session_id) if e["kind"] == "funding"]) == len(items)


def test_funding_needs_a_swap_and_a_funding_dataset(http: httpx.Client) -> None:
    spot = http.post("/sessions/start", json=_config(market_type="spot"))
    assert spot.status_code == 422
    assert spot.json()["details"][0]["field"] == "market.funding"
    missing = http.post("/sessions/start", json=_config(funding="no_such_rates"))
    assert missing.status_code in (201, 404), missing.text
    if missing.status_code == 201:  # refused when the replay plans its reads
        session = _completed(http, missing.json()["data"]["session_id"])
        assert session["state"] == "failed" and "no funding rates" in session["error_message"]
    else:
        assert missing.status_code == 404
    assert http.get("/sessions/nope/funding").status_code == 404


def test_a_mark_dataset_values_the_positions(http: httpx.Client) -> None:
    """The other venue's 1-hour trade and mark candles: the session says it values positions
    at the mark, and the funding it pays is priced at the mark."""
    _upload(http, "xrp-usdt-perp_1h_2021-11.csv", "xrp_1h")
    marks = _upload(http, "xrp-usdt-perp_mark_1h_2021-11.csv", "xrp_mark_1h", kind="mark")
    assert (marks["kind"], marks["rows"]) == ("mark", 400)
    config = _config(dataset="xrp_1h", mark="xrp_mark_1h")
    config["strategies"] = [{"name": "sma_cross", "params": {"fast": 3, "slow": 8}}]
    started = http.post("/sessions/start", json=config)
    assert started.status_code == 201, started.text
    session_id = started.json()["data"]["session_id"]
    detail = _completed(http, session_id)
    assert detail["state"] == "completed", detail
    # the trade candles run two days past the last mark: the last price values them at the end
    assert detail["counters"]["valued_at"] == {"XRP_USDT": "last"}
    # and says how it would liquidate: no brackets given, so Binance BTCUSDT's stand in
    assert detail["counters"]["liquidation"] == {
        "close_at": "bankruptcy",
        "fee_rate": 0.0125,
        "tiers": {"XRP_USDT": "binance_btcusdt"},
    }
    items = http.get(f"/sessions/{session_id}/funding").json()["data"]["items"]
    assert items, "the strategy held a position across a funding time"
    assert {i["price_source"] for i in items if i["ts"] < "2021-11-19T10"} == {"mark"}
    assert {i["price_source"] for i in items if i["ts"] > "2021-11-19T11"} <= {"last"}


def _events(http: httpx.Client, session_id: str) -> list[dict]:
    return http.get(f"/sessions/{session_id}/events", params={"limit": 1000}).json()["data"][
        "events"
    ]
