"""Crossbar arrays: weight mapping, programming, converters, three read modes, energy/latency/area.

Public API: :class:`Crossbar` and its :class:`CrossbarConfig` (with :class:`DAC`, :class:`ADC`,
:class:`Programming`, :class:`CostModel`), the :class:`Cost` counters, the :class:`WeightMap` and the
structured tile circuit :class:`TileCircuit`; :func:`tile_netlist` builds a tile as a
:class:`~neurosim.netlist.Netlist` from the ``circuits/`` cell library (:func:`cell_subcircuit`),
``Crossbar.netlist()`` does it for a programmed tile.

Module map: ``config`` (dataclasses, TOML), ``mapping`` (weights <-> conductances), ``periphery``
(DAC/ADC), ``device`` (device-model adapter), ``programming`` (write-verify), ``tile`` (the three
read modes of one tile), ``circuit`` (structured MNA, port Schur complement, Newton), ``readplan`` (the
compiled read: every linear tile in a few GEMMs), ``cells`` (cell library, netlists), ``probes`` (single-cell
reads with floating lines), ``cost`` (energy, latency, area).

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

from neurosim.crossbar.cells import cell_subcircuit, tile_netlist
from neurosim.crossbar.circuit import TileCircuit
from neurosim.crossbar.config import ADC, DAC, CostModel, CrossbarConfig, Programming
from neurosim.crossbar.cost import Cost
from neurosim.crossbar.crossbar import Crossbar
from neurosim.crossbar.deployment import deployment_reads
from neurosim.crossbar.mapping import WeightMap

__all__ = [
    "deployment_reads",
    "Crossbar",
    "CrossbarConfig",
    "DAC",
    "ADC",
    "Programming",
    "CostModel",
    "Cost",
    "WeightMap",
    "TileCircuit",
    "tile_netlist",
    "cell_subcircuit",
]
