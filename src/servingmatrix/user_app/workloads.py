"""A user's app's workloads: ``app:NAME`` for each declared request, and ``app:mixed``, all by weight.

They are ordinary workloads of the registry's kind (``Workload`` with its requests given whole), so the
load generators, the reference generator and the results treat them as any other.
"""

from __future__ import annotations

from servingmatrix.errors import SpecError
from servingmatrix.spec import shown
from servingmatrix.user_app.app_requests import MIXED
from servingmatrix.user_app.config import UserApp
from servingmatrix.workloads import Workload, WorkloadConfig, resolve_workload

APP_PREFIX = "app:"


def app_workloads(app: UserApp) -> dict[str, Workload]:
    """Every workload of ``app`` by its spec: ``app:NAME`` per request, then ``app:mixed``."""
    out = {
        f"{APP_PREFIX}{r.name}": Workload(
            f"{APP_PREFIX}{r.name}", f"{r.method} {r.path}", r.path, fixed=(r.request(),)
        )
        for r in app.requests
    }
    if app.requests:
        mixed = f"{APP_PREFIX}{MIXED}"
        blend = tuple(r.request() for r in app.requests)
        out[mixed] = Workload(
            mixed, f"{app.name}'s requests, each picked by its weight", "(mixed)", fixed=blend
        )
    return out


def resolve_workload_for(text: str, app: UserApp | None) -> WorkloadConfig:
    """A workload spec of the run: the registry's for the bundled app, ``app:NAME`` for a user's app."""
    spec = text.strip()
    if app is None:
        if spec.startswith(APP_PREFIX):
            raise SpecError(
                f"{shown(spec)}: an app's workload needs its app: give --app DIR (or app: in the matrix)"
            )
        return resolve_workload(spec)
    known = app_workloads(app)
    workload = known.get(spec)
    if workload is None:
        allowed = ", ".join(known) or f"none: {app.folder}/app.yml declares no requests"
        raise SpecError(f"{shown(spec)}: not a workload of the app {app.name} (allowed: {allowed})")
    return WorkloadConfig(workload, {})
