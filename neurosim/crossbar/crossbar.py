"""The crossbar: a weight matrix programmed onto tiles, read with converters in one of three modes.

Signal chain of one read (weight units in and out, as digital hardware sees them)::

    x --DAC--> V = v_read x_q / x_max --array--> I (columns) --pairs/reference--> I_out
      --gain--> v = g I_out --ADC--> v_q --> y = v_q x_max / (g v_read s)   (s: S per weight unit)

A matrix larger than a tile is split into a grid of tiles (``tile_rows`` inputs by as many outputs
as ``tile_cols`` physical columns hold); every tile converts its own partial sums with its own
ADCs and the partial sums of the tiles sharing outputs are added digitally, as in real hardware.
So with ideal converters an ideal array returns exactly ``W x``; with finite ADC bits each tile adds
its own quantization error.

Examples
--------
>>> import numpy as np
>>> W = np.array([[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]])
>>> xb = Crossbar(W)
>>> bool(np.allclose(xb.matvec([1.0, 2.0, 3.0]), W @ [1.0, 2.0, 3.0], rtol=1e-12))
True
>>> xb.G.shape       # 3 inputs x (2 outputs x 2 differential columns)
(3, 4)
"""

from __future__ import annotations

import math

import numpy as np

from neurosim.crossbar.config import ADC, CrossbarConfig  # noqa: F401  (ADC: doctests)
from neurosim.crossbar.cost import Cost, adc_energy, dac_energy, wire_delay
from neurosim.crossbar.device import DeviceAdapter
from neurosim.crossbar.fused import build_fused, fusable, run_fused
from neurosim.crossbar.mapping import WeightMap
from neurosim.crossbar.periphery import adc_convert, bit_planes, dac_quantize
from neurosim.crossbar.tile import Tile
from neurosim.errors import ParameterError
from neurosim.params import check_array

__all__ = ["Crossbar"]


def _nonidealities(items):
    from neurosim.devices import NonIdealities  # lower layer, imported when used

    return NonIdealities(tuple(items))


