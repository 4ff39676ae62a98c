"""``papertape collect`` against a real server process whose exchange is the double, and
``papertape data download`` in-process with the double behind the process's hub."""

from __future__ import annotations

import httpx
import pytest
import typer
from typer.testing import CliRunner

from papertape.cli.collect import collect, parse_duration
from papertape.cli.download import data_download
from papertape.market.exchange import connector
from papertape.market.exchange.connector import ExchangeHub
from tests.support.exchange_double import DoubleWorld
from tests.support.server import double_server as serve_double


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("collect")(collect)
    app.command("download")(data_download)
    return app


@pytest.fixture(scope="module")
def double_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("srv")
    server = serve_double(
        f"sqlite:///{tmp_path / 'srv.db'}", tmp_path / "server.log", speed=5
    ).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_parse_duration():
    assert [parse_duration(t) for t in ("90", "90s", "15m", "1h", "2d", "1.5h")] == [
        90,
        90,
        900,
        3600,
        172800,
        5400,
    ]
    with pytest.raises(typer.BadParameter):
        parse_duration("soon")


@pytest.mark.slow
def test_collect_records_for_its_duration_and_shows_progress(double_server):
    result = CliRunner().invoke(
        _app(), ["collect", "--symbol", "BTC_USDT", "--duration", "3s", "--server", double_server]
    )
    assert result.exit_code == 0, result.output
    assert "collecting into exec_" in result.output
    assert "completed" in result.output or "stopped" in result.output
    session_id = result.output.split("collecting into ")[1].split()[0]
    detail = httpx.get(f"{double_server}/sessions/{session_id}").json()["data"]
    assert detail["state"] in ("completed", "stopped")
    written = detail["counters"]["rows_written"]
    assert written["trades"] > 0 and written["book"] > 0


def test_collect_reports_a_refused_start(double_server):
    result = CliRunner().invoke(
        _app(),
        [
            "collect",
            "--symbol",
            "BTC_USDT",
            "--duration",
            "1s",
            "--server",
            double_server,
            "--exchange",
            "nosuch",
        ],
    )
    assert result.exit_code == 1
    assert "unknown_exchange" in result.output


def test_download_command_fills_a_dataset(tmp_path):
    previous = connector.default_hub()
    connector.use_hub(ExchangeHub(DoubleWorld().factory))
    try:
        store = f"sqlite:///{tmp_path / 'dl.db'}"
        args = [
            "download",
            "--symbol",
            "BTC_USDT",
            "--timeframe",
            "1m",
            "--since",
            "2022-01-01",
            "--until",
            "2022-01-01T10:00",
            "--store",
            store,
        ]
        first = CliRunner().invoke(_app(), args)
        assert first.exit_code == 0, first.output
        assert "mexc_spot_BTC_USDT_1m" in first.output and "+600 bars" in first.output
        again = CliRunner().invoke(
            _app(), args[:-4] + ["--until", "2022-01-01T12:00", "--store", store]
        )
        assert (
            again.exit_code == 0
            and "+120 bars" in again.output
            and "continued from" in again.output
        )
        bad = CliRunner().invoke(
            _app(), ["download", "--symbol", "BTC_USDT", "--since", "yesterday", "--store", store]
        )
        assert bad.exit_code == 1 and "validation_error" in bad.output
    finally:
        connector.use_hub(previous)
