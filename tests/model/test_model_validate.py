"""The domain rules checked on the Python objects (:func:`simcore.model.validate.validate`).

A Scenario built in Python and the same scenario written as a TOML file are refused with the
same message and the same key path (the file adds its line, the Python object the attribute);
``simulate`` validates a Python-built scenario without any TOML.
"""

import dataclasses

import numpy as np
import pytest
from conftest import make_toy

import distributions
import simcore.io.scenario_file as scenario_file
from simcore.engine import core
from simcore.engine.core import simulate
from simcore.io.scenario_file import ScenarioError, dumps_scenario, loads_scenario
from simcore.model import errors, limits
from simcore.model.scenario import Effect, Forced, Forecast, Shock, Stress, StressForce, StressShift
from simcore.model.validate import validate


def driver(name: str, **changes):
    """make_toy() with one driver changed."""
    sc = make_toy()
    return dataclasses.replace(
        sc,
        drivers=tuple(
            dataclasses.replace(d, **changes) if d.name == name else d for d in sc.drivers
        ),
    )


def shock(i: int, **changes):
    sc = make_toy()
    shocks = list(sc.shocks)
    shocks[i] = dataclasses.replace(shocks[i], **changes)
    return dataclasses.replace(sc, shocks=tuple(shocks))


def effect(i: int, j: int, **changes):
    s = make_toy().shocks[i]
    effects = list(s.effects)
    effects[j] = dataclasses.replace(effects[j], **changes)
    return shock(i, effects=tuple(effects))


def matrix(m):
    return make_toy(correlation=np.array(m, dtype=float))


def stress(*, force=(), shift=()):
    return make_toy(stresses=(Stress("s", tuple(force), tuple(shift)),))


def extra_shocks(n: int):
    more = tuple(
        Shock(f"x{i}", 0.01, distributions.Constant(1.0), (Effect("ratio.admin", 0.001),))
        for i in range(n)
    )
    return make_toy(shocks=make_toy().shocks + more)


