"""Writing YAML 1.1 scalars that read back as what they were (index.yaml, annotations).

Helm reads YAML 1.1 (go-yaml): `1e-05` is text there (a float needs a dot: `1.0e-05`), `yes` is
a bool. Both of our YAML writers use this one rule for numbers, booleans and null; how they
quote text is their own business.
"""

from __future__ import annotations

import math
from typing import Any


def yaml11_plain(value: Any) -> str | None:
    """None, a bool, an int or a float as YAML 1.1 plain text; None for anything else."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        mantissa, exp, exponent = repr(value).partition("e")
        if not exp:
            return mantissa
        if "." not in mantissa:
            mantissa += ".0"  # YAML 1.1 reads 1e-05 as text: it wants 1.0e-05
        return f"{mantissa}e{exponent if exponent[0] in '+-' else '+' + exponent}"
    return None
