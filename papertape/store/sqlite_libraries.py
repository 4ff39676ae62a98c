"""One SQLite library per database file in a process.

Two SQLite libraries can reach a store's file from this process: Python's ``sqlite3`` (the
system's libsqlite3) and the copy the ADBC driver links into itself (``sqlite_arrow``). SQLite
coordinates the connections of one library inside a process through tables of its own, and
processes through POSIX locks, which belong to the process, not to a connection. Two libraries
in one process therefore see each other as neither: each takes the other's locks for its own,
so one can rebuild the WAL index the other has mapped (CI saw the server killed by SIGBUS in an
ADBC read beside a ``sqlite3`` read), and closing a file through one drops the other's locks on
it (a write lock lost in the middle of a transaction lets a writer of another process in).

So in a process a file is open through one library at a time: each connection is counted here
from its opening to its close, and a connection through the other library is refused while
any is open.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

SQLITE3 = "sqlite3"
ADBC = "adbc"

_lock = threading.Lock()
_open: dict[str, tuple[str, int]] = {}  # a file's real path: its library, connections open


class OtherLibraryOpen(RuntimeError):
    """The file is open through the other SQLite library in this process."""


def opened(path: Path | str, library: str) -> None:
    """Count a connection to ``path`` through ``library``, about to be made; raises
    ``OtherLibraryOpen`` (counting nothing) while the other library has the file open."""
    key = os.path.realpath(path)
    with _lock:
        held, count = _open.get(key, (library, 0))
        if held != library:
            raise OtherLibraryOpen(
                f"{path} is open through {held} in this process, so it cannot be opened through "
                f"{library} as well: two SQLite libraries in one process break each other's locks"
            )
        _open[key] = (library, count + 1)


def closed(path: Path | str, library: str) -> None:
    """Count a connection to ``path`` through ``library`` closed (or never made)."""
    key = os.path.realpath(path)
    with _lock:
        held, count = _open[key]
        assert held == library, (key, held, library)
        if count > 1:
            _open[key] = (library, count - 1)
        else:
            del _open[key]


def connections(path: Path | str, library: str) -> int:
    """How many connections to ``path`` through ``library`` this process has open."""
    with _lock:
        held, count = _open.get(os.path.realpath(path), (library, 0))
        return count if held == library else 0
