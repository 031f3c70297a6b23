"""What people read: fan and distribution charts (:mod:`~simcore.report.charts`), sensitivity
and stress charts (:mod:`~.sensitivity_charts`) and the investment-committee pack
(:mod:`~.pack`). Each returns or writes figures of results and analyses it is given.

Imports every layer below it; nothing below imports it.
"""

from simcore.report.pack import write_pack

__all__ = ["write_pack"]
