"""distributions: frozen input distributions, copulas and addressed random streams."""

from ._base import FAMILIES, Distribution, Param, from_dict
from .normal import Normal
from .streams import handle_seed, stream_key, uniforms

__all__ = ["FAMILIES", "Distribution", "Param", "from_dict", "Normal", "handle_seed",
           "stream_key", "uniforms"]
