"""The command line, mostly as a user runs it: ``python -m simcore ...`` in a subprocess."""

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import simcore
from simcore import default_scenario, loads_scenario
from simcore.cli import commands as cli
from simcore.engine.core import DEFAULT_SEED

pytestmark = pytest.mark.integration  # the CLI in real processes

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "simcore" / "scenarios" / "toy.toml"
NUMBERS_ONLY = {
    "summary.csv",
    "summary.parquet",
    "risk.csv",
    "risk.parquet",
    "simcore_run.xlsx",
    "manifest.json",
    "run.json",
}
CHARTED = (
    NUMBERS_ONLY
    | {"committee_pack.pdf"}
    | {f"{c}.{e}" for c in cli.CHART_NAMES for e in ("png", "svg")}
)


def simcore_cmd(*args, cwd, timeout=300, env=None):
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO), e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "simcore", *map(str, args)],
        cwd=cwd,
        env=e,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def snapshot(d: Path) -> dict:
    """Every entry of ``d`` (hidden ones included) with the bytes of files."""
    return {p.name: (p.read_bytes() if p.is_file() else "<dir>") for p in sorted(d.iterdir())}


def one_error_line(stderr: str, *needles):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("simcore: error: "), stderr
    for n in needles:
        assert n in lines[0], stderr
    assert "Traceback" not in stderr


# -- arguments ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--paths", "0"], "--paths: '0' is not a positive integer"),
        (["--paths", "-5"], "--paths: '-5' is not a positive integer"),
        (["--paths", "abc"], "--paths: 'abc' is not a positive integer"),
        (["--paths", "2.5"], "--paths: '2.5' is not a positive integer"),
        (["--seed", "-1"], "--seed: '-1' is not a non-negative integer"),
        (["--seed", "x1"], "--seed"),
        (["--horizon", "0"], "--horizon: '0' is not a horizon"),
        (["--horizon", "31"], "allowed 1 to 30"),
        (["--sampling", "halton"], "--sampling: invalid choice: 'halton'"),
        (["--threads", "0"], "--threads: '0' is not a positive integer"),
        (["--sampling", "antithetic", "--paths", "2001"], "must be even"),
        (["--scenario", "no-such-file.toml"], "not found"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--paths", "1e12", "--save-paths"], "--save-paths needs every path in memory"),
        (["--paths", "1e12", "--precision", "p_loss:hw=0.1"], "--precision needs every path"),
        (["--summary-only", "--save-paths"], "--summary-only: --save-paths needs every path"),
        (["--summary-only", "--precision", "p_loss:hw=0.1"], "--precision needs every path"),
    ],
)
def test_bad_run_flags_exit_2_with_one_line(tmp_path, monkeypatch, capsys, args, needle):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", *args]) == 2
    out, err = capsys.readouterr()
    one_error_line(err, needle)
    assert out == ""
    assert list(tmp_path.iterdir()) == []  # no work done, nothing written


