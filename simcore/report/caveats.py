"""What each valuation method assumes, in one line, for every chart and table that shows it.

A multiple is *market-implied* when the scenario's base multiple, applied to the report's own
forecast, gives the market price (within 1%): then the report's path prices at the market by
construction, and "P(price > market)" measures the spread of the simulated fundamentals and
multiples around the market's view, not a mispricing. A multiple centred on peers
(``[valuation] multiples = "peers"``) names the peers' median and date. Otherwise the caveat
names the multiple's centre. The P/E and EV/EBITDA caveats say that they give 0 where the
earnings or EBITDA are not positive. The DCF caveat states its fade and terminal rule, and
warns when simulated years go beyond the years the bases describe.
"""

from __future__ import annotations

import numpy as np

from simcore.model.peers import describe, peer_values
from simcore.model.scenario import Scenario, extend

__all__ = ["nowcast_caveat", "valuation_caveats"]

# output -> (driver, forecast metric, peer key, name)
_METHODS = {
    "price_ps": ("multiple.ps", "revenue", "ps", "P/S"),
    "price_pe": ("multiple.pe", "eps", "pe", "P/E"),
    "price_ev_ebitda": ("multiple.ev_ebitda", None, "ev_ebitda", "EV/EBITDA"),
}


def _market_implied(sc: Scenario, output: str) -> bool | None:
    """Whether the multiple behind ``output`` is the market's own multiple of the report's
    forecast (None: the scenario has no forecast of the metric to tell)."""
    driver, metric, _, _ = _METHODS[output]
    if metric is None:  # EV/EBITDA: the report's EBITDA is not a forecast series; the
        return _implied_by_name(sc, driver)  # rationale says whether it is market-implied
    forecast = np.asarray(getattr(sc.forecast, metric), dtype=np.float64)
    if forecast.size == 0 or not np.all(forecast > 0):
        return None
    d = sc.driver(driver)
    base = extend(d.base, forecast.size)
    per_share = forecast / sc.shares if metric == "revenue" else forecast
    price = base * per_share
    return bool(np.all(np.abs(price / sc.market_price - 1.0) <= 0.01))


def _implied_by_name(sc: Scenario, driver: str) -> bool | None:
    """EV/EBITDA: market-implied when the deterministic path prices at the market (1%)."""
    from simcore.io.assumptions import deterministic_statement

    st = deterministic_statement(sc)
    price = st["price_ev_ebitda"][: sc.explicit]
    if not np.all(st["ebitda"][: sc.explicit] > 0):
        return None
    return bool(np.all(np.abs(price / sc.market_price - 1.0) <= 0.01))


def valuation_caveats(sc: Scenario) -> dict[str, str]:
    """``{output: one-line caveat}`` for ``price_ps``, ``price_pe``, ``price_ev_ebitda`` and
    ``price_dcf``."""
    out: dict[str, str] = {}
    for output, (driver, _, key, name) in _METHODS.items():
        if sc.multiples_centre == "peers" and peer_values(sc, key):
            text = describe(sc, key)
        else:
            implied = _market_implied(sc, output)
            if implied:
                text = (
                    f"centred on the market's own {name} of the report's forecast: the "
                    "report's path prices at the market by construction"
                )
            else:
                base = "/".join(f"{b:g}" for b in sc.driver(driver).base)
                text = f"centred on the scenario's {name} of {base}x"
                if implied is False:  # None: no forecast to tell the market's multiple by
                    text += " (not the market's)"
        if output == "price_pe":
            text += "; 0 where EPS <= 0, and those paths count in every statistic"
        if output == "price_ev_ebitda":
            text += "; less each path's net debt; 0 where EBITDA <= 0"
        out[output] = text
    margin = (
        f"each path's own {sc.base_year + sc.horizon} NOPAT margin held (the value moves with "
        "the horizon)"
        if sc.terminal_margin is None
        else f"a {sc.terminal_margin:.1%} NOPAT margin"
    )
    end = sc.base_year + sc.horizon
    if sc.fade_years:
        text = (
            f"cash flows to {end}, then {sc.fade_years} fade years to terminal growth, "
            f"{margin} and a {sc.terminal_roic:.1%} return on new capital, then a terminal value"
        )
    else:
        text = (
            f"no fade: a terminal value right after {end} ({margin}, "
            f"{sc.terminal_roic:.1%} return on new capital)"
        )
    if sc.horizon > sc.explicit:
        last = sc.base_year + sc.explicit
        text += f"; growth bases after {last} fade from the {last} values (no data beyond)"
    out["price_dcf"] = text
    return out


def nowcast_caveat(sc: Scenario) -> str:
    """What a conditioned run fixed, in one sentence ("" for a run that is not conditioned)."""
    from simcore.model.nowcast import pins

    if not sc.nowcast_as_of:
        return ""
    used = pins(sc)[1]
    if not used:
        return f"Nowcast as of {sc.nowcast_as_of}: no reported figure of the simulated years"
    parts: dict[tuple[int, str, int, float, str], float] = {}
    for c in used:
        figure = "revenue" if c.figure.startswith("revenue") else c.figure
        key = (c.year, figure, c.months, c.share, c.share_rule)
        parts[key] = parts.get(key, 0.0) + c.value
    text = "; ".join(
        f"{year} {figure.replace('_', ' ')} {value:,.4g}"
        + (
            " (full year)"
            if months == 12
            else f" for {months} months, {share:.0%} of the year ({rule})"
        )
        for (year, figure, months, share, rule), value in parts.items()
    )
    return (
        f"Nowcast as of {sc.nowcast_as_of}: fixed to the reported {text}; the rest of each year "
        "simulated, growth carrying on through its persistence; operating and net profit not "
        "conditioned"
    )
