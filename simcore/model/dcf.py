"""The staged DCF after the simulated years: a fade period, then the terminal value.

One path's value at the end of its last simulated year H (:func:`fade_value`), shared by the
kernel (every run) and the reverse DCF (:mod:`simcore.analysis.valuation`), so a price solved
for is the price the run shows. ``docs/model.md`` states the rule; :mod:`simcore.model.equations`
restates it in numpy as the test oracle.

For fade years j = 1 .. F, with a_j = j / F (the last fade year reaches the terminal values):

- growth   g_j = g0 + (gT - g0) a_j   (g0: the path's revenue growth in year H), or a constant
  ``g_fixed`` in every fade year (what the reverse DCF solves for);
- margin   m_j = m0 + (mT - m0) a_j   (NOPAT / revenue; m0 the path's in year H; mT = m0 when
  no terminal margin is given);
- capital  k_j = k0 + (kT - k0) a_j   (net new capital per unit of new revenue; k0 the path's
  invested capital / revenue in year H, at least 0; kT = mT (1 + gT) / roicT, the intensity at
  which new capital earns the terminal return);
- R_j = R_{j-1} (1 + g_j),  FCF_j = m_j R_j - k_j (R_j - R_{j-1})  (maintenance capex = D&A).

The terminal value at the end of the fade is the value-driver formula
``mT R_F (1 + gT)(1 - gT / roicT) / (w - gT)``, which equals the fade's own cash flow rule run
forever at the terminal values (continuous at the seam). Everything is discounted at the
path's WACC ``w``.
"""

from __future__ import annotations

import math

import numpy as np

from distributions.kernels import jit


@jit
def fade_value(
    rev: float,
    g0: float,
    m0: float,
    k0: float,
    w: float,
    g_t: float,
    fade: int,
    m_t: float,
    roic_t: float,
    g_fixed: float,
) -> tuple[float, float]:
    """(enterprise value, present value of the terminal value) at the end of year H.

    ``m_t`` NaN holds the path's margin ``m0``; ``g_fixed`` NaN fades growth linearly."""
    mt = m0 if math.isnan(m_t) else m_t
    kt = mt * (1.0 + g_t) / roic_t
    disc = 1.0
    pv = 0.0
    r = rev
    for j in range(1, fade + 1):
        a = j / fade
        g = g0 + (g_t - g0) * a if math.isnan(g_fixed) else g_fixed
        r_new = r * (1.0 + g)
        m = m0 + (mt - m0) * a
        k = k0 + (kt - k0) * a
        disc = disc / (1.0 + w)
        pv += (m * r_new - k * (r_new - r)) * disc
        r = r_new
    tv = mt * r * (1.0 + g_t) * (1.0 - g_t / roic_t) / (w - g_t) * disc
    return pv + tv, tv


@jit
def price_at_first_year(
    rev: float,
    g0: float,
    m0: float,
    k0: float,
    w: float,
    g_t: float,
    fade: int,
    m_t: float,
    roic_t: float,
    g_fixed: float,
    fcf: np.ndarray,
    nd0: float,
    shares: float,
) -> float:
    """The DCF price per share at the end of the first year, before its floor at 0: the fade
    value discounted back over the free cash flows ``fcf`` of years 2 .. H (the kernel's order
    of operations) less the first year's net debt."""
    value, _ = fade_value(rev, g0, m0, k0, w, g_t, fade, m_t, roic_t, g_fixed)
    for t in range(fcf.shape[0] - 1, 0, -1):
        value = (value + fcf[t]) / (1.0 + w)
    return (value - nd0) / shares


@jit
def _gap(
    s: np.ndarray,
    f: np.ndarray,
    fade: int,
    m_t: float,
    roic_t: float,
    shares: float,
    target: float,
    which: int,
    x: float,
) -> float:
    g_fixed = x if which == 0 else np.nan
    mt = x if which == 1 else m_t
    price = price_at_first_year(
        s[0], s[1], s[2], s[3], s[4], s[5], fade, mt, roic_t, g_fixed, f, s[6], shares
    )
    return price - target


@jit
def solve_paths(
    state: np.ndarray,
    fcf: np.ndarray,
    fade: int,
    m_t: float,
    roic_t: float,
    shares: float,
    target: float,
    which: int,
    lo: float,
    hi: float,
    out: np.ndarray,
) -> None:
    """Per path, the value of one long-run driver at which the first year's DCF price equals
    ``target``: ``which`` 0 solves the constant fade-period growth, 1 the terminal NOPAT margin.
    ``state[i]`` is (revenue, growth, NOPAT margin, capital per revenue, WACC, terminal
    growth, first-year net debt) of path i in its last year, ``fcf[i]`` its free cash flows.
    Bisection on [lo, hi] to 1e-12; -inf where the price is above the target at both ends
    of the bracket, +inf where it is below at both (no value in it reaches the target)."""
    for i in range(state.shape[0]):
        s = state[i]
        f = fcf[i]
        a, b = lo, hi
        fa = _gap(s, f, fade, m_t, roic_t, shares, target, which, a)
        fb = _gap(s, f, fade, m_t, roic_t, shares, target, which, b)
        if fa > 0.0 and fb > 0.0:  # above the target whatever the value
            out[i] = -np.inf
            continue
        if fa < 0.0 and fb < 0.0:  # below it whatever the value in the bracket
            out[i] = np.inf
            continue
        for _ in range(200):
            mid = 0.5 * (a + b)
            fm = _gap(s, f, fade, m_t, roic_t, shares, target, which, mid)
            if (fm <= 0.0) == (fa <= 0.0):
                a, fa = mid, fm
            else:
                b = mid
            if b - a <= 1e-12:
                break
        out[i] = 0.5 * (a + b)
