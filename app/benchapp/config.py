"""Settings read from the environment once, when the app is created."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A setting in the environment is malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Where the app finds its dependencies and how it labels its responses."""

    serving_mode: str = "unknown"
    """The mode spec string (e.g. ``gunicorn-gthread[workers=2,threads=4]``), echoed in X-Serving-Mode."""
    upstream_url: str = "http://127.0.0.1:8081"
    """Base URL of the upstream HTTP service that /upstream calls."""
    database_url: str = "postgresql://bench@127.0.0.1:5432/bench"
    """libpq URL for /db; the password comes from the URL or PGPASSWORD."""
    sqlite_path: str = "/srv/data/items.sqlite"
    """The SQLite file written by ``python -m benchapp.seed`` at image build time."""
    db_pool_size: int = 4
    """PostgreSQL connections per process."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream_url)
        if parts.scheme != "http" or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(
                f"UPSTREAM_URL must look like http://HOST:PORT[/PATH], got {self.upstream_url!r}"
            )
        try:
            parts.port  # noqa: B018 - evaluated for its ValueError on a bad port
        except ValueError:
            raise ConfigError(f"UPSTREAM_URL has a bad port: {self.upstream_url!r}") from None
        if not 1 <= self.db_pool_size <= 1000:
            raise ConfigError(f"DB_POOL_SIZE must be an integer in 1..1000, got {self.db_pool_size}")
        if not self.sqlite_path:
            raise ConfigError("SQLITE_PATH must not be empty")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables, falling back to the defaults above."""
        env = os.environ if environ is None else environ
        defaults = cls()
        raw_pool = env.get("DB_POOL_SIZE", str(defaults.db_pool_size))
        try:
            pool_size = int(raw_pool)
        except ValueError:
            raise ConfigError(f"DB_POOL_SIZE must be an integer in 1..1000, got {raw_pool!r}") from None
        return cls(
            serving_mode=env.get("SERVING_MODE", defaults.serving_mode),
            upstream_url=env.get("UPSTREAM_URL", defaults.upstream_url),
            database_url=env.get("DATABASE_URL", defaults.database_url),
            sqlite_path=env.get("SQLITE_PATH", defaults.sqlite_path),
            db_pool_size=pool_size,
        )
