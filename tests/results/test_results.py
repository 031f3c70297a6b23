"""SimulationResult statistics, risk metrics and persistence; analytic and golden tiers."""

import dataclasses
import io
import json
import os
import zipfile

import numpy as np
import pytest
from conftest import make_toy

from simcore import ResultFileError, default_scenario, dumps_scenario, loads_scenario
from simcore.engine.core import simulate
from simcore.model.scenario import OUTPUTS
from simcore.results.result import DEFAULT_Q, SimulationResult


@pytest.fixture(scope="module")
def run():
    return simulate(make_toy(), 20_000, seed=21)


def test_quantiles_identical_to_numpy(run):
    for name in run.names:
        got = run.quantiles(name).to_numpy()
        want = np.nanquantile(run[name], DEFAULT_Q, axis=0).T
        assert got.tobytes() == want.tobytes(), name


def test_summary_is_tidy_with_standard_errors(run):
    s = run.summary(["revenue", "price_pe"])
    assert list(s.columns) == ["output", "year", "statistic", "value", "mcse", "defined"]
    assert set(s["statistic"]) == {"mean", "std"} | {f"q{q:g}" for q in DEFAULT_Q}
    assert (s["mcse"] >= 0).all() and s["value"].notna().all()
    # the P/E price is 0 where EPS <= 0, so a low quantile can sit on that atom (error 0)
    assert (s[s.output == "revenue"]["mcse"] > 0).all()
    mean = s[(s.output == "revenue") & (s.statistic == "mean")]
    np.testing.assert_allclose(mean["value"], run["revenue"].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        mean["mcse"], run["revenue"].std(axis=0, ddof=1) / np.sqrt(20_000), rtol=1e-9
    )
    pe = s[(s.output == "price_pe") & (s.statistic == "mean")]
    assert (pe["defined"] == 1.0).all()  # 0 where EPS <= 0, and those paths are counted
    np.testing.assert_array_equal(run.undefined_share("price_pe"), (run["eps"] <= 0).mean(axis=0))


def test_risk_metrics_definitions():
    sc = dataclasses.replace(
        make_toy(),
        forecast=dataclasses.replace(make_toy().forecast, net_profit_attributable=(5.0, 6.0, 7.0)),
    )
    r = simulate(sc, 20_000, seed=4)
    rm = r.risk_metrics(levels=(0.95,))
    npa = r["net_profit_attributable"]
    for t, year in enumerate(r.years):
        x = npa[:, t]
        assert rm.loc[year, "p_loss"] == np.mean(x < 0)
        assert rm.loc[year, "p_miss_forecast"] == np.mean(x < rm.loc[year, "forecast"])
        q05 = np.quantile(x, 0.05)
        assert rm.loc[year, "VaR0.95"] == pytest.approx(rm.loc[year, "forecast"] - q05)
        es = rm.loc[year, "forecast"] - x[x <= q05].mean()
        assert rm.loc[year, "ES0.95"] == pytest.approx(es)
        assert rm.loc[year, "ES0.95"] >= rm.loc[year, "VaR0.95"]
        above = np.mean(r["price_ps"][:, t] > sc.market_price)
        assert rm.loc[year, "p_price_ps_above_market"] == above
    with pytest.raises(ValueError, match="levels"):
        r.risk_metrics(levels=(1.5,))


def test_to_frame_long_format(run):
    df = run.to_frame(["revenue", "eps"])
    assert len(df) == 2 * run.n_paths * run.horizon
    sub = df[(df.output == "eps") & (df.year == run.years[1])]
    np.testing.assert_array_equal(sub["value"].to_numpy(), run["eps"][:, 1])


def test_save_and_load_round_trip(tmp_path, run):
    path = run.save(tmp_path / "results.npz")
    back = SimulationResult.load(path)
    assert back._out.tobytes() == run._out.tobytes()
    assert back._hits.tobytes() == run._hits.tobytes()
    assert back.manifest == run.manifest
    assert back.scenario == run.scenario
    assert not list(tmp_path.glob("*.tmp"))


def test_bad_output_and_q_raise(run):
    with pytest.raises(KeyError, match="unknown output"):
        run["profit"]
    with pytest.raises(ValueError, match="q="):
        run.quantiles("revenue", q=[0.5, 2.0])


# --- analytic truth within k Monte Carlo standard errors (k = 4) -------------------------------
K_SE = 4


def test_first_year_revenue_mean_matches_analytic_value():
    # toy: a = 100 * (1 + 0.3 + eps_a - 0.2 * sev * hit_tech), b = 50 * (1 + 0.1 + eps_b);
    # E[sev] = 1, P(tech) = 0.2, eps mean 0, growth floor never binds at these scales.
    r = simulate(make_toy(), 200_000, seed=31)
    x = r["revenue"][:, 0]
    expected = 100 * (1.3 - 0.2 * 0.2) + 50 * 1.1
    assert abs(x.mean() - expected) < K_SE * x.std(ddof=1) / np.sqrt(x.size)


