"""``simulate``: the facade that validates, compiles the scenario, allocates, calls the kernel."""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
import platform
import sys
from collections.abc import Callable
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from distributions.kernels import parallel_map, set_threads
from distributions.sampling import METHODS, SobolDesign, method_code
from distributions.streams import U_MIN, SeedLike, seed_entropy
from simcore._version import __version__
from simcore.engine.dask_backend import DASK_BLOCK, DaskBackend, Progress
from simcore.engine.precision import GROWING, Targets, simulate_to_precision, targets_of
from simcore.engine.run_options import RunOptions, check_int
from simcore.model import _kernel
from simcore.model.compile import allocate, compile_scenario
from simcore.model.layout import LINES
from simcore.model.limits import MAX_SHOCKS
from simcore.model.scenario import Scenario
from simcore.model.validate import validate
from simcore.results.precision import BATCHES
from simcore.results.precision import check as check_target
from simcore.results.result import SimulationResult

if TYPE_CHECKING:
    from distributed import Client
    from numpy.typing import ArrayLike

    from simcore.model.compile import Buffers, CompiledScenario

DEFAULT_SEED = 20250605  # the report's market-data date; any fixed non-negative int would do
BLOCK = 1 << 18  # paths per kernel call (progress granularity); results do not depend on it
SOBOL_BLOCK = 1 << 14
TASK = 1 << 14  # paths per thread task (a multiple of the kernel CHUNK); bytes do not depend on it
BACKENDS = ("local", "dask", "cuda")


def resolve_scenario(scenario: Scenario | None) -> Scenario:
    """``scenario``, or the default for None, checked like a scenario file (TypeError if it is
    not a Scenario)."""
    if scenario is None:
        from simcore.io.scenario_file import default_scenario

        return default_scenario()
    if not isinstance(scenario, Scenario):
        raise TypeError(
            f"scenario must be a simcore Scenario or None, got {type(scenario).__name__}"
        )
    _validate_scenario(scenario)
    return scenario


_VALIDATED: set[str] = set()  # digests of scenarios that passed (a Scenario is frozen)


def _validate_scenario(scenario: Scenario) -> None:
    """Check a scenario built in Python against every rule a scenario file's values meet
    (:func:`simcore.model.validate.validate`, on the objects; once per distinct scenario)."""
    digest = scenario.digest()
    if digest not in _VALIDATED:
        validate(scenario, source=f"scenario {scenario.name!r}")
        _VALIDATED.add(digest)


