"""Input limits: every bound a scenario must satisfy, in one place.

:func:`simcore.model.validate.validate` checks a scenario against these before any work starts,
whether it was read from a file (:mod:`simcore.io.scenario_file` calls it and adds the line of
the key) or built in Python (checked when it is run), and refuses one outside them with a
:class:`~simcore.model.errors.ScenarioError` naming the key. docs/model.md ("Input limits")
gives the reasons; the values are far beyond any real company, so they only stop input that
would otherwise hang a run, or end it in infinities and NaN.

Sizes: the file, each kind of text, the counts of segments, shocks, effects, stresses, notes and
history series, and the points of an ``Empirical`` distribution.

Magnitudes: money (base revenue, schedules, market price, forecasts, history), the share count,
per-year rates, valuation multiples and shock severities. Each driver and each shock effect is
checked over its *reach*: the values it takes at the most extreme draws a run can produce. Every
sampler's uniforms lie in ``[U_MIN, 1 - U_MIN]`` (:data:`distributions.streams.U_MIN`), so an
independent normal score is at most :data:`Z_EDGE` (8.2095) in absolute value; the copula and
the AR(1) persistence can take a driver's score further (:func:`score_bounds`), and the driver's
kernel ``ppf`` at that score gives its reach. With every input inside these limits, every output
of every path is below about 1e130 in absolute value (the derivation is in docs/model.md), so
means and standard deviations stay finite for any number of paths.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from distributions import kernels
from distributions.copula import chi2_ppf, t_to_z
from distributions.streams import U_MIN

if TYPE_CHECKING:
    from distributions import Distribution

# -- sizes ---------------------------------------------------------------------------------------
MAX_FILE_BYTES = 4 * 2**20  # a scenario file (or text) in UTF-8; the default is 14 KB
MAX_NAME_CHARS = 64  # a segment, shock or stress name
MAX_LINE_CHARS = 500  # one-line text: name, ticker, currency, source, note and history keys
MAX_TEXT_CHARS = 20_000  # multi-line text: description, every rationale, notes
MAX_HORIZON = 30  # years (per-year lists hold at most this many values)
MAX_HISTORY = 30  # years before the base year an actual may report (seasonal shares)
MAX_SEGMENTS = 64
MAX_SHOCKS = 32  # the kernel records the shocks that hit a path-year in a 32-bit mask
MAX_EFFECTS = 16  # effects of one shock
MAX_STRESSES = 32  # named stress scenarios (the pack runs each one)
MAX_NOTES = 256  # entries of [notes]
MAX_HISTORY_SERIES = 128
MAX_EMPIRICAL_POINTS = 100_000  # data points of one Empirical distribution
MAX_PARAMETER_ROWS = 10_000  # parameter rows of one driver's uncertainty (two-layer)
# the families whose parameters a path can draw: scalar parameters and an exact kernel path
UNCERTAIN_FAMILIES = (
    "Normal",
    "LogNormal",
    "TruncatedNormal",
    "Uniform",
    "Triangular",
    "PERT",
    "Beta",
    "Gamma",
    "StudentT",
)

# -- magnitudes ----------------------------------------------------------------------------------
MAX_MONEY = 1e15  # |amount| in the scenario's unit (millions): revenue, schedules, price, ...
MIN_SHARES = 1e-6  # shares (millions): at least one share
MAX_SHARES = MAX_MONEY
MAX_RATE = 1e4  # |per-year rate| a driver or shock effect can reach (ratios, margins, rates)
MAX_GROWTH = 100.0  # revenue growth a segment can reach in a year (+10,000%)
MAX_MULTIPLE = 1e20  # |valuation multiple| a multiple driver can reach
MAX_SEVERITY = 1e10  # |shock severity| (drawn at the extreme uniforms, or forced)
MIN_WACC = -0.5  # WACC (with shock effects) can fall to this at the lowest: 1 + WACC >= 0.5
MIN_DISCOUNT_SPREAD = 1e-6  # lowest possible WACC - highest possible terminal growth
MAX_FADE_YEARS = 50  # years of the DCF's fade after the simulated years
MIN_TERMINAL_ROIC = 1e-4
MAX_TERMINAL_ROIC = MAX_RATE

# Reach allowed for each driver role, with the shock effects on the same target:
# (lowest, highest).
ROLE_RANGE = {
    "growth": (-MAX_RATE, MAX_GROWTH),  # the model floors growth at -95% anyway
    "fixed_growth": (-0.95, MAX_GROWTH),  # a fixed cost never changes sign
    # A year's interest at most the debt itself and income tax at most the taxable profit: the
    # financing loop (a cash shortfall is borrowed, and the debt bears interest) then grows debt
    # at most threefold a year, whatever the other lines do.
    "interest_rate": (-1.0, 1.0),
    "tax_rate": (-1.0, 1.0),
    "multiple": (-MAX_MULTIPLE, MAX_MULTIPLE),
    "wacc": (MIN_WACC, MAX_RATE),
}
RATE_RANGE = (-MAX_RATE, MAX_RATE)  # every other role and target


@functools.cache
def _z_edge() -> float:
    """The largest normal score of an independent draw, -ndtri(U_MIN), by the kernel's own
    ndtri (read on first use: calling a numba function at import would cost 0.14 s)."""
    return float(-kernels.ndtri(U_MIN))


def __getattr__(name: str) -> float:  # Z_EDGE, computed on first use
    if name == "Z_EDGE":
        return _z_edge()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Bounds are widened by this relative margin to cover the rounding of the kernel's sums.
_MARGIN = 1.0 + 1e-9


def role_range(role: str) -> tuple[float, float]:
    """The reach allowed for a driver role (``growth``, ``multiple``, ``wacc``, ...)."""
    return ROLE_RANGE.get(role, RATE_RANGE)


# -- text ----------------------------------------------------------------------------------------
_JOINERS = {"\u200c", "\u200d"}  # zero-width (non-)joiner: needed by Persian, Indic and emoji


def text_problem(s: str, multiline: bool) -> str | None:
    """The first character that text shown on a terminal, a chart or a PDF may not contain, as
    ``"<what> (U+XXXX) at character N"``, or None: control and format characters (category
    Cc, Cf: ANSI escapes, bidirectional overrides; the joiners excepted), surrogates, and line
    or paragraph separators; ``multiline`` text may hold newlines and tabs."""
    for i, c in enumerate(s):
        if c.isprintable() or c in _JOINERS or (multiline and c in "\n\t"):
            continue
        cat = unicodedata.category(c)
        if cat in ("Zs", "Co", "Cn"):  # spaces, private use, unassigned: harmless
            continue
        what = {
            "Cc": "a control character",
            "Cf": "a format character",
            "Cs": "a surrogate",
            "Zl": "a line separator",
            "Zp": "a paragraph separator",
        }.get(cat, f"a character of category {cat}")
        if c in "\n\r" and not multiline:
            what = "a line break"
        return f"{what} (U+{ord(c):04X}) at character {i + 1}"
    return None


# -- reach ---------------------------------------------------------------------------------------
def ar_gain(persistence: float, horizon: int = MAX_HORIZON) -> float:
    """The largest ``|z_t| / max |x|`` of ``z_1 = x_1``, ``z_t = phi z_{t-1} + sqrt(1 - phi^2)
    x_t`` over ``t <= horizon``: how far persistence can take a score (1 for phi 0 or 1; at
    most 5.18, near phi = 0.966, over 30 years)."""
    phi = float(persistence)
    b = math.sqrt(1.0 - phi * phi)
    z = best = 1.0
    for _ in range(horizon - 1):
        z = phi * z + b
        best = max(best, z)
    return best


def score_bounds(
    persistence: Sequence[float],
    labels: Sequence[int] = (),
    factor: ArrayLike | None = None,
    copula_df: float = 0.0,
) -> np.ndarray:
    """The largest ``|z|`` each driver's normal score can reach in any year of any run.

    ``persistence``: one per driver; ``labels``: the indices of the copula's drivers in the
    order of ``factor``, its lower-triangular factor; ``copula_df``: the Student-t copula's
    degrees of freedom (0: Gaussian). A copula row mixes independent scores of at most
    :data:`Z_EDGE` with weights of 1-norm ``sum |L[c]|``; the Student-t copula divides by
    ``sqrt(w / df)`` with ``w`` at least the chi-square's :data:`U_MIN` quantile and maps back
    to a normal score (infinite if the t tail underflows). Then :func:`ar_gain`.
    """
    x = np.full(len(persistence), _z_edge())
    if len(labels):
        rows = np.abs(np.asarray(factor, dtype=np.float64)).sum(axis=1) * _z_edge() * _MARGIN
        if copula_df > 0.0:
            scale = math.sqrt(chi2_ppf(copula_df, U_MIN) / copula_df)
            rows = np.array(
                [abs(t_to_z(copula_df, -r / scale)) if scale > 0.0 else math.inf for r in rows]
            )
        x[list(labels)] = rows
    gain = np.array([ar_gain(phi) for phi in persistence])
    return x * gain * _MARGIN


def ppf_z_range(dist: Distribution, z: float, exact: bool = False) -> tuple[float, float]:
    """``(ppf(Phi(-z)), ppf(Phi(z)))`` by the kernel's own ``ppf_z`` (what a driver draws at a
    normal score of -z and z; every ppf is non-decreasing); ``exact``: by the family's exact
    inverse, as the kernel draws a driver whose parameters each path draws (no table is built
    for it). Cached (building a family's table takes milliseconds, and every run of a
    Python-built scenario checks it again), except for ``Empirical`` (its data can be large;
    its table is the data)."""
    if dist.family == "Empirical":
        return _ppf_z_range(dist, z, exact)
    return _ppf_z_range_cached(dist, z, exact)


def _ppf_z_range(dist: Distribution, z: float, exact: bool = False) -> tuple[float, float]:
    if exact:
        code, p = dist.exact_kernel_args()
        table = np.empty((0, 2))
    else:
        code, p, table = dist.kernel_args()
    out = np.empty(2)
    kernels.ppf_z_many(code, p, table, 0 if table.shape[0] else -1, np.array([-z, z]), out)
    return float(out[0]), float(out[1])


_ppf_z_range_cached = functools.lru_cache(maxsize=1024)(_ppf_z_range)


def driver_range(base: Iterable[float], mode: str, lo: float, hi: float) -> tuple[float, float]:
    """The values ``base[t] + x`` (``mode="add"``) or ``base[t] * x`` a driver takes for ``x``
    in ``[lo, hi]``, over every year's base."""
    vals = []
    for b in base:
        vals += [b + lo, b + hi] if mode == "add" else [b * lo, b * hi]
    return min(vals), max(vals)


def severity_range(dist: Distribution, forced: Iterable[float] = ()) -> tuple[float, float]:
    """The severities a shock can have: its ppf at ``U_MIN`` and ``1 - U_MIN`` (the kernel's
    ``ppf_u``), the ``forced`` ones, and 0 (no event)."""
    lo, hi = (float(v) for v in dist.ppf(np.array([U_MIN, 1.0 - U_MIN])))
    vals = [0.0, lo, hi, *forced]
    return min(vals), max(vals)


def effect_range(
    size: float, profile: Iterable[float], cap: float, sev_lo: float, sev_hi: float
) -> tuple[float, float]:
    """The yearly values an effect can take: ``sum_tau S_tau * size * profile[t - tau]`` over
    at most :data:`MAX_HORIZON` lags, each severity in ``[sev_lo, sev_hi]`` (or 0), capped
    at ``cap`` in absolute value."""
    lo = hi = 0.0
    for p in list(profile)[:MAX_HORIZON]:
        w = size * p
        if w == 0.0:  # the kernel skips these terms
            continue
        ends = (w * sev_lo, w * sev_hi)
        lo += min(0.0, *ends)
        hi += max(0.0, *ends)
    return max(lo, -cap), min(hi, cap)
