"""Where the things the app packages live, resolved from this file so any working directory works."""

from __future__ import annotations

from pathlib import Path

INFRA_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = INFRA_DIR.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
UI_DIR = REPO_ROOT / "ui"
LAYER_BUILD_SCRIPT = REPO_ROOT / "layers" / "common" / "build.py"
DEFAULT_OUTDIR = REPO_ROOT / "cdk.out"
