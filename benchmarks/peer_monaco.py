"""monaco, a peer Monte Carlo library, running the same default model as simcore.

monaco (``pip install -e ".[bench]"``) draws every input of every case itself and calls a Python
function once per case, as its users write their models. The model here is simcore's own numpy
statement of it (:mod:`simcore.model.equations`): monaco draws an independent standard normal
score per driver and year, and the occurrence and severity uniforms of every shock and year;
:func:`simcore.model.equations.inputs` applies the copula, the persistence and the marginals,
and :func:`simcore.model.equations.evaluate` gives the statements. So the model is the same and
the random numbers are monaco's (plain Monte Carlo: ``SampleMethod.RANDOM``), and the check
compares distributions, not bytes: a two-sample Kolmogorov-Smirnov test of net profit
attributable in the last year against simcore's run, and the medians within four standard
errors.

:func:`run_monaco` times ``Sim(...)`` plus ``runSim()`` (monaco's drawing, its per-case
pre-processing, the model, its post-processing), single-threaded as monaco runs by default.
"""

from __future__ import annotations

import time

import numpy as np

from simcore.model import equations as eq
from simcore.model.peers import apply_peers

OUTPUT = "net_profit_attributable"


def missing_reason() -> str | None:
    """Why monaco cannot run here (``None`` when it can)."""
    try:
        import monaco  # noqa: F401
    except ImportError:
        return 'monaco is not installed (pip install -e ".[bench]")'
    return None


def run_monaco(scenario, n_cases: int, seed: int) -> tuple[float, np.ndarray]:
    """Run ``scenario`` for ``n_cases`` cases with monaco: (seconds, ``OUTPUT`` of the last
    year per case)."""
    import monaco as mc
    from scipy import stats

    sc = apply_peers(scenario)
    H = sc.horizon
    cop = eq.copula(sc)
    mixing = sc.copula == "student_t" and cop is not None
    names: list[tuple[str, str, int]] = []  # (kind, name, year) of every monaco input
    names += [("eps", d.name, t) for d in sc.drivers for t in range(H)]
    names += [(k, s.name, t) for s in sc.shocks for k in ("occ", "sev") for t in range(H)]
    names += [("mix", "", t) for t in range(H)] if mixing else []

    def preprocess(case):
        return (np.array([case.invals[f"{k}:{n}:{t}"].val for k, n, t in names]),)

    def model(x):  # one case: the random numbers in `names`' order
        i = 0
        eps, u_occ, u_sev = {}, {}, {}
        for d in sc.drivers:
            eps[d.name] = x[None, i : i + H]
            i += H
        for s in sc.shocks:
            u_occ[s.name], u_sev[s.name] = x[None, i : i + H], x[None, i + H : i + 2 * H]
            i += 2 * H
        u_mix = x[None, i : i + H] if mixing else None
        lines = eq.evaluate(sc, *eq.inputs(sc, eps, u_occ, u_sev, u_mix, cop))
        return (float(lines[OUTPUT][0, -1]),)

    def postprocess(case, value):
        case.addOutVal(OUTPUT, value)

    t0 = time.perf_counter()
    sim = mc.Sim(
        name="simcore-default",
        ndraws=n_cases,
        fcns={"preprocess": preprocess, "run": model, "postprocess": postprocess},
        samplemethod=mc.SampleMethod.RANDOM,
        seed=seed,
        singlethreaded=True,
        verbose=False,
    )
    for k, n, t in names:
        dist = stats.norm if k == "eps" else stats.uniform
        sim.addInVar(name=f"{k}:{n}:{t}", dist=dist, distkwargs={})
    sim.runSim()
    seconds = time.perf_counter() - t0
    return seconds, np.asarray(sim.outvars[OUTPUT].nums, dtype=float)


def agreement(ours: np.ndarray, theirs: np.ndarray) -> dict:
    """Do monaco's values and ours come from one distribution? The two-sample KS test, and the
    medians' difference in standard errors (asymptotic, from each sample's density at its
    median)."""
    from scipy import stats

    ks = stats.ks_2samp(ours, theirs)

    def se(x):  # standard error of the median: sqrt(1/4n) / f(median), f by a kernel estimate
        f = stats.gaussian_kde(x if x.size <= 20_000 else x[:20_000])(np.median(x))[0]
        return 0.5 / (f * np.sqrt(x.size))

    diff = float(np.median(theirs) - np.median(ours))
    z = diff / float(np.hypot(se(ours), se(theirs)))
    return {
        "ks_statistic": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "median_ours": float(np.median(ours)),
        "median_monaco": float(np.median(theirs)),
        "median_diff_se": z,
        "agree": bool(ks.pvalue > 1e-3 and abs(z) < 4.0),
    }


def version() -> str:
    from importlib.metadata import version as v

    return v("monaco")
