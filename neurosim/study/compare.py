"""``compare``: run a cell digitally and on simulated hardware, and measure where they diverge."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from neurosim.analog.executor import to_analog, to_digital
from neurosim.analog.hardware import HardwareConfig
from neurosim.cells.base import RecurrentBase
from neurosim.errors import ParameterError
from neurosim.params import Param, check_array, check_params
from neurosim.tasks.metrics import accuracy, nrmse, rmse

__all__ = ["Comparison", "compare", "GATE_LABELS"]

GATE_LABELS = {"LSTM": ("i", "f", "g", "o"), "GRU": ("r", "z", "n")}
"""Names of the row blocks of stacked gate matrices (PyTorch's order)."""


class _ReadProbe:
    """Accumulates, per weight and gate block, the crossbar read error against the exact product."""

    def __init__(self, cell: RecurrentBase):
        self.labels = GATE_LABELS.get(type(cell).__name__)
        self.hidden = cell.hidden_size
        self.sq_err: dict[str, np.ndarray] = {}
        self.sq_ref: dict[str, np.ndarray] = {}
        self.count: dict[str, int] = {}

    def _blocks(self, rows: int) -> int:
        if self.labels and rows == len(self.labels) * self.hidden:
            return len(self.labels)
        return 1

    def __call__(self, name: str, W: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
        exact = np.asarray(X, np.float64).reshape(-1, X.shape[-1]) @ np.asarray(W, np.float64).T
        err = np.asarray(Y, np.float64).reshape(exact.shape) - exact
        nb = self._blocks(W.shape[0])
        e = (err**2).reshape(err.shape[0], nb, -1).sum(axis=(0, 2))
        r = (exact**2).reshape(exact.shape[0], nb, -1).sum(axis=(0, 2))
        self.sq_err[name] = self.sq_err.get(name, 0) + e
        self.sq_ref[name] = self.sq_ref.get(name, 0) + r
        self.count[name] = self.count.get(name, 0) + err.size

    def result(self) -> dict[str, dict[str, dict[str, float]]]:
        out = {}
        for name, e in self.sq_err.items():
            nb = len(e)
            labels = self.labels if nb > 1 else ("all",)
            per = self.count[name] / nb
            out[name] = {
                lab: {
                    "rmse": float(np.sqrt(e[i] / per)),
                    "relative": float(np.sqrt(e[i] / self.sq_ref[name][i])) if self.sq_ref[name][i] > 0 else 0.0,
                }
                for i, lab in enumerate(labels)
            }
        return out


def _split(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """(output sequence, hidden sequence) of a cell's return value."""
    first = result[0]
    if isinstance(first, tuple):  # Elman/Jordan: ((y, h), state)
        return first[0], first[1]
    return first, first


def _time_major(cell: RecurrentBase, a: np.ndarray, batched: bool) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if not batched:
        return a[:, None, :]
    return a.transpose(1, 0, 2) if cell.batch_first else a


def _per_step(diff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RMSE and max |.| over everything but the time axis of (time, batch, features)."""
    flat = diff.reshape(diff.shape[0], -1)
    return np.sqrt(np.mean(flat**2, axis=1)), np.max(np.abs(flat), axis=1)


def _divergence(err: np.ndarray, scale: float, threshold: float) -> dict:
    """Growth rate of the error over the sequence, and when it crosses ``threshold * scale``."""
    T = err.size
    k = max(1, T // 10)
    first, last = float(np.mean(err[:k])), float(np.mean(err[-k:]))
    pos = err > 0
    if pos.sum() >= 2:
        t = np.arange(T)[pos]
        rate = float(np.polyfit(t, np.log(err[pos]), 1)[0])
    else:
        rate = 0.0
    above = np.nonzero(err > threshold * scale)[0]
    return {
        "growth_rate_per_step": rate,
        "error_first_10pct": first,
        "error_last_10pct": last,
        "ratio_last_to_first": (last / first) if first > 0 else None,
        "threshold": threshold * scale,
        "first_step_above_threshold": int(above[0]) if above.size else None,
    }


@dataclasses.dataclass
class Comparison:
    """Result of :func:`compare`: per-step errors, divergence, task metric and hardware cost.

    Attributes
    ----------
    cell : str
        ``repr`` of the digital cell.
    hardware : dict
        ``HardwareConfig.to_dict()``.
    step_hidden_rmse, step_hidden_max : ndarray, shape (time,)
        RMSE and max |analog - digital| of the hidden states (all layers and directions) per step.
    step_output_rmse, step_output_max : ndarray, shape (time,)
        The same for the output (the readout's prediction when a readout is given).
    layer_step_rmse : dict of str to ndarray
        Hidden-state RMSE per step for each layer and direction (``"l0"``, ``"l1_reverse"``).
    read_error : dict
        Per weight and gate block: RMSE and relative RMSE of the crossbar reads against the exact
        product of the same (stored, converted) inputs, accumulated over the sequence.
    divergence : dict
        Growth of the hidden-state error over the sequence (see :func:`compare`).
    metric : dict or None
        ``{"name", "digital", "analog"}`` when targets were given (NRMSE or accuracy).
    cost : dict
        Energy (J), latency (s) and area (m^2) totals of the analog run, and per crossbar.
    traces : dict
        ``digital``, ``analog`` (and ``target``) outputs of batch entry 0, up to 4 features, (time, k);
        ``scored``, the mask of batch entry 0 when a mask was given; ``analog_hwa``, the analog output
        of the hardware-aware-trained network (with ``hwa_cell``).
    deployment : dict or None
        With ``times``: the errors over deployment time (see :func:`compare`): ``times`` (s),
        ``seeds``, ``settings`` (compensation kinds, ``"none"`` for None), ``output_rmse`` and
        ``task_error`` (``setting -> ndarray (times, seeds)``; ``task_error`` None without targets),
        ``task_metric`` (``"nrmse"`` or ``"classification_error"``).
    training : dict or None
        With ``hwa_cell``: the three rows of the main job, ``rows`` (list of ``{"weights",
        "execution", <metric>}``: digital, analog with the plainly trained weights, analog with the
        hardware-aware-trained weights; plus the digital run of the hardware-aware weights),
        ``metric``, ``gap`` (task error of the plain analog run minus the digital one) and
        ``recovered`` (the fraction of that gap the hardware-aware weights win back, see :func:`compare`).
    """

    cell: str
    hardware: dict
    step_hidden_rmse: np.ndarray
    step_hidden_max: np.ndarray
    step_output_rmse: np.ndarray
    step_output_max: np.ndarray
    layer_step_rmse: dict
    read_error: dict
    divergence: dict
    metric: dict | None
    cost: dict
    traces: dict
    deployment: dict | None = None
    training: dict | None = None

    def summary(self) -> dict:
        """Scalar figures: final and mean errors, metric, energy and latency."""
        out = {
            "hidden_rmse_mean": float(np.mean(self.step_hidden_rmse)),
            "hidden_rmse_final": float(self.step_hidden_rmse[-1]),
            "hidden_max": float(np.max(self.step_hidden_max)),
            "output_rmse_mean": float(np.mean(self.step_output_rmse)),
            "output_max": float(np.max(self.step_output_max)),
            "growth_rate_per_step": self.divergence["growth_rate_per_step"],
            "energy_read_J": float(self.cost["total"].get("e_read", 0.0)),
            "energy_program_J": float(self.cost["total"].get("e_program", 0.0)),
            "latency_read_s": float(self.cost["total"].get("t_read", 0.0)),
            "area_m2": float(self.cost["total"].get("area", 0.0)),
        }
        if self.metric is not None:
            out[f"{self.metric['name']}_digital"] = self.metric["digital"]
            out[f"{self.metric['name']}_analog"] = self.metric["analog"]
        if self.training is not None:
            name = self.training["metric"]
            out[f"{name}_analog_hwa"] = self.training["rows"][2][name]
            out[f"{name}_digital_hwa"] = self.training["rows"][3][name]
            out["hwa_recovered"] = self.training["recovered"]
        return out

    def training_table(self) -> str:
        """The main job's rows (digital; analog with plain weights; analog with hardware-aware weights)
        as aligned text, with the gap and the fraction hardware-aware training recovers ('' without).

        Examples
        --------
        >>> import numpy as np
        >>> from neurosim.cells import RNN
        >>> rnn = RNN(1, 3, dtype=np.float64, seed=0)
        >>> x = np.linspace(-1, 1, 12).reshape(6, 2, 1)
        >>> r = compare(rnn, None, x, rnn(x)[0] + 0.1, hwa_cell=rnn)
        >>> print(r.training_table().splitlines()[0])
        weights         execution  nrmse
        """
        if self.training is None:
            return ""
        t, name = self.training, self.training["metric"]
        lines = [f"{'weights':<15} {'execution':<10} {name}"]
        lines += [f"{r['weights']:<15} {r['execution']:<10} {r[name]:.4g}" for r in t["rows"][:3]]
        rec = "-" if t["recovered"] is None else f"{100 * t['recovered']:.0f} %"
        lines.append(f"analog gap {t['gap']:.4g}; hardware-aware training recovers {rec} of it")
        return "\n".join(lines)

    def table(self) -> str:
        """The summary as an aligned two-column text table; energies, times and areas in engineering
        units (``3.2 nJ``, ``10 us``, ``4.5 um^2``), the rest as plain numbers.

        Examples
        --------
        >>> engineering(3.2e-9, "J"), engineering(1.0e-5, "s"), engineering(9.6e-9, "m^2")
        ('3.2 nJ', '10 us', '9600 um^2')
        """
        rows = self.summary()
        width = max(len(k) for k in rows)
        units = {"_J": "J", "_s": "s", "_m2": "m^2"}

        def fmt(key, value):
            if value is None:
                return "-"
            for suffix, unit in units.items():
                if key.endswith(suffix):
                    return engineering(value, unit)
            return f"{value:.4g}"

        return "\n".join(f"{k:<{width}}  {fmt(k, v)}" for k, v in rows.items())

    def to_dict(self) -> dict:
        """Plain JSON-ready data (arrays as lists)."""

        def plain(v):
            if isinstance(v, np.ndarray):
                return v.tolist()
            if isinstance(v, dict):
                return {str(k): plain(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [plain(x) for x in v]
            if isinstance(v, (np.floating, np.integer)):
                return v.item()
            return v

        data = {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        data["summary"] = self.summary()
        return data

    def save_report(self, directory) -> dict:
        """Write ``comparison.json`` and PNG plots into ``directory``; see :func:`neurosim.study.save_report`."""
        from neurosim.study.report import save_report

        return save_report(self, directory)


_PREFIXES = [(1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, ""), (1e3, "k"), (1e6, "M"),
             (1e9, "G")]


def engineering(value: float, unit: str) -> str:
    """``value`` with an SI prefix and three significant digits (areas: the prefix applies to the metre).

    Examples
    --------
    >>> engineering(0.0, "J"), engineering(2.5e-3, "s"), engineering(1.932e-8, "m^2")
    ('0 J', '2.5 ms', '19320 um^2')
    """
    v = float(value)
    if v == 0 or not np.isfinite(v):
        return f"{v:g} {unit}"
    power = 2 if unit == "m^2" else 1
    base = "m" if power == 2 else unit
    mag = abs(v) ** (1.0 / power)
    scale, prefix = _PREFIXES[0]
    for s_, p_ in _PREFIXES:
        if mag >= s_ * 0.9995:
            scale, prefix = s_, p_
    shown = v / scale**power
    text = f"{shown:.0f}" if abs(shown) >= 1e4 else f"{shown:.4g}"  # areas reach 1e5 um^2: no exponent
    return f"{text} {prefix}{base}{'^2' if power == 2 else ''}"


_PARAMS = {"divergence_threshold": Param("real", low=0, low_open=True)}


def compare(
    cell: RecurrentBase,
    hardware: HardwareConfig | None = None,
    inputs=None,
    targets=None,
    *,
    hx=None,
    readout=None,
    mask=None,
    kind: str = "regression",
    divergence_threshold: float = 0.1,
    times=None,
    seeds=None,
    compensations=(None, "global"),
    hwa_cell: RecurrentBase | None = None,
    hwa_readout=None,
) -> Comparison:
    r"""Run ``cell`` digitally and on ``hardware``, and compare step by step.

    Errors are analog minus digital. Per step :math:`t`:

    .. math::

        \mathrm{RMSE}_t = \sqrt{\tfrac{1}{BF}\textstyle\sum_{b,f} (h^{a}_{t,b,f} - h^{d}_{t,b,f})^2},
        \qquad \max_t = \max_{b,f} |h^{a}_{t,b,f} - h^{d}_{t,b,f}|

    over every layer and direction (hidden) and over the output. Divergence: the exponential growth
    rate :math:`\lambda` of a least-squares fit :math:`\log \mathrm{RMSE}_t \approx c + \lambda t`,
    the mean error over the first and last 10 % of the steps, and the first step where the hidden
    RMSE exceeds ``divergence_threshold`` times the RMS of the digital hidden states. Task metric:
    NRMSE (RMSE / std of the target) for regression, accuracy for classification.

    Parameters
    ----------
    cell : RecurrentBase
        The digital cell (an analog cell is replaced by its digital twin).
    hardware : HardwareConfig, optional
        Default: ideal hardware.
    inputs : array_like
        Input as the cell takes it (``(time, batch, in)``, batch_first or unbatched).
    targets : array_like, optional
        Targets of the output (or of the readout's prediction), time-major ``(time, batch, out)``.
    hx : optional
        Initial state, as the cell takes it.
    readout : object with ``predict``, optional
        A trained readout (e.g. :class:`~neurosim.tasks.RidgeReadout`) applied digitally to the
        cell's hidden states (the output of RNN/LSTM/GRU/IndRNN/second-order; ``h`` of
        Elman/Jordan); the output error and the metric are then about its prediction.
    mask : array_like of bool, optional
        Scored steps (time, batch) for the metric.
    kind : {"regression", "classification"}
        Which metric.
    divergence_threshold : float
        Relative error that counts as diverged.
    times : sequence of float, optional
        Deployment times (s since programming, >= 0). For every compensation setting, time and
        seed the analog cell runs with ``hardware.replace(t_start=t, seed=s, drift_compensation=c)``
        (every read at ``t``, or from ``t`` on with ``step_time``) and the result's ``deployment``
        holds, per setting, arrays (times, seeds) of the output error
        :math:`\sqrt{\overline{(y^a - y^d)^2}}` over all steps, batch entries and features, and the
        task error (NRMSE, or 1 - accuracy for classification) when targets are given.
    seeds : sequence of int, optional
        Device seeds (root seeds of the hardware) for the deployment runs; default ``(hardware.seed,)``.
    compensations : sequence of {None, "global", "per_column"}
        Drift compensation settings of the deployment runs (one curve each).
    hwa_cell : RecurrentBase, optional
        The same network trained hardware-aware (:func:`neurosim.train.hardware_aware_fit`); it runs
        on ``hardware`` (same seed) and digitally, with ``hwa_readout``, and the result's ``training``
        holds the rows digital / analog (plain weights) / analog (hardware-aware weights). With task
        errors :math:`e` (NRMSE, or 1 - accuracy),

        .. math:: \mathrm{gap} = e_{analog} - e_{digital}, \qquad
                  \mathrm{recovered} = \frac{e_{analog} - e_{analog,hwa}}{e_{analog} - e_{digital}}

        (``recovered`` None when the gap is 0). Needs ``targets``.
    hwa_readout : object with ``predict``, optional
        The readout of ``hwa_cell`` (as ``readout``).

    Returns
    -------
    Comparison

    Raises
    ------
    ParameterError
        Bad arguments, or targets whose shape does not match the prediction.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import RNN
    >>> from neurosim.analog import HardwareConfig
    >>> rnn = RNN(2, 4, dtype=np.float64, seed=0)
    >>> x = np.random.default_rng(0).uniform(-1, 1, size=(6, 3, 2))
    >>> result = compare(rnn, HardwareConfig(), x)
    >>> bool(result.step_hidden_max.max() < 1e-12)
    True
    """
    p = check_params("compare", {**_PARAMS, "kind": Param("choice", choices=("regression", "classification"))},
                     dict(divergence_threshold=divergence_threshold, kind=kind))
    if not isinstance(cell, RecurrentBase):
        raise ParameterError(f"compare: cell must be a neurosim.cells cell, got {type(cell).__name__}")
    if inputs is None:
        raise ParameterError("compare: inputs must be an array of input sequences, got None")
    digital = to_digital(cell)
    hardware = HardwareConfig() if hardware is None else hardware
    if times is not None:
        _deployment_args(hardware, times, seeds, compensations)  # bad times/seeds/settings: fail before running
    analog = to_analog(digital, hardware)

    probe = _ReadProbe(digital)
    analog.ops.probe = probe
    res_d, rec_d = digital.trace(inputs, hx)
    res_a, rec_a = analog.trace(inputs, hx)
    batched = np.ndim(inputs) == 3

    out_d, hid_d = (_time_major(digital, a, batched) for a in _split(res_d))
    out_a, hid_a = (_time_major(digital, a, batched) for a in _split(res_a))
    if readout is not None:  # a readout reads the hidden states (Elman/Jordan: h, not their own y)
        out_d, out_a = readout.predict(hid_d), readout.predict(hid_a)

    keys = list(rec_d)
    hd = np.concatenate([rec_d[k] for k in keys], axis=-1)
    ha = np.concatenate([rec_a[k] for k in keys], axis=-1)
    hid_rmse, hid_max = _per_step(ha - hd)
    out_rmse, out_max = _per_step(out_a - out_d)
    layer = {k: _per_step(rec_a[k] - rec_d[k])[0] for k in keys}
    scale = float(np.sqrt(np.mean(hd**2))) or 1.0

    metric = None
    traces = {"digital": out_d[:, 0, :4], "analog": out_a[:, 0, :4]}
    if targets is not None:
        tg = check_array("compare", "targets", targets, ndim=3)
        if tg.shape != out_d.shape:
            raise ParameterError(
                f"compare: targets must have the shape of the {'prediction' if readout is not None else 'output'} "
                f"{out_d.shape} (time, batch, features), got {tg.shape}"
            )
        fn, name = (nrmse, "nrmse") if p["kind"] == "regression" else (accuracy, "accuracy")
        metric = {"name": name, "digital": fn(out_d, tg, mask), "analog": fn(out_a, tg, mask)}
        if name == "nrmse":
            metric["rmse_digital"], metric["rmse_analog"] = rmse(out_d, tg, mask), rmse(out_a, tg, mask)
        traces["target"] = tg[:, 0, :4]
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        traces["scored"] = m[:, 0] if m.ndim == 2 and m.shape[0] == out_d.shape[0] else np.ones(out_d.shape[0], bool)

    training = None
    if hwa_cell is not None:
        if metric is None:
            raise ParameterError("compare: hwa_cell needs targets (the rows compare task errors), got targets=None")
        training, traces["analog_hwa"] = _training_rows(digital, hardware, inputs, hx, hwa_cell, hwa_readout, tg, mask,
                                                         metric, batched)

    deployment = None
    if times is not None:
        deployment = _deployment(digital, hardware, inputs, hx, readout, targets, mask, p["kind"], out_d,
                                 times, seeds, compensations)

    return Comparison(
        deployment=deployment,
        training=training,
        cell=repr(digital),
        hardware=hardware.to_dict(),
        step_hidden_rmse=hid_rmse,
        step_hidden_max=hid_max,
        step_output_rmse=out_rmse,
        step_output_max=out_max,
        layer_step_rmse=layer,
        read_error=probe.result(),
        divergence=_divergence(hid_rmse, scale, p["divergence_threshold"]),
        metric=metric,
        cost=analog.ops.cost(),
        traces=traces,
    )


def _training_rows(digital, hardware, inputs, hx, hwa_cell, hwa_readout, tg, mask, metric, batched):
    """The main job's rows: the hardware-aware-trained network run digitally and on ``hardware``."""
    if not isinstance(hwa_cell, RecurrentBase):
        raise ParameterError(f"compare: hwa_cell must be a neurosim.cells cell, got {type(hwa_cell).__name__}")
    name = metric["name"]
    fn = nrmse if name == "nrmse" else accuracy
    values, trace = {}, None
    for execution, cell in (("digital", to_digital(hwa_cell)), ("analog", to_analog(to_digital(hwa_cell), hardware))):
        out, hid = (_time_major(digital, a, batched) for a in _split(cell(inputs, hx)))
        pred = hwa_readout.predict(hid) if hwa_readout is not None else out
        values[execution] = fn(pred, tg, mask)
        trace = pred[:, 0, :4]
    err = (lambda v: v) if name == "nrmse" else (lambda v: 1.0 - v)  # noqa: E731 - task error
    gap = err(metric["analog"]) - err(metric["digital"])
    won = err(metric["analog"]) - err(values["analog"])
    rows = [
        {"weights": "plain", "execution": "digital", name: metric["digital"]},
        {"weights": "plain", "execution": "analog", name: metric["analog"]},
        {"weights": "hardware-aware", "execution": "analog", name: values["analog"]},
        {"weights": "hardware-aware", "execution": "digital", name: values["digital"]},
    ]
    return {"metric": name, "rows": rows, "gap": gap, "recovered": (won / gap) if gap != 0 else None}, trace


def _deployment_args(hardware, times, seeds, compensations):
    """Checked (times, seeds, settings) of a deployment study."""
    import math

    from neurosim.seeding import check_seed

    try:
        ts = [float(t) for t in np.atleast_1d(np.asarray(times, dtype=float))]
    except (TypeError, ValueError):
        raise ParameterError(f"compare: times must be a list of times since programming (s), got {times!r}") from None
    if not ts or any(not math.isfinite(t) or t < 0 for t in ts):
        raise ParameterError("compare: times must be a non-empty list of finite times since programming >= 0 s "
                             f"(a negative time is before programming), got {list(times) if np.ndim(times) else times!r}")
    seeds = (hardware.seed,) if seeds is None else tuple(seeds)
    if not seeds:
        raise ParameterError("compare: seeds must be a non-empty list of integers >= 0, got []")
    for s in seeds:
        check_seed("compare", s, "seeds entry")
        if not isinstance(s, (int, np.integer)):
            raise ParameterError(f"compare: seeds must be integers >= 0, got {s!r}")
    settings = tuple(compensations)
    allowed = (None, "global", "per_column")
    if not settings or any(c not in allowed for c in settings):
        raise ParameterError(f"compare: compensations must be a non-empty list of None, 'global', 'per_column', "
                             f"got {compensations!r}")
    return ts, [int(s) for s in seeds], settings


def _deployment(digital, hardware, inputs, hx, readout, targets, mask, kind, out_d, times, seeds, compensations):
    """Output and task error at every (compensation, time, seed)."""
    ts, seeds, settings = _deployment_args(hardware, times, seeds, compensations)
    batched = np.ndim(inputs) == 3
    tg = None if targets is None else check_array("compare", "targets", targets, ndim=3)
    out_rmse, task = {}, {} if tg is not None else None
    for comp in settings:
        name = "none" if comp is None else comp
        rm = np.zeros((len(ts), len(seeds)))
        te = np.zeros((len(ts), len(seeds)))
        for j, s in enumerate(seeds):
            for i, t in enumerate(ts):
                hw = hardware.replace(t_start=t, seed=s, drift_compensation=comp)
                res_a, _ = to_analog(digital, hw).trace(inputs, hx)
                out_a = _time_major(digital, _split(res_a)[0] if readout is None else _split(res_a)[1], batched)
                if readout is not None:
                    out_a = readout.predict(out_a)
                rm[i, j] = float(np.sqrt(np.mean((out_a - out_d) ** 2)))
                if tg is not None:
                    te[i, j] = nrmse(out_a, tg, mask) if kind == "regression" else 1.0 - accuracy(out_a, tg, mask)
        out_rmse[name] = rm
        if task is not None:
            task[name] = te
    return {
        "times": np.asarray(ts), "seeds": list(seeds), "settings": ["none" if c is None else c for c in settings],
        "output_rmse": out_rmse, "task_error": task,
        "task_metric": None if tg is None else ("nrmse" if kind == "regression" else "classification_error"),
    }
