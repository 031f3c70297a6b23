"""Reading a results file (:meth:`SimulationResult.save`) back, checking everything in it.

Private; :meth:`simcore.SimulationResult.load` calls :func:`read_result`. The file is an ``.npz``
archive (a zip of ``.npy`` entries, never pickled objects) holding ``out`` float64 (outputs,
horizon, n_paths), ``seg`` float64 (segments, horizon, n_paths), ``hits`` uint32 (horizon,
n_paths), ``meta`` (JSON text, ``{"manifest": {...}}``) and ``scenario`` (TOML text).

The order of the checks: the archive and its entries' headers (dtype and shape, before any data
is read, so a corrupt header cannot make us allocate), the shapes against each other, the
manifest and the scenario (re-validated like a scenario file), and last the values: what the
model can produce (NaN only in ``roic`` and ``dcf_terminal_share``, where undefined; P/E and
EV/EBITDA prices 0 where EPS or EBITDA <= 0; inf nowhere; no hit of a shock the scenario does
not have). Anything wrong raises :class:`ResultFileError`.
"""

from __future__ import annotations

import json
import math
import numbers
import zipfile
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import numpy as np

from simcore.model.scenario import OUTPUTS

if TYPE_CHECKING:
    from simcore.io.files import StrPath
    from simcore.model.scenario import Scenario

# entry -> the dtype it must have (byte order aside); "str": a 0-d unicode array
_ENTRIES: dict[str, np.dtype[Any] | str] = {
    "out": np.dtype(np.float64),
    "seg": np.dtype(np.float64),
    "hits": np.dtype(np.uint32),
    "meta": "str",
    "scenario": "str",
}
_SAMPLING = ("mc", "antithetic", "lhs", "sobol", "design")  # manifest["sampling"] values


class ResultFileError(ValueError):
    """A results file that :meth:`SimulationResult.load` cannot accept: not an ``.npz`` archive
    of the entries :meth:`SimulationResult.save` writes, an entry of the wrong dtype or shape,
    bad JSON, arrays that contradict each other, the manifest or the scenario, or values the
    model cannot produce (NaN outside ``roic`` and ``dcf_terminal_share``, inf anywhere).

    The message names the file, the entry (``out``, ``seg``, ``hits``, ``meta``, ``scenario``)
    and what is wrong. Attributes: ``path``, ``entry`` (``""`` for the file as a whole) and
    ``reason``.
    """

    def __init__(self, reason: str, *, path: StrPath = "", entry: str = "") -> None:
        self.path = str(path)
        self.entry = entry
        self.reason = reason
        where = f"{self.path}: entry {entry!r}" if entry else self.path
        super().__init__(f"{where}: {reason}")


_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile)


class _Fail(Protocol):
    """``fail(reason, entry)``: raises the file's :class:`ResultFileError`."""

    def __call__(self, reason: str, entry: str = "") -> NoReturn: ...


