"""Sobol' indices and Shapley effects to a stated precision: the table is the fixed analysis
of the final size, the widths halve as the size doubles, and the caps and bad input."""

import pytest
from conftest import make_toy

from simcore.analysis.shapley import model_shapley
from simcore.analysis.sobol import sobol_analysis


def test_sobol_to_a_half_width_is_the_fixed_analysis_of_its_final_n():
    sc = make_toy()
    got = sobol_analysis(sc, 2**9, groups="default", seed=4, n_boot=50, precision=0.06)
    pr = got.attrs["precision"]
    assert pr["met"] and pr["stopped"] == "met" and len(pr["steps"]) >= 2
    ns = [s["n"] for s in pr["steps"]]
    assert ns == [2**9 * 2**k for k in range(len(ns))]
    widths = [s["widest_half_width"] for s in pr["steps"]]
    assert widths[-1] <= 0.06 < widths[-2]
    fixed = sobol_analysis(sc, ns[-1], groups="default", seed=4, n_boot=50)
    assert got.drop(columns="members").equals(fixed.drop(columns="members"))
    assert got[["S1_conf", "ST_conf"]].to_numpy().max() == widths[-1]


def test_sobol_stops_at_its_cap_and_says_so():
    got = sobol_analysis(make_toy(), 2**8, seed=4, n_boot=20, precision=1e-4, max_n=2**10)
    pr = got.attrs["precision"]
    assert not pr["met"] and pr["stopped"] == "the cap of 1,024 n"
    assert [s["n"] for s in pr["steps"]] == [256, 512, 1024]


def test_shapley_to_a_half_width_is_the_fixed_analysis_of_its_final_n_perm():
    sc = make_toy()
    got = model_shapley(sc, n_perm=100, n_var=4000, seed=2, precision=0.08)
    pr = got.attrs["precision"]
    assert pr["met"] and pr["steps"][0]["n_perm"] == 100
    n_perm = pr["steps"][-1]["n_perm"]
    fixed = model_shapley(sc, n_perm=n_perm, n_var=4000, seed=2)
    assert got.equals(fixed)
    assert got["shapley_conf"].max() <= 0.08


@pytest.mark.parametrize("bad", [0, -1, float("inf"), True, "0.1"])
def test_bad_precisions_are_refused_before_any_work(bad):
    with pytest.raises(ValueError, match="precision="):
        sobol_analysis(make_toy(), 2**8, precision=bad)
    with pytest.raises(ValueError, match="precision="):
        model_shapley(make_toy(), n_perm=10, precision=bad)
    with pytest.raises(ValueError, match="below the first step"):
        sobol_analysis(make_toy(), 2**12, precision=0.1, max_n=2**10)


def test_the_command_line_runs_sobol_to_a_precision(tmp_path, capsys):
    from simcore.cli import commands as cli

    args = ["sensitivity", "--scenario", "toy", "--paths", "400", "--out", str(tmp_path / "o")]
    assert cli.main([*args, "--sobol-n", "256", "--sobol-precision", "0.2"]) == 0
    out = capsys.readouterr().out  # the key numbers are printed on stdout
    assert "to ± 0.2: N 256: ±" in out and "(met)" in out
    assert cli.main([*args, "--sobol-precision", "0", "--force"]) == 2
    assert "not a positive half-width" in capsys.readouterr().err
