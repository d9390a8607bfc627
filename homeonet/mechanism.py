"""The mechanism protocol: how homeostatic mechanisms plug into Brian2 groups.

A :class:`Mechanism` never builds groups. It *contributes* to them, in Brian2's
own string language, so that every mechanism runs on every Brian2 device
(runtime numpy/cython and ``cpp_standalone``):

* equations added to a neuron group or to synapses,
* code appended to ``reset`` (neurons) or ``on_pre`` / ``on_post`` (synapses), or
  run before the user's ``on_pre`` (``on_pre_first``: deferred updates settled
  before the weight is used),
* regular operations (``run_regularly`` with an explicit ``dt``, ``when``, ``order``),
* parameters with units, stored as ``(constant, shared)`` variables of the group,
* *hook* terms: a model exposes named hooks (a threshold offset ``theta``, an
  input ``gain``, a ``bias``) that are defined as the sum (or product) of all
  contributions, and are neutral when no mechanism drives them.

Every name a mechanism defines is prefixed with the mechanism's ``name``
(``ip_theta``, ``ip_eta``...), so two mechanisms never collide; a clash that
remains (two mechanisms given the same name, or a variable the user already
defined) is reported as one line naming both owners.

:func:`neuron_group` and :func:`synapses` are drop-in replacements for
``brian2.NeuronGroup`` and ``brian2.Synapses`` with one extra argument,
``mechanisms``: they merge the contributions into the user's own equations and
return plain Brian2 objects (the regular operations are contained in them, so
adding the group to a ``Network`` adds its operations too).
"""

from __future__ import annotations

import dataclasses
import numbers
import re
from dataclasses import dataclass, field

import brian2
from brian2 import Equations, Quantity, get_dimensions
from brian2.units.fundamentalunits import DIMENSIONLESS
from brian2.utils.stringtools import word_substitute

from ._validate import HomeonetError, ParameterError, check_network_size, unit_name
from .units import format_quantity, unit_string

__all__ = ["Operation", "Contribution", "Target", "Mechanism", "neuron_group", "synapses", "connect",
           "mechanism_parameters", "shared_clock", "Period", "check_expression", "check_expression_units",
           "check_weight"]

_COMBINE = {"sum": (" + ", "0"), "product": (" * ", "1")}


@dataclass(frozen=True)
class Operation:
    """A regular operation: Brian2 ``run_regularly`` code with explicit scheduling.

    Parameters
    ----------
    code : str
        Abstract code run every ``dt``.
    dt : Quantity or None
        Period of the operation (a time); the cost of the operation follows it. Operations
        of one period share one clock (:class:`Period`); None runs the operation on
        every time step of the group's own clock.
    when : str
        Brian2 scheduling slot (``'start'``, ``'before_thresholds'``, ..., ``'end'``).
    order : int
        Order within the slot.
    name : str
        Short name, used (prefixed) for the Brian2 object.
    """

    code: str
    dt: Quantity
    when: str = "end"
    order: int = 0
    name: str = "op"


@dataclass
class Contribution:
    """What one mechanism adds to one Brian2 group (neurons or synapses).

    Parameters
    ----------
    model : str
        Equation string added to the group's model.
    reset : str
        Code appended to a neuron group's reset.
    on_pre, on_post : str
        Code appended to a synapse's ``on_pre`` / ``on_post`` pathways.
    on_pre_first : str
        Code run at a presynaptic spike *before* the user's ``on_pre`` (e.g. settling
        deferred weight changes, so that the spike's effect uses the current weight).
    operations : tuple of Operation
        Regular operations run on the group.
    params : dict of str to Quantity
        Parameters; each becomes a ``(constant, shared)`` variable of the group.
    hooks : dict
        ``hook name -> variable`` or ``hook name -> (variable, 'sum'|'product')``:
        the variable is one term of the model's hook.
    init : dict
        Initial values (quantities or string expressions) of state variables.
    """

    model: str = ""
    reset: str = ""
    on_pre: str = ""
    on_post: str = ""
    on_pre_first: str = ""
    operations: tuple = ()
    params: dict = field(default_factory=dict)
    hooks: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)

    def equations(self) -> Equations:
        """Return the model and the parameter declarations as Brian2 ``Equations``."""
        lines = [self.model] + [f"{k} : {unit_name(v)} (constant, shared)" for k, v in self.params.items()]
        return Equations("\n".join(line for line in lines if line.strip()))

    def local_names(self) -> set:
        """Names this contribution defines (variables and parameters)."""
        return set(self.equations().names)

    def renamed(self, mapping: dict) -> "Contribution":
        """Return a copy with every name in *mapping* replaced in all code and keys."""
        full = dict(mapping)
        for old, new in mapping.items():
            full[f"d{old}"] = f"d{new}"          # derivative notation dX/dt
            full[f"{old}_pre"] = f"{new}_pre"    # references from synapses
            full[f"{old}_post"] = f"{new}_post"

        def sub(code):
            return word_substitute(code, full) if code else code

        def sub_hook(term):
            return (sub(term[0]), term[1]) if isinstance(term, tuple) else sub(term)

        return dataclasses.replace(
            self,
            model=sub(self.model), reset=sub(self.reset), on_pre=sub(self.on_pre), on_post=sub(self.on_post),
            on_pre_first=sub(self.on_pre_first),
            operations=tuple(dataclasses.replace(op, code=sub(op.code)) for op in self.operations),
            params={full.get(k, k): v for k, v in self.params.items()},
            hooks={h: sub_hook(t) for h, t in self.hooks.items()},
            init={full.get(k, k): (sub(v) if isinstance(v, str) else v) for k, v in self.init.items()},
        )


