"""The run's tables as analysts open them: CSV, Parquet and one Excel workbook.

:func:`run_tables` gathers what a run reports, each a DataFrame with plain column names:
``summary`` (every output, year and statistic with its Monte Carlo standard error), ``risk``
(per year: probability of a loss, VaR and ES against the report's forecast, probability of
missing it and of each implied price above the market), ``fans`` (the quantiles of the main
outputs, one row per output and year) and the scenario's ``assumptions`` (every driver, shock
and schedule with its rationale); ``precision`` for a run to precision targets; with the pack's
analyses, the sensitivity tables too.
:func:`write_workbook` writes them as the sheets of one ``.xlsx`` (openpyxl), after a contents
sheet; :func:`write_parquet` one table as Parquet (pyarrow). Both give the same bytes for the
same tables: no wall-clock time is written.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING

import numpy as np
import pandas as pd

from simcore.io.assumptions import dist_text
from simcore.io.files import ZIP_DATE
from simcore.results.result import DEFAULT_Q

if TYPE_CHECKING:
    from simcore.analysis.pack_analyses import PackAnalyses
    from simcore.model.scenario import Scenario
    from simcore.results.result import SimulationResult

__all__ = [
    "FAN_OUTPUTS",
    "assumption_table",
    "analysis_tables",
    "run_tables",
    "streamed_tables",
    "write_parquet",
    "write_paths_parquet",
    "write_workbook",
]

# the outputs of the fans sheet (every output is in the summary)
FAN_OUTPUTS = (
    "revenue",
    "gross_profit",
    "operating_profit",
    "net_profit_attributable",
    "eps",
    "price_ps",
    "price_pe",
    "price_ev_ebitda",
    "price_dcf",
    "fcf",
    "net_debt",
)
_SHEET_NOTES = {
    "summary": "every output, year and statistic, with its Monte Carlo standard error (mcse)",
    "risk": "per year: P(loss), VaR and ES of net profit attributable below the report's "
    "forecast, P(missing it), P(each implied price above the market price); _se: standard error",
    "fans": "quantiles of the main outputs per year (P1 ... P99), the report's forecast beside",
    "assumptions": "every driver, shock effect and schedule of the scenario, with its rationale",
    "precision": "each precision target of the run: value, standard error (32 batch means), "
    "95% half-width, what was wanted and whether it was met",
    "tornado": "median net profit attributable of the final year with each driver at its P10 "
    "and P90, the others as drawn",
    "attribution": "what each named risk changes (Shapley attribution over the risks)",
    "stresses": "the named stress scenarios against the base",
    "methods": "every sensitivity method side by side (Shapley effects, Sobol', tornado, ...)",
}


def assumption_table(scenario: Scenario) -> pd.DataFrame:
    """Every assumption of ``scenario`` in one table: kind, name, value, rationale."""
    from simcore.io.scenario_file import _SCHEDULES

    def g(values: object) -> str:
        arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
        return " / ".join(f"{v:.6g}" for v in arr)

    sc = scenario
    rows = [
        ("market", "price", f"{sc.market_price:g} on {sc.market_date}", sc.notes.get("market", ""))
    ]
    rows += [("segment", s.name, g(s.base_revenue), s.rationale) for s in sc.segments]
    rows += [
        (
            "driver",
            d.name,
            f"base {g(d.base)} ({d.mode}), {dist_text(d.dist)}, persistence {d.persistence:g}"
            + ("" if d.uncertainty is None else f"; {d.uncertainty.describe()}"),
            d.rationale,
        )
        for d in sc.drivers
    ]
    for s in sc.shocks:
        rows.append(
            (
                "shock",
                s.name,
                f"probability {g(s.probability)} a year, severity {dist_text(s.severity)}",
                s.rationale,
            )
        )
        for e in s.effects:
            where = f" on {', '.join(e.segments)}" if e.segments else ""
            rows.append(
                (
                    "shock effect",
                    f"{s.name} -> {e.target}",
                    f"size {e.size:g}{where}, profile {g(e.profile)}",
                    e.rationale,
                )
            )
    for key, (field, kind, _rng, _req) in _SCHEDULES.items():
        value = getattr(sc, field)
        if (kind == "optional" and value is None) or (
            kind not in ("scalar", "integer") and not value
        ):
            continue
        rows.append(("schedule", key, g(value), sc.notes.get(key, "")))
    return pd.DataFrame(rows, columns=["kind", "name", "value", "rationale"])


def run_tables(
    result: SimulationResult, analyses: PackAnalyses | None = None
) -> dict[str, pd.DataFrame]:
    """The run's tables by sheet name (see the module docstring)."""
    summary = result.summary()
    risk = result.risk_metrics().reset_index()
    fc = {
        "revenue": result.scenario.forecast.revenue,
        "net_profit_attributable": result.scenario.forecast.net_profit_attributable,
        "eps": result.scenario.forecast.eps,
    }
    rows = []
    for name in FAN_OUTPUTS:
        q = result.quantiles(name, DEFAULT_Q).to_numpy()
        for t, year in enumerate(result.years):
            report = fc.get(name, ())
            rows.append(
                {
                    "output": name,
                    "year": year,
                    **{f"P{round(100 * p)}": float(q[t, j]) for j, p in enumerate(DEFAULT_Q)},
                    "report": float(report[t]) if t < len(report) else np.nan,
                }
            )
    tables = {
        "summary": summary,
        "risk": risk,
        "fans": pd.DataFrame(rows),
        "assumptions": assumption_table(result.scenario),
    }
    if result.manifest.get("precision"):  # a run to precision targets: what each achieved
        tables["precision"] = result.precision().reset_index()
    if analyses is not None:
        tables.update(analysis_tables(analyses))
    return tables


