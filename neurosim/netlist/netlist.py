"""The circuit graph: :class:`Netlist`, :class:`Subcircuit` and (bulk) subcircuit instancing.

Storage and graph
-----------------
Elements live in array groups (:class:`~neurosim.netlist.elements.ElementGroup`); the source of
truth for building, compiling and validating is those arrays. ``Netlist.graph`` materialises the
``networkx.MultiGraph`` view on demand (nodes are node names, one edge per element keyed by its
name, with ``kind`` and all ``terminals`` as attributes) and caches it until the next add: inserting
the ~200k edges of a 256x256 crossbar into networkx takes about 0.5 s, which would double the build
time if done eagerly.

Hierarchical names
------------------
Instantiating subcircuit ``sub`` as ``X1`` adds element ``R1`` of ``sub`` as ``X1.R1``; internal node
``n1`` becomes ``X1.n1``; ports map to the given nodes; ground ``"0"`` stays global.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np

from neurosim.errors import NetlistError, ParameterError
from neurosim.netlist.builder import CircuitBuilder, _as_str_array
from neurosim.netlist.elements import GROUND

__all__ = ["Netlist", "Subcircuit"]


class _Instancing:
    """add_instance / add_instances, shared by Netlist and Subcircuit (nesting flattens at add time)."""

    def add_instance(self, name: str, subckt: "Subcircuit", nodes, params: Mapping | None = None) -> None:
        """Instantiate ``subckt`` once as ``name`` with its ports connected to ``nodes``.

        Parameters
        ----------
        name : str
            Instance name, prefix of the hierarchical element and internal-node names.
        subckt : Subcircuit
            The definition.
        nodes : sequence of str or mapping port -> str
            Nodes for the ports, in port order or by port name.
        params : mapping of str to float, optional
            Overrides of the subcircuit's parameters.

        Raises
        ------
        NetlistError
            Wrong number of nodes, unknown port, duplicate names.

        Examples
        --------
        >>> from neurosim.netlist import Netlist, Subcircuit
        >>> div = Subcircuit("div", ["inp", "out"], params={"r": 1e3})
        >>> div.add_resistor("R1", "inp", "out", "r")
        >>> div.add_resistor("R2", "out", "0", "r")
        >>> net = Netlist()
        >>> net.add_instance("X1", div, ["a", "b"], params={"r": 2e3})
        >>> net.element("X1.R2")["params"]
        {'resistance': 2000.0}
        """
        owner = f"{self._owner}.add_instance"
        if not isinstance(name, str) or not name:
            raise ParameterError(f"{owner}: name must be a non-empty string, got {name!r}")
        if isinstance(nodes, Mapping):
            port_nodes = {p: [v] for p, v in nodes.items()}
        else:
            nodes = list(nodes)
            if len(nodes) != len(subckt.ports):
                raise NetlistError(
                    f"{owner}: instance {name!r} of {subckt.name!r} needs {len(subckt.ports)} nodes "
                    f"{list(subckt.ports)}, got {len(nodes)}"
                )
            port_nodes = {p: [v] for p, v in zip(subckt.ports, nodes)}
        self.add_instances([name], subckt, port_nodes, params={k: [v] for k, v in (params or {}).items()})

    def add_instances(self, names, subckt: "Subcircuit", port_nodes: Mapping, params: Mapping | None = None) -> None:
        """Instantiate ``subckt`` K times at once, bulk-adding each of its elements once.

        Parameters
        ----------
        names : array_like of str, shape (K,)
            Instance names.
        subckt : Subcircuit
            The definition.
        port_nodes : mapping port -> array_like of str, shape (K,)
            The node each instance's port connects to.
        params : mapping of str to float or array (K,), optional
            Per-instance overrides of the subcircuit's parameters.

        Raises
        ------
        NetlistError
            Missing or unknown ports, duplicate names.
        ParameterError
            Unknown parameter, wrong shapes, out-of-range values.

        Examples
        --------
        >>> from neurosim.netlist import Netlist, Subcircuit
        >>> cell = Subcircuit("cell", ["row", "col"], params={"g": 1e-5})
        >>> cell.add_resistor("R", "row", "col", 1e5)
        >>> net = Netlist()
        >>> net.add_instances(["X0", "X1"], cell, {"row": ["r0", "r0"], "col": ["c0", "c1"]})
        >>> sorted(net.graph.edges(keys=True))
        [('r0', 'c0', 'X0.R'), ('r0', 'c1', 'X1.R')]
        """
        owner = f"{self._owner}.add_instances"
        if not isinstance(subckt, Subcircuit):
            raise ParameterError(f"{owner}: subckt must be a Subcircuit, got {subckt!r}")
        inst = _as_str_array(owner, "names", names, None)
        k = inst.shape[0]
        missing = [p for p in subckt.ports if p not in port_nodes]
        unknown = [p for p in port_nodes if p not in subckt.ports]
        if missing or unknown:
            raise NetlistError(
                f"{owner}: subcircuit {subckt.name!r} has ports {list(subckt.ports)}; "
                f"missing {missing}, unknown {unknown}"
            )
        ports = {p: _as_str_array(owner, f"port_nodes[{p!r}]", v, k) for p, v in port_nodes.items()}
        values = {}
        for pname, v in (params or {}).items():
            if pname not in subckt.params:
                raise ParameterError(
                    f"{owner}: subcircuit {subckt.name!r} has no parameter {pname!r} (has {sorted(subckt.params)})"
                )
            arr = np.asarray(v, dtype=np.float64)
            if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != k):
                raise ParameterError(f"{owner}: params[{pname!r}] must be a scalar or have shape ({k},), got {arr.shape}")
            values[pname] = np.broadcast_to(arr, (k,))
        prefix = [s + "." for s in inst.tolist()]
        for group in subckt.groups:
            m = len(group)
            el = group.names.tolist()
            names_out = np.array([p + e for p in prefix for e in el]) if m else np.zeros(0, str)
            nodes_out = []
            for t in range(len(group.terminals)):
                cols = []
                for j in range(m):
                    node = subckt._node_names[group.nodes[j, t]]
                    if node in ports:
                        cols.append(ports[node])
                    elif node == GROUND:
                        cols.append(np.full(k, GROUND))
                    else:
                        cols.append(np.array([p + node for p in prefix]))
                nodes_out.append(np.stack(cols, axis=1).ravel())
            pvals = {p: np.repeat(v[None, :], k, axis=0) for p, v in group.params.items()}
            for j, e in enumerate(el):
                for field, ref in subckt._refs.get(e, {}).items():
                    if ref in values:
                        pvals[field][:, j] = values[ref]
            pvals = {p: v.ravel() for p, v in pvals.items()}
            if group.kind in ("bcurrent", "bvoltage"):  # the expression's references belong to the instance
                self._instance_bsources(owner, group, names_out, nodes_out, k, prefix, ports, subckt)
                continue
            wf = None if group.waveforms is None else group.waveforms * k
            # a controlling element named inside the subcircuit is the instance's own copy
            ctl = None if group.controls is None else np.array([p + c for p in prefix for c in group.controls.tolist()])
            self._add_group(owner, group.kind, names_out, nodes_out, pvals, wf, group.model, ctl)


    def _instance_bsources(self, owner, group, names_out, nodes_out, k, prefix, ports, subckt) -> None:
        """B sources of ``k`` instances: one expression per instance, its node references mapped like
        the element's terminals (port -> the instance's node, ground kept, internal -> prefixed) and its
        ``I(element)`` references to the instance's own element."""
        from neurosim.spice.expr import Expression

        lower = {n.lower(): n for n in subckt._node_names}
        m = len(group)
        names_out = names_out.reshape(k, m)
        nodes_out = [c.reshape(k, m) for c in nodes_out]

        def node(name, i):
            local = lower.get(name, name)
            if local in ports:
                return str(ports[local][i])
            return GROUND if local in (GROUND, "gnd") else prefix[i] + local

        expr = group.model
        for i in range(k):
            refs = [("v", node(r[1], i), node(r[2], i)) if r[0] == "v" else ("i", prefix[i] + r[1]) if r[0] == "i" else r
                    for r in expr.refs]
            self._add_group(owner, group.kind, names_out[i], [c[i] for c in nodes_out], {}, None,
                            Expression(expr.tree, refs, expr.text), None)


