"""Scenario files: the embedded default, round trips, one clear error per bad file, calibration."""

import dataclasses
import math
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import distributions
import simcore
from simcore.io.assumptions import (
    STATEMENT_LINES,
    assumptions_markdown,
    deterministic_statement,
    statement_markdown,
)
from simcore.io.scenario_file import (
    _SCHEDULES,
    MAX_HORIZON,
    ScenarioError,
    builtin_scenario,
    default_scenario,
    dumps_scenario,
    list_scenarios,
    load_scenario,
    loads_scenario,
)
from simcore.model import equations as reference
from simcore.model.scenario import FIXED_DRIVERS, SHOCK_TARGETS, Scenario, extend


def builtin_scenario_text(name: str) -> str:
    return resources.files("simcore").joinpath(f"scenarios/{name}.toml").read_text("utf-8")


PARATERA = builtin_scenario_text("paratera")
DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"

# The report's 2025E-2027E statements (REPORT_FACTS.md; credit impairment as a loss). The
# balance sheet's fixed assets include construction in progress (845 + 18 in 2025E), its
# borrowings are short plus long term; the cash-flow lines are the report's.
REPORT_BALANCE_CASH = {
    "cash": (270, 361, 488),
    "debt": (216 + 195, 184 + 133, 163 + 68),
    "fixed_assets": (845 + 18, 773, 642),
    "total_assets": (1500, 1579, 1643),
    "equity": (385, 421, 469),
    "operating_cash_flow": (300, 372, 380),
    "investing_cash_flow": (-193, -172, -155),
    "financing_cash_flow": (-122, -109, -97),
}
REPORT_INCOME = {
    "revenue": (863, 1116, 1364),
    "cost_of_revenue": (583, 751, 915),
    "taxes_surcharges": (2, 3, 4),
    "selling": (134, 170, 211),
    "admin": (47, 67, 83),
    "rnd": (52, 71, 87),
    "financial_expense": (20, 16, 11),
    "impairment": (5, 6, 8),
    "other_income": (5, 6, 5),
    "operating_profit": (25, 37, 49),
    "non_operating": (1, 2, 3),
    "profit_before_tax": (26, 39, 52),
    "income_tax": (2, 3, 4),
    "net_profit": (24, 36, 48),
    "net_profit_attributable": (24, 36, 48),
    "eps": (0.41, 0.62, 0.82),
}
REPORT = {
    **REPORT_INCOME,
    "depreciation": (232, 263, 287),
    **REPORT_BALANCE_CASH,
    "total_liabilities": (1116, 1158, 1174),
}


# -- the default ------------------------------------------------------------------------------
def test_default_scenario_loads_with_the_report_facts():
    sc = default_scenario()
    assert isinstance(sc, Scenario)
    assert (sc.name, sc.ticker, sc.currency) == ("Paratera", "839493.BJ", "CNY")
    assert sc.base_year == 2024 and sc.horizon == 3 and sc.years == (2025, 2026, 2027)
    assert {s.name: s.base_revenue for s in sc.segments} == {
        "general_cloud": 185,
        "industry_cloud": 159,
        "ai_cloud": 270,
        "other": 41,
    }
    assert (sc.shares, sc.market_price, sc.market_date) == (58.85, 157.80, "2025-06-05")
    assert (sc.opening_cash, sc.opening_debt, sc.opening_equity) == (286, 512, 350)
    assert sc.repayment == (512 - 411, 411 - 317, 317 - 231)
    assert sc.forecast.revenue == (863, 1116, 1364)
    assert sc.forecast.net_profit_attributable == (24, 36, 48)
    assert sc.forecast.eps == (0.41, 0.62, 0.82)
    assert sc.history["revenue"] == {2023: 496, 2024: 655}
    assert sc.history["net_profit_attributable"] == {2023: -80, 2024: 12}
    assert {s.name for s in sc.shocks} == {
        "technology_substitution",
        "talent_loss",
        "data_leak",
        "large_contract",
    }
    assert sc.correlation.shape == (len(sc.correlation_labels),) * 2
    assert not sc.correlation.flags.writeable


def test_every_default_assumption_has_a_rationale():
    sc = default_scenario()
    missing = [f"segments.{s.name}" for s in sc.segments if not s.rationale.strip()]
    missing += [f"drivers.{d.name}" for d in sc.drivers if not d.rationale.strip()]
    missing += [f"shocks.{s.name}" for s in sc.shocks if not s.rationale.strip()]
    missing += [
        f"shocks.{s.name}.effects[{i}]"
        for s in sc.shocks
        for i, e in enumerate(s.effects)
        if not e.rationale.strip()
    ]
    missing += [f"schedules.{k}" for k in _SCHEDULES if not sc.notes.get(k, "").strip()]
    missing += [k for k in ("market", "correlation", "forecast", "history") if k not in sc.notes]
    assert missing == []
    for text in [d.rationale for d in sc.drivers] + [s.rationale for s in sc.shocks]:
        assert "\n" not in text  # one line each