def analysis_tables(analyses: PackAnalyses) -> dict[str, pd.DataFrame]:
    """The sensitivity sheets of ``analyses`` by sheet name (what :func:`run_tables` adds to
    the run's own tables when given them)."""
    tables = {"tornado": analyses.tornado.reset_index()}
    if analyses.attribution is not None:
        tables["attribution"] = analyses.attribution.to_frame()
    if analyses.stresses is not None:
        tables["stresses"] = analyses.stresses.reset_index()
    if analyses.reconciled is not None:
        tables["methods"] = analyses.reconciled.reset_index()
    return tables


# simulate_summary's risk rows (with shortfall=: es<level> too)
STREAMED_RISK = ("p_loss", "p_miss_forecast", "p_above_market", "es0.95", "es0.99")


def streamed_tables(table: pd.DataFrame, scenario: Scenario) -> dict[str, pd.DataFrame]:
    """The tables of a summary-only run from its streamed summary
    (:func:`simcore.engine.dask.simulate_summary`): ``summary`` (the same rows as an in-memory
    run's), ``risk`` per year (P(loss), P(missing the forecast), VaR at 95% and 99% from the
    exact quantiles and expected shortfall, P(each implied price above the market), with
    standard errors; expected
    shortfall from its own pass when the table has it), ``fans`` and ``assumptions``."""
    summary = table[~table["statistic"].isin(STREAMED_RISK)].reset_index(drop=True)
    years = sorted(set(summary["year"]))
    fc_npa = scenario.forecast.net_profit_attributable

    def value(output: str, year: int, stat: str, col: str = "value") -> float:
        hit = table[
            (table["output"] == output) & (table["year"] == year) & (table["statistic"] == stat)
        ]
        return float(hit[col].iloc[0]) if len(hit) else float("nan")

    rows = []
    for t, year in enumerate(years):
        fc = float(fc_npa[t]) if t < len(fc_npa) else float("nan")
        row = {
            "year": year,
            "p_loss": value("net_profit_attributable", year, "p_loss"),
            "p_loss_se": value("net_profit_attributable", year, "p_loss", "mcse"),
            "forecast": fc,
        }
        if np.isfinite(fc):
            row["p_miss_forecast"] = value("net_profit_attributable", year, "p_miss_forecast")
            row["p_miss_forecast_se"] = value(
                "net_profit_attributable", year, "p_miss_forecast", "mcse"
            )
            for a, q in ((0.95, "q0.05"), (0.99, "q0.01")):
                row[f"VaR{a:g}"] = fc - value("net_profit_attributable", year, q)
                row[f"ES{a:g}"] = value("net_profit_attributable", year, f"es{a:g}")
        for name in ("price_ps", "price_pe", "price_ev_ebitda", "price_dcf"):
            row[f"p_{name}_above_market"] = value(name, year, "p_above_market")
            row[f"p_{name}_above_market_se"] = value(name, year, "p_above_market", "mcse")
        rows.append(row)
    fans = []
    fc_all = {
        "revenue": scenario.forecast.revenue,
        "net_profit_attributable": fc_npa,
        "eps": scenario.forecast.eps,
    }
    for name in FAN_OUTPUTS:
        for t, year in enumerate(years):
            report = fc_all.get(name, ())
            fans.append(
                {
                    "output": name,
                    "year": year,
                    **{f"P{round(100 * q)}": value(name, year, f"q{q:g}") for q in DEFAULT_Q},
                    "report": float(report[t]) if t < len(report) else np.nan,
                }
            )
    return {
        "summary": summary,
        "risk": pd.DataFrame(rows),
        "fans": pd.DataFrame(fans),
        "assumptions": assumption_table(scenario),
    }


