"""Input checks that fail early with one clear line.

Every public entry point validates what it is given with these helpers, so that
a wrong unit, a negative size or a NaN rate is reported by the name of the
parameter and the range it accepts, instead of surfacing later as a Brian2
code-generation error.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from brian2 import Quantity, get_dimensions
from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit

__all__ = ["HomeonetError", "check_quantity", "check_count", "check_choice", "unit_name"]


class HomeonetError(ValueError):
    """A user-facing input error; its message is one line naming the parameter."""


def unit_name(dimensions) -> str:
    """Return a Brian2 unit string for *dimensions* (``'1'`` when dimensionless).

    Parameters
    ----------
    dimensions : brian2 Dimension or Quantity
        The physical dimensions to name.

    Returns
    -------
    str
        A unit usable in a Brian2 equation string, e.g. ``'volt'`` or ``'1'``.
    """
    dim = get_dimensions(dimensions)
    if dim is DIMENSIONLESS:
        return "1"
    name = repr(get_unit(dim))
    # a plain named unit ('volt', 'hertz') parses in equations; a power such as 'volt2' does not
    return name if name.isidentifier() and not any(c.isdigit() for c in name) else dim._str_representation(python_code=True)


def check_quantity(name: str, value, unit, *, low=None, high=None, low_open=False,
                   allow_array=False) -> Quantity:
    """Check that *value* has the dimensions of *unit* and lies in a range.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : Quantity or float
        The value to check; plain numbers are accepted only for dimensionless units.
    unit : brian2 Unit or 1
        A unit with the expected dimensions (``1`` for dimensionless).
    low, high : Quantity, optional
        Inclusive bounds (``low`` is exclusive when ``low_open``).
    low_open : bool
        Make the lower bound exclusive ("> low" instead of ">= low").
    allow_array : bool
        Accept arrays (each element is checked).

    Returns
    -------
    Quantity
        The value, as a Brian2 quantity.

    Raises
    ------
    HomeonetError
        One line naming the parameter, the expected unit and range.
    """
    expected = unit_name(unit)
    rng = _describe_range(low, high, low_open, expected)
    if isinstance(value, str) or value is None or isinstance(value, bool):
        raise HomeonetError(f"{name} must be a quantity in {expected}{rng}, got {value!r}")
    if get_dimensions(value) is not get_dimensions(unit):
        raise HomeonetError(f"{name} must be in units of {expected}{rng}, got {value!r}")
    arr = np.asarray(value, dtype=float)
    if arr.ndim and not allow_array:
        raise HomeonetError(f"{name} must be a scalar in {expected}{rng}, got an array of shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise HomeonetError(f"{name} must be finite{rng}, got {value!r}")
    if low is not None:
        lo = float(np.asarray(low))
        bad = np.any(arr <= lo) if low_open else np.any(arr < lo)
        if bad:
            raise HomeonetError(f"{name} must be{rng}, got {value!r}")
    if high is not None and np.any(arr > float(np.asarray(high))):
        raise HomeonetError(f"{name} must be{rng}, got {value!r}")
    return Quantity(value, dim=get_dimensions(unit)) if get_dimensions(unit) is not DIMENSIONLESS else value


def _describe_range(low, high, low_open, unit):
    def fmt(x):
        return str(x) if isinstance(x, Quantity) and get_dimensions(x) is not DIMENSIONLESS else f"{float(x):g}"
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{fmt(low)}, {fmt(high)}]"
    if low is not None:
        return f" {'>' if low_open else '>='} {fmt(low)}"
    if high is not None:
        return f" <= {fmt(high)}"
    return ""


def check_count(name: str, value, *, minimum: int = 1) -> int:
    """Check that *value* is an integer >= *minimum* and return it as ``int``.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : int
        The count to check.
    minimum : int
        Smallest accepted value.

    Returns
    -------
    int

    Raises
    ------
    HomeonetError
        When *value* is not an integer or is below *minimum*.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise HomeonetError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise HomeonetError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_choice(name: str, value, choices) -> str:
    """Check that *value* is one of *choices*.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : str
        The value to check.
    choices : iterable of str
        The accepted values.

    Returns
    -------
    str

    Raises
    ------
    HomeonetError
        When *value* is not among *choices*.
    """
    choices = list(choices)
    if value not in choices:
        raise HomeonetError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    return value
