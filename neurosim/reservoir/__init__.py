"""Reservoir computing: echo state networks (digital or with the reservoir matrix on a crossbar) and
dynamic-memristor reservoirs (the devices' volatile state driven by time-multiplexed masked pulses).

Layer: above :mod:`neurosim.analog` and :mod:`neurosim.tasks`, below :mod:`neurosim.study`.
"""

from neurosim.reservoir.dynamic import DynamicReservoir
from neurosim.reservoir.esn import ESN, scale_spectral_radius, spectral_radius

__all__ = ["ESN", "DynamicReservoir", "spectral_radius", "scale_spectral_radius"]
