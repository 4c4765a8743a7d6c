"""The interactive API docs (development only): Swagger UI from the fastapi-offline package.

FastAPI's default /docs loads Swagger UI from a CDN, so it is blank on a machine without the
internet. Here the files come from the installed package and the page's own start script from
static/assets/api-docs.js: nothing is fetched from outside the service.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_HTML = """<!doctype html>
<html lang="da">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API-dokumentation – handoff-tjenesten</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/assets/api-docs.js"></script>
</body>
</html>
"""


def install_api_docs(app: FastAPI) -> None:
    """GET /docs and its assets under /docs/assets (call only in development)."""
    # Only its static files (a Swagger UI 5, which reads OpenAPI 3.1), not its app class.
    import fastapi_offline

    files = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount("/docs/assets", StaticFiles(directory=files), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(DOCS_HTML, headers={"Cache-Control": "no-store"})
