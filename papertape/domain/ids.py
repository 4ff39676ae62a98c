"""Session ids keep the established form ``exec_YYYYMMDD_HHMMSS_<8 hex>`` (UTC)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

SESSION_ID_PATTERN = re.compile(r"^exec_\d{8}_\d{6}_[0-9a-f]{8}$")


def new_session_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"exec_{moment:%Y%m%d_%H%M%S}_{secrets.token_hex(4)}"


def is_session_id(text: str) -> bool:
    return bool(SESSION_ID_PATTERN.match(text))
