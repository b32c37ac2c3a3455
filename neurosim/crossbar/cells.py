"""The cross-point cell library and the netlist of a tile, built with bulk subcircuit instancing.

The cells are the subcircuits of ``circuits/cell_0t1r.cir``, ``cell_1t1r.cir`` and ``cell_1s1r.cir``
(ngspice runs those files as they are); :func:`cell_subcircuit` turns them into
:class:`~neurosim.netlist.Subcircuit` objects (reading the files with the SPICE reader), and
:func:`tile_netlist` instantiates one per cross-point with ``Netlist.add_instances`` (one bulk add
per element of the cell).

Examples
--------
>>> import numpy as np
>>> net = tile_netlist(np.full((2, 3), 1e-5), np.array([0.2, 0.1]), cell="1S1R", r_wire=1.0)
>>> net.element("X0_1.D1")["nodes"]
{'anode': 'X0_1.mid', 'cathode': 'c0_1'}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.crossbar.circuit import ACCESS_GATE
from neurosim.errors import ParameterError
from neurosim.resources import data_dir

__all__ = ["cell_subcircuit", "cell_file", "tile_netlist", "TIA_GAIN"]

#: Open-loop gain of the transimpedance amplifiers' VCVS in exported netlists. The virtual ground
#: then sits at I R_f / (1 + A): with A = 1e12 about 1e-13 of the read voltage.
TIA_GAIN = 1e12

_FILES = {"0T1R": "cell_0t1r.cir", "1T1R": "cell_1t1r.cir", "1S1R": "cell_1s1r.cir"}


def cell_file(cell: str) -> Path:
    """Path of the ``circuits/`` file of a cell (``"0T1R"``, ``"1T1R"``, ``"1S1R"``)."""
    if cell not in _FILES:
        raise ParameterError(f"cell_file: cell must be one of {sorted(_FILES)}, got {cell!r}")
    return data_dir("circuits") / _FILES[cell]


def _from_file(cell: str, name: str, ports: list[str], values: dict):
    """Read a cell's ``.subckt`` with :func:`neurosim.spice.read_spice` and rebuild it as a Subcircuit.

    The file gives the topology; the memristor ``Rm`` becomes the per-instance parameter ``r`` and
    ``values`` override element parameters by kind (e.g. the selector's ``i_s`` and ``n``).
    """
    from neurosim.netlist import Subcircuit
    from neurosim.spice import read_spice

    deck = read_spice(f"cell\n.include {cell_file(cell)}\nX1 {' '.join(ports)} {name}\n.end\n")
    net = deck.netlist
    sub = Subcircuit(name, ports, params={"r": 1e5})
    for group in net.groups:
        for k in range(len(group)):
            el = str(group.names[k])[len("X1.") :]
            nodes = [net.node_names[i].removeprefix("X1.") for i in group.nodes[k]]
            params = {p: float(v[k]) for p, v in group.params.items()}
            params.update(values.get(group.kind, {}))
            if group.kind == "resistor":
                sub.add_resistor(el, *nodes, "r" if el == "Rm" else params["resistance"])
            elif group.kind == "diode":
                sub.add_diode(el, *nodes, i_s=params["i_s"], n=params["n"], r_s=params["r_s"])
            else:  # pragma: no cover - the library cells hold only these kinds
                raise ParameterError(f"cell_subcircuit: unexpected {group.kind} {el!r} in {cell_file(cell)}")
    return sub


def cell_subcircuit(cell: str, r_on: float = 1e3, r_off: float = 1e12, i_s: float = 1e-15, n: float = 1.0):
    """The cell as a :class:`~neurosim.netlist.Subcircuit` with per-instance parameter ``r`` (ohm).

    0T1R and 1S1R are read from their ``circuits/`` files (:func:`neurosim.spice.read_spice`), with
    the selector's ``i_s`` and ``n`` set from the arguments. 1T1R is built here: its access switch is
    a behavioural source (``B``) in the file, which ngspice runs but the SPICE reader does not read;
    the test suite checks the file and this subcircuit give the same currents in ngspice.

    Parameters
    ----------
    cell : {"0T1R", "1T1R", "1S1R"}
    r_on, r_off : float
        1T1R access switch on / off resistance (ohm).
    i_s, n : float
        1S1R selector diodes' saturation current (A) and emission coefficient.

    Returns
    -------
    Subcircuit
        Ports ``row, col`` (and ``wl``, the word line, for 1T1R).

    .. math:: \\text{0T1R: } i = v/r, \\quad \\text{1S1R: } i = I_s(e^{u/nV_T} - e^{-u/nV_T}) = (v-u)/r
    """
    from neurosim.netlist import Subcircuit

    if cell == "0T1R":
        return _from_file(cell, "cell_0t1r", ["row", "col"], {})
    if cell == "1S1R":
        return _from_file(cell, "cell_1s1r", ["row", "col"], {"diode": {"i_s": i_s, "n": n}})
    if cell == "1T1R":
        sub = Subcircuit("cell_1t1r", ["row", "col", "wl"], params={"r": 1e5})
        sub.add_resistor("Rm", "row", "mid", "r")
        sub.add_switch("Sw", "mid", "col", "wl", "0", r_on, r_off, ACCESS_GATE["v_t"], ACCESS_GATE["v_w"])
        return sub
    raise ParameterError(f"cell_subcircuit: cell must be one of '0T1R', '1T1R', '1S1R', got {cell!r}")


def _names(fmt: str, rows: int, cols: int) -> np.ndarray:
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return np.char.add(np.char.add(fmt, i.ravel().astype(str)), np.char.add("_", j.ravel().astype(str)))


def tile_netlist(G, v_in, cell="0T1R", r_wire=1.0, r_driver=0.0, readout="tia", tia_gain=1e4, r_sense=100.0,
                 r_on=1e3, r_off=1e12, i_s=1e-15, n=1.0, driven=None, read=None, word_lines=None,
                 device=None, states=None):
    """The netlist of one tile read with row voltages ``v_in``.

    Nodes: ``r{i}_{j}`` row wire at cell (i, j), ``c{i}_{j}`` column wire, ``s{i}`` driver source,
    ``p{i}`` driver output (when ``r_driver > 0``), ``o{j}`` column end, ``t{j}`` TIA output.
    Elements: ``Vin{i}`` drivers, ``Rd{i}`` driver resistors, ``Rr{i}_{j}`` / ``Rc{i}_{j}`` wire
    segments (``r_wire`` > 0), cells ``X{i}_{j}`` (subcircuit instances), and per read column either
    a TIA (``E{j}`` VCVS of gain :data:`TIA_GAIN` with feedback ``Rf{j}`` = ``tia_gain``) or a sense
    resistor ``Rs{j}``. 1T1R word lines ``wl{i}`` are driven by ``Vwl{i}`` (3.3 V on, 0 V off).
    A zero ``r_wire`` joins each line into one node (``r{i}``, ``c{j}``).

    Column current (A): TIA ``(V(o_j) - V(t_j)) / tia_gain``, sense ``V(o_j) / r_sense``.

    Parameters
    ----------
    G : ndarray (rows, cols)
        Memristor conductances (S), > 0.
    v_in : ndarray (rows,)
        Driver voltages (V).
    driven, read : ndarray of bool, optional
        Rows with a driver and columns with a readout (others float); default all.
    word_lines : ndarray of bool, optional
        1T1R rows whose word line is on; default all.
    device : device model, optional
        Make each memristor this model's device element (its own I-V, exported by the SPICE
        writer as a behavioural subcircuit) instead of a resistor ``1/G``; ``G`` is then unused.
    states : ndarray (rows, cols), optional
        The devices' states (with ``device``).

    Returns
    -------
    Netlist
    """
    from neurosim.netlist import Netlist

    G = np.asarray(G, dtype=float)
    R, C = G.shape
    v_in = np.asarray(v_in, dtype=float)
    driven = np.ones(R, bool) if driven is None else np.asarray(driven, bool)
    read = np.ones(C, bool) if read is None else np.asarray(read, bool)
    wl = np.ones(R, bool) if word_lines is None else np.asarray(word_lines, bool)
    net = Netlist(f"neurosim {cell} tile {R}x{C}")
    ii, jj = np.meshgrid(np.arange(R), np.arange(C), indexing="ij")
    if r_wire > 0:
        rnode = _names("r", R, C).reshape(R, C)
        cnode = _names("c", R, C).reshape(R, C)
        if C > 1:
            net.add_resistors(_names("Rr", R, C - 1), rnode[:, :-1].ravel(), rnode[:, 1:].ravel(), r_wire)
        if R > 1:
            net.add_resistors(_names("Rc", R - 1, C), cnode[:-1, :].ravel(), cnode[1:, :].ravel(), r_wire)
        first = rnode[:, 0]
        last = cnode[-1, :]
    else:
        rnode = np.repeat(np.char.add("r", np.arange(R).astype(str))[:, None], C, axis=1)
        cnode = np.repeat(np.char.add("c", np.arange(C).astype(str))[None, :], R, axis=0)
        first, last = rnode[:, 0], cnode[0, :]
    rows = np.flatnonzero(driven)
    tag = rows.astype(str)
    vals = v_in[rows] if v_in.size == R else v_in
    src = np.char.add("s", tag)
    if r_driver > 0:
        drv_out = np.char.add("p", tag) if r_wire > 0 else first[rows]
        net.add_resistors(np.char.add("Rd", tag), src, drv_out, r_driver)
    else:
        drv_out = src if r_wire > 0 else first[rows]
    if r_wire > 0:
        net.add_resistors(np.char.add("Rw", tag), drv_out, first[rows], r_wire)
    net.add_vsources(np.char.add("Vin", tag), src if (r_driver > 0 or r_wire > 0) else first[rows], "0", vals)
    cols = np.flatnonzero(read)
    o = np.char.add("o", cols.astype(str))
    if r_wire > 0:
        net.add_resistors(np.char.add("Rw_c", cols.astype(str)), last[cols], o, r_wire)
    else:
        o = last[cols]
    if readout == "tia":
        t = np.char.add("t", cols.astype(str))
        net.add_resistors(np.char.add("Rf", cols.astype(str)), o, t, tia_gain)
        net.add_vcvss(np.char.add("E", cols.astype(str)), t, "0", "0", o, TIA_GAIN)
    else:
        net.add_resistors(np.char.add("Rs", cols.astype(str)), o, "0", r_sense)
    ports = {"row": rnode.ravel(), "col": cnode.ravel()}
    if cell == "1T1R":
        wln = np.char.add("wl", np.arange(R).astype(str))
        net.add_vsources(np.char.add("Vwl", np.arange(R).astype(str)), wln, "0",
                         np.where(wl, ACCESS_GATE["v_on"], ACCESS_GATE["v_off"]))
        ports["wl"] = wln[ii.ravel()]
    inst = _names("X", R, C)
    if device is not None:
        _device_cells(net, inst, ports, cell, device, states, r_on, r_off, i_s, n)
        return net
    if np.any(G <= 0) or not np.all(np.isfinite(G)):
        raise ParameterError("tile_netlist: G must be finite and > 0 S")
    net.add_instances(inst, cell_subcircuit(cell, r_on, r_off, i_s, n), ports, params={"r": 1.0 / G.ravel()})
    return net


def _device_cells(net, inst, ports, cell, device, states, r_on, r_off, i_s, n) -> None:
    """The cells with a device-model memristor, added in bulk with the same hierarchical names.

    A device's state is not a subcircuit parameter, so these cells are flattened here: ``X{i}_{j}.Rm``
    (the device, state per cell), ``X{i}_{j}.mid`` and the access elements of the cell library.
    """
    rm = np.char.add(inst, ".Rm")
    if cell == "0T1R":
        net.add_devices(rm, ports["row"], ports["col"], device, states)
        return
    mid = np.char.add(inst, ".mid")
    net.add_devices(rm, ports["row"], mid, device, states)
    if cell == "1T1R":
        net.add_switches(np.char.add(inst, ".Sw"), mid, ports["col"], ports["wl"], "0", r_on, r_off,
                         ACCESS_GATE["v_t"], ACCESS_GATE["v_w"])
    else:
        net.add_diodes(np.char.add(inst, ".D1"), mid, ports["col"], i_s=i_s, n=n)
        net.add_diodes(np.char.add(inst, ".D2"), ports["col"], mid, i_s=i_s, n=n)
