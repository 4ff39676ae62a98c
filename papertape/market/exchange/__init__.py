"""Live exchanges through ccxt: symbol mapping (``symbols``), the market-list cache and the
exchange factory seam (``connector``), the live feed (``feed``), historical downloads
(``download``) and guarded live trading (``live``)."""