def read_result(
    path: StrPath,
) -> tuple[Scenario, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """``(scenario, out, seg, hits, manifest)`` from the results file ``path``, all checked.

    ``OSError`` if the file cannot be opened (no such file, no permission);
    :class:`ResultFileError` for anything wrong inside it."""

    def fail(reason: str, entry: str = "") -> NoReturn:
        raise ResultFileError(reason, path=path, entry=entry)

    with open(path, "rb") as fh:  # no such file, a directory, no permission: OSError as it is
        try:
            zf = zipfile.ZipFile(fh)
        except _READ_ERRORS as exc:
            fail(
                f"not a simcore results file (an .npz archive as SimulationResult.save "
                f"writes): {exc}"
            )
        with zf:
            names = set(zf.namelist())
            missing = [e for e in _ENTRIES if f"{e}.npy" not in names]
            if missing:
                fail(
                    f"entries {missing} are missing; a results file has "
                    f"{[f'{e}.npy' for e in _ENTRIES]} (SimulationResult.save)"
                )
            heads = {e: _header(zf, e, fail) for e in _ENTRIES}
            n, H, S = _check_shapes(heads, fail)
            meta = _read(zf, "meta", fail)[()]
            text = _read(zf, "scenario", fail)[()]
            manifest = _manifest(str(meta), n, H, fail)
            scenario = _scenario(str(text), path, H, S, manifest, fail)
            out = _read(zf, "out", fail)
            seg = _read(zf, "seg", fail)
            hits = _read(zf, "hits", fail)
    _check_values(scenario, out, seg, hits, fail)
    return scenario, out, seg, hits, manifest


def _header(zf: zipfile.ZipFile, entry: str, fail: _Fail) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """``(shape, dtype)`` of an entry from its ``.npy`` header (no data read); checks the dtype
    and that the entry holds exactly the bytes that shape and dtype need."""
    info = zf.getinfo(f"{entry}.npy")
    try:
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                shape = None
            data = info.file_size - f.tell()
    except _READ_ERRORS as exc:
        fail(f"not a readable .npy array: {exc}", entry)
    if shape is None:
        fail(
            f"npy format version {version[0]}.{version[1]} is not supported; allowed 1.0 or "
            f"2.0 (what numpy writes for these arrays)",
            entry,
        )
    want = _ENTRIES[entry]
    if isinstance(want, str):  # "str"
        if dtype.kind != "U" or shape != ():
            fail(
                f"dtype {dtype.str} shape {shape}; allowed a single unicode string (0-d '<U' "
                f"array)",
                entry,
            )
    elif dtype.hasobject or dtype.newbyteorder("=") != want:
        what = "object (pickled Python objects, never loaded)" if dtype.hasobject else dtype.str
        fail(f"dtype {what}; allowed {want.name}", entry)
    need = dtype.itemsize * math.prod(shape)  # exact: Python ints
    if data != need:
        fail(
            f"holds {data} bytes of data, but its header's shape {shape} and dtype "
            f"{dtype.str} need {need} (a truncated or damaged file)",
            entry,
        )
    return shape, dtype


def _check_shapes(
    heads: dict[str, tuple[tuple[int, ...], np.dtype[Any]]], fail: _Fail
) -> tuple[int, int, int]:
    """``(n_paths, horizon, n_segments)`` from the arrays' shapes, which must agree."""
    from simcore.model.limits import MAX_HORIZON

    shape = heads["out"][0]
    if len(shape) != 3 or shape[0] != len(OUTPUTS) or shape[2] < 1:
        fail(f"shape {shape}; allowed ({len(OUTPUTS)} outputs, horizon, n_paths >= 1)", "out")
    _, H, n = shape
    if not 1 <= H <= MAX_HORIZON:
        fail(
            f"horizon {H} years (shape {shape}); allowed 1 to {MAX_HORIZON} "
            f"(simcore.model.limits.MAX_HORIZON)",
            "out",
        )
    seg = heads["seg"][0]
    if len(seg) != 3 or seg[1:] != (H, n):
        fail(
            f"shape {seg}; allowed (segments, {H}, {n}): the horizon and path count of 'out' "
            f"{shape}",
            "seg",
        )
    if heads["hits"][0] != (H, n):
        fail(
            f"shape {heads['hits'][0]}; allowed ({H}, {n}): the horizon and path count of "
            f"'out' {shape}",
            "hits",
        )
    return n, H, seg[0]


def _read(zf: zipfile.ZipFile, entry: str, fail: _Fail) -> np.ndarray:
    """An entry's array (never unpickled), in native byte order and C order."""
    try:
        with zf.open(f"{entry}.npy") as f:
            arr = np.lib.format.read_array(f, allow_pickle=False)
    except _READ_ERRORS as exc:
        fail(f"cannot be read: {exc}", entry)
    want = _ENTRIES[entry]
    if isinstance(want, str):  # "str"
        return arr
    return np.ascontiguousarray(arr, dtype=want)


def _is_int(v: object) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _manifest(text: str, n: int, H: int, fail: _Fail) -> dict[str, Any]:
    """The manifest from the ``meta`` JSON, checked against the arrays' path count and horizon."""
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", "meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("manifest"), dict):
        fail(
            'allowed a JSON object {"manifest": {...}}; got '
            + (f"keys {sorted(meta)}" if isinstance(meta, dict) else type(meta).__name__),
            "meta",
        )
    m = meta["manifest"]
    for key, have in (("n_paths", n), ("horizon", H)):
        if key not in m:
            fail(f"the manifest has no {key!r}; every run records it", "meta")
        if not _is_int(m[key]) or m[key] != have:
            fail(f"manifest {key}={m[key]!r} contradicts the arrays, which hold {have}", "meta")
    start = m.get("start", 0)
    if not _is_int(start) or start < 0:
        fail(f"manifest start={start!r}; allowed an integer >= 0", "meta")
    if "n_total" in m and (not _is_int(m["n_total"]) or m["n_total"] < start + n):
        fail(
            f"manifest n_total={m['n_total']!r}; allowed an integer >= start + n_paths = "
            f"{start + n}",
            "meta",
        )
    if "sampling" in m and m["sampling"] not in _SAMPLING:
        fail(f"manifest sampling={m['sampling']!r}; allowed one of {list(_SAMPLING)}", "meta")
    return m


