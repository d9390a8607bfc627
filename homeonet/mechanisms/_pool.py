"""A one-unit *pool* that reduces a layer to one number and broadcasts it back, in string code.

Brian2 has no reduction in its string language: a shared variable cannot be
assigned a sum over neurons, and a ``(summed)`` variable cannot target a shared
variable. Layer- and network-scale mechanisms therefore route the layer-wide
quantity through a helper group of size 1 (the *pool*):

* **reduction** -- a ``Synapses`` object from the layer to the pool with one
  synapse per neuron (``N`` synapses). Either a ``(summed)`` variable (for rate
  layers: one pass over ``N`` synapses every time step, the same order as the
  layer's own state update) or ``on_pre`` code (for spiking layers: O(1) work
  per spike, nothing per time step);
* **broadcast** -- the layer reads the pool's variable through a *linked*
  variable (``linked_var``). Linking to a group of size 1 uses the constant
  index ``0``, so reading it costs nothing beyond the load (no synapses, no
  per-neuron copy).

:func:`homeonet.neuron_group` builds the pool with the layer (through
:meth:`Mechanism.objects`) and puts it in the layer's ``contained_objects``, so
``Network(layer)`` runs it. :meth:`PooledMechanism.attach` returns the same
objects (idempotent), for code that adds them explicitly.
"""

from __future__ import annotations

import numpy as np
from brian2 import Equations, NeuronGroup, Synapses, linked_var

from .._validate import HomeonetError
from ..mechanism import Mechanism, Period, Target

__all__ = ["PooledMechanism"]


class PooledMechanism(Mechanism):
    """Base class of mechanisms that read a layer-wide quantity through a pool.

    Subclasses define :meth:`pool_parts` and declare, in their neuron
    contribution, the linked variables listed in :attr:`linked` (local names,
    each declared ``NAME : unit (linked)``).
    """

    #: Local names of the layer's linked variables, mapped to the pool variable they read.
    linked: dict = {}

    def linked_for(self, target: Target) -> dict:
        """Linked variables of a layer described by *target* (default :attr:`linked`).

        Link state variables (or parameters) of the pool only: a linked subexpression would be
        evaluated in the layer's namespace.
        """
        return dict(self.linked)

    def pool_parts(self, target: Target, n: int) -> dict:
        """Describe the pool for a layer of *n* neurons.

        Returns
        -------
        dict
            ``model`` (pool equations), ``method`` (integration method),
            ``syn_model``, ``on_pre`` (reduction synapses), ``namespace`` (values
            used by the pool's and the synapses' code), ``init`` (initial values
            of the pool variables) and optionally ``dt`` (a period: the pool and its
            ``(summed)`` reduction then run once per period, and its model may hold no
            differential equations: integrate in the operations) and ``operations``
            (``(code, dt)`` pairs run on the pool; ``dt`` in their code is the period).
        """
        raise NotImplementedError

    def attach(self, group, name=None):
        """Build the pool of this mechanism for *group* and link the group to it.

        Parameters
        ----------
        group : brian2.NeuronGroup
            A group built with this mechanism (``mechanisms=[...]``).
        name : str, optional
            Prefix of the Brian2 names of the helper objects
            (default ``'<group>_<mechanism>'``).

        Returns
        -------
        tuple of brian2 objects
            ``(pool, synapses)``: add them to the network with the group
            (``net.add(mech.attach(group))``).
        """
        # the pool belongs to this group object (not to its name: a group rebuilt under the same name after
        # start_scope() gets a pool of its own)
        attached = getattr(group, "_homeonet_pools", {}).get(self.name)
        if attached is not None:
            return attached  # built already (neuron_group attaches it automatically)
        declared = getattr(getattr(group, "equations", None), "names", set())
        target = Target.of(group)
        linked = self.linked_for(target)
        missing = [n for n in linked if self.full(n) not in declared]
        if missing:
            raise HomeonetError(f"{self!r} is not part of group {getattr(group, 'name', group)!r}: "
                                f"build the group with mechanisms=[{self.name}] before attach()")
        n = len(group)
        parts = self.pool_parts(target, n)
        prefix = name or f"{group.name}_{self.name}"
        namespace = dict(parts.get("namespace", {}))
        period = None if parts.get("dt") is None else Period(parts["dt"], group, self.name)
        odes = sorted(Equations(parts["model"]).diff_eq_names) if period is not None else []
        if odes:
            # on the runtime device a periodic pool runs on every k-th step of the layer's clock, where
            # Brian2 would integrate with the layer's dt: integrate in the operations, over the period
            raise HomeonetError(f"{self!r}: a pool with a period integrates in its operations, not in "
                                f"differential equations ({odes})")
        pool = NeuronGroup(1, parts["model"], method=parts.get("method", "exact"), namespace=namespace,
                           clock=None if period is None else period.clock, name=f"{prefix}_pool")
        if period is not None:
            period.apply(pool)
        for k, v in parts.get("init", {}).items():
            setattr(pool, k, v)
        for k, (code, dt) in enumerate(parts.get("operations", ())):
            Period(dt, group, self.name).run_regularly(pool, code, when="end", name=f"{prefix}_pool_op{k}")
        syn = Synapses(group, pool, parts.get("syn_model", ""), on_pre=parts.get("on_pre") or None,
                       namespace=namespace, name=f"{prefix}_reduce")
        syn.connect(i=np.arange(n), j=np.zeros(n, dtype=int))
        if period is not None:  # the reduction runs on the pool's clock: once per period
            for updater in syn.summed_updaters.values():
                period.apply(updater)
        for local, pool_var in linked.items():
            setattr(group, self.full(local), linked_var(pool, pool_var))
        if not hasattr(group, "_homeonet_pools"):
            group._homeonet_pools = {}
        group._homeonet_pools[self.name] = (pool, syn)
        return pool, syn

    def objects(self, group):
        """The pool and its synapses, built when the group is (see :meth:`attach`)."""
        return self.attach(group)

    def pool_of(self, group):
        """Return the pool ``NeuronGroup`` built by :meth:`attach` for *group*."""
        try:
            return group._homeonet_pools[self.name][0]
        except (AttributeError, KeyError):
            raise HomeonetError(f"{self!r} has no pool for {group.name!r}: call attach(group) first") from None