@dataclass(frozen=True)
class Target:
    """What a mechanism needs to know about the neuron group it contributes to.

    Parameters
    ----------
    spiking : bool
        True for groups with a threshold (spikes); False for rate neurons.
    rate : str or None
        Name of the rate variable (in Hz) of a rate-neuron group.
    hooks : dict
        Hooks the model declares: ``name -> (unit, combine)``.
    """

    spiking: bool = True
    rate: str | None = None
    hooks: dict = field(default_factory=dict)

    @classmethod
    def of(cls, group) -> "Target":
        """Describe an existing Brian2 group or subgroup (its homeonet description if it has one)."""
        found = getattr(group, "_homeonet_target", None)
        if found is None and isinstance(group, brian2.Subgroup):
            found = getattr(group.source, "_homeonet_target", None)
        if found is not None:
            return found
        return cls(spiking="spike" in getattr(group, "events", {}))


class Mechanism:
    """Base class of homeostatic mechanisms.

    Subclasses implement :meth:`neurons` and/or :meth:`synapses`, returning a
    :class:`Contribution` written with *local* names (``theta``, ``eta``); the
    protocol prefixes them with :attr:`name`. A mechanism that builds on another
    (e.g. a rate sensor) lists it in :attr:`requires`; a required mechanism shared
    by several others is added once.

    Parameters
    ----------
    name : str, optional
        Prefix of every name the mechanism defines (default: the class's ``prefix``).
    """

    prefix = "mechanism"
    #: Reference of the mechanism (shown in docs and results).
    reference = ""
    #: Names of the attributes holding the rates (in Hz) the mechanism drives its neurons toward: its set
    #: points. On spiking neurons each must be reachable, at most one spike per time step.
    set_points: tuple = ()

    def __init__(self, name: str | None = None):
        name = self.prefix if name is None else name
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise HomeonetError(f"name must be a Python identifier not starting with '_', got {name!r}")
        self.name = name

    @property
    def requires(self) -> tuple:
        """Mechanisms this one builds on (contributed to the same groups first)."""
        return ()

    def neurons(self, target: Target) -> Contribution | None:
        """Contribution to the neuron group, in local names (``None``: none)."""
        return None

    def synapses(self, target: Target) -> Contribution | None:
        """Contribution to the synapses, in local names (``None``: none)."""
        return None

    def validate(self, group, role: str) -> None:
        """Check the mechanism against the Brian2 group it was just merged into (default: nothing).

        Called by :func:`neuron_group` (``role='neurons'``) and :func:`synapses` (``role='synapses'``)
        once the group exists, so that a unit or expression that does not fit the group (a learning
        rate in volt on synapses whose weights are in siemens, an expression naming a variable the
        group lacks) is an error at creation rather than inside Brian2 at run time.

        Raises
        ------
        HomeonetError
        """

    def objects(self, group) -> tuple:
        """Helper Brian2 objects this mechanism needs next to *group* (default none).

        Called by :func:`neuron_group` once the group exists; the objects are added
        to the group's ``contained_objects``, so adding the group to a ``Network``
        adds them too (e.g. the one-unit pool through which layer-scale mechanisms
        read a layer-wide sum).
        """
        return ()

    def full(self, local: str) -> str:
        """Full (prefixed) name of a local variable or parameter."""
        return f"{self.name}_{local}"

    def parameters(self) -> dict:
        """Parameters of this mechanism, ``local name -> value`` (used for records)."""
        return {}

    def __repr__(self):
        # quantities as a neuroscientist writes them (0.05 mV/Hz), not as SI expressions
        args = ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={format_quantity(v)}"
                         for k, v in self.parameters().items())
        return f"{type(self).__name__}(name={self.name!r}{', ' if args else ''}{args})"

    # -- protocol -------------------------------------------------------------
    def _mapping(self, target: Target) -> dict:
        names = set()
        for part in (self.neurons(target), self.synapses(target)):
            if part is not None:
                names |= part.local_names()
        return {n: self.full(n) for n in names}

    def resolved(self, role: str, target: Target) -> Contribution | None:
        """Return the contribution for *role* (``'neurons'`` or ``'synapses'``) with full names."""
        part = getattr(self, role)(target)
        return None if part is None else part.renamed(self._mapping(target))


