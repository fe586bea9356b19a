"""A user's own app in the matrix: a folder with a WSGI app and its ``app.yml``.

``servingmatrix run --app DIR`` (or ``app: DIR`` in a matrix) measures that app instead of the bundled
one: its ``app.yml`` is read strictly (``app_file``), its pinned requirements checked
(``requirements``), its declared requests become the workloads ``app:NAME`` and ``app:mixed``
(``workloads``), and its results name it (``identity``). The images are built from it in
``building/app_images.py``, its locks written by ``building/app_locks.py``, and its stack checked and
seeded by ``run/stack/app_stack.py``.
"""

from servingmatrix.user_app.app_file import APP_FILE, load_app
from servingmatrix.user_app.config import AppRequest, UserApp
from servingmatrix.user_app.identity import BUNDLED_NAME, AppIdentity
from servingmatrix.user_app.workloads import APP_PREFIX, app_workloads, resolve_workload_for

__all__ = [
    "APP_FILE",
    "APP_PREFIX",
    "BUNDLED_NAME",
    "AppIdentity",
    "AppRequest",
    "UserApp",
    "app_workloads",
    "load_app",
    "resolve_workload_for",
]