def write_parquet(fh: IO[bytes], table: pd.DataFrame) -> None:
    """``table`` as Parquet (pyarrow, without its index)."""
    table.to_parquet(fh, engine="pyarrow", index=False)


def write_paths_parquet(fh: IO[bytes], result: SimulationResult) -> None:
    """Every path as Parquet, one row per path and year: ``path``, ``year``, every output and
    segment revenue, and ``shocks_hit`` (the bitmask of the shocks that hit, bit k = the k-th
    shock of the scenario)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n, years = result.n_paths, result.years
    cols: dict[str, np.ndarray] = {
        "path": np.tile(np.arange(n, dtype=np.int64), len(years)),
        "year": np.repeat(np.asarray(years, dtype=np.int16), n),
    }
    for name in result.names:
        cols[name] = np.ascontiguousarray(result[name].T).ravel()
    cols["shocks_hit"] = np.ascontiguousarray(result.hits.T).ravel()
    pq.write_table(pa.table(cols), fh, compression="zstd")


def write_workbook(
    fh: IO[bytes], tables: Mapping[str, pd.DataFrame], *, title: str, note: str = ""
) -> None:
    """One ``.xlsx`` workbook: a contents sheet (``title``, ``note``, each sheet and what it
    holds), then a sheet per table with a frozen header row."""
    contents = pd.DataFrame(
        [(name, _SHEET_NOTES.get(name, "")) for name in tables], columns=["sheet", "what it holds"]
    )
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        contents.to_excel(writer, sheet_name="contents", index=False, startrow=3)
        first = writer.sheets["contents"]
        first["A1"], first["A2"] = title, note
        first.column_dimensions["A"].width = 14
        first.column_dimensions["B"].width = 100
        for name, table in tables.items():
            table.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            sheet.freeze_panes = "A2"
            for col, header in zip(sheet.iter_cols(1, table.shape[1]), table.columns, strict=True):
                sheet.column_dimensions[col[0].column_letter].width = min(
                    max(len(str(header)) + 2, 10), 60
                )
    fh.write(_fixed_time(buf.getvalue()))


_EPOCH = datetime.datetime(*ZIP_DATE).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fixed_time(xlsx: bytes) -> bytes:
    """The workbook's zip with a fixed date on every entry and in its document properties."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                    lambda m: m.group(1) + _EPOCH.encode(),
                    data,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, data)
    return out.getvalue()
