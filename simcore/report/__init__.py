"""What people read: fan and distribution charts (:mod:`~simcore.report.charts`), sensitivity
and stress charts (:mod:`~.sensitivity_charts`), the investment-committee pack (:mod:`~.pack`)
and the run's tables as CSV, Parquet and Excel (:mod:`~.tables`). Each returns or writes
figures or tables of results and analyses it is given.

Imports every layer below it; nothing below imports it.
"""

from typing import Any

__all__ = ["write_pack"]


def __getattr__(name: str) -> Any:  # the pack imports matplotlib: only when it is used
    if name == "write_pack":
        from simcore.report.pack import write_pack

        return write_pack
    raise AttributeError(f"module 'simcore.report' has no attribute {name!r}")
