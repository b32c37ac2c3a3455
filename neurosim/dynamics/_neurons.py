"""Recognising neurons in a netlist: the part shared by the rate/LIF networks of
:mod:`neurosim.dynamics.neuralnet` and the spiking networks of :mod:`neurosim.dynamics.spiking`.

A neuron is a node with a capacitor to ground; a bias is a constant current source between ground
and a neuron node; a threshold-and-reset (``lif``) element sits across a neuron node and ground.
Each function checks its elements and raises :class:`~neurosim.errors.NetlistError` naming the
first one that does not fit.
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import NetlistError


class NeuronElements:
    """The element groups of a neuron netlist by kind, concatenated on demand.

    Parameters
    ----------
    netlist : Netlist
    allowed : tuple of str
        Element kinds this kind of network has; any other raises (naming the element).
    owner : str
        Prefix of the error messages.
    what : str
        The kind of network, in messages (``"neural"``, ``"spiking"``).
    """

    def __init__(self, netlist, allowed: tuple, owner: str, what: str):
        self.owner, self.what = owner, what
        self.by: dict[str, list] = {}
        for g in netlist.groups:
            if len(g) and g.kind not in allowed:
                raise NetlistError(f"{owner}: element {str(g.names[0])!r} is a {g.kind}; a {what} netlist has only "
                                   f"{', '.join(allowed)} elements")
            if len(g):
                self.by.setdefault(g.kind, []).append(g)
        self.node_names = np.array(netlist.node_names, dtype=str)

    def cat(self, kind: str, n_terms: int = 2):
        """``(names, nodes, params)`` of all elements of ``kind`` (empty arrays when there are none)."""
        gs = self.by.get(kind, [])
        if not gs:
            return np.zeros(0, str), np.zeros((0, n_terms), np.int64), {}
        return (np.concatenate([g.names for g in gs]), np.concatenate([g.nodes for g in gs]),
                {p: np.concatenate([g.params[p] for g in gs]) for p in gs[0].params})

    def fail(self, name, why: str):
        raise NetlistError(f"{self.owner}: element {str(name)!r} {why}")


def off_ground(nodes: np.ndarray) -> np.ndarray:
    """The terminal of each two-terminal element that is not ground (the first when neither is)."""
    return np.where(nodes[:, 0] == 0, nodes[:, 1], nodes[:, 0])


def neuron_nodes(els: NeuronElements):
    """Neuron nodes from the capacitors to ground.

    Returns
    -------
    idx : ndarray of int, shape (nodes,)
        Neuron index of every netlist node (-1: not a neuron node).
    neurons : ndarray of int, shape (N,)
        Node of each neuron.
    C : ndarray, shape (N,)
        Capacitance to ground of each neuron, F.
    cap_names, cap_node : ndarray
        Each capacitor and its node (for messages).
    """
    cn, cnodes, cp = els.cat("capacitor")
    if not cn.size:
        raise NetlistError(f"{els.owner}: no capacitor to ground: a {els.what} netlist needs one per neuron node")
    grounded = (cnodes[:, 0] == 0) ^ (cnodes[:, 1] == 0)
    if not grounded.all():
        els.fail(cn[np.flatnonzero(~grounded)[0]], "(capacitor) must connect a neuron node to ground")
    cnode = off_ground(cnodes)
    neurons = np.unique(cnode)
    idx = np.full(els.node_names.size, -1)
    idx[neurons] = np.arange(neurons.size)
    return idx, neurons, np.bincount(idx[cnode], weights=cp["capacitance"], minlength=neurons.size), cn, cnode


def bias_currents(els: NeuronElements, idx: np.ndarray, n: int) -> np.ndarray:
    """Constant current into each neuron from the current sources between ground and its node, A."""
    sn, snodes, sp_ = els.cat("isource")
    if not sn.size:
        return np.zeros(n)
    if any(g.waveforms is not None and any(w is not None for w in g.waveforms) for g in els.by["isource"]):
        raise NetlistError(f"{els.owner}: current sources must be constant (dc), a waveform was given")
    node = off_ground(snodes)
    ok = ((snodes[:, 0] == 0) ^ (snodes[:, 1] == 0)) & (idx[node] >= 0)
    if not ok.all():
        els.fail(sn[np.flatnonzero(~ok)[0]], "(isource) must connect ground and a neuron node")
    into = np.where(snodes[:, 1] != 0, 1.0, -1.0)  # current flows from np through the source to nn
    return np.bincount(idx[node], weights=into * sp_["dc"], minlength=n)


def lif_elements(els: NeuronElements, idx: np.ndarray, n: int):
    """Threshold-and-reset elements across a neuron node and ground.

    Returns
    -------
    names : ndarray of str
    neuron : ndarray of int
        Neuron of each element.
    v_th, v_reset, t_ref : ndarray, shape (N,)
        Per neuron (``inf``, 0, 0 where it has none), V, V, s.
    count : ndarray of int, shape (N,)
        Elements per neuron (the caller decides how many it allows).
    """
    ln, lnodes, lp = els.cat("lif")
    ok = (lnodes[:, 1] == 0) & (idx[lnodes[:, 0]] >= 0)
    if not ok.all():
        els.fail(ln[np.flatnonzero(~ok)[0]], "(lif) must be across a neuron node (n1) and ground (n2)")
    bad = lp.get("v_reset", np.zeros(0)) >= lp.get("v_th", np.zeros(0))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        els.fail(ln[k], f"(lif) needs v_reset < v_th, got v_reset={lp['v_reset'][k]} V, v_th={lp['v_th'][k]} V")
    li = idx[lnodes[:, 0]]
    v_th, v_reset, t_ref = np.full(n, np.inf), np.zeros(n), np.zeros(n)
    if ln.size:
        v_th[li], v_reset[li], t_ref[li] = lp["v_th"], lp["v_reset"], lp["t_ref"]
    return ln, li, v_th, v_reset, t_ref, np.bincount(li, minlength=n)