def _expand(mechanisms) -> list:
    """Flatten ``requires`` (dependencies first) and drop repeated instances."""
    out, seen = [], set()

    def visit(m):
        if not isinstance(m, Mechanism):
            raise HomeonetError(f"mechanisms must be homeonet Mechanism instances, got {m!r}")
        if id(m) in seen:
            return
        for dep in m.requires:
            visit(dep)
        seen.add(id(m))
        out.append(m)

    if isinstance(mechanisms, (Mechanism, str)) or not hasattr(mechanisms, "__iter__"):
        raise HomeonetError(f"mechanisms must be a list of homeonet Mechanism instances, got {mechanisms!r}"
                            + (f"; write mechanisms=[{mechanisms.name}]" if isinstance(mechanisms, Mechanism) else ""))
    mechanisms = list(mechanisms)
    for m in mechanisms:
        if not isinstance(m, Mechanism):
            raise HomeonetError(f"mechanisms must be homeonet Mechanism instances, got {m!r}")
    for m in mechanisms:
        visit(m)
    names = {}
    # the mechanisms given first, then their dependencies: a clash names what the user passed
    for m in sorted(out, key=lambda m: not any(m is g for g in mechanisms)):
        if m.name in names:
            raise HomeonetError(f"two mechanisms are named {m.name!r} ({names[m.name]!r} and {m!r}); "
                                "pass a different name= to one of them")
        names[m.name] = m
    return out


def _merge(base_model, parts, target: Target):
    """Merge contributions into the base model; return (Equations, parts)."""
    if isinstance(base_model, str):
        try:
            base = Equations(base_model)
        except Exception as err:  # Brian2's parser: SyntaxError, EquationError, ValueError (multi-line texts)
            detail = (str(getattr(err, "msg", None) or err).strip().splitlines() or [type(err).__name__])[0]
            raise HomeonetError(f"model is not valid Brian2 equations ({type(err).__name__}: {detail}): "
                                f"{base_model.strip()[:80]!r}") from None
    elif base_model is None or isinstance(base_model, Equations):
        base = base_model or Equations("")
    else:
        raise HomeonetError(f"model must be an equation string or brian2.Equations, got {type(base_model).__name__}")
    owner = {n: "the group's own equations" for n in base.names}
    eqs = base
    terms = {}
    for mech, c in parts:
        ceq = c.equations()
        for n in ceq.names:
            if n in owner:
                raise HomeonetError(f"variable {n!r} is defined by both {owner[n]} and {mech!r}; "
                                    "rename it or pass a different name= to the mechanism")
            owner[n] = repr(mech)
        eqs = eqs + ceq
        for hook, term in c.hooks.items():
            var, combine = term if isinstance(term, tuple) else (term, None)
            terms.setdefault(hook, []).append((var, combine, mech, ceq[var].dim))
    hook_lines = []
    for hook in list(target.hooks) + [h for h in terms if h not in target.hooks]:
        if hook in owner:
            who = [repr(t[2]) for t in terms.get(hook, [])]
            raise HomeonetError(f"hook {hook!r} is defined by {owner[hook]} but driven by {', '.join(who)}; "
                                "remove its definition: homeonet defines a hook as the sum of its terms")
        unit, combine = target.hooks.get(hook, (None, None))
        for var, comb, mech, dim in terms.get(hook, []):
            if unit is None:
                unit = dim
            elif get_dimensions(unit) is not dim:
                raise HomeonetError(f"{mech!r} drives hook {hook!r} in {unit_string(dim)}, but the hook is in "
                                    f"{unit_string(unit)}; give its parameters matching units")
            if combine is None:
                combine = comb
            elif comb is not None and comb != combine:
                raise HomeonetError(f"{mech!r} combines hook {hook!r} by {comb}, but it is a {combine}")
        combine = combine or "sum"
        joiner, neutral = _COMBINE[combine]
        expr = joiner.join(t[0] for t in terms.get(hook, [])) or neutral
        if combine == "sum" and get_dimensions(unit) is not DIMENSIONLESS and not terms.get(hook):
            expr = f"0*{unit_name(unit)}"
        hook_lines.append(f"{hook} = {expr} : {unit_name(unit)}")
    if hook_lines:
        eqs = eqs + Equations("\n".join(hook_lines))
    return eqs


