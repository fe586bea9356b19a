"""Bundles: what goes in, the manifest that checks it, where the images' inputs come from, and a
bundle read back exactly as it was written."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from servingmatrix.building.images import all_images, stage_context
from servingmatrix.building.inputs import INPUT_FOLDERS, export_at_commit, export_worktree, has_commit
from servingmatrix.cli import main
from servingmatrix.errors import UserError
from servingmatrix.matrix import load_matrix, matrix_from_record
from servingmatrix.paths import cache_dir, inputs_from, inputs_root, project_root
from servingmatrix.results.bundle import BUNDLE_SCHEMA, InputsSource, inputs_source, write_bundle
from servingmatrix.results.unbundle import open_bundle

from .bundles import COMMIT, INPUT_FILES, make_bundle, members, published_run, write_inputs


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_bundle_round_trips_every_member(tmp_path: Path) -> None:
    run = published_run(tmp_path / "published")
    bundle = make_bundle(tmp_path, run)
    opened = open_bundle(bundle, tmp_path / "x")
    assert tree(opened.run_dir) == tree(run)
    assert tree(opened.inputs_dir) == {name: text.encode() for name, (text, _) in INPUT_FILES.items()}
    assert (opened.inputs_dir / "images/postgres/entrypoint.sh").stat().st_mode & 0o777 == 0o755
    assert (opened.inputs_dir / "app/benchapp/__init__.py").stat().st_mode & 0o777 == 0o644
    info = opened.info
    assert (info.schema, info.run_id, info.commit, info.samples) == (
        BUNDLE_SCHEMA,
        "published",
        COMMIT,
        False,
    )
    assert info.inputs == InputsSource("commit", COMMIT)
    environment = json.loads((opened.root / "environment.json").read_text())
    assert environment == json.loads((run / "run.json").read_text())["metadata"]


def test_the_matrix_file_reads_back_as_the_run_s_matrix(tmp_path: Path) -> None:
    run = published_run(tmp_path / "published")
    opened = open_bundle(make_bundle(tmp_path, run), tmp_path / "x")
    recorded = json.loads((run / "run.json").read_text())["matrix"]
    assert load_matrix(opened.root / "matrix.yml", "published") == matrix_from_record("run.json", recorded)


def test_the_manifest_holds_the_sum_of_every_other_member_as_sha256sum_reads_it(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    held = members(bundle)
    manifest = held.pop("MANIFEST.sha256")[0].decode()
    lines = [line for line in manifest.splitlines() if not line.startswith("#")]
    assert lines == [f"{hashlib.sha256(data).hexdigest()}  {name}" for name, (data, _) in held.items()]
    assert f"# inputs: git archive of commit {COMMIT}" in manifest
    assert next(iter(held)) == "bundle.json" and list(members(bundle))[-1] == "MANIFEST.sha256"
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum is not installed")
    opened = open_bundle(bundle, tmp_path / "x")
    check = subprocess.run(
        ["sha256sum", "--check", "--strict", "MANIFEST.sha256"], cwd=opened.root, check=False
    )
    assert check.returncode == 0


def test_samples_go_in_only_when_asked(tmp_path: Path) -> None:
    run = published_run(tmp_path / "published")
    (run / "sessions" / "s1").mkdir(parents=True)
    (run / "sessions" / "s1" / "samples-1.csv").write_text("start,ms\n1,2\n")
    without = members(make_bundle(tmp_path / "a", run))
    with_samples = members(make_bundle(tmp_path / "b", run, samples=True))
    assert not [n for n in without if n.startswith("run/sessions/")]
    assert "run/sessions/s1/samples-1.csv" in with_samples
    assert json.loads(with_samples["bundle.json"][0])["samples"] is True


def test_the_report_and_the_summary_go_in_when_present(tmp_path: Path) -> None:
    run = published_run(tmp_path / "published")
    (run / "summary.txt").write_text("the summary\n")
    held = members(make_bundle(tmp_path, run))
    assert {"run/report.html", "run/summary.txt"} <= set(held)
    assert "run/report.md" not in held


@pytest.mark.parametrize(
    ("metadata", "known", "says"),
    [
        ({}, True, "records no git commit"),
        ({"git_commit": COMMIT, "git_dirty": True}, True, "uncommitted changes"),
        ({"git_commit": COMMIT}, True, "uncommitted changes"),  # dirty unknown: not known clean
        ({"git_commit": COMMIT, "git_dirty": False}, False, "is not in this repository"),
    ],
)
def test_inputs_git_cannot_give_are_refused_unless_the_worktree_is_asked_for(
    metadata: dict[str, object], known: bool, says: str
) -> None:
    with pytest.raises(UserError, match=says) as refused:
        inputs_source("RUN", metadata, lambda commit: known, from_worktree=False)
    assert "--inputs-from-worktree" in str(refused.value)
    taken = inputs_source("RUN", metadata, lambda commit: known, from_worktree=True)
    assert taken.source == "worktree" and taken.reason is not None and says in taken.reason
    assert "(--inputs-from-worktree)" not in taken.describe() and "not the run's commit" in taken.describe()


def test_a_clean_run_at_a_known_commit_takes_its_inputs_from_git() -> None:
    metadata = {"git_commit": COMMIT, "git_dirty": False}
    assert inputs_source("RUN", metadata, lambda c: c == COMMIT, False) == InputsSource("commit", COMMIT)


def test_inputs_from_the_worktree_are_recorded_in_the_manifest(tmp_path: Path) -> None:
    run = published_run(tmp_path / "published")
    out = tmp_path / "b.tar.gz"
    # The synthetic run's commit is in no repository: git cannot give its inputs.
    assert main(["bundle", str(run), "-o", str(out)]) == 2
    assert not out.exists()
    assert main(["bundle", str(run), "-o", str(out), "--inputs-from-worktree"]) == 0
    held = members(out)
    manifest = held["MANIFEST.sha256"][0].decode()
    assert "# inputs: the working tree" in manifest and "(--inputs-from-worktree)" in manifest
    info = json.loads(held["bundle.json"][0])
    assert info["inputs"]["source"] == "worktree" and "not in this repository" in info["inputs"]["reason"]
    assert "inputs/images/gunicorn-sync/requirements.lock" in held


def test_git_gives_the_inputs_as_they_were_at_the_commit(tmp_path: Path) -> None:
    root = project_root()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=False)
    if head.returncode != 0:
        pytest.skip("the project is not a git checkout")
    commit = head.stdout.strip()
    assert has_commit(root, commit) and not has_commit(root, "0" * 40)
    export_at_commit(root, commit, tmp_path / "at")
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", commit, "--", *INPUT_FOLDERS],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(tree(tmp_path / "at")) == sorted(listed)
    for name in listed[:20]:
        shown = subprocess.run(["git", "show", f"{commit}:{name}"], cwd=root, capture_output=True, check=True)
        assert (tmp_path / "at" / name).read_bytes() == shown.stdout
    with pytest.raises(UserError, match="is not in the repository"):
        export_at_commit(root, "0" * 40, tmp_path / "none")


def test_the_worktree_gives_what_the_build_would_stage(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    for name in (*INPUT_FILES, "app/benchapp/__pycache__/x.cpython-313.pyc", "src/not-an-input.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    export_worktree(root, tmp_path / "out")
    assert sorted(tree(tmp_path / "out")) == sorted(INPUT_FILES)


def test_a_bundle_is_written_whole_or_not_at_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = published_run(tmp_path / "published")
    (run / "cells" / "broken.json").write_text("{")
    out = tmp_path / "b.tar.gz"
    assert main(["bundle", str(run), "-o", str(out), "--inputs-from-worktree"]) == 2
    assert "corrupt or truncated" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["published"]


@pytest.mark.parametrize("target", ["run.json", "cells"])
def test_a_bundle_never_replaces_the_run_s_own_files(tmp_path: Path, target: str) -> None:
    run = published_run(tmp_path / "published")
    out = run / target if target == "run.json" else next((run / "cells").iterdir())
    before = out.read_bytes()
    assert main(["bundle", str(run), "-o", str(out), "--inputs-from-worktree"]) == 2
    assert out.read_bytes() == before


def test_bundle_prints_its_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = published_run(tmp_path / "published")
    out = tmp_path / "b.tar.gz"
    assert main(["bundle", str(run), "-o", str(out), "--inputs-from-worktree"]) == 0
    said = capsys.readouterr().out
    assert f"wrote {out} (" in said and f"{out.stat().st_size / 1e6:.2f} MB" in said


def test_matrix_yml_is_a_matrix_file(tmp_path: Path) -> None:
    opened = open_bundle(make_bundle(tmp_path), tmp_path / "x")
    data = yaml.safe_load((opened.root / "matrix.yml").read_text())
    assert data["modes"] == ["gunicorn-gevent", "gunicorn-sync"] and data["duration"] == "10s"


def test_the_build_reads_its_inputs_from_the_inputs_root_and_its_cache_from_the_checkout(
    tmp_path: Path,
) -> None:
    inputs = write_inputs(tmp_path / "inputs")
    # Staging reads the lock (what the image installs): a well-formed one.
    (inputs / "images/gunicorn-sync/requirements.lock").write_text(
        f"gunicorn==27.0.1 --hash=sha256:{'0' * 64}\n"
    )
    with inputs_from(inputs):
        image = next(i for i in all_images() if i.name == "gunicorn-sync")
        assert image.folder == inputs.resolve() / "images" / "gunicorn-sync"
        stage_context(image, [], tmp_path / "context")
        app = next(i for i in all_images() if i.name == "app")
        stage_context(app, [], tmp_path / "app-context")
        assert cache_dir() == project_root() / ".cache"
    assert inputs_root() == project_root()
    assert (tmp_path / "context" / "Dockerfile").read_text() == INPUT_FILES[
        "images/gunicorn-sync/Dockerfile"
    ][0]
    assert (tmp_path / "app-context" / "app" / "benchapp" / "__init__.py").read_text() == "app = None\n"


@pytest.mark.parametrize("linked", ["report.html", "report-charts", "report-charts/a.svg", "cells/x.json"])
def test_a_symbolic_link_in_the_run_folder_is_never_bundled(tmp_path: Path, linked: str) -> None:
    """A bundle is published: a link in the run folder would carry whatever it names."""
    run = published_run(tmp_path / "run")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("a private key")
    (run / "report.html").unlink()
    if linked != "report-charts":
        (run / "report-charts").mkdir()
    target = secret if linked == "report-charts" else secret / "key"
    if linked == "cells/x.json":
        # A cell that reads as one, so that the link is what is refused.
        cell = next((run / "cells").glob("*.json"))
        (secret / "key").write_text(cell.read_text())
        cell.unlink()
        (run / "cells" / cell.name).symlink_to(target)
        linked = f"cells/{cell.name}"
    else:
        (run / linked).symlink_to(target)
    out = tmp_path / "b.tar.gz"
    with out.open("wb") as handle, pytest.raises(UserError, match=rf"{run / linked}: is a symbolic link"):
        write_bundle(handle, run, write_inputs(tmp_path / "inputs"), InputsSource("commit", COMMIT), False)