class Crossbar:
    """A weight matrix ``W`` (out, in) programmed onto memristive tiles.

    Parameters
    ----------
    weights : array_like, shape (out, in)
        Weights (weight units).
    config : CrossbarConfig, optional
        Array, device, periphery and read mode; default ``CrossbarConfig()``.
    rng : numpy.random.Generator, optional
        Random stream (variability, faults, noise); default ``default_rng(config.seed)``.

    Attributes
    ----------
    tiles : list of Tile
        The tiles, row blocks outer, output blocks inner.
    map : WeightMap
        The weight <-> conductance map.

    Raises
    ------
    ParameterError
        Non-finite weights, weights beyond ``w_max`` without ``clip``, tiles larger than the device
        card allows, ``read_disturb`` with a device that has no dynamics.

    Notes
    -----
    Read modes (``config.mode``): ``ideal`` -- the exact product of the programmed conductances
    (non-idealities ignored); ``device`` -- variability, faults, levels, drift, nonlinear read I-V
    and read noise, no wires; ``circuit`` -- the full MNA solution with wire and driver resistance,
    the readout and the cell's access device (see :mod:`neurosim.crossbar.circuit`). Converters
    apply in every mode (``bits=None`` is ideal).

    .. math:: y_k = \\frac{x_\\max}{g\\, v_\\mathrm{read}\\, s}\\,
              \\mathrm{ADC}\\!\\left(g \\sum_i (G^+_{ik} - G^-_{ik}) V_i\\right),
              \\quad V_i = v_\\mathrm{read}\\, \\mathrm{DAC}(x_i) / x_\\max
    """

    def __init__(self, weights, config: CrossbarConfig | None = None, rng: np.random.Generator | None = None):
        cfg = CrossbarConfig() if config is None else config
        if not isinstance(cfg, CrossbarConfig):
            raise ParameterError(f"Crossbar: config must be a CrossbarConfig, got {type(cfg).__name__}")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ParameterError(f"Crossbar: rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
        W = check_array("Crossbar", "weights", weights, ndim=2).astype(np.float64)
        if W.size == 0:
            raise ParameterError(f"Crossbar: weights must have at least one row and column, got shape {W.shape}")
        self.config = cfg
        self.rng = rng if rng is not None else np.random.default_rng(cfg.seed)
        self.n_out, self.n_in = W.shape
        self.device = DeviceAdapter(cfg.device, cfg.g_min, cfg.g_max, cfg.dac.v_read, cfg.levels)
        self._check_tile_size()
        if cfg.read_disturb and (self.device.ideal or cfg.mode == "ideal"):
            raise ParameterError(
                "Crossbar: read_disturb needs mode 'device' or 'circuit' and a device model with state dynamics, "
                f"got mode={cfg.mode!r}, device={cfg.device!r}"
            )
        w_max = cfg.w_max if cfg.w_max is not None else float(np.max(np.abs(W)))
        self.map = WeightMap(cfg.mapping, self.device.g_min, self.device.g_max, w_max if w_max > 0 else 1.0,
                             self.device.levels, cfg.clip)
        self.nonideal = _nonidealities(cfg.nonidealities if cfg.mode != "ideal" else ())
        per_tile = cfg.tile_cols // 2 if cfg.mapping == "differential" else cfg.tile_cols - 1
        self.tiles: list[Tile] = []
        for r0 in range(0, self.n_in, cfg.tile_rows):
            r1 = min(r0 + cfg.tile_rows, self.n_in)
            for o0 in range(0, self.n_out, per_tile):
                o1 = min(o0 + per_tile, self.n_out)
                G_target = self.map.to_conductance(W[o0:o1, r0:r1])
                self.tiles.append(Tile(r0, r1, o0, o1, G_target, cfg, self.device, self.nonideal, self.rng))
        self._gain = cfg.tia_gain if cfg.readout == "tia" else cfg.r_sense
        self._ranges = {}
        self._fused: dict = {}
        self._cost = Cost()
        self._static_cost()
        for tile in self.tiles:
            res = tile.program_result
            self._cost.program_pulses += int(res.pulses.sum())
            self._cost.e_program += res.energy
            self._cost.t_program = max(self._cost.t_program, res.time)  # tiles program in parallel

    # ------------------------------------------------------------------ construction helpers
    def _check_tile_size(self) -> None:
        limit = self.device.max_array
        cfg = self.config
        if limit is not None:
            lr, lc = (limit, limit) if np.isscalar(limit) else tuple(limit)
            if cfg.tile_rows > lr or cfg.tile_cols > lc:
                raise ParameterError(
                    f"Crossbar: tile_rows x tile_cols must be at most {lr} x {lc} for device {cfg.device!r} "
                    f"(its card's maximum array size), got {cfg.tile_rows} x {cfg.tile_cols}"
                )

    def _static_cost(self) -> None:
        cfg, cm = self.config, self.config.cost
        f2 = cm.cell_area_f2 if cm.cell_area_f2 is not None else (12.0 if cfg.cell == "1T1R" else 4.0)
        cells = sum(t.rows * t.cols for t in self.tiles)
        dac_bits = 1 if cfg.dac.encoding == "bit_serial" else (cfg.dac.bits or 8)
        adc_scale = 2.0 ** ((cfg.adc.bits or 8) - 8)
        self._cost.area_array = cells * f2 * cm.feature_size**2
        self._cost.area_dac = sum(t.rows for t in self.tiles) * dac_bits * cm.a_dac
        self._cost.area_adc = sum(self._n_adc(t) for t in self.tiles) * cm.a_adc * adc_scale

    def _n_adc(self, tile: Tile) -> int:
        return math.ceil((tile.o1 - tile.o0) / self.config.cost.columns_per_adc)

    # ------------------------------------------------------------------ inspection
    @property
    def G(self) -> np.ndarray:
        """Programmed conductances (S), shape ``(in, physical columns of all output tiles)``.

        Tiles of the same inputs are side by side; row tiles are stacked.
        """
        cols = sum(t.cols for t in self.tiles if t.r0 == 0)
        out = np.zeros((self.n_in, cols))
        offsets = {}
        c = 0
        for t in self.tiles:
            if t.r0 == 0:
                offsets[t.o0] = c
                c += t.cols
        for t in self.tiles:
            out[t.r0 : t.r1, offsets[t.o0] : offsets[t.o0] + t.cols] = t.G
        return out

    @property
    def weights(self) -> np.ndarray:
        """The weights the programmed conductances represent, shape ``(out, in)``."""
        W = np.zeros((self.n_out, self.n_in))
        for t in self.tiles:
            W[t.o0 : t.o1, t.r0 : t.r1] = self.map.to_weights(t.G)
        return W

    def program_report(self) -> dict:
        """What programming achieved, over all tiles.

        Returns
        -------
        dict
            ``pulses`` (total), ``max_pulses_per_cell``, ``rounds`` (largest over tiles),
            ``converged`` (fraction of cells within tolerance), ``time`` (s, tiles in parallel),
            ``energy`` (J), ``G_error_rms`` (S, achieved minus target).

        Examples
        --------
        >>> Crossbar(np.eye(2)).program_report()["converged"]
        1.0
        """
        res = [t.program_result for t in self.tiles]
        err = np.concatenate([(t.G - t.G_target).ravel() for t in self.tiles])
        return {
            "pulses": int(sum(r.pulses.sum() for r in res)),
            "max_pulses_per_cell": int(max(r.pulses.max() for r in res)),
            "rounds": int(max(r.rounds for r in res)),
            "converged": float(np.mean(np.concatenate([r.converged.ravel() for r in res]))),
            "time": float(max(r.time for r in res)),
            "energy": float(sum(r.energy for r in res)),
            "G_error_rms": float(np.sqrt(np.mean(err**2))),
        }

    def cost(self) -> Cost:
        """The accumulated energy/latency/area counters (a live object; ``reset_cost()`` zeroes it)."""
        return self._cost

    def reset_cost(self) -> None:
        """Zero the read and programming counters (areas stay)."""
        self._cost.reset()

    def __repr__(self) -> str:
        c = self.config
        return (f"Crossbar({self.n_out}x{self.n_in}, {len(self.tiles)} tile(s) of {c.tile_rows}x{c.tile_cols}, "
                f"cell={c.cell}, mode={c.mode}, mapping={c.mapping})")

    # ------------------------------------------------------------------ reads
    def read_currents(self, voltages, t: float | None = None) -> np.ndarray:
        """Physical column currents (A) for row voltages (V), no converters.

        Parameters
        ----------
        voltages : array_like, shape (in,) or (batch, in)
            Row voltages (V).
        t : float, optional
            Time since programming (s), for retention drift.

        Returns
        -------
        ndarray, shape (columns,) or (batch, columns)
            Currents (A) in the column layout of :attr:`G`; tiles stacked over inputs add their
            currents (their column sums as if summed on one line).
        """
        V, single = self._inputs(voltages, "voltages", self.n_in)
        out = np.zeros((V.shape[0], self.G.shape[1]))
        c, offsets = 0, {}
        for tile in self.tiles:
            if tile.r0 == 0:
                offsets[tile.o0] = c
                c += tile.cols
        for tile in self.tiles:
            I, _, _ = tile.read(V[:, tile.r0 : tile.r1], self.config.mode, t)
            out[:, offsets[tile.o0] : offsets[tile.o0] + tile.cols] += I
        return out[0] if single else out

    def matvec(self, x, t: float | None = None) -> np.ndarray:
        """``W x`` computed by the crossbar (weight units).

        Parameters
        ----------
        x : array_like, shape (in,)
            Input (input units).
        t : float, optional
            Time since programming (s).

        Returns
        -------
        ndarray, shape (out,)

        Examples
        --------
        >>> Crossbar(np.array([[2.0, -1.0]])).matvec([1.0, 1.0])
        array([1.])
        """
        x = check_array("Crossbar.matvec", "x", x, shape=(self.n_in,))
        return self.matmul(x[None, :], t)[0]

    def matmul(self, X, t: float | None = None) -> np.ndarray:
        """Batched product ``X W^T`` computed by the crossbar (weight units).

        Parameters
        ----------
        X : array_like, shape (batch, in)
            Inputs (input units).
        t : float, optional
            Time since programming (s).

        Returns
        -------
        ndarray, shape (batch, out)

        Raises
        ------
        ParameterError
            Wrong shape or non-finite values.

        Examples
        --------
        >>> xb = Crossbar(np.array([[1.0, 0.5]]), CrossbarConfig(adc=ADC(bits=4)))
        >>> xb.matmul(np.array([[1.0, 1.0], [0.2, 0.0]]))   # 4-bit ADC: steps of 1.5 / 7
        array([[1.5       ],
               [0.21428571]])
        """
        X = check_array("Crossbar.matmul", "X", X, shape=(None, self.n_in), shape_names=("batch", None))
        X = X.astype(np.float64, copy=False)
        return self._run(X, t, transposed=False)

    def matmul_transposed(self, Y, t: float | None = None) -> np.ndarray:
        """Batched product ``Y W`` with the columns driven and the rows read (weight units).

        Column drive: a differential pair gets ``+v`` and ``-v``; with a reference column, the
        reference is driven at ``-sum_k v_k`` so that each row reads ``sum_k (G_ik - g_ref) v_k``.

        Parameters
        ----------
        Y : array_like, shape (batch, out)
            Inputs on the output side (input units).
        t : float, optional
            Time since programming (s).

        Returns
        -------
        ndarray, shape (batch, in)

        Examples
        --------
        >>> Crossbar(np.array([[1.0, -2.0]])).matmul_transposed(np.array([[0.5]]))
        array([[ 0.5, -1. ]])
        """
        Y = check_array("Crossbar.matmul_transposed", "Y", Y, shape=(None, self.n_out), shape_names=("batch", None))
        return self._run(Y.astype(np.float64, copy=False), t, transposed=True)

    def _inputs(self, value, name, n):
        arr = check_array("Crossbar", name, value, ndim=(1, 2))
        single = arr.ndim == 1
        arr = arr[None, :] if single else arr
        if arr.shape[1] != n:
            raise ParameterError(f"Crossbar: {name} must have {n} entries per vector, got {arr.shape[1]}")
        return arr.astype(np.float64, copy=False), single

    def read_cell(self, row: int, col: int, voltage: float | None = None, t: float | None = None) -> float:
        """Current (A) read from one cell with every other row and column floating (sneak paths).

        See :func:`neurosim.crossbar.probes.read_cell`.

        Examples
        --------
        >>> xb = Crossbar(np.ones((2, 3)), CrossbarConfig(r_wire=0.0))
        >>> bool(xb.read_cell(0, 0) > xb.G[0, 0] * 0.2)      # passive array: sneak current adds
        True
        """
        from neurosim.crossbar.probes import read_cell

        return read_cell(self, row, col, voltage, t)

    def netlist(self, voltages=None, tile: int = 0):
        """The netlist of one tile read with ``voltages`` (V); see :func:`neurosim.crossbar.probes.tile_netlist_of`."""
        from neurosim.crossbar.probes import tile_netlist_of

        return tile_netlist_of(self, voltages, tile)

    # ------------------------------------------------------------------ the signal chain
    def _run(self, X, t, transposed):
        cfg = self.config
        B = X.shape[0]
        out = np.zeros((B, self.n_in if transposed else self.n_out))
        if B == 0:
            return out
        if cfg.read_disturb:
            rows = [self._run_once(X[b : b + 1], t, transposed) for b in range(B)]
            return np.concatenate(rows, axis=0)
        return self._run_once(X, t, transposed)

    def _run_fused(self, X, t, transposed):
        """All tiles in one batched product (see :mod:`neurosim.crossbar.fused`)."""
        cfg, dac = self.config, self.config.dac
        key = (cfg.mode, t, transposed)
        fr = self._fused.get(key)
        if fr is None:
            fr = self._fused[key] = build_fused(self, t, transposed)
        h = self.tiles[0]._h if cfg.mode == "device" else (lambda v: v)
        B = X.shape[0]
        if dac.encoding == "bit_serial":
            planes, w = bit_planes(dac, X)
            K = planes.shape[0]
            codes = run_fused(self, fr, planes.reshape(K * B, -1), h)
            y = np.tensordot(w, codes.reshape(K, B, -1), axes=1)
        else:
            K = 1
            y = run_fused(self, fr, dac.v_read * dac_quantize(dac, X) / dac.x_max, h)
        pv = fr.per_vector
        c = self._cost
        c.e_dac += B * K * pv["e_dac"]
        c.e_adc += B * K * pv["e_adc"]
        c.dac_conversions += B * K * pv["dac"]
        c.adc_conversions += B * K * pv["adc"]
        c.t_read += B * max(tau + K * per for tau, per in pv["timing"])
        c.reads += B
        c.macs += B * self.n_in * self.n_out
        return y * (dac.x_max / (self._gain * dac.v_read * self.map.scale))

    def _run_once(self, X, t, transposed):
        dac = self.config.dac
        if fusable(self, transposed):
            return self._run_fused(X, t, transposed)
        B = X.shape[0]
        out = np.zeros((B, self.n_in if transposed else self.n_out))
        scale = dac.x_max / (self._gain * dac.v_read * self.map.scale)
        latency = 0.0
        for tile in self.tiles:
            lo, hi = (tile.o0, tile.o1) if transposed else (tile.r0, tile.r1)
            xs = X[:, lo:hi]
            if dac.encoding == "bit_serial":
                planes, w = bit_planes(dac, xs)
                K = planes.shape[0]
                V = planes.reshape(K * B, -1)
                codes = self._convert(tile, V, t, transposed).reshape(K, B, -1)
                y = np.tensordot(w, codes, axes=1)
                cycles = K
            else:
                V = dac.v_read * dac_quantize(dac, xs) / dac.x_max
                if dac.encoding == "pulse_width" and not self._superposes(tile):
                    y = self._convert(tile, V, t, transposed, pulse_width=True)
                else:
                    y = self._convert(tile, V, t, transposed)
                cycles = 1
            a, b = (tile.r0, tile.r1) if transposed else (tile.o0, tile.o1)
            out[:, a:b] += y * scale
            latency = max(latency, self._account(tile, B, cycles, transposed))
        self._cost.t_read += B * latency
        self._cost.reads += B
        self._cost.macs += B * self.n_in * self.n_out
        return out

    def _superposes(self, tile: Tile) -> bool:
        """Whether a pulse-width read equals an amplitude read (cells linear in every mode used)."""
        return self.config.mode == "ideal" or (tile.linear and self.config.cell != "1S1R")

    def _v_range(self, tile: Tile, transposed: bool) -> float:
        if self.config.adc.v_range is not None:
            return self.config.adc.v_range
        key = (id(tile), transposed)
        if key not in self._ranges:
            D = np.abs(self.map.combine(tile.G_target))  # (rows, outputs)
            worst = float(np.max(D.sum(axis=1 if transposed else 0)))
            if worst == 0.0:
                worst = self.map.scale * self.map.w_max
            self._ranges[key] = self._gain * self.config.dac.v_read * worst
        return self._ranges[key]

    def _drive(self, tile: Tile, V: np.ndarray, transposed: bool) -> np.ndarray:
        """Physical driver voltages of a transposed (column-driven) read."""
        if not transposed:
            return V
        Vp = np.zeros((V.shape[0], tile.cols))
        if self.config.mapping == "differential":
            Vp[:, 0::2], Vp[:, 1::2] = V, -V
        else:
            Vp[:, :-1], Vp[:, -1] = V, -V.sum(axis=1)
        return Vp

    def _convert(self, tile: Tile, V, t, transposed, pulse_width=False) -> np.ndarray:
        """ADC output (V) of every output of ``tile``, accounting the array energy."""
        mode, cm = self.config.mode, self.config.cost
        Vp = self._drive(tile, V, transposed)
        if pulse_width:
            I, P, v_mem = self._pulse_width(tile, Vp, t, transposed)
        else:
            I, P, v_mem = tile.read(Vp, mode, t, transposed)
        if self.config.read_disturb:
            self._disturb(tile, Vp, v_mem, transposed)
        self._cost.e_array += cm.t_read * float(np.sum(P))
        I_out = I if transposed else self.map.combine(I)
        return adc_convert(self.config.adc, self._gain * I_out, self._v_range(tile, transposed), self.rng)

    def _pulse_width(self, tile: Tile, V, t, transposed):
        """Charge / t_read of a pulse-width read: rows at ``±v_read`` for ``|V|/v_read`` of ``t_read``."""
        v_read = self.config.dac.v_read
        D = np.abs(V) / v_read  # duty per row
        S = np.sign(V) * v_read
        if self.config.mode != "circuit":
            n = V.shape[1]
            sigma, tile._sigma = tile._sigma, 0.0
            try:
                Fp, _, _ = tile.read(np.eye(n) * v_read, self.config.mode, t, transposed)
                Fn, _, _ = tile.read(-np.eye(n) * v_read, self.config.mode, t, transposed)
            finally:
                tile._sigma = sigma
            Dp, Dn = np.where(V > 0, D, 0.0), np.where(V < 0, D, 0.0)
            I = Dp @ Fp + Dn @ Fn
            if sigma:
                std = sigma * np.sqrt(Dp**2 @ Fp**2 + Dn**2 @ Fn**2)
                I = I + std * tile.rng.standard_normal(I.shape)
            P = (Dp @ (Fp * v_read)).sum(axis=1) - (Dn @ (Fn * v_read)).sum(axis=1)
            return I, P, None
        # circuit with nonlinear cells: time slices between the distinct pulse ends
        I = np.zeros((V.shape[0], tile.rows if transposed else tile.cols))
        P = np.zeros(V.shape[0])
        for b in range(V.shape[0]):
            ends = np.unique(D[b][D[b] > 0])
            start = 0.0
            for end in ends:
                on = D[b] >= end
                Ib, Pb, _ = tile.read(np.where(on, S[b], 0.0)[None, :], "circuit", t, transposed)
                I[b] += (end - start) * Ib[0]
                P[b] += (end - start) * Pb[0]
                start = end
        return I, P, None

    def _disturb(self, tile: Tile, V, v_mem, transposed) -> None:
        """Advance the device states by one read of ``t_read`` at the voltages the read found."""
        if v_mem is None:  # no wires: the full driver voltage is across every cell of its line
            v = V[0][None, :] if transposed else V[0][:, None]
            v = np.broadcast_to(v, tile.state.shape)
        else:
            v = v_mem[0]
        model = tile.phys.model
        step = getattr(model, "step", None)
        if step is None:
            return
        tile.set_state(np.asarray(step(tile.state, v, self.config.cost.t_read), dtype=float))

    def _account(self, tile: Tile, B: int, cycles: int, transposed: bool) -> float:
        """Converter energy for ``B`` vectors; returns one vector's latency on this tile (s)."""
        cfg, cm = self.config, self.config.cost
        n_in = tile.cols if transposed else tile.rows
        n_out = tile.rows if transposed else tile.o1 - tile.o0
        if cfg.dac.encoding == "bit_serial":
            self._cost.e_dac += B * n_in * cycles * dac_energy(cm, 1)
        else:
            self._cost.e_dac += B * n_in * dac_energy(cm, cfg.dac.bits)
        self._cost.dac_conversions += B * n_in * cycles
        self._cost.adc_conversions += B * n_out * cycles
        self._cost.e_adc += B * n_out * cycles * adc_energy(cm, cfg.adc.bits)
        n_adc = math.ceil(n_out / cm.columns_per_adc)
        tau = wire_delay(tile.rows, tile.cols, cfg.r_wire, cfg.r_driver, cm.c_wire)
        return tau + cycles * (cm.t_read + math.ceil(n_out / n_adc) * cm.t_adc)
