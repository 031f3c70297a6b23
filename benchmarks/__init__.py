"""simcore's benchmark suite (pytest-benchmark, ``python -m pytest benchmarks``) and the one-process
comparison (``python -m benchmarks.compare``). Not part of the installed package; see README.md.
"""