#: Where each hook is meant to be read, for the error of a hook nobody reads.
_HOOK_USE = {"theta": "in the threshold, e.g. threshold='v > v_th + theta'",
             "gain": "in the equations, multiplying the synaptic input, e.g. 'gain*(I_e - I_i)'",
             "bias": "in the equations, added to the input, e.g. '... + bias'",
             "scale": "in the synapses' on_pre (or summed) code, e.g. on_pre='v_post += w*scale'"}


def _check_hooks_read(eqs, parts, texts, where):
    """Refuse a hook driven by a mechanism but read by none of the group's code (the mechanism could not act).

    Parameters
    ----------
    eqs : brian2.Equations
        The merged equations (hook definitions included).
    parts : list of (Mechanism, Contribution)
    texts : iterable of str
        The group's other code: threshold, reset, event code...
    where : str
        'group' or 'synapses' (for the message).
    """
    driven = {}
    for mech, c in parts:
        for hook in c.hooks:
            driven.setdefault(hook, []).append(mech)
    if not driven:
        return
    readers = [t for t in texts if t]
    for eq in eqs.values():
        if eq.varname in driven:
            continue  # the hook's own definition
        if eq.expr is not None:
            readers.append(str(eq.expr))
    for _, c in parts:
        readers += [c.reset, c.on_pre, c.on_pre_first, c.on_post] + [op.code for op in c.operations]
    code = "\n".join(r for r in readers if r)
    for hook, mechs in driven.items():
        if not re.search(rf"\b{re.escape(hook)}\b", code):
            who = ", ".join(repr(m) for m in mechs)
            raise HomeonetError(f"{who} drives hook {hook!r}, but nothing in the {where} reads it, so it could "
                                f"not act: use {hook} {_HOOK_USE.get(hook, 'in the model')}")


def _check_set_point(mech, group) -> None:
    """A rate set point above one spike per time step of the spiking *group* can never be reached: the
    mechanism would push its hook without end (target=1e9 Hz gave thresholds of -1e307 V)."""
    if "spike" not in getattr(group, "events", {}):
        return
    step = group.clock.dt
    for name in mech.set_points:
        value = getattr(mech, name)
        if value * step > 1:
            raise ParameterError(f"{name} of {mech.name} must be at most 1/dt = {format_quantity(1 / step)} "
                                 f"(one spike per time step of group {group.name!r}), got {format_quantity(value)}")


def _check_period(period, group, owner) -> None:
    """A period shorter than the group's step would add a clock of that period, and a run would take more
    steps than the network has (a period of 1 ps ran forever)."""
    step = group.clock.dt
    if period < step * (1 - 1e-9):
        raise ParameterError(f"period of {owner} must be at least the time step of group {group.name!r} "
                             f"({format_quantity(step)}), got {format_quantity(period)}")


def _is_runtime() -> bool:
    return type(brian2.get_device()).__name__ == "RuntimeDevice"


