"""The engine inside real sessions (session service + SQLite store + replay source): a backtest
session gives the CLI's result, a paper session takes manual orders, a resumed session rebuilds its
portfolio from the stored fills, a kill switch stops the session naming its rule, and the HTTP
routes for strategies and orders."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from papertape.domain.config import SessionConfig
from papertape.domain.errors import OrderRejected, SessionNotRunning
from papertape.domain.orders import ManualOrder
from papertape.domain.session import SessionState
from papertape.engine.backtest import run_backtest
from papertape.engine.snapshot import thaw
from papertape.market.dataset_import import import_dataset
from papertape.market.importers import read_market_file
from papertape.sessions.consumers.trading import TradingConsumer
from papertape.sessions.reconcile import reconcile
from papertape.sessions.service import SessionService
from papertape.sessions.strategy_catalog import build_plan
from papertape.store.sqlite import SQLiteStore
from tests.support.data import MARKET_DATA

DATA = MARKET_DATA
CANDLES = DATA / "btc-perp_1m_2022-01.csv.gz"
TRADES = DATA / "binance_btcusdt_trades_2021-01-08.parquet"


@pytest.fixture
async def store(tmp_path):
    store = SQLiteStore(f"sqlite:///{tmp_path}/papertape.db")
    await store.open()
    await import_dataset(store, CANDLES, "btc_1m", symbol="BTC_USDT")
    await import_dataset(store, TRADES, "btc_trades", symbol="BTC_USDT")
    yield store
    await store.close()


async def wait_for(predicate, timeout=30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def ended(store, session_id):
    session = await store.get_session(session_id)
    return session.state.terminal


def config(**overrides) -> SessionConfig:
    body = {
        "mode": "backtest",
        "symbols": ["BTC_USDT"],
        "strategies": [{"name": "sma_cross", "params": {"fast": 10, "slow": 30}}],
        "market": {"source": "replay", "dataset": "btc_1m", "speed": 0},
        "fees": {"taker": 0.001, "maker": 0.001},
    }
    body.update(overrides)
    return SessionConfig.model_validate(body)


async def test_backtest_session_matches_the_cli_engine(store):
    service = SessionService(store)
    session, _ = await service.start(config())
    await wait_for(lambda: ended(store, session.session_id), timeout=120)
    session = await store.get_session(session.session_id)
    assert session.state is SessionState.COMPLETED
    fills = await store.list_fills(session.session_id)
    rows = read_market_file(CANDLES, symbol="BTC_USDT").rows
    direct = run_backtest(
        rows,
        ["BTC_USDT"],
        [build_plan("sma_cross", "sma_cross", {"fast": 10, "slow": 30})],
        taker=0.001,
    )
    assert len(fills) == direct.metrics["fills"] > 1_000
    assert [(f.ts, f.side, f.price) for f in fills] == [
        (f.ts, f.side, f.price) for f in direct.engine.record.fills
    ]
    events = await store.list_events(session.session_id, limit=100_000)
    [results] = [e for e in events if e.kind == "results"]
    assert results.data["trades"] == direct.metrics["trades"]
    assert results.data["final_equity"] == pytest.approx(direct.metrics["final_equity"])
    kinds = {e.kind for e in events}
    assert {"order", "fill", "position", "trade_closed"} <= kinds
    equity = await store.list_equity(session.session_id)
    assert equity and equity[-1].equity == pytest.approx(direct.metrics["final_equity"])
    await service.shutdown()


async def test_paper_session_without_strategies_takes_manual_orders_and_resumes(store):
    service = SessionService(store)
    body = {
        "mode": "paper",
        "strategies": [],
        "market": {"source": "replay", "dataset": "btc_trades", "speed": 1},
    }
    session, _ = await service.start(config(**body))
    sid = session.session_id
    consumer = service.running_consumer(sid, TradingConsumer)
    await wait_for(lambda: _has_price(consumer))
    order = await consumer.place_manual_order(ManualOrder("BTC_USDT", "buy", "market", 0.05))
    with pytest.raises(OrderRejected, match="insufficient_position"):
        await consumer.place_manual_order(ManualOrder("BTC_USDT", "sell", "market", 1.0))
    await wait_for(lambda: _filled(store, sid))
    [fill] = await store.list_fills(sid)
    assert fill.order_id == order.order_id and fill.qty == 0.05
    assert fill.fee == pytest.approx(0.05 * fill.price * 0.001)
    detail = service.runtime(sid)
    assert detail["positions"][0]["qty"] == 0.05
    await asyncio.sleep(2.2)  # let a checkpoint be written after the fill
    await service.shutdown()  # a server restart: the paper session is suspended, not stopped

    second = SessionService(store)
    report = await reconcile(second)
    assert sid in report["resumed"]
    resumed = second.running_consumer(sid, TradingConsumer)
    assert resumed.resumed_fills == 1
    portfolio = resumed.engine.portfolio
    assert portfolio.qty("BTC_USDT") == 0.05
    assert portfolio.cash == pytest.approx(10_000 - 0.05 * fill.price - fill.fee)
    await wait_for(lambda: _has_price(resumed))  # orders wait for the resumed feed's first price
    follow_up = await resumed.place_manual_order(ManualOrder("BTC_USDT", "sell", "market", 0.05))
    assert follow_up.order_id != order.order_id
    resting = await resumed.place_manual_order(
        ManualOrder("BTC_USDT", "buy", "limit", 0.01, price=1.0)
    )
    await second.stop(sid)
    final = {o.order_id: o for o in await store.list_orders(sid)}
    assert final[resting.order_id].status == "cancelled"
    assert final[resting.order_id].reason == "session_cancelled"
    with pytest.raises(SessionNotRunning):
        second.running_consumer(sid, TradingConsumer)
    await second.shutdown()


async def _has_price(consumer):
    return consumer.engine is not None and consumer.engine.state["BTC_USDT"].price is not None


async def _filled(store, sid):
    return bool(await store.list_fills(sid))


async def test_commits_land_in_the_order_the_engine_made_them(store):
    """Manual orders racing each other and the session's own batches: once every order call has
    returned, the state a crash would resume from has every one of them (a commit made earlier but
    written later must never become the newest). Commits are slowed down to widen the races."""
    direct = store.commit

    async def slow_commit(step):
        await asyncio.sleep(0.02)
        return await direct(step)

    store.commit = slow_commit
    service = SessionService(store)
    session, _ = await service.start(
        config(mode="paper", market={"source": "replay", "dataset": "btc_1m", "speed": 20_000})
    )
    sid = session.session_id
    consumer = service.running_consumer(sid, TradingConsumer)
    await wait_for(lambda: _has_price(consumer))
    for _ in range(5):
        placed = await asyncio.gather(  # limit buys far below the market: they rest
            *(
                consumer.place_manual_order(
                    ManualOrder("BTC_USDT", "buy", "limit", 0.001, price=1_000.0)
                )
                for _ in range(8)
            )
        )
        state = await store.resume_state(sid)
        thawed = thaw(
            state.engine,
            await store.list_fills(sid),
            await store.list_orders(sid),
            [],
            sid,
        )
        assert {o.order_id for o in placed} <= set(thawed.venue.orders)
    await service.stop(sid)


async def test_kill_switch_stops_the_session_with_the_rule(store):
    service = SessionService(store)
    session, _ = await service.start(
        config(
            strategies=[{"name": "sma_cross", "params": {"fast": 2, "slow": 3}}],
            risk={"max_drawdown_pct": 1},
        )
    )
    await wait_for(lambda: ended(store, session.session_id), timeout=120)
    session = await store.get_session(session.session_id)
    assert session.state is SessionState.STOPPED
    assert session.stop_reason == "max_drawdown"
    events = await store.list_events(session.session_id, limit=100_000)
    kills = [e for e in events if e.kind == "risk" and e.data.get("action") == "kill"]
    assert len(kills) == 1 and kills[0].data["rule"] == "max_drawdown"
    positions = await store.list_positions(session.session_id)
    assert all(p.qty == 0 for p in positions)
    await service.shutdown()


async def test_a_swap_session_is_liquidated_by_its_margin_rules(store):
    """sma_cross at 50× on the perpetual's minutes with one 1 % bracket, closed at the
    liquidation price with a 0.1 % fee: the session stops on the liquidation, and the close
    leaves the maintenance margin less the fee, 0.9 % of the closed notional."""
    service = SessionService(store)
    row = {"minNotional": 0, "maxNotional": None, "maintenanceMarginRate": 0.01}
    session, _ = await service.start(
        config(
            market={"source": "replay", "dataset": "btc_1m", "speed": 0, "market_type": "swap"},
            leverage=50,
            fees={"taker": 0.0, "maker": 0.0},
            margin={
                "tiers": {"BTC_USDT": [row]},
                "liquidation_fee": 0.001,
                "liquidation_close": "liquidation",
            },
        )
    )
    await wait_for(lambda: ended(store, session.session_id), timeout=120)
    session = await store.get_session(session.session_id)
    assert session.state is SessionState.STOPPED and session.stop_reason == "liquidation"
    events = await store.list_events(session.session_id, limit=100_000)
    [liquidation] = [e.data for e in events if e.data.get("action") == "liquidation"]
    assert liquidation["close_at"] == "liquidation"
    last = (await store.list_fills(session.session_id))[-1]
    assert last.price == pytest.approx(liquidation["price"])
    assert last.fee == pytest.approx(0.001 * last.qty * last.price)
    equity = await store.list_equity(session.session_id)
    assert equity[-1].equity == pytest.approx(0.009 * last.qty * last.price)
    await service.shutdown()


async def test_http_strategies_and_orders(store, tmp_path):
    from papertape.api.app import AppSettings, create_app

    app = create_app(AppSettings(store_url=f"sqlite:///{tmp_path}/papertape.db"))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            listed = (await http.get("/strategies")).json()["data"]["strategies"]
            names = {s["name"] for s in listed}
            assert {"sma_cross", "rsi_reversion", "breakout", "rules", "ema_trend"} <= names
            sma = next(s for s in listed if s["name"] == "sma_cross")
            assert sma["params_schema"]["properties"]["fast"]["default"] == 10

            rule = {
                "name": "my_rule",
                "base": "rules",
                "params": {
                    "indicators": {"rsi": {"type": "rsi", "period": 14}},
                    "entry": {"left": "rsi", "op": "<", "right": 30},
                    "exit": {"left": "rsi", "op": ">", "right": 60},
                },
            }
            saved = await http.post("/strategies", json=rule)
            assert saved.status_code == 201 and saved.json()["status"] == "strategy_saved"
            bad = await http.post("/strategies", json={**rule, "params": {"entry": {}}})
            assert bad.status_code == 422
            assert bad.json()["error_code"] == "invalid_strategy_params"
            listed = (await http.get("/strategies")).json()["data"]["strategies"]
            assert any(s["name"] == "my_rule" and s["kind"] == "saved" for s in listed)

            started = await http.post(
                "/sessions/start",
                json={
                    "mode": "paper",
                    "symbols": ["BTC_USDT"],
                    "strategies": ["my_rule"],
                    "market": {"source": "replay", "dataset": "btc_trades", "speed": 1},
                },
            )
            assert started.status_code == 201, started.text
            sid = started.json()["data"]["session_id"]
            await asyncio.sleep(0.5)
            placed = await http.post(
                f"/sessions/{sid}/orders",
                json={
                    "symbol": "BTC_USDT",
                    "side": "buy",
                    "type": "limit",
                    "qty": 0.01,
                    "price": 30_000,
                },
            )
            assert placed.status_code == 201, placed.text
            assert placed.json()["data"]["order"]["status"] == "open"
            resting = placed.json()["data"]["order"]["order_id"]
            marketable = {"symbol": "BTC_USDT", "side": "buy", "type": "limit", "qty": 0.01}
            taken = await http.post(f"/sessions/{sid}/orders", json={**marketable, "price": 1e6})
            assert taken.status_code == 201, taken.text
            taken_id = taken.json()["data"]["order"]["order_id"]

            async def statuses(query: str = "") -> dict[str, str]:
                page = (await http.get(f"/sessions/{sid}/orders{query}")).json()["data"]
                return {o["order_id"]: o["status"] for o in page["items"]}

            for _ in range(100):  # the replay's next trade fills the marketable one
                if (await statuses()).get(taken_id) == "filled":
                    break
                await asyncio.sleep(0.1)
            assert await statuses() == {resting: "open", taken_id: "filled"}
            assert await statuses("?open=true") == {resting: "open"}  # the working ones only
            refused = await http.post(
                f"/sessions/{sid}/orders", json={"symbol": "BTC_USDT", "side": "sell", "qty": 5}
            )
            assert refused.status_code == 422
            assert refused.json()["error_code"] == "order_rejected"
            unknown = await http.post(
                "/sessions/exec_20200101_000000_deadbeef/orders",
                json={"symbol": "BTC_USDT", "side": "buy", "qty": 1},
            )
            assert unknown.status_code == 404
            bad_strategy = await http.post(
                "/sessions/start",
                json={
                    "mode": "paper",
                    "symbols": ["BTC_USDT"],
                    "strategies": [{"name": "sma_cross", "params": {"fast": 50, "slow": 10}}],
                },
            )
            assert bad_strategy.status_code == 422
            assert bad_strategy.json()["error_code"] == "invalid_strategy_params"
            assert (await http.post(f"/sessions/{sid}/stop")).status_code == 200
            after = await http.post(
                f"/sessions/{sid}/orders", json={"symbol": "BTC_USDT", "side": "buy", "qty": 0.01}
            )
            assert after.status_code == 409
            backtest = await http.post(
                "/sessions/start",
                json={
                    "mode": "backtest",
                    "symbols": ["BTC_USDT"],
                    "strategies": ["my_rule"],
                    "market": {"source": "replay", "dataset": "btc_trades"},
                },
            )
            assert backtest.status_code == 201, backtest.text
            bid = backtest.json()["data"]["session_id"]
            to_backtest = await http.post(
                f"/sessions/{bid}/orders", json={"symbol": "BTC_USDT", "side": "buy", "qty": 0.01}
            )
            # whether it still runs or not: a backtest replays its strategy's decisions only
            assert to_backtest.status_code == 409
            assert (
                "only paper and live sessions take manual orders" in to_backtest.json()["message"]
            )


async def test_import_dataset_files_rows_and_refuses_a_second_import(store):
    dataset = await store.get_dataset("btc_1m")
    assert dataset.kind == "candles" and dataset.rows == 45_031 and dataset.interval == 60
    assert dataset.symbols == ("BTC_USDT",) and dataset.origin == CANDLES.name
    assert dataset.start_ts == 1_640_991_660_000_000
    rows = await store.read_candles("btc_1m", ["BTC_USDT"], dataset.start_ts, dataset.end_ts + 1)
    assert len(rows) == 45_031 and rows[0] == read_market_file(CANDLES, symbol="BTC_USDT").rows[0]
    from papertape.domain.errors import DatasetExists

    with pytest.raises(DatasetExists):
        await import_dataset(store, CANDLES, "btc_1m", symbol="BTC_USDT")


def test_cli_backtest_over_a_stored_dataset(tmp_path):
    import json

    import typer
    from typer.testing import CliRunner

    from papertape.cli.backtest import backtest

    async def prepare():
        s = SQLiteStore(f"sqlite:///{tmp_path}/cli.db")
        await s.open()
        await import_dataset(s, CANDLES, "btc_1m", symbol="BTC_USDT")
        await s.close()

    asyncio.run(prepare())
    app = typer.Typer()
    app.command()(backtest)
    args = [
        "--symbol",
        "BTC_USDT",
        "--strategy",
        "sma_cross",
        "--json",
        "--store",
        f"sqlite:///{tmp_path}/cli.db",
    ]
    from_store = CliRunner().invoke(app, ["--dataset", "btc_1m", *args])
    from_file = CliRunner().invoke(app, ["--data", str(CANDLES), *args])
    assert from_store.exit_code == 0 and from_file.exit_code == 0, from_store.output
    assert json.loads(from_store.stdout) == json.loads(from_file.stdout)
