"""Associative memories on crossbars: Hopfield networks, the annealed stochastic Hopfield solver
(max-cut) and bidirectional associative memories (forward W x and transposed W^T y reads).

Layer: above :mod:`neurosim.analog` and :mod:`neurosim.tasks`, below :mod:`neurosim.study`.
"""

from neurosim.memory.bam import BAM
from neurosim.memory.hopfield import Hopfield, check_bipolar
from neurosim.memory.solver import (
    StochasticHopfield,
    cut_value,
    max_cut_brute_force,
    max_cut_weights,
    random_graph,
    success_probability,
)

__all__ = ["Hopfield", "StochasticHopfield", "BAM", "check_bipolar", "max_cut_weights", "cut_value",
           "max_cut_brute_force", "random_graph", "success_probability"]
