"""Known answers for the staged DCF (:mod:`simcore.model.dcf`), written from the rule as stated in
its docstring and ``docs/model.md``, not from the implementation: closed forms (Gordon, the
growing annuity), an exact-rational re-implementation of the fade, analytic and independently
root-found reverse DCFs, and end-to-end runs of a scenario with no uncertainty.

The rule, for fade years j = 1 .. F with a_j = j / F after the last simulated year H:
g_j = g0 + (gT - g0) a_j (or a constant g_fixed), m_j = m0 + (mT - m0) a_j, k_j = k0 + (kT - k0)
a_j with kT = mT (1 + gT) / roicT, R_j = R_{j-1} (1 + g_j), FCF_j = m_j R_j - k_j (R_j - R_{j-1}),
TV = mT R_F (1 + gT)(1 - gT / roicT) / (w - gT) at the end of the fade, all discounted at w.
"""

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import make_toy
from scipy.optimize import brentq

from distributions import Constant
from simcore.analysis.valuation import reverse_dcf
from simcore.engine import simulate
from simcore.model import equations
from simcore.model.dcf import fade_value, price_at_first_year, solve_paths

REL = 1e-9  # the tolerance, relative
ORACLE = 1e-12  # numpy oracle vs kernel

# ---------------------------------------------------------------------------------------------
# independent oracles: exact rational arithmetic, straight from the rule


def _q(x) -> Fraction:
    return Fraction(float(x))


def exact_fade(rev, g0, m0, k0, w, g_t, fade, m_t, roic_t, g_fixed=None):
    """(EV, PV of TV) at the end of year H, in exact rationals of the float inputs. ``m_t``
    None holds the margin at m0; ``g_fixed`` None fades growth linearly."""
    rev, g0, m0, k0, w, g_t, roic_t = map(_q, (rev, g0, m0, k0, w, g_t, roic_t))
    mt = m0 if m_t is None else _q(m_t)
    kt = mt * (1 + g_t) / roic_t
    r_prev = rev
    pv = Fraction(0)
    for j in range(1, fade + 1):
        a = Fraction(j, fade)
        g = g0 + (g_t - g0) * a if g_fixed is None else _q(g_fixed)
        m = m0 + (mt - m0) * a
        k = k0 + (kt - k0) * a
        r = r_prev * (1 + g)
        pv += (m * r - k * (r - r_prev)) / (1 + w) ** j
        r_prev = r
    tv = mt * r_prev * (1 + g_t) * (1 - g_t / roic_t) / (w - g_t) / (1 + w) ** fade
    return pv + tv, tv


def exact_first_year_price(ev_h, w, fcf, nd0, shares):
    """The value at the end of year H discounted back to the end of year 1 over fcf[H-1] ..
    fcf[1] (fcf[t] is paid at the end of year t + 1), less the first year's net debt."""
    w = _q(w)
    H = len(fcf)
    value = ev_h / (1 + w) ** (H - 1) + sum(
        (_q(fcf[t]) / (1 + w) ** t for t in range(1, H)), Fraction(0)
    )
    return (value - _q(nd0)) / _q(shares)


def gordon(m, rev, g, roic, w):
    """The value-driver (Gordon) formula m R (1 + g)(1 - g / roic) / (w - g), exact."""
    m, rev, g, roic, w = map(_q, (m, rev, g, roic, w))
    return m * rev * (1 + g) * (1 - g / roic) / (w - g)


def close(got, want, rel=REL):
    got, want = float(got), float(want)
    return math.isclose(got, want, rel_tol=rel, abs_tol=0.0)


def nan(x):
    return np.nan if x is None else x


# parameter sets (rev, g0, m0, k0, w, gT, mT (None: hold m0), roicT), chosen to span the cases
CASES = [
    (307.205, 0.174, 0.0433, 0.329, 0.09, 0.03, 0.12, 0.1),
    (1000.0, 0.35, 0.08, 1.2, 0.11, 0.025, 0.2, 0.15),
    (50.0, -0.1, 0.25, 0.0, 0.07, 0.02, 0.1, 0.3),
    (80.0, 0.05, 0.15, 0.6, 0.085, 0.04, None, 0.12),
    (12.5, 0.6, -0.05, 2.0, 0.13, 0.01, 0.18, 0.25),
]


