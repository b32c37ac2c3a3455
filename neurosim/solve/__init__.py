"""Circuit analyses on compiled netlists: DC operating point, factorize-once batch solves, transients."""

from neurosim.solve.compile import CompiledCircuit, compile
from neurosim.solve.dc import dc
from neurosim.solve.linear import LinearSolver
from neurosim.solve.newton import Tolerances
from neurosim.solve.quasistatic import quasistatic
from neurosim.solve.results import OperatingPoint, TransientResult
from neurosim.solve.transient import transient

__all__ = ["compile", "CompiledCircuit", "dc", "LinearSolver", "OperatingPoint", "TransientResult", "Tolerances", "transient", "quasistatic"]
