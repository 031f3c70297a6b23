"""Nothing lost under any signal: the atomic publish of an output folder (simcore.io.publish), the
signal handling of the command line (simcore.cli.signals), and their use by ``simcore run``,
``simcore sensitivity`` and ``simcore stress``.

The publish is faulted at every filesystem call it makes: a forked child counts the calls
(``os.rename``, ``os.unlink``, ``os.rmdir``, ``os.open``, ``os.fsync``, the exchange, ...) from
the start of ``publish()`` and kills itself with SIGKILL before the k-th, for every k until a run
makes fewer than k calls; the folder must then hold the old run or the new one, complete, and the
next run must clean up what the dead one left. The command line is signalled for real, in
subprocesses.
"""

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from publish_child import KNOWN_NAMES, write_folder

from simcore.cli import commands as cli
from simcore.cli import signals as _signals
from simcore.io import publish as _publish

pytestmark = pytest.mark.integration  # signals and kills of real processes

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "simcore" / "scenarios" / "toy.toml"


def simcore_env(extra=None):
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO), e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    e.update(extra or {})
    return e


def simcore_cmd(*args, cwd, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "simcore", *map(str, args)],
        cwd=cwd,
        env=simcore_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tree(d: Path) -> dict:
    """Every entry under ``d`` (hidden ones included), files with their bytes."""
    return {
        str(p.relative_to(d)): (p.read_bytes() if p.is_file() else "<dir>")
        for p in sorted(d.rglob("*"))
    }


def complete_run(out: Path) -> str:
    """The manifest's ``tag`` if ``out`` is a complete folder (every listed file present with
    its sha256, nothing else), else raise."""
    m = json.loads((out / "manifest.json").read_text())
    listed = {f["name"]: f["sha256"] for f in m["files"]}
    present = {p.name for p in out.iterdir()}
    assert present == set(listed) | {"manifest.json"}, (present, listed)
    for name, digest in listed.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    return m["tag"]


KNOWN = KNOWN_NAMES.__contains__


# -- faulting every filesystem call of the publish ------------------------------------------
def _publish_in_child(out: Path, tag: str, kill_at: int, names, use_exchange: bool) -> int:
    """In a child process, publish a folder tagged ``tag`` into ``out``, SIGKILLed before the
    ``kill_at``-th filesystem call of the publish (0: never). Returns the number of calls the
    publish made, or -SIGKILL."""
    r = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("publish_child.py")),
            str(out),
            tag,
            str(kill_at),
            ",".join(names),
            "1" if use_exchange else "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if r.returncode == -signal.SIGKILL:
        return -signal.SIGKILL
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


@pytest.mark.parametrize("use_exchange", [True, False], ids=["exchange", "two-renames"])
@pytest.mark.parametrize("first", [True, False], ids=["new-out", "replace"])
def test_publish_killed_at_every_filesystem_call_leaves_old_or_new_complete(
    tmp_path, use_exchange, first
):
    out = tmp_path / "out"
    new_names = ("a.csv", "d.csv")  # the new run drops b.csv and c.npz and adds d.csv
    k = 1
    seen_old = seen_new = 0
    while True:
        if out.exists():
            shutil.rmtree(out)
        if not first:
            out.mkdir()
            write_folder(out, "old")
        n = _publish_in_child(out, "new", k, new_names, use_exchange)
        if n >= 0:  # the publish made fewer than k calls: every call has been faulted
            assert complete_run(out) == "new"
            assert n == k - 1, (n, k)
            break
        # killed before call k: old or new, complete, and nothing else of ours in out
        if out.exists():
            tag = complete_run(out)
            seen_old += tag == "old"
            seen_new += tag == "new"
        else:  # only possible between the two renames of the fallback, or for a first run
            assert first or not use_exchange, k
        # the next run cleans up what the dead one left, and restores a folder it moved away
        folder = _publish.OutputFolder(out, KNOWN)
        folder.prepare()
        if not first:
            assert out.is_dir(), f"killed at call {k}: the earlier folder was not restored"
            assert complete_run(out) in ("old", "new")
        assert sorted(p.name for p in tmp_path.iterdir() if p.name != "out") == [], k
        k += 1
    assert k > 3  # the publish makes several calls, each one faulted
    if not first:
        assert seen_old and seen_new  # the fault landed on both sides of the switch


