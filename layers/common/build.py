"""Build the ``common`` Lambda layer (the domain core plus its runtime dependencies) without Docker.

Layout produced (the directory CDK zips as the layer asset)::

    build/layer/python/<third-party packages>
    build/layer/python/exception_playbooks/...

Wheels are downloaded for the Lambda runtime (CPython 3.12 on arm64, manylinux2014) whatever
machine runs the build; ``--only-binary=:all:`` refuses source builds that would compile for
the wrong platform. Bytecode is compiled with ``--invalidation-mode unchecked-hash`` because
CDK zips reset file times, which would make timestamp-validated ``.pyc`` files stale and be
recompiled on every cold start. It must be compiled by a 3.12 interpreter: bytecode of any
other version is ignored by the runtime, so a missing 3.12 fails the build (set LAYER_PYTHON to
one). Only ``LAYER_ALLOW_NO_BYTECODE=1`` (a machine without 3.12, never for a deployment)
builds without bytecode, and the cache key records it.

Reproducible: two clean builds from the same inputs give the same bytes, so the same CDK asset
hash (and no new layer version on an unchanged deploy). Bytecode names ``/opt/python`` (where
Lambda mounts the layer) instead of the random staging path, files are walked in sorted order,
and every file and directory gets the same fixed timestamp.

The build is cached by a hash of requirements.txt, this script and the package sources, so a
repeated synth costs one hash. Usage::

    python layers/common/build.py [--force]
    # or, from Python: build_layer() -> Path of build/layer
"""

from __future__ import annotations

import argparse
import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
PACKAGE_DIR = HERE / "exception_playbooks"
REQUIREMENTS = REPO_ROOT / "requirements.txt"
BUILD_ROOT = REPO_ROOT / "build"
LAYER_DIR = BUILD_ROOT / "layer"
STAMP_FILE = BUILD_ROOT / "layer.sha256"
LOCK_FILE = BUILD_ROOT / "layer.lock"

LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_PLATFORM = "manylinux2014_aarch64"
LAMBDA_LAYER_PATH = "/opt/python"  # where the runtime finds the layer's python/ directory
FIXED_TIMESTAMP = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can carry
ALLOW_NO_BYTECODE_ENV = "LAYER_ALLOW_NO_BYTECODE"
_IGNORED_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache"}
_IGNORED_SUFFIXES = {".pyc", ".pyo"}


def _package_files() -> list[Path]:
    files = []
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if not path.is_file() or path.suffix in _IGNORED_SUFFIXES:
            continue
        if _IGNORED_PARTS.intersection(path.relative_to(PACKAGE_DIR).parts):
            continue
        files.append(path)
    return files


def _reports_runtime_version(python: str) -> bool:
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == LAMBDA_PYTHON_VERSION


def find_runtime_python() -> str | None:
    """An interpreter of the Lambda runtime's version, for bytecode the runtime will actually use."""
    explicit = os.environ.get("LAYER_PYTHON")
    if explicit:
        if not _reports_runtime_version(explicit):
            raise RuntimeError(f"LAYER_PYTHON={explicit} is not a working Python {LAMBDA_PYTHON_VERSION}")
        return explicit
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [
        sys.executable,
        shutil.which(f"python{LAMBDA_PYTHON_VERSION}"),  # may be a pyenv shim that refuses to run
        *sorted(
            glob.glob(f"{pyenv_root}/versions/{LAMBDA_PYTHON_VERSION}.*/bin/python{LAMBDA_PYTHON_VERSION}")
        ),
    ]
    return next((c for c in candidates if c and _reports_runtime_version(c)), None)


class MissingRuntimePython(RuntimeError):
    """No Python of the Lambda runtime's version: the layer would ship without usable bytecode."""


def require_runtime_python() -> str | None:
    """The 3.12 interpreter, or None only when ``LAYER_ALLOW_NO_BYTECODE=1`` says so explicitly."""
    runtime_python = find_runtime_python()
    if runtime_python is None and os.environ.get(ALLOW_NO_BYTECODE_ENV) != "1":
        raise MissingRuntimePython(
            f"no Python {LAMBDA_PYTHON_VERSION} interpreter found: install one or point LAYER_PYTHON at it "
            f"(only for a machine that never deploys: {ALLOW_NO_BYTECODE_ENV}=1 builds without bytecode)"
        )
    return runtime_python


def source_hash(runtime_python: str | None) -> str:
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, Path(__file__).resolve(), *_package_files()):
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    # Whether bytecode could be compiled changes the output, so it is part of the key.
    digest.update(b"compiled" if runtime_python else b"not-compiled")
    return digest.hexdigest()


def _pip_install(target: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",  # bytecode of the build interpreter would be the wrong version
            "-r",
            str(REQUIREMENTS),
            "--platform",
            LAMBDA_PLATFORM,
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--only-binary=:all:",
            "--target",
            str(target),
        ],
        check=True,
    )


def _copy_package(target: Path) -> None:
    destination = target / PACKAGE_DIR.name
    for path in _package_files():
        out = destination / path.relative_to(PACKAGE_DIR)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)


def _compile(target: Path, runtime_python: str) -> None:
    # -d: the path recorded in each .pyc (tracebacks) is the layer's, not this build's temp dir;
    # unchecked-hash: validated by nothing at run time, and free of timestamps.
    subprocess.run(
        [
            runtime_python,
            "-m",
            "compileall",
            "-q",
            "-d",
            LAMBDA_LAYER_PATH,
            "--invalidation-mode",
            "unchecked-hash",
            str(target),
        ],
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": str(FIXED_TIMESTAMP)},
    )


def _fix_timestamps(root: Path) -> None:
    """Every file and directory gets FIXED_TIMESTAMP (deepest first, so parents keep theirs)."""
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        os.utime(path, (FIXED_TIMESTAMP, FIXED_TIMESTAMP), follow_symlinks=False)
    os.utime(root, (FIXED_TIMESTAMP, FIXED_TIMESTAMP))


def _is_current(wanted: str) -> bool:
    stamped = STAMP_FILE.is_file() and STAMP_FILE.read_text().strip() == wanted
    return stamped and (LAYER_DIR / "python").is_dir()


def build_layer(*, force: bool = False) -> Path:
    """Build (or reuse) the layer and return the directory to use as the LayerVersion asset."""
    runtime_python = require_runtime_python()
    wanted = source_hash(runtime_python)
    if not force and _is_current(wanted):
        return LAYER_DIR

    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    # Concurrent synths (parallel test runs) build one at a time; a waiter reuses the result.
    with LOCK_FILE.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and _is_current(wanted):
            return LAYER_DIR
        _build(runtime_python)
        STAMP_FILE.write_text(wanted + "\n")
    return LAYER_DIR


def _build(runtime_python: str | None) -> None:
    STAMP_FILE.unlink(missing_ok=True)  # never a stamp that vouches for a half-replaced layer
    build_clean(LAYER_DIR, runtime_python)


def build_clean(destination: Path, runtime_python: str | None) -> Path:
    """A clean build into ``destination`` (replaced), independent of the cache."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="layer-", dir=destination.parent))
    try:
        python_dir = staging / "python"
        _pip_install(python_dir)
        # Console scripts are useless in a layer and carry the build machine's interpreter path.
        shutil.rmtree(python_dir / "bin", ignore_errors=True)
        _copy_package(python_dir)
        if runtime_python:
            _compile(python_dir, runtime_python)
        _fix_timestamps(staging)
        shutil.rmtree(destination, ignore_errors=True)
        staging.rename(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if the cached layer is current")
    args = parser.parse_args(argv)
    print(build_layer(force=args.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())
