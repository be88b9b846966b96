"""Runtime settings, read from ``SPM_``-prefixed environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything that differs between a laptop, CI and production."""

    model_config = SettingsConfigDict(env_prefix="SPM_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./spm.db"
    #: Show unexpected errors unmasked (never in production).
    debug: bool = False
    #: Serve the GraphiQL IDE on GET /graphql.
    graphiql: bool = True
    #: Upper bound on ``first``/``last`` of every connection.
    max_page_size: int = 100
    #: Deepest selection a query may nest.
    max_query_depth: int = 12
    #: Where the Alembic migration scripts live.
    alembic_dir: Path = REPOSITORY_ROOT / "alembic"
    #: Log SQL statements.
    echo_sql: bool = False
    #: Comma-separated entry-point names of the third-party plugins to load; unset loads
    #: every installed one, an empty value loads none. Built-in plugins always load.
    plugins: str | None = None
    #: Seconds a plugin call may take before the operation fails with PLUGIN_ERROR.
    plugin_timeout: float = 5.0

    def allowed_plugins(self) -> frozenset[str] | None:
        """The names ``SPM_PLUGINS`` allows, or None when it does not restrict."""
        if self.plugins is None:
            return None
        return frozenset(name.strip() for name in self.plugins.split(",") if name.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once."""
    return Settings()
