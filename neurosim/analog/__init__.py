"""Every recurrent cell executed on simulated crossbars, with the digital cell's own equations.

``to_analog(cell, hardware)`` returns the analog twin of a cell (the same class, identical call and
return values) whose ``ops`` is an :class:`AnalogOps`; :class:`HardwareConfig` describes the hardware
(device card, tiles, mapping, read mode, converters, neuron periphery, state storage,
non-idealities, drift along the sequence, seed); ``to_digital`` gives the exact twin back.
"""

from neurosim.analog.activation import AnalogActivation
from neurosim.analog.executor import AnalogOps, is_analog, quantize_state, to_analog, to_digital
from neurosim.analog.hardware import HardwareConfig

__all__ = ["to_analog", "to_digital", "is_analog", "HardwareConfig", "AnalogActivation", "AnalogOps", "quantize_state"]
