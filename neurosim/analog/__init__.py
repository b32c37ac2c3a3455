"""Every recurrent cell executed on simulated crossbars, with the digital cell's own equations.

``to_analog(cell, hardware)`` returns the analog twin of a digital cell (identical call and return
values); :class:`HardwareConfig` describes the hardware (device card, tiles, mapping, read mode,
converters, neuron periphery, state storage, non-idealities, drift along the sequence, seed).
"""

from neurosim.analog.activation import AnalogActivation
from neurosim.analog.executor import AnalogCell, quantize_state, to_analog
from neurosim.analog.hardware import HardwareConfig

__all__ = ["to_analog", "HardwareConfig", "AnalogActivation", "AnalogCell", "quantize_state"]
