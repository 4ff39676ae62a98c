"""papertape: crypto trading sessions that are never lost, never half-stopped and never disagree."""

__version__ = "0.1.0"
