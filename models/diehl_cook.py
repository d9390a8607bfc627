r"""Diehl & Cook (2015): unsupervised digit recognition by STDP, with homeostasis at three scales.

Diehl PU, Cook M (2015), "Unsupervised learning of digit recognition using spike-timing-dependent
plasticity", Front. Comput. Neurosci. 9:99, doi:10.3389/fncom.2015.00099. Parameters follow the
paper and its reference code (github.com/peter-u-diehl/stdp-mnist).

The network, built from homeonet's own mechanisms:

* **input**: one Poisson unit per pixel, rate proportional to the intensity :math:`x_i \in [0, 1]`,
  :math:`\lambda_i = x_i\,(\lambda_\max + b\,\Delta\lambda)` with :math:`\lambda_\max` = 63.75 Hz,
  :math:`\Delta\lambda` = 32 Hz and :math:`b` the number of boosts of the current image;
* **excitatory layer**: conductance-based LIF neurons (:class:`~homeonet.models.ConductanceLIF`,
  :math:`\tau_m` = 100 ms) whose input synapses learn by the STDP rule of the reference code
  (presynaptic trace :math:`x`, postsynaptic traces :math:`y_1, y_2`, all reset to 1 at a spike):

  .. math:: \text{pre spike: } w \leftarrow \mathrm{clip}(w - \nu_\mathrm{pre}\, y_1, 0, w_\max), \qquad
            \text{post spike: } w \leftarrow \mathrm{clip}(w + \nu_\mathrm{post}\, x\, y_2, 0, w_\max)

  with :math:`y_2` read before its reset (a triplet term);
* **neuron scale**: the adaptive threshold :class:`~homeonet.IntrinsicPlasticity` (``rule='diehl_cook'``:
  :math:`\theta \mathrel{+}= \theta_+` per spike, :math:`\tau_\theta` = 10^7 ms);
* **synapse scale**: :class:`~homeonet.WeightNormalization`, the L1 norm of each neuron's input weights
  reset to :math:`W_\mathrm{tot}` before every presentation (78 nS for 784 inputs, 0.1 nS per input,
  scaled to the input size);
* **layer scale**: lateral inhibition by an inhibitory population, one inhibitory neuron driven by
  each excitatory neuron and inhibiting all the others;
* **schedule**: each image for 350 ms, then 150 ms of rest; when the excitatory layer fires fewer than
  5 spikes during an image, the image is shown again with the maximal rate raised by 32 Hz.

Training is unsupervised. After one epoch, learning is frozen (STDP and the threshold stop), the
training images are shown again and each neuron is labelled with the class to which it responds most
on average; a test image is classified as the class whose neurons respond most on average.

**One Brian2 run.** The whole protocol -- training epoch, labelling pass and test pass -- is one
``Network.run`` in string code, so ``cpp_standalone`` compiles and runs it as one program: the images
sit in a ``TimedArray`` indexed by the sample number; a one-unit *controller* group counts the layer's
spikes during each image and, at each presentation's end, either moves to the next image or repeats
this one with a boost; it switches learning off after the training images and ends the run after
the last image (through Brian2's stop flag, set from string code), so no time is simulated beyond
the schedule. Spike counts per image are read afterwards from one ``SpikeMonitor``.

Differences from the reference code, kept deliberately: no synaptic delays (theirs: 0-10 ms uniform
on the input synapses); the threshold offset starts at 0 (theirs at 20 mV with a 20 mV offset, which
lowers the threshold slowly as :math:`\theta` decays); at most ``max_repeats`` boosts per image
(theirs: unbounded), so that an ablated layer that can no longer fire cannot stall the run (such
images are counted: ``capped``); neurons silent over the whole labelling pass get no label (theirs:
label 0).

Examples
--------
>>> out = evaluate("digits", neurons=20, n_train=200, n_test=100)        # doctest: +SKIP
>>> out["test_accuracy"], out["usage_entropy"]                            # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from brian2 import (Function, Hz, Network, NeuronGroup, SpikeMonitor, StateMonitor, Synapses, TimedArray,
                    defaultclock, get_device, mV, ms, nS, pF, second)

from homeonet._validate import (HomeonetError, ParameterError, RunInterrupted, check_choice, check_count,
                                check_network_size, check_seed)
from homeonet.mechanism import neuron_group, shared_clock, synapses
from homeonet.mechanisms import IntrinsicPlasticity, WeightNormalization

from .neurons import ConductanceLIF

__all__ = ["VARIANTS", "SCALES", "DEFAULTS", "EXCITATORY", "INHIBITORY", "Outcome", "build", "train_and_test",
           "evaluate", "assign_labels", "classify", "schedule", "Schedule",
           "run_schedule", "receptive_fields", "PARAMETERS",
           "run_experiment", "measure_results", "results_figure"]

logger = logging.getLogger(__name__)

#: The network's variants: name -> one-line description (the ablation of the three homeostatic scales).
VARIANTS = {
    "full": "adaptive threshold, weight normalization and lateral inhibition (the paper's network)",
    "no_threshold": "without the adaptive threshold (weight normalization and lateral inhibition)",
    "no_normalization": "without weight normalization (adaptive threshold and lateral inhibition)",
    "no_inhibition": "without lateral inhibition (adaptive threshold and weight normalization)",
    "threshold_only": "the adaptive threshold alone (no weight normalization, no lateral inhibition)",
    "normalization_only": "weight normalization alone (no adaptive threshold, no lateral inhibition)",
    "inhibition_only": "lateral inhibition alone (no adaptive threshold, no weight normalization)",
}

#: The homeostatic scales each variant keeps.
SCALES = {
    "full": ("threshold", "normalization", "inhibition"),
    "no_threshold": ("normalization", "inhibition"),
    "no_normalization": ("threshold", "inhibition"),
    "no_inhibition": ("threshold", "normalization"),
    "threshold_only": ("threshold",),
    "normalization_only": ("normalization",),
    "inhibition_only": ("inhibition",),
}

#: Excitatory neurons (reference code): tau_m = C_m/g_L = 100 ms, conductances in units of g_L = 1 nS.
EXCITATORY = {"C_m": 100 * pF, "g_L": 1 * nS, "E_L": -65 * mV, "v_th": -52 * mV, "v_reset": -65 * mV,
              "t_ref": 5 * ms, "E_e": 0 * mV, "E_i": -100 * mV, "tau_e": 1 * ms, "tau_i": 2 * ms}
#: Inhibitory neurons (reference code): tau_m = 10 ms.
INHIBITORY = {"C_m": 10 * pF, "g_L": 1 * nS, "E_L": -60 * mV, "v_th": -40 * mV, "v_reset": -45 * mV,
              "t_ref": 2 * ms, "E_e": 0 * mV, "E_i": -85 * mV, "tau_e": 1 * ms, "tau_i": 2 * ms}

#: Protocol, plasticity and connection parameters (paper and reference code).
DEFAULTS = {
    "t_image": 350 * ms,          # presentation of one image
    "t_rest": 150 * ms,           # rest after it (no input)
    "max_rate": 63.75 * Hz,       # input rate at full intensity (pixel 255 / 4)
    "boost_rate": 32 * Hz,        # added to max_rate at each repeat of an image
    "min_spikes": 5,              # fewer spikes of the layer during an image: shown again, boosted
    "max_repeats": 10,            # repeats of one image at most (the reference has no bound)
    "dt": 0.5 * ms,               # time step of the reference code
    "theta_plus": 0.05 * mV,      # adaptive threshold: increase per spike
    "tau_theta": 1e7 * ms,        # adaptive threshold: decay time constant
    "w_per_input": 0.1 * nS,      # W_tot / number of inputs (78 nS for 784 inputs)
    "w_max": 1 * nS,              # upper bound of an input weight
    "w_init": 0.3 * nS,           # initial input weights: w_init * (U(0, 1) + 0.01), then normalized
    "nu_pre": 1e-4 * nS,          # STDP: depression per presynaptic spike (times the post trace y1)
    "nu_post": 1e-2 * nS,         # STDP: potentiation per postsynaptic spike (times x and y2)
    "tau_pre": 20 * ms,           # STDP trace time constants
    "tau_post1": 20 * ms,
    "tau_post2": 40 * ms,
    "w_ei": 10.4 * nS,            # excitatory -> its inhibitory neuron
    "w_ie": 17 * nS,              # inhibitory -> every other excitatory neuron
}

#: Phases of the schedule, in order.
PHASES = ("train", "label", "test")


def _stop_function():
    """A Brian2 function that ends the current run when its argument is nonzero (every device).

    The run stops after the current time step (Brian2's global stop flag: ``Network._globally_stopped``
    on the runtime devices, ``Network::_globally_stopped`` in ``cpp_standalone``).
    """
    from brian2.core.network import Network as _Net

    def stop_when(flag):
        if np.any(flag):
            _Net._globally_stopped = True
        return flag

    f = Function(stop_when, arg_units=[1], return_unit=1, arg_types=["integer"], return_type="integer",
                 stateless=False)
    f.implementations.add_implementation("cython", """
