"""layers/common/build.py: a layer for the Lambda runtime (not this machine), rebuilt only when needed."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import REPO_ROOT


@pytest.fixture
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "layer_build_under_test", REPO_ROOT / "layers/common/build.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_built_layer_targets_python312_on_arm64(synthesized: object) -> None:
    layer_python = REPO_ROOT / "build" / "layer" / "python"  # built by the synth fixture's app
    assert (layer_python / "exception_playbooks" / "__init__.py").is_file()
    assert not (layer_python / "bin").exists()
    native = [p.name for p in (layer_python / "pydantic_core").glob("*.so")]
    assert native and all("aarch64" in name and "312" in name for name in native), native
    bytecode = {p.name.split(".")[1] for p in Path(layer_python, "exception_playbooks").rglob("*.pyc")}
    assert bytecode <= {"cpython-312"}, bytecode


def test_build_is_cached_by_a_hash_of_its_inputs(
    build: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "BUILD_ROOT", tmp_path)
    monkeypatch.setattr(build, "LAYER_DIR", tmp_path / "layer")
    monkeypatch.setattr(build, "STAMP_FILE", tmp_path / "layer.sha256")
    monkeypatch.setattr(build, "LOCK_FILE", tmp_path / "layer.lock")
    monkeypatch.setattr(build, "find_runtime_python", lambda: "python3.12")
    builds: list[str | None] = []

    def fake_build(runtime_python: str | None) -> None:
        builds.append(runtime_python)
        (tmp_path / "layer" / "python").mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(build, "_build", fake_build)
    assert build.build_layer() == tmp_path / "layer"
    build.build_layer()
    assert len(builds) == 1  # inputs unchanged: reused
    build.build_layer(force=True)
    assert len(builds) == 2
    monkeypatch.setattr(build, "source_hash", lambda runtime_python: "changed-sources")
    build.build_layer()
    assert len(builds) == 3


def test_hash_covers_the_bytecode_choice(build: ModuleType) -> None:
    assert build.source_hash("python3.12") == build.source_hash("python3.12")
    assert build.source_hash("python3.12") != build.source_hash(None)


def _file_digests(root: Path) -> dict[str, str]:
    import hashlib

    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_two_clean_builds_give_the_same_asset_hash(
    build: ModuleType, synthesized: object, tmp_path: Path
) -> None:
    """The layer the synth used (build/layer) and a fresh clean build: same bytes, same CDK hash."""
    from aws_cdk import FileSystem

    cached = REPO_ROOT / "build" / "layer"
    runtime_python = build.require_runtime_python()
    assert (REPO_ROOT / "build" / "layer.sha256").read_text().strip() == build.source_hash(runtime_python)
    fresh = build.build_clean(tmp_path / "layer", runtime_python)

    assert _file_digests(fresh) == _file_digests(cached)
    assert FileSystem.fingerprint(str(fresh)) == FileSystem.fingerprint(str(cached))
    times = {p.stat().st_mtime for p in fresh.rglob("*")}
    assert times == {build.FIXED_TIMESTAMP}
    pyc = next((fresh / "python" / "exception_playbooks").rglob("keys.*.pyc")).read_bytes()
    assert b"/opt/python/exception_playbooks/keys.py" in pyc and str(tmp_path).encode() not in pyc


def test_a_missing_python312_fails_the_build_unless_explicitly_allowed(
    build: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "find_runtime_python", lambda: None)
    monkeypatch.delenv(build.ALLOW_NO_BYTECODE_ENV, raising=False)
    with pytest.raises(build.MissingRuntimePython):
        build.build_layer()
    monkeypatch.setenv(build.ALLOW_NO_BYTECODE_ENV, "1")
    assert build.require_runtime_python() is None
