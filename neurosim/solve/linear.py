"""Factorize once, solve many: batched right-hand sides and source-to-output transfer matrices.

For a linear circuit :math:`A x = B u` (``u`` the independent-source values), every requested output
``y = C x`` (node voltages, branch currents, resistor currents) is a fixed linear map of ``u``:

.. math:: y = C A^{-1} B u = M u

:class:`LinearSolver` factorizes ``A`` once (SuperLU) and either solves many ``u`` as one block, or
builds ``M`` and then applies it as a matrix product -- the crossbar read pattern.

Port-last ordering: the "ports" (source branch rows and the nodes of sources and VCVS) are joined
by a clique of explicit zeros before ordering, so minimum degree eliminates them last. The trailing
block of the factors is then the LU of the Schur complement on the ports,

.. math:: [A^{-1}]_{PP} = (A_{PP} - A_{PI} A_{II}^{-1} A_{IP})^{-1} = U_{TT}^{-1} L_{TT}^{-1},

so ``M`` for sources and outputs on the ports costs two dense triangular solves of the port
block instead of one sparse solve per source. (On the 256x256 crossbar this ordering also has
~25 % less fill than plain minimum degree: the ports act as a separator.) Outputs elsewhere fall
back to one solve per source or per output (transposed factors), whichever is fewer.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
from scipy.linalg import solve_triangular

from neurosim.errors import ConvergenceError, NetlistError, ParameterError
from neurosim.params import check_array

__all__ = ["LinearSolver"]

_PERMC = ("MMD_AT_PLUS_A", "COLAMD", "MMD_ATA", "NATURAL")
#: Largest port count for the port-last ordering (the dense port block has MAX_PORTS**2 entries).
MAX_PORTS = 4096


def _csc_keep_zeros(rows, cols, vals, n) -> sp.csc_matrix:
    """CSC from COO triplets (ground -1 dropped), duplicates summed, explicit zeros kept."""
    keep = (rows >= 0) & (cols >= 0)
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    key = cols.astype(np.int64) * n + rows
    uniq, inv = np.unique(key, return_inverse=True)
    data = np.bincount(inv, weights=vals, minlength=uniq.size)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(uniq // n, minlength=n))])
    return sp.csc_matrix((data, (uniq % n).astype(np.int32), indptr.astype(np.int32)), shape=(n, n))


def factorize(matrix, permc_spec: str = "MMD_AT_PLUS_A"):
    """SuperLU factors of an MNA matrix, with the options measured best on MNA matrices.

    MNA matrices have a symmetric pattern, so SuperLU's symmetric mode (prefer diagonal pivots,
    threshold 0.1, ordering on :math:`A + A^T`) keeps the fill of the minimum-degree ordering;
    zero diagonals (voltage-source branch rows) still get off-diagonal pivots.

    Raises
    ------
    NetlistError
        The matrix is singular.
    """
    symmetric = permc_spec == "MMD_AT_PLUS_A"
    with warnings.catch_warnings():
        warnings.simplefilter("error", sla.MatrixRankWarning)
        try:
            return sla.splu(
                matrix,
                permc_spec=permc_spec,
                diag_pivot_thresh=0.1 if symmetric else 1.0,
                options={"SymmetricMode": symmetric},
            )
        except (RuntimeError, sla.MatrixRankWarning) as exc:
            raise NetlistError(f"the MNA matrix is singular ({exc}); check floating subcircuits") from None


_EPS = np.finfo(np.float64).eps
#: accepted componentwise backward error |b - A x|_i / (|A| |x| + |b|)_i after refinement
REFINED_TOL = 1e-10
#: a float64 residual this small needs no refinement
_PLAIN_TOL = REFINED_TOL
_FLOOR = 1e-20


def _backward_error(absA, x, b, r, n_nodes: int | None = None) -> np.ndarray:
    r"""Componentwise (Oettli-Prager) backward error of each equation, for each column.

    .. math:: \omega_i = \frac{|b - A x|_i}{(|A|\,|x| + |b|)_i + f_i}

    Each node's Kirchhoff sum is judged against its own largest terms, down to a floor
    :math:`f_i = 10^{-20} \max_k (|A|\,|x| + |b|)_k` over the node rows (a node whose currents are all
    smaller than that, e.g. a branch current that must vanish, is judged against the floor: its last
    bits are the rounding of much larger currents elsewhere). A source's equation
    :math:`v_p - v_n = V` (rows from ``n_nodes`` on) cannot hold better than the rounding of the
    circuit's voltages: its floor is :math:`10^{-6} \max |v|`, so that :math:`\omega \le 10^{-10}`
    means met to :math:`10^{-16}` of the largest voltage.
    """
    scale = absA @ np.abs(x) + np.abs(b)
    tiny = np.finfo(np.float64).tiny
    if n_nodes is None or n_nodes >= scale.shape[0]:
        return np.abs(r) / (scale + _FLOOR * np.max(scale, axis=0, keepdims=True) + tiny)
    floor = np.empty_like(scale)
    floor[:n_nodes] = _FLOOR * np.max(scale[:n_nodes], axis=0, keepdims=True)
    volts = np.maximum(np.max(np.abs(x[:n_nodes]), axis=0, keepdims=True), np.max(np.abs(b[n_nodes:]), axis=0, keepdims=True))
    floor[n_nodes:] = 1e-6 * volts  # with REFINED_TOL: met to 1e-16 of the circuit's largest voltage
    return np.abs(r) / (scale + floor + tiny)


def _residual_extended(A, x, b) -> np.ndarray:
    """``b - A x`` accumulated in extended precision (numpy longdouble), rounded to float64."""
    C = A.tocoo()
    r = np.array(b, dtype=np.longdouble)
    prod = C.data.astype(np.longdouble)[:, None] * np.asarray(x, dtype=np.longdouble).reshape(x.shape[0], -1)[C.col]
    rr = r.reshape(r.shape[0], -1)
    np.subtract.at(rr, C.row, prod)
    return np.asarray(rr, dtype=np.float64).reshape(np.shape(b))


def refined_solve(A, solve, b, *, names=None, owner: str = "solve", max_steps: int = 20, fallback=None,
                  n_nodes: int | None = None, abs_A=None) -> np.ndarray:
    r"""Solve ``A x = b`` with the factors ``solve``, check the residual, and refine it.

    Sparse LU with threshold pivoting (SuperLU's symmetric mode, needed to keep the fill of MNA
    matrices low) can lose accuracy on stiff circuits (resistances over 13 decades): the answer
    then breaks Kirchhoff's laws at some node. Every solve is therefore checked with the
    componentwise backward error :math:`\omega` of :func:`_backward_error`; above a few units of
    rounding, iterative refinement :math:`x \leftarrow x + \mathrm{LU}^{-1}(b - A x)` runs with the
    residual accumulated in extended precision, until :math:`\omega \le 10^{-10}`.

    Parameters
    ----------
    A : sparse matrix (n, n)
    solve : callable
        ``solve(rhs)`` with the factors of ``A``.
    b : ndarray (n,) or (n, K)
    names : list of str, optional
        The unknowns' names (nodes, then branches) for the error message.
    owner : str
        Who solves (for the message).
    fallback : callable, optional
        ``fallback()`` returns a ``solve`` from a more stable factorization (partial pivoting),
        tried when refinement with ``solve`` does not converge.
    abs_A : sparse matrix, optional
        ``abs(A)``, kept by callers that solve with the same matrix many times (one per factorization).
    n_nodes : int, optional
        Unknowns ``0 .. n_nodes-1`` are node voltages (Kirchhoff rows), the rest branch currents
        (source equations); sets the floors of :func:`_backward_error`.

    Returns
    -------
    ndarray

    Raises
    ------
    ConvergenceError
        The circuit is too ill-conditioned for refinement to reach :math:`\omega \le 10^{-10}`:
        names the equation (node or branch) with the largest error and its size.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        x = solve(b)
        if not np.all(np.isfinite(x)):
            bad = int(np.flatnonzero(~np.isfinite(x).reshape(x.shape[0], -1).all(axis=1))[0])
            what = names[bad] if names is not None and bad < len(names) else f"unknown {bad}"
            raise ConvergenceError(
                f"{owner}: the solution overflows float64 at {what!r} (a voltage or current beyond 1e308): check the "
                "element values (a huge source across a tiny resistance)"
            )
        r = b - A @ x
        absA = abs(A) if abs_A is None else abs_A
        w = _backward_error(absA, x, b, r, n_nodes)
    if np.all(w <= _PLAIN_TOL):
        return x
    x, w = _refine(A, absA, solve, b, x, max_steps, n_nodes)
    if not np.all(w <= REFINED_TOL) and fallback is not None:
        solve = fallback()  # threshold pivoting lost too much: factorize with partial pivoting
        x, w = _refine(A, absA, solve, b, solve(b), max_steps, n_nodes)
    if not np.all(w <= REFINED_TOL) or not np.all(np.isfinite(x)):
        worst = np.nan_to_num(w, nan=np.inf)
        i = int(np.unravel_index(np.argmax(worst), w.shape)[0])
        what = names[i] if names is not None and i < len(names) else f"equation {i}"
        raise ConvergenceError(
            f"{owner}: the circuit is too ill-conditioned for a float64 solve: after iterative refinement "
            f"(sparse LU{', then partial pivoting' if fallback is not None else ''}) the equation of {what!r} still "
            f"has a relative residual of {float(np.max(worst)):.3g} (accepted: {REFINED_TOL:g}); check for "
            "resistances or conductances spanning more than ~15 decades"
        )
    return x


