"""The type hints hold: ``python -m mypy`` passes with the ``[tool.mypy]`` configuration of
pyproject.toml (simcore and distributions, every function annotated; the exceptions are listed
there)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.integration
def test_mypy_passes():
    pytest.importorskip("mypy")
    r = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert r.returncode == 0, f"mypy failed (exit code {r.returncode}):\n{r.stdout}{r.stderr}"
