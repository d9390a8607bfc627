"""Input checks that fail early with one clear line.

Every public entry point validates what it is given with these helpers, so that
a wrong unit, a negative size or a NaN rate is reported by the name of the
parameter and the range it accepts, instead of surfacing later as a Brian2
code-generation error.
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np
from brian2 import Quantity, get_dimensions
from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit

__all__ = ["HomeonetError", "ParameterError", "DataFileError", "OutputError", "DivergenceError", "RunInterrupted",
           "check_quantity", "check_count", "check_choice", "check_bool", "check_seed", "check_path", "unit_name"]


class HomeonetError(ValueError):
    """A user-facing error; its message is one line (the command line prints it and exits 2)."""


class ParameterError(HomeonetError):
    """A parameter with a wrong unit, type or value; the message names it and what is accepted."""


class DataFileError(HomeonetError):
    """A file that is missing, empty, corrupt or not what homeonet wrote; the message names the file."""


class OutputError(HomeonetError):
    """An output path that cannot be written, or would overwrite something of another kind."""


class DivergenceError(HomeonetError):
    """A simulation whose state became NaN/inf or whose population rate ran away.

    Attributes
    ----------
    group, variable : str
        Where the divergence was seen.
    time : Quantity
        Simulated time at which it was seen.
    """

    def __init__(self, message, group=None, variable=None, time=None):
        super().__init__(message)
        self.group, self.variable, self.time = group, variable, time


class RunInterrupted(KeyboardInterrupt):
    """A run stopped early by SIGINT (Ctrl-C) or SIGTERM.

    It is a ``KeyboardInterrupt``, so code that does not handle it stops as on any Ctrl-C.

    Attributes
    ----------
    results : homeonet.Results or None
        What was simulated until the interruption, marked incomplete (``attrs['complete'] == 0``,
        ``attrs['t_reached']``); None when nothing could be collected (``cpp_standalone``).
    t_reached : Quantity or None
        Simulated time reached.
    """

    def __init__(self, message, results=None, t_reached=None):
        super().__init__(message)
        self.results, self.t_reached = results, t_reached


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
    from .units import display_unit

    expected = display_unit(unit)[1]
    rng = _describe_range(low, high, low_open)
    kind = "a number" if expected == "1" else f"a quantity in {expected}"
    if isinstance(value, (str, bool, np.bool_)) or value is None:
        raise ParameterError(f"{name} must be {kind}{rng}, got {_shown(value)}")
    try:
        dims = get_dimensions(value)
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be {kind}{rng}, got {_shown(value)}") from None
    if dims is not get_dimensions(unit):
        raise ParameterError(f"{name} must be {'dimensionless' if expected == '1' else 'in units of ' + expected}"
                             f"{rng}, got {_shown(value)}")
    if arr.ndim and not allow_array:
        raise ParameterError(f"{name} must be a scalar ({kind}){rng}, got an array of shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} must be finite{rng}, got {_shown(value)}")
    if low is not None:
        lo = float(np.asarray(low))
        bad = np.any(arr <= lo) if low_open else np.any(arr < lo)
        if bad:
            raise ParameterError(f"{name} must be{rng}, got {_shown(value)}")
    if high is not None and np.any(arr > float(np.asarray(high))):
        raise ParameterError(f"{name} must be{rng}, got {_shown(value)}")
    return Quantity(value, dim=get_dimensions(unit)) if get_dimensions(unit) is not DIMENSIONLESS else value


def _shown(value) -> str:
    """A value as a message shows it: quantities in the field's units (``0.05 mV/Hz``), the rest as repr."""
    from .units import format_quantity

    if isinstance(value, Quantity) and get_dimensions(value) is not DIMENSIONLESS:
        return format_quantity(value)
    return repr(value)