def test_default_growth_ordering_and_volatility():
    sc = default_scenario()
    mean = {s: np.mean(sc.driver(f"growth.{s}").base) for s in sc.segment_names}
    assert mean["ai_cloud"] > mean["industry_cloud"] > mean["general_cloud"] > mean["other"]
    assert 0.15 <= mean["general_cloud"] <= 0.20  # anchor: 18.8% general-compute CAGR
    sigma = {s: sc.driver(f"growth.{s}").dist.std() for s in sc.segment_names}
    assert sigma["ai_cloud"] == max(sigma.values())
    ai = sc.driver("growth.ai_cloud").dist.to_scipy()  # a right tail: skewed up
    assert ai.ppf(0.95) - ai.median() > 1.3 * (ai.median() - ai.ppf(0.05))
    assert all(sc.driver(f"growth.{s}").persistence == 0.5 for s in sc.segment_names)


def test_default_shocks_follow_the_model_design():
    sc = default_scenario()
    tech, talent, leak = (
        sc.shock(n) for n in ("technology_substitution", "talent_loss", "data_leak")
    )
    assert 0.05 <= tech.probability <= 0.10
    assert 0.10 <= talent.probability <= 0.20
    assert 0.02 <= leak.probability <= 0.05
    for s in (tech, talent, leak):
        assert s.severity.mean() == pytest.approx(1.0, rel=1e-12)
    # heavy right tail of the leak's loss: 99th percentile several times the mean
    assert leak.severity.ppf(0.99) > 5.0
    loss = [e for e in leak.effects if e.target == "one_off_loss"]
    assert len(loss) == 1 and loss[0].cap == 0.05  # PIPL: 5% of prior-year revenue
    assert {e.target for e in tech.effects} >= {"growth", "gross_margin", "multiple"}
    assert {e.target for e in talent.effects} >= {"ratio.rnd", "ratio.admin", "growth"}
    assert {e.target for e in leak.effects} >= {"one_off_loss", "churn", "multiple"}
    # an event in the other direction: a contract raises growth and the capex it needs
    up = sc.shock("large_contract")
    assert up.severity.mean() == pytest.approx(1.0, rel=1e-12)
    sizes = {e.target: e.size for e in up.effects}
    assert sizes["growth"] > 0 and sizes["capex_intensity"] > 0


def test_default_discounting_is_bounded():
    sc = default_scenario()
    w, g = sc.driver("wacc"), sc.driver("terminal_growth")
    assert w.persistence == 1.0 and g.persistence == 1.0
    assert min(w.base) + w.dist.support()[0] > max(g.base) + g.dist.support()[1]
    for name in ("multiple.ps", "multiple.pe", "multiple.ev_ebitda", "ratio.impairment"):
        d = sc.driver(name)
        assert d.mode == "mul" and d.dist.mean() == pytest.approx(1.0, rel=1e-12)


def test_public_names_are_reexported():
    assert simcore.load_scenario is load_scenario
    assert simcore.default_scenario is default_scenario
    assert simcore.Scenario is Scenario
    assert issubclass(ScenarioError, ValueError)


def test_list_and_builtin_scenarios():
    names = list_scenarios()
    assert {"paratera", "toy"} <= set(names)
    assert all(desc and "\n" not in desc for desc in names.values())
    assert builtin_scenario("paratera") == default_scenario()
    with pytest.raises(ValueError, match="did you mean 'toy'"):
        builtin_scenario("tyo")