class Netlist(_Instancing, CircuitBuilder):
    """A circuit: named nodes (ground is ``"0"``) and named elements, stored as array groups.

    Parameters
    ----------
    title : str
        Free text (the first line of an exported SPICE deck).

    Examples
    --------
    >>> from neurosim.netlist import Netlist
    >>> net = Netlist("divider")
    >>> net.add_vsource("V1", "in", "0", dc=1.0)
    >>> net.add_resistor("R1", "in", "out", 1e3)
    >>> net.add_resistor("R2", "out", "0", 1e3)
    >>> net.validate()
    >>> sorted(net.graph.nodes), net.element("R1")["nodes"]
    (['0', 'in', 'out'], {'n1': 'in', 'n2': 'out'})
    """

    _owner = "Netlist"

    def __init__(self, title: str = ""):
        if not isinstance(title, str):
            raise ParameterError(f"Netlist: title must be a string, got {title!r}")
        super().__init__()
        self.title = title
        self._graph: nx.MultiGraph | None = None
        self._graph_version = -1

    def __repr__(self) -> str:
        return f"Netlist({self.title!r}, {len(self)} elements, {len(self._node_names)} nodes)"

    @property
    def graph(self) -> nx.MultiGraph:
        """The ``networkx.MultiGraph`` view, built on demand and cached until the next add.

        Edge ``(u, v, key=name)`` joins an element's first two terminals; its attributes are
        ``kind`` and ``terminals`` (terminal -> node, all terminals of multi-terminal elements).
        """
        if self._graph is None or self._graph_version != self._version:
            g = nx.MultiGraph(title=self.title)
            g.add_nodes_from(self._node_names)
            nn = self._node_names
            for group in self.groups:
                terms = group.terminals
                idx = group.nodes.tolist()
                g.add_edges_from(
                    (nn[r[0]], nn[r[1]], name, {"kind": group.kind, "terminals": dict(zip(terms, (nn[i] for i in r)))})
                    for name, r in zip(group.names.tolist(), idx)
                )
            self._graph, self._graph_version = g, self._version
        return self._graph

    def validate(self) -> None:
        """Check the circuit can be solved: see :func:`neurosim.netlist.validate.validate_netlist`."""
        from neurosim.netlist.validate import validate_netlist

        validate_netlist(self)