CASES = [
    # each driver's values and its distribution
    (
        "persistence",
        lambda: driver("growth.a", persistence=1.5),
        'drivers."growth.a".persistence',
        "1.5 is out of range; allowed [0, 1]",
    ),
    (
        "base element",
        lambda: driver("growth.a", base=(0.3, 0.25, 20.0)),
        'drivers."growth.a".base[2]',
        "20 is out of range; allowed (-1, 10]",
    ),
    (
        "one-value base",
        lambda: driver("growth.b", base=(11.0,)),
        'drivers."growth.b".base',
        "11 is out of range",
    ),
    (
        "mul can be negative",
        lambda: driver("multiple.ps", dist=distributions.Normal(1.0, 0.35)),
        'drivers."multiple.ps".dist',
        "can be negative; allowed a non-negative distribution",
    ),
    (
        "empirical points",
        lambda: driver(
            "tax_rate",
            dist=distributions.Empirical(np.linspace(-0.01, 0.01, limits.MAX_EMPIRICAL_POINTS + 1)),
        ),
        "drivers.tax_rate.dist.data",
        "100,001 data points are too many",
    ),
    (
        "mode",
        lambda: driver("margin.a", mode="additive"),
        'drivers."margin.a".mode',
        "\"additive\" is not allowed; allowed one of 'add', 'mul'",
    ),
    # per-year arrays' lengths
    (
        "too many years",
        lambda: driver("ratio.selling", base=(0.15,) * 31),
        'drivers."ratio.selling".base',
        "31 values is too many; allowed at most 30 values",
    ),
    (
        "empty profile",
        lambda: effect(0, 1, profile=()),
        "shocks.tech.effects[1].profile",
        "an empty array is not allowed",
    ),
    (
        "forecast lengths",
        lambda: make_toy(forecast=Forecast(revenue=(1.0, 2.0, 3.0), eps=(0.1, 0.2))),
        "forecast.eps",
        "2 values do not match 'revenue' (3)",
    ),
    # correlation block
    (
        "label not a driver",
        lambda: make_toy(correlation_labels=("growth.a", "growth.x", "margin.a")),
        "correlation.labels[1]",
        "\"growth.x\" is not a driver (did you mean 'growth.b'?)",
    ),
    (
        "matrix shape",
        lambda: matrix([[1, 0.6], [0.6, 1]]),
        "correlation.matrix",
        "2 rows; allowed a 3 x 3 array of numbers",
    ),
    (
        "diagonal",
        lambda: matrix([[1, 0.6, 0.3], [0.6, 0.9, 0.2], [0.3, 0.2, 1]]),
        "correlation.matrix[1][1]",
        "diagonal entry 0.9 for 'growth.b'; allowed 1",
    ),
    (
        "not symmetric",
        lambda: matrix([[1, 0.6, 0.3], [0.5, 1, 0.2], [0.3, 0.2, 1]]),
        "correlation.matrix[1][0]",
        "not symmetric: 'growth.b' x 'growth.a' is 0.5",
    ),
    (
        "not PSD",
        lambda: matrix([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]),
        "correlation.matrix",
        'positive semi-definite matrix (or repair = "nearest"',
    ),
    (
        "student-t df",
        lambda: make_toy(copula="student_t", copula_df=0.5),
        "correlation.df",
        "0.5 is out of range; allowed [1, inf)",
    ),
    # shocks: targets, segments, forced years, reach
    (
        "probability",
        lambda: shock(1, probability=1.2),
        "shocks.leak.probability",
        "1.2 is out of range; allowed [0, 1]",
    ),
    (
        "target",
        lambda: effect(0, 1, target="gross_margn"),
        "shocks.tech.effects[1].target",
        "\"gross_margn\" is not a shock target (did you mean 'gross_margin'?)",
    ),
    (
        "segment",
        lambda: effect(0, 0, segments=("c",)),
        "shocks.tech.effects[0].segments[0]",
        '"c" is not a segment; allowed a, b',
    ),
    (
        "segments on a ratio",
        lambda: effect(1, 2, segments=("a",)),
        "shocks.leak.effects[2].segments",
        "segments only apply to targets 'growth', 'churn', 'gross_margin', not 'ratio.admin'",
    ),
    (
        "forced twice",
        lambda: shock(0, forced=(Forced(2025), Forced(2025))),
        "shocks.tech.forced[1].year",
        "year 2025 is forced twice",
    ),
    (
        "uncapped effect",
        lambda: effect(1, 0, size=1000.0, cap=float("inf")),
        "shocks.leak.effects[0]",
        "one_off_loss can reach 0 .. ",
    ),
    # stresses name existing shocks and drivers and keep the limits
    (
        "stress shock",
        lambda: stress(force=[StressForce("tekh", 2025)]),
        "stress.s.force[0].shock",
        "\"tekh\" is not allowed (did you mean 'tech'?); allowed one of 'tech', 'leak'",
    ),
    (
        "stress driver",
        lambda: stress(shift=[StressShift("wac", add=0.01)]),
        "stress.s.shift[0].driver",
        "\"wac\" is not allowed (did you mean 'wacc'?)",
    ),
    (
        "stress moves a base",
        lambda: stress(shift=[StressShift("wacc", add=2.0)]),
        "stress.s.shift[0].add",
        "moves the base of 'wacc' from 0.09 to 2.09, out of range",
    ),
    (
        "stress discounting",
        lambda: stress(shift=[StressShift("terminal_growth", add=0.06)]),
        "stress.s.shift",
        "under this stress, lowest possible WACC",
    ),
    ("stress changes nothing", lambda: stress(), "stress.s", "stress scenario 's' changes nothing"),
    # limits and cross checks
    ("horizon", lambda: make_toy(horizon=31), "horizon", "31 is out of range; allowed [1, 30]"),
    (
        "too many shocks",
        lambda: extra_shocks(limits.MAX_SHOCKS - 1),
        "shocks.x30",
        "33 shocks are too many; allowed at most 32 shocks",
    ),
    (
        "revenue",
        lambda: make_toy(
            segments=(
                dataclasses.replace(make_toy().segments[0], base_revenue=1e306),
                make_toy().segments[1],
            )
        ),
        "segments.a.revenue",
        "1e+306 is out of range; allowed (0, 1e+15]",
    ),
    (
        "reach",
        lambda: driver("multiple.pe", dist=distributions.LogNormal(750, 0.45)),
        'drivers."multiple.pe".dist',
        "multiple.pe can reach",
    ),
    (
        "discounting",
        lambda: driver("wacc", base=(0.02,)),
        "drivers.wacc.dist",
        "lowest possible WACC",
    ),
    (
        "terminal roic",
        lambda: make_toy(terminal_roic=0.005),
        "schedules.terminal_roic.value",
        "would reinvest g / ROIC >= 100% of terminal profit",
    ),
    ("text", lambda: make_toy(name="to\x1by"), "name", "contains a control character (U+001B)"),
    (
        "note",
        lambda: make_toy(notes={"reviewer": "a" * 20_001}),
        "notes.reviewer",
        "at most 20,000 characters",
    ),
    (
        "history",
        lambda: make_toy(history={"eps": {2023: -1e308}}),
        "history.eps.2023",
        "out of range; allowed [-1e+15, 1e+15]",
    ),
]