@functools.cache
def _versions() -> tuple[tuple[str, str | None], ...]:
    out: dict[str, str | None] = {"python": sys.version.split()[0], "simcore": __version__}
    for pkg in ("numpy", "scipy", "numba", "pandas", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return tuple(out.items())


def versions() -> dict[str, str | None]:
    """Python's and the dependencies' versions (read once per process: about 7 ms)."""
    return dict(_versions())


def simulate(
    scenario: Scenario | None = None,
    n_paths: int = 1_000_000,
    seed: SeedLike = DEFAULT_SEED,
    horizon: int | None = None,
    sampling: str = "mc",
    *,
    threads: int | None = None,
    keep_draws: bool = False,
    statements: bool = False,
    memory_limit: int | None = None,
    progress: Progress | None = None,
    start: int = 0,
    n_total: int | None = None,
    backend: str | DaskBackend = "local",
    client: Client | None = None,
    block: int | None = None,
    precision: Targets | None = None,
    max_seconds: float | None = None,
) -> SimulationResult:
    """Simulate ``n_paths`` paths of ``scenario`` (default: the embedded Paratera scenario).

    Parameters
    ----------
    scenario : Scenario or None
        ``None`` uses :func:`simcore.default_scenario`.
    n_paths : int
        Number of paths (>= 1; >= 2 and even for ``sampling="antithetic"``).
    seed : int, SeedSequence, Generator or None
        ``None`` draws fresh entropy, recorded in the manifest so the run can be replayed.
    horizon : int or None
        Years to simulate (1 to 30); ``None`` keeps the scenario's.
    sampling : {"mc", "antithetic", "lhs", "sobol"}
    threads : int or None
        numba threads (results are identical for any count).
    keep_draws : bool
        Also store every driver value and shock severity (for checks and attribution).
    statements : bool
        Also store every line of the three statements per path and year
        (``result.statements``; ``simcore.model.layout.LINES``), 52 more rows per path-year.
        Local runs only.
    memory_limit : int or None
        Bytes the stored result may take; default 70% of the memory available now.
    progress : callable or None
        Called as ``progress(done_paths, n_paths)`` after each block.
    start : int
        Global index of the first path (a block of a larger run).
    n_total : int or None
        Paths in the whole run this block belongs to (>= ``start + n_paths``); ``None`` means
        ``start + n_paths``. Only Latin hypercube sampling reads it (its strata are fractions of
        the run's path count); with it, any block ``start .. start+n_paths`` of an LHS run has
        the bytes of the same rows of the whole run, as every other method has anyway.
    backend : "local", "dask", "cuda" or a backend object
        ``"local"``: this process's threads. ``"cuda"``: one NVIDIA GPU through numba-cuda
        (the ``cuda`` extra; :mod:`simcore.engine.cuda`), one GPU thread per path, the same
        kernel code and streams, the same bytes (docs/gpu.md).
        ``DaskBackend(client, block)``
        (:mod:`simcore.engine.dask_backend`) runs blocks of ``block`` paths as tasks on a Dask
        cluster and assembles them here; the result is byte-identical to a local run (see
        docs/dask.md). ``backend="dask", client=..., block=...`` is the same.
    client : distributed.Client or None
        The cluster for ``backend="dask"`` (required there, not allowed otherwise).
    block : int or None
        Paths per Dask task (``backend="dask"`` only; default
        :data:`simcore.engine.dask_backend.DASK_BLOCK`; even for antithetic sampling). Results
        do not depend on it.
    precision : target(s) or None
        Stop at a stated precision (:mod:`simcore.engine.precision`): ``n_paths`` becomes the
        cap, and blocks of paths are added until every target is met, e.g.
        ``["p_loss:hw=0.005", "es95:rse=0.02"]`` or
        :class:`simcore.results.precision.Target` objects. The result equals a fixed-size run
        of its final path count byte for byte; ``result.precision()`` gives what was achieved.
    max_seconds : float or None
        With ``precision``: also stop when the next step would end after this many seconds
        (the first step, 32,768 paths, always runs).
    """
    if precision is not None or max_seconds is not None:
        return _to_precision(
            scenario,
            n_paths,
            seed,
            horizon,
            sampling,
            precision,
            max_seconds,
            threads=threads,
            keep_draws=keep_draws,
            memory_limit=memory_limit,
            progress=progress,
            start=start,
            n_total=n_total,
            statements=statements,
            backend=backend,
            client=client,
            block=block,
        )
    return _simulate(
        scenario,
        n_paths,
        seed,
        horizon,
        sampling,
        threads=threads,
        keep_draws=keep_draws,
        statements=statements,
        memory_limit=memory_limit,
        progress=progress,
        start=start,
        n_total=n_total,
        backend=backend,
        client=client,
        block=block,
    )


def _simulate(
    scenario: Scenario | None,
    n_paths: int,
    seed: SeedLike,
    horizon: int | None,
    sampling: str,
    *,
    threads: int | None = None,
    keep_draws: bool = False,
    statements: bool = False,
    memory_limit: int | None = None,
    progress: Progress | None = None,
    start: int = 0,
    n_total: int | None = None,
    backend: str | DaskBackend = "local",
    client: Client | None = None,
    block: int | None = None,
    serial: bool = False,
    uniforms: np.ndarray | None = None,
) -> SimulationResult:
    """:func:`simulate`, and for the engine's own use ``serial`` (one thread, the kernel's
    serial twin) and ``uniforms`` (a design instead of the streams: :func:`evaluate_uniforms`).
    """
    scenario = resolve_scenario(scenario)
    opts = RunOptions.checked(
        n_paths,
        seed,
        horizon,
        sampling,
        threads=threads,
        keep_draws=keep_draws,
        memory_limit=memory_limit,
        start=start,
        n_total=n_total,
        statements=statements,
    )
    if progress is not None and not callable(progress):
        raise TypeError(
            f"progress={progress!r} must be a callable, progress(done_paths, n_paths), or None"
        )
    gpu = backend == "cuda"
    remote = _backend(backend, client, block)
    if gpu and (uniforms is not None or serial):
        raise ValueError("backend='cuda' runs the streams and Sobol' sampling only, not a design")
    if remote is not None:
        if uniforms is not None or serial:
            raise ValueError(
                "the Dask backend runs the streams' kernel only; use "
                "simcore.engine.dask.evaluate_design for a design"
            )
        remote.check(sampling)
        if statements:
            raise ValueError("statements=True runs locally only (backend='local')")
    scenario = opts.scenario(scenario)
    K = len(scenario.shocks)
    if K > MAX_SHOCKS:  # the scenario checks refuse these first (one rule: simcore.model.limits)
        raise ValueError(f"scenario has {K} shocks; at most {MAX_SHOCKS} are supported")
    opts.check_memory(scenario)
    seed_seq = opts.seed_sequence()
    n_paths, start, n_total, H = opts.n_paths, opts.start, opts.n_total, scenario.horizon
    method = method_code(sampling)
    n_threads = set_threads(opts.threads) if remote is None else None

    rec = compile_scenario(scenario, seed_seq)
    device = None
    if gpu:
        from simcore.engine import cuda

        cuda.check_supported(scenario, rec)
        device = cuda.device_name()
        n_threads = None
    bufs = allocate(rec, n_paths, keep_draws, statements)
    if gpu:
        cuda.run(
            rec,
            method,
            start,
            n_total if sampling == "lhs" else 0,
            progress,
            bufs,
            _designs(rec, method, seed_seq, start),
        )
    elif remote is not None:
        remote.fill(
            _block,
            scenario,
            seed_seq,
            sampling,
            start,
            n_total,
            opts.threads,
            keep_draws,
            progress,
            bufs,
        )
    else:
        _run_kernel(
            rec,
            method,
            seed_seq,
            start,
            n_total if sampling == "lhs" else 0,
            keep_draws,
            progress,
            bufs,
            serial,
            uniforms,
        )
    out, seg_out, hits_out, draws_out, sev_out, stmt_out = bufs
    cop = scenario.copula_model(warn=False)
    manifest: dict[str, Any] = {
        "simcore_manifest": 1,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "platform": platform.platform(),
        "seed": seed_entropy(seed_seq),
        "scenario": {"name": scenario.name, "ticker": scenario.ticker, "sha256": scenario.digest()},
        "sampling": "design" if uniforms is not None else sampling,
        "n_paths": n_paths,
        "start": start,
        "n_total": n_total,
        "horizon": H,
        "threads": n_threads,
        "numba_threading_layer": numba.config.THREADING_LAYER,
        "copula": dict(cop.info) if cop is not None else {},
        "shocks_enabled": {s.name: s.enabled for s in scenario.shocks},
    }
    if remote is not None:  # what ran where does not change the numbers; kept for the record
        manifest["backend"] = remote.record()
    if device is not None:
        manifest["backend"] = {"kind": "cuda", "device": device}
    manifest = json.loads(json.dumps(manifest, default=str))  # JSON-native: saves and loads equal
    draws: dict[str, dict[str, np.ndarray]] | None = None
    if keep_draws:
        draws = {
            "drivers": {d.name: draws_out[f].T for f, d in enumerate(scenario.drivers)},
            "severity": {s.name: sev_out[k].T for k, s in enumerate(scenario.shocks)},
        }
    lines = {name: stmt_out[j].T for j, name in enumerate(LINES)} if statements else None
    return SimulationResult(scenario, out, seg_out, hits_out, manifest, draws, lines)


def _to_precision(
    scenario: Scenario | None,
    n_paths: int,
    seed: SeedLike,
    horizon: int | None,
    sampling: str,
    precision: Targets | None,
    max_seconds: float | None,
    *,
    start: int,
    n_total: int | None,
    statements: bool,
    progress: Progress | None,
    **kwargs: Any,
) -> SimulationResult:
    """:func:`simulate` with ``precision``: every argument checked before the first path."""
    if precision is None:
        raise ValueError("max_seconds= needs precision= (the targets the run stops at)")
    if max_seconds is not None and (
        not isinstance(max_seconds, int | float)
        or isinstance(max_seconds, bool)
        or not 0 < max_seconds < math.inf
    ):
        raise ValueError(f"max_seconds={max_seconds!r} must be a positive number of seconds")
    if progress is not None and not callable(progress):
        raise TypeError(
            f"progress={progress!r} must be a callable, progress(done_paths, n_paths), or None"
        )
    if sampling == "lhs":
        raise ValueError(
            "precision= cannot grow a Latin hypercube run (its strata depend on the final path "
            "count); allowed sampling 'mc', 'antithetic' or 'sobol'"
        )
    if start or n_total is not None or statements:
        raise ValueError(
            "precision= runs a whole run: start=, n_total= and statements= are not allowed"
        )
    targets = targets_of(precision)
    sc = resolve_scenario(scenario)
    opts = RunOptions.checked(  # the cap must fit in memory before anything runs
        n_paths,
        seed,
        horizon,
        sampling,
        threads=kwargs["threads"],
        keep_draws=kwargs["keep_draws"],
        memory_limit=kwargs["memory_limit"],
    )
    if opts.n_paths < 2 * BATCHES:
        raise ValueError(
            f"n_paths={n_paths!r}: a run to precision needs at least {2 * BATCHES} paths (its "
            f"standard errors come from {BATCHES} batches)"
        )
    sc = opts.scenario(sc)
    for t in targets:
        check_target(t, sc)
    need, limit = opts.memory_needed(sc)
    if GROWING * need > limit:  # while it grows, the run is held twice (the join)
        raise MemoryError(
            f"n_paths={opts.n_paths} x horizon={sc.horizon}: a run to precision holds up to "
            f"{GROWING}x its stored results while it grows, {GROWING * need / 2**30:.2f} GiB, "
            f"more than the memory budget of {limit / 2**30:.2f} GiB; use a lower cap "
            "(n_paths), a shorter horizon, or raise memory_limit"
        )
    ss = opts.seed_sequence()  # one seed for every block (a None seed draws its entropy once)

    def run(first: int, n: int) -> SimulationResult:
        tell = None if progress is None else (lambda done, _n: progress(first + done, opts.n_paths))
        return _simulate(sc, n, ss, None, sampling, start=first, progress=tell, **kwargs)

    return simulate_to_precision(run, sc, targets, opts.n_paths, max_seconds=max_seconds)


def _backend(
    backend: str | DaskBackend, client: Client | None, block: int | None
) -> DaskBackend | None:
    """The backend object for ``simulate(backend=..., client=..., block=...)``; None runs in
    this process (``"local"`` or ``"cuda"``)."""
    if isinstance(backend, DaskBackend):
        if client is not None or block is not None:
            raise ValueError(
                "client= and block= belong to DaskBackend(client, block) when "
                "backend is a DaskBackend"
            )
        return backend
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(
            f"backend={backend!r} must be one of {', '.join(map(repr, BACKENDS))} or a DaskBackend"
        )
    if backend in ("local", "cuda"):  # this process (its threads, or its GPU)
        if client is not None or block is not None:
            raise ValueError("client= and block= are only used with backend='dask'")
        return None
    if client is None:
        raise ValueError(
            "backend='dask' needs client=distributed.Client(...) (a running "
            "cluster; see docs/dask.md)"
        )
    block = check_int("block", DASK_BLOCK if block is None else block, 1)
    return DaskBackend(client, block)


def _block(
    scenario: Scenario,
    seed_seq: np.random.SeedSequence,
    sampling: str,
    start: int,
    n: int,
    n_total: int,
    threads: int | None,
    keep_draws: bool,
) -> SimulationResult:
    """A Dask task: paths ``start .. start+n`` of a run of ``n_total`` paths, run locally."""
    return simulate(
        scenario,
        n,
        seed_seq,
        sampling=sampling,
        start=start,
        n_total=n_total,
        threads=threads,
        keep_draws=keep_draws,
    )


def _designs(
    rec: CompiledScenario, method: int, seed_seq: np.random.SeedSequence, start: int
) -> Callable[[int, int], np.ndarray]:
    """``rows(done, n)``: the Sobol' design rows (n, H, width) of paths ``start + done ..`` of
    the run, or an empty (0, H, width) array when the method reads the streams."""
    F, H = rec.drv_base.shape
    width = F + 2 * rec.sh_prob.shape[0] + 1 + rec.unc_rows.shape[0]  # design_columns
    if method != METHODS["sobol"]:
        empty = np.empty((0, H, width))
        return lambda done, n: empty
    sobol = SobolDesign(H * width, seed_seq)
    return lambda done, n: sobol.block(start + done, n).reshape(n, H, width)


def _run_kernel(
    rec: CompiledScenario,
    method: int,
    seed_seq: np.random.SeedSequence,
    start: int,
    n_total: int,
    keep_draws: bool,
    progress: Progress | None,
    bufs: Buffers,
    serial: bool,
    uniforms: np.ndarray | None,
) -> None:
    """Fill ``bufs`` (:class:`~simcore.model.compile.Buffers`) with paths ``start ..`` of the
    compiled scenario ``rec``, in blocks of :data:`BLOCK` paths (``n_total``: the run's path
    count for LHS, else 0)."""
    n_paths = bufs.out.shape[2]
    block = SOBOL_BLOCK if method == METHODS["sobol"] else BLOCK
    rows = _designs(rec, method, seed_seq, start)
    done = 0
    while done < n_paths:
        n = min(block, n_paths - done)
        u = uniforms[done : done + n] if uniforms is not None else rows(done, n)
        # tasks of up to TASK paths write their own columns of the whole output arrays; a small
        # block is split evenly over the threads (whole kernel chunks), not into one full task
        # and a remainder
        per_thread = -(-n // numba.get_num_threads())
        width = min(TASK, -(-per_thread // _kernel.CHUNK) * _kernel.CHUNK)
        tasks = []
        for a in range(0, n, width):
            m = min(width, n - a)
            ua = u if u.shape[0] == 0 else u[a : a + m]
            tasks.append(
                (start + done + a, m, done + a, n_total, method, ua, rec, bufs, keep_draws)
            )
        if serial:
            for task in tasks:
                _kernel.simulate_paths_serial(*task)
        else:
            parallel_map(_kernel.simulate_paths, tasks)
        done += n
        if progress is not None:
            progress(done, n_paths)


def design_columns(scenario: Scenario) -> list[tuple[str, str, int]]:
    """What each uniform of a path means, in the order :func:`evaluate_uniforms` reads them:
    ``(kind, name, year_index)`` with kind ``"driver"``, ``"shock.occurrence"``,
    ``"shock.severity"``, ``"copula.mixing"`` or ``"driver.parameters"`` (the uniform that picks
    a driver's parameter row; year 0's is read); the array is laid out (path, year, column)."""
    cols = [("driver", d.name) for d in scenario.drivers]
    for s in scenario.shocks:
        cols += [("shock.occurrence", s.name), ("shock.severity", s.name)]
    cols.append(("copula.mixing", "copula"))
    # a driver's parameter row (two-layer uncertainty): read in year 0 only
    cols += [("driver.parameters", d.name) for d in scenario.drivers if d.uncertainty is not None]
    return [(kind, name, t) for t in range(scenario.horizon) for kind, name in cols]


def evaluate_uniforms(
    scenario: Scenario | None, u: ArrayLike, *, threads: int | None = None, keep_draws: bool = False
) -> SimulationResult:
    """Evaluate the model on given uniforms instead of the streams (a design of experiments,
    e.g. SALib's Saltelli sample): ``u`` is float64 (n_paths, horizon, n_columns) in
    ``[2**-53, 1)`` (:data:`distributions.streams.U_MIN`), columns as :func:`design_columns`
    lists them (per year)."""
    scenario = resolve_scenario(scenario)
    width = len(design_columns(scenario)) // scenario.horizon
    try:
        arr = np.asarray(u)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"u must be a float array (n_paths, horizon, n_columns): {exc}") from None
    if arr.dtype.kind not in "fiu":  # an integer array fails the interval check below
        raise TypeError(f"u has dtype {arr.dtype}; allowed a float64 array of uniforms in (0, 1)")
    arr = arr.astype(np.float64, copy=False)
    want = ("n_paths", scenario.horizon, width)
    if arr.ndim != 3 or arr.shape[1:] != want[1:] or arr.shape[0] < 1:
        raise ValueError(f"u has shape {arr.shape}; expected {want} (see design_columns)")
    bad = ~((arr >= U_MIN) & (arr < 1.0))  # the samplers' range, which validation bounds over
    if bad.any():
        raise ValueError(
            f"u has {int(bad.sum())} values outside [2**-53, 1) (NaN included); "
            f"allowed 2**-53 <= u < 1, the range every sampler draws from"
        )
    return _simulate(
        scenario,
        arr.shape[0],
        0,
        None,
        "sobol",
        threads=threads,
        keep_draws=keep_draws,
        uniforms=np.ascontiguousarray(arr),
    )