class Period:
    r"""Where objects that act once per *period* run: a clock of their own, or every k-th step of their group's.

    Brian2's runtime loop pays for a second clock on every time step of the network, whether or not
    anything is due on it: it looks for the clocks due next and tests every object against them
    (about 10 us a step, 1.10x for a 4,000-neuron network with one 100-ms object, measured by
    ``benchmarks/bench_core.py``). On the runtime device, where the period is a whole number *k* of
    the group's steps, periodic objects therefore run on the group's own clock and skip all but every
    *k*-th step (the steps whose number is a multiple of *k*: the times of a clock of that period),
    and the network keeps one clock. The compiled devices (``cpp_standalone``, ``cuda_standalone``),
    where a clock costs one comparison, and periods that are not a whole number of steps use the
    period's :func:`shared_clock`. Either way the objects run at the same times, in the same schedule
    slots: the results are the same.

    Parameters
    ----------
    period : Quantity
        The period (a time, at least the group's time step when *owner* is given).
    group : brian2.Group
        The group whose clock sets the time step.
    owner : str, optional
        Who has the period (a mechanism's name): a period below the time step is then refused.

    Attributes
    ----------
    clock : brian2.Clock
        The clock to create the periodic objects on.
    on_group_clock : bool
        Whether the objects run on the group's clock, acting on every k-th step (k counted again
        before each run).

    Raises
    ------
    ParameterError
        A period shorter than the group's time step (with *owner*).

    References
    ----------
    Brian2's runtime loop, ``brian2.core.network.Network.run`` (a single clock is its fast path) and
    ``Network._nextclocks``; Stimberg M, Brette R, Goodman DFM (2019) Brian 2, an intuitive and efficient
    neural simulator. eLife 8:e47314.
    """

    def __init__(self, period, group, owner=None):
        if owner is not None:
            _check_period(period, group, owner)
        self.period = period
        steps = float(period / group.clock.dt)
        k = round(steps)
        self.on_group_clock = _is_runtime() and k >= 1 and abs(steps - k) <= 1e-9 * k
        self.clock = group.clock if self.on_group_clock else shared_clock(period)

    def code(self, code: str) -> str:
        """*code* with ``dt`` meaning the period (as in ``run_regularly`` on a clock of the period)."""
        if not self.on_group_clock:
            return code
        return word_substitute(code, {"dt": f"({float(self.period)!r}*second)"})

    def run_regularly(self, group, code, when="end", order=0, name=None):
        """``group.run_regularly(code, ...)`` once per period; returns the ``CodeRunner``."""
        runner = group.run_regularly(self.code(code), clock=self.clock, when=when, order=order, name=name)
        return self.apply(runner)

    def apply(self, obj):
        """Make *obj* and the objects it contains, created on :attr:`clock`, run once per period; returns *obj*."""
        if self.on_group_clock:  # k = 1 too: the group's dt may change between runs
            for o in (obj, *getattr(obj, "contained_objects", ())):
                if not getattr(o, "_homeonet_periodic", False):
                    _run_on_period(o, float(self.period))
        return obj


def _run_on_period(obj, period):
    """Replace ``run`` of a Brian2 object by one that acts on the steps of its clock at multiples of *period*.

    The network calls ``run`` once per step of the object's clock; a countdown, set from the clock's step
    number before every run (a clock's dt may change between runs), finds the steps that are due.
    """
    run_all, prepare = obj.run, obj.before_run
    state = [1, 1]  # steps per period, steps until the next due one (1: this one)

    def run():
        state[1] -= 1
        if not state[1]:
            state[1] = state[0]
            run_all()

    def before_run(run_namespace):
        prepare(run_namespace)
        clock = obj.clock
        steps = period / float(clock.dt)
        k = round(steps)
        if k < 1 or abs(steps - k) > 1e-9 * k:  # the clock's dt was changed after the build
            raise ParameterError(f"{obj.name}: its period ({format_quantity(period * brian2.second)}) must be a "
                                f"whole number of time steps of clock {clock.name!r} ({format_quantity(clock.dt)}), "
                                "as when the network was built")
        step = int(clock.variables["timestep"].get_value()[0])
        state[:] = k, 1 + (-step) % k  # due when the step number is a multiple of k

    object.__setattr__(obj, "run", run)
    object.__setattr__(obj, "before_run", before_run)
    object.__setattr__(obj, "_homeonet_periodic", True)


def shared_clock(dt) -> brian2.Clock:
    """The clock of period *dt* shared by every homeonet object of the active device.

    Brian2's runtime loop pays for every distinct clock on every time step (it looks for
    the clocks due next and tests each object against them), so a network whose
    mechanisms each ran on their own clock of the same period would slow down with
    every mechanism. Regular operations, pools and recordings of one period share one
    clock instead. The cache is tied to the device's default clock, so
    ``device.reinit()`` starts a fresh set.

    Parameters
    ----------
    dt : Quantity
        Period (a time > 0).

    Returns
    -------
    brian2.Clock
    """
    device = brian2.get_device()
    cache = getattr(device, "_homeonet_clocks", None)
    if cache is None or cache[0] is not device.defaultclock:
        cache = (device.defaultclock, {})
        device._homeonet_clocks = cache
    key = float(dt)
    if key not in cache[1]:
        cache[1][key] = brian2.Clock(dt=dt, name=f"homeonet_clock_{len(cache[1])}")
    return cache[1][key]


