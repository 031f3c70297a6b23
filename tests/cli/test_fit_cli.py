"""simcore fit: history CSV in, scenario TOML out, pasted into a scenario that then runs."""

from __future__ import annotations

import math
import re
import tomllib
import warnings

import numpy as np
import pytest

from distributions import Gamma, LogNormal, Normal, StudentT
from distributions.fitting import FitWarning
from simcore import simulate
from simcore.analysis.history_fit import as_driver, fit_history
from simcore.cli import main
from simcore.io.history_csv import parse_history, read_history
from simcore.io.scenario_file import builtin_scenario_text, loads_scenario
from simcore.model.errors import ScenarioError

RNG_SEED = 77  # a literal seed, not chosen to pass


def _series(n: int, phi: float, rng: np.random.Generator) -> np.ndarray:
    z = np.empty(n)
    z[0] = rng.standard_normal()
    for t in range(1, n):
        z[t] = phi * z[t - 1] + math.sqrt(1 - phi * phi) * rng.standard_normal()
    return z


def _csv(path, years, columns: dict[str, np.ndarray]) -> None:
    lines = ["year," + ",".join(columns)]
    for i, y in enumerate(years):
        cells = ["" if np.isnan(c[i]) else repr(float(c[i])) for c in columns.values()]
        lines.append(f"{y}," + ",".join(cells))
    path.write_text("\n".join(lines) + "\n")


def _toy_with(fitted: str) -> str:
    """toy.toml with its growth.core and margin.core drivers and [correlation] replaced by
    the fitted blocks (what a user pastes)."""
    text = builtin_scenario_text("toy")
    text = re.sub(r'^"(growth|margin)\.core" = .*\n', "", text, flags=re.M)
    text = re.sub(r"^\[correlation\]\n(?:.*\n)*?rationale = .*\n", "", text, flags=re.M)
    return text + "\n" + fitted


def test_fit_writes_blocks_that_paste_into_a_scenario_and_run(tmp_path, capsys):
    rng = np.random.default_rng(RNG_SEED)
    n = 12
    zg, zm = _series(n, 0.6, rng), _series(n, 0.3, rng)
    growth = 0.10 + 0.05 * zg
    margin = 0.40 + 0.02 * (0.5 * zg + math.sqrt(0.75) * zm)
    growth[3] = np.nan  # a missing year
    hist = tmp_path / "history.csv"
    _csv(hist, range(2013, 2013 + n), {"growth.core": growth, "margin.core": margin})
    out = tmp_path / "drivers.toml"
    code = main(["fit", str(hist), "--out", str(out), "--uncertain", "growth.core"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "growth.core" in printed and f"wrote {out}" in printed
    text = out.read_text()
    assert text.startswith("# simcore fit ")
    assert "sha256" in text.splitlines()[1]
    doc = tomllib.loads(text)
    g = doc["drivers"]["growth.core"]
    assert {"base", "mode", "persistence", "dist", "rationale", "uncertainty"} <= set(g)
    assert "11 yearly values of growth.core (2013-2024, history.csv)" in g["rationale"]
    assert doc["correlation"]["labels"] == ["growth.core", "margin.core"]
    assert "uncertainty" not in doc["drivers"]["margin.core"]
    rows = len(next(v for k, v in g["uncertainty"].items() if k != "rationale"))
    assert rows == 200
    sc = loads_scenario(_toy_with(text), "toy-fitted.toml")
    assert sc.driver("growth.core").uncertainty is not None
    r = simulate(sc, 5_000, seed=1)
    assert np.isfinite(r["net_profit_attributable"]).all()
    # refuses to overwrite; --force replaces
    assert main(["fit", str(hist), "--out", str(out)]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert main(["fit", str(hist), "--out", str(out), "--force", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_fit_prints_the_toml_without_out_and_the_numbers_to_stderr(tmp_path, capsys):
    hist = tmp_path / "h.csv"
    hist.write_text("year,multiple.ps\n2019,8.1\n2020,11.5\n2021,7.2\n2022,9.9\n2023,6.4\n")
    assert main(["fit", str(hist), "--bootstrap", "20"]) == 0
    cap = capsys.readouterr()
    assert tomllib.loads(cap.out)["drivers"]["multiple.ps"]["dist"]["family"]
    assert "multiple.ps" in cap.err
    assert "\n[correlation]" not in cap.out  # one series: no matrix


def test_fit_growth_turns_levels_into_growth(tmp_path, capsys):
    hist = tmp_path / "rev.csv"
    hist.write_text("year,revenue\n2019,100\n2020,120\n2021,150\n2022,160\n2023,200\n2024,230\n")
    assert main(["fit", str(hist), "--growth", "--families", "Normal", "--bootstrap", "0"]) == 0
    g = tomllib.loads(capsys.readouterr().out)["drivers"]["revenue"]
    rates = np.array([120 / 100, 150 / 120, 160 / 150, 200 / 160, 230 / 200]) - 1
    assert g["base"] == pytest.approx(rates.mean(), rel=1e-5)
    assert g["dist"] == {
        "family": "Normal",
        "loc": 0.0,
        "scale": pytest.approx(rates.std(), rel=1e-5),
    }


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("years,a\n2020,1\n", "the first column is 'years'; allowed 'year'"),
        ("year,a\n2020,1\n2022,2\n", "line 3: year 2022 follows 2020"),
        ("year,a\n2020,1\n2021,5%\n", r"line 3: a = '5%' is not a number \(write 0.05"),
        ("year,a,a\n2020,1,2\n", "series 'a' appears twice"),
        ("year,a\n20x0,1\n", "year '20x0' is not a whole number"),
        ("year,a\n2020,1,2\n", "3 cells; allowed at most 2"),
        ("", "empty"),
        ("year,a\n\n2020,1\n\n2021,x\n", "line 5: a = 'x' is not a number"),
    ],
)
def test_bad_history_files_name_the_line_and_cell(text, match):
    with pytest.raises(ValueError, match=match):
        parse_history(text, "h.csv")


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    hist = tmp_path / "h.csv"
    hist.write_text("year,a\n2020,1\n2021,2\n2022,1.5\n2023,2.5\n2024,1.8\n")
    assert main(["fit", str(hist), "--series", "b"]) == 1
    assert "no series 'b'; allowed a" in capsys.readouterr().err
    assert main(["fit", str(hist), "--families", "Nrmal"]) == 1
    assert "did you mean 'Normal'" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "none.csv")]) == 1
    assert "cannot read the history" in capsys.readouterr().err


