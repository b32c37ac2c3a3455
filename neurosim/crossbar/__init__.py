"""Crossbar arrays: weight mapping, programming, converters, three read modes, energy/latency/area.

Public API: :class:`Crossbar` and its :class:`CrossbarConfig` (with :class:`DAC`, :class:`ADC`,
:class:`Programming`, :class:`CostModel`), the :class:`Cost` counters, the :class:`WeightMap` and the
structured tile circuit :class:`TileCircuit`; :func:`crossbar_netlist` exports a tile as a
:class:`~neurosim.netlist.Netlist` built from the ``circuits/`` cell library.

Examples
--------
>>> import numpy as np
>>> from neurosim.crossbar import Crossbar, CrossbarConfig, ADC
>>> W = np.array([[1.0, -0.5], [0.25, 0.75]])
>>> xb = Crossbar(W, CrossbarConfig(mode="circuit", r_wire=0.5))
>>> y = xb.matvec([1.0, 1.0])
>>> bool(np.allclose(y, W @ [1.0, 1.0], rtol=1e-3))   # IR drop: close to, not exactly, W x
True
"""

from neurosim.crossbar.circuit import TileCircuit
from neurosim.crossbar.config import ADC, DAC, CostModel, CrossbarConfig, Programming
from neurosim.crossbar.cost import Cost
from neurosim.crossbar.crossbar import Crossbar
from neurosim.crossbar.mapping import WeightMap

__all__ = [
    "Crossbar",
    "CrossbarConfig",
    "DAC",
    "ADC",
    "Programming",
    "CostModel",
    "Cost",
    "WeightMap",
    "TileCircuit",
]
