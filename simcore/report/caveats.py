"""What each valuation method assumes, in one line, for every chart and table that shows it.

A multiple is *market-implied* when the scenario's base multiple, applied to the report's own
forecast, gives the market price (within 1%): then the report's path prices at the market by
construction, and "P(price > market)" measures the spread of the simulated fundamentals and
multiples around the market's view, not a mispricing. Otherwise the caveat names the multiple's
centre. The DCF caveat states its terminal-value rule.
"""

from __future__ import annotations

import numpy as np

from simcore.model.scenario import Scenario, extend

__all__ = ["valuation_caveats"]

_METRIC = {"price_ps": ("multiple.ps", "revenue"), "price_pe": ("multiple.pe", "eps")}
_NAME = {"price_ps": "P/S", "price_pe": "P/E"}


def _market_implied(sc: Scenario, output: str) -> bool | None:
    """Whether the multiple behind ``output`` is the market's own multiple of the report's
    forecast (None: the scenario has no forecast of the metric to tell)."""
    driver, metric = _METRIC[output]
    forecast = np.asarray(getattr(sc.forecast, metric), dtype=np.float64)
    if forecast.size == 0 or not np.all(forecast > 0):
        return None
    d = sc.driver(driver)
    base = extend(d.base, forecast.size)
    per_share = forecast / sc.shares if metric == "revenue" else forecast
    price = base * per_share
    return bool(np.all(np.abs(price / sc.market_price - 1.0) <= 0.01))


def valuation_caveats(sc: Scenario) -> dict[str, str]:
    """``{output: one-line caveat}`` for ``price_ps``, ``price_pe`` and ``price_dcf``."""
    out: dict[str, str] = {}
    for output, name in _NAME.items():
        implied = _market_implied(sc, output)
        if implied:
            text = (
                f"centred on the market's own {name} of the report's forecast: the report's "
                "path prices at the market by construction"
            )
        else:
            base = "/".join(f"{b:g}" for b in sc.driver(_METRIC[output][0]).base)
            text = f"centred on the scenario's {name} of {base}x"
            if implied is False:  # None: no forecast to tell the market's multiple by
                text += " (not the market's)"
        if output == "price_pe":
            text += "; undefined where EPS <= 0 (quantiles over the defined paths)"
        out[output] = text
    out["price_dcf"] = (
        "capitalises the last forecast year's NOPAT at once, with no fade to terminal growth: "
        "it reads low for a company growing fast at the horizon"
    )
    return out
