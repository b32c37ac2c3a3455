r"""In-situ (on-chip) training: the weight update is applied to the simulated devices as programming pulses.

Every iteration, as on-chip learning works:

1. the weights are *read back* from the array, :math:`W = (G^+ - G^-)/s` (the crossbar's
   :class:`~neurosim.crossbar.mapping.WeightMap`), and the cell's parameters are set to them;
2. the forward pass runs on the crossbars (:func:`~neurosim.analog.to_analog`, its DACs, ADCs and
   read non-idealities) through the recording tape, and the gradient is computed from the tape
   with the read-back weights;
3. the SGD update :math:`\Delta W = -\eta\, \partial L/\partial W` is turned into pulses, open loop
   (no verify): each weight gets

   .. math::
       n = \Big\lfloor \frac{|\Delta W|}{\Delta w_{min}} + u \Big\rfloor, \quad u \sim U[0, 1),
       \qquad \Delta w_{min} = \frac{(\alpha_+ + \alpha_-)(g_{max} - g_{min})}{2 s}

   pulses (stochastic rounding, at most ``max_pulses`` per update), of polarity
   :math:`+\mathrm{sign}\,\Delta W` on :math:`G^+` and :math:`-\mathrm{sign}\,\Delta W` on
   :math:`G^-`. The device's own :meth:`~neurosim.devices.SoftBoundsDevice.apply_pulses` acts (soft
   bounds, :math:`\alpha_+ \ne \alpha_-` asymmetry, finite levels, the crossbar's cycle-to-cycle
   programming noise); stuck cells stay stuck. With symmetric soft bounds the pair's step is
   :math:`\alpha (g_{max} - g_{min})/s` at every state; with asymmetry it depends on the state and
   drifts the weights towards the devices' symmetry point, which is what limits the accuracy.

Biases and the readout (digital periphery) are updated by plain SGD. Pulses are costed as in
:mod:`neurosim.crossbar.programming`: :math:`V_p^2\, G\, t_p` per pulse with :math:`G` the conductance
before the pulse, ``v_set`` / ``v_reset`` and ``t_pulse`` of the crossbar's ``Programming``; rows are
pulsed one after the other (:math:`t = n_{max}\, \mathrm{rows}\, t_p` per update, tiles in parallel).
Pulses, energy and time are added to the crossbar's :meth:`~neurosim.crossbar.Crossbar.cost` counters
(``program_pulses``, ``e_program``, ``t_program``) and reported in :class:`InSituResult`.

Examples
--------
>>> import numpy as np
>>> from neurosim.analog import HardwareConfig
>>> from neurosim.cells import RNN
>>> from neurosim.devices import SoftBoundsDevice
>>> dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.02, alpha_down=0.02, initial_state=5e-6)
>>> x = np.random.default_rng(0).uniform(-1, 1, (8, 4, 2))
>>> res = insitu_fit(RNN(2, 2, dtype=np.float64, seed=0), x, np.zeros((8, 4, 2)),
...                  HardwareConfig(device=dev), iterations=3, lr=0.1, seed=0)
>>> res.pulses > 0 and res.energy > 0
True
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neurosim.analog import HardwareConfig, to_analog
from neurosim.config import FrozenMapping
from neurosim.errors import ParameterError
from neurosim.seeding import check_seed, rng as seeded_rng
from neurosim.train.losses import TrainingError, mse_loss
from neurosim.train.model import SequenceModel

__all__ = ["InSituResult", "insitu_fit", "pulse_update"]


@dataclasses.dataclass
class InSituResult:
    """What :func:`insitu_fit` did.

    Attributes
    ----------
    model : SequenceModel
        The trained model; its cell is the analog cell whose parameters are the read-back weights.
    loss : ndarray
        Training loss (on the analog forward pass) before each update, then after the last.
    pulses : int
        Programming pulses applied (all crossbars).
    energy : float
        Programming energy (J).
    time : float
        Programming time (s), crossbars and tiles in parallel, updates one after the other.
    pulses_per_update : ndarray of int
        Pulses of each update.
    """

    model: SequenceModel
    loss: np.ndarray
    pulses: int
    energy: float
    time: float
    pulses_per_update: np.ndarray


def _check_pos(name, v, integer=False):
    ok = (isinstance(v, (int, np.integer)) and not isinstance(v, bool)) if integer else \
        (isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) and np.isfinite(v))
    if not ok or v <= 0:
        kind = "an integer >= 1" if integer else "a finite number > 0"
        raise ParameterError(f"insitu_fit: {name} must be {kind}, got {v!r}")


def _dw_min(xb) -> float:
    """The nominal weight change of one pulse pair, :math:`(\\alpha_+ + \\alpha_-) (g_{max}-g_{min}) / (2 s)`."""
    model = xb.device.model
    a = 0.5 * (float(np.mean(model.alpha_up)) + float(np.mean(model.alpha_down)))
    return a * (xb.device.g_max - xb.device.g_min) / xb.map.scale


def pulse_update(xb, dW: np.ndarray, rng: np.random.Generator, max_pulses: int = 16) -> dict:
    """Apply the weight change ``dW`` (out, in) to the crossbar ``xb`` as programming pulses.

    Parameters
    ----------
    xb : Crossbar
        Differential mapping, a device model with ``apply_pulses`` and ``alpha_up``/``alpha_down``.
    dW : ndarray (out, in)
        Desired weight change (weight units).
    rng : numpy.random.Generator
        Stochastic rounding of the pulse counts and cycle-to-cycle noise.
    max_pulses : int
        Largest pulse count per weight and update.

    Returns
    -------
    dict
        ``pulses`` (int), ``energy`` (J), ``time`` (s) of this update (also added to ``xb.cost()``).

    Notes
    -----
    Pulse counts :math:`n = \\lfloor |\\Delta W| / \\Delta w_{min} + u \\rfloor`; energy
    :math:`\\sum V_p^2 G t_p` with :math:`G` before each pulse (see the module docstring).
    """
    if xb.map.mapping != "differential":
        raise ParameterError(f"insitu: the crossbar mapping must be 'differential', got {xb.map.mapping!r}")
    if not hasattr(xb.device.model, "apply_pulses") or not hasattr(xb.device.model, "alpha_up"):
        raise ParameterError("insitu: the device must have a pulse response (apply_pulses, alpha_up, alpha_down, "
                             f"e.g. SoftBoundsDevice), got {type(xb.device.model).__name__}")
    prog = xb.config.programming
    c2c = xb.nonideal.program_noise()
    dW = np.asarray(dW, dtype=np.float64)
    n_all = np.minimum(np.floor(np.abs(dW) / _dw_min(xb) + rng.random(dW.shape)), max_pulses).astype(np.int64)
    s_all = np.sign(dW).astype(np.int64)
    pulses, energy, time = 0, 0.0, 0.0
    for tile in xb.tiles:
        n_t = n_all[tile.o0:tile.o1, tile.r0:tile.r1].T  # (in, out), as stored
        s_t = s_all[tile.o0:tile.o1, tile.r0:tile.r1].T
        n = np.repeat(n_t, 2, axis=1)  # columns [o+, o-]
        pol = np.empty_like(n)
        pol[:, 0::2], pol[:, 1::2] = s_t, -s_t
        state, model = tile.state, tile.phys.model
        n_max = int(n.max()) if n.size else 0
        stuck = tile.fault_map.stuck_on.any() or tile.fault_map.stuck_off.any()
        for k in range(n_max):  # one pulse per round, vectorised over the devices (as write-verify does)
            active = (n > k) & (pol != 0)
            G = tile.phys.conductance(state)
            v_p = np.where(pol > 0, prog.v_set, prog.v_reset)
            energy += float(np.sum(np.where(active, v_p**2 * G, 0.0)) * prog.t_pulse)
            kw = {"rng": rng, "noise": c2c} if c2c is not None else {"rng": rng}
            state = np.asarray(model.apply_pulses(state, active.astype(np.int64), np.where(active, pol, 0), **kw),
                               dtype=float)
            if stuck:
                state = tile.fault_map.force(state, model)
        pulses += int(np.sum(n * (pol != 0)))
        time = max(time, n_max * tile.rows * prog.t_pulse)
        tile.set_state(state)
        tile.G_prog = tile.nonideal.levels(tile.G)
    # the array changed: compiled reads and range caches of the crossbar are stale (as after Crossbar.program)
    xb.version += 1
    xb._plans.clear()
    xb._comp.clear()
    xb._ranges.clear()
    cost = xb.cost()
    cost.program_pulses += pulses
    cost.e_program += energy
    cost.t_program += time
    return {"pulses": pulses, "energy": energy, "time": time}


def _adopt(ops, name, param, W):
    """Set the live parameter to the read-back weights without reprogramming the crossbar."""
    param[...] = W
    ops._held[name] = np.array(param, copy=True)
    ops._checked.pop(name, None)


def insitu_fit(cell, x, y, hardware: HardwareConfig, *, output_size=None, iterations: int = 100, lr: float = 0.05,
               w_max: float = 1.0, max_pulses: int = 16, loss: str = "mse", seed=0) -> InSituResult:
    """Train ``cell`` in situ on crossbars of ``hardware`` (see the module docstring).

    Parameters
    ----------
    cell : RecurrentBase
        A digital (or analog) cell with matrix-product weights; its analog twin is built with
        ``hardware`` (the crossbar window mapped to ``[-w_max, w_max]``, weights clipped).
    x : ndarray (time, batch, input_size)
        Training inputs (full batch every iteration).
    y : ndarray (time, batch, out)
        Targets on every step.
    hardware : HardwareConfig
        Its ``device`` must have a pulse response (e.g. :class:`~neurosim.devices.SoftBoundsDevice`).
    output_size : int or None
        A digital linear readout (None: the cell's output is the prediction).
    iterations : int
        Updates (each: read back, forward, backward, pulses).
    lr : float
        Learning rate :math:`\\eta`.
    w_max : float
        Weight mapped to the full conductance window.
    max_pulses : int
        Largest pulse count per weight and update.
    loss : {"mse"}
        Loss on every step.
    seed : int
        Rounding and cycle-to-cycle noise stream; readout initialisation.

    Returns
    -------
    InSituResult

    Raises
    ------
    ParameterError
        Bad learning rate, iterations, w_max or max_pulses; a device without a pulse response.
    TrainingError
        A non-finite loss or gradient.
    """
    seed = check_seed("insitu_fit", seed)
    _check_pos("lr", lr)
    _check_pos("w_max", w_max)
    _check_pos("iterations", iterations, integer=True)
    _check_pos("max_pulses", max_pulses, integer=True)
    if loss != "mse":
        raise ParameterError(f"insitu_fit: loss must be 'mse', got {loss!r}")
    if not isinstance(hardware, HardwareConfig):
        raise ParameterError(f"insitu_fit: hardware must be a HardwareConfig, got {type(hardware).__name__}")
    opts = dict(hardware.crossbar_options)
    opts.update(w_max=float(w_max), clip=True)
    hw = dataclasses.replace(hardware, crossbar_options=FrozenMapping(opts))
    acell = to_analog(cell, hw)
    model = SequenceModel(acell, output_size=output_size, seed=seed)
    x = np.asarray(x, dtype=acell.dtype)
    y = np.asarray(y, dtype=acell.dtype)
    rng = seeded_rng(seed, "insitu")
    ops = acell.ops
    model.predict(x[:1])  # builds and programs every crossbar from the initial weights
    params = model.params
    analog = [k for k in ops.crossbars if k in params and params[k].ndim == 2
              and ops.crossbars[k].n_out == params[k].shape[0] and ops.crossbars[k].n_in == params[k].shape[1]]
    if len(analog) != len(ops.crossbars):
        raise ParameterError(f"insitu_fit: every crossbar must hold a weight matrix (matmul weights), got "
                             f"{sorted(ops.crossbars)} of which matrices {analog}")
    before = {k: (ops.crossbars[k].cost().program_pulses, ops.crossbars[k].cost().e_program) for k in analog}
    losses, per_update = [], []
    energy = time = 0.0
    for it in range(iterations + 1):
        for k in analog:  # 1. read back
            _adopt(ops, k, params[k], ops.crossbars[k].weights.astype(params[k].dtype))
        pred, tr = model.forward(x)  # 2. analog forward through the tape
        value, d_pred = mse_loss(pred, y)
        if not np.isfinite(value):
            raise TrainingError(f"insitu_fit: the loss is not finite at iteration {it}, got {value!r}")
        losses.append(float(value))
        if it == iterations:
            break
        grads = model.backward(tr, d_pred)
        n_it, t_it = 0, 0.0
        for k, g in grads.items():
            if not np.all(np.isfinite(g)):
                raise TrainingError(f"insitu_fit: the gradient of {k!r} is not finite at iteration {it}")
            if k in analog:  # 3. pulses
                r = pulse_update(ops.crossbars[k], -lr * g, rng, max_pulses)
                n_it += r["pulses"]
                energy += r["energy"]
                t_it = max(t_it, r["time"])
            else:
                params[k] -= (lr * g).astype(params[k].dtype)
        per_update.append(n_it)
        time += t_it
    pulses = int(sum(per_update))
    return InSituResult(model, np.array(losses), pulses, energy, time, np.array(per_update, dtype=np.int64))
