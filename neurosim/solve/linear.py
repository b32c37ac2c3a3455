"""Factorize once, solve many: batched right-hand sides and source-to-output transfer matrices.

For a linear circuit :math:`A x = B u` (``u`` the independent-source values), every requested output
``y = C x`` (node voltages, branch currents, resistor currents) is a fixed linear map of ``u``:

.. math:: y = C A^{-1} B u = M u

:class:`LinearSolver` factorizes ``A`` once (SuperLU) and either solves many ``u`` as one block, or
builds ``M`` with one solve per selected source (or per output with the transposed factors,
whichever is fewer) and then applies it as a matrix product -- the crossbar read pattern.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla

from neurosim.errors import NetlistError, ParameterError
from neurosim.params import check_array

__all__ = ["LinearSolver"]

_PERMC = ("MMD_AT_PLUS_A", "COLAMD", "MMD_ATA", "NATURAL")


class LinearSolver:
    """The LU factors of a linear circuit's MNA matrix, reused for any number of right-hand sides.

    Parameters
    ----------
    circuit : CompiledCircuit or Netlist
        A circuit without diodes, switches or devices.
    permc_spec : str
        SuperLU column ordering: ``"MMD_AT_PLUS_A"`` (default; minimum degree on the symmetric
        pattern, the best of SuperLU's orderings on crossbar grids), ``"COLAMD"``, ``"MMD_ATA"``,
        ``"NATURAL"``.
    chunk : int
        Right-hand sides per block solve (bounds memory: ``size * chunk`` floats).

    Raises
    ------
    NetlistError
        Nonlinear circuit or singular matrix.

    Examples
    --------
    >>> from neurosim.netlist import crossbar_netlist
    >>> from neurosim.solve import compile
    >>> cc = compile(crossbar_netlist(4, r_wire=1e-6, seed=0))
    >>> lin = cc.linear_solver()
    >>> rows = [f"Vr{i}" for i in range(4)]
    >>> cols = [f"Vc{j}" for j in range(4)]
    >>> M = lin.transfer_matrix(rows, cols)
    >>> M.shape
    (4, 4)
    """

    def __init__(self, circuit, permc_spec: str = "MMD_AT_PLUS_A", chunk: int = 256):
        from neurosim.solve.compile import compile as _compile

        if permc_spec not in _PERMC:
            raise ParameterError(f"LinearSolver: permc_spec must be one of {_PERMC}, got {permc_spec!r}")
        if not isinstance(chunk, int) or chunk < 1:
            raise ParameterError(f"LinearSolver: chunk must be an integer >= 1, got {chunk!r}")
        cc = _compile(circuit)
        if cc.nonlinear:
            raise NetlistError("LinearSolver: the circuit has diodes, switches or devices; use dc() (Newton)")
        self.circuit = cc
        self.chunk = chunk
        self.permc_spec = permc_spec
        with warnings.catch_warnings():
            warnings.simplefilter("error", sla.MatrixRankWarning)
            try:
                self.lu = sla.splu(cc.A, permc_spec=permc_spec)
            except (RuntimeError, sla.MatrixRankWarning) as exc:
                raise NetlistError(f"LinearSolver: the MNA matrix is singular ({exc}); check floating subcircuits") from None
        self._cache: dict = {}

    @property
    def matrix(self) -> sp.csc_matrix:
        """The factorized MNA matrix ``A`` (size x size)."""
        return self.circuit.A

    def solve(self, rhs, trans: str = "N") -> np.ndarray:
        """Solve ``A x = rhs`` for a vector (size,) or a block (size, K), in chunks of ``chunk`` columns."""
        n = self.circuit.size
        b = check_array("LinearSolver.solve", "rhs", rhs, ndim=(1, 2), dtype=np.float64)
        if b.shape[0] != n:
            raise ParameterError(f"LinearSolver.solve: rhs must have {n} rows, got {b.shape[0]}")
        if b.ndim == 1 or b.shape[1] <= self.chunk:
            return self.lu.solve(np.asfortranarray(b), trans=trans)
        out = np.empty(b.shape)
        for k in range(0, b.shape[1], self.chunk):
            out[:, k : k + self.chunk] = self.lu.solve(np.asfortranarray(b[:, k : k + self.chunk]), trans=trans)
        return out

    def output_matrix(self, outputs) -> sp.csr_matrix:
        """Sparse ``C`` (n_out, size) selecting outputs by name.

        A node name selects its voltage; a V source / VCVS its branch current; a resistor its
        current :math:`(v_a - v_b)/R`.
        """
        cc = self.circuit
        if isinstance(outputs, str):
            outputs = [outputs]
        rows, cols, vals = [], [], []
        for k, name in enumerate(outputs):
            try:
                kind, j = cc.element_index(name)
            except ParameterError:
                kind, j = "node", cc.node_index(name)
            if kind == "node":
                entries = [(j, 1.0)]
            elif kind == "vsource":
                entries = [(cc.vs_row[j], 1.0)]
            elif kind == "vcvs":
                entries = [(cc.e_row[j], 1.0)]
            elif kind == "resistor":
                entries = [(cc.res_a[j], cc.res_g[j]), (cc.res_b[j], -cc.res_g[j])]
            else:
                raise ParameterError(f"LinearSolver: output {name!r} ({kind}) is not a node, branch or resistor")
            for c, v in entries:
                if c >= 0:
                    rows.append(k), cols.append(int(c)), vals.append(float(v))
        return sp.csr_matrix((vals, (rows, cols)), shape=(len(outputs), cc.size))

    def transfer_matrix(self, sources=None, outputs=None) -> np.ndarray:
        """The fixed linear map ``M`` (n_out, n_src) from source values to outputs, cached.

        .. math:: M = C A^{-1} B

        Computed with ``n_src`` forward solves or ``n_out`` transposed solves, whichever is fewer.

        Parameters
        ----------
        sources : sequence of str, optional
            Source names (default all, in ``circuit.source_names`` order).
        outputs : sequence of str, optional
            Output names (default all unknowns: ``M`` is then (size, n_src)).
        """
        key = (None if sources is None else tuple(sources), None if outputs is None else tuple(outputs))
        if key in self._cache:
            return self._cache[key]
        B = self.circuit.source_matrix(sources)
        if outputs is None:
            M = self.solve(B.toarray())
        else:
            C = self.output_matrix(outputs)
            if C.shape[0] < B.shape[1]:
                # adjoint: rows of M are (A^{-T} c_k)^T B
                W = self.solve(C.T.toarray(), trans="T")
                M = np.asarray((B.T @ W).T)
            else:
                M = np.asarray(C @ self.solve(B.toarray()))
        self._cache[key] = M
        return M

    def solve_sources(self, values, sources=None, outputs=None) -> np.ndarray:
        """Solve for many source vectors at once.

        Sources not listed in ``sources`` keep their DC values.

        .. math:: y_k = C A^{-1} (B_{sel} u_k + B_{rest} u_{rest})

        Parameters
        ----------
        values : array_like, shape (n_sel,) or (n_sel, K)
            Values (V or A) of the selected sources, one column per vector.
        sources : sequence of str, optional
            Selected sources (default all, ``circuit.source_names`` order).
        outputs : sequence of str, optional
            Requested outputs (default: all unknowns).

        Returns
        -------
        numpy.ndarray, shape (n_out, K) or (n_out,)
            With ``outputs`` and K >= min(n_sel, n_out), computed through the cached
            :meth:`transfer_matrix`; otherwise by block solves.
        """
        cc = self.circuit
        idx = np.arange(len(cc.source_names)) if sources is None else cc.source_index(sources)
        u = check_array("LinearSolver.solve_sources", "values", values, ndim=(1, 2), dtype=np.float64)
        if u.shape[0] != idx.size:
            raise ParameterError(
                f"LinearSolver.solve_sources: values must have {idx.size} rows (one per source), got {u.shape[0]}"
            )
        vec = u.ndim == 1
        u2 = u[:, None] if vec else u
        rest = np.setdiff1d(np.arange(len(cc.source_names)), idx)
        u_all = cc.source_values()
        offset_rhs = None
        if rest.size and np.any(u_all[rest] != 0):
            offset_rhs = cc.source_matrix([cc.source_names[k] for k in rest]) @ u_all[rest]
        names = None if sources is None else [cc.source_names[k] for k in idx]
        if outputs is not None and u2.shape[1] >= min(idx.size, len(outputs) if not isinstance(outputs, str) else 1):
            y = self.transfer_matrix(names, outputs) @ u2
            if offset_rhs is not None:
                y = y + (self.output_matrix(outputs) @ self.solve(offset_rhs))[:, None]
        else:
            B = cc.source_matrix(names)
            rhs = np.asarray(B @ u2)
            if offset_rhs is not None:
                rhs = rhs + offset_rhs[:, None]
            if outputs is None:
                y = self.solve(rhs)
            else:
                C = self.output_matrix(outputs)
                y = np.empty((C.shape[0], rhs.shape[1]))
                for k in range(0, rhs.shape[1], self.chunk):
                    y[:, k : k + self.chunk] = C @ self.solve(rhs[:, k : k + self.chunk])
        return y[:, 0] if vec else y
