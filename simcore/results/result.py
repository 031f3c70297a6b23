"""``SimulationResult``: per-path outputs of a run, with quantiles, summaries and risk metrics."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special

from simcore.model.scenario import OUTPUTS, Scenario
from simcore.results.file import ResultFileError, read_result  # noqa: F401 (ResultFileError: public here)
from simcore.results.moments import row_moments
from simcore.results.quantiles import quantiles as _fast_quantiles
from simcore.results.quantiles import quantiles_rows as _fast_quantiles_rows

if TYPE_CHECKING:
    from simcore.io.files import StrPath

DEFAULT_Q = (0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99)
PRICE_OUTPUTS = ("price_ps", "price_pe", "price_ev_ebitda", "price_dcf")
# prices a multiple gives only where its base is positive; 0 (no value) elsewhere, counted as 0
# in every quantile and probability (docs/model.md, "Valuation")
MULTIPLE_BASE = {"price_pe": "eps", "price_ev_ebitda": "ebitda"}
_Z95 = float(special.ndtri(0.975))
_HTML_MAX_YEARS = 8  # a longer horizon shows its first and last years around an ellipsis


class SimulationResult:
    """Per-path arrays of one run and the statistics a risk table needs.

    ``result[name]`` is a float64 array (n_paths, horizon) for every name in
    :data:`simcore.model.scenario.OUTPUTS` and ``"revenue.<segment>"``; ``result.hits`` is a uint32
    (n_paths, horizon) bitmask of the shocks that hit (bit k = ``scenario.shocks[k]``).
    ``price_pe`` is 0 where EPS <= 0 and ``price_ev_ebitda`` 0 where EBITDA <= 0: the multiple
    gives no value there, and those paths count as 0 in every quantile and probability
    (:meth:`undefined_share` says how many). ``roic`` and ``dcf_terminal_share`` are NaN where
    undefined (quantiles skip them).

    Monte Carlo standard errors assume independent paths (``sampling="mc"``); for antithetic,
    Latin hypercube and Sobol sampling they are conservative.
    """

    def __init__(
        self,
        scenario: Scenario,
        out: np.ndarray,
        seg_out: np.ndarray,
        hits: np.ndarray,
        manifest: dict[str, Any],
        draws: dict[str, dict[str, np.ndarray]] | None = None,
        statements: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.scenario = scenario
        self._out = out  # (O, H, n)
        self._seg = seg_out  # (S, H, n)
        self._hits = hits  # (H, n)
        self.manifest = manifest
        self.draws = draws
        # every statement line (layout.LINES) as (n_paths, horizon), with simulate(...,
        # statements=True); None otherwise
        self.statements = statements

    # -- access ---------------------------------------------------------------------------------
    @property
    def n_paths(self) -> int:
        return self._out.shape[2]

    @property
    def horizon(self) -> int:
        return self._out.shape[1]

    @property
    def years(self) -> list[int]:
        return [self.scenario.base_year + 1 + t for t in range(self.horizon)]

    @property
    def names(self) -> list[str]:
        return list(OUTPUTS) + [f"revenue.{s}" for s in self.scenario.segment_names]

    def _rows(self, name: str) -> np.ndarray:
        """(H, n) view of an output."""
        if name in OUTPUTS:
            return self._out[OUTPUTS.index(name)]
        if name.startswith("revenue."):
            seg = name.split(".", 1)[1]
            if seg in self.scenario.segment_names:
                return self._seg[self.scenario.segment_names.index(seg)]
        raise KeyError(f"unknown output {name!r}; available: {self.names}")

    def __getitem__(self, name: str) -> np.ndarray:
        return self._rows(name).T

    @property
    def hits(self) -> np.ndarray:
        return self._hits.T

    def shock_hit(self, shock: str) -> np.ndarray:
        """bool (n_paths, horizon): did ``shock`` hit that path in that year?"""
        names = [s.name for s in self.scenario.shocks]
        if shock not in names:
            raise KeyError(f"unknown shock {shock!r}; available: {names}")
        return ((self._hits >> np.uint32(names.index(shock))) & np.uint32(1)).astype(bool).T

    # -- statistics ---------------------------------------------------------------------------
    def undefined_share(self, output: str) -> np.ndarray:
        """Per year, the share of paths where ``output`` is undefined: EPS <= 0 for the P/E
        price, EBITDA <= 0 for the EV/EBITDA price (both 0 there), NaN for the others."""
        if output in MULTIPLE_BASE:
            return np.count_nonzero(self._rows(MULTIPLE_BASE[output]) <= 0.0, axis=1) / self.n_paths
        return np.count_nonzero(np.isnan(self._rows(output)), axis=1) / self.n_paths

    @staticmethod
    def _check_q(q: ArrayLike) -> np.ndarray:
        qa = np.atleast_1d(np.asarray(q, dtype=np.float64))
        if qa.ndim != 1 or qa.size == 0 or np.isnan(qa).any() or ((qa < 0) | (qa > 1)).any():
            raise ValueError(f"q={q!r} must be quantile levels in [0, 1]")
        return qa

    def quantiles(self, output: str, q: ArrayLike = DEFAULT_Q) -> pd.DataFrame:
        """Quantiles of ``output`` per year (rows) and level (columns); NaN paths excluded.

        Identical to ``np.nanquantile(result[output], q, axis=0).T`` (linear method), faster.
        """
        qa = self._check_q(q)
        vals = _fast_quantiles(self._rows(output), qa)
        return pd.DataFrame(
            vals, index=pd.Index(self.years, name="year"), columns=pd.Index(qa, name="q")
        )

    def quantile_table(
        self, q: ArrayLike = DEFAULT_Q, outputs: str | Iterable[str] | None = None
    ) -> pd.DataFrame:
        """Quantiles of many outputs at once: one row per (output, year), one column per level.

        ``outputs``: names as in :attr:`names` (a single name is allowed); None means all of
        them, every output of :data:`simcore.model.scenario.OUTPUTS` and then
        ``"revenue.<segment>"``
        for each segment. The index has levels ``output`` and ``year``, the columns are ``q``.
        Row ``(name, year)`` equals ``self.quantiles(name, q).loc[year]``, i.e. the linear-method
        ``np.nanquantile`` of that year's paths (NaN paths excluded), bit for bit. Faster than
        one :meth:`quantiles` call per output: every (output, year) row goes to the threads in
        one call, which keeps them all busy, and no array is copied.
        """
        qa = self._check_q(q)
        if outputs is None:
            outputs = self.names
        elif isinstance(outputs, str):
            outputs = [outputs]
        else:
            outputs = list(outputs)
        arrays = [self._rows(name) for name in outputs]  # (H, n) views; KeyError if unknown
        vals = _fast_quantiles_rows([a[t] for a in arrays for t in range(self.horizon)], qa)
        index = pd.MultiIndex.from_product([outputs, self.years], names=["output", "year"])
        return pd.DataFrame(vals, index=index, columns=pd.Index(qa, name="q"))

    def summary(
        self, outputs: Iterable[str] | None = None, q: ArrayLike = DEFAULT_Q
    ) -> pd.DataFrame:
        """Tidy table: output, year, statistic, value and its Monte Carlo standard error.

        Mean: s/sqrt(n). Std: sqrt((m4 - s^4) / (4 s^2 n)). Quantile q: distribution-free, from
        the order statistics at q +- 1.96 sqrt(q(1-q)/n), divided by 2 * 1.96. ``defined`` is the
        share of paths where the output is not NaN (ROIC, the DCF's terminal share); the P/E and
        EV/EBITDA prices are never NaN (0 where their base is not positive, included in every
        statistic: :meth:`undefined_share` gives how many). Where the defined paths
        show no spread (one path, or all equal) the std and every standard error are 0; NaN only
        where no path defines the output.
        """
        qa = self._check_q(q)
        outputs = self.names if outputs is None else list(outputs)
        half = _Z95 * np.sqrt(qa * (1 - qa))
        moments = {}
        # each row's q and its interval's ends (they depend on the row's defined paths)
        levels: dict[bytes, tuple[np.ndarray, list[tuple[str, int]]]] = {}
        for name in outputs:
            x = self._rows(name)
            moments[name] = row_moments(x)
            for t in range(x.shape[0]):
                nn = max(int(moments[name][0][t]), 1)
                lv = np.concatenate(
                    [
                        qa,
                        np.clip(qa - half / np.sqrt(nn), 0, 1),
                        np.clip(qa + half / np.sqrt(nn), 0, 1),
                    ]
                )
                levels.setdefault(lv.tobytes(), (lv, []))[1].append((name, t))
        found: dict[tuple[str, int], np.ndarray] = {}  # rows of the same levels in one call
        for lv, keys in levels.values():
            vals = _fast_quantiles_rows([self._rows(name)[t] for name, t in keys], lv)
            found.update(zip(keys, vals, strict=True))
        rows = []
        for name in outputs:
            n_def, mean, var, m4 = moments[name]
            std, se_mean, se_std = _std_and_errors(n_def, var, m4)
            qv = np.stack([found[name, t] for t in range(self.horizon)])
            m = qa.size
            for t, year in enumerate(self.years):
                common = {"output": name, "year": year, "defined": n_def[t] / self.n_paths}
                rows.append({**common, "statistic": "mean", "value": mean[t], "mcse": se_mean[t]})
                rows.append({**common, "statistic": "std", "value": std[t], "mcse": se_std[t]})
                for j, lev in enumerate(qa):
                    se = (qv[t, 2 * m + j] - qv[t, m + j]) / (2 * _Z95)
                    rows.append({**common, "statistic": f"q{lev:g}", "value": qv[t, j], "mcse": se})
        return pd.DataFrame(
            rows, columns=["output", "year", "statistic", "value", "mcse", "defined"]
        )

    def risk_metrics(self, levels: ArrayLike = (0.95, 0.99)) -> pd.DataFrame:
        """Per year: probability of loss, VaR and ES of net profit attributable relative to the
        report's forecast, probability of missing the forecast, and the probability that each
        implied price exceeds the market price (with Monte Carlo standard errors).

        Shortfall ``L = forecast - net profit attributable`` (positive = below the forecast);
        ``VaR_a`` is the a-quantile of L and ``ES_a`` the mean of L beyond it.
        """
        lv = np.atleast_1d(np.asarray(levels, dtype=np.float64))
        if lv.size == 0 or np.isnan(lv).any() or ((lv <= 0) | (lv >= 1)).any():
            raise ValueError(f"levels={levels!r} must be confidence levels in (0, 1)")
        npa = self._rows("net_profit_attributable")
        n = self.n_paths
        fc = _forecast(self.scenario.forecast.net_profit_attributable, self.horizon)
        rows = []
        for t, year in enumerate(self.years):
            x = npa[t]
            p_loss = np.count_nonzero(x < 0) / n
            row = {
                "year": year,
                "p_loss": p_loss,
                "p_loss_se": _binom_se(p_loss, n),
                "forecast": fc[t],
            }
            if np.isfinite(fc[t]):
                p_miss = np.count_nonzero(x < fc[t]) / n
                row["p_miss_forecast"] = p_miss
                row["p_miss_forecast_se"] = _binom_se(p_miss, n)
                lower = _fast_quantiles(x, 1 - lv)
                for a, qlo in zip(lv, lower, strict=True):
                    tail = x[x <= qlo]
                    row[f"VaR{a:g}"] = fc[t] - qlo
                    row[f"ES{a:g}"] = fc[t] - tail.mean()
            for name in PRICE_OUTPUTS:
                p = self._rows(name)[t]
                above = np.count_nonzero(p > self.scenario.market_price) / n
                row[f"p_{name}_above_market"] = above
                row[f"p_{name}_above_market_se"] = _binom_se(above, n)
            rows.append(row)
        return pd.DataFrame(rows).set_index("year")

    def precision(self) -> pd.DataFrame:
        """What a run with precision targets (``simulate(..., precision=...)``) achieved: each
        target's value, standard error, 95% half-width and whether it was met
        (:func:`simcore.results.precision.achieved`)."""
        from simcore.results.precision import achieved

        return achieved(self)

    def convergence(self) -> pd.DataFrame:
        """Every step of a run with precision targets: the estimates as the paths grew
        (:func:`simcore.results.precision.convergence`)."""
        from simcore.results.precision import convergence

        return convergence(self)

    def to_xarray(self, outputs: Iterable[str] | None = None) -> Any:
        """Every path as an ``xarray.Dataset`` (the optional extra: ``pip install
        'simcore[xarray]'``): one variable per output (and ``revenue.<segment>``, and
        ``shocks_hit``, the bitmask of the shocks that hit) over the coordinates ``path`` and
        ``year``; the scenario, seed and sampling in ``attrs``. The arrays are views, not
        copies."""
        try:
            import xarray as xr
        except ImportError:
            raise ImportError(
                "SimulationResult.to_xarray needs xarray: pip install 'simcore[xarray]'"
            ) from None
        names = self.names if outputs is None else list(outputs)
        data = {name: (("path", "year"), self[name]) for name in names}
        data["shocks_hit"] = (("path", "year"), self.hits)
        seed = self.manifest.get("seed")
        bits = ", ".join(f"bit {k}: {s.name}" for k, s in enumerate(self.scenario.shocks))
        return xr.Dataset(
            data,
            coords={"path": np.arange(self.n_paths), "year": np.asarray(self.years)},
            attrs={
                "scenario": self.scenario.name,
                "ticker": self.scenario.ticker,
                "currency": self.scenario.currency,
                "n_paths": self.n_paths,
                "seed": str(seed.get("entropy") if isinstance(seed, dict) else seed),
                "sampling": str(self.manifest.get("sampling", "")),
                "shocks": bits,
            },
        )

    def to_frame(self, outputs: Iterable[str] | None = None) -> pd.DataFrame:
        """Long format: one row per (path, year, output)."""
        outputs = self.names if outputs is None else list(outputs)
        frames = []
        for name in outputs:
            x = self._rows(name)
            frames.append(
                pd.DataFrame(
                    {
                        "path": np.tile(np.arange(self.n_paths), self.horizon),
                        "year": np.repeat(self.years, self.n_paths),
                        "output": name,
                        "value": x.ravel(),
                    }
                )
            )
        df = pd.concat(frames, ignore_index=True)
        df["output"] = df["output"].astype("category")
        return df

    # -- persistence ----------------------------------------------------------------------------
    def save(self, path: StrPath) -> Path:
        """Write ``path`` (.npz: arrays, no pickle) atomically and reproducibly (the same result
        gives the same bytes); the manifest and the scenario go inside as JSON/TOML text."""
        from simcore.io.files import atomic_write, write_npz
        from simcore.io.scenario_file import dumps_scenario

        meta = json.dumps({"manifest": self.manifest}, default=str, sort_keys=True)
        arrays = {
            "out": self._out,
            "seg": self._seg,
            "hits": self._hits,
            "meta": np.array(meta),
            "scenario": np.array(dumps_scenario(self.scenario)),
        }
        return atomic_write(path, lambda fh: write_npz(fh, arrays))

    @classmethod
    def load(cls, path: StrPath) -> SimulationResult:
        """Read a file written by :meth:`save`, checking everything in it before use: the
        entries' dtypes and shapes against each other, the manifest's ``n_paths`` and
        ``horizon`` and the scenario's segments and shocks; the horizon within
        ``engine.MAX_HORIZON``; the scenario re-validated like a scenario file; values only
        what the model produces (``roic`` NaN exactly where the opening invested capital is
        not positive, P/E and EV/EBITDA prices 0 where their base is not positive, inf
        nowhere). Never unpickles. Raises :class:`ResultFileError` (a ``ValueError``) naming
        the file, the entry and what is wrong, or ``OSError`` if it cannot be opened."""
        scenario, out, seg, hits, manifest = read_result(path)
        return cls(scenario, out, seg, hits, manifest)

    def __repr__(self) -> str:
        sampling = self.manifest.get("sampling")
        return (
            f"SimulationResult({self.scenario.name!r}, n_paths={self.n_paths}, "
            f"years={self.years[0]}-{self.years[-1]}, sampling={sampling!r})"
        )

    def _repr_html_(self) -> str:
        """Jupyter's view: what was run (scenario, paths, seed, years) and a small table of
        median net profit attributable, probability of loss and median implied prices per year.

        Every piece of text from the scenario or the manifest is escaped (``html.escape``)."""
        sc = self.scenario
        esc = html.escape
        cur = esc(sc.currency or "")
        H = self.horizon
        cols: list[int | None]
        if H <= _HTML_MAX_YEARS:
            cols = list(range(H))
        else:
            half = _HTML_MAX_YEARS // 2
            cols = list(range(half)) + [None] + list(range(H - half + 1, H))
        picked = [t for t in cols if t is not None]

        def medians(name: str) -> np.ndarray:
            return _fast_quantiles(self._rows(name)[picked], np.array([0.5]))[:, 0]

        npa = self._rows("net_profit_attributable")[picked]
        table = [
            (
                f"median net profit attributable ({cur} m)",
                medians("net_profit_attributable"),
                "num",
            ),
            (
                "P(loss): net profit attributable &lt; 0",
                np.count_nonzero(npa < 0, axis=1) / self.n_paths,
                "pct",
            ),
        ]
        for name, label in (
            ("price_ps", "P/S"),
            ("price_pe", "P/E"),
            ("price_ev_ebitda", "EV/EBITDA"),
            ("price_dcf", "DCF"),
        ):
            table.append((f"median {label} price ({cur}/share)", medians(name), "num"))
            if name in MULTIPLE_BASE:
                base = MULTIPLE_BASE[name].upper()
                table.append(
                    (
                        f"paths with {base} &le; 0 ({label} gives 0)",
                        self.undefined_share(name)[picked],
                        "pct",
                    )
                )

        def cell(v: float, kind: str) -> str:
            if not np.isfinite(v):
                return "n/a"
            return f"{v:.1%}" if kind == "pct" else f"{v:,.2f}"

        td = '<td style="text-align:right">'
        head = "".join(
            "<th>…</th>" if t is None else f'<th style="text-align:right">{self.years[t]}</th>'
            for t in cols
        )
        body = []
        for label, values, kind in table:
            it = iter(values)
            cells = "".join(
                "<td>…</td>" if t is None else f"{td}{cell(next(it), kind)}</td>" for t in cols
            )
            body.append(f'<tr><th style="text-align:left">{label}</th>{cells}</tr>')
        ticker = f" ({esc(sc.ticker)})" if sc.ticker else ""
        seed = self.manifest.get("seed")
        if isinstance(seed, dict):
            key = seed.get("spawn_key") or []
            seed = f"{seed.get('entropy')}" + (f" (spawn key {key})" if key else "")
        sampling = self.manifest.get("sampling", "?")
        market = f"market price {sc.market_price:,.2f} {cur}/share" + (
            f" ({esc(str(sc.market_date))})" if sc.market_date else ""
        )
        return (
            '<div class="simcore-result">'
            f"<strong>{esc(sc.name)}</strong>{ticker}: SimulationResult<br>"
            f"{self.n_paths:,} paths · seed {esc(str(seed))} · sampling {esc(str(sampling))} · "
            f"years {self.years[0]}–{self.years[-1]} · {market}"
            f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            "</table></div>"
        )


def _std_and_errors(
    n_def: np.ndarray, var: np.ndarray, m4: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the sample std (divisor n - 1, 0 for a single path) and the Monte Carlo standard
    errors of the mean, s / sqrt(n), and of the std, sqrt((m4 - var^2) / (4 var n)), from the
    count ``n_def``, the variance ``var`` (divisor n) and the fourth central moment ``m4``.

    Where the paths show no spread (one path, or all equal; var = 0) the std error's formula is
    0 / 0; a sample without spread has std 0 whatever its size, so the error is 0, as the mean's
    and the quantiles' are there. NaN only where no path is defined (n_def = 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.sqrt(var * n_def / np.maximum(n_def - 1, 1))
        se_mean = std / np.sqrt(n_def)
        se_std = np.where(
            var > 0,
            np.sqrt(np.maximum(m4 - var**2, 0.0) / (4 * var * n_def)),
            np.where(n_def > 0, 0.0, np.nan),
        )
    return std, se_mean, se_std


def _binom_se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


def _forecast(values: ArrayLike, horizon: int) -> np.ndarray:
    out = np.full(horizon, np.nan)
    v = np.asarray(values, dtype=np.float64)
    out[: min(v.size, horizon)] = v[:horizon]
    return out
