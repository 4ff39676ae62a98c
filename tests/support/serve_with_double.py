"""Serve the real papertape app with the recorded-data exchange double as its exchange:
``python -m tests.support.serve_with_double --port P --store URL [--speed S]``.

The double goes in through the same seam production uses (the process's ``ExchangeHub`` and its
exchange factory); everything else is the app a user gets from ``papertape serve``. The
dashboard's browser tests start it so that paper and collect sessions on the default exchange
source stream the shared real data instead of trying to reach MEXC.
"""

from __future__ import annotations

import argparse

# Only argparse at the top: this module is the server's ``__main__``, and every engine worker
# process imports its parent's ``__main__`` again (multiprocessing's forkserver does). With the
# app, ccxt and the double imported here, each backtest's worker spent seconds importing them
# before it could start (6-10 s per backtest start on a loaded machine, which the fuzz test
# counted as hangs); ``papertape serve``'s own ``__main__`` is light.


def build_app(store_url: str, speed: float = 1.0, *, live_enabled: bool = False):
    from papertape.api.app import AppSettings, create_app
    from papertape.market.exchange.connector import ExchangeHub, use_hub
    from tests.support.exchange_double import DoubleWorld

    world = DoubleWorld(speed=speed)
    use_hub(ExchangeHub(factory=world.factory))
    settings = AppSettings(store_url=store_url, live_enabled=live_enabled)
    return create_app(settings), world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True, help="sqlite:///PATH or questdb://HOST:PORT")
    parser.add_argument("--speed", type=float, default=1.0, help="tape speed (1 = as recorded)")
    parser.add_argument(
        "--unreachable", default=None, help="every exchange call fails with this network error"
    )
    args = parser.parse_args()
    from papertape.logs import configure_logging

    configure_logging("info")
    import uvicorn

    app, world = build_app(args.store, args.speed)
    if args.unreachable:
        world.set_unreachable(args.unreachable)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", ws="websockets-sansio")


if __name__ == "__main__":
    main()
