"""Datasets streamed from the store in chunks give exactly the backtest of the rows in memory."""

from __future__ import annotations

import json
from pathlib import Path

from papertape.domain.numbers import finite
from papertape.engine.backtest import run_backtest, run_backtest_stream
from papertape.research.data import DataSpec, dataset_chunks, load_rows
from tests.api.test_lifecycle_http import import_dataset
from tests.cli.test_cli import papertape
from tests.research.test_search import build

PARAMS = {"fast": 10, "slow": 30}


def test_a_streamed_dataset_backtests_exactly_as_in_memory(
    any_store_url: str, candles_file: Path
) -> None:
    import_dataset(any_store_url, "btc_1m", candles_file, "BTC_USDT")
    rows = load_rows(DataSpec("BTC_USDT", file=str(candles_file)))
    total, chunks = dataset_chunks(any_store_url, "btc_1m", "BTC_USDT", target_rows=700)
    sizes: list[int] = []

    def counted():  # the chunks, remembering their sizes
        for chunk in chunks:
            sizes.append(len(chunk))
            yield chunk

    streamed = run_backtest_stream(counted(), ["BTC_USDT"], [build(PARAMS)])
    whole = run_backtest(rows, ["BTC_USDT"], [build(PARAMS)])
    assert total == sum(sizes) == len(rows)
    assert len(sizes) >= 5 and max(sizes) < 1_000  # really in chunks, none of them the whole
    assert streamed.metrics == whole.metrics
    assert streamed.trades == whole.trades

    cli = papertape(
        "backtest", "--dataset", "btc_1m", "--store", any_store_url, "--symbol", "BTC_USDT",
        "--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=30", "--json",
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["metrics"] == finite(whole.metrics)
