"""Checks that a netlist can be solved, vectorised for large circuits.

* every node has a DC path to ground (through resistors, sources, diodes, switches, devices; not
  through capacitors, current sources or controlling inputs);
* no loop made only of voltage sources, VCVS/CCVS outputs and inductors (their branch equations
  would be dependent at DC);
* every CCCS/CCVS is controlled by an existing V source, VCVS or CCVS.

Duplicate names, shorted sources and out-of-range values are refused when the element is added.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from neurosim.errors import NetlistError
from neurosim.netlist.elements import BRANCH_KINDS, CONTROL_KINDS, CONTROLLED_BY_CURRENT, KINDS

__all__ = ["validate_netlist"]


def _list(names, limit=5) -> str:
    shown = ", ".join(repr(str(s)) for s in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def validate_netlist(netlist) -> None:
    """Raise :class:`NetlistError` if ``netlist`` cannot have a unique DC solution.

    A node without a DC path to ground, and loops of voltage sources / VCVS outputs, are reported
    with the nodes and elements involved.

    .. math:: \\text{loop} \\iff |E_V| > |N_V| - c_V

    (``E_V`` edges, ``N_V`` nodes and ``c_V`` connected components of the voltage-source graph).

    Raises
    ------
    NetlistError
        Empty netlist, floating nodes, voltage-source loops.

    Examples
    --------
    >>> from neurosim.netlist import Netlist
    >>> net = Netlist()
    >>> net.add_vsource("V1", "a", "0", 1.0)
    >>> net.add_capacitor("C1", "a", "b", 1e-9)
    >>> net.validate()
    Traceback (most recent call last):
    ...
    neurosim.errors.NetlistError: Netlist: no DC path to ground from node 'b' (connected only through capacitors, current sources or controlling inputs)
    """
    groups = netlist.groups
    owner = "Netlist"
    if not groups:
        raise NetlistError(f"{owner}: the netlist has no elements")
    names = netlist.node_names
    n = len(names)
    a_list, b_list = [], []
    va, vb, vnames = [], [], []
    for g in groups:
        path = KINDS[g.kind].dc_path
        if path is not None:
            a_list.append(g.nodes[:, path[0]])
            b_list.append(g.nodes[:, path[1]])
        if g.kind in BRANCH_KINDS:
            va.append(g.nodes[:, 0])
            vb.append(g.nodes[:, 1])
            vnames.append(g.names)
    a = np.concatenate(a_list) if a_list else np.zeros(0, np.int64)
    b = np.concatenate(b_list) if b_list else np.zeros(0, np.int64)
    adj = sp.coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, labels = connected_components(adj, directed=False)
    floating = np.flatnonzero(labels != labels[0])
    if floating.size:
        word = "node" if floating.size == 1 else "nodes"
        raise NetlistError(
            f"{owner}: no DC path to ground from {word} {_list([names[i] for i in floating])} "
            "(connected only through capacitors, current sources or controlling inputs)"
        )
    branch_names = {s for g in groups if g.kind in CONTROL_KINDS for s in g.names.tolist()}
    for g in groups:
        if g.kind in CONTROLLED_BY_CURRENT:
            bad = [(e, c) for e, c in zip(g.names.tolist(), g.controls.tolist()) if c not in branch_names]
            if bad:
                raise NetlistError(
                    f"{owner}: {g.kind} {bad[0][0]!r} is controlled by {bad[0][1]!r}, which is not a voltage source, "
                    "VCVS or CCVS of this netlist"
                )
    if va:
        va_, vb_ = np.concatenate(va), np.concatenate(vb)
        involved = np.unique(np.concatenate([va_, vb_]))
        remap = np.searchsorted(involved, np.stack([va_, vb_]))
        m = involved.size
        vadj = sp.coo_matrix((np.ones(va_.size), (remap[0], remap[1])), shape=(m, m))
        ncomp, _ = connected_components(vadj, directed=False)
        if va_.size > m - ncomp:
            g = nx.MultiGraph()
            g.add_edges_from(zip(va_.tolist(), vb_.tolist(), np.concatenate(vnames).tolist()))
            cycle = nx.find_cycle(g)
            raise NetlistError(
                f"{owner}: loop of voltage sources / VCVS outputs / inductors {_list([e[2] for e in cycle], 10)} through nodes "
                f"{_list([names[e[0]] for e in cycle], 10)}"
            )