cdef int _homeonet_stop_when(int flag):
    if flag:
        import brian2.core.network
        brian2.core.network.Network._globally_stopped = True
    return flag
""", name="_homeonet_stop_when")
    f.implementations.add_implementation("cpp", """
int _homeonet_stop_when(int flag)
{
    if (flag)
        Network::_globally_stopped = true;
    return flag;
}
""", name="_homeonet_stop_when", compiler_kwds={"headers": ['"network.h"']})
    return f


@dataclass
class Schedule:
    """What the network is shown, in order: training images, labelling images, test images.

    Attributes
    ----------
    images : numpy.ndarray
        Distinct images, shape ``(n_images, n_inputs)``, intensities in [0, 1].
    order : numpy.ndarray
        Index into ``images`` of each sample of the schedule, shape ``(n_samples,)``.
    labels : numpy.ndarray
        Class of each sample of the schedule.
    n_train, n_label, n_test : int
        Sizes of the three phases (in this order).
    shape : tuple
        Shape of one image.
    n_classes : int
    """

    images: np.ndarray
    order: np.ndarray
    labels: np.ndarray
    n_train: int
    n_label: int
    n_test: int
    shape: tuple
    n_classes: int

    @property
    def n_samples(self) -> int:
        return self.n_train + self.n_label + self.n_test

    def phase(self, name) -> slice:
        """The samples of phase *name* (``'train'``, ``'label'``, ``'test'``)."""
        start = {"train": 0, "label": self.n_train, "test": self.n_train + self.n_label}[name]
        return slice(start, start + {"train": self.n_train, "label": self.n_label, "test": self.n_test}[name])


def _dataset(dataset):
    from homeonet.datasets import Dataset, load

    if isinstance(dataset, str):
        dataset = load(dataset)
    if not isinstance(dataset, Dataset):
        raise ParameterError(f"dataset must be a name ('digits', 'mnist5k') or a homeonet.datasets.Dataset, "
                             f"got {dataset!r}")
    if not dataset.image:
        raise ParameterError(f"dataset must hold images with intensities in [0, 1] (Poisson rates); "
                             f"{dataset.name!r} does not")
    return dataset


def _count(name, value, available, minimum):
    if value is None:
        return available
    value = check_count(name, value, minimum=minimum)
    if value > available:
        raise ParameterError(f"{name} must be <= {available} (the data set's size), got {value}")
    return value


def schedule(dataset, n_train=None, n_test=None, n_label=None, seed=0) -> Schedule:
    """The schedule of one epoch: *n_train* training images in a seeded order, then the labelling and test images.

    Parameters
    ----------
    dataset : str or homeonet.datasets.Dataset
        ``'digits'``, ``'mnist5k'`` or a loaded image data set.
    n_train : int, optional
        Training images: the first *n_train* of the training split (default all), shown in an order
        drawn from *seed*.
    n_test : int, optional
        Test images: the first *n_test* of the test split (default all).
    n_label : int, optional
        Training images shown again with learning frozen, to label the neurons: the first *n_label*
        of the training images (default all *n_train*).
    seed : int
        Seed of the training order.

    Returns
    -------
    Schedule

    Raises
    ------
    ParameterError
        A data set without images, or a count out of range.
    """
    d = _dataset(dataset)
    n_train = _count("n_train", n_train, len(d.x_train), 1)
    n_test = _count("n_test", n_test, len(d.x_test), 1)
    n_label = _count("n_label", n_label, n_train, 1)
    images = np.concatenate([d.x_train[:n_train], d.x_test[:n_test]]).astype(float)
    if images.min() < 0 or images.max() > 1:
        raise ParameterError(f"dataset {d.name!r}: intensities must lie in [0, 1], got "
                             f"[{images.min():g}, {images.max():g}]")
    rng = np.random.default_rng(check_seed("seed", seed))
    order = np.concatenate([rng.permutation(n_train), np.arange(n_label), n_train + np.arange(n_test)])
    labels = np.concatenate([d.y_train[:n_train], d.y_test[:n_test]])[order]
    return Schedule(images, order, labels, n_train, n_label, n_test, tuple(d.shape), int(d.n_classes))


def _params(overrides):
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ParameterError(f"{unknown[0]!r} is not a parameter of the Diehl & Cook network; accepted: "
                             f"{', '.join(DEFAULTS)}")
    p = dict(DEFAULTS, **overrides)
    from homeonet._validate import check_quantity

    for k, v in p.items():
        d = DEFAULTS[k]
        if k in ("min_spikes", "max_repeats"):
            p[k] = check_count(k, v, minimum=0)
        else:
            p[k] = check_quantity(k, v, d, low=0 * d, low_open=k in ("t_image", "dt", "tau_theta", "tau_pre",
                                                                          "tau_post1", "tau_post2", "w_max"))
    ratio = float(p["t_image"] / p["dt"])
    if abs(ratio - round(ratio)) > 1e-6 or abs(float((p["t_image"] + p["t_rest"]) / p["dt"]) -
                                                round(float((p["t_image"] + p["t_rest"]) / p["dt"]))) > 1e-6:
        raise ParameterError(f"t_image and t_rest must be whole numbers of dt ({p['dt']}), got "
                             f"{p['t_image']} and {p['t_rest']}")
    return p


def build(sched: Schedule, variant="full", *, neurons=100, seed=0, **params):
    """Build the network for a schedule (the objects of one Brian2 run).

    Parameters
    ----------
    sched : Schedule
        What is shown (:func:`schedule`).
    variant : str
        One of :data:`VARIANTS`.
    neurons : int
        Excitatory neurons (and as many inhibitory ones with lateral inhibition).
    seed : int
        Seed of the initial weights (the spikes draw from ``brian2.seed``).
    **params
        Overrides of :data:`DEFAULTS` (e.g. ``t_image=100*ms`` for a quick look).

    Returns
    -------
    brian2.Network
        With named objects: ``'inputs'``, ``'E'``, ``'I'`` (with inhibition), ``'input_E'`` (the learning
        synapses), ``'controller'``, ``'spikes_E'`` and ``'trace_controller'`` (the sample shown in each
        presentation). The run's duration is ``net.budget`` (an upper bound: the run stops itself after
        the last image).
    """
    variant = check_choice("variant", variant, VARIANTS)
    neurons = check_count("neurons", neurons, minimum=2)
    seed = check_seed("seed", seed)
    p = _params(params)
    scales = SCALES[variant]
    dt = p["dt"]
    slot = p["t_image"] + p["t_rest"]
    clock = shared_clock(slot)   # decisions, normalization and the presentation record share one clock
    step = shared_clock(dt)      # every group and synapse on one clock of the time step
    n_in = sched.images.shape[1]
    # all-to-all input, one-to-one E->I, all-but-one I->E
    check_network_size("neurons", n_in + 2 * neurons, [(n_in, neurons, 1), (neurons, 1, 1), (neurons, neurons - 1, 1)])
    n_total = sched.n_samples
    common = {"t_image": p["t_image"], "n_samples": n_total, "n_train": sched.n_train}

    ctrl = NeuronGroup(1, """k : 1  # sample shown (index into the schedule)
                             boost : 1  # repeats of this sample so far
                             count : 1  # spikes of the layer during this image
                             t_slot : second  # start of this presentation
                             stopped : 1""", clock=step, name="controller")
    ctrl.k = -1                    # the first decision (t = 0) moves to sample 0
    ctrl.count = p["min_spikes"]
    ctrl.run_regularly("""accept = int(count >= min_spikes or boost >= max_repeats)
                          k += accept
                          boost = (boost + 1)*(1 - accept)
                          count = 0
                          t_slot = t
                          stopped = stop_when(int(k >= n_samples))""",
                       clock=clock, when="start", order=-10, name="controller_decide")
    ctrl.namespace.update(min_spikes=p["min_spikes"], max_repeats=p["max_repeats"], stop_when=_stop_function(),
                          **common)

    pixels = TimedArray(sched.images, dt=1 * ms)          # time axis used as the image index
    order = TimedArray(sched.order.astype(float), dt=1 * ms)
    inputs = NeuronGroup(n_in, """dx/dt = -x/tau_pre : 1  # presynaptic STDP trace
                                  rate : Hz  # rate during the image of this presentation
                                  k : 1 (linked)
                                  boost : 1 (linked)
                                  t_slot : second (linked)""",
                         threshold="rate > 0*Hz and t - t_slot < t_image - dt/2 and rand() < rate*dt", reset="x = 1",
                         method="exact", clock=step, name="inputs",
                         namespace=dict(pixels=pixels, order=order, tau_pre=p["tau_pre"], max_rate=p["max_rate"],
                                        boost_rate=p["boost_rate"], **common))
    zeros = np.zeros(n_in, dtype=int)
    for var in ("k", "boost", "t_slot"):
        setattr(inputs, var, _linked(ctrl, var, zeros))
    inputs.run_regularly("rate = pixels(order(k*ms)*ms, i)*(max_rate + boost*boost_rate)", clock=clock,
                         when="start", order=-5, name="inputs_image")

    exc = ConductanceLIF(**EXCITATORY)
    mech_E = []
    if "threshold" in scales:
        mech_E.append(IntrinsicPlasticity(rule="diehl_cook", eta=p["theta_plus"], tau_theta=p["tau_theta"],
                                          factor="plastic"))
    wn = None
    if "normalization" in scales:
        wn = WeightNormalization(total=p["w_per_input"] * n_in, norm=1, period=slot)
        mech_E.append(wn)
    E = neuron_group(neurons, exc.model_equations() + """
                     dpost1/dt = -post1/tau_post1 : 1  # postsynaptic STDP traces
                     dpost2/dt = -post2/tau_post2 : 1
                     plastic : 1  # 1 while training, 0 after
                     n_image : 1  # spikes during this image
                     k_ctrl : 1 (linked)
                     t_slot : second (linked)""",
                     mechanisms=mech_E, threshold=exc.threshold,
                     reset=exc.reset + "\npost1 = 1\npost2 = 1\nn_image += int(t - t_slot < t_image - dt/2)",
                     refractory=exc.refractory, hooks=exc.HOOKS, method=exc.method, clock=step, name="E",
                     namespace=dict(exc.params, tau_post1=p["tau_post1"], tau_post2=p["tau_post2"], **common))
    E.v = exc.params["E_L"]
    E.plastic = 1
    E.k_ctrl = _linked(ctrl, "k", np.zeros(neurons, dtype=int))
    E.t_slot = _linked(ctrl, "t_slot", np.zeros(neurons, dtype=int))
    E.run_regularly("n_image = 0\nplastic = int(k_ctrl < n_train)", clock=clock, when="start", order=-5,
                    name="E_phase")

    S = synapses(inputs, E, "w : siemens", on_pre="""g_e_post += w
                 w = clip(w - plastic_post*nu_pre*post1_post, 0*nS, w_max)""",
                 on_post="w = clip(w + plastic_post*nu_post*x_pre*post2_post, 0*nS, w_max)",
                 mechanisms=[wn] if wn is not None else [], clock=step, name="input_E",
                 namespace=dict(nu_pre=p["nu_pre"], nu_post=p["nu_post"], w_max=p["w_max"]))
    ii, jj = np.meshgrid(np.arange(n_in), np.arange(neurons), indexing="ij")
    S.connect(i=ii.ravel(), j=jj.ravel())
    rng = np.random.default_rng([seed, 1])
    W = p["w_init"] * (rng.random((n_in, neurons)) + 0.01)
    W = W * (p["w_per_input"] * n_in / W.sum(axis=0))   # normalized before the first image, as theirs
    S.w = W.ravel()

    # the layer's spikes during the image, summed once per presentation (before the decision)
    count = Synapses(E, ctrl, clock=step, name="E_count")
    count.connect(j="0")
    count.run_regularly("count_post += n_image_pre", clock=clock, when="start", order=-20, name="E_count_sum")
    objects = [ctrl, inputs, E, S, count]
    if "inhibition" in scales:
        inh = ConductanceLIF(**INHIBITORY)
        I = inh.group(neurons, name="I", clock=step)
        EI = Synapses(E, I, on_pre="g_e_post += w_ei", clock=step, name="E_I", namespace={"w_ei": p["w_ei"]})
        EI.connect(j="i")
        IE = Synapses(I, E, on_pre="g_i_post += w_ie", clock=step, name="I_E", namespace={"w_ie": p["w_ie"]})
        IE.connect(condition="i != j")
        objects += [I, EI, IE]
    objects += [SpikeMonitor(E, name="spikes_E"),
                StateMonitor(ctrl, "k", record=0, clock=clock, when="start", order=10, name="trace_controller")]
    net = Network(*objects)
    # the run's length: every sample repeated max_repeats times at most, and one slot for the final decision
    net.budget = slot * (n_total * (1 + p["max_repeats"]) + 1)
    net.homeonet_params = p
    return net


def _linked(group, var, index):
    from brian2 import linked_var

    return linked_var(group, var, index=index)


class _SampleProgress:
    """Brian2 ``report`` callback drawing a tqdm bar over the samples of the schedule (runtime device)."""

    def __init__(self, ctrl, sched, desc):
        from tqdm.auto import tqdm

        self.ctrl, self.sched = ctrl, sched
        self.bar = tqdm(total=sched.n_samples, unit="sample", desc=desc, leave=True)

    def __call__(self, elapsed, completed, start, duration):
        k = int(min(max(self.ctrl.k[0], 0), self.sched.n_samples))
        phase = next((name for name in PHASES if k < self.sched.phase(name).stop), "test")
        self.bar.set_postfix_str(phase, refresh=False)
        self.bar.update(k - self.bar.n)

    def close(self):
        self(0, 1, 0, 0)
        self.bar.close()


def _standalone_report(ctrl, n_total, desc):
    """C++ report code for ``cpp_standalone``: samples done, on one line of stderr."""
    name = get_device().get_array_name(ctrl.variables["k"])
    return (f'std::cerr << "\\r{desc}: " << (int)std::max(0.0, std::min((double){n_total}, brian::{name}[0])) '
            f'<< "/{n_total} samples, " << (int)elapsed << " s" << (completed >= 1.0 ? "\\n" : "") << std::flush;')


@dataclass
class Outcome:
    """Everything one epoch produced.

    Attributes
    ----------
    schedule : Schedule
    variant : str
    responses : numpy.ndarray
        Spike counts of the excitatory neurons during the last (accepted) presentation of each sample,
        shape ``(n_samples, neurons)``.
    presentations : numpy.ndarray
        Presentations of each sample (1 + its repeats), shape ``(n_samples,)``.
    weights : numpy.ndarray
        Input weights after the run in nS, shape ``(n_inputs, neurons)``.
    theta : numpy.ndarray
        Threshold offsets after the run in mV, shape ``(neurons,)`` (zeros without the adaptive threshold).
    assignments : numpy.ndarray
        Class of each neuron from the labelling pass (-1: silent), shape ``(neurons,)``.
    run_time : float
        Wall time of the simulation (s): the runtime loop, or the compiled program's run (without building
        and compiling).
    wall_time : float
        Wall time of the whole call (s).
    device : str
    results : homeonet.Results or None
        The monitors as results (when asked for).
    """

    schedule: Schedule
    variant: str
    responses: np.ndarray
    presentations: np.ndarray
    weights: np.ndarray
    theta: np.ndarray
    assignments: np.ndarray
    run_time: float
    wall_time: float
    device: str
    params: dict = field(default_factory=dict)
    results: object = None

    def to_results(self):
        """The results of the run (``results=True``) with the outcome added: per-sample spike counts
        (``response_E``: sample x neuron), the sample's image (``sample_image``), class (``sample_label``) and
        presentations, each neuron's class (``assignment_E``), the final input weights (``input_E_w_final``,
        input x neuron, nS) and thresholds (``E_theta_final``, mV); the phase sizes and the network's
        parameters (``network.<name>``) as attributes.

        Returns
        -------
        homeonet.Results
        """
        from homeonet.units import split_quantity

        if self.results is None:
            raise HomeonetError("this outcome has no results: run it with results=True")
        ds, s = self.results.dataset, self.schedule
        ds["response_E"] = (("sample", "neuron_E"), self.responses, {"long_name": "spikes during the image"})
        ds["sample_image"] = ("sample", s.order, {"long_name": "index of the sample's image (train, then test)"})
        ds["sample_label"] = ("sample", s.labels)
        ds["presentations"] = ("sample", self.presentations, {"long_name": "1 + repeats of the sample"})
        ds["assignment_E"] = ("neuron_E", self.assignments, {"long_name": "class of the neuron (-1: silent)"})
        ds["input_E_w_final"] = (("input", "neuron_E"), self.weights, {"units": "nS"})
        ds["E_theta_final"] = ("neuron_E", self.theta, {"units": "mV"})
        ds.attrs.update({"n_train": s.n_train, "n_label": s.n_label, "n_test": s.n_test, "n_classes": s.n_classes,
                         "image_shape": list(s.shape), "run_time": self.run_time, "wall_time": self.wall_time,
                         "variant": self.variant, "device": self.device})
        for k, v in self.params.items():
            if hasattr(v, "dim"):
                ds.attrs[f"network.{k}"], ds.attrs[f"network.{k}.units"] = split_quantity(v)
            else:
                ds.attrs[f"network.{k}"] = v
        return self.results

    @classmethod
    def from_results(cls, results) -> "Outcome":
        """Rebuild the outcome from results written by :meth:`to_results` (e.g. loaded from a file)."""
        ds = results.dataset
        a = ds.attrs
        labels = ds["sample_label"].values
        sched = Schedule(None, ds["sample_image"].values, labels, int(a["n_train"]), int(a["n_label"]),
                         int(a["n_test"]), tuple(int(x) for x in np.atleast_1d(a["image_shape"])), int(a["n_classes"]))
        params = {k[len("network."):]: v for k, v in a.items() if k.startswith("network.") and not k.endswith(".units")}
        return cls(sched, str(a["variant"]), ds["response_E"].values, ds["presentations"].values,
                   ds["input_E_w_final"].values, ds["E_theta_final"].values, ds["assignment_E"].values,
                   float(a["run_time"]), float(a["wall_time"]), str(a["device"]), params, results)

    def predictions(self, phase="test") -> np.ndarray:
        """Predicted class of each sample of *phase* (:func:`classify`)."""
        return classify(self.responses[self.schedule.phase(phase)], self.assignments, self.schedule.n_classes)

    def accuracy(self, phase="test") -> float:
        """Fraction of the samples of *phase* classified correctly."""
        sl = self.schedule.phase(phase)
        return float(np.mean(self.predictions(phase) == self.schedule.labels[sl]))

    def measures(self) -> dict:
        """Accuracy, load balancing of the test responses and run statistics, as plain numbers.

        Returns
        -------
        dict
            ``test_accuracy``, ``label_accuracy`` (training images of the labelling pass) (fractions);
            ``usage_entropy``, ``gini``, ``population_sparseness`` (mean over test images),
            ``participation_ratio`` (:mod:`homeonet.analysis` on the test responses, samples x neurons);
            ``wall_time``, ``run_time`` (s), ``samples_per_second`` (samples of the schedule per second
            of ``run_time``); ``repeated`` (fraction of samples shown more than once), ``capped``
            (samples accepted after ``max_repeats`` boosts with fewer than ``min_spikes`` spikes),
            ``spikes_per_image`` (mean over test images), ``silent_neurons`` (no spike in the labelling
            pass), ``theta_mean`` (mV); the set-up (``variant``, ``neurons``, ``n_train``, ``n_label``,
            ``n_test``, ``device``).
        """
        from homeonet.analysis import gini, participation_ratio, population_sparseness, usage_entropy

        s = self.schedule
        test = self.responses[s.phase("test")]
        active = test.sum() > 0
        p = self.params
        sparse = population_sparseness(test) if active else np.array([np.nan])
        n_pres = self.presentations
        capped = int(np.sum((n_pres > p["max_repeats"]) & (self.responses.sum(axis=1) < p["min_spikes"])))
        return {
            "test_accuracy": self.accuracy("test"),
            "label_accuracy": self.accuracy("label"),
            "usage_entropy": usage_entropy(test) if active else float("nan"),
            "gini": gini(test) if active else float("nan"),
            "population_sparseness": float(np.nanmean(sparse)) if np.any(np.isfinite(sparse)) else float("nan"),
            "participation_ratio": participation_ratio(test),
            "wall_time": self.wall_time,
            "run_time": self.run_time,
            "samples_per_second": s.n_samples / self.run_time if self.run_time > 0 else float("nan"),
            "presentations": int(n_pres.sum()),
            "repeated": float(np.mean(n_pres > 1)),
            "capped": capped,
            "spikes_per_image": float(test.sum(axis=1).mean()),
            "silent_neurons": int(np.sum(self.assignments < 0)),
            "theta_mean": float(self.theta.mean()),
            "variant": self.variant,
            "neurons": int(self.responses.shape[1]),
            "n_train": s.n_train, "n_label": s.n_label, "n_test": s.n_test,
            "device": self.device,
        }


def assign_labels(responses, labels, n_classes) -> np.ndarray:
    """Each neuron's class: the one with the highest mean response (Diehl & Cook 2015).

    Parameters
    ----------
    responses : numpy.ndarray
        Spike counts, shape ``(samples, neurons)``.
    labels : numpy.ndarray
        Class of each sample, shape ``(samples,)``, values ``0 .. n_classes-1``.
    n_classes : int

    Returns
    -------
    numpy.ndarray
        Class of each neuron, shape ``(neurons,)``; -1 for a neuron that never fired.
    """
    responses, labels = np.asarray(responses, dtype=float), np.asarray(labels)
    sums = np.zeros((n_classes, responses.shape[1]))
    np.add.at(sums, labels, responses)
    n = np.bincount(labels, minlength=n_classes)[:, None]
    means = np.divide(sums, n, out=np.zeros_like(sums), where=n > 0)
    out = np.argmax(means, axis=0)
    out[responses.sum(axis=0) == 0] = -1
    return out


def classify(responses, assignments, n_classes) -> np.ndarray:
    """Predicted class of each sample: the class whose neurons respond most on average.

    Parameters
    ----------
    responses : numpy.ndarray
        Spike counts, shape ``(samples, neurons)``.
    assignments : numpy.ndarray
        Class of each neuron (:func:`assign_labels`; -1 are ignored).
    n_classes : int

    Returns
    -------
    numpy.ndarray
        Predicted class of each sample, shape ``(samples,)``.
    """
    responses, assignments = np.asarray(responses, dtype=float), np.asarray(assignments)
    onehot = (assignments[:, None] == np.arange(n_classes)[None, :]).astype(float)   # neurons x classes
    n = onehot.sum(axis=0)
    scores = np.divide(responses @ onehot, n, out=np.full((len(responses), n_classes), -1.0), where=n > 0)
    return np.argmax(scores, axis=1)


def _decode(spike_i, spike_t, slot_t, slot_k, n_samples, neurons, dt, t_image):
    """Spike counts of the accepted presentation of each sample, and presentations per sample."""
    dt = float(dt / second)
    slot_steps = np.round(np.asarray(slot_t) / dt).astype(np.int64)
    k = np.round(np.asarray(slot_k)).astype(np.int64)
    steps = np.round(np.asarray(spike_t) / dt).astype(np.int64)
    m = np.searchsorted(slot_steps, steps, side="right") - 1
    keep = (m >= 0) & (steps - slot_steps[np.maximum(m, 0)] < int(round(float(t_image / second) / dt)))
    counts = np.zeros((len(slot_steps), neurons))
    np.add.at(counts, (m[keep], np.asarray(spike_i)[keep]), 1)
    valid = (k >= 0) & (k < n_samples)
    presentations = np.bincount(k[valid], minlength=n_samples)
    if np.any(presentations == 0):
        missing = int(np.argmin(presentations > 0))
        raise HomeonetError(f"the run ended before sample {missing} of {n_samples} was shown")
    last = np.searchsorted(k, np.arange(n_samples), side="right") - 1
    return counts[last], presentations


def run_schedule(sched: Schedule, variant="full", *, neurons=100, seed=0, progress=False, results=False,
                 attrs=None, **params) -> Outcome:
    """Build the network for *sched* and run it on the active Brian2 device (one ``Network.run``).

    :func:`train_and_test` chooses the device and the schedule; this is its core, for callers that set
    the device themselves (``homeonet run``).

    Parameters
    ----------
    sched : Schedule
        What is shown (:func:`schedule`).
    variant, neurons, seed, progress, results, **params
        As in :func:`train_and_test`.
    attrs : dict, optional
        Attributes stored with the results (with ``results=True``).

    Returns
    -------
    Outcome

    Raises
    ------
    homeonet.RunInterrupted
        The run stopped before the last sample (Ctrl-C).
    """
    import brian2

    from homeonet.results import Results

    t0 = time.perf_counter()
    brian2.seed(seed)
    net = build(sched, variant, neurons=neurons, seed=seed, **params)
    ctrl, p = net["controller"], net.homeonet_params
    standalone = type(get_device()).__name__ != "RuntimeDevice"
    desc = f"Diehl & Cook ({variant})"
    if standalone:
        report = _standalone_report(ctrl, sched.n_samples, desc) if progress else None
        net.run(net.budget, report=report, report_period=1 * second)
    else:
        report = _SampleProgress(ctrl, sched, desc) if progress else None
        try:
            net.run(net.budget, report=report, report_period=1 * second)
        finally:
            if report is not None:
                report.close()
    from brian2.core.network import Network as _Net

    # wall time of the simulation: the runtime loop, or the compiled program (not its CPU time, which a busy
    # machine would make look shorter)
    run_time = float(get_device().timers["run_binary"] if standalone else get_device()._last_run_time)
    done = int(round(float(ctrl.k[0])))
    _Net._globally_stopped = False   # the stop was ours (or a Ctrl-C, raised below): clear Brian2's flag
    if done < sched.n_samples:
        raise RunInterrupted(f"Diehl & Cook run interrupted after {max(done, 0)} of {sched.n_samples} samples",
                             t_reached=net.t)
    mon, trace = net["spikes_E"], net["trace_controller"]
    responses, presentations = _decode(mon.i[:], mon.t[:] / second, trace.t[:] / second, trace.k[0],
                                       sched.n_samples, neurons, p["dt"], p["t_image"])
    E = net["E"]
    weights = np.asarray(net["input_E"].w[:] / nS).reshape(sched.images.shape[1], neurons)
    theta = np.asarray(E.ip_theta[:] / mV) if "ip_theta" in E.variables else np.zeros(neurons)
    res = None
    if results:
        res = Results.from_network(net, duration=net.t, **{"seed": seed, "model": "diehl_cook", "variant": variant,
                                                           **(attrs or {})})
    lab = sched.phase("label")
    assignments = assign_labels(responses[lab], sched.labels[lab], sched.n_classes)
    logger.info("Diehl & Cook %s: %d samples in %.1f s of simulation loop", variant, sched.n_samples, run_time)
    return Outcome(sched, variant, responses, presentations, weights, theta, assignments, run_time,
                   time.perf_counter() - t0, "cpp_standalone" if standalone else "runtime", p, res)


def train_and_test(dataset, variant="full", *, neurons=100, n_train=None, n_test=None, n_label=None, seed=0,
                   device="runtime", progress=False, results=False, directory=None, **params) -> Outcome:
    """Train the network for one epoch, label its neurons and classify the test images: one Brian2 run.

    Parameters
    ----------
    dataset : str or homeonet.datasets.Dataset
        ``'digits'``, ``'mnist5k'`` or a loaded image data set.
    variant : str
        One of :data:`VARIANTS`.
    neurons : int
        Excitatory neurons (>= 2).
    n_train, n_test, n_label : int, optional
        Sizes of the phases (:func:`schedule`; default: the whole split, labelling on every training image).
    seed : int
        Seed of the training order, the initial weights and the Poisson spikes.
    device : {'runtime', 'cpp_standalone'}
        Brian2 device (runtime: the code-generation target set in ``brian2.prefs``).
    progress : bool
        Show progress over the samples (a bar on the runtime device, a line on stderr with
        ``cpp_standalone``).
    results : bool
        Also collect the monitors as :class:`homeonet.Results` (``Outcome.results``).
    directory : str, optional
        Build folder of ``cpp_standalone`` (kept; default a temporary folder).
    **params
        Overrides of :data:`DEFAULTS`.

    Returns
    -------
    Outcome

    Raises
    ------
    ParameterError
        Bad input (one line, before any simulation).
    homeonet.RunInterrupted
        Ctrl-C during the run.
    """
    from homeonet.simulate import use_device

    t0 = time.perf_counter()
    variant = check_choice("variant", variant, VARIANTS)
    neurons = check_count("neurons", neurons, minimum=2)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be an integer >= 0, got {seed!r}")
    sched = schedule(dataset, n_train=n_train, n_test=n_test, n_label=n_label, seed=seed)
    _params(params)
    with use_device(device, directory=directory):
        out = run_schedule(sched, variant, neurons=neurons, seed=seed, progress=progress, results=results, **params)
    out.wall_time = time.perf_counter() - t0
    return out


def receptive_fields(outcome: Outcome, ax=None):
    """Draw each excitatory neuron's input weights as an image, labelled with its class.

    Parameters
    ----------
    outcome : Outcome
        A trained network (:func:`train_and_test`), or anything with ``weights`` (inputs x neurons, nS),
        ``assignments`` and ``schedule.shape``.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    w = np.asarray(outcome.weights)
    shape = tuple(outcome.schedule.shape)
    n = w.shape[1]
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    h, wd = shape
    canvas = np.full((rows * (h + 1) - 1, cols * (wd + 1) - 1), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        canvas[r * (h + 1):r * (h + 1) + h, c * (wd + 1):c * (wd + 1) + wd] = w[:, k].reshape(shape)
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(5.0, 1 + 0.6 * cols), max(3.5, 0.6 * rows + 0.8)))
    else:
        fig = ax.figure
    im = ax.imshow(canvas, cmap="hot_r", vmin=0, interpolation="nearest")
    for k, label in enumerate(outcome.assignments):
        r, c = divmod(k, cols)
        ax.text(c * (wd + 1), r * (h + 1), "-" if label < 0 else str(label), fontsize=6, color="tab:blue",
                va="top", ha="left")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(im, ax=ax, label="input weight (nS)", shrink=0.8)
    ax.set_title(f"receptive fields ({getattr(outcome, 'variant', '')}), class of each neuron in blue", fontsize=9)
    return fig


