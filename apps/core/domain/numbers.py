"""Numbers from untrusted JSON. Pure, no Django."""

from __future__ import annotations

import math
from typing import Any


def is_finite_number(value: Any) -> bool:
    """An int or float (not a bool) that a float can hold and that is not NaN or ±inf. `math.isfinite` itself
    raises OverflowError on an integer such as 10**400, which used to turn into a 500."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
