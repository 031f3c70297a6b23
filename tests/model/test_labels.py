"""Plain names: the scenario's own labels, else names made from the model's naming rules."""

import dataclasses

import pytest

from simcore.io.scenario_file import ScenarioError, default_scenario, dumps_scenario, loads_scenario
from simcore.model.labels import label


def test_default_labels_read_as_words():
    sc = default_scenario()
    want = {
        "growth.ai_cloud": "AI cloud revenue growth",
        "margin.general_cloud": "general cloud gross margin",
        "ratio.rnd": "R&D expense ratio",
        "fixed_growth.selling": "growth of fixed selling costs",
        "multiple.ev_ebitda": "EV/EBITDA multiple",
        "wacc": "discount rate (WACC)",
        "technology_substitution": "technology substitution",
        "shock.data_leak": "data leak (risk)",
        "net_profit_attributable": "net profit attributable",
        "revenue.ai_cloud": "AI cloud revenue",
    }
    assert {n: label(sc, n) for n in want} == want
    every = [d.name for d in sc.drivers] + [s.name for s in sc.shocks]
    assert all("." not in label(sc, n) and "_" not in label(sc, n) for n in every)


def test_a_label_in_the_file_wins_and_round_trips():
    sc = default_scenario()
    seg = dataclasses.replace(sc.segments[2], label="intelligent-compute cloud")
    shock = dataclasses.replace(sc.shocks[0], label="a cheaper technology")
    sc = dataclasses.replace(
        sc, segments=(*sc.segments[:2], seg, *sc.segments[3:]), shocks=(shock, *sc.shocks[1:])
    )
    assert label(sc, "growth.ai_cloud") == "intelligent-compute cloud revenue growth"
    assert label(sc, "shock.technology_substitution") == "a cheaper technology (risk)"
    text = dumps_scenario(sc)
    assert 'label = "a cheaper technology"' in text
    assert loads_scenario(text) == sc
    with pytest.raises(ScenarioError, match=r"segments.ai_cloud.label"):
        loads_scenario(text.replace('"intelligent-compute cloud"', '"bad\\u0007"'))
