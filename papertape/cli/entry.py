"""The ``papertape`` command's entry point, light on purpose.

Engine workers (backtests, sweeps) are started by multiprocessing's fork server, and each one
imports the script that started the server again (``.venv/bin/papertape`` runs as
``__mp_main__`` in the child). That script imports only this module; the CLI itself (typer,
rich, every command) is imported when the command runs, in the server, not in every worker:
importing it cost each backtest's start ~0.3 s on an idle machine and over a second on a loaded
one.
"""

from __future__ import annotations


def main() -> None:
    from papertape.cli.main import app

    app(prog_name="papertape")
