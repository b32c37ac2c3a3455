"""One physical tile: its programmed devices and the three ways of reading its column currents.

A tile holds ``rows`` inputs and ``cols`` physical columns (``cols / 2`` outputs with differential
pairs, ``cols - 1`` with a reference column). Reads return physical column currents (A); the
crossbar combines them into outputs, converts them and accumulates the tiles.

Read modes (``V``: row voltages, V; ``h(v)``: the read I-V shape, ``v`` or ``v_nl sinh(v/v_nl)``):

* ``ideal``: :math:`I = V G` with the programmed conductances.
* ``device``: :math:`I = h(V)\\, G(t) + \\sigma \\sqrt{h(V)^2 G(t)^2}\\, z` -- variability and faults
  are in the programmed state, levels and retention drift in :math:`G(t)`, read noise per cell
  current (relative, :math:`\\sigma`), whose column sum is sampled exactly in distribution. A device
  model with its own nonlinear I-V is evaluated cell by cell.
* ``circuit``: the MNA solution of :class:`~neurosim.crossbar.circuit.TileCircuit`; linear cells use
  the precomputed linear map, nonlinear cells Newton per read. Read noise is added at the column
  as in ``device`` mode, from the cell currents without IR drop.
"""

from __future__ import annotations

import numpy as np

from neurosim.crossbar.circuit import ACCESS_GATE, CellPhysics, TileCircuit, switch_conductance
from neurosim.crossbar.device import DeviceAdapter
from neurosim.crossbar.programming import ProgramResult, program

__all__ = ["Tile"]

_CHUNK = 1 << 22  # elements per chunk of a cell-by-cell read (batch x rows x cols)


class _SinhCells:
    """A nonlinear read I-V ``G v_nl sinh(v / v_nl)`` as a device model (for circuit mode)."""

    def __init__(self, v_nl):
        self.v_nl = v_nl

    def current(self, g, v):
        return g * self.v_nl * np.sinh(v / self.v_nl)

    def dcurrent_dv(self, g, v):
        return g * np.cosh(v / self.v_nl)


