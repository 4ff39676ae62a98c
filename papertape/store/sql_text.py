"""Values written into SQL text, for the reads that cannot bind parameters: QuestDB's HTTP
export (``/exp``) and the ADBC SQLite reads (binding would build an Arrow array from Python
values, and that conversion imports pandas: ~0.9 s holding the interpreter)."""

from __future__ import annotations

import operator


def literal(text: str) -> str:
    """``text`` as an SQL string literal: quoted, every ``'`` doubled; control characters are
    refused."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise ValueError(f"a control character in {text!r}")
    return "'" + text.replace("'", "''") + "'"


def integer(value: int) -> str:
    """``value`` as an SQL integer; anything but an integer is refused (``TypeError``)."""
    return str(operator.index(value))
