"""Write the server's OpenAPI document to web/openapi.json (input of `npm run gen:api`).

Run from the repo root: `uv run python web/scripts/save-openapi.py`. It builds the app in
process (nothing is started, no store is opened), so it needs no running server."""

import json
import sys
from pathlib import Path

from papertape.api.app import AppSettings, create_app

target = Path(__file__).resolve().parents[1] / "openapi.json"
document = create_app(AppSettings(store_url="sqlite:///:memory:")).openapi()
target.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
print(f"wrote {target}", file=sys.stderr)