def _join(*codes) -> str:
    return "\n".join(c for c in codes if c and c.strip())


def _install(group, parts, params=True, init=True):
    """Set parameters and initial values, and add regular operations to *group*."""
    for mech, c in parts:
        if params:
            for k, v in c.params.items():
                setattr(group, k, v)
        if init:
            _initialise(group, [(mech, c)])
        for op in c.operations:
            name = f"{group.name}_{mech.name}_{op.name}"
            if op.dt is None:  # every time step of the group's own clock
                group.run_regularly(op.code, when=op.when, order=op.order, name=name)
            else:
                Period(op.dt, group, mech.name).run_regularly(group, op.code, when=op.when, order=op.order, name=name)
    group._homeonet_mechanisms = tuple(m for m, _ in parts)


def _initialise(group, parts):
    for _, c in parts:
        for k, v in c.init.items():
            setattr(group, k, v)


def _parts(mechanisms, role, target):
    parts = []
    expanded = _expand(mechanisms)
    given = list(mechanisms)
    for m in expanded:
        c = m.resolved(role, target)
        if c is not None:
            parts.append((m, c))
        elif role == "synapses" and any(m is g for g in given):
            # the user's own choice, not a dependency, and a neuron-side rule: on synapses it would do nothing
            # (the converse is allowed: a synaptic rule such as InhibitorySTDP may be given to its neurons too)
            raise HomeonetError(f"{m!r} contributes nothing to synapses (it could not act there): pass it to the "
                                "neuron group, homeonet.neuron_group(..., mechanisms=[...])")
    return parts


def neuron_group(N, model, *, mechanisms=(), threshold=None, reset=None, rate=None, hooks=None, **kwargs):
    """Create a ``brian2.NeuronGroup`` with homeostatic mechanisms merged in.

    Takes the arguments of ``brian2.NeuronGroup`` plus ``mechanisms``. The
    mechanisms' equations are added to *model*, their reset code is appended to
    *reset*, their parameters become shared constants of the group and their
    regular operations are attached to it.

    Parameters
    ----------
    N : int
        Number of neurons.
    model : str or Equations
        The user's own equations. They may use hook names (``theta``...) that
        the mechanisms define.
    mechanisms : sequence of Mechanism
        Mechanisms contributing to this group.
    threshold, reset : str, optional
        As in ``brian2.NeuronGroup``; mechanisms' reset code is appended.
    rate : str, optional
        For rate neurons (no threshold): the name of the rate variable (in Hz).
    hooks : dict, optional
        Hooks the model declares, ``name -> (unit, 'sum'|'product')``; declared
        hooks are always defined (neutral without contributions).
    **kwargs
        Passed on to ``brian2.NeuronGroup`` (``method``, ``refractory``, ``name``...).

    Returns
    -------
    brian2.NeuronGroup

    Examples
    --------
    >>> from brian2 import ms, mV, Hz
    >>> from homeonet import neuron_group, IntrinsicPlasticity
    >>> ip = IntrinsicPlasticity(target=5*Hz, eta=0.1*mV/Hz)
    >>> G = neuron_group(10, "dv/dt = (15*mV - v)/(10*ms) : volt", threshold="v > 10*mV + theta",
    ...                  reset="v = 0*mV", mechanisms=[ip], method="exact")
    >>> "ip_theta" in G.variables and "theta" in G.variables
    True
    """
    from ._validate import check_count

    N = check_count("N", N)
    check_network_size("N", N)
    target = Target(spiking=threshold is not None, rate=rate, hooks=dict(hooks or {}))
    parts = _parts(mechanisms, "neurons", target)
    eqs = _merge(model, parts, target)
    needs_spikes = [m for m, c in parts if c.reset]
    if needs_spikes and threshold is None:
        raise HomeonetError(f"{needs_spikes[0]!r} needs spikes: give the group a threshold, "
                            "or pass rate= for rate neurons")
    refractory = kwargs.get("refractory")
    _check_hooks_read(eqs, parts, [threshold, reset, refractory if isinstance(refractory, str) else None], "group")
    group = brian2.NeuronGroup(N, eqs, threshold=threshold, reset=_join(reset, *(c.reset for _, c in parts)) or None,
                               **kwargs)
    group._homeonet_target = target
    for mech, _ in parts:
        _check_set_point(mech, group)
        mech.validate(group, "neurons")
    _install(group, parts)
    for mech, _ in parts:
        group.contained_objects.extend(mech.objects(group))
    return group


