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

import functools
import math
from collections import OrderedDict

import numpy as np

from neurosim.crossbar.config import ADC, CrossbarConfig  # noqa: F401  (ADC: doctests)
from neurosim.crossbar.cost import Cost, adc_energy, dac_energy, wire_delay
from neurosim.crossbar.device import DeviceAdapter
from neurosim.crossbar.mapping import WeightMap
from neurosim.crossbar.periphery import adc_convert, bit_planes, dac_quantize
from neurosim.crossbar.readplan import CompiledRead, compiled_eligible
from neurosim.crossbar.tile import Tile
from neurosim.errors import ParameterError
from neurosim.params import check_array
from neurosim.seeding import check_seed, derive

#: Largest weight magnitude (weight units) and smallest/largest DAC full scale the float64 signal
#: chain represents without overflow or loss (conductance per weight unit, codes, output scale).
W_LIMIT = 1e100
_PLANS = 8  # compiled reads kept per crossbar (one per read time, direction and dtype)

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
    seed : int, numpy.random.SeedSequence or None, optional
        Root of every random stream (variability, faults, programming, drift, read noise), expanded
        by stable keys per tile and purpose (:mod:`neurosim.seeding`); default ``config.seed``
        (``None`` means 0, never OS entropy).

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

    def __init__(self, weights, config: CrossbarConfig | None = None, seed=None):
        cfg = CrossbarConfig() if config is None else config
        if not isinstance(cfg, CrossbarConfig):
            raise ParameterError(f"Crossbar: config must be a CrossbarConfig, got {type(cfg).__name__}")
        check_seed("Crossbar", seed)
        W = self._check_weights(weights)
        self.config = cfg
        #: the root of every random stream of this crossbar (neurosim.seeding: keys per tile and purpose)
        self.seed_sequence = derive(cfg.seed if seed is None else seed)
        # read noise (per-device and readout) of every read path: one stream; SFC64's raw bits are
        # what the Box-Muller draws consume, ~1.5x faster than PCG64's
        self._read_rng = np.random.Generator(np.random.SFC64(derive(self.seed_sequence, "read")))
        self.n_out, self.n_in = W.shape
        self.device = DeviceAdapter(cfg.device, cfg.g_min, cfg.g_max, cfg.dac.v_read, cfg.levels)
        self._check_tile_size()
        if cfg.read_disturb and (self.device.ideal or cfg.mode == "ideal"):
            raise ParameterError(
                "Crossbar: read_disturb needs mode 'device' or 'circuit' and a device model with state dynamics, "
                f"got mode={cfg.mode!r}, device={cfg.device!r}"
            )
        self.map = self._weight_map(W)
        self.nonideal = _nonidealities(cfg.nonidealities if cfg.mode != "ideal" else ())
        per_tile = cfg.tile_cols // 2 if cfg.mapping == "differential" else cfg.tile_cols - 1
        self.tiles: list[Tile] = []
        for r0 in range(0, self.n_in, cfg.tile_rows):
            r1 = min(r0 + cfg.tile_rows, self.n_in)
            for o0 in range(0, self.n_out, per_tile):
                o1 = min(o0 + per_tile, self.n_out)
                G_target = self.map.to_conductance(W[o0:o1, r0:r1])
                self.tiles.append(Tile(r0, r1, o0, o1, G_target, cfg, self.device, self.nonideal, self.seed_sequence))
        self._gain = cfg.tia_gain if cfg.readout == "tia" else cfg.r_sense
        self._ranges: dict = {}
        self._plans: OrderedDict = OrderedDict()
        self._eligible: dict = {}
        self._comp: dict = {}  # drift compensation: reference reads and factors, keyed by version and time
        #: increases with every programming; compiled reads are keyed by it
        self.version = 0
        self._cost = Cost()
        self._static_cost()
        self._count_programming()

    def _check_weights(self, weights) -> np.ndarray:
        W = check_array("Crossbar", "weights", weights, ndim=2)
        if W.dtype.kind not in "f":
            raise ParameterError(f"Crossbar: weights must be real (float) numbers, got dtype {W.dtype}")
        W = W.astype(np.float64)
        if W.size == 0:
            raise ParameterError(f"Crossbar: weights must have at least one row and column, got shape {W.shape}")
        worst = float(np.max(np.abs(W)))
        if worst > W_LIMIT:
            raise ParameterError(f"Crossbar: weights must have |w| <= {W_LIMIT:g} (the float64 signal chain's range), "
                                 f"got max |w| = {worst:g}")
        return W

    def _weight_map(self, W: np.ndarray) -> WeightMap:
        cfg = self.config
        w_max = cfg.w_max if cfg.w_max is not None else float(np.max(np.abs(W)))
        return WeightMap(cfg.mapping, self.device.g_min, self.device.g_max, w_max if w_max > 0 else 1.0,
                         self.device.levels, cfg.clip)

    def _count_programming(self) -> None:
        for tile in self.tiles:
            res = tile.program_result
            self._cost.program_pulses += int(res.pulses.sum())
            self._cost.e_program += res.energy
            self._cost.t_program = max(self._cost.t_program, res.time)  # tiles program in parallel

    def program(self, weights) -> "Crossbar":
        """Reprogram the same physical array with new weights (same shape).

        The devices keep their device-to-device spread and their stuck faults; programming noise
        and drift exponents are drawn anew (the programming stream continues); compiled reads are
        rebuilt (:attr:`version` increases). With ``w_max=None`` the weight scale follows the new
        ``max |W|``. Programming pulses, energy and time are added to the cost counters.

        Parameters
        ----------
        weights : array_like, shape (out, in)

        Returns
        -------
        Crossbar
            ``self``.

        Raises
        ------
        ParameterError
            Wrong shape, non-finite or out-of-range weights.

        Examples
        --------
        >>> xb = Crossbar(np.array([[1.0, -2.0]]))
        >>> xb.program(np.array([[0.5, 0.25]])).matvec([1.0, 1.0]), xb.version
        (array([0.75]), 1)
        """
        W = self._check_weights(weights)
        if W.shape != (self.n_out, self.n_in):
            raise ParameterError(f"Crossbar.program: weights must have shape ({self.n_out}, {self.n_in}), got {W.shape}")
        self.map = self._weight_map(W)
        for tile in self.tiles:
            tile.program(self.map.to_conductance(W[tile.o0 : tile.o1, tile.r0 : tile.r1]))
        self.version += 1
        self._plans.clear()
        self._comp.clear()
        self._ranges.clear()
        self._count_programming()
        return self

    def apply_pulses(self, pulses, rng: np.random.Generator | None = None) -> dict:
        r"""Apply programming pulses to the devices of every weight, through the device's own pulse response.

        ``pulses[o, i] = n`` (signed integer) gives weight :math:`(o, i)` :math:`|n|` pulse pairs: with
        the differential mapping, :math:`|n|` pulses of polarity :math:`\mathrm{sign}\, n` on
        :math:`G^+` and of polarity :math:`-\mathrm{sign}\, n` on :math:`G^-`, open loop (no verify),
        one pulse per round, all devices of a tile in parallel. The device model's ``apply_pulses``
        acts (soft bounds, up/down asymmetry, finite levels), with the crossbar's cycle-to-cycle noise;
        stuck devices stay stuck. The conductances as stored (levels) follow; drift keeps the sample of
        the last programming. Afterwards :attr:`version` increases, so compiled reads are rebuilt and an
        :class:`~neurosim.analog.AnalogOps` holding this crossbar sees the change
        (:meth:`~neurosim.analog.AnalogOps.adopt`).

        Cost (added to :meth:`cost`): a pulse of amplitude :math:`V_p` (``v_set`` / ``v_reset`` of the
        ``Programming``) on a device of conductance :math:`G` (before the pulse) costs

        .. math:: E = V_p^2\, G\, t_p, \qquad t = n_{max}\, \mathrm{rows}\, t_p

        rows one after the other, tiles in parallel.

        Parameters
        ----------
        pulses : array_like of int, shape (out, in)
            Signed pulse counts per weight.
        rng : numpy.random.Generator, optional
            Cycle-to-cycle noise stream; default the crossbar's own (``derive(seed, "pulses")``).

        Returns
        -------
        dict
            ``pulses`` (device pulses, int), ``energy`` (J), ``time`` (s) of this call.

        Raises
        ------
        ParameterError
            Another mapping than differential, a device without a pulse response, a wrong shape or
            non-integer counts.

        Examples
        --------
        >>> from neurosim.devices import SoftBoundsDevice
        >>> dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.1, alpha_down=0.1, initial_state=5.5e-6)
        >>> xb = Crossbar(np.zeros((1, 2)), CrossbarConfig(device=dev, w_max=1.0))
        >>> r = xb.apply_pulses(np.array([[2, -1]]))
        >>> r["pulses"], xb.version, bool(xb.weights[0, 0] > 0 > xb.weights[0, 1])
        (6, 1, True)
        """
        if self.map.mapping != "differential":
            raise ParameterError(f"Crossbar.apply_pulses: the mapping must be 'differential', got {self.map.mapping!r}")
        if not hasattr(self.device.model, "apply_pulses"):
            raise ParameterError("Crossbar.apply_pulses: the device must have a pulse response (apply_pulses, e.g. "
                                 f"SoftBoundsDevice), got {type(self.device.model).__name__}")
        n_all = np.asarray(pulses)
        if n_all.shape != (self.n_out, self.n_in) or n_all.dtype.kind not in "iu":
            raise ParameterError(f"Crossbar.apply_pulses: pulses must be an integer array of shape "
                                 f"({self.n_out}, {self.n_in}), got {n_all.dtype} {n_all.shape}")
        if rng is None:
            rng = getattr(self, "_pulse_rng", None)
            if rng is None:
                rng = self._pulse_rng = np.random.default_rng(derive(self.seed_sequence, "pulses"))
        prog = self.config.programming
        count, energy, time = 0, 0.0, 0.0
        for tile in self.tiles:
            block = n_all[tile.o0:tile.o1, tile.r0:tile.r1].T.astype(np.int64)  # (in, out), as stored
            n = np.repeat(np.abs(block), 2, axis=1)  # columns [o+, o-]
            pol = np.empty_like(n)
            pol[:, 0::2], pol[:, 1::2] = np.sign(block), -np.sign(block)
            e, rounds = tile.apply_pulses(n, pol, rng)
            energy += e
            count += int(np.sum(n * (pol != 0)))
            time = max(time, rounds * tile.rows * prog.t_pulse)
        # the array changed: compiled reads and caches are stale (as after program)
        self.version += 1
        self._plans.clear()
        self._comp.clear()
        self._ranges.clear()
        self._cost.program_pulses += count
        self._cost.e_program += energy
        self._cost.t_program += time
        return {"pulses": count, "energy": energy, "time": time}

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
            I, _, _ = tile.read(V[:, tile.r0 : tile.r1], self.config.mode, t, rng=self._read_rng)
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

    def matmul(self, X, t: float | None = None, *, out: np.ndarray | None = None) -> np.ndarray:
        """Batched product ``X W^T`` computed by the crossbar (weight units).

        Parameters
        ----------
        X : array_like, shape (batch, in)
            Inputs (input units). float32 inputs are read in float32 arithmetic and give float32
            outputs; anything else in float64.
        t : float, optional
            Time since programming (s).
        out : ndarray, shape (batch, out), optional
            C-contiguous array of the result's dtype, written and returned.

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
        return self._read(X, t, False, out)

    def matmul_transposed(self, Y, t: float | None = None, *, out: np.ndarray | None = None) -> np.ndarray:
        """Batched product ``Y W`` with the columns driven and the rows read (weight units).

        Column drive: a differential pair gets ``+v`` and ``-v``; with a reference column, the
        reference is driven at ``-sum_k v_k`` so that each row reads ``sum_k (G_ik - g_ref) v_k``.

        Parameters
        ----------
        Y : array_like, shape (batch, out)
            Inputs on the output side (input units); float32 stays float32 as in :meth:`matmul`.
        t : float, optional
            Time since programming (s).
        out : ndarray, shape (batch, in), optional
            Written and returned.

        Returns
        -------
        ndarray, shape (batch, in)

        Examples
        --------
        >>> Crossbar(np.array([[1.0, -2.0]])).matmul_transposed(np.array([[0.5]]))
        array([[ 0.5, -1. ]])
        """
        Y = check_array("Crossbar.matmul_transposed", "Y", Y, shape=(None, self.n_out), shape_names=("batch", None))
        return self._read(Y, t, True, out)

    # ------------------------------------------------------------------ drift compensation
    def _compensating(self, t) -> bool:
        return self.config.drift_compensation is not None and t is not None and self.config.mode != "ideal"

    def compensation(self, t: float) -> np.ndarray:
        r"""Drift compensation factors at time ``t`` (s since programming), one per output.

        Right after programming (``t = 0``) and at ``t`` the crossbar reads the reference inputs
        :math:`x_{max} e_i` (every unit vector at full scale, ``n_in`` reads each, through the same
        read path, noise and converters included, counted in :meth:`cost`); with the outputs
        :math:`Y^{(0)}, Y^{(t)}` (reference input :math:`i`, output :math:`k`):

        .. math::

            lpha = rac{\sum_{ik} |Y^{(0)}_{ik}|}{\sum_{ik} |Y^{(t)}_{ik}|}\ 	ext{(global)}, \qquad
            lpha_k = rac{\sum_i |Y^{(0)}_{ik}|}{\sum_i |Y^{(t)}_{ik}|}\ 	ext{(per column)}

        (a zero denominator gives 1). Reads at ``t`` return :math:`lpha_k y_k` (aihwkit's
        ``GlobalDriftCompensation`` / ``PerColumnDriftCompensation``, whose mean absolute readout
        of the identity is the same ratio). Transposed reads scale their inputs by :math:`lpha_k`
        instead (the same algebra: row :math:`k` of the drifted matrix is multiplied by :math:`lpha_k`).
        The reference of ``t = 0`` is measured once per programming, the one of each ``t`` once.

        Parameters
        ----------
        t : float
            Time since programming (s), >= 0.

        Returns
        -------
        ndarray, shape (out,)
            The factors (all equal for ``"global"``; ones when compensation is off or the mode is ideal).

        Raises
        ------
        ParameterError
            A negative or non-finite ``t``.

        Examples
        --------
        >>> from neurosim.devices import RetentionDrift
        >>> cfg = CrossbarConfig(mode="device", nonidealities=(RetentionDrift(nu=0.1),), drift_compensation="global")
        >>> xb = Crossbar(np.array([[1.0, -0.5]]), cfg)
        >>> round(float(xb.compensation(100.0)[0]), 12)     # 100**0.1
        1.584893192461
        """
        t = float(t)
        if not (math.isfinite(t) and t >= 0):
            raise ParameterError(f"Crossbar: t (time since programming) must be a finite number >= 0 s, got {t!r}")
        if not self._compensating(t):
            return np.ones(self.n_out)
        key = (self.version, t)
        alpha = self._comp.get(key)
        if alpha is None:
            if len(self._comp) > 32:
                self._comp.clear()
            ref = self._reference_read(0.0)
            cur = ref if t == 0.0 else self._reference_read(t)
            if self.config.drift_compensation == "global":
                num, den = np.sum(np.abs(ref)), np.sum(np.abs(cur))
                alpha = np.full(self.n_out, num / den if den > 0 else 1.0)
            else:
                num, den = np.sum(np.abs(ref), axis=0), np.sum(np.abs(cur), axis=0)
                alpha = np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)
            self._comp[key] = alpha
        return alpha

    def _reference_read(self, t: float) -> np.ndarray:
        """Outputs (n_in, out) of the reference inputs ``x_max e_i`` read at ``t`` (uncompensated)."""
        key = (self.version, "ref", t)
        Y = self._comp.get(key)
        if Y is None:
            X = np.eye(self.n_in) * self.config.dac.x_max
            Y = self._comp[key] = self._read_raw(X, t, False, None)
        return Y

    def _read(self, X, t, transposed, out):
        if t is not None:
            t = float(t)
            if not (math.isfinite(t) and t >= 0):
                raise ParameterError(f"Crossbar: t (time since programming) must be a finite number >= 0 s, got {t!r}")
        if not self._compensating(t) or X.shape[0] == 0:
            return self._read_raw(X, t, transposed, out)
        alpha = self.compensation(t)
        per_column = self.config.drift_compensation == "per_column"
        if transposed and per_column:  # rows of the drifted matrix scaled: scale the inputs that drive them
            X = np.asarray(X) * alpha.astype(np.float32 if np.asarray(X).dtype == np.float32 else np.float64)
            return self._read_raw(X, t, transposed, out)
        out = self._read_raw(X, t, transposed, out)
        out *= alpha[0] if transposed else alpha.astype(out.dtype)
        return out

    def _read_raw(self, X, t, transposed, out):
        if X.dtype.kind == "c":
            raise ParameterError(f"Crossbar: inputs must be real, got dtype {X.dtype}")
        if t is not None:
            t = float(t)
            if not (math.isfinite(t) and t >= 0):
                raise ParameterError(f"Crossbar: t (time since programming) must be a finite number >= 0 s, got {t!r}")
        dtype = np.dtype(np.float32) if X.dtype == np.float32 else np.dtype(np.float64)
        X = np.ascontiguousarray(X, dtype=dtype)
        n_res = self.n_in if transposed else self.n_out
        if out is None:
            out = np.empty((X.shape[0], n_res), dtype=dtype)
        elif out.shape != (X.shape[0], n_res) or out.dtype != dtype or not out.flags.c_contiguous:
            raise ParameterError(f"Crossbar: out must be a C-contiguous {dtype} array of shape {(X.shape[0], n_res)}, "
                                 f"got {out.dtype} {out.shape}")
        if X.shape[0] == 0:
            return out
        eligible = self._eligible.get((self.version, transposed))
        if eligible is None:
            eligible = self._eligible[(self.version, transposed)] = compiled_eligible(self, transposed)
        if eligible:
            return self.plan(t, transposed, dtype).read(X, out)
        out[...] = self._read_per_tile(X.astype(np.float64, copy=False), t, transposed)
        return out

    def plan(self, t: float | None = None, transposed: bool = False, dtype=np.float64) -> CompiledRead:
        """The compiled read at time ``t`` (built once per programming, time, direction and dtype).

        Raises
        ------
        ParameterError
            The crossbar's reads cannot be compiled (see :func:`~neurosim.crossbar.readplan.compiled_eligible`).
        """
        key = (self.version, t, transposed, np.dtype(dtype).char)
        plan = self._plans.get(key)
        if plan is None:
            if not compiled_eligible(self, transposed):
                raise ParameterError("Crossbar.plan: this crossbar's reads run per tile (nonlinear cells, read disturb, "
                                     "or read_path='per_tile')")
            plan = self._plans[key] = CompiledRead(self, t, transposed, dtype)
            while len(self._plans) > _PLANS:
                self._plans.popitem(last=False)
        elif len(self._plans) > 1:
            self._plans.move_to_end(key)
        return plan

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

    # ------------------------------------------------------------------ the per-tile read
    def _read_per_tile(self, X, t, transposed):
        """The read tile by tile (the reference variant of the read plan; see :mod:`~neurosim.crossbar.readplan`)."""
        if self.config.read_disturb:  # each vector disturbs the states the next one reads
            return np.concatenate([self._per_tile_once(X[b : b + 1], t, transposed) for b in range(X.shape[0])])
        return self._per_tile_once(X, t, transposed)

    def _per_tile_once(self, X, t, transposed):
        dac = self.config.dac
        B = X.shape[0]
        out = np.zeros((B, self.n_in if transposed else self.n_out))
        scale = dac.x_max / (self._gain * dac.v_read * self.map.scale)
        cycles = 1
        for tile in self.tiles:
            lo, hi = (tile.o0, tile.o1) if transposed else (tile.r0, tile.r1)
            xs = X[:, lo:hi]
            if dac.encoding == "bit_serial":
                planes, w = bit_planes(dac, xs)
                cycles = planes.shape[0]
                V = dac.v_read * planes.reshape(cycles * B, -1)
                codes = self._convert(tile, V, t, transposed).reshape(cycles, B, -1)
                y = np.tensordot(w, codes, axes=1)
            else:
                V = dac.v_read * dac_quantize(dac, xs) / dac.x_max
                y = self._convert(tile, V, t, transposed, pulse_width=dac.encoding == "pulse_width"
                                  and not self._superposes(tile))
            a, b = (tile.r0, tile.r1) if transposed else (tile.o0, tile.o1)
            out[:, a:b] += y * scale
        per = self._per_vector_cost(transposed)(cycles)
        for key, v in per.items():
            setattr(self._cost, key, getattr(self._cost, key) + (B * v if isinstance(v, float) else int(B * v)))
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
            I, P, v_mem = tile.read(Vp, mode, t, transposed, rng=self._read_rng)
        if self.config.read_disturb:
            self._disturb(tile, Vp, v_mem, transposed)
        self._cost.e_array += cm.t_read * float(np.sum(P))
        I_out = I if transposed else self.map.combine(I)
        return adc_convert(self.config.adc, self._gain * I_out, self._v_range(tile, transposed), self._read_rng)

    def _pulse_width(self, tile: Tile, V, t, transposed):
        """Charge / t_read of a pulse-width read: rows at ``±v_read`` for ``|V|/v_read`` of ``t_read``."""
        v_read = self.config.dac.v_read
        D = np.abs(V) / v_read  # duty per row
        S = np.sign(V) * v_read
        if self.config.mode != "circuit":
            n = V.shape[1]
            Fp, _, _ = tile.read(np.eye(n) * v_read, self.config.mode, t, transposed, noise=False)
            Fn, _, _ = tile.read(-np.eye(n) * v_read, self.config.mode, t, transposed, noise=False)
            Dp, Dn = np.where(V > 0, D, 0.0), np.where(V < 0, D, 0.0)
            I = Dp @ Fp + Dn @ Fn
            std = tile.read_std_at(t) if self.config.mode != "ideal" else None
            if std is not None:  # each cell's current noise, weighted by its row's duty
                stdd = std.T if transposed else std
                I = tile._noise(I, D * float(np.abs(tile.h(v_read))), stdd, self._read_rng)
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

    def _per_vector_cost(self, transposed: bool):
        """Counters added by one input vector of ``cycles`` read cycles: converter energy and counts,
        latency (tiles in parallel), reads and MACs. The one cost formula of every read path.

        Returns
        -------
        callable
            ``cycles -> dict`` of :class:`~neurosim.crossbar.Cost` field increments per vector.
        """
        cfg, cm = self.config, self.config.cost
        per_tile = []
        for tile in self.tiles:
            n_in = tile.cols if transposed else tile.rows
            n_out = tile.rows if transposed else tile.o1 - tile.o0
            n_adc = math.ceil(n_out / cm.columns_per_adc)
            tau = wire_delay(tile.rows, tile.cols, cfg.r_wire, cfg.r_driver, cm.c_wire)
            per_tile.append((n_in, n_out, tau, cm.t_read + math.ceil(n_out / n_adc) * cm.t_adc))
        return functools.partial(_vector_counts, tuple(per_tile), cfg.dac.encoding == "bit_serial", cm,
                                 cfg.dac.bits, cfg.adc.bits, self.n_in * self.n_out)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_plans"] = OrderedDict()  # compiled reads are rebuilt on first use (large, cheap to remake)
        return state


def _vector_counts(per_tile, serial, cm, dac_bits, adc_bits, macs, cycles: int) -> dict:
    """Counters of one vector of ``cycles`` read cycles (see ``Crossbar._per_vector_cost``)."""
    out = {"e_dac": 0.0, "e_adc": 0.0, "dac_conversions": 0, "adc_conversions": 0, "t_read": 0.0,
           "reads": 1, "macs": macs}
    for n_in, n_out, tau, per in per_tile:
        out["e_dac"] += n_in * (cycles * dac_energy(cm, 1) if serial else dac_energy(cm, dac_bits))
        out["dac_conversions"] += n_in * cycles
        out["adc_conversions"] += n_out * cycles
        out["e_adc"] += n_out * cycles * adc_energy(cm, adc_bits)
        out["t_read"] = max(out["t_read"], tau + cycles * per)
    return out
