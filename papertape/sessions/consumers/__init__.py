"""What a session's runner feeds its market data into: the consumer base (``base``), the
engine hosted in a paper or backtest session (``trading``), the same engine on a real exchange
(``live``), and price tracking and feed recording (``recording``)."""
