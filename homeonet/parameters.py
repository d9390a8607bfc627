"""Declared parameters of experiments: name, default with unit, accepted range, one-line meaning.

An experiment (:mod:`homeonet.models.experiments`) declares its parameters once, as
:class:`Parameter` objects; everything else reads them from there: the command line's
``--set NAME=VALUE`` and ``homeonet list --params``, the sweep engine's specifications, the
checks (one line naming the parameter and what it accepts), and the records stored with the
results (a number and a unit string per parameter).

Examples
--------
>>> from brian2 import mV, Hz
>>> eta = Parameter("eta", 0.05 * mV / Hz, "learning rate of the adaptive threshold", low=0 * mV / Hz)
>>> eta.parse("0.1mV/Hz")
100. * uweber
>>> eta.format(eta.default)
'0.05 mV/Hz'
>>> values = ParameterSet([eta]).resolve({"eta": "0.2 mV/Hz"})
>>> bool(values.eta == 0.2 * mV / Hz)
True
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from brian2 import Quantity, get_dimensions
from brian2.units.fundamentalunits import DIMENSIONLESS

from ._validate import ParameterError, _describe_range, _shown, check_bool, check_choice, check_count, check_quantity
from .units import display_unit, format_quantity, parse_quantity, to_quantity

__all__ = ["Parameter", "ParameterSet", "Values"]


@dataclass(frozen=True)
class Parameter:
    """One declared parameter.

    The kind of value follows the default: a Brian2 quantity (its dimensions are required), a
    float, an int, a bool, or a str (then ``choices`` lists the accepted values).

    Parameters
    ----------
    name : str
        Identifier, as typed in ``--set NAME=VALUE``.
    default : Quantity, float, int, bool or str
        Default value (with its unit).
    meaning : str
        One line saying what it is.
    low, high : optional
        Bounds, in the default's unit (inclusive unless ``low_open`` / ``high_open``).
    low_open, high_open : bool
        Exclusive bounds.
    choices : tuple of str, optional
        Accepted values of a str parameter.
    structural : bool
        True when a change alters the compiled network: its structure (sizes, connectivity, what
        exists), its clocks, its run length, or constants written into its code. ``cpp_standalone``
        sweeps (:mod:`homeonet.sweep`) compile one binary per combination of structural values and
        run every other value through it; they compare the generated code, so a wrong mark costs a
        compile, never a wrong result.
    """

    name: str
    default: object
    meaning: str
    low: object = None
    high: object = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple | None = None
    structural: bool = False

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"parameter name must be an identifier, got {self.name!r}")
        self.check(self.default)

    @property
    def kind(self) -> str:
        """``'quantity'``, ``'float'``, ``'int'``, ``'bool'`` or ``'str'``."""
        d = self.default
        if isinstance(d, (bool, np.bool_)):
            return "bool"
        if isinstance(d, str):
            return "str"
        if isinstance(d, Quantity) and get_dimensions(d) is not DIMENSIONLESS:
            return "quantity"
        if isinstance(d, numbers.Integral):
            return "int"
        return "float"

    @property
    def unit(self) -> str:
        """The unit string values are written in (``'mV/Hz'``; ``'1'`` for numbers; ``''`` otherwise)."""
        if self.kind in ("quantity", "float", "int"):
            return display_unit(self.default)[1]
        return ""

    def accepted(self) -> str:
        """What the parameter accepts, in words (used by messages and ``homeonet list --params``)."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "str":
            return "one of " + ", ".join(self.choices or ())
        what = {"int": "an integer", "float": "a number"}.get(self.kind, f"a quantity in {self.unit}")
        return what + _describe_range(self.low, self.high, self.low_open, self.high_open, fmt=self._in_unit)

    def _in_unit(self, value) -> str:
        if self.kind != "quantity":
            return f"{value:g}"
        return f"{float(value / to_quantity(1.0, self.unit)):g} {self.unit}"

    def check(self, value):
        """Return *value* checked against the declaration.

        Raises
        ------
        ParameterError
            One line naming the parameter and what it accepts.
        """
        kind = self.kind
        try:
            if kind == "bool":
                return check_bool(self.name, value)
            if kind == "str":
                return check_choice(self.name, value, self.choices or (value,))
            if kind == "int":
                value = check_count(self.name, value, minimum=-(2 ** 62) if self.low is None else int(self.low))
            else:
                unit = self.default if kind == "quantity" else 1
                value = check_quantity(self.name, value, unit, low=self.low, low_open=self.low_open)
                if kind == "float":
                    value = float(value)
        except ParameterError:
            raise ParameterError(f"{self.name} must be {self.accepted()}, got {_shown(value)}") from None
        too_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        too_low = kind == "int" and self.low is not None and self.low_open and value <= self.low
        if too_high or too_low:
            raise ParameterError(f"{self.name} must be {self.accepted()}, got {self.format(value)}")
        return value

    def parse(self, text):
        """Parse a typed value (``'0.1mV/Hz'``, ``'300'``, ``'true'``, ``'cython'``) and check it.

        Raises
        ------
        ParameterError
            One line naming the parameter and what it accepts.
        """
        kind = self.kind
        if not isinstance(text, str):
            return self.check(text)
        raw = text.strip()
        if kind == "bool":
            low = raw.lower()
            if low in ("true", "yes", "on", "1"):
                return True
            if low in ("false", "no", "off", "0"):
                return False
            raise ParameterError(f"{self.name} must be true or false, got {text!r}")
        if kind == "str":
            return self.check(raw)
        try:
            value = parse_quantity(raw)
        except ValueError as err:
            raise ParameterError(f"{self.name} must be {self.accepted()}: {err}") from None
        if kind == "int":
            if isinstance(value, Quantity) or not float(value).is_integer():
                raise ParameterError(f"{self.name} must be {self.accepted()}, got {text!r}")
            value = int(value)
        return self.check(value)

    def format(self, value) -> str:
        """Write *value* as a person would (``'0.05 mV/Hz'``, ``'400'``, ``'true'``)."""
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "str":
            return str(value)
        if self.kind == "int":
            return str(int(value))
        return format_quantity(value)

    def record(self, value) -> tuple:
        """``(number or str, unit string)`` for a results attribute (UDUNITS unit; ``''`` for str/bool)."""
        if self.kind == "bool":
            return int(bool(value)), ""
        if self.kind == "str":
            return str(value), ""
        if self.kind == "int":
            return int(value), "1"
        if self.kind == "float":
            return float(value), "1"
        unit = self.unit  # one unit per parameter (the default's), whatever the magnitude of this value
        return float(value / to_quantity(1.0, unit)), unit


