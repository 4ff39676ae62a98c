"""``sqlite_libraries``: a database file is open through one SQLite library at a time in a
process, counted by connection."""

from __future__ import annotations

import pytest

from papertape.store import sqlite_libraries
from papertape.store.sqlite_libraries import ADBC, SQLITE3, OtherLibraryOpen


def test_a_file_is_open_through_one_library_at_a_time(tmp_path):
    db = tmp_path / "a.db"
    sqlite_libraries.opened(db, SQLITE3)
    sqlite_libraries.opened(db, SQLITE3)
    assert sqlite_libraries.connections(db, SQLITE3) == 2
    with pytest.raises(OtherLibraryOpen, match="open through sqlite3"):
        sqlite_libraries.opened(db, ADBC)
    assert sqlite_libraries.connections(db, ADBC) == 0  # the refused one is not counted
    sqlite_libraries.closed(db, SQLITE3)
    with pytest.raises(OtherLibraryOpen):  # one connection is still open
        sqlite_libraries.opened(db, ADBC)
    sqlite_libraries.closed(db, SQLITE3)
    sqlite_libraries.opened(db, ADBC)  # none left: the other library may have it
    try:
        with pytest.raises(OtherLibraryOpen, match="open through adbc"):
            sqlite_libraries.opened(db, SQLITE3)
        sqlite_libraries.opened(tmp_path / "b.db", SQLITE3)  # another file is another matter
        sqlite_libraries.closed(tmp_path / "b.db", SQLITE3)
    finally:
        sqlite_libraries.closed(db, ADBC)
    assert sqlite_libraries.connections(db, ADBC) == 0


def test_one_file_by_any_of_its_names(tmp_path, monkeypatch):
    db = tmp_path / "a.db"
    (tmp_path / "link.db").symlink_to(db)
    monkeypatch.chdir(tmp_path)
    sqlite_libraries.opened(db, SQLITE3)
    try:
        for name in ("a.db", "./a.db", tmp_path / "link.db"):
            assert sqlite_libraries.connections(name, SQLITE3) == 1
            with pytest.raises(OtherLibraryOpen):
                sqlite_libraries.opened(name, ADBC)
    finally:
        sqlite_libraries.closed(db, SQLITE3)
