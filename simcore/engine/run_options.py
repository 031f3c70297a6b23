"""The arguments of a run, checked once: :class:`RunOptions`.

``simulate``, the streamed summary on Dask, the analyses and ``simcore run`` all build one with
:meth:`RunOptions.checked`, so a path count, seed, horizon, sampling method, thread count or
memory budget meets the same rule and the same message wherever it is given, before any work.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from distributions.sampling import method_code
from distributions.streams import SeedLike, handle_seed
from simcore.model.layout import LINES, OUTPUTS
from simcore.model.limits import MAX_HORIZON

if TYPE_CHECKING:
    from simcore.model.scenario import Scenario

MEMORY_SHARE = 0.7  # the stored results may take this share of the memory available now


def check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``; TypeError/ValueError naming ``name`` otherwise."""
    allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name}={value!r} must be an integer {allowed}; got {type(value).__name__}"
        )
    v = int(value)
    if v < low or (high is not None and v > high):
        raise ValueError(f"{name}={value!r} must be an integer {allowed}")
    return v


def available_memory() -> int:
    """Bytes of memory available now (8 GiB where the system does not say)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30


def result_bytes(
    n_paths: int,
    horizon: int,
    n_segments: int,
    n_drivers: int = 0,
    n_shocks: int = 0,
    keep_draws: bool = False,
    statements: bool = False,
) -> int:
    """Bytes the stored result of a run needs (the kernel allocates nothing else per path)."""
    per = horizon * (8 * (len(OUTPUTS) + n_segments) + 4)
    if keep_draws:
        per += horizon * 8 * (n_drivers + n_shocks)
    if statements:
        per += horizon * 8 * len(LINES)
    return int(n_paths) * per


@dataclass(frozen=True)
class RunOptions:
    """A run's arguments, each checked (build with :meth:`checked`).

    ``seed`` is kept as given (an int, SeedSequence, Generator or None) and resolved once by
    the engine after the memory check, so a refused run draws nothing from a Generator.
    """

    n_paths: int = 1_000_000
    seed: SeedLike = None
    horizon: int | None = None  # None: the scenario's
    sampling: str = "mc"
    threads: int | None = None
    keep_draws: bool = False
    memory_limit: int | None = None  # bytes; None: MEMORY_SHARE of the memory available
    start: int = 0  # global index of the first path (a block of a larger run)
    n_total: int = 0  # paths of the whole run (>= start + n_paths)
    statements: bool = False  # also store every statement line per path

    @classmethod
    def checked(
        cls,
        n_paths: int = 1_000_000,
        seed: SeedLike = None,
        horizon: int | None = None,
        sampling: str = "mc",
        *,
        threads: int | None = None,
        keep_draws: bool = False,
        memory_limit: int | None = None,
        start: int = 0,
        n_total: int | None = None,
        statements: bool = False,
    ) -> RunOptions:
        """Check every argument and return them as a RunOptions (errors name the argument,
        the value and what is allowed)."""
        n_paths = check_int("n_paths", n_paths, 1)
        start = check_int("start", start, 0)
        n_total = (
            start + n_paths if n_total is None else check_int("n_total", n_total, start + n_paths)
        )
        if horizon is not None:
            horizon = check_int("horizon", horizon, 1, MAX_HORIZON)
        method_code(sampling)
        if sampling == "antithetic" and n_paths % 2:
            raise ValueError(f"n_paths={n_paths} must be even for sampling='antithetic'")
        threads = None if threads is None else check_int("threads", threads, 1)
        if not isinstance(keep_draws, bool):
            raise TypeError(f"keep_draws={keep_draws!r} must be True or False")
        if not isinstance(statements, bool):
            raise TypeError(f"statements={statements!r} must be True or False")
        memory_limit = None if memory_limit is None else check_int("memory_limit", memory_limit, 1)
        if not isinstance(seed, np.random.Generator):  # a Generator is drawn from only once
            handle_seed(seed)  # the seed's own checks (type, sign); nothing is consumed
        return cls(
            n_paths,
            seed,
            horizon,
            sampling,
            threads,
            keep_draws,
            memory_limit,
            start,
            n_total,
            statements,
        )

    def seed_sequence(self) -> np.random.SeedSequence:
        """The seed as a SeedSequence (a Generator is drawn from here: call once per run)."""
        return handle_seed(self.seed)

    def scenario(self, scenario: Scenario) -> Scenario:
        """``scenario`` with this run's horizon."""
        return scenario if self.horizon is None else scenario.with_horizon(self.horizon)

    def memory_needed(self, scenario: Scenario) -> tuple[int, int]:
        """(bytes the stored results of this run need, the budget) for ``scenario``, with this
        run's horizon."""
        sc = self.scenario(scenario)
        need = result_bytes(
            self.n_paths,
            sc.horizon,
            len(sc.segments),
            len(sc.drivers),
            len(sc.shocks),
            self.keep_draws,
            self.statements,
        )
        limit = (
            int(MEMORY_SHARE * available_memory())
            if self.memory_limit is None
            else self.memory_limit
        )
        return need, limit

    def check_memory(self, scenario: Scenario) -> None:
        """MemoryError when the stored results would not fit the budget."""
        need, limit = self.memory_needed(scenario)
        if need > limit:
            horizon = self.scenario(scenario).horizon
            raise MemoryError(
                f"n_paths={self.n_paths} x horizon={horizon} needs {need / 2**30:.2f} GiB for "
                f"the stored results, more than the memory budget of {limit / 2**30:.2f} GiB; "
                f"use fewer paths, a shorter horizon, or raise memory_limit"
            )
