"""The ``simcore`` command line: ``run``, ``validate``, ``scenarios``, ``show-default``
(:mod:`~simcore.cli.commands`), ``sensitivity`` and ``stress`` (:mod:`~.analyses`), and signal
handling (:mod:`~.signals`). The top layer: nothing imports it.
"""

from simcore.cli.commands import main

__all__ = ["main"]
