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

__all__ = ["InSituResult", "insitu_fit", "pulse_update", "AsymmetryCurve", "asymmetry_curve", "plot_asymmetry_curve"]


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

    The learning rule's part: pulse counts by stochastic rounding; the devices' part is
    :meth:`~neurosim.crossbar.Crossbar.apply_pulses`.

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
    dW = np.asarray(dW, dtype=np.float64)
    n = np.minimum(np.floor(np.abs(dW) / _dw_min(xb) + rng.random(dW.shape)), max_pulses).astype(np.int64)
    return xb.apply_pulses(n * np.sign(dW).astype(np.int64), rng=rng)


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
        ops.adopt(acell)  # 1. read back
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


@dataclasses.dataclass
class AsymmetryCurve:
    """Final in-situ training loss against the devices' up/down asymmetry (:func:`asymmetry_curve`).

    Attributes
    ----------
    ratios : ndarray (k,)
        :math:`\\alpha_- / \\alpha_+`.
    seeds : list of int
    final_loss : ndarray (k, seeds)
        Mean training loss over the last ``tail`` iterations of each run.
    initial_loss : ndarray (k, seeds)
    pulses, energy : ndarray (k, seeds)
        Pulses and programming energy (J) of each run.
    """

    ratios: np.ndarray
    seeds: list
    final_loss: np.ndarray
    initial_loss: np.ndarray
    pulses: np.ndarray
    energy: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """Mean final loss over the seeds, per ratio."""
        return self.final_loss.mean(axis=1)

    @property
    def sem(self) -> np.ndarray:
        """Standard error of that mean (sample sd / sqrt(seeds); 0 for one seed)."""
        n = self.final_loss.shape[1]
        return self.final_loss.std(axis=1, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(len(self.ratios))


def asymmetry_curve(cell, x, y, device, ratios=(1.0, 2.0, 4.0, 8.0), seeds=(0, 1, 2), *, iterations: int = 150,
                    lr: float = 0.5, tail: int = 20, hardware: HardwareConfig | None = None, **fit_kwargs) -> AsymmetryCurve:
    r"""How in-situ training degrades as the devices' up/down asymmetry grows: the curve.

    For every ratio :math:`r` the device's depression step is set to :math:`\alpha_- = r\, \alpha_+`
    (``dataclasses.replace`` of the device model), and :func:`insitu_fit` trains ``cell`` on
    ``(x, y)`` once per seed (the hardware's root seed and the rounding / cycle-to-cycle stream). The
    curve is the mean loss of the last ``tail`` iterations,

    .. math:: L_{final}(r, s) = \frac{1}{n_{tail}} \sum_{i > N - n_{tail}} L_i(r, s)

    Parameters
    ----------
    cell : RecurrentBase
        The initial network (the same start for every run).
    x, y : ndarray (time, batch, features)
        Training inputs and targets (see :func:`insitu_fit`).
    device : SoftBoundsDevice
        The device; its ``alpha_up`` is kept, ``alpha_down`` set per ratio.
    ratios : sequence of float > 0
    seeds : sequence of int
    iterations, lr
        See :func:`insitu_fit`.
    tail : int
        Iterations averaged for the final loss (``1 <= tail <= iterations``).
    hardware : HardwareConfig, optional
        The rest of the hardware (default ``HardwareConfig()``); its ``device`` and ``seed`` are replaced.
    **fit_kwargs
        Passed to :func:`insitu_fit` (``output_size``, ``w_max``, ``max_pulses``).

    Returns
    -------
    AsymmetryCurve

    Examples
    --------
    >>> from neurosim.cells import RNN
    >>> from neurosim.devices import SoftBoundsDevice
    >>> dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.01, alpha_down=0.01, initial_state=5.5e-6)
    >>> x = np.random.default_rng(1).uniform(-1, 1, (6, 8, 2))
    >>> c = asymmetry_curve(RNN(2, 2, dtype=np.float64, seed=0), x, np.zeros((6, 8, 2)), dev, (1.0, 4.0), (0, 1),
    ...                     iterations=4, tail=2)
    >>> c.final_loss.shape
    (2, 2)
    """
    rs = np.asarray(ratios, dtype=float)
    if rs.ndim != 1 or rs.size == 0 or not np.all(np.isfinite(rs)) or np.any(rs <= 0):
        raise ParameterError(f"asymmetry_curve: ratios must be a non-empty list of finite numbers > 0, got {ratios!r}")
    seeds = [check_seed("asymmetry_curve", s) for s in seeds]
    if not seeds:
        raise ParameterError("asymmetry_curve: seeds must be a non-empty list of integers >= 0, got []")
    _check_pos("iterations", iterations, integer=True)
    if isinstance(tail, bool) or not isinstance(tail, (int, np.integer)) or not 1 <= tail <= iterations:
        raise ParameterError(f"asymmetry_curve: tail must be an integer in [1, iterations={iterations}], got {tail!r}")
    if not (dataclasses.is_dataclass(device) and hasattr(device, "alpha_up") and hasattr(device, "alpha_down")):
        raise ParameterError("asymmetry_curve: device must be a device model with alpha_up and alpha_down "
                             f"(e.g. SoftBoundsDevice), got {type(device).__name__}")
    hw = HardwareConfig() if hardware is None else hardware
    shape = (rs.size, len(seeds))
    final, first, pulses, energy = (np.zeros(shape) for _ in range(4))
    for i, r in enumerate(rs):
        dev = dataclasses.replace(device, alpha_down=np.asarray(device.alpha_up, dtype=float) * r)
        for j, s in enumerate(seeds):
            res = insitu_fit(cell, x, y, hw.replace(device=dev, seed=s), iterations=iterations, lr=lr, seed=s,
                             **fit_kwargs)
            final[i, j] = res.loss[-tail:].mean()
            first[i, j], pulses[i, j], energy[i, j] = res.loss[0], res.pulses, res.energy
    return AsymmetryCurve(rs, seeds, final, first, pulses, energy)


def plot_asymmetry_curve(curve: AsymmetryCurve, path=None):
    """Plot final loss against asymmetry (mean over seeds, +- 1 standard error, every run as a dot).

    Parameters
    ----------
    curve : AsymmetryCurve
    path : str or path-like, optional
        Write a PNG there.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> c = AsymmetryCurve(np.array([1.0, 4.0]), [0, 1], np.array([[1e-3, 2e-3], [4e-3, 5e-3]]),
    ...                    np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)))
    >>> len(plot_asymmetry_curve(c).axes)
    1
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not isinstance(curve, AsymmetryCurve):
        raise ParameterError(f"plot_asymmetry_curve: curve must be an AsymmetryCurve, got {type(curve).__name__}")
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    r = curve.ratios
    ax.errorbar(r, curve.mean, yerr=curve.sem, marker="o", capsize=3, label=f"mean of {len(curve.seeds)} seeds +- 1 SE")
    ax.plot(np.repeat(r, len(curve.seeds)), curve.final_loss.ravel(), ".", color="0.5", alpha=0.6, label="runs")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("device asymmetry alpha_down / alpha_up")
    ax.set_ylabel("final training loss (MSE)")
    ax.set_title("in-situ training vs device asymmetry")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        from pathlib import Path

        fig.savefig(Path(path), dpi=110)
    return fig
