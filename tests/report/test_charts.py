"""Charts and the committee pack: check what was drawn, not just that drawing worked."""

import dataclasses
import io
import re

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from simcore import builtin_scenario, default_scenario
from simcore.engine.core import DEFAULT_SEED, simulate
from simcore.report import charts
from simcore.report import pack as report
from simcore.report.caveats import valuation_caveats

N = 4000  # paths: enough for stable quantiles, fast to draw


@pytest.fixture(scope="module")
def result():
    return simulate(default_scenario(), n_paths=N, seed=DEFAULT_SEED)


@pytest.fixture(scope="module")
def toy_result():
    return simulate(builtin_scenario("toy"), n_paths=N, seed=1)  # seed 1: arbitrary, fixed


def bands(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def line(ax, gid):
    found = [ln for ln in ax.lines if ln.get_gid() == gid]
    assert len(found) == 1, f"expected one line with gid {gid!r}, got {len(found)}"
    return found[0]


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def footer(fig):
    texts = [t.get_text() for t in fig.texts if t.get_gid() == "footer"]
    assert len(texts) == 1
    return texts[0]


def band_range(poly, x):
    """(low, high) of a fill_between band at ``x`` (from its polygon vertices)."""
    v = poly.get_paths()[0].vertices
    ys = v[np.isclose(v[:, 0], x), 1]
    return ys.min(), ys.max()


def check_common(fig, result, what):
    assert isinstance(fig, Figure)
    title = fig._suptitle.get_text()
    assert result.scenario.name in title and what in title
    text = footer(fig)
    assert f"{result.n_paths:,} paths" in text
    assert f"seed {result.manifest['seed']['entropy']}" in text
    assert result.scenario.source and f"source: {result.scenario.source}" in text


def test_fan_chart_net_profit(result):
    fig = charts.fan_chart_net_profit(result)
    check_common(fig, result, "net profit attributable")
    (ax,) = visible_axes(fig)
    assert "CNY m" in ax.get_ylabel()
    polys = bands(ax)
    assert len(polys) == 3
    assert [p.get_label() for p in polys] == ["5–95%", "10–90%", "25–75%"]
    # each band spans its quantiles in every forecast year, and opens from the last actual
    q = result.quantiles("net_profit_attributable", (0.05, 0.10, 0.25, 0.75, 0.90, 0.95))
    for poly, (lo, hi) in zip(polys, [(0.05, 0.95), (0.10, 0.90), (0.25, 0.75)], strict=True):
        for year in result.years:
            got = band_range(poly, year)
            np.testing.assert_allclose(got, (q.loc[year, lo], q.loc[year, hi]), rtol=1e-12)
        np.testing.assert_allclose(band_range(poly, 2024), (12.0, 12.0))
    # nested bands: the outer band is wider
    widths = [np.ptp(band_range(p, result.years[-1])) for p in polys]
    assert widths[0] > widths[1] > widths[2] > 0
    actual = line(ax, "actual")
    assert list(actual.get_xdata()) == [2023, 2024]
    assert list(actual.get_ydata()) == [-80.0, 12.0]
    fc = line(ax, "forecast")
    assert list(fc.get_xdata()) == [2025, 2026, 2027]
    assert list(fc.get_ydata()) == [24.0, 36.0, 48.0]
    assert fc.get_linestyle() == "None" and fc.get_marker() == "D"
    median = [ln for ln in ax.lines if ln.get_label() == "median"][0]
    np.testing.assert_allclose(
        median.get_ydata()[1:], result.quantiles("net_profit_attributable", 0.5)[0.5]
    )
    assert list(line(ax, "zero").get_ydata()) == [0, 0]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["actual", "median", "25–75%", "10–90%", "5–95%", "report forecast"]


def test_fan_chart_valuation(result):
    fig = charts.fan_chart_valuation(result)
    check_common(fig, result, "implied price per share")
    axes = visible_axes(fig)
    assert [ax.get_title(loc="left") for ax in axes] == ["P/S", "P/E", "EV/EBITDA", "staged DCF"]
    risk = result.risk_metrics()
    names = ("price_ps", "price_pe", "price_ev_ebitda", "price_dcf")
    for ax, name in zip(axes, names, strict=True):
        assert "CNY/share" in ax.get_ylabel()
        assert len(bands(ax)) == 3
        market = line(ax, "market")
        assert list(market.get_ydata()) == [157.80, 157.80]
        lo, hi = ax.get_ylim()
        assert lo < 157.80 < hi
        notes = {t.get_gid(): t.get_text() for t in ax.texts}
        for year in result.years:
            p = risk.loc[year, f"p_{name}_above_market"]
            assert f"P(>mkt)\n{p:.0%}" in notes[f"p_above_{year}"]
    # the share of paths where P/E gives 0 (EPS <= 0), beside its numbers; the DCF's terminal
    # value share of enterprise value (median over paths)
    pe_zero = np.mean(result["eps"] <= 0, axis=0)
    assert pe_zero.max() > 0
    pe_notes = {t.get_gid(): t.get_text() for t in axes[1].texts}
    dcf_notes = {t.get_gid(): t.get_text() for t in axes[3].texts}
    tv = np.nanmedian(result["dcf_terminal_share"], axis=0)
    for t, year in enumerate(result.years):
        assert f"at 0: {pe_zero[t]:.0%}" in pe_notes[f"p_above_{year}"]
        assert f"TV {tv[t]:.0%} of EV" in dcf_notes[f"p_above_{year}"]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "market price 157.80 (2025-06-05)" in labels
    # what each method assumes, under its panel
    caveats = valuation_caveats(result.scenario)
    for ax, name in zip(axes, names, strict=True):
        assert " ".join(ax.get_xlabel().split()) == caveats[name]


def test_valuation_caveats_say_whether_a_multiple_is_the_markets_own():
    sc = default_scenario()
    c = valuation_caveats(sc)
    assert "market's own P/S of the report's forecast" in c["price_ps"]
    assert "by construction" in c["price_pe"] and "0 where EPS <= 0" in c["price_pe"]
    assert "market's own EV/EBITDA" in c["price_ev_ebitda"]
    assert "10 fade years to terminal growth" in c["price_dcf"]
    assert "beyond" not in c["price_dcf"]
    long = valuation_caveats(sc.with_horizon(12))["price_dcf"]
    assert "growth bases after 2027 fade from the 2027 values" in long
    assert "no fade" in valuation_caveats(dataclasses.replace(sc, fade_years=0))["price_dcf"]
    # a P/E from peers (18x) is not the market's: the caveat names its centre instead
    pe = dataclasses.replace(sc.driver("multiple.pe"), base=(18.0,))
    other = dataclasses.replace(
        sc, drivers=tuple(pe if d.name == "multiple.pe" else d for d in sc.drivers)
    )
    c = valuation_caveats(other)
    assert "scenario's P/E of 18x (not the market's)" in c["price_pe"]
    assert "market's own P/S" in c["price_ps"]
    # without a forecast there is nothing to tell the market's multiple by
    bare = dataclasses.replace(sc, forecast=dataclasses.replace(sc.forecast, revenue=()))
    c = valuation_caveats(bare)["price_ps"]
    assert c == "centred on the scenario's P/S of 10.76/8.32/6.81x"


def test_distribution_net_profit(result):
    fig = charts.distribution_net_profit(result)
    check_common(fig, result, "net profit attributable 2027")
    ax_h, ax_c = visible_axes(fig)
    risk = result.risk_metrics(levels=(0.95,)).loc[2027]
    for ax in (ax_h, ax_c):
        assert "CNY m" in ax.get_xlabel()
        assert list(line(ax, "forecast").get_xdata()) == [48.0, 48.0]
        var_level = line(ax, "mark1").get_xdata()[0]
        es_level = line(ax, "mark2").get_xdata()[0]
        assert var_level == pytest.approx(48.0 - risk["VaR0.95"], rel=1e-12)
        assert es_level == pytest.approx(48.0 - risk["ES0.95"], rel=1e-12)
    box = [t.get_text() for t in ax_c.texts if t.get_gid() == "riskbox"][0]
    assert f"VaR 95% {risk['VaR0.95']:,.1f} below forecast" in box
    assert f"ES 95% {risk['ES0.95']:,.1f} below forecast" in box
    # the histogram is a density: its area (inside the 0.1-99.9% display range) is about 1
    steps = [p for p in ax_h.patches if p.get_label() == "simulated"][0]
    values, edges, _baseline = steps.get_data()
    assert np.sum(values * np.diff(edges)) == pytest.approx(0.998, abs=0.002)
    # the CDF reaches 1 and is monotone
    cdf = [ln for ln in ax_c.lines if ln.get_label() == "simulated CDF"][0]
    y = cdf.get_ydata()
    assert y[-1] == 1.0 and np.all(np.diff(y) >= 0)
    # another year
    fig25 = charts.distribution_net_profit(result, year=2025)
    assert list(line(fig25.axes[0], "forecast").get_xdata()) == [24.0, 24.0]
    with pytest.raises(ValueError, match="year=2031"):
        charts.distribution_net_profit(result, year=2031)


def test_fan_chart_revenue_segments(result):
    fig = charts.fan_chart_revenue_segments(result)
    check_common(fig, result, "revenue by segment")
    axes = visible_axes(fig)
    segs = result.scenario.segments
    assert [ax.get_title(loc="left") for ax in axes] == (
        [s.name.replace("_", " ") for s in segs] + ["total revenue"]
    )
    for ax, seg in zip(axes[:-1], segs, strict=True):
        assert len(bands(ax)) == 3
        assert line(ax, "actual").get_ydata()[-1] == seg.base_revenue
        assert not [ln for ln in ax.lines if ln.get_gid() == "forecast"]
    total = axes[-1]
    assert len(bands(total)) == 3
    assert list(line(total, "forecast").get_ydata()) == [863.0, 1116.0, 1364.0]
    assert list(line(total, "actual").get_ydata()) == [496.0, 655.0]
    assert axes[0].get_ylabel() == "CNY m"
    # every panel's x tick labels are readable somewhere in its column
    assert all(lab.get_text() for lab in axes[2].get_xticklabels())


def test_charts_without_forecast_or_history(toy_result):
    sc = toy_result.scenario
    fig = charts.fan_chart_net_profit(toy_result)
    (ax,) = visible_axes(fig)
    assert len(bands(ax)) == 3
    assert not [ln for ln in ax.lines if ln.get_gid() in ("forecast", "actual")]
    fig = charts.distribution_net_profit(toy_result)
    box = [t.get_text() for t in fig.axes[1].texts if t.get_gid() == "riskbox"][0]
    assert "no report forecast" in box
    fig = charts.fan_chart_valuation(toy_result)
    assert all(
        list(line(ax, "market").get_ydata()) == [sc.market_price] * 2 for ax in visible_axes(fig)
    )
    assert "source: Made up for illustration" in footer(fig)


def test_band_colours_are_distinct_in_grey():
    def luminance(c):
        r, g, b = to_rgb(c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lum = [luminance(c) for c in charts.BAND_COLORS]  # outermost (lightest) first
    assert all(a - b > 0.15 for a, b in zip(lum, lum[1:], strict=False))
    assert luminance(charts.MEDIAN["color"]) < lum[-1] - 0.2


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_save_figure_is_reproducible(result, fmt):
    outs = []
    for _ in range(2):
        fig = charts.fan_chart_net_profit(result)  # a fresh figure each time
        buf = io.BytesIO()
        charts.save_figure(fig, buf, fmt)
        outs.append(buf.getvalue())
    assert outs[0] == outs[1]
    assert len(outs[0]) > 10_000
    if fmt == "pdf":
        assert b"CreationDate" not in outs[0]
    if fmt == "svg":
        assert b"<dc:date>" not in outs[0]
    with pytest.raises(ValueError, match="fmt='gif'"):
        charts.save_figure(fig, io.BytesIO(), "gif")


def test_charts_never_use_pyplot():
    import inspect

    for mod in (charts, report):
        src = inspect.getsource(mod)
        assert not re.search(
            r"^\s*(import matplotlib\.pyplot|from matplotlib import pyplot)", src, re.M
        )
        assert "plt." not in src and ".show(" not in src


def test_the_pack_drawn_in_two_processes_is_the_pack_drawn_in_one(result, tmp_path, monkeypatch):
    from simcore.io.background import can_fork

    manifest = {k: v for k, v in result.manifest.items() if k != "created"}
    pages = report.pack_pages(result, manifest)
    if can_fork():
        assert len(report.render_pages(pages)) == 2  # two halves, the second in a child
    a = report.write_pack(result, tmp_path / "a.pdf", manifest=manifest).read_bytes()
    monkeypatch.setenv("SIMCORE_BACKGROUND", "0")
    b = report.write_pack(result, tmp_path / "b.pdf", manifest=manifest).read_bytes()
    assert a == b
    # the joined pages are pack_pages's, in order, each with its footer drawn over it
    from pypdf import PdfReader

    printed = [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(a)).pages]
    assert len(printed) == len(pages)
    for i, (text, fig) in enumerate(zip(printed, pages, strict=True), 1):
        assert f"page {i} of {len(pages)}" in text
        title = " ".join(report.page_title(fig).split()[:4])
        assert title.replace("Title and contents", "Contents") in text, (i, title)


def test_write_pack(result, tmp_path):
    manifest = {k: v for k, v in result.manifest.items() if k != "created"}
    # (byte-for-byte reproducibility of the pack is checked through the CLI in test_cli.py)
    a = report.write_pack(result, tmp_path / "a.pdf", manifest=manifest)
    data = a.read_bytes()
    assert data.startswith(b"%PDF") and b"CreationDate" not in data
    assert [p.name for p in tmp_path.iterdir()] == ["a.pdf"]  # no temporary file left
    pages = report.pack_pages(result, manifest)
    assert len(re.findall(rb"/Type /Page\b", data)) == len(pages) >= 9
    text = {i: " ".join(t.get_text() for t in fig.texts) for i, fig in enumerate(pages)}
    # the title page and its contents; the cover: headline numbers; then the charts; risk
    # table; assumptions; manifest
    assert "investment committee pack" in text[0] and "Contents" in text[0]
    for title, index in report.sections(pages, result.scenario.name)[1:]:
        assert f"{title} {index + 1}" in text[0]  # each section with its page number
    pages, text = pages[1:], {i - 1: t for i, t in text.items() if i}
    assert "In short" in text[0]
    h = report.headline(result)
    assert f"{h['net_profit_attributable'][-1]['q'][0.5]:,.1f}" in text[0]
    assert [pages[i]._suptitle is not None for i in range(1, 5)] == [True] * 4
    # the PDF's bookmarks: one per section, at its page
    from pypdf import PdfReader

    marks = PdfReader(io.BytesIO(data)).outline
    assert [m.title for m in marks][:2] == ["Title and contents", "In short"]
    assert len(marks) == len(report.sections([*pages], result.scenario.name)) + 1
    joined = " ".join(" ".join(text.values()).split())  # wrapped lines joined by spaces
    assert "risk table" in joined and "P(miss forecast)" in joined
    cover = " ".join(text[0].split())
    for caveat in valuation_caveats(result.scenario).values():  # beside the prices
        assert caveat in cover and caveat in " ".join(text[6].split() + text[7].split())
    for d in result.scenario.drivers:  # every driver with its distribution and rationale
        assert d.name in joined and repr(d.dist) in joined
        assert " ".join(d.rationale.split()) in joined
    for s in result.scenario.shocks:
        assert s.name in joined and repr(s.severity) in joined
        assert " ".join(s.rationale.split()) in joined
        for e in s.effects:
            assert " ".join(e.rationale.split()) in joined
    last = pages[-1]
    assert "run manifest" in text[len(pages) - 1]
    assert result.manifest["scenario"]["sha256"] in joined
    keys = {t.get_text() for t in last.texts}
    assert "seed" in keys and "created" not in keys


def test_page_one_tells_the_story_in_plain_words(result):
    from simcore.analysis.pack_analyses import pack_analyses
    from simcore.model.labels import label

    analyses = pack_analyses(result, n_paths=2000)
    story = report._story(result, analyses)
    text = " ".join(story)
    y = result.years[-1]
    med = np.quantile(result["net_profit_attributable"][:, -1], 0.5)
    assert f"median net profit attributable is {med:,.1f}" in text
    top = analyses.reconciled["Shapley"].idxmax()
    assert label(result.scenario, top) in text and "." not in label(result.scenario, top)
    worst = analyses.attribution.shapley.loc[("median", y)].idxmin()
    assert f"The biggest risk: {label(result.scenario, worst)}" in text
    need = {r.solve_for: r for r in analyses.reverse_dcf}["fade_growth"]
    assert f"{need.central:.0%} revenue growth in each of the" in text
    assert not any(code in text for code in ("growth.", "ratio.", "_"))


def test_pack_parts_and_contents_at_their_edges():
    assert report.render_pages([]) == []
    one = report.render_pages([Figure(figsize=report.PAGE)])
    assert len(one) == 1 and one[0].startswith(b"%PDF")
    # a company whose name starts the title page's own title keeps that title whole
    titles = ["Title and contents", "T (X): in short", "T (X): risk table", "T (X): risk table"]
    assert report._sections(titles, "T") == [
        ("Title and contents", 0),
        ("In short", 1),
        ("Risk table", 2),
    ]
