"""``python -m simcore``: the command line (see :mod:`simcore.cli`)."""

from simcore.cli.commands import main

if __name__ == "__main__":
    raise SystemExit(main())
