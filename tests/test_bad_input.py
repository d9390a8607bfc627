"""Bad input, by kind: each kind of fault a new user's input can provoke is refused in one line naming the
parameter (a ``HomeonetError``), before any work. No simulation runs here: every case fails at once."""

import numpy as np
import pytest
from brian2 import Hz, mV, ms, second

import homeonet as hn
from homeonet import analysis, datasets
from homeonet._validate import HomeonetError, check_count
from homeonet.models import diehl_cook, stimuli


def _one_line(excinfo, *needles):
    msg = str(excinfo.value)
    assert "\n" not in msg
    for needle in needles:
        assert needle in msg, msg


# -- kind: a bool taken for an integer ------------------------------------------------------------------------

@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_a_bool_is_not_a_count(value):
    with pytest.raises(HomeonetError) as err:
        check_count("N", value, minimum=0)
    _one_line(err, "N must be an integer")


def test_a_bool_is_not_a_count_in_a_sweep_or_an_experiment():
    from homeonet.models.experiments import get_experiment
    from homeonet.sweep import load_spec

    with pytest.raises(HomeonetError) as err:
        get_experiment("homeostasis").resolve({"N_E": True})
    _one_line(err, "N_E")
    with pytest.raises(HomeonetError) as err:
        load_spec({"experiment": "homeostasis", "seeds": [True], "grid": {"eta": ["0.1 mV/Hz"]}})
    _one_line(err, "seeds")


# -- kind: a seed out of range or of the wrong type (numpy, sklearn or Brian2 would raise their own error) -----

_R = np.random.default_rng(0).random((20, 4))
_L = np.repeat(np.arange(4), 5)
SEEDED = {
    "decoding_accuracy": lambda s: analysis.decoding_accuracy(_R, _L, seed=s),
    "decoding_information": lambda s: analysis.decoding_information(_R, _L, seed=s),
    "mutual_information": lambda s: analysis.mutual_information(_R, _L, correction="shuffle", seed=s),
    "count_correlation": lambda s: analysis.count_correlation(np.arange(10) % 5, np.linspace(0, 1, 10) * second, n=5,
                                                              t_stop=1 * second, max_neurons=2, seed=s),
    "class_patterns": lambda s: stimuli.class_patterns(seed=s),
    "sequence": lambda s: stimuli.class_patterns().sequence(2, seed=s),
    "diehl_cook.schedule": lambda s: diehl_cook.schedule("digits", n_train=10, n_test=10, seed=s),
    "datasets.load": lambda s: datasets.load("digits", split_seed=s),
}


@pytest.mark.parametrize("seed", [-1, 2 ** 40, "0", 1.5, True])
@pytest.mark.parametrize("where", sorted(SEEDED))
def test_every_seed_is_checked_against_brian2s_range(where, seed):
    with pytest.raises(HomeonetError) as err:
        SEEDED[where](seed)
    _one_line(err, "seed must be an integer in [0, 4294967295]")
