"""Continuous-time networks: CTRNN, MTRNN, memristive networks, liquid state machines (scipy and brian2)."""

from neurosim.dynamics.ctrnn import CTRNN, Trajectory
from neurosim.dynamics.mtrnn import MTRNN, mtrnn_step

__all__ = ["CTRNN", "Trajectory", "MTRNN", "mtrnn_step"]
from neurosim.dynamics.analysis import (  # noqa: E402
    FixedPoint,
    LyapunovResult,
    cell_map,
    ctrnn_map,
    fixed_points,
    largest_lyapunov,
)

__all__ += ["FixedPoint", "LyapunovResult", "cell_map", "ctrnn_map", "fixed_points", "largest_lyapunov"]
from neurosim.dynamics.circuit import CTRNNCircuit, ctrnn_circuit  # noqa: E402

__all__ += ["CTRNNCircuit", "ctrnn_circuit"]
from neurosim.dynamics.memnet import CaravelliMemristor, MemristiveNetwork, cycle_projector  # noqa: E402

__all__ += ["CaravelliMemristor", "MemristiveNetwork", "cycle_projector"]
from neurosim.dynamics.lsm import LiquidResponse, LiquidStateMachine, filtered_states, latency_encode, poisson_encode  # noqa: E402
from neurosim.dynamics.stdp import MemristiveSTDP  # noqa: E402

__all__ += ["LiquidResponse", "LiquidStateMachine", "filtered_states", "latency_encode", "poisson_encode", "MemristiveSTDP"]
from neurosim.dynamics.neuralnet import NeuralNetlist, ctrnn_netlist, lif_netlist, rate_netlist  # noqa: E402

__all__ += ["NeuralNetlist", "ctrnn_netlist", "lif_netlist", "rate_netlist"]
from neurosim.dynamics.spiking import SpikingNetlist, SpikingNetwork  # noqa: E402

__all__ += ["SpikingNetlist", "SpikingNetwork"]