# ---------------------------------------------------------------------------------------------
# 1. closed forms of fade_value


@pytest.mark.parametrize("case", CASES)
def test_no_fade_is_the_gordon_value_driver_formula(case):
    """F = 0: no fade year, the terminal value at the end of year H is the whole value, and it is
    the value-driver formula on the path's revenue (with mT, or m0 where none is given)."""
    rev, g0, m0, k0, w, g_t, m_t, roic = case
    ev, tv = fade_value(rev, g0, m0, k0, w, g_t, 0, nan(m_t), roic, np.nan)
    want = gordon(m0 if m_t is None else m_t, rev, g_t, roic, w)
    assert close(ev, want), (ev, float(want))
    assert close(tv, want)  # all of it is terminal value
    # the starting growth, margin path and capital do not enter without a fade
    ev2, _ = fade_value(rev, g0 + 0.3, m0, k0 * 3 + 1.0, w, g_t, 0, nan(m_t), roic, 0.2)
    if m_t is not None:
        ev3, _ = fade_value(rev, g0, m0 + 0.1, k0, w, g_t, 0, m_t, roic, np.nan)
        assert close(ev3, want)
    assert close(ev2, want)


@pytest.mark.parametrize("fade", [0, 1, 2, 7, 10, 30])
@pytest.mark.parametrize(
    "m, g, roic, w",
    [
        (0.12, 0.03, 0.1, 0.09),
        (0.2, 0.05, 0.25, 0.08),
        (0.07, -0.02, 0.15, 0.1),
        (0.3, 0.0, 0.2, 0.06),
    ],
)
@pytest.mark.parametrize("fixed", [False, True])
@pytest.mark.parametrize("hold_margin", [False, True])
def test_a_fade_already_at_the_terminal_state_is_seamless(fade, m, g, roic, w, fixed, hold_margin):
    """g0 = gT = g, m0 = mT = m and k0 = kT = m (1 + g) / roic: EV is the Gordon formula for
    every F.

    Why: every fade year then has g_j = g, m_j = m, k_j = k = m (1 + g) / roic, so
    FCF_j = m R_j - k (R_j - R_{j-1}) = m R_j - m (1 + g) / roic * g R_j / (1 + g)
          = m (1 - g / roic) R_j,  with R_j = R (1 + g)^j.
    The fade's PV is sum_{j=1..F} m (1 - g/roic) R (1+g)^j / (1+w)^j. The terminal value at F,
    m R_F (1 + g)(1 - g/roic) / (w - g), is exactly sum_{i>=1} FCF_{F+i} / (1+w)^i (a growing
    perpetuity of the same rule), so fade + TV = sum_{j>=1} FCF_j / (1+w)^j
    = m (1 - g/roic) R (1+g) / (w - g): the Gordon value, whatever F."""
    rev = 250.0
    k = m * (1.0 + g) / roic
    ev, tv = fade_value(
        rev, g, m, k, w, g, fade, np.nan if hold_margin else m, roic, g if fixed else np.nan
    )
    want = gordon(m, rev, g, roic, w)
    assert close(ev, want), (fade, ev, float(want))
    # and the PV of the terminal value is the Gordon value less the fade years' share of it
    assert close(tv, want * (Fraction(1 + g) / Fraction(1 + w)) ** fade)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("g_fixed", [None, 0.07, -0.03])
@pytest.mark.parametrize("fade", [7, 1, 3])
def test_general_fade_matches_an_exact_rational_loop(case, g_fixed, fade):
    """F = 7 (and 1, 3): every lever fading at once, against the rule run in exact rationals."""
    rev, g0, m0, k0, w, g_t, m_t, roic = case
    ev, tv = fade_value(rev, g0, m0, k0, w, g_t, fade, nan(m_t), roic, nan(g_fixed))
    want_ev, want_tv = exact_fade(rev, g0, m0, k0, w, g_t, fade, m_t, roic, g_fixed)
    assert close(ev, want_ev), (ev, float(want_ev))
    assert close(tv, want_tv), (tv, float(want_tv))


