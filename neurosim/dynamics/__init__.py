"""Continuous-time networks: CTRNN, MTRNN, memristive networks, liquid state machines (scipy and brian2)."""

from neurosim.dynamics.ctrnn import CTRNN, Trajectory
from neurosim.dynamics.mtrnn import MTRNN, mtrnn_step

__all__ = ["CTRNN", "Trajectory", "MTRNN", "mtrnn_step"]
