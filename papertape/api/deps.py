"""FastAPI dependencies: the app's one store and one session service."""

from __future__ import annotations

from fastapi import Request

from papertape.sessions.service import SessionService
from papertape.store.base import Store


def get_service(request: Request) -> SessionService:
    service: SessionService = request.app.state.service
    return service


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store
