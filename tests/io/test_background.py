"""Work done in a forked child: the same bytes as done here, failures named, nothing left."""

import os
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simcore.io.background import Background, BackgroundError, can_fork, frame, unframe

forks = pytest.mark.skipif(not can_fork(), reason="Background forks on Linux only")


@given(st.dictionaries(st.text(max_size=20), st.binary(max_size=300), max_size=6))
def test_frames_round_trip(files):
    assert unframe(frame(files)) == files


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
    def sleeps():
        time.sleep(60)
        return {}

    t = time.monotonic()
    with pytest.raises(RuntimeError, match="stop"), Background(sleeps) as bg:
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