def synapses(source, target, model="", *, on_pre=None, on_post=None, mechanisms=(), hooks=None, **kwargs):
    """Create ``brian2.Synapses`` with homeostatic mechanisms merged in.

    Takes the arguments of ``brian2.Synapses`` plus ``mechanisms``. A mechanism
    that also keeps state in the pre- or postsynaptic group (a rate sensor, a
    scaling factor) must be given to that group too (:func:`neuron_group`); a
    missing part is reported. Per-synapse initial values of mechanisms are set
    by :func:`connect`.

    Parameters
    ----------
    source, target : brian2 groups
        Pre- and postsynaptic groups.
    model : str or Equations
        The user's synapse equations. They may use synapse hooks such as
        ``scale`` (e.g. ``on_pre='v_post += w*scale'``) that mechanisms define.
    on_pre, on_post : str, optional
        Event code; mechanisms' code is appended (their ``on_pre_first`` code prepended).
    mechanisms : sequence of Mechanism
        Mechanisms contributing to these synapses.
    hooks : dict, optional
        Synapse hooks declared by the model, ``name -> (unit, 'sum'|'product')``.
    **kwargs
        Passed on to ``brian2.Synapses``.

    Returns
    -------
    brian2.Synapses
    """
    post = Target.of(target)
    parts = _parts(mechanisms, "synapses", post)
    for mech, c in parts:
        neuron_part = mech.resolved("neurons", post)
        if neuron_part is None:
            continue
        code = " ".join([c.model, c.on_pre_first, c.on_pre, c.on_post, *(op.code for op in c.operations)])
        for name in neuron_part.local_names():
            for side, group in (("pre", source), ("post", target)):
                if re.search(rf"\b{name}_{side}\b", code) and name not in group.variables:
                    raise HomeonetError(f"{mech!r} also contributes to the {side}synaptic group ({name!r} is "
                                        f"missing from {group.name!r}): pass it in that group's mechanisms= too")
    eqs = _merge(model, parts, Target(hooks=dict(hooks or {})))
    user_pre = on_pre if not isinstance(on_pre, dict) else "\n".join(on_pre.values())
    _check_hooks_read(eqs, parts, [user_pre, on_post], "synapses")
    pre = _join(*(c.on_pre_first for _, c in parts), on_pre, *(c.on_pre for _, c in parts)) or None
    post_code = _join(on_post, *(c.on_post for _, c in parts)) or None
    kwargs.setdefault("name", "synapses*")
    syn = _Synapses(source, target, eqs, on_pre=pre, on_post=post_code, **kwargs)
    syn._homeonet_parts = parts
    for mech, _ in parts:
        _check_set_point(mech, target)  # the rates of the postsynaptic neurons
        mech.validate(syn, "synapses")
    _install(syn, parts, params=False, init=False)
    return syn


class _Synapses(brian2.Synapses):
    """``brian2.Synapses`` that sets its mechanisms' parameters and initial values after ``connect``.

    Brian2 accepts values for synaptic variables (even shared ones) only once
    synapses exist. Each ``connect`` call sets the mechanisms' parameters and initialises the
    per-synapse state of the synapses it creates, leaving earlier synapses as they are.
    """

    def connect(self, *args, **kwargs):
        parts = getattr(self, "_homeonet_parts", ())
        first = not self._connect_called
        if not first and any(not self.variables[k].scalar for _, c in parts for k in c.init):
            if type(brian2.get_device()).__name__ != "RuntimeDevice":
                raise HomeonetError(f"{self.name}: with cpp_standalone, connect synapses that carry mechanism state "
                                    "in one connect() call (the count of earlier synapses is known only at run time, "
                                    "so the new ones could not be told apart)")
        before = 0 if first else len(self)
        self._check_size(*args, **kwargs)
        super().connect(*args, **kwargs)
        for _, c in parts:
            for k, v in c.params.items():
                setattr(self, k, v)
        for _, c in parts:
            for k, v in c.init.items():
                if first or self.variables[k].scalar:
                    setattr(self, k, v)
                elif len(self) > before:
                    getattr(self, k)[before:] = v  # only the synapses this call created


    def _check_size(self, condition=None, i=None, j=None, p=1.0, n=1, **kwargs):
        """Refuse, before Brian2 allocates them, more synapses than the machine's memory could hold.

        Only where the expected number is known from the arguments: all pairs with a numeric probability
        and multiplicity (a condition, a string probability or explicit indices can make it anything).
        """
        numeric = all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in (p, n))
        if condition is None and i is None and j is None and numeric:
            check_network_size("p (of connect)", 0, [(len(self.source), len(self.target), p * n)])