def test_shock_frequency_matches_probability():
    r = simulate(make_toy(), 200_000, seed=32)
    for shock in r.scenario.shocks:
        hit = r.shock_hit(shock.name)
        p = shock.probability
        se = np.sqrt(p * (1 - p) / hit.shape[0])
        assert np.all(np.abs(hit.mean(axis=0) - p) < K_SE * se)


# --- golden values at a fixed seed --------------------------------------------------------------
def test_golden_default_scenario_quantiles():
    r = simulate(default_scenario(), 10_000, seed=12345)
    got = r.quantiles("net_profit_attributable", q=[0.05, 0.5, 0.95]).to_numpy()
    np.testing.assert_allclose(got, GOLDEN_NPA, rtol=1e-9)


# 5%, 50%, 95% of net profit attributable 2025-2027 (CNY m), seed 12345, 10,000 paths;
# regenerate only for a deliberate change of the model, the streams or a ppf.
GOLDEN_NPA = np.array(
    [
        [-34.920459070543, 19.999962404483, 72.866272924325],
        [-62.67409449637, 27.079568420841, 130.450432325033],
        [-94.434204537649, 32.476149126267, 202.020766067755],
    ]
)


# --- one and two paths: the summary's standard errors ---------------------------------------
@pytest.mark.parametrize("n_paths", [1, 2])
def test_summary_has_no_nan_in_defined_outputs_for_one_or_two_paths(n_paths):
    """`simcore run --paths 1` used to leave the std's standard error empty (0 / 0): with no
    spread in the paths every standard error is 0; NaN stays only where no path defines the
    output (P/E with EPS <= 0), with `defined` 0 there."""
    r = simulate(default_scenario(), n_paths, seed=1)
    s = r.summary()
    defined = s["defined"] > 0
    assert defined.any() and s.loc[defined, ["value", "mcse"]].notna().all().all()
    assert (s.loc[defined, "mcse"] >= 0).all()
    assert s.loc[~defined, "value"].isna().all()
    if n_paths == 1:
        assert (s.loc[defined, "mcse"] == 0).all()
        assert (s.loc[defined & (s.statistic == "std"), "value"] == 0).all()
    # many equal paths: no spread either, so zeros (up to the mean's rounding: a sum of 50
    # equal values divided by 50 need not give the value back exactly)
    same = SimulationResult(
        r.scenario,
        np.repeat(r._out[:, :, :1], 50, axis=2),
        np.repeat(r._seg[:, :, :1], 50, axis=2),
        np.repeat(r._hits[:, :1], 50, axis=1),
        r.manifest,
    )
    t = same.summary()
    t = t[t["defined"] > 0]
    assert t["mcse"].notna().all()
    assert (t["mcse"] <= 1e-12 * (1 + t["value"].abs())).all()


# --- loading a results file checks everything in it ------------------------------------------
@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    """A results file as `save` writes it (300 paths of the toy: P/E undefined on some)."""
    r = simulate(make_toy(), 300, seed=21)
    return r.save(tmp_path_factory.mktemp("good") / "results.npz")


def test_good_file_round_trips_byte_identically(tmp_path, good_file):
    back = SimulationResult.load(good_file)
    again = back.save(tmp_path / "again.npz")
    assert again.read_bytes() == good_file.read_bytes()