@pytest.mark.parametrize(
    ("build", "key", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_python_and_file_give_the_same_error(build, key, fragment):
    bad = build()
    with pytest.raises(ScenarioError) as py:
        validate(bad)
    with pytest.raises(ScenarioError) as file:
        loads_scenario(dumps_scenario(bad), source="toy.toml")
    py, file = py.value, file.value
    assert (py.key_path, py.reason) == (file.key_path, file.reason)
    assert py.key_path == key and fragment in py.reason, str(py)
    assert (py.allowed, py.line, py.source) == (file.allowed, None, f"scenario {bad.name!r}")
    assert file.line is not None and str(file).startswith(f"toy.toml: {key} (line {file.line}): ")
    # the Python object's message names the attribute where the file's names the line
    assert py.attribute and str(py) == f"scenario {bad.name!r}: {key} ({py.attribute}): {py.reason}"


def test_the_message_of_a_python_object_names_its_attribute():
    with pytest.raises(ScenarioError) as info:
        validate(driver("growth.b", persistence=1.5))
    assert str(info.value) == (
        "scenario 'toy': drivers.\"growth.b\".persistence "
        "(drivers[1].persistence): 1.5 is out of range; allowed [0, 1]"
    )
    with pytest.raises(ScenarioError) as info:
        validate(make_toy(opening_debt=-1.0), source="mine")
    assert str(info.value).startswith(
        "mine: schedules.opening_debt.value (opening_debt): -1 is out of range"
    )


def test_the_file_names_the_keys_it_wrote():
    text = dumps_scenario(make_toy())
    one = '[drivers."growth.b"]\nbase = 0.1\n'
    assert text.count(one) == 1  # a one-value base is written as a number
    err = pytest.raises(ScenarioError, loads_scenario, text.replace(one, one.replace("0.1", "11")))
    assert err.value.key_path == 'drivers."growth.b".base'
    err = pytest.raises(
        ScenarioError, loads_scenario, text.replace(one, one.replace("0.1", "[11]"))
    )
    assert err.value.key_path == 'drivers."growth.b".base[0]'


def test_one_error_class_for_files_and_objects():
    assert scenario_file.ScenarioError is errors.ScenarioError
    assert issubclass(errors.ScenarioError, ValueError)


def test_simulate_validates_without_toml(monkeypatch):
    def no_toml(*args, **kwargs):
        raise AssertionError("simulate went through TOML")

    monkeypatch.setattr(scenario_file, "dumps_scenario", no_toml)
    monkeypatch.setattr(scenario_file, "loads_scenario", no_toml)
    sc = make_toy(market_price=21.25)  # a scenario no other test validated
    assert sc.digest() not in core._VALIDATED
    r = simulate(sc, 10, seed=1)
    assert r["revenue"].shape == (10, 3) and sc.digest() in core._VALIDATED
    bad = make_toy(market_price=-21.25)
    with pytest.raises(ScenarioError) as info:
        simulate(bad, 10, seed=1)
    assert str(info.value) == (
        "scenario 'toy': market.price (market_price): -21.25 is out of range; allowed (0, 1e+15]"
    )
    assert bad.digest() not in core._VALIDATED