class Subcircuit(_Instancing, CircuitBuilder):
    """A reusable circuit block with named ports (SPICE ``.subckt``), built with the same add_* API.

    Element values may name a subcircuit parameter (a string) instead of a number; each instance
    may override the parameter's default (:meth:`Netlist.add_instances`).

    Parameters
    ----------
    name : str
        Definition name.
    ports : sequence of str
        Port (external node) names, in connection order; ``"0"`` is global ground, not a port.
    params : mapping of str to float, optional
        Parameter names and default values (SI units).

    Examples
    --------
    >>> sub = Subcircuit("cell", ["top", "bottom"], params={"r": 1e4})
    >>> sub.add_resistor("R1", "top", "mid", "r")
    >>> sub.add_diode("D1", "mid", "bottom")
    >>> sub.node_names
    ['0', 'top', 'bottom', 'mid']
    """

    _owner = "Subcircuit"

    def __init__(self, name: str, ports, params: Mapping | None = None):
        if not isinstance(name, str) or not name:
            raise ParameterError(f"Subcircuit: name must be a non-empty string, got {name!r}")
        super().__init__()
        ports = [ports] if isinstance(ports, str) else list(ports)
        if not ports or not all(isinstance(p, str) and p and p != GROUND for p in ports):
            raise ParameterError(f"Subcircuit: ports must be non-empty node names other than '0', got {ports!r}")
        if len(set(ports)) != len(ports):
            raise NetlistError(f"Subcircuit {name!r}: duplicate port in {ports!r}")
        self.name = name
        self.ports = tuple(ports)
        self.params = {}
        for k, v in (params or {}).items():
            if not isinstance(k, str) or not k:
                raise ParameterError(f"Subcircuit {name!r}: parameter names must be strings, got {k!r}")
            self.params[k] = float(np.float64(v))
            if not np.isfinite(self.params[k]):
                raise ParameterError(f"Subcircuit {name!r}: parameter {k} must be finite, got {v!r}")
        self._owner = f"Subcircuit {name!r}"
        self._refs: dict[str, dict[str, str]] = {}
        self._staged: dict[str, str] = {}
        # ports are nodes from the start so that their order is stable
        for p in self.ports:
            self._nodes_to_index(np.array([p]))

    def __repr__(self) -> str:
        return f"Subcircuit({self.name!r}, ports={list(self.ports)}, {len(self)} elements)"

    def _param_value(self, owner, element, pname, value):
        if isinstance(value, str):
            if value not in self.params:
                raise ParameterError(
                    f"{owner}: {pname} names an unknown subcircuit parameter {value!r} (has {sorted(self.params)})"
                )
            self._staged[pname] = value
            return self.params[value]
        return value

    def _add_single(self, owner, kind, name, nodes, params, waveform=None, model=None, control=None):
        try:
            super()._add_single(owner, kind, name, nodes, params, waveform, model, control)
            if self._staged:
                self._refs[name] = dict(self._staged)
        finally:
            self._staged.clear()

    def add_device(self, name, np_, nn, model, state=None):  # noqa: D102 - documented in the base class
        try:
            super().add_device(name, np_, nn, model, state)
        finally:
            self._staged.clear()

    add_device.__doc__ = CircuitBuilder.add_device.__doc__
