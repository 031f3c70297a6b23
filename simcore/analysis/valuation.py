"""Reverse DCF: what you must believe for the DCF to give the market price.

:func:`reverse_dcf` solves, on the central path and on every simulated path, for the value of
one long-run driver at which the staged DCF (:mod:`simcore.model.dcf`) as of the end of the first
forecast year equals a target price (by default the market price):

- ``"fade_growth"``: the revenue growth in every fade year (a constant, replacing the linear
  fade; the NOPAT margin and the capital intensity fade as usual, terminal growth after);
- ``"terminal_margin"``: the NOPAT margin the fade converges to (and holds in the terminal
  value).

The per-path solve uses the kernel's own function on each path's last simulated year, so the
price at the solved value is the price the run would show (tested). "Reached" is the share of
paths whose own DCF (with its own fade) is at least the target; the table also compares each
path's own last-year value (its revenue growth, or its NOPAT margin) with what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distributions.streams import SeedLike
from simcore.model.dcf import solve_paths
from simcore.model.equations import dcf_fade_years, dcf_inputs
from simcore.model.peers import apply_peers
from simcore.model.scenario import Scenario
from simcore.model.validate import validate

SOLVE_FOR = {
    # name: (code, bracket, what it is, unit)
    "fade_growth": (0, (-0.5, 1.0), "revenue growth in every fade year"),
    "terminal_margin": (1, (-1.0, 1.0), "NOPAT margin at the end of the fade"),
}


@dataclass(frozen=True)
class ReverseDCF:
    """The result of :func:`reverse_dcf`. Values are fractions (0.25 = 25%). ``required`` is
    per path: ``-inf`` where the DCF is above the target at every value in the bracket,
    ``+inf`` where it is below at every value (no value reaches the target)."""

    solve_for: str
    target: float  # the price solved for, per share
    year: int  # the DCF's date: the end of the first forecast year
    fade_years: int
    central: float  # the required value on the central path
    central_own: float  # the central path's own last-year value
    required: np.ndarray  # per path
    own: np.ndarray  # per path: its last-year revenue growth or NOPAT margin
    own_price: np.ndarray  # per path: its own DCF price at the end of the first year
    bracket: tuple[float, float]
    n_paths: int
    seed: Any

    @property
    def what(self) -> str:
        return SOLVE_FOR[self.solve_for][2]

    @property
    def p_reached(self) -> float:
        """Share of paths whose own DCF (their own fade) already reaches the target."""
        return float(np.mean(self.own_price >= self.target))

    @property
    def p_own_reaches(self) -> float:
        """Share of paths whose own last-year value (growth, margin) is at least what they need
        (a rough reading for growth: a path's own DCF fades from that value, not holds it)."""
        return float(np.mean(self.own >= self.required))

    @property
    def share_unreachable(self) -> float:
        """Share of paths where no value in the bracket gives the target price."""
        return float(np.mean(np.isposinf(self.required)))

    def quantiles(self, levels: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.Series:
        """Quantiles of the required value over paths (+-inf where out of the bracket)."""
        q = np.quantile(self.required, levels, method="inverted_cdf")
        return pd.Series(q, index=[f"P{round(100 * x)}" for x in levels], name=self.solve_for)

    def table(self) -> pd.DataFrame:
        """One row per statistic, with a plain-words label and the value."""
        rows = [
            ("target price (per share)", self.target),
            (f"required {self.what}, central path", self.central),
            ("central path's own value (last simulated year)", self.central_own),
            *((f"required, {k} over paths", v) for k, v in self.quantiles().items()),
            ("P(a path's own DCF reaches the target)", self.p_reached),
            ("P(a path's own last-year value reaches what it needs)", self.p_own_reaches),
            ("share of paths no value in the bracket reaches", self.share_unreachable),
        ]
        return pd.DataFrame(rows, columns=["statistic", "value"]).set_index("statistic")

    def summary(self) -> str:
        """Two sentences a committee can read."""
        c = self.central
        need = (
            f"{c:.1%}"
            if np.isfinite(c)
            else ("any value" if c < 0 else f"more than {self.bracket[1]:.0%}")
        )
        med = float(np.quantile(self.required, 0.5, method="inverted_cdf"))
        med_s = f"{med:.1%}" if np.isfinite(med) else "out of range"
        return (
            f"For the DCF to give {self.target:.2f} per share at the end of {self.year}, the "
            f"central path needs {self.what} of {need} over {self.fade_years} fade years (its "
            f"own {self.central_own:.1%}); over the paths the median need is {med_s}, and "
            f"{self.p_reached:.1%} of paths reach the price with their own fade."
        )


dcf_state = dcf_inputs  # the DCF's per-path inputs (simcore.model.equations.dcf_inputs)


def _solve(sc: Scenario, lines: dict[str, np.ndarray], which: int, target: float) -> np.ndarray:
    state, fcf = dcf_state(sc, lines)
    out = np.empty(state.shape[0])
    lo, hi = SOLVE_FOR[list(SOLVE_FOR)[which]][1]
    m_t = np.nan if sc.terminal_margin is None else float(sc.terminal_margin)
    solve_paths(
        state,
        fcf,
        dcf_fade_years(sc),
        m_t,
        float(sc.terminal_roic),
        float(sc.shares),
        float(target),
        which,
        lo,
        hi,
        out,
    )
    return out


def reverse_dcf(
    scenario: Scenario,
    solve_for: str = "fade_growth",
    *,
    target: float | None = None,
    n_paths: int = 20_000,
    seed: SeedLike = 2025,
) -> ReverseDCF:
    """Solve for ``solve_for`` (``"fade_growth"`` or ``"terminal_margin"``) at which the DCF
    price at the end of the first forecast year equals ``target`` (default: the market
    price), on the central path (every driver at its base, shocks off) and on ``n_paths``
    simulated paths (seed ``seed``)."""
    from simcore.engine import simulate
    from simcore.io.assumptions import deterministic_statement

    if solve_for not in SOLVE_FOR:
        raise ValueError(
            f"reverse_dcf: solve_for={solve_for!r} is not known; allowed one of "
            f"{', '.join(map(repr, SOLVE_FOR))}"
        )
    validate(scenario)
    sc = apply_peers(scenario)
    if solve_for == "fade_growth" and dcf_fade_years(sc) == 0:
        raise ValueError(
            "reverse_dcf: solve_for='fade_growth' needs a fade period after the last simulated "
            f"year, but fade_years is {sc.fade_years} and {sc.horizon - sc.explicit} simulated "
            "years are past the explicit ones; allowed a longer fade or a shorter horizon, or "
            "solve_for='terminal_margin'"
        )
    price = float(sc.market_price if target is None else target)
    if not np.isfinite(price) or price <= 0.0:
        raise ValueError(f"reverse_dcf: target={target!r}; allowed a positive price per share")
    which = SOLVE_FOR[solve_for][0]
    central_lines = {k: v[None, :] for k, v in deterministic_statement(sc).items()}
    central = float(_solve(sc, central_lines, which, price)[0])
    r = simulate(sc, n_paths=n_paths, seed=seed, statements=True)
    assert r.statements is not None
    required = _solve(sc, r.statements, which, price)
    own_col = 1 if which == 0 else 2
    own = dcf_state(sc, r.statements)[0][:, own_col]
    central_own = float(dcf_state(sc, central_lines)[0][0, own_col])
    return ReverseDCF(
        solve_for=solve_for,
        target=price,
        year=sc.years[0],
        fade_years=dcf_fade_years(sc),
        central=central,
        central_own=central_own,
        required=required,
        own=own,
        own_price=r["price_dcf"][:, 0].copy(),
        bracket=SOLVE_FOR[solve_for][1],
        n_paths=int(n_paths),
        seed=seed,
    )
