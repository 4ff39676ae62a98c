"""API keys for live trading, and keeping them out of every text papertape produces.

Keys come from the environment (``PAPERTAPE_<EXCHANGE>_API_KEY``, ``..._SECRET``, optionally
``..._PASSWORD`` for exchanges that need a passphrase) or from a JSON secrets file named by
``PAPERTAPE_SECRETS_FILE`` (``{"mexc": {"apiKey": "...", "secret": "..."}}``). The environment
wins. ``Credentials`` never shows its values in ``repr``/``str``; ``redact`` scrubs them (and
anything that looks like a request signature) from exchange error messages before those reach a
log, an error response or the store.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from papertape.market.exchange.errors import CredentialsMissing

SECRETS_FILE_ENV = "PAPERTAPE_SECRETS_FILE"
_SIGNATURE = re.compile(
    r"(?i)(signature|sign|apikey|api_key|secret|passphrase|password)=[^&\s\"']+"
)


@dataclass(frozen=True, slots=True)
class Credentials:
    exchange_id: str
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    password: str | None = field(default=None, repr=False)

    def ccxt_config(self) -> dict[str, str]:
        config = {"apiKey": self.api_key, "secret": self.secret}
        if self.password:
            config["password"] = self.password
        return config

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.api_key, self.secret, self.password) if s)

    def __str__(self) -> str:
        return f"Credentials({self.exchange_id}, api_key=***)"


def load_credentials(exchange_id: str, env: Mapping[str, str] | None = None) -> Credentials:
    """The keys for ``exchange_id``, or ``CredentialsMissing`` naming where they were looked for
    (never what was found)."""
    env = os.environ if env is None else env
    prefix = f"PAPERTAPE_{exchange_id.upper()}_"
    key, secret = env.get(prefix + "API_KEY"), env.get(prefix + "SECRET")
    password = env.get(prefix + "PASSWORD")
    if key and secret:
        return Credentials(exchange_id, key, secret, password)
    path = env.get(SECRETS_FILE_ENV)
    if path:
        entry = _from_file(Path(path), exchange_id)
        if entry:
            return entry
    raise CredentialsMissing(
        f"no API keys for {exchange_id}: set {prefix}API_KEY and {prefix}SECRET, or name a "
        f"secrets file in {SECRETS_FILE_ENV}",
        details=[{"field": "market.exchange", "message": "no API keys configured"}],
    )


def _from_file(path: Path, exchange_id: str) -> Credentials | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        # The message names the file and the failure kind only: a parse error can quote content.
        raise CredentialsMissing(
            f"secrets file {path} cannot be read as JSON ({type(exc).__name__})"
        ) from None
    entry = data.get(exchange_id) if isinstance(data, dict) else None
    if not isinstance(entry, dict) or not entry.get("apiKey") or not entry.get("secret"):
        return None
    return Credentials(exchange_id, entry["apiKey"], entry["secret"], entry.get("password"))


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every known secret and every ``signature=…``-like query value masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _SIGNATURE.sub(lambda m: f"{m.group(1)}=***", text)
