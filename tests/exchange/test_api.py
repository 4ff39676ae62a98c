"""``GET /markets`` and paper/collect sessions on the exchange source, through the real app with
the exchange double behind the process's hub (what ``serve_with_double`` runs)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from papertape.market.exchange import connector
from tests.support.serve_with_double import build_app


@pytest.fixture
def served(tmp_path):
    previous = connector.default_hub()
    app, world = build_app(f"sqlite:///{tmp_path}/t.db", speed=20)
    try:
        with TestClient(app, base_url="http://localhost") as client:
            yield client, world
    finally:
        connector.use_hub(previous)


def test_markets_lists_canonical_symbols_by_type(served):
    client, _ = served
    spot = client.get("/markets", params={"exchange": "mexc", "market_type": "spot"})
    assert spot.status_code == 200
    body = spot.json()
    assert body["status"] == "markets_listed"
    assert [m["symbol"] for m in body["data"]["markets"]] == ["BTC_USDT", "XRP_ETH"]
    swap = client.get("/markets", params={"market_type": "swap", "q": "eth"}).json()["data"]
    assert [(m["symbol"], m["exchange_symbol"]) for m in swap["markets"]] == [
        ("ETH_USDT", "ETH/USDT:USDT")
    ]


def test_markets_errors_are_specific(served):
    client, world = served
    unknown = client.get("/markets", params={"exchange": "nosuchexchange"})
    assert unknown.status_code == 422 and unknown.json()["error_code"] == "unknown_exchange"
    world.set_unreachable("network is unreachable")
    down = client.get("/markets", params={"exchange": "mexc"})
    assert down.status_code == 503
    assert down.json()["error_code"] == "exchange_unavailable"
    assert down.json()["message"].startswith("mexc unreachable: NetworkError")
    bad_type = client.get("/markets", params={"market_type": "option"})
    assert bad_type.status_code == 422


def _wait(predicate, timeout=8.0):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_paper_session_on_the_exchange_feed_then_unknown_symbol_rejected(served):
    client, _ = served
    started = client.post(
        "/sessions/start", json={"mode": "paper", "symbols": ["BTC_USDT"], "strategies": []}
    )
    assert started.status_code == 201, started.text
    session_id = started.json()["data"]["session_id"]

    def live_feed():
        detail = client.get(f"/sessions/{session_id}").json()["data"]
        feed = detail.get("feed") or {}
        trades = (feed.get("symbols") or {}).get("BTC_USDT", {}).get("trades", 0)
        return feed.get("state") == "live" and trades > 0 and detail

    detail = _wait(live_feed)
    assert detail["feed"]["symbols"]["BTC_USDT"]["state"] == "live"
    stopped = client.post("/sessions/stop", json={"session_id": session_id})
    assert stopped.status_code == 200 and stopped.json()["data"]["final_state"] == "stopped"
    # the market list is cached now: an unknown symbol is refused before a session exists
    refused = client.post(
        "/sessions/start", json={"mode": "paper", "symbols": ["DOGE_USDT"], "strategies": []}
    )
    assert refused.status_code == 422
    assert refused.json()["error_code"] == "unknown_symbol"


def test_unreachable_exchange_session_starts_and_reports_reconnecting(served):
    client, world = served
    world.set_unreachable("network is unreachable")
    started = client.post(
        "/sessions/start", json={"mode": "paper", "symbols": ["BTC_USDT"], "strategies": []}
    )
    assert started.status_code == 201, started.text
    session_id = started.json()["data"]["session_id"]

    def reconnecting():
        feed = client.get(f"/sessions/{session_id}").json()["data"].get("feed") or {}
        return feed.get("state") == "reconnecting" and feed

    feed = _wait(reconnecting)
    assert feed["message"].startswith("mexc unreachable:")
    began = time.monotonic()
    stopped = client.post("/sessions/stop", json={"session_id": session_id})
    assert stopped.status_code == 200 and time.monotonic() - began < 3
    # the list never loaded, so an unknown symbol is accepted now and fails once it loads
    world.set_unreachable(None)
    started = client.post(
        "/sessions/start", json={"mode": "paper", "symbols": ["DOGE_USDT"], "strategies": []}
    )
    if started.status_code == 201:
        session_id = started.json()["data"]["session_id"]
        failed = _wait(
            lambda: (
                (d := client.get(f"/sessions/{session_id}").json()["data"])["state"] == "failed"
                and d
            )
        )
        assert failed["error_code"] == "unknown_symbol"
    else:  # the list loaded within the start's wait: refused up front
        assert started.json()["error_code"] == "unknown_symbol"


def test_book_depth_and_interval_come_from_the_session_config(served):
    client, _ = served
    body = {
        "mode": "collect",
        "symbols": ["BTC_USDT"],
        "market": {"market_type": "swap", "book_depth": 5, "book_interval": 0},
    }
    started = client.post("/sessions/start", json=body)
    assert started.status_code == 201, started.text
    session_id = started.json()["data"]["session_id"]
    _wait(
        lambda: (
            client.get(f"/sessions/{session_id}").json()["data"]["counters"]["rows_written"]["book"]
            > 0
        )
    )
    assert client.post("/sessions/stop", json={"session_id": session_id}).status_code == 200
    store = client.app.state.store
    books = client.portal.call(store.read_books, session_id, ["BTC_USDT"], 0, 2**62)
    # the recorded snapshot holds 100 bid levels and no asks (see tests/support/market_tapes.py)
    assert books and all(len(b.bids) == 5 and len(b.asks) <= 5 for b in books)
    bad = client.post("/sessions/start", json={**body, "market": {"book_depth": 0}})
    assert bad.status_code == 422 and bad.json()["error_code"] == "validation_error"


def test_paper_trading_a_strategy_on_the_live_feed(served):
    """The headline: a strategy trading simulated orders against the (recorded, streamed) market
    as it moves — bars built from the live trades, fills against the live prints."""
    client, _ = served
    body = {
        "mode": "paper",
        "symbols": ["BTC_USDT"],
        "strategies": [{"name": "sma_cross", "params": {"bar_interval": 1, "fast": 2, "slow": 4}}],
    }
    started = client.post("/sessions/start", json=body)
    assert started.status_code == 201, started.text
    session_id = started.json()["data"]["session_id"]
    fills = _wait(
        lambda: client.get(f"/sessions/{session_id}/fills").json()["data"]["items"], timeout=30
    )
    assert all(30_000 < f["price"] < 50_000 for f in fills)  # the recorded day's real prices
    assert client.post("/sessions/stop", json={"session_id": session_id}).status_code == 200


def test_orders_need_a_market_price_first(served):
    client, world = served
    world.silence("BTC/USDT")  # the feed is up but has not delivered a print yet
    started = client.post(
        "/sessions/start", json={"mode": "paper", "symbols": ["BTC_USDT"], "strategies": []}
    )
    assert started.status_code == 201, started.text
    sid = started.json()["data"]["session_id"]
    market = {"symbol": "BTC_USDT", "side": "buy", "type": "market", "qty": 0.01}
    for body in (market, {**market, "type": "limit", "price": 20_000}):
        refused = client.post(f"/sessions/{sid}/orders", json=body)
        assert refused.status_code == 409, refused.text
        error = refused.json()
        assert error["error_code"] == "no_market_price" and error["session_id"] == sid
        assert error["details"] == [{"field": "symbol", "message": "no price for BTC_USDT yet"}]
    assert client.get(f"/sessions/{sid}/orders").json()["data"]["items"] == []
    other = client.post(f"/sessions/{sid}/orders", json={**market, "symbol": "ETH_USDT"})
    assert other.status_code == 422 and other.json()["error_code"] == "order_rejected"

    world.silence("BTC/USDT", silent=False)
    priced = _wait(
        lambda: (r := client.post(f"/sessions/{sid}/orders", json=market)).status_code == 201 and r
    )
    order = priced.json()["data"]["order"]
    assert order["created_ts"] > 1_600_000_000_000_000  # market time, never the epoch
    client.post("/sessions/stop", json={"session_id": sid})
    records = [
        *client.get(f"/sessions/{sid}/orders").json()["data"]["items"],
        *client.get(f"/sessions/{sid}/fills").json()["data"]["items"],
        *client.get(f"/sessions/{sid}/equity").json()["data"]["items"],
        *client.get(f"/sessions/{sid}/events").json()["data"]["events"],
    ]
    assert records and all(
        not r.get(key, "").startswith("1970") for r in records for key in ("ts", "created_ts")
    )