def test_publish_refuses_a_live_run_and_takes_over_a_dead_one(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_folder(out, "old")
    # a dead run whose pid was reused by a live process (ours): no lock held, so it is stale
    stale = tmp_path / f".out{_publish.STAGING}{os.getpid()}-deadbeef"
    stale.mkdir()
    (stale / "a.csv").write_text("partial")
    lock = stale.with_name(stale.name + _publish.LOCK_SUFFIX)
    lock.write_text(f"{os.getpid()}\n")
    _publish.OutputFolder(out, KNOWN).prepare()
    assert not stale.exists() and not lock.exists()
    assert complete_run(out) == "old"
    # a live run holds its lock: refused, nothing touched
    live = tmp_path / f".out{_publish.STAGING}1-cafef00d"
    live.mkdir()
    live_lock = live.with_name(live.name + _publish.LOCK_SUFFIX)
    fd = os.open(live_lock, os.O_RDWR | os.O_CREAT)
    os.write(fd, b"4242\n")
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(
            _publish.OutputError,
            match=r"another simcore run \(pid 4242\) is "
            r"writing to .*out",
        ):
            _publish.OutputFolder(out, KNOWN).prepare()
        assert live.exists()
    finally:
        os.close(fd)
    _publish.OutputFolder(out, KNOWN).prepare()  # its process died: taken over
    assert not live.exists() and not live_lock.exists()


def test_publish_refuses_foreign_files_the_current_folder_and_a_mount_point(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("ours")
    (out / "notes.txt").write_text("the user's")
    (out / "sub").mkdir()
    with pytest.raises(
        _publish.OutputError,
        match=r"holds 2 entries simcore did not write "
        r"\(notes.txt, sub/\)",
    ):
        _publish.OutputFolder(out, KNOWN).prepare()
    (out / "notes.txt").unlink()
    (out / "sub").rmdir()
    _publish.OutputFolder(out, KNOWN).prepare()  # only ours: fine
    empty = tmp_path / "empty"
    empty.mkdir()
    _publish.OutputFolder(empty, KNOWN).prepare()
    monkeypatch.chdir(empty)
    for d in (".", str(tmp_path)):
        with pytest.raises(_publish.OutputError, match="current folder"):
            _publish.OutputFolder(d, KNOWN).prepare()
    real_stat = os.stat

    class Stat:
        def __init__(self, st, dev):
            self.st_dev, self._st = dev, st

        def __getattr__(self, a):
            return getattr(self._st, a)

    def stat(p, *a, **k):  # out on a device of its own
        st = real_stat(p, *a, **k)
        return Stat(st, st.st_dev + 1) if Path(p) == out else st

    monkeypatch.setattr(os, "stat", stat)
    with pytest.raises(_publish.OutputError, match="mount point"):
        _publish.OutputFolder(out, KNOWN).prepare()


def test_publish_through_a_symlinked_out_keeps_the_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    write_folder(real, "old")
    link = tmp_path / "link"
    link.symlink_to(real)
    folder = _publish.OutputFolder(link, KNOWN)
    folder.prepare()
    with folder.staging() as stage:
        write_folder(stage, "new")
        folder.publish()
    assert link.is_symlink() and complete_run(link) == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_an_error_before_the_publish_leaves_nothing_and_no_new_parents(tmp_path):
    out = tmp_path / "x" / "y" / "out"
    folder = _publish.OutputFolder(out, KNOWN)
    folder.prepare()
    with pytest.raises(RuntimeError), folder.staging() as stage:
        (stage / "a.csv").write_text("half")
        raise RuntimeError("a failure while writing")
    assert list(tmp_path.iterdir()) == []


# -- signals -----------------------------------------------------------------------------------
@pytest.fixture
def default_sighup():
    """SIGHUP at its default action for the test: under nohup it is inherited ignored, and
    handled() rightly leaves an ignored signal ignored (test_an_ignored_signal_stays_ignored)."""
    old = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    yield
    signal.signal(signal.SIGHUP, old)


def test_signals_raise_once_then_are_remembered(default_sighup):
    # signal.raise_signal delivers to this thread and runs the handler before it returns
    # (os.kill may land on another thread, whose handler runs whenever the main thread next
    # checks)
    with _signals.handled() as sig:
        with pytest.raises(_signals.Interrupted) as info:
            signal.raise_signal(signal.SIGTERM)
        assert info.value.exit_code == 143 and str(info.value) == "SIGTERM"
        signal.raise_signal(signal.SIGINT)  # a repeat: ignored
        assert sig.received == signal.SIGTERM
    with _signals.handled() as sig, sig.deferred():
        signal.raise_signal(signal.SIGHUP)
        assert sig.received == signal.SIGHUP  # remembered, not raised
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored


def test_an_ignored_signal_stays_ignored():
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        with _signals.handled() as sig:
            signal.raise_signal(signal.SIGHUP)
            time.sleep(0.05)
            assert sig.received is None
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, old)


def _deliverable():
    """In the child before exec: the handled signals unblocked and at their default action."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, list(_signals.HANDLED))
    for s in _signals.HANDLED:
        signal.signal(s, signal.SIG_DFL)


def _signal_at(args, cwd, stage: str, signals, gap: float = 0.0, stream: str = "stderr"):
    """Start ``simcore ARGS``, send ``signals`` as soon as it prints ``stage`` on ``stream``
    (``gap`` s apart); returns (returncode, stdout, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "simcore", *map(str, args)],
        cwd=cwd,
        env=simcore_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_deliverable,
    )
    try:
        seen = []
        while not any(stage in line for line in seen):
            line = getattr(proc, stream).readline()
            assert line, "".join(seen) + proc.communicate()[1]  # ended before that stage
            seen.append(line)
        for s in signals:
            proc.send_signal(s)
            time.sleep(gap)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    if stream == "stderr":
        return proc.returncode, stdout, "".join(seen) + stderr
    return proc.returncode, "".join(seen) + stdout, stderr


