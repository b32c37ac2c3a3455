"""Training recurrent networks: BPTT, truncated BPTT, RTRL, CTC, global optimizers, hardware-aware and
in-situ training (see each module)."""

from neurosim.train.bptt import Trace, backward, bptt, forward, truncated_bptt
from neurosim.train.loop import History, evaluate, fit
from neurosim.train.losses import TrainingError, cross_entropy_loss, mse_loss
from neurosim.train.model import SequenceModel
from neurosim.train.optim import SGD, Adam, RMSprop, clip_grad_norm
from neurosim.train.ctc import ctc_beam_search, ctc_greedy_decode, ctc_loss
from neurosim.train.globalopt import (SearchResult, flat_params, genetic_algorithm, particle_swarm, population_mse,
                                      set_flat, simulated_annealing)
from neurosim.train.hwa import STANDARD_HWA_PRESET, HardwareAwareOps, hardware_aware_fit
from neurosim.train.insitu import (AsymmetryCurve, InSituResult, asymmetry_curve, insitu_fit, plot_asymmetry_curve,
                                   pulse_update)
from neurosim.train.rtrl import RTRL, rtrl
from neurosim.train.tape import Tape

__all__ = ["Tape", "Trace", "forward", "backward", "bptt", "truncated_bptt", "SequenceModel", "fit", "evaluate",
           "History", "mse_loss", "cross_entropy_loss", "TrainingError", "SGD", "RMSprop", "Adam", "clip_grad_norm",
           "ctc_loss", "ctc_greedy_decode", "ctc_beam_search", "RTRL", "rtrl", "genetic_algorithm",
           "simulated_annealing", "particle_swarm", "population_mse", "flat_params", "set_flat", "SearchResult",
           "HardwareAwareOps", "hardware_aware_fit", "STANDARD_HWA_PRESET", "InSituResult", "insitu_fit", "pulse_update",
           "AsymmetryCurve", "asymmetry_curve", "plot_asymmetry_curve"]