def _scenario(
    text: str, path: StrPath, H: int, S: int, manifest: dict[str, Any], fail: _Fail
) -> Scenario:
    """The scenario, re-validated like a scenario file and checked against the arrays."""
    from simcore.io.scenario_file import ScenarioError, loads_scenario

    try:
        sc = loads_scenario(text, source=f"{path}:scenario")
    except ScenarioError as exc:
        raise ResultFileError(f"not a valid scenario: {exc}", path=path, entry="scenario") from exc
    if sc.horizon != H:
        fail(f"scenario horizon {sc.horizon} contradicts the arrays' {H} years", "scenario")
    if len(sc.segments) != S:
        fail(
            f"the scenario has {len(sc.segments)} segments {list(sc.segment_names)}; the "
            f"arrays have {S} (entry 'seg')",
            "scenario",
        )
    if len(sc.shocks) > 32:
        fail(
            f"the scenario has {len(sc.shocks)} shocks; allowed at most 32 (the bits of 'hits')",
            "scenario",
        )
    enabled = manifest.get("shocks_enabled")
    if enabled is not None and enabled != {s.name: s.enabled for s in sc.shocks}:
        fail(
            f"manifest shocks_enabled={enabled!r} contradicts the scenario's shocks "
            f"{ {s.name: s.enabled for s in sc.shocks} }",
            "meta",
        )
    return sc


def _check_values(
    sc: Scenario, out: np.ndarray, seg: np.ndarray, hits: np.ndarray, fail: _Fail
) -> None:
    """Only what the model can produce: finite values, except ``roic``, NaN exactly where the
    opening invested capital (equity + debt - cash a year before) is not positive, and
    ``dcf_terminal_share``, NaN where the enterprise value is not positive; ``price_pe`` 0
    where EPS <= 0 and ``price_ev_ebitda`` 0 where EBITDA <= 0; hits only of the scenario's
    shocks."""

    def where(mask: np.ndarray) -> str:
        t, i = np.argwhere(mask)[0]
        return f"{int(mask.sum())} of them, the first at path {i}, year {sc.base_year + 1 + t}"

    roic, share = OUTPUTS.index("roic"), OUTPUTS.index("dcf_terminal_share")
    invested = (
        out[OUTPUTS.index("equity")] + out[OUTPUTS.index("debt")] - out[OUTPUTS.index("cash")]
    )
    opening = sc.opening_equity + sc.opening_minority_equity + sc.opening_debt - sc.opening_cash
    invested = np.concatenate([np.full((1, invested.shape[1]), opening), invested[:-1]])
    # output -> (where it is undefined, what that is in words, its negation)
    undefined = {
        roic: (invested <= 0, "the opening invested capital <= 0", "it is > 0"),
    }
    for o, name in enumerate(OUTPUTS):
        x = out[o]
        bad = np.isinf(x) if o in undefined or o == share else ~np.isfinite(x)
        if bad.any():
            allowed = (
                "NaN only where undefined, never inf"
                if o in undefined or o == share
                else "finite values (only roic and dcf_terminal_share may be NaN, where undefined)"
            )
            fail(f"{name} has non-finite values ({where(bad)}); allowed {allowed}", "out")
    for price, base, rule in (("price_pe", "eps", "EPS"), ("price_ev_ebitda", "ebitda", "EBITDA")):
        wrong = (out[OUTPUTS.index(base)] <= 0) & (out[OUTPUTS.index(price)] != 0.0)
        if wrong.any():
            fail(
                f"{price} is not 0 where {rule} <= 0 ({where(wrong)}); the model gives 0 "
                "there (the multiple gives no value)",
                "out",
            )
    for o, (mask_undefined, rule, negation) in undefined.items():
        nan = np.isnan(out[o])
        for mask, what in (
            (nan & ~mask_undefined, f"NaN where {negation}"),
            (~nan & mask_undefined, f"a number where {rule}"),
        ):
            if mask.any():
                fail(
                    f"{OUTPUTS[o]} is {what} ({where(mask)}); the model gives NaN exactly "
                    f"where {rule} (it is undefined there)",
                    "out",
                )
    for s, name in enumerate(sc.segment_names):
        bad = ~np.isfinite(seg[s])
        if bad.any():
            fail(
                f"revenue.{name} has non-finite values ({where(bad)}); allowed finite values", "seg"
            )
    K = len(sc.shocks)
    if K < 32:
        stray = (hits >> np.uint32(K)) != 0
        if stray.any():
            fail(
                f"bits of shocks the scenario does not have ({where(stray)}); allowed bits 0 to "
                f"{K - 1} (its {K} shocks)"
                if K
                else f"hits ({where(stray)}), but the scenario has no shocks; allowed 0",
                "hits",
            )