def evaluate(dataset, variant="full", *, neurons=100, n_train=None, n_test=None, seed=0, device="runtime",
             progress=False, n_label=None, **params) -> dict:
    """Train, label and test the Diehl & Cook network; return its accuracy and the load balancing of its layer.

    Parameters
    ----------
    dataset : str or homeonet.datasets.Dataset
        ``'digits'`` or ``'mnist5k'`` (or a loaded image data set).
    variant : str
        One of :data:`VARIANTS` (``'full'``: the paper's network).
    neurons : int
        Excitatory neurons.
    n_train, n_test : int, optional
        Training and test images (default all of the split).
    seed : int
        Seed of everything random (order, initial weights, spikes).
    device : {'runtime', 'cpp_standalone'}
        Brian2 device.
    progress : bool
        Show progress over the samples.
    n_label : int, optional
        Training images of the labelling pass (default all *n_train*).
    **params
        Overrides of :data:`DEFAULTS`.

    Returns
    -------
    dict
        :meth:`Outcome.measures`: ``test_accuracy`` (0..1), ``usage_entropy``, ``gini``,
        ``population_sparseness``, ``participation_ratio`` (excitatory responses to the test images),
        ``wall_time`` (s) and run statistics.

    References
    ----------
    Diehl PU, Cook M (2015), Front. Comput. Neurosci. 9:99.
    """
    return train_and_test(dataset, variant, neurons=neurons, n_train=n_train, n_test=n_test, n_label=n_label,
                          seed=seed, device=device, progress=progress, **params).measures()


