"""A tiny experiment for the sweep tests, named ``"sweep_models:tiny"`` in their specifications.

Fifty Poisson inputs drive 20 LIF neurons through random synapses (so the seed matters); the input
rate is multiplied by ``factor`` from the onset on; a 0.5 ms time step keeps each point well under a
second with the numpy target. ``mode`` makes a point fail (an exception in its build), diverge (a
``DivergenceError``, as the run's checks raise it) or kill its
worker process once (``os._exit``; the marker file named by the environment variable
``HOMEONET_TEST_CRASH`` records that it happened, so the retry runs normally); ``pause`` waits
(wall-clock, no CPU) before building, so that a test can interrupt a sweep half-way.
"""

import os
import time
from pathlib import Path

import numpy as np
from brian2 import Hz, Network, NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, TimedArray, mV, ms, second

from homeonet._validate import DivergenceError
from homeonet.models.experiments import experiment, onset_time
from homeonet.parameters import Parameter

PARAMETERS = [
    Parameter("duration", 400 * ms, "simulated time", low=400 * ms, structural=True),
    Parameter("onset", 0.5, "fraction of the run before the input changes", low=0.0, high=1.0, low_open=True,
              high_open=True),
    Parameter("factor", 0.5, "input rate factor from the onset on", low=0.0),
    Parameter("w", 2 * mV, "input weight", low=0 * mV),
    Parameter("tau", 10 * ms, "membrane time constant", low=0 * ms, low_open=True, structural=True),
    Parameter("mode", "ok", "ok, fail (the build raises), diverge (a DivergenceError) or crash (the worker dies once)",
              choices=("ok", "fail", "diverge", "crash"), structural=True),
    Parameter("pause", 0 * second, "wall-clock pause before the build", low=0 * second),
]

#: Time step of every group (the tests' runs are short and need no finer one).
DT = 0.5 * ms


@experiment(PARAMETERS, population="E", perturbation="input rate x{factor}")
def tiny(values):
    """Twenty LIF neurons driven by 50 Poisson inputs; the input rate changes at the onset."""
    time.sleep(float(values.pause / second))
    if values.mode == "fail":
        raise RuntimeError("this point fails on purpose")
    if values.mode == "diverge":
        raise DivergenceError("population E ran away (400 Hz) by t = 0.1 s", "E", "rate", 0.1 * second)
    marker = os.environ.get("HOMEONET_TEST_CRASH")
    if values.mode == "crash" and marker and not Path(marker).exists():
        Path(marker).write_text("crashed once")
        os._exit(1)
    n = int(np.ceil(float(values.duration / ms))) + 1
    k = int(round(float(onset_time(values) / ms)))
    step = TimedArray(np.where(np.arange(n) < k, 1.0, float(values.factor)), dt=1 * ms)
    inputs = PoissonGroup(50, rates="40*Hz * step(t)", namespace={"step": step, "Hz": Hz}, dt=DT, name="input")
    E = NeuronGroup(20, "dv/dt = -v/tau : volt (unless refractory)", threshold="v > 10*mV", reset="v = 0*mV",
                    refractory=2 * ms, method="exact", namespace={"tau": values.tau, "mV": mV}, dt=DT, name="E")
    S = Synapses(inputs, E, "w : volt", on_pre="v_post += w", dt=DT, name="inE")
    S.connect(p=0.5)
    S.w = values.w
    return Network(inputs, E, S, SpikeMonitor(E, name="spikes_E"))


def spikes(results, values):
    """A user's measure (``"sweep_models:spikes"``): the number of spikes and the mean weight, in a dict."""
    return {"count": len(results.spikes("E")[0]), "weight": values.w}
