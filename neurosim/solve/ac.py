"""Small-signal AC analysis: the circuit linearised at its DC operating point, solved per frequency.

Every nonlinear element is replaced by its conductances at the operating point (the Jacobian
:math:`J` of the DC Newton system: diodes :math:`g_d = \\partial i / \\partial v_j`, switches
:math:`\\partial i/\\partial v_{12}` and :math:`\\partial i/\\partial v_c`, devices
:math:`\\partial i/\\partial v` at their fixed state); capacitors, inductors and diode junction
capacitances enter through the frequency-dependent part :math:`C`:

.. math:: (J + j \\omega C)\\, X(\\omega) = B\\, U_{ac}, \\qquad \\omega = 2 \\pi f

with :math:`C` holding the capacitances on the node rows and :math:`-L` on the diagonal of each
inductor's branch row (:math:`v_1 - v_2 = j\\omega L\\, i`), and :math:`U_{ac}` the sources' ``AC mag
phase`` phasors :math:`m\\, e^{j \\varphi \\pi / 180}` (0 for sources without an AC value). One complex
sparse LU (SuperLU) per frequency on a sparsity pattern built once, with one step of iterative
refinement.

The diode small-signal capacitance is stamped in one place, :func:`diode_capacitance`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from neurosim.errors import ParameterError
from neurosim.params import check_array
from neurosim.solve.assemble import Pattern, conductance_stamps
from neurosim.solve.compile import compile as _compile
from neurosim.solve.newton import _v
from neurosim.solve.results import _Solution

__all__ = ["ac", "ACResult", "ac_frequencies", "diode_capacitance"]

_SWEEPS = ("dec", "oct", "lin")


def ac_frequencies(variation: str, points: int, f_start: float, f_stop: float) -> np.ndarray:
    """Frequencies (Hz) of a SPICE ``.ac`` sweep, as ngspice generates them.

    .. math:: f_k = f_{start}\\, 10^{k/N}\\ (\\text{DEC}), \\quad f_{start}\\, 2^{k/N}\\ (\\text{OCT}),
              \\quad f_{start} + k \\frac{f_{stop} - f_{start}}{N - 1}\\ (\\text{LIN})

    DEC/OCT: ``N`` points per decade/octave, every :math:`f_k \\le f_{stop}` (within 1e-9 relative);
    LIN: ``N`` points in total.

    Parameters
    ----------
    variation : {"dec", "oct", "lin"}
    points : int
        Points per decade / octave, or in total (LIN), >= 1.
    f_start, f_stop : float
        Hz, ``0 < f_start <= f_stop``.

    Raises
    ------
    ParameterError
        Naming the offending parameter.

    Examples
    --------
    >>> ac_frequencies("dec", 2, 1.0, 100.0).round(6).tolist()
    [1.0, 3.162278, 10.0, 31.622777, 100.0]
    """
    var = str(variation).lower()
    if var not in _SWEEPS:
        raise ParameterError(f"ac: variation must be one of {_SWEEPS}, got {variation!r}")
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 1:
        raise ParameterError(f"ac: points must be an integer >= 1, got {points!r}")
    for name, f in (("f_start", f_start), ("f_stop", f_stop)):
        if not (isinstance(f, (int, float, np.floating, np.integer)) and np.isfinite(f) and f > 0):
            raise ParameterError(f"ac: {name} must be a finite frequency > 0 Hz, got {f!r}")
    if f_stop < f_start:
        raise ParameterError(f"ac: f_stop must be >= f_start = {f_start!r} Hz, got {f_stop!r}")
    if var == "lin":
        return np.linspace(float(f_start), float(f_stop), int(points)) if points > 1 else np.array([float(f_start)])
    base = 10.0 if var == "dec" else 2.0
    n = int(np.floor(np.log(f_stop / f_start) / np.log(base) * points * (1 + 1e-12) + 1e-9)) + 1
    return f_start * base ** (np.arange(n) / points)


def diode_capacitance(cc, vj: np.ndarray, g_d: np.ndarray) -> np.ndarray:
    """Small-signal capacitance (F) of every diode junction at junction voltage ``vj`` (V).

    The single place where the AC analysis stamps diode capacitance (between the junction node and
    the cathode): the derivative of the level-1 junction charge at the operating point (0 for a
    diode without ``cjo`` and ``tt``):

    .. math:: C_d = \\frac{dq}{dv_j} = C_{dep}(v_j) + \\tau_T\\, g_d

    (depletion part from the diode charge model of :mod:`neurosim.solve.nonlinear`, diffusion part
    from the transit time).

    Parameters
    ----------
    cc : CompiledCircuit
    vj : numpy.ndarray
        Junction voltages at the operating point, V.
    g_d : numpy.ndarray
        Junction conductances at the operating point (``gmin`` of the junction included), S.

    Returns
    -------
    numpy.ndarray
        One capacitance per diode, F.

    Examples
    --------
    >>> from neurosim.netlist import Netlist
    >>> from neurosim.solve import compile
    >>> net = Netlist()
    >>> net.add_vsource("V1", "a", "0", 0.6)
    >>> net.add_diode("D1", "a", "0")
    >>> diode_capacitance(compile(net), np.array([0.6]), np.array([1e-3]))
    array([0.])
    """
    from neurosim.solve.nonlinear import diode_charge, diode_iv

    d = cc.diodes
    i_d = diode_iv(vj, d.i_s, d.nvt, d.bv, d.nbvt, d.g_min)[0]
    return diode_charge(vj, i_d, g_d, d)[1]


class ACResult(_Solution):
    """Complex small-signal solution over frequency.

    Attributes
    ----------
    circuit : CompiledCircuit
    freqs : numpy.ndarray, shape (n_f,)
        Frequencies, Hz.
    x : numpy.ndarray of complex, shape (n_f, size)
        Phasors of the unknowns: node voltages (V) then branch currents (A).
    op : OperatingPoint or None
        The DC operating point the circuit was linearised at (``None`` for linear circuits).
    """

    def __init__(self, circuit, freqs, x, op=None, small_signal=None):
        self.circuit, self.freqs, self.x, self.op = circuit, freqs, x, op
        self.s = np.zeros(x.shape[:-1] + (circuit.n_states,))
        self._ss = small_signal or {}

    @property
    def omega(self) -> np.ndarray:
        """Angular frequencies :math:`2\\pi f`, rad/s."""
        return 2 * np.pi * self.freqs

    def i(self, element):
        """Phasor current (A) of an element, first to second terminal (see ``OperatingPoint.i``).

        Capacitors: :math:`j\\omega C (v_1 - v_2)`; nonlinear elements: their small-signal
        conductances (and diode capacitance) times the voltage phasors; current sources their AC
        phasor.
        """
        if not isinstance(element, str):
            return np.stack([self.i(e) for e in element], axis=-1)
        cc = self.circuit
        kind, k = cc.element_index(element)
        w = self.omega
        if kind == "capacitor":
            return 1j * w * cc.cap_c[k] * (self._node_v(cc.cap_a[k]) - self._node_v(cc.cap_b[k]))
        if kind == "isource":
            return np.full(self.freqs.shape, cc.is_ac[k])
        if kind == "diode":
            vj = self._node_v(cc.d_j[k]) - self._node_v(cc.d_k[k])
            return (self._ss["g_d"][k] + 1j * w * self._ss["c_d"][k]) * vj
        if kind == "switch":
            v12 = self._node_v(cc.sw_a[k]) - self._node_v(cc.sw_b[k])
            vc = self._node_v(cc.sw_cp[k]) - self._node_v(cc.sw_cn[k])
            return self._ss["g_w"][k] * v12 + self._ss["h_w"][k] * vc
        if kind == "device":
            g = cc.devices
            j = next(d for d in g if d.offset <= k < d.offset + d.names.size)
            return self._ss["g_v"][k] * (self._node_v(j.a[k - j.offset]) - self._node_v(j.b[k - j.offset]))
        return super().i(element)

    def mag(self, node):
        """Magnitude :math:`|V|` of a node voltage (V) over frequency."""
        return np.abs(self.v(node))

    def db(self, node):
        """Magnitude in decibel, :math:`20 \\log_{10} |V|` (dB re 1 V)."""
        return 20.0 * np.log10(self.mag(node))

    def phase(self, node, deg: bool = True):
        """Phase of a node voltage, degree (``deg=True``) or radian, in (-180, 180]."""
        ph = np.angle(self.v(node))
        return np.rad2deg(ph) if deg else ph

    def __repr__(self) -> str:
        return f"ACResult({self.freqs.size} frequencies, {self.circuit.n_nodes} nodes)"


def ac(circuit, freqs, *, op=None, gmin: float = 0.0, **dc_kwargs) -> ACResult:
    """Small-signal AC analysis at the frequencies ``freqs`` (Hz).

    .. math:: (J + j 2\\pi f\\, C)\\, X(f) = B\\, U_{ac}

    (see the module docstring). Nonlinear circuits are linearised at their DC operating point
    (:func:`~neurosim.solve.dc`, or ``op`` if given); sources drive with their ``ac_mag`` /
    ``ac_phase`` (``Netlist.add_vsource(..., ac_mag=1)``, SPICE ``AC 1``).

    Parameters
    ----------
    circuit : Netlist or CompiledCircuit
    freqs : array_like or AC
        Frequencies, Hz, each finite and > 0 (e.g. :func:`ac_frequencies`), or a SPICE ``.ac``
        analysis (:class:`neurosim.spice.AC`, e.g. ``deck.analysis``) whose sweep is used.
    op : OperatingPoint, optional
        Operating point to linearise at (default: solved here).
    gmin : float
        Conductance (S) across every diode, switch and device, as in :func:`~neurosim.solve.dc`
        (SPICE uses 1e-12 S); also used for the operating point.
    **dc_kwargs
        Passed to :func:`~neurosim.solve.dc` for the operating point.

    Returns
    -------
    ACResult
        ``v(node)`` complex phasors (V) over ``freqs``; ``mag``, ``db``, ``phase``; ``i(element)``.

    Raises
    ------
    ParameterError
        Bad ``freqs`` (naming it).
    NetlistError
        Singular small-signal matrix at some frequency.

    Examples
    --------
    >>> from neurosim.netlist import Netlist
    >>> from neurosim.solve import ac
    >>> net = Netlist("rc low-pass")
    >>> net.add_vsource("V1", "in", "0", 0.0, ac_mag=1.0)
    >>> net.add_resistor("R1", "in", "out", 1e3)
    >>> net.add_capacitor("C1", "out", "0", 1e-6)
    >>> res = ac(net, [1 / (2 * np.pi * 1e-3)])   # the corner frequency 1/(2 pi R C)
    >>> round(float(res.mag("out")[0]), 12), round(float(res.phase("out")[0]), 9)
    (0.707106781187, -45.0)
    """
    from neurosim.solve.dc import _engine, dc

    if hasattr(freqs, "frequencies"):  # an .ac analysis
        freqs = freqs.frequencies()
    f = check_array("ac", "freqs", freqs, ndim=(0, 1), dtype=np.float64).reshape(-1)
    if f.size == 0 or not np.all(np.isfinite(f)) or np.any(f <= 0):
        bad = f[~(np.isfinite(f) & (f > 0))][:1].tolist() if f.size else "an empty array"
        raise ParameterError(f"ac: freqs must be finite frequencies > 0 Hz (at least one), got {bad}")
    cc = _compile(circuit)
    if op is None and cc.nonlinear:
        op = dc(cc, gmin=gmin, **dc_kwargs)
    x0 = op.x if op is not None else np.zeros(cc.size)
    states = op.s if op is not None else cc.states
    eng = _engine(cc)
    vj, vd = eng.element_voltages(x0)
    vals, _ = eng._linearise(x0, vj, vd, states, np.zeros(cc.cap_c.size), 0.0, None, gmin)
    J = eng.pattern.matrix(vals).tocoo()
    ss = _small_signal(cc, x0, vj, vd, states, gmin)
    # frequency-dependent part: capacitors, diode capacitances (junction node to cathode), -L
    cr, ccol, cv = conductance_stamps(cc.cap_a, cc.cap_b, cc.cap_c)
    dr, dcol, dv = conductance_stamps(cc.d_j, cc.d_k, ss["c_d"])
    rows = np.concatenate([J.row, cr, dr, cc.l_row])
    cols = np.concatenate([J.col, ccol, dcol, cc.l_row])
    pat = Pattern(rows, cols, cc.size)
    nj = J.row.size
    j_vals = np.concatenate([J.data, np.zeros(rows.size - nj)])
    c_vals = np.concatenate([np.zeros(nj), cv, dv, -cc.l_ind])
    jd = np.bincount(pat.inv, weights=j_vals[pat.keep], minlength=pat.nnz)
    cd = np.bincount(pat.inv, weights=c_vals[pat.keep], minlength=pat.nnz)
    b = _ac_rhs(cc)
    X = np.empty((f.size, cc.size), dtype=np.complex128)
    from neurosim.solve.linear import factorize

    for k, fk in enumerate(f.tolist()):
        m = sp.csc_matrix((jd + 1j * (2 * np.pi * fk) * cd, pat.indices, pat.indptr), shape=(cc.size, cc.size))
        lu = factorize(m)
        x = lu.solve(b)
        x = x + lu.solve(b - m @ x)  # one step of iterative refinement
        X[k] = x
    return ACResult(cc, f, X, op, ss)


def _ac_rhs(cc) -> np.ndarray:
    b = np.zeros(cc.size, dtype=np.complex128)
    b[cc.vs_row] = cc.vs_ac
    keep_p, keep_n = cc.is_p >= 0, cc.is_n >= 0
    np.add.at(b, cc.is_p[keep_p], -cc.is_ac[keep_p])
    np.add.at(b, cc.is_n[keep_n], cc.is_ac[keep_n])
    return b


def _small_signal(cc, x, vj, vd, states, gmin) -> dict:
    """Small-signal conductances and capacitances of the nonlinear elements at ``x`` (for ``ACResult.i``)."""
    from neurosim.solve.nonlinear import device_iv, diode_iv, switch_eval

    d = cc.diodes
    g_d = diode_iv(vj, d.i_s, d.nvt, d.bv, d.nbvt, d.g_min)[1] + gmin
    v12 = _v(x, cc.sw_a) - _v(x, cc.sw_b)
    vcs = _v(x, cc.sw_cp) - _v(x, cc.sw_cn)
    _, g_w, h_w = switch_eval(v12, vcs, cc.sw_gon + gmin, cc.sw_goff + gmin, cc.sw_vt, cc.sw_vw)
    gv = [device_iv(g.model, states[g.offset : g.offset + g.names.size], vd[g.offset : g.offset + g.names.size])[1]
          for g in cc.devices]
    g_v = (np.concatenate(gv) if gv else np.zeros(0)) + gmin
    c_d = diode_capacitance(cc, vj, g_d - gmin)
    return {"g_d": g_d, "c_d": c_d, "g_w": g_w, "h_w": h_w, "g_v": g_v}

