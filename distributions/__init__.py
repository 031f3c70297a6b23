"""distributions: frozen input distributions, copulas and addressed random streams."""

from ._base import FAMILIES, Distribution, Param, from_dict
from .beta import Beta
from .constant import Constant
from .discrete import Bernoulli, Poisson
from .empirical import Empirical
from .fit_series import fit_ar1, fit_correlation
from .fitting import FitResult, FitWarning, fit
from .gamma import Gamma
from .lognormal import LogNormal
from .metalog import Metalog
from .normal import Normal
from .pert import PERT
from .streams import handle_seed, stream_key, uniforms
from .student_t import StudentT
from .truncnormal import TruncatedNormal
from .uniform import Triangular, Uniform

__all__ = [
    "FAMILIES",
    "Distribution",
    "Param",
    "from_dict",
    "Normal",
    "LogNormal",
    "TruncatedNormal",
    "Uniform",
    "Triangular",
    "PERT",
    "Beta",
    "Gamma",
    "StudentT",
    "Bernoulli",
    "Poisson",
    "Empirical",
    "Metalog",
    "Constant",
    "fit",
    "FitResult",
    "FitWarning",
    "fit_ar1",
    "fit_correlation",
    "handle_seed",
    "stream_key",
    "uniforms",
]