# -- ``homeonet run diehl_cook`` -----------------------------------------------------------------------------------

def _experiment_parameters():
    from homeonet.parameters import Parameter, ParameterSet

    d = DEFAULTS
    return ParameterSet((
        Parameter("dataset", "digits", "image data set (homeonet.datasets)", choices=("digits", "mnist5k"),
                  structural=True),
        Parameter("variant", "full", "homeostatic scales kept (full: all three; see VARIANTS)",
                  choices=tuple(VARIANTS), structural=True),
        Parameter("neurons", 100, "excitatory neurons (and as many inhibitory ones)", low=2, structural=True),
        Parameter("n_train", 0, "training images (0: the whole training split)", low=0, structural=True),
        Parameter("n_label", 0, "training images shown again, frozen, to label the neurons (0: all n_train)",
                  low=0, structural=True),
        Parameter("n_test", 0, "test images (0: the whole test split)", low=0, structural=True),
        Parameter("t_image", d["t_image"], "presentation of one image", low=0 * ms, low_open=True),
        Parameter("t_rest", d["t_rest"], "rest after each image", low=0 * ms),
        Parameter("max_rate", d["max_rate"], "input rate at full intensity", low=0 * Hz),
        Parameter("boost_rate", d["boost_rate"], "added to max_rate at each repeat of an image", low=0 * Hz),
        Parameter("theta_plus", d["theta_plus"], "adaptive threshold: increase per spike", low=0 * mV),
        Parameter("w_per_input", d["w_per_input"], "total input weight of a neuron per input (78 nS / 784)",
                  low=0 * nS, low_open=True),
    ))


