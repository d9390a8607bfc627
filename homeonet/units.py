"""Units as neuroscientists write them: parse ``'0.1 mV/Hz'``, print ``0.05 mV/Hz`` (not ``50. uWb``).

One home for how homeonet reads a quantity typed by a user (the command line's ``--set``, a sweep
specification) and how it writes one back (messages, summaries, result attributes). Written
quantities use the units of the field -- mV, nS, pA, pF, Hz, ms or s, and their ratios such as
``mV/Hz`` -- as a number plus a unit string in UDUNITS syntax, which other tools (xarray with
pint, netCDF readers, UDUNITS itself) can parse.

Examples
--------
>>> from brian2 import mV, Hz, nS, ms
>>> format_quantity(0.05 * mV / Hz)
'0.05 mV/Hz'
>>> split_quantity(3 * nS)
(3.0, 'nS')
>>> format_quantity(parse_quantity("250ms"))
'250 ms'
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np
from brian2 import Hz, Quantity, get_dimensions, mV, ms, nS, pA, pF, second
from brian2.core.namespace import DEFAULT_UNITS
from brian2.units.fundamentalunits import DIMENSIONLESS

__all__ = ["parse_quantity", "format_quantity", "split_quantity", "display_unit", "unit_string", "to_quantity"]

#: Units a value is shown in, by preference: (unit, UDUNITS string). Ratios of these are tried next.
_BASE = ((mV, "mV"), (nS, "nS"), (pA, "pA"), (pF, "pF"), (Hz, "Hz"), (second, "s"))
_DENOMINATORS = ((Hz, "Hz"), (second, "s"), (mV, "mV"), (nS, "nS"), (pA, "pA"))
_SI = (("m", 0), ("kg", 1), ("s", 2), ("A", 3), ("K", 4), ("mol", 5), ("cd", 6))


def display_unit(value) -> tuple:
    """The unit a value of these dimensions is written in, and its UDUNITS string.

    Parameters
    ----------
    value : Quantity or brian2 Dimension
        A quantity (its magnitude picks ``ms`` or ``s`` for times) or bare dimensions.

    Returns
    -------
    (Quantity, str)
        The unit as a Brian2 quantity and its string, e.g. ``(mV/Hz, 'mV/Hz')``; ``(1, '1')``
        for dimensionless values.
    """
    dim = get_dimensions(value)
    if dim is DIMENSIONLESS:
        return 1.0, "1"
    if dim is second.dim:
        small = isinstance(value, Quantity) and np.size(value) and np.all(np.abs(np.asarray(value)) < 1)
        return (ms, "ms") if small else (second, "s")
    for unit, text in _BASE:
        if unit.dim is dim:
            return unit, text
    for unit, text in _BASE:
        for den, den_text in _DENOMINATORS:
            if den_text != text and (unit / den).dim is dim:
                return unit / den, f"{text}/{den_text}"
    # anything else: SI base units, UDUNITS product syntax ("kg m2 s-3 A-1")
    parts = [f"{sym}{'' if p == 1 else p:g}" if p != 1 else sym
             for sym, k in _SI for p in [dim._dims[k]] if p != 0]
    return Quantity(1.0, dim=dim), " ".join(parts)


def unit_string(value) -> str:
    """The UDUNITS string of the unit a value of these dimensions is written in (``'mV/Hz'``; ``'1'``)."""
    return display_unit(value)[1]


def split_quantity(value) -> tuple:
    """A quantity as ``(number, unit string)`` in its display unit (numbers pass through with ``'1'``).

    Parameters
    ----------
    value : Quantity, float or array
        The value.

    Returns
    -------
    (float or numpy.ndarray, str)
    """
    unit, text = display_unit(value)
    number = np.asarray(value / unit if text != "1" else value, dtype=float)
    return (float(number) if number.ndim == 0 else number), text


def format_quantity(value, digits: int = 6) -> str:
    """Write a quantity as ``'<number> <unit>'`` in the field's units (``'0.05 mV/Hz'``, ``'3 nS'``).

    Parameters
    ----------
    value : Quantity or float
        The value; dimensionless values are written as plain numbers.
    digits : int
        Significant digits.

    Returns
    -------
    str
    """
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        return str(value)
    number, unit = split_quantity(value)
    if np.ndim(number):
        text = "[" + ", ".join(f"{x:.{digits}g}" for x in np.ravel(number)) + "]"
    else:
        text = f"{number:.{digits}g}"
    return text if unit == "1" else f"{text} {unit}"


#: Unit names homeonet writes or users type that are not Brian2 names ("s" is Brian2's "second").
_ALIASES = {"s": second, "sec": second, "seconds": second, "min": 60 * second, "minute": 60 * second,
            "minutes": 60 * second, "h": 3600 * second, "hour": 3600 * second, "hours": 3600 * second}
_SI_UNITS = {"m": DEFAULT_UNITS["metre"], "kg": DEFAULT_UNITS["kilogram"], "s": second, "A": DEFAULT_UNITS["amp"],
             "K": DEFAULT_UNITS["kelvin"], "mol": DEFAULT_UNITS["mole"], "cd": DEFAULT_UNITS["candle"]}


def to_quantity(number, unit: str):
    """Rebuild a quantity from ``(number, unit string)`` as written by :func:`split_quantity`.

    Parameters
    ----------
    number : float or array
    unit : str
        A unit string (``'mV/Hz'``, ``'1'``...).

    Returns
    -------
    Quantity or float
    """
    if unit in ("1", "", None):
        return number
    product = re.fullmatch(r"(?:(m|kg|s|A|K|mol|cd)(-?\d+)?)(?: (?:m|kg|s|A|K|mol|cd)-?\d*)*", unit)
    if product and " " in unit:  # the SI product form written by display_unit ("kg m2 s-3 A-1")
        value = number
        for sym, power in re.findall(r"(m|kg|s|A|K|mol|cd)(-?\d*)", unit):
            value = value * _SI_UNITS[sym] ** int(power or 1)
        return value
    return number * _evaluate(_unit_ast(unit), unit)


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse_quantity(text: str):
    """Parse a typed quantity: ``'0.1mV/Hz'``, ``'250 ms'``, ``'3*nS'``, ``'1e-2 nS'``, ``'0.7'``.

    A number, optionally followed by a unit expression made of Brian2 unit names (``mV``, ``Hz``,
    ``msecond``...) with ``*``, ``/`` and integer powers (``**`` or ``^``). Nothing else is evaluated.

    Parameters
    ----------
    text : str
        The text.

    Returns
    -------
    Quantity or float
        A Brian2 quantity, or a float for a bare number.

    Raises
    ------
    ValueError
        Text that is not a finite number with a known unit (the message says why).
    """
    m = re.fullmatch(rf"\s*({_NUMBER}|[-+]?nan|[-+]?inf)\s*\*?\s*(.*?)\s*", str(text))
    if not m:
        raise ValueError(f"{text!r} is not a number with a unit such as '0.1 mV/Hz'")
    number = float(m.group(1))
    if not math.isfinite(number):
        raise ValueError(f"{text!r} is not finite")
    if not m.group(2):
        return number
    return number * _evaluate(_unit_ast(m.group(2)), m.group(2))


def _unit_ast(expr):
    try:
        return ast.parse(expr.replace("^", "**"), mode="eval").body
    except SyntaxError:
        raise ValueError(f"{expr!r} is not a unit expression such as 'mV/Hz'") from None


def _evaluate(node, expr):
    if isinstance(node, ast.Name):
        if node.id in _ALIASES:
            return _ALIASES[node.id]
        if node.id not in DEFAULT_UNITS:
            raise ValueError(f"unknown unit {node.id!r} in {expr!r}")
        return DEFAULT_UNITS[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div, ast.Pow)):
        left, right = _evaluate(node.left, expr), _evaluate(node.right, expr)
        if isinstance(node.op, ast.Pow):
            if not isinstance(right, int):
                raise ValueError(f"unit powers must be integers in {expr!r}")
            return left ** right
        return left * right if isinstance(node.op, ast.Mult) else left / right
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -_evaluate(node.operand, expr)
    raise ValueError(f"{expr!r} is not a unit expression such as 'mV/Hz'")
