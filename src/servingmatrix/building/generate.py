"""Writes (or checks) every rendered file: Dockerfiles, pins, compose stacks, app bounds, README sections."""

from __future__ import annotations

from pathlib import Path

from servingmatrix.building.app_bounds import app_bounds_path, render_app_bounds
from servingmatrix.building.compose import render_compose
from servingmatrix.building.dockerfiles import (
    LOCUST_PACKAGES,
    render_app_dockerfile,
    render_locust_dockerfile,
    render_mode_dockerfile,
    render_requirements_in,
    render_runtime_dockerfile,
    render_wrk_dockerfile,
)
from servingmatrix.building.readme.docs import render_readme
from servingmatrix.modes import APP_PACKAGES, MODES
from servingmatrix.paths import images_dir, project_root


def rendered_files() -> dict[Path, str]:
    """Every registry-derived file and the text it should hold."""
    files: dict[Path, str] = {}
    files[images_dir() / "app" / "Dockerfile"] = render_app_dockerfile()
    files[images_dir() / "app" / "requirements.in"] = render_requirements_in("app", APP_PACKAGES)
    files[images_dir() / "runtime" / "Dockerfile"] = render_runtime_dockerfile()
    for mode in MODES:
        folder = images_dir() / mode.name
        files[folder / "Dockerfile"] = render_mode_dockerfile(mode)
        files[folder / "requirements.in"] = render_requirements_in(mode.name, mode.packages)
        files[project_root() / "compose" / f"{mode.name}.yml"] = render_compose(mode)
    files[images_dir() / "locust" / "Dockerfile"] = render_locust_dockerfile()
    files[images_dir() / "locust" / "requirements.in"] = render_requirements_in(
        "locust", LOCUST_PACKAGES, "src/servingmatrix/building/dockerfiles.py"
    )
    files[images_dir() / "wrk" / "Dockerfile"] = render_wrk_dockerfile()
    files[app_bounds_path()] = render_app_bounds()
    readme = project_root() / "README.md"
    if readme.exists():
        files[readme] = render_readme(readme.read_text())
    return files


def stale_files() -> list[Path]:
    """Rendered files that are missing or differ from what the registry renders."""
    return [path for path, text in rendered_files().items() if not path.exists() or path.read_text() != text]


def write_rendered() -> list[Path]:
    """Write the rendered files that changed; return them."""
    changed = stale_files()
    rendered = rendered_files()
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered[path])
    return changed
