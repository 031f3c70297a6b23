"""The benchmarks run: every benchmark of ``benchmarks/`` at tiny sizes (``SIMCORE_BENCH_TINY=1``,
untimed), the one-process comparison and its side-by-side mode, and the two standalone scripts.

These check that each benchmark warms up, validates against the numpy reference and runs, not
how fast anything is. The suite runs in a subprocess (``python -m pytest benchmarks``), as a
user runs it; it needs pytest-benchmark (in the ``test`` extra).
"""

import importlib.util
import json
import os
import runpy
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # the benchmark suite at tiny sizes

ROOT = Path(__file__).resolve().parent.parent
# every benchmark function of the suite: each must pass, or be skipped because the module it
# measures does not exist yet
BENCHMARKS = {
    "test_simulate",
    "test_end_to_end",
    "test_random_numbers_floor",
    "test_numpy_reference",
    "test_pure_python",
    "test_sampling",
    "test_quantiles",
    "test_sobol_design",
    "test_sobol_analysis",
    "test_chart",
    "test_cold_start",
    "test_warm_process",
    "test_cli_warm",
}
SKIP_OK = "does not exist yet"


def test_every_benchmark_runs_at_tiny_sizes(tmp_path):
    if importlib.util.find_spec("pytest_benchmark") is None:
        pytest.fail("pytest-benchmark is not installed: python -m pip install -e '.[test]'")
    report = tmp_path / "bench.xml"
    env = {**os.environ, "SIMCORE_BENCH_TINY": "1", "SIMCORE_BENCH_LARGE": "0"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "benchmarks",
            "-q",
            "-p",
            "no:cacheprovider",
            "--benchmark-disable",
            f"--junitxml={report}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    seen = set()
    for case in ET.parse(report).getroot().iter("testcase"):
        name = case.get("name").split("[")[0]
        seen.add(name)
        for bad in ("failure", "error"):
            assert case.find(bad) is None, f"{case.get('name')}: {bad}"
        skipped = case.find("skipped")
        if skipped is not None:
            assert SKIP_OK in skipped.get("message", ""), (case.get("name"), skipped.attrib)
    assert seen == BENCHMARKS, f"missing: {BENCHMARKS - seen}, unexpected: {seen - BENCHMARKS}"


@pytest.fixture
def benchmarks_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))


def test_comparison_runs_saves_and_compares(tmp_path, capsys, benchmarks_importable):
    from benchmarks import compare

    out = tmp_path / "a.json"
    assert compare.main(["--tiny", "--no-process", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    run = json.loads(out.read_text())
    assert run["schema"] == compare.SCHEMA
    for key in ("cpu", "cores_usable", "versions", "git_commit"):
        assert key in run["machine"], key
    assert {(r["paths"], r["horizon"]) for r in run["configs"]} == {
        (n, h) for n in (1_000, 2_000) for h in (3, 10)
    }
    for r in run["configs"]:
        assert r["e2e_s"] > 0 and r["random_numbers_s"] > 0 and r["python_over_e2e"] > 1
        assert r["stored_bytes"] > 0 and r["peak_tracemalloc_bytes"] > 0
    assert len(run["targets"]) == 8
    names = " ".join(t["target"] for t in run["targets"])
    assert "every output" in names and "/ 1e+06 x 3 end to end" in names  # the main job's
    assert {t["status"] for t in run["targets"]} <= {"PASS", "MISS", "n/a"}
    assert "ns/path-yr" in text and "x floor" in text and "target" in text
    # the peer ran the same model: 200 monaco cases against our 2,000 paths, one distribution
    peer = run["peer"]
    assert peer["tool"] == "monaco" and peer["cases"] == 200 and peer["paths"] == 2_000
    assert peer["agree"], peer  # KS p > 0.001 and the medians within 4 standard errors
    assert peer["over_e2e"] > 1 and "peer: monaco" in text

    assert compare.main(["--compare", str(out), str(out)]) == 0
    side = capsys.readouterr().out
    assert "B/A" in side and "  1.000" in side


@pytest.mark.parametrize(
    "script, argv",
    [
        ("bench_streams.py", ["--n", "100000", "--repeats", "1"]),
        ("bench_simulate.py", ["--paths", "2000", "--repeats", "1", "--ref-paths", "500"]),
        ("kernel_stages.py", ["--paths", "2000", "--repeats", "1"]),
    ],
)
def test_standalone_scripts_run(script, argv, monkeypatch, capsys):
    """``python benchmarks/<script>`` (run as a script, in this process)."""
    monkeypatch.setattr(sys, "argv", [script, *argv])
    runpy.run_path(str(ROOT / "benchmarks" / script), run_name="__main__")
    assert "medians of 1" in capsys.readouterr().out


def test_the_streamed_summary_benchmark_runs(monkeypatch, capsys):
    """``python benchmarks/dask_scale.py`` at a tiny size: it validates the streamed summary
    against the in-memory one, then measures a child process."""
    argv = ["dask_scale.py", "--paths", "30000", "--check-paths", "20000", "--block", "8192"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "benchmarks" / "dask_scale.py"), run_name="__main__")
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert "validated" in out and "paths_per_s" in out and "in_memory_result_gib" in out


def test_fit_coverage_runs_at_a_tiny_size(capsys):
    """``python -m benchmarks.fit_coverage`` (docs/fitting.md's coverage table) at a tiny size."""
    from benchmarks.fit_coverage import main

    main(["--datasets", "3", "--boot", "5", "--n", "8", "--families", "Normal,Gamma"])
    out = capsys.readouterr().out
    assert "3 datasets, 5 replicates" in out
    assert "Normal     n=8    loc " in out and "Gamma      n=8    shape " in out
