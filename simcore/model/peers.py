"""Multiples centred on peers: the alternative to the market-implied centre.

A scenario's multiple drivers (``multiple.ps``, ``multiple.pe``, ``multiple.ev_ebitda``) carry
the file's bases, usually the multiples the market price implies on the report's own path
("market-implied": P(price > market) is then about one half by construction). With
``multiples_centre = "peers"`` and a peer set (``[peers.<name>]``: each peer's multiples, date
and source), :func:`apply_peers` gives the scenario the kernel simulates:

- each multiple with at least one peer value has its base at the peers' median, in every year
  (the multiplier has mean 1, so the simulated multiple's mean is the peers' median);
- with at least two distinct peer values its spread is the peers' dispersion: a mean-1
  lognormal whose sigma is the sample standard deviation of the peers' log multiples (how far
  one company sits from its peers); otherwise the file's spread is kept;
- a multiple no peer gives keeps the file's centre and spread (and is labelled so).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from distributions import LogNormal
from simcore.model.scenario import Scenario

PEER_MULTIPLES = {"ps": "multiple.ps", "pe": "multiple.pe", "ev_ebitda": "multiple.ev_ebitda"}
LABELS = {"ps": "P/S", "pe": "P/E", "ev_ebitda": "EV/EBITDA"}


def peer_values(sc: Scenario, kind: str) -> list[float]:
    """The peers' values of one multiple (``"ps"``, ``"pe"``, ``"ev_ebitda"``)."""
    return [getattr(p, kind) for p in sc.peers if getattr(p, kind) is not None]


def peer_centre(sc: Scenario, kind: str) -> tuple[float, float | None] | None:
    """(median, sigma of log multiples or None with one value), or None with no value."""
    values = peer_values(sc, kind)
    if not values:
        return None
    logs = np.log(np.asarray(values, np.float64))
    sigma = float(np.std(logs, ddof=1)) if len(values) >= 2 else None
    return float(np.median(values)), sigma


def apply_peers(sc: Scenario) -> Scenario:
    """``sc`` with its multiples centred on the peers where ``multiples_centre == "peers"``
    (``sc`` itself otherwise)."""
    if sc.multiples_centre != "peers":
        return sc
    drivers = list(sc.drivers)
    for kind, name in PEER_MULTIPLES.items():
        centre = peer_centre(sc, kind)
        if centre is None:
            continue
        median, sigma = centre
        i = next(j for j, d in enumerate(drivers) if d.name == name)
        d = drivers[i]
        dist, mode = d.dist, d.mode
        spread = sigma is not None and sigma > 0.0
        if sigma is not None and spread:
            dist, mode = LogNormal(-0.5 * sigma * sigma, sigma), "mul"
        # the peers' dispersion replaces the file's spread, and any parameter rows with it
        dropped = spread and d.uncertainty is not None
        drivers[i] = replace(
            d,
            base=(median,),
            mode=mode,
            dist=dist,
            uncertainty=None if spread else d.uncertainty,
            rationale=f"{LABELS[kind]}: mean at the median of {len(peer_values(sc, kind))} peers"
            + (f", log spread {sigma:.3g} (their dispersion)" if spread else ", the file's spread")
            + ("; the file's parameter rows do not apply" if dropped else ""),
        )
    return replace(sc, drivers=tuple(drivers))


def describe(sc: Scenario, kind: str) -> str:
    """Where one multiple is centred, in words (for captions and caveats)."""
    if sc.multiples_centre == "peers" and peer_values(sc, kind):
        centre = peer_centre(sc, kind)
        assert centre is not None
        peers = [p for p in sc.peers if getattr(p, kind) is not None]
        dates = sorted({p.date for p in peers})
        when = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
        return f"mean at the median {LABELS[kind]} of {len(peers)} peers ({centre[0]:.3g}x, {when})"
    return "centred on the market price by construction (market-implied multiple)"