def connect(syn, *args, **kwargs):
    """Connect *syn* (as ``Synapses.connect``) and return it, for chaining.

    Synapses made by :func:`synapses` set their mechanisms' parameters and
    per-synapse initial values in ``connect`` itself; this helper only chains.

    Parameters
    ----------
    syn : brian2.Synapses
        Synapses created by :func:`synapses`.
    *args, **kwargs
        Passed on to ``Synapses.connect``.

    Returns
    -------
    brian2.Synapses
        The same object.
    """
    syn.connect(*args, **kwargs)
    return syn


def check_expression(name: str, expr) -> str:
    """Check, at construction, that *expr* is a Brian2 expression string (syntax only).

    Parameters
    ----------
    name : str
        Parameter name used in the message.
    expr : str

    Returns
    -------
    str
        The expression, stripped.

    Raises
    ------
    ParameterError
        Not a string, empty, or not valid Brian2 expression syntax (e.g. ``'foo +* bar'``, ``'t >>> 3'``).
    """
    from brian2.parsing.rendering import NodeRenderer

    if not isinstance(expr, str) or not expr.strip():
        raise ParameterError(f"{name} must be a Brian2 expression string, got {expr!r}")
    try:
        NodeRenderer().render_expr(expr.strip())
    except (SyntaxError, TypeError, ValueError, KeyError, NotImplementedError) as err:
        detail = getattr(err, "msg", None) or str(err) or type(err).__name__
        raise ParameterError(f"{name} is not a valid expression: {expr!r} ({detail.splitlines()[0]})") from None
    return expr.strip()


def check_expression_units(mech, name: str, expr: str, group, unit) -> None:
    """Check, when *group* exists, that *expr* evaluates in the units of *unit* there.

    Identifiers are resolved from the group's variables and its own namespace. An expression
    naming something the group lacks is an error when the group has an explicit namespace (Brian2
    would fail at run time); with an implicit namespace (names from the caller's script at run time)
    unknown names are left for Brian2 to resolve.

    Raises
    ------
    HomeonetError
        Wrong units, or a name the group cannot resolve.
    """
    from brian2.parsing.expressions import parse_expression_dimensions
    from brian2.utils.stringtools import get_identifiers

    ids = get_identifiers(expr)
    try:
        variables = group.resolve_all(ids, run_namespace=dict(group.namespace or {}))
    except KeyError as err:
        missing = [n for n in sorted(ids) if n not in group.variables and n not in (group.namespace or {})]
        if group.namespace is None:
            return  # names from the caller's namespace at run time: Brian2 resolves them then
        raise HomeonetError(f"{mech!r}: {name}={expr!r} names {', '.join(map(repr, missing)) or str(err)}, which "
                            f"{group.name!r} does not define") from None
    try:
        dims = parse_expression_dimensions(expr, variables)
    except Exception as err:  # Brian2's DimensionMismatchError and friends: say it in one line
        raise HomeonetError(f"{mech!r}: {name}={expr!r} is not consistent in units in {group.name!r} "
                            f"({str(err).splitlines()[0]})") from None
    if dims is not get_dimensions(unit):
        raise HomeonetError(f"{mech!r}: {name}={expr!r} is in {unit_string(dims)} in {group.name!r}, but must be in "
                            f"{unit_string(unit)}")


def check_weight(mech, group, weight: str, unit) -> None:
    """Check that synapses *group* have the weight variable *weight* in the units of *unit*.

    Raises
    ------
    HomeonetError
    """
    var = group.variables.get(weight)
    if var is None:
        raise HomeonetError(f"{mech!r} updates the weight {weight!r}, which {group.name!r} does not define: add "
                            f"'{weight} : <unit>' to the synapses' model or pass weight= the name of yours")
    if var.dim is not get_dimensions(unit):
        raise HomeonetError(f"{mech!r} is in {unit_string(unit)}, but the weight {group.name}.{weight} is in "
                            f"{unit_string(var.dim)}: give its parameters the weight's unit")


def mechanism_parameters(group) -> dict:
    """Return ``{'mechanism.parameter': value}`` for the mechanisms of a group."""
    out = {}
    for m in getattr(group, "_homeonet_mechanisms", ()):
        for k, v in m.parameters().items():
            out[f"{type(m).__name__}.{m.name}.{k}"] = v
    return out
