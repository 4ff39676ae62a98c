"""Live exchanges through ccxt: symbol mapping (``symbols``), the market-list cache and the
exchange factory seam (``connector``), the live feed (``feed``), historical downloads
(``download``), live orders (``live``: the broker; ``live_venue``: the venue a live session's engine uses),
API keys (``credentials``) and trade-derived bars (``candles``)."""
