"""Run every family's kernel as plain Python (``NUMBA_DISABLE_JIT=1``) against scipy.

Not collected by pytest itself (no ``test_`` prefix): ``tests/distributions/test_kernel_paths.py``
a subprocess with the JIT disabled, so the pure-Python bodies of the kernels (and the ctypes
binding of scipy.special in ``distributions._special``) execute and coverage can see them.
Exit status 0 when everything agrees; otherwise the failures are printed.
"""

import sys
import warnings

import numba
import numpy as np
from scipy import special

from distributions import _kernel
from distributions.testing import sane_distributions

Q = np.concatenate(
    [np.logspace(-10, -1, 12), np.linspace(0.05, 0.95, 13), 1.0 - np.logspace(-10, -1, 12)]
)


def main() -> int:
    failures = []
    for name, dist in sane_distributions():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = np.asarray(dist.to_scipy().ppf(Q), dtype=np.float64)
        code, p, table = dist.kernel_args()
        offset = 0 if table.shape[0] else -1
        via_u = dist.ppf(Q)
        via_z = np.array([_kernel.ppf_z(code, p, table, offset, z) for z in special.ndtri(Q)])
        for label, got in (("ppf_u", via_u), ("ppf_z", via_z)):
            bad = ~(np.abs(got - ref) <= 1e-8 * np.abs(ref) + 1e-10)
            if bad.any():
                failures.append(f"{name} {label}: q={Q[bad]} got={got[bad]} scipy={ref[bad]}")
    print(f"DISABLE_JIT={numba.config.DISABLE_JIT} checked={len(sane_distributions())}")
    print("\n".join(failures) or "all agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