@pytest.mark.parametrize("fade", [1, 7, 12])
@pytest.mark.parametrize(
    "rev, g, m, w, g_t, roic",
    [
        (307.205, 0.08, 0.12, 0.09, 0.03, 0.1),
        (1000.0, 0.15, 0.2, 0.11, 0.025, 0.15),
        (40.0, -0.05, 0.1, 0.07, 0.02, 0.3),
        (90.0, 0.09, 0.18, 0.09, 0.04, 0.2),  # g = w: the annuity's limit case, PV = F R c/(1+w)
    ],
)
def test_constant_fade_growth_is_a_growing_annuity_plus_terminal_value(
    fade, rev, g, m, w, g_t, roic
):
    """g_fixed = g in every fade year, m0 = mT = m, k0 = kT = k = m (1 + gT) / roicT: FCF_j =
    m R_j - k g R_{j-1} = R (1+g)^{j-1} c with c = m (1 + g) - k g, so the fade's PV is the growing
    annuity c R / (w - g) (1 - ((1+g)/(1+w))^F) (F c R / (1 + w) when g = w), and the TV is
    m R (1+g)^F (1 + gT)(1 - gT/roicT) / (w - gT) discounted F years."""
    k = m * (1.0 + g_t) / roic
    ev, tv = fade_value(rev, 0.4, m, k, w, g_t, fade, m, roic, g)  # g0 is unused: g_fixed rules
    R, G, M, K, W, GT, RO = map(_q, (rev, g, m, k, w, g_t, roic))
    c = M * (1 + G) - K * G
    if G == W:
        annuity = fade * c * R / (1 + W)
    else:
        annuity = c * R / (W - G) * (1 - ((1 + G) / (1 + W)) ** fade)
    want_tv = M * R * (1 + G) ** fade * (1 + GT) * (1 - GT / RO) / (W - GT) / (1 + W) ** fade
    assert close(tv, want_tv), (tv, float(want_tv))
    assert close(ev, annuity + want_tv), (ev, float(annuity + want_tv))


# ---------------------------------------------------------------------------------------------
# 2. the terminal value's share


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fade", [0, 1, 7, 10])
def test_terminal_value_share(case, fade):
    rev, g0, m0, k0, w, g_t, m_t, roic = case
    ev, tv = fade_value(rev, g0, m0, k0, w, g_t, fade, nan(m_t), roic, np.nan)
    want_ev, want_tv = exact_fade(rev, g0, m0, k0, w, g_t, fade, m_t, roic)
    # the TV itself at the end of the fade, discounted F years
    mt = _q(m0 if m_t is None else m_t)
    R = _q(rev)
    for j in range(1, fade + 1):
        R *= 1 + _q(g0) + (_q(g_t) - _q(g0)) * Fraction(j, fade)
    tv_end = mt * R * (1 + _q(g_t)) * (1 - _q(g_t) / _q(roic)) / (_q(w) - _q(g_t))
    assert close(tv, tv_end / (1 + _q(w)) ** fade)
    assert close(tv / ev, want_tv / want_ev), (tv / ev, float(want_tv / want_ev))


@pytest.mark.parametrize("H", [1, 2, 5])
def test_price_at_first_year_discounts_back_over_the_later_years(H):
    rev, g0, m0, k0, w, g_t, m_t, roic = CASES[0]
    fcf = np.array([3.0, -7.5, 12.25, 20.0, 31.0][:H])
    nd0, shares = 31.9, 50.0
    p = price_at_first_year(rev, g0, m0, k0, w, g_t, 10, m_t, roic, np.nan, fcf, nd0, shares)
    ev_h, _ = exact_fade(rev, g0, m0, k0, w, g_t, 10, m_t, roic)
    want = exact_first_year_price(ev_h, w, fcf, nd0, shares)
    assert close(p, want), (p, float(want))
    # fcf[0] (the first year's own cash flow) is already in nd0: it must not enter
    fcf2 = fcf.copy()
    fcf2[0] += 1e3
    p2 = price_at_first_year(rev, g0, m0, k0, w, g_t, 10, m_t, roic, np.nan, fcf2, nd0, shares)
    assert p2 == p


