"""GraphiQL served from the API's own origin: a pinned release shipped in the package,
so the IDE works offline and behind proxies; in demo mode it opens ready to run."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
#: Where the IDE's files are mounted.
STATIC_PATH = "/graphiql/static"

WELCOME_QUERY = """\
# SPM API: every request needs a token. Add it in the Headers tab below as
#   {"Authorization": "Bearer spm_..."}
# (`spm-api person create ... ` prints one). Ctrl-Enter runs the query.
{
  viewer { name roles }
}
"""

DEMO_QUERY = """\
# The demo portfolio manager's token is already in the Headers tab below.
# Ctrl-Enter runs this query; the Docs and Explorer panels list everything else.
{
  viewer { name roles }
  portfolio { bySection { section count } }
  services(first: 5, filter: {sections: [PIPELINE]}) {
    totalCount
    edges { node { id name stage owner { name } } }
  }
}
"""

_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>SPM API · GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{static}/graphiql.min.css">
    <link rel="stylesheet" href="{static}/plugin-explorer.css">
    <style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script type="application/json" id="spm-graphiql-config">{config}</script>
    <script src="{static}/react.production.min.js"></script>
    <script src="{static}/react-dom.production.min.js"></script>
    <script src="{static}/graphiql.min.js"></script>
    <script src="{static}/plugin-explorer.umd.js"></script>
    <script src="{static}/graphql-ws.min.js"></script>
    <script src="{static}/spm-graphiql.js"></script>
  </body>
</html>
"""


@dataclass(frozen=True)
class GraphiQLPage:
    """What the page opens with: the endpoint, a query, and (demo mode only) headers."""

    endpoint: str = "/graphql"
    default_query: str = WELCOME_QUERY
    headers: dict[str, str] | None = None

    @classmethod
    def for_demo(cls, token: str | None) -> GraphiQLPage:
        """The demo page: the example query, and the demo portfolio manager's token
        when the demo organisation exists."""
        if token is None:
            return cls()
        return cls(default_query=DEMO_QUERY, headers={"Authorization": f"Bearer {token}"})

    def render(self) -> str:
        config = {
            "endpoint": self.endpoint,
            "defaultQuery": self.default_query,
            "headers": json.dumps(self.headers, indent=2) if self.headers else None,
        }
        # JSON inside <script>: only "</" could end the element early.
        embedded = json.dumps(config).replace("</", "<\\/")
        return _PAGE.format(static=html.escape(STATIC_PATH), config=embedded)


def static_files() -> StaticFiles:
    """The IDE's JavaScript and CSS, to mount at ``STATIC_PATH``."""
    return StaticFiles(directory=STATIC_DIR)
