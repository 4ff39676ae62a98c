"""Structured logs: JSON lines when the output is not a terminal, readable columns when it is.
Every line about a session carries ``session_id`` (bound by the code that logs it)."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "info", *, json_output: bool | None = None) -> None:
    as_json = not sys.stderr.isatty() if json_output is None else json_output
    renderer = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
