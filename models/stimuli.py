"""Stimulus sets for coding experiments: class patterns and orientation-tuned inputs.

A :class:`StimulusSet` holds one input-rate pattern per stimulus; :meth:`StimulusSet.sequence`
turns it into a presentation schedule (a 2-D ``brian2.TimedArray`` of rates)
that drives a ``PoissonGroup`` via :func:`homeonet.models.inputs.stimulus_input`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from brian2 import Hz, TimedArray, ms, second

from homeonet._validate import HomeonetError, check_count, check_quantity, check_seed

__all__ = ["StimulusSet", "Schedule", "class_patterns", "orientation_tuned"]


@dataclass(frozen=True)
class Schedule:
    """A presentation schedule built by :meth:`StimulusSet.sequence`.

    Attributes
    ----------
    rates : brian2.TimedArray
        Input rates, ``rates(t, i)`` in Hz.
    labels : numpy.ndarray
        Stimulus label of each presentation.
    onsets : Quantity
        Onset time of each presentation.
    duration : Quantity
        Duration of one presentation (stimulus on, then the gap).
    """

    rates: TimedArray
    labels: np.ndarray
    onsets: object
    duration: object


@dataclass(frozen=True)
class StimulusSet:
    """Input-rate patterns, one row per stimulus.

    Attributes
    ----------
    patterns : Quantity
        Array ``(n_stimuli, n_inputs)`` of rates in Hz.
    labels : numpy.ndarray
        Label of each stimulus (class index or orientation in radians).
    """

    patterns: object
    labels: np.ndarray

    @property
    def n_inputs(self) -> int:
        """Number of input units."""
        return self.patterns.shape[1]

    def sequence(self, n_presentations, duration=100 * ms, gap=0 * ms, baseline=0 * Hz, seed=None) -> Schedule:
        """Present stimuli in random order, each for *duration*, followed by *gap* at *baseline*.

        Parameters
        ----------
        n_presentations : int
            Number of presentations (>= 1).
        duration : Quantity
            Time each stimulus is on (> 0 s).
        gap : Quantity
            Time between stimuli (>= 0 s), with rates at *baseline*.
        baseline : Quantity
            Rate during gaps (>= 0 Hz).
        seed : int, optional
            Seed of the presentation order.

        Returns
        -------
        Schedule
        """
        n = check_count("n_presentations", n_presentations)
        duration = check_quantity("duration", duration, second, low=0 * second, low_open=True)
        gap = check_quantity("gap", gap, second, low=0 * second)
        baseline = check_quantity("baseline", baseline, Hz, low=0 * Hz)
        rng = np.random.default_rng(None if seed is None else check_seed("seed", seed))
        order = rng.integers(len(self.labels), size=n)
        pat = np.asarray(self.patterns / Hz)
        step = float(duration / second)
        if float(gap / second) > 0:
            # time step = greatest common time grid of duration and gap (in 0.1 ms units)
            unit = np.gcd(int(round(step * 1e4)), int(round(float(gap / second) * 1e4))) / 1e4
        else:
            unit = step
        on, off = int(round(step / unit)), int(round(float(gap / second) / unit))
        rows = []
        for k in order:
            rows += [pat[k]] * on + [np.full(pat.shape[1], float(baseline / Hz))] * off
        rates = TimedArray(np.asarray(rows) * Hz, dt=unit * second)
        onsets = np.arange(n) * (on + off) * unit * second
        return Schedule(rates=rates, labels=np.asarray(self.labels)[order], onsets=onsets,
                        duration=(on + off) * unit * second)


def class_patterns(n_classes=4, n_inputs=100, active_fraction=0.2, rate_on=40 * Hz, rate_off=2 * Hz, seed=0):
    """Random binary class patterns: each class drives a random subset of inputs.

    Parameters
    ----------
    n_classes : int
        Number of classes (>= 1).
    n_inputs : int
        Number of input units (>= 1).
    active_fraction : float
        Fraction of inputs active in each pattern, in (0, 1].
    rate_on, rate_off : Quantity
        Rates of active and inactive inputs (>= 0 Hz).
    seed : int
        Seed of the pattern generator.

    Returns
    -------
    StimulusSet
        Labels are the class indices ``0 .. n_classes-1``.
    """
    n_classes, n_inputs = check_count("n_classes", n_classes), check_count("n_inputs", n_inputs)
    active_fraction = check_quantity("active_fraction", active_fraction, 1, low=0, high=1, low_open=True)
    rate_on = check_quantity("rate_on", rate_on, Hz, low=0 * Hz)
    rate_off = check_quantity("rate_off", rate_off, Hz, low=0 * Hz)
    rng = np.random.default_rng(check_seed("seed", seed))
    k = max(1, int(round(active_fraction * n_inputs)))
    pat = np.full((n_classes, n_inputs), float(rate_off / Hz))
    for c in range(n_classes):
        pat[c, rng.choice(n_inputs, size=k, replace=False)] = float(rate_on / Hz)
    return StimulusSet(patterns=pat * Hz, labels=np.arange(n_classes))


def orientation_tuned(n_inputs=100, n_orientations=8, rate_max=40 * Hz, rate_base=2 * Hz, kappa=2.0):
    r"""Orientation-tuned inputs with von Mises tuning curves.

    Input :math:`j` prefers orientation :math:`\phi_j = j\pi/N`; its rate for a
    stimulus at orientation :math:`s` is

    .. math:: r_j(s) = r_\mathrm{base} + (r_\max - r_\mathrm{base})\,
              e^{\kappa(\cos 2(s - \phi_j) - 1)}

    (period :math:`\pi`, as for oriented gratings; Swindale 1998, Biol. Cybern. 78:45).

    Parameters
    ----------
    n_inputs : int
        Number of input units (>= 1).
    n_orientations : int
        Number of stimulus orientations, evenly spaced in [0, pi) (>= 1).
    rate_max, rate_base : Quantity
        Peak and baseline rates (>= 0 Hz).
    kappa : float
        Concentration of the tuning (>= 0; larger is sharper).

    Returns
    -------
    StimulusSet
        Labels are the orientations in radians.
    """
    n_inputs, n_orientations = check_count("n_inputs", n_inputs), check_count("n_orientations", n_orientations)
    rate_max = check_quantity("rate_max", rate_max, Hz, low=0 * Hz)
    rate_base = check_quantity("rate_base", rate_base, Hz, low=0 * Hz)
    if rate_base > rate_max:
        raise HomeonetError(f"rate_base must be <= rate_max ({rate_max}), got {rate_base}")
    kappa = check_quantity("kappa", kappa, 1, low=0)
    pref = np.arange(n_inputs) * np.pi / n_inputs
    stim = np.arange(n_orientations) * np.pi / n_orientations
    tuning = np.exp(kappa * (np.cos(2 * (stim[:, None] - pref[None, :])) - 1))
    base, peak = float(rate_base / Hz), float(rate_max / Hz)
    return StimulusSet(patterns=(base + (peak - base) * tuning) * Hz, labels=stim)