# ---------------------------------------------------------------------------------------------
# 3. reverse DCF closed forms

FCF = np.array(
    [
        [0.4486, 12.922732, 22.63830076, 27.49039679],
        [5.0, -3.0, 8.0, 15.0],
        [-2.0, 4.0, 9.5, 11.0],
    ]
)
# (revenue, growth g0, margin m0, capital k0, w, gT, first-year net debt) per path
STATE = np.array(
    [
        [307.205, 0.1746, 0.0433, 0.3293, 0.09, 0.03, 31.91524],
        [500.0, 0.12, 0.15, 0.9, 0.085, 0.025, 120.0],
        [200.0, 0.3, 0.1, 0.5, 0.1, 0.035, -15.0],
    ]
)


def _exact_price(row, fcf, fade, m_t, roic, shares, g_fixed=None):
    rev, g0, m0, k0, w, g_t, nd0 = row
    ev, _ = exact_fade(rev, g0, m0, k0, w, g_t, fade, m_t, roic, g_fixed)
    return exact_first_year_price(ev, w, fcf, nd0, shares)


@pytest.mark.parametrize("target", [8.0, 15.0, 25.0])
def test_terminal_margin_without_fade_is_linear_and_solved_exactly(target):
    """F = 0: price = (mT C / (1+w)^(H-1) + S - nd0) / shares with C = R (1+gT)(1-gT/roic)/(w-gT)
    and S = sum_{t=1..H-1} fcf[t] / (1+w)^t, so mT = (target shares + nd0 - S)(1+w)^(H-1) / C."""
    roic, shares = 0.12, 50.0
    out = np.empty(len(STATE))
    solve_paths(STATE, FCF, 0, np.nan, roic, shares, target, 1, -1.0, 1.0, out)
    H = FCF.shape[1]
    for i, (rev, _, _, _, w, g_t, nd0) in enumerate(STATE):
        W, GT = _q(w), _q(g_t)
        C = _q(rev) * (1 + GT) * (1 - GT / _q(roic)) / (W - GT)
        S = sum((_q(FCF[i, t]) / (1 + W) ** t for t in range(1, H)), Fraction(0))
        want = (_q(target) * _q(shares) + _q(nd0) - S) * (1 + W) ** (H - 1) / C
        assert -1.0 < want < 1.0  # the case is inside the bracket
        assert close(out[i], want), (i, out[i], float(want))


@pytest.mark.parametrize("target", [8.0, 15.0, 25.0])
def test_terminal_margin_with_a_fade_is_still_linear(target):
    """F = 7: m_j, k_j (through kT) and the TV are all affine in mT, so the price is too; the root
    is the secant through any two exact prices."""
    roic, shares, fade = 0.12, 50.0, 7
    out = np.empty(len(STATE))
    solve_paths(STATE, FCF, fade, np.nan, roic, shares, target, 1, -1.0, 1.0, out)
    for i in range(len(STATE)):
        pa = _exact_price(STATE[i], FCF[i], fade, 0.0, roic, shares)
        pb = _exact_price(STATE[i], FCF[i], fade, 0.5, roic, shares)
        want = (_q(target) - pa) * Fraction(1, 2) / (pb - pa)
        assert -1.0 < want < 1.0
        assert close(out[i], want), (i, out[i], float(want))