def _entries(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {name: z[name] for name in z.files}


def _write_entries(path, entries, pickled=()):
    """An .npz of ``entries`` (``pickled``: entries written with pickling allowed)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, value in entries.items():
            with zf.open(f"{name}.npy", "w") as fh:
                np.lib.format.write_array(fh, np.asanyarray(value), allow_pickle=name in pickled)


def _meta(e, **changes):
    m = json.loads(str(e["meta"]))
    m["manifest"].update(changes)
    for key, value in changes.items():
        if value is None:
            del m["manifest"][key]
    return np.array(json.dumps(m))


_PE, _EPS, _REV = (OUTPUTS.index(n) for n in ("price_pe", "eps", "revenue"))
_OUT_BYTES = len(OUTPUTS) * 3 * 300 * 8  # the good file's outputs (3 years, 300 paths)


def _poke(e, entry, index, value):
    a = e[entry].copy()
    a[index] = value
    return {**e, entry: a}


def _pe_nan(e):
    i = int(np.argmax(e["out"][_EPS, 0] > 0))
    return _poke(e, "out", (_PE, 0, i), np.nan)


def _pe_number_where_eps_not_positive(e):
    i = int(np.argmax(e["out"][_EPS, 0] <= 0))
    return _poke(e, "out", (_PE, 0, i), 3.0)


def _pe_inf(e):
    i = int(np.argmax(e["out"][_EPS, 0] > 0))
    return _poke(e, "out", (_PE, 0, i), np.inf)


def _forty_years(e):
    def tile(a, axis):
        return np.concatenate([a] * 14, axis=axis)[(slice(None),) * axis + (slice(0, 40),)]

    return {
        **e,
        "out": tile(e["out"], 1),
        "seg": tile(e["seg"], 1),
        "hits": tile(e["hits"], 0),
        "meta": _meta(e, horizon=40),
    }


_CORRUPT = {  # name: (rewrite the good file's entries, what the message must say)
    "missing entry": (
        lambda e: {k: v for k, v in e.items() if k != "hits"},
        r"entries \['hits'\] are missing",
    ),
    "out float32": (
        lambda e: {**e, "out": e["out"].astype(np.float32)},
        r"entry 'out': dtype <f4; allowed float64",
    ),
    "hits int64": (
        lambda e: {**e, "hits": e["hits"].astype(np.int64)},
        r"entry 'hits': dtype <i8; allowed uint32",
    ),
    "meta not text": (
        lambda e: {**e, "meta": np.zeros(3)},
        r"entry 'meta': dtype <f8 shape \(3,\); allowed a single unicode string",
    ),
    "out 2-D": (lambda e: {**e, "out": e["out"][0]}, r"entry 'out': shape \(3, 300\); allowed"),
    "seg path count": (
        lambda e: {**e, "seg": e["seg"][:, :, :-1]},
        r"entry 'seg': shape \(2, 3, 299\); allowed \(segments, 3, 300\)",
    ),
    "hits horizon": (
        lambda e: {**e, "hits": e["hits"][:2]},
        r"entry 'hits': shape \(2, 300\); allowed \(3, 300\)",
    ),
    "manifest n_paths": (
        lambda e: {**e, "meta": _meta(e, n_paths=301)},
        r"manifest n_paths=301 contradicts the arrays, which hold 300",
    ),
    "manifest horizon": (
        lambda e: {**e, "meta": _meta(e, horizon=4)},
        r"manifest horizon=4 contradicts the arrays, which hold 3",
    ),
    "manifest without n_paths": (
        lambda e: {**e, "meta": _meta(e, n_paths=None)},
        r"the manifest has no 'n_paths'",
    ),
    "manifest n_total": (
        lambda e: {**e, "meta": _meta(e, n_total=10)},
        r"manifest n_total=10; allowed an integer >= start \+ n_paths = 300",
    ),
    "manifest sampling": (
        lambda e: {**e, "meta": _meta(e, sampling="quasi")},
        r"manifest sampling='quasi'; allowed one of",
    ),
    "manifest shocks": (
        lambda e: {**e, "meta": _meta(e, shocks_enabled={"tech": False})},
        r"manifest shocks_enabled=.* contradicts the scenario's shocks",
    ),
    "forty years": (_forty_years, r"entry 'out': horizon 40 years .*; allowed 1 to 30"),
    "NaN revenue": (
        lambda e: _poke(e, "out", (_REV, 1, 17), np.nan),
        r"revenue has non-finite values \(1 of them, the first at path 17, year "
        r"2026\); allowed finite values",
    ),
    "inf P/E": (_pe_inf, r"price_pe has non-finite values .*; allowed finite values"),
    "P/E NaN": (_pe_nan, r"price_pe has non-finite values .*; allowed finite values"),
    "P/E where EPS <= 0": (
        _pe_number_where_eps_not_positive,
        r"price_pe is not 0 where EPS <= 0 .*the model gives 0 there",
    ),
    "NaN segment": (
        lambda e: _poke(e, "seg", (1, 2, 5), np.nan),
        r"entry 'seg': revenue.b has non-finite values",
    ),
    "stray hit bit": (
        lambda e: _poke(e, "hits", (0, 3), np.uint32(1 << 5)),
        r"entry 'hits': bits of shocks the scenario does not have .*; allowed bits "
        r"0 to 1",
    ),
    "bad JSON": (
        lambda e: {**e, "meta": np.array('{"manifest": ')},
        r"entry 'meta': not valid JSON: .* at line 1, column 14",
    ),
    "meta without manifest": (
        lambda e: {**e, "meta": np.array('{"other": 1}')},
        r"entry 'meta': allowed a JSON object .*; got keys \['other'\]",
    ),
    "bad scenario": (
        lambda e: {**e, "scenario": np.array("name = [")},
        r"entry 'scenario': not a valid scenario: .*not valid TOML",
    ),
    "scenario horizon": (
        lambda e: {
            **e,
            "scenario": np.array(
                dumps_scenario(loads_scenario(str(e["scenario"])).with_horizon(4))
            ),
        },
        r"entry 'scenario': scenario horizon 4 contradicts the arrays' 3 years",
    ),
    "scenario segments": (
        lambda e: {**e, "scenario": np.array(dumps_scenario(default_scenario()))},
        r"entry 'scenario': the scenario has 4 segments .*; the arrays have 2",
    ),
}


@pytest.mark.parametrize("case", list(_CORRUPT))
def test_each_corruption_gives_a_result_file_error_naming_it(tmp_path, good_file, case):
    rewrite, match = _CORRUPT[case]
    bad = tmp_path / "bad.npz"
    _write_entries(bad, rewrite(_entries(good_file)))
    with pytest.raises(ResultFileError, match=match) as info:
        SimulationResult.load(bad)
    assert str(info.value).startswith(f"{bad}: ")
    assert info.value.path == str(bad)


class _Marker:
    """Unpickling one creates ``path``: proof that a file's pickle was (not) loaded."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_object_array_is_refused_without_unpickling(tmp_path, good_file):
    marker = tmp_path / "unpickled"
    bad = tmp_path / "bad.npz"
    payload = np.array([_Marker(marker), None], dtype=object)
    _write_entries(bad, {**_entries(good_file), "out": payload}, pickled=("out",))
    with pytest.raises(
        ResultFileError,
        match=r"entry 'out': dtype object \(pickled Python "
        r"objects, never loaded\); allowed float64",
    ):
        SimulationResult.load(bad)
    assert not marker.exists()


def _flip_out_byte(data: bytes, out: np.ndarray) -> bytes:
    i = data.index(out.tobytes()[:64]) + 100
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]


