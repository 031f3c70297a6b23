"""Work done in a forked child: the same bytes as done here, failures named, nothing left."""

import os
import signal
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simcore.io.background import Background, BackgroundError, can_fork, frame, unframe

forks = pytest.mark.skipif(not can_fork(), reason="Background forks on Linux only")


@given(st.dictionaries(st.text(max_size=20), st.binary(max_size=300), max_size=6))
def test_frames_round_trip(files):
    assert unframe(frame(files)) == files


def _sleeps():
    time.sleep(60)
    return {}


def _files():
    return {"a.txt": b"pid-free bytes", "b.bin": bytes(range(256)) * 500}  # over a pipe's 64 KiB


@forks
def test_forked_work_gives_the_files_and_runs_in_another_process():
    with Background(lambda: {**_files(), "pid": str(os.getpid()).encode()}) as bg:
        assert bg._pid is not None  # started at once, not when asked
        got = dict(bg.result())
    assert got.pop("pid") != str(os.getpid()).encode()
    assert got == _files()
    assert bg.result() is bg.result()  # asked again: the same files, not a second run


def test_without_fork_the_work_runs_when_asked(monkeypatch):
    monkeypatch.setenv("SIMCORE_BACKGROUND", "0")
    calls = []
    bg = Background(lambda: calls.append(1) or _files())
    assert not can_fork() and calls == []
    assert bg.result() == _files() and bg.result() == _files() and calls == [1]


def _fails():
    raise ValueError("no such chart: 'fan_nowhere'")


@pytest.mark.parametrize("fork", ["1", "0"])
def test_a_failure_is_raised_with_what_failed(monkeypatch, fork):
    monkeypatch.setenv("SIMCORE_BACKGROUND", fork)
    with Background(_fails, "drawing the charts") as bg:
        error = BackgroundError if can_fork() else ValueError
        with pytest.raises(error, match="fan_nowhere") as info:
            bg.result()
    if can_fork():
        assert "drawing the charts failed" in str(info.value) and "ValueError" in str(info.value)


@forks
def test_a_killed_child_is_an_error_not_an_empty_result():
    def dies():
        os._exit(3)

    with Background(dies, "drawing the pack") as bg, pytest.raises(BackgroundError, match="3"):
        bg.result()


@forks
def test_leaving_early_kills_the_child_and_reaps_it():
    t = time.monotonic()
    with pytest.raises(RuntimeError, match="stop"), Background(_sleeps) as bg:
        pid = bg._pid
        raise RuntimeError("stop")
    assert time.monotonic() - t < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left behind
    with pytest.raises(BackgroundError, match="cancelled"):
        bg.result()


@forks
def test_a_refused_fork_runs_the_work_when_asked(monkeypatch):
    def refused():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    with Background(_files) as bg:
        assert bg._pid is None
        assert bg.result() == _files()


def _sighup_self():
    os.kill(os.getpid(), signal.SIGHUP)
    return _files()


@forks
def test_a_signal_the_caller_ignores_stays_ignored_in_the_child():
    """``nohup simcore run &``: a closed terminal's SIGHUP must not kill the drawing."""
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with Background(_sighup_self) as bg:
            assert bg.result() == _files()
    finally:
        signal.signal(signal.SIGHUP, old)


class _Alarm(Exception):
    pass


def _raise_alarm(signum, frame):
    raise _Alarm


@forks
def test_a_signal_while_waiting_kills_the_child_instead_of_waiting_for_it():
    old = signal.signal(signal.SIGALRM, _raise_alarm)
    try:
        bg = Background(_sleeps)
        pid = bg._pid
        t = time.monotonic()
        signal.alarm(1)
        with pytest.raises(_Alarm):
            bg.result()
        assert time.monotonic() - t < 10
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # killed and reaped
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@forks
def test_children_are_reaped_by_the_system_when_sigchld_is_ignored():
    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        with Background(_files) as bg:
            assert bg.result() == _files()
    finally:
        signal.signal(signal.SIGCHLD, old)


@forks
def test_the_child_runs_pool_tasks_serially_and_holds_no_other_childs_pipe():
    from distributions import _numba

    with Background(lambda: {"a": b"1"}) as first:
        theirs = first._fd

        def look():
            try:
                os.fstat(theirs)
                holds = b"yes"
            except OSError:
                holds = b"no"
            return {"serial": str(_numba._SERIAL).encode(), "holds": holds}

        with Background(look) as second:
            assert second.result() == {"serial": b"True", "holds": b"no"}
        assert first.result() == {"a": b"1"}
    assert _numba._SERIAL is False  # the parent's pool is untouched


@forks
def test_a_dropped_background_is_killed_when_collected():
    import gc

    bg = Background(_sleeps)
    pid = bg._pid
    del bg
    gc.collect()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
