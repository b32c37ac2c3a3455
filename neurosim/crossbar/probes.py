"""Probes of a programmed crossbar: single-cell reads with floating lines, netlist export.

Examples
--------
>>> import numpy as np
>>> from neurosim.crossbar import Crossbar, CrossbarConfig
>>> xb = Crossbar(np.eye(2), CrossbarConfig(cell="1S1R", r_wire=0.0))
>>> net = tile_netlist_of(xb)
>>> len(net.node_names) > 4
True
"""

from __future__ import annotations

import numpy as np

from neurosim.crossbar.cells import tile_netlist
from neurosim.crossbar.cellphysics import ACCESS_GATE, switch_conductance
from neurosim.crossbar.circuit import TileCircuit
from neurosim.errors import ParameterError
from neurosim.params import check_array

__all__ = ["read_cell", "tile_netlist_of", "tile_at"]


def tile_at(xb, row: int, col: int):
    """The tile holding input ``row`` and physical column ``col`` (layout of :attr:`G`), local indices."""
    if not (isinstance(row, (int, np.integer)) and 0 <= row < xb.n_in):
        raise ParameterError(f"Crossbar: row must be an integer in [0, {xb.n_in - 1}], got {row!r}")
    c = 0
    for tile in xb.tiles:
        if tile.r0 == 0:
            if isinstance(col, (int, np.integer)) and c <= col < c + tile.cols:
                o0, local = tile.o0, col - c
                break
            c += tile.cols
    else:
        raise ParameterError(f"Crossbar: col must be an integer in [0, {c - 1}], got {col!r}")
    tile = next(t for t in xb.tiles if t.o0 == o0 and t.r0 <= row < t.r1)
    return tile, row - tile.r0, local


def read_cell(xb, row: int, col: int, voltage: float | None = None, t: float | None = None) -> float:
    """Current (A) read from one cell with every other row and column floating (circuit physics).

    Only row ``row`` is driven (``voltage``, default ``v_read``) and only physical column ``col``
    is read; the unselected lines float, so sneak paths through the other cells add to the
    current. With 1T1R cells only the selected row's word line is on.

    .. math:: I = I_{cell}(V) + I_{sneak}

    Parameters
    ----------
    xb : Crossbar
        The programmed crossbar (its wiring, cell and read mode's conductances).
    row : int
        Input row.
    col : int
        Physical column (layout of :attr:`G`).
    voltage : float, optional
        Read voltage (V).
    t : float, optional
        Time since programming (s).

    Returns
    -------
    float
        Column current (A).
    """
    cfg = xb.config
    tile, i, j = tile_at(xb, row, col)
    v = cfg.dac.v_read if voltage is None else float(voltage)
    driven = np.zeros(tile.rows, bool)
    driven[i] = True
    read = np.zeros(tile.cols, bool)
    read[j] = True
    tc = TileCircuit(tile.rows, tile.cols, cfg.r_wire, cfg.r_driver, cfg.readout, cfg.r_sense, driven, read)
    cells = tile._cells(tile.G if cfg.mode == "ideal" else tile.conductance_at(t))
    if cfg.cell == "1T1R":
        gate = np.where(driven, ACCESS_GATE["v_on"], ACCESS_GATE["v_off"])[:, None]
        cells.g_access = np.broadcast_to(switch_conductance(cfg.r_on_access, cfg.r_off_access, gate), tile.G.shape)
    if cells.linear:
        return float(v * tc.linear_map(cells.linear_g()).M[0, 0])
    return float(tc.solve(cells, np.array([[v]]))[0][0, 0])


def tile_netlist_of(xb, voltages=None, tile: int = 0):
    """The netlist of one tile (cells from the ``circuits/`` library) read with ``voltages``.

    Parameters
    ----------
    xb : Crossbar
        The programmed crossbar.
    voltages : array_like, optional
        Row voltages (V) of the tile; default ``v_read`` on every row.
    tile : int
        Index into :attr:`tiles`.

    Returns
    -------
    Netlist
        Export it with :func:`neurosim.spice.write_spice`; see :func:`~neurosim.crossbar.cells.tile_netlist`.
    """
    cfg = xb.config
    if not (isinstance(tile, (int, np.integer)) and 0 <= tile < len(xb.tiles)):
        raise ParameterError(f"Crossbar.netlist: tile must be an integer in [0, {len(xb.tiles) - 1}], got {tile!r}")
    t = xb.tiles[tile]
    v = np.full(t.rows, cfg.dac.v_read) if voltages is None else check_array(
        "Crossbar.netlist", "voltages", voltages, shape=(t.rows,))
    if t.iv is not None:
        raise ParameterError("Crossbar.netlist: the NonlinearReadIV non-ideality has no netlist form; use a device "
                             "model with a nonlinear read I-V instead")
    # linear devices are resistors 1/G; nonlinear ones their model's own element (scalar parameters)
    device = None if t.phys.linear else t.phys.model
    return tile_netlist(t.G if cfg.mode == "ideal" else t.conductance_at(None), v, cfg.cell, cfg.r_wire,
                        cfg.r_driver, cfg.readout, cfg.tia_gain, cfg.r_sense, cfg.r_on_access, cfg.r_off_access,
                        cfg.selector_is, cfg.selector_n, device=device, states=None if device is None else t.state.ravel())
