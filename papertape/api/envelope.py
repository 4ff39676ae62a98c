"""The one success envelope: ``{"status": "<what happened>", "data": {...}}``."""

from __future__ import annotations

from typing import Any


def ok(status: str, data: Any) -> dict[str, Any]:
    return {"status": status, "data": data}
