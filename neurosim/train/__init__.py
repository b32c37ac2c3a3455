"""Training recurrent networks: BPTT, truncated BPTT, RTRL, CTC, global optimizers, hardware-aware and
in-situ training (see each module)."""

from neurosim.train.bptt import Trace, backward, bptt, forward, truncated_bptt
from neurosim.train.loop import History, evaluate, fit
from neurosim.train.losses import TrainingError, cross_entropy_loss, mse_loss
from neurosim.train.model import SequenceModel
from neurosim.train.optim import SGD, Adam, RMSprop, clip_grad_norm
from neurosim.train.tape import Tape

__all__ = ["Tape", "Trace", "forward", "backward", "bptt", "truncated_bptt", "SequenceModel", "fit", "evaluate",
           "History", "mse_loss", "cross_entropy_loss", "TrainingError", "SGD", "RMSprop", "Adam", "clip_grad_norm"]