class Values(Mapping):
    """The resolved values of an experiment's parameters: a read-only mapping with attribute access.

    Examples
    --------
    >>> v = Values({"N_E": 400})
    >>> v.N_E, v["N_E"]
    (400, 400)
    """

    def __init__(self, values: dict):
        object.__setattr__(self, "_values", dict(values))

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __getattr__(self, key):
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        raise AttributeError("Values are read-only; resolve new values from the ParameterSet")

    def replace(self, **changes) -> "Values":
        """A copy with some values changed (not checked: use :meth:`ParameterSet.resolve` for user input)."""
        return Values({**self._values, **changes})

    def __repr__(self):
        return f"Values({self._values!r})"


class ParameterSet:
    """The ordered parameters of one experiment.

    Parameters
    ----------
    parameters : sequence of Parameter
        Declared parameters (names must be unique).
    """

    def __init__(self, parameters):
        self.parameters = tuple(parameters)
        names = [p.name for p in self.parameters]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"parameters declared twice: {sorted(dup)}")
        self._by_name = dict(zip(names, self.parameters))

    def __iter__(self):
        return iter(self.parameters)

    def __contains__(self, name):
        return name in self._by_name

    def __getitem__(self, name) -> Parameter:
        try:
            return self._by_name[name]
        except KeyError:
            raise ParameterError(f"unknown parameter {name!r}; accepted: {', '.join(self._by_name)}") from None

    @property
    def names(self) -> tuple:
        return tuple(self._by_name)

    def defaults(self) -> Values:
        """Every parameter at its default."""
        return Values({p.name: p.default for p in self.parameters})

    def resolve(self, overrides: Mapping | None = None) -> Values:
        """Defaults updated by *overrides* (values, or strings typed by a user), each checked.

        Raises
        ------
        ParameterError
            An unknown name (the accepted ones are listed) or a value out of its declaration.
        """
        values = {p.name: p.default for p in self.parameters}
        for name, value in (overrides or {}).items():
            values[name] = self[name].parse(value)
        return Values(values)

    def record(self, values: Mapping, prefix: str = "param.") -> dict:
        """Results attributes of *values*: ``param.NAME`` (number or str) and ``param.NAME.units``."""
        out = {}
        for p in self.parameters:
            number, unit = p.record(values[p.name])
            out[f"{prefix}{p.name}"] = number
            if unit:
                out[f"{prefix}{p.name}.units"] = unit
        return out

    def table(self, values: Mapping | None = None) -> str:
        """Lines ``name = value   accepted   meaning`` for ``homeonet list --params``."""
        values = values or self.defaults()
        import textwrap

        rows = [(p.name, p.format(values[p.name]), p.accepted(), p.meaning + (" [structural]" if p.structural else ""))
                for p in self.parameters]
        w = [max(len(r[k]) for r in rows) for k in range(2)]
        w.append(min(max(len(r[2]) for r in rows), 40))  # a long list of choices wraps within its column
        lines = []
        for a, b, c, d in rows:
            accepted = textwrap.wrap(c, w[2]) or [""]
            lines.append(f"{a:<{w[0]}}  {b:<{w[1]}}  {accepted[0]:<{w[2]}}  {d}")
            lines += [f"{'':<{w[0] + w[1] + 4}}{more}" for more in accepted[1:]]
        return "\n".join(lines)
