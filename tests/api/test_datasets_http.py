"""Datasets over real HTTP on both stores: upload, list, refuse bad files and names, chart."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import module_server, shared_file
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def server(
    module_store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    yield from module_server(module_store_url, tmp_path_factory)


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def upload(http: httpx.Client, file_name: str, name: str, **form: str) -> httpx.Response:
    path = shared_file(file_name)
    with path.open("rb") as handle:
        return http.post(
            "/datasets", data={"name": name, **form}, files={"file": (path.name, handle)}
        )


def test_upload_candles_then_list_and_chart(http: httpx.Client) -> None:
    response = upload(http, "btc-perp_1m_2022-01.csv.gz", "perp_1m", symbol="BTC_USDT")
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["kind"] == "candles" and data["interval"] == 60
    assert data["rows"] == 45_031 and data["symbols"] == ["BTC_USDT"]
    assert data["start"].startswith("2021-12-31T23:01") and data["origin"].endswith(".csv.gz")
    listed = http.get("/datasets").json()["data"]["datasets"]
    assert "perp_1m" in [d["name"] for d in listed]
    assert http.get("/datasets/perp_1m").json()["data"]["rows"] == 45_031
    chart = http.get("/data/perp_1m/candles", params={"symbol": "btc-usdt", "interval": 60})
    bars = chart.json()["data"]["items"]
    assert len(bars) == 5_000  # the last 5,000 bars
    assert [b["time"] for b in bars] == sorted(b["time"] for b in bars)
    assert all(
        b["low"] <= min(b["open"], b["close"]) <= max(b["open"], b["close"]) <= b["high"]
        for b in bars
    )


def test_trades_chart_is_built_from_the_prints(http: httpx.Client) -> None:
    assert (
        upload(
            http, "binance_btcusdt_trades_2021-01-08.parquet", "btc_ticks", symbol="BTC_USDT"
        ).status_code
        == 201
    )
    bars = http.get(
        "/data/btc_ticks/candles", params={"symbol": "BTC_USDT", "interval": 10}
    ).json()["data"]["items"]
    assert 4 <= len(bars) <= 5  # ~40 s of trades in 10 s bars
    assert all(b["volume"] > 0 for b in bars)


def test_duplicate_names_bad_names_and_bad_files_are_refused(http: httpx.Client) -> None:
    no_symbol = upload(http, "binance_xrpeth_trades.json.gz", "xrp")
    assert no_symbol.status_code == 422  # the file does not say which pair it is
    assert no_symbol.json()["error_code"] == "invalid_data_file"
    # the form field to change, and the user's own file name (not the server's temp file)
    assert no_symbol.json()["details"][0]["field"] == "symbol"
    assert no_symbol.json()["message"].startswith("binance_xrpeth_trades.json.gz: ")
    assert upload(http, "binance_xrpeth_trades.json.gz", "xrp", symbol="XRP_ETH").status_code == 201
    again = upload(http, "binance_xrpeth_trades.json.gz", "xrp", symbol="XRP_ETH")
    assert again.status_code == 409 and again.json()["error_code"] == "dataset_exists"
    bad_name = upload(http, "binance_xrpeth_trades.json.gz", "../etc/passwd", symbol="XRP_ETH")
    assert bad_name.status_code == 422 and bad_name.json()["details"][0]["field"] == "name"
    garbage = http.post(
        "/datasets",
        data={"name": "garbage"},
        files={"file": ("x.csv", b"\x00\x01 not market data")},
    )
    assert garbage.status_code == 422
    assert garbage.json()["error_code"] == "invalid_data_file"
    assert "garbage" not in [d["name"] for d in http.get("/datasets").json()["data"]["datasets"]]


def test_unknown_dataset_and_source_are_404(http: httpx.Client) -> None:
    assert http.get("/datasets/nope").json()["error_code"] == "dataset_not_found"
    response = http.get("/data/nope/candles", params={"symbol": "BTC_USDT"})
    assert response.status_code == 404


def test_upload_errors_name_the_uploaded_file_and_the_field(http: httpx.Client) -> None:
    bad_price = b"timestamp,price,qty,side\n1700000000,abc,1,buy\n"
    response = http.post(
        "/datasets", data={"name": "bad_prices"}, files={"file": ("my_ticks.csv", bad_price)}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith("my_ticks.csv: column 'price'"), body["message"]
    assert "tmp" not in body["message"]
    assert body["details"] == [{"field": "file", "message": body["message"]}]
    bad_symbol = http.post(
        "/datasets",
        data={"name": "bad_symbol", "symbol": "???"},
        files={"file": ("ticks.csv", b"timestamp,price,qty\n1700000000,1,1\n")},
    )
    assert bad_symbol.status_code == 422
    assert bad_symbol.json()["details"][0]["field"] == "symbol"
    assert bad_symbol.json()["message"].startswith("ticks.csv: ")


@pytest.mark.parametrize(
    ("uploaded", "stored"),
    [
        ("../../../../tmp/x.csv", "x.csv"),
        ("C:\\Users\\me\\Downloads\\ticks.csv", "ticks.csv"),
        ("<img src=x onerror=alert(1)>.csv", "img src_x onerror_alert_1_.csv"),
        ("..", "upload"),
    ],
)
def test_the_stored_origin_is_the_sanitised_base_name(
    http: httpx.Client, uploaded: str, stored: str
) -> None:
    name = f"origin_{abs(hash(uploaded)) % 10**8}"
    trades = b"timestamp,price,qty,side\n1700000000,10,1,buy\n1700000001,11,2,sell\n"
    response = http.post(
        "/datasets", data={"name": name, "symbol": "BTC_USDT"}, files={"file": (uploaded, trades)}
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["origin"] == stored
    assert http.get(f"/datasets/{name}").json()["data"]["origin"] == stored


def test_trades_without_a_side_import_with_the_side_unknown(http: httpx.Client) -> None:
    trades = b"timestamp,price,qty\n1700000000,10,1\n1700000001,11,2\n1700000061,12,1\n"
    response = http.post(
        "/datasets",
        data={"name": "sideless", "symbol": "BTC_USDT"},
        files={"file": ("sideless.csv", trades)},
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["kind"] == "trades" and response.json()["data"]["rows"] == 3
    bars = http.get("/data/sideless/candles", params={"symbol": "BTC_USDT"}).json()["data"]
    assert [(b["open"], b["close"], b["volume"]) for b in bars["items"]] == [
        (10, 11, 3),
        (12, 12, 1),
    ]