def test_a_long_history_recovers_the_generating_driver():
    """40 years of base 0.2 + Normal(0, 0.05) with persistence 0.6: the fit's base, scale and
    persistence within 4 of their standard errors (k = 4)."""
    rng = np.random.default_rng(RNG_SEED + 1)
    z = _series(40, 0.6, rng)
    hist = parse_history(
        "year,growth.x\n"
        + "".join(f"{2000 + i},{float(0.2 + 0.05 * v)!r}\n" for i, v in enumerate(z))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        f = fit_history(hist, families=["Normal"], n_boot=100).drivers[0]
    sd_mean = 0.05 / math.sqrt(40) * math.sqrt((1 + 0.6) / (1 - 0.6))  # AR(1) inflates it
    assert abs(f.base - 0.2) <= 4 * sd_mean
    assert abs(f.dist.scale - 0.05) <= 4 * f.marginal.best.se("scale")
    assert abs(f.persistence.estimate - 0.6) <= 4 * f.persistence.se
    assert f.mode == "add" and f.dist.loc == 0.0


@pytest.mark.parametrize(
    "dist",
    [Normal(0.3, 0.1), StudentT(df=5.0, loc=1.0, scale=0.2), LogNormal(1.0, 0.3), Gamma(3.0, 2.0)],
)
def test_as_driver_keeps_the_law(dist):
    base, mode, d = as_driver(dist)
    u = np.array([0.01, 0.2, 0.5, 0.8, 0.99])
    value = base + d.ppf(u) if mode == "add" else base * d.ppf(u)
    np.testing.assert_allclose(value, dist.ppf(u), rtol=2e-5)
    assert mode == ("mul" if dist.family in ("LogNormal", "Gamma") else "add")


def test_read_history_reads_a_file(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("\ufeffyear,a,b\n2020,1,\n2021,2,3\n\n")
    h = read_history(p)
    assert h.years.tolist() == [2020, 2021] and np.isnan(h.values["b"][0])
    assert h.source == "x.csv"


def test_apply_puts_the_fit_into_a_scenario_keeping_its_other_correlations():
    from simcore.io.scenario_file import default_scenario

    rng = np.random.default_rng(RNG_SEED + 2)
    g = 0.2 + 0.08 * rng.standard_normal(12)
    # AI growth moving against general growth (r near -1), while the default correlates both
    # with industry growth (0.6, 0.4): no correlation matrix holds all three
    a = 0.45 - 1.2 * (g - 0.2) + 0.005 * rng.standard_normal(12)
    years = "".join(f"{2012 + i},{g[i]!s},{a[i]!s}\n" for i in range(12))
    hist = parse_history("year,growth.general_cloud,growth.ai_cloud\n" + years)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        f = fit_history(hist, families=["Normal"], n_boot=50, uncertain=["growth.ai_cloud"])
    sc = default_scenario()
    with pytest.raises(ScenarioError, match="not positive semi-definite"):
        f.apply(sc)
    out = f.apply(sc, repair=True)
    assert out.correlation_repair == "nearest"
    g = out.driver("growth.ai_cloud")
    assert (
        g.uncertainty is not None and g.dist.family == "Normal" and g.base == (f.drivers[1].base,)
    )
    labels = list(out.correlation_labels)
    assert labels == list(sc.correlation_labels)  # both were in the copula already
    i, j = labels.index("growth.general_cloud"), labels.index("growth.ai_cloud")
    assert out.correlation[i, j] == f.correlation.matrix[0, 1]  # the file's matrix, as given
    k = labels.index("margin.ai_cloud")
    assert out.correlation[i, k] == sc.correlation[i, k]
    with pytest.warns(UserWarning, match="nearest"):  # the repair is said, not silent
        r = simulate(out, 2_000, seed=1)
    assert np.isfinite(r["net_profit_attributable"]).all()
    with pytest.raises(ValueError, match="has no driver 'growth.general_cloud'"):
        f.apply(loads_scenario(builtin_scenario_text("toy")))


@pytest.mark.integration
def test_simcore_run_writes_every_output_for_fitted_and_metalog_drivers(tmp_path, capsys):
    """The whole main job on the toy with a fitted two-layer driver and a Metalog driver: the
    pack, the workbook and the tables print both (a list-valued Metalog once crashed them)."""
    rng = np.random.default_rng(RNG_SEED + 3)
    hist = tmp_path / "h.csv"
    _csv(hist, range(2015, 2025), {"growth.core": 0.1 + 0.05 * rng.standard_normal(10)})
    fitted = tmp_path / "f.toml"
    assert main(["fit", str(hist), "--out", str(fitted), "--uncertain", "all", "--quiet"]) == 0
    text = _toy_with(fitted.read_text()) + (
        '\n[drivers."margin.core"]\nbase = 0.4\ndist = { family = "Metalog", q = [0.1, 0.5, 0.9], '
        'x = [-0.02, 0.0, 0.03] }\nrationale = "an expert\'s P10/P50/P90"\n'
    )
    scen = tmp_path / "toy_fitted.toml"
    scen.write_text(text)
    out = tmp_path / "out"
    assert (
        main(["run", "--scenario", str(scen), "--out", str(out), "--paths", "4000", "--quiet"]) == 0
    )
    names = {p.name for p in out.iterdir()}
    assert {"committee_pack.pdf", "simcore_run.xlsx", "manifest.json"} <= names, names


def test_a_family_the_model_cannot_take_is_set_aside_for_the_next():
    """A Student t with df 1.5 on a growth reaches +-5e8 at the most extreme draws, beyond
    what the model allows: simcore fit writes the next family and says why."""
    rng = np.random.default_rng(RNG_SEED + 4)
    x = 0.06 + 0.025 * rng.standard_t(1.5, 30)
    hist = parse_history(
        "year,growth.core\n" + "".join(f"{2000 + i},{v!s}\n" for i, v in enumerate(x))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        f = fit_history(hist, families=["StudentT", "Normal"], n_boot=20)
    d = f.drivers[0]
    assert d.marginal.best.family == "StudentT" and d.marginal.best.dist.df < 3
    assert d.fitted.family == "Normal"
    assert "StudentT, ranked above it, set aside" in d.rationale
    assert any("set aside" in n for n in f.notes)
    assert f.to_frame().loc["growth.core", "family"] == "Normal"