class Tile:
    """Programmed devices and reads of one tile (built by :class:`~neurosim.crossbar.Crossbar`).

    Parameters
    ----------
    r0, r1, o0, o1 : int
        Input rows ``[r0, r1)`` and outputs ``[o0, o1)`` of the weight matrix held by this tile.
    G_target : ndarray (rows, cols)
        Target conductances (S).
    cfg : CrossbarConfig
    dev : DeviceAdapter
        Nominal device.
    nonideal : neurosim.devices.NonIdealities
        Non-idealities of this crossbar (empty in ``ideal`` mode).
    rng : numpy.random.Generator
    """

    def __init__(self, r0, r1, o0, o1, G_target, cfg, dev: DeviceAdapter, nonideal, rng):
        self.r0, self.r1, self.o0, self.o1 = r0, r1, o0, o1
        self.cfg, self.dev, self.nonideal, self.rng = cfg, dev, nonideal, rng
        self.rows, self.cols = G_target.shape
        self.G_target = G_target
        self._maps: dict = {}
        self._circuit: TileCircuit | None = None
        self._circuit_t: TileCircuit | None = None
        self._program()

    # ------------------------------------------------------------------ programming
    def _program(self) -> None:
        cfg, dev, ni = self.cfg, self.dev, self.nonideal
        shape = self.G_target.shape
        phys_model = ni.model(dev.model, shape, self.rng) if ni.items else dev.model
        phys = dev if phys_model is dev.model else dev.with_model(phys_model)
        c2c = [it for it in ni.items if type(it).__name__ == "CycleToCycleNoise"]
        if cfg.programming.method == "exact" and phys is not dev:
            # open loop: the states the nominal device needs, written into the real (varied) devices
            state = dev.state_for(self.G_target)
            res = program(dev, self.G_target, cfg.programming, self.rng)
            res = ProgramResult(phys.conductance(state), state, res.pulses, res.rounds, res.converged, res.time, res.energy)
        else:
            res = program(phys, self.G_target, cfg.programming, self.rng, c2c=c2c[0] if c2c else None)
        fmap = ni.faults(shape, self.rng)
        self.state = fmap.force(res.state, phys_model) if (fmap.stuck_on.any() or fmap.stuck_off.any()) else res.state
        self.fault_map = fmap
        self.phys = phys
        self.program_result = res
        self.G = phys.conductance(self.state)
        drift = [it for it in ni.items if type(it).__name__ == "RetentionDrift"]
        self._nu = drift[0].sample_nu(shape, self.rng) if drift else None
        nl = [it for it in ni.items if type(it).__name__ == "NonlinearReadIV"]
        self._v_nl = nl[0].v_nl if nl else None
        rn = [it for it in ni.items if type(it).__name__ == "ReadNoise"]
        self._sigma = float(np.sqrt(sum(it.sigma**2 for it in rn))) if rn else 0.0
        self._maps.clear()

    def set_state(self, state: np.ndarray) -> None:
        """Replace the device states (read disturb) and drop cached circuit maps."""
        self.state = state
        self.G = self.phys.conductance(state)
        self._maps.clear()

    # ------------------------------------------------------------------ helpers
    def conductance_at(self, t) -> np.ndarray:
        """Conductances (S) as read ``t`` s after programming (levels, drift); programmed ones if no t."""
        if not self.nonideal.items:
            return self.G
        return self.nonideal.conductance(self.G, t, self.rng, self._nu)

    @property
    def linear(self) -> bool:
        """Whether the cells read linearly (device I-V, no sinh read non-ideality, no selector)."""
        return self.phys.linear and self._v_nl is None

    def _h(self, V):
        return V if self._v_nl is None else self._v_nl * np.sinh(V / self._v_nl)

    def _noise(self, I, hV, G):
        if self._sigma == 0.0:
            return I
        std = self._sigma * np.sqrt(np.maximum((hV * hV) @ (G * G), 0.0))
        return I + std * self.rng.standard_normal(I.shape)

    def _cells(self, G, transposed=False) -> CellPhysics:
        cfg = self.cfg
        tr = (lambda a: a.T) if transposed else (lambda a: a)
        g_acc = None
        if cfg.cell == "1T1R":
            g_acc = switch_conductance(cfg.r_on_access, cfg.r_off_access, ACCESS_GATE["v_on"])
            g_acc = np.full(tr(G).shape, g_acc)
        if self._v_nl is not None:
            return CellPhysics(cfg.cell, None, _SinhCells(self._v_nl), tr(G), g_acc, cfg.selector_is, cfg.selector_n)
        if self.phys.linear:
            return CellPhysics(cfg.cell, tr(G), None, None, g_acc, cfg.selector_is, cfg.selector_n)
        return CellPhysics(cfg.cell, None, _Scaled(self.phys.model, G / self.G, transposed), tr(self.state), g_acc,
                           cfg.selector_is, cfg.selector_n)

    def circuit(self, transposed=False) -> TileCircuit:
        """The tile's wiring (row-driven, or column-driven for transposed reads)."""
        cfg = self.cfg
        if transposed:
            if self._circuit_t is None:
                self._circuit_t = TileCircuit(self.cols, self.rows, cfg.r_wire, cfg.r_driver, cfg.readout, cfg.r_sense)
            return self._circuit_t
        if self._circuit is None:
            self._circuit = TileCircuit(self.rows, self.cols, cfg.r_wire, cfg.r_driver, cfg.readout, cfg.r_sense)
        return self._circuit

    def linear_map(self, t=None, transposed=False):
        """Cached :class:`~neurosim.crossbar.circuit.LinearMap` of the linear tile at time ``t``."""
        key = (t, transposed)
        if key not in self._maps:
            G = self.conductance_at(t)
            cells = self._cells(G, transposed)
            self._maps[key] = self.circuit(transposed).linear_map(cells.linear_g())
            # the map is all a linear read needs: free the wiring (a few MB per tile), rebuilt on demand
            if transposed:
                self._circuit_t = None
            else:
                self._circuit = None
        return self._maps[key]

    # ------------------------------------------------------------------ reads
    def read(self, V: np.ndarray, mode: str, t=None, transposed=False):
        """Physical column currents (A) and array energy per vector (J / t_read, i.e. power, W).

        Parameters
        ----------
        V : ndarray (batch, rows) or (batch, cols) when transposed
            Driver voltages (V).
        mode : {"ideal", "device", "circuit"}
        t : float, optional
            Time since programming (s) for drift.
        transposed : bool
            Drive the columns and read the rows.

        Returns
        -------
        I : ndarray (batch, cols) (or (batch, rows))
            Currents (A).
        power : ndarray (batch,)
            Power delivered by the drivers (W).
        v_mem : ndarray or None
            Memristor voltages (batch, rows, cols) of a nonlinear circuit read, else None.
        """
        G = self.G if mode == "ideal" else self.conductance_at(t)
        Gd = G.T if transposed else G
        if mode == "ideal":
            return V @ Gd, (V * V) @ Gd.sum(axis=1), None
        if mode == "device":
            if self.phys.linear:
                hV = self._h(V)
                I = hV @ Gd
                return self._noise(I, hV, Gd), (hV * V) @ Gd.sum(axis=1), None
            I, P = self._cellwise(V, G, transposed)
            return self._noise(I, V, Gd), P, None
        # circuit; read disturb needs the cell voltages, which only the full solve gives
        if self.linear and self.cfg.cell != "1S1R" and not self.cfg.read_disturb:
            lm = self.linear_map(t, transposed)
            I = V @ lm.M
            if self.cfg.cost.exact_circuit_power:
                P = np.sum((V @ lm.Y) * V, axis=1)
            else:
                P = (V * V) @ Gd.sum(axis=1)
            return self._noise(I, V, Gd), P, None
        circ = self.circuit(transposed)
        I, v_mem, P = circ.solve(self._cells(G, transposed), V)
        if transposed:
            v_mem = np.swapaxes(v_mem, 1, 2)
        return self._noise(I, V, Gd), P, v_mem

    def _cellwise(self, V, G, transposed):
        """Column sums of a nonlinear device's currents, chunked over the batch."""
        m, state = self.phys.model, self.state
        scale = G / self.G  # drift and levels scale the current of the programmed state
        B = V.shape[0]
        n_out = self.rows if transposed else self.cols
        I = np.zeros((B, n_out))
        P = np.zeros(B)
        step = max(1, _CHUNK // max(self.rows * self.cols, 1))
        for b0 in range(0, B, step):
            v = V[b0 : b0 + step]
            vc = v[:, None, :] if transposed else v[:, :, None]
            cur = np.asarray(m.current(state[None], vc), dtype=float) * scale[None]
            I[b0 : b0 + step] = cur.sum(axis=2 if transposed else 1)
            P[b0 : b0 + step] = np.sum(cur * vc, axis=(1, 2))
        return I, P


class _Scaled:
    """A device model whose currents are scaled per cell (drift/levels of a nonlinear device).

    For transposed reads the cell arrays arrive as (cols, rows) and are turned back to the model's
    (rows, cols) layout, where its per-device parameters live.
    """

    def __init__(self, model, scale, transposed):
        self.model, self.scale, self.transposed = model, scale, transposed

    def _call(self, fn, state, v):
        if self.transposed:
            return (np.asarray(fn(state.T, np.asarray(v).T), dtype=float) * self.scale).T
        return np.asarray(fn(state, v), dtype=float) * self.scale

    def current(self, state, v):
        return self._call(self.model.current, state, v)

    def dcurrent_dv(self, state, v):
        return self._call(self.model.dcurrent_dv, state, v)