def _truncate_out_data(tmp_path, good_file) -> bytes:
    e = _entries(good_file)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, e["out"])
    bad = tmp_path / "short.npz"
    _write_entries(bad, {k: v for k, v in e.items() if k != "out"})
    with zipfile.ZipFile(bad, "a") as zf:
        zf.writestr("out.npy", buf.getvalue()[:-8])  # one value short
    return bad.read_bytes()


_MALFORMED = {  # name: (the bytes of the file, what the message must say)
    "empty": (lambda tmp, good: b"", r"not a simcore results file"),
    "not a zip": (lambda tmp, good: b"hello, world\n" * 10, r"not a simcore results file"),
    "an .npy": (lambda tmp, good: _npy_bytes(np.zeros(3)), r"not a simcore results file"),
    "truncated": (
        lambda tmp, good: good.read_bytes()[: good.stat().st_size // 2],
        r"not a simcore results file",
    ),
    "damaged data": (
        lambda tmp, good: _flip_out_byte(good.read_bytes(), SimulationResult.load(good)._out),
        r"entry 'out': cannot be read: Bad CRC-32",
    ),
    "short entry": (
        _truncate_out_data,
        rf"entry 'out': holds {_OUT_BYTES - 8} bytes of data, but its header's shape "
        rf"\({len(OUTPUTS)}, 3, 300\) and dtype <f8 need {_OUT_BYTES}",
    ),
}


def _npy_bytes(a) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


@pytest.mark.parametrize("case", list(_MALFORMED))
def test_malformed_file_gives_a_result_file_error_naming_it(tmp_path, good_file, case):
    make, match = _MALFORMED[case]
    data = make(tmp_path, good_file)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(data)
    with pytest.raises(ResultFileError, match=match) as info:
        SimulationResult.load(bad)
    assert str(info.value).startswith(f"{bad}")
    assert isinstance(info.value, ValueError)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        SimulationResult.load(tmp_path / "nope.npz")


def test_to_xarray_has_every_path_with_its_coordinates(monkeypatch):
    import sys

    run = simulate(make_toy(), 500, seed=4)
    ds = run.to_xarray()
    assert ds["net_profit_attributable"].dims == ("path", "year")
    assert list(ds["year"].values) == run.years and ds.sizes["path"] == 500
    np.testing.assert_array_equal(ds["revenue.a"].sel(year=2026), run["revenue.a"][:, 1])
    np.testing.assert_array_equal(ds["shocks_hit"], run.hits)
    assert ds.attrs["scenario"] == "toy" and "bit 0: tech" in ds.attrs["shocks"]
    assert list(run.to_xarray(["eps"]).data_vars) == ["eps", "shocks_hit"]
    monkeypatch.setitem(sys.modules, "xarray", None)  # not installed
    with pytest.raises(ImportError, match=r"pip install 'simcore\[xarray\]'"):
        run.to_xarray()


def test_scenario_views_are_compact():
    sc = default_scenario()
    assert len(repr(sc)) < 200 and "24 drivers" in repr(sc)
    html = sc._repr_html_()
    assert len(html) < 6000 and "<details>" in html and "technology_substitution" in html
