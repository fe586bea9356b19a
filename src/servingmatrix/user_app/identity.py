"""Which app a run measured, as run.json records it: its name, whether it is the bundled app, its WSGI
callable, version, git commit and lock hash.

``compare`` refuses two runs of different apps (``same_app``: the name alone would take two apps that
share a name for one), and the report and the summary name the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from servingmatrix.modes import BUNDLED_APP, AppTarget
from servingmatrix.user_app.config import app_target

#: The app the project bundles (``app/benchapp``): what a run without ``--app`` measures.
BUNDLED_NAME = "benchapp"


@dataclass(frozen=True)
class AppIdentity:
    name: str = BUNDLED_NAME
    bundled: bool = True
    version: str | None = None
    git_commit: str | None = None
    git_dirty: bool = False
    lock_sha256: str | None = None
    #: The WSGI callable a user's app is served by (``notes_api.wsgi:app``); None for the bundled app.
    wsgi: str | None = None

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> AppIdentity:
        """The app of a run's metadata; a run recorded before apps were named measured the bundled one."""
        record = recorded_app(metadata)
        if not record:
            return cls()

        def text(key: str) -> str | None:
            value = record.get(key)
            return value if isinstance(value, str) and value else None

        return cls(
            name=text("name") or BUNDLED_NAME,
            bundled=record.get("bundled") is True,
            version=text("version"),
            git_commit=text("git_commit"),
            git_dirty=record.get("git_dirty") is True,
            lock_sha256=text("lock_sha256"),
            wsgi=text("wsgi"),
        )

    @property
    def key(self) -> tuple[str, bool, str | None]:
        """What makes two runs' apps one app: the name, whether it is the bundled app, and a user's
        app's WSGI callable (the bundled app's is the project's own, whatever a record says)."""
        return (self.name, self.bundled, None if self.bundled else self.wsgi)

    def same_app(self, other: AppIdentity) -> bool:
        return self.key == other.key

    def differences(self, other: AppIdentity) -> list[str]:
        """What makes ``other`` another app, in words, when the names alone do not say it."""
        if self.name != other.name:
            return []
        if self.bundled != other.bundled:
            return ["one is the bundled app, the other a user's app of the same name"]
        return [f"WSGI callable {self.wsgi or '-'} vs {other.wsgi or '-'}"]

    def describe(self) -> str:
        """``notes-api 1.2 (git 1a2b3c4d5e6f, uncommitted changes; lock sha256 0123456789ab)``."""
        parts = []
        if self.git_commit:
            parts.append(f"git {self.git_commit[:12]}" + (", uncommitted changes" if self.git_dirty else ""))
        if self.lock_sha256:
            parts.append(f"lock sha256 {self.lock_sha256[:12]}")
        what = f"the bundled app {self.name}" if self.bundled else self.name
        version = f" {self.version}" if self.version else ""
        return f"{what}{version}" + (f" ({'; '.join(parts)})" if parts else "")

    def changes(self, other: AppIdentity) -> list[str]:
        """How ``other``, the same app, differs: its version, commit or lock, in words (``self`` is the
        first side, the baseline of a comparison)."""
        out = []
        for label, mine, theirs in (
            ("version", self.version, other.version),
            ("git commit", self.git_commit, other.git_commit),
        ):
            if mine != theirs:
                out.append(f"app {self.name} {label}: {mine or 'not recorded'} vs {theirs or 'not recorded'}")
        lock = lock_change(self.lock_sha256, other.lock_sha256)
        if lock is not None:
            out.append(f"app {self.name}: {lock}")
        return out


def lock_change(first: str | None, second: str | None) -> str | None:
    """A change of the app's lock file in words: whether its pinned packages differ, or cannot be
    told because one side recorded no lock; None when both recorded the same (or neither did)."""
    if first == second:
        return None
    if first and second:
        return (
            f"its lock file differs (sha256 {first[:12]} vs {second[:12]}): "
            "its pinned packages are not the same"
        )
    recorded, side = (second, "second") if second else (first, "first")
    other = "first" if side == "second" else "second"
    return (
        f"only the {side} run recorded its lock file (sha256 {(recorded or '')[:12]}); the {other} "
        "recorded none, so whether its pinned packages changed is unknown"
    )


def recorded_app(metadata: dict[str, Any]) -> dict[str, Any]:
    """run.json's record of the app (empty for a run recorded before apps were named)."""
    record = metadata.get("app")
    return record if isinstance(record, dict) else {}


def recorded_target(metadata: dict[str, Any]) -> AppTarget:
    """How the run's modes served its app, from its record: the commands the report shows."""
    record = recorded_app(metadata)
    name, wsgi, health = record.get("name"), record.get("wsgi"), record.get("health")
    if record.get("bundled") is not False or not all(isinstance(v, str) for v in (name, wsgi, health)):
        return BUNDLED_APP
    return app_target(str(name), str(wsgi), str(health))
