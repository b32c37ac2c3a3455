"""Circuit netlists: nodes, elements (array groups), subcircuits, waveforms, validation.

See :class:`Netlist` for the add_* API and :mod:`neurosim.netlist.elements` for each element's
equation and terminals.
"""

from neurosim.netlist.elements import GROUND, KINDS, THERMAL_VOLTAGE, ElementGroup
from neurosim.netlist.examples import crossbar_netlist
from neurosim.netlist.netlist import Netlist, Subcircuit
from neurosim.netlist.validate import validate_netlist
from neurosim.netlist.waveforms import PWL, Exp, Pulse, Sine, Waveform

__all__ = [
    "Netlist",
    "Subcircuit",
    "ElementGroup",
    "KINDS",
    "GROUND",
    "THERMAL_VOLTAGE",
    "Waveform",
    "PWL",
    "Exp",
    "Pulse",
    "Sine",
    "validate_netlist",
    "crossbar_netlist",
]