def _refine(A, absA, solve, b, x, max_steps, n_nodes):
    for _ in range(max_steps):
        r = _residual_extended(A, x, b)
        w = _backward_error(absA, x, b, r, n_nodes)
        if np.all(w <= REFINED_TOL):
            return x, w
        x = x + solve(r)
    r = _residual_extended(A, x, b)
    return x, _backward_error(absA, x, b, r, n_nodes)


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
    chunk : int, optional
        Right-hand sides per block solve. Default: as many as fit in ~4 MB (SuperLU's block solve
        slows down sharply once the block leaves the cache; 4 columns at 256x256 crossbar size).
    port_last : {"auto", True, False}
        Order the source/VCVS ports last (see module docstring; only with ``"MMD_AT_PLUS_A"``
        and at most ``MAX_PORTS`` ports). ``"auto"``: factorize plainly, and refactorize
        port-last on the first :meth:`transfer_matrix` whose per-source solves would cost more
        than 1.5 factorizations. ``True``: port-last from the start (one factorization serves
        both; best when transfer matrices are the goal, e.g. crossbar reads).

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

    def __init__(
        self, circuit, permc_spec: str = "MMD_AT_PLUS_A", chunk: int | None = None, port_last="auto"
    ):
        from neurosim.solve.compile import compile as _compile

        if permc_spec not in _PERMC:
            raise ParameterError(f"LinearSolver: permc_spec must be one of {_PERMC}, got {permc_spec!r}")
        if chunk is not None and (not isinstance(chunk, int) or chunk < 1):
            raise ParameterError(f"LinearSolver: chunk must be an integer >= 1 or None, got {chunk!r}")
        cc = _compile(circuit)
        if chunk is None:
            chunk = int(np.clip((4 << 20) // (8 * cc.size), 1, 512))
        if cc.nonlinear:
            raise NetlistError("LinearSolver: the circuit has diodes, switches or devices; use dc() (Newton)")
        self.circuit = cc
        self.chunk = chunk
        self.permc_spec = permc_spec
        self._cache: dict = {}
        self._abs: dict = {}  # abs(A) for the residual checks of refined_solve, per orientation
        self.ports = None
        self._trailing = None
        if port_last not in (True, False, "auto"):
            raise ParameterError(f"LinearSolver: port_last must be True, False or 'auto', got {port_last!r}")
        self.port_last = port_last if permc_spec == "MMD_AT_PLUS_A" else False
        t0 = time.perf_counter()
        if self.port_last is True:
            self._factorize_port_last()
        if self.ports is None:
            self.lu = factorize(cc.A, permc_spec)
        self._t_factor = time.perf_counter() - t0

    def _factorize_port_last(self) -> bool:
        """Refactorize with the ports ordered last; keep it only if SuperLU kept them there."""
        cc = self.circuit
        ports = self._port_unknowns()
        if not (0 < ports.size <= MAX_PORTS and ports.size < cc.size):
            return False
        r, c, v = cc.linear_triplets()
        pr, pc = np.repeat(ports, ports.size), np.tile(ports, ports.size)
        a = _csc_keep_zeros(np.concatenate([r, pr]), np.concatenate([c, pc]), np.concatenate([v, np.zeros(pr.size)]), cc.size)
        lu = factorize(a, self.permc_spec)
        ni = cc.size - ports.size
        # usable only if SuperLU kept the ports in the trailing block (rows and columns)
        if np.all(lu.perm_c[ports] >= ni) and np.all(lu.perm_r[ports] >= ni):
            self.lu, self.ports, self._trailing = lu, ports, None
            return True
        return False

    def _port_unknowns(self) -> np.ndarray:
        cc = self.circuit
        idx = np.concatenate([cc.vs_row, cc.e_row, cc.vs_p, cc.vs_n, cc.is_p, cc.is_n, cc.e_p, cc.e_n, cc.e_cp, cc.e_cn])
        idx = np.unique(idx)
        return idx[idx >= 0]

    def _on_ports(self, B, C) -> bool:
        ports = self.ports if self.ports is not None else self._port_unknowns()
        on_port = np.zeros(self.circuit.size, bool)
        on_port[ports] = True
        return bool(on_port[B.tocoo().row].all() and on_port[C.tocoo().col].all())

    def _schur_transfer(self, B: sp.spmatrix, C: sp.spmatrix) -> np.ndarray | None:
        """``C A^-1 B`` from the trailing (port) block of the factors, or None if not on the ports."""
        if self.ports is None:
            return None
        n, m = self.circuit.size, self.ports.size
        ni = n - m
        if not self._on_ports(B, C):
            return None
        Bc, Cc = B.tocoo(), C.tocoo()
        if self._trailing is None:
            lower = self.lu.L.tocsc()[ni:, ni:].toarray()
            upper = self.lu.U.tocsc()[ni:, ni:].toarray()
            self._trailing = (lower, upper)
        lower, upper = self._trailing
        # Pr A Pc = L U: row i of A sits at perm_r[i], column j at perm_c[j]
        bt = np.zeros((m, B.shape[1]))
        np.add.at(bt, (self.lu.perm_r[Bc.row] - ni, Bc.col), Bc.data)
        w = solve_triangular(upper, solve_triangular(lower, bt, lower=True, unit_diagonal=True), lower=False)
        ct = np.zeros((C.shape[0], m))
        np.add.at(ct, (Cc.row, self.lu.perm_c[Cc.col] - ni), Cc.data)
        return ct @ w

    @property
    def matrix(self) -> sp.csc_matrix:
        """The factorized MNA matrix ``A`` (size x size)."""
        return self.circuit.A

    def solve(self, rhs, trans: str = "N") -> np.ndarray:
        """Solve ``A x = rhs`` for a vector (size,) or a block (size, K), in chunks of ``chunk`` columns.

        Every solution is checked and refined (:func:`refined_solve`); a circuit too ill-conditioned
        for that raises :class:`~neurosim.errors.ConvergenceError` naming the node or branch.
        """
        n = self.circuit.size
        b = check_array("LinearSolver.solve", "rhs", rhs, ndim=(1, 2), dtype=np.float64)
        if b.shape[0] != n:
            raise ParameterError(f"LinearSolver.solve: rhs must have {n} rows, got {b.shape[0]}")
        A = self.circuit.A if trans == "N" else self.circuit.A.T
        names = self.circuit.node_names + self.circuit.branch_names

        def solve(rhs):
            return self.lu.solve(np.asfortranarray(rhs), trans=trans)

        def stable():
            # keep the partial-pivoting factors: this circuit needs them for every later solve too
            self.lu = factorize(self.circuit.A, "COLAMD")
            self.ports = self._trailing = None
            self.port_last = False
            self._cache.clear()
            return solve

        key = ("abs", trans)
        if key not in self._abs:
            self._abs[key] = abs(A).tocsr()
        kw = dict(names=names, owner="LinearSolver.solve", fallback=stable, n_nodes=self.circuit.n_nodes,
                  abs_A=self._abs[key])
        if b.ndim == 1 or b.shape[1] <= self.chunk:
            return refined_solve(A, solve, b, **kw)
        out = np.empty(b.shape)
        for k in range(0, b.shape[1], self.chunk):
            out[:, k : k + self.chunk] = refined_solve(A, solve, b[:, k : k + self.chunk], **kw)
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
            elif kind in ("ccvs", "inductor"):
                entries = [((cc.h_row if kind == "ccvs" else cc.l_row)[j], 1.0)]
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

        From the port block of the factors when sources and outputs lie on the ports (source
        branch currents, source and VCVS nodes); otherwise with ``n_src`` forward solves or
        ``n_out`` transposed solves, whichever is fewer.

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
            if self.ports is None and self.port_last == "auto" and self._on_ports(B, C):
                t0 = time.perf_counter()
                self.lu.solve(np.zeros(self.circuit.size))
                t_solve = time.perf_counter() - t0
                if min(B.shape[1], C.shape[0]) * t_solve > 1.5 * self._t_factor:
                    self._factorize_port_last()
            M = self._schur_transfer(B, C)
            if M is not None:
                pass
            elif C.shape[0] < B.shape[1]:
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
