"""Read a yearly history from CSV: one ``year`` column and one column per series.

    year,growth.ai_cloud,growth.general_cloud
    2019,0.41,0.12
    2020,0.55,
    2021,0.38,0.15

An empty cell is a missing year. Years must be whole numbers, unique and increasing by one
(missing years are empty rows or empty cells, not gaps in the year column); values must be
numbers. Read with the standard library's ``csv``: nothing in the file is evaluated.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simcore.model.limits import MAX_FILE_BYTES

__all__ = ["History", "read_history", "parse_history"]

YEAR = "year"


@dataclass(frozen=True)
class History:
    """Yearly series on one calendar: ``values[name]`` float64 (n_years,), NaN where missing."""

    source: str
    years: np.ndarray  # int64 (n_years,)
    values: dict[str, np.ndarray]

    def observed(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(years, values)`` of the years a series has."""
        v = self.values[name]
        ok = ~np.isnan(v)
        return self.years[ok], v[ok]

    def growth(self) -> History:
        """Each series' year-on-year growth ``x[t] / x[t-1] - 1`` (NaN where either is missing
        or the earlier one is not positive), on the same years less the first."""
        out = {}
        for name, v in self.values.items():
            prev, cur = v[:-1], v[1:]
            with np.errstate(invalid="ignore", divide="ignore"):
                out[name] = np.where(prev > 0.0, cur / prev - 1.0, np.nan)
        return History(self.source, self.years[1:], out)


def _fail(source: str, line: int | None, message: str) -> ValueError:
    where = f"{source}, line {line}" if line else source
    return ValueError(f"{where}: {message}")


def parse_history(text: str, source: str = "<string>") -> History:
    """The :class:`History` in CSV ``text``; a ValueError names the file, line and cell."""
    # (line number, cells) of the rows with any content: blank lines are skipped, not renumbered
    numbered = [
        (no, r)
        for no, r in enumerate(csv.reader(text.splitlines()), 1)
        if any(c.strip() for c in r)
    ]
    rows = [r for _, r in numbered]
    if not rows:
        raise _fail(source, None, "empty; allowed a header 'year,<series>,...' and yearly rows")
    header = [c.strip() for c in rows[0]]
    head = numbered[0][0]
    if not header or header[0].lower() != YEAR:
        raise _fail(source, head, f"the first column is {header[0]!r}; allowed 'year'")
    names = header[1:]
    if not names:
        raise _fail(source, head, "no series; allowed one column per series after 'year'")
    for i, n in enumerate(names):
        if not n:
            raise _fail(source, head, f"column {i + 2} has no name; allowed a series name")
        if n in names[:i]:
            raise _fail(source, head, f"series {n!r} appears twice; allowed unique names")
    years: list[int] = []
    cols: list[list[float]] = [[] for _ in names]
    for no, row in numbered[1:]:
        if len(row) > len(header):
            raise _fail(source, no, f"{len(row)} cells; allowed at most {len(header)}")
        cells = [c.strip() for c in row] + [""] * (len(header) - len(row))
        try:
            year = int(cells[0])
        except ValueError:
            raise _fail(source, no, f"year {cells[0]!r} is not a whole number") from None
        if years and year != years[-1] + 1:
            raise _fail(
                source,
                no,
                f"year {year} follows {years[-1]}; allowed consecutive years "
                f"(a missing year is a row of empty cells)",
            )
        years.append(year)
        for j, cell in enumerate(cells[1:]):
            if not cell:
                cols[j].append(math.nan)
                continue
            try:
                x = float(cell)
            except ValueError:
                raise _fail(
                    source, no, f"{names[j]} = {cell!r} is not a number (write 0.05 for 5%)"
                ) from None
            if not math.isfinite(x):
                raise _fail(source, no, f"{names[j]} = {cell!r}; allowed a finite number")
            cols[j].append(x)
    if not years:
        raise _fail(source, None, "no yearly rows under the header")
    return History(
        source,
        np.array(years, np.int64),
        {n: np.array(c, np.float64) for n, c in zip(names, cols, strict=True)},
    )


def read_history(path: str | Path) -> History:
    """:func:`parse_history` of a file (UTF-8, at most the scenario files' size limit)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _fail(p.name, None, f"{size:,} bytes; allowed at most {MAX_FILE_BYTES:,}")
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the history ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text; allowed a CSV file") from None
    return parse_history(text, p.name)
