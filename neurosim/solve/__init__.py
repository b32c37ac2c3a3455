"""Circuit analyses on compiled netlists: DC operating point, DC sweeps, factorize-once batch solves,
small-signal AC, transients."""

from neurosim.solve.ac import ACResult, ac, ac_frequencies
from neurosim.solve.compile import CompiledCircuit, compile
from neurosim.solve.dc import dc
from neurosim.solve.dcsweep import DCSweepResult, dc_sweep, sweep_values
from neurosim.solve.linear import LinearSolver
from neurosim.solve.newton import Tolerances
from neurosim.solve.quasistatic import quasistatic
from neurosim.solve.results import OperatingPoint, TransientResult
from neurosim.solve.transient import transient

__all__ = ["compile", "CompiledCircuit", "dc", "LinearSolver", "OperatingPoint", "TransientResult", "Tolerances", "transient", "quasistatic",
           "ac", "ACResult", "ac_frequencies", "dc_sweep", "DCSweepResult", "sweep_values"]
