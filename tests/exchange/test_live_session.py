"""A ``live`` session end to end through the real app: keys from the environment, manual orders
on the exchange double, fills on the tape, open orders cancelled at stop; missing keys refused."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from papertape.market.exchange import connector
from tests.support.serve_with_double import build_app

LIVE = {"mode": "live", "symbols": ["BTC_USDT"], "strategies": []}


@pytest.fixture
def live_app(tmp_path, monkeypatch):
    monkeypatch.delenv("PAPERTAPE_SECRETS_FILE", raising=False)
    previous = connector.default_hub()
    app, world = build_app(f"sqlite:///{tmp_path}/live.db", speed=20, live_enabled=True)
    try:
        with TestClient(app, base_url="http://localhost") as client:
            yield client, world, monkeypatch
    finally:
        connector.use_hub(previous)


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return result


def test_live_session_without_keys_fails_to_start_with_a_clear_code(live_app):
    client, _, monkeypatch = live_app
    monkeypatch.delenv("PAPERTAPE_MEXC_API_KEY", raising=False)
    monkeypatch.delenv("PAPERTAPE_MEXC_SECRET", raising=False)
    response = client.post("/sessions/start", json=LIVE)
    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "exchange_credentials_missing"
    assert "PAPERTAPE_MEXC_API_KEY" in body["message"]
    assert client.get("/sessions").json()["data"]["total"] == 0  # refused before it existed


def test_live_session_places_tracks_and_cancels_orders(live_app):
    client, world, monkeypatch = live_app
    monkeypatch.setenv("PAPERTAPE_MEXC_API_KEY", "double-key")
    monkeypatch.setenv("PAPERTAPE_MEXC_SECRET", "double-secret")
    started = client.post("/sessions/start", json=LIVE)
    assert started.status_code == 201, started.text
    sid = started.json()["data"]["session_id"]
    detail = client.get(f"/sessions/{sid}").json()["data"]
    assert detail["counters"]["live"]["exchange"] == "reachable"
    assert detail["counters"]["live"]["balances"]["USDT"]["total"] == 100_000.0

    bought = client.post(
        f"/sessions/{sid}/orders",
        json={"symbol": "BTC_USDT", "side": "buy", "type": "market", "qty": 0.02},
    )
    assert bought.status_code == 201, bought.text
    resting = client.post(
        f"/sessions/{sid}/orders",
        json={"symbol": "BTC_USDT", "side": "buy", "type": "limit", "qty": 0.01, "price": 1000.0},
    )
    assert resting.status_code == 201
    refused = client.post(
        f"/sessions/{sid}/orders",
        json={"symbol": "BTC_USDT", "side": "buy", "type": "market", "qty": 50},
    )
    assert refused.status_code == 422 and refused.json()["error_code"] == "order_rejected"
    assert "InsufficientFunds" in refused.json()["message"]

    fills = _wait(
        lambda: (
            (f := client.get(f"/sessions/{sid}/fills").json()["data"]["items"])
            and sum(x["qty"] for x in f) >= 0.02 - 1e-12
            and f
        )
    )
    assert all(30_000 < f["price"] < 50_000 for f in fills)  # the recorded day's real prices

    stopped = client.post("/sessions/stop", json={"session_id": sid})
    assert stopped.status_code == 200
    statuses = {o["client_order_id"]: o["status"] for o in world_orders(world)}
    assert sorted(statuses.values()) == ["canceled", "closed"]  # the resting one was cancelled
    orders = client.get(f"/sessions/{sid}/orders").json()["data"]["items"]
    assert sorted(o["status"] for o in orders) == ["cancelled", "filled", "rejected"]
    events = client.get(f"/sessions/{sid}/events").json()["data"]["events"]
    assert [e["data"]["status"] for e in events if e["kind"] == "order"][-1] == "cancelled"
    assert any(e["kind"] == "reconciliation" for e in events)
    assert "double-secret" not in str(events) and "double-key" not in str(events)


def world_orders(world):
    return [
        {"client_order_id": o.client_order_id, "status": o.status} for o in world.orders.values()
    ]


def test_an_outage_keeps_the_live_session_running_and_reconciles_after_it(live_app):
    client, world, monkeypatch = live_app
    monkeypatch.setenv("PAPERTAPE_MEXC_API_KEY", "double-key")
    monkeypatch.setenv("PAPERTAPE_MEXC_SECRET", "double-secret")
    sid = client.post("/sessions/start", json=LIVE).json()["data"]["session_id"]
    placed = client.post(
        f"/sessions/{sid}/orders",
        json={"symbol": "BTC_USDT", "side": "buy", "type": "limit", "qty": 0.01, "price": 1000.0},
    )
    assert placed.status_code == 201
    world.set_unreachable("connection reset by peer")
    live = _wait(
        lambda: (
            (d := client.get(f"/sessions/{sid}").json()["data"])["counters"]["live"]["exchange"]
            != "reachable"
            and d
        )
    )
    assert live["state"] == "running"
    assert live["counters"]["live"]["exchange"].startswith("unreachable: mexc unreachable")
    world.set_unreachable(None)

    def reconciled_twice():
        events = client.get(f"/sessions/{sid}/events").json()["data"]["events"]
        return sum(e["kind"] == "reconciliation" for e in events) >= 2

    _wait(reconciled_twice)
    assert client.get(f"/sessions/{sid}").json()["data"]["counters"]["live"]["open_orders"] == 1
    assert client.post("/sessions/stop", json={"session_id": sid}).status_code == 200


def test_a_strategy_trades_live_through_the_exchange(live_app):
    """Same strategy, same engine as paper trading; only the venue differs: the orders are on the
    exchange (the double), the fills come back from it into the portfolio."""
    client, world, monkeypatch = live_app
    monkeypatch.setenv("PAPERTAPE_MEXC_API_KEY", "double-key")
    monkeypatch.setenv("PAPERTAPE_MEXC_SECRET", "double-secret")
    body = {
        **LIVE,
        "strategies": [{"name": "sma_cross", "params": {"bar_interval": 1, "fast": 2, "slow": 4}}],
        "cash": 1_000,
    }
    started = client.post("/sessions/start", json=body)
    assert started.status_code == 201, started.text
    sid = started.json()["data"]["session_id"]
    fills = _wait(lambda: client.get(f"/sessions/{sid}/fills").json()["data"]["items"], timeout=30)
    assert world.orders, "the strategy's orders reached the exchange"
    sent = {o.client_order_id for o in world.orders.values()}
    assert all(cid.startswith("pt") for cid in sent)
    exchange_fills = sum(len(o.trades) for o in world.orders.values())
    assert exchange_fills >= 1 and all(30_000 < f["price"] < 50_000 for f in fills)
    detail = client.get(f"/sessions/{sid}").json()["data"]
    assert detail["counters"]["positions"] or detail["metrics"]
    assert client.post("/sessions/stop", json={"session_id": sid}).status_code == 200
    assert not [o for o in world.orders.values() if o.status == "open"]  # nothing left working
