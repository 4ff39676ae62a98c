"""Live exchanges through ccxt: symbol mapping (``symbols``), the market-list cache and the
exchange factory seam (``connector``), the live feed (``feed``), historical downloads
(``download``), live orders (``live``: the broker; ``live_consumer``: what a live session runs),
API keys (``credentials``) and trade-derived bars (``candles``)."""
