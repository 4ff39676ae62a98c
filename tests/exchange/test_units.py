"""Symbol mapping, backoff, trade-derived candles and the funding clock of mark streams: the pure
parts of the exchange adapter."""

from __future__ import annotations

import random

import pytest

from papertape.domain.funding import FundingRate
from papertape.domain.market import MICROS, Candle, MarkPrice, Trade
from papertape.market.exchange.backoff import Backoff
from papertape.market.exchange.candles import CandleBuilder
from papertape.market.exchange.credentials import Credentials, load_credentials, redact
from papertape.market.exchange.errors import CredentialsMissing
from papertape.market.exchange.marks import FundingClock, parse_mark
from papertape.market.exchange.symbols import canonical_markets, from_ccxt, market_type_of, to_ccxt
from tests.support.exchange_double import MARKETS


def test_canonical_to_ccxt_and_back():
    assert to_ccxt("BTC_USDT", "spot") == "BTC/USDT"
    assert to_ccxt("BTC_USDT", "swap") == "BTC/USDT:USDT"
    assert to_ccxt("eth-usdt", "swap") == "ETH/USDT:USDT"
    assert from_ccxt("BTC/USDT") == "BTC_USDT"
    assert from_ccxt("BTC/USDT:USDT") == "BTC_USDT"
    with pytest.raises(ValueError):
        to_ccxt("BTC_USDT", "future")


def test_market_types_and_canonical_listing():
    assert market_type_of(MARKETS["BTC/USDT"]) == "spot"
    assert market_type_of(MARKETS["BTC/USDT:USDT"]) == "swap"
    inverse = dict(MARKETS["BTC/USDT:USDT"], symbol="BTC/USD:BTC", settle="BTC", linear=False)
    assert market_type_of(inverse) is None
    assert sorted(canonical_markets(MARKETS, "swap")) == ["BTC_USDT", "ETH_USDT"]
    assert sorted(canonical_markets(MARKETS, "spot")) == ["BTC_USDT", "XRP_ETH"]


def test_backoff_grows_caps_jitters_and_resets():
    backoff = Backoff(initial=1, maximum=8, factor=2, jitter=0.5, rng=random.Random(1))
    delays = [backoff.next() for _ in range(6)]
    caps = [1, 2, 4, 8, 8, 8]
    assert all(cap * 0.5 <= d <= cap for d, cap in zip(delays, caps, strict=True))
    assert len(set(delays)) == len(delays)  # jittered, not lock-step
    backoff.reset()
    assert backoff.next() <= 1


def test_candles_close_on_next_interval_skip_the_partial_first_and_count_late_trades():
    builder = CandleBuilder(60)
    minute = 60 * MICROS
    t0 = 1_700_000_000 * MICROS - (1_700_000_000 * MICROS) % minute
    assert builder.add(Trade(t0 - 5, "BTC_USDT", 7.0, 1.0, "buy")) is None  # recording began here
    assert (
        builder.add(Trade(t0 + 1, "BTC_USDT", 10.0, 1.0, "buy")) is None
    )  # closes the partial bar
    assert builder.partial == 1
    assert builder.add(Trade(t0 + 2, "BTC_USDT", 12.0, 2.0, "sell")) is None
    assert builder.add(Trade(t0 + 3, "BTC_USDT", 9.0, 1.0, "buy")) is None
    bar = builder.add(
        Trade(t0 + 3 * minute, "BTC_USDT", 11.0, 1.0, "buy")
    )  # a minute without trades
    assert bar == Candle(t0, "BTC_USDT", 60, 10.0, 12.0, 9.0, 9.0, 4.0)
    assert builder.add(Trade(t0 + 5, "BTC_USDT", 1.0, 1.0, "buy")) is None
    assert builder.late == 1
    assert builder.add(Trade(t0 + 4 * minute, "BTC_USDT", 11.5, 1.0, "buy")).ts == t0 + 3 * minute


def test_credentials_from_env_and_file_never_shown(tmp_path):
    creds = load_credentials(
        "mexc", {"PAPERTAPE_MEXC_API_KEY": "k-123456", "PAPERTAPE_MEXC_SECRET": "s-abcdef"}
    )
    assert (
        "k-123456" not in repr(creds)
        and "s-abcdef" not in repr(creds)
        and "k-123456" not in str(creds)
    )
    secrets = tmp_path / "secrets.json"
    secrets.write_text('{"mexc": {"apiKey": "file-key-1", "secret": "file-secret-1"}}')
    from_file = load_credentials("mexc", {"PAPERTAPE_SECRETS_FILE": str(secrets)})
    assert from_file.ccxt_config() == {"apiKey": "file-key-1", "secret": "file-secret-1"}
    with pytest.raises(CredentialsMissing) as missing:
        load_credentials("binance", {"PAPERTAPE_SECRETS_FILE": str(secrets)})
    assert "file-key-1" not in missing.value.message


def test_redact_masks_keys_and_signatures():
    creds = Credentials("mexc", "AKEY123", "SSECRET456")
    text = "mexc GET https://api.mexc.com/api/v3/order?symbol=BTCUSDT&signature=deadbeef&apiKey=AKEY123 SSECRET456"
    clean = redact(text, creds.secrets())
    assert "AKEY123" not in clean and "SSECRET456" not in clean and "deadbeef" not in clean
    assert "symbol=BTCUSDT" in clean


def test_a_mark_ticker_gives_the_mark_and_the_funding_it_announces():
    ticker = {  # what ccxt makes of Binance's markPriceUpdate
        "timestamp": 1562305380000,
        "markPrice": 11794.15,
        "info": {
            "e": "markPriceUpdate",
            "p": "11794.15000000",
            "r": "0.00038167",
            "T": 1562306400000,
        },
    }
    assert parse_mark("BTC_USDT", ticker) == (
        MarkPrice(1562305380000000, "BTC_USDT", 11794.15),
        FundingRate(1562306400000000, "BTC_USDT", 0.00038167),
    )
    # an exchange whose mark stream carries no funding fields: the mark alone
    assert parse_mark("BTC_USDT", {**ticker, "info": {}})[1] is None


def test_the_funding_clock_hands_out_each_funding_once_the_data_passes_it():
    clock = FundingClock()
    clock.announce(FundingRate(100, "A", 0.0001))
    clock.announce(FundingRate(100, "A", 0.0002))  # a newer rate for the same time replaces it
    clock.announce(FundingRate(100, "B", -0.0003))
    at_100 = [MarkPrice(90, "A", 1.0), MarkPrice(100, "A", 1.1)]
    assert clock.weave(at_100) == at_100  # not passed yet: an event at the funding time is first
    later = [Trade(101, "B", 2.0, 1.0, "buy"), MarkPrice(102, "A", 1.2)]
    assert clock.weave(later) == [
        FundingRate(100, "A", 0.0002),
        FundingRate(100, "B", -0.0003),
        *later,
    ]
    clock.announce(FundingRate(100, "A", 0.0009))  # late news of a funding handed out: ignored
    assert clock.weave([MarkPrice(200, "A", 1.3)]) == [MarkPrice(200, "A", 1.3)]


def test_a_resumed_feed_does_not_pay_a_funding_again():
    clock = FundingClock(resume_after=100)
    clock.announce(FundingRate(100, "A", 0.0001))  # paid before the restart
    clock.announce(FundingRate(150, "A", 0.0002))
    assert clock.weave([MarkPrice(160, "A", 1.0)]) == [
        FundingRate(150, "A", 0.0002),
        MarkPrice(160, "A", 1.0),
    ]
