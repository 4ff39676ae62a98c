"""The dashboard's API types are generated from web/openapi.json (`npm run gen:api`; vitest
checks the generated file against it). This checks that saved document against the server's,
so neither can drift silently."""

from __future__ import annotations

import json
from pathlib import Path

from papertape.api.app import AppSettings, create_app

SAVED = Path(__file__).resolve().parents[2] / "web" / "openapi.json"


def test_saved_openapi_document_matches_the_server():
    current = create_app(AppSettings(store_url="sqlite:///:memory:")).openapi()
    saved = json.loads(SAVED.read_text())
    assert saved == json.loads(json.dumps(current)), (
        "web/openapi.json is stale: run `uv run python web/scripts/save-openapi.py` then "
        "`cd web && npm run gen:api`, and update the dashboard for what changed"
    )