@pytest.mark.parametrize("u", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("fade", [1, 5, 10])
def test_constant_fade_growth_matches_an_independent_root_finder(u, fade):
    """which = 0 against brentq (xtol 1e-14) on the exact-rational price, over reverse_dcf's
    bracket [-0.5, 1]; the price is checked increasing there (one root), and each path's target
    is a share u of the way from its price at -0.5 to its price at 1."""
    roic, shares, m_t = 0.2, 50.0, 0.12
    lo, hi = -0.5, 1.0
    for i in range(len(STATE)):

        def price(g, i=i):
            return float(_exact_price(STATE[i], FCF[i], fade, m_t, roic, shares, g))

        values = np.array([price(g) for g in np.linspace(lo, hi, 61)])
        assert np.all(np.diff(values) > 0)  # precondition: one root
        target = values[0] + u * (values[-1] - values[0])
        want = brentq(
            lambda g, target=target: price(g) - target,
            lo,
            hi,
            xtol=1e-14,
            rtol=4 * np.finfo(float).eps,
        )
        out = np.empty(1)
        solve_paths(
            STATE[i : i + 1], FCF[i : i + 1], fade, m_t, roic, shares, target, 0, lo, hi, out
        )
        assert close(out[0], want), (i, fade, out[0], want)


# ---------------------------------------------------------------------------------------------
# 4. end to end on a scenario with no uncertainty


def deterministic(**changes):
    """The toy with every driver a point mass at its base (add: 0, mul: 1) and no shocks."""
    sc = make_toy(**changes)
    drivers = tuple(
        dataclasses.replace(d, dist=Constant(0.0 if d.mode == "add" else 1.0)) for d in sc.drivers
    )
    return dataclasses.replace(sc, drivers=drivers).with_shocks(False)


def lines_fade_inputs(sc, L, i=0):
    """(rev, g0, m0, k0, w, gT) of path i from its statement lines, as the rule defines them."""
    rev = L["revenue"][i, -1]
    before = L["revenue"][i, -2] if sc.horizon > 1 else sum(s.base_revenue for s in sc.segments)
    g0 = rev / before - 1.0
    m0 = L["nopat"][i, -1] / rev
    k0 = max(L["invested_capital"][i, -1] / rev, 0.0)
    return rev, g0, m0, k0, L["discount_rate"][i, -1], L["terminal_growth"][i, -1]


@pytest.mark.parametrize("horizon", [1, 3, 5])
@pytest.mark.parametrize("fade_years, terminal_margin", [(10, 0.12), (0, 0.12), (4, None)])
def test_simulated_dcf_price_is_the_rule_on_the_statement_lines(
    horizon, fade_years, terminal_margin
):
    sc = deterministic(horizon=horizon, fade_years=fade_years, terminal_margin=terminal_margin)
    n = 3
    r = simulate(sc, n, seed=11, statements=True)
    L = r.statements
    rev, g0, m0, k0, w, g_t = lines_fade_inputs(sc, L)
    ev_h, tv_h = exact_fade(rev, g0, m0, k0, w, g_t, fade_years, terminal_margin, sc.terminal_roic)
    W = _q(w)
    H = sc.horizon
    price = r["price_dcf"]
    share = r["dcf_terminal_share"]
    assert price.shape == (n, H)
    for t in range(H):  # the value at each year end: discounted back over the later years
        ev_t = ev_h / (1 + W) ** (H - 1 - t) + sum(
            (_q(L["fcf"][0, s]) / (1 + W) ** (s - t) for s in range(t + 1, H)), Fraction(0)
        )
        want = max((ev_t - _q(L["net_debt"][0, t])) / _q(sc.shares), Fraction(0))
        assert want > 0  # the check is on the unfloored price
        assert all(close(p, want) for p in price[:, t]), (t, price[:, t], float(want))
        want_share = tv_h / (1 + W) ** (H - 1 - t) / ev_t
        assert all(close(s, want_share) for s in share[:, t]), (t, share[:, t])
    # the first year's price, by the reverse DCF's own function, is the run's
    fcf = np.ascontiguousarray(L["fcf"][0])
    p1 = price_at_first_year(
        rev,
        g0,
        m0,
        k0,
        w,
        g_t,
        fade_years,
        nan(terminal_margin),
        sc.terminal_roic,
        np.nan,
        fcf,
        L["net_debt"][0, 0],
        sc.shares,
    )
    assert close(p1, price[0, 0])


@pytest.mark.parametrize("fade_years", [10, 0, 3])
def test_reverse_dcf_at_the_own_price_returns_the_terminal_margin(fade_years):
    sc = deterministic(horizon=4, terminal_margin=0.12, fade_years=fade_years)
    own_price = float(simulate(sc, 2, seed=3)["price_dcf"][0, 0])
    rd = reverse_dcf(sc, "terminal_margin", target=own_price, n_paths=4, seed=5)
    assert math.isclose(rd.central, 0.12, rel_tol=1e-8), rd.central
    assert np.allclose(rd.required, 0.12, rtol=1e-8, atol=0.0), rd.required
    # with no terminal margin the run holds each path's own margin: that is what is required
    sc0 = dataclasses.replace(sc, terminal_margin=None)
    own_price0 = float(simulate(sc0, 2, seed=3)["price_dcf"][0, 0])
    rd0 = reverse_dcf(sc0, "terminal_margin", target=own_price0, n_paths=4, seed=5)
    assert math.isclose(rd0.central, rd0.central_own, rel_tol=1e-8), (rd0.central, rd0.central_own)
    assert np.allclose(rd0.required, rd0.own, rtol=1e-8, atol=0.0)


def test_reverse_dcf_fade_growth_when_growth_already_sits_at_terminal_growth():
    """Both segments grow at the terminal growth 3% in every year, so g0 = gT and the linear fade
    is the constant gT: the constant fade growth that gives the run's own price is gT."""
    toy = make_toy()
    drivers = tuple(
        dataclasses.replace(d, base=(0.03,)) if d.name.startswith("growth.") else d
        for d in toy.drivers
    )
    sc = deterministic(horizon=4, terminal_margin=0.12, drivers=drivers)
    r = simulate(sc, 2, seed=3, statements=True)
    _, g0, *_ = lines_fade_inputs(sc, r.statements)
    assert math.isclose(g0, 0.03, rel_tol=1e-12)  # precondition
    rd = reverse_dcf(sc, "fade_growth", target=float(r["price_dcf"][0, 0]), n_paths=4, seed=5)
    assert math.isclose(rd.central, 0.03, rel_tol=1e-8), rd.central
    assert np.allclose(rd.required, 0.03, rtol=1e-8, atol=0.0)


def test_reverse_dcf_fade_growth_with_one_fade_year_is_terminal_growth():
    """F = 1: a_1 = 1, so the one fade year grows at gT whatever g0; the constant fade growth
    that reproduces the run's price is gT, and the toy's own last growth (above 3%) reaches it."""
    sc = deterministic(horizon=4, terminal_margin=0.12, fade_years=1)
    r = simulate(sc, 2, seed=3, statements=True)
    _, g0, *_ = lines_fade_inputs(sc, r.statements)
    assert g0 > 0.05  # precondition: the fade does change growth
    rd = reverse_dcf(sc, "fade_growth", target=float(r["price_dcf"][0, 0]), n_paths=4, seed=5)
    assert math.isclose(rd.central, 0.03, rel_tol=1e-8), rd.central
    assert np.allclose(rd.required, 0.03, rtol=1e-8, atol=0.0)
    assert math.isclose(rd.central_own, g0, rel_tol=1e-12)
    assert rd.p_reached == 1.0


# ---------------------------------------------------------------------------------------------
# 5. the numpy oracle and the kernel on a fade with no uncertainty


@pytest.mark.parametrize("fade_years, terminal_margin", [(10, 0.12), (7, None), (0, 0.2)])
def test_numpy_oracle_kernel_and_exact_rule_agree(fade_years, terminal_margin):
    sc = deterministic(horizon=5, fade_years=fade_years, terminal_margin=terminal_margin)
    n = 3
    r = simulate(sc, n, seed=7, statements=True)
    L = r.statements
    w = L["discount_rate"][:, -1]
    ev_np, tv_np = equations.fade_values(sc, L, w)
    rev, g0, m0, k0, w0, g_t = lines_fade_inputs(sc, L)
    args = (rev, g0, m0, k0, w0, g_t, fade_years, nan(terminal_margin), sc.terminal_roic)
    ev_k, tv_k = fade_value(*args, np.nan)
    ev_x, tv_x = exact_fade(*args[:7], terminal_margin, sc.terminal_roic)
    for i in range(n):
        assert close(ev_np[i], ev_k, ORACLE) and close(tv_np[i], tv_k, ORACLE)
        assert close(ev_np[i], ev_x, ORACLE) and close(tv_np[i], tv_x, ORACLE)
    # the last year's DCF price is the EV less that year's net debt
    want = (ev_np - L["net_debt"][:, -1]) / sc.shares
    np.testing.assert_allclose(r["price_dcf"][:, -1], want, rtol=ORACLE, atol=0.0)
    # the numpy reference model end to end: same DCF prices and terminal shares
    ref = equations.simulate_reference(sc, n, 7)
    np.testing.assert_allclose(r["price_dcf"], ref["price_dcf"], rtol=ORACLE, atol=0.0)
    np.testing.assert_allclose(
        r["dcf_terminal_share"], ref["dcf_terminal_share"], rtol=ORACLE, atol=0.0
    )
    if fade_years:  # the reverse DCF's levers: a constant growth, another terminal margin
        ev_np, tv_np = equations.fade_values(sc, L, w, fade_growth=0.06, terminal_margin=0.15)
        ev_k, tv_k = fade_value(*args[:7], 0.15, sc.terminal_roic, 0.06)
        ev_x, tv_x = exact_fade(*args[:7], 0.15, sc.terminal_roic, 0.06)
        for i in range(n):
            assert close(ev_np[i], ev_k, ORACLE) and close(tv_np[i], tv_k, ORACLE)
            assert close(ev_np[i], ev_x, ORACLE) and close(tv_np[i], tv_x, ORACLE)


# ---------------------------------------------------------------------------------------------
# 6. the bracket


@pytest.mark.parametrize("which, lo, hi", [(0, -0.5, 1.0), (1, -1.0, 1.0)])
def test_targets_out_of_reach_give_infinities(which, lo, hi):
    roic, shares, fade, m_t = 0.2, 50.0, 5, 0.12
    for target, want in ((1e7, np.inf), (-1e7, -np.inf)):
        # precondition, by the exact price: on the same side of the target at both ends
        for i in range(len(STATE)):
            for x in (lo, hi):
                g, m = (x, m_t) if which == 0 else (None, x)
                p = _exact_price(STATE[i], FCF[i], fade, m, roic, shares, g)
                assert (p < target) if want > 0 else (p > target)
        out = np.zeros(len(STATE))
        solve_paths(STATE, FCF, fade, m_t, roic, shares, target, which, lo, hi, out)
        assert np.all(out == want), (target, out)
    # and a target in reach gives a finite value inside the bracket on every path
    out = np.zeros(len(STATE))
    solve_paths(STATE, FCF, fade, m_t, roic, shares, 20.0, which, lo, hi, out)
    assert np.all(np.isfinite(out)) and np.all((lo < out) & (out < hi))


def test_reverse_dcf_out_of_reach():
    sc = deterministic(horizon=3, terminal_margin=0.12)
    high = reverse_dcf(sc, "terminal_margin", target=1e7, n_paths=4, seed=5)
    assert high.central == np.inf and np.all(np.isposinf(high.required))
    assert high.share_unreachable == 1.0 and high.p_reached == 0.0
    low = reverse_dcf(sc, "fade_growth", target=1e-9, n_paths=4, seed=5)
    assert low.central == -np.inf and np.all(np.isneginf(low.required))
    assert low.share_unreachable == 0.0 and low.p_reached == 1.0