@pytest.mark.parametrize("value", ["0", "-5", "abc"])
def test_bad_paths_in_a_real_process(tmp_path, value):
    r = simcore_cmd("run", "--paths", value, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    one_error_line(r.stderr, f"--paths: '{value}' is not a positive integer")
    assert r.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_out_must_not_be_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    r = simcore_cmd("run", "--out", "f", cwd=tmp_path)
    assert r.returncode == 2
    one_error_line(r.stderr, "--out", "not a directory")


def test_main_in_process_returns_exit_codes(capsys):
    assert cli.main(["run", "--paths", "0"]) == 2
    err = capsys.readouterr().err
    one_error_line(err, "--paths")
    assert cli.main([]) == 2  # no command: usage on stderr
    assert "COMMAND" in capsys.readouterr().err
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("run", "validate", "scenarios", "show-default"):
        assert command in out
    assert cli.main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in (
        "--scenario",
        "--paths",
        "--seed",
        "--horizon",
        "--sampling",
        "--threads",
        "--out",
        "--no-charts",
        "--quiet",
        "--force",
        "--debug",
    ):
        assert flag in out


def test_integer_forms():
    assert cli._positive_int("1e6") == 1_000_000
    assert cli._positive_int("100_000") == 100_000
    assert cli._seed("0") == 0


# -- validate, scenarios, show-default ------------------------------------------------------------
def test_validate_good_and_bad(tmp_path):
    r = simcore_cmd("validate", TOY, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"OK: {TOY}: Toy (TOY)")
    bad = tmp_path / "bad.toml"
    text = TOY.read_text(encoding="utf-8")
    assert "persistence = 0.5" in text
    bad.write_text(text.replace("persistence = 0.5", "persistence = 1.5", 1), encoding="utf-8")
    r = simcore_cmd("validate", bad, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout == ""
    assert "bad.toml" in r.stderr and "persistence" in r.stderr and "1.5" in r.stderr
    assert "line" in r.stderr and "Traceback" not in r.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [", encoding="utf-8")
    r = simcore_cmd("validate", TOY, broken, tmp_path / "missing.toml", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.startswith("OK:")  # the good one still says OK
    assert "not valid TOML" in r.stderr and "missing.toml" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 2


def test_scenarios_lists_builtins(tmp_path):
    r = simcore_cmd("scenarios", cwd=tmp_path)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert any(ln.startswith("paratera ") and "(default)" in ln for ln in lines)
    assert any(ln.startswith("toy ") for ln in lines)
    assert set(simcore.list_scenarios()) == {ln.split()[0] for ln in lines}


def test_show_default_round_trips(tmp_path):
    r = simcore_cmd("show-default", cwd=tmp_path)
    assert r.returncode == 0
    sc = loads_scenario(r.stdout)
    assert sc.digest() == default_scenario().digest()
    # the shipped file itself: its explanatory comments are kept
    assert "# -- deterministic inputs of the three statements" in r.stdout
    assert "# The balance sheet at the end of 2024" in r.stdout
    (tmp_path / "default.toml").write_text(r.stdout, encoding="utf-8")
    r = simcore_cmd("validate", "default.toml", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("OK: default.toml: Paratera")


# -- runs -----------------------------------------------------------------------------------------
def test_run_writes_everything_and_reproduces_bytes(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    runs = {}
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):  # seeds: arbitrary, fixed
        r = simcore_cmd(
            "run",
            "--paths",
            3000,
            "--seed",
            seed,
            "--save-paths",
            "--out",
            tmp_path / name,
            cwd=work,
        )
        assert r.returncode == 0, r.stderr
        runs[name] = snapshot(tmp_path / name)
    assert list(work.iterdir()) == []  # nothing written outside --out
    a, b, c = runs["a"], runs["b"], runs["c"]
    assert set(a) == CHARTED | {"results.npz"}  # no staging directory or temporary file left
    for f in CHARTED - {"run.json"} | {"results.npz"}:
        assert a[f] == b[f], f"{f} differs between two runs with the same seed"
        assert a[f] != c[f], f"{f} is the same for a different seed"
    # the manifest: engine manifest, CLI arguments, run id, a sha256 per file
    m = json.loads(a["manifest.json"])
    assert "created" not in m and m["run"]["timestamp_file"] == "run.json"
    assert m["seed"]["entropy"] == 11 and m["n_paths"] == 3000
    assert m["cli"]["seed"] == 11 and m["cli"]["paths"] == 3000
    listed = {f["name"]: f["sha256"] for f in m["files"]}
    assert set(listed) == CHARTED - {"manifest.json", "run.json"} | {"results.npz"}
    for f, digest in listed.items():
        assert hashlib.sha256(a[f]).hexdigest() == digest
    log = json.loads(a["run.json"])
    assert (
        log["created"] and log["manifest_sha256"] == hashlib.sha256(a["manifest.json"]).hexdigest()
    )
    # the files load back
    res = simcore.SimulationResult.load(tmp_path / "a" / "results.npz")
    assert res.n_paths == 3000 and res.manifest["run"]["id"] == m["run"]["id"]


def test_run_summary_on_stdout(tmp_path):
    r = simcore_cmd("run", "--paths", 2000, "--no-charts", "--out", "o", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Paratera (839493.BJ) · 2,000 paths · seed 20250605" in out
    assert "Net profit attributable (CNY m)" in out
    assert "market price 157.80 on 2025-06-05" in out
    for label in ("P/S ", "P/E ", "EV/EBITDA ", "DCF "):
        assert sum(ln.lstrip().startswith(label) for ln in out.splitlines()) == 3
    assert "(EPS <= 0, price 0: " in out and "(terminal value " in out
    assert "10 fade years to terminal growth" in out and "simcore reverse-dcf" in out
    rows = [ln.split() for ln in out.splitlines() if ln.strip().startswith("2025 ")]
    assert rows[0][-2] == "24.0"  # the report's forecast beside the quantiles
    assert "P(>market)" in out and "P(loss)" in out
    assert set(snapshot(tmp_path / "o")) == NUMBERS_ONLY
    assert "simulating" in r.stderr


def test_reverse_dcf_prints_what_the_market_price_needs(tmp_path):
    r = simcore_cmd("reverse-dcf", "--paths", 500, "--out", "o", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "reverse DCF (500 paths)" in r.stdout
    assert "central path needs revenue growth in every fade year of" in r.stdout
    assert "central path needs NOPAT margin at the end of the fade of" in r.stdout
    names = {p.name for p in (tmp_path / "o").iterdir()}
    assert names == {"reverse_dcf.csv", "reverse_dcf.png", "reverse_dcf.svg", "manifest.json"}
    table = (tmp_path / "o" / "reverse_dcf.csv").read_text()
    assert "fade_growth,target price (per share),157.8" in table
    r = simcore_cmd(
        "reverse-dcf",
        "--solve-for",
        "terminal_margin",
        "--target",
        50,
        "--paths",
        500,
        "--out",
        "o2",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "give 50.00 per share" in r.stdout and "fade growth" not in r.stdout


def test_every_flag_is_wired(tmp_path):
    r = simcore_cmd(
        "run",
        "--scenario",
        TOY,
        "--paths",
        2000,
        "--seed",
        5,
        "--horizon",
        2,
        "--sampling",
        "lhs",
        "--threads",
        1,
        "--out",
        "o",
        "--no-charts",
        "--quiet",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""  # --quiet
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["scenario"]["name"] == "Toy" and m["cli"]["scenario"] == str(TOY)
    assert (m["n_paths"], m["seed"]["entropy"], m["horizon"], m["sampling"], m["threads"]) == (
        2000,
        5,
        2,
        "lhs",
        1,
    )
    assert set(snapshot(tmp_path / "o")) == NUMBERS_ONLY  # --no-charts
    summary = (tmp_path / "o" / "summary.csv").read_text().splitlines()
    assert {ln.split(",")[1] for ln in summary[1:]} == {"2025", "2026"}
    r = simcore_cmd(
        "run",
        "--scenario",
        "toy",
        "--paths",
        2000,
        "--out",
        "p",
        "--no-charts",
        "--quiet",
        "--sampling",
        "sobol",
        cwd=tmp_path,
    )  # a built-in by name
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert m["cli"]["scenario"] == "builtin:toy" and m["sampling"] == "sobol"


def test_default_out_dir_is_cwd_simcore_out(tmp_path):
    r = simcore_cmd("run", "--paths", 1000, "--no-charts", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["simcore-out"]
    m = json.loads((tmp_path / "simcore-out" / "manifest.json").read_text())
    assert m["seed"]["entropy"] == DEFAULT_SEED and m["scenario"]["name"] == "Paratera"


def test_force_is_needed_to_replace_a_different_run(tmp_path):
    base = ["run", "--scenario", TOY, "--paths", 2000, "--out", "o", "--quiet"]
    assert simcore_cmd(*base, "--seed", 1, "--no-charts", cwd=tmp_path).returncode == 0
    first = snapshot(tmp_path / "o")
    # the same command again may overwrite (same bytes except run.json)
    r = simcore_cmd(*base, "--seed", 1, "--no-charts", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    again = snapshot(tmp_path / "o")
    assert {k: v for k, v in again.items() if k != "run.json"} == {
        k: v for k, v in first.items() if k != "run.json"
    }
    assert again["run.json"] != first["run.json"]  # it did run again
    # a different seed is a different run: refused, nothing touched
    r = simcore_cmd(*base, "--seed", 2, cwd=tmp_path)
    assert r.returncode == 1
    one_error_line(r.stderr, "different run", "--force", "seed 1")
    assert snapshot(tmp_path / "o") == again
    # --force replaces it; a later numbers-only run removes the charts it does not produce
    r = simcore_cmd(*base, "--seed", 2, "--force", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    now = snapshot(tmp_path / "o")
    assert set(now) == CHARTED
    assert json.loads(now["manifest.json"])["seed"]["entropy"] == 2
    assert now["summary.csv"] != first["summary.csv"]
    r = simcore_cmd(*base, "--seed", 3, "--force", "--no-charts", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert set(snapshot(tmp_path / "o")) == NUMBERS_ONLY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no staging folder or lock


def test_errors_are_one_line_unless_debug(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        TOY.read_text(encoding="utf-8").replace("base_year = 2024", "base_year = 1"),
        encoding="utf-8",
    )
    r = simcore_cmd("run", "--scenario", bad, "--paths", 100, "--out", "o", cwd=tmp_path)
    assert r.returncode == 1
    one_error_line(r.stderr, "bad.toml", "base_year")
    assert not (tmp_path / "o").exists()
    r = simcore_cmd("run", "--scenario", bad, "--paths", 100, "--out", "o", "--debug", cwd=tmp_path)
    assert r.returncode == 1
    assert "Traceback" in r.stderr and r.stderr.strip().splitlines()[-1].startswith(
        "simcore: error: "
    )
    r = simcore_cmd("--debug", "validate", bad, cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" in r.stderr


def _sigint_deliverable():
    """In the child before exec: SIGINT unblocked and at its default action, whatever this
    process inherited or set (Python then installs its KeyboardInterrupt handler)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _signal_state(pid: int) -> str:
    """The signal masks of a Linux process (blocked, ignored, caught), '' elsewhere."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            lines = [ln for ln in fh if ln.startswith(("SigBlk", "SigIgn", "SigCgt"))]
    except OSError:
        return ""
    return "\nchild signal masks: " + " ".join(ln.strip() for ln in lines)


def test_sigint_leaves_no_partial_files_and_keeps_earlier_outputs(tmp_path):
    out = tmp_path / "o"
    r = simcore_cmd("run", "--paths", 2000, "--out", out, "--no-charts", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    before = snapshot(out)
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO), e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simcore",
            "run",
            "--paths",
            "2000000",
            "--seed",
            "99",
            "--out",
            str(out),
            "--force",
            "--no-charts",
        ],
        cwd=tmp_path,
        env=e,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_deliverable,
    )
    try:
        # Ctrl-C as soon as the simulation starts. It takes about a second here, and the whole
        # run a few, so the signal lands mid-run even on a loaded machine; a fixed delay after
        # the start raced the end of the run once the kernel got faster.
        seen = []
        while not any("simulating" in line for line in seen):
            line = proc.stderr.readline()
            assert line, "".join(seen) + proc.communicate()[1]  # the run ended before that
            seen.append(line)
        assert list(tmp_path.glob(".o.simcore-staging-*")), "nothing staged yet"
        state = _signal_state(proc.pid)  # for the failure message
        proc.send_signal(signal.SIGINT)
        stdout, rest = proc.communicate(timeout=120)
        stderr = "".join(seen) + rest + state
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted; no outputs written" in stderr and "intact" in stderr
    assert stdout == ""
    assert snapshot(out) == before  # byte for byte, and no staging directory or temp file


# -- progress and compile notice (in process) --------------------------------------------------
class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_only():
    stream = FakeTTY()
    update, close = cli.progress_bar(1000, stream, delay=0)
    for done in (250, 500, 1000):
        update(done, 1000)
    close()
    text = stream.getvalue()
    assert "simulating" in text and "path" in text
    update, close = cli.progress_bar(1000, io.StringIO())  # not a terminal
    assert update is None
    close()
    update, close = cli.progress_bar(1000, FakeTTY(), enabled=False)  # --quiet
    assert update is None


def test_compile_notice(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "kernels_need_compiling", lambda: "first run")
    code = cli.main(
        [
            "run",
            "--scenario",
            str(TOY),
            "--paths",
            "500",
            "--out",
            str(tmp_path / "o"),
            "--no-charts",
        ]
    )
    assert code == 0
    assert "compiling kernels (first run only" in capsys.readouterr().err
    monkeypatch.setattr(cli, "kernels_need_compiling", lambda: None)
    code = cli.main(
        [
            "run",
            "--scenario",
            str(TOY),
            "--paths",
            "500",
            "--out",
            str(tmp_path / "o"),
            "--no-charts",
        ]
    )
    assert code == 0
    assert "compiling" not in capsys.readouterr().err


def test_kernels_need_compiling_reads_numba_cache(tmp_path):
    code = "from simcore.cli.commands import kernels_need_compiling as k; print(k())"
    e = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "empty-cache"))
    e["PYTHONPATH"] = os.pathsep.join([str(REPO), e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    r = subprocess.run(
        [sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "first run"
    # this process has run the kernels (fixtures above), so the cache is there
    from simcore.engine.core import simulate

    simulate(default_scenario(), n_paths=10)
    assert cli.kernels_need_compiling() is None


@pytest.mark.slow  # every kernel compiles into an empty numba cache (about a minute)
def test_a_first_run_compiles_side_by_side_and_gives_the_warm_runs_bytes(tmp_path):
    e = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "empty-cache"))
    e["PYTHONPATH"] = os.pathsep.join([str(REPO), e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    run = [sys.executable, "-m", "simcore", "run", "--scenario", "toy", "--paths", "3000"]
    first = subprocess.run(
        [*run, "--no-charts", "--out", str(tmp_path / "a")],
        env=e,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert first.returncode == 0, first.stderr
    assert "compiling kernels (first run only" in first.stderr
    log = json.loads((tmp_path / "a" / "run.json").read_text())
    assert log["kernels_compiled"] is True
    assert log["compiled_side_by_side"] is (sys.platform.startswith("linux"))
    code = "from simcore.cli.commands import kernels_need_compiling as k; print(k())"
    after = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True)
    assert after.stdout.strip() == "None", after.stderr  # the child left the kernel cached
    e.pop("NUMBA_CACHE_DIR")  # this checkout's cache: warm
    warm = subprocess.run(
        [*run, "--no-charts", "--out", str(tmp_path / "b")], env=e, capture_output=True, text=True
    )
    assert warm.returncode == 0, warm.stderr
    for name in ("summary.csv", "risk.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_backtest_scores_actuals_against_a_saved_run(tmp_path):
    r = simcore_cmd(
        "run",
        "--scenario",
        TOY,
        "--paths",
        2000,
        "--no-charts",
        "--save-paths",
        "--out",
        "o",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    (tmp_path / "a.csv").write_text("output,year,actual\nrevenue,2025,110\nrevenue,2026,1e9\n")
    r = simcore_cmd(
        "backtest", "--results", "o/results.npz", "--actuals", "a.csv", "--out", "bt", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert "revenue 2026: actual 1e+09 at percentile 100%" in r.stdout
    assert "2 actuals: inside central 50%" in r.stdout
    names = {p.name for p in (tmp_path / "bt").iterdir()}
    assert names == {
        "backtest.csv",
        "coverage.csv",
        "backtest.png",
        "backtest.svg",
        "manifest.json",
    }
    (tmp_path / "b.csv").write_text("output,year,actual\nsales,2025,1\n")
    r = simcore_cmd(
        "backtest", "--results", "o/results.npz", "--actuals", "b.csv", "--out", "bt2", cwd=tmp_path
    )
    assert r.returncode == 1 and "'sales': the run has no such output" in r.stderr
    assert not (tmp_path / "bt2").exists()


ACTUALS_TOML = (
    '\n[actuals.fy2025]\nyear = 2025\ndate = 2026-03-30\nsource = "synthetic, for tests"\n'
    "revenue = 112.0\n"
    '\n[actuals.h1_2026]\nyear = 2026\nmonths = 6\ndate = 2026-08-30\nsource = "synthetic"\n'
    "revenue = 60.0\n"
    '\n[actuals.fy2026]\nyear = 2026\ndate = 2027-03-30\nsource = "synthetic"\n'
    "revenue = 121.0\n"
)


def test_nowcast_run_and_vintage_backtest(tmp_path):
    (tmp_path / "toy.toml").write_text(TOY.read_text() + ACTUALS_TOML)
    r = simcore_cmd(
        "run",
        "--scenario",
        "toy.toml",
        "--paths",
        2000,
        "--no-charts",
        "--nowcast",
        "2026-09-01",
        "--save-paths",
        "--out",
        "now",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert (
        "Nowcast as of 2026-09-01: fixed to the reported 2025 revenue 112 (full year)" in r.stdout
    )
    manifest = json.loads((tmp_path / "now" / "manifest.json").read_text())
    assert manifest["cli"]["nowcast"] == "2026-09-01"
    r = simcore_cmd(
        "run",
        "--scenario",
        "toy.toml",
        "--paths",
        2000,
        "--no-charts",
        "--save-paths",
        "--out",
        "plain",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    # two saved runs as vintages: the nowcast is scored only on the 2026 full year
    r = simcore_cmd(
        "backtest",
        "--results",
        "plain/results.npz",
        "now/results.npz",
        "--scenario",
        "toy.toml",
        "--out",
        "bt",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "as of 2026-09-01: revenue 2026: actual 121" in r.stdout
    assert "3 actuals over 2 vintages" in r.stdout
    # vintages re-run from the scenario
    r = simcore_cmd(
        "backtest",
        "--scenario",
        "toy.toml",
        "--as-of",
        "2026-01-01",
        "2026-09-01",
        "--paths",
        2000,
        "--out",
        "bt2",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    table = (tmp_path / "bt2" / "backtest.csv").read_text().splitlines()
    assert table[0].startswith("vintage,output,year,actual,pit")
    assert len(table) == 1 + 3
    r = simcore_cmd(
        "run", "--scenario", "toy.toml", "--nowcast", "2026-13-01", "--out", "x", cwd=tmp_path
    )
    assert r.returncode == 2 and "argument --nowcast: '2026-13-01' is not a date" in r.stderr
    r = simcore_cmd("run", "--scenario", TOY, "--nowcast", "--out", "x", cwd=tmp_path)
    assert r.returncode == 2 and "no actuals to nowcast with" in r.stderr
