"""Example rule strategies, listed by ``GET /strategies`` and runnable by name. Each is a
``rules`` definition (see ``papertape.domain.rules``); a session may override any top-level field
through its ``params``."""

from __future__ import annotations

from typing import Any

RULE_EXAMPLES: dict[str, dict[str, Any]] = {
    "ema_trend": {
        "description": "EMA 12/26 trend following with an RSI filter, 2 % stop-loss, 5 % "
        "take-profit.",
        "definition": {
            "indicators": {
                "fast": {"type": "ema", "period": 12},
                "slow": {"type": "ema", "period": 26},
                "rsi": {"type": "rsi", "period": 14},
            },
            "entry": {
                "all": [
                    {"left": "fast", "op": "crosses_above", "right": "slow"},
                    {"not": {"left": "rsi", "op": ">", "right": 70}},
                ]
            },
            "exit": {"left": "fast", "op": "crosses_below", "right": "slow"},
            "direction": "long",
            "sizing": {"mode": "all_in"},
            "stop_loss_pct": 2,
            "take_profit_pct": 5,
        },
    },
    "bollinger_bounce": {
        "description": "Buys a close below the lower Bollinger band, exits at the middle band or "
        "on a 1.5 % trailing stop; waits 5 bars after each exit.",
        "definition": {
            "indicators": {"bb": {"type": "bollinger", "period": 20, "k": 2}},
            "entry": {"left": "close", "op": "<", "right": "bb.lower"},
            "exit": {"left": "close", "op": ">=", "right": "bb.middle"},
            "sizing": {"mode": "fraction", "value": 0.5},
            "trailing_stop_pct": 1.5,
            "cooldown_bars": 5,
        },
    },
    "macd_volume_momentum": {
        "description": "MACD above its signal line on a volume surge (2x), or RSI momentum "
        "above 60; exits when MACD falls below its signal.",
        "definition": {
            "indicators": {
                "macd": {"type": "macd", "fast": 12, "slow": 26, "signal": 9},
                "surge": {"type": "volume_surge", "period": 20},
                "rsi": {"type": "rsi", "period": 14},
            },
            "entry": {
                "any": [
                    {
                        "all": [
                            {"left": "macd", "op": ">", "right": "macd.signal"},
                            {"left": "surge", "op": ">=", "right": 2},
                        ]
                    },
                    {"left": "rsi", "op": "crosses_above", "right": 60},
                ]
            },
            "exit": {"left": "macd", "op": "crosses_below", "right": "macd.signal"},
            "stop_loss_pct": 3,
        },
    },
}