@pytest.mark.parametrize(
    ("stage", "signals"),
    [
        ("simulating", [signal.SIGTERM]),
        ("simulating", [signal.SIGHUP]),
        ("simulating", [signal.SIGINT] * 6),  # repeated Ctrl-C: no traceback at shutdown
        ("the summary and risk tables", [signal.SIGTERM]),
        ("drawing 5 charts", [signal.SIGTERM]),
        ("writing the committee pack", [signal.SIGINT, signal.SIGTERM]),
    ],
    ids=[
        "term-simulating",
        "hup-simulating",
        "int-x6-simulating",
        "term-tables",
        "term-charts",
        "int-term-pack",
    ],
)
def test_a_signal_at_any_stage_leaves_the_earlier_run_and_nothing_else(tmp_path, stage, signals):
    out = tmp_path / "o"
    r = simcore_cmd("run", "--paths", 2000, "--out", out, "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    before = tree(tmp_path)
    paths = 2_000_000 if stage == "simulating" else 200_000
    code, stdout, stderr = _signal_at(
        ["run", "--paths", paths, "--seed", 99, "--out", out, "--force"],
        tmp_path,
        stage,
        signals,
        gap=0.05,
    )
    assert code == 128 + signals[0], stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    name = signal.Signals(signals[0]).name
    want = "interrupted" if signals[0] == signal.SIGINT else f"stopped by {name}"
    assert f"{want}; no outputs written; the earlier outputs in {out}/ are intact" in stderr
    assert stdout == ""
    assert tree(tmp_path) == before  # byte for byte; no staging folder, lock or temp file


def test_sigterm_before_a_first_run_leaves_no_folder(tmp_path):
    code, _, stderr = _signal_at(
        ["run", "--paths", 2_000_000, "--out", "new/o"], tmp_path, "simulating", [signal.SIGTERM]
    )
    assert code == 143, stderr
    assert list(tmp_path.iterdir()) == []  # not even the parent it made


def test_the_commit_killed_at_every_step_through_the_cli(tmp_path):
    """SIMCORE_FAULT_AT=k:SIGKILL kills a real ``simcore run`` at the k-th step of its commit;
    the folder holds the earlier or the new run, complete, and the next run cleans up."""
    out = tmp_path / "o"
    base = [
        "run",
        "--scenario",
        TOY,
        "--paths",
        500,
        "--out",
        out,
        "--quiet",
        "--force",
        "--no-charts",
    ]
    assert simcore_cmd(*base, "--seed", 1, cwd=tmp_path).returncode == 0
    seeds = []
    for k in range(1, 10):
        r = simcore_cmd(*base, "--seed", 2, cwd=tmp_path, env={"SIMCORE_FAULT_AT": f"{k}:SIGKILL"})
        seeds.append(json.loads((out / "manifest.json").read_text())["seed"]["entropy"])
        for f in json.loads((out / "manifest.json").read_text())["files"]:
            assert hashlib.sha256((out / f["name"]).read_bytes()).hexdigest() == f["sha256"]
        if r.returncode == 0:  # fewer than k steps: every step has been faulted
            break
        assert r.returncode == -signal.SIGKILL, r.stderr
        r = simcore_cmd(*base, "--seed", 1, cwd=tmp_path)  # cleans up, then replaces
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]
    assert 1 in seeds and 2 in seeds and seeds[-1] == 2 and k > 3


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_the_audit_reproducer_sigterm_at_the_exchange(tmp_path):
    """The audit's reproducer, with strace injecting the signal at the one rename that switches
    the folders (renameat2): the earlier run stays, complete."""
    out = tmp_path / "O"
    base = ["run", "--paths", 2000, "--out", out, "--force", "--no-charts", "--quiet"]
    assert simcore_cmd(*base, "--seed", 1, cwd=tmp_path).returncode == 0
    for sig in ("SIGTERM", "SIGKILL"):
        before = tree(out)
        r = subprocess.run(
            [
                "strace",
                "-f",
                "-qq",
                "-o",
                "/dev/null",
                "-e",
                "trace=renameat2",
                "-e",
                f"inject=renameat2:signal={sig}:when=1",
                sys.executable,
                "-m",
                "simcore",
                *map(str, base),
                "--seed",
                "2",
            ],
            cwd=tmp_path,
            env=simcore_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
        if sig == "SIGTERM":  # held back during the swap, acted on after it
            assert "SIGTERM arrived after the outputs were complete" in r.stderr, r.stderr
            assert r.returncode == 143
            assert json.loads((out / "manifest.json").read_text())["seed"]["entropy"] == 2
            assert simcore_cmd(*base, "--seed", 1, cwd=tmp_path).returncode == 0
        else:
            assert tree(out) == before
    assert simcore_cmd(*base, "--seed", 1, cwd=tmp_path).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["O"]


# -- the run's folder ------------------------------------------------------------------------
def test_an_altered_folder_is_not_replaced_without_force(tmp_path):
    base = ["run", "--scenario", TOY, "--paths", 500, "--out", "o", "--quiet", "--no-charts"]
    assert simcore_cmd(*base, cwd=tmp_path).returncode == 0
    (tmp_path / "o" / "summary.csv").unlink()  # a mixed or damaged folder
    (tmp_path / "o" / "fan_net_profit.png").write_bytes(b"not from this run")
    r = simcore_cmd(*base, cwd=tmp_path)  # even the same command
    assert r.returncode == 1
    assert "incomplete or altered run" in r.stderr and "summary.csv missing or changed" in r.stderr
    assert "fan_net_profit.png not in its manifest" in r.stderr and "--force" in r.stderr
    assert simcore_cmd(*base, "--force", cwd=tmp_path).returncode == 0
    assert (tmp_path / "o" / "summary.csv").exists()
    assert not (tmp_path / "o" / "fan_net_profit.png").exists()


def test_out_with_foreign_files_is_refused_before_any_work(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "notes.txt").write_text("mine")
    r = simcore_cmd("run", "--paths", 500, "--out", "o", cwd=tmp_path)
    assert r.returncode == 1
    assert "holds 1 entry simcore did not write (notes.txt)" in r.stderr
    assert "simulating" not in r.stderr
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("command", ["sensitivity", "stress", "reverse-dcf"])
def test_sensitivity_and_stress_stage_record_and_need_force(tmp_path, command):
    extra = ["--no-sobol"] if command == "sensitivity" else []
    base = [command, "--scenario", TOY, "--paths", 400, "--out", "o", "--quiet", *extra]
    r = simcore_cmd(*base, "--seed", 1, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    first = tree(tmp_path)
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["run"]["command"] == command and m["run"]["identity"]["seed"] == 1
    listed = {f["name"]: f["sha256"] for f in m["files"]}
    assert set(listed) | {"manifest.json"} == {p.name for p in (tmp_path / "o").iterdir()}
    for name, digest in listed.items():
        assert hashlib.sha256((tmp_path / "o" / name).read_bytes()).hexdigest() == digest
    r = simcore_cmd(*base, "--seed", 1, cwd=tmp_path)  # the same again: same bytes
    assert r.returncode == 0 and tree(tmp_path) == first
    r = simcore_cmd(*base, "--seed", 2, cwd=tmp_path)
    assert r.returncode == 1 and "different run" in r.stderr and "--force" in r.stderr
    assert tree(tmp_path) == first
    r = simcore_cmd(*base, "--seed", 2, "--force", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (
        json.loads((tmp_path / "o" / "manifest.json").read_text())["run"]["identity"]["seed"] == 2
    )
    other = "stress" if command != "stress" else "sensitivity"  # another command's folder
    r = simcore_cmd(other, "--scenario", TOY, "--paths", 400, "--out", "o", cwd=tmp_path)
    assert r.returncode == 1 and "did not write" in r.stderr


def test_sigterm_stops_stress_cleanly(tmp_path):
    code, stdout, stderr = _signal_at(
        ["stress", "--paths", 200_000, "--out", "o"],
        tmp_path,
        "stress scenarios",
        [signal.SIGTERM],
        stream="stdout",
    )
    assert code == 143 and "Traceback" not in stderr, stderr
    assert "stopped by SIGTERM; no outputs written" in stderr
    assert list(tmp_path.iterdir()) == []


# -- small CLI inputs --------------------------------------------------------------------------
def test_seed_in_exponent_form_is_read_exactly(tmp_path):
    r = simcore_cmd(
        "run",
        "--scenario",
        TOY,
        "--paths",
        200,
        "--seed",
        "1e30",
        "--out",
        "o",
        "--quiet",
        "--no-charts",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["seed"]["entropy"] == 10**30 and m["cli"]["seed"] == 10**30
    for bad in ("1.5e0", "1e-3", "nan", "inf", "1e99999"):
        with pytest.raises(Exception, match="not a non-negative integer"):
            cli._seed(bad)


def test_validate_checks_every_file_even_after_an_unreadable_one(tmp_path):
    (tmp_path / "adir.toml").mkdir()
    r = simcore_cmd("validate", "adir.toml", "missing.toml", TOY, cwd=tmp_path)
    assert r.returncode == 1
    assert "OK: " in r.stdout and "Toy" in r.stdout
    errs = r.stderr.strip().splitlines()
    assert len(errs) == 2 and "adir.toml" in errs[0] and "missing.toml" in errs[1], r.stderr
    assert "Traceback" not in r.stderr


def test_control_characters_are_shown_escaped():
    assert cli._printable("Acme\x1b[31m red\nline") == "Acme\\x1b[31m red\\nline"
    assert cli._printable("并行科技 (839493.BJ)") == "并行科技 (839493.BJ)"
