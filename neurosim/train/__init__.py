"""Training recurrent networks: BPTT, truncated BPTT, RTRL, CTC, global optimizers, hardware-aware and
in-situ training (see each module)."""

from neurosim.train.bptt import Trace, backward, bptt, forward, truncated_bptt
from neurosim.train.tape import Tape

__all__ = ["Tape", "Trace", "forward", "backward", "bptt", "truncated_bptt"]
