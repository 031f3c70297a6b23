"""``SimulationResult._repr_html_``: what Jupyter shows for a result; user text is escaped."""

import dataclasses
from html.parser import HTMLParser

import numpy as np
from conftest import make_toy

from simcore.engine.core import simulate

_VOID = {"br", "hr", "img", "input", "meta", "link", "wbr"}  # elements without an end tag


class _Page(HTMLParser):
    """Tags in order and the text between them (entities decoded)."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.open: list[str] = []
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in _VOID:
            self.open.append(tag)
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th") and self.rows:
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)
        if self.open and self.open[-1] in ("td", "th") and self.rows:
            self.rows[-1][-1] += data


def _row(page: _Page, label: str) -> list[str]:
    for row in page.rows:
        if row and row[0].startswith(label):
            return row[1:]
    raise AssertionError(f"no row {label!r} in {[r[:1] for r in page.rows]}")


def test_user_text_is_escaped():
    evil = '<script>alert("x")</script> & Sons'
    sc = make_toy(name=evil, ticker="<img src=x onerror=alert(1)>", currency="<b>EUR</b>")
    r = simulate(sc, 500, seed=3)
    markup = r._repr_html_()
    for raw in ("<script", "<img", "<b>"):
        assert raw not in markup
    assert "&lt;script&gt;" in markup and "&amp; Sons" in markup
    page = _Page(markup)
    assert not page.open, f"unclosed tags {page.open}"
    assert set(page.tags) <= {"div", "strong", "br", "table", "thead", "tbody", "tr", "th", "td"}
    text = "".join(page.text)
    assert evil in text  # shown to the reader as text, never as markup
    assert "<img src=x onerror=alert(1)>" in text


def test_shows_the_run_and_its_medians():
    r = simulate(make_toy(), 2000, seed=17)
    page = _Page(r._repr_html_())
    text = "".join(page.text)
    assert "toy" in text and "TOY" in text
    assert "2,000 paths" in text and "seed 17" in text and "sampling mc" in text
    assert "2025–2027" in text
    assert page.rows[0] == ["", "2025", "2026", "2027"]
    npa = r["net_profit_attributable"]
    assert _row(page, "median net profit attributable (CNY m)") == [
        f"{np.median(npa[:, t]):,.2f}" for t in range(3)
    ]
    assert _row(page, "P(loss)") == [f"{np.mean(npa[:, t] < 0):.1%}" for t in range(3)]
    for name, label in (("price_ps", "P/S"), ("price_pe", "P/E"), ("price_dcf", "DCF")):
        want = [f"{np.nanmedian(r[name][:, t]):,.2f}" for t in range(3)]
        assert _row(page, f"median {label} price (CNY/share)") == want


def test_long_horizon_is_abridged_and_undefined_prices_say_so():
    sc = make_toy(horizon=12)
    # margin far below costs: a loss on every path, so EPS <= 0 and the P/E price never exists
    sc = dataclasses.replace(
        sc,
        drivers=tuple(
            dataclasses.replace(d, base=(0.01,)) if d.name.startswith("margin.") else d
            for d in sc.drivers
        ),
    )
    r = simulate(sc, 300, seed=5)
    assert (r["price_pe"] == 0.0).all()
    page = _Page(r._repr_html_())
    header = page.rows[0][1:]
    assert header == ["2025", "2026", "2027", "2028", "…", "2034", "2035", "2036"]
    assert _row(page, "median P/E price") == ["0.00"] * 4 + ["…"] + ["0.00"] * 3
    assert _row(page, "paths with EPS") == ["100.0%"] * 4 + ["…"] + ["100.0%"] * 3
    assert _row(page, "P(loss)") == ["100.0%"] * 4 + ["…"] + ["100.0%"] * 3
