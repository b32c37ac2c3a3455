"""One physical tile: its programmed devices and the per-tile read of its column currents.

A tile holds ``rows`` inputs and ``cols`` physical columns (``cols / 2`` outputs with differential
pairs, ``cols - 1`` with a reference column). Reads return physical column currents (A); the
crossbar combines them into outputs and converts them (:mod:`neurosim.crossbar.readplan` is the
compiled variant of the same read).

Read modes (``V``: driver voltages, V; ``h(v)``: the read I-V shape of a ``read_iv`` non-ideality,
``v`` when there is none; :math:`s_{ij}(t)`: the per-device read-noise standard deviation of the
``read_noise`` non-idealities, S):

* ``ideal``: :math:`I = V G` with the programmed conductances.
* ``device``: :math:`I_j = \\sum_i h(V_i)\\, G_{ij}(t) + \\sqrt{\\sum_i h(V_i)^2 s_{ij}^2}\\, z_j` --
  variability and faults are in the programmed state, levels and drift in :math:`G(t)`, read noise
  per cell current, whose column sum is sampled exactly in distribution. A device model with its
  own nonlinear I-V is evaluated cell by cell.
* ``circuit``: the MNA solution of :class:`~neurosim.crossbar.circuit.TileCircuit`; linear cells use
  the precomputed linear map, nonlinear cells Newton per read. Read noise is added at the column
  as in ``device`` mode, from the cell currents without IR drop.

Random streams: a tile draws device-to-device variability, faults, programming noise and drift from
its own streams, derived from the crossbar's root seed by stable keys (the tile's position and the
purpose), so enabling one non-ideality never changes the draws of another. Read noise is drawn
from the crossbar's read stream, passed to :meth:`Tile.read`.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from neurosim.crossbar.cellphysics import ACCESS_GATE, CellPhysics, switch_conductance
from neurosim.crossbar.circuit import TileCircuit
from neurosim.crossbar.device import DeviceAdapter
from neurosim.crossbar.programming import program
from neurosim.sampling import normal_from_variance
from neurosim.seeding import rng as stream

__all__ = ["Tile"]

_CHUNK = 1 << 22  # elements per chunk of a cell-by-cell read (batch x rows x cols)
_MAPS = 4  # circuit linear maps kept per tile (one per read time and direction)


class _ShapedCells:
    """A separable nonlinear read I-V ``G h(v)`` as a device model (for circuit mode)."""

    def __init__(self, iv):
        self.iv = iv

    def current(self, g, v):
        return g * self.iv.read_shape(v)

    def dcurrent_dv(self, g, v):
        return g * self.iv.read_shape_dv(v)


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
    root : numpy.random.SeedSequence
        The crossbar's root seed; the tile's streams derive from it and ``(r0, o0)``.
    """

    def __init__(self, r0, r1, o0, o1, G_target, cfg, dev: DeviceAdapter, nonideal, root):
        self.r0, self.r1, self.o0, self.o1 = r0, r1, o0, o1
        self.cfg, self.dev, self.nonideal = cfg, dev, nonideal
        self.rows, self.cols = G_target.shape
        key = ("tile", r0, o0)
        self._rng = {k: stream(root, key, k) for k in ("variability", "faults", "programming", "drift", "write")}
        self._maps: OrderedDict = OrderedDict()
        self._circuit: dict[bool, TileCircuit] = {}
        ni = nonideal
        shape = G_target.shape
        # the physical devices: device-to-device spread and faults are properties of the array,
        # drawn once; every (re)programming keeps them
        phys_model = ni.model(dev.model, shape, self._rng["variability"]) if ni.items else dev.model
        self.phys = dev if phys_model is dev.model else dev.with_model(phys_model)
        self.fault_map = ni.faults(shape, self._rng["faults"])
        self.iv = ni.read_iv()
        self.program(G_target)

    # ------------------------------------------------------------------ programming
    def program(self, G_target: np.ndarray) -> None:
        """Program the tile's devices to ``G_target`` (S): programming noise and drift drawn anew.

        The device-to-device spread and the stuck devices stay those of the physical array.
        """
        cfg, dev, ni, phys = self.cfg, self.dev, self.nonideal, self.phys
        self.G_target = G_target
        rng = self._rng["programming"]
        if cfg.programming.method == "exact" and phys is not dev:
            # open loop: the states the nominal device needs, written into the real (varied) devices
            res = program(dev, G_target, cfg.programming, rng)
            res = type(res)(phys.conductance(res.state), res.state, res.pulses, res.rounds, res.converged, res.time,
                            res.energy)
        else:
            res = program(phys, G_target, cfg.programming, rng, c2c=ni.program_noise())
        state = res.state
        if ni.of("write"):  # the residual error of the write (e.g. PCM programming noise), once
            state = self._state_of(ni.write(phys.conductance(state), self._rng["write"]), state)
        fmap = self.fault_map
        stuck = fmap.stuck_on.any() or fmap.stuck_off.any()
        self.state = fmap.force(state, phys.model) if stuck else state
        self.program_result = res
        self.G = phys.conductance(self.state)
        self.G_prog = ni.levels(self.G)  # as stored, before drift: what drift and 1/f noise start from
        self._drift = ni.drift_sample(self.G_prog, self._rng["drift"])
        self._maps.clear()

    def _state_of(self, G, state):
        """Device states (of the physical devices) whose conductances are ``G`` (S).

        A linear device whose state is its conductance takes ``G`` divided by its per-device factor
        (``G`` may leave the window, as a write error may); any other device is inverted within its range.
        """
        phys = self.phys
        if getattr(phys.model, "state_is_conductance", False) and phys.linear:
            unit = phys.conductance(np.ones_like(state))
            return np.where(unit > 0, G / np.where(unit > 0, unit, 1.0), state)
        lo = float(np.min(phys.conductance(np.asarray(phys.s_off))))
        hi = float(np.max(phys.conductance(np.asarray(phys.s_on))))
        return phys.state_for(np.clip(G, lo, hi))

    def set_state(self, state: np.ndarray) -> None:
        """Replace the device states (read disturb) and drop cached circuit maps."""
        self.state = state
        self.G = self.phys.conductance(state)
        self._maps.clear()

    def apply_pulses(self, n: np.ndarray, polarity: np.ndarray, rng: np.random.Generator) -> tuple[float, int]:
        r"""Apply ``n`` programming pulses of sign ``polarity`` to every device (both ``(rows, cols)``),
        one pulse per round, vectorised over the devices, through the device model's ``apply_pulses``
        (with the crossbar's cycle-to-cycle noise); stuck devices stay stuck.

        Returns
        -------
        energy : float
            :math:`\sum V_p^2\, G\, t_p` (J), ``G`` before each pulse.
        rounds : int
            The largest pulse count (rounds spent).
        """
        prog, model = self.cfg.programming, self.phys.model
        c2c = self.nonideal.program_noise()
        kw = {"rng": rng, "noise": c2c} if c2c is not None else {"rng": rng}
        fmap = self.fault_map
        stuck = fmap.stuck_on.any() or fmap.stuck_off.any()
        state, energy = self.state, 0.0
        rounds = int(n.max()) if n.size else 0
        v_p = np.where(polarity > 0, prog.v_set, prog.v_reset)
        for k in range(rounds):  # one pulse per round, vectorised over the devices (as write-verify does)
            active = (n > k) & (polarity != 0)
            G = self.phys.conductance(state)
            energy += float(np.sum(np.where(active, v_p**2 * G, 0.0)) * prog.t_pulse)
            state = np.asarray(model.apply_pulses(state, active.astype(np.int64), np.where(active, polarity, 0), **kw),
                               dtype=float)
            if stuck:
                state = fmap.force(state, model)
        if rounds:
            self.set_state(state)
            self.G_prog = self.nonideal.levels(self.G)
        return energy, rounds

    # ------------------------------------------------------------------ what a read sees
    def conductance_at(self, t) -> np.ndarray:
        """Conductances (S) as read ``t`` s after programming (levels, drift); stored ones if ``t`` is None."""
        if not self.nonideal.items:
            return self.G
        return self.nonideal.conductance(self.G, t, self._drift)

    def read_std_at(self, t, G=None):
        """Per-device read-noise standard deviation (S) at time ``t``, or None without read noise."""
        if not self.nonideal.of("read_noise"):
            return None
        return self.nonideal.read_std(self.conductance_at(t) if G is None else G, t, G_prog=self.G_prog)

    @property
    def linear(self) -> bool:
        """Whether the cells read linearly (device I-V, no read I-V non-ideality, no selector)."""
        return self.phys.linear and self.iv is None

    def h(self, V):
        """The read I-V shape applied to driver voltages (V): ``V`` when linear."""
        return V if self.iv is None else self.iv.read_shape(V)

    def _scale_of(self, G):
        """Per-cell factor turning the programmed state's current into the one read (drift/levels of a
        nonlinear device); a device programmed to 0 S stays at 0 A, whatever the factor."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.G == 0.0, 1.0, G / np.where(self.G == 0.0, 1.0, self.G))

    def _cells(self, G, transposed=False) -> CellPhysics:
        cfg = self.cfg
        tr = (lambda a: a.T) if transposed else (lambda a: a)
        g_acc = None
        if cfg.cell == "1T1R":
            g_acc = switch_conductance(cfg.r_on_access, cfg.r_off_access, ACCESS_GATE["v_on"])
            g_acc = np.full(tr(G).shape, g_acc)
        if self.iv is not None:
            return CellPhysics(cfg.cell, None, _ShapedCells(self.iv), tr(G), g_acc, cfg.selector_is, cfg.selector_n)
        if self.phys.linear:
            return CellPhysics(cfg.cell, tr(G), None, None, g_acc, cfg.selector_is, cfg.selector_n)
        return CellPhysics(cfg.cell, None, _Scaled(self.phys.model, self._scale_of(G), transposed), tr(self.state),
                           g_acc, cfg.selector_is, cfg.selector_n)

    def circuit(self, transposed=False) -> TileCircuit:
        """The tile's wiring (row-driven, or column-driven for transposed reads)."""
        circ = self._circuit.get(transposed)
        if circ is None:
            cfg = self.cfg
            rows, cols = (self.cols, self.rows) if transposed else (self.rows, self.cols)
            circ = self._circuit[transposed] = TileCircuit(rows, cols, cfg.r_wire, cfg.r_driver, cfg.readout, cfg.r_sense)
        return circ

    def linear_map(self, t=None, transposed=False):
        """The :class:`~neurosim.crossbar.circuit.LinearMap` of the linear tile at time ``t`` (a small cache)."""
        key = (t, transposed)
        lm = self._maps.get(key)
        if lm is None:
            cells = self._cells(self.conductance_at(t), transposed)
            lm = self.circuit(transposed).linear_map(cells.linear_g())
            # the map is all a linear read needs: free the wiring (a few MB per tile), rebuilt on demand
            self._circuit.pop(transposed, None)
            self._maps[key] = lm
            while len(self._maps) > _MAPS:
                self._maps.popitem(last=False)
        else:
            self._maps.move_to_end(key)
        return lm

    # ------------------------------------------------------------------ reads
    def read(self, V: np.ndarray, mode: str, t=None, transposed=False, rng=None, noise=True):
        """Physical column currents (A) and array power per vector (W).

        Parameters
        ----------
        V : ndarray (batch, rows) or (batch, cols) when transposed
            Driver voltages (V).
        mode : {"ideal", "device", "circuit"}
        t : float, optional
            Time since programming (s) for drift.
        transposed : bool
            Drive the columns and read the rows.
        rng : numpy.random.Generator, optional
            The crossbar's read stream (needed when there is read noise).
        noise : bool
            Add the read noise (False: the noise-free currents).

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
        std = self.read_std_at(t, G) if noise else None
        stdd = None if std is None else (std.T if transposed else std)
        if mode == "device":
            if self.phys.linear:
                hV = self.h(V)
                return self._noise(hV @ Gd, hV, stdd, rng), (hV * V) @ Gd.sum(axis=1), None
            I, P = self._cellwise(V, G, transposed)
            return self._noise(I, V, stdd, rng), P, None
        # circuit; read disturb needs the cell voltages, which only the full solve gives
        if self.linear and self.cfg.cell != "1S1R" and not self.cfg.read_disturb:
            lm = self.linear_map(t, transposed)
            I = V @ lm.M
            if self.cfg.cost.exact_circuit_power:
                P = np.sum((V @ lm.Y) * V, axis=1)
            else:
                P = (V * V) @ Gd.sum(axis=1)
            return self._noise(I, V, stdd, rng), P, None
        I, v_mem, P = self.circuit(transposed).solve(self._cells(G, transposed), V)
        if transposed:
            v_mem = np.swapaxes(v_mem, 1, 2)
        return self._noise(I, self.h(V), stdd, rng), P, v_mem

    @staticmethod
    def _noise(I, hV, std, rng):
        """Column currents plus read noise: variance :math:`\\sum_i h(V_i)^2 s_{ij}^2` per column."""
        if std is None:
            return I
        var = np.ascontiguousarray((hV * hV) @ (std * std), dtype=np.float64)
        return I + normal_from_variance(rng, var)

    def _cellwise(self, V, G, transposed):
        """Column sums of a nonlinear device's currents, chunked over the batch."""
        m, state = self.phys.model, self.state
        scale = self._scale_of(G)  # drift and levels scale the current of the programmed state
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
        if self.transposed:  # (..., cols, rows) -> the model's (..., rows, cols) and back
            v = np.swapaxes(np.asarray(v), -1, -2)
            return np.swapaxes(np.asarray(fn(state.T, v), dtype=float) * self.scale, -1, -2)
        return np.asarray(fn(state, v), dtype=float) * self.scale

    def current(self, state, v):
        return self._call(self.model.current, state, v)

    def dcurrent_dv(self, state, v):
        return self._call(self.model.dcurrent_dv, state, v)
