"""Runs that stop at a stated precision: ``simulate(..., precision=...)``.

The run adds blocks of paths until every target of :mod:`simcore.results.precision` is met, or
the cap on paths (``n_paths``) or on time (``max_seconds``: no step starts that would end after
it, as far as the speed so far predicts; the first always runs) is reached. While it grows the
run is held up to :data:`GROWING` times (the run so far and its join with the new block), and
the memory check counts that. Paths are addressed
(path ``i`` draws from its own place in every stream), so the blocks ``0..a``, ``a..b``, ... put
together are the bytes of one run of the final path count: the result equals
``simulate(scenario, final_paths, seed)`` exactly, and that call replays it.

Each step sizes the next from the standard errors so far (they shrink as ``1 / sqrt(n)``): the
paths the least precise target needs, times 1.1, at least 1.25x and at most 4x the paths so
far, rounded up to a multiple of :data:`GRAIN`. ``result.manifest["precision"]`` records the
targets, the caps, why the run stopped and every step's estimates (``result.precision()`` shows
the last; ``result.convergence()`` every step).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from simcore.results.precision import Estimate, Target, estimate, parse_target
from simcore.results.result import SimulationResult

if TYPE_CHECKING:
    from simcore.model.scenario import Scenario

FIRST_PATHS = 2**15  # the first step's paths (at most the cap)
GRAIN = 2**14  # later steps end on a multiple of this
GROWTH = (1.25, 4.0)  # each step adds between 25% and 300% of the paths so far
GROWING = 2  # while it grows a run is held twice (the run so far and its join with a block)

Targets = Iterable[Target | str] | Target | str


def targets_of(precision: Targets) -> list[Target]:
    """The targets of ``precision`` (Targets or their text, one or several)."""
    items = [precision] if isinstance(precision, Target | str) else list(precision)
    if not items:
        raise ValueError("precision= names no target; allowed e.g. ['p_loss:hw=0.005']")
    out = []
    for item in items:
        if isinstance(item, Target):
            out.append(item)
        elif isinstance(item, str):
            out.append(parse_target(item))
        else:
            raise TypeError(f"precision target {item!r} must be a Target or its text")
    return out


def _next_paths(n: int, cap: int, ests: list[Estimate], targets: list[Target]) -> int:
    worst = 1.0
    for t, e in zip(targets, ests, strict=True):
        if e.met:
            continue
        ratio = e.hw / t.hw if t.hw is not None else e.rse / t.rse  # type: ignore[operator]
        worst = max(worst, ratio if math.isfinite(ratio) else GROWTH[1])
    want = min(max(1.1 * n * worst**2, GROWTH[0] * n), GROWTH[1] * n)
    return int(min(cap, math.ceil(want / GRAIN) * GRAIN))


def join(pieces: list[SimulationResult], manifest: dict[str, Any]) -> SimulationResult:
    """One result from consecutive blocks of one run (in path order)."""
    first = pieces[0]
    out, seg, hits = (
        np.concatenate([getattr(p, a) for p in pieces], axis=-1) for a in ("_out", "_seg", "_hits")
    )
    draws = None
    if first.draws is not None:
        draws = {
            kind: {
                name: np.concatenate([p.draws[kind][name] for p in pieces])  # type: ignore[index]
                for name in first.draws[kind]
            }
            for kind in first.draws
        }
    return SimulationResult(first.scenario, out, seg, hits, manifest, draws)


def simulate_to_precision(
    run: Callable[[int, int], SimulationResult],
    scenario: Scenario,
    targets: list[Target],
    cap: int,
    *,
    max_seconds: float | None = None,
    say: Callable[[str], None] | None = None,
) -> SimulationResult:
    """Blocks ``run(start, n)`` until every target is met or a cap is reached; see the module
    docstring. ``say(message)`` is told each step."""
    t0 = time.perf_counter()
    so_far: SimulationResult | None = None
    head: dict[str, Any] = {}
    history: list[dict[str, Any]] = []
    n, nxt = 0, min(FIRST_PATHS, cap)
    while True:
        piece = run(n, nxt - n)
        n = nxt
        # the run so far (each step copies it once: at most 1 / (1 - 1 / 1.25) = 5 times the
        # final size in all, 1.33 times when every step grows 4x)
        head = piece.manifest if so_far is None else head  # the run's: start 0
        so_far = piece if so_far is None else join([so_far, piece], head)
        ests = [estimate(t, so_far) for t in targets]
        elapsed = time.perf_counter() - t0
        history.append(
            {
                "paths": n,
                "seconds": round(elapsed, 3),
                "estimates": [[e.value, e.se, e.hw, e.met] for e in ests],
            }
        )
        if say is not None:
            met = sum(e.met for e in ests)
            say(f"{n:,} paths: {met} of {len(targets)} precision targets met")
        if all(e.met for e in ests):
            stopped = "every target met"
            break
        if n >= cap:
            stopped = f"the cap of {cap:,} paths"
            break
        nxt = _next_paths(n, cap, ests, targets)
        if max_seconds is not None:
            # paths per second so far; the next step also joins and re-estimates every path
            # so far, so only half the time left goes to new paths
            rate = n / max(elapsed, 1e-9)
            fits = n + int(0.5 * (max_seconds - elapsed) * rate)
            if fits < n + GRAIN:
                stopped = f"the cap of {max_seconds:g} s"
                break
            nxt = min(nxt, max(n + GRAIN, fits // GRAIN * GRAIN))
    record = {
        "targets": [t.text() for t in targets],
        "max_paths": cap,
        "max_seconds": max_seconds,
        "first_paths": FIRST_PATHS,
        "grain": GRAIN,
        "stopped": stopped,
        "met": all(e.met for e in ests),
        "history": history,
        "replay": f"simulate(scenario, {n}, seed) gives these bytes",
    }
    manifest = dict(head, n_paths=n, n_total=n, precision=record)
    return SimulationResult(
        so_far.scenario, so_far._out, so_far._seg, so_far._hits, manifest, so_far.draws
    )