def test_load_scenario_from_a_file_names_the_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(PARATERA, encoding="utf-8")
    assert load_scenario(path) == default_scenario()
    path.write_text(PARATERA.replace("horizon = 3", "horizon = 0"), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: horizon (line ")
    with pytest.raises(FileNotFoundError, match="builtin_scenario"):
        load_scenario(tmp_path / "paratera.toml")
    path.write_bytes(b'name = "\xff"\n')
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(path)


# -- round trips ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["paratera", "toy"])
def test_round_trip(name):
    sc = builtin_scenario(name)
    text = dumps_scenario(sc)
    back = loads_scenario(text, source="dumped.toml")
    assert back == sc
    assert back.digest() == sc.digest()
    assert dumps_scenario(back) == text
    # equality can fail: any change is seen
    assert sc.with_shocks(False) != sc
    assert dataclasses.replace(sc, correlation=sc.correlation * 0.5) != sc


def test_round_trip_of_optional_parts():
    sc = builtin_scenario("toy")
    odd = dataclasses.replace(
        sc,
        notes={**sc.notes, "reviewer": 'quotes " and \\ and ünïcode'},
        correlation_kind="spearman",
        correlation_repair="nearest",
        copula="student_t",
        copula_df=5.0,
        shocks=tuple(dataclasses.replace(s, enabled=False) for s in sc.shocks),
        history={"revenue": {2023: 90.5}},
    )
    assert loads_scenario(dumps_scenario(odd)) == odd


def test_round_trip_of_a_family_with_array_data():
    text, _, _ = edit(
        "[drivers]",
        '{ family = "Normal", loc = 0, scale = 0.05 }',
        '{ family = "Empirical", data = [-0.1, 0.0, 0.05, 0.1] }',
        builtin_scenario_text("toy"),
    )
    sc = loads_scenario(text)
    assert sc.driver("growth.core").dist.family == "Empirical"
    assert loads_scenario(dumps_scenario(sc)) == sc
    bad = text.replace("data = [-0.1, 0.0, 0.05, 0.1]", "data = []")
    err = error_of(bad)
    assert err.key_path == 'drivers."growth.core".dist' and "Empirical" in str(err)


def test_loader_never_evaluates_code():
    text = PARATERA.replace('name = "Paratera"', "name = \"__import__('os').system('x')\"")
    assert loads_scenario(text).name == "__import__('os').system('x')"


# -- one clear error per bad file ---------------------------------------------------------------
def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def edit(header: str, old: str, new: str, text: str = PARATERA):
    """Replace the first ``old`` after the line ``header``.

    Returns the new text, the line of the edit and the line of the nearest ``header`` above it.
    """
    pos = text.index(old, text.index(header + "\n"))
    h = text.rfind(header + "\n", 0, pos + 1)
    return text[:pos] + new + text[pos + len(old) :], line_of(text, pos), line_of(text, h)


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, source="paratera.toml")
    return info.value


def check(err: ScenarioError, key: str, line: int | None, *fragments: str) -> None:
    msg = str(err)
    assert msg.startswith("paratera.toml: "), msg
    assert err.key_path == key, msg
    assert f"{key} (line {line}):" in msg if line else key in msg, msg
    assert err.line == line, msg
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"


GA = '[drivers."growth.ai_cloud"]'


def test_error_message_format_out_of_range():
    text, line, _ = edit(GA, "persistence = 0.5", "persistence = 1.5")
    err = error_of(text)
    assert str(err) == (
        f'paratera.toml: drivers."growth.ai_cloud".persistence (line {line}): '
        "1.5 is out of range; allowed [0, 1]"
    )
    assert (err.value, err.allowed) == (1.5, "[0, 1]")


@pytest.mark.parametrize(
    ("header", "old", "new", "key", "fragments"),
    [
        # unknown keys, with a suggestion
        (
            GA,
            "persistence = 0.5",
            "persistance = 0.5",
            'drivers."growth.ai_cloud".persistance',
            ["unknown key 'persistance'", "did you mean 'persistence'?", "allowed keys: base"],
        ),
        ("base_year = 2024", "horizon = 3", "horizn = 3", "horizn", ["did you mean 'horizon'?"]),
        # wrong types
        (
            GA,
            "persistence = 0.5",
            "persistence = true",
            'drivers."growth.ai_cloud".persistence',
            ["true is a boolean", "allowed a number in [0, 1]"],
        ),
        (
            "[drivers.wacc]",
            "base = 0.095",
            'base = "9.5%"',
            "drivers.wacc.base",
            ['"9.5%" is a string', "0.05 for 5%"],
        ),
        (
            "[segments.other]",
            "revenue = 41",
            'revenue = "41"',
            "segments.other.revenue",
            ['"41" is a string', "a positive number"],
        ),
        (
            "base_year = 2024",
            "horizon = 3",
            "horizon = 3.0",
            "horizon",
            ["3 is a float", "an integer in [1, 30]"],
        ),
        (
            "[shocks.data_leak]",
            "enabled = true",
            'enabled = "yes"',
            "shocks.data_leak.enabled",
            ['"yes" is a string', "true or false"],
        ),
        # out of range
        (
            "base_year = 2024",
            "horizon = 3",
            "horizon = 0",
            "horizon",
            ["0 is out of range", "[1, 30]"],
        ),
        ("base_year = 2024", "horizon = 3", "horizon = 31", "horizon", ["31 is out of range"]),
        (
            "[shocks.data_leak]",
            "probability = 0.03",
            "probability = 1.2",
            "shocks.data_leak.probability",
            ["1.2 is out of range", "[0, 1]"],
        ),
        (
            "[segments.other]",
            "revenue = 41",
            "revenue = -41",
            "segments.other.revenue",
            ["-41 is out of range", "(0, 1e+15]"],
        ),
        ("[market]", "shares = 58.85", "shares = 0", "market.shares", ["0 is out of range"]),
        (
            "[drivers.tax_rate]",
            "base = 0.077",
            "base = 1.077",
            "drivers.tax_rate.base",
            ["1.077 is out of range", "[0, 1]"],
        ),
        (
            '[drivers."ratio.selling"]',
            "base = [0.1002, 0.1063, 0.1141]",
            "base = [0.1002, -0.1526]",
            'drivers."ratio.selling".base[1]',
            ["-0.1526"],
        ),
        (
            "[schedules.minority_share]",
            "values = [0.0]",
            "values = [0.0, 1.5]",
            "schedules.minority_share.values[1]",
            ["1.5 is out of range"],
        ),
        (
            "[[shocks.data_leak.effects]]",
            "cap = 0.05",
            "cap = -0.05",
            "shocks.data_leak.effects[0].cap",
            ["-0.05 is out of range"],
        ),
        (
            "[market]",
            "date = 2025-06-05",
            'date = "June 5th"',
            "market.date",
            ['"June 5th" is not a date'],
        ),
        # inconsistent lengths
        (
            '[drivers."ratio.selling"]',
            "base = [0.1002, 0.1063, 0.1141]",
            "base = []",
            'drivers."ratio.selling".base',
            ["empty array is not allowed"],
        ),
        (
            '[drivers."ratio.selling"]',
            "base = [0.1002, 0.1063, 0.1141]",
            "base = [" + ", ".join(["0.15"] * (MAX_HORIZON + 1)) + "]",
            'drivers."ratio.selling".base',
            [f"{MAX_HORIZON + 1} values is too many", f"at most {MAX_HORIZON}"],
        ),
        (
            "[forecast]",
            "eps = [0.41, 0.62, 0.82]",
            "eps = [0.41, 0.62]",
            "forecast.eps",
            ["2 values do not match 'revenue' (3)"],
        ),
        (
            "[[shocks.talent_loss.effects]]",
            "profile = [1.0, 0.5]",
            "profile = []",
            "shocks.talent_loss.effects[0].profile",
            ["empty array"],
        ),
        # driver roles
        (
            "[drivers.tax_rate]",
            "[drivers.tax_rate]",
            "[drivers.tax_rat]",
            "drivers.tax_rat",
            ["unknown driver role 'tax_rat'", "did you mean 'tax_rate'?"],
        ),
        (
            GA,
            GA,
            '[drivers."growth.ai"]',
            'drivers."growth.ai"',
            ["names no segment", "did you mean 'ai_cloud'?"],
        ),
        # shocks
        (
            "[[shocks.technology_substitution.effects]]",
            'target = "gross_margin"',
            'target = "gross_margn"',
            "shocks.technology_substitution.effects[1].target",
            [
                '"gross_margn" is not a shock target',
                "did you mean 'gross_margin'?",
                ", ".join(SHOCK_TARGETS),
            ],
        ),
        (
            "[[shocks.data_leak.effects]]",
            '"ai_cloud"]',
            '"ai_clod"]',
            "shocks.data_leak.effects[1].segments[2]",
            ['"ai_clod" is not a segment', "did you mean 'ai_cloud'?"],
        ),
        (
            "[[shocks.data_leak.effects]]",
            'target = "one_off_loss"',
            'segments = ["ai_cloud"]\ntarget = "one_off_loss"',
            "shocks.data_leak.effects[0].segments",
            ["segments only apply to targets 'growth', 'churn', 'gross_margin'"],
        ),
        # correlation
        (
            "[correlation]",
            '"growth.other"',
            '"growth.othr"',
            "correlation.labels[3]",
            ['"growth.othr" is not a driver', "did you mean 'growth.other'?"],
        ),
        (
            "[correlation]",
            "[1.0, 0.6, 0.5, 0.3, -0.2, -0.1, -0.1, 0.0, 0.2, 0.2, 0.2],",
            "[1.0, 0.6, 0.5, 0.3, -0.2, -0.1, -0.1, 0.0, 0.2, 0.2],",
            "correlation.matrix[0]",
            ["11 x 11"],
        ),
        (
            "[correlation]",
            "[0.6, 1.0, 0.4, 0.3, -0.1, -0.2, -0.1, 0.0, 0.2, 0.2, 0.2],",
            "[0.7, 1.0, 0.4, 0.3, -0.1, -0.2, -0.1, 0.0, 0.2, 0.2, 0.2],",
            "correlation.matrix[1][0]",
            ["not symmetric", "'growth.industry_cloud' x 'growth.general_cloud'"],
        ),
        # distributions
        (
            '[drivers."growth.general_cloud"]',
            'family = "Normal"',
            'family = "Normall"',
            'drivers."growth.general_cloud".dist.family',
            ['unknown distribution family "Normall"', "did you mean 'Normal'?"],
        ),
        (
            '[drivers."growth.general_cloud"]',
            "scale = 0.09",
            "scale = -0.09",
            'drivers."growth.general_cloud".dist.scale',
            ["-0.09 is out of range", "(0, inf)"],
        ),
        (
            '[drivers."growth.general_cloud"]',
            "scale = 0.09",
            "sigma = 0.09",
            'drivers."growth.general_cloud".dist.sigma',
            ["unknown parameter 'sigma' of Normal", "allowed loc, scale"],
        ),
        (
            '[drivers."ratio.admin"]',
            "low = -0.015, high = 0.015",
            "low = 0.015, high = -0.015",
            'drivers."ratio.admin".dist',
            ["must be below high"],
        ),
        (
            '[drivers."multiple.ps"]',
            '{ family = "LogNormal", mu = -0.125, sigma = 0.5 }',
            '{ family = "Normal", loc = 1, scale = 0.35 }',
            'drivers."multiple.ps".dist',
            ["can be negative", "mode 'mul'"],
        ),
        (
            '[drivers."margin.general_cloud"]',
            'mode = "add"',
            'mode = "additive"',
            'drivers."margin.general_cloud".mode',
            ['"additive" is not allowed', "'add', 'mul'"],
        ),
        # schedules
        (
            "[schedules.terminal_roic]",
            "value = 0.114",
            "value = 0.03",
            "schedules.terminal_roic.value",
            ["g / ROIC >= 100%"],
        ),
        (
            "[history.revenue]",
            "2023 = 496",
            "y2023 = 496",
            "history.revenue.y2023",
            ["'y2023' is not a year"],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None,
)
def test_errors_name_file_key_line_value_and_what_is_allowed(header, old, new, key, fragments):
    text, line, _ = edit(header, old, new)
    err = error_of(text)
    # the line of the bad key: where the edit starts (its first line for a multi-line edit)
    check(err, key, line, *fragments)


@pytest.mark.parametrize(
    ("header", "old", "key", "fragments"),
    [
        (
            '[drivers."margin.general_cloud"]',
            "base = [0.6271, 0.5958, 0.5753]\n",
            'drivers."margin.general_cloud".base',
            ["missing required key 'base'"],
        ),
        ("[market]", "shares = 58.85\n", "market.shares", ["missing required key 'shares'"]),
        (
            "[[shocks.data_leak.effects]]",
            'target = "churn"\n',
            "shocks.data_leak.effects[1].target",
            ["missing required key 'target'"],
        ),
        (
            "[schedules.terminal_roic]",
            "value = 0.114\n",
            "schedules.terminal_roic.value",
            ["missing required key 'value'"],
        ),
    ],
)
def test_missing_keys_point_at_their_table(header, old, key, fragments):
    text, _, header_line = edit(header, old, "")
    check(error_of(text), key, header_line, *fragments)


def cut_table(header: str, text: str = PARATERA) -> tuple[str, int]:
    """``text`` without the table ``header`` (up to the next blank line); its old line."""
    start = text.index(header + "\n")
    end = text.index("\n\n", start) + 2
    return text[:start] + text[end:], line_of(text, start)


def test_missing_growth_driver_for_a_segment():
    text, _ = cut_table('[drivers."growth.other"]')
    err = error_of(text)
    assert err.key_path == 'drivers."growth.other"'
    assert "missing driver 'growth.other'" in str(err)
    assert "every segment needs a growth driver" in str(err)
    assert err.line == line_of(text, text.index("[drivers."))  # the first [drivers.*] table


def test_missing_fixed_driver():
    text, _ = cut_table("[drivers.terminal_growth]")
    err = error_of(text)
    assert err.key_path == "drivers.terminal_growth"
    assert "missing driver 'terminal_growth'" in str(err)


def test_missing_top_level_table():
    text, _ = cut_table("[market]")
    err = error_of(text)
    assert err.key_path == "market" and "missing required key 'market'" in str(err)


def test_wacc_not_above_terminal_growth_bounded():
    text, line, _ = edit("[drivers.wacc]", "base = 0.095", "base = 0.04")
    err = error_of(text)
    check(
        err,
        "drivers.wacc.dist",
        line + 3,
        "lowest possible WACC 0.02",
        "highest possible terminal growth 0.035",
        "allowed lowest possible WACC >",
    )


def test_wacc_with_unbounded_distribution_is_refused():
    text, line, _ = edit(
        "[drivers.wacc]",
        'family = "TruncatedNormal", loc = 0, scale = 0.01, low = -0.02, high = 0.02',
        'family = "Normal", loc = 0, scale = 0.01',
    )
    err = error_of(text)
    check(
        err,
        "drivers.wacc.dist",
        line,
        "can fall to or below terminal growth",
        "bounded distributions (e.g. TruncatedNormal)",
    )


def test_wacc_shock_that_can_lower_the_rate_counts():
    # a leak that *lowers* WACC by up to 0.5 (its cap) could push it below terminal growth
    text, _, _ = edit(
        "[[shocks.data_leak.effects]]",
        'target = "multiple"\nsize = 0.15',
        'target = "wacc"\nsize = -0.15',
    )
    err = error_of(text)
    assert err.key_path == "drivers.wacc.dist" and "lowest possible WACC -0.425" in str(err)
    # raising WACC is harmless
    loads_scenario(text.replace('target = "wacc"\nsize = -0.15', 'target = "wacc"\nsize = 0.15'))


def test_non_psd_correlation_names_the_factors():
    text = PARATERA.replace(
        "    [1.0, 0.6, 0.5, 0.3, -0.2, -0.1, -0.1, 0.0, 0.2, 0.2, 0.2],\n"
        "    [0.6, 1.0, 0.4, 0.3, -0.1, -0.2, -0.1, 0.0, 0.2, 0.2, 0.2],\n"
        "    [0.5, 0.4, 1.0, 0.2, -0.1, -0.1, -0.3, 0.0, 0.3, 0.3, 0.3],",
        "    [1.0, 0.9, 0.9, 0.3, -0.2, -0.1, -0.1, 0.0, 0.2, 0.2, 0.2],\n"
        "    [0.9, 1.0, -0.9, 0.3, -0.1, -0.2, -0.1, 0.0, 0.2, 0.2, 0.2],\n"
        "    [0.9, -0.9, 1.0, 0.2, -0.1, -0.1, -0.3, 0.0, 0.3, 0.3, 0.3],",
    )
    assert text != PARATERA
    err = error_of(text)
    line = line_of(text, text.index("matrix = ["))
    check(
        err,
        "correlation.matrix",
        line,
        "growth.general_cloud",
        "growth.industry_cloud",
        "growth.ai_cloud",
        "positive semi-definite",
        'repair = "nearest"',
    )
    repaired = text.replace('kind = "pearson"', 'kind = "pearson"\nrepair = "nearest"')
    assert loads_scenario(repaired).correlation_repair == "nearest"


def test_invalid_toml_reports_its_line():
    text = PARATERA.replace("horizon = 3", "horizon = = 3")
    err = error_of(text)
    assert err.line == line_of(text, text.index("horizon = = 3"))
    assert "not valid TOML" in str(err)


def test_not_a_table_and_empty_sections():
    err = error_of(
        PARATERA.replace("[segments.other]\nrevenue = 41\n", "[segments.other]\nrevenue = [41]\n")
    )
    assert err.key_path == "segments.other.revenue" and "is an array" in str(err)
    toy = builtin_scenario_text("toy")
    err = error_of(toy.replace('source = "Made up', 'forecast = 5\nsource = "Made up'))
    assert err.key_path == "forecast" and "5 is an integer; allowed a table" in str(err)
    start, end = toy.index("[segments.core]"), toy.index("[drivers]")
    err = error_of(toy[:start] + "[segments]\n\n" + toy[end:])
    assert err.key_path == "segments" and "no segments" in str(err)


def test_line_index_handles_quoted_keys_arrays_and_inline_tables():
    from simcore.io.scenario_file import _LineIndex

    text = (
        'a = 1\n[t."x.y"]\nb = [\n  1,\n  "]",\n]\nc = { d = 1 }  # [not] a table\n'
        "[[arr]]\ne = 1\n[[arr]]\ne = 2\n[arr.sub]\nf = '''\n[fake]\n'''\ng = 1\n"
    )
    idx = _LineIndex(text)
    assert idx.line_of(("a",)) == 1
    assert idx.line_of(("t", "x.y")) == 2
    assert idx.line_of(("t", "x.y", "b")) == 3
    assert idx.line_of(("t", "x.y", "b", 0)) == 4
    assert idx.line_of(("t", "x.y", "b", 1)) == 5
    assert ("t", "x.y", "c", 1) not in idx.lines  # an inline table has no elements
    assert idx.line_of(("t", "x.y", "c", "d")) == 7
    assert idx.line_of(("arr", 0, "e")) == 9
    assert idx.line_of(("arr", 1, "e")) == 11
    assert idx.line_of(("arr", 1, "sub", "f")) == 13
    assert idx.line_of(("arr", 1, "sub", "g")) == 16
    assert idx.line_of(("fake",)) is None
    assert idx.line_of(("nowhere",)) is None


# -- calibration: zero variance, no shocks, the report's statement ------------------------------
def deterministic(sc: Scenario) -> dict:
    """Each driver's dist replaced by Constant(0) (add) / Constant(1) (mul); every shock off."""
    Constant = distributions.FAMILIES["Constant"]
    H = sc.horizon
    drivers = {}
    for d in sc.drivers:
        d0 = dataclasses.replace(d, dist=Constant(0.0 if d.mode == "add" else 1.0))
        x = d0.dist.ppf(np.full(H, 0.5))
        base = extend(d0.base, H)
        drivers[d.name] = (base + x if d.mode == "add" else base * x)[None, :]
    hits = {s.name: np.zeros((1, H)) for s in sc.shocks}
    sev = {s.name: np.ones((1, H)) for s in sc.shocks}
    return drivers, reference.evaluate(sc.with_shocks(False), drivers, hits, sev)


def test_calibration_reproduces_the_report():
    sc = default_scenario()
    drivers, out = deterministic(sc)
    model = {k: out[k][0] for k in REPORT}
    # the income statement within 2 per line (net profit attributable within 1)
    off = {
        k: np.round(model[k] - REPORT[k], 2).tolist()
        for k in REPORT_INCOME
        if np.max(np.abs(model[k] - REPORT[k])) > (1.0 if k == "net_profit_attributable" else 2.0)
        and k != "eps"
    }
    assert off == {}
    # EPS within 0.015: the report's own lines add up to operating profits 1 above its 37 and
    # 49 in 2026E and 2027E (rounding), and its EPS are rounded to cents
    np.testing.assert_allclose(model["eps"], REPORT["eps"], atol=0.015)
    # the balance sheet and cash flow within 5 per line
    off = {
        k: np.round(model[k] - REPORT[k], 2).tolist()
        for k in REPORT_BALANCE_CASH
        if np.max(np.abs(model[k] - REPORT[k])) > 5.0
    }
    assert off == {}
    # D&A follows from the asset base within 3 of the report's
    np.testing.assert_allclose(model["depreciation"], REPORT["depreciation"], atol=3.0)
    # the lines add up to the operating profit, the balance sheet balances
    parts = (
        model["revenue"]
        - model["cost_of_revenue"]
        - model["taxes_surcharges"]
        - model["selling"]
        - model["admin"]
        - model["rnd"]
        - model["financial_expense"]
        - model["impairment"]
        + np.asarray(sc.other_income)
    )
    np.testing.assert_allclose(parts, model["operating_profit"], rtol=1e-12)
    np.testing.assert_allclose(
        model["total_assets"], model["total_liabilities"] + model["equity"], rtol=1e-12
    )
    # the report's path priced at the market-implied multiples gives the market price
    np.testing.assert_allclose(out["price_ps"][0], sc.market_price, rtol=1e-3)
    np.testing.assert_allclose(out["price_pe"][0], sc.market_price, rtol=0.02)
    # scenario_doc's statement is the same computation
    st = deterministic_statement(sc)
    for k, v in model.items():
        np.testing.assert_allclose(st[k], v, rtol=1e-12)


def test_toy_is_a_known_answer_model():
    st = deterministic_statement(builtin_scenario("toy"))
    rev = np.array([110.0, 121.0, 133.1])
    capex = 0.05 * rev
    # 5 a year on the opening plant; each capex over 10 years, half a year in its first
    da = 5.0 + np.array(
        [
            0.05 * capex[0],
            0.1 * capex[0] + 0.05 * capex[1],
            0.1 * (capex[0] + capex[1]) + 0.05 * capex[2],
        ]
    )
    op = 0.19 * rev - 2.5 - da
    np.testing.assert_allclose(st["revenue"], rev, rtol=1e-12)
    np.testing.assert_allclose(st["capex"], capex, rtol=1e-12)
    np.testing.assert_allclose(st["depreciation"], da, rtol=1e-12)
    np.testing.assert_allclose(st["operating_profit"], op, rtol=1e-12)
    np.testing.assert_allclose(st["net_profit_attributable"], 0.85 * op, rtol=1e-12)
    np.testing.assert_allclose(st["debt"], 50.0, rtol=1e-12)  # cash stays above the minimum
    # cash: net profit + D&A + interest - working capital - capex - interest
    cogs = rev - (0.4 * rev - da)
    wc = 0.15 * rev - 0.1 * cogs
    flow = 0.85 * op + da - np.diff(np.concatenate([[15.0 - 5.0], wc])) - capex
    np.testing.assert_allclose(st["cash"], 20.0 + np.cumsum(flow), rtol=1e-12)


# -- the documentation cannot drift from the default -------------------------------------------
def block(name: str) -> str:
    doc = DOC.read_text(encoding="utf-8")
    m = re.search(rf"<!-- {name}:begin -->\n(.*?)<!-- {name}:end -->", doc, re.S)
    assert m, f"docs/model.md has no {name} block"
    return m.group(1)


def test_docs_list_every_default_assumption():
    sc = default_scenario()
    assert block("assumptions") == assumptions_markdown(sc), (
        "docs/model.md is stale: paste `python -m simcore.io.assumptions` into the assumptions "
        "block"
    )
    doc = DOC.read_text(encoding="utf-8")
    for name in [d.name for d in sc.drivers] + [s.name for s in sc.shocks]:
        assert f"`{name}`" in doc
    assert set(FIXED_DRIVERS) <= {d.name for d in sc.drivers}


def test_docs_calibration_table_is_current():
    expected = statement_markdown(default_scenario(), REPORT)
    assert block("calibration") == expected, "docs/model.md calibration is stale:\n" + expected
    assert set(STATEMENT_LINES) == set(REPORT)


def test_docs_error_examples_are_real():
    examples = []
    for header, old, new in [
        (GA, "persistence = 0.5", "persistence = 1.5"),
        ("[shocks.talent_loss]", 'target = "ratio.admin"', 'target = "ratio.admn"'),
    ]:
        examples.append(str(error_of(edit(header, old, new)[0])))
    assert block("errors") == "```text\n" + "\n".join(examples) + "\n```\n"


def test_deterministic_statement_is_finite():
    st = deterministic_statement(default_scenario())
    assert all(np.isfinite(v).all() for v in st.values())
    assert math.isclose(st["revenue"].sum(), 863 + 1116 + 1364, abs_tol=1.0)


# -- files of the first model (schema 1) ------------------------------------------------------
def test_a_schema_1_file_gets_one_error_saying_what_to_add():
    old = (
        builtin_scenario_text("toy")
        .replace("schema_version = 2", "schema_version = 1")
        .replace('"margin.core" =', "gross_margin =")
        .replace(
            'labels = ["growth.core", "margin.core"]', 'labels = ["growth.core", "gross_margin"]'
        )
    )
    old = "\n".join(  # the first model had no fixed costs and no capex driver
        ln for ln in old.splitlines() if not ln.startswith(('"fixed_growth.', "capex_intensity"))
    )
    old = old[: old.index("[schedules.opening_cash]")] + (
        "[schedules.debt]\nbase = 50\nvalues = [50]\n\n"
        "[schedules.net_debt]\nvalues = [30]\n\n"
        "[schedules.da_ratio]\nvalues = [0.05]\n\n"
        "[schedules.capex_ratio]\nvalues = [0.06]\n\n"
        "[schedules.terminal_roic]\nvalue = 0.12\n"
    )
    err = error_of(old)
    msg = str(err)
    assert err.key_path == "schedules.debt"
    assert "describes the first model" in msg and "schema_version = 2" in msg
    for what in (
        "[schedules.opening_cash]",
        "[schedules.opening_fixed_assets]",
        "[schedules.opening_debt]",
        "[schedules.opening_equity]",
        "[schedules.useful_life]",
        "[schedules.remaining_life]",
        '[drivers."capex_intensity"]',
        '[drivers."fixed_growth.selling"]',
        '[drivers."margin.<segment>"]',
        "remove [schedules.debt], [schedules.net_debt], [schedules.da_ratio]",
        "Moving a schema 1 file",
    ):
        assert what in msg, what
    assert "[schedules.terminal_roic]" not in msg.split("add", 1)[1]  # it has that one
    # a schema 2 file that still carries an old schedule is told the same
    text = PARATERA.replace(
        "[schedules.terminal_roic]",
        "[schedules.wc_ratio]\nvalue = -0.16\n\n[schedules.terminal_roic]",
    )
    err = error_of(text)
    assert err.key_path == "schedules.wc_ratio" and "describes the first model" in str(err)