def _describe_range(low, high, low_open=False, high_open=False, fmt=None) -> str:
    """A range in words, to follow a kind of value: ``' in [0, 1)'``, ``' > 0 ms'``, ``''`` (the one writer)."""
    if fmt is None:
        def fmt(x):
            from .units import format_quantity

            return format_quantity(x) if isinstance(x, Quantity) and get_dimensions(x) is not DIMENSIONLESS \
                else f"{float(x):g}"
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{fmt(low)}, {fmt(high)}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {fmt(low)}"
    if high is not None:
        return f" {'<' if high_open else '<='} {fmt(high)}"
    return ""


def check_bool(name: str, value) -> bool:
    """Check that *value* is a bool (numpy bools and the integers 0 and 1 are accepted).

    A string such as ``'False'`` is refused rather than taken as true.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : bool

    Returns
    -------
    bool

    Raises
    ------
    ParameterError
    """
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral) and value in (0, 1)):
        return bool(value)
    raise ParameterError(f"{name} must be True or False, got {value!r}")


def check_seed(name: str, value) -> int:
    """Check a random seed: an integer in [0, 2**32 - 1], the range Brian2's ``seed()`` accepts.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : int

    Returns
    -------
    int

    Raises
    ------
    ParameterError
    """
    try:
        seed = check_count(name, value, minimum=0)
    except ParameterError:
        seed = -1
    if not 0 <= seed <= 2 ** 32 - 1:  # one message for every bad seed: the whole range
        raise ParameterError(f"{name} must be an integer in [0, {2 ** 32 - 1}] (Brian2's seed range), got {value!r}")
    return seed


def check_path(name: str, value):
    """Check that *value* is a file-system path (a non-empty ``str`` or ``os.PathLike``) and return it as a Path.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : str or os.PathLike

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ParameterError
        Not a path (a number, None...), or an empty string.
    """
    from pathlib import Path

    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)) or not str(os.fspath(value)).strip():
        raise ParameterError(f"{name} must be a path (a non-empty str or pathlib.Path), got {value!r}")
    return Path(value)


#: Bytes Brian2 takes at the least per neuron and per expected synapse (state variables, indices): a lower
#: bound, so that :func:`check_network_size` refuses only what cannot fit.
BYTES_PER_NEURON, BYTES_PER_SYNAPSE = 64, 16


def check_network_size(what: str, neurons, pairs=()) -> None:
    """Refuse, before any memory is taken, a network that cannot fit in this machine's memory.

    Parameters
    ----------
    what : str
        The parameters that set the sizes (named in the message), e.g. ``"N_E, N_I, N_in, p and p_in"``.
    neurons : int
        Number of neurons (all groups, inputs included).
    pairs : sequence of (int, int, float)
        ``(n_pre, n_post, p)`` of each projection: ``n_pre * n_post * p`` expected synapses.

    Raises
    ------
    ParameterError
        The lower bound of the memory needed (:data:`BYTES_PER_NEURON`, :data:`BYTES_PER_SYNAPSE`)
        exceeds the machine's physical memory: building would end in the out-of-memory killer.

    References
    ----------
    The bound counts what a Brian2 network keeps at the least: per synapse its two int32 indices
    (``_synaptic_pre``, ``_synaptic_post``) and one float64 state variable (16 bytes), per neuron eight
    float64 state variables (64 bytes); Stimberg M, Brette R, Goodman DFM (2019) Brian 2, an intuitive
    and efficient neural simulator. eLife 8:e47314.
    """
    try:
        n = float(neurons)
        synapses = sum(float(a) * float(b) * float(p) for a, b, p in pairs)
    except OverflowError:  # an integer beyond any float: beyond any memory
        n, synapses = math.inf, math.inf
    need = n * BYTES_PER_NEURON + synapses * BYTES_PER_SYNAPSE
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: no bound known
        return
    if need > total:
        raise ParameterError(f"{what} ask for {n:.3g} neurons and {synapses:.3g} synapses: at least "
                             f"{need / 2 ** 30:.3g} GiB, more than this machine's {total / 2 ** 30:.3g} GiB of memory")


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
    if isinstance(value, (bool, np.bool_)):  # True is not the count 1: refuse it, as check_quantity does
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
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
        raise ParameterError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    return value