#: Parameters of the ready-made experiment ``homeonet run diehl_cook`` (defaults from :data:`DEFAULTS`).
PARAMETERS = _experiment_parameters()


def run_experiment(values, *, seed=0, progress=True, attrs=None):
    """Run ``homeonet run diehl_cook`` on the active Brian2 device: :func:`run_schedule` for *values*.

    Parameters
    ----------
    values : Mapping
        Resolved :data:`PARAMETERS`.
    seed : int
    progress : bool
    attrs : dict, optional
        Attributes stored with the results.

    Returns
    -------
    homeonet.Results
        With the outcome (:meth:`Outcome.to_results`).
    """
    sched = schedule(values["dataset"], n_train=values["n_train"] or None, n_test=values["n_test"] or None,
                     n_label=values["n_label"] or None, seed=seed)
    overrides = {k: values[k] for k in DEFAULTS if k in values}
    out = run_schedule(sched, values["variant"], neurons=values["neurons"], seed=seed, progress=progress,
                       results=True, attrs=attrs, **overrides)
    return out.to_results()


def measure_results(results, values=None):
    """The canonical measures of a ``diehl_cook`` run: accuracy, usage entropy and Gini of the test responses.

    Parameters
    ----------
    results : homeonet.Results
        From :func:`run_experiment` (or loaded from its file).
    values : Mapping, optional
        Unused (the results carry what is needed).

    Returns
    -------
    (dict, list of str)
        The numeric :meth:`Outcome.measures` and summary lines.
    """
    out = Outcome.from_results(results)
    m = out.measures()
    chance = 100 / out.schedule.n_classes
    lines = [f"{m['variant']} network, {m['neurons']} excitatory neurons: trained on {m['n_train']}, labelled on "
             f"{m['n_label']}, tested on {m['n_test']} images",
             f"test accuracy {100 * m['test_accuracy']:.1f}% (chance {chance:.0f}%), "
             f"labelling images {100 * m['label_accuracy']:.1f}%",
             f"usage entropy {m['usage_entropy']:.3f}, Gini {m['gini']:.3f}, population sparseness "
             f"{m['population_sparseness']:.3f}, participation ratio {m['participation_ratio']:.1f} (test responses)",
             f"{m['presentations']} presentations ({100 * m['repeated']:.1f}% of the images repeated, "
             f"{m['capped']} capped), {m['samples_per_second']:.1f} samples/s of simulation"]
    return {k: v for k, v in m.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}, lines


def results_figure(results, values=None):
    """The figure of a ``diehl_cook`` run: the learned receptive fields (:func:`receptive_fields`)."""
    out = Outcome.from_results(results)
    fig = receptive_fields(out)
    m = out.measures()
    fig.suptitle(f"homeonet diehl_cook: test accuracy {100 * m['test_accuracy']:.1f}%, usage entropy "
                 f"{m['usage_entropy']:.3f}", fontsize=10)
    return fig
